package trib

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/hashslot"
	"github.com/clusterctl/clusterctl/node/resp"
	"github.com/clusterctl/clusterctl/planner"
)

func TestProbeKeysCoverEverySlot(t *testing.T) {
	for s := 0; s < hashslot.Count; s++ {
		k := probeKey(s)
		if k == "" || hashslot.OfString(k) != s {
			t.Fatalf("probe key %q is not in slot %d", k, s)
		}
	}
}

func TestRedirectsTo(t *testing.T) {
	n := &Node{NodeEntry: NodeEntry{IP: "127.0.0.1", Port: 7001, Hostname: "db1"}, Dial: "localhost:7001"}
	tests := []struct {
		reply resp.Value
		want  bool
	}{
		{resp.Value{Kind: resp.Error, Str: []byte("MOVED 12 127.0.0.1:7001")}, true},
		{resp.Value{Kind: resp.Error, Str: []byte("ASK 12 127.0.0.1:7001")}, true},
		{resp.Value{Kind: resp.Error, Str: []byte("MOVED 12 db1:7001")}, true},
		{resp.Value{Kind: resp.Error, Str: []byte("MOVED 12 localhost:7001")}, true},
		{resp.Value{Kind: resp.Error, Str: []byte("MOVED 12 127.0.0.1:7002")}, false},
		{resp.Value{Kind: resp.Error, Str: []byte("CLUSTERDOWN The cluster is down")}, false},
		{resp.Value{Kind: resp.Integer, Int: 0}, false},
	}
	for _, tt := range tests {
		if got := redirectsTo(tt.reply, n); got != tt.want {
			t.Errorf("redirectsTo(%q) = %v, want %v", tt.reply.String(), got, tt.want)
		}
	}
}

// fakeMoves spreads n moves from every master of fakeCluster to the next one.
func fakeMoves(c *Cluster, n int) []planner.Move {
	ms := c.Masters()
	var out []planner.Move
	for i := 0; i < n; i++ {
		src := ms[i%len(ms)]
		out = append(out, planner.Move{Slot: src.Slots[i/len(ms)], From: src.ID, To: ms[(i+1)%len(ms)].ID})
	}
	return out
}

// TestMoverScheduling: a pair never has two slots in flight, pairs run in parallel up to the
// limit, and every move is made once, in plan order within its pair.
func TestMoverScheduling(t *testing.T) {
	c := fakeCluster(nil)
	moves := fakeMoves(c, 60)
	var mu sync.Mutex
	inFlight := map[pairKey]int{}
	maxTotal, total := 0, 0
	lastSlot := map[pairKey]int{}
	m, err := newMover(c, moves, SlotMoveOptions{Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	m.move = func(ctx context.Context, mv planner.Move, pre *prefetch, next *planner.Move) (int, *prefetch, error) {
		k := pairKey{mv.From, mv.To}
		mu.Lock()
		inFlight[k]++
		total++
		maxTotal = max(maxTotal, total)
		if inFlight[k] > 1 {
			t.Errorf("pair %v has %d slots in flight", k, inFlight[k])
		}
		if last, ok := lastSlot[k]; ok && mv.Slot <= last {
			t.Errorf("pair %v: slot %d after %d", k, mv.Slot, last)
		}
		lastSlot[k] = mv.Slot
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		inFlight[k]--
		total--
		mu.Unlock()
		return 3, nil, nil
	}
	res, err := m.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.SlotsMoved != 60 || res.KeysMoved != 0 || len(res.Remaining) != 0 || res.OpenSlot != -1 {
		t.Fatalf("result %+v", res)
	}
	if maxTotal != 2 {
		t.Errorf("at most %d moves ran at once, want 2", maxTotal)
	}
}

// TestMoverStopsBetweenSlots: cancelling finishes the slot in flight and reports the rest;
// a failed move stops new ones and names its open slot.
func TestMoverStopsBetweenSlots(t *testing.T) {
	c := fakeCluster(nil)
	moves := fakeMoves(c, 30)
	ctx, cancel := context.WithCancel(context.Background())
	m, err := newMover(c, moves, SlotMoveOptions{Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	// The fake prefetches next's first step as moveOne does; the stop must undo the one
	// made while the fifth slot was closed, and only that one.
	var abandoned []int
	m.move = func(work context.Context, mv planner.Move, pre *prefetch, next *planner.Move) (int, *prefetch, error) {
		if n++; n == 5 {
			cancel()
		}
		if work.Err() != nil {
			t.Error("the slot in flight was cancelled")
		}
		if n > 1 && (pre == nil || pre.slot != mv.Slot) {
			t.Errorf("slot %d: the first step prefetched with the slot before is not handed over", mv.Slot)
		}
		if next == nil {
			return 1, nil, nil
		}
		return 1, &prefetch{slot: next.Slot}, nil
	}
	m.abandon = func(_ context.Context, mv planner.Move, pre *prefetch) error {
		abandoned = append(abandoned, pre.slot)
		if pre.slot != mv.Slot {
			t.Errorf("abandoning slot %d with the prefetch of slot %d", mv.Slot, pre.slot)
		}
		return nil
	}
	res, err := m.run(ctx)
	// One worker keeps its pair while the pair has moves: the first pair's first five
	// moves are made (fakeMoves cycles through three pairs), the sixth was prefetched.
	if !errors.Is(err, ErrStopped) || res.SlotsMoved != 5 || len(res.Remaining) != 25 || res.Remaining[0] != moves[1] {
		t.Fatalf("stop: %v %+v", err, res)
	}
	for i := 0; i < 5; i++ {
		if !m.done[3*i] {
			t.Errorf("move %d (the pair's move %d) was not made", 3*i, i)
		}
	}
	if len(abandoned) != 1 || abandoned[0] != moves[15].Slot {
		t.Fatalf("abandoned prefetches %v, want slot %d only", abandoned, moves[15].Slot)
	}

	m, _ = newMover(c, moves, SlotMoveOptions{Parallel: 1})
	n = 0
	m.move = func(_ context.Context, mv planner.Move, _ *prefetch, _ *planner.Move) (int, *prefetch, error) {
		if n++; n == 3 {
			return 0, nil, &SlotMoveError{Slot: mv.Slot, Open: true, Err: fmt.Errorf("BUSYKEY")}
		}
		return 1, nil, nil
	}
	res, err = m.run(context.Background())
	var se *SlotMoveError
	if !errors.As(err, &se) || res.OpenSlot != moves[6].Slot || res.SlotsMoved != 2 || len(res.Remaining) != 28 {
		t.Fatalf("failure: %v %+v", err, res)
	}
}

func TestPlanReshardInput(t *testing.T) {
	c := fakeCluster(nil)
	ms := c.Masters()
	tests := []struct {
		opts ReshardOptions
		want string
	}{
		{ReshardOptions{To: ms[1].ID, Slots: 0}, "between 1 and 16384"},
		{ReshardOptions{To: "nope", Slots: 10}, "is not known or not a master"},
		{ReshardOptions{To: c.Nodes[3].ID, Slots: 10}, "is not known or not a master"},
		{ReshardOptions{To: ms[1].ID, From: []string{ms[1].ID}, Slots: 10}, "not possible to use the target node as source"},
		{ReshardOptions{To: ms[1].ID, From: []string{"zzz"}, Slots: 10}, "is not known or is not a master"},
	}
	for _, tt := range tests {
		_, err := PlanReshard(c, tt.opts)
		var ie *ReshardInputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.opts, err, tt.want)
		}
	}
	plan, err := PlanReshard(c, ReshardOptions{To: ms[0].Dial, From: []string{"all"}, Slots: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Moves) != 100 || len(plan.Sources) != 2 {
		t.Fatalf("plan: %d moves from %d sources", len(plan.Moves), len(plan.Sources))
	}
	for _, mv := range plan.Moves {
		if mv.To != ms[0].ID || mv.From == ms[0].ID {
			t.Fatalf("move %+v", mv)
		}
	}
}

func TestRebalanceSharesAndDrain(t *testing.T) {
	c := fakeCluster(nil)
	ms := c.Masters()
	plan, err := PlanRebalance(context.Background(), c, RebalanceOptions{Weights: map[string]float64{ms[2].ID: 0}})
	if err != nil {
		t.Fatal(err)
	}
	shares := plan.Shares(planner.BySlots)
	var sum int64
	for _, s := range shares {
		sum += s.After
		if s.ID == ms[2].ID && s.After != 0 {
			t.Errorf("a master of weight 0 keeps %d slots", s.After)
		}
	}
	if sum != hashslot.Count {
		t.Errorf("shares after the plan sum to %d", sum)
	}
}
