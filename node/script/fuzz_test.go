package script

import (
	"bytes"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/node/resp"
)

// FuzzParseShebang feeds arbitrary first lines to the shebang parser: it must not panic,
// and a body it accepts must keep its first line's length within the body.
func FuzzParseShebang(f *testing.F) {
	for _, s := range []string{"return 1", "#!lua\nreturn 1", "#!lua flags=no-writes,allow-oom\n", "#!lua", "#!lua \"x\n",
		"#!python\n", "#!lua flags=\n", "#!lua name=x\n", "#! lua\n", "#!lua flags=a,,b\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		flags, n, err := ParseShebang(body)
		if err != nil {
			return
		}
		if n < 0 || n > len(body) {
			t.Fatalf("shebang length %d outside body of %d", n, len(body))
		}
		if n == 0 && flags != FlagEvalCompat {
			t.Fatalf("no shebang but flags %v", flags)
		}
		if n > 0 && body[n] != '\n' {
			t.Fatalf("shebang does not end at a newline")
		}
	})
}

// FuzzCJSONDecode decodes arbitrary text with cjson.decode: errors are Lua errors, never
// panics, and whatever decodes re-encodes.
func FuzzCJSONDecode(f *testing.F) {
	for _, s := range []string{`[1,2,3]`, `{"a":{"b":[true,false,null]}}`, `"\u00e9\ud83d\ude00"`, `[1,`, `x`,
		`0x10`, `[nan]`, `1e400`, `"\x"`, `{"a":1,}`, `[[[[[]]]]]`, `""`, `-`, `"\ud800"`} {
		f.Add(s)
	}
	e := NewEngine()
	defer e.Close()
	s, err := Compile([]byte("local ok, v = pcall(cjson.decode, ARGV[1]); if ok then pcall(cjson.encode, v) end; return ok"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if strings.Count(text, "[")+strings.Count(text, "{") > 900 {
			return // nesting limits are exercised by the unit tests
		}
		var buf bytes.Buffer
		msg, _ := e.Eval(s, Run{Host: &fakeHost{}, Args: [][]byte{[]byte(text)}, Name: s.SHA}, resp.NewWriter(&buf))
		if msg != "" {
			t.Fatalf("decode of %q failed outside pcall: %s", text, msg)
		}
	})
}

// FuzzMsgpackUnpack decodes arbitrary bytes with cmsgpack.unpack: bad or truncated input is
// a Lua error, never a panic, and whatever decodes packs again.
func FuzzMsgpackUnpack(f *testing.F) {
	for _, s := range []string{"\x01", "\x93\x01\x02\x03", "\x82\xa1a\x01\xa1b\xc3", "\xcd\x01", "\xc1", "\xdd\xff\xff\xff\xff",
		"\xdb\x00\x00\x00\x05ab", "\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a", "\x91\x91\x91\x90"} {
		f.Add(s)
	}
	e := NewEngine()
	defer e.Close()
	s, err := Compile([]byte("local ok, v = pcall(cmsgpack.unpack, ARGV[1]); if ok and v ~= nil then cmsgpack.pack(v) end; return ok"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data string) {
		var buf bytes.Buffer
		msg, _ := e.Eval(s, Run{Host: &fakeHost{}, Args: [][]byte{[]byte(data)}, Name: s.SHA}, resp.NewWriter(&buf))
		if msg != "" {
			t.Fatalf("unpack of %q failed outside pcall: %s", data, msg)
		}
	})
}

// FuzzStructUnpack runs struct.unpack with arbitrary formats over arbitrary data.
func FuzzStructUnpack(f *testing.F) {
	f.Add("<i4 s", "\x07\x00\x00\x00ab\x00")
	f.Add("!8 b d", "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xf8\x3f")
	f.Add("b c0", "\x02hi")
	f.Add("i40", "x")
	f.Add("!3", "")
	e := NewEngine()
	defer e.Close()
	s, err := Compile([]byte("local ok = pcall(struct.unpack, ARGV[1], ARGV[2]); pcall(struct.size, ARGV[1]); return ok"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, format, data string) {
		var buf bytes.Buffer
		msg, _ := e.Eval(s, Run{Host: &fakeHost{}, Args: [][]byte{[]byte(format), []byte(data)}, Name: s.SHA}, resp.NewWriter(&buf))
		if msg != "" {
			t.Fatalf("unpack(%q, %q) failed outside pcall: %s", format, data, msg)
		}
	})
}
