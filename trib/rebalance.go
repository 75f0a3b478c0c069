package trib

import (
	"context"
	"fmt"
	"sort"

	"github.com/clusterctl/clusterctl/planner"
)

// RebalanceOptions say how to rebalance a cluster.
type RebalanceOptions struct {
	// By is what is balanced: slots (redis-cli's arithmetic), keys or memory.
	By planner.RebalanceBy
	// Weights maps a node (ID, unique ID prefix or host:port) to its weight; masters not
	// listed weigh 1. A weight of 0 drains the master of its slots, as redis-cli's
	// --cluster-weight node=0 does.
	Weights map[string]float64
	// Threshold is in percent; 0 means planner.DefaultThreshold.
	Threshold float64
	// UseEmptyMasters lets masters without slots take part (and receive slots).
	UseEmptyMasters bool
}

// RebalancePlan is a rebalance resolved against a loaded cluster.
type RebalancePlan struct {
	planner.RebalancePlan
	// Masters are the masters that take part, with their weights.
	Masters []*Node
	Weights map[string]float64 // by node ID
	// Loads holds every master's per-slot key counts (and bytes for --by memory); nil for
	// --by slots.
	Loads map[int]SlotLoad
}

// drainWeight stands for a weight of 0: the planner needs weights above zero, and a weight
// this small makes a master's share of 16384 slots round down to none.
const drainWeight = 1e-9

// PlanRebalance measures the cluster as opts.By needs (slot counts from the loaded topology,
// key counts with CLUSTER COUNTKEYSINSLOT, memory with MEMORY USAGE) and plans the moves with
// planner.PlanRebalance. It changes nothing.
func PlanRebalance(ctx context.Context, c *Cluster, opts RebalanceOptions) (*RebalancePlan, error) {
	weights := map[string]float64{}
	for ref, w := range opts.Weights {
		n, err := c.Find(ref)
		if err != nil {
			return nil, fmt.Errorf("--weight %s: %w", ref, err)
		}
		if !n.IsMaster() {
			return nil, fmt.Errorf("--weight %s: %s is not a master", ref, n.Dial)
		}
		if w < 0 {
			return nil, fmt.Errorf("--weight %s: the weight must not be negative, got %g", ref, w)
		}
		weights[n.ID] = w
	}
	plan := &RebalancePlan{Weights: map[string]float64{}}
	for _, m := range c.ReachableMasters() {
		w, ok := weights[m.ID]
		if !ok {
			w = 1
		}
		plan.Weights[m.ID] = w
		plan.Masters = append(plan.Masters, m)
	}
	if opts.By != planner.BySlots {
		bySlot := map[string][]int{}
		for _, m := range plan.Masters {
			if len(m.Slots) > 0 {
				bySlot[m.ID] = m.Slots
			}
		}
		loads, err := ScanSlots(ctx, c, bySlot, opts.By == planner.ByMemory)
		if err != nil {
			return nil, err
		}
		plan.Loads = loads
	}
	var masters []planner.MasterSlots
	for _, m := range plan.Masters {
		ms := planner.MasterSlots{ID: m.ID, Addr: m.Addr(), Slots: m.Slots, Weight: plan.Weights[m.ID]}
		if ms.Weight == 0 {
			ms.Weight = drainWeight
		}
		if plan.Loads != nil {
			ms.Keys, ms.Bytes = map[int]int64{}, map[int]int64{}
			for _, s := range m.Slots {
				ms.Keys[s] = plan.Loads[s].Keys
				ms.Bytes[s] = plan.Loads[s].Bytes
			}
		}
		masters = append(masters, ms)
	}
	p, err := planner.PlanRebalance(masters, planner.RebalanceOptions{By: opts.By, Threshold: opts.Threshold,
		UseEmptyMasters: opts.UseEmptyMasters})
	if err != nil {
		return nil, err
	}
	plan.RebalancePlan = p
	return plan, nil
}

// MasterLoad is one master's share in a rebalance: what it holds now and after the plan.
type MasterLoad struct {
	ID     string  `json:"id"`
	Addr   string  `json:"addr"`
	Weight float64 `json:"weight"`
	Before int64   `json:"before"`
	After  int64   `json:"after"`
}

// Shares returns, per master in address order, the slots (or keys, or bytes) it holds before
// and after the plan's moves.
func (p *RebalancePlan) Shares(by planner.RebalanceBy) []MasterLoad {
	weightOf := func(s int) int64 {
		switch by {
		case planner.ByKeys:
			return p.Loads[s].Keys
		case planner.ByMemory:
			return p.Loads[s].Bytes
		}
		return 1
	}
	idx := map[string]int{}
	out := make([]MasterLoad, len(p.Masters))
	for i, m := range p.Masters {
		idx[m.ID] = i
		out[i] = MasterLoad{ID: m.ID, Addr: m.Dial, Weight: p.Weights[m.ID]}
		for _, s := range m.Slots {
			out[i].Before += weightOf(s)
		}
		out[i].After = out[i].Before
	}
	for _, mv := range p.Moves {
		w := weightOf(mv.Slot)
		if i, ok := idx[mv.From]; ok {
			out[i].After -= w
		}
		if i, ok := idx[mv.To]; ok {
			out[i].After += w
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Addr < out[b].Addr })
	return out
}
