package planner

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// costOf evaluates a plan from scratch, independently of the optimiser: for every shard,
// replicas in the master's zone, sibling pairs in one zone, replicas on the master's host,
// sibling pairs on one host.
func costOf(t *testing.T, plan CreatePlan, nodes []Node) placementCost {
	t.Helper()
	sites, err := resolveSites(nodes)
	if err != nil {
		t.Fatal(err)
	}
	siteOf := make(map[string]site)
	for i, n := range nodes {
		siteOf[n.Addr] = sites[i]
	}
	var c placementCost
	for _, shard := range plan.Shards {
		c = c.plus(shardCost(siteOf[shard.Master.Addr], shard.Replicas, siteOf))
	}
	return c
}

func shardCost(master site, replicas []Node, siteOf map[string]site) placementCost {
	var c placementCost
	for i, r := range replicas {
		rs := siteOf[r.Addr]
		if rs.zone != "" && rs.zone == master.zone {
			c[0]++
		}
		if rs.host == master.host {
			c[2]++
		}
		for _, other := range replicas[i+1:] {
			os := siteOf[other.Addr]
			if rs.zone != "" && rs.zone == os.zone {
				c[1]++
			}
			if rs.host == os.host {
				c[3]++
			}
		}
	}
	return c
}

// bruteForceCost tries every way of giving the plan's spare nodes to its masters with the
// plan's replica counts, and returns the least cost.
func bruteForceCost(t *testing.T, plan CreatePlan, nodes []Node) placementCost {
	t.Helper()
	sites, err := resolveSites(nodes)
	if err != nil {
		t.Fatal(err)
	}
	siteOf := make(map[string]site)
	for i, n := range nodes {
		siteOf[n.Addr] = sites[i]
	}
	var spare []Node
	capacity := make([]int, len(plan.Shards))
	for i, shard := range plan.Shards {
		spare = append(spare, shard.Replicas...)
		capacity[i] = len(shard.Replicas)
	}
	groups := make([][]Node, len(plan.Shards))
	best := placementCost{1 << 62}
	var try func(next int)
	try = func(next int) {
		if next == len(spare) {
			var c placementCost
			for i, shard := range plan.Shards {
				c = c.plus(shardCost(siteOf[shard.Master.Addr], groups[i], siteOf))
			}
			if c.less(best) {
				best = c
			}
			return
		}
		for i := range groups {
			if len(groups[i]) < capacity[i] {
				groups[i] = append(groups[i], spare[next])
				try(next + 1)
				groups[i] = groups[i][:len(groups[i])-1]
			}
		}
	}
	try(0)
	return best
}

// randomTopology makes n nodes on up to `hosts` machines, each machine in one of up to
// `zones` zones (0: no zones), in a random input order.
func randomTopology(rng *rand.Rand, n, hosts, zones int) []Node {
	hostZone := make([]string, hosts)
	for h := range hostZone {
		if zones > 0 {
			hostZone[h] = fmt.Sprintf("z%d", rng.IntN(zones))
		}
	}
	nodes := make([]Node, n)
	for i := range nodes {
		h := rng.IntN(hosts)
		nodes[i] = Node{Addr: fmt.Sprintf("10.0.%d.1:%d", h, 7000+i), Host: fmt.Sprintf("10.0.%d.1", h), Zone: hostZone[h]}
	}
	rng.Shuffle(n, func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
	return nodes
}

// checkPlanShape checks what every plan must satisfy: masters are the head of the host
// interleaving with redis-cli's ranges, every node is used once, replica counts are as asked.
func checkPlanShape(t *testing.T, plan CreatePlan, nodes []Node, replicas int) {
	t.Helper()
	masters := len(nodes) / (replicas + 1)
	if len(plan.Shards) != masters {
		t.Fatalf("%d shards, want %d", len(plan.Shards), masters)
	}
	sites, _ := resolveSites(nodes)
	order := interleaveByHost(nodes, sites)
	ranges := MasterSlotRanges(masters)
	covered := make([]int, Slots)
	used := make(map[string]int)
	known := make(map[string]bool)
	for _, n := range nodes {
		known[n.Addr] = true
	}
	extra := len(nodes) - masters*(replicas+1)
	for i, shard := range plan.Shards {
		if shard.Master != nodes[order[i]] {
			t.Errorf("shard %d master %v, want %v", i, shard.Master, nodes[order[i]])
		}
		if shard.Slots != ranges[i] {
			t.Errorf("shard %d slots %v, want %v", i, shard.Slots, ranges[i])
		}
		for s := shard.Slots.Start; s <= shard.Slots.End; s++ {
			covered[s]++
		}
		want := replicas
		if i < extra%masters {
			want++
		}
		want += extra / masters
		if len(shard.Replicas) != want {
			t.Errorf("shard %d has %d replicas, want %d", i, len(shard.Replicas), want)
		}
		used[shard.Master.Addr]++
		for _, r := range shard.Replicas {
			used[r.Addr]++
			if !known[r.Addr] {
				t.Errorf("shard %d replica %v is not an input node", i, r)
			}
		}
	}
	for s, n := range covered {
		if n != 1 {
			t.Fatalf("slot %d assigned %d times", s, n)
		}
	}
	for _, n := range nodes {
		if used[n.Addr] != 1 {
			t.Errorf("node %s used %d times", n.Addr, used[n.Addr])
		}
	}
}

func TestPlanCreateIsOptimalOnRandomTopologies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := 0
	for cases < 800 {
		replicas := rng.IntN(3)
		n := 3*(replicas+1) + rng.IntN(10-3*(replicas+1))
		if n > 9 {
			continue
		}
		nodes := randomTopology(rng, n, 1+rng.IntN(5), rng.IntN(4))
		plan, err := PlanCreate(nodes, replicas)
		if err != nil {
			t.Fatalf("PlanCreate(%v, %d): %v", nodes, replicas, err)
		}
		checkPlanShape(t, plan, nodes, replicas)
		got, want := costOf(t, plan, nodes), bruteForceCost(t, plan, nodes)
		if got != want {
			t.Fatalf("PlanCreate(%v, %d) costs %v, brute force finds %v\nplan %+v", nodes, replicas, got, want, plan)
		}
		if (len(plan.Violations) == 0) != (got == placementCost{}) {
			t.Fatalf("cost %v but violations %v", got, plan.Violations)
		}
		again, _ := PlanCreate(nodes, replicas)
		if !reflect.DeepEqual(plan, again) {
			t.Fatalf("PlanCreate is not deterministic for %v", nodes)
		}
		cases++
	}
}

// Larger random topologies: the shape holds and the plan is never worse than redis-cli's
// starting placement; this also keeps the optimiser's speed in view.
func TestPlanCreateLargeTopologies(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20; i++ {
		replicas := 1 + rng.IntN(2)
		nodes := randomTopology(rng, 60+rng.IntN(90), 3+rng.IntN(20), rng.IntN(4))
		plan, err := PlanCreate(nodes, replicas)
		if err != nil {
			t.Fatal(err)
		}
		checkPlanShape(t, plan, nodes, replicas)
	}
}
