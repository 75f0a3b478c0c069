package resp

import (
	"bufio"
	"bytes"
	"fmt"
	"testing"
	"testing/iotest"
)

// FuzzReadCommand feeds arbitrary bytes to the server-side parser: it must return commands
// or an error, never panic, and never hand back more argument bytes than it was given.
func FuzzReadCommand(f *testing.F) {
	for _, s := range []string{
		"*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n", "PING\r\n", "SET a \"b c\"\r\n", "*-1\r\n",
		"*1\r\n$-1\r\n", "*3\r\n$1\r\na\r\n", "'unterminated\r\n", "*1\r\n$99999999999\r\n",
		// Requests the one-pass path leaves to the general one, and pipelines of both kinds.
		"*1\n$4\nPING\r\n", "*1\r\n$04\r\nPING\r\n", "*01\r\n$4\r\nPING\r\n", "*1\r\n$0\r\n\r\n",
		"*2\r\n$3\r\nGET\r\n$1\r\nab\r\n", "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\nPING\r\n",
		"*0\r\n*1\r\n$4\r\nPING\r\n", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*1\r\n$4\r\nPI",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		r.MaxBulkLen = 1 << 20
		// The same bytes arriving one at a time never leave a whole request in the buffer,
		// so slow reads only the general path: both must see the same requests and errors.
		slow := NewReader(bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(data)), 16))
		slow.MaxBulkLen = 1 << 20
		for i := 0; i < 64; i++ {
			args, err := r.ReadCommand()
			got := fmt.Sprintf("%q %v", args, err)
			slowArgs, slowErr := slow.ReadCommand()
			if want := fmt.Sprintf("%q %v", slowArgs, slowErr); got != want {
				t.Fatalf("request %d: read whole %s, read byte by byte %s", i, got, want)
			}
			if err != nil {
				return
			}
			n := 0
			for _, a := range args {
				n += len(a)
			}
			if n > len(data) {
				t.Fatalf("parsed %d argument bytes from %d input bytes", n, len(data))
			}
		}
	})
}

// FuzzReadValue feeds arbitrary bytes to the client-side parser; a value that parses must
// re-encode and parse to the same rendering.
func FuzzReadValue(f *testing.F) {
	for _, s := range []string{
		"+OK\r\n", "-ERR x\r\n", ":1\r\n", "$3\r\nabc\r\n", "*2\r\n:1\r\n$-1\r\n", "%1\r\n+a\r\n#t\r\n",
		",1.5\r\n", "=7\r\ntxt:abc\r\n", "(123\r\n", ">1\r\n+msg\r\n", "|1\r\n+a\r\n+b\r\n:1\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		r.MaxBulkLen = 1 << 20
		v, err := r.ReadValue()
		if err != nil {
			return
		}
		encoded := encodeRESP3(v)
		v2, err := NewReader(bytes.NewReader(encoded)).ReadValue()
		if err != nil {
			t.Fatalf("re-encoded %q does not parse: %v", encoded, err)
		}
		if v.String() != v2.String() {
			t.Fatalf("round trip changed value: %q -> %q", v.String(), v2.String())
		}
	})
}
