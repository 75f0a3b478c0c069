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

// signalWrittenKeys is the dispatcher's part of signalKeyAsReady: after a command that
// changed something, every key argument may serve a blocked client. Retrying a client
// whose key did not become servable costs a lookup and leaves it waiting.
func (c *Ctx) signalWrittenKeys() {
	if c.Env == nil || c.Env.Events == nil || !c.Env.Events.BlockingActive() {
		return
	}
	positions, _ := c.Cmd.KeyPositions(c.Argv, c.keyPos)
	c.keyPos = positions
	for _, p := range positions {
		c.Env.Events.KeyReady(c.DB.Index, c.Argv[p])
	}
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
