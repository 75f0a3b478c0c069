package stream

import "fmt"

// What an RDB file or a DUMP payload records of a stream, and how a stream is rebuilt
// from it (rdbSaveObject and rdbLoadObject for streams): the live entries in order, the
// counters, and each group with its pending entries and consumers. Tombstones are not
// recorded; the macro nodes are rebuilt by the same rules XADD follows.

// Meta is a stream's counters.
type Meta struct {
	LastID       ID
	FirstID      ID
	MaxDeletedID ID
	EntriesAdded int64
}

// Meta returns the stream's counters.
func (s *Stream) Meta() Meta {
	return Meta{LastID: s.lastID, FirstID: s.firstID, MaxDeletedID: s.maxDeletedID, EntriesAdded: s.entriesAdded}
}

// EachEntry calls fn for every live entry in ID order until fn returns false. The fields
// alias the stream's memory.
func (s *Stream) EachEntry(fn func(Entry) bool) {
	s.walk(ID{}, MaxID, false, func(it *item) bool { return fn(Entry{it.id, it.fields}) })
}

// Restore builds a stream from recorded entries, in increasing ID order and each with an
// even number of fields, and counters; the stream must be new. Entries are laid out in
// macro nodes as cfg bounds them.
func Restore(entries []Entry, meta Meta, cfg Config) (*Stream, error) {
	s := New()
	for i, e := range entries {
		if len(e.Fields) == 0 || len(e.Fields)%2 != 0 {
			return nil, fmt.Errorf("stream entry %s has %d fields and values", e.ID, len(e.Fields))
		}
		if i > 0 && e.ID.Compare(entries[i-1].ID) <= 0 {
			return nil, fmt.Errorf("stream entry %s does not follow %s", e.ID, entries[i-1].ID)
		}
		s.append(e.ID, e.Fields, cfg)
	}
	if len(entries) > 0 && meta.LastID.Less(entries[len(entries)-1].ID) {
		return nil, fmt.Errorf("stream last ID %s is before its last entry %s", meta.LastID, entries[len(entries)-1].ID)
	}
	s.lastID = meta.LastID
	s.firstID = meta.FirstID
	s.maxDeletedID = meta.MaxDeletedID
	s.entriesAdded = meta.EntriesAdded
	return s, nil
}

// PendingState is one entry of a group's pending entries list as recorded.
type PendingState struct {
	ID            ID
	Consumer      string
	DeliveryTime  uint64
	DeliveryCount int64
}

// EachPending calls fn for every pending entry of the group, in ID order.
func (g *Group) EachPending(fn func(PendingState) bool) {
	g.pel.Ascend(ID{}, func(id ID, n *nack) bool {
		return fn(PendingState{ID: id, Consumer: n.consumer.Name, DeliveryTime: n.deliveryTime, DeliveryCount: n.deliveryCount})
	})
}

// RestoreConsumer adds a consumer with its recorded seen time; it reports false when the
// group already has one by that name.
func (g *Group) RestoreConsumer(name string, seenTime uint64) bool {
	return g.CreateConsumer(name, seenTime)
}

// RestorePending adds a recorded pending entry, owned by a consumer the group has.
func (g *Group) RestorePending(p PendingState) error {
	c := g.consumers[p.Consumer]
	if c == nil {
		return fmt.Errorf("pending entry %s of group %q names no consumer of the group", p.ID, g.Name)
	}
	if _, dup := g.pel.Get(p.ID); dup {
		return fmt.Errorf("pending entry %s of group %q is listed twice", p.ID, g.Name)
	}
	n := &nack{consumer: c, deliveryTime: p.DeliveryTime, deliveryCount: p.DeliveryCount}
	g.pel.Set(p.ID, n)
	c.pel.Set(p.ID, n)
	return nil
}
