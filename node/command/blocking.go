package command

import (
	"math"
	"math/big"

	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/resp"
)

// BlockRequest is how a blocking command (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, ...) that
// cannot be served now asks to wait. The server parks the client and, each time one of
// Keys may serve it (a write to the key, signalled by the dispatcher after every write
// command or by SignalKeyReady), runs the command again with the same arguments, clients
// blocked on a key served first come first served. A run that calls Block again leaves the
// client waiting in its place; any reply it wrote is dropped.
type BlockRequest struct {
	// Keys are the keys to wait on, in the client's database.
	Keys [][]byte
	// Type is the value type that can serve the command: a key is retried only once it
	// holds a value of this type (a list for BLPOP, a sorted set for BZPOPMIN, a stream
	// for XREAD), as Redis 7.0 ignores a key set to another type meanwhile.
	Type keyspace.Type
	// Deadline is when the wait times out, in unix milliseconds; 0 waits forever (see
	// ParseTimeout). On timeout the client gets a null array (replyToBlockedClientTimedOut).
	Deadline int64
	// Argv, when set, replaces the command's arguments for the retries: XREAD BLOCK turns
	// "$" into the stream's last ID before waiting, so entries added later are returned.
	Argv [][]byte
	// UnblockOnNoKey ends the wait with "-UNBLOCKED the stream key no longer exists" when
	// a key is deleted, and retries the command when its type changes (XREADGROUP).
	UnblockOnNoKey bool
}

// Block asks the server to block the client until req is served, times out or is
// cancelled (CLIENT UNBLOCK, disconnection); the handler then returns without replying.
// The keys and arguments are copied. Block reports false when the client may not block:
// inside MULTI/EXEC or a script, where Redis runs a blocking command as a non-blocking
// one; the handler must then reply as on a timeout (a null array for BLPOP, a null for
// BLMOVE).
func (c *Ctx) Block(req BlockRequest) bool {
	if c.denyBlocking {
		return false
	}
	keys := make([][]byte, len(req.Keys))
	for i, k := range req.Keys {
		keys[i] = append([]byte(nil), k...)
	}
	req.Keys = keys
	argv := req.Argv
	if argv == nil {
		argv = c.Argv
	}
	req.Argv = make([][]byte, len(argv))
	for i, a := range argv {
		req.Argv[i] = append([]byte(nil), a...)
	}
	c.block = &req
	return true
}

// BlockRequested returns the request of the last Block call of the running command, nil
// when the command did not block. The server reads it after the handler.
func (c *Ctx) BlockRequested() *BlockRequest { return c.block }

// DenyBlocking makes Block refuse (CLIENT_DENY_BLOCKING): the server sets it while it
// runs EXEC and scripts.
func (c *Ctx) DenyBlocking(deny bool) { c.denyBlocking = deny }

// BlockingDenied reports whether Block refuses now.
func (c *Ctx) BlockingDenied() bool { return c.denyBlocking }

// SignalKeyReady tells clients blocked on key (in the client's database) that it may
// serve them (signalKeyAsReady). The dispatcher already signals every key of a write
// command that changed something; handlers call this for keys they write that are not
// among their key arguments.
func (c *Ctx) SignalKeyReady(key []byte) { c.SignalKeyReadyIn(c.DB.Index, key) }

// SignalKeyReadyIn is SignalKeyReady for a key of another database (MOVE, COPY ... DB).
func (c *Ctx) SignalKeyReadyIn(db int, key []byte) {
	if c.Env != nil && c.Env.Events != nil && c.Env.Events.BlockingActive() {
		c.Env.Events.KeyReady(db, key)
	}
}

// signalWrittenKeys is the dispatcher's part of signalModifiedKey and signalKeyAsReady:
// after a command that changed something, every key its key specs mark as written (RW,
// OW or RM) is modified for WATCH and may serve a blocked client. Handlers also call
// Notify where Redis does; this catches the writes that do not notify, so WATCH never
// misses a change. Retrying a blocked client whose key did not become servable costs a
// lookup and leaves it waiting.
func (c *Ctx) signalWrittenKeys() {
	ev := c.Env.Events
	if ev == nil {
		return
	}
	watch, block := ev.WatchActive(), ev.BlockingActive()
	if !watch && !block {
		return
	}
	for i := range c.Cmd.keySpecs {
		ks := &c.Cmd.keySpecs[i]
		if ks.notKey || !specWrites(ks) {
			continue
		}
		positions, _ := ks.positions(c.Argv, c.keyPos[:0])
		c.keyPos = positions
		for _, p := range positions {
			if watch {
				ev.KeyModified(c.DB.Index, c.Argv[p])
			}
			if block {
				ev.KeyReady(c.DB.Index, c.Argv[p])
			}
		}
	}
}

// specWrites reports whether a key spec's keys are written (flags RW, OW or RM).
func specWrites(ks *keySpec) bool {
	for _, f := range ks.Flags {
		if f == "RW" || f == "OW" || f == "RM" {
			return true
		}
	}
	return false
}

// Timeout units of ParseTimeout.
const (
	TimeoutSeconds      = iota // BLPOP, BZPOPMIN, ...: a float number of seconds
	TimeoutMilliseconds        // XREAD BLOCK, WAIT: an integer number of milliseconds
)

// ParseTimeout parses a blocking command's timeout argument into a deadline in unix
// milliseconds, 0 for none (getTimeoutFromObjectOrReply), and replies with Redis's error
// when it is invalid. Seconds are a long double as strtold reads them ("0x10", "1e3");
// the product by 1000 is truncated toward zero, so 0.0001 means forever, and a value
// beyond the range of a long long wraps to negative, as on Redis's x86-64 builds.
func (c *Ctx) ParseTimeout(arg []byte, unit int) (deadline int64, ok bool) {
	var ms int64
	if unit == TimeoutSeconds {
		f, ok := parseLongDouble(arg)
		if !ok {
			c.Error("ERR timeout is not a float or out of range")
			return 0, false
		}
		ms = longDoubleMillis(f)
	} else {
		n, ok := resp.ParseInt(arg)
		if !ok {
			c.Error("ERR timeout is not an integer or out of range")
			return 0, false
		}
		ms = n
	}
	if ms < 0 {
		c.Error("ERR timeout is negative")
		return 0, false
	}
	if ms > 0 {
		if ms > math.MaxInt64-c.DB.Now {
			return math.MaxInt64, true // so far away that it never comes
		}
		ms += c.DB.Now
	}
	return ms, true
}

// longDoubleMillis is (long long)(f * 1000.0): truncated toward zero, with infinities and
// values out of range becoming LLONG_MIN as x86-64's conversion makes them.
func longDoubleMillis(f *big.Float) int64 {
	if f.IsInf() {
		return math.MinInt64
	}
	ms := new(big.Float).SetPrec(longDoublePrec).Mul(f, big.NewFloat(1000))
	n, acc := ms.Int64()
	if (acc == big.Below && n == math.MaxInt64) || (acc == big.Above && n == math.MinInt64) {
		return math.MinInt64
	}
	return n
}

// registerBlocking adds the blocking list and sorted set commands.
func registerBlocking(t *Table) {
	t.Register("blpop", func(c *Ctx) { blockingPop(c, true) })
	t.Register("brpop", func(c *Ctx) { blockingPop(c, false) })
	t.Register("brpoplpush", func(c *Ctx) { blockingMove(c, false, true, 3) })
	t.Register("blmove", cmdBLMove)
	t.Register("blmpop", cmdBLMPop)
	t.Register("bzpopmin", func(c *Ctx) { blockingZPop(c, false) })
	t.Register("bzpopmax", func(c *Ctx) { blockingZPop(c, true) })
	t.Register("bzmpop", cmdBZMPop)
}

// blockOrTimeout blocks the client on keys until deadline; where blocking is denied
// (MULTI, scripts) it replies as a timeout does, with the null array.
func blockOrTimeout(c *Ctx, keys [][]byte, t keyspace.Type, deadline int64) {
	if !c.Block(BlockRequest{Keys: keys, Type: t, Deadline: deadline}) {
		c.W.NullArray()
	}
}

// blockingPop is BLPOP and BRPOP (blockingPopGenericCommand): pop one element from the
// first non-empty list, replying [key, element] and replicating as LPOP/RPOP key.
func blockingPop(c *Ctx, head bool) {
	last := len(c.Argv) - 1
	deadline, ok := c.ParseTimeout(c.Argv[last], TimeoutSeconds)
	if !ok {
		return
	}
	keys := c.Argv[1:last]
	for _, key := range keys {
		e, l, ok := LookupList(c, key, true)
		if !ok {
			return
		}
		if l == nil || l.Len() == 0 {
			continue
		}
		elem := ListPop(c, e, l, key, head, 1)[0]
		c.W.ArrayLen(2)
		c.W.Bulk(key)
		c.W.BulkString(elem)
		if head {
			c.Rewrite(argLPOP, key)
		} else {
			c.Rewrite(argRPOP, key)
		}
		return
	}
	blockOrTimeout(c, keys, keyspace.TypeList, deadline)
}

func cmdBLMove(c *Ctx) {
	from, ok := parseWhere(c, c.Argv[3])
	if !ok {
		return
	}
	to, ok := parseWhere(c, c.Argv[4])
	if !ok {
		return
	}
	blockingMove(c, from, to, 5)
}

var argLMOVE, argRPOPLPUSH = []byte("LMOVE"), []byte("RPOPLPUSH")

// blockingMove is BLMOVE and BRPOPLPUSH (blmoveGenericCommand): they replicate as LMOVE
// and RPOPLPUSH. Inside MULTI an empty source replies a null bulk string.
func blockingMove(c *Ctx, fromHead, toHead bool, timeoutIdx int) {
	deadline, ok := c.ParseTimeout(c.Argv[timeoutIdx], TimeoutSeconds)
	if !ok {
		return
	}
	src, dst := c.Argv[1], c.Argv[2]
	e, l, ok := LookupList(c, src, true)
	if !ok {
		return
	}
	if l == nil || l.Len() == 0 {
		if !c.Block(BlockRequest{Keys: [][]byte{src}, Type: keyspace.TypeList, Deadline: deadline}) {
			c.W.Null()
		}
		return
	}
	elem, ok := ListMove(c, e, l, src, dst, fromHead, toHead)
	if !ok {
		return
	}
	c.W.BulkString(elem)
	if timeoutIdx == 3 {
		c.Rewrite(argRPOPLPUSH, src, dst)
	} else {
		c.Rewrite(argLMOVE, src, dst, c.Argv[3], c.Argv[4])
	}
}

// cmdBLMPop is BLMPOP timeout numkeys key... LEFT|RIGHT [COUNT count].
func cmdBLMPop(c *Ctx) {
	a, ok := ParseMPop(c, 2)
	if !ok {
		return
	}
	deadline, ok := c.ParseTimeout(c.Argv[1], TimeoutSeconds)
	if !ok {
		return
	}
	if mpopFirstList(c, a) {
		return
	}
	blockOrTimeout(c, a.Keys, keyspace.TypeList, deadline)
}

// blockingZPop is BZPOPMIN and BZPOPMAX (blockingGenericZpopCommand): [key, member,
// score] from the first non-empty sorted set, replicated as ZPOPMIN/ZPOPMAX key.
func blockingZPop(c *Ctx, max bool) {
	last := len(c.Argv) - 1
	deadline, ok := c.ParseTimeout(c.Argv[last], TimeoutSeconds)
	if !ok {
		return
	}
	keys := c.Argv[1:last]
	if zpopBlocking(c, keys, max, -1) {
		return
	}
	blockOrTimeout(c, keys, keyspace.TypeZSet, deadline)
}

// cmdBZMPop is BZMPOP timeout numkeys key... MIN|MAX [COUNT count].
func cmdBZMPop(c *Ctx) {
	a, ok := parseZMPop(c, 2)
	if !ok {
		return
	}
	deadline, ok := c.ParseTimeout(c.Argv[1], TimeoutSeconds)
	if !ok {
		return
	}
	if zpopBlocking(c, a.keys, a.max, a.count) {
		return
	}
	blockOrTimeout(c, a.keys, keyspace.TypeZSet, deadline)
}

// zpopBlocking serves a blocking sorted-set pop from the first key holding a sorted set,
// after checking the types of the keys before it; it reports whether it replied (served
// or WRONGTYPE).
func zpopBlocking(c *Ctx, keys [][]byte, max bool, count int64) bool {
	for _, key := range keys {
		e, ok := lookupKind(c, key, keyspace.TypeZSet, true)
		if !ok {
			return true
		}
		if e == nil {
			continue
		}
		return zpopReady(c, key, max, count)
	}
	return false
}

// xreadBlock blocks XREAD or XREADGROUP ... BLOCK ms on its streams (blockForKeys with
// BLOCKED_STREAM). "$" is replaced by each stream's last ID in the arguments the command
// is re-run with, so entries added while it waits are the ones returned. A group read
// ends with an error when its stream is deleted. Where blocking is denied it replies
// the null array.
func xreadBlock(c *Ctx, req xreadRequest) {
	var deadline int64
	if ms := req.args.Block; ms > 0 {
		deadline = math.MaxInt64
		if ms <= math.MaxInt64-c.DB.Now {
			deadline = c.DB.Now + ms
		}
	}
	argv := c.Argv
	if !req.group {
		argv = make([][]byte, len(c.Argv))
		copy(argv, c.Argv)
		first := len(c.Argv) - len(req.args.IDs)
		for i, id := range req.args.IDs {
			if string(id) == "$" {
				argv[first+i] = req.ids[i].After.Append(nil)
			}
		}
	}
	if !c.Block(BlockRequest{Keys: req.args.Keys, Type: keyspace.TypeStream, Deadline: deadline,
		Argv: argv, UnblockOnNoKey: req.group}) {
		c.W.NullArray()
	}
}
