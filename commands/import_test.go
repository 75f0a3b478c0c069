package commands

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/trib"
	"github.com/redis/go-redis/v9"
)

// importKey is key i of the import data set: six types in turn, each value a function of
// i, one string in ten with a TTL.
func importKey(i int) (key string, write [][]string) {
	v := strconv.Itoa(i)
	switch i % 6 {
	case 0:
		key = "str:" + v
		write = [][]string{{"SET", key, "value-" + v + strings.Repeat("x", i%50)}}
		if i%10 == 0 {
			write = append(write, []string{"PEXPIRE", key, "3600000"})
		}
	case 1:
		key = "list:" + v
		write = [][]string{{"RPUSH", key, "a" + v, "b", "c" + v}}
	case 2:
		key = "hash:" + v
		write = [][]string{{"HSET", key, "f1", v, "f2", "two"}}
	case 3:
		key = "set:" + v
		write = [][]string{{"SADD", key, "m1", "m2-" + v, strconv.Itoa(i % 97)}}
	case 4:
		key = "zset:" + v
		write = [][]string{{"ZADD", key, "1", "a", v, "b" + v}}
	case 5:
		key = "stream:" + v
		write = [][]string{{"XADD", key, "1-1", "f", v}, {"XADD", key, "2-0", "g", "h"}}
	}
	return key, write
}

// readImportKey reads key i back through a cluster client and compares it with what
// importKey wrote.
func checkImportKey(ctx context.Context, pipe redis.Pipeliner, i int) func() error {
	key, write := importKey(i)
	v := strconv.Itoa(i)
	switch i % 6 {
	case 0:
		get, ttl := pipe.Get(ctx, key), pipe.PTTL(ctx, key)
		return func() error {
			if get.Val() != write[0][2] {
				return fmt.Errorf("%s = %q, want %q (%v)", key, get.Val(), write[0][2], get.Err())
			}
			if hasTTL := ttl.Val() > 0; hasTTL != (i%10 == 0) {
				return fmt.Errorf("%s has TTL %v", key, ttl.Val())
			}
			return nil
		}
	case 1:
		r := pipe.LRange(ctx, key, 0, -1)
		return compare(key, func() any { return r.Val() }, []string{"a" + v, "b", "c" + v})
	case 2:
		r := pipe.HGetAll(ctx, key)
		return compare(key, func() any { return r.Val() }, map[string]string{"f1": v, "f2": "two"})
	case 3:
		r := pipe.SMembersMap(ctx, key)
		return compare(key, func() any { return r.Val() }, map[string]struct{}{"m1": {}, "m2-" + v: {}, strconv.Itoa(i % 97): {}})
	case 4:
		r := pipe.ZRangeWithScores(ctx, key, 0, -1)
		return compare(key, func() any { return r.Val() }, []redis.Z{{Score: 1, Member: "a"}, {Score: float64(i), Member: "b" + v}})
	default:
		r := pipe.XRange(ctx, key, "-", "+")
		return compare(key, func() any { return r.Val() }, []redis.XMessage{
			{ID: "1-1", Values: map[string]any{"f": v}}, {ID: "2-0", Values: map[string]any{"g": "h"}}})
	}
}

func compare(key string, got func() any, want any) func() error {
	return func() error {
		if g := got(); !reflect.DeepEqual(g, want) {
			return fmt.Errorf("%s = %v, want %v", key, g, want)
		}
		return nil
	}
}

func TestImport(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	const total = 100000
	src := nodetest.Start(t, nodetest.Redis, nodetest.Options{Password: "srcpw"})
	// A long node timeout: a master starved of CPU on a busy CI machine must not be flagged
	// as failing (which makes the cluster answer CLUSTERDOWN) in the middle of the import.
	nodes := startAdminNodes(t, 3, [2]string{"cluster-node-timeout", "15000"})
	createCluster(t, nodes, 0)
	seed := nodes[0].Addr()
	ctx := context.Background()

	sc, err := trib.Dial(ctx, src.Addr(), trib.Options{Password: "srcpw", Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	var batch [][]string
	flush := func() {
		vs, err := sc.Pipeline(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if err := v.Err(); err != nil {
				t.Fatal(err)
			}
		}
		batch = batch[:0]
	}
	for i := 0; i < total; i++ {
		_, w := importKey(i)
		batch = append(batch, w...)
		if len(batch) >= 2000 {
			flush()
		}
	}
	flush()
	if n, _ := sc.Int(ctx, "DBSIZE"); n != total {
		t.Fatalf("source holds %d keys, want %d", n, total)
	}

	// A wrong source password is an authentication failure, before anything moves.
	if _, errOut, code := ccAdmin(t, "import", seed, "--from", src.Addr(), "--from-pass", "nope"); code != ExitUnreachable {
		t.Fatalf("import with a wrong source password: exit %d\n%s", code, errOut)
	}

	var res struct {
		Result *trib.ImportResult `json:"result"`
		Error  string             `json:"error"`
	}
	if code := ccJSON(t, &res, "import", seed, "--from", src.Addr(), "--from-pass", "srcpw"); code != ExitOK {
		t.Fatalf("import: exit %d: %s", code, res.Error)
	}
	t.Logf("imported %d keys in %v (%d passes)", res.Result.Sent, res.Result.Elapsed, res.Result.Passes)
	if res.Result.SourceKeys != total || res.Result.Sent != total || res.Result.Left != 0 || len(res.Result.PerNode) != 3 {
		t.Fatalf("import result %+v", res.Result)
	}
	if n, _ := sc.Int(ctx, "DBSIZE"); n != 0 {
		t.Fatalf("source still holds %d keys after the move", n)
	}
	if got := totalKeys(t, seed); got != total {
		t.Fatalf("the cluster holds %d keys, want %d", got, total)
	}
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{seed}, ReadTimeout: 20 * time.Second})
	defer cl.Close()
	for from := 0; from < total; from += 2000 {
		pipe := cl.Pipeline()
		var checks []func() error
		for i := from; i < from+2000 && i < total; i++ {
			checks = append(checks, checkImportKey(ctx, pipe, i))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatalf("read back keys %d..: %v", from, err)
		}
		for _, check := range checks {
			if err := check(); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Keys that exist in the cluster stop an import without --replace, and nothing of the
	// batch is lost; --copy --replace overwrites them and leaves the source as it was.
	for i := 0; i < 60; i += 6 {
		key, _ := importKey(i)
		batch = append(batch, []string{"SET", key, "new-" + key})
	}
	flush()
	_, errOut, code := ccAdmin(t, "import", seed, "--from", src.Addr(), "--from-pass", "srcpw")
	if code != ExitProblem || !strings.Contains(errOut, "--replace") {
		t.Fatalf("import over existing keys: exit %d\n%s", code, errOut)
	}
	if code := ccJSON(t, &res, "import", seed, "--from", src.Addr(), "--from-pass", "srcpw", "--copy", "--replace"); code != ExitOK || res.Result.Sent != 10 {
		t.Fatalf("import --copy --replace: exit %d, %+v %s", code, res.Result, res.Error)
	}
	if n, _ := sc.Int(ctx, "DBSIZE"); n != 10 {
		t.Fatalf("source holds %d keys after --copy, want 10", n)
	}
	for i := 0; i < 60; i += 6 {
		key, _ := importKey(i)
		if got := cl.Get(ctx, key).Val(); got != "new-"+key {
			t.Fatalf("%s = %q after --replace", key, got)
		}
	}
}
