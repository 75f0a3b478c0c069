package planner

import (
	"fmt"
	"math"
	"sort"
)

// MasterSlots describes a master for reshard/rebalance: Slots sorted ascending; Keys and
// Bytes per slot are optional (needed for --by keys / --by memory).
type MasterSlots struct {
	ID, Addr string
	Slots    []int
	Keys     map[int]int64
	Bytes    map[int]int64
	Weight   float64 // rebalance weight; 0 means 1 unless the master is excluded
}

// Move is one slot changing owner.
type Move struct {
	Slot     int
	From, To string // node IDs
}

// PlanReshard is redis-cli's reshard table (clusterManagerComputeReshardTable): sources
// sorted by slot count descending (ties by address, then ID); each gives
// count*its_slots/total_source_slots computed in single precision, the first rounded up and
// the rest down, taking its lowest slots; never more than `count` moves in all. Sources that
// are the target are skipped, as redis-cli never offers the target as a source.
func PlanReshard(sources []MasterSlots, targetID string, count int) ([]Move, error) {
	if count < 1 || count > Slots {
		return nil, fmt.Errorf("plan reshard: the number of slots to move must be between 1 and %d, got %d", Slots, count)
	}
	if targetID == "" {
		return nil, fmt.Errorf("plan reshard: no receiving node")
	}
	var donors []MasterSlots
	total := 0
	for _, s := range sources {
		if s.ID == targetID {
			continue
		}
		if err := checkSlots(s); err != nil {
			return nil, fmt.Errorf("plan reshard: %w", err)
		}
		donors = append(donors, s)
		total += len(s.Slots)
	}
	if total == 0 {
		return nil, fmt.Errorf("plan reshard: the source nodes hold no slots")
	}
	sort.SliceStable(donors, func(a, b int) bool {
		if len(donors[a].Slots) != len(donors[b].Slots) {
			return len(donors[a].Slots) > len(donors[b].Slots)
		}
		return lessAddrID(donors[a].Addr, donors[a].ID, donors[b].Addr, donors[b].ID)
	})
	moves := make([]Move, 0, count)
	for i, d := range donors {
		share := float32(count) / float32(total) * float32(len(d.Slots))
		var quota int
		if i == 0 {
			quota = int(math.Ceil(float64(share)))
		} else {
			quota = int(math.Floor(float64(share)))
		}
		for taken := 0; taken < quota && taken < len(d.Slots) && len(moves) < count; taken++ {
			moves = append(moves, Move{Slot: d.Slots[taken], From: d.ID, To: targetID})
		}
	}
	return moves, nil
}

// checkSlots rejects a master whose slot list is out of range, unsorted or repeats a slot.
func checkSlots(m MasterSlots) error {
	for i, s := range m.Slots {
		if s < 0 || s >= Slots {
			return fmt.Errorf("master %s lists slot %d, outside 0..%d", m.ID, s, Slots-1)
		}
		if i > 0 && s <= m.Slots[i-1] {
			return fmt.Errorf("master %s: slots are not sorted ascending without repeats at slot %d", m.ID, s)
		}
	}
	return nil
}

// lessAddrID orders nodes by address, then by ID: the planner's tie-break.
func lessAddrID(addrA, idA, addrB, idB string) bool {
	if addrA != addrB {
		return addrA < addrB
	}
	return idA < idB
}
