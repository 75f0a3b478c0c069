package script

import (
	"bytes"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/node/resp"
)

// fakeHost answers redis.call from a table of replies keyed by the command name and
// records what the script ran.
type fakeHost struct {
	replies map[string]resp.Value
	calls   [][]string
	logs    []string
	repl    int
}

func (h *fakeHost) Call(argv [][]byte, proto int) (resp.Value, string) {
	var call []string
	for _, a := range argv {
		call = append(call, string(a))
	}
	h.calls = append(h.calls, call)
	name := strings.ToLower(string(argv[0]))
	if name == "nosuch" {
		return resp.Value{}, "Unknown Redis command called from script"
	}
	if name == "oom" {
		return resp.Value{}, "-OOM command not allowed when used memory > 'maxmemory'."
	}
	if name == "echo" {
		return resp.Value{Kind: resp.BulkString, Str: argv[1]}, ""
	}
	if v, ok := h.replies[name]; ok {
		return v, ""
	}
	return resp.Value{Kind: resp.SimpleString, Str: []byte("OK")}, ""
}

func (h *fakeHost) Log(level int, msg string) { h.logs = append(h.logs, msg) }
func (h *fakeHost) SetRepl(flags int)         { h.repl = flags }
func (h *fakeHost) ACLAllows(argv [][]byte) (bool, bool) {
	return string(argv[0]) != "denied", string(argv[0]) != "nosuch"
}

// eval runs body with the fake host and returns the reply as the client would read it.
func eval(t *testing.T, e *Engine, h *fakeHost, proto int, body string, keys, args []string) string {
	t.Helper()
	s, err := Compile([]byte(body))
	if err != nil {
		return "-ERR " + err.Error() + "\r\n"
	}
	var buf bytes.Buffer
	w := resp.NewWriter(&buf)
	w.Proto = proto
	toBytes := func(in []string) [][]byte {
		var out [][]byte
		for _, x := range in {
			out = append(out, []byte(x))
		}
		return out
	}
	msg, _ := e.Eval(s, Run{Host: h, Keys: toBytes(keys), Args: toBytes(args), Name: s.SHA}, w)
	if msg != "" {
		w.Raw([]byte("-" + msg + "\r\n"))
	}
	w.Flush()
	return buf.String()
}

func TestEvalReplies(t *testing.T) {
	e := NewEngine()
	defer e.Close()
	h := &fakeHost{replies: map[string]resp.Value{
		"get":     {Kind: resp.BulkString, IsNull: true},
		"incr":    {Kind: resp.Error, Str: []byte("ERR value is not an integer or out of range")},
		"hgetall": {Kind: resp.Map, Elems: []resp.Value{{Kind: resp.BulkString, Str: []byte("f")}, {Kind: resp.BulkString, Str: []byte("v")}}},
		"zscore":  {Kind: resp.Double, Float: 1.5},
		"exists":  {Kind: resp.Integer, Int: 1},
	}}
	sha := func(body string) string { return SHA1Hex([]byte(body)) }
	tests := []struct {
		name  string
		proto int
		body  string
		keys  []string
		args  []string
		want  string
	}{
		{"integer", 2, "return 1", nil, nil, ":1\r\n"},
		{"truncated number", 2, "return 3.99", nil, nil, ":3\r\n"},
		{"negative number", 2, "return -3.7", nil, nil, ":-3\r\n"},
		{"huge number", 2, "return 2^63", nil, nil, ":-9223372036854775808\r\n"},
		{"nan", 2, "return 0/0", nil, nil, ":-9223372036854775808\r\n"},
		{"string", 2, "return 'hi'", nil, nil, "$2\r\nhi\r\n"},
		{"true resp2", 2, "return true", nil, nil, ":1\r\n"},
		{"false resp2", 2, "return false", nil, nil, "$-1\r\n"},
		{"false resp3 caller", 3, "return false", nil, nil, "_\r\n"},
		{"false setresp 3", 3, "redis.setresp(3); return false", nil, nil, "#f\r\n"},
		{"nil", 2, "return nil", nil, nil, "$-1\r\n"},
		{"array stops at nil", 2, "return {1,2,nil,4}", nil, nil, "*2\r\n:1\r\n:2\r\n"},
		{"nested", 2, "return {1,'a',{true,false}}", nil, nil, "*3\r\n:1\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n"},
		{"status table", 2, "return {ok='FINE'}", nil, nil, "+FINE\r\n"},
		{"status_reply", 2, "return redis.status_reply('FINE')", nil, nil, "+FINE\r\n"},
		{"error table", 2, "return {err='X y'}", nil, nil, "-X y\r\n"},
		{"error no code", 2, "return {err='oops'}", nil, nil, "-oops\r\n"},
		{"error_reply", 2, "return redis.error_reply('bad')", nil, nil, "-ERR bad\r\n"},
		{"error_reply with dash", 2, "return redis.error_reply('-X y')", nil, nil, "-X y\r\n"},
		{"error_reply bad arg", 2, "return redis.error_reply(1)", nil, nil, "-ERR wrong number or type of arguments\r\n"},
		{"double resp2", 2, "return {double=3.5}", nil, nil, "$3\r\n3.5\r\n"},
		{"double resp3", 3, "return {double=3.5}", nil, nil, ",3.5\r\n"},
		{"big number resp3", 3, "return {big_number='123'}", nil, nil, "(123\r\n"},
		{"map resp3", 3, "return {map={a=1}}", nil, nil, "%1\r\n$1\r\na\r\n:1\r\n"},
		{"map resp2", 2, "return {map={a=1}}", nil, nil, "*2\r\n$1\r\na\r\n:1\r\n"},
		{"set resp3", 3, "return {set={a=true}}", nil, nil, "~1\r\n$1\r\na\r\n"},
		{"verbatim resp3", 3, "return {verbatim_string={format='txt',string='hi'}}", nil, nil, "=6\r\ntxt:hi\r\n"},
		{"keys and argv", 2, "return {KEYS[1], ARGV[1], #KEYS, #ARGV}", []string{"k"}, []string{"a", "b"}, "*4\r\n$1\r\nk\r\n$1\r\na\r\n:1\r\n:2\r\n"},
		{"null bulk is false", 2, "return redis.call('get','x') == false", nil, nil, ":1\r\n"},
		{"status is ok table", 2, "return redis.call('set','x','y').ok", nil, nil, "$2\r\nOK\r\n"},
		{"resp3 map reply", 2, "redis.setresp(3); return redis.call('hgetall','h').map.f", nil, nil, "$1\r\nv\r\n"},
		{"resp3 double reply", 2, "redis.setresp(3); return tostring(redis.call('zscore','z','m').double)", nil, nil, "$3\r\n1.5\r\n"},
		{"number args", 2, "return redis.call('echo', 0.1)", nil, nil, "$19\r\n0.10000000000000001\r\n"},
		{"integer args", 2, "return redis.call('echo', 42)", nil, nil, "$2\r\n42\r\n"},
		{"struct round trip", 2, "return {struct.unpack('>I2 b', struct.pack('>I2 b', 258, -1))}", nil, nil, "*3\r\n:258\r\n:-1\r\n:4\r\n"},
		{"struct aligned", 2, "return struct.pack('!4 b i', 1, 2)", nil, nil, "$8\r\n\x01\x00\x00\x00\x02\x00\x00\x00\r\n"},
		{"struct c0 length", 2, "return {struct.unpack('b c0', struct.pack('b c0', 2, 'hi'))}", nil, nil, "*2\r\n$2\r\nhi\r\n:4\r\n"},
		{"struct bad option", 2, "return struct.pack('z')", nil, nil, "-ERR user_script:1: bad argument #1 to 'pack' (invalid format option 'z') script: " + sha("return struct.pack('z')") + ", on @user_script:1.\r\n"},
		{"msgpack ints", 2, "return cmsgpack.pack(1, -1, 300, -200, 2^40)", nil, nil, "$17\r\n\x01\xff\xcd\x01\x2c\xd1\xff\x38\xcf\x00\x00\x01\x00\x00\x00\x00\x00\r\n"},
		{"msgpack floats", 2, "return cmsgpack.pack(1.5, 0.1)", nil, nil, "$14\r\n\xca\x3f\xc0\x00\x00\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a\r\n"},
		{"msgpack array or map", 2, "return cmsgpack.pack({}, {1,2}, {[1]=1,[3]=3})", nil, nil, "$9\r\n\x90\x92\x01\x02\x82\x01\x01\x03\x03\r\n"},
		{"msgpack round trip", 2, "local t = cmsgpack.unpack(cmsgpack.pack({1,{'a',{x=true}}})); return {t[1], t[2][1], tostring(t[2][2].x)}", nil, nil, "*3\r\n:1\r\n$1\r\na\r\n$4\r\ntrue\r\n"},
		{"msgpack unpack_limit", 2, "return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 2, 1)}", nil, nil, "*3\r\n:-1\r\n:2\r\n:3\r\n"},
		{"msgpack truncated", 2, "return cmsgpack.unpack('\\205\\001')", nil, nil, "-ERR user_script:1: Missing bytes in input. script: " + sha("return cmsgpack.unpack('\\205\\001')") + ", on @user_script:1.\r\n"},
		{"format %q", 2, "return string.format('%q', 'a\\nb')", nil, nil, "$6\r\n\"a\\\nb\"\r\n"},
		{"call error raised", 2, "return redis.call('incr','x')", nil, nil,
			"-ERR value is not an integer or out of range script: " + sha("return redis.call('incr','x')") + ", on @user_script:1.\r\n"},
		{"pcall error returned", 2, "return redis.pcall('incr','x')", nil, nil, "-ERR value is not an integer or out of range\r\n"},
		{"pcall error is table", 2, "local r = redis.pcall('incr','x'); return type(r) .. ' ' .. r.err", nil, nil,
			"$49\r\ntable ERR value is not an integer or out of range\r\n"},
		{"unknown command", 2, "return redis.call('nosuch')", nil, nil,
			"-ERR Unknown Redis command called from script script: " + sha("return redis.call('nosuch')") + ", on @user_script:1.\r\n"},
		{"oom refusal keeps its code", 2, "return redis.pcall('oom')", nil, nil, "-OOM command not allowed when used memory > 'maxmemory'.\r\n"},
		{"no arguments", 2, "return redis.pcall()", nil, nil, "-ERR Please specify at least one argument for this redis lib call\r\n"},
		{"bad argument type", 2, "return redis.pcall({})", nil, nil, "-ERR Lua redis lib command arguments must be strings or integers\r\n"},
		{"lua pcall gets the message", 2, "local ok, e = pcall(redis.call, 'incr', 'x'); return e", nil, nil,
			"$43\r\nERR value is not an integer or out of range\r\n"},
		{"error()", 2, "error('boom')", nil, nil,
			"-ERR user_script:1: boom script: " + sha("error('boom')") + ", on @user_script:1.\r\n"},
		{"error table raised", 2, "error({err='MY boom'})", nil, nil,
			"-MY boom script: " + sha("error({err='MY boom'})") + ", on @user_script:1.\r\n"},
		{"error on line 3", 2, "local a = 1\nlocal b = 2\nerror('x')", nil, nil,
			"-ERR user_script:3: x script: " + sha("local a = 1\nlocal b = 2\nerror('x')") + ", on @user_script:3.\r\n"},
		{"global write", 2, "x = 1", nil, nil,
			"-ERR user_script:1: Attempt to modify a readonly table script: " + sha("x = 1") + ", on @user_script:1.\r\n"},
		{"global read", 2, "return y", nil, nil,
			"-ERR user_script:1: Script attempted to access nonexistent global variable 'y' script: " + sha("return y") + ", on @user_script:1.\r\n"},
		{"library write", 2, "string.foo = 1", nil, nil,
			"-ERR user_script:1: Attempt to modify a readonly table script: " + sha("string.foo = 1") + ", on @user_script:1.\r\n"},
		{"rawset on globals", 2, "rawset(_G, 'x', 1)", nil, nil,
			"-ERR Attempt to modify a readonly table script: " + sha("rawset(_G, 'x', 1)") + ", on @user_script:1.\r\n"},
		{"setmetatable on globals", 2, "setmetatable(_G, nil)", nil, nil,
			"-ERR Attempt to modify a readonly table script: " + sha("setmetatable(_G, nil)") + ", on @user_script:1.\r\n"},
		{"table.insert on a library", 2, "table.insert(redis, 1)", nil, nil,
			"-ERR Attempt to modify a readonly table script: " + sha("table.insert(redis, 1)") + ", on @user_script:1.\r\n"},
		{"KEYS is writable", 2, "KEYS[1] = 'z'; return KEYS[1]", []string{"a"}, nil, "$1\r\nz\r\n"},
		{"locals are fine", 2, "local x = 5; return x", nil, nil, ":5\r\n"},
		{"string methods", 2, "return ('abc'):upper()", nil, nil, "$3\r\nABC\r\n"},
		{"removed builtins", 2, "return type(rawget(_G, 'print')) .. type(rawget(_G, 'loadfile')) .. type(rawget(_G, 'dofile'))", nil, nil,
			"$9\r\nnilnilnil\r\n"},
		{"pairs over globals", 2, "local n = 0; for k in pairs(_G) do if k == 'redis' then n = n + 1 end end; return n", nil, nil, ":1\r\n"},
		{"sha1hex", 2, "return redis.sha1hex('')", nil, nil, "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n"},
		{"tostring %.14g", 2, "return tostring(1/3)", nil, nil, "$16\r\n0.33333333333333\r\n"},
		{"version", 2, "return redis.REDIS_VERSION", nil, nil, "$6\r\n7.0.15\r\n"},
		{"setresp bad", 2, "redis.setresp(4)", nil, nil,
			"-ERR RESP version must be 2 or 3. script: " + sha("redis.setresp(4)") + ", on @user_script:1.\r\n"},
		{"math.random seeded", 2, "math.randomseed(7); return {math.random(1000), math.random(1000)}", nil, nil, "*2\r\n:267\r\n:683\r\n"},
		{"self-referencing table", 2, "local t = {}; t[1] = t; return #tostring(t) > 0", nil, nil, ":1\r\n"},
		{"acl_check_cmd", 2, "return {redis.acl_check_cmd('get','x'), redis.acl_check_cmd('denied')}", nil, nil, "*2\r\n:1\r\n$-1\r\n"},
		{"replicate_commands", 2, "return redis.replicate_commands()", nil, nil, ":1\r\n"},
		{"set_repl", 2, "redis.set_repl(redis.REPL_NONE); return 1", nil, nil, ":1\r\n"},
		{"set_repl bad", 2, "redis.set_repl(8)", nil, nil,
			"-ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE. script: " + sha("redis.set_repl(8)") + ", on @user_script:1.\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := eval(t, e, h, tt.proto, tt.body, tt.keys, tt.args); got != tt.want {
				t.Errorf("%s:\n got %q\nwant %q", tt.body, got, tt.want)
			}
		})
	}
}

func TestGlobalsDoNotLeakBetweenScripts(t *testing.T) {
	e := NewEngine()
	defer e.Close()
	h := &fakeHost{}
	eval(t, e, h, 2, "pcall(function() x = 1 end); pcall(rawset, _G, 'y', 2)", nil, nil)
	if got := eval(t, e, h, 2, "return {type(rawget(_G,'x')), type(rawget(_G,'y'))}", nil, nil); got != "*2\r\n$3\r\nnil\r\n$3\r\nnil\r\n" {
		t.Errorf("globals leaked: %q", got)
	}
	eval(t, e, h, 2, "pcall(function() getmetatable('').__index.upper = nil end)", nil, nil)
	if got := eval(t, e, h, 2, "return ('x'):upper()", nil, nil); got != "$1\r\nX\r\n" {
		t.Errorf("string library changed: %q", got)
	}
}

func TestLogAndSetRepl(t *testing.T) {
	e := NewEngine()
	defer e.Close()
	h := &fakeHost{repl: -1}
	eval(t, e, h, 2, "redis.log(redis.LOG_WARNING, 'hello', 42); redis.set_repl(redis.REPL_AOF)", nil, nil)
	if len(h.logs) != 1 || h.logs[0] != "hello 42" {
		t.Errorf("logs = %q", h.logs)
	}
	if h.repl != ReplAOF {
		t.Errorf("repl = %d, want %d", h.repl, ReplAOF)
	}
}

func TestKill(t *testing.T) {
	e := NewEngine()
	defer e.Close()
	s, err := Compile([]byte("local n = 0\nwhile true do\n  pcall(function() n = n + 1 end)\nend"))
	if err != nil {
		t.Fatal(err)
	}
	kill := make(chan struct{})
	close(kill)
	var buf bytes.Buffer
	msg, _ := e.Eval(s, Run{Host: &fakeHost{}, Name: s.SHA, Kill: kill}, resp.NewWriter(&buf))
	if !strings.HasPrefix(msg, "ERR Script killed by user with SCRIPT KILL... script: "+s.SHA+", on @user_script:") {
		t.Errorf("killed script replied %q", msg)
	}
	// The engine is usable afterwards.
	if got := eval(t, e, &fakeHost{}, 2, "return 7", nil, nil); got != ":7\r\n" {
		t.Errorf("after a kill: %q", got)
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct{ body, want string }{
		{"#!lua", "Invalid script shebang"},
		{"#!python\nreturn 1", "Unexpected engine in script shebang: #!python"},
		{"#!lua flags=bogus\nreturn 1", "Unexpected flag in script shebang: bogus"},
		{"#!lua name=x\nreturn 1", "Unknown lua shebang option: name=x"},
		{"#!lua \"unbalanced\nreturn 1", "Invalid engine in script shebang"},
		{"return +", "Error compiling script (new function): user_script:1: "},
	}
	for _, tt := range tests {
		_, err := Compile([]byte(tt.body))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Compile(%q) = %v, want %q", tt.body, err, tt.want)
		}
	}
	s, err := Compile([]byte("#!lua flags=no-writes,allow-oom\nreturn 1"))
	if err != nil || s.Flags != FlagNoWrites|FlagAllowOOM {
		t.Errorf("flags = %v, %v", s, err)
	}
	s, err = Compile([]byte("#!lua  flags=\nreturn 1"))
	if err != nil || s.Flags != 0 {
		t.Errorf("empty flags = %v, %v", s, err)
	}
	if s, _ := Compile([]byte("return 1")); s.Flags != FlagEvalCompat {
		t.Errorf("no shebang: flags %v", s.Flags)
	}
}

func TestShebangKeepsLineNumbers(t *testing.T) {
	e := NewEngine()
	defer e.Close()
	body := "#!lua flags=no-writes\nerror('x')"
	got := eval(t, e, &fakeHost{}, 2, body, nil, nil)
	want := "-ERR user_script:2: x script: " + SHA1Hex([]byte(body)) + ", on @user_script:2.\r\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLrand48(t *testing.T) {
	// The first numbers redis-server 7.0 returns for math.random(1000) after start-up.
	r := lrand48{x: lrandInit}
	for _, want := range []int32{397, 841} {
		f := float64(r.next()%lrandMax) / lrandMax
		if got := int32(f*1000) + 1; got != want {
			t.Errorf("got %d, want %d", got, want)
		}
	}
}

func TestFormatNumber14g(t *testing.T) {
	for in, want := range map[float64]string{
		0.1: "0.1", 1.0 / 3: "0.33333333333333", 1e100: "1e+100", 100000000000000: "1e+14",
		12345678901234: "12345678901234", 9007199254740992: "9.007199254741e+15", -0.5: "-0.5", 0: "0",
	} {
		if got := formatNumber14g(in); got != want {
			t.Errorf("formatNumber14g(%v) = %q, want %q", in, got, want)
		}
	}
}
