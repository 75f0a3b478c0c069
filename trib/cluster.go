package trib

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/clusterctl/clusterctl/node/resp"
)

// Node is one node of a loaded cluster. Its NodeEntry is the node's description of itself
// (the "myself" line of its own CLUSTER NODES), or the seed's description of it when the node
// could not be loaded (then Err says why).
type Node struct {
	NodeEntry
	// Dial is the address trib connects to (the seed address as given, else ip:port).
	Dial string
	// Err is set when the node could not be reached or authenticated; the fields below are
	// then empty.
	Err error
	// View is the node's whole CLUSTER NODES.
	View []NodeEntry
	// ClusterInfo is CLUSTER INFO; Info is INFO (default sections).
	ClusterInfo map[string]string
	Info        map[string]string
	// Keys is DBSIZE.
	Keys int64

	client *Client
}

// Client returns the node's open connection (nil when Err is set). The Cluster owns it.
func (n *Node) Client() *Client { return n.client }

// Host returns the node's machine: its IP (the part of Dial before the port when the node
// reports none).
func (n *Node) Host() string {
	if n.IP != "" {
		return n.IP
	}
	host, _, _ := net.SplitHostPort(n.Dial)
	return host
}

// Reachable reports whether the node was loaded.
func (n *Node) Reachable() bool { return n.Err == nil }

// Cluster is a topology loaded from a seed node: every node it knows, each loaded from
// itself in parallel. Close releases the connections.
type Cluster struct {
	Seed  string
	Nodes []*Node
	Opts  Options
}

// NotClusterError means a node runs with cluster support disabled.
type NotClusterError struct{ Addr string }

func (e *NotClusterError) Error() string {
	return fmt.Sprintf("node %s is not configured as a cluster node (cluster-enabled is no)", e.Addr)
}

// Load connects to seed, reads its CLUSTER NODES, then loads every node it lists in parallel:
// CLUSTER NODES, CLUSTER INFO, INFO and DBSIZE in one round trip each. A node that cannot be
// reached within opts.Timeout is kept with Err set, so one frozen node delays the load by at
// most one timeout and never stops it. The error is for the seed only.
func Load(ctx context.Context, seed string, opts Options) (*Cluster, error) {
	c := &Cluster{Seed: seed, Opts: opts}
	first := &Node{Dial: seed}
	first.load(ctx, opts, nil)
	if first.Err != nil {
		return nil, first.Err
	}
	c.Nodes = append(c.Nodes, first)
	for _, e := range first.View {
		if e.Myself() || e.HasFlag("noaddr") || e.HasFlag("handshake") {
			continue
		}
		c.Nodes = append(c.Nodes, &Node{NodeEntry: e, Dial: e.Addr()})
	}
	var wg sync.WaitGroup
	for _, n := range c.Nodes[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.load(ctx, opts, nil)
		}()
	}
	wg.Wait()
	return c, nil
}

// load fills the node from itself, over client when given, else over a new connection.
func (n *Node) load(ctx context.Context, opts Options, client *Client) {
	if client == nil {
		var err error
		if client, err = Dial(ctx, n.Dial, opts); err != nil {
			n.Err = err
			return
		}
	}
	vs, err := client.Pipeline(ctx, [][]string{
		{"CLUSTER", "NODES"}, {"CLUSTER", "INFO"}, {"INFO"}, {"DBSIZE"},
	})
	if err != nil {
		client.Close()
		n.Err = err
		return
	}
	if err := vs[0].Err(); err != nil {
		client.Close()
		if strings.Contains(err.Error(), "cluster support disabled") {
			n.Err = &NotClusterError{Addr: n.Dial}
		} else {
			n.Err = fmt.Errorf("CLUSTER NODES on %s: %w", n.Dial, err)
		}
		return
	}
	view, err := ParseClusterNodes(string(vs[0].Str))
	if err != nil {
		client.Close()
		n.Err = fmt.Errorf("node %s: %w", n.Dial, err)
		return
	}
	n.View = view
	for _, e := range view {
		if e.Myself() {
			if e.IP == "" {
				// A node that has not met any other does not know its own IP yet.
				host, port, _ := net.SplitHostPort(n.Dial)
				e.IP = host
				e.Port, _ = strconv.Atoi(port)
			}
			n.NodeEntry = e
		}
	}
	n.ClusterInfo = ParseInfo(string(vs[1].Str))
	n.Info = ParseInfo(string(vs[2].Str))
	if vs[3].Kind == resp.Integer {
		n.Keys = vs[3].Int
	}
	n.client = client
}

// Close closes every connection of the cluster.
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		n.client.Close()
		n.client = nil
	}
}

// Masters returns the masters (by their own account), in load order.
func (c *Cluster) Masters() []*Node {
	var out []*Node
	for _, n := range c.Nodes {
		if n.IsMaster() {
			out = append(out, n)
		}
	}
	return out
}

// ReachableMasters returns the masters that were loaded.
func (c *Cluster) ReachableMasters() []*Node {
	var out []*Node
	for _, n := range c.Masters() {
		if n.Reachable() {
			out = append(out, n)
		}
	}
	return out
}

// ReplicasOf returns the nodes that replicate the master with the given ID.
func (c *Cluster) ReplicasOf(id string) []*Node {
	var out []*Node
	for _, n := range c.Nodes {
		if n.IsReplica() && n.MasterID == id {
			out = append(out, n)
		}
	}
	return out
}

// NodeByID returns the node with the given ID, or nil.
func (c *Cluster) NodeByID(id string) *Node {
	for _, n := range c.Nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// ErrAmbiguousNode is returned by Find for a prefix matching several nodes.
var ErrAmbiguousNode = errors.New("more than one node matches")

// Find resolves a node given as a full ID, a unique ID prefix, or host:port (SPEC 1.1).
func (c *Cluster) Find(ref string) (*Node, error) {
	for _, n := range c.Nodes {
		if n.ID == ref || n.Dial == ref || n.Addr() == ref {
			return n, nil
		}
	}
	var found *Node
	for _, n := range c.Nodes {
		if strings.HasPrefix(n.ID, ref) {
			if found != nil {
				return nil, fmt.Errorf("node %q: %w", ref, ErrAmbiguousNode)
			}
			found = n
		}
	}
	if found == nil {
		return nil, fmt.Errorf("no node %q in the cluster", ref)
	}
	return found, nil
}

// SlotOwners maps each slot to the masters that claim it in their own configuration.
func (c *Cluster) SlotOwners() map[int][]*Node {
	out := make(map[int][]*Node)
	for _, n := range c.Masters() {
		for _, s := range n.Slots {
			out[s] = append(out[s], n)
		}
	}
	return out
}

// forEach runs f on every reachable node in parallel and waits for all. The first error in
// node order is returned.
func forEach(nodes []*Node, f func(n *Node) error) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		if !n.Reachable() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(n)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// sortedIDs returns map keys sorted.
func sortedKeys[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}
