package trib

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// FailoverMode is the variant of CLUSTER FAILOVER.
type FailoverMode string

const (
	// FailoverDefault is the coordinated manual failover: the master stops its clients, the
	// replica catches up with its offset, then takes over; no acknowledged write is lost.
	FailoverDefault FailoverMode = ""
	// FailoverForce skips the handshake with the master (it may be down) but still needs a
	// majority of masters to vote.
	FailoverForce FailoverMode = "force"
	// FailoverTakeover skips the vote too: the replica bumps the epoch by itself.
	FailoverTakeover FailoverMode = "takeover"
)

// ParseFailoverMode maps the flags to a mode.
func ParseFailoverMode(force, takeover bool) (FailoverMode, error) {
	switch {
	case force && takeover:
		return "", fmt.Errorf("--force and --takeover exclude each other")
	case force:
		return FailoverForce, nil
	case takeover:
		return FailoverTakeover, nil
	}
	return FailoverDefault, nil
}

// FailoverOptions tune Failover.
type FailoverOptions struct {
	Mode FailoverMode
	// Master, when set (ID, unique prefix or host:port), picks the best replica of that
	// master instead of the replica given: the one with most replicated bytes.
	Master string
	// Wait bounds the wait for the roles to swap; 0 means 30 s.
	Wait time.Duration
	// LinkWait bounds the wait for the replica's link to its master (down for a moment after
	// a recent failover) before a coordinated failover is refused; 0 means 5 s.
	LinkWait time.Duration
}

// FailoverResult says what Failover did.
type FailoverResult struct {
	Mode string `json:"mode"`
	// NewMaster is the replica that took over; OldMaster the master it replaced.
	NewMaster   string `json:"new_master"`
	NewMasterID string `json:"new_master_id"`
	OldMaster   string `json:"old_master"`
	OldMasterID string `json:"old_master_id"`
	// Picked says the replica was chosen by Master; Offset is its replication offset then.
	Picked bool  `json:"picked"`
	Offset int64 `json:"offset"`
	// Elapsed runs from CLUSTER FAILOVER to every reachable node agreeing on the swap.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Failover runs a manual failover on a replica and waits until the roles have swapped: the
// replica sees itself as a master, its old master (when reachable) sees itself as the new
// master's replica, and every other reachable node sees the replica as a master. ref names
// the replica (ID, prefix or host:port); with opts.Master it is ignored and the best
// replica of that master is used.
func Failover(ctx context.Context, c *Cluster, ref string, opts FailoverOptions, progress Progress) (*FailoverResult, error) {
	replica, picked, err := failoverReplica(c, ref, opts.Master)
	if err != nil {
		return nil, err
	}
	master := c.NodeByID(replica.MasterID)
	if master == nil {
		return nil, fmt.Errorf("replica %s replicates %s, which the cluster does not know", replica.Dial, replica.MasterID)
	}
	if !replica.Reachable() {
		return nil, fmt.Errorf("replica %s is unreachable: %w", replica.Dial, replica.Err)
	}
	if opts.Mode == FailoverDefault {
		if !master.Reachable() {
			return nil, fmt.Errorf("master %s is unreachable, so a coordinated failover cannot run: use --force (or --takeover without a majority of masters)", master.Dial)
		}
		// Right after another failover the replica may still be resyncing with its master:
		// give the link a moment before refusing.
		if replica.Info["master_link_status"] != "up" {
			if err := waitFor(ctx, opts.linkWait(), func() (bool, error) { return linkUp(ctx, replica.client) }); err != nil {
				return nil, fmt.Errorf("replica %s has its link to %s down (%w), so a coordinated failover cannot run: use --force", replica.Dial, master.Dial, err)
			}
		}
	}
	res := &FailoverResult{Mode: string(opts.Mode), NewMaster: replica.Dial, NewMasterID: replica.ID,
		OldMaster: master.Dial, OldMasterID: master.ID, Picked: picked, Offset: infoInt(replica.Info, "slave_repl_offset")}
	if res.Mode == "" {
		res.Mode = "default"
	}
	if picked {
		progress.emit(LevelInfo, "Picked replica %s of %s (replication offset %d)", replica.Dial, master.Dial, res.Offset)
	}
	args := []string{"CLUSTER", "FAILOVER"}
	if opts.Mode != FailoverDefault {
		args = append(args, strings.ToUpper(string(opts.Mode)))
	}
	progress.emit(LevelStep, ">>> Failing over %s to replica %s (%s)", master.Dial, replica.Dial, strings.Join(args, " "))
	start := time.Now()
	if err := sendFailover(ctx, replica.client, args, opts.linkWait()); err != nil {
		return nil, err
	}
	limit := opts.Wait
	if limit <= 0 {
		limit = 30 * time.Second
	}
	if err := waitFor(ctx, limit, func() (bool, error) { return swapped(ctx, c, replica, master) }); err != nil {
		return res, fmt.Errorf("the roles of %s and %s have not swapped (%w): a manual failover gives up after 5 s; "+
			"see the replica's log, and retry (with --force when the master is down)", replica.Dial, master.Dial, err)
	}
	res.Elapsed = time.Since(start)
	progress.emit(LevelOK, "[OK] %s is now the master, %s its replica (%v)", replica.Dial, master.Dial, res.Elapsed.Round(time.Millisecond))
	return res, nil
}

func (o FailoverOptions) linkWait() time.Duration {
	if o.LinkWait <= 0 {
		return 5 * time.Second
	}
	return o.LinkWait
}

// sendFailover sends CLUSTER FAILOVER [FORCE|TAKEOVER]. A replica whose cluster bus link
// to its master is being re-established (after a recent failover) answers "Master is down or
// failed" for a moment; only a refusal that lasts limit is an error.
func sendFailover(ctx context.Context, cl *Client, args []string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		err := cl.OK(ctx, args...)
		if err == nil || !strings.Contains(err.Error(), "Master is down or failed") || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// linkUp reports whether the replica's replication link to its master is up.
func linkUp(ctx context.Context, cl *Client) (bool, error) {
	if cl == nil {
		return false, errors.New("no connection to the replica")
	}
	info, err := cl.Info(ctx, "replication")
	if err != nil {
		return false, err
	}
	return info["role"] == "slave" && info["master_link_status"] == "up", nil
}

// failoverReplica returns the replica to promote: the one named by ref, or the best replica
// of master when it is given.
func failoverReplica(c *Cluster, ref, master string) (*Node, bool, error) {
	if master == "" {
		n, err := c.Find(ref)
		if err != nil {
			return nil, false, err
		}
		if !n.IsReplica() {
			return nil, false, fmt.Errorf("node %s is a master: give one of its replicas, or --master %s to pick its best replica", n.Dial, n.ID[:min(len(n.ID), 8)])
		}
		return n, false, nil
	}
	m, err := c.Find(master)
	if err != nil {
		return nil, false, err
	}
	if !m.IsMaster() {
		return nil, false, fmt.Errorf("--master %s: node %s is not a master", master, m.Dial)
	}
	best := BestReplica(c, m)
	if best == nil {
		return nil, false, fmt.Errorf("master %s has no reachable replica to fail over to", m.Dial)
	}
	return best, true, nil
}

// BestReplica returns the replica of m that has replicated most: reachable replicas with
// their link up first, then the highest replication offset, then the smallest lag the
// master reports, then the address. Nil when m has no reachable replica.
func BestReplica(c *Cluster, m *Node) *Node {
	lags := map[string]int64{}
	for _, l := range replicaLags(m.Info) {
		lags[l.addr] = l.lag
	}
	var cands []*Node
	for _, r := range c.ReplicasOf(m.ID) {
		if r.Reachable() && !r.Failed() {
			cands = append(cands, r)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	lagOf := func(n *Node) int64 {
		if l, ok := lags[n.Addr()]; ok {
			return l
		}
		return 1 << 62
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if ua, ub := a.Info["master_link_status"] == "up", b.Info["master_link_status"] == "up"; ua != ub {
			return ua
		}
		if oa, ob := infoInt(a.Info, "slave_repl_offset"), infoInt(b.Info, "slave_repl_offset"); oa != ob {
			return oa > ob
		}
		if la, lb := lagOf(a), lagOf(b); la != lb {
			return la < lb
		}
		return a.Dial < b.Dial
	})
	return cands[0]
}

// swapped reports whether the replica sees itself as a master, the old master (when
// reachable) sees itself as the replica's replica, and every other reachable node sees the
// replica as a master.
func swapped(ctx context.Context, c *Cluster, replica, master *Node) (bool, error) {
	for _, n := range c.Nodes {
		if !n.Reachable() {
			continue
		}
		v, err := viewOf(ctx, n.client)
		if err != nil {
			if n == master {
				// A master taken over while it was failing may stay unreachable.
				continue
			}
			return false, err
		}
		if e := entryOf(v, replica.ID); e == nil || !e.IsMaster() {
			return false, nil
		}
		if n == master {
			if e := entryOf(v, master.ID); e == nil || !e.IsReplica() || e.MasterID != replica.ID {
				return false, nil
			}
			// Both sides agree only once the old master replicates from the new one; then
			// it can also take over again at once.
			if up, err := linkUp(ctx, n.client); err == nil && !up {
				return false, nil
			}
		}
	}
	return true, nil
}
