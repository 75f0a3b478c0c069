package snapshot_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
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
	rdbtest.Run(t, oc, rdbtest.FillCommands())
	if _, err := oc.Do("SAVE"); err != nil {
		t.Fatal(err)
	}
	want := snapshotOf(t, oc, "clusterctl")
	rdbtest.RequireCoverage(t, want)
	path := filepath.Join(ours.Dir, "dump.rdb")
	checkRDB(t, path)

	redis := nodetest.Start(t, nodetest.Redis, nodetest.Options{Dir: copyFile(t, path)})
	got := snapshotOf(t, dial(t, redis), "redis-server after loading our dump.rdb")
	rdbtest.Compare(t, got, want, "redis-server", "clusterctl")
}

func TestWeLoadRedisDumpRDB(t *testing.T) {
	redis := nodetest.Start(t, nodetest.Redis, nodetest.Options{})
	rc := dial(t, redis)
	rdbtest.Run(t, rc, rdbtest.FillCommands())
	if _, err := rc.Do("SAVE"); err != nil {
		t.Fatal(err)
	}
	want := snapshotOf(t, rc, "redis-server")
	rdbtest.RequireCoverage(t, want)

	ours := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{Dir: copyFile(t, filepath.Join(redis.Dir, "dump.rdb"))})
	oc := dial(t, ours)
	got := snapshotOf(t, oc, "clusterctl after loading redis-server's dump.rdb")
	rdbtest.Compare(t, got, want, "clusterctl", "redis-server")

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
	rdbtest.Run(t, oc, rdbtest.FillCommands())
	want := snapshotOf(t, oc, "clusterctl")
	if v, err := oc.Do("BGSAVE"); err != nil || string(v.Str) != "Background saving started" {
		t.Fatalf("BGSAVE: %q %v", v.Str, err)
	}
	waitBgsave(t, oc)
	checkRDB(t, filepath.Join(ours.Dir, "dump.rdb"))
	ours.Restart()
	oc = dial(t, ours)
	rdbtest.Compare(t, snapshotOf(t, oc, "clusterctl after restart"), want, "restarted", "before")
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
	rdbtest.Run(t, oc, rdbtest.FillCommands())
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

// TestWeLoadRedisTestdataFiles starts the server on each dump.rdb that redis-server 7.0
// wrote under node/persist/rdb/testdata (every type and encoding, LRU and LFU data,
// compression off) and compares what it serves with what redis-server held.
func TestWeLoadRedisTestdataFiles(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "rdb", "testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want rdbtest.Snapshot
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	want.Functions = nil // FUNCTION is not served yet: the libraries are left out on load
	for i := range want.Keys {
		want.Keys[i].Dump = ""
	}
	for _, name := range []string{"dump.rdb", "dump-lfu.rdb", "dump-nocompress.rdb"} {
		t.Run(name, func(t *testing.T) {
			dir := copyFile(t, filepath.Join("..", "rdb", "testdata", name))
			config := [][2]string{{"rdbchecksum", "yes"}}
			if name == "dump-lfu.rdb" {
				config = append(config, [2]string{"maxmemory-policy", "allkeys-lfu"})
			}
			ours := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{Dir: dir, Config: config})
			oc := dial(t, ours)
			got := snapshotOf(t, oc, "clusterctl on "+name)
			rdbtest.Compare(t, got, &want, "clusterctl", "redis-server")
			// Saving it again gives a file redis-check-rdb accepts.
			if _, err := oc.Do("SAVE"); err != nil {
				t.Fatal(err)
			}
			checkRDB(t, filepath.Join(dir, "dump.rdb"))
		})
	}
}
