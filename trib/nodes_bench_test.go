package trib

import (
	"fmt"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/planner"
)

// BenchmarkParseClusterNodes30 parses the CLUSTER NODES of a 15-master, 15-replica cluster,
// what Load does once per node.
func BenchmarkParseClusterNodes30(b *testing.B) {
	var lines []string
	for i, r := range planner.MasterSlotRanges(15) {
		lines = append(lines, fmt.Sprintf("m%039d 127.0.0.1:%d@%d master - 0 1795443893291 %d connected %d-%d", i, 7000+i, 17000+i, i+1, r.Start, r.End))
		lines = append(lines, fmt.Sprintf("r%039d 127.0.0.1:%d@%d slave m%039d 0 1795443893291 %d connected", i, 7100+i, 17100+i, i, i+1))
	}
	text := strings.Join(lines, "\n") + "\n"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ParseClusterNodes(text); err != nil {
			b.Fatal(err)
		}
	}
}
