package trib

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/planner"
)

// Direction says which way fix closes a slot left half-migrated.
type Direction int

const (
	// Forward completes the migration: the keys go to the importing node, which becomes the
	// owner (redis-cli's only choice).
	Forward Direction = iota
	// Back undoes it: the keys already moved return to the migrating node, which stays the
	// owner (SPEC 1.1a).
	Back
)

// ParseDirection parses "forward" or "back".
func ParseDirection(s string) (Direction, error) {
	switch s {
	case "", "forward":
		return Forward, nil
	case "back", "backward":
		return Back, nil
	}
	return Forward, fmt.Errorf("direction %q: want forward or back", s)
}

// FixOptions tune Fix.
type FixOptions struct {
	// SearchMultipleOwners also repairs slots whose keys are on several masters.
	SearchMultipleOwners bool
	// FixWithUnreachableMasters allows fixing while masters are unreachable; their slots are
	// then taken as lost (redis-cli's --cluster-fix-with-unreachable-masters).
	FixWithUnreachableMasters bool
	// Direction closes half-done migrations forward (default) or back.
	Direction Direction
	// Migrate tunes key moves; ReplaceIdentical is always on for fix.
	Migrate MigrateOptions
	// Converge bounds the wait for every node to agree after the repairs; 0 means 30 s (the
	// wait ends as soon as they agree; the bound only matters on a loaded or broken cluster).
	Converge time.Duration
}

// FixResult says what Fix did and what it left.
type FixResult struct {
	// Fixed describes each repair made.
	Fixed []string `json:"fixed"`
	// Declined lists repairs the user declined.
	Declined []string `json:"declined"`
	// Unfixable lists problems Fix could not decide on and left as they are.
	Unfixable []string `json:"unfixable"`
	// KeysMoved counts keys moved between nodes.
	KeysMoved int `json:"keys_moved"`
}

// UnreachableMastersError refuses a fix while masters are unreachable (redis-cli's text).
type UnreachableMastersError struct{ Count int }

func (e *UnreachableMastersError) Error() string {
	return fmt.Sprintf("Fixing with %d unreachable master(s) is dangerous: their slots would be taken "+
		"as not covered and given to reachable nodes, which can lose data. If you really want "+
		"to proceed use --fix-with-unreachable-masters.", e.Count)
}

type fixer struct {
	c        *Cluster
	opts     FixOptions
	confirm  Confirm
	progress Progress
	res      *FixResult
}

// Fix repairs what Check finds, each repair after a confirmation, with redis-cli's rules
// (clusterManagerFixOpenSlot, clusterManagerFixSlotsCoverage,
// clusterManagerFixMultipleSlotOwners) and beyond them: failed nodes are forgotten and masters
// left without a replica get one from a master that has several. It never deletes a key;
// what it cannot decide it reports in Unfixable and leaves. The cluster is reloaded as it
// goes; on return c describes the repaired cluster.
func Fix(ctx context.Context, c *Cluster, opts FixOptions, confirm Confirm, progress Progress) (*FixResult, error) {
	opts.Migrate.ReplaceIdentical = true
	f := &fixer{c: c, opts: opts, confirm: confirm, progress: progress, res: &FixResult{Fixed: []string{}, Declined: []string{}, Unfixable: []string{}}}
	unreachable := 0
	failed := c.flaggedBy("fail")
	for _, m := range c.Masters() {
		if !m.Reachable() && len(failed[m.ID]) == 0 && len(m.Slots) > 0 {
			unreachable++
		}
	}
	if unreachable > 0 && !opts.FixWithUnreachableMasters {
		return f.res, &UnreachableMastersError{Count: unreachable}
	}
	steps := []func(context.Context) error{f.fixFailedNodes, f.fixOpenSlots, f.fixCoverage}
	if opts.SearchMultipleOwners {
		steps = append(steps, f.fixMultipleOwners)
	}
	steps = append(steps, f.fixOrphanMasters)
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return f.res, err
		}
		if err := c.Reload(ctx); err != nil {
			return f.res, err
		}
	}
	if len(f.res.Fixed) > 0 {
		limit := opts.Converge
		if limit <= 0 {
			limit = 30 * time.Second
		}
		progress.emit(LevelStep, ">>> Waiting for the cluster to agree on the new configuration")
		if err := c.WaitConverged(ctx, limit, false); err != nil {
			return f.res, err
		}
		// A replica moved to another master resyncs: give it a while to bring its link up.
		// A link that stays down (its master is gone) is not fix's to wait for: the
		// caller's check reports it.
		c.WaitConverged(ctx, min(limit, 10*time.Second), true)
	}
	return f.res, nil
}

// Reload loads the cluster again from its seed (or, when the seed is gone, from the first
// reachable node), replacing Nodes and closing the old connections.
func (c *Cluster) Reload(ctx context.Context) error {
	seeds := []string{c.Seed}
	for _, n := range c.Nodes {
		if n.Reachable() && n.Dial != c.Seed {
			seeds = append(seeds, n.Dial)
		}
	}
	var lastErr error
	for _, s := range seeds {
		fresh, err := Load(ctx, s, c.Opts)
		if err != nil {
			lastErr = err
			continue
		}
		c.Close()
		c.Nodes = fresh.Nodes
		return nil
	}
	return fmt.Errorf("reload the cluster: %w", lastErr)
}

// Converged reports whether every reachable node agrees on the slot configuration, no slot
// is open, every node knows the same set of nodes, and (when replicas is true) every
// reachable replica has its link up.
func (c *Cluster) Converged(replicas bool) bool {
	sig := ""
	for i, n := range c.Nodes {
		if !n.Reachable() {
			continue
		}
		s := ConfigSignature(n.View)
		if i > 0 && s != sig && sig != "" {
			return false
		}
		sig = s
		if len(n.Migrating) > 0 || len(n.Importing) > 0 || len(n.View) != len(c.Nodes) {
			return false
		}
		for _, e := range n.View {
			if e.HasFlag("handshake") || e.HasFlag("noaddr") {
				return false
			}
		}
		if replicas && n.IsReplica() && n.Info["master_link_status"] != "up" {
			return false
		}
	}
	return true
}

// WaitConverged reloads the cluster every 100 ms until Converged(replicas) holds, or fails
// after limit.
func (c *Cluster) WaitConverged(ctx context.Context, limit time.Duration, replicas bool) error {
	deadline := time.Now().Add(limit)
	for {
		if c.Converged(replicas) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the nodes did not agree on the configuration within %v; run check to see where they differ", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if err := c.Reload(ctx); err != nil {
			return err
		}
	}
}

// fixFailedNodes forgets nodes that the cluster marks as failed and that trib cannot reach
// either. A failed master that still owns slots is forgotten only with
// FixWithUnreachableMasters, since its slots become uncovered (and are then reassigned).
func (f *fixer) fixFailedNodes(ctx context.Context) error {
	failed := f.c.flaggedBy("fail")
	for _, n := range f.c.Nodes {
		if len(failed[n.ID]) == 0 || n.Reachable() {
			continue
		}
		f.progress.emit(LevelStep, ">>> Fixing failed node %s (%s)", n.Dial, n.ID)
		if n.IsMaster() && len(n.Slots) > 0 && !f.opts.FixWithUnreachableMasters {
			f.unfixable("failed master %s (%s) still owns %d slot(s) and none of its replicas took over; "+
				"bring it back, or rerun with --fix-with-unreachable-masters to forget it and reassign its slots", n.Dial, n.ID, len(n.Slots))
			continue
		}
		if !f.confirm.ask(fmt.Sprintf("Forget failed node %s (%s) on every other node?", n.Dial, n.ID)) {
			f.declined("forget failed node %s", n.Dial)
			continue
		}
		// CLUSTER FORGET must reach every node within the 60 s ban window, or gossip
		// re-adds the node; send it to all in parallel.
		err := forEach(f.c.Nodes, func(o *Node) error {
			if o.MasterID == n.ID {
				return nil // "Can't forget my master!": it will follow the failover
			}
			return o.client.OK(ctx, "CLUSTER", "FORGET", n.ID)
		})
		if err != nil {
			return fmt.Errorf("forget failed node %s: %w", n.Dial, err)
		}
		f.fixed("forgot failed node %s (%s)", n.Dial, n.ID)
	}
	return nil
}

func (f *fixer) fixed(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	f.res.Fixed = append(f.res.Fixed, s)
}

func (f *fixer) declined(format string, a ...any) {
	f.res.Declined = append(f.res.Declined, fmt.Sprintf(format, a...))
}

func (f *fixer) unfixable(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	f.res.Unfixable = append(f.res.Unfixable, s)
	f.progress.emit(LevelErr, "[ERR] %s", s)
}

func (f *fixer) fixOpenSlots(ctx context.Context) error {
	open := map[int]bool{}
	for _, n := range f.c.Masters() {
		for s := range n.Migrating {
			open[s] = true
		}
		for s := range n.Importing {
			open[s] = true
		}
	}
	for _, slot := range sortedKeys(open) {
		if !f.confirm.ask(fmt.Sprintf("Fix open slot %d?", slot)) {
			f.declined("open slot %d", slot)
			continue
		}
		if err := f.fixOpenSlot(ctx, slot); err != nil {
			return err
		}
		if err := f.c.Reload(ctx); err != nil {
			return err
		}
	}
	return nil
}

// countKeys returns the key count of slot on every reachable master (one pipelined command
// each, in parallel).
func (f *fixer) countKeys(ctx context.Context, slot int) (map[*Node]int64, error) {
	masters := f.c.ReachableMasters()
	counts := make([]int64, len(masters))
	idx := map[*Node]int{}
	for i, m := range masters {
		idx[m] = i
	}
	err := forEach(masters, func(n *Node) error {
		k, err := n.client.Int(ctx, "CLUSTER", "COUNTKEYSINSLOT", strconv.Itoa(slot))
		counts[idx[n]] = k
		return err
	})
	if err != nil {
		return nil, err
	}
	out := map[*Node]int64{}
	for i, m := range masters {
		out[m] = counts[i]
	}
	return out, nil
}

func owns(n *Node, slot int) bool {
	i := sort.SearchInts(n.Slots, slot)
	return i < len(n.Slots) && n.Slots[i] == slot
}

func remove(list []*Node, n *Node) []*Node {
	out := list[:0:0]
	for _, x := range list {
		if x != n {
			out = append(out, x)
		}
	}
	return out
}

func contains(list []*Node, n *Node) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// pickByKeys returns the node with most keys among nodes (planner.PickOwner: ties by ID), or
// nil when none has a key.
func pickByKeys(nodes []*Node, counts map[*Node]int64) *Node {
	byID := map[string]int64{}
	for _, n := range nodes {
		if counts[n] > 0 {
			byID[n.ID] = counts[n]
		}
	}
	if len(byID) == 0 {
		return nil
	}
	id := planner.PickOwner(byID)
	for _, n := range nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

func (f *fixer) stable(ctx context.Context, n *Node, slot int) error {
	f.progress.emit(LevelStep, ">>> Setting %d as STABLE in %s", slot, n.Dial)
	return n.client.OK(ctx, "CLUSTER", "SETSLOT", strconv.Itoa(slot), "STABLE")
}

// setSlotOwner makes n claim slot, as redis-cli's clusterManagerSetSlotOwner: in one
// transaction DELSLOTS (n may believe another node owns it: ADDSLOTS would say "busy"),
// ADDSLOTS, optionally SETSLOT STABLE, and BUMPEPOCH so the claim wins over the old one.
func setSlotOwner(ctx context.Context, n *Node, slots []int, clear bool) error {
	cmds := [][]string{{"MULTI"}}
	add := []string{"CLUSTER", "ADDSLOTS"}
	for _, s := range slots {
		cmds = append(cmds, []string{"CLUSTER", "DELSLOTS", strconv.Itoa(s)})
		add = append(add, strconv.Itoa(s))
	}
	cmds = append(cmds, add)
	if clear {
		for _, s := range slots {
			cmds = append(cmds, []string{"CLUSTER", "SETSLOT", strconv.Itoa(s), "STABLE"})
		}
	}
	cmds = append(cmds, []string{"CLUSTER", "BUMPEPOCH"}, []string{"EXEC"})
	vs, err := n.client.Pipeline(ctx, cmds)
	if err != nil {
		return err
	}
	exec := vs[len(vs)-1]
	if err := exec.Err(); err != nil {
		return fmt.Errorf("claim slots %s on %s: %w", FormatSlotRanges(slots), n.Dial, err)
	}
	if len(exec.Elems) != len(cmds)-2 {
		return fmt.Errorf("claim slots on %s: unexpected EXEC reply %s", n.Dial, exec.String())
	}
	if err := exec.Elems[len(slots)].Err(); err != nil {
		return fmt.Errorf("CLUSTER ADDSLOTS %s on %s: %w", FormatSlotRanges(slots), n.Dial, err)
	}
	return nil
}

// fixOpenSlot closes one open slot with redis-cli's clusterManagerFixOpenSlot rules, except
// that keys held by a node that imports the slot do not make it a second owner (they are the
// already-moved half of a migration), and that Direction Back returns a half-done migration
// to its source.
func (f *fixer) fixOpenSlot(ctx context.Context, slot int) error {
	f.progress.emit(LevelStep, ">>> Fixing open slot %d", slot)
	counts, err := f.countKeys(ctx, slot)
	if err != nil {
		return err
	}
	masters := f.c.ReachableMasters()
	var owners, migrating, importing []*Node
	for _, n := range masters {
		_, isImporting := n.Importing[slot]
		if owns(n, slot) {
			owners = append(owners, n)
		} else if counts[n] > 0 && !isImporting {
			f.progress.emit(LevelWarn, "*** Found keys about slot %d in non-owner node %s!", slot, n.Dial)
			owners = append(owners, n)
		}
	}
	var owner *Node
	if len(owners) == 1 {
		owner = owners[0]
	}
	for _, n := range masters {
		if _, ok := n.Migrating[slot]; ok {
			migrating = append(migrating, n)
		} else if _, ok := n.Importing[slot]; ok {
			importing = append(importing, n)
		} else if n != owner && counts[n] > 0 {
			f.progress.emit(LevelWarn, "*** Found keys about slot %d in node %s!", slot, n.Dial)
			importing = append(importing, n)
		}
	}
	if len(migrating) > 0 {
		f.progress.emit(LevelInfo, "Set as migrating in: %s", strings.Join(addrsOf(migrating), ","))
	}
	if len(importing) > 0 {
		f.progress.emit(LevelInfo, "Set as importing in: %s", strings.Join(addrsOf(importing), ","))
	}
	if owner == nil {
		f.progress.emit(LevelStep, ">>> No single clear owner for the slot, selecting an owner by # of keys...")
		owner = pickByKeys(append(append([]*Node{}, owners...), append(migrating, importing...)...), counts)
		if owner == nil {
			// No keys anywhere and nobody claims it: close it everywhere; the coverage
			// repair then gives it an owner.
			f.progress.emit(LevelWarn, "*** Slot %d has no owner and no keys: closing it everywhere", slot)
			for _, n := range append(migrating, importing...) {
				if err := f.stable(ctx, n, slot); err != nil {
					return err
				}
			}
			f.fixed("closed open slot %d (no owner, no keys)", slot)
			return nil
		}
		f.progress.emit(LevelWarn, "*** Configuring %s as the slot owner", owner.Dial)
		if err := setSlotOwner(ctx, owner, []int{slot}, true); err != nil {
			return err
		}
		migrating, importing = remove(migrating, owner), remove(importing, owner)
	}
	// Several owners: keep one, make the others import from it so the cases below move
	// their keys.
	if len(owners) > 1 {
		for _, n := range owners {
			if n == owner {
				continue
			}
			s := strconv.Itoa(slot)
			n.client.Do(ctx, "CLUSTER", "DELSLOTS", s) // may already be unassigned there
			if err := n.client.OK(ctx, "CLUSTER", "SETSLOT", s, "NODE", owner.ID); err != nil {
				return err
			}
			if err := n.client.OK(ctx, "CLUSTER", "SETSLOT", s, "IMPORTING", owner.ID); err != nil {
				return err
			}
			importing = append(remove(importing, n), n)
			migrating = remove(migrating, n)
		}
	}
	move := MoveOptions{MigrateOptions: f.opts.Migrate}
	switch {
	case len(migrating) == 1 && len(importing) >= 1 && f.opts.Direction == Back && owns(migrating[0], slot):
		return f.moveBack(ctx, slot, migrating[0], importing)

	case len(migrating) == 1 && len(importing) == 1:
		src, dst := migrating[0], importing[0]
		f.progress.emit(LevelStep, ">>> Case 1: Moving slot %d from %s to %s", slot, src.Dial, dst.Dial)
		n, err := f.c.MoveSlot(ctx, slot, src, dst, move)
		f.res.KeysMoved += n
		if err != nil {
			return err
		}
		f.fixed("open slot %d: moved to %s (%d keys moved)", slot, dst.Dial, n)

	case len(migrating) == 0 && len(importing) > 0:
		f.progress.emit(LevelStep, ">>> Case 2: Moving all the %d slot keys to its owner %s", slot, owner.Dial)
		move.Cold = true
		moved := 0
		for _, n := range importing {
			if n == owner {
				continue
			}
			if _, ok := n.Importing[slot]; !ok {
				// MIGRATE runs locally only where the slot is open; open it so the keys
				// held without any state can leave.
				if err := n.client.OK(ctx, "CLUSTER", "SETSLOT", strconv.Itoa(slot), "IMPORTING", owner.ID); err != nil {
					return err
				}
			}
			k, err := f.c.MoveSlot(ctx, slot, n, owner, move)
			moved += k
			f.res.KeysMoved += k
			if err != nil {
				return err
			}
			if err := f.stable(ctx, n, slot); err != nil {
				return err
			}
		}
		if err := f.c.SetSlotNode(ctx, slot, owner); err != nil {
			return err
		}
		f.fixed("open slot %d: keys moved to its owner %s (%d keys moved)", slot, owner.Dial, moved)

	case len(migrating) == 1 && len(importing) > 1:
		src := migrating[0]
		target := src.Migrating[slot]
		var dst *Node
		for _, n := range importing {
			if counts[n] > 0 {
				f.unfixable("slot %d is migrating in %s and importing in %s, several of which hold keys; move them by hand",
					slot, src.Dial, strings.Join(addrsOf(importing), ","))
				return nil
			}
			if n.ID == target {
				dst = n
			}
		}
		if dst != nil {
			f.progress.emit(LevelStep, ">>> Case 3: Moving slot %d from %s to %s and closing it on all the other importing nodes.", slot, src.Dial, dst.Dial)
			n, err := f.c.MoveSlot(ctx, slot, src, dst, move)
			f.res.KeysMoved += n
			if err != nil {
				return err
			}
			for _, o := range importing {
				if o != dst {
					if err := f.stable(ctx, o, slot); err != nil {
						return err
					}
				}
			}
			f.fixed("open slot %d: moved to %s, closed elsewhere (%d keys moved)", slot, dst.Dial, n)
		} else {
			f.progress.emit(LevelStep, ">>> Case 3: Closing slot %d on both migrating and importing nodes.", slot)
			for _, o := range append([]*Node{src}, importing...) {
				if err := f.stable(ctx, o, slot); err != nil {
					return err
				}
			}
			f.fixed("open slot %d: closed on every node", slot)
		}

	case len(importing) == 0 && len(migrating) == 1 && (owner == migrating[0] || counts[migrating[0]] == 0):
		n := migrating[0]
		f.progress.emit(LevelStep, ">>> Case 4: Closing slot %d on %s", slot, n.Dial)
		if err := n.client.OK(ctx, "CLUSTER", "SETSLOT", strconv.Itoa(slot), "STABLE"); err != nil {
			return err
		}
		f.fixed("open slot %d: closed on %s", slot, n.Dial)

	default:
		f.unfixable("can't fix slot %d: it is set as migrating in %s, as importing in %s, owner is %s",
			slot, strings.Join(addrsOf(migrating), ","), strings.Join(addrsOf(importing), ","), owner.Dial)
	}
	return nil
}

// moveBack undoes a half-done migration: the source stops migrating (so it accepts the keys
// back with RESTORE-ASKING instead of answering ASK), each importing node sends the keys it
// received back and stops importing, and every master is told the source owns the slot.
func (f *fixer) moveBack(ctx context.Context, slot int, src *Node, importing []*Node) error {
	f.progress.emit(LevelStep, ">>> Moving slot %d back to %s from %s", slot, src.Dial, strings.Join(addrsOf(importing), ","))
	if err := f.stable(ctx, src, slot); err != nil {
		return err
	}
	moved := 0
	for _, n := range importing {
		k, err := MigrateKeys(ctx, n, src, slot, f.opts.Migrate, nil)
		moved += k
		f.res.KeysMoved += k
		if err != nil {
			return err
		}
		if err := f.stable(ctx, n, slot); err != nil {
			return err
		}
	}
	if err := f.c.SetSlotNode(ctx, slot, src); err != nil {
		return err
	}
	f.fixed("open slot %d: returned to %s (%d keys moved back)", slot, src.Dial, moved)
	return nil
}

// fixCoverage gives every uncovered slot an owner, as redis-cli's
// clusterManagerFixSlotsCoverage: slots without keys are spread over the masters
// (planner.AssignUncovered), slots with keys on one node go to it, slots with keys on several
// go to the one with most keys and the others' keys move there. Each group is confirmed once.
func (f *fixer) fixCoverage(ctx context.Context) error {
	uncovered := f.c.UncoveredSlots()
	if len(uncovered) == 0 {
		return nil
	}
	f.progress.emit(LevelStep, ">>> Fixing slots coverage...")
	masters := f.c.ReachableMasters()
	if len(masters) == 0 {
		f.unfixable("no reachable master to cover %d slot(s)", len(uncovered))
		return nil
	}
	counts := make([]map[int]int64, len(masters))
	err := forEach(masters, func(n *Node) error {
		var cmds [][]string
		for _, s := range uncovered {
			cmds = append(cmds, []string{"CLUSTER", "COUNTKEYSINSLOT", strconv.Itoa(s)})
		}
		vs, err := n.client.Pipeline(ctx, cmds)
		if err != nil {
			return err
		}
		m := map[int]int64{}
		for i, v := range vs {
			if err := v.Err(); err != nil {
				return fmt.Errorf("CLUSTER COUNTKEYSINSLOT on %s: %w", n.Dial, err)
			}
			if v.Int > 0 {
				m[uncovered[i]] = v.Int
			}
		}
		for i, x := range masters {
			if x == n {
				counts[i] = m
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var none, single, multi []int
	holders := map[int][]*Node{}
	for _, s := range uncovered {
		for i, m := range masters {
			if counts[i][s] > 0 {
				holders[s] = append(holders[s], m)
			}
		}
		switch len(holders[s]) {
		case 0:
			none = append(none, s)
		case 1:
			single = append(single, s)
		default:
			multi = append(multi, s)
		}
	}
	if len(none) > 0 {
		f.progress.emit(LevelInfo, "The following uncovered slots have no keys across the cluster:\n%s", FormatSlotRanges(none))
		if f.confirm.ask("Fix these slots by covering with the masters with fewest slots?") {
			var ms []planner.MasterSlots
			for _, m := range masters {
				ms = append(ms, planner.MasterSlots{ID: m.ID, Addr: m.Dial, Slots: m.Slots})
			}
			byMaster := map[string][]int{}
			for s, id := range planner.AssignUncovered(none, ms) {
				byMaster[id] = append(byMaster[id], s)
			}
			for _, m := range masters {
				slots := byMaster[m.ID]
				if len(slots) == 0 {
					continue
				}
				sort.Ints(slots)
				f.progress.emit(LevelStep, ">>> Covering slots %s with %s", FormatSlotRanges(slots), m.Dial)
				if err := setSlotOwner(ctx, m, slots, false); err != nil {
					return err
				}
			}
			f.fixed("covered %d slot(s) without keys", len(none))
		} else {
			f.declined("cover %d slot(s) without keys", len(none))
		}
	}
	if len(single) > 0 {
		f.progress.emit(LevelInfo, "The following uncovered slots have keys in just one node:\n%s", FormatSlotRanges(single))
		if f.confirm.ask("Fix these slots by covering with those nodes?") {
			byNode := map[*Node][]int{}
			for _, s := range single {
				byNode[holders[s][0]] = append(byNode[holders[s][0]], s)
			}
			for _, m := range masters {
				if slots := byNode[m]; len(slots) > 0 {
					f.progress.emit(LevelStep, ">>> Covering slots %s with %s", FormatSlotRanges(slots), m.Dial)
					if err := setSlotOwner(ctx, m, slots, false); err != nil {
						return err
					}
				}
			}
			f.fixed("covered %d slot(s) with the node holding their keys", len(single))
		} else {
			f.declined("cover %d slot(s) with keys on one node", len(single))
		}
	}
	if len(multi) > 0 {
		f.progress.emit(LevelInfo, "The following uncovered slots have keys in multiple nodes:\n%s", FormatSlotRanges(multi))
		if f.confirm.ask("Fix these slots by moving keys into the node holding most of them?") {
			for _, s := range multi {
				cnt := map[*Node]int64{}
				for i, m := range masters {
					cnt[m] = counts[i][s]
				}
				target := pickByKeys(holders[s], cnt)
				f.progress.emit(LevelStep, ">>> Covering slot %d moving keys to %s", s, target.Dial)
				if err := setSlotOwner(ctx, target, []int{s}, true); err != nil {
					return err
				}
				if err := f.drainInto(ctx, s, target, holders[s]); err != nil {
					return err
				}
			}
			f.fixed("covered %d slot(s) with keys on several nodes", len(multi))
		} else {
			f.declined("cover %d slot(s) with keys on several nodes", len(multi))
		}
	}
	return nil
}

// drainInto moves the keys of slot held by nodes other than owner into owner: each is told
// owner owns the slot and set importing (so MIGRATE runs locally instead of redirecting),
// its keys move cold, and the slot is closed on it.
func (f *fixer) drainInto(ctx context.Context, slot int, owner *Node, nodes []*Node) error {
	s := strconv.Itoa(slot)
	for _, n := range nodes {
		if n == owner {
			continue
		}
		n.client.Do(ctx, "CLUSTER", "DELSLOTS", s) // it may claim the slot itself
		if err := n.client.OK(ctx, "CLUSTER", "SETSLOT", s, "NODE", owner.ID); err != nil {
			return err
		}
		if err := n.client.OK(ctx, "CLUSTER", "SETSLOT", s, "IMPORTING", owner.ID); err != nil {
			return err
		}
		k, err := f.c.MoveSlot(ctx, slot, n, owner, MoveOptions{MigrateOptions: f.opts.Migrate, Cold: true})
		f.res.KeysMoved += k
		if err != nil {
			return err
		}
		if err := n.client.OK(ctx, "CLUSTER", "SETSLOT", s, "STABLE"); err != nil {
			return err
		}
	}
	return f.c.SetSlotNode(ctx, slot, owner)
}

// fixMultipleOwners keeps, for each slot owned or held by several masters, the one with most
// keys (redis-cli's clusterManagerFixMultipleSlotOwners) and moves the others' keys into it.
func (f *fixer) fixMultipleOwners(ctx context.Context) error {
	multi, err := MultipleOwners(ctx, f.c)
	if err != nil {
		return err
	}
	for _, slot := range sortedKeys(multi) {
		// The cluster is reloaded after each slot: find the nodes again by ID.
		var nodes []*Node
		for _, n := range multi[slot] {
			if fresh := f.c.NodeByID(n.ID); fresh != nil && fresh.Reachable() {
				nodes = append(nodes, fresh)
			}
		}
		if len(nodes) < 2 {
			continue
		}
		f.progress.emit(LevelStep, ">>> Fixing multiple owners for slot %d...", slot)
		if !f.confirm.ask(fmt.Sprintf("Slot %d is owned by %s: keep the one with most keys and move the other keys into it?",
			slot, strings.Join(addrsOf(nodes), ", "))) {
			f.declined("multiple owners of slot %d", slot)
			continue
		}
		counts, err := f.countKeys(ctx, slot)
		if err != nil {
			return err
		}
		owner := pickByKeys(nodes, counts)
		if owner == nil {
			owner = nodes[0]
		}
		f.progress.emit(LevelStep, ">>> Setting slot %d owner: %s", slot, owner.Dial)
		if err := setSlotOwner(ctx, owner, []int{slot}, false); err != nil {
			return err
		}
		var holders []*Node
		for _, n := range f.c.ReachableMasters() {
			if n == owner {
				continue
			}
			if counts[n] > 0 {
				holders = append(holders, n)
				continue
			}
			// Owners without keys just learn the new owner.
			n.client.Do(ctx, "CLUSTER", "DELSLOTS", strconv.Itoa(slot))
			if err := n.client.OK(ctx, "CLUSTER", "SETSLOT", strconv.Itoa(slot), "NODE", owner.ID); err != nil {
				return err
			}
		}
		if err := f.drainInto(ctx, slot, owner, holders); err != nil {
			return err
		}
		f.fixed("slot %d: kept %s as the only owner", slot, owner.Dial)
		if err := f.c.Reload(ctx); err != nil {
			return err
		}
	}
	return nil
}

// fixOrphanMasters gives a replica to each master that has none, taking one from the master
// with most replicas when it has more than one (what Redis's replica migration would do with
// cluster-migration-barrier 1), preferring a replica on another host than the orphan.
func (f *fixer) fixOrphanMasters(ctx context.Context) error {
	failed := f.c.flaggedBy("fail")
	working := func(m *Node) []*Node {
		var out []*Node
		for _, r := range f.c.ReplicasOf(m.ID) {
			if r.Reachable() && len(failed[r.ID]) == 0 {
				out = append(out, r)
			}
		}
		return out
	}
	hasReplicas := false
	for _, n := range f.c.Nodes {
		hasReplicas = hasReplicas || n.IsReplica()
	}
	if !hasReplicas {
		return nil
	}
	handled := map[string]bool{}
	for {
		var orphan *Node
		for _, m := range f.c.ReachableMasters() {
			if len(m.Slots) > 0 && len(working(m)) == 0 && !handled[m.ID] {
				orphan = m
				break
			}
		}
		if orphan == nil {
			return nil
		}
		handled[orphan.ID] = true
		var donor *Node
		for _, m := range f.c.ReachableMasters() {
			if len(working(m)) > 1 && (donor == nil || len(working(m)) > len(working(donor))) {
				donor = m
			}
		}
		if donor == nil {
			f.unfixable("master %s has no replica and no master has a spare one; add a node with add-node --replica", orphan.Dial)
			continue
		}
		candidates := working(donor)
		pick := candidates[len(candidates)-1]
		for _, r := range candidates {
			if r.Host() != orphan.Host() {
				pick = r
			}
		}
		if !f.confirm.ask(fmt.Sprintf("Master %s has no replica: move replica %s of %s to it?", orphan.Dial, pick.Dial, donor.Dial)) {
			f.declined("replica for master %s", orphan.Dial)
			continue
		}
		f.progress.emit(LevelStep, ">>> Moving replica %s from %s to %s", pick.Dial, donor.Dial, orphan.Dial)
		if err := pick.client.OK(ctx, "CLUSTER", "REPLICATE", orphan.ID); err != nil {
			return err
		}
		f.fixed("replica %s now replicates %s", pick.Dial, orphan.Dial)
		if err := f.c.Reload(ctx); err != nil {
			return err
		}
		failed = f.c.flaggedBy("fail")
	}
}
