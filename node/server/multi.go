package server

import (
	"sync"
	"sync/atomic"

	"github.com/clusterctl/clusterctl/node/command"
	"github.com/clusterctl/clusterctl/node/effects"
	"github.com/clusterctl/clusterctl/node/hashslot"
	"github.com/clusterctl/clusterctl/node/keyspace"
)

// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (multi.c).
//
// Between MULTI and EXEC the dispatcher queues commands instead of running them, after
// the checks a command passes before running (existence, arity, ACL, OOM): a command
// refused there marks the transaction, and EXEC then answers -EXECABORT. EXEC locks the
// shards of every queued command's keys and of the WATCHed keys at once, in ascending
// order, and runs the queue with them held (DB.Held), so no other client sees or changes
// those keys in between; a queued command that spans the keyspace (FLUSHALL, KEYS, EVAL,
// SORT) makes it lock every shard. Blocking commands run as non-blocking ones. The
// effects of the queued commands are committed as one batch, which replicas and the AOF
// replay as one MULTI/EXEC unit.
//
// WATCH registers keys in a server-wide table. Any change to a watched key (a command's
// Notify, the write flags of its key specs, FLUSHDB/FLUSHALL/SWAPDB) marks the clients
// watching it; EXEC of a marked client replies a null array and runs nothing. A key that
// existed when watched and is gone at EXEC (expired meanwhile) also fails the EXEC, as
// Redis 7.0's isWatchedKeyExpired.

// multiState is a client's transaction between MULTI and EXEC/DISCARD (multiState).
type multiState struct {
	queue []queuedCommand
	// aborted is CLIENT_DIRTY_EXEC: a command was refused while queueing.
	aborted bool
	// fx collects the effects of the queued commands while EXEC runs them.
	fx effects.Batch
	// probe extracts the keys of queued commands for EXEC's lock mask.
	probe command.Ctx
}

// queuedCommand is one command of a transaction, its arguments copied out of the
// connection's read buffer.
type queuedCommand struct {
	cmd  *command.Command
	argv [][]byte
}

// watchKey names one watched key.
type watchKey struct {
	db  int
	key string
}

// watchedKey is a key a client watches, with whether it existed then (for the expiry
// check at EXEC).
type watchedKey struct {
	watchKey
	existed bool
}

// watchLookup finds a live key without side effects: no lazy deletion, no LRU touch,
// no hit or miss counted.
const watchLookup = keyspace.LookupNoTouch | keyspace.LookupNoStats | keyspace.LookupNoExpire

// watchTable is the server's WATCH registry (db->watched_keys).
type watchTable struct {
	// mu guards keys.
	mu   sync.Mutex
	keys map[watchKey]map[*client]struct{}
	// n is len(keys), read without the lock on every write command.
	n atomic.Int64
}

// touch marks the clients watching key as dirty (touchWatchedKey).
func (w *watchTable) touch(db int, key []byte) {
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	for c := range w.keys[watchKey{db, string(key)}] {
		c.dirtyCAS.Store(true)
	}
	w.mu.Unlock()
}

// touchDB marks every client watching a key of db (every database for -1) as dirty, for
// FLUSHDB, FLUSHALL and SWAPDB (touchAllWatchedKeysInDb). Redis spares keys that did not
// exist on either side; here every watched key of the database counts as changed.
func (w *watchTable) touchDB(db int) {
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	for k, clients := range w.keys {
		if db >= 0 && k.db != db {
			continue
		}
		for c := range clients {
			c.dirtyCAS.Store(true)
		}
	}
	w.mu.Unlock()
}

func (w *watchTable) add(c *client, k watchKey) {
	w.mu.Lock()
	if w.keys == nil {
		w.keys = map[watchKey]map[*client]struct{}{}
	}
	set := w.keys[k]
	if set == nil {
		set = map[*client]struct{}{}
		w.keys[k] = set
		w.n.Add(1)
	}
	set[c] = struct{}{}
	w.mu.Unlock()
}

// unwatchAll forgets every key c watches and clears its dirty mark (unwatchAllKeys).
func (s *Server) unwatchAll(c *client) {
	if len(c.watched) > 0 {
		w := &s.watches
		w.mu.Lock()
		for _, k := range c.watched {
			if set := w.keys[k.watchKey]; set != nil {
				delete(set, c)
				if len(set) == 0 {
					delete(w.keys, k.watchKey)
					w.n.Add(-1)
				}
			}
		}
		w.mu.Unlock()
		c.watched = c.watched[:0]
	}
	c.dirtyCAS.Store(false)
}

func (s *Server) registerMultiCommands() {
	t := s.table
	t.Register("multi", s.cmdMulti)
	t.Register("exec", s.cmdExec)
	t.Register("discard", s.cmdDiscard)
	t.Register("watch", s.cmdWatch)
	t.Register("unwatch", func(c *command.Ctx) { s.unwatchAll(client0(c)); c.W.OK() })
}

func (s *Server) cmdMulti(c *command.Ctx) {
	cl := client0(c)
	if cl.multi != nil {
		c.Error("ERR MULTI calls can not be nested")
		return
	}
	cl.multi = &multiState{}
	cl.multiLen.Store(0)
	cl.setFlag(flagMulti, true)
	c.W.OK()
}

func (s *Server) cmdDiscard(c *command.Ctx) {
	cl := client0(c)
	if cl.multi == nil {
		c.Error("ERR DISCARD without MULTI")
		return
	}
	s.discardTransaction(cl)
	c.W.OK()
}

// discardTransaction ends the transaction and unwatches (discardTransaction).
func (s *Server) discardTransaction(cl *client) {
	cl.multi = nil
	cl.multiLen.Store(-1)
	cl.setFlag(flagMulti, false)
	s.unwatchAll(cl)
}

func (s *Server) cmdWatch(c *command.Ctx) {
	cl := client0(c)
	if cl.multi != nil {
		c.Error("ERR WATCH inside MULTI is not allowed")
		return
	}
	// A client already marked dirty need not watch more (watchCommand).
	if cl.dirtyCAS.Load() {
		c.W.OK()
		return
	}
	for _, key := range c.Argv[1:] {
		k := watchKey{c.DB.Index, string(key)}
		dup := false
		for _, w := range cl.watched {
			if w.watchKey == k {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		// Like keyIsExpired, this neither deletes an expired key nor counts a lookup.
		existed := c.DB.Lookup(key, watchLookup) != nil
		cl.watched = append(cl.watched, watchedKey{k, existed})
		s.watches.add(cl, k)
	}
	c.W.OK()
}

// queueCommand adds a command to the client's transaction and replies +QUEUED
// (queueMultiCommand).
func (s *Server) queueCommand(c *client, cmd *command.Command, argv [][]byte) {
	m := c.multi
	if m.aborted {
		// Redis stops queueing once the transaction is doomed, but still says QUEUED.
		c.w.Simple("QUEUED")
		return
	}
	cp := make([][]byte, len(argv))
	for i, a := range argv {
		cp[i] = append([]byte(nil), a...)
	}
	m.queue = append(m.queue, queuedCommand{cmd: cmd, argv: cp})
	c.multiLen.Store(int32(len(m.queue)))
	c.w.Simple("QUEUED")
}

// queuedInMulti reports whether cmd is queued rather than run inside MULTI: everything
// but the commands that drive the transaction and the connection.
func queuedInMulti(cmd *command.Command) bool {
	switch cmd.Name {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return false
	}
	return true
}

func (s *Server) cmdExec(c *command.Ctx) {
	cl := client0(c)
	m := cl.multi
	if m == nil {
		c.Error("ERR EXEC without MULTI")
		return
	}
	if m.aborted {
		s.discardTransaction(cl)
		c.Error("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	queue := m.queue
	mask := s.execMask(cl, queue)
	s.ks.LockShards(mask)
	defer func() {
		// Runs also when a queued command panics, so no shard stays locked.
		s.ks.UnlockShards(mask)
		c.DB.Held = 0
		c.DenyBlocking(false)
	}()
	if cl.dirtyCAS.Load() || s.watchedKeyExpired(cl, c) {
		s.discardTransaction(cl)
		c.W.NullArray()
		return
	}
	// The transaction's state ends before its commands run: a MULTI or WATCH among them
	// would have been refused, and RESET inside EXEC must find a plain client.
	cl.multi = nil
	cl.multiLen.Store(-1)
	cl.setFlag(flagMulti, false)
	s.unwatchAll(cl)

	fx := &m.fx
	fx.Reset()
	fx.Discard = !s.ks.Stream().Active()
	c.W.ArrayLen(len(queue))
	exec := c.Cmd
	execArgv := c.Argv
	for _, q := range queue {
		s.execQueued(cl, c, q, mask, fx)
	}
	// The EXEC's own context carries the transaction's effects to the dispatcher, which
	// commits them as one batch; EXEC itself is not replayed.
	c.Begin(execArgv, exec, c.DB.Now, fx.Discard)
	for _, op := range fx.Ops {
		c.Effects.Add(op.DB, op.Argv...)
	}
	c.NoPropagate()
}

// execQueued runs one queued command inside EXEC with the transaction's shards held.
func (s *Server) execQueued(cl *client, c *command.Ctx, q queuedCommand, held uint64, fx *effects.Batch) {
	start := s.monoNow()
	if cl.lastCmd.Load() != q.cmd {
		cl.lastCmd.Store(q.cmd)
	}
	// ACL rules may have changed since the command was queued (execCommand re-checks).
	if u := cl.user.Load(); u != nil && !u.allCommands() {
		if denied := s.acl.check(u, q.cmd, q.argv); denied.kind != aclAllowed {
			c.Error(denied.noperm(q.cmd))
			return
		}
	}
	c.Begin(q.argv, q.cmd, c.DB.Now, fx.Discard)
	c.DB.Held = held
	c.KeyMask() // primes the slots of the keys; their shards are held
	c.DenyBlocking(true)
	if q.cmd.Name == "debug" {
		// DEBUG takes every shard itself: let it, as a transaction with DEBUG in it
		// cannot be more atomic than Redis's DEBUG SLEEP freezing the server.
		s.ks.UnlockShards(held)
		func() {
			defer s.ks.LockShards(held)
			q.cmd.Handler(c)
		}()
	} else {
		q.cmd.Handler(c)
	}
	c.DenyBlocking(false)
	c.Finish()
	for _, op := range c.Effects.Ops {
		fx.Add(op.DB, op.Argv...)
	}
	usec := (s.monoNow() - start) / 1000
	q.cmd.Record(cl.id, usec, c.Failed())
	s.stats.commands.addFor(cl.id, 1)
	if s.monitorCount.Load() > 0 && !q.cmd.Has(command.FlagSkipMonitor) && !q.cmd.Has(command.FlagAdmin) {
		s.feedMonitors(cl, c.DB.Index, q.cmd, q.argv, s.wallTime(start))
	}
}

// execMask returns the shards EXEC locks: those of the queued commands' keys and of the
// watched keys, or every shard when a queued command may touch keys it does not name.
func (s *Server) execMask(cl *client, queue []queuedCommand) uint64 {
	var mask uint64
	probe := &cl.multi.probe
	for _, q := range queue {
		if q.cmd.Exclusive {
			return keyspace.AllShards
		}
		probe.Begin(q.argv, q.cmd, 0, true)
		m, hasKeys := probe.KeyMask()
		if !hasKeys {
			// A keyless command that reads or writes data works on a whole database
			// (DBSIZE, KEYS, SCAN, RANDOMKEY, FLUSHDB, FLUSHALL, SWAPDB).
			if q.cmd.Flags&(command.FlagWrite|command.FlagReadonly) != 0 {
				return keyspace.AllShards
			}
			continue
		}
		mask |= m
	}
	for _, k := range cl.watched {
		mask |= keyspace.ShardMask(hashslot.OfString(k.key))
	}
	return mask
}

// watchedKeyExpired reports whether a key that existed when watched is gone now
// (isWatchedKeyExpired); the shards of the watched keys are held.
func (s *Server) watchedKeyExpired(cl *client, c *command.Ctx) bool {
	for _, k := range cl.watched {
		if !k.existed {
			continue
		}
		db := c.DB.WithIndex(k.db)
		if db.Lookup([]byte(k.key), watchLookup) == nil {
			return true
		}
	}
	return false
}
