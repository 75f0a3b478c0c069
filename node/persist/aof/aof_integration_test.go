package aof_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/node/persist/aof"
	"github.com/clusterctl/clusterctl/node/persist/internal/rdbtest"
	"github.com/clusterctl/clusterctl/node/resp"
)

// These tests run clusterctl server with appendonly yes and check its AOF directory with
// redis-check-aof and redis-server 7.0, and redis-server's with ours.

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

// snapshotOf reads a server's data set. Consumers' seen-time is left out: replaying
// XGROUP CREATECONSUMER or XCLAIM from an AOF sets it to the time of the replay, in
// redis-server as in ours.
func snapshotOf(t *testing.T, c *rdbtest.Client, what string) *rdbtest.Snapshot {
	t.Helper()
	s, err := c.Snapshot(false)
	if err != nil {
		t.Fatalf("read %s: %v", what, err)
	}
	for _, k := range s.Keys {
		if k.Stream == nil {
			continue
		}
		for i := range k.Stream.Groups {
			for j := range k.Stream.Groups[i].Consumers {
				k.Stream.Groups[i].Consumers[j].SeenTime = 0
			}
		}
	}
	return s
}

func info(t *testing.T, c *rdbtest.Client, name string) string {
	t.Helper()
	v, err := c.Do("INFO", "persistence")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(v.Str), "\r\n") {
		if k, val, ok := strings.Cut(line, ":"); ok && k == name {
			return val
		}
	}
	return ""
}

// waitRewrite waits for a running BGREWRITEAOF to finish and checks it succeeded.
func waitRewrite(t *testing.T, c *rdbtest.Client) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if info(t, c, "aof_rewrite_in_progress") == "0" && info(t, c, "aof_rewrite_scheduled") == "0" {
			if st := info(t, c, "aof_last_bgrewrite_status"); st != "ok" {
				t.Fatalf("aof_last_bgrewrite_status:%s", st)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("AOF rewrite still running after 30 s")
}

func checkAOF(t *testing.T, dir string) {
	t.Helper()
	bin := nodetest.RequireBinary(t, "redis-check-aof")
	out, err := exec.Command(bin, filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "All AOF files and manifest are valid") {
		t.Fatalf("redis-check-aof: %v\n%s", err, out)
	}
}

// copyAOFDir copies dir/appendonlydir into a fresh directory.
func copyAOFDir(t *testing.T, dir string) string {
	t.Helper()
	to := t.TempDir()
	src := filepath.Join(dir, "appendonlydir")
	if err := os.MkdirAll(filepath.Join(to, "appendonlydir"), 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, "appendonlydir", e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

var aofOn = [][2]string{{"appendonly", "yes"}}

// fillWithRewrite runs half the data set, rewrites the AOF (so there is a base with
// keys), then the other half and some changes on top.
func fillWithRewrite(t *testing.T, c *rdbtest.Client) {
	t.Helper()
	cmds := rdbtest.FillCommands()
	half := len(cmds) / 2
	rdbtest.Run(t, c, cmds[:half])
	if _, err := c.Do("BGREWRITEAOF"); err != nil {
		t.Fatal(err)
	}
	waitRewrite(t, c)
	rdbtest.Run(t, c, cmds[half:])
	rdbtest.Run(t, c, [][]string{
		{"SET", "after:ex", "v", "EX", "100000"},
		{"INCRBYFLOAT", "after:float", "1.5"},
		{"DEL", "str:empty"},
		{"EVAL", "redis.call('SET', 'after:script', 'a'); redis.call('APPEND', 'after:script', 'b')", "0"},
		{"SELECT", "3"}, {"RPOP", "db3:list"}, {"SELECT", "0"},
	})
}

func TestRedisLoadsOurAOF(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	ours := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{Config: aofOn})
	oc := dial(t, ours)
	fillWithRewrite(t, oc)
	want := snapshotOf(t, oc, "clusterctl")
	rdbtest.RequireCoverage(t, want)
	ours.Stop()
	checkAOF(t, ours.Dir)

	redis := nodetest.Start(t, nodetest.Redis, nodetest.Options{Dir: copyAOFDir(t, ours.Dir), Config: aofOn})
	rdbtest.Compare(t, snapshotOf(t, dial(t, redis), "redis-server on our AOF"), want, "redis-server", "clusterctl")

	ours.Restart()
	rdbtest.Compare(t, snapshotOf(t, dial(t, ours), "clusterctl restarted on its AOF"), want, "restarted", "before")
}

func TestWeLoadRedisAOF(t *testing.T) {
	redis := nodetest.Start(t, nodetest.Redis, nodetest.Options{Config: aofOn})
	rc := dial(t, redis)
	fillWithRewrite(t, rc)
	want := snapshotOf(t, rc, "redis-server")
	redis.Stop()

	ours := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{Dir: copyAOFDir(t, redis.Dir), Config: aofOn})
	oc := dial(t, ours)
	rdbtest.Compare(t, snapshotOf(t, oc, "clusterctl on redis-server's AOF"), want, "clusterctl", "redis-server")
	// Appending to redis-server's files keeps them valid.
	rdbtest.Run(t, oc, [][]string{{"SET", "more", "1"}})
	ours.Stop()
	checkAOF(t, ours.Dir)
}

// TestAppendonlyAtRunTime turns the AOF on with CONFIG SET, which rewrites the data set
// as the first base, and checks that a kill -9 then loses nothing.
func TestAppendonlyAtRunTime(t *testing.T) {
	ours := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{})
	oc := dial(t, ours)
	rdbtest.Run(t, oc, rdbtest.FillCommands())
	if _, err := oc.Do("CONFIG", "SET", "appendonly", "yes"); err != nil {
		t.Fatal(err)
	}
	waitRewrite(t, oc)
	if got := info(t, oc, "aof_enabled"); got != "1" {
		t.Fatalf("aof_enabled:%s after CONFIG SET appendonly yes", got)
	}
	rdbtest.Run(t, oc, [][]string{{"SET", "after", "1"}, {"LPUSH", "list:small", "new"}})
	want := snapshotOf(t, oc, "clusterctl")
	ours.Kill()
	checkAOF(t, ours.Dir)
	ours2 := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{Dir: ours.Dir, Config: aofOn})
	rdbtest.Compare(t, snapshotOf(t, dial(t, ours2), "clusterctl after kill -9"), want, "restarted", "before")
}

// TestTruncatedAOF cuts the last increment in the middle of a command, as a crash
// during a write leaves it: with aof-load-truncated yes the server loads what is complete
// and repairs the file; with no it refuses to start.
func TestTruncatedAOF(t *testing.T) {
	ours := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{Config: aofOn})
	oc := dial(t, ours)
	rdbtest.Run(t, oc, [][]string{{"SET", "a", "1"}, {"SET", "b", "2"}})
	ours.Stop()
	incr := filepath.Join(ours.Dir, "appendonlydir", "appendonly.aof.1.incr.aof")
	f, err := os.OpenFile(incr, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1")
	f.Close()

	// aof-load-truncated no: a clear error and no start.
	port := nodetest.FreePort(t, "127.0.0.1")
	logPath := filepath.Join(ours.Dir, "refused.log")
	cmd := nodetest.Command(nodetest.ClusterctlBinary(t), "server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--dir", ours.Dir, "--logfile", logPath, "--save", "", "--appendonly", "yes", "--aof-load-truncated", "no")
	cmd.Dir = ours.Dir
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("the server started on a truncated AOF with aof-load-truncated no")
	}
	log, _ := os.ReadFile(logPath)
	if err == nil || !strings.Contains(string(log), "ends in the middle of a command") {
		t.Fatalf("exit %v, log:\n%s", err, log)
	}

	ours.Restart() // aof-load-truncated yes, the default
	oc = dial(t, ours)
	v, err := oc.Do("MGET", "a", "b", "c")
	if err != nil || len(v.Elems) != 3 || string(v.Elems[0].Str) != "1" || string(v.Elems[1].Str) != "2" || !v.Elems[2].IsNull {
		t.Fatalf("MGET a b c after loading a truncated AOF: %v %v", v, err)
	}
	rdbtest.Run(t, oc, [][]string{{"SET", "d", "4"}})
	ours.Stop()
	checkAOF(t, ours.Dir)
}

// TestKill9LosesNoAcknowledgedWrite kills the server with SIGKILL 20 times while clients
// write with appendfsync always, and checks after each restart that every write the
// server acknowledged is there.
func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	const kills, writers = 20, 4
	ours := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{
		Config: [][2]string{{"appendonly", "yes"}, {"appendfsync", "always"}}})
	acked := make([]int64, writers) // per writer: the counter's last acknowledged value
	for round := 0; round < kills; round++ {
		var wg sync.WaitGroup
		var stop atomic.Bool
		var writes atomic.Int64
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				c, err := rdbtest.Dial(ctx, ours.Addr())
				if err != nil {
					return
				}
				defer c.Close()
				key := fmt.Sprintf("counter:%d", w)
				for !stop.Load() {
					v, err := c.Do("INCR", key)
					if err != nil {
						return // the kill
					}
					atomic.StoreInt64(&acked[w], v.Int)
					writes.Add(1)
					// A list gets the same value, so a lost write shows in either.
					if _, err := c.Do("RPUSH", "list:"+key, strconv.FormatInt(v.Int, 10)); err != nil {
						return
					}
				}
			}(w)
		}
		if round%5 == 4 {
			// Some kills land during or right after a rewrite.
			c := dial(t, ours)
			if _, err := c.Do("BGREWRITEAOF"); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(2 * time.Second)
		for writes.Load() < 30 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		ours.Kill()
		stop.Store(true)
		wg.Wait()
		ours.Restart()
		c := dial(t, ours)
		for w := 0; w < writers; w++ {
			key := fmt.Sprintf("counter:%d", w)
			v, err := c.Do("GET", key)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := strconv.ParseInt(string(v.Str), 10, 64)
			want := atomic.LoadInt64(&acked[w])
			// One INCR may have been written but not acknowledged when the kill came.
			if got < want || got > want+1 {
				t.Fatalf("round %d: %s is %d after kill -9, acknowledged %d", round, key, got, want)
			}
			atomic.StoreInt64(&acked[w], got)
			n, err := c.Do("LLEN", "list:"+key)
			if err != nil {
				t.Fatal(err)
			}
			if n.Int < got-1 || n.Int > got {
				t.Fatalf("round %d: list:%s has %d elements for counter %d", round, key, n.Int, got)
			}
			if n.Int < got {
				// The RPUSH of the last INCR was not acknowledged: catch up for the
				// next round's check.
				if _, err := c.Do("RPUSH", "list:"+key, strconv.FormatInt(got, 10)); err != nil {
					t.Fatal(err)
				}
			}
		}
		t.Logf("round %d: %d acknowledged writes before the kill", round, writes.Load())
	}
	ours.Stop()
	checkAOF(t, ours.Dir)
}

// TestWeLoadRedisTestdataAOF starts the server on the AOF directory redis-server wrote
// under testdata (make-aof.sh) and checks every key against what redis-server held:
// type, encoding, TTL and value.
func TestWeLoadRedisTestdataAOF(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "expected.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ours := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{Dir: copyAOFDir(t, "testdata"), Config: aofOn})
	c := dial(t, ours)
	lines := strings.Split(strings.TrimSpace(string(want)), "\n")
	for _, line := range lines {
		f := strings.Fields(line)
		db, key := f[0], f[1]
		if _, err := c.Do("SELECT", db); err != nil {
			t.Fatal(err)
		}
		typ, _ := c.Do("TYPE", key)
		if string(typ.Str) == "none" {
			t.Errorf("db %s: key %s was not loaded (or has expired)", db, key)
			continue
		}
		enc, _ := c.Do("OBJECT", "ENCODING", key)
		pttl, _ := c.Do("PTTL", key)
		ttl := "nottl"
		if pttl.Int > 0 {
			ttl = "ttl"
		}
		got := strings.Join([]string{db, key, string(typ.Str), string(enc.Str), ttl, renderValue(t, c, key, string(typ.Str))}, " ")
		if strings.TrimSpace(got) != line {
			t.Errorf("got  %s\nwant %s", got, line)
		}
	}
	if len(lines) < 10 {
		t.Fatalf("expected.txt has only %d keys", len(lines))
	}
}

// renderValue prints a value as make-aof.sh does: redis-cli --raw's lines joined by
// commas, set members sorted.
func renderValue(t *testing.T, c *rdbtest.Client, key, typ string) string {
	t.Helper()
	var cmd []string
	switch typ {
	case "string":
		cmd = []string{"GET", key}
	case "list":
		cmd = []string{"LRANGE", key, "0", "-1"}
	case "hash":
		cmd = []string{"HGETALL", key}
	case "set":
		cmd = []string{"SMEMBERS", key}
	case "zset":
		cmd = []string{"ZRANGE", key, "0", "-1", "WITHSCORES"}
	case "stream":
		cmd = []string{"XRANGE", key, "-", "+"}
	}
	v, err := c.Do(cmd...)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	var flatten func(v resp.Value)
	flatten = func(v resp.Value) {
		if v.Elems != nil || v.Kind == resp.Array {
			for _, e := range v.Elems {
				flatten(e)
			}
			return
		}
		parts = append(parts, string(v.Str))
	}
	flatten(v)
	if typ == "set" {
		slices.Sort(parts)
	}
	return strings.Join(parts, ",")
}

// TestWeUpgradeAPre70AppendonlyAOF starts the server on a directory holding a single
// appendonly.aof, as Redis before 7.0 wrote it (commands, no manifest; here the RESP base
// redis-server 7.0 writes with aof-use-rdb-preamble no, which is that format), and checks
// that it moves into appendonlydir as the manifest's base, as Redis 7.0 does, and that
// every key is there, then and after a restart on the upgraded directory.
func TestWeUpgradeAPre70AppendonlyAOF(t *testing.T) {
	redis := nodetest.Start(t, nodetest.Redis, nodetest.Options{Config: [][2]string{
		{"appendonly", "yes"}, {"aof-use-rdb-preamble", "no"}}})
	rc := dial(t, redis)
	rdbtest.Run(t, rc, rdbtest.FillCommands())
	if _, err := rc.Do("BGREWRITEAOF"); err != nil {
		t.Fatal(err)
	}
	waitRewrite(t, rc)
	want := snapshotOf(t, rc, "redis-server")
	redis.Stop()
	m, err := aof.LoadManifest(filepath.Join(redis.Dir, "appendonlydir"), "appendonly.aof")
	if err != nil {
		t.Fatal(err)
	}
	if m.Base == nil || !strings.HasSuffix(m.Base.Name, ".base.aof") {
		t.Fatalf("redis-server's base is %+v, want commands", m.Base)
	}
	old, err := os.ReadFile(filepath.Join(redis.Dir, "appendonlydir", m.Base.Name))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "appendonly.aof"), old, 0o644); err != nil {
		t.Fatal(err)
	}

	ours := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{Dir: dir, Config: aofOn})
	oc := dial(t, ours)
	rdbtest.Compare(t, snapshotOf(t, oc, "clusterctl on a pre-7.0 appendonly.aof"), want, "clusterctl", "redis-server")
	if _, err := os.Stat(filepath.Join(dir, "appendonly.aof")); !os.IsNotExist(err) {
		t.Errorf("appendonly.aof is still in the data directory: %v", err)
	}
	moved, err := os.ReadFile(filepath.Join(dir, "appendonlydir", "appendonly.aof"))
	if err != nil || string(moved) != string(old) {
		t.Fatalf("appendonlydir/appendonly.aof: %d bytes, %v; want the old file's %d", len(moved), err, len(old))
	}
	got, err := aof.LoadManifest(filepath.Join(dir, "appendonlydir"), "appendonly.aof")
	if err != nil {
		t.Fatal(err)
	}
	if got.Base == nil || *got.Base != (aof.FileInfo{Name: "appendonly.aof", Seq: 1, Type: aof.Base}) || len(got.Incrs) != 1 {
		t.Fatalf("manifest after the upgrade: %s", got.Encode())
	}
	rdbtest.Run(t, oc, [][]string{{"SET", "after:upgrade", "1"}})
	want2 := snapshotOf(t, oc, "clusterctl")
	ours.Stop()
	checkAOF(t, dir)
	again := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{Dir: dir, Config: aofOn})
	rdbtest.Compare(t, snapshotOf(t, dial(t, again), "clusterctl restarted"), want2, "restarted", "before")
}
