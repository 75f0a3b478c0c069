package rdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// A stream (t_stream.c) is stored as the listpacks of its radix tree, each keyed by its
// "master" ID, followed by the stream's counters and its consumer groups. Each listpack
// starts with a master entry
//
//	count deleted num-fields field... 0
//
// and continues with entries whose IDs are deltas from the master ID:
//
//	flags ms-delta seq-delta [num-fields] (field value | value)... lp-count
//
// where the SAMEFIELDS flag says the entry has exactly the master entry's fields (only
// the values follow), the DELETED flag marks a tombstone, and lp-count is the number of
// listpack elements in the entry before it, for walking backwards.

func decodeStreamID(b []byte) StreamID {
	return StreamID{Ms: binary.BigEndian.Uint64(b), Seq: binary.BigEndian.Uint64(b[8:])}
}

func appendStreamID(dst []byte, id StreamID) []byte {
	dst = binary.BigEndian.AppendUint64(dst, id.Ms)
	return binary.BigEndian.AppendUint64(dst, id.Seq)
}

var maxStreamID = StreamID{Ms: math.MaxUint64, Seq: math.MaxUint64}

// readStream reads a stream value of type 15 (v1), 19 (v2) or 21 (v3).
func readStream(r *reader, t byte) (*Stream, error) {
	s := &Stream{}
	nodes, err := r.readCount("stream listpacks")
	if err != nil {
		return nil, err
	}
	var prevMaster StreamID
	for i := uint64(0); i < nodes; i++ {
		key, err := r.readString()
		if err != nil {
			return nil, err
		}
		if len(key) != 16 {
			return nil, r.corrupt("Stream node key entry is not the size of a stream ID")
		}
		master := decodeStreamID(key)
		if i > 0 && master.Compare(prevMaster) <= 0 {
			return nil, r.corrupt("Stream listpack keys out of order at %s", master)
		}
		prevMaster = master
		lp, err := r.readString()
		if err != nil {
			return nil, err
		}
		before := len(s.Entries)
		if s.Entries, err = appendStreamListpack(s.Entries, lp, master); err != nil {
			return nil, r.corrupt("Stream listpack integrity check failed: %v", err)
		}
		for j := max(before, 1); j < len(s.Entries); j++ {
			if s.Entries[j].ID.Compare(s.Entries[j-1].ID) <= 0 {
				return nil, r.corrupt("Stream entries out of order at %s", s.Entries[j].ID)
			}
		}
	}
	length, err := r.readLen()
	if err != nil {
		return nil, err
	}
	if length != uint64(len(s.Entries)) {
		return nil, r.corrupt("Stream length %d does not match its %d entries", length, len(s.Entries))
	}
	if s.LastID, err = readLenID(r); err != nil {
		return nil, err
	}
	if t >= typeStreamListpacks2 {
		if s.FirstID, err = readLenID(r); err != nil {
			return nil, err
		}
		if s.MaxDeletedID, err = readLenID(r); err != nil {
			return nil, err
		}
		if s.EntriesAdded, err = r.readLen(); err != nil {
			return nil, err
		}
	} else {
		// Older streams did not record these; Redis derives them on load.
		s.EntriesAdded = length
		s.FirstID = maxStreamID // streamGetEdgeID's answer for an empty stream
		if len(s.Entries) > 0 {
			s.FirstID = s.Entries[0].ID
		}
	}
	groups, err := r.readCount("stream consumer groups")
	if err != nil {
		return nil, err
	}
	for i := uint64(0); i < groups; i++ {
		g, err := readStreamGroup(r, t, s)
		if err != nil {
			return nil, err
		}
		for _, other := range s.Groups {
			if bytes.Equal(other.Name, g.Name) {
				return nil, r.corrupt("Duplicated consumer group name %s", g.Name)
			}
		}
		s.Groups = append(s.Groups, g)
	}
	return s, nil
}

func readLenID(r *reader) (StreamID, error) {
	ms, err := r.readLen()
	if err != nil {
		return StreamID{}, err
	}
	seq, err := r.readLen()
	return StreamID{Ms: ms, Seq: seq}, err
}

func readRawID(r *reader) (StreamID, error) {
	var b [16]byte
	if err := r.readFixed(b[:]); err != nil {
		return StreamID{}, err
	}
	return decodeStreamID(b[:]), nil
}

func readStreamGroup(r *reader, t byte, s *Stream) (StreamGroup, error) {
	var g StreamGroup
	var err error
	if g.Name, err = r.readString(); err != nil {
		return g, err
	}
	if g.LastID, err = readLenID(r); err != nil {
		return g, err
	}
	if t >= typeStreamListpacks2 {
		n, err := r.readLen()
		if err != nil {
			return g, err
		}
		g.EntriesRead = int64(n) // -1, unknown, is stored as all ones
	} else {
		g.EntriesRead = estimateEntriesRead(s, g.LastID)
	}
	pel, err := r.readCount("stream PEL")
	if err != nil {
		return g, err
	}
	index := make(map[StreamID]int, min(pel, maxPreallocItems))
	for j := uint64(0); j < pel; j++ {
		var p StreamPending
		if p.ID, err = readRawID(r); err != nil {
			return g, err
		}
		if p.DeliveryTime, err = r.readMillis(); err != nil {
			return g, err
		}
		if p.DeliveryCount, err = r.readLen(); err != nil {
			return g, err
		}
		if _, dup := index[p.ID]; dup {
			return g, r.corrupt("Duplicated global PEL entry loading stream consumer group")
		}
		index[p.ID] = len(g.Pending)
		g.Pending = append(g.Pending, p)
	}
	consumers, err := r.readCount("stream consumers")
	if err != nil {
		return g, err
	}
	for j := uint64(0); j < consumers; j++ {
		var c StreamConsumer
		if c.Name, err = r.readString(); err != nil {
			return g, err
		}
		for _, other := range g.Consumers {
			if bytes.Equal(other.Name, c.Name) {
				return g, r.corrupt("Duplicate stream consumer detected.")
			}
		}
		if c.SeenTime, err = r.readMillis(); err != nil {
			return g, err
		}
		c.ActiveTime = c.SeenTime
		if t >= typeStreamListpacks3 {
			if c.ActiveTime, err = r.readMillis(); err != nil {
				return g, err
			}
		}
		owned, err := r.readCount("stream consumer PEL")
		if err != nil {
			return g, err
		}
		for k := uint64(0); k < owned; k++ {
			id, err := readRawID(r)
			if err != nil {
				return g, err
			}
			at, ok := index[id]
			if !ok {
				return g, r.corrupt("Consumer entry not found in group global PEL")
			}
			if g.Pending[at].Consumer != nil {
				return g, r.corrupt("Duplicated consumer PEL entry loading a stream consumer group")
			}
			g.Pending[at].Consumer = c.Name
		}
		g.Consumers = append(g.Consumers, c)
	}
	return g, nil
}

// estimateEntriesRead derives a group's read counter for a stream saved before Redis 7.0
// recorded it, as streamEstimateDistanceFromFirstEverEntry does at load time.
func estimateEntriesRead(s *Stream, id StreamID) int64 {
	if s.EntriesAdded == 0 {
		return 0
	}
	if len(s.Entries) == 0 && id.Compare(s.LastID) < 1 {
		return int64(s.EntriesAdded)
	}
	switch id.Compare(s.LastID) {
	case 0:
		return int64(s.EntriesAdded)
	case 1:
		return EntriesReadUnknown
	}
	if s.MaxDeletedID.IsZero() || s.MaxDeletedID.Compare(s.FirstID) < 0 {
		switch id.Compare(s.FirstID) {
		case -1:
			return int64(s.EntriesAdded) - int64(len(s.Entries))
		case 0:
			return int64(s.EntriesAdded) - int64(len(s.Entries)) + 1
		}
	}
	return EntriesReadUnknown
}

// appendStreamListpack decodes one stream listpack, checking it as
// streamValidateListpackIntegrity does in deep mode, and appends its live entries.
func appendStreamListpack(dst []StreamEntry, lp []byte, master StreamID) ([]StreamEntry, error) {
	it, err := newListpackIter(lp)
	if err != nil {
		return dst, err
	}
	errShort := errors.New("listpack ends inside an entry")
	nextEntry := func() (lpEntry, error) {
		e, ok, err := it.next()
		if err == nil && !ok {
			err = errShort
		}
		return e, err
	}
	nextInt := func(what string) (int64, error) {
		e, err := nextEntry()
		if err != nil {
			return 0, err
		}
		v, ok := e.integer()
		if !ok {
			return 0, fmt.Errorf("%s is not an integer", what)
		}
		return v, nil
	}
	if lp[lpHeaderSize] == lpEOF {
		return dst, errors.New("Empty listpack inside stream")
	}
	live, err := nextInt("entry count")
	if err != nil {
		return dst, err
	}
	deleted, err := nextInt("deleted count")
	if err != nil {
		return dst, err
	}
	nMaster, err := nextInt("master field count")
	if err != nil {
		return dst, err
	}
	if live < 0 || deleted < 0 || nMaster < 0 || live > math.MaxInt32 || deleted > math.MaxInt32 {
		return dst, errors.New("negative or huge master entry counts")
	}
	var masterFields [][]byte
	for i := int64(0); i < nMaster; i++ {
		e, err := nextEntry()
		if err != nil {
			return dst, err
		}
		masterFields = append(masterFields, e.bytes())
	}
	if zero, err := nextInt("master entry terminator"); err != nil || zero != 0 {
		if err == nil {
			err = errors.New("master entry terminator is not 0")
		}
		return dst, err
	}
	var liveSeen int64
	for n := int64(0); n < live+deleted; n++ {
		flags, err := nextInt("entry flags")
		if err != nil {
			return dst, err
		}
		msDelta, err := nextInt("entry ID")
		if err != nil {
			return dst, err
		}
		seqDelta, err := nextInt("entry ID")
		if err != nil {
			return dst, err
		}
		entry := StreamEntry{ID: StreamID{Ms: master.Ms + uint64(msDelta), Seq: master.Seq + uint64(seqDelta)}}
		same := flags&streamFlagSameFields != 0
		nFields, extra := nMaster, int64(3)
		if !same {
			if nFields, err = nextInt("entry field count"); err != nil {
				return dst, err
			}
			if nFields < 0 {
				return dst, errors.New("negative entry field count")
			}
			extra += nFields + 1
		}
		for i := int64(0); i < nFields; i++ {
			var f Field
			if same {
				f.Name = masterFields[i]
			} else {
				e, err := nextEntry()
				if err != nil {
					return dst, err
				}
				f.Name = e.bytes()
			}
			e, err := nextEntry()
			if err != nil {
				return dst, err
			}
			f.Value = e.bytes()
			entry.Fields = append(entry.Fields, f)
		}
		lpCount, err := nextInt("entry lp-count")
		if err != nil {
			return dst, err
		}
		if lpCount != nFields+extra {
			return dst, errors.New("entry lp-count does not match its fields")
		}
		if flags&streamFlagDeleted == 0 {
			dst = append(dst, entry)
			liveSeen++
		}
	}
	if _, ok, err := it.next(); err != nil || ok {
		if err == nil {
			err = errors.New("data after the last entry")
		}
		return dst, err
	}
	if liveSeen != live {
		return dst, fmt.Errorf("master entry counts %d live entries, found %d", live, liveSeen)
	}
	return dst, nil
}

// streamNode is one listpack of a stream being written, with the radix tree key it goes
// under.
type streamNode struct {
	master StreamID
	lp     []byte
}

// buildStreamNodes packs entries into listpacks as streamAppendItem does with
// stream-node-max-bytes and stream-node-max-entries: a new node starts when the current
// one would reach the byte limit or holds the entry limit, its master entry takes the
// first entry's fields, and entries with exactly those fields are written SAMEFIELDS.
func buildStreamNodes(entries []StreamEntry, maxBytes, maxEntries int) []streamNode {
	if maxBytes <= 0 || maxBytes > lpMaxSafetySize {
		maxBytes = lpMaxSafetySize
	}
	var nodes []streamNode
	var body *listpackBuilder
	var master StreamID
	var masterFields []Field
	headerSize, nodeEntries := 0, 0
	flush := func() {
		if body == nil {
			return
		}
		lp := newListpackBuilder()
		lp.appendInt(int64(nodeEntries))
		lp.appendInt(0)
		lp.appendInt(int64(len(masterFields)))
		for _, f := range masterFields {
			lp.appendString(f.Name)
		}
		lp.appendInt(0)
		lp.buf = append(lp.buf, body.buf[lpHeaderSize:]...)
		lp.count += body.count
		nodes = append(nodes, streamNode{master: master, lp: lp.finish()})
		body = nil
	}
	for _, e := range entries {
		elelen := 0
		for _, f := range e.Fields {
			elelen += len(f.Name) + len(f.Value)
		}
		if body != nil && (headerSize+body.size()+elelen >= maxBytes ||
			(maxEntries > 0 && nodeEntries >= maxEntries)) {
			flush()
		}
		same := true
		if body == nil {
			body, nodeEntries = newListpackBuilder(), 0
			master, masterFields = e.ID, e.Fields
			headerSize = 8 + len(masterFields)
			for _, f := range masterFields {
				headerSize += lpStringSize(f.Name)
			}
		} else if len(e.Fields) == len(masterFields) {
			for i, f := range e.Fields {
				if !bytes.Equal(f.Name, masterFields[i].Name) {
					same = false
					break
				}
			}
		} else {
			same = false
		}
		flags := int64(0)
		if same {
			flags = streamFlagSameFields
		}
		body.appendInt(flags)
		body.appendInt(int64(e.ID.Ms - master.Ms))
		body.appendInt(int64(e.ID.Seq - master.Seq))
		if !same {
			body.appendInt(int64(len(e.Fields)))
		}
		for _, f := range e.Fields {
			if !same {
				body.appendString(f.Name)
			}
			body.appendString(f.Value)
		}
		lpCount := int64(len(e.Fields)) + 3
		if !same {
			lpCount += int64(len(e.Fields)) + 1
		}
		body.appendInt(lpCount)
		nodeEntries++
	}
	flush()
	return nodes
}
