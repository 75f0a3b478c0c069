package commands

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/planner"
	"github.com/clusterctl/clusterctl/trib"
)

// Golden files for the human output of create, check and info: run
// `go test ./commands -run Golden -update` to rewrite them after a deliberate change.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got ---\n%s--- want ---\n%s", name, path, got, want)
	}
}

func plainPrinter(buf *bytes.Buffer) *printer { return &printer{w: buf} }

func slotRange(a, b int) []int {
	var out []int
	for s := a; s <= b; s++ {
		out = append(out, s)
	}
	return out
}

const (
	idA = "533786cc500ae4ebd5e98145ae1d6863dda79073"
	idB = "dbf05330057d798f5d53ac2d1d54d3b543306b38"
	idC = "6c793b917bb184e5c0128dab25ee586c053ea374"
	idD = "3957ab271e55cce9c630a43b723a67e4393830c9"
	idE = "957df829038431cbb5f5130af19a5278c2afdb3a"
	idF = "38f902e4000bc13429e976ab98a77566a4b684a9"
)

func master(id, addr string, slots []int, replicas int) trib.NodeReport {
	return trib.NodeReport{ID: id, Addr: addr, Role: "master", Flags: []string{"master"}, Slots: slots,
		SlotCount: len(slots), SlotRanges: trib.FormatSlotRanges(slots), Replicas: replicas, Reachable: true}
}

func replica(id, addr, of string) trib.NodeReport {
	return trib.NodeReport{ID: id, Addr: addr, Role: "replica", MasterID: of, Flags: []string{"slave"}, Reachable: true}
}

func healthyReport() *trib.Report {
	return &trib.Report{
		Healthy: true, Seed: "127.0.0.1:17001", Agree: true, SlotsCovered: 16384, Problems: []trib.Problem{},
		Nodes: []trib.NodeReport{
			master(idA, "127.0.0.1:17001", slotRange(0, 5460), 1),
			master(idC, "127.0.0.1:17003", slotRange(10923, 16383), 1),
			master(idB, "127.0.0.1:17002", slotRange(5461, 10922), 1),
			replica(idE, "127.0.0.1:17005", idC),
			replica(idF, "127.0.0.1:17006", idA),
			replica(idD, "127.0.0.1:17004", idB),
		},
	}
}

func TestGoldenCheckHealthy(t *testing.T) {
	var buf bytes.Buffer
	renderCheck(plainPrinter(&buf), healthyReport())
	golden(t, "check_healthy", buf.String())
}

func TestGoldenCheckProblems(t *testing.T) {
	slot := func(n int) *int { return &n }
	b := master(idB, "127.0.0.1:17002", append(slotRange(5461, 5999), slotRange(6001, 10922)...), 1)
	b.Importing = map[int]string{100: idA}
	a := master(idA, "127.0.0.1:17001", slotRange(0, 5460), 0)
	a.Migrating = map[int]string{100: idB}
	down := replica(idF, "127.0.0.1:17006", idA)
	down.Reachable = false
	r := &trib.Report{
		Seed: "127.0.0.1:17001", SlotsCovered: 16383, OpenSlots: []int{100}, SearchedMultipleOwners: true,
		Nodes: []trib.NodeReport{a, b, master(idC, "127.0.0.1:17003", slotRange(10923, 16383), 1),
			replica(idD, "127.0.0.1:17004", idB), replica(idE, "127.0.0.1:17005", idC), down},
		Problems: []trib.Problem{
			{Kind: trib.KindUnreachable, Severity: trib.SeverityError, Node: "127.0.0.1:17006",
				Message: "node 127.0.0.1:17006 is unreachable: i/o timeout"},
			{Kind: trib.KindConfigDisagreement, Severity: trib.SeverityError, Message: "Nodes don't agree about configuration!"},
			{Kind: trib.KindOpenSlot, Severity: trib.SeverityError, Slot: slot(100), Message: "Slot 100 is open"},
			{Kind: trib.KindUncoveredSlots, Severity: trib.SeverityError, Slots: []int{6000}, Message: "Not all 16384 slots are covered"},
			{Kind: trib.KindMultipleOwners, Severity: trib.SeverityError, Slot: slot(3168),
				Nodes: []string{"127.0.0.1:17001", "127.0.0.1:17003"}, Message: "Slot 3168 has 2 owners"},
			{Kind: trib.KindNodeFailed, Severity: trib.SeverityError, Node: "127.0.0.1:17006",
				Message: "Node 127.0.0.1:17006 (" + idF + ") is marked as failed (fail) by 127.0.0.1:17001"},
			{Kind: trib.KindMasterWithoutReplica, Severity: trib.SeverityWarning, Node: "127.0.0.1:17001",
				Message: "Master 127.0.0.1:17001 (" + idA + ") has no working replica"},
		},
	}
	var buf bytes.Buffer
	renderCheck(plainPrinter(&buf), r)
	golden(t, "check_problems", buf.String())
}

func infoFixture() ClusterInfo {
	return ClusterInfo{Keys: 300000, KeysPerSlot: 300000.0 / 16384, Masters: []MasterInfo{
		{Addr: "127.0.0.1:17001", ID: idA, Keys: 100010, Slots: 5461, Replicas: 1, MemoryText: "12.50M", OpsPerSec: 1200, Reachable: true},
		{Addr: "127.0.0.1:17003", ID: idC, Keys: 99990, Slots: 5461, Replicas: 1, MemoryText: "12.49M", OpsPerSec: 1180, Reachable: true},
		{Addr: "127.0.0.1:17002", ID: idB, Keys: 100000, Slots: 5462, Replicas: 1, MemoryText: "12.50M", OpsPerSec: 1210, Reachable: true},
	}}
}

func TestGoldenInfo(t *testing.T) {
	var lines, table bytes.Buffer
	renderInfo(plainPrinter(&lines), infoFixture(), false)
	golden(t, "info_lines", lines.String())
	renderInfo(plainPrinter(&table), infoFixture(), true)
	golden(t, "info_table", table.String())
}

func TestGoldenCreatePlan(t *testing.T) {
	nodes := []planner.Node{
		{Addr: "127.0.0.1:17001", Host: "127.0.0.1"}, {Addr: "127.0.0.1:17002", Host: "127.0.0.1"},
		{Addr: "127.0.0.2:17003", Host: "127.0.0.2"}, {Addr: "127.0.0.2:17004", Host: "127.0.0.2"},
		{Addr: "127.0.0.3:17005", Host: "127.0.0.3"}, {Addr: "127.0.0.3:17006", Host: "127.0.0.3"},
		{Addr: "127.0.0.3:17007", Host: "127.0.0.3"},
	}
	for _, tt := range []struct {
		name  string
		nodes []planner.Node
	}{
		{"create_plan_three_hosts", nodes},
		{"create_plan_one_host", []planner.Node{
			{Addr: "127.0.0.1:17001", Host: "127.0.0.1"}, {Addr: "127.0.0.1:17002", Host: "127.0.0.1"},
			{Addr: "127.0.0.1:17003", Host: "127.0.0.1"}, {Addr: "127.0.0.1:17004", Host: "127.0.0.1"},
			{Addr: "127.0.0.1:17005", Host: "127.0.0.1"}, {Addr: "127.0.0.1:17006", Host: "127.0.0.1"},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := planner.PlanCreate(tt.nodes, 1)
			if err != nil {
				t.Fatal(err)
			}
			res := &createResult{nodes: map[string]*trib.NewNode{}}
			ids := []string{idA, idB, idC, idD, idE, idF, "0000000000000000000000000000000000000007"}
			for i, n := range tt.nodes {
				res.nodes[n.Addr] = &trib.NewNode{Addr: n.Addr, ID: ids[i]}
			}
			res.fillPlan(plan)
			var buf bytes.Buffer
			renderPlan(plainPrinter(&buf), len(tt.nodes), res, plan)
			golden(t, tt.name, buf.String())
		})
	}
}

// TestPlainOutputOffTerminal: a buffer is not a terminal, so no escape codes, and --no-color
// and NO_COLOR are respected as well.
func TestPlainOutputOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newPrinter(&buf, globals{})
	if p.color || p.terminal {
		t.Fatal("a buffer was taken for a terminal")
	}
	renderCheck(p, healthyReport())
	if strings.Contains(buf.String(), "\x1b[") {
		t.Fatalf("escape codes off a terminal:\n%q", buf.String())
	}
	t.Setenv("NO_COLOR", "1")
	if newPrinter(os.Stdout, globals{}).color {
		t.Fatal("NO_COLOR ignored")
	}
	if newPrinter(os.Stdout, globals{NoColor: true}).color {
		t.Fatal("--no-color ignored")
	}
}

func TestMoveFlagsFirst(t *testing.T) {
	app := NewApp(&IOStreams{})
	tests := []struct{ in, want string }{
		{"clusterctl check h:1 --json", "clusterctl check --json h:1"},
		{"clusterctl -a pw check h:1 --timeout 1s -q", "clusterctl -a pw check --timeout 1s -q h:1"},
		{"clusterctl create h:1 h:2 --replicas 1 h:3 --zone h:1=a", "clusterctl create --replicas 1 --zone h:1=a h:1 h:2 h:3"},
		{"clusterctl fix h:1 -- --odd", "clusterctl fix h:1 -- --odd"},
		{"clusterctl completion bash", "clusterctl completion bash"},
	}
	for _, tt := range tests {
		got := strings.Join(moveFlagsFirst(app, strings.Fields(tt.in)), " ")
		if got != tt.want {
			t.Errorf("%q -> %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"check"}, {"check", "a:1", "b:2"}, {"info"}, {"fix"}, {"create"},
		{"fix", "--direction", "sideways", "127.0.0.1:1"}, {"create", "--zone", "nozone", "a:1"},
		{"check", "--timeout", "0s", "127.0.0.1:1"},
	} {
		if _, stderr, code := runMain(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, ExitUsage, stderr)
		}
	}
	// Nothing listens there: unreachable is exit 3.
	if _, _, code := runMain(t, "check", "--timeout", "200ms", "127.0.0.1:1"); code != ExitUnreachable {
		t.Errorf("unreachable seed: exit %d", code)
	}
}

func TestVerboseCheckShowsFlagsAndKeys(t *testing.T) {
	var buf bytes.Buffer
	p := plainPrinter(&buf)
	p.verbose = true
	renderCheck(p, healthyReport())
	if !strings.Contains(buf.String(), "   flags:master keys:0") {
		t.Fatalf("verbose output lacks flags:\n%s", buf.String())
	}
}
