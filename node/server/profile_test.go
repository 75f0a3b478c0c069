package server

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
)

// TestProfileUnderRedisBenchmark serves in-process while redis-benchmark runs, so that
// `go test -run ProfileUnderRedisBenchmark -cpuprofile` shows where a real workload spends
// its time. It only runs when PROFILE_BENCH names the redis-benchmark arguments.
func TestProfileUnderRedisBenchmark(t *testing.T) {
	extra := os.Getenv("PROFILE_BENCH")
	if extra == "" {
		t.Skip("set PROFILE_BENCH to redis-benchmark arguments, e.g. \"-t get -P 1\"")
	}
	bench := nodetest.RequireBinary(t, "redis-benchmark")
	port := nodetest.FreePort(t, "127.0.0.1")
	s := newTestServer(t, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	time.Sleep(200 * time.Millisecond)
	args := append([]string{"-p", strconv.Itoa(port), "-c", "50", "-n", "300000", "-q"}, splitFields(extra)...)
	out, err := exec.Command(bench, args...).CombinedOutput()
	t.Logf("%s", out)
	cancel()
	<-done
	if err != nil {
		t.Fatal(err)
	}
}

func splitFields(s string) []string {
	var out []string
	cur := ""
	for _, c := range s {
		if c == ' ' {
			if cur != "" {
				out = append(out, cur)
			}
			cur = ""
			continue
		}
		cur += string(c)
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}
