package stream

import (
	"github.com/clusterctl/clusterctl/node/resp"
)

// The Write* functions render replies exactly as Redis 7.0 does, in RESP2 or RESP3
// following the writer's protocol, so that the field order of XINFO and the shape of
// entries live in one place.

// WriteID writes an ID as a bulk string.
func WriteID(w *resp.Writer, id ID) {
	var buf [48]byte
	w.Bulk(id.Append(buf[:0]))
}

// WriteEntry writes [id, [field, value, ...]], or [id, nil] for a pending entry whose
// stream entry was deleted.
func WriteEntry(w *resp.Writer, e Entry) {
	w.ArrayLen(2)
	WriteID(w, e.ID)
	if e.Fields == nil {
		w.NullArray()
		return
	}
	w.ArrayLen(len(e.Fields))
	for _, f := range e.Fields {
		w.Bulk(f)
	}
}

// WriteEntries writes an array of entries (XRANGE, XREAD's per-stream part, XCLAIM).
func WriteEntries(w *resp.Writer, es []Entry) {
	w.ArrayLen(len(es))
	for _, e := range es {
		WriteEntry(w, e)
	}
}

// WriteIDs writes an array of IDs (XCLAIM / XAUTOCLAIM with JUSTID).
func WriteIDs(w *resp.Writer, es []Entry) {
	w.ArrayLen(len(es))
	for _, e := range es {
		WriteID(w, e.ID)
	}
}

// WriteAutoClaim writes XAUTOCLAIM's three-element reply.
func WriteAutoClaim(w *resp.Writer, r ClaimResult, justID bool) {
	w.ArrayLen(3)
	WriteID(w, r.Next)
	if justID {
		WriteIDs(w, r.Entries)
	} else {
		WriteEntries(w, r.Entries)
	}
	w.ArrayLen(len(r.Deleted))
	for _, id := range r.Deleted {
		WriteID(w, id)
	}
}

// WritePendingSummary writes XPENDING's short form.
func WritePendingSummary(w *resp.Writer, p PendingSummary) {
	w.ArrayLen(4)
	w.Int(int64(p.Count))
	if p.Count == 0 {
		w.Null()
		w.Null()
		w.NullArray()
		return
	}
	WriteID(w, p.First)
	WriteID(w, p.Last)
	w.ArrayLen(len(p.Consumers))
	for _, c := range p.Consumers {
		w.ArrayLen(2)
		w.BulkString(c.Name)
		w.BulkInt(int64(c.Count))
	}
}

// WritePending writes XPENDING's extended form.
func WritePending(w *resp.Writer, ps []PendingEntry) {
	w.ArrayLen(len(ps))
	for _, p := range ps {
		w.ArrayLen(4)
		WriteID(w, p.ID)
		w.BulkString(p.Consumer)
		w.Int(p.Idle)
		w.Int(p.DeliveryCount)
	}
}

func writeEdgeEntry(w *resp.Writer, e Entry, ok bool) {
	if !ok {
		w.Null()
		return
	}
	WriteEntry(w, e)
}

// WriteInfo writes XINFO STREAM's reply with redis-server 7.0.15's fields (which include
// recorded-first-entry-id), FULL included.
func (s *Stream) WriteInfo(w *resp.Writer, a InfoArgs) {
	n := 10
	if a.Full {
		n = 9
	}
	w.MapLen(n)
	w.BulkString("length")
	w.Int(s.length)
	w.BulkString("radix-tree-keys")
	w.Int(int64(len(s.nodes)))
	w.BulkString("radix-tree-nodes")
	w.Int(int64(s.radixTreeNodes()))
	w.BulkString("last-generated-id")
	WriteID(w, s.lastID)
	w.BulkString("max-deleted-entry-id")
	WriteID(w, s.maxDeletedID)
	w.BulkString("entries-added")
	w.Int(s.entriesAdded)
	w.BulkString("recorded-first-entry-id")
	WriteID(w, s.firstID)
	if !a.Full {
		w.BulkString("groups")
		w.Int(int64(len(s.groups)))
		w.BulkString("first-entry")
		e, ok := s.FirstEntry()
		writeEdgeEntry(w, e, ok)
		w.BulkString("last-entry")
		e, ok = s.LastEntry()
		writeEdgeEntry(w, e, ok)
		return
	}
	w.BulkString("entries")
	WriteEntries(w, s.Range(ID{}, MaxID, a.Count, false))
	w.BulkString("groups")
	groups := s.Groups()
	w.ArrayLen(len(groups))
	for _, g := range groups {
		s.writeGroupFull(w, g, a.Count)
	}
}

func (s *Stream) writeGroupFull(w *resp.Writer, g *Group, count int64) {
	w.MapLen(7)
	w.BulkString("name")
	w.BulkString(g.Name)
	w.BulkString("last-delivered-id")
	WriteID(w, g.lastID)
	w.BulkString("entries-read")
	writeEntriesRead(w, g)
	w.BulkString("lag")
	s.writeLag(w, g)
	w.BulkString("pel-count")
	w.Int(int64(g.pel.Len()))
	w.BulkString("pending")
	var pending []ID
	g.pel.Ascend(ID{}, func(id ID, _ *nack) bool {
		pending = append(pending, id)
		return count == 0 || int64(len(pending)) < count
	})
	w.ArrayLen(len(pending))
	for _, id := range pending {
		n, _ := g.pel.Get(id)
		w.ArrayLen(4)
		WriteID(w, id)
		w.BulkString(n.consumer.Name)
		w.Int(int64(n.deliveryTime))
		w.Int(n.deliveryCount)
	}
	w.BulkString("consumers")
	consumers := g.Consumers()
	w.ArrayLen(len(consumers))
	for _, c := range consumers {
		w.MapLen(4)
		w.BulkString("name")
		w.BulkString(c.Name)
		w.BulkString("seen-time")
		w.Int(int64(c.seenTime))
		w.BulkString("pel-count")
		w.Int(int64(c.pel.Len()))
		w.BulkString("pending")
		var ids []ID
		c.pel.Ascend(ID{}, func(id ID, _ *nack) bool {
			ids = append(ids, id)
			return count == 0 || int64(len(ids)) < count
		})
		w.ArrayLen(len(ids))
		for _, id := range ids {
			n, _ := c.pel.Get(id)
			w.ArrayLen(3)
			WriteID(w, id)
			w.Int(int64(n.deliveryTime))
			w.Int(n.deliveryCount)
		}
	}
}

func writeEntriesRead(w *resp.Writer, g *Group) {
	if g.entriesRead == InvalidEntriesRead {
		w.Null()
		return
	}
	w.Int(g.entriesRead)
}

func (s *Stream) writeLag(w *resp.Writer, g *Group) {
	if lag, ok := s.Lag(g); ok {
		w.Int(lag)
		return
	}
	w.Null()
}

// WriteGroupsInfo writes XINFO GROUPS's reply.
func (s *Stream) WriteGroupsInfo(w *resp.Writer) {
	groups := s.Groups()
	w.ArrayLen(len(groups))
	for _, g := range groups {
		w.MapLen(6)
		w.BulkString("name")
		w.BulkString(g.Name)
		w.BulkString("consumers")
		w.Int(int64(len(g.consumers)))
		w.BulkString("pending")
		w.Int(int64(g.pel.Len()))
		w.BulkString("last-delivered-id")
		WriteID(w, g.lastID)
		w.BulkString("entries-read")
		writeEntriesRead(w, g)
		w.BulkString("lag")
		s.writeLag(w, g)
	}
}

// WriteConsumersInfo writes XINFO CONSUMERS's reply at time now.
func (g *Group) WriteConsumersInfo(w *resp.Writer, now uint64) {
	consumers := g.Consumers()
	w.ArrayLen(len(consumers))
	for _, c := range consumers {
		w.MapLen(3)
		w.BulkString("name")
		w.BulkString(c.Name)
		w.BulkString("pending")
		w.Int(int64(c.pel.Len()))
		w.BulkString("idle")
		w.Int(max(int64(now)-int64(c.seenTime), 0))
	}
}

// radixTreeNodes estimates the node count of Redis's radix tree holding the macro nodes
// under their 16-byte big-endian master IDs: the canonical compressed trie, with a node
// at the root, at every key, at every branching position and at every child of one.
// Redis's tree matches it while nodes are only added and dropped from the head.
func (s *Stream) radixTreeNodes() int {
	keys := make([][16]byte, len(s.nodes))
	for i, n := range s.nodes {
		for b := 0; b < 8; b++ {
			keys[i][b] = byte(n.master.Ms >> (56 - 8*b))
			keys[i][8+b] = byte(n.master.Seq >> (56 - 8*b))
		}
	}
	if len(keys) == 0 {
		return 1
	}
	// children[d][i] is the number of distinct bytes at depth d below the prefix
	// keys[i][:d], for the first key i of each prefix group.
	children := func(d, from, to int) int {
		n := 1
		for i := from + 1; i < to; i++ {
			if keys[i][d] != keys[i-1][d] {
				n++
			}
		}
		return n
	}
	count := len(keys) // the leaves
	var walk func(d, from, to int, parentBranches bool)
	walk = func(d, from, to int, parentBranches bool) {
		if d == 16 {
			return
		}
		ch := children(d, from, to)
		if d > 0 && (ch >= 2 || parentBranches) {
			count++
		}
		start := from
		for i := from + 1; i <= to; i++ {
			if i == to || keys[i][d] != keys[start][d] {
				walk(d+1, start, i, ch >= 2)
				start = i
			}
		}
	}
	walk(0, 0, len(keys), false)
	return count + 1 // the root
}
