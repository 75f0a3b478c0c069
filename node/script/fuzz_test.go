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
