package server_test

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/node/nodetest"
)

// defaultBenchmarkTests are the tests `redis-benchmark -q` runs when given no -t, as
// redis-benchmark 7.0 names them in its CSV output.
var defaultBenchmarkTests = []string{
	"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP", "RPOP",
	"SADD", "HSET", "SPOP", "ZADD", "ZPOPMIN", "LPUSH (needed to benchmark LRANGE)",
	"LRANGE_100 (first 100 elements)", "LRANGE_300 (first 300 elements)",
	"LRANGE_500 (first 500 elements)", "LRANGE_600 (first 600 elements)", "MSET (10 keys)",
}

// TestRedisBenchmarkDefaultSuite runs redis-benchmark's whole default suite, scaled down
// to 1,000 requests from 4 clients per test, against clusterctl server. redis-benchmark
// 7.0 exits at the first error reply, so a clean exit with a result for every test means
// each command of the suite (lists, sets, hashes, sorted sets included) is served.
func TestRedisBenchmarkDefaultSuite(t *testing.T) {
	bench := nodetest.RequireBinary(t, "redis-benchmark")
	n := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{})
	cmd := nodetest.Command(bench, "-h", n.Host, "-p", strconv.Itoa(n.Port),
		"-c", "4", "-n", "1000", "--csv")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("redis-benchmark: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if out := stdout.String() + stderr.String(); strings.Contains(out, "ERR") || strings.Contains(out, "Error") {
		t.Fatalf("redis-benchmark saw errors:\n%s", out)
	}
	rows, err := csv.NewReader(strings.NewReader(stdout.String())).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("parse CSV: %v\n%s", err, stdout.String())
	}
	seen := map[string]bool{}
	for _, row := range rows[1:] {
		if rps, err := strconv.ParseFloat(row[1], 64); err != nil || rps <= 0 {
			t.Errorf("%s: rps %q", row[0], row[1])
		}
		seen[row[0]] = true
	}
	for _, test := range defaultBenchmarkTests {
		if !seen[test] {
			t.Errorf("no result for %s in:\n%s", test, stdout.String())
		}
	}
}
