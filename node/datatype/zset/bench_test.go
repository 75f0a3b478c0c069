package zset

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/clusterctl/clusterctl/node/hugepage"
)

// BenchmarkAddRandom is redis-benchmark's ZADD with -r 100000: a random member of 100,000
// given a random score, on a sorted set that has grown to about 63,000 members, so most
// calls move an existing member to a new place in the skiplist.
func BenchmarkAddRandom(b *testing.B) {
	const keyspace = 100000
	members := make([]string, keyspace)
	for i := range members {
		members[i] = "element:" + strconv.Itoa(100000000000 + i)[1:]
	}
	rng := rand.New(rand.NewPCG(1, 2))
	// The node's heap is in huge pages (node/hugepage, whose cron advises new mappings as
	// the heap grows); without them a search here is mostly TLB misses.
	advisor := hugepage.NewAdvisor()
	z := Create(DefaultLimits, len(members[0]))
	for i := range keyspace {
		if i%1000 == 0 {
			advisor.Refresh()
		}
		z.Add(members[rng.IntN(keyspace)], float64(rng.IntN(keyspace)), AddFlags{}, DefaultLimits)
	}
	advisor.Refresh()
	b.ResetTimer()
	for range b.N {
		z.Add(members[rng.IntN(keyspace)], float64(rng.IntN(keyspace)), AddFlags{}, DefaultLimits)
	}
}
