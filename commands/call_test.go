package commands

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/node/nodetest"
)

func TestCallAndSetTimeout(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	// Every node but the last has a configuration file for CONFIG REWRITE.
	var nodes []*nodetest.Node
	for i := 0; i < 6; i++ {
		nodes = append(nodes, nodetest.Start(t, nodetest.Redis, nodetest.Options{Cluster: true, NodeTimeout: 3000,
			ConfigFile: i < 5, Config: [][2]string{{"repl-diskless-sync-delay", "0"}}}))
	}
	createCluster(t, nodes, 1)
	seed := nodes[0].Addr()
	c := load(t, seed)
	configGet := func(addr, name string) string {
		t.Helper()
		v := do(t, dial(t, addr), "CONFIG", "GET", name)
		return strings.TrimSuffix(strings.TrimPrefix(v, "["+name+" "), "]")
	}

	t.Run("call", func(t *testing.T) {
		out, errOut, code := ccAdmin(t, "call", seed, "PING")
		if code != ExitOK || !strings.HasPrefix(out, ">>> Calling PING\n") || strings.Count(out, ": PONG\n") != 6 {
			t.Fatalf("call PING: exit %d\n%s%s", code, out, errOut)
		}
		for _, n := range nodes {
			if !strings.Contains(out, n.Addr()+": PONG\n") {
				t.Fatalf("no reply from %s:\n%s", n.Addr(), out)
			}
		}
		// Arguments that look like flags after host:port belong to the command.
		var res callOutput
		if code := ccJSON(t, &res, "call", "--only-masters", seed, "CONFIG", "SET", "maxmemory-samples", "7"); code != ExitOK || len(res.Replies) != 3 {
			t.Fatalf("call --only-masters: exit %d, %+v", code, res)
		}
		if code := ccJSON(t, &res, "call", "--only-replicas", seed, "CONFIG", "SET", "replica-priority", "42"); code != ExitOK || len(res.Replies) != 3 {
			t.Fatalf("call --only-replicas: exit %d, %+v", code, res)
		}
		for _, n := range c.Nodes {
			samples, prio := configGet(n.Dial, "maxmemory-samples"), configGet(n.Dial, "replica-priority")
			if n.IsMaster() && (samples != "7" || prio != "100") || n.IsReplica() && (samples != "5" || prio != "42") {
				t.Fatalf("%s (master %v): maxmemory-samples %s, replica-priority %s", n.Dial, n.IsMaster(), samples, prio)
			}
		}
		// An error reply is printed and makes the exit code 1.
		out, _, code = ccAdmin(t, "call", seed, "NOSUCHCOMMAND", "-x")
		if code != ExitProblem || strings.Count(out, "ERR unknown command") != 6 {
			t.Fatalf("call of an unknown command: exit %d\n%s", code, out)
		}
		if code := ccJSON(t, &res, "call", seed, "ECHO", "-1"); code != ExitOK || res.Replies[0].Reply != "-1" {
			t.Fatalf("call ECHO -1: exit %d, %+v", code, res)
		}
	})

	t.Run("set-timeout", func(t *testing.T) {
		if _, errOut, code := ccAdmin(t, "set-timeout", seed, "50"); code != ExitUsage || !strings.Contains(errOut, "bad idea") {
			t.Fatalf("set-timeout 50: exit %d\n%s", code, errOut)
		}
		var res setTimeoutOutput
		// The node without a configuration file applies the timeout but cannot save it.
		if code := ccJSON(t, &res, "set-timeout", seed, "4500"); code != ExitProblem || res.OK != 5 || res.Failed != 1 {
			t.Fatalf("set-timeout: exit %d, %+v", code, res)
		}
		for _, r := range res.Nodes {
			if r.Node == nodes[5].Addr() {
				if !r.Set || r.Rewritten || !strings.Contains(r.Error, "not saved") {
					t.Fatalf("node without a configuration file: %+v", r)
				}
			} else if !r.OK() {
				t.Fatalf("node %s: %+v", r.Node, r)
			}
		}
		for i, n := range nodes {
			if got := configGet(n.Addr(), "cluster-node-timeout"); got != "4500" {
				t.Fatalf("%s: cluster-node-timeout %s", n.Addr(), got)
			}
			if i == 5 {
				continue
			}
			conf, err := os.ReadFile(filepath.Join(n.Dir, "redis.conf"))
			if err != nil || !strings.Contains(string(conf), "cluster-node-timeout 4500") {
				t.Fatalf("%s: redis.conf not rewritten (%v):\n%s", n.Addr(), err, conf)
			}
		}
		out, _, _ := ccAdmin(t, "set-timeout", seed, "3000")
		if !strings.Contains(out, ">>> New node timeout set. 5 OK, 1 ERR.") || strings.Count(out, "*** New timeout set for") != 5 {
			t.Fatalf("set-timeout output:\n%s", out)
		}
	})
}
