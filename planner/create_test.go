package planner

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func node(addr, host string) Node { return Node{Addr: addr, Host: host} }

func TestPlanCreateTooFewMasters(t *testing.T) {
	nodes := []Node{node("a:1", "a"), node("a:2", "a"), node("a:3", "a"), node("a:4", "a"), node("a:5", "a")}
	_, err := PlanCreate(nodes, 1)
	var tooFew *TooFewMastersError
	if !errors.As(err, &tooFew) {
		t.Fatalf("PlanCreate(5 nodes, 1 replica) error = %v, want *TooFewMastersError", err)
	}
	want := "Redis Cluster requires at least 3 master nodes. This is not possible with 5 nodes and 1 replicas per node. At least 6 nodes are required."
	if tooFew.Error() != want {
		t.Errorf("Error() = %q, want %q", tooFew.Error(), want)
	}
	if *tooFew != (TooFewMastersError{Nodes: 5, Replicas: 1, Needed: 6}) {
		t.Errorf("error fields = %+v", *tooFew)
	}
}

func TestPlanCreateRejectsBadInput(t *testing.T) {
	three := []Node{node("a:1", "a"), node("a:2", "a"), node("a:3", "a")}
	if _, err := PlanCreate(three, -1); err == nil {
		t.Error("negative replicas: no error")
	}
	dup := []Node{node("a:1", "a"), node("a:2", "a"), node("a:1", "a")}
	if _, err := PlanCreate(dup, 0); err == nil {
		t.Error("repeated address: no error")
	}
	noAddr := []Node{node("a:1", "a"), node("", "a"), node("a:3", "a")}
	if _, err := PlanCreate(noAddr, 0); err == nil {
		t.Error("empty address: no error")
	}
}

// Six nodes on three hosts, two each, listed host by host: redis-cli interleaves them so the
// three masters land on three hosts, and each replica can sit on another host.
func TestPlanCreateInterleavesHosts(t *testing.T) {
	nodes := []Node{
		node("10.0.0.1:7000", "10.0.0.1"), node("10.0.0.1:7001", "10.0.0.1"),
		node("10.0.0.2:7000", "10.0.0.2"), node("10.0.0.2:7001", "10.0.0.2"),
		node("10.0.0.3:7000", "10.0.0.3"), node("10.0.0.3:7001", "10.0.0.3"),
	}
	plan, err := PlanCreate(nodes, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantMasters := []string{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"}
	wantSlots := MasterSlotRanges(3)
	for i, shard := range plan.Shards {
		if shard.Master.Addr != wantMasters[i] || shard.Slots != wantSlots[i] {
			t.Errorf("shard %d: master %s slots %v, want %s %v", i, shard.Master.Addr, shard.Slots, wantMasters[i], wantSlots[i])
		}
		if len(shard.Replicas) != 1 || shard.Replicas[0].Host == shard.Master.Host {
			t.Errorf("shard %d: replicas %v for master on %s", i, shard.Replicas, shard.Master.Host)
		}
	}
	if len(plan.Violations) != 0 {
		t.Errorf("violations %v, want none", plan.Violations)
	}
}

// All nodes on one machine (the usual local test cluster): every replica shares its master's
// host, and every shard is reported.
func TestPlanCreateOneHostReportsEveryShard(t *testing.T) {
	var nodes []Node
	for p := 7000; p < 7006; p++ {
		nodes = append(nodes, node(fmt.Sprintf("127.0.0.1:%d", p), "127.0.0.1"))
	}
	plan, err := PlanCreate(nodes, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []Violation{
		{Shard: 0, Kind: "host", Nodes: []string{"127.0.0.1:7000", "127.0.0.1:7003"}},
		{Shard: 1, Kind: "host", Nodes: []string{"127.0.0.1:7001", "127.0.0.1:7004"}},
		{Shard: 2, Kind: "host", Nodes: []string{"127.0.0.1:7002", "127.0.0.1:7005"}},
	}
	if !reflect.DeepEqual(plan.Violations, want) {
		t.Errorf("violations = %v, want %v", plan.Violations, want)
	}
}

func TestReplicaCapacity(t *testing.T) {
	tests := []struct {
		masters, replicas, spare int
		want                     string
	}{
		{3, 1, 3, "[1 1 1]"},
		{3, 1, 4, "[2 1 1]"},
		{3, 0, 2, "[1 1 0]"},
		{3, 5, 17, "[6 6 5]"},
		{3, 10, 40, "[14 13 13]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(replicaCapacity(tt.masters, tt.replicas, tt.spare)); got != tt.want {
			t.Errorf("replicaCapacity(%d, %d, %d) = %s, want %s", tt.masters, tt.replicas, tt.spare, got, tt.want)
		}
	}
}
