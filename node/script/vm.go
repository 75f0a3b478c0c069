package script

import (
	"context"
	"regexp"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/clusterctl/clusterctl/node/resp"
)

// vm is one Lua state with Redis's environment.
type vm struct {
	L *lua.LState
	// real holds the globals; scripts see them through the read-only proxy globals.
	real    *lua.LTable
	globals *lua.LTable
	// proxies maps each read-only proxy to the table it shows.
	proxies map[*lua.LTable]*lua.LTable
	// functions caches the Lua function of each EVAL script by SHA.
	functions  map[string]*lua.LFunction
	errHandler *lua.LFunction
	// rng is the engine's generator: it outlives SCRIPT FLUSH, as Redis's is a static.
	rng *lrand48
	// run is the invocation in progress, nil between scripts.
	run *runState
}

// runState is what the redis.* functions need during one invocation.
type runState struct {
	Run
	// proto is the RESP version redis.call replies are converted from (redis.setresp).
	proto int
}

// The globals Redis 7.0 leaves to scripts, beyond the libraries (lua_builtins_allow_list
// minus what 7.0.15 removes: getfenv, setfenv, newproxy, print, dofile, loadfile).
var keptBuiltins = map[string]bool{
	"xpcall": true, "tostring": true, "setmetatable": true, "next": true, "assert": true,
	"tonumber": true, "rawequal": true, "collectgarbage": true, "getmetatable": true,
	"rawset": true, "pcall": true, "type": true, "_G": true, "select": true, "unpack": true,
	"pairs": true, "rawget": true, "loadstring": true, "ipairs": true, "_VERSION": true,
	"load": true, "error": true,
}

func newVM(rng *lrand48) *vm {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       256,
		RegistrySize:        1024,
		RegistryMaxSize:     256 * 1024,
		MinimizeStackMemory: true,
	})
	v := &vm{L: L, proxies: map[*lua.LTable]*lua.LTable{}, functions: map[string]*lua.LFunction{}, rng: rng}
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	v.real = L.Get(lua.GlobalsIndex).(*lua.LTable)
	var drop []string
	v.real.ForEach(func(k, _ lua.LValue) {
		if ks, ok := k.(lua.LString); ok && !keptBuiltins[string(ks)] {
			switch string(ks) {
			case "table", "string", "math", "coroutine":
			default:
				drop = append(drop, string(ks))
			}
		}
	})
	for _, k := range drop {
		v.real.RawSetString(k, lua.LNil)
	}
	v.installBase()
	v.installRedis()
	v.real.RawSetString("cjson", newCJSON(L))
	v.real.RawSetString("bit", newBit(L))
	v.real.RawSetString("struct", newStruct(L))
	v.real.RawSetString("cmsgpack", newCmsgpack(L))
	v.errHandler = L.NewFunction(v.handleError)
	v.real.RawSetString("__redis__err__handler", v.errHandler)
	v.protect()
	return v
}

func (v *vm) close() { v.L.Close() }

// installBase replaces the builtins Redis replaces or adds: pcall (error tables become
// their message), tostring ("%.14g" numbers), math.random/randomseed (Redis's own
// generator, the same sequence on every platform), gcinfo, and the proxy-aware raw
// accessors and iterators.
func (v *vm) installBase() {
	L := v.L
	set := func(name string, fn lua.LGFunction) { v.real.RawSetString(name, L.NewFunction(fn)) }
	set("pcall", v.pcall)
	set("tostring", v.tostring)
	set("gcinfo", func(L *lua.LState) int { L.Push(lua.LNumber(32)); return 1 })
	set("rawset", v.rawset)
	set("rawget", v.rawget)
	set("setmetatable", v.setmetatable)
	set("next", v.next)
	set("pairs", v.pairs)
	set("ipairs", v.ipairs)
	math := v.real.RawGetString("math").(*lua.LTable)
	math.RawSetString("random", L.NewFunction(v.mathRandom))
	math.RawSetString("randomseed", L.NewFunction(v.mathRandomseed))
	wrapStringFormat(L, v.real.RawGetString("string").(*lua.LTable))
	tbl := v.real.RawGetString("table").(*lua.LTable)
	for _, name := range []string{"insert", "remove", "sort"} {
		orig := tbl.RawGetString(name).(*lua.LFunction)
		tbl.RawSetString(name, L.NewFunction(v.guardFirstArg(orig)))
	}
}

// protect puts the libraries and the globals behind read-only proxies
// (luaSetTableProtectionRecursively) and makes reading an undefined global an error
// (luaSetErrorMetatable).
func (v *vm) protect() {
	L := v.L
	for _, name := range []string{"string", "table", "math", "coroutine", "redis", "cjson", "bit", "struct", "cmsgpack"} {
		if t, ok := v.real.RawGetString(name).(*lua.LTable); ok {
			v.real.RawSetString(name, v.proxy(t))
		}
	}
	// Methods on strings ("x"):upper() read the string library through its metatable.
	if mt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		if lib, ok := mt.RawGetString("__index").(*lua.LTable); ok {
			mt.RawSetString("__index", v.proxyOf(lib))
		}
		mt.RawSetString("__metatable", v.proxy(mt))
	}
	missing := L.NewTable()
	missing.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", L.ToString(2))
		return 0
	}))
	L.SetMetatable(v.real, missing)
	v.globals = v.proxy(v.real)
	v.real.RawSetString("_G", v.globals)
	L.Env = v.globals
}

// proxyOf returns the proxy already made for t, or a new one.
func (v *vm) proxyOf(t *lua.LTable) *lua.LTable {
	for p, real := range v.proxies {
		if real == t {
			return p
		}
	}
	return v.proxy(t)
}

// proxy returns an empty table that reads through to t and refuses every write.
func (v *vm) proxy(t *lua.LTable) *lua.LTable {
	L := v.L
	p := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", t)
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError(errReadonly)
		return 0
	}))
	mt.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(p, mt)
	v.proxies[p] = t
	return p
}

const errReadonly = "Attempt to modify a readonly table"

// realTable returns the table a proxy shows, or t itself.
func (v *vm) realTable(t *lua.LTable) *lua.LTable {
	if r, ok := v.proxies[t]; ok {
		return r
	}
	return t
}

func (v *vm) rawset(L *lua.LState) int {
	t := L.CheckTable(1)
	if _, ok := v.proxies[t]; ok {
		L.Error(lua.LString(errReadonly), 0)
	}
	t.RawSet(L.CheckAny(2), L.CheckAny(3))
	L.Push(t)
	return 1
}

func (v *vm) rawget(L *lua.LState) int {
	t := v.realTable(L.CheckTable(1))
	L.Push(t.RawGet(L.CheckAny(2)))
	return 1
}

func (v *vm) setmetatable(L *lua.LState) int {
	t := L.CheckTable(1)
	if _, ok := v.proxies[t]; ok {
		L.Error(lua.LString(errReadonly), 0)
	}
	mt := L.Get(2)
	if mt != lua.LNil {
		if _, ok := mt.(*lua.LTable); !ok {
			L.ArgError(2, "nil or table expected")
		}
	}
	if cur := L.GetMetaField(t, "__metatable"); cur != lua.LNil {
		L.RaiseError("cannot change a protected metatable")
	}
	L.SetMetatable(t, mt)
	L.Push(t)
	return 1
}

func (v *vm) next(L *lua.LState) int {
	t := v.realTable(L.CheckTable(1))
	k, val := t.Next(L.Get(2))
	if k == lua.LNil {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(k)
	L.Push(val)
	return 2
}

func (v *vm) pairs(L *lua.LState) int {
	t := L.CheckTable(1)
	if mm := L.GetMetaField(t, "__pairs"); mm != lua.LNil {
		L.Push(mm)
		L.Push(t)
		L.Call(1, 3)
		return 3
	}
	L.Push(L.NewFunction(v.next))
	L.Push(t)
	L.Push(lua.LNil)
	return 3
}

func (v *vm) ipairs(L *lua.LState) int {
	t := L.CheckTable(1)
	L.Push(L.NewFunction(func(L *lua.LState) int {
		i := L.CheckInt(2) + 1
		val := v.realTable(L.CheckTable(1)).RawGetInt(i)
		if val == lua.LNil {
			return 0
		}
		L.Push(lua.LNumber(i))
		L.Push(val)
		return 2
	}))
	L.Push(t)
	L.Push(lua.LNumber(0))
	return 3
}

// guardFirstArg wraps a table library function so it refuses a read-only table.
func (v *vm) guardFirstArg(fn *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if t, ok := L.Get(1).(*lua.LTable); ok {
			if _, ok := v.proxies[t]; ok {
				L.Error(lua.LString(errReadonly), 0)
			}
		}
		top := L.GetTop()
		L.Insert(fn, 1)
		L.Call(top, lua.MultRet)
		return L.GetTop()
	}
}

func (v *vm) tostring(L *lua.LState) int {
	val := L.CheckAny(1)
	if n, ok := val.(lua.LNumber); ok {
		L.Push(lua.LString(formatNumber14g(float64(n))))
		return 1
	}
	L.Push(lua.LString(L.ToStringMeta(val).String()))
	return 1
}

// pcall is Redis's luaRedisPcall: Lua's pcall, except that an error table raised by
// redis.call becomes its message, as scripts written for Redis 6 expect. A killed script
// cannot catch its kill.
func (v *vm) pcall(L *lua.LState) int {
	L.CheckAny(1)
	nargs := L.GetTop() - 1
	err := L.PCall(nargs, lua.MultRet, nil)
	if v.killed() {
		L.Error(v.killError(), 0)
	}
	if err == nil {
		L.Insert(lua.LTrue, 1)
		return L.GetTop()
	}
	var obj lua.LValue = lua.LString(err.Error())
	if ae, ok := err.(*lua.ApiError); ok {
		obj = ae.Object
	}
	if t, ok := obj.(*lua.LTable); ok {
		if msg, ok := t.RawGetString("err").(lua.LString); ok {
			obj = msg
		}
	} else if msg, ok := obj.(lua.LString); ok {
		obj = lua.LString(luaMessage(string(msg)))
	}
	L.SetTop(0)
	L.Push(lua.LFalse)
	L.Push(obj)
	return 2
}

// argErrorName matches gopher-lua's "bad argument #1 to rep (", whose function name C Lua
// quotes.
var argErrorName = regexp.MustCompile(`bad argument #(\d+) to ([^ '(][^ (]*) \(`)

// luaMessage puts a runtime error raised by gopher-lua in C Lua 5.1's words where they
// differ only in form.
func luaMessage(msg string) string {
	if strings.Contains(msg, "bad argument #") {
		msg = argErrorName.ReplaceAllString(msg, "bad argument #$1 to '$2' (")
	}
	return msg
}

// killed reports whether the running script was asked to stop.
func (v *vm) killed() bool {
	if v.run == nil || v.run.Kill == nil {
		return false
	}
	select {
	case <-v.run.Kill:
		return true
	default:
		return false
	}
}

func (v *vm) killError() *lua.LTable {
	return errorTable(v.L, "Script killed by user with SCRIPT KILL...")
}

// handleError is __redis__err__handler: it turns the error into a table {err=..., source=...,
// line=...} naming the Lua code that raised it (the caller when a Go function raised).
func (v *vm) handleError(L *lua.LState) int {
	e := L.Get(1)
	var t *lua.LTable
	switch {
	case v.killed():
		t = v.killError()
	default:
		if tbl, ok := e.(*lua.LTable); ok {
			t = tbl
		} else {
			t = L.NewTable()
			t.RawSetString("err", lua.LString("ERR "+luaMessage(luaToString(e))))
		}
	}
	for level := 1; level <= 2; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			break
		}
		if dbg.What == "G" {
			continue
		}
		t.RawSetString("source", lua.LString("@"+dbg.Source))
		t.RawSetString("line", lua.LNumber(dbg.CurrentLine))
		break
	}
	L.Push(t)
	return 1
}

// luaToString is lua_tostring for an error object: strings and numbers as text, other
// values as Lua prints them.
func luaToString(lv lua.LValue) string {
	switch x := lv.(type) {
	case lua.LString:
		return string(x)
	case lua.LNumber:
		return formatNumber14g(float64(x))
	case *lua.LNilType:
		return "nil"
	}
	return lv.String()
}

// errorTable is luaPushErrorBuff: "-CODE msg" keeps its code, a bare message gets ERR, and
// the result is the table {err="CODE msg"} redis.pcall returns.
func errorTable(L *lua.LState, text string) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("err", lua.LString(errorText(text)))
	return t
}

func errorText(text string) string {
	code, msg := "ERR", text
	if strings.HasPrefix(text, "-") {
		if sp := strings.IndexByte(text, ' '); sp >= 0 {
			code, msg = text[1:sp], text[sp+1:]
		} else {
			msg = text[1:]
		}
	}
	msg = strings.Trim(msg, "\r\n")
	return code + " " + msg
}

// stringArray builds the KEYS/ARGV table.
func (v *vm) stringArray(items [][]byte) *lua.LTable {
	t := v.L.CreateTable(len(items), 0)
	for i, it := range items {
		t.RawSetInt(i+1, lua.LString(it))
	}
	return t
}

// call runs fn with args under the error handler and writes the reply.
func (v *vm) call(fn *lua.LFunction, args []lua.LValue, r Run, w *resp.Writer) (string, bool) {
	L := v.L
	v.run = &runState{Run: r, proto: 2}
	defer func() { v.run = nil }()
	if r.Kill != nil {
		L.SetContext(killContext{r.Kill})
		defer L.RemoveContext()
	}
	L.SetTop(0)
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	err := L.PCall(len(args), 1, v.errHandler)
	defer L.SetTop(0)
	if err != nil {
		return v.failure(err, r.Name)
	}
	ret := L.Get(-1)
	if t, ok := ret.(*lua.LTable); ok {
		if msg, ok := t.RawGetString("err").(lua.LString); ok {
			return sanitizeError(string(msg)), !ignoreStats(t)
		}
	}
	v.writeReply(w, ret, 0)
	return "", false
}

// ignoreStats reports whether an error table came from a command's reply, which the
// error statistics already counted.
func ignoreStats(t *lua.LTable) bool {
	return t.RawGetString("ignore_error_stats_update") == lua.LTrue
}

// failure renders a script error as Redis 7.0 does: the error's message, then where it
// was raised.
func (v *vm) failure(err error, name string) (string, bool) {
	ae, ok := err.(*lua.ApiError)
	if !ok {
		return sanitizeError("ERR Error running script " + name + ", " + truncateText(err.Error(), 100)), true
	}
	t, ok := ae.Object.(*lua.LTable)
	if !ok {
		return sanitizeError("ERR Error running script " + name + ", " + truncateText(luaToString(ae.Object), 100)), true
	}
	msg := ""
	if m, ok := t.RawGetString("err").(lua.LString); ok {
		msg = string(m)
	} else if n, ok := t.RawGetString("err").(lua.LNumber); ok {
		msg = formatNumber14g(float64(n))
	}
	source, sok := stringField(t, "source")
	line, lok := stringField(t, "line")
	if sok && lok {
		msg += " script: " + name + ", on " + source + ":" + line + "."
	}
	return sanitizeError(msg), !ignoreStats(t)
}

func stringField(t *lua.LTable, name string) (string, bool) {
	switch x := t.RawGetString(name).(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return formatNumber14g(float64(x)), true
	}
	return "", false
}

func truncateText(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// sanitizeError trims trailing newlines and turns inner ones into spaces
// (addReplyErrorSdsEx), so the error is one protocol line.
func sanitizeError(s string) string {
	s = strings.TrimRight(s, "\r\n")
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// killContext is a context.Context done when SCRIPT KILL closes the channel; gopher-lua
// checks it between instructions.
type killContext struct{ kill <-chan struct{} }

func (k killContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (k killContext) Done() <-chan struct{}       { return k.kill }
func (k killContext) Value(any) any               { return nil }
func (k killContext) Err() error {
	select {
	case <-k.kill:
		return context.Canceled
	default:
		return nil
	}
}

// numberArg formats a Lua number argument of redis.call as Redis does ("%.17g"), since
// Lua's own conversion would lose precision.
func numberArg(n float64) []byte { return resp.FormatDouble(nil, n) }
