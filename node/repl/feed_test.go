package repl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/node/effects"
)

func batch(ops ...effects.Op) *effects.Batch {
	b := &effects.Batch{}
	for _, op := range ops {
		b.Add(op.DB, op.Argv...)
	}
	return b
}

func op(db int, args ...string) effects.Op {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	return effects.Op{DB: db, Argv: argv}
}

// TestFeederMatchesRedisStream compares the stream with the bytes redis-server 7.0.15
// sent a replica for the same commands (testdata/redis-stream.txt, captured from a
// PSYNC connection): SELECT only when the database changes, the first op's SELECT
// before MULTI, and several ops wrapped in MULTI/EXEC.
func TestFeederMatchesRedisStream(t *testing.T) {
	var f Feeder
	f.ForceSelect()
	var out []byte
	for _, b := range []*effects.Batch{
		batch(op(0, "set", "a", "1")),
		batch(op(1, "set", "b", "2")),
		batch(op(1, "SET", "c", "3", "PXAT", "1795473252410")),
		batch(op(0, "SET", "x", "1"), op(0, "INCR", "x")),
		batch(op(0, "set", "k1", "v"), op(0, "set", "k2", "v")),
		batch(op(2, "set", "k1", "v"), op(2, "set", "k2", "v")),
		batch(op(2, "set", "k1", "v")),
		batch(op(2, "SET", "e", "1", "PXAT", "1795473152445")),
		batch(op(2, "DEL", "e")),
		{},
	} {
		out = f.AppendBatch(out, b)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "redis-stream.txt"))
	if err != nil {
		t.Fatal(err)
	}
	wantStream := strings.ReplaceAll(strings.TrimSpace(string(want)), "\n", "\r\n") + "\r\n"
	if string(out) != wantStream {
		t.Fatalf("stream differs from redis-server's:\n got %q\nwant %q", out, wantStream)
	}
	if len(out) != 555 {
		t.Fatalf("stream is %d bytes; redis-server's master_repl_offset was 555", len(out))
	}
}

func TestFeederSelectsOnlyOnChange(t *testing.T) {
	var f Feeder
	out := f.AppendOp(nil, 0, [][]byte{[]byte("PING")})
	out = f.AppendOp(out, 0, [][]byte{[]byte("PING")})
	if got := strings.Count(string(out), "SELECT"); got != 1 {
		t.Fatalf("%d SELECTs in %q", got, out)
	}
	f.ForceSelect()
	out = f.AppendOp(out[:0], 0, [][]byte{[]byte("PING")})
	if !strings.HasPrefix(string(out), "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n") {
		t.Fatalf("no SELECT after ForceSelect: %q", out)
	}
	out = f.AppendOp(out[:0], 12, [][]byte{[]byte("DEL"), []byte("k")})
	if !strings.HasPrefix(string(out), "*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n") {
		t.Fatalf("two-digit database: %q", out)
	}
}
