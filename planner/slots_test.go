package planner

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestMasterSlotRanges(t *testing.T) {
	tests := []struct {
		n    int
		want []SlotRange
	}{
		{0, nil},
		{-1, nil},
		{Slots + 1, nil},
		{1, []SlotRange{{0, 16383}}},
		{3, []SlotRange{{0, 5460}, {5461, 10922}, {10923, 16383}}},
		{4, []SlotRange{{0, 4095}, {4096, 8191}, {8192, 12287}, {12288, 16383}}},
	}
	for _, tt := range tests {
		if got := MasterSlotRanges(tt.n); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("MasterSlotRanges(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

// Every count of masters gets contiguous ranges that cover every slot exactly once.
func TestMasterSlotRangesCoverEverySlot(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 7, 10, 100, 1000, 1001, 5000, 8192, 16383, Slots} {
		ranges := MasterSlotRanges(n)
		if len(ranges) != n {
			t.Fatalf("MasterSlotRanges(%d) gives %d ranges", n, len(ranges))
		}
		next := 0
		for i, r := range ranges {
			if r.Start != next || r.End < r.Start {
				t.Fatalf("MasterSlotRanges(%d)[%d] = %v, want a range starting at %d", n, i, r, next)
			}
			next = r.End + 1
		}
		if next != Slots {
			t.Fatalf("MasterSlotRanges(%d) ends at %d, want %d", n, next-1, Slots-1)
		}
	}
}

// testdata/redis-cli-ranges.txt holds the ranges real redis-cli 7.0 gave 3..10 masters, made
// by testdata/make-ranges.sh against real redis-server nodes. It has no -update flag on
// purpose: its truth is redis-cli, not this package.
func TestMasterSlotRangesMatchRedisCli(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "redis-cli-ranges.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checked := 0
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := scanner.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		n, err := strconv.Atoi(fields[0])
		if err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		var got []string
		for _, r := range MasterSlotRanges(n) {
			got = append(got, fmt.Sprintf("%d-%d", r.Start, r.End))
		}
		if want := fields[1:]; !reflect.DeepEqual(got, want) {
			t.Errorf("MasterSlotRanges(%d) = %v, redis-cli gives %v", n, got, want)
		}
		checked++
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	if checked != 8 {
		t.Fatalf("checked %d master counts, want 8 (3..10)", checked)
	}
}
