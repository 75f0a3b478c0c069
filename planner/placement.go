package planner

// Replica placement: which master each spare node replicates.
//
// The goal is lexicographic: first the fewest replicas in their master's zone, then the
// fewest pairs of sibling replicas (replicas of one master) sharing a zone, then the same two
// for hosts. Counting sibling *pairs* (k replicas of a master on one host make k(k−1)/2) makes
// the cost of crowding convex, so spreading 4 replicas 2+2 beats 3+1, and it is what lets an
// exact polynomial algorithm find the optimum:
//
// The placement is a min-cost flow. One unit of flow is one replica travelling
//
//	source → host of spare nodes → (master, host) → (master, zone) → master → sink
//
// with capacities source→host = spare nodes on the host and master→sink = replicas the master
// gets. The arcs (master, host)→(master, zone) and (master, zone)→master carry the cost: the
// k-th replica of a master on one host costs (0, 0, [host is the master's], k−1), the k-th in
// one zone ([zone is the master's], k−1, 0, 0). These marginal costs never decrease in k, so
// the cost of a flow is exactly the cost of the placement, and a min-cost flow is an optimal
// placement. Costs are 4-vectors compared lexicographically, an ordered group, so the
// primal-dual min-cost flow (flowGraph.minCostFlow) is exact with no weights to tune and no
// overflow. Zones nest hosts (a host is in one zone), which is what makes the network a tree
// per master.
//
// Size: the network has O(masters × hosts) arcs, and each primal-dual phase (one Dijkstra and
// one blocking flow) carries every shortest path of one cost, so phases are few. Spare nodes
// alone on their machine (no master, no other spare node there) can never share a host with
// anything, so they are pooled per zone and skip the host layer. Measured (go test -bench
// PlanCreate, one core): 100 nodes in about 1-3 ms, 300 nodes on 30 machines in ~85 ms,
// 1000 nodes on 50 machines in ~40 ms, 1000 nodes on 500 machines in under a second.

import "sort"

// placementCost is (replicas in the master's zone, sibling pairs sharing a zone, replicas on
// the master's host, sibling pairs sharing a host), compared lexicographically.
type placementCost [4]int64

func (c placementCost) plus(d placementCost) placementCost {
	for i := range c {
		c[i] += d[i]
	}
	return c
}

func (c placementCost) minus(d placementCost) placementCost {
	for i := range c {
		c[i] -= d[i]
	}
	return c
}

func (c placementCost) less(d placementCost) bool {
	for i := range c {
		if c[i] != d[i] {
			return c[i] < d[i]
		}
	}
	return false
}

// placeReplicas decides which master each spare node replicates: it returns, for each spare
// node (indexes into the node list, in interleaved order), the index of its shard, giving
// shard i exactly capacity[i] replicas, at minimum placementCost. Deterministic: hosts are
// taken in interleaved order, masters in order, and the nodes of one host go to masters in
// address order.
func placeReplicas(nodes []Node, masters, spare []int, capacity []int, sites []site) []int {
	if len(spare) == 0 {
		return nil
	}
	masterOnHost := make(map[string]bool)
	for _, m := range masters {
		masterOnHost[sites[m].host] = true
	}
	spareOnHost := make(map[string]int)
	for _, n := range spare {
		spareOnHost[sites[n].host]++
	}

	// Supplies: spare nodes grouped by host, except lone nodes, grouped by zone.
	type supply struct {
		key   string
		zone  string
		host  string // "" for a pool of lone nodes
		nodes []int  // indexes into spare
	}
	var supplies []*supply
	byKey := make(map[string]*supply)
	for i, n := range spare {
		s := sites[n]
		key, host := "host\x00"+s.host, s.host
		if spareOnHost[s.host] == 1 && !masterOnHost[s.host] {
			key, host = "zone\x00"+s.zone, ""
		}
		sup, ok := byKey[key]
		if !ok {
			sup = &supply{key: key, zone: s.zone, host: host}
			byKey[key] = sup
			supplies = append(supplies, sup)
		}
		sup.nodes = append(sup.nodes, i)
	}

	g := newFlowGraph()
	source, sink := g.addNode(), g.addNode()
	shardNode := make([]int, len(masters))
	for s := range masters {
		shardNode[s] = g.addNode()
		g.addArc(shardNode[s], sink, capacity[s], placementCost{})
	}
	spareInZone := make(map[string]int)
	for _, n := range spare {
		spareInZone[sites[n].zone]++
	}
	type shardZone struct {
		shard int
		zone  string
	}
	zoneNode := make(map[shardZone]int) // zone "" (none) goes straight to the shard
	zoneOf := func(s int, zone string) int {
		if zone == "" {
			return shardNode[s]
		}
		if id, ok := zoneNode[shardZone{s, zone}]; ok {
			return id
		}
		id := g.addNode()
		zoneNode[shardZone{s, zone}] = id
		inMasterZone := int64(0)
		if zone == sites[masters[s]].zone {
			inMasterZone = 1
		}
		for k := 1; k <= min(spareInZone[zone], capacity[s]); k++ {
			g.addArc(id, shardNode[s], 1, placementCost{inMasterZone, int64(k - 1), 0, 0})
		}
		return id
	}
	// entry[supply][shard] is the arc that carries the supply's nodes to the shard.
	entry := make([][]int, len(supplies))
	for i, sup := range supplies {
		supNode := g.addNode()
		g.addArc(source, supNode, len(sup.nodes), placementCost{})
		entry[i] = make([]int, len(masters))
		for s := range masters {
			limit := min(len(sup.nodes), capacity[s])
			if limit == 0 {
				entry[i][s] = -1
				continue
			}
			zone := zoneOf(s, sup.zone)
			if sup.host == "" {
				entry[i][s] = g.addArc(supNode, zone, limit, placementCost{})
				continue
			}
			hostNode := g.addNode()
			entry[i][s] = g.addArc(supNode, hostNode, limit, placementCost{})
			onMasterHost := int64(0)
			if sup.host == sites[masters[s]].host {
				onMasterHost = 1
			}
			for k := 1; k <= limit; k++ {
				g.addArc(hostNode, zone, 1, placementCost{0, 0, onMasterHost, int64(k - 1)})
			}
		}
	}
	g.minCostFlow(source, sink, len(spare))

	assignment := make([]int, len(spare))
	for i, sup := range supplies {
		members := append([]int(nil), sup.nodes...)
		sort.Slice(members, func(a, b int) bool { return nodes[spare[members[a]]].Addr < nodes[spare[members[b]]].Addr })
		next := 0
		for s := range masters {
			if entry[i][s] < 0 {
				continue
			}
			for f := g.flow(entry[i][s]); f > 0; f-- {
				assignment[members[next]] = s
				next++
			}
		}
	}
	return assignment
}
