package command

import (
	"strconv"

	"github.com/clusterctl/clusterctl/node/datatype/zset"
	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/resp"
)

// registerZSets adds the zsets commands to the table.
func registerZSets(t *Table) {
	t.Register("zadd", func(c *Ctx) { zaddGeneric(c, false) })
	t.Register("zincrby", func(c *Ctx) { zaddGeneric(c, true) })
	t.Register("zrem", cmdZRem)
	t.Register("zcard", cmdZCard)
	t.Register("zscore", cmdZScore)
	t.Register("zmscore", cmdZMScore)
	t.Register("zrank", func(c *Ctx) { zrankGeneric(c, false) })
	t.Register("zrevrank", func(c *Ctx) { zrankGeneric(c, true) })
	t.Register("zcount", func(c *Ctx) { zcountGeneric(c, false) })
	t.Register("zlexcount", func(c *Ctx) { zcountGeneric(c, true) })
	for name, rc := range map[string]zset.RangeCommand{
		"zrange": zset.ZRange, "zrangestore": zset.ZRangeStore, "zrevrange": zset.ZRevRange,
		"zrangebyscore": zset.ZRangeByScore, "zrevrangebyscore": zset.ZRevRangeByScore,
		"zrangebylex": zset.ZRangeByLex, "zrevrangebylex": zset.ZRevRangeByLex,
	} {
		rc := rc
		t.Register(name, func(c *Ctx) { zrangeGeneric(c, rc) })
	}
	t.Register("zremrangebyrank", func(c *Ctx) { zremrangeGeneric(c, zset.ByRank) })
	t.Register("zremrangebyscore", func(c *Ctx) { zremrangeGeneric(c, zset.ByScore) })
	t.Register("zremrangebylex", func(c *Ctx) { zremrangeGeneric(c, zset.ByLex) })
	t.Register("zpopmin", func(c *Ctx) { zpopMinMax(c, false) })
	t.Register("zpopmax", func(c *Ctx) { zpopMinMax(c, true) })
	t.Register("zmpop", cmdZMPop)
	t.Register("zunion", func(c *Ctx) { zsetAlgebra(c, zset.Union, false) })
	t.Register("zinter", func(c *Ctx) { zsetAlgebra(c, zset.Inter, false) })
	t.Register("zdiff", func(c *Ctx) { zsetAlgebra(c, zset.Diff, false) })
	t.Register("zunionstore", func(c *Ctx) { zsetAlgebra(c, zset.Union, true) })
	t.Register("zinterstore", func(c *Ctx) { zsetAlgebra(c, zset.Inter, true) })
	t.Register("zdiffstore", func(c *Ctx) { zsetAlgebra(c, zset.Diff, true) })
	t.Register("zintercard", cmdZInterCard)
	t.Register("zrandmember", cmdZRandMember)
	t.Register("zscan", cmdZScan)
}

// zsetLimits returns zset-max-listpack-entries and zset-max-listpack-value.
func (c *Ctx) zsetLimits() zset.Limits {
	return zset.Limits{
		MaxListpackEntries: int(c.Env.ZSetMaxListpackEntries.Load()),
		MaxListpackValue:   int(c.Env.ZSetMaxListpackValue.Load()),
	}
}

// zsetEncoding is the encoding OBJECT ENCODING reports for z.
func zsetEncoding(z *zset.ZSet) keyspace.Encoding {
	if z.IsListpack() {
		return keyspace.EncListpack
	}
	return keyspace.EncSkiplist
}

// zsetObject wraps a sorted set as a keyspace value.
func zsetObject(z *zset.ZSet) keyspace.Object {
	return keyspace.Object{Type: keyspace.TypeZSet, Enc: zsetEncoding(z), Ptr: z}
}

// lookupZSet returns the sorted set at key (nil when absent), looked up for a write
// command or a read one. ok is false after a WRONGTYPE reply (checkType).
func lookupZSet(c *Ctx, key []byte, write bool) (e *keyspace.Entry, z *zset.ZSet, ok bool) {
	if write {
		e = c.DB.LookupWriteKey(key)
	} else {
		e = c.DB.LookupRead(key)
	}
	if e == nil {
		return nil, nil, true
	}
	if e.Value.Type != keyspace.TypeZSet {
		c.Error(ErrWrongType)
		return nil, nil, false
	}
	return e, e.Value.Ptr.(*zset.ZSet), true
}

// zsetChanged follows an in-place change of the set of e: an emptied set loses its key
// (as Redis deletes it), otherwise the encoding and memory accounting are refreshed. It
// reports whether the key was deleted.
func zsetChanged(c *Ctx, e *keyspace.Entry, z *zset.ZSet) bool {
	if z.Len() == 0 {
		c.DB.Delete(e)
		return true
	}
	e.Value.Enc = zsetEncoding(z)
	c.DB.Modified(e)
	return false
}

// storeZSet stores a computed set at key, replacing any value and its TTL (setKey), or
// deletes key when the set is empty. It returns whether the keyspace changed.
func storeZSet(c *Ctx, key []byte, z *zset.ZSet) bool {
	if z.Len() == 0 {
		return c.DB.DeleteKey(key)
	}
	c.DB.Set(key, zsetObject(z), false)
	return true
}

// replyZEntries writes entries as the ZRANGE family does: members, each followed by its
// score with withScores, as [member, score] pairs in RESP3.
func replyZEntries(c *Ctx, es []zset.Entry, withScores bool) {
	nested := withScores && c.W.Proto >= 3
	switch {
	case nested || !withScores:
		c.W.ArrayLen(len(es))
	default:
		c.W.ArrayLen(2 * len(es))
	}
	for _, e := range es {
		if nested {
			c.W.ArrayLen(2)
		}
		c.W.BulkString(e.Member)
		if withScores {
			c.W.Double(e.Score)
		}
	}
}

// zaddGeneric is ZADD and ZINCRBY (zaddGenericCommand): every argument is checked before
// the key is looked up, then the pairs are applied in order.
func zaddGeneric(c *Ctx, incr bool) {
	a, err := zset.ParseZAdd(c.Argv[2:], incr)
	if err != nil {
		c.Error(err.Error())
		return
	}
	key := c.Argv[1]
	e, z, ok := lookupZSet(c, key, true)
	if !ok {
		return
	}
	lim := c.zsetLimits()
	var added, updated, processed int
	var score float64
	if z == nil && !a.Flags.XX {
		z = zset.Create(lim, len(a.Pairs[0].Member))
		e = c.DB.Add(key, zsetObject(z))
	}
	if z != nil {
		for _, p := range a.Pairs {
			res, s, err := z.Add(p.Member, p.Score, a.Flags, lim)
			if err != nil {
				// Only INCR can produce NaN, and it takes one pair: nothing changed.
				c.Error(err.Error())
				return
			}
			switch res {
			case zset.Added:
				added++
			case zset.Updated:
				updated++
			}
			if res != zset.Nop {
				processed++
				score = s
			}
		}
		zsetChanged(c, e, z)
	}
	if added+updated > 0 {
		c.Dirty(added + updated)
		if a.Flags.Incr {
			c.Notify(NotifyZset, "zincr", key)
		} else {
			c.Notify(NotifyZset, "zadd", key)
		}
	}
	switch {
	case a.Flags.Incr && processed == 0:
		c.W.Null()
	case a.Flags.Incr:
		c.W.Double(score)
	case a.CH:
		c.W.Int(int64(added + updated))
	default:
		c.W.Int(int64(added))
	}
}

func cmdZRem(c *Ctx) {
	key := c.Argv[1]
	e, z, ok := lookupZSet(c, key, true)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	deleted := 0
	for _, m := range c.Argv[2:] {
		if z.Remove(string(m)) {
			deleted++
			if z.Len() == 0 {
				break
			}
		}
	}
	if deleted > 0 {
		c.Notify(NotifyZset, "zrem", key)
		if zsetChanged(c, e, z) {
			c.Notify(NotifyGeneric, "del", key)
		}
		c.Dirty(deleted)
	}
	c.W.Int(int64(deleted))
}

func cmdZCard(c *Ctx) {
	_, z, ok := lookupZSet(c, c.Argv[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(z.Len()))
}

func cmdZScore(c *Ctx) {
	_, z, ok := lookupZSet(c, c.Argv[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.W.Null()
		return
	}
	if s, found := z.Score(string(c.Argv[2])); found {
		c.W.Double(s)
		return
	}
	c.W.Null()
}

func cmdZMScore(c *Ctx) {
	_, z, ok := lookupZSet(c, c.Argv[1], false)
	if !ok {
		return
	}
	c.W.ArrayLen(len(c.Argv) - 2)
	for _, m := range c.Argv[2:] {
		if z != nil {
			if s, found := z.Score(string(m)); found {
				c.W.Double(s)
				continue
			}
		}
		c.W.Null()
	}
}

func zrankGeneric(c *Ctx, reverse bool) {
	_, z, ok := lookupZSet(c, c.Argv[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.W.Null()
		return
	}
	if r, found := z.Rank(string(c.Argv[2]), reverse); found {
		c.W.Int(int64(r))
		return
	}
	c.W.Null()
}

// zcountGeneric is ZCOUNT and ZLEXCOUNT: the range is parsed before the key lookup.
func zcountGeneric(c *Ctx, lex bool) {
	var sr zset.ScoreRange
	var lr zset.LexRange
	var err error
	if lex {
		lr, err = zset.ParseLexRange(c.Argv[2], c.Argv[3])
	} else {
		sr, err = zset.ParseScoreRange(c.Argv[2], c.Argv[3])
	}
	if err != nil {
		c.Error(err.Error())
		return
	}
	_, z, ok := lookupZSet(c, c.Argv[1], false)
	if !ok {
		return
	}
	switch {
	case z == nil:
		c.W.Int(0)
	case lex:
		c.W.Int(int64(z.CountByLex(lr)))
	default:
		c.W.Int(int64(z.CountByScore(sr)))
	}
}

// zrangeGeneric is zrangeGenericCommand for every command of the ZRANGE family.
func zrangeGeneric(c *Ctx, rc zset.RangeCommand) {
	store := rc == zset.ZRangeStore
	src, rest := c.Argv[1], c.Argv[2:]
	if store {
		src, rest = c.Argv[2], c.Argv[3:]
	}
	q, err := zset.ParseRange(rc, rest)
	if err != nil {
		c.Error(err.Error())
		return
	}
	_, z, ok := lookupZSet(c, src, false)
	if !ok {
		return
	}
	var es []zset.Entry
	if z != nil {
		es = z.Range(q)
	}
	if !store {
		replyZEntries(c, es, q.WithScores)
		return
	}
	// The result starts as a listpack unless a rank range announces more members than
	// zset-max-listpack-entries (zrangeResultBeginStore); adding converts as usual.
	lim := c.zsetLimits()
	hint := -1
	if q.Type == zset.ByRank && z != nil {
		hint = len(es)
	}
	dst := zset.CreateSized(lim, hint)
	for _, e := range es {
		dst.Add(e.Member, e.Score, zset.AddFlags{}, lim)
	}
	dstKey := c.Argv[1]
	if storeZSet(c, dstKey, dst) {
		c.Dirty(1)
		if dst.Len() > 0 {
			c.Notify(NotifyZset, "zrangestore", dstKey)
		} else {
			c.Notify(NotifyGeneric, "del", dstKey)
		}
	}
	c.W.Int(int64(dst.Len()))
}

// zremrangeGeneric is ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX.
func zremrangeGeneric(c *Ctx, how zset.RangeType) {
	var start, end int64
	var sr zset.ScoreRange
	var lr zset.LexRange
	var err error
	switch how {
	case zset.ByRank:
		var ok1, ok2 bool
		start, ok1 = resp.ParseInt(c.Argv[2])
		end, ok2 = resp.ParseInt(c.Argv[3])
		if !ok1 || !ok2 {
			err = zset.ErrNotInteger
		}
	case zset.ByScore:
		sr, err = zset.ParseScoreRange(c.Argv[2], c.Argv[3])
	default:
		lr, err = zset.ParseLexRange(c.Argv[2], c.Argv[3])
	}
	if err != nil {
		c.Error(err.Error())
		return
	}
	key := c.Argv[1]
	e, z, ok := lookupZSet(c, key, true)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	var n int
	switch how {
	case zset.ByRank:
		if s, en, inRange := zset.ResolveRankRange(start, end, z.Len()); inRange {
			n = z.RemoveRangeByRank(s, en)
		}
	case zset.ByScore:
		n = z.RemoveRangeByScore(sr)
	default:
		n = z.RemoveRangeByLex(lr)
	}
	if n > 0 {
		c.Notify(NotifyZset, [...]string{"zremrangebyrank", "zremrangebyscore", "zremrangebylex"}[how], key)
		if zsetChanged(c, e, z) {
			c.Notify(NotifyGeneric, "del", key)
		}
		c.Dirty(n)
	}
	c.W.Int(int64(n))
}

// ZPOPMIN and ZPOPMAX reply shapes (genericZpopCommand's emitkey and use_nested_array).
type zpopReply struct {
	// emitKey puts the key first, as BZPOPMIN, BZPOPMAX, ZMPOP and BZMPOP do.
	emitKey bool
	// nested returns [member, score] pairs rather than a flat list.
	nested bool
}

var (
	argZPOPMIN = []byte("ZPOPMIN")
	argZPOPMAX = []byte("ZPOPMAX")
)

// zpopFrom pops up to count entries (count -1: a single one, without COUNT) from the set
// at key, which holds a sorted set, replies in the given shape, and signals the change.
// It is the body of genericZpopCommand once the key is chosen; the caller decides how
// the command replicates.
func zpopFrom(c *Ctx, key []byte, e *keyspace.Entry, z *zset.ZSet, max bool, count int64, shape zpopReply) {
	if count == -1 {
		count = 1
	}
	popped := z.Pop(int(min(count, int64(z.Len()))), max)
	switch {
	case shape.emitKey && shape.nested:
		c.W.ArrayLen(2)
		c.W.Bulk(key)
		c.W.ArrayLen(len(popped))
	case shape.emitKey:
		c.W.ArrayLen(2*len(popped) + 1)
		c.W.Bulk(key)
	case shape.nested:
		c.W.ArrayLen(len(popped))
	default:
		c.W.ArrayLen(2 * len(popped))
	}
	for _, p := range popped {
		if shape.nested {
			c.W.ArrayLen(2)
		}
		c.W.BulkString(p.Member)
		c.W.Double(p.Score)
	}
	if max {
		c.Notify(NotifyZset, "zpopmax", key)
	} else {
		c.Notify(NotifyZset, "zpopmin", key)
	}
	if zsetChanged(c, e, z) {
		c.Notify(NotifyGeneric, "del", key)
	}
	c.Dirty(len(popped))
}

// zpopFirst is genericZpopCommand over several keys: it pops from the first key that
// holds a sorted set, after a WRONGTYPE check of the keys up to it. With no such key it
// replies the null array (nilWhenEmpty) or an empty one, and returns the nil key.
func zpopFirst(c *Ctx, keys [][]byte, max bool, count int64, shape zpopReply, nilWhenEmpty bool) (popped []byte) {
	for _, key := range keys {
		e, z, ok := lookupZSet(c, key, true)
		if !ok {
			return nil
		}
		if z == nil {
			continue
		}
		if count == 0 {
			c.W.ArrayLen(0)
			return nil
		}
		zpopFrom(c, key, e, z, max, count, shape)
		return key
	}
	if nilWhenEmpty {
		c.W.NullArray()
	} else {
		c.W.ArrayLen(0)
	}
	return nil
}

func zpopMinMax(c *Ctx, max bool) {
	if len(c.Argv) > 3 {
		c.Error(ErrSyntax)
		return
	}
	count := int64(-1)
	if len(c.Argv) == 3 {
		n, ok := resp.ParseInt(c.Argv[2])
		if !ok || n < 0 {
			c.Error("ERR value is out of range, must be positive")
			return
		}
		count = n
	}
	// RESP3 nests the pairs when a count was given.
	zpopFirst(c, c.Argv[1:2], max, count, zpopReply{nested: c.W.Proto >= 3 && count != -1}, false)
}

// zmpopArgs are the arguments of ZMPOP and BZMPOP after numkeys.
type zmpopArgs struct {
	keys  [][]byte
	max   bool
	count int64
}

// parseZMPop parses ZMPOP (numkeysIdx 1) or BZMPOP (numkeysIdx 2) from numkeys on, as
// zmpopGenericCommand does, replying the error when the arguments are wrong.
func parseZMPop(c *Ctx, numkeysIdx int) (a zmpopArgs, ok bool) {
	numkeys, isInt := resp.ParseInt(c.Argv[numkeysIdx])
	if !isInt || numkeys < 1 {
		c.Error("ERR numkeys should be greater than 0")
		return a, false
	}
	whereIdx := int64(numkeysIdx) + numkeys + 1
	if whereIdx >= int64(len(c.Argv)) {
		c.Error(ErrSyntax)
		return a, false
	}
	switch where := c.Argv[whereIdx]; {
	case Is(where, "min"):
	case Is(where, "max"):
		a.max = true
	default:
		c.Error(ErrSyntax)
		return a, false
	}
	a.keys = c.Argv[numkeysIdx+1 : whereIdx]
	a.count = -1
	for j := int(whereIdx) + 1; j < len(c.Argv); j++ {
		if a.count == -1 && Is(c.Argv[j], "count") && j+1 < len(c.Argv) {
			j++
			n, isInt := resp.ParseInt(c.Argv[j])
			if !isInt || n < 1 {
				c.Error("ERR count should be greater than 0")
				return a, false
			}
			a.count = n
			continue
		}
		c.Error(ErrSyntax)
		return a, false
	}
	if a.count == -1 {
		a.count = 1
	}
	return a, true
}

func cmdZMPop(c *Ctx) {
	a, ok := parseZMPop(c, 1)
	if !ok {
		return
	}
	if key := zpopFirst(c, a.keys, a.max, a.count, zpopReply{emitKey: true, nested: true}, true); key != nil {
		c.rewriteZPop(key, a.max, a.count)
	}
}

// rewriteZPop replicates a pop as ZPOPMIN/ZPOPMAX key [count], as Redis rewrites ZMPOP,
// BZMPOP (count >= 1), BZPOPMIN and BZPOPMAX (count -1).
func (c *Ctx) rewriteZPop(key []byte, max bool, count int64) {
	name := argZPOPMIN
	if max {
		name = argZPOPMAX
	}
	if count == -1 {
		c.Rewrite(name, key)
		return
	}
	c.Rewrite(name, key, strconv.AppendInt(nil, count, 10))
}

// zpopReady serves a blocking pop (BZPOPMIN/BZPOPMAX with count -1, BZMPOP with count
// >= 1) from key once it holds elements, replying [key, member, score] or [key, [[member,
// score], ...]] and replicating as ZPOPMIN/ZPOPMAX. It reports false, without replying,
// when key holds no sorted set (missing, or of another type: the caller checks types
// before blocking, as blockingGenericZpopCommand does).
func zpopReady(c *Ctx, key []byte, max bool, count int64) bool {
	e := c.DB.LookupWriteKey(key)
	if e == nil || e.Value.Type != keyspace.TypeZSet {
		return false
	}
	z := e.Value.Ptr.(*zset.ZSet)
	zpopFrom(c, key, e, z, max, count, zpopReply{emitKey: true, nested: count != -1})
	c.rewriteZPop(key, max, count)
	return true
}

// setMembers is what a set value offers the sorted-set algebra, which scores each of its
// members 1.
type setMembers interface {
	Len() int
	ForEach(fn func(member string) bool)
	Contains(member string) bool
}

// zsetInput returns the sorted set or set at key as an input of ZUNION, ZINTER, ZDIFF
// and ZINTERCARD; ok is false after a WRONGTYPE reply.
func zsetInput(c *Ctx, key []byte, write bool) (in zset.Input, ok bool) {
	var e *keyspace.Entry
	if write {
		e = c.DB.LookupWriteKey(key)
	} else {
		e = c.DB.LookupRead(key)
	}
	if e == nil {
		return nil, true
	}
	switch v := e.Value.Ptr.(type) {
	case *zset.ZSet:
		if e.Value.Type == keyspace.TypeZSet {
			return v, true
		}
	case setMembers:
		if e.Value.Type == keyspace.TypeSet {
			return zset.PlainSet{Length: v.Len(), ForEach: v.ForEach, Contains: v.Contains}, true
		}
	}
	c.Error(ErrWrongType)
	return nil, false
}

// zsetInputs parses numkeys at argv[idx] and looks the keys up, in Redis's order.
func zsetInputs(c *Ctx, idx int, write bool) ([]zset.Input, bool) {
	n, err := zset.ParseNumKeys(c.Argv[idx], c.Cmd.Name, len(c.Argv)-idx-1)
	if err != nil {
		c.Error(err.Error())
		return nil, false
	}
	inputs := make([]zset.Input, n)
	for i := range inputs {
		var ok bool
		if inputs[i], ok = zsetInput(c, c.Argv[idx+1+i], write); !ok {
			return nil, false
		}
	}
	return inputs, true
}

// zsetAlgebra is zunionInterDiffGenericCommand for ZUNION, ZINTER, ZDIFF and their
// STORE forms.
func zsetAlgebra(c *Ctx, op zset.SetOp, store bool) {
	idx := 1
	if store {
		idx = 2
	}
	inputs, ok := zsetInputs(c, idx, store)
	if !ok {
		return
	}
	opts, err := zset.ParseSetOpOptions(op, len(inputs), store, false, c.Argv[idx+1+len(inputs):])
	if err != nil {
		c.Error(err.Error())
		return
	}
	res := zset.Combine(op, inputs, opts)
	if !store {
		replyZEntries(c, res.Entries(), opts.WithScores)
		return
	}
	dst := c.Argv[1]
	if res.Len() > 0 {
		res.ConvertToListpackIfNeeded(c.zsetLimits())
	}
	if storeZSet(c, dst, res) {
		c.Dirty(1)
		if res.Len() > 0 {
			c.Notify(NotifyZset, [...]string{"zunionstore", "zinterstore", "zdiffstore"}[op], dst)
		} else {
			c.Notify(NotifyGeneric, "del", dst)
		}
	}
	c.W.Int(int64(res.Len()))
}

func cmdZInterCard(c *Ctx) {
	inputs, ok := zsetInputs(c, 1, false)
	if !ok {
		return
	}
	opts, err := zset.ParseSetOpOptions(zset.Inter, len(inputs), false, true, c.Argv[2+len(inputs):])
	if err != nil {
		c.Error(err.Error())
		return
	}
	c.W.Int(zset.InterCard(inputs, opts.Limit))
}

const maxLong = 1<<63 - 1

func cmdZRandMember(c *Ctx) {
	if len(c.Argv) >= 3 {
		zrandMemberWithCount(c)
		return
	}
	_, z, ok := lookupZSet(c, c.Argv[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.W.Null()
		return
	}
	c.W.BulkString(z.Random().Member)
}

// zrandMemberWithCount is zrandmemberWithCountCommand: a negative count allows repeats,
// a count at least the set's size returns it whole in reverse order, a smaller one
// distinct random members.
func zrandMemberWithCount(c *Ctx) {
	l, ok := resp.ParseInt(c.Argv[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if l < -maxLong {
		c.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	}
	withScores := false
	switch {
	case len(c.Argv) > 4 || (len(c.Argv) == 4 && !Is(c.Argv[3], "withscores")):
		c.Error(ErrSyntax)
		return
	case len(c.Argv) == 4:
		withScores = true
		if l < -maxLong/2 || l > maxLong/2 {
			c.Error("ERR value is out of range")
			return
		}
	}
	_, z, ok := lookupZSet(c, c.Argv[1], false)
	if !ok {
		return
	}
	if z == nil || l == 0 {
		c.W.ArrayLen(0)
		return
	}
	count, unique := l, true
	if l < 0 {
		count, unique = -l, false
	}
	switch {
	case !unique || count == 1:
		nested := withScores && c.W.Proto >= 3
		if withScores && !nested {
			c.W.ArrayLen(int(2 * count))
		} else {
			c.W.ArrayLen(int(count))
		}
		for i := int64(0); i < count; i++ {
			e := z.Random()
			if nested {
				c.W.ArrayLen(2)
			}
			c.W.BulkString(e.Member)
			if withScores {
				c.W.Double(e.Score)
			}
		}
	case count >= int64(z.Len()):
		// The whole set, from the highest score as Redis 7.0 emits it.
		replyZEntries(c, z.RangeByRank(0, z.Len()-1, true), withScores)
	default:
		replyZEntries(c, z.RandomDistinct(int(count)), withScores)
	}
}

// cmdZScan is ZSCAN: the cursor is parsed first, then the key looked up, then the
// options (scanGenericCommand).
func cmdZScan(c *Ctx) {
	cursor, err := strconv.ParseUint(string(c.Argv[2]), 10, 64)
	if err != nil {
		c.Error("ERR invalid cursor")
		return
	}
	_, z, ok := lookupZSet(c, c.Argv[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.W.ArrayLen(2)
		c.W.BulkString("0")
		c.W.ArrayLen(0)
		return
	}
	count := int64(10)
	pattern, usePattern := "", false
	for i := 3; i < len(c.Argv); i += 2 {
		more := len(c.Argv) - i
		switch {
		case Is(c.Argv[i], "count") && more >= 2:
			n, isInt := resp.ParseInt(c.Argv[i+1])
			if !isInt {
				c.Error(ErrNotInt)
				return
			}
			if n < 1 {
				c.Error(ErrSyntax)
				return
			}
			count = n
		case Is(c.Argv[i], "match") && more >= 2:
			pattern = string(c.Argv[i+1])
			usePattern = pattern != "*"
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	var found []zset.Entry
	next := z.Scan(cursor, count, func(e zset.Entry) {
		if !usePattern || StringMatch(pattern, e.Member, false) {
			found = append(found, e)
		}
	})
	listpack := z.IsListpack()
	c.W.ArrayLen(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	c.W.ArrayLen(2 * len(found))
	var buf []byte
	for _, e := range found {
		c.W.BulkString(e.Member)
		buf = zset.AppendScanScore(buf[:0], e.Score, listpack)
		c.W.Bulk(buf)
	}
}
