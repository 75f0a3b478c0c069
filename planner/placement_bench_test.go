package planner

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkPlanCreate measures placement on clusters of realistic and unkind shapes:
// `nodes` nodes with `replicas` replicas each, on `hosts` machines in `zones` zones.
func BenchmarkPlanCreate(b *testing.B) {
	shapes := []struct{ nodes, replicas, hosts, zones int }{
		{100, 1, 10, 0},
		{100, 1, 10, 3},
		{100, 2, 50, 3},
		{300, 2, 30, 3},
		{1000, 1, 50, 3},
		{1000, 1, 500, 0},
	}
	for _, s := range shapes {
		b.Run(fmt.Sprintf("nodes=%d/replicas=%d/hosts=%d/zones=%d", s.nodes, s.replicas, s.hosts, s.zones), func(b *testing.B) {
			nodes := randomTopology(rand.New(rand.NewPCG(5, 6)), s.nodes, s.hosts, s.zones)
			for b.Loop() {
				if _, err := PlanCreate(nodes, s.replicas); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
