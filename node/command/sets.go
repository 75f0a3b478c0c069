package command

import (
	"math"
	"strconv"

	"github.com/clusterctl/clusterctl/node/datatype/set"
	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/resp"
)

// registerSets adds the sets commands to the table.
func registerSets(t *Table) {
	t.Register("sadd", cmdSAdd)
	t.Register("srem", cmdSRem)
	t.Register("smembers", func(c *Ctx) { sinterGeneric(c, c.Argv[1:], nil, false, 0) })
	t.Register("sismember", cmdSIsMember)
	t.Register("smismember", cmdSMIsMember)
	t.Register("scard", cmdSCard)
	t.Register("spop", cmdSPop)
	t.Register("srandmember", cmdSRandMember)
	t.Register("smove", cmdSMove)
	t.Register("sinter", func(c *Ctx) { sinterGeneric(c, c.Argv[1:], nil, false, 0) })
	t.Register("sinterstore", func(c *Ctx) { sinterGeneric(c, c.Argv[2:], c.Argv[1], false, 0) })
	t.Register("sintercard", cmdSInterCard)
	t.Register("sunion", func(c *Ctx) { sunionDiffGeneric(c, c.Argv[1:], nil, set.Union, "") })
	t.Register("sunionstore", func(c *Ctx) { sunionDiffGeneric(c, c.Argv[2:], c.Argv[1], set.Union, "sunionstore") })
	t.Register("sdiff", func(c *Ctx) { sunionDiffGeneric(c, c.Argv[1:], nil, set.Diff, "") })
	t.Register("sdiffstore", func(c *Ctx) { sunionDiffGeneric(c, c.Argv[2:], c.Argv[1], set.Diff, "sdiffstore") })
	t.Register("sscan", cmdSScan)
}

func setLimits(c *Ctx) set.Limits {
	return set.Limits{MaxIntsetEntries: c.Env.SetMaxIntsetEntries.Load()}
}

// setObject wraps a set as a keyspace value.
func setObject(s *set.Set) keyspace.Object {
	o := keyspace.Object{Type: keyspace.TypeSet, Ptr: s}
	setSetEncoding(&o)
	return o
}

// setSetEncoding keeps the value's encoding in step with the set's.
func setSetEncoding(o *keyspace.Object) {
	if o.Ptr.(*set.Set).IsIntset() {
		o.Enc = keyspace.EncIntset
	} else {
		o.Enc = keyspace.EncHashtable
	}
}

// lookupSet returns the set at key, nil when the key is missing; ok is false after
// replying WRONGTYPE.
func lookupSet(c *Ctx, key []byte, write bool) (*keyspace.Entry, *set.Set, bool) {
	e, ok := lookupKind(c, key, keyspace.TypeSet, write)
	if e == nil {
		return nil, nil, ok
	}
	return e, e.Value.Ptr.(*set.Set), true
}

// setModified re-accounts a changed set, deleting its key (with a "del" event) when it
// emptied.
func setModified(c *Ctx, e *keyspace.Entry, s *set.Set, key []byte) {
	if s.Len() == 0 {
		c.DB.Delete(e)
		c.Notify(NotifyGeneric, "del", key)
		return
	}
	setSetEncoding(&e.Value)
	c.DB.Modified(e)
}

func cmdSAdd(c *Ctx) {
	e, s, ok := lookupSet(c, c.Argv[1], true)
	if !ok {
		return
	}
	if e == nil {
		s = set.New(string(c.Argv[2]))
		e = c.DB.Add(c.Argv[1], setObject(s))
	}
	lim := setLimits(c)
	added := 0
	for _, m := range c.Argv[2:] {
		if s.Add(string(m), lim) {
			added++
		}
	}
	setModified(c, e, s, c.Argv[1])
	c.Dirty(added)
	if added > 0 {
		c.Notify(NotifySet, "sadd", c.Argv[1])
	}
	c.W.Int(int64(added))
}

func cmdSRem(c *Ctx) {
	e, s, ok := lookupSet(c, c.Argv[1], true)
	if !ok {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	deleted := 0
	for _, m := range c.Argv[2:] {
		if s.Remove(m) {
			deleted++
			if s.Len() == 0 {
				break
			}
		}
	}
	if deleted > 0 {
		c.Notify(NotifySet, "srem", c.Argv[1])
		setModified(c, e, s, c.Argv[1])
	}
	c.Dirty(deleted)
	c.W.Int(int64(deleted))
}

func cmdSIsMember(c *Ctx) {
	_, s, ok := lookupSet(c, c.Argv[1], false)
	if !ok {
		return
	}
	if s != nil && s.ContainsBytes(c.Argv[2]) {
		c.W.Int(1)
		return
	}
	c.W.Int(0)
}

func cmdSMIsMember(c *Ctx) {
	_, s, ok := lookupSet(c, c.Argv[1], false)
	if !ok {
		return
	}
	c.W.ArrayLen(len(c.Argv) - 2)
	for _, m := range c.Argv[2:] {
		if s != nil && s.ContainsBytes(m) {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

func cmdSCard(c *Ctx) {
	_, s, ok := lookupSet(c, c.Argv[1], false)
	if !ok {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(s.Len()))
}

var argSREM = []byte("SREM")

// spopBatch is the most arguments one replicated SREM of SPOP with a count carries
// (spopWithCountCommand's batchsize of 1024 including SREM and the key).
const spopBatch = 1024

func cmdSPop(c *Ctx) {
	if len(c.Argv) > 3 {
		c.Error(ErrSyntax)
		return
	}
	if len(c.Argv) == 3 {
		spopWithCount(c)
		return
	}
	e, s, ok := lookupSet(c, c.Argv[1], true)
	if !ok {
		return
	}
	if s == nil {
		c.W.Null()
		return
	}
	m, _ := s.Pop()
	c.W.BulkString(m)
	c.Notify(NotifySet, "spop", c.Argv[1])
	setModified(c, e, s, c.Argv[1])
	c.Dirty(1)
	// Replicas remove the member that was popped here, not a random one of their own.
	c.Rewrite(argSREM, c.Argv[1], []byte(m))
}

func spopWithCount(c *Ctx) {
	count, ok := parsePositive(c, c.Argv[2], "")
	if !ok {
		return
	}
	e, s, ok := lookupSet(c, c.Argv[1], true)
	if !ok {
		return
	}
	if s == nil || count == 0 {
		c.W.SetLen(0)
		return
	}
	size := s.Len()
	c.Notify(NotifySet, "spop", c.Argv[1])
	if count >= int64(size) {
		// Everything: reply the whole set, delete the key, replicate a deletion.
		c.W.SetLen(size)
		s.Each(func(m string) bool { c.W.BulkString(m); return true })
		c.DB.Delete(e)
		c.Notify(NotifyGeneric, "del", c.Argv[1])
		c.Dirty(size)
		del := argDEL
		if c.Env.LazyfreeServerDel.Load() {
			del = argUNLINK
		}
		c.Rewrite(del, c.Argv[1])
		return
	}
	popped := s.PopN(int(count))
	setModified(c, e, s, c.Argv[1])
	c.Dirty(len(popped))
	c.W.SetLen(len(popped))
	for _, m := range popped {
		c.W.BulkString(m)
	}
	for len(popped) > 0 {
		n := min(len(popped), spopBatch-2)
		argv := make([][]byte, 0, n+2)
		argv = append(argv, argSREM, c.Argv[1])
		for _, m := range popped[:n] {
			argv = append(argv, []byte(m))
		}
		c.Propagate(argv...)
		popped = popped[n:]
	}
	c.NoPropagate()
}

func cmdSRandMember(c *Ctx) {
	if len(c.Argv) > 3 {
		c.Error(ErrSyntax)
		return
	}
	if len(c.Argv) == 3 {
		srandmemberWithCount(c)
		return
	}
	_, s, ok := lookupSet(c, c.Argv[1], false)
	if !ok {
		return
	}
	if s == nil {
		c.W.Null()
		return
	}
	m, _ := s.Random()
	c.W.BulkString(m)
}

func srandmemberWithCount(c *Ctx) {
	count, ok := resp.ParseInt(c.Argv[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if count == math.MinInt64 {
		c.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	}
	_, s, ok := lookupSet(c, c.Argv[1], false)
	if !ok {
		return
	}
	if s == nil || count == 0 {
		c.W.ArrayLen(0)
		return
	}
	if count >= int64(s.Len()) {
		// The whole set, always an array (Redis 7.0 replies a RESP3 set only for
		// SMEMBERS and the algebra, not here).
		c.W.ArrayLen(s.Len())
		s.Each(func(m string) bool { c.W.BulkString(m); return true })
		return
	}
	replyStrings(c, s.RandomMembers(count))
}

func cmdSMove(c *Ctx) {
	srcEntry, src, ok := lookupSet(c, c.Argv[1], true)
	if !ok {
		return
	}
	dstEntry := c.DB.LookupWriteKey(c.Argv[2])
	if src == nil {
		c.W.Int(0)
		return
	}
	if dstEntry != nil && dstEntry.Value.Type != keyspace.TypeSet {
		c.Error(ErrWrongType)
		return
	}
	member := c.Argv[3]
	if dstEntry == srcEntry {
		if src.ContainsBytes(member) {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
		return
	}
	if !src.Remove(member) {
		c.W.Int(0)
		return
	}
	c.Notify(NotifySet, "srem", c.Argv[1])
	setModified(c, srcEntry, src, c.Argv[1])
	c.Dirty(1)
	var dst *set.Set
	if dstEntry == nil {
		dst = set.New(string(member))
		dstEntry = c.DB.Add(c.Argv[2], setObject(dst))
	} else {
		dst = dstEntry.Value.Ptr.(*set.Set)
	}
	if dst.Add(string(member), setLimits(c)) {
		c.Dirty(1)
		c.Notify(NotifySet, "sadd", c.Argv[2])
	}
	setModified(c, dstEntry, dst, c.Argv[2])
	c.W.Int(1)
}

// lookupSets reads the sets of a set-algebra command (nil for a missing key); ok is
// false after replying WRONGTYPE for any key of another type.
func lookupSets(c *Ctx, keys [][]byte, write bool) ([]*set.Set, bool) {
	sets := make([]*set.Set, len(keys))
	for i, k := range keys {
		_, s, ok := lookupSet(c, k, write)
		if !ok {
			return nil, false
		}
		sets[i] = s
	}
	return sets, true
}

// storeSet stores the result of a STORE form at dst, or deletes dst when the result is
// empty, and replies with its size; event is the command's keyspace event.
func storeSet(c *Ctx, dst []byte, result *set.Set, event string) {
	if result.Len() == 0 {
		if c.DB.DeleteKey(dst) {
			c.Dirty(1)
			c.Notify(NotifyGeneric, "del", dst)
		}
		c.W.Int(0)
		return
	}
	c.DB.Set(dst, setObject(result), false)
	c.Dirty(1)
	c.Notify(NotifySet, event, dst)
	c.W.Int(int64(result.Len()))
}

// sinterGeneric is SINTER, SINTERSTORE, SINTERCARD and SMEMBERS (sinterGenericCommand).
func sinterGeneric(c *Ctx, keys [][]byte, dst []byte, cardOnly bool, limit int64) {
	sets, ok := lookupSets(c, keys, dst != nil)
	if !ok {
		return
	}
	switch {
	case cardOnly:
		var n int64
		set.Inter(sets, func(string) bool {
			n++
			return limit == 0 || n < limit
		})
		c.W.Int(n)
	case dst != nil:
		storeSet(c, dst, set.InterStore(sets, setLimits(c)), "sinterstore")
	default:
		var members []string
		set.Inter(sets, func(m string) bool { members = append(members, m); return true })
		c.W.SetLen(len(members))
		for _, m := range members {
			c.W.BulkString(m)
		}
	}
}

func cmdSInterCard(c *Ctx) {
	numkeys, ok := resp.ParseInt(c.Argv[1])
	if !ok || numkeys < 1 {
		c.Error("ERR numkeys should be greater than 0")
		return
	}
	if numkeys > int64(len(c.Argv)-2) {
		c.Error("ERR Number of keys can't be greater than number of args")
		return
	}
	var limit int64
	for j := 2 + int(numkeys); j < len(c.Argv); j++ {
		if Is(c.Argv[j], "limit") && j+1 < len(c.Argv) {
			j++
			if limit, ok = parsePositive(c, c.Argv[j], "ERR LIMIT can't be negative"); !ok {
				return
			}
			continue
		}
		c.Error(ErrSyntax)
		return
	}
	sinterGeneric(c, c.Argv[2:2+numkeys], nil, true, limit)
}

// sunionDiffGeneric is SUNION, SDIFF and their STORE forms (sunionDiffGenericCommand).
func sunionDiffGeneric(c *Ctx, keys [][]byte, dst []byte, op func([]*set.Set, set.Limits) *set.Set, event string) {
	sets, ok := lookupSets(c, keys, dst != nil)
	if !ok {
		return
	}
	result := op(sets, setLimits(c))
	if dst != nil {
		storeSet(c, dst, result, event)
		return
	}
	c.W.SetLen(result.Len())
	result.Each(func(m string) bool { c.W.BulkString(m); return true })
}

func cmdSScan(c *Ctx) {
	cursor, ok := parseScanCursor(c, c.Argv[2])
	if !ok {
		return
	}
	_, s, ok := lookupSet(c, c.Argv[1], false)
	if !ok {
		return
	}
	if s == nil {
		replyEmptyScan(c)
		return
	}
	opts, ok := parseScanOptions(c, 3)
	if !ok {
		return
	}
	var out []string
	next := s.Scan(cursor, opts.count, func(m string) {
		if opts.match(m) {
			out = append(out, m)
		}
	})
	replyScan(c, next, out)
}

// parseScanCursor reads a cursor as parseScanCursorOrReply does with strtoul: an
// optional sign (a negative cursor wraps around), decimal digits, nothing after them,
// no leading white space, no overflow.
func parseScanCursor(c *Ctx, arg []byte) (uint64, bool) {
	s := arg
	if i := indexNUL(s); i >= 0 {
		s = s[:i]
	}
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
		if len(s) == 0 {
			c.Error("ERR invalid cursor")
			return 0, false
		}
	}
	var n uint64
	for _, b := range s {
		if b < '0' || b > '9' {
			c.Error("ERR invalid cursor")
			return 0, false
		}
		d := uint64(b - '0')
		if n > (math.MaxUint64-d)/10 {
			c.Error("ERR invalid cursor")
			return 0, false
		}
		n = n*10 + d
	}
	if neg {
		n = -n
	}
	return n, true
}

func indexNUL(b []byte) int {
	for i, x := range b {
		if x == 0 {
			return i
		}
	}
	return -1
}

// scanOptions are the MATCH and COUNT options of HSCAN, SSCAN and ZSCAN.
type scanOptions struct {
	count   int
	pattern string
	usePat  bool
}

func (o *scanOptions) match(s string) bool {
	return !o.usePat || StringMatch(o.pattern, s, false)
}

// parseScanOptions parses MATCH and COUNT from argv[from] on, as scanGenericCommand
// does for a key's elements (TYPE is SCAN's only).
func parseScanOptions(c *Ctx, from int) (scanOptions, bool) {
	o := scanOptions{count: 10}
	for i := from; i < len(c.Argv); i += 2 {
		more := len(c.Argv) - i
		switch {
		case Is(c.Argv[i], "count") && more >= 2:
			n, ok := resp.ParseInt(c.Argv[i+1])
			if !ok {
				c.Error(ErrNotInt)
				return o, false
			}
			if n < 1 {
				c.Error(ErrSyntax)
				return o, false
			}
			o.count = int(min(n, 1<<30))
		case Is(c.Argv[i], "match") && more >= 2:
			o.pattern = string(c.Argv[i+1])
			o.usePat = o.pattern != "*"
		default:
			c.Error(ErrSyntax)
			return o, false
		}
	}
	return o, true
}

// replyScan writes a scan reply: the next cursor and the elements.
func replyScan(c *Ctx, next uint64, elems []string) {
	c.W.ArrayLen(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	replyStrings(c, elems)
}

// replyEmptyScan is shared.emptyscan: cursor 0, no elements.
func replyEmptyScan(c *Ctx) { replyScan(c, 0, nil) }
