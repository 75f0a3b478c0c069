package commands

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/planner"
	"github.com/clusterctl/clusterctl/trib"
	"github.com/redis/go-redis/v9"
)

// reshardCluster starts n redis-server cluster nodes with a long node timeout (a loaded CI
// machine must not see false failures while slots move) and creates a cluster of masters.
func reshardCluster(t *testing.T, n int) []*nodetest.Node {
	t.Helper()
	var nodes []*nodetest.Node
	for i := 0; i < n; i++ {
		nodes = append(nodes, nodetest.Start(t, nodetest.Redis, nodetest.Options{Cluster: true, NodeTimeout: 20000}))
	}
	createCluster(t, nodes, 0)
	return nodes
}

// clusterClient is go-redis's cluster client on the cluster, the judge of "every key readable".
func clusterClient(t *testing.T, seed string) *redis.ClusterClient {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{seed}, MaxRedirects: 8,
		DialTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

// fillKeys writes n keys "k:<i>" = "v<i>" through the cluster client, pipelined.
func fillKeys(t *testing.T, c *redis.ClusterClient, prefix string, n int) {
	t.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += 1000 {
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := start; i < min(start+1000, n); i++ {
				p.Set(ctx, prefix+strconv.Itoa(i), "v"+strconv.Itoa(i), 0)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("fill: %v", err)
		}
	}
}

// requireKeys reads every key written by fillKeys back through the cluster client.
func requireKeys(t *testing.T, c *redis.ClusterClient, prefix string, n int) {
	t.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += 1000 {
		cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := start; i < min(start+1000, n); i++ {
				p.Get(ctx, prefix+strconv.Itoa(i))
			}
			return nil
		})
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		for j, cmd := range cmds {
			i := start + j
			if v, err := cmd.(*redis.StringCmd).Result(); err != nil || v != "v"+strconv.Itoa(i) {
				t.Fatalf("key %s%d: %q %v", prefix, i, v, err)
			}
		}
	}
}

// writeLoad writes through a go-redis cluster client until stopped, remembering the last
// acknowledged value of each key, and counts the errors the client could not follow.
type writeLoad struct {
	client *redis.ClusterClient
	stop   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	acked  map[string]string
	errs   []error
	ops    int
}

func startWriteLoad(t *testing.T, seed string) *writeLoad {
	w := &writeLoad{client: clusterClient(t, seed), stop: make(chan struct{}), done: make(chan struct{}), acked: map[string]string{}}
	go func() {
		defer close(w.done)
		ctx := context.Background()
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			key := "load:" + strconv.Itoa(i%500)
			val := strconv.Itoa(i)
			err := w.client.Set(ctx, key, val, 0).Err()
			w.mu.Lock()
			w.ops++
			if err != nil {
				w.errs = append(w.errs, err)
			} else {
				w.acked[key] = val
			}
			w.mu.Unlock()
		}
	}()
	t.Cleanup(w.halt)
	return w
}

func (w *writeLoad) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// verify stops the load and checks that it saw no error and lost no acknowledged write.
func (w *writeLoad) verify(t *testing.T) {
	t.Helper()
	w.halt()
	if len(w.errs) > 0 {
		t.Fatalf("the write load saw %d error(s) in %d writes, first: %v", len(w.errs), w.ops, w.errs[0])
	}
	ctx := context.Background()
	for k, v := range w.acked {
		if got, err := w.client.Get(ctx, k).Result(); err != nil || got != v {
			t.Fatalf("acknowledged write %s=%s reads back %q %v", k, v, got, err)
		}
	}
	t.Logf("write load: %d writes, no error, %d keys verified", w.ops, len(w.acked))
}

func masterIDs(t *testing.T, seed string) []*trib.Node {
	t.Helper()
	c := load(t, seed)
	ms := c.Masters()
	if len(ms) < 2 {
		t.Fatalf("%d masters", len(ms))
	}
	return ms
}

// TestReshardUnderWriteLoad moves slots with their keys between two masters while a go-redis
// cluster client writes: no key lost, every key readable, no error the client could not
// follow, and both our check and redis-cli's are clean afterwards.
func TestReshardUnderWriteLoad(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	nodes := reshardCluster(t, 3)
	seed := nodes[0].Addr()
	client := clusterClient(t, seed)
	fillKeys(t, client, "k:", 6000)
	ms := masterIDs(t, seed)
	a, b := ms[0], ms[1]
	wl := startWriteLoad(t, seed)
	time.Sleep(100 * time.Millisecond)
	out, errOut, code := cc(t, "reshard", seed, "--from", a.ID, "--to", b.ID[:10], "--slots", "1000", "--yes", "--pipeline", "40", "--timeout", "30s")
	if code != ExitOK {
		t.Fatalf("reshard: exit %d\n%s\n%s", code, out, errOut)
	}
	wl.verify(t)
	if !strings.Contains(out, "Ready to move 1000 slots.") || !strings.Contains(out, "[OK] Moved 1000 slots and") {
		t.Fatalf("output:\n%s", out)
	}
	after := load(t, seed)
	if n := len(after.NodeByID(b.ID).Slots); n != len(b.Slots)+1000 {
		t.Fatalf("target owns %d slots, want %d", n, len(b.Slots)+1000)
	}
	requireKeys(t, client, "k:", 6000)
	if got := totalKeys(t, seed); got != 6000+int64(len(wl.acked)) {
		t.Fatalf("%d keys in the cluster, want %d", got, 6000+len(wl.acked))
	}
	requireHealthy(t, seed)
	redisCLICheck(t, seed)
}

// TestReshardRefusals: bad input and a cluster with an open slot are refused before anything
// changes; stdin not a terminal without the parameters is a usage error.
func TestReshardRefusals(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	nodes := reshardCluster(t, 3)
	seed := nodes[0].Addr()
	ms := masterIDs(t, seed)
	a, b := ms[0], ms[1]
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no terminal, no flags", []string{"reshard", seed}, ExitUsage, "--slots, --to, --from"},
		{"no terminal, no --yes", []string{"reshard", seed, "--from", a.ID, "--to", b.ID, "--slots", "10"}, ExitUsage, "--yes"},
		{"target as source", []string{"reshard", seed, "--from", b.ID, "--to", b.ID, "--slots", "10", "--yes"}, ExitUsage, "not possible to use the target node as source"},
		{"unknown target", []string{"reshard", seed, "--from", "all", "--to", "ffff", "--slots", "10", "--yes"}, ExitUsage, "not known or not a master"},
		{"too many slots", []string{"reshard", seed, "--from", "all", "--to", b.ID, "--slots", "20000", "--yes"}, ExitUsage, "between 1 and 16384"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := cc(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d (want %d)\n%s", code, tt.code, errOut)
			}
		})
	}
	// Dry run: the plan, nothing moved.
	out, _, code := cc(t, "reshard", seed, "--from", "all", "--to", b.ID, "--slots", "100", "--dry-run")
	if code != ExitOK || !strings.Contains(out, "Ready to move 100 slots.") || !strings.Contains(out, "Dry run") {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	if n := len(load(t, seed).NodeByID(b.ID).Slots); n != len(b.Slots) {
		t.Fatalf("dry run moved slots: %d", n)
	}
	// An open slot stops it before any change.
	do(t, dial(t, b.Dial), "CLUSTER", "SETSLOT", strconv.Itoa(a.Slots[0]), "IMPORTING", a.ID)
	_, errOut, code := cc(t, "reshard", seed, "--from", "all", "--to", b.ID, "--slots", "10", "--yes")
	if code != ExitProblem || !strings.Contains(errOut, "fix your cluster problems") {
		t.Fatalf("open slot: exit %d\n%s", code, errOut)
	}
}

func TestReshardBusyKey(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	nodes := reshardCluster(t, 3)
	seed := nodes[0].Addr()
	ms := masterIDs(t, seed)
	a, b := ms[0], ms[1]
	tag, slot := tagFor(t, a, nil)
	ca, cb := dial(t, a.Dial), dial(t, b.Dial)
	key := "{" + tag + "}x"
	do(t, ca, "SET", key, "source")
	// The same key on the target, behind the cluster's back: open, write with ASKING, close.
	do(t, cb, "CLUSTER", "SETSLOT", strconv.Itoa(slot), "IMPORTING", a.ID)
	if vs, err := cb.Pipeline(context.Background(), [][]string{{"ASKING"}, {"SET", key, "target"}}); err != nil || vs[1].Err() != nil {
		t.Fatalf("SET with ASKING: %v %v", err, vs)
	}
	do(t, cb, "CLUSTER", "SETSLOT", strconv.Itoa(slot), "STABLE")
	// Move just that slot: build the move list by hand through trib, as a library user would.
	c := load(t, seed)
	res, err := c.MoveSlots(context.Background(), []planner.Move{{Slot: slot, From: a.ID, To: b.ID}}, trib.SlotMoveOptions{})
	var se *trib.SlotMoveError
	if !errors.As(err, &se) || !se.Open || !strings.Contains(err.Error(), "--replace") {
		t.Fatalf("BUSYKEY: %v", err)
	}
	if res.OpenSlot != slot || len(res.Remaining) != 1 {
		t.Fatalf("result %+v", res)
	}
	// With Replace the source's value wins and the slot closes.
	c = load(t, seed)
	if _, err := c.MoveSlots(context.Background(), []planner.Move{{Slot: slot, From: a.ID, To: b.ID}}, trib.SlotMoveOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	if got := do(t, cb, "GET", key); got != "source" {
		t.Fatalf("after --replace the target holds %q", got)
	}
	requireHealthy(t, seed)
}
