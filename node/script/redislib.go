package script

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/clusterctl/clusterctl/node/resp"
)

// Redis log levels (LL_*), as redis.LOG_* exposes them.
const (
	LogDebug = iota
	LogVerbose
	LogNotice
	LogWarning
)

// Replication targets of redis.set_repl (PROPAGATE_*).
const (
	ReplNone  = 0
	ReplAOF   = 1
	ReplSlave = 2
	ReplAll   = ReplAOF | ReplSlave
)

// Version is the Redis version scripts see (redis.REDIS_VERSION).
const Version = "7.0.15"

// versionNum is REDIS_VERSION_NUM: 0x00MMmmpp.
const versionNum = 7<<16 | 0<<8 | 15

// installRedis creates the redis table (luaRegisterRedisAPI and scriptingInit).
func (v *vm) installRedis() {
	L := v.L
	t := L.NewTable()
	fns := map[string]lua.LGFunction{
		"call":               func(L *lua.LState) int { return v.redisCall(L, true) },
		"pcall":              func(L *lua.LState) int { return v.redisCall(L, false) },
		"log":                v.redisLog,
		"setresp":            v.redisSetResp,
		"sha1hex":            redisSha1hex,
		"error_reply":        redisErrorReply,
		"status_reply":       redisStatusReply,
		"set_repl":           v.redisSetRepl,
		"acl_check_cmd":      v.redisACLCheckCmd,
		"replicate_commands": func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
		// The debugger (SCRIPT DEBUG) is not available: breakpoints never stop.
		"breakpoint": func(L *lua.LState) int { L.Push(lua.LFalse); return 1 },
		"debug":      func(L *lua.LState) int { return 0 },
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	for name, n := range map[string]int{
		"LOG_DEBUG": LogDebug, "LOG_VERBOSE": LogVerbose, "LOG_NOTICE": LogNotice, "LOG_WARNING": LogWarning,
		"REPL_NONE": ReplNone, "REPL_AOF": ReplAOF, "REPL_SLAVE": ReplSlave, "REPL_REPLICA": ReplSlave,
		"REPL_ALL": ReplAll, "REDIS_VERSION_NUM": versionNum,
	} {
		t.RawSetString(name, lua.LNumber(n))
	}
	t.RawSetString("REDIS_VERSION", lua.LString(Version))
	v.real.RawSetString("redis", t)
}

// commandArgs is luaArgsToRedisArgv: strings as they are, numbers as "%.17g"; anything
// else is an error (returned as the message).
func commandArgs(L *lua.LState) ([][]byte, string) {
	n := L.GetTop()
	if n == 0 {
		return nil, "Please specify at least one argument for this redis lib call"
	}
	argv := make([][]byte, n)
	for i := 1; i <= n; i++ {
		switch a := L.Get(i).(type) {
		case lua.LNumber:
			argv[i-1] = numberArg(float64(a))
		case lua.LString:
			argv[i-1] = []byte(a)
		default:
			return nil, "Lua redis lib command arguments must be strings or integers"
		}
	}
	return argv, ""
}

// redisCall is redis.call (raise true) and redis.pcall (luaRedisGenericCommand).
func (v *vm) redisCall(L *lua.LState, raise bool) int {
	if v.run == nil {
		L.Error(errorTable(L, "redis.call/pcall can only be called inside a script invocation"), 0)
	}
	argv, bad := commandArgs(L)
	L.SetTop(0)
	if bad != "" {
		t := errorTable(L, bad)
		if raise {
			L.Error(t, 0)
		}
		L.Push(t)
		return 1
	}
	reply, refused := v.run.Host.Call(argv, v.run.proto)
	if refused != "" {
		t := errorTable(L, refused)
		t.RawSetString("ignore_error_stats_update", lua.LTrue)
		if raise {
			L.Error(t, 0)
		}
		L.Push(t)
		return 1
	}
	lv := v.replyToLua(reply)
	if raise && (reply.Kind == resp.Error || reply.Kind == resp.BlobError) {
		L.Error(lv, 0)
	}
	L.Push(lv)
	return 1
}

// replyToLua converts a command's reply to Lua (redisProtocolToLuaType).
func (v *vm) replyToLua(r resp.Value) lua.LValue {
	L := v.L
	switch r.Kind {
	case resp.SimpleString:
		t := L.CreateTable(0, 1)
		t.RawSetString("ok", lua.LString(r.Str))
		return t
	case resp.Error, resp.BlobError:
		t := errorTable(L, "-"+string(r.Str))
		t.RawSetString("ignore_error_stats_update", lua.LTrue)
		return t
	case resp.Integer:
		return lua.LNumber(r.Int)
	case resp.BulkString:
		if r.IsNull {
			return lua.LFalse
		}
		return lua.LString(r.Str)
	case resp.Null:
		return lua.LNil
	case resp.Boolean:
		return lua.LBool(r.Bool)
	case resp.Double:
		t := L.CreateTable(0, 1)
		t.RawSetString("double", lua.LNumber(r.Float))
		return t
	case resp.BigNumber:
		t := L.CreateTable(0, 1)
		t.RawSetString("big_number", lua.LString(r.Str))
		return t
	case resp.Verbatim:
		inner := L.CreateTable(0, 2)
		inner.RawSetString("string", lua.LString(r.Str))
		inner.RawSetString("format", lua.LString("txt"))
		t := L.CreateTable(0, 1)
		t.RawSetString("verbatim_string", inner)
		return t
	case resp.Array, resp.Push:
		if r.IsNull {
			return lua.LFalse
		}
		t := L.CreateTable(len(r.Elems), 0)
		for i, e := range r.Elems {
			t.RawSetInt(i+1, v.replyToLua(e))
		}
		return t
	case resp.Map:
		m := L.CreateTable(0, len(r.Elems)/2)
		for i := 0; i+1 < len(r.Elems); i += 2 {
			k := v.replyToLua(r.Elems[i])
			if k == lua.LNil {
				continue
			}
			m.RawSet(k, v.replyToLua(r.Elems[i+1]))
		}
		t := L.CreateTable(0, 1)
		t.RawSetString("map", m)
		return t
	case resp.Set:
		s := L.CreateTable(0, len(r.Elems))
		for _, e := range r.Elems {
			k := v.replyToLua(e)
			if k == lua.LNil {
				continue
			}
			s.RawSet(k, lua.LTrue)
		}
		t := L.CreateTable(0, 1)
		t.RawSetString("set", s)
		return t
	}
	return lua.LNil
}

// maxReplyDepth bounds the nesting of a returned table, which may refer to itself.
const maxReplyDepth = 1000

// writeReply converts the script's return value to a reply (luaReplyToRedisReply). The
// writer's protocol is the caller's; booleans follow the script's own (redis.setresp).
func (v *vm) writeReply(w *resp.Writer, lv lua.LValue, depth int) {
	if depth > maxReplyDepth {
		w.Raw([]byte("-ERR reached lua stack limit\r\n"))
		return
	}
	switch x := lv.(type) {
	case lua.LString:
		w.Bulk([]byte(x))
	case lua.LBool:
		if v.run != nil && v.run.proto == 3 {
			w.Bool(bool(x))
		} else if x {
			w.Int(1)
		} else {
			w.Null()
		}
	case lua.LNumber:
		w.Int(luaToInt64(float64(x)))
	case *lua.LTable:
		v.writeTable(w, v.realTable(x), depth)
	default:
		w.Null()
	}
}

func (v *vm) writeTable(w *resp.Writer, t *lua.LTable, depth int) {
	if msg, ok := t.RawGetString("err").(lua.LString); ok {
		w.Raw([]byte("-" + sanitizeError(string(msg)) + "\r\n"))
		return
	}
	if ok, isStr := t.RawGetString("ok").(lua.LString); isStr {
		w.Raw([]byte("+" + strings.NewReplacer("\r", " ", "\n", " ").Replace(string(ok)) + "\r\n"))
		return
	}
	if d, ok := t.RawGetString("double").(lua.LNumber); ok {
		w.Double(float64(d))
		return
	}
	if b, ok := t.RawGetString("big_number").(lua.LString); ok {
		w.BigNumber(strings.NewReplacer("\r", " ", "\n", " ").Replace(string(b)))
		return
	}
	if vs, ok := t.RawGetString("verbatim_string").(*lua.LTable); ok {
		format, fok := vs.RawGetString("format").(lua.LString)
		str, sok := vs.RawGetString("string").(lua.LString)
		if fok && sok {
			w.Verbatim(string(format), string(str))
			return
		}
	}
	if m, ok := t.RawGetString("map").(*lua.LTable); ok {
		n := 0
		m.ForEach(func(lua.LValue, lua.LValue) { n++ })
		w.MapLen(n)
		m.ForEach(func(k, val lua.LValue) {
			v.writeReply(w, k, depth+1)
			v.writeReply(w, val, depth+1)
		})
		return
	}
	if s, ok := t.RawGetString("set").(*lua.LTable); ok {
		n := 0
		s.ForEach(func(lua.LValue, lua.LValue) { n++ })
		w.SetLen(n)
		s.ForEach(func(k, _ lua.LValue) { v.writeReply(w, k, depth+1) })
		return
	}
	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	w.ArrayLen(n)
	for i := 1; i <= n; i++ {
		v.writeReply(w, t.RawGetInt(i), depth+1)
	}
}

// luaToInt64 is C's (long long) cast as x86-64 performs it: truncation toward zero, and
// the "integer indefinite" value for NaN and values out of range.
func luaToInt64(f float64) int64 {
	if f != f || f >= 9223372036854775808.0 || f < -9223372036854775808.0 {
		return math.MinInt64
	}
	return int64(f)
}

func (v *vm) redisLog(L *lua.LState) int {
	argc := L.GetTop()
	if argc < 2 {
		L.Error(errorTable(L, "redis.log() requires two arguments or more."), 0)
	}
	lvl, ok := L.Get(1).(lua.LNumber)
	if !ok {
		if s, isStr := L.Get(1).(lua.LString); isStr {
			if n, err := parseLuaNumber(string(s)); err == nil {
				lvl, ok = lua.LNumber(n), true
			}
		}
	}
	if !ok {
		L.Error(errorTable(L, "First argument must be a number (log level)."), 0)
	}
	level := int(lvl)
	if level < LogDebug || level > LogWarning {
		L.Error(errorTable(L, "Invalid debug level."), 0)
	}
	var parts []string
	for i := 2; i <= argc; i++ {
		switch a := L.Get(i).(type) {
		case lua.LString:
			parts = append(parts, string(a))
		case lua.LNumber:
			parts = append(parts, formatNumber14g(float64(a)))
		}
	}
	if v.run != nil {
		v.run.Host.Log(level, strings.Join(parts, " "))
	}
	return 0
}

func (v *vm) redisSetResp(L *lua.LState) int {
	if v.run == nil {
		L.Error(errorTable(L, "redis.setresp can only be called inside a script invocation"), 0)
	}
	if L.GetTop() != 1 {
		L.Error(errorTable(L, "redis.setresp() requires one argument."), 0)
	}
	n := int(toNumber(L.Get(1)))
	if n != 2 && n != 3 {
		L.Error(errorTable(L, "RESP version must be 2 or 3."), 0)
	}
	v.run.proto = n
	return 0
}

func (v *vm) redisSetRepl(L *lua.LState) int {
	if v.run == nil {
		L.Error(errorTable(L, "redis.set_repl can only be called inside a script invocation"), 0)
	}
	if L.GetTop() != 1 {
		L.Error(errorTable(L, "redis.set_repl() requires two arguments."), 0)
	}
	flags := int(toNumber(L.Get(1)))
	if flags&^ReplAll != 0 {
		L.Error(errorTable(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."), 0)
	}
	v.run.Host.SetRepl(flags)
	return 0
}

func (v *vm) redisACLCheckCmd(L *lua.LState) int {
	if v.run == nil {
		L.Error(errorTable(L, "redis.acl_check_cmd can only be called inside a script invocation"), 0)
	}
	argv, bad := commandArgs(L)
	if bad != "" {
		L.Error(errorTable(L, bad), 0)
	}
	allowed, known := v.run.Host.ACLAllows(argv)
	if !known {
		L.Error(errorTable(L, "Invalid command passed to redis.acl_check_cmd()"), 0)
	}
	L.Push(lua.LBool(allowed))
	return 1
}

func redisSha1hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.Error(errorTable(L, "wrong number of arguments"), 0)
	}
	var s string
	switch a := L.Get(1).(type) {
	case lua.LString:
		s = string(a)
	case lua.LNumber:
		s = formatNumber14g(float64(a))
	}
	L.Push(lua.LString(SHA1Hex([]byte(s))))
	return 1
}

// redisErrorReply is redis.error_reply: {err=msg}, with the ERR code added when msg has
// none; a bad argument is returned (not raised) as an error table.
func redisErrorReply(L *lua.LState) int {
	msg, ok := L.Get(-1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(errorTable(L, "wrong number or type of arguments"))
		return 1
	}
	text := string(msg)
	if !strings.HasPrefix(text, "-") {
		text = "-" + text
	}
	L.Push(errorTable(L, text))
	return 1
}

func redisStatusReply(L *lua.LState) int {
	msg, ok := L.Get(-1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(errorTable(L, "wrong number or type of arguments"))
		return 1
	}
	t := L.CreateTable(0, 1)
	t.RawSetString("ok", msg)
	L.Push(t)
	return 1
}

// toNumber is lua_tonumber: numbers, and strings that read as numbers; 0 otherwise.
func toNumber(lv lua.LValue) float64 {
	switch x := lv.(type) {
	case lua.LNumber:
		return float64(x)
	case lua.LString:
		if n, err := parseLuaNumber(string(x)); err == nil {
			return n
		}
	}
	return 0
}

// parseLuaNumber reads a string as Lua's tonumber does: decimal, exponent or hex, with
// surrounding spaces.
func parseLuaNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		n, err := strconv.ParseUint(h, 16, 64)
		return float64(n), err
	}
	return strconv.ParseFloat(s, 64)
}
