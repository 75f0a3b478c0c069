// Package script is the node's Lua 5.1 scripting engine: EVAL's sandbox, the redis.*
// API, the conversions between Redis replies and Lua values, and the cjson, bit, struct
// and cmsgpack libraries Redis 7.0 ships with its interpreter.
//
// The VM is github.com/yuin/gopher-lua, a pure-Go Lua 5.1. The package does not know the
// server: a running script reaches the node through a Host (run one command, log a
// line), so the server decides about locks, ACLs and effects.
//
// # The sandbox
//
// Redis 7.0 makes the globals table and every library table read-only and raises an
// error when a script reads a global that does not exist. gopher-lua has no read-only
// tables, so each protected table is shown to scripts as an empty proxy whose metatable
// reads through to the real table and refuses writes (__newindex); rawset, setmetatable,
// next, pairs and ipairs know the proxies. KEYS and ARGV are set on the real globals
// before each run.
//
// # Differences from Redis's interpreter
//
// gopher-lua's own runtime and syntax error messages are worded differently from the C
// Lua's, numbers converted to strings by concatenation use Go's shortest form rather than
// "%.14g" (tostring uses "%.14g"), and tables are iterated in insertion order, so maps,
// sets and cjson objects with several keys may come out in another order than Redis's.
package script

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/clusterctl/clusterctl/node/resp"
)

// Host is the node as a running script sees it.
type Host interface {
	// Call runs one command for redis.call/redis.pcall and returns its reply, produced
	// in RESP version proto (2 or 3, as redis.setresp chose). A command refused before
	// it ran (unknown, wrong arity, not allowed from scripts, ACL, OOM, a write in a
	// read-only script) returns refused instead: Redis's text for the refusal, either
	// "-CODE message" or a bare message that gets the ERR code.
	Call(argv [][]byte, proto int) (reply resp.Value, refused string)
	// Log writes one redis.log line at a Redis log level (0 debug ... 3 warning).
	Log(level int, msg string)
	// SetRepl applies redis.set_repl: which of AOF (1) and replicas (2) the script's
	// later writes propagate to.
	SetRepl(flags int)
	// ACLAllows reports for redis.acl_check_cmd whether the script's user may run
	// argv; known is false when there is no such command.
	ACLAllows(argv [][]byte) (allowed, known bool)
}

// Flags are a script's shebang flags (#!lua flags=...).
type Flags uint32

// The script flags of Redis 7.0 (scripts_flags_def), and EvalCompat for a script
// without a shebang, which keeps the pre-7.0 behaviour.
const (
	FlagNoWrites Flags = 1 << iota
	FlagAllowOOM
	FlagAllowStale
	FlagNoCluster
	FlagAllowCrossSlotKeys
	FlagEvalCompat
)

var flagNames = []struct {
	name string
	flag Flags
}{
	{"no-writes", FlagNoWrites},
	{"allow-oom", FlagAllowOOM},
	{"allow-stale", FlagAllowStale},
	{"no-cluster", FlagNoCluster},
	{"allow-cross-slot-keys", FlagAllowCrossSlotKeys},
}

// Script is a compiled EVAL script.
type Script struct {
	// SHA is the lower-case hex SHA1 of Body, the script's name for EVALSHA.
	SHA string
	// Body is the source as sent.
	Body []byte
	// Flags are the shebang flags, FlagEvalCompat when there is no shebang.
	Flags Flags

	proto *lua.FunctionProto
}

// SHA1Hex returns the lower-case hex SHA1 of b, as Redis names scripts.
func SHA1Hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

// Compile checks a script's shebang and compiles it. The error's text is Redis's reply
// without the leading "ERR " (e.g. "Error compiling script (new function): ...").
func Compile(body []byte) (*Script, error) {
	flags, shebangLen, err := ParseShebang(body)
	if err != nil {
		return nil, err
	}
	// The shebang line is blanked rather than cut so line numbers stay those of the
	// body, as Redis's "function f_<sha>() <rest of body>" does.
	src := string(body)
	if shebangLen > 0 {
		src = strings.Repeat(" ", shebangLen) + src[shebangLen:]
	}
	proto, err := compileChunk(src, "user_script")
	if err != nil {
		return nil, fmt.Errorf("Error compiling script (new function): %s", err.Error())
	}
	return &Script{SHA: SHA1Hex(body), Body: body, Flags: flags, proto: proto}, nil
}

// compileChunk parses and compiles src; errors read "<name>:<line>: <message>".
func compileChunk(src, name string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		return nil, errors.New(syntaxErrorText(err, name, src))
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, errors.New(syntaxErrorText(err, name, src))
	}
	return proto, nil
}

// syntaxErrorText rewrites gopher-lua's parse error ("user_script line:1(column:8) near
// '+':   syntax error") in the C Lua 5.1 shape ("user_script:1: unexpected symbol near '+'").
// gopher-lua's grammar reports every parse failure as "syntax error"; Lua's most common
// wording for it, "unexpected symbol", is used. Lexer errors keep Lua's own texts.
func syntaxErrorText(err error, name, src string) string {
	var pe *parse.Error
	if errors.As(err, &pe) {
		text := strings.TrimSpace(pe.Message)
		line, near := pe.Pos.Line, "'"+pe.Token+"'"
		switch text {
		case "syntax error":
			text = "unexpected symbol"
		case "unterminated string":
			text = "unfinished string"
			// The scanner has consumed the newline that ended the string; Lua reports the
			// line the string is on, and names the token with its opening quote.
			if line != parse.EOF {
				line--
				near = "'" + openingQuote(src, line, pe.Token) + pe.Token + "'"
			}
		case "unterminated multiline string":
			text = "unfinished long string"
		}
		if line == parse.EOF {
			line, near = strings.Count(src, "\n")+1, "'<eof>'"
		}
		return fmt.Sprintf("%s:%d: %s near %s", name, line, text, near)
	}
	var ce *lua.CompileError
	if errors.As(err, &ce) {
		return fmt.Sprintf("%s:%d: %s", name, ce.Line, ce.Message)
	}
	return name + ": " + strings.TrimSpace(err.Error())
}

// openingQuote finds the quote that opened the unfinished string tok at the end of line
// (1-based) of src; Lua 5.1 shows it as part of the token.
func openingQuote(src string, line int, tok string) string {
	// Lines end at \n, \r, \r\n or \n\r, as both Lua scanners count them.
	var lines []string
	for start, i := 0, 0; i <= len(src); i++ {
		if i == len(src) {
			lines = append(lines, src[start:])
			break
		}
		if c := src[i]; c == '\n' || c == '\r' {
			lines = append(lines, src[start:i])
			if i+1 < len(src) && (src[i+1] == '\n' || src[i+1] == '\r') && src[i+1] != c {
				i++
			}
			start = i + 1
		}
	}
	if line < 1 || line > len(lines) {
		return "'"
	}
	l := lines[line-1]
	if strings.HasSuffix(l, "\""+tok) && !strings.HasSuffix(l, "'"+tok) {
		return "\""
	}
	return "'"
}

// ParseShebang reads a "#!lua [flags=a,b]" first line (evalExtractShebangFlags). It returns
// the flags (FlagEvalCompat without a shebang) and the length of the shebang line, without
// its newline. Errors carry Redis's text.
func ParseShebang(body []byte) (flags Flags, shebangLen int, err error) {
	if len(body) < 2 || body[0] != '#' || body[1] != '!' {
		return FlagEvalCompat, 0, nil
	}
	end := strings.IndexByte(string(body), '\n')
	if end < 0 {
		return 0, 0, errors.New("Invalid script shebang")
	}
	parts, perr := resp.SplitArgs(body[:end])
	if perr != nil || len(parts) == 0 {
		return 0, 0, errors.New("Invalid engine in script shebang")
	}
	if string(parts[0]) != "#!lua" {
		return 0, 0, fmt.Errorf("Unexpected engine in script shebang: %s", parts[0])
	}
	for _, p := range parts[1:] {
		opt, ok := strings.CutPrefix(string(p), "flags=")
		if !ok {
			return 0, 0, fmt.Errorf("Unknown lua shebang option: %s", p)
		}
		f, err := parseFlagList(opt)
		if err != nil {
			return 0, 0, err
		}
		flags |= f
	}
	return flags, end, nil
}

// parseFlagList parses the comma-separated flags of a shebang or a function.
func parseFlagList(list string) (Flags, error) {
	if list == "" {
		return 0, nil
	}
	var flags Flags
	for _, name := range strings.Split(list, ",") {
		f, ok := FlagByName(name)
		if !ok {
			return 0, fmt.Errorf("Unexpected flag in script shebang: %s", name)
		}
		flags |= f
	}
	return flags, nil
}

// FlagByName returns the flag called name ("no-writes").
func FlagByName(name string) (Flags, bool) {
	for _, f := range flagNames {
		if f.name == name {
			return f.flag, true
		}
	}
	return 0, false
}

// FlagNames returns the names of the flags set in f, in Redis's order.
func FlagNames(f Flags) []string {
	var out []string
	for _, x := range flagNames {
		if f&x.flag != 0 {
			out = append(out, x.name)
		}
	}
	return out
}

// Run is one invocation of a script.
type Run struct {
	Host Host
	// Keys and Args become KEYS and ARGV (or a function's keys and args tables).
	Keys, Args [][]byte
	// Name names the script in error replies: the SHA for EVAL, the function name for
	// FCALL.
	Name string
	// Kill, when closed, stops the script with "Script killed by user with SCRIPT KILL...".
	// The server closes it for SCRIPT KILL and FUNCTION KILL.
	Kill <-chan struct{}
}

// Engine is one Lua interpreter. Scripts run one at a time; Run serialises callers.
type Engine struct {
	mu  sync.Mutex // one script at a time: a Lua state is single-threaded
	vm  *vm
	rng lrand48
}

// NewEngine returns an engine with a fresh interpreter.
func NewEngine() *Engine {
	e := &Engine{rng: lrand48{x: lrandInit}}
	e.vm = newVM(&e.rng)
	return e
}

// Reset replaces the interpreter with a fresh one (SCRIPT FLUSH), waiting for a running
// script to finish.
func (e *Engine) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.vm.close()
	e.vm = newVM(&e.rng)
}

// Close releases the interpreter.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.vm.close()
}

// MemoryBytes estimates the interpreter's memory for INFO (used_memory_lua).
func (e *Engine) MemoryBytes() int64 {
	return 32 * 1024 // gopher-lua keeps no allocation count; Redis reports ~31 KB for an idle VM
}

// Eval runs a compiled EVAL script and writes its reply to w, whose protocol is the
// caller's. It returns the error reply's text (without "-") when the script failed or
// returned an error, "" otherwise; the error has then not been written, so the server
// can count it. countError is false for an error a command of the script already
// counted in the error statistics.
func (e *Engine) Eval(s *Script, r Run, w *resp.Writer) (errReply string, countError bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v := e.vm
	fn := v.functions[s.SHA]
	if fn == nil {
		fn = v.L.NewFunctionFromProto(s.proto)
		fn.Env = v.globals
		v.functions[s.SHA] = fn
	}
	v.real.RawSetString("KEYS", v.stringArray(r.Keys))
	v.real.RawSetString("ARGV", v.stringArray(r.Args))
	return v.call(fn, nil, r, w)
}

// formatNumber14g formats n as Lua 5.1's tostring does (LUA_NUMBER_FMT "%.14g").
func formatNumber14g(n float64) string {
	switch {
	case math.IsInf(n, 1):
		return "inf"
	case math.IsInf(n, -1):
		return "-inf"
	case math.IsNaN(n):
		if math.Signbit(n) {
			return "-nan"
		}
		return "nan"
	}
	return formatG(n, 14)
}

// formatG mirrors C's printf("%.<prec>g").
func formatG(f float64, prec int) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	e := strconv.FormatFloat(f, 'e', prec-1, 64)
	i := strings.LastIndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	if exp < -4 || exp >= prec {
		mant := trimFraction(e[:i])
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		es := strconv.Itoa(exp)
		if len(es) < 2 {
			es = "0" + es
		}
		return mant + "e" + sign + es
	}
	return trimFraction(strconv.FormatFloat(f, 'f', prec-1-exp, 64))
}

func trimFraction(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
