// Package zset implements Redis 7.0's sorted set (t_zset.c) as a pure data structure:
// a skiplist with spans for ranks plus a member→node map, ordered by score and, for equal
// scores, by member bytes. It also holds the argument parsers of the sorted-set commands
// with Redis's exact error texts (ZADD's flags, the ZRANGE family, ZRANGESPEC score and
// lex ranges, ZUNION/ZINTER/ZDIFF options), and the set algebra with WEIGHTS and
// AGGREGATE.
//
// Redis keeps small sorted sets in a listpack and converts them to a skiplist once they
// have more than zset-max-listpack-entries members or a member longer than
// zset-max-listpack-value bytes, never back (except for the results of store commands and
// on loading). The replies do not depend on it, but OBJECT ENCODING, RDB and DUMP do, so
// a ZSet tracks the encoding Redis would have and reports it with Encoding; the storage
// itself is always the skiplist.
//
// Nothing here locks, blocks or does I/O; a ZSet belongs to the keyspace that holds it.
package zset

import (
	"math"

	"github.com/clusterctl/clusterctl/node/keyspace/dict"
)

// Limits are the encoding thresholds zset-max-listpack-entries and
// zset-max-listpack-value (zset-max-ziplist-* are their aliases).
type Limits struct {
	MaxListpackEntries int
	MaxListpackValue   int
}

// DefaultLimits are redis.conf's defaults.
var DefaultLimits = Limits{MaxListpackEntries: 128, MaxListpackValue: 64}

// Entry is a member with its score.
type Entry struct {
	Member string
	Score  float64
}

// ZSet is a sorted set. The zero value is not usable; use Create or CreateSized.
type ZSet struct {
	// dict maps members to their nodes. It is the keyspace's hash table rather than a Go
	// map because ZSCAN needs dictScan's cursor and ZRANDMEMBER a random entry.
	dict     dict.Dict[*node]
	sl       *skiplist
	listpack bool
	// memberBytes is the sum of the members' lengths, for MemoryUsage.
	memberBytes int64
}

// Create returns an empty sorted set for ZADD (or ZINCRBY) creating a key whose first
// member is firstMemberLen bytes long. Redis 7.0 starts it as a listpack unless
// zset-max-listpack-entries is 0 or that member exceeds zset-max-listpack-value.
func Create(lim Limits, firstMemberLen int) *ZSet {
	return newZSet(lim.MaxListpackEntries > 0 && firstMemberLen <= lim.MaxListpackValue)
}

// CreateSized returns an empty sorted set for a store command expecting length members
// (-1 when unknown), as ZRANGESTORE begins its result: a listpack unless length exceeds
// zset-max-listpack-entries. Adding members converts it as usual.
func CreateSized(lim Limits, length int) *ZSet {
	return newZSet(length <= lim.MaxListpackEntries)
}

func newZSet(listpack bool) *ZSet {
	return &ZSet{sl: newSkiplist(), listpack: listpack}
}

// find returns the node of member, or nil.
func (z *ZSet) find(member string) *node {
	if e := z.dict.Find(member); e != nil {
		return e.Value
	}
	return nil
}

// insertNew adds a member that is not present.
func (z *ZSet) insertNew(member string, score float64) {
	e, _ := z.dict.Upsert(member)
	e.Value = z.sl.insert(score, member)
	z.memberBytes += int64(len(member))
}

// deleteNode removes a member known to be present.
func (z *ZSet) deleteNode(score float64, member string) {
	z.sl.delete(score, member)
	z.dict.Delete(member)
	z.memberBytes -= int64(len(member))
}

// Len is ZCARD.
func (z *ZSet) Len() int { return z.sl.length }

// Encoding is what OBJECT ENCODING replies: "listpack" or "skiplist".
func (z *ZSet) Encoding() string {
	if z.listpack {
		return "listpack"
	}
	return "skiplist"
}

// IsListpack reports whether Redis would store this set as a listpack.
func (z *ZSet) IsListpack() bool { return z.listpack }

// ConvertToListpackIfNeeded applies zsetConvertToListpackIfNeeded, which store commands
// (ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE) and loading use: a skiplist small enough on both
// limits becomes a listpack again.
func (z *ZSet) ConvertToListpackIfNeeded(lim Limits) {
	if z.listpack || z.Len() > lim.MaxListpackEntries {
		return
	}
	tooLong := false
	z.dict.Range(func(e *dict.Entry[*node]) bool {
		tooLong = len(e.Key()) > lim.MaxListpackValue
		return !tooLong
	})
	if tooLong {
		return
	}
	z.listpack = true
	for n := z.sl.header.level[0].forward; n != nil; n = n.level[0].forward {
		n.score = z.stored(n.score) // -0 and 0 are adjacent, so the order holds
	}
}

// Score is ZSCORE: the member's score and whether it is present.
func (z *ZSet) Score(member string) (float64, bool) {
	n := z.find(member)
	if n == nil {
		return 0, false
	}
	return n.score, true
}

// AddFlags are ZADD's input options.
type AddFlags struct {
	NX, XX, GT, LT, Incr bool
}

// AddResult is what zsetAdd reports for one member.
type AddResult int

// Outcomes of Add.
const (
	// Nop: nothing done because of NX, XX, GT or LT.
	Nop AddResult = iota
	// Added a new member.
	Added
	// Updated an existing member's score.
	Updated
	// Unchanged: the member was processed but its score stayed the same.
	Unchanged
)

// ErrNaN is the reply when a score, or a score after INCR, is not a number.
var ErrNaN = rerr("ERR resulting score is not a number (NaN)")

// Add is zsetAdd: it adds member with score, or updates it (adding score to the current
// one with Incr), honouring NX, XX, GT and LT, converts the encoding to skiplist when the
// set outgrows lim, and returns the outcome and the member's resulting score. ZADD with
// INCR replies that score unless the outcome is Nop, when it replies nil; ZADD counts
// Added (and, with CH, Updated).
func (z *ZSet) Add(member string, score float64, flags AddFlags, lim Limits) (AddResult, float64, error) {
	if math.IsNaN(score) {
		return Nop, 0, ErrNaN
	}
	if e := z.dict.Find(member); e != nil {
		n := e.Value
		if flags.NX {
			return Nop, n.score, nil
		}
		cur := n.score
		if flags.Incr {
			score += cur
			if math.IsNaN(score) {
				return Nop, 0, ErrNaN
			}
		}
		if (flags.LT && score >= cur) || (flags.GT && score <= cur) {
			return Nop, cur, nil
		}
		if score == cur {
			return Unchanged, score, nil
		}
		z.sl.updateScore(n, z.stored(score))
		return Updated, score, nil
	}
	if flags.XX {
		return Nop, 0, nil
	}
	if z.listpack && (z.Len()+1 > lim.MaxListpackEntries || len(member) > lim.MaxListpackValue) {
		z.listpack = false
	}
	z.insertNew(member, z.stored(score))
	return Added, score, nil
}

// stored is the score as the encoding keeps it. A listpack stores integral scores as
// integers (zzlInsertAt's double2ll), so -0 comes back as 0; ZADD INCR still replies the
// score it computed.
func (z *ZSet) stored(score float64) float64 {
	if z.listpack && score == 0 {
		return 0
	}
	return score
}

// Remove is ZREM for one member.
func (z *ZSet) Remove(member string) bool {
	n := z.find(member)
	if n == nil {
		return false
	}
	z.deleteNode(n.score, member)
	return true
}

// Rank is ZRANK (ZREVRANK with reverse): the 0-based position of member.
func (z *ZSet) Rank(member string, reverse bool) (int, bool) {
	n := z.find(member)
	if n == nil {
		return 0, false
	}
	r := z.sl.rank(n.score, member)
	if reverse {
		return z.Len() - r, true
	}
	return r - 1, true
}

// At returns the entry at 0-based rank i (from the highest score with reverse).
func (z *ZSet) At(i int, reverse bool) (Entry, bool) {
	if i < 0 || i >= z.Len() {
		return Entry{}, false
	}
	if reverse {
		i = z.Len() - 1 - i
	}
	n := z.sl.byRank(i + 1)
	return Entry{n.member, n.score}, true
}

// Each calls fn for every entry in order (reverse: from the highest) until fn returns
// false. fn must not modify the set.
func (z *ZSet) Each(reverse bool, fn func(Entry) bool) {
	if reverse {
		for n := z.sl.tail; n != nil; n = n.backward {
			if !fn(Entry{n.member, n.score}) {
				return
			}
		}
		return
	}
	for n := z.sl.header.level[0].forward; n != nil; n = n.level[0].forward {
		if !fn(Entry{n.member, n.score}) {
			return
		}
	}
}

// Entries returns all entries in order.
func (z *ZSet) Entries() []Entry {
	out := make([]Entry, 0, z.Len())
	z.Each(false, func(e Entry) bool { out = append(out, e); return true })
	return out
}

// Copy returns an independent copy with the same encoding (COPY, and store commands whose
// destination is also a source).
func (z *ZSet) Copy() *ZSet {
	c := newZSet(z.listpack)
	z.Each(false, func(e Entry) bool {
		c.insertNew(e.Member, e.Score)
		return true
	})
	return c
}

// ResolveRankRange applies Redis's index rules for ZRANGE by rank and ZREMRANGEBYRANK to
// a set of length n: negative indexes count from the end, start is clamped to 0 and end to
// n-1. ok is false for an empty range.
func ResolveRankRange(start, end int64, n int) (s, e int, ok bool) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if end < 0 {
		end += ln
	}
	start = max(start, 0)
	if start > end || start >= ln {
		return 0, 0, false
	}
	end = min(end, ln-1)
	return int(start), int(end), true
}

// RangeByRank returns the entries at 0-based ranks start..end (already resolved with
// ResolveRankRange), counted from the highest score with reverse.
func (z *ZSet) RangeByRank(start, end int, reverse bool) []Entry {
	if start > end || start < 0 || end >= z.Len() {
		return nil
	}
	out := make([]Entry, 0, end-start+1)
	if reverse {
		n := z.sl.byRank(z.Len() - start)
		for i := start; i <= end; i++ {
			out = append(out, Entry{n.member, n.score})
			n = n.backward
		}
		return out
	}
	n := z.sl.byRank(start + 1)
	for i := start; i <= end; i++ {
		out = append(out, Entry{n.member, n.score})
		n = n.level[0].forward
	}
	return out
}

// bounds locates the nodes of a range: the first and last in it with their 1-based ranks.
func (z *ZSet) bounds(gteMin, lteMax func(*node) bool) (first *node, firstRank int, last *node, lastRank int, ok bool) {
	first, firstRank = z.sl.firstWhere(gteMin)
	if first == nil || !lteMax(first) {
		return nil, 0, nil, 0, false
	}
	last, lastRank = z.sl.lastWhere(lteMax)
	if last == nil || !gteMin(last) {
		return nil, 0, nil, 0, false
	}
	return first, firstRank, last, lastRank, true
}

// rangeWalk returns up to limit entries (limit < 0: all) of a range after skipping
// offset, from the low end or, with reverse, the high end. A negative offset selects
// nothing, as in Redis.
func (z *ZSet) rangeWalk(gteMin, lteMax func(*node) bool, reverse bool, offset, limit int64) []Entry {
	first, _, last, _, ok := z.bounds(gteMin, lteMax)
	if !ok || offset < 0 {
		return nil
	}
	var out []Entry
	n := first
	if reverse {
		n = last
	}
	for ; n != nil && offset > 0; offset-- {
		n = step(n, reverse)
	}
	for ; n != nil && limit != 0; limit-- {
		if reverse && !gteMin(n) || !reverse && !lteMax(n) {
			break
		}
		out = append(out, Entry{n.member, n.score})
		n = step(n, reverse)
	}
	return out
}

func step(n *node, reverse bool) *node {
	if reverse {
		return n.backward
	}
	return n.level[0].forward
}

// rangeCount counts the members of a range, from the ranks of its ends.
func (z *ZSet) rangeCount(gteMin, lteMax func(*node) bool) int {
	_, fr, _, lr, ok := z.bounds(gteMin, lteMax)
	if !ok {
		return 0
	}
	return lr - fr + 1
}

// RangeByScore is ZRANGEBYSCORE (ZREVRANGEBYSCORE with reverse) with LIMIT offset count;
// count < 0 means no limit.
func (z *ZSet) RangeByScore(r ScoreRange, reverse bool, offset, count int64) []Entry {
	if r.empty() {
		return nil
	}
	return z.rangeWalk(r.gteMinNode, r.lteMaxNode, reverse, offset, count)
}

// RangeByLex is ZRANGEBYLEX (ZREVRANGEBYLEX with reverse) with LIMIT offset count. As in
// Redis the result is only meaningful when all members have the same score.
func (z *ZSet) RangeByLex(r LexRange, reverse bool, offset, count int64) []Entry {
	if r.empty() {
		return nil
	}
	return z.rangeWalk(r.gteMinNode, r.lteMaxNode, reverse, offset, count)
}

// CountByScore is ZCOUNT.
func (z *ZSet) CountByScore(r ScoreRange) int {
	if r.empty() {
		return 0
	}
	return z.rangeCount(r.gteMinNode, r.lteMaxNode)
}

// CountByLex is ZLEXCOUNT.
func (z *ZSet) CountByLex(r LexRange) int {
	if r.empty() {
		return 0
	}
	return z.rangeCount(r.gteMinNode, r.lteMaxNode)
}

// removeRanks deletes 1-based ranks from..to.
func (z *ZSet) removeRanks(from, to int) int {
	if from > to {
		return 0
	}
	victims := make([]Entry, 0, to-from+1)
	n := z.sl.byRank(from)
	for i := from; i <= to && n != nil; i++ {
		victims = append(victims, Entry{n.member, n.score})
		n = n.level[0].forward
	}
	for _, v := range victims {
		z.deleteNode(v.Score, v.Member)
	}
	return len(victims)
}

// RemoveRangeByRank is ZREMRANGEBYRANK for 0-based ranks resolved with
// ResolveRankRange; it returns the number removed.
func (z *ZSet) RemoveRangeByRank(start, end int) int {
	return z.removeRanks(start+1, min(end, z.Len()-1)+1)
}

// RemoveRangeByScore is ZREMRANGEBYSCORE.
func (z *ZSet) RemoveRangeByScore(r ScoreRange) int {
	if r.empty() {
		return 0
	}
	_, fr, _, lr, ok := z.bounds(r.gteMinNode, r.lteMaxNode)
	if !ok {
		return 0
	}
	return z.removeRanks(fr, lr)
}

// RemoveRangeByLex is ZREMRANGEBYLEX.
func (z *ZSet) RemoveRangeByLex(r LexRange) int {
	if r.empty() {
		return 0
	}
	_, fr, _, lr, ok := z.bounds(r.gteMinNode, r.lteMaxNode)
	if !ok {
		return 0
	}
	return z.removeRanks(fr, lr)
}

// Pop removes and returns up to count entries with the lowest scores (the highest with
// max), in the order ZPOPMIN / ZPOPMAX reply them.
func (z *ZSet) Pop(count int, max bool) []Entry {
	var out []Entry
	for ; count > 0 && z.Len() > 0; count-- {
		n := z.sl.header.level[0].forward
		if max {
			n = z.sl.tail
		}
		out = append(out, Entry{n.member, n.score})
		z.deleteNode(n.score, n.member)
	}
	return out
}
