package commands

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/trib"
	"github.com/redis/go-redis/v9"
)

func TestBackup(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	checkRDB := nodetest.RequireBinary(t, "redis-check-rdb")
	nodes := startAdminNodes(t, 3)
	createCluster(t, nodes, 0)
	seed := nodes[0].Addr()
	ctx := context.Background()

	// Every value type, through a cluster client.
	const total = 6000
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{seed}, ReadTimeout: 20 * time.Second})
	defer cl.Close()
	pipe := cl.Pipeline()
	for i := 0; i < total; i++ {
		_, writes := importKey(i)
		for _, w := range writes {
			args := make([]any, len(w))
			for j, a := range w {
				args[j] = a
			}
			pipe.Do(ctx, args...)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	masters := load(t, seed).Masters()

	for _, tt := range []struct {
		name    string
		flags   []string
		framing string
	}{
		{"diskless", nil, trib.FramingEOF},
		{"disk", []string{"--disk"}, trib.FramingLength},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "backup")
			var res struct {
				Result *trib.BackupResult `json:"result"`
				Error  string             `json:"error"`
			}
			if code := ccJSON(t, &res, append(append([]string{"backup"}, tt.flags...), seed, dir)...); code != ExitOK {
				t.Fatalf("backup: exit %d: %s", code, res.Error)
			}
			var keys int64
			for _, f := range res.Result.RDBs {
				keys += f.Keys
				if f.Framing != tt.framing || f.File != f.NodeID+".rdb" || f.ReplID == "" || f.Error != "" {
					t.Fatalf("rdb %+v", f)
				}
				// redis-check-rdb is the judge of every file.
				path := filepath.Join(dir, f.File)
				out, err := exec.Command(checkRDB, path).CombinedOutput()
				if err != nil || !strings.Contains(string(out), "RDB looks OK") {
					t.Fatalf("redis-check-rdb %s: %v\n%s", path, err, out)
				}
				st, err := os.Stat(path)
				if err != nil || st.Size() != f.Bytes {
					t.Fatalf("%s: %v, size %d, transfer %d bytes", path, err, st.Size(), f.Bytes)
				}
			}
			if len(res.Result.RDBs) != len(masters) || keys != total {
				t.Fatalf("%d files holding %d keys, want %d files and %d keys", len(res.Result.RDBs), keys, len(masters), total)
			}
			b, err := os.ReadFile(filepath.Join(dir, trib.TopologyFile))
			if err != nil {
				t.Fatal(err)
			}
			var topo trib.Topology
			if err := json.Unmarshal(b, &topo); err != nil {
				t.Fatal(err)
			}
			slots := 0
			for _, n := range topo.Nodes {
				if n.Role == "master" {
					slots += n.SlotCount
					if n.RDB != n.ID+".rdb" {
						t.Fatalf("nodes.json: master %s has rdb %q", n.Addr, n.RDB)
					}
				}
			}
			if len(topo.Nodes) != len(nodes) || slots != 16384 || len(topo.RDBs) != len(masters) {
				t.Fatalf("nodes.json: %d nodes, %d slots, %d rdbs", len(topo.Nodes), slots, len(topo.RDBs))
			}
			if entries, _ := os.ReadDir(dir); len(entries) != len(masters)+1 {
				t.Fatalf("%d files in the backup directory, want %d (no temporary file left)", len(entries), len(masters)+1)
			}
		})
	}
}
