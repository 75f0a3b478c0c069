package trib

import (
	"errors"
	"strings"
	"testing"
)

func TestPickMaster(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(ns []*Node)
		ref     string
		want    int    // index of the master picked, -1 for an error
		wantErr string // part of the error
	}{
		{name: "ties go to the lowest address", want: 0},
		{name: "fewest replicas wins", mutate: func(ns []*Node) { ns[5].MasterID = ns[0].ID }, want: 2},
		{name: "a master without slots is picked only when none has slots",
			mutate: func(ns []*Node) {
				ns[3].MasterID, ns[4].MasterID, ns[5].MasterID = ns[1].ID, ns[1].ID, ns[1].ID
				ns[0].Slots, ns[2].Slots = nil, nil
			}, want: 1},
		{name: "an unreachable master is skipped",
			mutate: func(ns []*Node) { ns[0].Err = &UnreachableError{Addr: ns[0].Dial, Err: errors.New("refused")} }, want: 1},
		{name: "by ID", ref: "m000000000000000000000000000000000000002", want: 2},
		{name: "by address", ref: "127.0.0.2:7001", want: 1},
		{name: "a replica is not a master", ref: "127.0.0.2:7100", want: -1, wantErr: "is not a master"},
		{name: "unknown", ref: "zzz", want: -1, wantErr: "no such master"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeCluster(tt.mutate)
			m, err := pickMaster(c, tt.ref)
			if tt.want < 0 {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("pickMaster(%q) = %v; want an error with %q", tt.ref, err, tt.wantErr)
				}
				return
			}
			if err != nil || m != c.Nodes[tt.want] {
				got := "none"
				if m != nil {
					got = m.Dial
				}
				t.Fatalf("pickMaster(%q) = %s, %v; want %s", tt.ref, got, err, c.Nodes[tt.want].Dial)
			}
		})
	}
}

func TestFewestReplicasExcludes(t *testing.T) {
	c := fakeCluster(func(ns []*Node) { ns[0].Slots = nil })
	// The node being deleted is never the new master of its replicas.
	m, err := fewestReplicas(c, c.Nodes[1])
	if err != nil || m != c.Nodes[2] {
		t.Fatalf("fewestReplicas = %p, %v; want %s", m, err, c.Nodes[2].Dial)
	}
}

func TestDelNodePreflightRefuses(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(ns []*Node)
		node   int
		want   string
	}{
		{name: "a master with slots", node: 0, want: "5461 slot(s) [0-5460]"},
		{name: "an open slot into it", node: 0,
			mutate: func(ns []*Node) {
				ns[0].Slots = nil
				ns[1].Migrating = map[int]string{5461: ns[0].ID}
			}, want: "slot 5461 migrating from 127.0.0.2:7001"},
		{name: "an open slot of its own", node: 0,
			mutate: func(ns []*Node) {
				ns[0].Slots = nil
				ns[0].Importing = map[int]string{7: ns[1].ID}
			}, want: "slot 7 importing into 127.0.0.1:7000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeCluster(tt.mutate)
			err := delNodePreflight(t.Context(), c, c.Nodes[tt.node])
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("delNodePreflight = %v, want an error with %q", err, tt.want)
			}
			var ne *NodeNotEmptyError
			if strings.Contains(tt.want, "slot(s)") != errors.As(err, &ne) {
				t.Fatalf("error %T, NodeNotEmptyError expected only for slots", err)
			}
		})
	}
	// A view of another node that still gives the emptied master slots also refuses.
	c := fakeCluster(func(ns []*Node) { ns[0].Slots = nil })
	c.Nodes[1].View[0].Slots = []int{3, 4, 5}
	var ne *NodeNotEmptyError
	if err := delNodePreflight(t.Context(), c, c.Nodes[0]); !errors.As(err, &ne) || len(ne.Slots) != 3 {
		t.Fatalf("delNodePreflight with a stale view = %v", err)
	}
}
