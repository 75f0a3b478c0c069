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
	"time"

	"github.com/clusterctl/clusterctl/node/resp"
	"github.com/clusterctl/clusterctl/planner"
)

// Pre-flight problem kinds of create (stable strings, like the check kinds).
const (
	PreflightUnreachable = "unreachable"
	PreflightAuthFailed  = "auth_failed"
	PreflightNotCluster  = "not_cluster"
	PreflightNotEmpty    = "not_empty"
	PreflightKnowsNodes  = "knows_nodes"
	PreflightOwnsSlots   = "owns_slots"
	PreflightUnresolved  = "unresolved"
	PreflightDuplicate   = "duplicate"
)

// PreflightProblem is one reason a node cannot join a new cluster.
type PreflightProblem struct {
	Kind    string `json:"kind"`
	Node    string `json:"node"`
	Message string `json:"message"`
}

// PreflightError lists every problem found before create changes anything (SPEC 1.1a:
// report them all at once).
type PreflightError struct{ Problems []PreflightProblem }

func (e *PreflightError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d node problem(s), nothing was changed:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Message)
	}
	return b.String()
}

// OnlyUnreachable reports whether every problem is about reaching or authenticating a node
// (exit code 3 rather than 1).
func (e *PreflightError) OnlyUnreachable() bool {
	for _, p := range e.Problems {
		if p.Kind != PreflightUnreachable && p.Kind != PreflightAuthFailed {
			return false
		}
	}
	return len(e.Problems) > 0
}

// NewNode is a node given to create: its address as given, its resolved IP, and once
// reached, its ID and bus port.
type NewNode struct {
	Addr    string // as given: host:port, [v6]:port or hostname:port
	IP      string // resolved address (the "host" for anti-affinity, and what MEET needs)
	Port    int
	BusPort int
	ID      string
	Zone    string
	client  *Client
	opts    Options // to dial the node again after a connection broke
}

// MeetAddr returns ip:port with the resolved IP.
func (n *NewNode) MeetAddr() string { return net.JoinHostPort(n.IP, strconv.Itoa(n.Port)) }

// Reached reports whether pre-flight connected to the node.
func (n *NewNode) Reached() bool { return n.client != nil }

// CreateOptions tune create.
type CreateOptions struct {
	// Replicas per master.
	Replicas int
	// Zones maps a node address (as given) to its zone, for zone anti-affinity.
	Zones map[string]string
	// AllowUnreachable keeps unreachable nodes without a problem (create --dry-run, so a
	// plan can be made before the nodes exist).
	AllowUnreachable bool
	// Converge bounds each wait for the nodes to agree: the wait fails after that long
	// without progress, or four times that long in all; 0 means 30 s.
	Converge time.Duration
}

// Preflight resolves and connects to every node in parallel and checks each can join a new
// cluster: reachable, authenticated, cluster_enabled:1, knows no other node, owns no slot,
// holds no key. It returns the nodes (in the given order) and every problem found; the
// caller owns the nodes' connections (CloseNodes).
func Preflight(ctx context.Context, addrs []string, opts Options, copts CreateOptions) ([]*NewNode, []PreflightProblem) {
	nodes := make([]*NewNode, len(addrs))
	probs := make([][]PreflightProblem, len(addrs))
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for i, addr := range addrs {
		nodes[i] = &NewNode{Addr: addr, Zone: copts.Zones[addr], opts: opts}
		if seen[addr] {
			probs[i] = append(probs[i], PreflightProblem{Kind: PreflightDuplicate, Node: addr,
				Message: fmt.Sprintf("Node %s is given more than once", addr)})
			continue
		}
		seen[addr] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			probs[i] = preflightNode(ctx, nodes[i], opts, copts)
		}()
	}
	wg.Wait()
	var all []PreflightProblem
	for _, p := range probs {
		all = append(all, p...)
	}
	return nodes, all
}

func preflightNode(ctx context.Context, n *NewNode, opts Options, copts CreateOptions) []PreflightProblem {
	problem := func(kind, format string, a ...any) []PreflightProblem {
		return []PreflightProblem{{Kind: kind, Node: n.Addr, Message: fmt.Sprintf(format, a...)}}
	}
	host, port, err := net.SplitHostPort(n.Addr)
	if err != nil {
		return problem(PreflightUnresolved, "Node %s: bad address: %v", n.Addr, err)
	}
	n.Port, err = strconv.Atoi(port)
	if err != nil {
		return problem(PreflightUnresolved, "Node %s: bad port %q", n.Addr, port)
	}
	n.BusPort = n.Port + 10000
	// CLUSTER MEET takes an IP only (redis #10433): resolve hostnames here.
	rctx, cancel := context.WithTimeout(ctx, opts.timeout())
	ips, err := net.DefaultResolver.LookupIPAddr(rctx, host)
	cancel()
	if err != nil || len(ips) == 0 {
		return problem(PreflightUnresolved, "Node %s: cannot resolve %s: %v", n.Addr, host, err)
	}
	// A name may resolve to several addresses (localhost: ::1 and 127.0.0.1); keep the
	// first one the node answers on, IPv4 first.
	sort.SliceStable(ips, func(i, j int) bool { return ips[i].IP.To4() != nil && ips[j].IP.To4() == nil })
	var c *Client
	for _, ip := range ips {
		n.IP = ip.IP.String()
		if c, err = Dial(ctx, n.MeetAddr(), opts); err == nil || IsAuth(err) {
			break
		}
	}
	if err != nil {
		n.IP = ips[0].IP.String()
		if IsAuth(err) {
			return problem(PreflightAuthFailed, "Node %s: %v", n.Addr, err)
		}
		if copts.AllowUnreachable {
			return nil
		}
		return problem(PreflightUnreachable, "Node %s is unreachable: %v", n.Addr, unwrapUnreachable(err))
	}
	vs, err := c.Pipeline(ctx, [][]string{{"INFO", "cluster"}, {"DBSIZE"}, {"CLUSTER", "NODES"}})
	if err != nil {
		c.Close()
		if IsAuth(err) {
			return problem(PreflightAuthFailed, "Node %s: %v", n.Addr, err)
		}
		return problem(PreflightUnreachable, "Node %s is unreachable: %v", n.Addr, unwrapUnreachable(err))
	}
	var out []PreflightProblem
	add := func(kind, format string, a ...any) { out = append(out, problem(kind, format, a...)...) }
	info := ParseInfo(string(vs[0].Str))
	if info["cluster_enabled"] != "1" {
		c.Close()
		return problem(PreflightNotCluster, "Node %s is not configured as a cluster node (cluster-enabled yes is needed)", n.Addr)
	}
	if vs[1].Int > 0 {
		add(PreflightNotEmpty, "Node %s is not empty: it holds %d key(s) in database 0", n.Addr, vs[1].Int)
	}
	view, err := ParseClusterNodes(string(vs[2].Str))
	if err != nil {
		c.Close()
		return problem(PreflightNotCluster, "Node %s: %v", n.Addr, err)
	}
	if len(view) > 1 {
		add(PreflightKnowsNodes, "Node %s already knows %d other node(s): it is part of a cluster (CLUSTER RESET it first)", n.Addr, len(view)-1)
	}
	for _, e := range view {
		if e.Myself() {
			n.ID = e.ID
			if e.BusPort > 0 {
				n.BusPort = e.BusPort
			}
			if len(e.Slots) > 0 {
				add(PreflightOwnsSlots, "Node %s already owns %d slot(s)", n.Addr, len(e.Slots))
			}
		}
	}
	n.client = c
	return out
}

func unwrapUnreachable(err error) error {
	if u, ok := err.(*UnreachableError); ok {
		return u.Err
	}
	return err
}

// CloseNodes closes the connections Preflight opened.
func CloseNodes(nodes []*NewNode) {
	for _, n := range nodes {
		n.client.Close()
		n.client = nil
	}
}

// PlanCreate turns the pre-flighted nodes into a placement (planner.PlanCreate) with hosts
// taken from the resolved IPs.
func PlanCreate(nodes []*NewNode, replicas int) (planner.CreatePlan, error) {
	var pn []planner.Node
	for _, n := range nodes {
		pn = append(pn, planner.Node{Addr: n.Addr, Host: n.IP, Zone: n.Zone})
	}
	return planner.PlanCreate(pn, replicas)
}

// ApplyCreate builds the cluster of plan on the pre-flighted nodes, as redis-cli's
// clusterManagerCommandCreate: ADDSLOTSRANGE on the masters, SET-CONFIG-EPOCH 1..N,
// CLUSTER MEET, a wait (polling every 100 ms) until all agree, CLUSTER REPLICATE on the
// replicas, and a wait until every node sees the replicas, their links are up and every
// node reports cluster_state:ok. Unlike redis-cli it meets every pair of nodes directly, and
// while waiting it meets again the pairs that still do not know each other (a handshake
// that timed out on a stalled node is otherwise only retried by gossip).
func ApplyCreate(ctx context.Context, nodes []*NewNode, plan planner.CreatePlan, copts CreateOptions, progress Progress) error {
	byAddr := map[string]*NewNode{}
	for _, n := range nodes {
		if !n.Reached() {
			return fmt.Errorf("node %s was not reached: cannot create", n.Addr)
		}
		byAddr[n.Addr] = n
	}
	limit := copts.Converge
	if limit <= 0 {
		limit = 30 * time.Second
	}
	// Configuration epochs and the MEET order follow the plan: masters first.
	var order []*NewNode
	for _, sh := range plan.Shards {
		m := byAddr[sh.Master.Addr]
		if err := m.client.OK(ctx, "CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(sh.Slots.Start), strconv.Itoa(sh.Slots.End)); err != nil {
			return err
		}
		order = append(order, m)
	}
	for _, sh := range plan.Shards {
		for _, r := range sh.Replicas {
			order = append(order, byAddr[r.Addr])
		}
	}
	progress.emit(LevelStep, ">>> Nodes configuration updated")
	progress.emit(LevelStep, ">>> Assign a different config epoch to each node")
	for i, n := range order {
		// Distinct epochs avoid the collision-resolution dance at start (redis-cli does
		// the same); a failure is harmless, Redis resolves collisions by itself.
		n.client.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", strconv.Itoa(i+1))
	}
	progress.emit(LevelStep, ">>> Sending CLUSTER MEET messages to join the cluster")
	if err := meetAll(ctx, order, nil); err != nil {
		return err
	}
	progress.emit(LevelInfo, "Waiting for the cluster to join")
	lastMeet := time.Now()
	err := waitNodes(ctx, order, limit, func(states []nodeState) bool {
		if joined(states, len(order), false) {
			return true
		}
		if time.Since(lastMeet) > 2*time.Second {
			// Errors are left to the next poll to report.
			meetAll(ctx, order, states)
			lastMeet = time.Now()
		}
		return false
	})
	if err != nil {
		return err
	}
	for _, sh := range plan.Shards {
		m := byAddr[sh.Master.Addr]
		for _, r := range sh.Replicas {
			if _, err := byAddr[r.Addr].retry(ctx, [][]string{{"CLUSTER", "REPLICATE", m.ID}}); err != nil {
				return err
			}
		}
	}
	progress.emit(LevelInfo, "Waiting for the replicas to join and every node to report cluster_state:ok")
	return waitNodes(ctx, order, limit, func(states []nodeState) bool {
		if !joined(states, len(order), true) {
			return false
		}
		for _, st := range states {
			if st.clusterInfo["cluster_state"] != "ok" {
				return false
			}
			if st.replication["role"] == "slave" && st.replication["master_link_status"] != "up" {
				return false
			}
		}
		return true
	})
}

// meetAll has every node meet every node after it in order, all nodes in parallel, one
// pipeline each. redis-cli meets every node with the first only and leaves the rest to
// gossip, which takes a second or more per round of pings (longer on a loaded machine);
// with every pair met directly, each node completes its handshakes within a few cluster
// cron ticks. Nodes met twice (once by MEET, once by gossip) are merged by Redis when the
// handshake ends. With states (the last poll), only the pairs where neither node knows the
// other yet are met again.
func meetAll(ctx context.Context, order []*NewNode, states []nodeState) error {
	knows := func(i, j int) bool {
		if states == nil {
			return false
		}
		for _, e := range states[i].view {
			if e.ID == order[j].ID && !e.HasFlag("handshake") {
				return true
			}
		}
		return false
	}
	errs := make([]error, len(order))
	var wg sync.WaitGroup
	for i, n := range order {
		var cmds [][]string
		for j := i + 1; j < len(order); j++ {
			if knows(i, j) || knows(j, i) {
				continue
			}
			peer := order[j]
			args := []string{"CLUSTER", "MEET", peer.IP, strconv.Itoa(peer.Port)}
			if peer.BusPort != peer.Port+10000 {
				args = append(args, strconv.Itoa(peer.BusPort))
			}
			cmds = append(cmds, args)
		}
		if len(cmds) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = n.retry(ctx, cmds)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// retry runs an idempotent pipeline (MEET, REPLICATE) and, when the node did not answer
// within the timeout (a node stalled on a loaded machine), once more over a new
// connection. An error reply to any command is an error.
func (n *NewNode) retry(ctx context.Context, cmds [][]string) ([]resp.Value, error) {
	vs, err := n.client.Pipeline(ctx, cmds)
	if IsUnreachable(err) && ctx.Err() == nil {
		if err = n.redial(ctx); err == nil {
			vs, err = n.client.Pipeline(ctx, cmds)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", strings.Join(cmds[0][:2], " "), n.Addr, err)
	}
	for i, v := range vs {
		if err := v.Err(); err != nil {
			return nil, fmt.Errorf("%s on %s: %w", strings.Join(cmds[i], " "), n.Addr, err)
		}
	}
	return vs, nil
}

// redial replaces the node's connection, after an I/O error broke it.
func (n *NewNode) redial(ctx context.Context) error {
	c, err := Dial(ctx, n.MeetAddr(), n.opts)
	if err != nil {
		return err
	}
	n.client.Close()
	n.client = c
	return nil
}

// nodeState is one poll of a new node: its CLUSTER NODES, CLUSTER INFO and INFO replication.
type nodeState struct {
	view        []NodeEntry
	clusterInfo map[string]string
	replication map[string]string
}

// joined reports whether every node lists want nodes, none in handshake, all with the same
// slot configuration, and, when replicas is set, the same master/replica roles.
func joined(states []nodeState, want int, replicas bool) bool {
	sig, roles := "", ""
	for i, st := range states {
		v := st.view
		if len(v) != want {
			return false
		}
		var rs []string
		for _, e := range v {
			if e.HasFlag("handshake") || e.HasFlag("noaddr") {
				return false
			}
			rs = append(rs, e.ID+"/"+e.MasterID)
		}
		s := ConfigSignature(v)
		sort.Strings(rs)
		r := strings.Join(rs, ",")
		if i > 0 && (s != sig || (replicas && r != roles)) {
			return false
		}
		sig, roles = s, r
	}
	return true
}

// agreement counts the (observer, node) pairs where the observer describes the node as the
// node describes itself (known, out of handshake, same role, master and slots), plus the
// nodes reporting cluster_state:ok and, for replicas, their link up. It grows as the nodes
// converge: waitNodes takes its growth for progress.
func agreement(states []nodeState) int {
	self := map[string]string{}
	describe := func(e NodeEntry) string {
		return fmt.Sprintf("%v/%s/%s", e.IsMaster(), e.MasterID, FormatSlotRanges(e.Slots))
	}
	for _, st := range states {
		for _, e := range st.view {
			if e.Myself() {
				self[e.ID] = describe(e)
			}
		}
	}
	score := 0
	for _, st := range states {
		for _, e := range st.view {
			if d, ok := self[e.ID]; ok && !e.HasFlag("handshake") && d == describe(e) {
				score++
			}
		}
		if st.clusterInfo["cluster_state"] == "ok" {
			score++
		}
		if st.replication["master_link_status"] == "up" {
			score++
		}
	}
	return score
}

// pollNodes reads the state of every node, all in parallel, one pipelined round trip each.
// A node whose connection broke at the last poll is dialed again.
func pollNodes(ctx context.Context, nodes []*NewNode) ([]nodeState, error) {
	states := make([]nodeState, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n.client.broken != nil {
				if err := n.redial(ctx); err != nil {
					errs[i] = fmt.Errorf("node %s: %w", n.Addr, err)
					return
				}
			}
			vs, err := n.client.Pipeline(ctx, [][]string{{"CLUSTER", "NODES"}, {"CLUSTER", "INFO"}, {"INFO", "replication"}})
			if err == nil {
				err = errors.Join(vs[0].Err(), vs[1].Err(), vs[2].Err())
			}
			if err == nil {
				states[i].view, err = ParseClusterNodes(string(vs[0].Str))
			}
			if err != nil {
				errs[i] = fmt.Errorf("node %s: %w", n.Addr, err)
				return
			}
			states[i].clusterInfo = ParseInfo(string(vs[1].Str))
			states[i].replication = ParseInfo(string(vs[2].Str))
		}()
	}
	wg.Wait()
	return states, errors.Join(errs...)
}

// waitNodes polls every node every 100 ms until done holds. It gives up when limit passes
// with no progress (agreement not growing), or after four times limit in all: on a loaded
// machine the nodes may take longer than limit to converge, but they keep converging.
func waitNodes(ctx context.Context, nodes []*NewNode, limit time.Duration, done func([]nodeState) bool) error {
	start := time.Now()
	lastProgress, best := start, -1
	for {
		states, err := pollNodes(ctx, nodes)
		if err == nil {
			if done(states) {
				return nil
			}
			if score := agreement(states); score > best {
				best, lastProgress = score, time.Now()
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if now := time.Now(); now.Sub(lastProgress) > limit || now.Sub(start) > 4*limit {
			if err != nil {
				return fmt.Errorf("the nodes did not converge within %v: %w", now.Sub(start).Round(time.Second), err)
			}
			return fmt.Errorf("the nodes did not converge within %v; run check to see where they differ", now.Sub(start).Round(time.Second))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
