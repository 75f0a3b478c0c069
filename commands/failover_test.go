package commands

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/trib"
	"github.com/redis/go-redis/v9"
)

// ackedWrites runs writers through a cluster client until stop is called, and returns
// the keys whose SET was acknowledged, with their values.
func ackedWrites(t *testing.T, seed string, writers int) (stop func() map[string]string) {
	t.Helper()
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{seed}, MaxRedirects: 16,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	acked := make([]map[string]string, writers)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		acked[w] = map[string]string{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				key, val := fmt.Sprintf("load:%d:%d", w, i), fmt.Sprintf("v%d", i)
				if cl.Set(ctx, key, val, 0).Err() == nil {
					acked[w][key] = val
				}
			}
		}()
	}
	return func() map[string]string {
		cancel()
		wg.Wait()
		cl.Close()
		all := map[string]string{}
		for _, m := range acked {
			for k, v := range m {
				all[k] = v
			}
		}
		return all
	}
}

// requireAcked reads every acknowledged key back through a fresh cluster client.
func requireAcked(t *testing.T, seed string, acked map[string]string) {
	t.Helper()
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{seed}, ReadTimeout: 10 * time.Second})
	defer cl.Close()
	ctx := context.Background()
	pipe := cl.Pipeline()
	gets := map[string]*redis.StringCmd{}
	for k := range acked {
		gets[k] = pipe.Get(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("read back %d acknowledged keys: %v", len(acked), err)
	}
	for k, v := range acked {
		if got := gets[k].Val(); got != v {
			t.Fatalf("acknowledged write lost: %s = %q, want %q", k, got, v)
		}
	}
}

func TestFailoverUnderWriteLoad(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	nodes := startAdminNodes(t, 6)
	createCluster(t, nodes, 1)
	seed := nodes[0].Addr()
	c := load(t, seed)
	master := c.Masters()[0]
	replica := c.ReplicasOf(master.ID)[0]

	stop := ackedWrites(t, seed, 4)
	time.Sleep(300 * time.Millisecond) // the load is running before the failover starts
	var res changeOutput[*trib.FailoverResult]
	code := ccJSON(t, &res, "failover", replica.Dial)
	if code != ExitOK || res.Result.NewMasterID != replica.ID || res.Result.OldMasterID != master.ID || res.Result.Elapsed <= 0 {
		stop()
		t.Fatalf("failover: exit %d, %+v %s", code, res.Result, res.Error)
	}
	t.Logf("failover of %s to %s took %v", master.Dial, replica.Dial, res.Result.Elapsed)
	// --master on another shard picks the best (only) replica of that master by ID prefix.
	// (Failing the same pair straight back is left out: redis-server's manual failover of
	// a replica that has just been demoted times out while its new link settles.)
	other := c.Masters()[1]
	otherReplica := c.ReplicasOf(other.ID)[0]
	res = changeOutput[*trib.FailoverResult]{}
	code = ccJSON(t, &res, "failover", seed, "--master", other.ID[:8])
	if code != ExitOK || !res.Result.Picked || res.Result.NewMasterID != otherReplica.ID || res.Result.OldMasterID != other.ID {
		stop()
		t.Fatalf("failover --master: exit %d, %+v %s", code, res.Result, res.Error)
	}
	time.Sleep(300 * time.Millisecond)
	acked := stop()
	if len(acked) < 100 {
		t.Fatalf("only %d writes acknowledged during the test", len(acked))
	}
	requireAcked(t, seed, acked)
	for a, v := range viewsOf(t, addrs(nodes)...) {
		for _, n := range []struct{ ID, Dial string }{{replica.ID, replica.Dial}, {otherReplica.ID, otherReplica.Dial}} {
			if e := entry(v, n.ID); e == nil || !e.IsMaster() {
				t.Fatalf("%s sees %s as %+v after the failovers", a, n.Dial, e)
			}
		}
	}
	waitHealthy(t, seed, 20*time.Second)

	// A master is refused with a hint, before anything changes.
	if _, errOut, code := ccAdmin(t, "failover", replica.Dial); code != ExitProblem {
		t.Fatalf("failover of a master: exit %d\n%s", code, errOut)
	}
	// --takeover: no vote, the replica takes the master's slots by itself.
	res = changeOutput[*trib.FailoverResult]{}
	if code := ccJSON(t, &res, "failover", "--takeover", master.Dial); code != ExitOK || res.Result.Mode != "takeover" || res.Result.NewMasterID != master.ID {
		t.Fatalf("failover --takeover: exit %d, %+v %s", code, res.Result, res.Error)
	}
	if e := entry(viewsOf(t, replica.Dial)[replica.Dial], replica.ID); e == nil || !e.IsReplica() || e.MasterID != master.ID {
		t.Fatalf("after --takeover the old master sees itself as %+v", e)
	}
}
