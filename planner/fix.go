package planner

import "sort"

// AssignUncovered spreads uncovered slots with no keys over masters evenly, where redis-cli's
// fix gives each one to a random master. Masters are taken by ID order, the ones with fewest
// slots first; each master is given enough slots to even out the counts as far as the
// uncovered slots allow, and the slots go out in ascending runs so that each master receives
// contiguous ranges. It returns slot -> master ID; with no masters it returns an empty map.
func AssignUncovered(slots []int, masters []MasterSlots) map[int]string {
	owners := make(map[int]string, len(slots))
	if len(masters) == 0 || len(slots) == 0 {
		return owners
	}
	pending := append([]int(nil), slots...)
	sort.Ints(pending)
	pending = dedupe(pending)

	order := append([]MasterSlots(nil), masters...)
	sort.SliceStable(order, func(a, b int) bool {
		if len(order[a].Slots) != len(order[b].Slots) {
			return len(order[a].Slots) < len(order[b].Slots)
		}
		return order[a].ID < order[b].ID
	})
	counts := make([]int, len(order))
	for i, m := range order {
		counts[i] = len(m.Slots)
	}
	gain := waterFill(counts, len(pending))
	next := 0
	for i, m := range order {
		for k := 0; k < gain[i]; k++ {
			owners[pending[next]] = m.ID
			next++
		}
	}
	return owners
}

// waterFill shares n units among bins whose current levels are counts (ascending), filling
// the lowest first and, among equal levels, the earlier bins first; it returns each bin's gain.
func waterFill(counts []int, n int) []int {
	gain := make([]int, len(counts))
	for n > 0 {
		low := 0
		for i := range counts {
			if counts[i]+gain[i] < counts[low]+gain[low] {
				low = i
			}
		}
		// Raise every bin at the lowest level by one, in order, while units last.
		level := counts[low] + gain[low]
		for i := range counts {
			if n == 0 {
				break
			}
			if counts[i]+gain[i] == level {
				gain[i]++
				n--
			}
		}
	}
	return gain
}

func dedupe(sorted []int) []int {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// PickOwner picks, among nodes holding keys of one slot (node ID -> key count), the one with
// most keys; ties by ID order. redis-cli's fix does the same for slots with keys on several
// nodes. An empty map yields "".
func PickOwner(keyCounts map[string]int64) string {
	best := ""
	var bestKeys int64
	for id, keys := range keyCounts {
		if best == "" || keys > bestKeys || (keys == bestKeys && id < best) {
			best, bestKeys = id, keys
		}
	}
	return best
}
