package commands

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/trib"
)

func TestAddNodeAndDelNode(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	// Without replica migration an emptied master stays a master (Redis 7.0 would turn it
	// into a replica of the node that took its last slot), so del-node has replicas to move.
	nodes := startAdminNodes(t, 7, [2]string{"cluster-allow-replica-migration", "no"})
	createCluster(t, nodes[:3], 0)
	seed := nodes[0].Addr()
	all := addrs(nodes)
	ids := make([]string, len(nodes))
	for i, a := range all {
		ids[i] = nodeID(t, a)
	}

	var add struct {
		Result *trib.AddNodeResult `json:"result"`
		Error  string              `json:"error"`
	}
	// A master: every node knows it, as a master without slots.
	if code := ccJSON(t, &add, "add-node", all[3], seed); code != ExitOK || add.Result.Role != "master" || add.Result.ID != ids[3] {
		t.Fatalf("add-node master: exit %d, %+v %s", code, add.Result, add.Error)
	}
	for a, v := range viewsOf(t, all[:4]...) {
		if e := entry(v, ids[3]); e == nil || !e.IsMaster() || len(e.Slots) != 0 || e.HasFlag("handshake") {
			t.Fatalf("%s sees the new master as %+v", a, e)
		}
	}
	// A replica of the master with fewest replicas (one of the three serving slots).
	add.Result = nil
	if code := ccJSON(t, &add, "add-node", all[4], seed, "--replica"); code != ExitOK || !add.Result.AutoSelected {
		t.Fatalf("add-node --replica: exit %d, %+v %s", code, add.Result, add.Error)
	}
	firstPick := add.Result.MasterID
	if firstPick != ids[0] && firstPick != ids[1] && firstPick != ids[2] {
		t.Fatalf("replica attached to %s, want a master serving slots", firstPick)
	}
	// A replica of the empty master, named by an ID prefix.
	add.Result = nil
	if code := ccJSON(t, &add, "add-node", "--replica", "--master-id", ids[3][:10], all[5], seed); code != ExitOK || add.Result.MasterID != ids[3] || add.Result.AutoSelected {
		t.Fatalf("add-node --master-id: exit %d, %+v %s", code, add.Result, add.Error)
	}
	// The next automatic pick skips the master that already has a replica.
	add.Result = nil
	if code := ccJSON(t, &add, "add-node", all[6], seed, "--replica"); code != ExitOK || add.Result.MasterID == firstPick || add.Result.MasterID == ids[3] {
		t.Fatalf("add-node --replica (second): exit %d, %+v %s (first pick %s)", code, add.Result, add.Error, firstPick)
	}
	secondPick := add.Result.MasterID
	for a, v := range viewsOf(t, all...) {
		for i, want := range map[int]string{4: firstPick, 5: ids[3], 6: secondPick} {
			if e := entry(v, ids[i]); e == nil || !e.IsReplica() || e.MasterID != want {
				t.Fatalf("%s sees %s as %+v, want a replica of %s", a, all[i], e, want)
			}
		}
	}
	// A node already in the cluster is refused before anything changes.
	if _, errOut, code := ccAdmin(t, "add-node", all[4], seed); code != ExitProblem || !strings.Contains(errOut, "not empty") && !strings.Contains(errOut, "already") {
		t.Fatalf("add-node of a member: exit %d\n%s", code, errOut)
	}

	// Give the empty master three slots with keys: del-node must refuse it.
	c := load(t, seed)
	src, dst := c.NodeByID(ids[0]), c.NodeByID(ids[3])
	ca := dial(t, all[0])
	var moved []int
	used := map[int]bool{}
	for i := 0; i < 3; i++ {
		tag, s := tagFor(t, src, used)
		used[s] = true
		for k := 0; k < 20; k++ {
			do(t, ca, "SET", fmt.Sprintf("k{%s}%d", tag, k), "v")
		}
		if _, err := c.MoveSlot(context.Background(), s, src, dst, trib.MoveOptions{}); err != nil {
			t.Fatal(err)
		}
		moved = append(moved, s)
	}
	keys := totalKeys(t, seed)
	_, errOut, code := ccAdmin(t, "del-node", seed, ids[3])
	if code != ExitProblem || !strings.Contains(errOut, "is not empty") || !strings.Contains(errOut, "3 slot(s)") {
		t.Fatalf("del-node of a master with slots: exit %d\n%s", code, errOut)
	}
	// Move them back (trib's migration engine, as reshard would), then remove the master:
	// its replica moves to the master that has none.
	c = load(t, seed)
	for _, s := range moved {
		if _, err := c.MoveSlot(context.Background(), s, c.NodeByID(ids[3]), c.NodeByID(ids[0]), trib.MoveOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var del struct {
		Result *trib.DelNodeResult `json:"result"`
		Error  string              `json:"error"`
	}
	if code := ccJSON(t, &del, "del-node", seed, ids[3][:12]); code != ExitOK {
		t.Fatalf("del-node: exit %d, %s", code, del.Error)
	}
	var orphanless string
	for _, id := range ids[:3] {
		if id != firstPick && id != secondPick {
			orphanless = id
		}
	}
	if len(del.Result.Repointed) != 1 || del.Result.Repointed[0].ID != ids[5] || del.Result.Repointed[0].MasterID != orphanless || !del.Result.Reset {
		t.Fatalf("del-node result %+v, want %s re-pointed to %s and the node reset", del.Result, all[5], orphanless)
	}
	remaining := []string{all[0], all[1], all[2], all[4], all[5], all[6]}
	if len(del.Result.Forgot) != len(remaining) {
		t.Fatalf("forgot on %v, want %v", del.Result.Forgot, remaining)
	}
	for a, v := range viewsOf(t, remaining...) {
		if entry(v, ids[3]) != nil {
			t.Fatalf("%s still lists the removed node", a)
		}
	}
	if v := viewsOf(t, all[3])[all[3]]; len(v) != 1 {
		t.Fatalf("the removed node still knows %d nodes after CLUSTER RESET SOFT", len(v)-1)
	}
	waitHealthy(t, seed, 20*time.Second)
	redisCLICheck(t, seed)
	if got := totalKeys(t, seed); got != keys {
		t.Fatalf("%d keys after the moves, want %d", got, keys)
	}

	// A replica with --shutdown: forgotten everywhere and stopped.
	if code := ccJSON(t, &del, "del-node", "--shutdown", seed, all[6]); code != ExitOK || !del.Result.Shutdown {
		t.Fatalf("del-node --shutdown: exit %d, %+v %s", code, del.Result, del.Error)
	}
	for a, v := range viewsOf(t, all[0], all[1], all[2], all[4], all[5]) {
		if entry(v, ids[6]) != nil {
			t.Fatalf("%s still lists the shut-down replica", a)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", all[6], 200*time.Millisecond)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatalf("%s still accepts connections after SHUTDOWN", all[6])
		}
		time.Sleep(50 * time.Millisecond)
	}
	// An unknown node is a clear error.
	if _, errOut, code := ccAdmin(t, "del-node", seed, "ffffffffff"); code != ExitProblem || !strings.Contains(errOut, "no such node") {
		t.Fatalf("del-node of an unknown node: exit %d\n%s", code, errOut)
	}
}
