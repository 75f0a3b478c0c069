package aof

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/node/effects"
)

func TestManifestRoundTrip(t *testing.T) {
	m := &Manifest{
		Base:    &FileInfo{Name: "appendonly.aof.2.base.rdb", Seq: 2, Type: Base},
		History: []FileInfo{{Name: "appendonly.aof.1.base.rdb", Seq: 1, Type: History}},
		Incrs:   []FileInfo{{Name: "appendonly.aof.2.incr.aof", Seq: 2, Type: Incr}, {Name: "odd name\n.aof", Seq: 3, Type: Incr}},
	}
	enc := m.Encode()
	want := "file appendonly.aof.2.base.rdb seq 2 type b\n" +
		"file appendonly.aof.1.base.rdb seq 1 type h\n" +
		"file appendonly.aof.2.incr.aof seq 2 type i\n" +
		"file \"odd name\\n.aof\" seq 3 type i\n"
	if string(enc) != want {
		t.Fatalf("Encode:\n%s\nwant:\n%s", enc, want)
	}
	got, err := ParseManifest(bytes.NewReader(enc))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip: %+v, want %+v", got, m)
	}
	if m.NextBaseSeq() != 3 || m.NextIncrSeq() != 4 {
		t.Fatalf("next seqs %d %d", m.NextBaseSeq(), m.NextIncrSeq())
	}
}

func TestParseManifestErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "empty"},
		{"# only a comment\n", "empty"},
		{"file a seq 1 type b", "not terminated"},
		{"file a seq 1\n", "needs"},
		{"file a seq x type b\n", "seq"},
		{"file a seq 1 type z\n", "unknown"},
		{"file a seq 1 type b\nfile b seq 2 type b\n", "duplicate base"},
		{"file a seq 2 type i\nfile b seq 1 type i\n", "non-monotonic"},
		{"file \"a seq 1 type b\n", "quotes"},
		{"file " + strings.Repeat("x", 1100) + " seq 1 type b\n", "too long"},
		{"file ../x seq 1 type b\n", "lacks"},
	} {
		_, err := ParseManifest(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
}

// TestParseRedisManifest reads a manifest as redis-server 7.0 writes it.
func TestParseRedisManifest(t *testing.T) {
	b, err := os.ReadFile("testdata/appendonlydir/appendonly.aof.manifest")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if m.Base == nil || len(m.Incrs) == 0 || !bytes.Equal(m.Encode(), b) {
		t.Fatalf("parsed %+v, encodes as\n%s\nwant\n%s", m, m.Encode(), b)
	}
}

func collect(t *testing.T, in string) ([]string, int64, error) {
	t.Helper()
	var got []string
	valid, err := ReadCommands(strings.NewReader(in), func(argv [][]byte) error {
		got = append(got, fmt.Sprintf("%q", argv))
		return nil
	})
	return got, valid, err
}

func TestReadCommands(t *testing.T) {
	set := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
	multi := "*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$4\r\nEXEC\r\n"
	for _, tc := range []struct {
		name, in  string
		want      []string
		valid     int
		truncated bool
		format    bool
	}{
		{name: "empty", in: ""},
		{name: "one", in: set, want: []string{`["SET" "k" "v"]`}, valid: len(set)},
		{name: "annotation", in: "#TS:1700000000\r\n" + set, want: []string{`["SET" "k" "v"]`}, valid: 16 + len(set)},
		{name: "multi", in: set + multi, want: []string{`["SET" "k" "v"]`, `["INCR" "n"]`}, valid: len(set + multi)},
		{name: "cut in a bulk", in: set + set[:len(set)-3], want: []string{`["SET" "k" "v"]`}, valid: len(set), truncated: true},
		{name: "cut in a header", in: set + "*3\r\n$3", want: []string{`["SET" "k" "v"]`}, valid: len(set), truncated: true},
		{name: "cut after the array header", in: set + "*3\r\n", want: []string{`["SET" "k" "v"]`}, valid: len(set), truncated: true},
		{name: "multi without exec", in: set + multi[:len(multi)-14], want: []string{`["SET" "k" "v"]`}, valid: len(set), truncated: true},
		{name: "garbage", in: set + "hello\r\n", want: []string{`["SET" "k" "v"]`}, valid: len(set), format: true},
		{name: "bad length", in: "*1\r\n$-5\r\n", format: true},
		{name: "no CRLF after a bulk", in: "*1\r\n$1\r\nab\r\n", format: true},
		{name: "exec alone", in: "*1\r\n$4\r\nEXEC\r\n", format: true},
		{name: "lying length", in: "*1\r\n$536870000\r\nab", truncated: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, valid, err := collect(t, tc.in)
			var fe *FormatError
			switch {
			case tc.truncated && !errors.Is(err, ErrTruncated):
				t.Fatalf("err %v, want ErrTruncated", err)
			case tc.format && !errors.As(err, &fe):
				t.Fatalf("err %v, want a FormatError", err)
			case !tc.truncated && !tc.format && err != nil:
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) || valid != int64(tc.valid) {
				t.Fatalf("got %v valid %d, want %v valid %d", got, valid, tc.want, tc.valid)
			}
		})
	}
}

// TestWriterOutputReadsBack writes batches through a Writer and reads the file back:
// SELECT where the database changes, MULTI/EXEC around a batch of several ops.
func TestWriterOutputReadsBack(t *testing.T) {
	for _, p := range []Policy{FsyncAlways, FsyncEverysec, FsyncNo} {
		path := filepath.Join(t.TempDir(), "appendonly.aof.1.incr.aof")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewWriter(f, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		var b effects.Batch
		b.AddStrings(0, "SET", "a", "1")
		w.Apply(&b)
		b.Reset()
		b.AddStrings(3, "SET", "b", "2")
		w.Apply(&b)
		b.Reset()
		b.AddStrings(3, "DEL", "x")
		b.AddStrings(5, "LPUSH", "l", "bin\x00ary")
		w.Apply(&b)
		if failed, err := w.Failed(); failed {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(path)
		if w.Size() != int64(len(data)) {
			t.Fatalf("Size %d, file %d bytes", w.Size(), len(data))
		}
		got, _, err := collect(t, string(data))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{`["SELECT" "0"]`, `["SET" "a" "1"]`, `["SELECT" "3"]`, `["SET" "b" "2"]`,
			`["DEL" "x"]`, `["SELECT" "5"]`, `["LPUSH" "l" "bin\x00ary"]`}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("policy %d: read back %v, want %v", p, got, want)
		}
		if !strings.Contains(string(data), "MULTI") || !strings.Contains(string(data), "EXEC") {
			t.Fatalf("no MULTI/EXEC around the two-op batch:\n%q", data)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte("file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"))
	f.Add([]byte("file \"a b\\x41\" seq 1 type i\n"))
	f.Add([]byte("# c\nfile 'x\\'y' seq 2 type h\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := ParseManifest(bytes.NewReader(in))
		if err != nil {
			return
		}
		// What parses must encode to something that parses to the same.
		again, err := ParseManifest(bytes.NewReader(m.Encode()))
		if err != nil {
			t.Fatalf("re-parse of %q: %v", m.Encode(), err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("%+v became %+v", m, again)
		}
	})
}

func FuzzReadCommands(f *testing.F) {
	f.Add([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"))
	f.Add([]byte("*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$4\r\nEXEC\r\n"))
	f.Add([]byte("#TS:1\r\n*1\r\n$4\r\nPING\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out []byte
		valid, err := ReadCommands(bytes.NewReader(in), func(argv [][]byte) error {
			out = appendCommand(out, argv...)
			return nil
		})
		if valid < 0 || valid > int64(len(in)) {
			t.Fatalf("valid %d outside the input's %d bytes", valid, len(in))
		}
		if err == nil && valid != int64(len(in)) && !bytes.HasPrefix(in[valid:], []byte("#")) {
			t.Fatalf("no error but only %d of %d bytes valid", valid, len(in))
		}
		// The valid prefix reads back without error.
		if _, err := ReadCommands(bytes.NewReader(in[:valid]), func([][]byte) error { return nil }); err != nil {
			t.Fatalf("the valid prefix %q fails: %v", in[:valid], err)
		}
	})
}
