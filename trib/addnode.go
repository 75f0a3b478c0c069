package trib

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/planner"
)

// NotReadyError means a cluster has problems that stop a topology change before anything
// was changed (SPEC 1.1a: pre-flight checks before changing anything).
type NotReadyError struct {
	// Op is the operation refused ("add-node", "del-node", ...).
	Op       string
	Problems []Problem
}

func (e *NotReadyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the cluster has %d problem(s), nothing was changed:", e.Op, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Message)
	}
	b.WriteString("\nrun `clusterctl check` to see them and `clusterctl fix` to repair them, then retry")
	return b.String()
}

// OnlyUnreachable reports whether every problem is about reaching or authenticating a node.
func (e *NotReadyError) OnlyUnreachable() bool {
	for _, p := range e.Problems {
		if p.Kind != KindUnreachable && p.Kind != KindAuthFailed {
			return false
		}
	}
	return len(e.Problems) > 0
}

// requireReady checks the cluster as Check does and refuses with a *NotReadyError when it
// has an error-severity problem (an unreachable node, disagreement, an open or uncovered
// slot, a failed node, ...) that skip does not excuse. Warnings (a master without replica,
// a replica on its master's host) do not stop a change.
func requireReady(ctx context.Context, c *Cluster, op string, skip func(Problem) bool) (*Report, error) {
	report, err := Check(ctx, c, CheckOptions{})
	if err != nil {
		return nil, err
	}
	var blocking []Problem
	for _, p := range report.Problems {
		if p.Severity == SeverityError && (skip == nil || !skip(p)) {
			blocking = append(blocking, p)
		}
	}
	if len(blocking) > 0 {
		return report, &NotReadyError{Op: op, Problems: blocking}
	}
	return report, nil
}

// AddNodeOptions tune AddNode.
type AddNodeOptions struct {
	// Replica adds the node as a replica: of MasterID when given, else of the master with
	// fewest replicas (redis-cli's --cluster-slave).
	Replica bool
	// MasterID is the master to replicate, by ID, unique ID prefix or host:port (SPEC 1.1);
	// it implies Replica.
	MasterID string
	// Converge bounds each wait for the cluster to know the node; 0 means 30 s.
	Converge time.Duration
}

func (o AddNodeOptions) converge() time.Duration {
	if o.Converge <= 0 {
		return 30 * time.Second
	}
	return o.Converge
}

// AddNodeResult says what AddNode did.
type AddNodeResult struct {
	Node string `json:"node"`
	ID   string `json:"id"`
	Role string `json:"role"` // "master" or "replica"
	// MasterID and Master name the master a replica was attached to; AutoSelected says
	// whether it was picked as the master with fewest replicas.
	MasterID     string        `json:"master_id,omitempty"`
	Master       string        `json:"master,omitempty"`
	AutoSelected bool          `json:"auto_selected,omitempty"`
	Elapsed      time.Duration `json:"elapsed_ns"`
}

// AddNode adds the node at addr to the loaded cluster as redis-cli's
// clusterManagerCommandAddNode does, with the pre-flight checks it lacks. Before any change
// it checks the cluster (no error-severity problem), resolves the master of a replica, and
// checks the new node (reachable, authenticated, cluster-enabled, empty, alone, not already
// a member). Then it sends CLUSTER MEET from the new node to the first node of the cluster,
// waits until every node knows the new one and the new one knows them all, and for a
// replica sends CLUSTER REPLICATE and waits until its link is up and every node sees it as
// that master's replica.
func AddNode(ctx context.Context, c *Cluster, addr string, opts AddNodeOptions, progress Progress) (*AddNodeResult, error) {
	start := time.Now()
	progress.emit(LevelStep, ">>> Adding node %s to cluster %s", addr, c.Seed)
	settle(ctx, c)
	if _, err := requireReady(ctx, c, "add-node", nil); err != nil {
		return nil, err
	}
	res := &AddNodeResult{Node: addr, Role: "master"}
	var master *Node
	if opts.Replica || opts.MasterID != "" {
		var err error
		if master, err = pickMaster(c, opts.MasterID); err != nil {
			return nil, err
		}
		res.Role, res.MasterID, res.Master, res.AutoSelected = "replica", master.ID, master.Dial, opts.MasterID == ""
		if res.AutoSelected {
			progress.emit(LevelInfo, "Automatically selected master %s", master.Dial)
		}
	}
	nodes, problems := Preflight(ctx, []string{addr}, c.Opts, CreateOptions{})
	defer CloseNodes(nodes)
	if len(problems) > 0 {
		return nil, &PreflightError{Problems: problems}
	}
	nn := nodes[0]
	for _, n := range c.Nodes {
		if n.ID == nn.ID || (n.IP == nn.IP && n.Port == nn.Port) {
			return nil, &PreflightError{Problems: []PreflightProblem{{Kind: PreflightKnowsNodes, Node: addr,
				Message: fmt.Sprintf("Node %s is already part of the cluster (as %s)", addr, n.ID)}}}
		}
	}
	res.ID = nn.ID
	first := c.Nodes[0]
	progress.emit(LevelStep, ">>> Send CLUSTER MEET to node %s to make it join the cluster.", addr)
	args := []string{"CLUSTER", "MEET", first.IP, strconv.Itoa(first.Port)}
	if first.BusPort != 0 && first.BusPort != first.Port+10000 {
		args = append(args, strconv.Itoa(first.BusPort))
	}
	if err := nn.client.OK(ctx, args...); err != nil {
		return nil, err
	}
	progress.emit(LevelInfo, "Waiting for the cluster to know %s", addr)
	if err := waitFor(ctx, opts.converge(), func() (bool, error) { return knowsEachOther(ctx, c, nn) }); err != nil {
		return nil, fmt.Errorf("node %s met the cluster but the nodes do not all know it yet (%w); run check to see which", addr, err)
	}
	// A node that just joined reports cluster_state:fail until it has learned every slot's
	// owner and, as a master, waited out Redis's rejoin delay (about 2 s): a replica placed
	// or a slot moved to it before then meets CLUSTERDOWN.
	progress.emit(LevelInfo, "Waiting for %s to report the cluster ok", addr)
	if err := waitFor(ctx, opts.converge(), func() (bool, error) {
		text, err := nn.client.String(ctx, "CLUSTER", "INFO")
		if err != nil {
			return false, err
		}
		return ParseInfo(text)["cluster_state"] == "ok", nil
	}); err != nil {
		return nil, fmt.Errorf("node %s joined the cluster but does not report cluster_state:ok (%w); run check to see why", addr, err)
	}
	if master != nil {
		progress.emit(LevelStep, ">>> Configure node as replica of %s.", master.Dial)
		if err := nn.client.OK(ctx, "CLUSTER", "REPLICATE", master.ID); err != nil {
			return nil, fmt.Errorf("node %s joined the cluster as an empty master, but: %w", addr, err)
		}
		progress.emit(LevelInfo, "Waiting for the replica to sync and every node to see it")
		if err := waitFor(ctx, opts.converge(), func() (bool, error) { return replicaSettled(ctx, c, nn.client, nn.ID, master.ID) }); err != nil {
			return nil, fmt.Errorf("node %s replicates %s but has not settled (%w); run check to follow it", addr, master.Dial, err)
		}
	}
	res.Elapsed = time.Since(start)
	progress.emit(LevelOK, "[OK] New node added correctly.")
	return res, nil
}

// settleLimit bounds how long a change waits for the nodes to agree before its pre-flight
// checks: right after a reshard or a failover, replicas learn the new configuration from
// gossip within a few hundred milliseconds.
const settleLimit = 5 * time.Second

// settle reloads the cluster until its nodes agree (Cluster.Converged), for at most
// settleLimit. It reports nothing: the pre-flight checks that follow say what is wrong.
func settle(ctx context.Context, c *Cluster) {
	c.WaitConverged(ctx, settleLimit, false)
}

// pickMaster resolves ref to a master, or, when ref is empty, picks the master with fewest
// replicas among those serving slots (all masters when none does).
func pickMaster(c *Cluster, ref string) (*Node, error) {
	if ref != "" {
		m, err := c.Find(ref)
		if err != nil {
			return nil, fmt.Errorf("no such master %s: %w", ref, err)
		}
		if !m.IsMaster() {
			return nil, fmt.Errorf("node %s (%s) is not a master", ref, m.Dial)
		}
		return m, nil
	}
	return fewestReplicas(c, nil)
}

// fewestReplicas returns the master with fewest replicas among the reachable masters that
// serve slots (or, when none does, all reachable masters), except the one excluded.
func fewestReplicas(c *Cluster, exclude *Node) (*Node, error) {
	var cands []planner.MasterReplicas
	byID := map[string]*Node{}
	for _, withSlots := range []bool{true, false} {
		for _, m := range c.ReachableMasters() {
			if m == exclude || (withSlots && len(m.Slots) == 0) {
				continue
			}
			cands = append(cands, planner.MasterReplicas{ID: m.ID, Addr: m.Dial, Replicas: len(c.ReplicasOf(m.ID))})
			byID[m.ID] = m
		}
		if len(cands) > 0 {
			break
		}
	}
	id, err := planner.PickMasterForReplica(cands)
	if err != nil {
		return nil, err
	}
	return byID[id], nil
}

// waitFor polls cond every 100 ms until it holds, fails, or limit passes.
func waitFor(ctx context.Context, limit time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	var lastErr error
	for {
		ok, err := cond()
		if err == nil && ok {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		if time.Now().After(deadline) {
			if lastErr != nil {
				return fmt.Errorf("not within %v: %w", limit, lastErr)
			}
			return fmt.Errorf("not within %v", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// viewOf reads and parses a node's CLUSTER NODES.
func viewOf(ctx context.Context, cl *Client) ([]NodeEntry, error) {
	text, err := cl.String(ctx, "CLUSTER", "NODES")
	if err != nil {
		return nil, err
	}
	return ParseClusterNodes(text)
}

// entryOf returns the entry of id in view, or nil.
func entryOf(view []NodeEntry, id string) *NodeEntry {
	for i := range view {
		if view[i].ID == id {
			return &view[i]
		}
	}
	return nil
}

// settled reports an entry past the handshake, with an address.
func settled(e *NodeEntry) bool {
	return e != nil && !e.HasFlag("handshake") && !e.HasFlag("noaddr")
}

// knowsEachOther reports whether every reachable node of c knows nn and nn knows every
// node of c, all past the handshake.
func knowsEachOther(ctx context.Context, c *Cluster, nn *NewNode) (bool, error) {
	view, err := viewOf(ctx, nn.client)
	if err != nil {
		return false, err
	}
	for _, n := range c.Nodes {
		if !settled(entryOf(view, n.ID)) {
			return false, nil
		}
	}
	var errs []error
	for _, n := range c.Nodes {
		if !n.Reachable() {
			continue
		}
		v, err := viewOf(ctx, n.client)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !settled(entryOf(v, nn.ID)) {
			return false, nil
		}
	}
	return len(errs) == 0, errors.Join(errs...)
}

// replicaSettled reports whether the replica's link to its master is up and every reachable
// node of c sees it as a replica of masterID.
func replicaSettled(ctx context.Context, c *Cluster, replica *Client, replicaID, masterID string) (bool, error) {
	info, err := replica.Info(ctx, "replication")
	if err != nil {
		return false, err
	}
	if info["role"] != "slave" || info["master_link_status"] != "up" {
		return false, nil
	}
	for _, n := range c.Nodes {
		if !n.Reachable() || n.ID == replicaID {
			continue
		}
		v, err := viewOf(ctx, n.client)
		if err != nil {
			return false, err
		}
		if e := entryOf(v, replicaID); !settled(e) || !e.IsReplica() || e.MasterID != masterID {
			return false, nil
		}
	}
	return true, nil
}
