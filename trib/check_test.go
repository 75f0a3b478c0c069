package trib

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// fakeCluster builds a loaded Cluster without a network: three masters on 127.0.0.1,
// 127.0.0.2 and 127.0.0.3 with one replica each on the next host, every node seeing the same
// table. mutate edits the nodes before the views are built from them.
func fakeCluster(mutate func(nodes []*Node)) *Cluster {
	ranges := [][2]int{{0, 5460}, {5461, 10922}, {10923, 16383}}
	var nodes []*Node
	for i := 0; i < 3; i++ {
		var slots []int
		for s := ranges[i][0]; s <= ranges[i][1]; s++ {
			slots = append(slots, s)
		}
		nodes = append(nodes, &Node{NodeEntry: NodeEntry{
			ID: fmt.Sprintf("m%039d", i), IP: fmt.Sprintf("127.0.0.%d", i+1), Port: 7000 + i,
			Flags: []string{"master"}, ConfigEpoch: uint64(i + 1), Connected: true, Slots: slots,
		}})
	}
	for i := 0; i < 3; i++ {
		nodes = append(nodes, &Node{NodeEntry: NodeEntry{
			ID: fmt.Sprintf("r%d%038d", i, 0), IP: fmt.Sprintf("127.0.0.%d", (i+1)%3+1), Port: 7100 + i,
			Flags: []string{"slave"}, MasterID: nodes[i].ID, ConfigEpoch: uint64(i + 1), Connected: true,
		}})
	}
	for _, n := range nodes {
		n.Dial = n.Addr()
		n.ClusterInfo = map[string]string{"cluster_state": "ok"}
		if n.IsReplica() {
			n.Info = map[string]string{"role": "slave", "master_link_status": "up"}
		} else {
			n.Info = map[string]string{"role": "master", "slave0": "ip=127.0.0.9,port=1,state=online,offset=10,lag=0"}
		}
	}
	if mutate != nil {
		mutate(nodes)
	}
	for _, obs := range nodes {
		for _, n := range nodes {
			e := n.NodeEntry
			e.Flags = append([]string{}, n.Flags...)
			e.Migrating, e.Importing = nil, nil
			if n == obs {
				e.Flags = append([]string{"myself"}, e.Flags...)
				e.Migrating, e.Importing = n.Migrating, n.Importing
			}
			obs.View = append(obs.View, e)
		}
	}
	return &Cluster{Seed: nodes[0].Dial, Nodes: nodes}
}

func kinds(r *Report) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, p.Kind)
	}
	sort.Strings(out)
	return out
}

func TestCheckFindsEachProblem(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(nodes []*Node)
		after  func(c *Cluster) // edits after the views are built
		want   []string
	}{
		{name: "healthy", want: nil},
		{name: "unreachable replica", mutate: func(ns []*Node) { ns[5].Err = &UnreachableError{Addr: ns[5].Dial, Err: errors.New("i/o timeout")} },
			want: []string{KindUnreachable}},
		{name: "auth", mutate: func(ns []*Node) { ns[4].Err = &AuthError{Addr: ns[4].Dial, Reply: "WRONGPASS"} },
			want: []string{KindAuthFailed}},
		{name: "open slot", mutate: func(ns []*Node) {
			ns[0].Migrating = map[int]string{7: ns[1].ID}
			ns[1].Importing = map[int]string{7: ns[0].ID}
		}, want: []string{KindOpenSlot}},
		{name: "uncovered and disagreement", after: func(c *Cluster) {
			c.Nodes[1].Slots = c.Nodes[1].Slots[1:]
			c.Nodes[1].View[1].Slots = c.Nodes[1].Slots
		}, want: []string{KindConfigDisagreement, KindUncoveredSlots}},
		{name: "failed replica", after: func(c *Cluster) {
			for _, obs := range c.Nodes {
				obs.View[3].Flags = append(obs.View[3].Flags, "fail")
			}
		}, want: []string{KindMasterWithoutReplica, KindNodeFailed}},
		{name: "pfail", after: func(c *Cluster) { c.Nodes[0].View[2].Flags = append(c.Nodes[0].View[2].Flags, "fail?") },
			want: []string{KindNodePFail}},
		{name: "link down and lag", mutate: func(ns []*Node) {
			ns[3].Info["master_link_status"] = "down"
			ns[1].Info["slave0"] = "ip=127.0.0.3,port=7101,state=online,offset=10,lag=42"
		}, want: []string{KindReplicaLag, KindReplicaLinkDown}},
		{name: "same host", mutate: func(ns []*Node) { ns[3].IP = ns[0].IP; ns[3].Dial = ns[3].Addr() },
			want: []string{KindSameHostReplica}},
		{name: "state", mutate: func(ns []*Node) { ns[2].ClusterInfo["cluster_state"] = "fail" },
			want: []string{KindClusterStateNotOK}},
		{name: "epoch collision", mutate: func(ns []*Node) { ns[2].ConfigEpoch = 1 },
			want: []string{KindConfigEpochCollision}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeCluster(tt.mutate)
			if tt.after != nil {
				tt.after(c)
			}
			r, err := Check(context.Background(), c, CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := kinds(r)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("kinds %v, want %v\n%+v", got, tt.want, r.Problems)
			}
			if r.Healthy != (len(tt.want) == 0) {
				t.Fatalf("healthy %v with problems %v", r.Healthy, got)
			}
		})
	}
}

func TestSingleHostReplicasAreNotAProblem(t *testing.T) {
	c := fakeCluster(func(ns []*Node) {
		for _, n := range ns {
			n.IP = "127.0.0.1"
			n.Dial = n.Addr()
		}
	})
	r, err := Check(context.Background(), c, CheckOptions{})
	if err != nil || !r.Healthy {
		t.Fatalf("one-host cluster: %v %+v", err, r.Problems)
	}
}

func TestFindNode(t *testing.T) {
	c := fakeCluster(nil)
	if n, err := c.Find("m000"); err == nil || n != nil {
		t.Fatalf("ambiguous prefix accepted: %v", n)
	}
	if n, err := c.Find(c.Nodes[4].ID[:2]); err != nil || n != c.Nodes[4] {
		t.Fatalf("prefix: %v %v", n, err)
	}
	if n, err := c.Find(c.Nodes[2].Addr()); err != nil || n != c.Nodes[2] {
		t.Fatalf("address: %v %v", n, err)
	}
	if _, err := c.Find("nope"); err == nil {
		t.Fatal("unknown node found")
	}
}

func TestReplicaLags(t *testing.T) {
	got := replicaLags(map[string]string{
		"slave0": "ip=127.0.0.1,port=7001,state=online,offset=5,lag=1",
		"slave1": "ip=::1,port=7002,state=online,offset=5,lag=30",
	})
	if len(got) != 2 || got[0] != (replicaLag{"127.0.0.1:7001", 1}) || got[1] != (replicaLag{"[::1]:7002", 30}) {
		t.Fatalf("%+v", got)
	}
}

func TestParseDirection(t *testing.T) {
	for in, want := range map[string]Direction{"": Forward, "forward": Forward, "back": Back} {
		if got, err := ParseDirection(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := ParseDirection("up"); err == nil {
		t.Error("bad direction accepted")
	}
}
