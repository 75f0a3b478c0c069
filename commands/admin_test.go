package commands

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/trib"
)

// Helpers shared by the integration tests of the admin commands (call, set-timeout, add-node,
// del-node, failover, import, backup).

// startAdminNodes starts n cluster-enabled redis-servers on 127.0.0.1 with the integration
// settings of startNodes, plus extra directives.
func startAdminNodes(t *testing.T, n int, extra ...[2]string) []*nodetest.Node {
	t.Helper()
	var out []*nodetest.Node
	for i := 0; i < n; i++ {
		opts := nodetest.Options{Cluster: true, NodeTimeout: 3000,
			Config: append([][2]string{{"repl-diskless-sync-delay", "0"}}, extra...)}
		out = append(out, nodetest.Start(t, nodetest.Redis, opts))
	}
	return out
}

// adminTimeout is the --timeout of the admin commands in these tests: generous, because CI
// machines run many clusters at once and a loopback dial can then take seconds.
const adminTimeout = "20s"

// ccAdmin runs a command with --timeout adminTimeout.
func ccAdmin(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return cc(t, append([]string{"--timeout", adminTimeout}, args...)...)
}

// ccJSON runs a command with --json (and --timeout adminTimeout) and decodes its stdout
// into v.
func ccJSON(t *testing.T, v any, args ...string) int {
	t.Helper()
	out, errOut, code := ccAdmin(t, append([]string{args[0], "--json"}, args[1:]...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%s --json: exit %d, bad JSON: %v\n%s\n%s", args[0], code, err, out, errOut)
	}
	return code
}

// viewsOf returns every given node's CLUSTER NODES.
func viewsOf(t *testing.T, addrs ...string) map[string][]trib.NodeEntry {
	t.Helper()
	out := map[string][]trib.NodeEntry{}
	for _, a := range addrs {
		v, err := trib.ParseClusterNodes(do(t, dial(t, a), "CLUSTER", "NODES"))
		if err != nil {
			t.Fatal(err)
		}
		out[a] = v
	}
	return out
}

func entry(view []trib.NodeEntry, id string) *trib.NodeEntry {
	for i := range view {
		if view[i].ID == id {
			return &view[i]
		}
	}
	return nil
}

func nodeID(t *testing.T, addr string) string {
	t.Helper()
	return strings.TrimSpace(do(t, dial(t, addr), "CLUSTER", "MYID"))
}

// waitHealthy polls check until the cluster is healthy (replicas resync after a change).
func waitHealthy(t *testing.T, addr string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		r, code := checkJSON(t, addr)
		if code == ExitOK && r.Healthy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("check %s: not healthy within %v: exit %d, problems %+v", addr, limit, code, r.Problems)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
