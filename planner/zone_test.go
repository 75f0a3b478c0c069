package planner

import (
	"reflect"
	"strings"
	"testing"
)

func zoned(addr, host, zone string) Node { return Node{Addr: addr, Host: host, Zone: zone} }

func TestPlanCreateZones(t *testing.T) {
	tests := []struct {
		name       string
		nodes      []Node
		replicas   int
		replicaOf  map[string]string // replica -> master
		violations []Violation
	}{
		{
			// Three zones, two machines each: every replica leaves its master's zone.
			name: "zone per master",
			nodes: []Node{
				zoned("a1:1", "a1", "za"), zoned("b1:1", "b1", "zb"), zoned("c1:1", "c1", "zc"),
				zoned("a2:1", "a2", "za"), zoned("b2:1", "b2", "zb"), zoned("c2:1", "c2", "zc"),
			},
			replicas:  1,
			replicaOf: map[string]string{"a2:1": "c1:1", "b2:1": "a1:1", "c2:1": "b1:1"},
		},
		{
			// All masters sit in zone za and only h4:1 is outside it, so two replicas must
			// share their master's zone; none needs to share its master's host.
			name: "zones crowded",
			nodes: []Node{
				zoned("h1:1", "h1", "za"), zoned("h2:1", "h2", "za"), zoned("h3:1", "h3", "za"),
				zoned("h1:2", "h1", "za"), zoned("h4:1", "h4", "zb"), zoned("h2:2", "h2", "za"),
			},
			replicas: 1,
			// Interleaved: h1:1 h2:1 h3:1 h4:1 h1:2 h2:2; masters h1:1 h2:1 h3:1.
			replicaOf: map[string]string{"h4:1": "h3:1", "h1:2": "h2:1", "h2:2": "h1:1"},
			violations: []Violation{
				{Shard: 0, Kind: "zone", Nodes: []string{"h1:1", "h2:2"}},
				{Shard: 1, Kind: "zone", Nodes: []string{"h2:1", "h1:2"}},
			},
		},
		{
			// Two zones, masters mostly in za: the zb nodes go to the za masters and the za
			// node to the zb master, so no replica shares its master's zone or host.
			name: "two zones",
			nodes: []Node{
				zoned("h1:1", "h1", "za"), zoned("h2:1", "h2", "za"), zoned("h3:1", "h3", "zb"),
				zoned("h1:2", "h1", "za"), zoned("h3:2", "h3", "zb"), zoned("h4:1", "h4", "zb"),
			},
			replicas: 1,
			// Interleaved: h1:1 h2:1 h3:1 h4:1 h1:2 h3:2; masters h1:1(za) h2:1(za) h3:1(zb).
			replicaOf: map[string]string{"h3:2": "h1:1", "h4:1": "h2:1", "h1:2": "h3:1"},
		},
		{
			// A replica in its master's zone is worse than two siblings sharing a zone: the
			// za master takes both zb nodes rather than the za one.
			name: "master zone before sibling zone",
			nodes: []Node{
				zoned("a:1", "a", "za"), zoned("b:1", "b", "zb"), zoned("c:1", "c", "zb"),
				zoned("d:1", "d", "zb"), zoned("e:1", "e", "zb"), zoned("f:1", "f", "za"),
				zoned("g:1", "g", "za"),
			},
			replicas:   1,
			replicaOf:  map[string]string{"d:1": "a:1", "e:1": "a:1", "f:1": "b:1", "g:1": "c:1"},
			violations: []Violation{{Shard: 0, Kind: "zone", Nodes: []string{"d:1", "e:1"}}},
		},
		{
			// A node without a zone takes its machine's zone: h1:2 is in za like h1:1.
			name: "zone inherited from the host",
			nodes: []Node{
				zoned("h1:1", "h1", "za"), zoned("h2:1", "h2", "zb"), zoned("h3:1", "h3", "zc"),
				zoned("h1:2", "h1", ""), zoned("h4:1", "h4", "za"), zoned("h5:1", "h5", "zb"),
			},
			replicas:  1,
			replicaOf: map[string]string{"h4:1": "h2:1", "h1:2": "h3:1", "h5:1": "h1:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := PlanCreate(tt.nodes, tt.replicas)
			if err != nil {
				t.Fatal(err)
			}
			checkPlanShape(t, plan, tt.nodes, tt.replicas)
			got := make(map[string]string)
			for _, shard := range plan.Shards {
				for _, r := range shard.Replicas {
					got[r.Addr] = shard.Master.Addr
				}
			}
			if !reflect.DeepEqual(got, tt.replicaOf) {
				t.Errorf("replica -> master = %v, want %v", got, tt.replicaOf)
			}
			if !reflect.DeepEqual(plan.Violations, tt.violations) {
				t.Errorf("violations = %v, want %v", plan.Violations, tt.violations)
			}
		})
	}
}

func TestPlanCreateRejectsTwoZonesOnOneHost(t *testing.T) {
	nodes := []Node{
		zoned("h1:1", "h1", "za"), zoned("h2:1", "h2", "zb"), zoned("h1:2", "h1", "zc"),
	}
	_, err := PlanCreate(nodes, 0)
	if err == nil || !strings.Contains(err.Error(), "h1:1 and h1:2") {
		t.Fatalf("error = %v, want one naming h1:1 and h1:2", err)
	}
}
