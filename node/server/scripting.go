package server

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clusterctl/clusterctl/node/command"
	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/resp"
	"github.com/clusterctl/clusterctl/node/script"
)

// Scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (eval.c, script.c).
//
// A script runs inside the handler of its EVAL, which the dispatcher calls with every
// keyspace shard locked (Command.Exclusive): no other command touches the keyspace until
// the script returns, and commands the script runs take no locks of their own. Commands
// without keys (PING, INFO) still run meanwhile. Once a script has run longer than
// busy-reply-threshold, every command but those flagged allow-busy (SCRIPT KILL,
// FUNCTION KILL, SHUTDOWN NOSAVE, ...) is refused with -BUSY before it waits for a lock.
//
// The effects of the commands a script runs are collected in the EVAL's own effects
// batch, which the dispatcher commits as one unit (MULTI/EXEC for replicas and the AOF).

// Redis's busy replies (shared.slowevalerr, shared.slowscripterr).
const (
	errBusyEval     = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	errBusyFunction = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
	errNoScript     = "NOSCRIPT No matching script. Please use EVAL."
	errUnkillable   = "UNKILLABLE Sorry the script already executed write commands against the dataset. " +
		"You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	errNotBusy = "NOTBUSY No scripts in execution right now."
)

// scripting is the server's script state.
type scripting struct {
	engine *script.Engine

	// cacheMu guards cache, the scripts known to EVALSHA by SHA (lua_scripts).
	cacheMu sync.Mutex
	cache   map[string]*script.Script

	// runMu guards running, the invocation in progress.
	runMu   sync.Mutex
	running *scriptRun
	// busy mirrors "running for longer than busy-reply-threshold", read without a lock
	// by every command's dispatch.
	busy atomic.Bool
	// threshold is busy-reply-threshold in milliseconds; 0 disables busy replies.
	threshold atomic.Int64

	luaOnce   sync.Once
	luaClient *client
}

// scriptRun is one EVAL or FCALL in progress.
type scriptRun struct {
	eval     bool // EVAL family, else FCALL
	kill     chan struct{}
	killOnce sync.Once
	// wrote is set once the script ran a write command: SCRIPT KILL no longer may stop it.
	wrote atomic.Bool
	// abandoned is set when the server shuts down under the script: its effects are
	// dropped, as a process exiting never propagates them.
	abandoned atomic.Bool
	timer     *time.Timer
}

func (r *scriptRun) stop() { r.killOnce.Do(func() { close(r.kill) }) }

func newScripting() *scripting {
	return &scripting{engine: script.NewEngine(), cache: map[string]*script.Script{}}
}

// busyError returns the -BUSY reply while a script is busy, "" otherwise.
func (sc *scripting) busyError() string {
	if !sc.busy.Load() {
		return ""
	}
	sc.runMu.Lock()
	defer sc.runMu.Unlock()
	if sc.running == nil {
		return ""
	}
	if sc.running.eval {
		return errBusyEval
	}
	return errBusyFunction
}

// begin registers a run and arms the busy timer.
func (s *Server) beginScript(eval bool) *scriptRun {
	sc := s.scripting
	run := &scriptRun{eval: eval, kill: make(chan struct{})}
	sc.runMu.Lock()
	sc.running = run
	sc.runMu.Unlock()
	if ms := sc.threshold.Load(); ms > 0 {
		run.timer = time.AfterFunc(time.Duration(ms)*time.Millisecond, func() {
			sc.runMu.Lock()
			defer sc.runMu.Unlock()
			if sc.running != run {
				return
			}
			sc.busy.Store(true)
			cmdName := "SCRIPT KILL"
			if !eval {
				cmdName = "FUNCTION KILL"
			}
			s.log.Warningf("Slow script detected: still in execution after %d milliseconds. "+
				"You can try killing the script using the %s command.", ms, cmdName)
		})
	}
	return run
}

func (s *Server) endScript(run *scriptRun) {
	sc := s.scripting
	if run.timer != nil {
		run.timer.Stop()
	}
	sc.runMu.Lock()
	if sc.running == run {
		sc.running = nil
		sc.busy.Store(false)
	}
	sc.runMu.Unlock()
}

// killScript is scriptKill: SCRIPT KILL (eval) or FUNCTION KILL.
func (s *Server) killScript(c *command.Ctx, eval bool) {
	sc := s.scripting
	sc.runMu.Lock()
	run := sc.running
	sc.runMu.Unlock()
	switch {
	case run == nil:
		c.Error(errNotBusy)
	case run.wrote.Load():
		c.Error(errUnkillable)
	case eval && !run.eval:
		c.Error(errBusyFunction)
	case !eval && run.eval:
		c.Error(errBusyEval)
	default:
		s.log.Warningf("Lua script killed by user with %s.", map[bool]string{true: "SCRIPT KILL", false: "FUNCTION KILL"}[eval])
		run.stop()
		c.W.OK()
	}
}

// abandonScript stops a running script whatever it did, for a shutdown.
func (s *Server) abandonScript() {
	sc := s.scripting
	sc.runMu.Lock()
	run := sc.running
	sc.runMu.Unlock()
	if run != nil {
		run.abandoned.Store(true)
		run.stop()
	}
}

func (s *Server) registerScriptingCommands() {
	t := s.table
	for _, name := range []string{"eval", "evalsha", "eval_ro", "evalsha_ro"} {
		name := name
		cmd := t.Register(name, func(c *command.Ctx) {
			s.cmdEval(c, strings.HasPrefix(name, "evalsha"), strings.HasSuffix(name, "_ro"))
		})
		cmd.Exclusive = true
	}
	t.Register("script|load", s.cmdScriptLoad)
	t.Register("script|exists", s.cmdScriptExists)
	t.Register("script|flush", s.cmdScriptFlush)
	t.Register("script|kill", func(c *command.Ctx) { s.killScript(c, true) })
	t.Register("script|help", func(c *command.Ctx) { command.ReplyHelp(c, scriptHelp) })
	s.scripting.threshold.Store(s.cfg.Int("busy-reply-threshold"))
	s.cfg.OnSet("busy-reply-threshold", func(string) error {
		s.scripting.threshold.Store(s.cfg.Int("busy-reply-threshold"))
		return nil
	})
}

var scriptHelp = []string{
	"DEBUG (YES|SYNC|NO)",
	"    Set the debug mode for subsequent scripts executed.",
	"EXISTS <sha1> [<sha1> ...]",
	"    Return information about the existence of the scripts in the script cache.",
	"FLUSH [ASYNC|SYNC]",
	"    Flush the Lua scripts cache. Very dangerous on replicas.",
	"    When called without the optional mode argument, the behavior is determined by the",
	"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
	"    * ASYNC: Asynchronously flush the scripts cache.",
	"    * SYNC: Synchronously flush the scripts cache.",
	"KILL",
	"    Kill the currently executing Lua script.",
	"LOAD <script>",
	"    Load a script into the scripts cache without executing it.",
}

// loadScript compiles body, or finds it already compiled, and caches it.
func (s *Server) loadScript(body []byte) (*script.Script, error) {
	sc := s.scripting
	sha := script.SHA1Hex(body)
	sc.cacheMu.Lock()
	sp := sc.cache[sha]
	sc.cacheMu.Unlock()
	if sp != nil {
		return sp, nil
	}
	sp, err := script.Compile(append([]byte(nil), body...))
	if err != nil {
		return nil, err
	}
	sc.cacheMu.Lock()
	sc.cache[sha] = sp
	sc.cacheMu.Unlock()
	return sp, nil
}

func (s *Server) lookupScript(sha []byte) *script.Script {
	if len(sha) != 40 {
		return nil
	}
	sc := s.scripting
	sc.cacheMu.Lock()
	defer sc.cacheMu.Unlock()
	return sc.cache[strings.ToLower(string(sha))]
}

func (s *Server) cmdScriptLoad(c *command.Ctx) {
	sp, err := s.loadScript(c.Argv[2])
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	c.W.BulkString(sp.SHA)
}

func (s *Server) cmdScriptExists(c *command.Ctx) {
	c.W.ArrayLen(len(c.Argv) - 2)
	for _, sha := range c.Argv[2:] {
		if s.lookupScript(sha) != nil {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

func (s *Server) cmdScriptFlush(c *command.Ctx) {
	if len(c.Argv) > 3 || (len(c.Argv) == 3 && !command.Is(c.Argv[2], "sync") && !command.Is(c.Argv[2], "async")) {
		c.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	sc := s.scripting
	sc.cacheMu.Lock()
	sc.cache = map[string]*script.Script{}
	sc.cacheMu.Unlock()
	sc.engine.Reset()
	c.W.OK()
}

// numKeys parses EVAL's and FCALL's numkeys argument (evalGenericCommand).
func numKeys(c *command.Ctx) (int, bool) {
	n, ok := resp.ParseInt(c.Argv[2])
	switch {
	case !ok:
		c.Error(command.ErrNotInt)
		return 0, false
	case n > int64(len(c.Argv)-3):
		c.Error("ERR Number of keys can't be greater than number of args")
		return 0, false
	case n < 0:
		c.Error("ERR Number of keys can't be negative")
		return 0, false
	}
	return int(n), true
}

func (s *Server) cmdEval(c *command.Ctx, evalsha, ro bool) {
	nkeys, ok := numKeys(c)
	if !ok {
		return
	}
	var sp *script.Script
	if evalsha {
		if sp = s.lookupScript(c.Argv[1]); sp == nil {
			c.Error(errNoScript)
			return
		}
	} else {
		var err error
		if sp, err = s.loadScript(c.Argv[1]); err != nil {
			c.Error("ERR " + err.Error())
			return
		}
	}
	if msg := s.scriptRefusal(sp.Flags, ro); msg != "" {
		c.Error(msg)
		return
	}
	readOnly := ro || (sp.Flags&script.FlagEvalCompat == 0 && sp.Flags&script.FlagNoWrites != 0)
	allowOOM := sp.Flags&script.FlagEvalCompat == 0 && sp.Flags&script.FlagAllowOOM != 0
	s.runScript(c, true, sp.SHA, readOnly, allowOOM, c.Argv[3:3+nkeys], c.Argv[3+nkeys:],
		func(r script.Run) (string, bool) { return s.scripting.engine.Eval(sp, r, c.W) })
}

// scriptRefusal is the flag checks of scriptPrepareForRun for a script with a shebang
// (or a function); "" when it may run.
func (s *Server) scriptRefusal(flags script.Flags, ro bool) string {
	if flags&script.FlagEvalCompat != 0 {
		return ""
	}
	if flags&script.FlagNoCluster != 0 && s.env.ClusterEnabled {
		return "ERR Can not run script on cluster, 'no-cluster' flag is set."
	}
	if flags&script.FlagAllowOOM == 0 && s.overMaxmemory() {
		return "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"
	}
	if flags&script.FlagNoWrites == 0 && ro {
		return "ERR Can not execute a script with write flag using *_ro command."
	}
	return ""
}

// overMaxmemory reports whether used memory exceeds maxmemory (server.script_oom, judged
// when the script starts).
func (s *Server) overMaxmemory() bool {
	max := s.maxmemory.Load()
	return max > 0 && s.usedMemory() > max
}

// runScript runs one script invocation for the client of c, whose handler holds every
// shard: exec runs the Lua code with a Run whose Host executes the commands.
func (s *Server) runScript(c *command.Ctx, eval bool, name string, readOnly, allowOOM bool,
	keys, args [][]byte, exec func(script.Run) (errReply string, countError bool)) {
	caller := client0(c)
	run := s.beginScript(eval)
	defer s.endScript(run)
	h := &scriptHost{
		s: s, caller: caller, run: run, out: c,
		readOnly: readOnly, allowOOM: allowOOM, oom: s.overMaxmemory(),
		repl: script.ReplAll,
	}
	h.ctx = command.Ctx{W: resp.NewWriter(nil), Env: s.env, Conn: s.luaClient(),
		DB: s.ks.DB(c.DB.Index, c.DB.Now, nil)}
	h.ctx.DenyBlocking(true)
	// The script's commands replace the EVAL as what replicas and the AOF replay.
	c.NoPropagate()
	errReply, countError := exec(script.Run{Host: h, Keys: keys, Args: args, Name: name, Kill: run.kill})
	if run.abandoned.Load() {
		c.Effects.Reset()
	}
	if errReply != "" {
		writeErrorReply(c, errReply, countError)
	}
}

// writeErrorReply writes a script's error reply as it is: unlike other errors it need
// not start with a code (return {err="oops"} replies "-oops").
func writeErrorReply(c *command.Ctx, msg string, count bool) {
	if count && hasErrorCode(msg) {
		c.Error(msg)
		return
	}
	c.W.Raw([]byte("-" + msg + "\r\n"))
	if count {
		c.Env.Errors.Record(msg)
	}
}

// hasErrorCode reports whether resp.Writer.Error would write msg unchanged.
func hasErrorCode(msg string) bool {
	if msg == "" || msg[0] < 'A' || msg[0] > 'Z' {
		return false
	}
	for i := 0; i < len(msg); i++ {
		ch := msg[i]
		if ch == ' ' {
			return true
		}
		if (ch < 'A' || ch > 'Z') && ch != '_' && (ch < '0' || ch > '9') {
			return false
		}
	}
	return true
}

// luaClient returns the pseudo-client the commands of scripts run as (lctx.lua_client):
// MONITOR shows it as "lua".
func (s *Server) luaClient() *client {
	sc := s.scripting
	sc.luaOnce.Do(func() {
		sc.luaClient = &client{srv: s, addr: "lua", laddr: "lua", created: time.Now(), local: true}
		sc.luaClient.proto.Store(2)
	})
	return sc.luaClient
}

// scriptBusyRefusal is processCommand's check while a script is busy: only commands
// flagged allow-busy run, and SHUTDOWN only with NOSAVE (shutdownCommand).
func (s *Server) scriptBusyRefusal(cmd *command.Command, argv [][]byte) string {
	msg := s.scripting.busyError()
	if msg == "" {
		return ""
	}
	if !cmd.Has(command.FlagAllowBusy) {
		return msg
	}
	if cmd.Name == "shutdown" {
		for _, a := range argv[1:] {
			if command.Is(a, "nosave") {
				return ""
			}
		}
		return msg
	}
	return ""
}

// scriptHost runs the commands of one script invocation (scriptCall).
type scriptHost struct {
	s      *Server
	caller *client
	run    *scriptRun
	// out is the EVAL's own context: the script's effects are added to its batch.
	out *command.Ctx
	// ctx is reused for every command the script runs; its DB stays selected between
	// commands, as the Lua client's does.
	ctx command.Ctx

	readOnly, allowOOM bool
	oom                bool // used memory was over maxmemory when the script started
	repl               int  // redis.set_repl flags
	reply              bytes.Reader
	reader             *resp.Reader
}

// Call implements script.Host.
func (h *scriptHost) Call(argv [][]byte, proto int) (resp.Value, string) {
	s := h.s
	cmd := s.table.Lookup(argv[0])
	if cmd != nil && cmd.Subcommands != nil && len(argv) >= 2 {
		cmd = cmd.LookupSub(argv[1])
	}
	if cmd == nil {
		return resp.Value{}, "Unknown Redis command called from script"
	}
	if (cmd.Arity > 0 && cmd.Arity != len(argv)) || len(argv) < -cmd.Arity {
		return resp.Value{}, "Wrong number of args calling Redis command from script"
	}
	if cmd.Has(command.FlagNoScript) {
		return resp.Value{}, "This Redis command is not allowed from script"
	}
	if u := h.caller.user.Load(); u != nil && !u.allCommands() {
		switch denied := s.acl.check(u, cmd, argv); denied.kind {
		case aclAllowed:
		case aclDeniedCommand:
			return resp.Value{}, "The user executing the script can't run this command or subcommand"
		case aclDeniedKey:
			return resp.Value{}, "The user executing the script can't access at least one of the keys mentioned in the command arguments"
		default:
			return resp.Value{}, "The user executing the script is lacking the permissions for the command"
		}
	}
	if cmd.IsWrite() && h.readOnly {
		return resp.Value{}, "Write commands are not allowed from read-only scripts."
	}
	if !h.allowOOM && h.oom && !h.run.wrote.Load() && cmd.Has(command.FlagDenyOOM) && s.maxmemory.Load() > 0 {
		return resp.Value{}, "-OOM command not allowed when used memory > 'maxmemory'."
	}
	if cmd.IsWrite() {
		h.run.wrote.Store(true)
	}
	return h.execute(cmd, argv, proto), ""
}

// execute runs one command with the shards already held and returns its reply.
func (h *scriptHost) execute(cmd *command.Command, argv [][]byte, proto int) resp.Value {
	s := h.s
	ctx := &h.ctx
	start := s.monoNow()
	ctx.W.Reset()
	ctx.W.Proto = proto
	ctx.Begin(argv, cmd, h.out.DB.Now, !s.ks.Stream().Active())
	ctx.DB.Held = keyspace.AllShards
	ctx.KeyMask() // primes the slots of the keys; the shards are already held
	cmd.Handler(ctx)
	ctx.Finish()
	if h.repl != script.ReplNone {
		for _, op := range ctx.Effects.Ops {
			h.out.Effects.Add(op.DB, op.Argv...)
		}
	}
	cmd.Record(h.caller.id, (s.monoNow()-start)/1000, ctx.Failed())
	if s.monitorCount.Load() > 0 && !cmd.Has(command.FlagSkipMonitor) && !cmd.Has(command.FlagAdmin) {
		s.feedMonitors(s.luaClient(), ctx.DB.Index, cmd, argv, s.wallTime(start))
	}
	h.reply.Reset(ctx.W.Bytes())
	if h.reader == nil {
		h.reader = resp.NewReader(&h.reply)
		h.reader.MaxBulkLen = math.MaxInt64
	}
	v, err := h.reader.ReadValue()
	if err != nil {
		// Our own handlers wrote this reply: a parse failure is a bug, reported as such.
		return resp.Value{Kind: resp.Error, Str: []byte(fmt.Sprintf("ERR internal error reading the reply of '%s': %v", cmd.FullName(), err))}
	}
	return v
}

// Log implements script.Host: redis.log writes through the server's log at the level.
func (h *scriptHost) Log(level int, msg string) {
	switch level {
	case script.LogDebug:
		h.s.log.Debugf("%s", msg)
	case script.LogVerbose:
		h.s.log.Verbosef("%s", msg)
	case script.LogNotice:
		h.s.log.Noticef("%s", msg)
	default:
		h.s.log.Warningf("%s", msg)
	}
}

// SetRepl implements script.Host. The effects stream feeds both replicas and the AOF,
// so only "none" and "some" can be told apart: any target keeps propagating.
func (h *scriptHost) SetRepl(flags int) { h.repl = flags }

// ACLAllows implements script.Host.
func (h *scriptHost) ACLAllows(argv [][]byte) (allowed, known bool) {
	cmd := h.s.table.Lookup(argv[0])
	if cmd != nil && cmd.Subcommands != nil && len(argv) >= 2 {
		cmd = cmd.LookupSub(argv[1])
	}
	if cmd == nil {
		return false, false
	}
	u := h.caller.user.Load()
	if u == nil || u.allCommands() {
		return true, true
	}
	return h.s.acl.check(u, cmd, argv).kind == aclAllowed, true
}
