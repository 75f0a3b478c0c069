package server_test

import (
	"bufio"
	"context"
	"io"
	"math/rand"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/config"
	"github.com/clusterctl/clusterctl/node/logging"
	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/node/resp"
	"github.com/clusterctl/clusterctl/node/server"
)

// Replication against redis-server 7.0: each side of PSYNC2 with a real peer, the data
// sets compared with DEBUG DIGEST and the offsets with INFO replication.

var replConfig = [][2]string{
	{"enable-debug-command", "yes"},
	{"repl-diskless-sync-delay", "0"},
}

func withConfig(extra ...[2]string) nodetest.Options {
	return nodetest.Options{Config: append(append([][2]string(nil), replConfig...), extra...)}
}

// replWorkload returns n deterministic writes over strings, lists, sorted sets,
// bitmaps, HyperLogLogs, expiries, scripts and several databases.
func replWorkload(seed int64, n int) [][]string {
	rng := rand.New(rand.NewSource(seed))
	out := make([][]string, 0, n)
	for len(out) < n {
		k := strconv.Itoa(rng.Intn(2000))
		v := strconv.Itoa(rng.Intn(1 << 20))
		switch rng.Intn(16) {
		case 0:
			out = append(out, []string{"SELECT", strconv.Itoa(rng.Intn(3))})
		case 1:
			out = append(out, []string{"SET", "s:" + k, v})
		case 2:
			out = append(out, []string{"INCRBY", "n:" + k, v})
		case 3:
			out = append(out, []string{"APPEND", "s:" + k, v})
		case 4:
			out = append(out, []string{"SET", "t:" + k, v, "EX", "3600"})
		case 5:
			out = append(out, []string{"RPUSH", "l:" + k, v, k})
		case 6:
			out = append(out, []string{"LPOP", "l:" + k})
		case 7:
			out = append(out, []string{"ZADD", "z:" + k, strconv.Itoa(rng.Intn(100)), v})
		case 8:
			out = append(out, []string{"ZINCRBY", "z:" + k, "1.5", v})
		case 9:
			out = append(out, []string{"ZREM", "z:" + k, v})
		case 10:
			out = append(out, []string{"SETBIT", "b:" + k, strconv.Itoa(rng.Intn(4096)), "1"})
		case 11:
			out = append(out, []string{"PFADD", "h:" + strconv.Itoa(rng.Intn(50)), v})
		case 12:
			out = append(out, []string{"DEL", "s:" + k})
		case 13:
			out = append(out, []string{"MSET", "s:" + k, v, "m:" + k, v})
		case 14:
			out = append(out, []string{"EXPIRE", "l:" + k, "7200"})
		case 15:
			out = append(out, []string{"EVAL", "redis.call('incr', KEYS[1]); redis.call('set', KEYS[2], ARGV[1])",
				"2", "e:" + k, "f:" + k, v})
		}
	}
	return out
}

// pipeline sends commands in batches and reads the replies, failing on an error reply
// other than WRONGTYPE (the workload does not track types).
func pipeline(t *testing.T, c *rawClient, cmds [][]string) {
	t.Helper()
	const batch = 500
	for i := 0; i < len(cmds); i += batch {
		end := min(i+batch, len(cmds))
		for _, a := range cmds[i:end] {
			c.w.CommandStrings(a...)
		}
		if err := c.w.Flush(); err != nil {
			t.Fatalf("send: %v", err)
		}
		c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		for j := i; j < end; j++ {
			v, err := c.r.ReadValue()
			if err != nil {
				t.Fatalf("reply to %q: %v", cmds[j], err)
			}
			if e := v.Err(); e != nil && !strings.HasPrefix(e.Error(), "WRONGTYPE") {
				t.Fatalf("%q: %v", cmds[j], e)
			}
		}
	}
	c.do("SELECT", "0")
}

// infoField reads one field of INFO section.
func infoField(t *testing.T, c *rawClient, section, name string) string {
	t.Helper()
	v := c.do("INFO", section)
	sc := bufio.NewScanner(strings.NewReader(v.String()))
	for sc.Scan() {
		if k, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":"); ok && k == name {
			return val
		}
	}
	return ""
}

func infoInt(t *testing.T, c *rawClient, section, name string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(infoField(t, c, section, name), 10, 64)
	if err != nil {
		t.Fatalf("INFO %s %s: %v", section, name, err)
	}
	return n
}

// waitFor polls cond every 50 ms until it holds or the deadline passes.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitLinkUp(t *testing.T, replica *rawClient) {
	t.Helper()
	waitFor(t, "master_link_status:up", 30*time.Second, func() bool {
		return infoField(t, replica, "replication", "master_link_status") == "up"
	})
}

// waitInSync waits until the replica has applied everything the master produced and
// returns the offset.
func waitInSync(t *testing.T, master, replica *rawClient) int64 {
	t.Helper()
	var mo, ro int64
	waitFor(t, "replica offset to reach the master's", 30*time.Second, func() bool {
		mo = infoInt(t, master, "replication", "master_repl_offset")
		ro = infoInt(t, replica, "replication", "slave_repl_offset")
		return mo == ro && infoInt(t, replica, "replication", "master_repl_offset") == mo
	})
	return mo
}

// sameData compares the data sets key by key through commands (type, value, absolute
// expiry), in databases 0 to 2 where the workload writes.
func sameData(t *testing.T, a, b *rawClient) {
	t.Helper()
	da, db := dataSet(t, a), dataSet(t, b)
	if len(da) == 0 {
		t.Fatal("the master holds no keys")
	}
	diffs := 0
	for k, va := range da {
		if vb := db[k]; va != vb && diffs < 5 {
			diffs++
			t.Errorf("key %s: master %.200q, replica %.200q", k, va, vb)
		}
	}
	for k := range db {
		if _, ok := da[k]; !ok && diffs < 5 {
			diffs++
			t.Errorf("key %s only on the replica", k)
		}
	}
	if diffs > 0 || len(da) != len(db) {
		t.Fatalf("data sets differ: %d keys on the master, %d on the replica", len(da), len(db))
	}
}

// dataSet renders every key of databases 0..2 as "type expiry value", pipelining the
// reads.
func dataSet(t *testing.T, c *rawClient) map[string]string {
	t.Helper()
	out := map[string]string{}
	reads := map[string]func(k string) []string{
		"string": func(k string) []string { return []string{"GET", k} },
		"list":   func(k string) []string { return []string{"LRANGE", k, "0", "-1"} },
		"zset":   func(k string) []string { return []string{"ZRANGE", k, "0", "-1", "WITHSCORES"} },
		"set":    func(k string) []string { return []string{"SORT", k, "ALPHA"} },
		"hash":   func(k string) []string { return []string{"HGETALL", k} },
		"stream": func(k string) []string { return []string{"XRANGE", k, "-", "+"} },
	}
	for db := 0; db < 3; db++ {
		c.do("SELECT", strconv.Itoa(db))
		var keys []string
		for _, k := range c.do("KEYS", "*").Elems {
			keys = append(keys, k.String())
		}
		types := c.pipe(keys, func(k string) []string { return []string{"TYPE", k} })
		expiries := c.pipe(keys, func(k string) []string { return []string{"PEXPIRETIME", k} })
		cmds := make([][]string, len(keys))
		for i, k := range keys {
			cmds[i] = []string{"TYPE", k} // a type without a read: compared by its name
			if read := reads[types[i].String()]; read != nil {
				cmds[i] = read(k)
			}
		}
		for i, v := range c.pipeCommands(cmds) {
			if types[i].String() == "hash" {
				v = sortValue(v)
			}
			out[strconv.Itoa(db)+":"+keys[i]] = types[i].String() + " " + expiries[i].String() + " " + render(v, false)
		}
	}
	c.do("SELECT", "0")
	return out
}

// pipe sends one command per key and returns the replies.
func (c *rawClient) pipe(keys []string, build func(string) []string) []resp.Value {
	c.t.Helper()
	cmds := make([][]string, len(keys))
	for i, k := range keys {
		cmds[i] = build(k)
	}
	return c.pipeCommands(cmds)
}

// pipeCommands sends commands in batches of 1,000 and returns the replies.
func (c *rawClient) pipeCommands(cmds [][]string) []resp.Value {
	c.t.Helper()
	out := make([]resp.Value, 0, len(cmds))
	for len(cmds) > 0 {
		batch := cmds[:min(1000, len(cmds))]
		cmds = cmds[len(batch):]
		for _, a := range batch {
			c.w.CommandStrings(a...)
		}
		if err := c.w.Flush(); err != nil {
			c.t.Fatal(err)
		}
		for range batch {
			c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			v, err := c.r.ReadValue()
			if err != nil {
				c.t.Fatal(err)
			}
			out = append(out, v)
		}
	}
	return out
}

// startOurReplica starts our node and points it at master with REPLICAOF.
func startOurReplica(t *testing.T, master *nodetest.Node) (*nodetest.Node, *rawClient) {
	t.Helper()
	n := nodetest.Start(t, nodetest.Clusterctl, withConfig())
	c := dialRaw(t, n)
	if got := c.do("REPLICAOF", master.Host, strconv.Itoa(master.Port)).String(); got != "OK" {
		t.Fatalf("REPLICAOF: %s", got)
	}
	return n, c
}

// TestRedisReplicaOfOurMaster: redis-server replicates from our master, in both framings
// of the full sync, then follows 100,000 writes; data sets and offsets agree.
func TestRedisReplicaOfOurMaster(t *testing.T) {
	for _, tc := range []struct {
		name     string
		diskless string
		writes   int
	}{{"diskless", "yes", 100_000}, {"disk", "no", 5_000}} {
		t.Run(tc.name, func(t *testing.T) {
			ours := nodetest.Start(t, nodetest.Clusterctl, withConfig([2]string{"repl-diskless-sync", tc.diskless}))
			m := dialRaw(t, ours)
			pipeline(t, m, replWorkload(1, 3000)) // what the full sync carries
			redis := nodetest.Start(t, nodetest.Redis, withConfig([2]string{"replicaof", ours.Host + " " + strconv.Itoa(ours.Port)}))
			r := dialRaw(t, redis)
			waitLinkUp(t, r)
			if full := infoInt(t, m, "stats", "sync_full"); full != 1 {
				t.Fatalf("sync_full %d, want 1", full)
			}
			pipeline(t, m, replWorkload(2, tc.writes))
			if n := m.do("WAIT", "1", "10000").String(); n != "1" {
				t.Fatalf("WAIT 1 10000 = %s", n)
			}
			waitInSync(t, m, r)
			sameData(t, m, r)
			if role := m.do("ROLE"); len(role.Elems) != 3 || len(role.Elems[2].Elems) != 1 {
				t.Fatalf("ROLE on the master: %s", role.String())
			}
		})
	}
}

// TestOffsetsMatchRedisMaster runs the same writes through our master and through a
// redis-server master, each with a redis-server replica: the stream is byte for byte
// the same length.
func TestOffsetsMatchRedisMaster(t *testing.T) {
	cfg := withConfig([2]string{"repl-ping-replica-period", "3600"})
	var deltas []int64
	for _, kind := range []nodetest.Kind{nodetest.Redis, nodetest.Clusterctl} {
		master := nodetest.Start(t, kind, cfg)
		m := dialRaw(t, master)
		replica := nodetest.Start(t, nodetest.Redis, withConfig([2]string{"repl-ping-replica-period", "3600"},
			[2]string{"replicaof", master.Host + " " + strconv.Itoa(master.Port)}))
		r := dialRaw(t, replica)
		waitLinkUp(t, r)
		before := waitInSync(t, m, r)
		cmds := replWorkload(3, 20_000)
		// EXPIRE and SET EX replicate with absolute times; keep them out so both streams
		// have the same bytes whatever the clock says.
		kept := cmds[:0]
		for _, c := range cmds {
			if c[0] != "SET" || len(c) == 3 {
				if c[0] != "EXPIRE" {
					kept = append(kept, c)
				}
			}
		}
		pipeline(t, m, kept)
		after := waitInSync(t, m, r)
		deltas = append(deltas, after-before)
	}
	if deltas[0] != deltas[1] {
		t.Fatalf("the same writes moved redis-server's offset by %d and ours by %d", deltas[0], deltas[1])
	}
}

// TestOurReplicaOfRedisMaster: our node replicates from redis-server: full sync, 100,000
// writes, the same data and offset; it refuses clients' writes.
func TestOurReplicaOfRedisMaster(t *testing.T) {
	redis := nodetest.Start(t, nodetest.Redis, withConfig())
	m := dialRaw(t, redis)
	pipeline(t, m, replWorkload(4, 3000))
	_, r := startOurReplica(t, redis)
	waitLinkUp(t, r)
	pipeline(t, m, replWorkload(5, 100_000))
	if n := m.do("WAIT", "1", "10000").String(); n != "1" {
		t.Fatalf("WAIT 1 10000 on redis-server = %s", n)
	}
	waitInSync(t, m, r)
	sameData(t, m, r)
	if e := r.do("SET", "k", "v").String(); e != "READONLY You can't write against a read only replica." {
		t.Fatalf("write on the replica: %s", e)
	}
	role := r.do("ROLE")
	if len(role.Elems) != 5 || role.Elems[0].String() != "slave" || role.Elems[3].String() != "connected" {
		t.Fatalf("ROLE on the replica: %s", role.String())
	}
	if got := r.do("REPLICAOF", redis.Host, strconv.Itoa(redis.Port)).String(); got != "OK Already connected to specified master" {
		t.Fatalf("REPLICAOF the same master: %s", got)
	}
}

// TestPartialResyncAfterKill kills the link under a write load, from each side, and
// checks the replica continues with +CONTINUE (sync_partial_ok grows, sync_full does
// not) and ends with the master's data.
func TestPartialResyncAfterKill(t *testing.T) {
	for _, tc := range []struct {
		name             string
		masterKind       nodetest.Kind
		replicaKind      nodetest.Kind
		killOn, killType string
	}{
		{"our-master", nodetest.Clusterctl, nodetest.Redis, "master", "replica"},
		{"our-replica", nodetest.Redis, nodetest.Clusterctl, "replica", "master"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			master := nodetest.Start(t, tc.masterKind, withConfig())
			m := dialRaw(t, master)
			pipeline(t, m, replWorkload(6, 2000))
			var r *rawClient
			if tc.replicaKind == nodetest.Clusterctl {
				_, r = startOurReplica(t, master)
			} else {
				r = dialRaw(t, nodetest.Start(t, tc.replicaKind, withConfig([2]string{"replicaof", master.Host + " " + strconv.Itoa(master.Port)})))
			}
			waitLinkUp(t, r)
			killer := m
			if tc.killOn == "replica" {
				killer = r
			}
			load := replWorkload(7, 30_000)
			t0 := time.Now()
			for i := 0; i < 3; i++ {
				pipeline(t, m, load[i*10_000:(i+1)*10_000])
				t.Logf("%v: 10,000 writes", time.Since(t0))
				if n := killer.do("CLIENT", "KILL", "TYPE", tc.killType).String(); n != "1" {
					t.Fatalf("CLIENT KILL TYPE %s killed %s clients", tc.killType, n)
				}
				waitFor(t, "a partial resync", 20*time.Second, func() bool {
					return infoInt(t, m, "stats", "sync_partial_ok") == int64(i+1)
				})
				t.Logf("%v: partial resync %d", time.Since(t0), i+1)
			}
			waitLinkUp(t, r)
			waitInSync(t, m, r)
			t.Logf("%v: in sync", time.Since(t0))
			sameData(t, m, r)
			t.Logf("%v: data compared", time.Since(t0))
			if full := infoInt(t, m, "stats", "sync_full"); full != 1 {
				t.Fatalf("sync_full %d after partial resyncs, want 1", full)
			}
		})
	}
}

// TestWaitAndMinReplicas: WAIT counts the acknowledging replicas; with
// min-replicas-to-write writes fail with NOREPLICAS once the replica is gone.
func TestWaitAndMinReplicas(t *testing.T) {
	ours := nodetest.Start(t, nodetest.Clusterctl, withConfig([2]string{"min-replicas-max-lag", "2"}))
	m := dialRaw(t, ours)
	var replicas []*nodetest.Node
	for i := 0; i < 2; i++ {
		n := nodetest.Start(t, nodetest.Redis, withConfig([2]string{"replicaof", ours.Host + " " + strconv.Itoa(ours.Port)}))
		waitLinkUp(t, dialRaw(t, n))
		replicas = append(replicas, n)
	}
	m.do("SET", "k", "v")
	if n := m.do("WAIT", "2", "5000").String(); n != "2" {
		t.Fatalf("WAIT 2 5000 = %s", n)
	}
	if n := m.do("WAIT", "3", "200").String(); n != "2" {
		t.Fatalf("WAIT 3 200 = %s (timeout with two replicas)", n)
	}
	if got := m.do("CONFIG", "SET", "min-replicas-to-write", "2").String(); got != "OK" {
		t.Fatal(got)
	}
	waitFor(t, "two good replicas", 5*time.Second, func() bool {
		return m.do("SET", "k", "v2").String() == "OK"
	})
	replicas[1].Kill()
	waitFor(t, "NOREPLICAS", 10*time.Second, func() bool {
		return m.do("SET", "k", "v3").String() == "NOREPLICAS Not enough good replicas to write."
	})
	if n := m.do("WAIT", "2", "300").String(); n != "1" {
		t.Fatalf("WAIT 2 300 with one replica left = %s", n)
	}
	if got := m.do("SET", "other", "x").String(); got != "NOREPLICAS Not enough good replicas to write." {
		t.Fatalf("SET with one replica of two: %s", got)
	}
	if got := m.do("EXISTS", "other").String(); got != "0" {
		t.Fatalf("a refused write was applied: EXISTS other = %s", got)
	}
}

// TestPromotedReplicaContinuesSibling: with a redis-server master and two replicas (ours
// and a redis-server), ours is promoted; the sibling re-pointed at it continues with
// +CONTINUE under the new replication ID and gets the writes made after the promotion.
func TestPromotedReplicaContinuesSibling(t *testing.T) {
	master := nodetest.Start(t, nodetest.Redis, withConfig())
	m := dialRaw(t, master)
	pipeline(t, m, replWorkload(8, 2000))
	ours, o := startOurReplica(t, master)
	sibling := nodetest.Start(t, nodetest.Redis, withConfig([2]string{"replicaof", master.Host + " " + strconv.Itoa(master.Port)}))
	s := dialRaw(t, sibling)
	waitLinkUp(t, o)
	waitLinkUp(t, s)
	pipeline(t, m, replWorkload(9, 5000))
	waitInSync(t, m, o)
	waitInSync(t, m, s)
	oldID := infoField(t, o, "replication", "master_replid")

	if got := o.do("REPLICAOF", "NO", "ONE").String(); got != "OK" {
		t.Fatal(got)
	}
	if id2 := infoField(t, o, "replication", "master_replid2"); id2 != oldID {
		t.Fatalf("after promotion master_replid2 = %s, want the old ID %s", id2, oldID)
	}
	if got := s.do("REPLICAOF", ours.Host, strconv.Itoa(ours.Port)).String(); got != "OK" {
		t.Fatal(got)
	}
	waitLinkUp(t, s)
	pipeline(t, o, replWorkload(10, 5000))
	waitInSync(t, o, s)
	sameData(t, o, s)
	if ok, full := infoInt(t, o, "stats", "sync_partial_ok"), infoInt(t, o, "stats", "sync_full"); ok != 1 || full != 0 {
		t.Fatalf("promoted node: sync_partial_ok %d sync_full %d, want 1 and 0", ok, full)
	}
	if id := infoField(t, s, "replication", "master_replid"); id != infoField(t, o, "replication", "master_replid") {
		t.Fatalf("sibling did not take the new replication ID: %s", id)
	}
}

// TestProfileFullSync runs a master and a replica in this process and times one diskless
// full sync of PROFILE_FULLSYNC keys (DEBUG POPULATE n key 100), so that
// `go test -run ProfileFullSync -cpuprofile cpu.out ./node/server/` shows where both ends
// of a full sync spend their time. It only runs when PROFILE_FULLSYNC is set.
func TestProfileFullSync(t *testing.T) {
	keys := os.Getenv("PROFILE_FULLSYNC")
	if keys == "" {
		t.Skip("set PROFILE_FULLSYNC to the number of keys, e.g. 1000000")
	}
	start := func() *rawClient {
		port := nodetest.FreePort(t, "127.0.0.1")
		cfg, err := config.Load("", []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
			"--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0", "--dir", t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		log, _ := logging.NewWriter(io.Discard, "warning")
		s, err := server.New(cfg, log)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		var conn net.Conn
		waitFor(t, "the in-process server to listen", 10*time.Second, func() bool {
			conn, err = net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			return err == nil
		})
		t.Cleanup(func() { conn.Close() })
		r := resp.NewReader(bufio.NewReader(conn))
		r.MaxBulkLen = 1 << 30
		return &rawClient{t: t, conn: conn, r: r, w: resp.NewWriter(conn)}
	}
	m, r := start(), start()
	m.w.CommandStrings("DEBUG", "POPULATE", keys, "key", "100")
	m.w.Flush()
	m.conn.SetReadDeadline(time.Now().Add(5 * time.Minute))
	if v, err := m.r.ReadValue(); err != nil || v.String() != "OK" {
		t.Fatalf("DEBUG POPULATE: %v %s", err, v.String())
	}
	port := strings.TrimPrefix(m.conn.RemoteAddr().String(), "127.0.0.1:")
	t0 := time.Now()
	t.Logf("populated")
	r.do("REPLICAOF", "127.0.0.1", port)
	waitFor(t, "the full sync", 10*time.Minute, func() bool {
		return infoField(t, r, "replication", "master_link_status") == "up" && r.do("DBSIZE").String() == keys
	})
	t.Logf("full sync of %s keys: %v", keys, time.Since(t0))
}
