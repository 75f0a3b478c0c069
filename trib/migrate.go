package trib

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// MigrateOptions tune how the keys of a slot are moved.
type MigrateOptions struct {
	// Batch is the number of keys per GETKEYSINSLOT and MIGRATE round; 0 means 100.
	Batch int
	// Timeout is MIGRATE's own timeout; 0 means 60 s (redis-cli's default).
	Timeout time.Duration
	// Replace adds REPLACE to MIGRATE: a key already on the target is overwritten.
	Replace bool
	// ReplaceIdentical, used by fix, retries a batch that hit BUSYKEY with REPLACE when each
	// busy key holds the same value on both nodes (redis-cli compares values the same way
	// before replacing); keys whose values differ stop the move. Nothing is ever deleted.
	ReplaceIdentical bool
	// User and Password are sent with MIGRATE (AUTH / AUTH2) for targets that need them.
	User, Password string
}

func (o MigrateOptions) batch() int {
	if o.Batch <= 0 {
		return 100
	}
	return o.Batch
}

// BusyKeysError means keys of the slot exist on both nodes with different values, so they
// cannot be moved without losing one version.
type BusyKeysError struct {
	Slot     int
	From, To string
	Keys     []string
}

func (e *BusyKeysError) Error() string {
	keys := e.Keys
	more := ""
	if len(keys) > 10 {
		more = fmt.Sprintf(" and %d more", len(keys)-10)
		keys = keys[:10]
	}
	return fmt.Sprintf("slot %d: %d key(s) exist on both %s and %s with different values (%s%s); "+
		"resolve them by hand (or move with --replace to keep the source's values)",
		e.Slot, len(e.Keys), e.From, e.To, strings.Join(keys, ", "), more)
}

// MigrateKeys moves every key of slot from src to dst with GETKEYSINSLOT and
// MIGRATE ... KEYS, batch by batch, until src holds none (redis-cli's
// clusterManagerMigrateKeysInSlot). It works whether the slot is open or not on either end,
// as long as dst accepts RESTORE-ASKING for it (dst owns or imports the slot, and src does not
// claim it stably while missing keys). progress, when not nil, gets the running total after
// each batch. It returns the number of keys moved.
func MigrateKeys(ctx context.Context, src, dst *Node, slot int, opts MigrateOptions, progress func(moved int)) (int, error) {
	host, port, err := net.SplitHostPort(dst.Dial)
	if err != nil {
		return 0, fmt.Errorf("target address %q: %w", dst.Dial, err)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	moved := 0
	for {
		keys, err := src.client.Strings(ctx, "CLUSTER", "GETKEYSINSLOT", strconv.Itoa(slot), strconv.Itoa(opts.batch()))
		if err != nil {
			return moved, err
		}
		if len(keys) == 0 {
			return moved, nil
		}
		err = migrate(ctx, src, host, port, keys, timeout, opts, opts.Replace)
		if err != nil && isBusyKey(err) && opts.ReplaceIdentical && !opts.Replace {
			// Keys that moved are gone from src; compare the ones still there.
			left, lerr := existing(ctx, src, keys)
			if lerr != nil {
				return moved, lerr
			}
			differ, cerr := differentValues(ctx, src, dst, left)
			if cerr != nil {
				return moved, cerr
			}
			if len(differ) > 0 {
				return moved, &BusyKeysError{Slot: slot, From: src.Dial, To: dst.Dial, Keys: differ}
			}
			err = migrate(ctx, src, host, port, left, timeout, opts, true)
		}
		if err != nil {
			if isBusyKey(err) {
				return moved, fmt.Errorf("slot %d from %s to %s: a key already exists on the target (BUSYKEY); "+
					"rerun with --replace to overwrite it: %w", slot, src.Dial, dst.Dial, err)
			}
			return moved, fmt.Errorf("slot %d from %s to %s: %w", slot, src.Dial, dst.Dial, err)
		}
		moved += len(keys)
		if progress != nil {
			progress(moved)
		}
	}
}

func isBusyKey(err error) bool { return err != nil && strings.Contains(err.Error(), "BUSYKEY") }

func migrate(ctx context.Context, src *Node, host, port string, keys []string, timeout time.Duration, opts MigrateOptions, replace bool) error {
	args := []string{"MIGRATE", host, port, "", "0", strconv.FormatInt(timeout.Milliseconds(), 10)}
	if replace {
		args = append(args, "REPLACE")
	}
	switch {
	case opts.User != "" && opts.Password != "":
		args = append(args, "AUTH2", opts.User, opts.Password)
	case opts.Password != "":
		args = append(args, "AUTH", opts.Password)
	}
	args = append(args, "KEYS")
	args = append(args, keys...)
	// MIGRATE's own timeout can exceed the client's per-command one.
	_, err := src.client.Do(ctx, args...)
	if err != nil && strings.Contains(err.Error(), "NOKEY") {
		return nil // every key expired or was deleted meanwhile
	}
	return err
}

// existing returns the keys that still exist on n.
func existing(ctx context.Context, n *Node, keys []string) ([]string, error) {
	var cmds [][]string
	for _, k := range keys {
		cmds = append(cmds, []string{"ASKING"}, []string{"EXISTS", k})
	}
	vs, err := n.client.Pipeline(ctx, cmds)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, k := range keys {
		v := vs[2*i+1]
		if err := v.Err(); err != nil {
			return nil, fmt.Errorf("EXISTS on %s: %w", n.Dial, err)
		}
		if v.Int > 0 {
			out = append(out, k)
		}
	}
	return out, nil
}

// differentValues returns the keys whose DUMP payloads differ between the two nodes (a key
// missing on dst does not differ: it will simply move).
func differentValues(ctx context.Context, src, dst *Node, keys []string) ([]string, error) {
	dump := func(n *Node) ([][]byte, []bool, error) {
		var cmds [][]string
		for _, k := range keys {
			cmds = append(cmds, []string{"ASKING"}, []string{"DUMP", k})
		}
		vs, err := n.client.Pipeline(ctx, cmds)
		if err != nil {
			return nil, nil, err
		}
		vals := make([][]byte, len(keys))
		present := make([]bool, len(keys))
		for i := range keys {
			v := vs[2*i+1]
			if err := v.Err(); err != nil {
				return nil, nil, fmt.Errorf("DUMP on %s: %w", n.Dial, err)
			}
			vals[i], present[i] = v.Str, !v.IsNull
		}
		return vals, present, nil
	}
	a, _, err := dump(src)
	if err != nil {
		return nil, err
	}
	b, onDst, err := dump(dst)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, k := range keys {
		if onDst[i] && !bytes.Equal(a[i], b[i]) {
			out = append(out, k)
		}
	}
	return out, nil
}

// MoveOptions tune MoveSlot.
type MoveOptions struct {
	MigrateOptions
	// Cold moves only the keys: no IMPORTING/MIGRATING before and no SETSLOT NODE after
	// (redis-cli's CLUSTER_MANAGER_OPT_COLD, used by fix when the configuration is settled
	// separately).
	Cold bool
	// Progress, when not nil, gets the running number of keys moved.
	Progress func(moved int)
}

// MoveSlot moves one slot from src to dst as redis-cli's clusterManagerMoveSlot does:
// SETSLOT IMPORTING on dst, SETSLOT MIGRATING on src, the keys, then SETSLOT NODE dst on dst,
// src and every other master. It then verifies that src holds no key of the slot, and
// returns the number of keys moved. A slot already open in that direction is resumed.
func (c *Cluster) MoveSlot(ctx context.Context, slot int, src, dst *Node, opts MoveOptions) (int, error) {
	s := strconv.Itoa(slot)
	if !opts.Cold {
		if dst.Importing[slot] != src.ID {
			if err := dst.client.OK(ctx, "CLUSTER", "SETSLOT", s, "IMPORTING", src.ID); err != nil {
				return 0, err
			}
		}
		if src.Migrating[slot] != dst.ID {
			if err := src.client.OK(ctx, "CLUSTER", "SETSLOT", s, "MIGRATING", dst.ID); err != nil {
				return 0, err
			}
		}
	}
	moved, err := MigrateKeys(ctx, src, dst, slot, opts.MigrateOptions, opts.Progress)
	if err != nil {
		return moved, err
	}
	if !opts.Cold {
		if err := c.SetSlotNode(ctx, slot, dst, src); err != nil {
			return moved, err
		}
	}
	left, err := src.client.Int(ctx, "CLUSTER", "COUNTKEYSINSLOT", s)
	if err != nil {
		return moved, err
	}
	if left != 0 {
		return moved, fmt.Errorf("slot %d: %s still holds %d key(s) after the move to %s", slot, src.Dial, left, dst.Dial)
	}
	return moved, nil
}

// SetSlotNode runs CLUSTER SETSLOT slot NODE owner on the owner first (which bumps its epoch
// when it was importing), then on the nodes in first, then on every other reachable master.
func (c *Cluster) SetSlotNode(ctx context.Context, slot int, owner *Node, first ...*Node) error {
	s := strconv.Itoa(slot)
	order := []*Node{owner}
	seen := map[*Node]bool{owner: true}
	for _, n := range append(first, c.ReachableMasters()...) {
		if !seen[n] && n.Reachable() {
			seen[n] = true
			order = append(order, n)
		}
	}
	var errs []error
	for _, n := range order {
		if err := n.client.OK(ctx, "CLUSTER", "SETSLOT", s, "NODE", owner.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
