package snapshot

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/hashslot"
	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/persist/rdb"
	"github.com/clusterctl/clusterctl/node/persist/rdbvalue"
)

// populate fills database 0 as DEBUG POPULATE n key 100 does: key:N holding "value:N"
// padded with zero bytes to 100 bytes.
func populate(ks *keyspace.Keyspace, n int) {
	ks.LockShards(keyspace.AllShards)
	defer ks.UnlockShards(keyspace.AllShards)
	h := ks.DB(0, time.Now().UnixMilli(), nil)
	var key []byte
	for j := 0; j < n; j++ {
		key = strconv.AppendInt(append(key[:0], "key:"...), int64(j), 10)
		v := make([]byte, 100)
		copy(v, strconv.AppendInt([]byte("value:"), int64(j), 10))
		h.Add(key, keyspace.RawStringObject(v))
	}
}

// benchKeys is the data set of the persistence benchmarks: the million keys of the
// BGSAVE goal, fewer under -short.
func benchKeys() int {
	if testing.Short() {
		return 100000
	}
	return 1000000
}

// BenchmarkWrite times one snapshot of the populated keyspace into memory, the CPU side
// of SAVE and BGSAVE (go test -run '^$' -bench Write -benchtime 1x -cpuprofile ...).
func BenchmarkWrite(b *testing.B) {
	ks := keyspace.New(16, nil)
	populate(ks, benchKeys())
	var out bytes.Buffer
	b.ResetTimer()
	for range b.N {
		out.Reset()
		if _, err := Write(context.Background(), ks, &out, Options{RDB: rdb.DefaultOptions(), RedisVersion: "7.0.15"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(out.Len()), "file-bytes")
}

// BenchmarkLoad times loading that snapshot into an empty keyspace.
func BenchmarkLoad(b *testing.B) {
	ks := keyspace.New(16, nil)
	populate(ks, benchKeys())
	var file bytes.Buffer
	if _, err := Write(context.Background(), ks, &file, Options{RDB: rdb.DefaultOptions(), RedisVersion: "7.0.15"}); err != nil {
		b.Fatal(err)
	}
	ks = nil
	b.ResetTimer()
	for range b.N {
		loaded := keyspace.New(16, nil)
		if _, err := Load(loaded, rdb.NewDecoder(bytes.NewReader(file.Bytes())), LoadOptions{Limits: rdbvalue.DefaultLimits(), Now: time.Now().UnixMilli()}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteWhileClientsWrite times a snapshot while four goroutines overwrite random
// keys as clients' SETs do (shard lock, Set, unlock), and reports the longest of those
// writes: what a BGSAVE adds to a client's latency, without the network. Any write in a
// slot the snapshot has not reached copies that slot first.
func BenchmarkWriteWhileClientsWrite(b *testing.B) {
	n := benchKeys()
	ks := keyspace.New(16, nil)
	populate(ks, n)
	b.ResetTimer()
	for range b.N {
		var stop atomic.Bool
		var worst, writes atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(seed, 1))
				val := make([]byte, 100)
				var key []byte
				for !stop.Load() {
					key = strconv.AppendInt(append(key[:0], "key:"...), int64(rng.IntN(n)), 10)
					mask := keyspace.ShardMask(hashslot.Of(key))
					start := time.Now()
					ks.LockShards(mask)
					h := ks.DB(0, start.UnixMilli(), nil)
					h.Set(key, keyspace.RawStringObject(val), false)
					ks.UnlockShards(mask)
					if d := int64(time.Since(start)); d > worst.Load() {
						worst.Store(d)
					}
					writes.Add(1)
					// A client's next command comes after a network round trip, and the
					// wait gives the writer its turn; a loop that never waits would
					// starve it, as no real client can.
					runtime.Gosched()
				}
			}(uint64(w))
		}
		if _, err := Write(context.Background(), ks, io.Discard, Options{RDB: rdb.DefaultOptions(), RedisVersion: "7.0.15"}); err != nil {
			b.Fatal(err)
		}
		stop.Store(true)
		wg.Wait()
		b.ReportMetric(float64(worst.Load())/1e6, "max-write-ms")
		b.ReportMetric(float64(writes.Load()), "writes")
	}
}
