package resp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
)

func readAll(t *testing.T, input string) ([][]string, error) {
	t.Helper()
	r := NewReader(bufio.NewReader(strings.NewReader(input)))
	var out [][]string
	for {
		args, err := r.ReadCommand()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		var s []string
		for _, a := range args {
			s = append(s, string(a))
		}
		out = append(out, s)
	}
}

func TestReadCommand(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  [][]string
		err   string
	}{
		{"multibulk", "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n", [][]string{{"GET", "foo"}}, ""},
		{"pipeline", "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", [][]string{{"PING"}, {"PING"}}, ""},
		{"inline", "SET k \"a b\"\r\n", [][]string{{"SET", "k", "a b"}}, ""},
		{"inline LF only", "PING\n", [][]string{{"PING"}}, ""},
		{"blank inline ignored", "\r\nPING\r\n", [][]string{nil, {"PING"}}, ""},
		{"empty multibulk", "*0\r\n*1\r\n$4\r\nPING\r\n", [][]string{nil, {"PING"}}, ""},
		{"binary arg", "*1\r\n$4\r\na\r\nb\r\n", [][]string{{"a\r\nb"}}, ""},
		{"bad multibulk", "*x\r\n", nil, "Protocol error: invalid multibulk length"},
		{"huge multibulk", "*9999999999\r\n", nil, "Protocol error: invalid multibulk length"},
		{"expected dollar", "*1\r\n:3\r\n", nil, "Protocol error: expected '$', got ':'"},
		{"bad bulk", "*1\r\n$-5\r\n", nil, "Protocol error: invalid bulk length"},
		{"bulk not a number", "*1\r\n$abc\r\n", nil, "Protocol error: invalid bulk length"},
		{"600MB bulk", "*1\r\n$629145600\r\n", nil, "Protocol error: invalid bulk length"},
		{"unbalanced quotes", "SET \"a\r\n", nil, "Protocol error: unbalanced quotes in request"},
		{"truncated bulk", "*1\r\n$10\r\nabc", nil, io.ErrUnexpectedEOF.Error()},
		{"inline too big", strings.Repeat("a", 70*1024), nil, "Protocol error: too big inline request"},
		{"mbulk count too big", "*" + strings.Repeat("1", 70*1024), nil, "Protocol error: too big mbulk count string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, tt.input)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if strings.Join(got[i], "|") != strings.Join(tt.want[i], "|") || len(got[i]) != len(tt.want[i]) {
					t.Fatalf("command %d: got %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestUnauthenticatedLimits(t *testing.T) {
	for _, tt := range []struct{ input, err string }{
		{"*11\r\n", "Protocol error: unauthenticated multibulk length"},
		{"*1\r\n$16385\r\n", "Protocol error: unauthenticated bulk length"},
	} {
		r := NewReader(strings.NewReader(tt.input))
		r.Unauthenticated = true
		_, err := r.ReadCommand()
		var pe *ProtocolError
		if !errors.As(err, &pe) || err.Error() != tt.err {
			t.Errorf("%q: err = %v, want %q", tt.input, err, tt.err)
		}
	}
}

func TestQueryBufferLimit(t *testing.T) {
	r := NewReader(strings.NewReader("*2\r\n$6\r\nabcdef\r\n$6\r\nabcdef\r\n"))
	r.MaxQueryBuffer = 10
	if _, err := r.ReadCommand(); !IsQueryBufferLimit(err) {
		t.Fatalf("err = %v, want query buffer limit", err)
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		bad  bool
	}{
		{`set a b`, []string{"set", "a", "b"}, false},
		{`  spaced   out  `, []string{"spaced", "out"}, false},
		{`"a\x41\n" 'it\'s'`, []string{"aA\n", "it's"}, false},
		{`""`, []string{""}, false},
		{`"unterminated`, nil, true},
		{`"closed"glued`, nil, true},
		{`'x'y`, nil, true},
		{`save ""`, []string{"save", ""}, false},
	}
	for _, tt := range tests {
		got, err := SplitArgs([]byte(tt.in))
		if tt.bad {
			if err == nil {
				t.Errorf("SplitArgs(%q) = %q, want error", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("SplitArgs(%q): %v", tt.in, err)
			continue
		}
		var s []string
		for _, g := range got {
			s = append(s, string(g))
		}
		if strings.Join(s, "|") != strings.Join(tt.want, "|") || len(s) != len(tt.want) {
			t.Errorf("SplitArgs(%q) = %q, want %q", tt.in, s, tt.want)
		}
	}
}

func TestWriterRESP2AndRESP3(t *testing.T) {
	tests := []struct {
		name  string
		write func(w *Writer)
		resp2 string
		resp3 string
	}{
		{"null", func(w *Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
		{"null array", func(w *Writer) { w.NullArray() }, "*-1\r\n", "_\r\n"},
		{"map", func(w *Writer) { w.MapLen(1); w.BulkString("a"); w.Int(1) }, "*2\r\n$1\r\na\r\n:1\r\n", "%1\r\n$1\r\na\r\n:1\r\n"},
		{"set", func(w *Writer) { w.SetLen(0) }, "*0\r\n", "~0\r\n"},
		{"push", func(w *Writer) { w.PushLen(0) }, "*0\r\n", ">0\r\n"},
		{"double", func(w *Writer) { w.Double(1.1) }, "$18\r\n1.1000000000000001\r\n", ",1.1000000000000001\r\n"},
		{"double int", func(w *Writer) { w.Double(3) }, "$1\r\n3\r\n", ",3\r\n"},
		{"double inf", func(w *Writer) { w.Double(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		{"bool", func(w *Writer) { w.Bool(true) }, ":1\r\n", "#t\r\n"},
		{"verbatim", func(w *Writer) { w.Verbatim("txt", "hi") }, "$2\r\nhi\r\n", "=6\r\ntxt:hi\r\n"},
		{"error code added", func(w *Writer) { w.Error("bad thing") }, "-ERR bad thing\r\n", "-ERR bad thing\r\n"},
		{"error code kept", func(w *Writer) { w.Error("WRONGTYPE Operation") }, "-WRONGTYPE Operation\r\n", "-WRONGTYPE Operation\r\n"},
		{"error newline", func(w *Writer) { w.Error("ERR a\r\nb") }, "-ERR a  b\r\n", "-ERR a  b\r\n"},
	}
	for _, tt := range tests {
		for proto, want := range map[int]string{2: tt.resp2, 3: tt.resp3} {
			var buf bytes.Buffer
			w := NewWriter(&buf)
			w.Proto = proto
			tt.write(w)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if buf.String() != want {
				t.Errorf("%s RESP%d: got %q, want %q", tt.name, proto, buf.String(), want)
			}
		}
	}
}

func TestFormatDouble(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0"}, {1.5, "1.5"}, {-2, "-2"}, {0.1, "0.10000000000000001"},
		{1e20, "1e+20"}, {1.5e-7, "1.4999999999999999e-07"}, {123456789012345678, "1.2345678901234568e+17"},
		{3.0e-5, "3.0000000000000001e-05"}, {100, "100"},
	}
	for _, tt := range tests {
		if got := string(FormatDouble(nil, tt.f)); got != tt.want {
			t.Errorf("FormatDouble(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestReadValueRoundTrip(t *testing.T) {
	input := "*7\r\n+OK\r\n-ERR no\r\n:42\r\n$3\r\nabc\r\n$-1\r\n*-1\r\n%1\r\n+k\r\n,1.5\r\n"
	r := NewReader(strings.NewReader(input))
	v, err := r.ReadValue()
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != Array || len(v.Elems) != 7 {
		t.Fatalf("got %+v", v)
	}
	if v.Elems[1].Err() == nil || v.Elems[1].Err().Error() != "ERR no" {
		t.Errorf("error element: %v", v.Elems[1].Err())
	}
	if !v.Elems[4].IsNull || !v.Elems[5].IsNull {
		t.Errorf("nulls not marked: %+v %+v", v.Elems[4], v.Elems[5])
	}
	want := strings.Replace(input, "$-1\r\n*-1\r\n", "_\r\n_\r\n", 1) // RESP3 has one null
	if got := string(encodeRESP3(v)); got != want {
		t.Errorf("round trip: got %q, want %q", got, want)
	}
}

// Attributes may come before any value, nested ones included, and are dropped; a -1
// length on any aggregate is a null. Each input renders, re-encoded in RESP3, as want.
func TestReadValueAttributesAndNulls(t *testing.T) {
	tests := []struct{ in, want string }{
		{"|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n", "$1\r\nv\r\n"},
		{"*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n", "*2\r\n:1\r\n:2\r\n"},
		{"*1\r\n|0\r\n|0\r\n+x\r\n", "*1\r\n+x\r\n"},
		{"%-1\r\n", "_\r\n"},
		{"~-1\r\n", "_\r\n"},
		{"*1\r\n%-1\r\n", "*1\r\n_\r\n"},
	}
	for _, tt := range tests {
		v, err := NewReader(strings.NewReader(tt.in)).ReadValue()
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got := string(encodeRESP3(v)); got != tt.want {
			t.Errorf("%q: re-encoded as %q, want %q", tt.in, got, tt.want)
		}
	}
	// An attribute with nothing after it is an incomplete reply, not a value.
	if _, err := NewReader(strings.NewReader("*1\r\n|0\r\n")).ReadValue(); err == nil {
		t.Errorf("attribute without its value: no error")
	}
}

func TestReplyErrorPrefix(t *testing.T) {
	if p := ReplyError("MOVED 3999 127.0.0.1:6381").Prefix(); p != "MOVED" {
		t.Errorf("Prefix = %q", p)
	}
}

func TestParseIntIsString2ll(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"7", 7, true},
		{"-7", -7, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"-9223372036854775808", -9223372036854775808, true},
		{"9223372036854775808", 0, false},
		{"01", 0, false},
		{"00", 0, false},
		{"-0", 0, false},
		{"-01", 0, false},
		{"+1", 0, false},
		{" 1", 0, false},
		{"", 0, false},
		{"-", 0, false},
	} {
		got, ok := ParseInt([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseInt(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// BenchmarkReadCommandPipelined reads redis-benchmark's SET requests arriving 16 at a time.
func BenchmarkReadCommandPipelined(b *testing.B) {
	var batch bytes.Buffer
	for i := 0; i < 16; i++ {
		fmt.Fprintf(&batch, "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$3\r\nxxx\r\n", i)
	}
	src := &repeatReader{data: batch.Bytes()}
	r := NewReader(src)
	b.SetBytes(int64(batch.Len() / 16))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := r.ReadCommand(); err != nil {
			b.Fatal(err)
		}
	}
}

// repeatReader returns data over and over, at most one copy per Read, as a socket
// delivers one pipelined batch per read.
type repeatReader struct {
	data []byte
	off  int
}

func (rr *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, rr.data[rr.off:])
	rr.off = (rr.off + n) % len(rr.data)
	return n, nil
}

// encodeRESP3 writes v as a RESP3 server would.
func encodeRESP3(v Value) []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Proto = 3
	w.Value(v)
	w.Flush()
	return buf.Bytes()
}
