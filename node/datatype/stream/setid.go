package stream

import (
	"errors"

	"github.com/clusterctl/clusterctl/node/resp"
)

// SetIDArgs is a parsed XSETID.
type SetIDArgs struct {
	ID ID
	// EntriesAdded is ENTRIESADDED's value, -1 when not given.
	EntriesAdded int64
	// MaxDeletedID is MAXDELETEDID's value, 0-0 when not given.
	MaxDeletedID ID
}

// ParseXSetID parses the arguments after XSETID's key, as xsetidCommand does before the
// key lookup.
func ParseXSetID(args [][]byte) (SetIDArgs, error) {
	a := SetIDArgs{EntriesAdded: -1}
	if len(args) == 0 {
		return a, ErrSyntax
	}
	var err error
	if a.ID, err = ParseStrictID(args[0], 0); err != nil {
		return a, err
	}
	for i := 1; i < len(args); i += 2 {
		more := i+1 < len(args)
		switch {
		case keyword(args[i], "entriesadded") && more:
			n, ok := resp.ParseInt(args[i+1])
			if !ok {
				return a, ErrNotInteger
			}
			if n < 0 {
				return a, errors.New("ERR entries_added must be positive")
			}
			a.EntriesAdded = n
		case keyword(args[i], "maxdeletedid") && more:
			id, err := ParseStrictID(args[i+1], 0)
			if err != nil {
				return a, err
			}
			if a.ID.Less(id) {
				return a, errors.New("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
			}
			a.MaxDeletedID = id
		default:
			return a, ErrSyntax
		}
	}
	return a, nil
}

// SetLastID is XSETID's write once the key is found: it refuses an ID below the last
// entry and an ENTRIESADDED below the length. Redis 7.0.15 does not compare the ID with
// the stream's current max-deleted-entry-id.
func (s *Stream) SetLastID(a SetIDArgs) error {
	if s.length > 0 {
		if last, _ := s.edge(false); a.ID.Less(last) {
			return errors.New("ERR The ID specified in XSETID is smaller than the target stream top item")
		}
		if a.EntriesAdded != -1 && s.length > a.EntriesAdded {
			return errors.New("ERR The entries_added specified in XSETID is smaller than the target stream length")
		}
	}
	s.lastID = a.ID
	if a.EntriesAdded != -1 {
		s.entriesAdded = a.EntriesAdded
	}
	if !a.MaxDeletedID.IsZero() {
		s.maxDeletedID = a.MaxDeletedID
	}
	return nil
}

// DeliveryPropagation is the XCLAIM Redis propagates for an entry XREADGROUP ">" has
// just delivered: the group's last-delivered-id was that very entry when Redis rendered
// it, whatever the read delivered afterwards.
func (g *Group) DeliveryPropagation(key string, id ID) [][]byte {
	n, ok := g.pel.Get(id)
	if !ok || n.consumer == nil {
		return nil
	}
	args := claimArgs(key, g, id, n)
	args[len(args)-1] = id.Append(nil)
	return args
}

// ConsumerCreatePropagation is the XGROUP CREATECONSUMER Redis 7.0 propagates when
// XREADGROUP NOACK creates a consumer.
func (g *Group) ConsumerCreatePropagation(key, consumer string) [][]byte {
	return [][]byte{[]byte("XGROUP"), []byte("CREATECONSUMER"), []byte(key), []byte(g.Name), []byte(consumer)}
}

// Clone returns an independent deep copy of the stream, groups and pending entries
// included, as keyspace.Object.Clone expects of a collection (COPY).
func (s *Stream) Clone() any {
	c := *s
	c.nodes = make([]*node, len(s.nodes))
	for i, n := range s.nodes {
		cn := *n
		cn.masterFields = copyFields(n.masterFields)
		cn.items = make([]item, len(n.items))
		for j, it := range n.items {
			cn.items[j] = item{id: it.id, deleted: it.deleted, fields: copyFields(it.fields)}
		}
		c.nodes[i] = &cn
	}
	c.groupOrder = append([]string(nil), s.groupOrder...)
	if s.groups != nil {
		c.groups = make(map[string]*Group, len(s.groups))
		for name, g := range s.groups {
			c.groups[name] = g.clone()
		}
	}
	return &c
}

func (g *Group) clone() *Group {
	c := &Group{Name: g.Name, lastID: g.lastID, entriesRead: g.entriesRead, consumers: map[string]*Consumer{}}
	for name, cons := range g.consumers {
		c.consumers[name] = &Consumer{Name: cons.Name, seenTime: cons.seenTime}
	}
	g.pel.Ascend(ID{}, func(id ID, n *nack) bool {
		cn := &nack{deliveryTime: n.deliveryTime, deliveryCount: n.deliveryCount}
		if n.consumer != nil {
			cn.consumer = c.consumers[n.consumer.Name]
			cn.consumer.pel.Set(id, cn)
		}
		c.pel.Set(id, cn)
		return true
	})
	return c
}

func copyFields(fields [][]byte) [][]byte {
	if fields == nil {
		return nil
	}
	n := 0
	for _, f := range fields {
		n += len(f)
	}
	arena := make([]byte, 0, n)
	out := make([][]byte, len(fields))
	for i, f := range fields {
		start := len(arena)
		arena = append(arena, f...)
		out[i] = arena[start:len(arena):len(arena)]
	}
	return out
}

// MemoryUsage estimates the bytes the stream occupies (keyspace.Sizer). Like Redis's
// MEMORY USAGE it samples: up to five nodes from each end stand for all of them, so a
// write costs O(1) however long the stream is.
func (s *Stream) MemoryUsage() int64 {
	size := int64(128)
	if n := len(s.nodes); n > 0 {
		var sampled, sampledBytes int64
		for i := 0; i < n && i < 5; i++ {
			sampledBytes += s.nodes[i].memoryUsage()
			sampled++
		}
		for i := max(n-5, 5); i < n; i++ {
			sampledBytes += s.nodes[i].memoryUsage()
			sampled++
		}
		size += sampledBytes * int64(n) / sampled
	}
	for _, g := range s.groups {
		size += 64 + int64(g.pel.Len())*96 + int64(len(g.consumers))*64
	}
	return size
}

// memoryUsage approximates one node's bytes in our layout: the listpack-equivalent
// bytes plus each item's header and field slice headers.
func (n *node) memoryUsage() int64 {
	size := n.bytes() + 64
	for i := range n.items {
		size += 48 + int64(len(n.items[i].fields))*24
	}
	return size
}
