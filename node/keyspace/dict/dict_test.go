package dict

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestUpsertFindDelete(t *testing.T) {
	for _, n := range []int{0, 1, 3, 4, 5, 100, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			d := New[int]()
			for i := 0; i < n; i++ {
				e, added := d.Upsert(fmt.Sprint("k", i))
				if !added {
					t.Fatalf("k%d reported as present", i)
				}
				e.Value = i
			}
			if d.Len() != n {
				t.Fatalf("Len = %d, want %d", d.Len(), n)
			}
			for i := 0; i < n; i++ {
				e := d.FindBytes([]byte(fmt.Sprint("k", i)))
				if e == nil || e.Value != i {
					t.Fatalf("k%d: got %v", i, e)
				}
				if _, added := d.UpsertBytes([]byte(fmt.Sprint("k", i))); added {
					t.Fatalf("k%d added twice", i)
				}
			}
			if d.Find("absent") != nil {
				t.Fatal("found an absent key")
			}
			for i := 0; i < n; i += 2 {
				if d.Delete(fmt.Sprint("k", i)) == nil {
					t.Fatalf("delete k%d failed", i)
				}
			}
			if d.DeleteBytes([]byte("absent")) != nil {
				t.Fatal("deleted an absent key")
			}
			if want := n / 2; d.Len() != want {
				t.Fatalf("Len after deletes = %d, want %d", d.Len(), want)
			}
			for i := 0; i < n; i++ {
				if got := d.Find(fmt.Sprint("k", i)) != nil; got != (i%2 == 1) {
					t.Fatalf("k%d present=%v", i, got)
				}
			}
		})
	}
}

func TestShrinksWhenSparse(t *testing.T) {
	d := New[struct{}]()
	for i := 0; i < 1000; i++ {
		d.Upsert(fmt.Sprint(i))
	}
	for i := 0; i < 995; i++ {
		d.Delete(fmt.Sprint(i))
	}
	for d.Rehash(100) {
	}
	if b := d.Buckets(); b > 64 {
		t.Fatalf("%d buckets for %d entries: the table did not shrink", b, d.Len())
	}
}

// TestScanGuarantee checks dictScan's promise: every key present from the start of a scan
// to its end is returned at least once, while the table grows and shrinks in between.
func TestScanGuarantee(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, seed))
		d := New[struct{}]()
		stable := map[string]bool{}
		for i := 0; i < 300; i++ {
			k := fmt.Sprint("s", i)
			d.Upsert(k)
			stable[k] = true
		}
		seen := map[string]bool{}
		var cursor uint64
		churn := 0
		for {
			cursor = d.Scan(cursor, func(e *Entry[struct{}]) { seen[e.Key()] = true })
			// Churn between calls: bursts of inserts and deletes force resizes both ways.
			switch rng.IntN(3) {
			case 0:
				for j := 0; j < rng.IntN(400); j++ {
					d.Upsert(fmt.Sprint("c", churn))
					churn++
				}
			case 1:
				for j := 0; j < churn; j++ {
					d.Delete(fmt.Sprint("c", j))
				}
			}
			if cursor == 0 {
				break
			}
		}
		for k := range stable {
			if !seen[k] {
				t.Fatalf("seed %d: %s present throughout but never returned", seed, k)
			}
		}
	}
}

func TestRandomAndSampleReturnMembers(t *testing.T) {
	d := New[int]()
	if d.Random() != nil {
		t.Fatal("Random on empty dict")
	}
	for i := 0; i < 50; i++ {
		e, _ := d.Upsert(fmt.Sprint(i))
		e.Value = i
	}
	hit := map[string]bool{}
	for i := 0; i < 2000; i++ {
		e := d.Random()
		if e == nil || d.Find(e.Key()) != e {
			t.Fatal("Random returned a non-member")
		}
		hit[e.Key()] = true
	}
	if len(hit) < 45 {
		t.Fatalf("Random reached only %d of 50 keys", len(hit))
	}
	n := 0
	d.Sample(5, func(e *Entry[int]) {
		n++
		if d.Find(e.Key()) != e {
			t.Fatal("Sample returned a non-member")
		}
	})
	if n != 5 {
		t.Fatalf("Sample returned %d entries, want 5", n)
	}
}

func TestRangeAllowsDeletingCurrent(t *testing.T) {
	d := New[int]()
	for i := 0; i < 100; i++ {
		d.Upsert(fmt.Sprint(i))
	}
	visited := 0
	d.Range(func(e *Entry[int]) bool {
		visited++
		d.Delete(e.Key())
		return true
	})
	if visited != 100 || d.Len() != 0 {
		t.Fatalf("visited %d, %d left", visited, d.Len())
	}
}

func BenchmarkFindBytes(b *testing.B) {
	d := New[int]()
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = []byte(fmt.Sprint("key:", i))
		d.UpsertBytes(keys[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d.FindBytes(keys[i&1023]) == nil {
			b.Fatal("missing")
		}
	}
}

func TestCopyIntoSharesNothingTheTableChanges(t *testing.T) {
	for _, key := range []string{"k", strings.Repeat("s", shortKey), strings.Repeat("l", shortKey+1)} {
		d := New[[]byte]()
		e, _ := d.UpsertBytes([]byte(key))
		e.Value = []byte("v")
		var c Entry[[]byte]
		e.CopyInto(&c)
		if c.Key() != key || string(c.Value) != "v" || c.next != nil {
			t.Fatalf("%q: copy holds key %q value %q", key, c.Key(), c.Value)
		}
		// The table may drop the entry and its memory be written over; the copy keeps its
		// key.
		d.Delete(key)
		copy(e.short[:], strings.Repeat("x", shortKey))
		if c.Key() != key {
			t.Errorf("%q: copy's key became %q after its entry changed", key, c.Key())
		}
	}
}
