package keyspace

import (
	"fmt"
	"testing"

	"github.com/clusterctl/clusterctl/node/hashslot"
)

// BenchmarkLookupRandom looks up random keys among 100,000, as redis-benchmark -r does:
// the cost is dominated by cache misses, so it measures the layout.
func BenchmarkLookupRandom(b *testing.B) {
	ks := New(16, nil)
	db := ks.DB(0, 1, nil)
	keys := make([][]byte, 100000)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key:%012d", i))
		db.SetString(keys[i], []byte("xxx"), false)
	}
	order := make([]int, 1<<16)
	for i := range order {
		order[i] = (i * 7919) % len(keys)
	}
	// The key is copied into a reused buffer first, as the server's request buffer holds it:
	// only the keyspace's own memory is cold.
	var buf []byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = append(buf[:0], keys[order[i&(1<<16-1)]]...)
		k := buf
		db.PrimeSlot(k, hashslot.Of(k))
		if db.LookupRead(k) == nil {
			b.Fatal("missing key")
		}
		db.ResetPrimed()
	}
}
