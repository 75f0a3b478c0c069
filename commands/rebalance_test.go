package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/planner"
)

// withinThreshold is redis-cli's test of one master: its holding against its expected share.
func withinThreshold(holds, expected, threshold float64) bool {
	if holds == 0 {
		return expected <= 1
	}
	return math.Abs(100-100*expected/holds) <= threshold
}

// TestRebalanceOntoEmptyMaster joins an empty master with a raw CLUSTER MEET, then
// rebalances with --use-empty-masters: every master ends within the 2% threshold, no key is
// lost, and check is clean.
func TestRebalanceOntoEmptyMaster(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	nodes := reshardCluster(t, 3)
	seed := nodes[0].Addr()
	client := clusterClient(t, seed)
	fillKeys(t, client, "k:", 3000)
	empty := nodetest.Start(t, nodetest.Redis, nodetest.Options{Cluster: true, NodeTimeout: 20000})
	do(t, dial(t, seed), "CLUSTER", "MEET", empty.Host, strconv.Itoa(empty.Port))
	for deadline := time.Now().Add(20 * time.Second); ; {
		c := load(t, seed)
		if len(c.Nodes) == 4 && c.Converged(false) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the new master did not join")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The new master says cluster_state:fail until it has waited out Redis's rejoin delay;
	// a slot moved to it before then meets CLUSTERDOWN.
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(do(t, dial(t, empty.Addr()), "CLUSTER", "INFO"), "cluster_state:ok"); {
		if time.Now().After(deadline) {
			t.Fatal("the new master does not report cluster_state:ok")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Without --use-empty-masters the three holders are balanced already.
	out, _, code := cc(t, "rebalance", seed, "--simulate")
	if code != ExitOK || !strings.Contains(out, "No rebalancing needed! All nodes are within the 2.00% threshold.") {
		t.Fatalf("rebalance --simulate: exit %d\n%s", code, out)
	}
	out, errOut, code := cc(t, "rebalance", seed, "--use-empty-masters", "--yes", "--timeout", "30s")
	if code != ExitOK {
		t.Fatalf("rebalance: exit %d\n%s\n%s", code, out, errOut)
	}
	c := load(t, seed)
	for _, m := range c.Masters() {
		if !withinThreshold(float64(len(m.Slots)), planner.Slots/4, 2) {
			t.Errorf("master %s holds %d slots, not within 2%% of %d", m.Dial, len(m.Slots), planner.Slots/4)
		}
	}
	requireKeys(t, client, "k:", 3000)
	requireHealthy(t, seed)
	redisCLICheck(t, seed)
}

// TestRebalanceByKeys skews the keys (most of them in a few hundred slots of one master) and
// rebalances --by keys: every master's key count ends within the threshold.
func TestRebalanceByKeys(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	nodes := reshardCluster(t, 3)
	seed := nodes[0].Addr()
	c := load(t, seed)
	used := map[int]bool{}
	perMaster := map[string]int{}
	for i, m := range c.Masters() {
		slots := []int{300, 60, 60}[i] // 10 keys in each: 3000, 600 and 600 keys
		cl := dial(t, m.Dial)
		var cmds [][]string
		for j := 0; j < slots; j++ {
			tag, s := tagFor(t, m, used)
			used[s] = true
			for k := 0; k < 10; k++ {
				cmds = append(cmds, []string{"SET", fmt.Sprintf("{%s}:%d", tag, k), "x"})
			}
		}
		vs, err := cl.Pipeline(context.Background(), cmds)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if v.Err() != nil {
				t.Fatal(v.Err())
			}
		}
		perMaster[m.ID] = len(cmds)
	}
	const threshold = 10
	out, errOut, code := cc(t, "rebalance", seed, "--by", "keys", "--threshold", strconv.Itoa(threshold), "--yes", "--json", "--timeout", "30s")
	if code != ExitOK {
		t.Fatalf("rebalance --by keys: exit %d\n%s\n%s", code, out, errOut)
	}
	var res rebalanceOutput
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !res.Needed || len(res.Moves) == 0 || len(res.OutOfThreshold) > 0 || res.Result == nil ||
		res.Result.SlotsMoved != len(res.Moves) {
		t.Fatalf("unexpected result %+v", res)
	}
	total := 0
	for _, n := range perMaster {
		total += n
	}
	for _, m := range load(t, seed).Masters() {
		if !withinThreshold(float64(m.Keys), float64(total)/3, threshold) {
			t.Errorf("master %s holds %d keys, not within %d%% of %d", m.Dial, m.Keys, threshold, total/3)
		}
	}
	if got := totalKeys(t, seed); got != int64(total) {
		t.Fatalf("%d keys, want %d", got, total)
	}
	requireHealthy(t, seed)
	t.Logf("--by keys moved %d slots; key counts now within %d%%", len(res.Moves), threshold)
}
