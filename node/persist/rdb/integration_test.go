package rdb_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
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
	"github.com/clusterctl/clusterctl/node/persist/rdb"
)

// These tests check our files and payloads against the real redis-server 7.0 and
// redis-check-rdb.

const farFuture = 4102444800123 // 2100-01-01, so loading never drops the key as expired

const testLibrary = "#!lua name=ourlib\nredis.register_function('ourfunc', function(keys, args) return 'ok' end)"

// integrationEntries are the sample values (minus the module value, which redis-server
// cannot load without its module) spread over three databases, some with TTLs.
func integrationEntries() []*rdb.Entry {
	samples := rdb.SampleValues()
	delete(samples, "module")
	var out []*rdb.Entry
	for i, name := range rdb.SortedKeys(samples) {
		e := &rdb.Entry{Key: []byte(name), Value: samples[name]}
		if i%4 == 1 {
			e.ExpireAt = farFuture + int64(i)
		}
		out = append(out, e)
	}
	out = append(out,
		&rdb.Entry{Key: []byte("bin\x00key\xff"), Value: rdb.Value{Type: rdb.TypeString, Str: []byte("v\x00\x01")}},
		&rdb.Entry{DB: 3, Key: []byte("db3:list"), Value: rdb.Value{Type: rdb.TypeList, List: [][]byte{[]byte("a")}}, ExpireAt: farFuture},
		&rdb.Entry{DB: 3, Key: []byte("db3:hash"), Value: rdb.Value{Type: rdb.TypeHash, Hash: []rdb.Field{{[]byte("f"), []byte("v")}}}},
		&rdb.Entry{DB: 15, Key: []byte("db15:set"), Value: rdb.Value{Type: rdb.TypeSet, Set: [][]byte{[]byte("x")}}},
	)
	return out
}

func expectedSnapshot(entries []*rdb.Entry, functions ...string) *rdbtest.Snapshot {
	s := &rdbtest.Snapshot{}
	for _, e := range entries {
		s.Keys = append(s.Keys, rdbtest.FromEntry(e))
	}
	for _, f := range functions {
		s.Functions = append(s.Functions, rdbtest.Bin(f))
	}
	s.Sort()
	return s
}

func writeFile(t *testing.T, path string, opts rdb.Options, entries []*rdb.Entry) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	enc := rdb.NewEncoder(f, opts)
	if err := enc.WriteInfoAux(rdb.InfoAux{RedisVersion: "7.0.15", CTime: time.Now().Unix(), UsedMem: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	if err := enc.WriteFunction([]byte(testLibrary)); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := enc.WriteEntry(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
}

// checkRDB runs redis-check-rdb, which validates as deeply as Redis can.
func checkRDB(t *testing.T, path string) {
	t.Helper()
	bin := nodetest.RequireBinary(t, "redis-check-rdb")
	out, err := exec.Command(bin, path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "RDB looks OK") {
		t.Fatalf("redis-check-rdb %s: %v\n%s", filepath.Base(path), err, out)
	}
}

func dial(t *testing.T, n *nodetest.Node) *rdbtest.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rdbtest.Dial(ctx, n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// loadInRedis starts redis-server on the RDB at path and returns its contents.
func loadInRedis(t *testing.T, path string, config ...[2]string) (*rdbtest.Snapshot, *rdbtest.Client) {
	t.Helper()
	n := nodetest.Start(t, nodetest.Redis, nodetest.Options{
		Dir:    filepath.Dir(path),
		Config: append([][2]string{{"dbfilename", filepath.Base(path)}}, config...),
	})
	c := dial(t, n)
	s, err := c.Snapshot(true)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// checkEncodings compares the encodings redis-server reports with the RDB types our
// file holds for the same keys.
func checkEncodings(t *testing.T, path string, server *rdbtest.Snapshot) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	types := map[string]uint8{}
	d := rdb.NewDecoder(f)
	for {
		e, err := d.Next()
		if err != nil {
			break
		}
		types[strconv.Itoa(e.DB)+"/"+string(e.Key)] = e.Value.RDBType
	}
	for _, k := range server.Keys {
		// Redis re-decides small plain sets and hashes on load (rdbLoadObject builds an
		// intset or listpack when they fit), so a forced plain encoding does not survive.
		// Likewise a forced intset over set-max-intset-entries becomes a hash table.
		if strings.Contains(string(k.Key), "forced-") {
			continue
		}
		want := rdbtest.EncodingForType(types[strconv.Itoa(k.DB)+"/"+string(k.Key)])
		if want != "" && k.Encoding != want {
			t.Errorf("key %q: redis-server reports %s, our file has %s", k.Key, k.Encoding, want)
		}
	}
}

func compareWithServer(t *testing.T, what string, got, want *rdbtest.Snapshot) {
	t.Helper()
	strip := func(s *rdbtest.Snapshot) *rdbtest.Snapshot {
		out := *s
		out.Keys = make([]rdbtest.Key, len(s.Keys))
		for i, k := range s.Keys {
			k.Encoding, k.Dump = "", ""
			out.Keys[i] = k
		}
		return &out
	}
	got, want = strip(got), strip(want)
	if !reflect.DeepEqual(got.Functions, want.Functions) {
		t.Errorf("%s: functions\n got %q\nwant %q", what, got.Functions, want.Functions)
	}
	if len(got.Keys) != len(want.Keys) {
		t.Errorf("%s: %d keys, want %d", what, len(got.Keys), len(want.Keys))
		return
	}
	for i := range got.Keys {
		if !reflect.DeepEqual(got.Keys[i], want.Keys[i]) {
			g, _ := json.Marshal(got.Keys[i])
			w, _ := json.Marshal(want.Keys[i])
			t.Errorf("%s: key %q differs\n got %.3000s\nwant %.3000s", what, want.Keys[i].Key, g, w)
		}
	}
}

func TestRedisLoadsOurFile(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	entries := integrationEntries()
	want := expectedSnapshot(entries, testLibrary)
	for _, tt := range []struct {
		name string
		opts func(*rdb.Options)
	}{
		{"defaults", func(*rdb.Options) {}},
		{"no compression, no checksum", func(o *rdb.Options) { o.Compression, o.Checksum = false, false }},
		// Small nodes: many quicklist nodes, plain nodes, many stream listpacks.
		{"small nodes", func(o *rdb.Options) {
			o.ListMaxListpackSize, o.ListPackedThreshold = 5, 40
			o.StreamNodeMaxEntries, o.StreamNodeMaxBytes = 3, 200
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := rdb.DefaultOptions()
			tt.opts(&opts)
			path := filepath.Join(t.TempDir(), "dump.rdb")
			writeFile(t, path, opts, entries)
			checkRDB(t, path)
			got, c := loadInRedis(t, path)
			compareWithServer(t, "redis-server after loading our file", got, want)
			checkEncodings(t, path, got)

			// Redis's DUMP of what it loaded decodes to the same values.
			for _, k := range got.Keys {
				p, _ := hex.DecodeString(k.Dump)
				v, err := rdb.DecodeDump(p)
				if err != nil {
					t.Fatalf("key %q: DUMP from redis-server: %v", k.Key, err)
				}
				back := rdbtest.FromEntry(&rdb.Entry{DB: k.DB, Key: []byte(k.Key), Value: *v, ExpireAt: k.ExpireAt})
				k.Encoding, k.Dump = "", ""
				if !reflect.DeepEqual(back, k) {
					t.Errorf("key %q: redis-server's DUMP decodes differently", k.Key)
				}
			}
			// Redis writes it back, and we read its file.
			if _, err := c.Do("SAVE"); err != nil {
				t.Fatal(err)
			}
			mine := decodeSnapshot(t, path)
			compareWithServer(t, "our decoder on redis-server's re-save", mine, want)
		})
	}
}

func decodeSnapshot(t *testing.T, path string) *rdbtest.Snapshot {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := rdb.NewDecoder(bytes.NewReader(b))
	s := &rdbtest.Snapshot{}
	for {
		e, err := d.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("%s: %v", path, err)
			}
			break
		}
		s.Keys = append(s.Keys, rdbtest.FromEntry(e))
	}
	for _, f := range d.Functions() {
		s.Functions = append(s.Functions, rdbtest.Bin(f))
	}
	s.Sort()
	return s
}

func TestRedisRestoresOurDumps(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	n := nodetest.Start(t, nodetest.Redis, nodetest.Options{})
	c := dial(t, n)
	entries := integrationEntries()
	for _, e := range entries {
		p, err := rdb.EncodeDump(&e.Value, rdb.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Do("SELECT", strconv.Itoa(e.DB)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Do("RESTORE", string(e.Key), strconv.FormatInt(e.ExpireAt, 10), string(p), "ABSTTL"); err != nil {
			t.Fatalf("RESTORE %q: %v", e.Key, err)
		}
	}
	got, err := c.Snapshot(false)
	if err != nil {
		t.Fatal(err)
	}
	compareWithServer(t, "redis-server after RESTORE of our payloads", got, expectedSnapshot(entries))

	// RESTORE's errors are the ones rdb.DecodeDump mirrors.
	good, _ := rdb.EncodeDump(&rdb.Value{Type: rdb.TypeString, Str: []byte("x")}, rdb.DefaultOptions())
	bad := bytes.Clone(good)
	bad[len(bad)-1] ^= 1
	_, err = c.Do("RESTORE", "bad", "0", string(bad))
	if err == nil || !strings.Contains(err.Error(), rdb.ErrDumpPayload.Error()) {
		t.Errorf("redis-server on a bad CRC: %v", err)
	}
	if _, derr := rdb.DecodeDump(bad); derr != rdb.ErrDumpPayload {
		t.Errorf("DecodeDump on a bad CRC: %v", derr)
	}
}

func TestRedisLoadsIdleAndFreq(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	for _, tt := range []struct {
		policy string
		entry  rdb.Entry
		query  string
		check  func(int64) bool
	}{
		{"allkeys-lru", rdb.Entry{Key: []byte("k"), Value: rdb.Value{Type: rdb.TypeString, Str: []byte("v")}, HasIdle: true, Idle: 5000},
			"IDLETIME", func(n int64) bool { return n >= 5000 && n < 5100 }},
		{"allkeys-lfu", rdb.Entry{Key: []byte("k"), Value: rdb.Value{Type: rdb.TypeString, Str: []byte("v")}, HasFreq: true, Freq: 200},
			"FREQ", func(n int64) bool { return n == 200 }},
	} {
		t.Run(tt.policy, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dump.rdb")
			writeFile(t, path, rdb.DefaultOptions(), []*rdb.Entry{&tt.entry})
			checkRDB(t, path)
			n := nodetest.Start(t, nodetest.Redis, nodetest.Options{Dir: filepath.Dir(path),
				Config: [][2]string{{"dbfilename", "dump.rdb"}, {"maxmemory-policy", tt.policy}}})
			v, err := dial(t, n).Do("OBJECT", tt.query, "k")
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(v.Int) {
				t.Errorf("OBJECT %s = %d", tt.query, v.Int)
			}
		})
	}
}

// TestRedisLoadsLegacyEncodings: redis-check-rdb and redis-server 7.0 accept the legacy
// encodings our test writer produces, and hold the same data our decoder reads from them
// (including the stream counters both derive for a version 1 stream).
func TestRedisLoadsLegacyEncodings(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	file, entries, library := rdb.LegacyFile()
	path := filepath.Join(t.TempDir(), "legacy.rdb")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	checkRDB(t, path)
	want := expectedSnapshot(entries, library)
	compareWithServer(t, "our decoder on the legacy file", decodeSnapshot(t, path), want)
	got, _ := loadInRedis(t, path)
	compareWithServer(t, "redis-server on the legacy file", got, want)
}
