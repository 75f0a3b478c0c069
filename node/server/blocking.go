package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/clusterctl/clusterctl/node/command"
	"github.com/clusterctl/clusterctl/node/hashslot"
	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/resp"
)

// farFuture bounds the timeouts waited on with a timer: a deadline further away (a
// timeout of years) is waited on forever, as its time would overflow time.Time's
// arithmetic.
const farFuture = 100 * 365 * 24 * 3600 * 1000

// Blocked clients (blocked.c): BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, ...
//
// A blocking command that cannot be served calls Ctx.Block; the dispatcher then
// registers the client on each of its keys, while it still holds the keys' shards, so a
// write that follows cannot miss it. The client's goroutine parks in waitBlocked, which
// stops reading commands (a pipeline behind the blocking command waits) but notices the
// connection closing.
//
// A write signals its keys as ready (Events.KeyReady, from the dispatcher or handlers);
// the goroutine that ran the write, once the command, EXEC or script is over and its
// shards are unlocked, serves the ready keys (handleClientsBlockedOnKeys): for each key,
// the clients blocked on it in the order they blocked, each one whose key now holds the
// type it waits for is handed the key and re-runs its command on its own goroutine
// while the server waits for it. A re-run that blocks again leaves the client in its
// place; one that is served replies and leaves every queue. One goroutine serves at a
// time (serveMu), so clients blocked on one key are served first come, first served.

// blockedClient is one client's wait.
type blockedClient struct {
	c    *client
	cmd  *command.Command
	req  command.BlockRequest
	keys []watchKey
	// retry hands the client a ready key; the client answers on retried once it has run
	// its command again.
	retry   chan struct{}
	retried chan struct{}
	// unblock ends the wait from outside: CLIENT UNBLOCK, or a deleted stream under
	// XREADGROUP. An empty message replies as a timeout, another one is the error.
	unblock chan string
	// done is closed when the client stops waiting, whatever the reason.
	done chan struct{}
}

// blockingState is the server's table of blocked clients and ready keys.
type blockingState struct {
	// mu guards keys and ready.
	mu sync.Mutex
	// keys lists the clients blocked on each key, in the order they blocked.
	keys map[watchKey][]*blockedClient
	// ready lists the keys signalled since they were last served (server.ready_keys);
	// readySet dedups it.
	ready    []watchKey
	readySet map[watchKey]struct{}
	// count is the number of blocked clients (blocked_clients); pending mirrors
	// len(ready) > 0 for the lock-free check after every command.
	count   atomic.Int64
	pending atomic.Bool
	// serveMu makes one goroutine at a time serve ready keys.
	serveMu sync.Mutex
}

// keyReady records that key may serve blocked clients (signalKeyAsReady).
func (b *blockingState) keyReady(db int, key []byte) {
	if b.count.Load() == 0 {
		return
	}
	b.mu.Lock()
	k := watchKey{db, string(key)}
	if _, ok := b.keys[k]; ok {
		if _, dup := b.readySet[k]; !dup {
			if b.readySet == nil {
				b.readySet = map[watchKey]struct{}{}
			}
			b.readySet[k] = struct{}{}
			b.ready = append(b.ready, k)
			b.pending.Store(true)
		}
	}
	b.mu.Unlock()
}

// dbReady marks every key with blocked clients in db (every db for -1) as ready, after
// FLUSHDB, FLUSHALL or SWAPDB (scanDatabaseForReadyKeys, scanDatabaseForDeletedKeys).
func (b *blockingState) dbReady(db int) {
	if b.count.Load() == 0 {
		return
	}
	b.mu.Lock()
	for k := range b.keys {
		if db >= 0 && k.db != db {
			continue
		}
		if _, dup := b.readySet[k]; !dup {
			if b.readySet == nil {
				b.readySet = map[watchKey]struct{}{}
			}
			b.readySet[k] = struct{}{}
			b.ready = append(b.ready, k)
			b.pending.Store(true)
		}
	}
	b.mu.Unlock()
}

// blockClient registers c as blocked on the keys of req; the shards of the keys are
// held by the caller (blockForKeys).
func (s *Server) blockClient(c *client, cmd *command.Command, req *command.BlockRequest, db int) {
	bc := &blockedClient{
		c: c, cmd: cmd, req: *req,
		retry: make(chan struct{}), retried: make(chan struct{}, 1),
		unblock: make(chan string, 1), done: make(chan struct{}),
	}
	b := &s.blocking
	b.mu.Lock()
	if b.keys == nil {
		b.keys = map[watchKey][]*blockedClient{}
	}
	for _, key := range req.Keys {
		k := watchKey{db, string(key)}
		dup := false
		for _, x := range bc.keys {
			if x == k {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		bc.keys = append(bc.keys, k)
		b.keys[k] = append(b.keys[k], bc)
	}
	b.mu.Unlock()
	b.count.Add(1)
	c.blocked = bc
	c.blockedNow.Store(bc)
	c.setFlag(flagBlocked, true)
}

// unblockClient removes bc from every queue (unblockClient).
func (s *Server) unblockClient(bc *blockedClient) {
	b := &s.blocking
	b.mu.Lock()
	for _, k := range bc.keys {
		q := b.keys[k]
		for i, x := range q {
			if x == bc {
				q = append(q[:i:i], q[i+1:]...)
				break
			}
		}
		if len(q) == 0 {
			delete(b.keys, k)
		} else {
			b.keys[k] = q
		}
	}
	b.mu.Unlock()
	b.count.Add(-1)
	c := bc.c
	c.blocked = nil
	c.blockedNow.Store(nil)
	c.setFlag(flagBlocked, false)
	close(bc.done)
}

// waitBlocked parks the client's goroutine until its blocking command is served, times
// out, is cancelled by CLIENT UNBLOCK or the connection closes.
func (s *Server) waitBlocked(c *client) {
	bc := c.blocked
	defer func() {
		// A panic while re-running the command must not leave the client registered.
		if c.blocked == bc {
			s.unblockClient(bc)
		}
	}()
	c.flush() // replies of the commands before the blocking one go out now
	var timeout <-chan time.Time
	if d := bc.req.Deadline; d > 0 && d < s.wallMs(s.monoNow())+farFuture {
		wait := time.Until(time.UnixMilli(d))
		t := time.NewTimer(max(wait, 0))
		defer t.Stop()
		timeout = t.C
	}
	closed := c.watchClose()
	defer c.stopWatchClose()
	for {
		select {
		case <-bc.retry:
			served := s.retryBlocked(c, bc)
			bc.retried <- struct{}{} // buffered: the server may have moved on
			if served {
				s.unblockClient(bc)
				return
			}
		case <-timeout:
			s.unblockClient(bc)
			c.w.NullArray() // replyToBlockedClientTimedOut
			return
		case msg := <-bc.unblock:
			s.unblockClient(bc)
			if msg != "" {
				c.w.Error(msg)
				s.env.Errors.Record(msg)
			} else {
				c.w.NullArray()
			}
			return
		case <-closed:
			s.unblockClient(bc)
			return
		}
	}
}

// retryBlocked runs a blocked client's command again with its keys' shards locked and
// reports whether it was served; when it blocks again the client keeps its place.
func (s *Server) retryBlocked(c *client, bc *blockedClient) (served bool) {
	ctx := &c.ctx
	ctx.Begin(bc.req.Argv, bc.cmd, s.wallMs(s.monoNow()), !s.ks.Stream().Active())
	mask, locked := ctx.KeyMask()
	if bc.cmd.Exclusive {
		mask, locked = keyspace.AllShards, true
	}
	mark := c.w.Buffered()
	if locked {
		s.ks.LockShards(mask)
		defer s.ks.UnlockShards(mask)
	}
	bc.cmd.Handler(ctx)
	if ctx.BlockRequested() != nil {
		c.w.Truncate(mark)
		return false
	}
	ctx.Finish()
	s.ks.Stream().Commit(&ctx.Effects)
	if len(ctx.Effects.Ops) > 0 {
		c.aofSync = s.aofSyncPoint()
	}
	return true
}

// handleBlockedOnKeys serves the clients blocked on the keys signalled ready, until no
// key is ready; the caller holds no shard.
func (s *Server) handleBlockedOnKeys() {
	b := &s.blocking
	b.serveMu.Lock()
	defer b.serveMu.Unlock()
	for {
		b.mu.Lock()
		ready := b.ready
		b.ready = nil
		clear(b.readySet)
		b.pending.Store(false)
		b.mu.Unlock()
		if len(ready) == 0 {
			return
		}
		for _, k := range ready {
			s.serveKey(k)
		}
	}
}

// serveKey offers a ready key to the clients blocked on it, in the order they blocked.
func (s *Server) serveKey(k watchKey) {
	b := &s.blocking
	b.mu.Lock()
	waiters := append([]*blockedClient(nil), b.keys[k]...)
	b.mu.Unlock()
	key := []byte(k.key)
	for _, bc := range waiters {
		typ, exists := s.keyType(k.db, key)
		if !exists && bc.req.UnblockOnNoKey {
			// XREADGROUP: the stream was deleted under the waiting client.
			select {
			case bc.unblock <- "UNBLOCKED the stream key no longer exists":
			default:
			}
			continue
		}
		// A group read re-runs when the key changed type, to reply WRONGTYPE.
		if !exists || (typ != bc.req.Type && !bc.req.UnblockOnNoKey) {
			continue
		}
		select {
		case bc.retry <- struct{}{}:
			select {
			case <-bc.retried:
			case <-bc.done:
			}
		case <-bc.done:
		}
	}
}

// keyType returns the type of the live value at key, locking its shard.
func (s *Server) keyType(db int, key []byte) (keyspace.Type, bool) {
	h := s.ks.DB(db, s.wallMs(s.monoNow()), nil)
	mask := keyspace.ShardMask(hashslot.Of(key))
	s.ks.LockShards(mask)
	defer s.ks.UnlockShards(mask)
	e := h.Lookup(key, keyspace.LookupNoTouch|keyspace.LookupNoStats|keyspace.LookupNoExpire)
	if e == nil {
		return 0, false
	}
	return e.Value.Type, true
}

// watchClose starts noticing the connection closing while the client is blocked: a
// goroutine waits for input on the connection's read buffer. Input that arrives is kept
// for after the wait (a pipeline behind the blocking command); an error means the peer
// is gone. stopWatchClose ends the goroutine before the client reads again.
func (c *client) watchClose() <-chan struct{} {
	closed := make(chan struct{})
	br := c.r.BufioReader()
	if br.Buffered() > 0 {
		return closed // input pending: nothing to learn until it is processed
	}
	done := make(chan struct{})
	c.closeWatch = done
	go func() {
		defer close(done)
		if _, err := br.Peek(1); err != nil && !isTimeout(err) {
			close(closed)
		}
	}()
	return closed
}

func (c *client) stopWatchClose() {
	done := c.closeWatch
	if done == nil {
		return
	}
	c.closeWatch = nil
	select {
	case <-done:
	default:
		// Wake the reader with an expired deadline, then clear it.
		c.conn.SetReadDeadline(time.Unix(1, 0))
		<-done
		c.conn.SetReadDeadline(time.Time{})
	}
}

func isTimeout(err error) bool {
	type timeout interface{ Timeout() bool }
	t, ok := err.(timeout)
	return ok && t.Timeout()
}

// cmdClientUnblock is CLIENT UNBLOCK id [TIMEOUT|ERROR].
func (s *Server) cmdClientUnblock(c *command.Ctx) {
	id, ok := resp.ParseInt(c.Argv[2])
	if !ok {
		c.Error(command.ErrNotInt)
		return
	}
	msg := ""
	if len(c.Argv) == 4 {
		switch {
		case command.Is(c.Argv[3], "timeout"):
		case command.Is(c.Argv[3], "error"):
			msg = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
		default:
			c.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	} else if len(c.Argv) > 4 {
		c.Error(command.ErrSyntax)
		return
	}
	s.clientsMu.Lock()
	target := s.clients[id]
	s.clientsMu.Unlock()
	if target == nil {
		c.W.Int(0)
		return
	}
	bc := target.blockedNow.Load()
	if bc == nil {
		c.W.Int(0)
		return
	}
	select {
	case bc.unblock <- msg:
	default:
	}
	c.W.Int(1)
}
