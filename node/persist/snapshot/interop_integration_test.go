package snapshot_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/node/persist/internal/rdbtest"
)

// These tests move dump.rdb files between clusterctl server and the real redis-server
// 7.0 in both directions and compare what each server then holds, key by key: type,
// OBJECT ENCODING, value and expiry.

const farFuture = 4102444800123 // 2100-01-01: no key expires during a test

// fillCommands builds a data set covering every type and encoding the node serves, over
// three databases, with TTLs. Both servers run the same commands.
func fillCommands() [][]string {
	var cmds [][]string
	add := func(args ...string) { cmds = append(cmds, args) }
	expire := func(key string, i int) { add("PEXPIREAT", key, strconv.FormatInt(farFuture+int64(i), 10)) }

	add("SELECT", "0")
	// Strings: int, int beyond 32 bits, negative, embstr, raw, LZF-compressible,
	// binary, empty, a number that is not an int encoding (leading zero).
	add("SET", "str:int", "12345")
	add("SET", "str:bigint", "1099511627776")
	add("SET", "str:negint", "-42")
	add("SET", "str:embstr", "hello world")
	add("SET", "str:raw", strings.Repeat("raw string of more than forty four bytes ", 3))
	add("SET", "str:lzf", strings.Repeat("a", 2000))
	add("SET", "str:binary", "\x00\x01\xff\xfe binary")
	add("SET", "str:empty", "")
	add("SET", "str:zero-led", "007")
	add("APPEND", "str:appended", "grown by append")
	expire("str:int", 1)
	expire("str:raw", 2)

	// Lists: small, one with many quicklist nodes, binary and integer elements.
	add("RPUSH", "list:small", "a", "1", "", "-7", "a long element of the small list")
	big := []string{"RPUSH", "list:big"}
	for i := 0; i < 3000; i++ {
		big = append(big, fmt.Sprintf("element-%d-%s", i, strings.Repeat("x", i%40)))
	}
	add(big...)
	add("LPUSH", "list:ints", "1", "2", "300", "70000", "5000000000", "-1")
	expire("list:small", 3)

	// Sorted sets: listpack, skiplist (too many members, then a too long member), and
	// scores that stress the double encoding.
	add("ZADD", "zset:listpack", "1", "one", "2.5", "two.5", "-3", "minus", "inf", "top", "-inf", "bottom", "0.1", "tenth")
	zbig := []string{"ZADD", "zset:skiplist"}
	for i := 0; i < 300; i++ {
		zbig = append(zbig, strconv.FormatFloat(float64(i)*1.25, 'g', -1, 64), fmt.Sprintf("member-%d", i))
	}
	add(zbig...)
	add("ZADD", "zset:longmember", "1", strings.Repeat("m", 100), "2", "short")
	add("ZADD", "zset:precise", "3.141592653589793", "pi", "1e-300", "tiny", "1.7976931348623157e308", "huge")
	expire("zset:skiplist", 4)

	// Streams: entries with deletions, trimming, groups with pending entries and
	// consumers, an empty stream made by a group.
	for i := 1; i <= 250; i++ {
		add("XADD", "stream:big", fmt.Sprintf("%d-%d", 1000+i, i%3), "field", strconv.Itoa(i), "other", strings.Repeat("v", i%20))
	}
	add("XDEL", "stream:big", "1010-1", "1100-1")
	add("XGROUP", "CREATE", "stream:big", "g1", "0")
	add("XGROUP", "CREATE", "stream:big", "g2", "$")
	add("XGROUP", "CREATECONSUMER", "stream:big", "g2", "idle-consumer")
	add("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", "stream:big", ">")
	add("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", "stream:big", ">")
	add("XACK", "stream:big", "g1", "1002-2")
	add("XADD", "stream:trimmed", "MAXLEN", "5", "4999-5", "a", "first")
	for i := 0; i < 20; i++ {
		add("XADD", "stream:trimmed", "MAXLEN", "5", fmt.Sprintf("%d-0", 5000+i), "a", strconv.Itoa(i))
	}
	add("XGROUP", "CREATE", "stream:empty", "grp", "$", "MKSTREAM")
	expire("stream:trimmed", 5)

	add("SELECT", "3")
	add("SET", "db3:str", "in database three")
	add("RPUSH", "db3:list", "x", "y")
	add("ZADD", "db3:zset", "1", "a")
	expire("db3:str", 6)

	add("SELECT", "15")
	add("SET", "db15:str", "1")
	expire("db15:str", 7)
	return cmds
}

func dial(t *testing.T, n *nodetest.Node) *rdbtest.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rdbtest.Dial(ctx, n.Addr())
	if err != nil {
		t.Fatalf("dial %s %s: %v", n.Kind, n.Addr(), err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func run(t *testing.T, c *rdbtest.Client, cmds [][]string) {
	t.Helper()
	for _, cmd := range cmds {
		if _, err := c.Do(cmd...); err != nil {
			t.Fatalf("%q: %v", cmd, err)
		}
	}
	if _, err := c.Do("SELECT", "0"); err != nil {
		t.Fatal(err)
	}
}

func snapshotOf(t *testing.T, c *rdbtest.Client, what string) *rdbtest.Snapshot {
	t.Helper()
	s, err := c.Snapshot(false)
	if err != nil {
		t.Fatalf("read %s: %v", what, err)
	}
	if len(s.Keys) == 0 {
		t.Fatalf("%s holds no keys", what)
	}
	return s
}

// requireCoverage fails when a data set lacks one of the type/encoding pairs the fill
// commands are meant to produce, so that a comparison never passes on too little.
func requireCoverage(t *testing.T, s *rdbtest.Snapshot) {
	t.Helper()
	seen := map[string]bool{}
	for _, k := range s.Keys {
		seen[k.Type+"/"+k.Encoding] = true
	}
	for _, want := range []string{"string/int", "string/embstr", "string/raw", "list/quicklist",
		"zset/listpack", "zset/skiplist", "stream/stream"} {
		if !seen[want] {
			t.Errorf("the data set has no %s key (it has %v)", want, seen)
		}
	}
}

// compare reports every key that differs between two servers' data sets.
func compare(t *testing.T, got, want *rdbtest.Snapshot, gotName, wantName string) {
	t.Helper()
	wantKeys := map[string]rdbtest.Key{}
	for _, k := range want.Keys {
		wantKeys[fmt.Sprintf("%d/%q", k.DB, k.Key)] = k
	}
	bad := 0
	for _, k := range got.Keys {
		id := fmt.Sprintf("%d/%q", k.DB, k.Key)
		w, ok := wantKeys[id]
		delete(wantKeys, id)
		switch {
		case !ok:
			t.Errorf("key %s is in %s only", id, gotName)
		case !reflect.DeepEqual(k, w):
			t.Errorf("key %s differs:\n%s: %s\n%s: %s", id, gotName, describeKey(k), wantName, describeKey(w))
		default:
			continue
		}
		if bad++; bad > 10 {
			t.Fatal("too many differences")
		}
	}
	for id := range wantKeys {
		t.Errorf("key %s is in %s only", id, wantName)
	}
}

func describeKey(k rdbtest.Key) string {
	s := fmt.Sprintf("%s %s exp=%d", k.Type, k.Encoding, k.ExpireAt)
	switch {
	case k.Stream != nil:
		s += fmt.Sprintf(" %+v", *k.Stream)
	case k.String != "":
		s += fmt.Sprintf(" %q", k.String)
	default:
		s += fmt.Sprintf(" list=%q set=%q hash=%q zset=%q", k.List, k.Set, k.Hash, k.ZSet)
	}
	if len(s) > 2000 {
		s = s[:2000] + "..."
	}
	return s
}

func checkRDB(t *testing.T, path string) {
	t.Helper()
	bin := nodetest.RequireBinary(t, "redis-check-rdb")
	out, err := exec.Command(bin, path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "RDB looks OK") {
		t.Fatalf("redis-check-rdb %s: %v\n%s", path, err, out)
	}
}

// copyFile copies dump.rdb into a fresh directory for the other server to start on.
func copyFile(t *testing.T, from string) string {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dump.rdb"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRedisLoadsOurDumpRDB(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	ours := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{})
	oc := dial(t, ours)
	run(t, oc, fillCommands())
	if _, err := oc.Do("SAVE"); err != nil {
		t.Fatal(err)
	}
	want := snapshotOf(t, oc, "clusterctl")
	requireCoverage(t, want)
	path := filepath.Join(ours.Dir, "dump.rdb")
	checkRDB(t, path)

	redis := nodetest.Start(t, nodetest.Redis, nodetest.Options{Dir: copyFile(t, path)})
	got := snapshotOf(t, dial(t, redis), "redis-server after loading our dump.rdb")
	compare(t, got, want, "redis-server", "clusterctl")
}

func TestWeLoadRedisDumpRDB(t *testing.T) {
	redis := nodetest.Start(t, nodetest.Redis, nodetest.Options{})
	rc := dial(t, redis)
	run(t, rc, fillCommands())
	if _, err := rc.Do("SAVE"); err != nil {
		t.Fatal(err)
	}
	want := snapshotOf(t, rc, "redis-server")
	requireCoverage(t, want)

	ours := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{Dir: copyFile(t, filepath.Join(redis.Dir, "dump.rdb"))})
	oc := dial(t, ours)
	got := snapshotOf(t, oc, "clusterctl after loading redis-server's dump.rdb")
	compare(t, got, want, "clusterctl", "redis-server")

	// Our own save of what we loaded is accepted by redis-check-rdb too.
	if _, err := oc.Do("SAVE"); err != nil {
		t.Fatal(err)
	}
	checkRDB(t, filepath.Join(ours.Dir, "dump.rdb"))
}

// TestBgsaveAndDebugReloadRoundTrip saves with BGSAVE while the data set changes and
// checks what DEBUG RELOAD and a restart bring back.
func TestBgsaveAndRestartRoundTrip(t *testing.T) {
	ours := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{})
	oc := dial(t, ours)
	run(t, oc, fillCommands())
	want := snapshotOf(t, oc, "clusterctl")
	if v, err := oc.Do("BGSAVE"); err != nil || string(v.Str) != "Background saving started" {
		t.Fatalf("BGSAVE: %q %v", v.Str, err)
	}
	waitBgsave(t, oc)
	checkRDB(t, filepath.Join(ours.Dir, "dump.rdb"))
	ours.Restart()
	oc = dial(t, ours)
	compare(t, snapshotOf(t, oc, "clusterctl after restart"), want, "restarted", "before")
}

func waitBgsave(t *testing.T, c *rdbtest.Client) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		v, err := c.Do("INFO", "persistence")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(v.Str), "rdb_bgsave_in_progress:0") {
			if !strings.Contains(string(v.Str), "rdb_last_bgsave_status:ok") {
				t.Fatalf("BGSAVE failed:\n%s", v.Str)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("BGSAVE still running after 30 s")
}

// TestCorruptDumpRDBRefusesToStart damages a dump.rdb in several ways; each time the
// server must say what is wrong and exit rather than serve part of the data set.
func TestCorruptDumpRDBRefusesToStart(t *testing.T) {
	ours := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{})
	oc := dial(t, ours)
	run(t, oc, fillCommands())
	if _, err := oc.Do("SAVE"); err != nil {
		t.Fatal(err)
	}
	ours.Stop()
	good, err := os.ReadFile(filepath.Join(ours.Dir, "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(at int) []byte {
		b := append([]byte(nil), good...)
		b[at] ^= 0x20
		return b
	}
	cases := []struct {
		name string
		file []byte
		// want is what the error must say: one of these.
		want []string
	}{
		{"truncated in the middle", good[:len(good)/2], []string{"unexpected end of input"}},
		{"truncated before the checksum", good[:len(good)-4], []string{"unexpected end of input"}},
		{"checksum wrong", flip(len(good) - 1), []string{"checksum"}},
		{"value byte changed", flip(len(good) / 3), []string{"checksum", "corrupt data"}},
		{"not an RDB file", []byte("hello, this is not a dump\n"), []string{"signature"}},
	}
	bin := nodetest.ClusterctlBinary(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "dump.rdb"), tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			port := nodetest.FreePort(t, "127.0.0.1")
			logPath := filepath.Join(dir, "server.log")
			cmd := nodetest.Command(bin, "server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
				"--dir", dir, "--logfile", logPath, "--save", "")
			cmd.Dir = dir
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatal("the server is still running 20 s after starting on a damaged dump.rdb")
			}
			if err == nil {
				t.Fatal("the server exited with status 0 on a damaged dump.rdb")
			}
			log, _ := os.ReadFile(logPath)
			_, fatal, _ := strings.Cut(string(log), "Fatal error loading the DB")
			for _, w := range tc.want {
				if fatal != "" && strings.Contains(strings.ToLower(fatal), w) {
					return
				}
			}
			t.Fatalf("the log does not say any of %q after \"Fatal error loading the DB\":\n%s", tc.want, log)
		})
	}
}
