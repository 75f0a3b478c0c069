package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/datatype/list"
	"github.com/clusterctl/clusterctl/node/datatype/stream"
	"github.com/clusterctl/clusterctl/node/datatype/zset"
	"github.com/clusterctl/clusterctl/node/hashslot"
	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/persist/rdb"
	"github.com/clusterctl/clusterctl/node/persist/rdbvalue"
)

const farFuture = 4102444800123

// fill adds strings of every encoding, sorted sets of both encodings and a stream with a
// group to database db.
func fill(t testing.TB, ks *keyspace.Keyspace, db, n int) {
	ks.LockShards(keyspace.AllShards)
	defer ks.UnlockShards(keyspace.AllShards)
	h := ks.DB(db, time.Now().UnixMilli(), nil)
	for i := 0; i < n; i++ {
		var o keyspace.Object
		switch i % 4 {
		case 0:
			o = keyspace.StringObject(fmt.Appendf(nil, "%d", i*1000))
		case 1:
			o = keyspace.StringObject(fmt.Appendf(nil, "short-%d", i))
		case 2:
			o = keyspace.StringObject(bytes.Repeat([]byte{'a' + byte(i%26)}, 100+i%50))
		case 3:
			o = keyspace.StringObject([]byte{0, 1, 2, byte(i)})
		}
		e := h.Add(fmt.Appendf(nil, "str:%d", i), o)
		if i%5 == 0 {
			h.SetExpire(e, farFuture+int64(i))
		}
	}
	small := zset.Create(zset.DefaultLimits, 1)
	big := zset.Create(zset.DefaultLimits, 1)
	for i := 0; i < 200; i++ {
		if i < 10 {
			small.Add(fmt.Sprintf("m%d", i), float64(i)/3, zset.AddFlags{}, zset.DefaultLimits)
		}
		big.Add(fmt.Sprintf("member-%d", i), float64(i)*1.5, zset.AddFlags{}, zset.DefaultLimits)
	}
	h.Add([]byte("zset:small"), rdbvalue.ZSetObject(small))
	h.Add([]byte("zset:big"), rdbvalue.ZSetObject(big))
	s := stream.New()
	for i := 1; i <= 5; i++ {
		args, err := stream.ParseXAdd([][]byte{fmt.Appendf(nil, "%d-1", i), []byte("f"), []byte("v")}, false, stream.DefaultConfig)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Add(args, 0, stream.DefaultConfig); err != nil {
			t.Fatal(err)
		}
	}
	g, _ := s.CreateGroup("grp", stream.ID{}, 0)
	g.RestoreConsumer("alice", 1700000000000)
	if err := g.RestorePending(stream.PendingState{ID: stream.ID{Ms: 2, Seq: 1}, Consumer: "alice", DeliveryTime: 1700000000001, DeliveryCount: 3}); err != nil {
		t.Fatal(err)
	}
	h.Add([]byte("list"), keyspace.Object{Type: keyspace.TypeList, Enc: keyspace.EncQuicklist, Ptr: list.New("a", "1", "", "long element of the list")})
	h.Add([]byte("stream"), keyspace.Object{Type: keyspace.TypeStream, Enc: keyspace.EncStream, Ptr: s})
}

// describe renders every key of ks, through the rdb value model, for comparisons.
func describe(t testing.TB, ks *keyspace.Keyspace) map[string]string {
	out := map[string]string{}
	ks.LockShards(keyspace.AllShards)
	defer ks.UnlockShards(keyspace.AllShards)
	for db := 0; db < ks.NumDBs(); db++ {
		h := ks.DB(db, 0, nil)
		h.KeysLocked(func(k string) {
			e := h.Lookup([]byte(k), keyspace.LookupNoTouch|keyspace.LookupNoStats|keyspace.LookupNoExpire)
			v, err := rdbvalue.FromObject(&e.Value, nil)
			if err != nil {
				t.Fatal(err)
			}
			if v.Stream != nil {
				for i := range v.Stream.Groups {
					for j := range v.Stream.Groups[i].Consumers {
						v.Stream.Groups[i].Consumers[j].ActiveTime = 0
					}
				}
			}
			out[fmt.Sprintf("%d/%s", db, k)] = fmt.Sprintf("%s %v exp=%d %+v", e.Value.Enc, e.Value.Type, h.Expire(e), describeValue(v))
		})
	}
	return out
}

func describeValue(v rdb.Value) string {
	v.RDBType = 0
	if v.Stream != nil {
		return fmt.Sprintf("%+v", *v.Stream)
	}
	return fmt.Sprintf("%q %v %q", v.Str, v.ZSet, v.List)
}

func TestWriteThenLoadKeepsEverything(t *testing.T) {
	ks := keyspace.New(4, nil)
	fill(t, ks, 0, 500)
	fill(t, ks, 3, 50)
	want := describe(t, ks)

	var file bytes.Buffer
	res, err := Write(context.Background(), ks, &file, Options{RDB: rdb.DefaultOptions(), RedisVersion: "7.0.15",
		Repl: func() *rdb.ReplAux { return &rdb.ReplAux{ReplID: strings.Repeat("a", 40), Offset: 1234} }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Keys != int64(len(want)) {
		t.Errorf("wrote %d keys, want %d", res.Keys, len(want))
	}
	if res.Bytes != int64(file.Len()) {
		t.Errorf("result says %d bytes, file has %d", res.Bytes, file.Len())
	}

	loaded := keyspace.New(4, nil)
	lr, err := Load(loaded, rdb.NewDecoder(bytes.NewReader(file.Bytes())), LoadOptions{Limits: rdbvalue.DefaultLimits(), Now: time.Now().UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	if lr.Keys != int64(len(want)) || lr.Repl == nil || lr.Repl.Offset != 1234 {
		t.Errorf("load result %+v", lr)
	}
	if got := describe(t, loaded); !reflect.DeepEqual(got, want) {
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s:\n got %.300s\nwant %.300s", k, got[k], v)
			}
		}
		t.Fatalf("loaded %d keys, want %d", len(got), len(want))
	}
}

func TestLoadSkipsExpiredKeysUnlessAsked(t *testing.T) {
	var file bytes.Buffer
	enc := rdb.NewEncoder(&file, rdb.DefaultOptions())
	enc.WriteEntry(&rdb.Entry{Key: []byte("gone"), Value: rdb.Value{Type: rdb.TypeString, Str: []byte("x")}, ExpireAt: 1000})
	enc.WriteEntry(&rdb.Entry{Key: []byte("kept"), Value: rdb.Value{Type: rdb.TypeString, Str: []byte("y")}, ExpireAt: farFuture})
	enc.Close()
	for _, keep := range []bool{false, true} {
		ks := keyspace.New(1, nil)
		res, err := Load(ks, rdb.NewDecoder(bytes.NewReader(file.Bytes())), LoadOptions{Limits: rdbvalue.DefaultLimits(), Now: 2000, KeepExpired: keep})
		if err != nil {
			t.Fatal(err)
		}
		wantKeys, wantExpired := int64(1), int64(1)
		if keep {
			wantKeys, wantExpired = 2, 0
		}
		if res.Keys != wantKeys || res.Expired != wantExpired {
			t.Errorf("keep=%v: %d loaded, %d expired", keep, res.Keys, res.Expired)
		}
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	var good bytes.Buffer
	enc := rdb.NewEncoder(&good, rdb.DefaultOptions())
	for i := 0; i < 100; i++ {
		enc.WriteEntry(&rdb.Entry{Key: fmt.Appendf(nil, "k%d", i), Value: rdb.Value{Type: rdb.TypeString, Str: []byte("value")}})
	}
	enc.Close()
	var dup bytes.Buffer
	enc = rdb.NewEncoder(&dup, rdb.DefaultOptions())
	for i := 0; i < 2; i++ {
		enc.WriteEntry(&rdb.Entry{Key: []byte("same"), Value: rdb.Value{Type: rdb.TypeString, Str: []byte("v")}})
	}
	enc.Close()
	var highDB bytes.Buffer
	enc = rdb.NewEncoder(&highDB, rdb.DefaultOptions())
	enc.WriteEntry(&rdb.Entry{DB: 5, Key: []byte("k"), Value: rdb.Value{Type: rdb.TypeString, Str: []byte("v")}})
	enc.Close()
	flipped := bytes.Clone(good.Bytes())
	flipped[len(flipped)/2] ^= 0x40
	for _, tt := range []struct {
		name, file, want string
	}{
		{"truncated", string(good.Bytes()[:good.Len()-20]), "unexpected end"},
		{"flipped bit", string(flipped), "corrupt"},
		{"duplicate key", dup.String(), "duplicated key"},
		{"database out of range", highDB.String(), "database 5"},
		{"not an RDB file", "hello world, this is not RDB", "signature"},
	} {
		ks := keyspace.New(2, nil)
		_, err := Load(ks, rdb.NewDecoder(strings.NewReader(tt.file)), LoadOptions{Limits: rdbvalue.DefaultLimits()})
		var le *LoadError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want a LoadError mentioning %q", tt.name, err, tt.want)
		}
	}
}

// TestWriteIsPointInTime changes keys while the file is written (slowly, through
// KeySaveDelay): the file holds the data as it was when the snapshot began.
func TestWriteIsPointInTime(t *testing.T) {
	ks := keyspace.New(1, nil)
	fill(t, ks, 0, 2000)
	want := describe(t, ks)
	pr, pw := io.Pipe()
	var file bytes.Buffer
	done := make(chan error, 1)
	begun := make(chan struct{})
	go func() {
		_, err := Write(context.Background(), ks, pw, Options{RDB: rdb.DefaultOptions(), KeySaveDelay: time.Microsecond,
			AtBegin: func() { close(begun) }})
		pw.CloseWithError(err)
		done <- err
	}()
	<-begun
	copyDone := make(chan error, 1)
	go func() { _, err := io.Copy(&file, pr); copyDone <- err }()
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3000; i++ {
				key := fmt.Appendf(nil, "str:%d", (i*13+w)%2500)
				mask := keyspace.ShardMask(hashslot.Of(key))
				ks.LockShards(mask)
				h := ks.DB(0, time.Now().UnixMilli(), nil)
				switch i % 3 {
				case 0:
					h.DeleteKey(key)
				case 1:
					h.SetString(key, []byte("changed"), false)
				case 2:
					if e := h.LookupWriteKey(key); e != nil && e.Value.Enc == keyspace.EncRaw {
						e.Value.Str[0] = 'Z' // in place, after a write lookup
					}
				}
				ks.UnlockShards(mask)
			}
		}()
	}
	wg.Wait()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-copyDone; err != nil {
		t.Fatal(err)
	}
	loaded := keyspace.New(1, nil)
	if _, err := Load(loaded, rdb.NewDecoder(&file), LoadOptions{Limits: rdbvalue.DefaultLimits(), KeepExpired: true}); err != nil {
		t.Fatal(err)
	}
	if got := describe(t, loaded); !reflect.DeepEqual(got, want) {
		n := 0
		for k, v := range want {
			if got[k] != v && n < 5 {
				n++
				t.Errorf("%s:\n got %.200s\nwant %.200s", k, got[k], v)
			}
		}
		t.Fatalf("file differs from the data at the snapshot's start: %d keys, want %d", len(got), len(want))
	}
}

func TestSaveReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dump.rdb")
	os.WriteFile(path, []byte("old"), 0o644)
	ks := keyspace.New(1, nil)
	fill(t, ks, 0, 10)
	if _, err := Save(context.Background(), ks, path, Options{RDB: rdb.DefaultOptions()}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d files after the save, want only dump.rdb", len(entries))
	}
	loaded := keyspace.New(1, nil)
	if _, err := LoadFile(loaded, path, LoadOptions{Limits: rdbvalue.DefaultLimits()}); err != nil {
		t.Fatal(err)
	}
	// A cancelled save leaves the old file and no temporary one.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Save(ctx, ks, path, Options{RDB: rdb.DefaultOptions()}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled save: %v", err)
	}
	entries, _ = os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d files after a cancelled save", len(entries))
	}
	if _, err := LoadFile(loaded, filepath.Join(dir, "missing.rdb"), LoadOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
