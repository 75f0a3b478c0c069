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

	"github.com/clusterctl/clusterctl/node/hashslot"
	"github.com/clusterctl/clusterctl/node/resp"
	"github.com/clusterctl/clusterctl/planner"
)

// Defaults of SlotMoveOptions.
const (
	// DefaultBatchKeys is the most keys per CLUSTER GETKEYSINSLOT and per MIGRATE (redis-cli
	// moves 10 per MIGRATE by default; round trips, not bytes, are what a reshard waits on).
	DefaultBatchKeys = 1000
	// DefaultBatchBytes bounds one MIGRATE by the MEMORY USAGE of its keys, so that a batch of
	// large values does not block the source for long.
	DefaultBatchBytes = 8 << 20
	// DefaultBigKeyBytes is the size from which a key counts as big (SPEC 1.1a): migrating it
	// blocks the source for as long as the transfer takes.
	DefaultBigKeyBytes = 64 << 20
	// DefaultParallel is how many slots may be in flight at once, each between its own
	// source/target pair: one pair never has two slots in flight.
	DefaultParallel = 4
)

// ReshardOptions say what to reshard: Slots slots to To, taken from From.
type ReshardOptions struct {
	// From lists the source masters (IDs, unique ID prefixes or host:port). Empty, or the
	// single word "all", means every master that holds slots, except the target.
	From []string
	// To is the receiving master.
	To string
	// Slots is how many slots to move, 1..16384.
	Slots int
}

// ReshardPlan is a reshard resolved against a loaded cluster: redis-cli's reshard table.
type ReshardPlan struct {
	Target  *Node
	Sources []*Node
	Moves   []planner.Move
}

// ReshardInputError is a reshard request that names a node that cannot take part; its text is
// redis-cli's, so that the interactive flow can show it and ask again.
type ReshardInputError struct{ Msg string }

func (e *ReshardInputError) Error() string { return e.Msg }

// ResolveTarget returns the master that ref names, or a *ReshardInputError with redis-cli's
// wording when it names no master.
func ResolveTarget(c *Cluster, ref string) (*Node, error) {
	n, err := c.Find(ref)
	if err != nil || !n.IsMaster() || !n.Reachable() {
		return nil, &ReshardInputError{Msg: fmt.Sprintf("*** The specified node (%s) is not known or not a master, please retry.", ref)}
	}
	return n, nil
}

// ResolveSource returns the master that ref names as a source for target, or a
// *ReshardInputError with redis-cli's wording.
func ResolveSource(c *Cluster, ref string, target *Node) (*Node, error) {
	n, err := c.Find(ref)
	if err != nil || !n.IsMaster() || !n.Reachable() {
		return nil, &ReshardInputError{Msg: fmt.Sprintf("*** The specified node (%s) is not known or is not a master, please retry.", ref)}
	}
	if target != nil && n.ID == target.ID {
		return nil, &ReshardInputError{Msg: "*** It is not possible to use the target node as source node."}
	}
	return n, nil
}

// PlanReshard resolves the nodes of opts on c and computes redis-cli's reshard table with
// planner.PlanReshard. It changes nothing.
func PlanReshard(c *Cluster, opts ReshardOptions) (*ReshardPlan, error) {
	if opts.Slots < 1 || opts.Slots > hashslot.Count {
		return nil, &ReshardInputError{Msg: fmt.Sprintf("the number of slots to move must be between 1 and %d, got %d", hashslot.Count, opts.Slots)}
	}
	target, err := ResolveTarget(c, opts.To)
	if err != nil {
		return nil, err
	}
	plan := &ReshardPlan{Target: target}
	all := len(opts.From) == 0 || (len(opts.From) == 1 && strings.EqualFold(opts.From[0], "all"))
	if all {
		for _, m := range c.ReachableMasters() {
			if m.ID != target.ID && len(m.Slots) > 0 {
				plan.Sources = append(plan.Sources, m)
			}
		}
	} else {
		seen := map[string]bool{}
		for _, ref := range opts.From {
			n, err := ResolveSource(c, ref, target)
			if err != nil {
				return nil, err
			}
			if !seen[n.ID] {
				seen[n.ID] = true
				plan.Sources = append(plan.Sources, n)
			}
		}
	}
	if len(plan.Sources) == 0 {
		return nil, &ReshardInputError{Msg: "*** No source nodes given, operation aborted."}
	}
	moves, err := planner.PlanReshard(masterSlots(plan.Sources), target.ID, opts.Slots)
	if err != nil {
		return nil, err
	}
	plan.Moves = moves
	return plan, nil
}

// masterSlots describes nodes for the planner.
func masterSlots(nodes []*Node) []planner.MasterSlots {
	out := make([]planner.MasterSlots, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, planner.MasterSlots{ID: n.ID, Addr: n.Addr(), Slots: n.Slots})
	}
	return out
}

// blockingKinds are the problems that stop a reshard or rebalance before it changes anything,
// as redis-cli's "Please fix your cluster problems before resharding".
var blockingKinds = map[string]bool{
	KindUnreachable: true, KindAuthFailed: true, KindConfigDisagreement: true, KindOpenSlot: true,
	KindUncoveredSlots: true, KindNodeFailed: true,
}

// ClusterNotReadyError lists the problems that stop a migration before it starts.
type ClusterNotReadyError struct {
	Seed     string
	Problems []Problem
}

func (e *ClusterNotReadyError) Error() string {
	var msgs []string
	for _, p := range e.Problems {
		msgs = append(msgs, p.Message)
	}
	return fmt.Sprintf("please fix your cluster problems before moving slots (`clusterctl fix %s`): %s",
		e.Seed, strings.Join(msgs, "; "))
}

// ReadyToMove runs Check and returns a *ClusterNotReadyError when a problem would make moving
// slots unsafe: an unreachable or failed node, an open slot, uncovered slots, or nodes that
// disagree. Disagreement alone is waited out for up to settle, since replicas learn of a
// previous move by gossip a moment later.
func ReadyToMove(ctx context.Context, c *Cluster, settle time.Duration) (*Report, error) {
	deadline := time.Now().Add(settle)
	for {
		report, err := Check(ctx, c, CheckOptions{})
		if err != nil {
			return nil, err
		}
		var blocking []Problem
		onlyDisagreement := true
		for _, p := range report.Problems {
			if blockingKinds[p.Kind] {
				blocking = append(blocking, p)
				if p.Kind != KindConfigDisagreement {
					onlyDisagreement = false
				}
			}
		}
		if len(blocking) == 0 {
			return report, nil
		}
		if !onlyDisagreement || time.Now().After(deadline) {
			return report, &ClusterNotReadyError{Seed: c.Seed, Problems: blocking}
		}
		select {
		case <-ctx.Done():
			return report, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if err := c.Reload(ctx); err != nil {
			return nil, err
		}
	}
}

// SlotLoad is what one slot holds on its owner.
type SlotLoad struct {
	Slot int   `json:"slot"`
	Keys int64 `json:"keys"`
	// Bytes is the sum of MEMORY USAGE over the slot's keys (0 unless measured).
	Bytes int64 `json:"bytes,omitempty"`
	// BigKey is the slot's largest key and BigKeyBytes its MEMORY USAGE (when measured).
	BigKey      string `json:"big_key,omitempty"`
	BigKeyBytes int64  `json:"big_key_bytes,omitempty"`
}

// ScanSlots reads, for every slot listed under a node's ID, how many keys the node holds in
// it (CLUSTER COUNTKEYSINSLOT) and, with bytes, their MEMORY USAGE. It runs on every node in
// parallel, each pipelined in chunks of slots, so a whole cluster's slot counts cost a few
// round trips; measuring bytes costs one MEMORY USAGE per key.
func ScanSlots(ctx context.Context, c *Cluster, slots map[string][]int, bytes bool) (map[int]SlotLoad, error) {
	out := make(map[int]SlotLoad)
	var mu sync.Mutex
	var nodes []*Node
	for id := range slots {
		n := c.NodeByID(id)
		if n == nil || !n.Reachable() {
			return nil, fmt.Errorf("scan slots: node %s is not loaded", id)
		}
		nodes = append(nodes, n)
	}
	err := forEach(nodes, func(n *Node) error {
		loads, err := scanNode(ctx, n.client, slots[n.ID], bytes)
		if err != nil {
			return fmt.Errorf("scan the slots of %s: %w", n.Dial, err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, l := range loads {
			out[l.Slot] = l
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const scanChunk = 512

func scanNode(ctx context.Context, cl *Client, slots []int, bytes bool) ([]SlotLoad, error) {
	var out []SlotLoad
	for start := 0; start < len(slots); start += scanChunk {
		chunk := slots[start:min(start+scanChunk, len(slots))]
		cmds := make([][]string, len(chunk))
		for i, s := range chunk {
			cmds[i] = []string{"CLUSTER", "COUNTKEYSINSLOT", strconv.Itoa(s)}
		}
		vs, err := cl.Pipeline(ctx, cmds)
		if err != nil {
			return nil, err
		}
		loads := make([]SlotLoad, len(chunk))
		for i, v := range vs {
			if err := v.Err(); err != nil {
				return nil, fmt.Errorf("CLUSTER COUNTKEYSINSLOT %d: %w", chunk[i], err)
			}
			loads[i] = SlotLoad{Slot: chunk[i], Keys: v.Int}
		}
		if bytes {
			if err := measureSlots(ctx, cl, loads); err != nil {
				return nil, err
			}
		}
		out = append(out, loads...)
	}
	return out, nil
}

// measureSlots fills Bytes and BigKey of loads: GETKEYSINSLOT for every slot with keys, then
// MEMORY USAGE of every key, pipelined.
func measureSlots(ctx context.Context, cl *Client, loads []SlotLoad) error {
	var cmds [][]string
	var idx []int
	for i, l := range loads {
		if l.Keys > 0 {
			cmds = append(cmds, []string{"CLUSTER", "GETKEYSINSLOT", strconv.Itoa(l.Slot), strconv.FormatInt(l.Keys, 10)})
			idx = append(idx, i)
		}
	}
	if len(cmds) == 0 {
		return nil
	}
	vs, err := cl.Pipeline(ctx, cmds)
	if err != nil {
		return err
	}
	type keyOf struct {
		load int
		key  string
	}
	var keys []keyOf
	for j, v := range vs {
		if err := v.Err(); err != nil {
			return fmt.Errorf("CLUSTER GETKEYSINSLOT %d: %w", loads[idx[j]].Slot, err)
		}
		for _, e := range v.Elems {
			keys = append(keys, keyOf{load: idx[j], key: string(e.Str)})
		}
	}
	const perRound = 10000
	for start := 0; start < len(keys); start += perRound {
		part := keys[start:min(start+perRound, len(keys))]
		cmds = cmds[:0]
		for _, k := range part {
			cmds = append(cmds, []string{"MEMORY", "USAGE", k.key})
		}
		vs, err := cl.Pipeline(ctx, cmds)
		if err != nil {
			return err
		}
		for i, v := range vs {
			if v.Kind != resp.Integer {
				continue // the key expired or moved meanwhile
			}
			l := &loads[part[i].load]
			l.Bytes += v.Int
			if v.Int > l.BigKeyBytes {
				l.BigKey, l.BigKeyBytes = part[i].key, v.Int
			}
		}
	}
	return nil
}

// BigKeys returns the slots among loads whose largest key reaches limit bytes, by slot.
func BigKeys(loads map[int]SlotLoad, limit int64) []SlotLoad {
	var out []SlotLoad
	for _, l := range loads {
		if limit > 0 && l.BigKeyBytes >= limit {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Slot < out[b].Slot })
	return out
}

// SlotMoveOptions tune MoveSlots.
type SlotMoveOptions struct {
	// BatchKeys is the most keys per GETKEYSINSLOT and per MIGRATE; 0 means DefaultBatchKeys.
	BatchKeys int
	// BatchBytes bounds a MIGRATE by the MEMORY USAGE of its keys; a key larger than it is
	// moved alone. 0 means DefaultBatchBytes. Sizes are read only for slots that Loads says
	// are heavy (more bytes than BatchBytes); other slots move in batches bounded by count.
	BatchBytes int64
	// Timeout is MIGRATE's own I/O timeout; 0 means the cluster's Options.Timeout.
	Timeout time.Duration
	// Replace adds REPLACE to MIGRATE, overwriting keys that already exist on the target.
	// Without it such a key (BUSYKEY) stops the move, as in redis-cli.
	Replace bool
	// Parallel is the most slots in flight at once, each between its own source/target pair
	// (a pair never has two); 0 means DefaultParallel.
	Parallel int
	// Loads, when set (from ScanSlots), gives the key counts for progress and ETA and the
	// byte sizes that pick the heavy slots.
	Loads map[int]SlotLoad
	// Progress, when set, is called after every MIGRATE round and every finished slot. Calls
	// are serialised.
	Progress func(MoveProgress)
}

func (o SlotMoveOptions) batchKeys() int {
	if o.BatchKeys <= 0 {
		return DefaultBatchKeys
	}
	return o.BatchKeys
}

func (o SlotMoveOptions) batchBytes() int64 {
	if o.BatchBytes <= 0 {
		return DefaultBatchBytes
	}
	return o.BatchBytes
}

// MoveProgress is the state of a MoveSlots run, reported after each step.
type MoveProgress struct {
	// Slot is the slot the report is about; SlotDone says it has been moved and verified.
	Slot     int
	From, To string // addresses
	SlotDone bool
	// SlotKeys is the keys of Slot moved so far.
	SlotKeys int

	SlotsDone, SlotsTotal int
	KeysMoved, KeysTotal  int64 // KeysTotal is 0 when unknown
	Elapsed               time.Duration
}

// MoveResult says what MoveSlots did.
type MoveResult struct {
	SlotsMoved int           `json:"slots_moved"`
	KeysMoved  int64         `json:"keys_moved"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	// Remaining lists the planned moves that were not made, in plan order.
	Remaining []planner.Move `json:"remaining"`
	// OpenSlot is the slot left half-moved by a failed move, or -1.
	OpenSlot int `json:"open_slot"`
}

// ErrStopped is returned by MoveSlots when its context was cancelled: it stopped between
// slots and no slot is left open.
var ErrStopped = errors.New("stopped between slots")

// SlotMoveError is a move that failed part-way; Slot may be left open (importing on the
// target and migrating on the source), which `fix` closes.
type SlotMoveError struct {
	Slot     int
	From, To string
	Open     bool
	Err      error
}

func (e *SlotMoveError) Error() string {
	state := ""
	if e.Open {
		state = " (the slot is left open: `clusterctl fix` closes it)"
	}
	return fmt.Sprintf("moving slot %d from %s to %s: %v%s", e.Slot, e.From, e.To, e.Err, state)
}
func (e *SlotMoveError) Unwrap() error { return e.Err }

// MoveSlots makes the moves, each with the slot migration protocol, pipelined to a minimum
// of round trips:
//
//  1. the target: SETSLOT s IMPORTING src — while the source is asked, in parallel, whether
//     it still serves s (a probe key of the slot) and for its first batch of keys;
//  2. the source: SETSLOT s MIGRATING dst, MIGRATE ... KEYS for that batch, and
//     GETKEYSINSLOT for what is left, in one write; repeated while keys are left (keys
//     created meanwhile go to the target by ASK, so the source's set only shrinks);
//  3. the target: SETSLOT s NODE dst (it owns the slot before anyone redirects to it);
//  4. the source and every other master, in parallel: SETSLOT s NODE dst, with the
//     verification in the same write: the source holds no key of s, and each master
//     redirects the probe key to the target.
//
// A slot is verified before the next move between the same nodes starts, so a crash leaves
// at most one open slot per source/target pair. Moves of different pairs run in parallel
// (opts.Parallel), e.g. from every master at once to a new one. When ctx is cancelled, the slots in flight are finished and
// MoveSlots returns ErrStopped with the remaining moves; a failed move returns a
// *SlotMoveError.
func (c *Cluster) MoveSlots(ctx context.Context, moves []planner.Move, opts SlotMoveOptions) (*MoveResult, error) {
	m, err := newMover(c, moves, opts)
	if err != nil {
		return &MoveResult{Remaining: moves, OpenSlot: -1}, err
	}
	defer m.pool.close()
	return m.run(ctx)
}

type pairKey struct{ from, to string }

// mover runs MoveSlots.
type mover struct {
	c       *Cluster
	opts    SlotMoveOptions
	pool    *connPool
	byID    map[string]*Node
	masters []*Node
	moves   []planner.Move
	start   time.Time
	timeout time.Duration // MIGRATE's
	// move moves one slot: moveOne, replaced in the scheduler's tests. pre is the slot's first
	// step when it was made while the previous slot of the pair was closed; next, when not
	// nil, is the pair's next slot, whose first step move makes (and returns) the same way.
	move func(ctx context.Context, mv planner.Move, pre *prefetch, next *planner.Move) (int, *prefetch, error)
	// abandon undoes a prefetched first step that will not be followed (a stop between
	// slots): abandonOne, replaced in the scheduler's tests.
	abandon func(ctx context.Context, mv planner.Move, pre *prefetch) error

	mu       sync.Mutex // guards everything below
	wake     *sync.Cond
	queues   map[pairKey][]int // indexes into moves, in plan order
	pairs    []pairKey         // round-robin order
	next     int               // round-robin cursor into pairs
	busy     map[pairKey]bool  // pairs with a slot in flight
	done     []bool            // per move
	stopping bool
	firstErr error
	openSlot int
	progress MoveProgress
}

func newMover(c *Cluster, moves []planner.Move, opts SlotMoveOptions) (*mover, error) {
	m := &mover{c: c, opts: opts, pool: newConnPool(c.Opts), byID: map[string]*Node{}, moves: moves,
		queues: map[pairKey][]int{}, busy: map[pairKey]bool{}, done: make([]bool, len(moves)), openSlot: -1}
	m.wake = sync.NewCond(&m.mu)
	m.move = m.moveOne
	m.abandon = m.abandonOne
	m.timeout = opts.Timeout
	if m.timeout <= 0 {
		m.timeout = c.Opts.timeout()
	}
	for _, n := range c.Nodes {
		m.byID[n.ID] = n
	}
	m.masters = c.ReachableMasters()
	for i, mv := range moves {
		for _, id := range []string{mv.From, mv.To} {
			n := m.byID[id]
			if n == nil || !n.IsMaster() || !n.Reachable() {
				return nil, fmt.Errorf("slot %d: node %s is not a reachable master", mv.Slot, id)
			}
		}
		if mv.From == mv.To {
			return nil, fmt.Errorf("slot %d: source and target are the same node", mv.Slot)
		}
		k := pairKey{mv.From, mv.To}
		if _, ok := m.queues[k]; !ok {
			m.pairs = append(m.pairs, k)
		}
		m.queues[k] = append(m.queues[k], i)
	}
	m.progress.SlotsTotal = len(moves)
	for _, mv := range moves {
		m.progress.KeysTotal += opts.Loads[mv.Slot].Keys
	}
	return m, nil
}

func (m *mover) run(ctx context.Context) (*MoveResult, error) {
	m.start = time.Now()
	workers := m.opts.Parallel
	if workers <= 0 {
		workers = DefaultParallel
	}
	workers = min(workers, len(m.pairs))
	// The slot in flight finishes even when ctx is cancelled: ctx only stops new slots.
	work := context.WithoutCancel(ctx)
	stop := context.AfterFunc(ctx, func() {
		m.mu.Lock()
		m.stopping = true
		m.wake.Broadcast()
		m.mu.Unlock()
	})
	defer stop()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i, ok := m.take(ctx)
				if !ok {
					return
				}
				m.runPair(ctx, work, i)
			}
		}()
	}
	wg.Wait()
	res := &MoveResult{SlotsMoved: m.progress.SlotsDone, KeysMoved: m.progress.KeysMoved,
		Elapsed: time.Since(m.start), OpenSlot: m.openSlot, Remaining: []planner.Move{}}
	for i, mv := range m.moves {
		if !m.done[i] {
			res.Remaining = append(res.Remaining, mv)
		}
	}
	if m.firstErr != nil {
		return res, m.firstErr
	}
	if len(res.Remaining) > 0 && ctx.Err() != nil {
		return res, fmt.Errorf("%w: %w", ErrStopped, ctx.Err())
	}
	return res, nil
}

// take waits for a move whose source/target pair has no slot in flight and claims the pair;
// false when no move is left to start (all taken, stopping, or failed). ctx is checked here
// as well as through the AfterFunc in run, which only wakes waiters: the AfterFunc runs in
// its own goroutine, so without the check a worker could start another slot after the
// cancellation.
func (m *mover) take(ctx context.Context) (int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		if m.stopping || m.firstErr != nil || ctx.Err() != nil {
			return 0, false
		}
		left := false
		for j := range m.pairs {
			k := m.pairs[(m.next+j)%len(m.pairs)]
			q := m.queues[k]
			if len(q) == 0 {
				continue
			}
			left = true
			if m.busy[k] {
				continue
			}
			m.queues[k] = q[1:]
			m.busy[k] = true
			m.next = (m.next + j + 1) % len(m.pairs)
			return q[0], true
		}
		if !left {
			return 0, false
		}
		m.wake.Wait()
	}
}

// runPair moves slot i, whose pair the caller has claimed, and then the pair's next slots
// one after the other while no stop is asked for. The first step of each next slot (IMPORTING
// on the target, the source's first keys) rides on the round trips that close the slot
// before it, so a pair's slots after the first cost one round trip less; its keys start to
// move only once the slot before is verified. A prefetched step that is not followed (a
// stop) is undone, so a stop still leaves no slot open.
func (m *mover) runPair(ctx, work context.Context, i int) {
	var pre *prefetch
	for {
		j, hasNext := m.takeNext(ctx, i)
		var next *planner.Move
		if hasNext {
			next = &m.moves[j]
		}
		n, npre, err := m.move(work, m.moves[i], pre, next)
		m.finish(i, n, err)
		if err == nil && hasNext && m.stopped(ctx) && npre != nil {
			err = m.abandon(work, *next, npre)
			if err != nil {
				m.fail(err)
			}
		}
		if err != nil || !hasNext || m.stopped(ctx) {
			if hasNext {
				m.requeue(j)
			}
			m.release(i)
			return
		}
		i, pre = j, npre
	}
}

// takeNext claims the next move of slot i's pair, which the caller holds; false when the
// pair has none left or no new slot may start.
func (m *mover) takeNext(ctx context.Context, i int) (int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopping || m.firstErr != nil || ctx.Err() != nil {
		return 0, false
	}
	k := pairKey{m.moves[i].From, m.moves[i].To}
	q := m.queues[k]
	if len(q) == 0 {
		return 0, false
	}
	m.queues[k] = q[1:]
	return q[0], true
}

// requeue puts back move j, claimed by takeNext but not made, at the head of its pair's queue.
func (m *mover) requeue(j int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := pairKey{m.moves[j].From, m.moves[j].To}
	m.queues[k] = append([]int{j}, m.queues[k]...)
}

// release frees the pair of move i for other workers.
func (m *mover) release(i int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.busy, pairKey{m.moves[i].From, m.moves[i].To})
	m.wake.Broadcast()
}

// stopped reports whether no new slot may start: a stop was asked for or a move failed.
func (m *mover) stopped(ctx context.Context) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stopping || m.firstErr != nil || ctx.Err() != nil
}

// fail records err as the run's error unless one is already recorded.
func (m *mover) fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recordErr(err)
	m.wake.Broadcast()
}

// recordErr keeps the first error and its open slot; m.mu is held.
func (m *mover) recordErr(err error) {
	if m.firstErr != nil {
		return
	}
	m.firstErr = err
	var se *SlotMoveError
	if errors.As(err, &se) && se.Open {
		m.openSlot = se.Slot
	}
}

// finish records the outcome of move i; the pair stays claimed (see release).
func (m *mover) finish(i, keys int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mv := m.moves[i]
	if err != nil {
		m.recordErr(err)
	} else {
		m.done[i] = true
		m.progress.SlotsDone++
		m.report(mv, keys, true)
	}
	m.wake.Broadcast()
}

// report calls Progress; m.mu is held.
func (m *mover) report(mv planner.Move, slotKeys int, done bool) {
	if m.opts.Progress == nil {
		return
	}
	p := m.progress
	p.Slot, p.From, p.To, p.SlotKeys, p.SlotDone = mv.Slot, m.byID[mv.From].Dial, m.byID[mv.To].Dial, slotKeys, done
	p.Elapsed = time.Since(m.start)
	m.opts.Progress(p)
}

func (m *mover) addKeys(mv planner.Move, n, slotKeys int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.progress.KeysMoved += int64(n)
	m.report(mv, slotKeys, false)
}

// prefetch is a slot's first step made ahead, while the previous slot of its pair was being
// closed: SETSLOT IMPORTING on the target and, from the source, the probe and the first keys.
type prefetch struct {
	slot int
	// importing is the target's reply to SETSLOT IMPORTING; importErr an I/O failure.
	importing resp.Value
	importErr error
	// srcVs are the source's replies to EXISTS probe and GETKEYSINSLOT; srcErr an I/O failure.
	srcVs  []resp.Value
	srcErr error
}

// imported reports whether the target accepted SETSLOT IMPORTING, which then has to be undone
// when the slot is not moved after all.
func (p *prefetch) imported() bool {
	return p != nil && p.importErr == nil && p.importing.Err() == nil
}

// moveOne moves one slot (see MoveSlots for the protocol) and returns the keys moved. pre,
// when not nil, is the slot's first step already made; with next it makes next's first step
// on the round trips that close mv and returns it.
func (m *mover) moveOne(ctx context.Context, mv planner.Move, pre *prefetch, next *planner.Move) (moved int, npre *prefetch, err error) {
	src, dst := m.byID[mv.From], m.byID[mv.To]
	fail := func(open bool, format string, a ...any) error {
		return &SlotMoveError{Slot: mv.Slot, From: src.Dial, To: dst.Dial, Open: open, Err: fmt.Errorf(format, a...)}
	}
	defer func() {
		if err != nil {
			moved, npre = 0, nil
		}
	}()
	cs, err := m.pool.get(ctx, src.Dial)
	if err != nil {
		return 0, nil, fail(pre.imported(), "%w", err)
	}
	defer m.pool.put(src.Dial, cs)
	cd, err := m.pool.get(ctx, dst.Dial)
	if err != nil {
		return 0, nil, fail(pre.imported(), "%w", err)
	}
	defer m.pool.put(dst.Dial, cd)
	s := strconv.Itoa(mv.Slot)
	probe := probeKey(mv.Slot)
	batch := strconv.Itoa(m.opts.batchKeys())

	// 1. IMPORTING on the target; in parallel, the source's ownership and first keys.
	if pre == nil || pre.slot != mv.Slot {
		pre = &prefetch{slot: mv.Slot}
		both(func() {
			var vs []resp.Value
			if vs, pre.importErr = cd.Pipeline(ctx, [][]string{{"CLUSTER", "SETSLOT", s, "IMPORTING", src.ID}}); pre.importErr == nil {
				pre.importing = vs[0]
			}
		}, func() {
			pre.srcVs, pre.srcErr = cs.Pipeline(ctx, [][]string{{"EXISTS", probe}, {"CLUSTER", "GETKEYSINSLOT", s, batch}})
		})
	}
	if pre.importErr != nil {
		return 0, nil, fail(false, "%w", pre.importErr)
	}
	if err := pre.importing.Err(); err != nil {
		return 0, nil, fail(false, "CLUSTER SETSLOT %d IMPORTING on %s: %w", mv.Slot, dst.Dial, err)
	}
	// Until MIGRATING is sent, a failure closes the slot on the target again, so that
	// nothing is left open.
	undo := func(err error) (int, *prefetch, error) {
		if _, uerr := cd.Do(ctx, "CLUSTER", "SETSLOT", s, "STABLE"); uerr != nil {
			return 0, nil, fail(true, "%w (and closing the slot on the target again failed: %v)", err, uerr)
		}
		return 0, nil, fail(false, "%w", err)
	}
	if pre.srcErr != nil {
		return undo(pre.srcErr)
	}
	if err := srcServes(pre.srcVs[0], mv.Slot, dst); err != nil {
		return undo(fmt.Errorf("%s: %w", src.Dial, err))
	}
	if err := pre.srcVs[1].Err(); err != nil {
		return undo(fmt.Errorf("CLUSTER GETKEYSINSLOT on %s: %w", src.Dial, err))
	}
	keys := elems(pre.srcVs[1])

	// 2. MIGRATING and the keys, batch after batch.
	first := [][]string{{"CLUSTER", "SETSLOT", s, "MIGRATING", dst.ID}}
	heavy := m.opts.Loads[mv.Slot].Bytes > m.opts.batchBytes()
	for {
		var cmds [][]string
		cmds = append(cmds, first...)
		batches, err := m.batches(ctx, cs, keys, heavy)
		if err != nil {
			return 0, nil, fail(true, "%w", err)
		}
		for _, b := range batches {
			cmds = append(cmds, m.migrateArgs(dst, b))
		}
		cmds = append(cmds, []string{"CLUSTER", "GETKEYSINSLOT", s, batch})
		vs, err := cs.pipelineWithin(ctx, cs.timeout+time.Duration(len(batches))*m.timeout, cmds)
		if err != nil {
			return 0, nil, fail(true, "%w", err)
		}
		if len(first) > 0 {
			if err := vs[0].Err(); err != nil {
				return 0, nil, fail(true, "CLUSTER SETSLOT %d MIGRATING on %s: %w", mv.Slot, src.Dial, err)
			}
			vs = vs[1:]
			first = nil
		}
		for i, b := range batches {
			if err := migrateReply(vs[i]); err != nil {
				if isBusyKey(err) {
					return 0, nil, fail(true, "a key already exists on the target (BUSYKEY); rerun with --replace to overwrite it: %w", err)
				}
				return 0, nil, fail(true, "MIGRATE on %s: %w", src.Dial, err)
			}
			moved += len(b)
		}
		last := vs[len(vs)-1]
		if err := last.Err(); err != nil {
			return 0, nil, fail(true, "CLUSTER GETKEYSINSLOT on %s: %w", src.Dial, err)
		}
		if len(keys) > 0 {
			m.addKeys(mv, len(keys), moved)
		}
		keys = elems(last)
		if len(keys) == 0 {
			break
		}
	}

	// 3. The target owns the slot.
	vs, err := cd.Pipeline(ctx, [][]string{{"CLUSTER", "SETSLOT", s, "NODE", dst.ID}, {"EXISTS", probe}})
	if err != nil {
		return 0, nil, fail(true, "%w", err)
	}
	if err := vs[0].Err(); err != nil {
		return 0, nil, fail(true, "CLUSTER SETSLOT %d NODE on %s: %w", mv.Slot, dst.Dial, err)
	}
	if err := vs[1].Err(); err != nil {
		return 0, nil, fail(true, "the target %s does not serve the slot after SETSLOT NODE: %w", dst.Dial, err)
	}

	// 4. The source and every other master, with the verification; behind it, next's first
	// step. The source's commands are written before the target is asked to import next, so
	// that a kill -9 in between leaves at most one slot open.
	srcCmds := ownerCmds(true, mv.Slot, dst)
	if next != nil {
		srcCmds = append(srcCmds, []string{"EXISTS", probeKey(next.Slot)},
			[]string{"CLUSTER", "GETKEYSINSLOT", strconv.Itoa(next.Slot), batch})
	}
	// Every command is written before any reply is read, so the step costs one round trip
	// without a goroutine per node.
	recvSrc := cs.send(ctx, srcCmds)
	type otherOwner struct {
		n    *Node
		cl   *Client
		recv func() ([]resp.Value, error)
		err  error
	}
	var others []*otherOwner
	for _, n := range m.masters {
		if n.ID == src.ID || n.ID == dst.ID {
			continue
		}
		o := &otherOwner{n: n}
		if o.cl, o.err = m.pool.get(ctx, n.Dial); o.err == nil {
			defer m.pool.put(n.Dial, o.cl)
			o.recv = o.cl.send(ctx, ownerCmds(false, mv.Slot, dst))
		}
		others = append(others, o)
	}
	var recvImport func() ([]resp.Value, error)
	if next != nil {
		npre = &prefetch{slot: next.Slot}
		recvImport = cd.send(ctx, [][]string{{"CLUSTER", "SETSLOT", strconv.Itoa(next.Slot), "IMPORTING", src.ID}})
	}
	errs := make([]error, 1+len(others))
	srcVs, srcErr := recvSrc()
	if srcErr == nil {
		errs[0] = m.checkOwner(ctx, cs, src, true, mv.Slot, dst, srcVs[:3])
		if next != nil {
			npre.srcVs = srcVs[3:]
		}
	} else {
		errs[0] = srcErr
		if next != nil {
			npre.srcErr = srcErr
		}
	}
	for i, o := range others {
		if o.err == nil {
			var vs []resp.Value
			if vs, o.err = o.recv(); o.err == nil {
				o.err = m.checkOwner(ctx, o.cl, o.n, false, mv.Slot, dst, vs)
			}
		}
		errs[1+i] = o.err
	}
	if next != nil {
		var vs []resp.Value
		if vs, npre.importErr = recvImport(); npre.importErr == nil {
			npre.importing = vs[0]
		}
	}
	if err := errors.Join(errs...); err != nil {
		// The target owns the slot; the source may still be migrating it. Next does not
		// start: its IMPORTING is undone.
		if npre.imported() {
			if _, uerr := cd.Do(ctx, "CLUSTER", "SETSLOT", strconv.Itoa(next.Slot), "STABLE"); uerr != nil {
				err = fmt.Errorf("%w (and slot %d is left importing on %s: %v)", err, next.Slot, dst.Dial, uerr)
			}
		}
		return 0, nil, fail(errs[0] != nil, "%w", err)
	}
	return moved, npre, nil
}

// abandonOne undoes a prefetched first step of mv that will not be followed: the target
// stops importing the slot.
func (m *mover) abandonOne(ctx context.Context, mv planner.Move, pre *prefetch) error {
	if !pre.imported() {
		return nil
	}
	dst := m.byID[mv.To]
	cd, err := m.pool.get(ctx, dst.Dial)
	if err == nil {
		defer m.pool.put(dst.Dial, cd)
		_, err = cd.Do(ctx, "CLUSTER", "SETSLOT", strconv.Itoa(mv.Slot), "STABLE")
	}
	if err != nil {
		return &SlotMoveError{Slot: mv.Slot, From: m.byID[mv.From].Dial, To: dst.Dial, Open: true,
			Err: fmt.Errorf("stopping: closing the slot on the target again failed: %w", err)}
	}
	return nil
}

// ownerCmds are the commands of step 4 on one master: SETSLOT NODE dst, the probe, and for
// the source the count of keys it still holds in the slot.
func ownerCmds(isSource bool, slot int, dst *Node) [][]string {
	s := strconv.Itoa(slot)
	cmds := [][]string{{"CLUSTER", "SETSLOT", s, "NODE", dst.ID}, {"EXISTS", probeKey(slot)}}
	if isSource {
		cmds = append(cmds, []string{"CLUSTER", "COUNTKEYSINSLOT", s})
	}
	return cmds
}

// checkOwner verifies the replies to ownerCmds on n: SETSLOT NODE succeeded, n redirects the
// probe to dst, and the source holds no key of the slot.
func (m *mover) checkOwner(ctx context.Context, cl *Client, n *Node, isSource bool, slot int, dst *Node, vs []resp.Value) error {
	if err := vs[0].Err(); err != nil {
		return fmt.Errorf("CLUSTER SETSLOT %d NODE on %s: %w", slot, n.Dial, err)
	}
	if isSource && vs[2].Int != 0 {
		return fmt.Errorf("verify: %s still holds %d key(s) of slot %d", n.Dial, vs[2].Int, slot)
	}
	probe := probeKey(slot)
	probeReply := vs[1]
	// A node that briefly thinks the cluster is down (CLUSTERDOWN, e.g. a peer's failure
	// report on a loaded machine) is asked again until the client timeout.
	deadline := time.Now().Add(cl.timeout)
	for isClusterDown(probeReply) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		var err error
		if probeReply, err = cl.Do(ctx, "EXISTS", probe); err != nil && !isClusterDown(probeReply) {
			return err
		}
	}
	if !redirectsTo(probeReply, dst) {
		return fmt.Errorf("verify: %s does not send slot %d to %s (it answers %q)", n.Dial, slot, dst.Dial, probeReply.String())
	}
	return nil
}

func isClusterDown(v resp.Value) bool {
	return v.Kind == resp.Error && strings.HasPrefix(string(v.Str), "CLUSTERDOWN")
}

// batches splits keys into MIGRATE batches. Keys of a heavy slot are measured with MEMORY
// USAGE (one pipelined round trip) and grouped up to BatchBytes, a key larger than that
// alone; other slots' keys go in one batch, GETKEYSINSLOT having bounded their count.
func (m *mover) batches(ctx context.Context, cs *Client, keys []string, heavy bool) ([][]string, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	if !heavy {
		return [][]string{keys}, nil
	}
	cmds := make([][]string, len(keys))
	for i, k := range keys {
		cmds[i] = []string{"MEMORY", "USAGE", k}
	}
	vs, err := cs.Pipeline(ctx, cmds)
	if err != nil {
		return nil, err
	}
	limit := m.opts.batchBytes()
	var out [][]string
	var cur []string
	var curBytes int64
	for i, k := range keys {
		size := vs[i].Int // 0 for a key gone meanwhile (nil reply)
		if size >= limit {
			out = append(out, []string{k})
			continue
		}
		if curBytes+size > limit && len(cur) > 0 {
			out = append(out, cur)
			cur, curBytes = nil, 0
		}
		cur = append(cur, k)
		curBytes += size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out, nil
}

func (m *mover) migrateArgs(dst *Node, keys []string) []string {
	host, port, _ := net.SplitHostPort(dst.Dial)
	args := []string{"MIGRATE", host, port, "", "0", strconv.FormatInt(m.timeout.Milliseconds(), 10)}
	if m.opts.Replace {
		args = append(args, "REPLACE")
	}
	switch {
	case m.c.Opts.User != "" && m.c.Opts.Password != "":
		args = append(args, "AUTH2", m.c.Opts.User, m.c.Opts.Password)
	case m.c.Opts.Password != "":
		args = append(args, "AUTH", m.c.Opts.Password)
	}
	args = append(args, "KEYS")
	return append(args, keys...)
}

// migrateReply is nil for +OK and for +NOKEY (every key of the batch was deleted meanwhile).
func migrateReply(v resp.Value) error {
	if err := v.Err(); err != nil {
		if strings.Contains(err.Error(), "NOKEY") {
			return nil
		}
		return err
	}
	return nil
}

// srcServes checks the source's reply to the probe before the move: an integer (it serves
// the slot) or ASK to the target (it is already migrating the slot there: a resumed move).
func srcServes(v resp.Value, slot int, dst *Node) error {
	err := v.Err()
	if err == nil {
		return nil
	}
	var re resp.ReplyError
	errors.As(err, &re)
	if re.Prefix() == "ASK" && redirectsTo(v, dst) {
		return nil
	}
	if re.Prefix() == "MOVED" || re.Prefix() == "ASK" {
		return fmt.Errorf("it no longer serves slot %d (%s): load the cluster again and plan anew", slot, re)
	}
	return fmt.Errorf("probe of slot %d: %w", slot, err)
}

// redirectsTo reports whether v is "MOVED slot addr" or "ASK slot addr" naming n.
func redirectsTo(v resp.Value, n *Node) bool {
	if v.Kind != resp.Error {
		return false
	}
	f := strings.Fields(string(v.Str))
	if len(f) != 3 || (f[0] != "MOVED" && f[0] != "ASK") {
		return false
	}
	addr := f[2]
	if addr == n.Dial || addr == n.Addr() {
		return true
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port != strconv.Itoa(n.Port) {
		return false
	}
	return host == n.Hostname || host == n.IP
}

func elems(v resp.Value) []string {
	out := make([]string, len(v.Elems))
	for i, e := range v.Elems {
		out[i] = string(e.Str)
	}
	return out
}

// both runs a and b at the same time and waits for both.
func both(a, b func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		b()
	}()
	a()
	<-done
}

// pipelineWithin is Pipeline with a longer per-round-trip limit, for MIGRATE, whose own
// timeout covers each of its I/O operations rather than the whole command.
func (c *Client) pipelineWithin(ctx context.Context, limit time.Duration, cmds [][]string) ([]resp.Value, error) {
	old := c.timeout
	c.timeout = max(limit, old)
	defer func() { c.timeout = old }()
	return c.Pipeline(ctx, cmds)
}

// probeKeys[s] is a short key name whose hash slot is s: asking a master about it tells
// whether the master serves the slot (a reply) or not (a MOVED or ASK redirection).
var (
	probeOnce sync.Once
	probeKeys [hashslot.Count]string
)

func probeKey(slot int) string {
	probeOnce.Do(func() {
		left := hashslot.Count
		for i := 0; left > 0; i++ {
			k := strconv.Itoa(i)
			if s := hashslot.OfString(k); probeKeys[s] == "" {
				probeKeys[s] = k
				left--
			}
		}
	})
	return probeKeys[slot]
}

// connPool hands out connections by address, dialing more as moves run in parallel.
type connPool struct {
	opts Options
	mu   sync.Mutex
	idle map[string][]*Client
	all  []*Client
}

func newConnPool(opts Options) *connPool { return &connPool{opts: opts, idle: map[string][]*Client{}} }

func (p *connPool) get(ctx context.Context, addr string) (*Client, error) {
	p.mu.Lock()
	if l := p.idle[addr]; len(l) > 0 {
		c := l[len(l)-1]
		p.idle[addr] = l[:len(l)-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	c, err := Dial(ctx, addr, p.opts)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.all = append(p.all, c)
	p.mu.Unlock()
	return c, nil
}

// put returns a connection; a broken one is dropped.
func (p *connPool) put(addr string, c *Client) {
	if c.broken != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idle[addr] = append(p.idle[addr], c)
}

func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.all {
		c.Close()
	}
	p.all, p.idle = nil, nil
}
