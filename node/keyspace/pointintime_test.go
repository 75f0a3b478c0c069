package keyspace

import (
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/clusterctl/clusterctl/node/hashslot"
)

// textEncoder encodes a slot as "db/key=value@expire;" records, so a test can read back
// what a view saw.
func textEncoder(dst []byte, db DB, slot int, keys iter.Seq[*Entry]) []byte {
	for e := range keys {
		if hashslot.OfString(e.Key()) != slot {
			panic("key in the wrong slot")
		}
		dst = fmt.Appendf(dst, "%d/%s=%s@%d;", db.Index, e.Key(), valueText(&e.Value), db.Expire(e))
	}
	return dst
}

// valueText shows a string's bytes, or the items of the list populate stores as a
// stand-in for the types the keyspace does not know.
func valueText(o *Object) string {
	if o.Type == TypeString {
		return string(o.AppendString(nil))
	}
	return strings.Join(*o.Ptr.(*[]string), ",")
}

// longKey is a key too long to live inside its table entry.
const longKey = "a-key-longer-than-an-entry-keeps-inline"

func readView(pit *PointInTime, numDBs int) map[string]string {
	out := map[string]string{}
	var buf []byte
	for db := 0; db < numDBs; db++ {
		for slot := 0; slot < hashslot.Count; slot++ {
			buf = pit.Slot(buf[:0], db, slot)
			for _, rec := range strings.Split(string(buf), ";") {
				if k, v, ok := strings.Cut(rec, "="); ok {
					out[k] = v
				}
			}
		}
	}
	return out
}

// contents reads the live keyspace in the same form.
func contents(ks *Keyspace) map[string]string {
	out := map[string]string{}
	ks.LockShards(AllShards)
	defer ks.UnlockShards(AllShards)
	for db := 0; db < ks.NumDBs(); db++ {
		h := ks.DB(db, 0, nil)
		h.KeysLocked(func(k string) {
			e := h.Lookup([]byte(k), LookupNoTouch|LookupNoStats|LookupNoExpire)
			out[fmt.Sprintf("%d/%s", db, k)] = fmt.Sprintf("%s@%d", valueText(&e.Value), h.Expire(e))
		})
	}
	return out
}

func populate(ks *Keyspace, n int) {
	ks.LockShards(AllShards)
	defer ks.UnlockShards(AllShards)
	for db := 0; db < ks.NumDBs(); db++ {
		h := ks.DB(db, 0, nil)
		for i := 0; i < n; i++ {
			e := h.Add(fmt.Appendf(nil, "k%d", i), StringObject(fmt.Appendf(nil, "v%d-%d", db, i)))
			if i%3 == 0 {
				h.SetExpire(e, 1e15+int64(i))
			}
		}
		h.Add([]byte(longKey), StringObject([]byte("long")))
		h.Add([]byte("list"), Object{Type: TypeList, Ptr: &[]string{"a", "b"}})
	}
}

// write runs fn with key's shard locked, as the dispatcher runs a command.
func write(ks *Keyspace, db int, key string, fn func(h *DB, k []byte)) {
	mask := ShardMask(hashslot.OfString(key))
	ks.LockShards(mask)
	defer ks.UnlockShards(mask)
	h := ks.DB(db, 0, nil)
	fn(&h, []byte(key))
}

func TestPointInTimeSeesTheDataAsAtBegin(t *testing.T) {
	changes := []struct {
		name string
		fn   func(ks *Keyspace)
	}{
		{"overwrite", func(ks *Keyspace) {
			write(ks, 0, "k1", func(h *DB, k []byte) { h.SetString(k, []byte("new"), false) })
		}},
		{"in place after a write lookup", func(ks *Keyspace) {
			write(ks, 1, "k2", func(h *DB, k []byte) {
				e := h.LookupWriteKey(k)
				e.Value.Str = append(e.Value.Str[:0], "XX"...)
			})
		}},
		{"in place on a long key", func(ks *Keyspace) {
			write(ks, 0, longKey, func(h *DB, k []byte) {
				e := h.LookupWriteKey(k)
				e.Value.Str = append(e.Value.Str[:0], "LONG"...)
			})
		}},
		{"in place on another type", func(ks *Keyspace) {
			write(ks, 0, "list", func(h *DB, k []byte) {
				l := h.LookupWriteKey(k).Value.Ptr.(*[]string)
				(*l)[0] = "changed"
				*l = append(*l, "added")
			})
		}},
		{"delete then add in a copied slot", func(ks *Keyspace) {
			write(ks, 0, "k8", func(h *DB, k []byte) { h.DeleteKey(k) })
			write(ks, 0, "k8", func(h *DB, k []byte) { h.Add(k, StringObject([]byte("again"))) })
		}},
		{"delete", func(ks *Keyspace) { write(ks, 0, "k4", func(h *DB, k []byte) { h.DeleteKey(k) }) }},
		{"add", func(ks *Keyspace) {
			write(ks, 2, "brand-new", func(h *DB, k []byte) { h.Add(k, StringObject([]byte("x"))) })
		}},
		{"expire and persist", func(ks *Keyspace) {
			write(ks, 0, "k5", func(h *DB, k []byte) { h.SetExpire(h.LookupWriteKey(k), 5) })
			write(ks, 0, "k6", func(h *DB, k []byte) { h.Persist(h.LookupWriteKey(k)) })
		}},
		{"lazy expiry", func(ks *Keyspace) {
			write(ks, 0, "k9", func(h *DB, k []byte) {
				h.SetExpire(h.LookupWriteKey(k), 1)
				h.Now = 10
				if h.LookupRead(k) != nil {
					panic("not expired")
				}
			})
		}},
		{"flushdb", func(ks *Keyspace) { d := ks.DB(1, 0, nil); d.Flush() }},
		{"flushall", func(ks *Keyspace) { ks.FlushAll() }},
		{"swapdb", func(ks *Keyspace) { ks.SwapDB(0, 2) }},
		{"swap, then write to the moved database", func(ks *Keyspace) {
			ks.SwapDB(0, 1)
			write(ks, 1, "k7", func(h *DB, k []byte) { h.SetString(k, []byte("moved"), false) })
			write(ks, 0, "k7", func(h *DB, k []byte) { h.DeleteKey(k) })
		}},
	}
	for _, tt := range changes {
		t.Run(tt.name, func(t *testing.T) {
			ks := New(3, nil)
			populate(ks, 300)
			want := contents(ks)
			pit, err := ks.BeginPointInTime(0, textEncoder, nil)
			if err != nil {
				t.Fatal(err)
			}
			// Half the slots are taken before the change, half after.
			early := map[string]string{}
			var buf []byte
			for slot := 0; slot < hashslot.Count/2; slot++ {
				for db := 0; db < 3; db++ {
					buf = pit.Slot(buf[:0], db, slot)
					for _, rec := range strings.Split(string(buf), ";") {
						if k, v, ok := strings.Cut(rec, "="); ok {
							early[k] = v
						}
					}
				}
			}
			tt.fn(ks)
			got := readView(pit, 3)
			maps.Copy(got, early)
			pit.Close()
			if !maps.Equal(got, want) {
				diff := []string{}
				for k, v := range want {
					if got[k] != v {
						diff = append(diff, fmt.Sprintf("%s: got %q want %q", k, got[k], v))
					}
				}
				for k := range got {
					if _, ok := want[k]; !ok {
						diff = append(diff, fmt.Sprintf("%s: extra", k))
					}
				}
				slices.Sort(diff)
				t.Fatalf("view differs from the data at Begin (%d keys, want %d):\n%s", len(got), len(want), strings.Join(diff[:min(len(diff), 10)], "\n"))
			}
		})
	}
}

func TestPointInTimeOneAtATimeAndClose(t *testing.T) {
	ks := New(1, nil)
	populate(ks, 10)
	pit, err := ks.BeginPointInTime(0, textEncoder, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.BeginPointInTime(0, textEncoder, nil); err != ErrPointInTimeOpen {
		t.Fatalf("second view: %v", err)
	}
	pit.Close()
	pit.Close()
	// After Close writers no longer copy anything.
	write(ks, 0, "k1", func(h *DB, k []byte) { h.SetString(k, []byte("x"), false) })
	for i := range ks.shards {
		for _, sdb := range ks.shards[i].dbs {
			if sdb != nil && sdb.frozen != nil {
				t.Fatal("part still frozen after Close")
			}
		}
	}
	ran := false
	pit2, err := ks.BeginPointInTime(0, textEncoder, func() { ran = true })
	if err != nil || !ran {
		t.Fatalf("view after Close: %v, atBegin ran %v", err, ran)
	}
	if pit2.Keys(0) != 12 || pit2.Expires(0) != 4 { // populate's 10, its long key and its list
		t.Errorf("counts at begin: %d keys, %d expires", pit2.Keys(0), pit2.Expires(0))
	}
	pit2.Close()
}

// TestPointInTimeUnderConcurrentWriters runs writers on every shard while the view is
// read; run with -race.
func TestPointInTimeUnderConcurrentWriters(t *testing.T) {
	ks := New(1, nil)
	populate(ks, 2000)
	want := contents(ks)
	pit, err := ks.BeginPointInTime(0, textEncoder, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				key := fmt.Sprintf("k%d", (i*7+w)%2500)
				write(ks, 0, key, func(h *DB, k []byte) {
					if i%5 == 0 {
						h.DeleteKey(k)
					} else {
						h.SetString(k, fmt.Appendf(nil, "w%d", w), false)
					}
				})
			}
		}()
	}
	got := readView(pit, 1)
	wg.Wait()
	pit.Close()
	if !maps.Equal(got, want) {
		t.Fatalf("view differs from the data at Begin: %d keys, want %d", len(got), len(want))
	}
}
