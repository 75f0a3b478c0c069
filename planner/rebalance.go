package planner

import (
	"fmt"
	"math"
	"sort"
)

// RebalanceBy selects what rebalance equalises.
type RebalanceBy int

const (
	BySlots RebalanceBy = iota
	ByKeys
	ByMemory
)

// String names the mode as the --by flag spells it.
func (b RebalanceBy) String() string {
	switch b {
	case BySlots:
		return "slots"
	case ByKeys:
		return "keys"
	case ByMemory:
		return "memory"
	}
	return fmt.Sprintf("RebalanceBy(%d)", int(b))
}

// DefaultThreshold is redis-cli's --cluster-threshold default, in percent.
const DefaultThreshold = 2.0

// RebalanceOptions tune PlanRebalance. The zero value is redis-cli's default: by slots,
// threshold 2%, empty masters left out.
type RebalanceOptions struct {
	By              RebalanceBy
	Threshold       float64 // percent; 0 means DefaultThreshold
	UseEmptyMasters bool
}

// RebalancePlan is what PlanRebalance decided.
type RebalancePlan struct {
	Moves    []Move
	Needed   bool             // false: "No rebalancing needed! All nodes are within the X% threshold."
	Balances map[string]int64 // per master ID: slots (or keys/bytes) above (+) or below (-) its share
	// OutOfThreshold lists the IDs of masters still outside the threshold after Moves, for
	// --by keys/memory when slots are too coarse (one slot holding most of the keys) to bring
	// every master within it. Empty for --by slots and whenever the plan fully succeeds.
	OutOfThreshold []string
}

// PlanRebalance plans a rebalance. For BySlots it follows clusterManagerCommandRebalance's
// arithmetic; ByKeys/ByMemory move the fewest slots they can find that bring every master
// within the threshold (see planLoadRebalance). No slot is moved twice.
func PlanRebalance(masters []MasterSlots, opt RebalanceOptions) (RebalancePlan, error) {
	threshold := opt.Threshold
	if threshold == 0 {
		threshold = DefaultThreshold
	}
	if threshold < 0 || math.IsNaN(threshold) {
		return RebalancePlan{}, fmt.Errorf("plan rebalance: threshold must be positive, got %g", opt.Threshold)
	}
	seen := make(map[string]bool, len(masters))
	owner := make(map[int]string)
	for _, m := range masters {
		if err := checkSlots(m); err != nil {
			return RebalancePlan{}, fmt.Errorf("plan rebalance: %w", err)
		}
		if seen[m.ID] {
			return RebalancePlan{}, fmt.Errorf("plan rebalance: master %s is listed twice", m.ID)
		}
		seen[m.ID] = true
		if m.Weight < 0 || math.IsNaN(m.Weight) || math.IsInf(m.Weight, 0) {
			return RebalancePlan{}, fmt.Errorf("plan rebalance: master %s has weight %g; weights must be positive", m.ID, m.Weight)
		}
		for _, s := range m.Slots {
			if other, ok := owner[s]; ok {
				return RebalancePlan{}, fmt.Errorf("plan rebalance: slot %d is listed for both %s and %s", s, other, m.ID)
			}
			owner[s] = m.ID
		}
	}
	involved := involvedMasters(masters, opt.UseEmptyMasters)
	if len(involved) == 0 {
		return RebalancePlan{}, fmt.Errorf("plan rebalance: no master takes part (masters without slots count only with --use-empty-masters)")
	}
	switch opt.By {
	case BySlots:
		return planSlotRebalance(involved, threshold), nil
	case ByKeys, ByMemory:
		return planLoadRebalance(involved, threshold, opt.By), nil
	}
	return RebalancePlan{}, fmt.Errorf("plan rebalance: unknown mode %v", opt.By)
}

// involvedMasters returns the masters that take part, in address order (the planner's
// tie-break; redis-cli uses the order it loaded the nodes in), with their effective weight:
// masters without slots are left out unless useEmpty, and a weight of 0 means 1.
func involvedMasters(masters []MasterSlots, useEmpty bool) []MasterSlots {
	var out []MasterSlots
	for _, m := range masters {
		if len(m.Slots) == 0 && !useEmpty {
			continue
		}
		if m.Weight == 0 {
			m.Weight = 1
		}
		out = append(out, m)
	}
	sort.SliceStable(out, func(a, b int) bool { return lessAddrID(out[a].Addr, out[a].ID, out[b].Addr, out[b].ID) })
	return out
}

// planSlotRebalance mirrors redis-cli, including its single-precision floats: expected =
// (int)(16384/Σw·w); balance = slots − expected; a master is over the threshold when it has
// slots and |100 − 100·expected/slots| > threshold, or has none and expected > 1. When none is
// over, nothing is needed. Otherwise the rounding surplus is taken off the masters whose
// balance is ≤ 0 (one each, in turn) until the balances sum to 0, and slots move from the
// most positive master to the most negative, the source giving its lowest slots.
func planSlotRebalance(involved []MasterSlots, threshold float64) RebalancePlan {
	var totalWeight float32
	for _, m := range involved {
		totalWeight += float32(m.Weight)
	}
	balance := make([]int, len(involved))
	total := 0
	needed := false
	for i, m := range involved {
		expected := int(float32(Slots) / totalWeight * float32(m.Weight))
		balance[i] = len(m.Slots) - expected
		total += balance[i]
		if overThreshold(float64(len(m.Slots)), float64(expected), threshold) {
			needed = true
		}
	}
	plan := RebalancePlan{Needed: needed, Balances: make(map[string]int64, len(involved))}
	// The rounding fix happens even when nothing is needed, so Balances always sum to 0
	// whenever they can (a positive total can always be spread over the other masters).
	for total > 0 {
		progressed := false
		for i := range balance {
			if balance[i] <= 0 && total > 0 {
				balance[i]--
				total--
				progressed = true
			}
		}
		if !progressed {
			break
		}
	}
	for i, m := range involved {
		plan.Balances[m.ID] = int64(balance[i])
	}
	if !needed {
		return plan
	}

	order := make([]int, len(involved))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return balance[order[a]] < balance[order[b]] })
	given := make([]int, len(involved)) // slots each source has already given
	dst, src := 0, len(order)-1
	for dst < src {
		d, s := order[dst], order[src]
		n := min(-balance[d], balance[s])
		if n > 0 {
			for _, slot := range involved[s].Slots[given[s] : given[s]+n] {
				plan.Moves = append(plan.Moves, Move{Slot: slot, From: involved[s].ID, To: involved[d].ID})
			}
			given[s] += n
		} else {
			n = 0
		}
		balance[d] += n
		balance[s] -= n
		if balance[d] >= 0 {
			dst++
		}
		if balance[s] <= 0 {
			src--
		}
	}
	return plan
}

// overThreshold is redis-cli's test of one master: the error of the expected share relative
// to what the master holds, in percent (single precision), against the threshold.
func overThreshold(holds, expected, threshold float64) bool {
	if holds > 0 {
		errPercent := float32(math.Abs(100 - 100.0*expected/holds))
		return errPercent > float32(threshold)
	}
	return expected > 1
}
