package trib

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// ForgetWindow is how long a node refuses to re-learn a node it was told to CLUSTER FORGET
// (Redis's node blacklist, CLUSTER_BLACKLIST_TTL): every node must forget within it, or the
// ones that still know the node gossip it back to the others.
const ForgetWindow = 60 * time.Second

// DelNodeOptions tune DelNode.
type DelNodeOptions struct {
	// Shutdown stops the removed node with SHUTDOWN instead of CLUSTER RESET SOFT.
	Shutdown bool
	// Converge bounds the wait for every node to have forgotten it; 0 means 10 s.
	Converge time.Duration
}

// Repoint is a replica DelNode moved to another master.
type Repoint struct {
	Replica  string `json:"replica"`
	ID       string `json:"id"`
	Master   string `json:"master"`
	MasterID string `json:"master_id"`
}

// DelNodeResult says what DelNode did.
type DelNodeResult struct {
	Node string `json:"node"`
	ID   string `json:"id"`
	Role string `json:"role"`
	// Repointed lists the node's replicas, each now replicating another master.
	Repointed []Repoint `json:"repointed"`
	// Forgot lists the nodes that forgot it (every other node of the cluster).
	Forgot []string `json:"forgot"`
	// Reset and Shutdown say what was done to the node itself; both false when it could
	// not be reached (it was only forgotten).
	Reset    bool          `json:"reset"`
	Shutdown bool          `json:"shutdown"`
	Elapsed  time.Duration `json:"elapsed_ns"`
}

// NodeNotEmptyError means del-node was asked to remove a master that still serves slots.
type NodeNotEmptyError struct {
	Node  string
	Slots []int
}

func (e *NodeNotEmptyError) Error() string {
	return fmt.Sprintf("node %s is not empty: it serves %d slot(s) %s; reshard them to other masters "+
		"(clusterctl reshard) and try again", e.Node, len(e.Slots), FormatSlotRanges(e.Slots))
}

// DelNode removes the node ref (ID, unique ID prefix or host:port) from the cluster as
// redis-cli's clusterManagerCommandDeleteNode does, with its pre-flight checks and a final
// verification. It refuses a master that still serves slots (*NodeNotEmptyError) or takes
// part in an open slot, and a cluster with an error-severity problem other than the node
// itself being down. It re-points each of the node's replicas to the master with fewest
// replicas, sends CLUSTER FORGET to every other node in parallel (well inside ForgetWindow),
// then CLUSTER RESET SOFT (or SHUTDOWN) to the node when it is reachable, and waits until no
// remaining node lists it.
func DelNode(ctx context.Context, c *Cluster, ref string, opts DelNodeOptions, progress Progress) (*DelNodeResult, error) {
	start := time.Now()
	settle(ctx, c)
	node, err := c.Find(ref)
	if err != nil {
		return nil, fmt.Errorf("no such node %s in the cluster of %s: %w", ref, c.Seed, err)
	}
	progress.emit(LevelStep, ">>> Removing node %s (%s) from cluster %s", node.ID, node.Dial, c.Seed)
	if err := delNodePreflight(ctx, c, node); err != nil {
		return nil, err
	}
	res := &DelNodeResult{Node: node.Dial, ID: node.ID, Role: "master", Repointed: []Repoint{}, Forgot: []string{}}
	if node.IsReplica() {
		res.Role = "replica"
	}
	for _, r := range c.ReplicasOf(node.ID) {
		if !r.Reachable() {
			continue // it is down: forgetting its master is all it needs
		}
		m, err := fewestReplicas(c, node)
		if err != nil {
			return res, fmt.Errorf("no other master to move replica %s to: %w", r.Dial, err)
		}
		progress.emit(LevelStep, ">>> %s as replica of %s", r.Dial, m.Dial)
		if err := r.client.OK(ctx, "CLUSTER", "REPLICATE", m.ID); err != nil {
			return res, fmt.Errorf("re-point replica %s: %w (nothing was forgotten yet; rerun del-node)", r.Dial, err)
		}
		r.MasterID = m.ID // so the next replica sees the new count
		res.Repointed = append(res.Repointed, Repoint{Replica: r.Dial, ID: r.ID, Master: m.Dial, MasterID: m.ID})
	}
	progress.emit(LevelStep, ">>> Sending CLUSTER FORGET messages to the cluster...")
	forgotten, err := forgetEverywhere(ctx, c, node)
	res.Forgot = forgotten
	if err != nil {
		return res, err
	}
	if node.Reachable() {
		if opts.Shutdown {
			progress.emit(LevelStep, ">>> SHUTDOWN the node.")
			if err := shutdown(ctx, node.client); err != nil {
				return res, fmt.Errorf("every other node forgot %s, but SHUTDOWN failed: %w; stop it by hand", node.Dial, err)
			}
			res.Shutdown = true
		} else {
			progress.emit(LevelStep, ">>> Sending CLUSTER RESET SOFT to the deleted node.")
			if err := node.client.OK(ctx, "CLUSTER", "RESET", "SOFT"); err != nil {
				return res, fmt.Errorf("every other node forgot %s, but it still believes it is in the cluster: %w "+
					"(a master holding keys cannot be reset: FLUSHALL it first, or rerun with --shutdown)", node.Dial, err)
			}
			res.Reset = true
		}
	} else {
		progress.emit(LevelWarn, "*** Node %s is unreachable: it was forgotten but not reset; reset or stop it before it comes back", node.Dial)
	}
	limit := opts.Converge
	if limit <= 0 {
		limit = 10 * time.Second
	}
	if err := waitFor(ctx, limit, func() (bool, error) { return forgottenEverywhere(ctx, c, node) }); err != nil {
		return res, fmt.Errorf("some nodes still list %s (%w); run check", node.ID, err)
	}
	res.Elapsed = time.Since(start)
	progress.emit(LevelOK, "[OK] Node %s removed: %d node(s) forgot it.", node.Dial, len(res.Forgot))
	return res, nil
}

// delNodePreflight refuses to remove a node that serves slots or takes part in an open slot
// (in its own view or any other's), and refuses when the rest of the cluster has an
// error-severity problem.
func delNodePreflight(ctx context.Context, c *Cluster, node *Node) error {
	slots := map[int]bool{}
	for _, s := range node.Slots {
		slots[s] = true
	}
	var open []string
	for _, n := range c.Nodes {
		for _, e := range n.View {
			if e.ID == node.ID {
				for _, s := range e.Slots {
					slots[s] = true
				}
			}
		}
		for s, id := range n.Migrating {
			if n == node || id == node.ID {
				open = append(open, fmt.Sprintf("slot %d migrating from %s", s, n.Dial))
			}
		}
		for s, id := range n.Importing {
			if n == node || id == node.ID {
				open = append(open, fmt.Sprintf("slot %d importing into %s", s, n.Dial))
			}
		}
	}
	if len(slots) > 0 {
		return &NodeNotEmptyError{Node: node.Dial, Slots: sortedKeys(slots)}
	}
	if len(open) > 0 {
		sort.Strings(open)
		return fmt.Errorf("node %s takes part in open slots (%s): close them first with clusterctl fix", node.Dial, strings.Join(open, "; "))
	}
	// The node itself may be down or failed: removing it is the point.
	_, err := requireReady(ctx, c, "del-node", func(p Problem) bool {
		if p.Node == node.Dial {
			return true
		}
		return (p.Kind == KindConfigDisagreement || p.Kind == KindClusterStateNotOK) && !node.Reachable()
	})
	return err
}

// forgetEverywhere sends CLUSTER FORGET id to every other reachable node at once and
// returns the nodes that forgot it. A node that no longer knows it counts as forgotten.
func forgetEverywhere(ctx context.Context, c *Cluster, node *Node) ([]string, error) {
	var (
		mu     sync.Mutex
		forgot []string
		errs   []error
	)
	begin := time.Now()
	var wg sync.WaitGroup
	for _, n := range c.Nodes {
		if n == node || !n.Reachable() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := n.client.OK(ctx, "CLUSTER", "FORGET", node.ID)
			if err != nil && strings.Contains(err.Error(), "Unknown node") {
				err = nil
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			forgot = append(forgot, n.Dial)
		}()
	}
	wg.Wait()
	sort.Strings(forgot)
	if len(errs) > 0 {
		return forgot, fmt.Errorf("CLUSTER FORGET failed on %d node(s): %w; rerun del-node within %v, before the others re-learn %s",
			len(errs), errors.Join(errs...), ForgetWindow, node.Dial)
	}
	if took := time.Since(begin); took > ForgetWindow {
		return forgot, fmt.Errorf("CLUSTER FORGET took %v, over the %v window: some nodes may re-learn %s; rerun del-node", took, ForgetWindow, node.Dial)
	}
	return forgot, nil
}

// forgottenEverywhere reports whether no other reachable node lists the node any more.
func forgottenEverywhere(ctx context.Context, c *Cluster, node *Node) (bool, error) {
	for _, n := range c.Nodes {
		if n == node || !n.Reachable() {
			continue
		}
		v, err := viewOf(ctx, n.client)
		if err != nil {
			return false, err
		}
		if entryOf(v, node.ID) != nil {
			return false, nil
		}
	}
	return true, nil
}

// shutdown sends SHUTDOWN; the node closing the connection is the success reply.
func shutdown(ctx context.Context, cl *Client) error {
	_, err := cl.Do(ctx, "SHUTDOWN")
	if err == nil {
		return nil
	}
	var u *UnreachableError
	if errors.As(err, &u) && (errors.Is(u.Err, io.EOF) || strings.Contains(u.Err.Error(), "connection reset")) {
		return nil
	}
	return err
}
