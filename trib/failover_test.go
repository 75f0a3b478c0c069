package trib

import (
	"strings"
	"testing"
	"time"
)

func TestBestReplica(t *testing.T) {
	// Master 0 gets three replicas (the fake cluster's r0 plus two more); each case sets
	// their link state, offsets and the lags the master reports.
	type rep struct {
		up     bool
		offset string
		lag    string
		failed bool
		down   bool
	}
	tests := []struct {
		name string
		reps [3]rep
		want int // index among the three, -1 for none
	}{
		{"highest offset", [3]rep{{true, "100", "0", false, false}, {true, "300", "0", false, false}, {true, "200", "0", false, false}}, 1},
		{"link up beats offset", [3]rep{{true, "100", "0", false, false}, {false, "300", "0", false, false}, {true, "200", "0", false, false}}, 2},
		{"equal offsets: smallest lag", [3]rep{{true, "100", "3", false, false}, {true, "100", "1", false, false}, {true, "100", "2", false, false}}, 1},
		{"failed and unreachable are skipped", [3]rep{{true, "100", "0", false, false}, {true, "900", "0", true, false}, {true, "800", "0", false, true}}, 0},
		{"none usable", [3]rep{{true, "1", "0", true, false}, {true, "1", "0", false, true}, {true, "1", "0", false, true}}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reps []*Node
			c := fakeCluster(func(nodes []*Node) {
				m := nodes[0]
				reps = []*Node{nodes[3]}
				for i := 0; i < 2; i++ {
					n := &Node{NodeEntry: NodeEntry{ID: strings.Repeat(string(rune('x'+i)), 40), IP: "127.0.0.5", Port: 7200 + i,
						Flags: []string{"slave"}, MasterID: m.ID, Connected: true}}
					n.Dial = n.Addr()
					reps = append(reps, n)
				}
				var lines []string
				for i, r := range tt.reps {
					n := reps[i]
					link := "down"
					if r.up {
						link = "up"
					}
					n.Info = map[string]string{"role": "slave", "master_link_status": link, "slave_repl_offset": r.offset}
					if r.failed {
						n.Flags = []string{"slave", "fail"}
					}
					if r.down {
						n.Err = &UnreachableError{Addr: n.Dial}
					}
					lines = append(lines, "ip="+n.IP+",port="+n.Dial[strings.LastIndex(n.Dial, ":")+1:]+",state=online,offset="+r.offset+",lag="+r.lag)
				}
				m.Info = map[string]string{"role": "master"}
				for i, l := range lines {
					m.Info["slave"+string(rune('0'+i))] = l
				}
			})
			c.Nodes = append(c.Nodes, reps[1:]...)
			got := BestReplica(c, c.Nodes[0])
			switch {
			case tt.want < 0 && got != nil:
				t.Fatalf("got %s, want none", got.Dial)
			case tt.want >= 0 && got != reps[tt.want]:
				name := "none"
				if got != nil {
					name = got.Dial
				}
				t.Fatalf("got %s, want %s", name, reps[tt.want].Dial)
			}
		})
	}
}

func TestFailoverRefusals(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func([]*Node)
		ref     string
		opts    FailoverOptions
		wantErr string
	}{
		{"a master given", nil, "127.0.0.1:7000", FailoverOptions{}, "is a master"},
		{"unknown node", nil, "127.0.0.1:9999", FailoverOptions{}, "no node"},
		{"--master names a replica", nil, "127.0.0.1:7000", FailoverOptions{Master: "127.0.0.2:7100"}, "is not a master"},
		{"master down without --force", func(n []*Node) { n[0].Err = &UnreachableError{Addr: n[0].Dial} }, "127.0.0.2:7100", FailoverOptions{}, "use --force"},
		{"link down without --force", func(n []*Node) { n[3].Info["master_link_status"] = "down" }, "127.0.0.2:7100", FailoverOptions{LinkWait: time.Millisecond}, "use --force"},
		{"no replica to pick", func(n []*Node) { n[3].Err = &UnreachableError{Addr: n[3].Dial} }, "127.0.0.1:7000", FailoverOptions{Master: "127.0.0.1:7000"}, "no reachable replica"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeCluster(tt.mutate)
			_, err := Failover(t.Context(), c, tt.ref, tt.opts, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	if _, err := ParseFailoverMode(true, true); err == nil {
		t.Fatal("--force with --takeover accepted")
	}
}
