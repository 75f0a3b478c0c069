package server_test

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/node/nodetest"
)

// TestRedisBenchmarkNoErrors runs redis-benchmark's standard tests against `clusterctl
// server` with -e (show error replies) and requires every request to succeed.
func TestRedisBenchmarkNoErrors(t *testing.T) {
	bench := nodetest.RequireBinary(t, "redis-benchmark")
	if testing.Short() {
		t.Skip("skipping the 600k-request benchmark in -short mode")
	}
	n := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{})
	cmd := nodetest.Command(bench, "-h", n.Host, "-p", strconv.Itoa(n.Port),
		"-t", "ping,set,get,incr,mset", "-c", "50", "-n", "100000", "-e", "--csv")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("redis-benchmark: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String() + stderr.String()
	if strings.Contains(out, "Error") || strings.Contains(out, "ERR") {
		t.Fatalf("redis-benchmark saw errors:\n%s", out)
	}
	rows, err := csv.NewReader(strings.NewReader(stdout.String())).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v\n%s", err, stdout.String())
	}
	seen := map[string]bool{}
	for _, row := range rows[1:] {
		rps, err := strconv.ParseFloat(row[1], 64)
		if err != nil || rps <= 0 {
			t.Errorf("%s: rps %q", row[0], row[1])
		}
		seen[row[0]] = true
	}
	for _, test := range []string{"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET (10 keys)"} {
		if !seen[test] {
			t.Errorf("no result for %s in:\n%s", test, stdout.String())
		}
	}
}
