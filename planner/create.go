package planner

import (
	"fmt"
	"sort"
)

// Node is a node to place. Addr identifies it (and breaks ties: address order); Host is the
// resolved IP (nodes with one Host are one machine); Zone is optional ("" = none).
//
// A node with an empty Host is taken to be alone on its machine. A node with an empty Zone on
// a host whose other nodes name a zone is in that zone (one machine is in one zone).
type Node struct{ Addr, Host, Zone string }

// Shard is one master, its slots and its replicas.
type Shard struct {
	Master   Node
	Slots    SlotRange
	Replicas []Node
}

// Violation is an anti-affinity rule a plan could not meet: Kind is "zone" or "host";
// Shard indexes CreatePlan.Shards; Nodes are the addresses that share the host/zone.
type Violation struct {
	Shard int
	Kind  string
	Nodes []string
}

// CreatePlan is the outcome of placement. Violations is empty when anti-affinity is perfect.
type CreatePlan struct {
	Shards     []Shard
	Violations []Violation
}

// TooFewMastersError reports that the nodes cannot form at least 3 masters with the
// requested number of replicas per master.
type TooFewMastersError struct{ Nodes, Replicas, Needed int }

// Error gives redis-cli's sentences for this case (clusterManagerCommandCreate).
func (e *TooFewMastersError) Error() string {
	return fmt.Sprintf("Redis Cluster requires at least 3 master nodes. "+
		"This is not possible with %d nodes and %d replicas per node. "+
		"At least %d nodes are required.", e.Nodes, e.Replicas, e.Needed)
}

// minMasters is the smallest cluster redis-cli agrees to create.
const minMasters = 3

// PlanCreate places nodes as `redis-cli --cluster create --cluster-replicas replicas` would,
// but with an optimal anti-affinity placement instead of redis-cli's random swaps.
//
// masters = len(nodes)/(replicas+1), at least 3 or a *TooFewMastersError. Nodes are
// interleaved by host (one node per host in turn, hosts in order of first appearance); the
// first `masters` of that list are the masters, in that order, and get MasterSlotRanges.
// Every master gets `replicas` replicas; left-over nodes become extra replicas, one per master
// in turn (redis-cli hands out at most one extra per master and leaves the rest as empty
// masters; here every node is used). Which replica serves which master is then chosen to
// minimise, in this order: replicas in their master's zone, sibling replicas sharing a zone,
// replicas on their master's host, sibling replicas sharing a host (see placeReplicas).
// The result is deterministic for a given input.
func PlanCreate(nodes []Node, replicas int) (CreatePlan, error) {
	if replicas < 0 {
		return CreatePlan{}, fmt.Errorf("plan create: replicas must not be negative, got %d", replicas)
	}
	if err := checkNodes(nodes); err != nil {
		return CreatePlan{}, fmt.Errorf("plan create: %w", err)
	}
	masters := len(nodes) / (replicas + 1)
	if masters < minMasters {
		return CreatePlan{}, &TooFewMastersError{Nodes: len(nodes), Replicas: replicas, Needed: minMasters * (replicas + 1)}
	}
	if masters > Slots {
		return CreatePlan{}, fmt.Errorf("plan create: %d masters is more than the %d slots", masters, Slots)
	}
	sites, err := resolveSites(nodes)
	if err != nil {
		return CreatePlan{}, fmt.Errorf("plan create: %w", err)
	}
	order := interleaveByHost(nodes, sites)
	ranges := MasterSlotRanges(masters)

	shards := make([]Shard, masters)
	for i := range shards {
		shards[i] = Shard{Master: nodes[order[i]], Slots: ranges[i]}
	}
	spare := order[masters:]
	capacity := replicaCapacity(masters, replicas, len(spare))
	assignment := placeReplicas(nodes, order[:masters], spare, capacity, sites)
	for i, shard := range assignment {
		shards[shard].Replicas = append(shards[shard].Replicas, nodes[spare[i]])
	}
	for i := range shards {
		sort.Slice(shards[i].Replicas, func(a, b int) bool {
			return shards[i].Replicas[a].Addr < shards[i].Replicas[b].Addr
		})
	}
	return CreatePlan{Shards: shards, Violations: violations(shards, nodes, sites)}, nil
}

// checkNodes rejects input no cluster can be made of: empty or repeated addresses.
func checkNodes(nodes []Node) error {
	seen := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		if n.Addr == "" {
			return fmt.Errorf("a node has no address")
		}
		if seen[n.Addr] {
			return fmt.Errorf("node %s is listed twice", n.Addr)
		}
		seen[n.Addr] = true
	}
	return nil
}

// site is where a node runs, as the anti-affinity rules see it: host and zone keys, "" for a
// zone meaning none.
type site struct{ host, zone string }

// resolveSites gives each node (by index) its host key and effective zone. A node without a
// Host is a machine of its own; a node without a Zone takes the zone the other nodes of its
// host name. Two zones named for one host are an error: a machine is in one zone.
func resolveSites(nodes []Node) ([]site, error) {
	hostZone := make(map[string]string)
	zoneNamedBy := make(map[string]string)
	sites := make([]site, len(nodes))
	for i, n := range nodes {
		host := "host:" + n.Host
		if n.Host == "" {
			host = "addr:" + n.Addr
		}
		sites[i].host = host
		if n.Zone == "" {
			continue
		}
		if zone, ok := hostZone[host]; ok && zone != n.Zone {
			return nil, fmt.Errorf("nodes %s and %s are on host %s but in zones %q and %q; one machine is in one zone",
				zoneNamedBy[host], n.Addr, n.Host, zone, n.Zone)
		}
		hostZone[host] = n.Zone
		zoneNamedBy[host] = n.Addr
	}
	for i := range nodes {
		sites[i].zone = hostZone[sites[i].host]
	}
	return sites, nil
}

// interleaveByHost returns node indexes taking one node from each host in turn, hosts in order
// of first appearance and nodes of a host in input order, as redis-cli does so that the
// masters (the head of the list) spread over machines.
func interleaveByHost(nodes []Node, sites []site) []int {
	var hosts [][]int
	hostIndex := make(map[string]int)
	for i := range nodes {
		h, ok := hostIndex[sites[i].host]
		if !ok {
			h = len(hosts)
			hostIndex[sites[i].host] = h
			hosts = append(hosts, nil)
		}
		hosts[h] = append(hosts[h], i)
	}
	order := make([]int, 0, len(nodes))
	for len(order) < len(nodes) {
		for h := range hosts {
			if len(hosts[h]) > 0 {
				order = append(order, hosts[h][0])
				hosts[h] = hosts[h][1:]
			}
		}
	}
	return order
}

// replicaCapacity is how many replicas each master gets: `replicas` each, then the spare
// nodes beyond that one per master in turn.
func replicaCapacity(masters, replicas, spare int) []int {
	capacity := make([]int, masters)
	for i := range capacity {
		capacity[i] = replicas
	}
	for extra := 0; extra < spare-masters*replicas; extra++ {
		capacity[extra%masters]++
	}
	return capacity
}

// violations lists, per shard, each zone and then each host where a replica shares the
// master's or a sibling's location. Zone rules apply only to nodes that have a zone.
func violations(shards []Shard, nodes []Node, sites []site) []Violation {
	siteOf := make(map[string]site, len(nodes)) // by address
	for i, n := range nodes {
		siteOf[n.Addr] = sites[i]
	}
	var out []Violation
	for i, shard := range shards {
		members := append([]Node{shard.Master}, shard.Replicas...)
		for _, kind := range []string{"zone", "host"} {
			groups := make(map[string][]string)
			var keys []string
			for _, n := range members {
				key := siteOf[n.Addr].host
				if kind == "zone" {
					key = siteOf[n.Addr].zone
					if key == "" {
						continue
					}
				}
				if _, ok := groups[key]; !ok {
					keys = append(keys, key)
				}
				groups[key] = append(groups[key], n.Addr)
			}
			for _, key := range keys {
				if len(groups[key]) > 1 {
					out = append(out, Violation{Shard: i, Kind: kind, Nodes: groups[key]})
				}
			}
		}
	}
	return out
}
