// Package stream implements Redis 7.0's stream type (t_stream.c) as a pure data
// structure: entries ordered by ID, consumer groups with their pending entries lists,
// and the argument parsers of the X* commands with Redis's exact error texts.
//
// Entries are kept the way Redis lays them out: in macro nodes (Redis's listpacks in a
// radix tree) of at most stream-node-max-entries entries and stream-node-max-bytes bytes,
// the first entry's fields acting as the node's master fields, and deleted entries kept
// as tombstones until their whole node goes. The byte size of each node is computed
// exactly as listpack would encode it, so nodes split where Redis splits them, and
// approximate trimming (MAXLEN ~, MINID ~), which only drops whole nodes, removes exactly
// what Redis removes. XINFO's radix-tree-keys is the node count; radix-tree-nodes, an
// internal of Redis's radix tree, is an estimate.
//
// Time is a parameter: every operation that reads the clock (XADD *, deliveries, idle
// times) takes the current Unix time in milliseconds. Nothing here locks, blocks or does
// I/O; blocking reads are the server's business.
package stream

import (
	"sort"

	"github.com/clusterctl/clusterctl/node/resp"
)

// parseLpInt is lpStringToInt64, which is string2ll.
func parseLpInt(b []byte) (int64, bool) { return resp.ParseInt(b) }

// Config holds the stream-node-max-bytes and stream-node-max-entries directives.
type Config struct {
	NodeMaxBytes   int64
	NodeMaxEntries int64
}

// DefaultConfig is redis.conf's default.
var DefaultConfig = Config{NodeMaxBytes: 4096, NodeMaxEntries: 100}

// listpackMaxSize is STREAM_LISTPACK_MAX_SIZE: the hard cap on a node's bytes and on the
// total size of one entry's fields and values.
const listpackMaxSize = 1 << 30

// Entry is one stream entry: its ID and its field-value pairs, flattened. In replies for
// pending entries that were deleted meanwhile, Fields is nil (a null array).
type Entry struct {
	ID     ID
	Fields [][]byte
}

type item struct {
	id      ID
	fields  [][]byte
	deleted bool
}

// node is one macro node: Redis's listpack keyed by its master ID.
type node struct {
	master       ID
	masterFields [][]byte
	items        []item
	live         int64 // valid entries, the listpack's "count"
	dead         int64 // entries flagged deleted
	bytesNoCount int64 // listpack bytes except the count and deleted integers
}

func (n *node) bytes() int64 {
	return n.bytesNoCount + lpIntSize(n.live) + lpIntSize(n.dead)
}

// find returns the index of the first item with ID >= id.
func (n *node) find(id ID) int {
	return sort.Search(len(n.items), func(i int) bool { return !n.items[i].id.Less(id) })
}

// Stream is a stream value. The zero value is not usable; use New.
type Stream struct {
	nodes        []*node
	length       int64
	lastID       ID
	firstID      ID
	maxDeletedID ID
	entriesAdded int64
	groups       map[string]*Group
	groupOrder   []string // groups sorted by name, as Redis's radix tree iterates them
}

// New returns an empty stream.
func New() *Stream { return &Stream{} }

// Len is XLEN.
func (s *Stream) Len() int64 { return s.length }

// LastID is the last ID added (last-generated-id).
func (s *Stream) LastID() ID { return s.lastID }

// EntriesAdded is the count of entries ever added (entries-added).
func (s *Stream) EntriesAdded() int64 { return s.entriesAdded }

// MaxDeletedID is the largest ID ever removed by XDEL (max-deleted-entry-id).
func (s *Stream) MaxDeletedID() ID { return s.maxDeletedID }

// FirstID is the first live entry's ID as the stream records it (0-0 when empty).
func (s *Stream) FirstID() ID { return s.firstID }

// NodeCount is the number of macro nodes (XINFO's radix-tree-keys).
func (s *Stream) NodeCount() int { return len(s.nodes) }

// --- listpack size accounting (listpack.c) ---

// lpIntSize is the bytes an integer element takes, with its back-length byte.
func lpIntSize(v int64) int64 {
	switch {
	case v >= 0 && v <= 127:
		return 2
	case v >= -4096 && v <= 4095:
		return 3
	case v >= -32768 && v <= 32767:
		return 4
	case v >= -8388608 && v <= 8388607:
		return 5
	case v >= -2147483648 && v <= 2147483647:
		return 6
	}
	return 10
}

// lpStringSize is the bytes lpAppend takes for a string: as an integer when it reads as
// one (string2ll), else a length header, the bytes and the back-length.
func lpStringSize(b []byte) int64 {
	if v, ok := parseLpInt(b); ok {
		return lpIntSize(v)
	}
	n := int64(len(b))
	var enc int64
	switch {
	case n <= 63:
		enc = 1 + n
	case n <= 4095:
		enc = 2 + n
	default:
		enc = 5 + n
	}
	return enc + lpBacklenSize(enc)
}

func lpBacklenSize(l int64) int64 {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// --- adding ---

// nextID is the ID XADD * generates at time now (streamNextID).
func (s *Stream) nextID(now uint64) (ID, bool) {
	if now > s.lastID.Ms {
		return ID{now, 0}, true
	}
	return s.lastID.incr()
}

// append adds an entry with an ID known to be greater than lastID (streamAppendItem).
func (s *Stream) append(id ID, fields [][]byte, cfg Config) {
	var totLen int64
	for _, f := range fields {
		totLen += int64(len(f))
	}
	numFields := len(fields) / 2
	var tail *node
	if len(s.nodes) > 0 {
		tail = s.nodes[len(s.nodes)-1]
		maxBytes := cfg.NodeMaxBytes
		if maxBytes <= 0 || maxBytes > listpackMaxSize {
			maxBytes = listpackMaxSize
		}
		if tail.bytes()+totLen >= maxBytes ||
			(cfg.NodeMaxEntries > 0 && tail.live+tail.dead >= cfg.NodeMaxEntries) {
			tail = nil
		}
	}
	sameFields := false
	if tail == nil {
		tail = &node{master: id}
		tail.masterFields = make([][]byte, numFields)
		// Listpack header (6 bytes) and end marker, the master entry: num-fields, the
		// field names, and its zero terminator.
		tail.bytesNoCount = 7 + lpIntSize(int64(numFields)) + lpIntSize(0)
		for i := 0; i < numFields; i++ {
			tail.masterFields[i] = fields[2*i]
			tail.bytesNoCount += lpStringSize(fields[2*i])
		}
		s.nodes = append(s.nodes, tail)
		sameFields = true
	} else if len(tail.masterFields) == numFields {
		sameFields = true
		for i, f := range tail.masterFields {
			if string(f) != string(fields[2*i]) {
				sameFields = false
				break
			}
		}
	}
	// flags, ms-diff, seq-diff, [num-fields, fields], values, lp-count.
	size := lpIntSize(0) + lpIntSize(int64(id.Ms-tail.master.Ms)) + lpIntSize(int64(id.Seq-tail.master.Seq))
	lpCount := int64(numFields + 3)
	if !sameFields {
		size += lpIntSize(int64(numFields))
		lpCount += int64(numFields + 1)
		for i := 0; i < numFields; i++ {
			size += lpStringSize(fields[2*i])
		}
	}
	for i := 0; i < numFields; i++ {
		size += lpStringSize(fields[2*i+1])
	}
	size += lpIntSize(lpCount)
	tail.bytesNoCount += size
	tail.items = append(tail.items, item{id: id, fields: fields})
	tail.live++

	s.length++
	s.entriesAdded++
	s.lastID = id
	if s.length == 1 {
		s.firstID = id
	}
}

// --- reading ---

// locate returns the node index and item index of the first item with ID >= id.
func (s *Stream) locate(id ID) (int, int) {
	ni := sort.Search(len(s.nodes), func(i int) bool { return id.Less(s.nodes[i].master) })
	if ni > 0 {
		ni-- // the last node whose master is <= id
	}
	for ; ni < len(s.nodes); ni++ {
		if ii := s.nodes[ni].find(id); ii < len(s.nodes[ni].items) {
			return ni, ii
		}
	}
	return len(s.nodes), 0
}

// Range returns live entries with start <= ID <= end, at most count (0: all), from the
// start or, with rev, from the end.
func (s *Stream) Range(start, end ID, count int64, rev bool) []Entry {
	var out []Entry
	s.walk(start, end, rev, func(it *item) bool {
		out = append(out, Entry{it.id, it.fields})
		return count == 0 || int64(len(out)) < count
	})
	return out
}

// walk visits live items in [start, end] in order (or reverse) until fn returns false.
func (s *Stream) walk(start, end ID, rev bool, fn func(*item) bool) {
	if end.Less(start) {
		return
	}
	if !rev {
		ni, ii := s.locate(start)
		for ; ni < len(s.nodes); ni, ii = ni+1, 0 {
			for n := s.nodes[ni]; ii < len(n.items); ii++ {
				it := &n.items[ii]
				if end.Less(it.id) {
					return
				}
				if !it.deleted && !fn(it) {
					return
				}
			}
		}
		return
	}
	// Start just past end and step backwards.
	ni, ii := s.locate(end)
	if ni < len(s.nodes) && s.nodes[ni].items[ii].id == end {
		ii++
	}
	for {
		if ii == 0 {
			if ni--; ni < 0 {
				return
			}
			ii = len(s.nodes[ni].items)
		}
		ii--
		it := &s.nodes[ni].items[ii]
		if it.id.Less(start) {
			return
		}
		if !it.deleted && !fn(it) {
			return
		}
	}
}

// lookup returns the live entry with exactly this ID.
func (s *Stream) lookup(id ID) (*item, bool) {
	ni, ii := s.locate(id)
	if ni < len(s.nodes) {
		if it := &s.nodes[ni].items[ii]; it.id == id && !it.deleted {
			return it, true
		}
	}
	return nil, false
}

// edge returns the first or last live entry's ID (streamGetEdgeID skipping tombstones).
func (s *Stream) edge(first bool) (ID, bool) {
	var found ID
	ok := false
	start, end := ID{}, MaxID
	s.walk(start, end, !first, func(it *item) bool { found, ok = it.id, true; return false })
	return found, ok
}

// FirstEntry and LastEntry are XINFO STREAM's first-entry and last-entry.
func (s *Stream) FirstEntry() (Entry, bool) { return s.edgeEntry(true) }

// LastEntry returns the last live entry.
func (s *Stream) LastEntry() (Entry, bool) { return s.edgeEntry(false) }

func (s *Stream) edgeEntry(first bool) (Entry, bool) {
	id, ok := s.edge(first)
	if !ok {
		return Entry{}, false
	}
	it, _ := s.lookup(id)
	return Entry{it.id, it.fields}, true
}

// --- deleting ---

// deleteItem flags one entry deleted, dropping its node when it was the node's last
// live entry (streamIteratorRemoveEntry).
func (s *Stream) deleteItem(id ID) bool {
	ni, ii := s.locate(id)
	if ni == len(s.nodes) {
		return false
	}
	n := s.nodes[ni]
	it := &n.items[ii]
	if it.id != id || it.deleted {
		return false
	}
	if n.live == 1 {
		s.nodes = append(s.nodes[:ni], s.nodes[ni+1:]...)
	} else {
		it.deleted = true
		it.fields = nil
		n.live--
		n.dead++
	}
	s.length--
	return true
}

// Delete is XDEL: it removes the entries with these IDs and returns how many existed,
// updating the first ID and the largest deleted ID as Redis 7.0 does.
func (s *Stream) Delete(ids []ID) int64 {
	var deleted int64
	firstGone := false
	for _, id := range ids {
		if !s.deleteItem(id) {
			continue
		}
		if id == s.firstID {
			firstGone = true
		}
		if s.maxDeletedID.Less(id) {
			s.maxDeletedID = id
		}
		deleted++
	}
	if deleted > 0 {
		if s.length == 0 {
			s.firstID = ID{}
		} else if firstGone {
			s.firstID, _ = s.edge(true)
		}
	}
	return deleted
}
