package planner

import "sort"

// planLoadRebalance balances keys (ByKeys) or bytes (ByMemory) instead of slots, something
// redis-cli cannot do. Each master's share is total·w/Σw; it is within the threshold when
// redis-cli's test passes with its load in place of its slot count, i.e. its load lies in
// [share/(1+t), share/(1−t)].
//
// Choosing the fewest slots is a subset-sum problem, so the search is greedy: while some
// master is outside the threshold, the master most above its share gives to the one most
// below it the heaviest slot that neither pushes the receiver above its share nor the giver
// below it; if no slot fits, the lightest slot that still narrows their gap moves. Heaviest
// first keeps the number of moves low; each move strictly shrinks Σ|load − share|, so the
// search ends, and a moved slot is never picked again. Slots holding nothing never move.
func planLoadRebalance(involved []MasterSlots, threshold float64, by RebalanceBy) RebalancePlan {
	type holding struct {
		slot   int
		weight int64
	}
	n := len(involved)
	loads := make([]int64, n)
	held := make([][]holding, n) // movable slots of each master, heaviest first
	var total int64
	var totalWeight float64
	for i, m := range involved {
		perSlot := m.Keys
		if by == ByMemory {
			perSlot = m.Bytes
		}
		for _, s := range m.Slots {
			w := perSlot[s]
			if w <= 0 {
				continue
			}
			loads[i] += w
			held[i] = append(held[i], holding{slot: s, weight: w})
		}
		sort.SliceStable(held[i], func(a, b int) bool { return held[i][a].weight > held[i][b].weight })
		total += loads[i]
		totalWeight += m.Weight
	}
	share := make([]float64, n)
	for i, m := range involved {
		share[i] = float64(total) * m.Weight / totalWeight
	}
	within := func(i int) bool { return !overThreshold(float64(loads[i]), share[i], threshold) }
	allWithin := func() bool {
		for i := range involved {
			if !within(i) {
				return false
			}
		}
		return true
	}

	plan := RebalancePlan{Balances: make(map[string]int64, n)}
	for i, m := range involved {
		plan.Balances[m.ID] = loads[i] - int64(share[i])
	}
	plan.Needed = !allWithin()

	for !allWithin() {
		src, dst := -1, -1
		for i := range involved {
			gap := float64(loads[i]) - share[i]
			if src < 0 || gap > float64(loads[src])-share[src] {
				src = i
			}
			if dst < 0 || gap < float64(loads[dst])-share[dst] {
				dst = i
			}
		}
		surplus := float64(loads[src]) - share[src]
		deficit := share[dst] - float64(loads[dst])
		if src == dst || surplus <= 0 || deficit <= 0 {
			break
		}
		pick := -1
		for k, h := range held[src] {
			if float64(h.weight) <= surplus && float64(h.weight) <= deficit {
				pick = k
				break // heaviest that fits
			}
		}
		if pick < 0 {
			// Nothing fits: the lightest slot, if moving it still narrows the gap.
			k := len(held[src]) - 1
			if k >= 0 {
				w := float64(held[src][k].weight)
				before := surplus + deficit
				after := abs(surplus-w) + abs(deficit-w)
				if after < before {
					pick = k
				}
			}
		}
		if pick < 0 {
			break
		}
		h := held[src][pick]
		held[src] = append(held[src][:pick], held[src][pick+1:]...)
		loads[src] -= h.weight
		loads[dst] += h.weight
		plan.Moves = append(plan.Moves, Move{Slot: h.slot, From: involved[src].ID, To: involved[dst].ID})
	}
	for i, m := range involved {
		if !within(i) {
			plan.OutOfThreshold = append(plan.OutOfThreshold, m.ID)
		}
	}
	return plan
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
