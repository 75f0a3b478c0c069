package planner

import "math"

// Slots is the number of hash slots in a Redis Cluster (CLUSTER_SLOTS).
const Slots = 16384

// SlotRange is an inclusive range of slots.
type SlotRange struct{ Start, End int }

// Count is the number of slots in the range.
func (r SlotRange) Count() int { return r.End - r.Start + 1 }

// MasterSlotRanges returns redis-cli's slot ranges for n masters, computed as
// clusterManagerCommandCreate does: per = 16384/n in single precision, range i ends at
// lround(cursor+per-1) with cursor advancing by per (also single precision), never before its
// start, and the last master always ends at 16383. So 3 masters get 0-5460, 5461-10922 and
// 10923-16383, exactly the ranges redis-cli gives. n outside 1..16384 yields nil.
func MasterSlotRanges(n int) []SlotRange {
	if n < 1 || n > Slots {
		return nil
	}
	// The float32 arithmetic is deliberate: redis-cli uses C floats here, and double
	// precision rounds some boundaries differently for larger n.
	per := float32(Slots) / float32(n)
	var cursor float32
	first := 0
	ranges := make([]SlotRange, 0, n)
	for i := 0; i < n; i++ {
		last := int(math.Round(float64(cursor + per - 1)))
		if last > Slots || i == n-1 {
			last = Slots - 1
		}
		if last < first {
			last = first
		}
		ranges = append(ranges, SlotRange{Start: first, End: last})
		first = last + 1
		cursor += per
	}
	return ranges
}
