package stream

import (
	"errors"
	"sort"
	"strconv"
)

// InvalidEntriesRead marks a group's entries-read counter as unknown
// (SCG_INVALID_ENTRIES_READ); XINFO shows it as nil.
const InvalidEntriesRead = -1

// Group is a consumer group.
type Group struct {
	Name        string
	lastID      ID
	entriesRead int64
	pel         idMap[*nack]
	consumers   map[string]*Consumer
}

// Consumer is a consumer of a group.
type Consumer struct {
	Name     string
	seenTime uint64
	pel      idMap[*nack]
}

// nack is a pending entry: delivered, not yet acknowledged.
type nack struct {
	consumer      *Consumer
	deliveryTime  uint64
	deliveryCount int64
}

// LastID is the group's last-delivered-id.
func (g *Group) LastID() ID { return g.lastID }

// EntriesRead is the group's entries-read counter, InvalidEntriesRead when unknown.
func (g *Group) EntriesRead() int64 { return g.entriesRead }

// PendingCount is the size of the group's PEL.
func (g *Group) PendingCount() int { return g.pel.Len() }

// Group returns the named group, or nil.
func (s *Stream) Group(name string) *Group {
	return s.groups[name]
}

// Groups returns the groups in name order, as Redis lists them.
func (s *Stream) Groups() []*Group {
	out := make([]*Group, 0, len(s.groupOrder))
	for _, n := range s.groupOrder {
		out = append(out, s.groups[n])
	}
	return out
}

// NoGroupError is the NOGROUP reply of XGROUP SETID, CREATECONSUMER, DELCONSUMER and
// XINFO CONSUMERS.
func NoGroupError(key, group string) error {
	return errors.New("NOGROUP No such consumer group '" + group + "' for key name '" + key + "'")
}

// NoKeyOrGroupError is the NOGROUP reply of XPENDING, XCLAIM and XAUTOCLAIM.
func NoKeyOrGroupError(key, group string) error {
	return errors.New("NOGROUP No such key '" + key + "' or consumer group '" + group + "'")
}

// NoReadGroupError is the NOGROUP reply of XREADGROUP.
func NoReadGroupError(key, group string) error {
	return errors.New("NOGROUP No such key '" + key + "' or consumer group '" + group + "' in XREADGROUP with GROUP option")
}

// CreateGroup is XGROUP CREATE once the arguments are parsed: it adds a group starting
// after id, returning ErrBusyGroup when the name is taken.
func (s *Stream) CreateGroup(name string, id ID, entriesRead int64) (*Group, error) {
	if _, ok := s.groups[name]; ok {
		return nil, ErrBusyGroup
	}
	if s.groups == nil {
		s.groups = map[string]*Group{}
	}
	g := &Group{Name: name, lastID: id, entriesRead: entriesRead, consumers: map[string]*Consumer{}}
	s.groups[name] = g
	i := sort.SearchStrings(s.groupOrder, name)
	s.groupOrder = append(s.groupOrder, "")
	copy(s.groupOrder[i+1:], s.groupOrder[i:])
	s.groupOrder[i] = name
	return g, nil
}

// DestroyGroup is XGROUP DESTROY; it reports whether the group existed.
func (s *Stream) DestroyGroup(name string) bool {
	if _, ok := s.groups[name]; !ok {
		return false
	}
	delete(s.groups, name)
	i := sort.SearchStrings(s.groupOrder, name)
	s.groupOrder = append(s.groupOrder[:i], s.groupOrder[i+1:]...)
	return true
}

// SetID is XGROUP SETID.
func (g *Group) SetID(id ID, entriesRead int64) {
	g.lastID = id
	g.entriesRead = entriesRead
}

// Consumer returns the named consumer without refreshing its seen time, or nil.
func (g *Group) Consumer(name string) *Consumer { return g.consumers[name] }

// Consumers returns the consumers in name order.
func (g *Group) Consumers() []*Consumer {
	names := make([]string, 0, len(g.consumers))
	for n := range g.consumers {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*Consumer, len(names))
	for i, n := range names {
		out[i] = g.consumers[n]
	}
	return out
}

// CreateConsumer is XGROUP CREATECONSUMER: it reports whether the consumer was created.
func (g *Group) CreateConsumer(name string, now uint64) bool {
	if _, ok := g.consumers[name]; ok {
		return false
	}
	g.consumers[name] = &Consumer{Name: name, seenTime: now}
	return true
}

// lookupConsumer finds or creates a consumer and marks it seen now (streamLookupConsumer
// with SLC_DEFAULT, then streamCreateConsumer); created reports a creation.
func (g *Group) lookupConsumer(name string, now uint64) (c *Consumer, created bool) {
	if c = g.consumers[name]; c != nil {
		c.seenTime = now
		return c, false
	}
	c = &Consumer{Name: name, seenTime: now}
	g.consumers[name] = c
	return c, true
}

// DeleteConsumer is XGROUP DELCONSUMER: it drops the consumer and its pending entries
// and returns how many were pending (0 when there was no such consumer).
func (g *Group) DeleteConsumer(name string) int {
	c := g.consumers[name]
	if c == nil {
		return 0
	}
	n := c.pel.Len()
	c.pel.Ascend(ID{}, func(id ID, _ *nack) bool {
		g.pel.Delete(id)
		return true
	})
	delete(g.consumers, name)
	return n
}

// SeenTime is the last time the consumer was active, in Unix milliseconds.
func (c *Consumer) SeenTime() uint64 { return c.seenTime }

// PendingCount is the size of the consumer's PEL.
func (c *Consumer) PendingCount() int { return c.pel.Len() }

// --- entries-read and lag (Redis 7.0) ---

// rangeHasTombstones is streamRangeHasTombstones with an open end.
func (s *Stream) rangeHasTombstones(start ID) bool {
	if s.length == 0 || s.maxDeletedID.IsZero() {
		return false
	}
	if s.firstID.Compare(s.maxDeletedID) > 0 {
		return false
	}
	return start.Compare(s.maxDeletedID) <= 0
}

// estimateDistance is streamEstimateDistanceFromFirstEverEntry: the logical position of
// id in the stream's history, or InvalidEntriesRead when it cannot be known.
func (s *Stream) estimateDistance(id ID) int64 {
	if s.entriesAdded == 0 {
		return 0
	}
	if s.length == 0 && id.Compare(s.lastID) < 1 {
		return s.entriesAdded
	}
	switch c := id.Compare(s.lastID); {
	case c == 0:
		return s.entriesAdded
	case c > 0:
		return InvalidEntriesRead
	}
	cmpFirst := id.Compare(s.firstID)
	if s.maxDeletedID.IsZero() || s.maxDeletedID.Less(s.firstID) {
		switch {
		case cmpFirst < 0:
			return s.entriesAdded - s.length
		case cmpFirst == 0:
			return s.entriesAdded - s.length + 1
		}
	}
	return InvalidEntriesRead
}

// Lag is XINFO's lag of a group: entries not yet delivered, or ok false (nil) when it
// cannot be computed (streamReplyWithCGLag).
func (s *Stream) Lag(g *Group) (lag int64, ok bool) {
	if s.entriesAdded == 0 {
		return 0, true
	}
	if g.entriesRead != InvalidEntriesRead && !s.rangeHasTombstones(g.lastID) {
		return s.entriesAdded - g.entriesRead, true
	}
	if read := s.estimateDistance(g.lastID); read != InvalidEntriesRead {
		return s.entriesAdded - read, true
	}
	return 0, false
}

// advanceGroup moves the group past a delivered entry, keeping entries-read.
func (s *Stream) advanceGroup(g *Group, id ID) bool {
	if !g.lastID.Less(id) {
		return false
	}
	if g.entriesRead != InvalidEntriesRead && !s.rangeHasTombstones(id) {
		g.entriesRead++
	} else if s.entriesAdded != 0 {
		g.entriesRead = s.estimateDistance(id)
	}
	g.lastID = id
	return true
}

// --- XREADGROUP ---

// ReadGroupResult is what XREADGROUP did on one stream.
type ReadGroupResult struct {
	// Served is false when there was nothing to serve for ">": XREADGROUP then blocks or
	// replies nil, and the consumer was not touched.
	Served bool
	// Entries are the reply; for history reads an entry deleted meanwhile has nil Fields.
	Entries []Entry
	// ConsumerCreated: Redis propagates XGROUP CREATECONSUMER for it with NOACK.
	ConsumerCreated bool
	// Claimed are the IDs whose pending entries were created or moved to the consumer;
	// each is propagated as XCLAIM (see ClaimPropagation).
	Claimed []ID
	// LastIDChanged with NOACK: Redis propagates XGROUP SETID (see SetIDPropagation).
	LastIDChanged bool
}

// ReadGroup serves XREADGROUP for one stream: with newOnly (">") the entries after the
// group's last-delivered-id, which become pending for the consumer unless noack; else
// the consumer's own pending entries after after. count 0 means no limit; now is the
// delivery time in Unix milliseconds.
func (s *Stream) ReadGroup(g *Group, consumer string, newOnly bool, after ID, count int64, noack bool, now uint64) ReadGroupResult {
	var res ReadGroupResult
	if newOnly {
		last, ok := s.edge(false)
		if !ok || !g.lastID.Less(last) {
			return res
		}
		after = g.lastID
	}
	res.Served = true
	c, created := g.lookupConsumer(consumer, now)
	res.ConsumerCreated = created
	start, _ := after.incr() // from 0-0 after the maximal ID, as Redis does
	if !newOnly {
		c.pel.Ascend(start, func(id ID, n *nack) bool {
			if count > 0 && int64(len(res.Entries)) >= count {
				return false
			}
			if it, ok := s.lookup(id); ok {
				res.Entries = append(res.Entries, Entry{id, it.fields})
				n.deliveryTime = now
				n.deliveryCount++
			} else {
				res.Entries = append(res.Entries, Entry{ID: id})
			}
			return true
		})
		return res
	}
	s.walk(start, MaxID, false, func(it *item) bool {
		if s.advanceGroup(g, it.id) && noack {
			res.LastIDChanged = true
		}
		res.Entries = append(res.Entries, Entry{it.id, it.fields})
		if !noack {
			if n, ok := g.pel.Get(it.id); ok {
				// Already pending (XGROUP SETID moved the group back): hand it over.
				n.consumer.pel.Delete(it.id)
				n.consumer = c
				n.deliveryTime = now
				n.deliveryCount = 1
			} else {
				g.pel.Set(it.id, &nack{consumer: c, deliveryTime: now, deliveryCount: 1})
			}
			n, _ := g.pel.Get(it.id)
			c.pel.Set(it.id, n)
			res.Claimed = append(res.Claimed, it.id)
		}
		return count == 0 || int64(len(res.Entries)) < count
	})
	return res
}

// ClaimPropagation is the XCLAIM Redis propagates for a pending entry it created, moved
// or dropped (streamPropagateXCLAIM): XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n
// FORCE JUSTID LASTID group-last-id. It returns nil when the entry is no longer pending
// for a consumer; a dropped entry should be rendered before it is removed.
func (g *Group) ClaimPropagation(key string, id ID) [][]byte {
	n, ok := g.pel.Get(id)
	if !ok || n.consumer == nil {
		return nil
	}
	return claimArgs(key, g, id, n)
}

func claimArgs(key string, g *Group, id ID, n *nack) [][]byte {
	return [][]byte{
		[]byte("XCLAIM"), []byte(key), []byte(g.Name), []byte(n.consumer.Name), []byte("0"),
		id.Append(nil), []byte("TIME"), strconv.AppendUint(nil, n.deliveryTime, 10),
		[]byte("RETRYCOUNT"), strconv.AppendInt(nil, n.deliveryCount, 10),
		[]byte("FORCE"), []byte("JUSTID"), []byte("LASTID"), g.lastID.Append(nil),
	}
}

// SetIDPropagation is the XGROUP SETID Redis propagates after NOACK reads or XCLAIM
// LASTID (streamPropagateGroupID), with the group's entries-read counter.
func (g *Group) SetIDPropagation(key string) [][]byte {
	return [][]byte{[]byte("XGROUP"), []byte("SETID"), []byte(key), []byte(g.Name), g.lastID.Append(nil),
		[]byte("ENTRIESREAD"), strconv.AppendInt(nil, g.entriesRead, 10)}
}

// --- XACK ---

// Ack is XACK's write: it removes the IDs from the PEL and returns how many were pending.
func (g *Group) Ack(ids []ID) int64 {
	var n int64
	for _, id := range ids {
		if na, ok := g.pel.Get(id); ok {
			g.pel.Delete(id)
			na.consumer.pel.Delete(id)
			n++
		}
	}
	return n
}

// --- XPENDING ---

// PendingSummary is XPENDING's short form.
type PendingSummary struct {
	Count       int
	First, Last ID // meaningful when Count > 0
	// Consumers with pending entries, in name order, with their counts.
	Consumers []ConsumerPending
}

// ConsumerPending is one consumer's line of the XPENDING summary.
type ConsumerPending struct {
	Name  string
	Count int
}

// Summary is XPENDING key group.
func (g *Group) Summary() PendingSummary {
	p := PendingSummary{Count: g.pel.Len()}
	if p.Count == 0 {
		return p
	}
	p.First, _, _ = g.pel.First()
	p.Last, _, _ = g.pel.Last()
	for _, c := range g.Consumers() {
		if c.pel.Len() > 0 {
			p.Consumers = append(p.Consumers, ConsumerPending{c.Name, c.pel.Len()})
		}
	}
	return p
}

// PendingEntry is one line of XPENDING's extended form.
type PendingEntry struct {
	ID            ID
	Consumer      string
	Idle          int64 // milliseconds since the last delivery
	DeliveryCount int64
}

// Pending is XPENDING's extended form over the group's PEL or, when consumer is not
// empty, that consumer's (an unknown consumer gives nothing).
func (g *Group) Pending(q PendingQuery, now uint64) []PendingEntry {
	var pel *idMap[*nack]
	if q.Consumer != "" {
		c := g.consumers[q.Consumer]
		if c == nil {
			return nil
		}
		pel = &c.pel
	} else {
		pel = &g.pel
	}
	var out []PendingEntry
	count := q.Count
	pel.Ascend(q.Start, func(id ID, n *nack) bool {
		if count <= 0 || q.End.Less(id) {
			return false
		}
		idle := int64(now) - int64(n.deliveryTime)
		if q.MinIdle != 0 && idle < q.MinIdle {
			return true
		}
		out = append(out, PendingEntry{id, n.consumer.Name, max(idle, 0), n.deliveryCount})
		count--
		return true
	})
	return out
}

// --- XCLAIM and XAUTOCLAIM ---

// ClaimResult is what XCLAIM or XAUTOCLAIM did.
type ClaimResult struct {
	// Entries claimed, in order; with JUSTID only their IDs matter.
	Entries []Entry
	// Propagate are the XCLAIM commands to replicate, one per pending entry claimed or
	// dropped because its stream entry is gone.
	Propagate [][][]byte
	// Deleted are XAUTOCLAIM's IDs dropped from the PEL because their entries are gone.
	Deleted []ID
	// Next is XAUTOCLAIM's cursor (0-0 when the scan reached the end).
	Next ID
	// SetID is the XGROUP SETID to propagate after an XCLAIM LASTID that moved the group
	// and claimed nothing, else nil.
	SetID [][]byte
}

// Claim is XCLAIM's write, for arguments parsed by ParseXClaim, at time now.
func (s *Stream) Claim(key string, g *Group, a ClaimArgs, now uint64) ClaimResult {
	var res ClaimResult
	propagateLastID := false
	if a.LastIDGiven && g.lastID.Less(a.LastID) {
		g.lastID = a.LastID
		propagateLastID = true
	}
	// IDLE and TIME set the delivery time; a bogus one (negative or in the future) is
	// taken as now rather than refused, as Redis does.
	delivery := int64(now)
	if a.DeliveryGiven {
		delivery = a.Delivery
		if a.DeliveryIsIdle {
			delivery = int64(now) - a.Delivery
		}
		if delivery < 0 || delivery > int64(now) {
			delivery = int64(now)
		}
	}
	var c *Consumer
	for _, id := range a.IDs {
		n, pending := g.pel.Get(id)
		it, exists := s.lookup(id)
		if !exists {
			if pending {
				res.Propagate = append(res.Propagate, claimArgs(key, g, id, n))
				propagateLastID = false
				g.pel.Delete(id)
				n.consumer.pel.Delete(id)
			}
			continue
		}
		if a.Force && !pending {
			// streamCreateNACK starts every pending entry delivered once, now.
			n = &nack{deliveryTime: now, deliveryCount: 1}
			g.pel.Set(id, n)
			pending = true
		}
		if !pending {
			continue
		}
		if n.consumer != nil && a.MinIdle > 0 && int64(now)-int64(n.deliveryTime) < a.MinIdle {
			continue
		}
		if c == nil {
			c, _ = g.lookupConsumer(a.Consumer, now)
		}
		if n.consumer != c && n.consumer != nil {
			n.consumer.pel.Delete(id)
		}
		n.deliveryTime = uint64(delivery)
		if a.RetryCount >= 0 {
			n.deliveryCount = a.RetryCount
		} else if !a.JustID {
			n.deliveryCount++
		}
		if n.consumer != c {
			c.pel.Set(id, n)
			n.consumer = c
		}
		res.Entries = append(res.Entries, Entry{id, it.fields})
		res.Propagate = append(res.Propagate, claimArgs(key, g, id, n))
		propagateLastID = false
	}
	if propagateLastID {
		res.SetID = g.SetIDPropagation(key)
	}
	return res
}

// AutoClaim is XAUTOCLAIM's write, for arguments parsed by ParseXAutoClaim: it scans the
// group's PEL from a.Start, trying at most 10 * count entries.
func (s *Stream) AutoClaim(key string, g *Group, a AutoClaimArgs, now uint64) ClaimResult {
	var res ClaimResult
	count := a.Count
	attempts := count * 10
	var ids []ID
	// Snapshot the candidates, one more than can be tried, to find the cursor.
	g.pel.Ascend(a.Start, func(id ID, _ *nack) bool {
		ids = append(ids, id)
		return int64(len(ids)) <= attempts
	})
	i := 0
	for ; i < len(ids) && attempts > 0 && count > 0; i++ {
		attempts--
		id := ids[i]
		n, _ := g.pel.Get(id)
		it, exists := s.lookup(id)
		if !exists {
			res.Propagate = append(res.Propagate, claimArgs(key, g, id, n))
			g.pel.Delete(id)
			n.consumer.pel.Delete(id)
			res.Deleted = append(res.Deleted, id)
			count--
			continue
		}
		if a.MinIdle > 0 && int64(now)-int64(n.deliveryTime) < a.MinIdle {
			continue
		}
		c, _ := g.lookupConsumer(a.Consumer, now)
		if n.consumer != c {
			n.consumer.pel.Delete(id)
		}
		n.deliveryTime = now
		if !a.JustID {
			n.deliveryCount++
		}
		if n.consumer != c {
			c.pel.Set(id, n)
			n.consumer = c
		}
		res.Entries = append(res.Entries, Entry{id, it.fields})
		res.Propagate = append(res.Propagate, claimArgs(key, g, id, n))
		count--
	}
	if i < len(ids) {
		res.Next = ids[i]
	}
	return res
}
