package rdb_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/clusterctl/clusterctl/node/persist/internal/rdbtest"
	"github.com/clusterctl/clusterctl/node/persist/rdb"
)

// The files under testdata were written by redis-server 7.0 (testdata/make-rdb.sh) along
// with expected.json, what the server held when it wrote them.

func loadExpected(t *testing.T) *rdbtest.Snapshot {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s rdbtest.Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// decodeFile decodes a whole RDB file into a snapshot, with the entries as read.
func decodeFile(t *testing.T, path string) (*rdbtest.Snapshot, []*rdb.Entry, *rdb.Decoder) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := rdb.NewDecoder(f)
	s := &rdbtest.Snapshot{}
	var entries []*rdb.Entry
	for {
		e, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		entries = append(entries, e)
		s.Keys = append(s.Keys, rdbtest.FromEntry(e))
	}
	for _, code := range d.Functions() {
		s.Functions = append(s.Functions, rdbtest.Bin(code))
	}
	s.Sort()
	return s, entries, d
}

// withoutServerOnly clears what only the live server reports (encodings, DUMP payloads).
func withoutServerOnly(s *rdbtest.Snapshot) *rdbtest.Snapshot {
	out := *s
	out.Keys = make([]rdbtest.Key, len(s.Keys))
	for i, k := range s.Keys {
		k.Encoding, k.Dump = "", ""
		out.Keys[i] = k
	}
	return &out
}

func compareSnapshots(t *testing.T, what string, got, want *rdbtest.Snapshot) {
	t.Helper()
	got, want = withoutServerOnly(got), withoutServerOnly(want)
	if !reflect.DeepEqual(got.Functions, want.Functions) {
		t.Errorf("%s: functions\n got %q\nwant %q", what, got.Functions, want.Functions)
	}
	if len(got.Keys) != len(want.Keys) {
		t.Errorf("%s: %d keys, want %d", what, len(got.Keys), len(want.Keys))
	}
	for i := 0; i < len(got.Keys) && i < len(want.Keys); i++ {
		if !reflect.DeepEqual(got.Keys[i], want.Keys[i]) {
			g, _ := json.Marshal(got.Keys[i])
			w, _ := json.Marshal(want.Keys[i])
			t.Errorf("%s: key %d differs\n got %.2000s\nwant %.2000s", what, i, g, w)
		}
	}
}

func TestDecodeRedisFiles(t *testing.T) {
	want := loadExpected(t)
	for _, tt := range []struct {
		file    string
		idle    bool
		freq    bool
		zeroSum bool
	}{
		{file: "dump.rdb", idle: true},
		{file: "dump-lfu.rdb", freq: true},
		{file: "dump-nocompress.rdb", zeroSum: true},
	} {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			got, entries, d := decodeFile(t, path)
			compareSnapshots(t, tt.file, got, want)
			if d.Version() != 10 {
				t.Errorf("version %d", d.Version())
			}
			if v, ok := d.AuxValue("redis-ver"); !ok || string(v) != "7.0.15" {
				t.Errorf("redis-ver aux = %q", v)
			}
			for _, e := range entries {
				if e.HasIdle != tt.idle || e.HasFreq != tt.freq {
					t.Errorf("key %q: idle %v freq %v", e.Key, e.HasIdle, e.HasFreq)
				}
			}
			// The RDB type each value was read with is the encoding the server reported.
			byKey := map[string]string{}
			for _, k := range want.Keys {
				byKey[string(k.Key)] = k.Encoding
			}
			for _, e := range entries {
				enc := rdbtest.EncodingForType(e.Value.RDBType)
				if enc != "" && enc != byKey[string(e.Key)] {
					t.Errorf("key %q read as type %d (%s), server said %s", e.Key, e.Value.RDBType, enc, byKey[string(e.Key)])
				}
			}
			raw, _ := os.ReadFile(path)
			if sum := raw[len(raw)-8:]; tt.zeroSum != (hex.EncodeToString(sum) == "0000000000000000") {
				t.Errorf("trailer %x", sum)
			}
		})
	}
}

func TestDecodeRedisDumps(t *testing.T) {
	want := loadExpected(t)
	for _, k := range want.Keys {
		payload, err := hex.DecodeString(k.Dump)
		if err != nil || len(payload) == 0 {
			t.Fatalf("key %q: no DUMP payload recorded", k.Key)
		}
		v, err := rdb.DecodeDump(payload)
		if err != nil {
			t.Errorf("key %q: %v", k.Key, err)
			continue
		}
		got := rdbtest.FromEntry(&rdb.Entry{DB: k.DB, Key: []byte(k.Key), Value: *v, ExpireAt: k.ExpireAt})
		k.Encoding, k.Dump = "", ""
		if !reflect.DeepEqual(got, k) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(k)
			t.Errorf("key %q: DUMP decodes to\n %.2000s\nwant %.2000s", k.Key, g, w)
		}
		// Our own payload for the value decodes to the same thing.
		ours, err := rdb.EncodeDump(v, rdb.DefaultOptions())
		if err != nil {
			t.Fatalf("key %q: %v", k.Key, err)
		}
		back, err := rdb.DecodeDump(ours)
		if err != nil {
			t.Fatalf("key %q: our payload: %v", k.Key, err)
		}
		again := rdbtest.FromEntry(&rdb.Entry{DB: k.DB, Key: []byte(k.Key), Value: *back, ExpireAt: k.ExpireAt})
		if !reflect.DeepEqual(again, k) {
			t.Errorf("key %q: our DUMP payload does not round trip", k.Key)
		}
	}
}
