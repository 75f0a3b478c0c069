package server

import (
	"bytes"
	"strings"

	"github.com/clusterctl/clusterctl/node/command"
	"github.com/clusterctl/clusterctl/node/keyspace"
)

// processCommand checks one request and runs it, mirroring Redis's processCommand: the
// command must exist with the right arity, the client must be authenticated and allowed,
// memory must allow a write; then call runs it.
func (s *Server) processCommand(c *client, argv [][]byte) {
	var cmd *command.Command
	if c.lastLookup != nil && bytes.Equal(argv[0], c.lastName) {
		cmd = c.lastLookup
	} else if cmd = s.table.Lookup(argv[0]); cmd != nil {
		c.lastName = append(c.lastName[:0], argv[0]...)
		c.lastLookup = cmd
	}
	if cmd != nil && cmd.Subcommands != nil && len(argv) >= 2 {
		sub := cmd.LookupSub(argv[1])
		if sub == nil {
			s.reject(c, nil, "ERR unknown subcommand '"+truncate(argv[1], 128)+"'. Try "+
				strings.ToUpper(string(argv[0]))+" HELP.")
			return
		}
		cmd = sub
	}
	if cmd == nil {
		s.reject(c, nil, unknownCommandError(argv))
		return
	}
	if (cmd.Arity > 0 && cmd.Arity != len(argv)) || len(argv) < -cmd.Arity {
		s.reject(c, cmd, "ERR wrong number of arguments for '"+cmd.FullName()+"' command")
		return
	}
	// DEBUG (and MODULE) are refused unless enable-debug-command allows them; Redis 7.0
	// recognises them by their handler, not by a flag COMMAND shows.
	if (cmd.Name == "debug" || cmd.Name == "module") && !s.allowProtected(c, cmd) {
		return
	}
	u := c.user.Load()
	if u == nil && !cmd.Has(command.FlagNoAuth) {
		s.reject(c, cmd, "NOAUTH Authentication required.")
		return
	}
	if c.multi != nil && cmd.Has(command.FlagNoMulti) {
		s.reject(c, cmd, "ERR Command not allowed inside a transaction")
		return
	}
	if u != nil && !u.allCommands() {
		if denied := s.acl.check(u, cmd, argv); denied.kind != aclAllowed {
			s.reject(c, cmd, denied.noperm(cmd))
			return
		}
	}
	if max := s.maxmemory.Load(); max > 0 {
		if !s.freeMemoryIfNeeded(s.wallMs(c.clock)) && cmd.Has(command.FlagDenyOOM) {
			s.reject(c, cmd, "OOM command not allowed when used memory > 'maxmemory'.")
			return
		}
	}
	if msg := s.replRefusal(c, cmd); msg != "" {
		s.reject(c, cmd, msg)
		return
	}
	// A busy script holds every shard: refuse before waiting for one (processCommand's
	// isInsideYieldingLongCommand check).
	if s.scripting.busy.Load() {
		if msg := s.scriptBusyRefusal(cmd, argv); msg != "" {
			s.reject(c, cmd, msg)
			return
		}
	}
	if c.hasFlag(flagPubSub) && c.proto.Load() < 3 && !subscribedContextAllowed(cmd) {
		s.reject(c, cmd, "ERR Can't execute '"+cmd.FullName()+"': only (P|S)SUBSCRIBE / "+
			"(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
		return
	}
	if c.multi != nil && queuedInMulti(cmd) {
		s.queueCommand(c, cmd, argv)
		return
	}
	if s.pause.blocks(cmd) {
		s.pause.wait(cmd, s.shutdownCh)
		c.clock = s.monoNow()
	}
	s.call(c, cmd, argv)
	if c.blocked != nil {
		s.waitBlocked(c)
	}
	if s.blocking.pending.Load() {
		s.handleBlockedOnKeys()
	}
}

// call runs cmd with the shards of its keys locked, commits its effects, and records
// statistics, the slow log and the MONITOR feed (Redis's call()).
func (s *Server) call(c *client, cmd *command.Command, argv [][]byte) {
	start := c.clock
	if c.lastCmd.Load() != cmd {
		c.lastCmd.Store(cmd) // before running, so CLIENT LIST shows itself as cmd=client|list
	}
	ctx := &c.ctx
	ctx.Begin(argv, cmd, s.wallMs(start), !s.ks.Stream().Active())
	mask, locked := ctx.KeyMask()
	if cmd.Exclusive {
		mask, locked = keyspace.AllShards, true
	}
	if locked {
		s.ks.LockShards(mask)
		func() {
			defer s.ks.UnlockShards(mask) // a panicking handler must not leave shards locked
			cmd.Handler(ctx)
			ctx.Finish()
			s.ks.Stream().Commit(&ctx.Effects)
			if req := ctx.BlockRequested(); req != nil {
				// Registered before the shards unlock, so no write can slip between.
				s.blockClient(c, cmd, req, ctx.DB.Index)
			}
		}()
	} else {
		cmd.Handler(ctx)
		ctx.Finish()
		s.ks.Stream().Commit(&ctx.Effects)
	}
	c.db.Store(int32(ctx.DB.Index))
	if len(ctx.Effects.Ops) > 0 {
		c.woff = s.repl.master.Offset() // what WAIT waits for
		c.aofSync = s.aofSyncPoint()    // what the reply waits for under appendfsync always
	}
	end := s.monoNow()
	c.clock = end
	usec := (end - start) / 1000
	cmd.Record(c.id, usec, ctx.Failed())
	s.stats.commands.addFor(c.id, 1)
	if !cmd.Has(command.FlagSkipSlowlog) {
		if limit := s.slowlogSlower.Load(); limit >= 0 && usec >= limit {
			s.slowlog.add(c, argv, s.wallTime(start), usec)
		}
	}
	if s.monitorCount.Load() > 0 && !cmd.Has(command.FlagSkipMonitor) && !cmd.Has(command.FlagAdmin) {
		s.feedMonitors(c, ctx.DB.Index, cmd, argv, s.wallTime(start))
	}
}

// reject replies with an error for a command refused before running (rejectCommand);
// cmd is nil when the command is unknown.
func (s *Server) reject(c *client, cmd *command.Command, msg string) {
	if cmd != nil {
		cmd.RecordRejected(c.id)
	}
	if c.multi != nil {
		c.multi.aborted = true // flagTransaction: EXEC will answer EXECABORT
	}
	c.w.Error(msg)
	s.env.Errors.Record(msg)
}

// unknownCommandError is Redis's text for an unknown command: the name and up to 128
// bytes of its arguments, each quoted.
func unknownCommandError(argv [][]byte) string {
	var args strings.Builder
	for _, a := range argv[1:] {
		if args.Len() >= 128 {
			break
		}
		limit := 128 - args.Len()
		args.WriteByte('\'')
		args.WriteString(truncate(a, limit))
		args.WriteString("' ")
	}
	msg := "ERR unknown command '" + truncate(argv[0], 128) + "', with args beginning with: " + args.String()
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(msg)
}

func truncate(b []byte, n int) string {
	if n < 0 {
		n = 0
	}
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}

// allowProtected applies enable-debug-command to DEBUG (Redis's CMD_PROTECTED check):
// "no" refuses it, "local" allows loopback clients only.
func (s *Server) allowProtected(c *client, cmd *command.Command) bool {
	setting, _ := s.debugCommand.Load().(string)
	if setting == "yes" || (setting == "local" && c.local) {
		return true
	}
	name := strings.ToUpper(strings.SplitN(cmd.Name, "|", 2)[0])
	option := "enable-debug-command"
	if name == "MODULE" {
		option = "enable-module-command"
	}
	s.reject(c, cmd, "ERR "+name+" command not allowed. If the "+option+" option is set to \"local\", "+
		"you can run it from a local connection, otherwise you need to set this option in the "+
		"configuration file, and then restart the server.")
	return false
}

// freeMemoryIfNeeded evicts keys while used memory exceeds maxmemory (performEvictions)
// and reports whether memory is now within the limit.
func (s *Server) freeMemoryIfNeeded(nowMs int64) bool {
	max := s.maxmemory.Load()
	used := s.usedMemory()
	if used <= max {
		return true
	}
	s.ks.Evict(used-max, nowMs)
	return s.usedMemory() <= max
}
