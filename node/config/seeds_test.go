package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hostEnv stands for the machines of the seed articles: every directory they name exists
// and every log file opens. Files are read from the seeds directory.
type hostEnv struct {
	fakeEnv
	dirs []string
}

func (e *hostEnv) Chdir(dir string) error {
	e.cwd = e.abs(dir)
	e.dirs = append(e.dirs, e.cwd)
	return nil
}

func (e *hostEnv) CheckLogFile(string) error { return nil }

// TestSeedConfigsLoad loads every configuration snippet of the articles in seeds/
// (testdata/seeds holds them, one file each) and checks the values they set.
func TestSeedConfigsLoad(t *testing.T) {
	dir, err := filepath.Abs("testdata/seeds")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"000-minimal-cluster": {"port": "7000", "cluster-enabled": "yes", "cluster-config-file": "nodes.conf",
			"cluster-node-timeout": "5000", "appendonly": "yes"},
		"000-cluster-node": {"bind": "192.168.127.130", "port": "7000", "daemonize": "yes",
			"pidfile": "/var/run/redis-7000.pid", "logfile": "/root/application/program/redis-cluster/7000/redis.log",
			"dir": "/root/application/program/redis-cluster/7000", "cluster-config-file": "nodes-7000.conf",
			"cluster-node-timeout": "15000", "appendfsync": "always"},
		"001-redis-6379":              {"port": "6379", "logfile": "6379.log", "dbfilename": "dump-6379.rdb", "replicaof": ""},
		"001-redis-6380":              {"port": "6380", "replicaof": "192.168.92.128 6379", "slaveof": "192.168.92.128 6379"},
		"001-redis-6381":              {"port": "6381", "replicaof": "192.168.92.128 6379"},
		"001-sentinel-26379.sentinel": {"port": "26379", "logfile": "26379.log"},
		"002-redis16370": {"port": "16370", "dir": "/oldboyedu/data/redis16370", "bind": "172.200.1.201 127.0.0.1",
			"requirepass": "oldboyedu", "masterauth": "oldboyedu", "save": "900 1 300 10 60 10000",
			"appendonly": "yes", "loglevel": "notice"},
		"002-redis8106": {"port": "8106", "dbfilename": "oldboyedu_linux.rdb", "dir": "/oldboyedu/data/redis",
			"bind": "10.0.0.106", "save": "900 1 300 10 60 10000", "appendonly": "no"},
		"002-sentinel16379.sentinel": {"port": "16379", "dir": "/oldboyedu/data/redis16379"},
		"002-rewritten-replica":      {"port": "16372", "replicaof": "10.0.0.112 16371"},
		"002-redis10000": {"port": "10000", "protected-mode": "no", "cluster-enabled": "yes",
			"cluster-node-timeout": "5000", "appendfsync": "everysec"},
		"003-redis-7000": {"bind": "192.168.19.132", "cluster-config-file": "nodes-7000.conf",
			"logfile": "/var/log/redis/redis-7000.log", "pidfile": "/var/run/redis_7000.pid"},
		"004-replication": {"replica-read-only": "yes", "repl-diskless-sync": "no", "repl-ping-replica-period": "10",
			"client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
			"replicaof":                  "192.168.1.10 6379"},
	}
	names := fixtureNames(t, dir, ".conf")
	if len(names) != len(want) {
		t.Fatalf("%d seed fixtures, %d expectations", len(names), len(want))
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			env := &hostEnv{fakeEnv: fakeEnv{root: dir, cwd: vroot}}
			sentinel := strings.HasSuffix(name, ".sentinel")
			c, err := load(env, name+".conf", nil, sentinel)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			exp, ok := want[name]
			if !ok {
				t.Fatalf("no expectations for %s", name)
			}
			for k, v := range exp {
				if got := c.String(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if sentinel && len(c.SentinelDirectives()) == 0 {
				t.Errorf("sentinel lines not kept")
			}
			if !sentinel {
				// Every directive the snippet names must have loaded (and so be in the table).
				b, _ := os.ReadFile(filepath.Join(dir, name+".conf"))
				for _, line := range strings.Split(string(b), "\n") {
					line = strings.TrimSpace(line)
					if line == "" || line[0] == '#' {
						continue
					}
					directive := strings.Fields(line)[0]
					if directive != "user" && lookup(directive) == nil {
						t.Errorf("%s is not a known directive", directive)
					}
				}
			}
		})
	}
}

func TestSentinelDirectivesNeedSentinelMode(t *testing.T) {
	dir, _ := filepath.Abs("testdata/seeds")
	env := func() *hostEnv { return &hostEnv{fakeEnv: fakeEnv{root: dir, cwd: vroot}} }
	_, err := load(env(), "002-sentinel16379.sentinel.conf", nil, false)
	if err == nil || !strings.Contains(err.Error(), "sentinel directive while not in sentinel mode") {
		t.Fatalf("got %v", err)
	}
	c, err := load(env(), "002-sentinel16379.sentinel.conf", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	lines := c.SentinelDirectives()
	if len(lines) != 3 || lines[0].Line != 7 || strings.Join(lines[2].Args, " ") != "auth-pass oldboyedu_master oldboyedu" {
		t.Fatalf("sentinel lines: %+v", lines)
	}
}
