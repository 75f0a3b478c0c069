package trib

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/node/hashslot"
)

// Problem kinds reported by Check. They are stable strings: scripts and CI gates match on
// them (README.md, "check problem kinds").
const (
	KindUnreachable          = "unreachable"
	KindAuthFailed           = "auth_failed"
	KindConfigDisagreement   = "config_disagreement"
	KindOpenSlot             = "open_slot"
	KindUncoveredSlots       = "uncovered_slots"
	KindMultipleOwners       = "multiple_owners"
	KindNodeFailed           = "node_failed"
	KindNodePFail            = "node_pfail"
	KindMasterWithoutReplica = "master_without_replica"
	KindReplicaLinkDown      = "replica_link_down"
	KindReplicaLag           = "replica_lag"
	KindSameHostReplica      = "same_host_replica"
	KindClusterStateNotOK    = "cluster_state_not_ok"
	KindConfigEpochCollision = "config_epoch_collision"
)

// Severities of a Problem. Every problem makes the cluster unhealthy; the severity only says
// how urgent it is.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Problem is one thing Check found wrong.
type Problem struct {
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	// Slot is set for problems about one slot (open_slot, multiple_owners).
	Slot *int `json:"slot,omitempty"`
	// Slots lists the slots of uncovered_slots.
	Slots []int `json:"slots,omitempty"`
	// Node is the address of the node the problem is about, when there is one.
	Node string `json:"node,omitempty"`
	// Nodes lists every node involved, by address.
	Nodes   []string `json:"nodes,omitempty"`
	Message string   `json:"message"`
}

// NodeReport describes one node as Check saw it.
type NodeReport struct {
	ID        string   `json:"id"`
	Addr      string   `json:"addr"`
	Hostname  string   `json:"hostname,omitempty"`
	Role      string   `json:"role"` // "master" or "replica"
	MasterID  string   `json:"master_id,omitempty"`
	Flags     []string `json:"flags"`
	Slots     []int    `json:"-"`
	SlotCount int      `json:"slot_count"`
	// SlotRanges is Slots in redis-cli's notation ("[0-5460],[5462]").
	SlotRanges string         `json:"slots"`
	Replicas   int            `json:"replicas"`
	Keys       int64          `json:"keys"`
	Reachable  bool           `json:"reachable"`
	Error      string         `json:"error,omitempty"`
	Migrating  map[int]string `json:"migrating,omitempty"`
	Importing  map[int]string `json:"importing,omitempty"`
}

// Report is the outcome of Check.
type Report struct {
	Healthy bool         `json:"healthy"`
	Seed    string       `json:"seed"`
	Nodes   []NodeReport `json:"nodes"`
	// Problems in the order of the checks (reachability, agreement, open slots, coverage,
	// multiple owners, then the checks beyond redis-cli).
	Problems     []Problem `json:"problems"`
	SlotsCovered int       `json:"slots_covered"`
	// Agree is true when every reachable node has the same slot configuration.
	Agree bool `json:"agree"`
	// OpenSlots lists slots in migrating or importing state anywhere.
	OpenSlots []int `json:"open_slots"`
	// SearchedMultipleOwners says whether the multiple-owners search ran.
	SearchedMultipleOwners bool `json:"searched_multiple_owners"`
}

// Has reports whether the report has a problem of the given kind.
func (r *Report) Has(kind string) bool {
	for _, p := range r.Problems {
		if p.Kind == kind {
			return true
		}
	}
	return false
}

// CheckOptions tune Check.
type CheckOptions struct {
	// SearchMultipleOwners looks for keys of a slot on masters that do not own it
	// (redis-cli's --cluster-search-multiple-owners).
	SearchMultipleOwners bool
	// MaxLag is the largest replica lag, in seconds since the replica's last ACK, that is
	// not a problem; 0 means 10.
	MaxLag int
}

// Check examines a loaded cluster as redis-cli's clusterManagerCheckCluster does (agreement,
// open slots, coverage, multiple owners) and beyond it (failed nodes, replicas, hosts, state,
// epochs). It only reads: the multiple-owners search runs CLUSTER COUNTKEYSINSLOT on every
// master in parallel, pipelined.
func Check(ctx context.Context, c *Cluster, opts CheckOptions) (*Report, error) {
	if opts.MaxLag == 0 {
		opts.MaxLag = 10
	}
	r := &Report{Seed: c.Seed, Problems: []Problem{}, OpenSlots: []int{}}
	for _, n := range c.masterFirst() {
		r.Nodes = append(r.Nodes, nodeReport(c, n))
	}
	r.checkReachable(c)
	r.checkAgreement(c)
	r.checkOpenSlots(c)
	r.checkCoverage(c)
	if opts.SearchMultipleOwners {
		r.SearchedMultipleOwners = true
		owners, err := MultipleOwners(ctx, c)
		if err != nil {
			return nil, err
		}
		for _, slot := range sortedKeys(owners) {
			addrs := addrsOf(owners[slot])
			r.add(Problem{Kind: KindMultipleOwners, Severity: SeverityError, Slot: intPtr(slot), Nodes: addrs,
				Message: fmt.Sprintf("Slot %d has %d owners: %s", slot, len(addrs), strings.Join(addrs, ", "))})
		}
	}
	r.checkFailures(c)
	r.checkReplicas(c, opts.MaxLag)
	r.checkState(c)
	r.checkEpochs(c)
	r.Healthy = len(r.Problems) == 0
	return r, nil
}

// transientKinds are the problems a cluster that was just changed goes through while gossip
// spreads the change (a node's view lagging behind, a replica resyncing, a node briefly
// suspected on a loaded machine). Anything else is a state that waiting does not repair.
var transientKinds = map[string]bool{
	KindConfigDisagreement: true,
	KindNodePFail:          true,
	KindReplicaLinkDown:    true,
	KindReplicaLag:         true,
	KindClusterStateNotOK:  true,
}

// CheckSettled runs Check and, while every problem found is a transient one, reloads the
// cluster and checks again every 250 ms for up to limit. create and fix use it for their
// final check: right after a change the cluster needs a moment to agree, and a check taken
// in that moment would report a problem that is already going away. It returns the last
// report.
func CheckSettled(ctx context.Context, c *Cluster, opts CheckOptions, limit time.Duration) (*Report, error) {
	deadline := time.Now().Add(limit)
	for {
		r, err := Check(ctx, c, opts)
		if err != nil || r.Healthy || !onlyTransient(r) || time.Now().After(deadline) {
			return r, err
		}
		select {
		case <-ctx.Done():
			return r, nil
		case <-time.After(250 * time.Millisecond):
		}
		if err := c.Reload(ctx); err != nil {
			return r, nil
		}
	}
}

func onlyTransient(r *Report) bool {
	for _, p := range r.Problems {
		if !transientKinds[p.Kind] {
			return false
		}
	}
	return true
}

func intPtr(n int) *int { return &n }

func (r *Report) add(p Problem) { r.Problems = append(r.Problems, p) }

// masterFirst orders nodes as redis-cli's check lists them: masters, then replicas, each in
// load order.
func (c *Cluster) masterFirst() []*Node {
	var masters, replicas []*Node
	for _, n := range c.Nodes {
		if n.IsReplica() {
			replicas = append(replicas, n)
		} else {
			masters = append(masters, n)
		}
	}
	return append(masters, replicas...)
}

func nodeReport(c *Cluster, n *Node) NodeReport {
	nr := NodeReport{
		ID: n.ID, Addr: n.Addr(), Hostname: n.Hostname, MasterID: n.MasterID, Flags: n.Flags,
		Slots: n.Slots, SlotCount: len(n.Slots), SlotRanges: FormatSlotRanges(n.Slots),
		Keys: n.Keys, Reachable: n.Reachable(), Migrating: n.Migrating, Importing: n.Importing,
		Role: "master",
	}
	if nr.Addr == ":0" || n.IP == "" {
		nr.Addr = n.Dial
	}
	if n.IsReplica() {
		nr.Role = "replica"
	} else {
		nr.Replicas = len(c.ReplicasOf(n.ID))
	}
	if n.Err != nil {
		nr.Error = n.Err.Error()
	}
	return nr
}

func (r *Report) checkReachable(c *Cluster) {
	for _, n := range c.Nodes {
		switch {
		case n.Err == nil:
		case IsAuth(n.Err):
			r.add(Problem{Kind: KindAuthFailed, Severity: SeverityError, Node: n.Dial, Message: n.Err.Error()})
		default:
			r.add(Problem{Kind: KindUnreachable, Severity: SeverityError, Node: n.Dial, Message: n.Err.Error()})
		}
	}
}

// ConfigSignature is redis-cli's clusterManagerGetConfigSignature: the masters that own
// slots in a node's view, each as "id:ranges", sorted and joined by "|". Nodes agree when
// their signatures are equal.
func ConfigSignature(view []NodeEntry) string {
	var parts []string
	for _, e := range view {
		if !e.IsMaster() || len(e.Slots) == 0 {
			continue
		}
		var rs []string
		for _, rg := range SlotRanges(e.Slots) {
			if rg[0] == rg[1] {
				rs = append(rs, strconv.Itoa(rg[0]))
			} else {
				rs = append(rs, fmt.Sprintf("%d-%d", rg[0], rg[1]))
			}
		}
		parts = append(parts, e.ID+":"+strings.Join(rs, ","))
	}
	sort.Strings(parts)
	return strings.Join(parts, "|")
}

func (r *Report) checkAgreement(c *Cluster) {
	groups := map[string][]string{}
	var order []string
	for _, n := range c.Nodes {
		if !n.Reachable() {
			continue
		}
		sig := ConfigSignature(n.View)
		if _, ok := groups[sig]; !ok {
			order = append(order, sig)
		}
		groups[sig] = append(groups[sig], n.Dial)
	}
	r.Agree = len(groups) <= 1
	if r.Agree {
		return
	}
	var all []string
	var desc []string
	for _, sig := range order {
		all = append(all, groups[sig]...)
		desc = append(desc, "{"+strings.Join(groups[sig], ", ")+"}")
	}
	r.add(Problem{Kind: KindConfigDisagreement, Severity: SeverityError, Nodes: all,
		Message: "Nodes don't agree about configuration! Groups with the same view: " + strings.Join(desc, " ")})
}

func (r *Report) checkOpenSlots(c *Cluster) {
	type open struct{ migrating, importing []string }
	slots := map[int]*open{}
	get := func(s int) *open {
		if slots[s] == nil {
			slots[s] = &open{}
		}
		return slots[s]
	}
	for _, n := range c.Nodes {
		for s := range n.Migrating {
			get(s).migrating = append(get(s).migrating, n.Dial)
		}
		for s := range n.Importing {
			get(s).importing = append(get(s).importing, n.Dial)
		}
	}
	r.OpenSlots = sortedKeys(slots)
	for _, s := range r.OpenSlots {
		o := slots[s]
		var parts []string
		if len(o.migrating) > 0 {
			parts = append(parts, "migrating in "+strings.Join(o.migrating, ","))
		}
		if len(o.importing) > 0 {
			parts = append(parts, "importing in "+strings.Join(o.importing, ","))
		}
		r.add(Problem{Kind: KindOpenSlot, Severity: SeverityError, Slot: intPtr(s),
			Nodes:   append(append([]string{}, o.migrating...), o.importing...),
			Message: fmt.Sprintf("Slot %d is open: %s", s, strings.Join(parts, "; "))})
	}
}

// UncoveredSlots returns the slots no master claims.
func (c *Cluster) UncoveredSlots() []int {
	var covered [hashslot.Count]bool
	for _, n := range c.Masters() {
		for _, s := range n.Slots {
			covered[s] = true
		}
	}
	var out []int
	for s, ok := range covered {
		if !ok {
			out = append(out, s)
		}
	}
	return out
}

func (r *Report) checkCoverage(c *Cluster) {
	uncovered := c.UncoveredSlots()
	r.SlotsCovered = hashslot.Count - len(uncovered)
	if len(uncovered) == 0 {
		return
	}
	r.add(Problem{Kind: KindUncoveredSlots, Severity: SeverityError, Slots: uncovered,
		Message: fmt.Sprintf("Not all %d slots are covered by nodes: %d uncovered %s",
			hashslot.Count, len(uncovered), FormatSlotRanges(uncovered))})
}

// MultipleOwners finds slots with more than one master "owning" them: claiming the slot, or
// holding keys of it without claiming it and without importing it (keys on the importing
// end of an open slot are an open slot, not a second owner). It asks every master for the
// key counts of the slots it does not claim, pipelined, all masters in parallel.
func MultipleOwners(ctx context.Context, c *Cluster) (map[int][]*Node, error) {
	holders, err := KeyHolders(ctx, c)
	if err != nil {
		return nil, err
	}
	out := map[int][]*Node{}
	owners := c.SlotOwners()
	for slot := 0; slot < hashslot.Count; slot++ {
		all := append([]*Node{}, owners[slot]...)
		for _, n := range holders[slot] {
			if _, importing := n.Importing[slot]; !importing {
				all = append(all, n)
			}
		}
		if len(all) > 1 {
			out[slot] = all
		}
	}
	return out, nil
}

// KeyHolders maps each slot to the reachable masters that hold keys of it without claiming
// it.
func KeyHolders(ctx context.Context, c *Cluster) (map[int][]*Node, error) {
	var mu sync.Mutex
	out := map[int][]*Node{}
	err := forEach(c.ReachableMasters(), func(n *Node) error {
		if n.Keys == 0 {
			return nil
		}
		counts, err := countKeysNotOwned(ctx, n)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for slot := range counts {
			out[slot] = append(out[slot], n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Keep node order stable whatever order the goroutines finished in.
	index := map[*Node]int{}
	for i, n := range c.Nodes {
		index[n] = i
	}
	for _, ns := range out {
		sort.Slice(ns, func(i, j int) bool { return index[ns[i]] < index[ns[j]] })
	}
	return out, nil
}

// countKeysNotOwned returns slot → key count for the slots n holds keys of but does not claim.
func countKeysNotOwned(ctx context.Context, n *Node) (map[int]int64, error) {
	owned := map[int]bool{}
	for _, s := range n.Slots {
		owned[s] = true
	}
	var slots []int
	var cmds [][]string
	for s := 0; s < hashslot.Count; s++ {
		if !owned[s] {
			slots = append(slots, s)
			cmds = append(cmds, []string{"CLUSTER", "COUNTKEYSINSLOT", strconv.Itoa(s)})
		}
	}
	vs, err := n.client.Pipeline(ctx, cmds)
	if err != nil {
		return nil, err
	}
	out := map[int]int64{}
	for i, v := range vs {
		if err := v.Err(); err != nil {
			return nil, fmt.Errorf("CLUSTER COUNTKEYSINSLOT %d on %s: %w", slots[i], n.Dial, err)
		}
		if v.Int > 0 {
			out[slots[i]] = v.Int
		}
	}
	return out, nil
}

func addrsOf(ns []*Node) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, n.Dial)
	}
	return out
}

// flaggedBy returns, for each node ID, the reachable observers whose view carries flag.
func (c *Cluster) flaggedBy(flag string) map[string][]string {
	out := map[string][]string{}
	for _, obs := range c.Nodes {
		if !obs.Reachable() {
			continue
		}
		for _, e := range obs.View {
			if e.HasFlag(flag) {
				out[e.ID] = append(out[e.ID], obs.Dial)
			}
		}
	}
	return out
}

func (c *Cluster) describe(id string) string {
	if n := c.NodeByID(id); n != nil {
		return n.Dial
	}
	return id
}

func (r *Report) checkFailures(c *Cluster) {
	failed := c.flaggedBy("fail")
	pfailed := c.flaggedBy("fail?")
	for _, n := range c.Nodes {
		if obs, ok := failed[n.ID]; ok {
			r.add(Problem{Kind: KindNodeFailed, Severity: SeverityError, Node: n.Dial, Nodes: obs,
				Message: fmt.Sprintf("Node %s (%s) is marked as failed (fail) by %s", n.Dial, n.ID, strings.Join(obs, ", "))})
		} else if obs, ok := pfailed[n.ID]; ok {
			r.add(Problem{Kind: KindNodePFail, Severity: SeverityWarning, Node: n.Dial, Nodes: obs,
				Message: fmt.Sprintf("Node %s (%s) is suspected down (fail?) by %s", n.Dial, n.ID, strings.Join(obs, ", "))})
		}
	}
}

// checkReplicas reports masters without replicas (only in a cluster that has replicas at all:
// a cluster created with --replicas 0 has none by design), replicas whose link to their
// master is down or lagging, and replicas on their master's host (only when the cluster spans
// several hosts: on one machine there is no other choice).
func (r *Report) checkReplicas(c *Cluster, maxLag int) {
	failed := c.flaggedBy("fail")
	hasReplicas := false
	hosts := map[string]bool{}
	for _, n := range c.Nodes {
		hosts[n.Host()] = true
		if n.IsReplica() {
			hasReplicas = true
		}
	}
	for _, m := range c.Masters() {
		if len(m.Slots) == 0 || len(failed[m.ID]) > 0 {
			continue
		}
		healthy := 0
		for _, rep := range c.ReplicasOf(m.ID) {
			// A replica trib cannot reach but the cluster does not flag is reported as
			// unreachable; it still counts as the master's replica.
			if len(failed[rep.ID]) == 0 {
				healthy++
			}
		}
		if hasReplicas && healthy == 0 {
			r.add(Problem{Kind: KindMasterWithoutReplica, Severity: SeverityWarning, Node: m.Dial,
				Message: fmt.Sprintf("Master %s (%s) has no working replica", m.Dial, m.ID)})
		}
		if m.Reachable() {
			for _, lag := range replicaLags(m.Info) {
				if lag.lag > int64(maxLag) {
					r.add(Problem{Kind: KindReplicaLag, Severity: SeverityWarning, Node: lag.addr, Nodes: []string{m.Dial},
						Message: fmt.Sprintf("Replica %s of %s last acknowledged %d s ago (more than %d s)", lag.addr, m.Dial, lag.lag, maxLag)})
				}
			}
		}
	}
	for _, rep := range c.Nodes {
		if !rep.IsReplica() {
			continue
		}
		m := c.NodeByID(rep.MasterID)
		if rep.Reachable() && rep.Info["master_link_status"] != "up" {
			r.add(Problem{Kind: KindReplicaLinkDown, Severity: SeverityError, Node: rep.Dial,
				Message: fmt.Sprintf("Replica %s has its link to master %s down", rep.Dial, c.describe(rep.MasterID))})
		}
		if m != nil && len(hosts) > 1 && m.Host() == rep.Host() {
			r.add(Problem{Kind: KindSameHostReplica, Severity: SeverityWarning, Node: rep.Dial, Nodes: []string{m.Dial},
				Message: fmt.Sprintf("Replica %s is on the same host (%s) as its master %s", rep.Dial, rep.Host(), m.Dial)})
		}
	}
}

type replicaLag struct {
	addr string
	lag  int64
}

// replicaLags reads the "slaveN:ip=...,port=...,state=online,offset=...,lag=N" lines of a
// master's INFO replication.
func replicaLags(info map[string]string) []replicaLag {
	var out []replicaLag
	for i := 0; ; i++ {
		line, ok := info["slave"+strconv.Itoa(i)]
		if !ok {
			return out
		}
		kv := map[string]string{}
		for _, f := range strings.Split(line, ",") {
			if k, v, ok := strings.Cut(f, "="); ok {
				kv[k] = v
			}
		}
		lag, _ := strconv.ParseInt(kv["lag"], 10, 64)
		out = append(out, replicaLag{addr: joinHostPort(kv["ip"], kv["port"]), lag: lag})
	}
}

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

func (r *Report) checkState(c *Cluster) {
	for _, n := range c.Nodes {
		if !n.Reachable() {
			continue
		}
		if st := n.ClusterInfo["cluster_state"]; st != "ok" {
			r.add(Problem{Kind: KindClusterStateNotOK, Severity: SeverityError, Node: n.Dial,
				Message: fmt.Sprintf("Node %s reports cluster_state:%s", n.Dial, st)})
		}
	}
}

func (r *Report) checkEpochs(c *Cluster) {
	byEpoch := map[uint64][]string{}
	var epochs []uint64
	for _, m := range c.Masters() {
		if len(m.Slots) == 0 {
			continue // empty masters (epoch 0 until they get slots) cannot split-brain a slot
		}
		if _, ok := byEpoch[m.ConfigEpoch]; !ok {
			epochs = append(epochs, m.ConfigEpoch)
		}
		byEpoch[m.ConfigEpoch] = append(byEpoch[m.ConfigEpoch], m.Dial)
	}
	sort.Slice(epochs, func(i, j int) bool { return epochs[i] < epochs[j] })
	for _, e := range epochs {
		if len(byEpoch[e]) > 1 {
			r.add(Problem{Kind: KindConfigEpochCollision, Severity: SeverityWarning, Nodes: byEpoch[e],
				Message: fmt.Sprintf("Masters %s share config epoch %d", strings.Join(byEpoch[e], ", "), e)})
		}
	}
}
