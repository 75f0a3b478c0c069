package snapshot_test

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"testing"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/node/persist/internal/rdbtest"
)

// restoreAll RESTOREs every key of s (with its DUMP payload and absolute expiry) into the
// server c talks to.
func restoreAll(t *testing.T, c *rdbtest.Client, s *rdbtest.Snapshot, into string) {
	t.Helper()
	db := -1
	for _, k := range s.Keys {
		if k.DB != db {
			db = k.DB
			if _, err := c.Do("SELECT", strconv.Itoa(db)); err != nil {
				t.Fatal(err)
			}
		}
		payload, err := hex.DecodeString(k.Dump)
		if err != nil || len(payload) == 0 {
			t.Fatalf("key %q has no DUMP payload", k.Key)
		}
		if _, err := c.Do("RESTORE", string(k.Key), strconv.FormatInt(k.ExpireAt, 10), string(payload), "ABSTTL"); err != nil {
			t.Fatalf("RESTORE %q into %s: %v", k.Key, into, err)
		}
	}
	if _, err := c.Do("SELECT", "0"); err != nil {
		t.Fatal(err)
	}
}

// withoutDumps drops the payloads: the two servers need not encode a value with the
// same bytes (listpack node sizes differ), only to the same value.
func withoutDumps(s *rdbtest.Snapshot) *rdbtest.Snapshot {
	for i := range s.Keys {
		s.Keys[i].Dump = ""
	}
	return s
}

func TestDumpRestoreBothWays(t *testing.T) {
	redis := nodetest.Start(t, nodetest.Redis, nodetest.Options{})
	ours := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{})
	rc, oc := dial(t, redis), dial(t, ours)
	rdbtest.Run(t, rc, rdbtest.FillCommands())
	rdbtest.Run(t, oc, rdbtest.FillCommands())
	fromRedis, err := rc.Snapshot(true)
	if err != nil {
		t.Fatal(err)
	}
	fromOurs, err := oc.Snapshot(true)
	if err != nil {
		t.Fatal(err)
	}
	rdbtest.RequireCoverage(t, fromRedis)

	// Each server restores the other's payloads into a fresh instance of itself.
	ours2 := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{})
	redis2 := nodetest.Start(t, nodetest.Redis, nodetest.Options{})
	oc2, rc2 := dial(t, ours2), dial(t, redis2)
	restoreAll(t, oc2, fromRedis, "clusterctl")
	restoreAll(t, rc2, fromOurs, "redis-server")
	rdbtest.Compare(t, snapshotOf(t, oc2, "clusterctl after RESTORE"), withoutDumps(fromRedis), "clusterctl", "redis-server")
	rdbtest.Compare(t, snapshotOf(t, rc2, "redis-server after RESTORE"), withoutDumps(fromOurs), "redis-server", "clusterctl")
}

// TestRestoreRepliesAsRedis runs the same RESTORE and DUMP sequence on both servers and
// compares every reply, errors included.
func TestRestoreRepliesAsRedis(t *testing.T) {
	redis := nodetest.Start(t, nodetest.Redis, nodetest.Options{})
	rc := dial(t, redis)
	if _, err := rc.Do("SET", "src", "some value"); err != nil {
		t.Fatal(err)
	}
	v, err := rc.Do("DUMP", "src")
	if err != nil {
		t.Fatal(err)
	}
	payload := string(v.Str)
	badCRC := []byte(payload)
	badCRC[len(badCRC)-1] ^= 1
	newer := []byte(payload)
	newer[len(newer)-10] = 11     // RDB version 11, then the CRC no longer matches either
	zrank := "\x0c" + payload[1:] // a zset-listpack type byte on a string's value

	cmds := [][]string{
		{"DUMP", "nokey"},
		{"DUMP", "src"},
		{"RESTORE", "k1", "0", payload},
		{"GET", "k1"},
		{"RESTORE", "k1", "0", payload},
		{"RESTORE", "k1", "0", payload, "REPLACE"},
		{"RESTORE", "k2", "-1", payload},
		{"RESTORE", "k2", "abc", payload},
		{"RESTORE", "k2", "0", string(badCRC)},
		{"RESTORE", "k2", "0", string(newer)},
		{"RESTORE", "k2", "0", "short"},
		{"RESTORE", "k2", "0", payload, "BOGUS"},
		{"RESTORE", "k2", "0", payload, "IDLETIME"},
		{"RESTORE", "k2", "0", payload, "IDLETIME", "-5"},
		{"RESTORE", "k2", "0", payload, "FREQ", "256"},
		{"RESTORE", "k2", "0", payload, "FREQ", "x"},
		{"RESTORE", "k2", "0", payload, "IDLETIME", "10", "FREQ", "5"},
		{"RESTORE", "k2", "0", payload, "IDLETIME", "1000"},
		{"RESTORE", "k3", "100000", payload},
		{"TTL", "k3"},
		{"RESTORE", "k4", "4102444800123", payload, "ABSTTL"},
		{"PEXPIRETIME", "k4"},
		{"RESTORE", "k4", "1", payload, "ABSTTL", "REPLACE"},
		{"EXISTS", "k4"},
		{"RESTORE", "k5", "1", payload, "ABSTTL"},
		{"EXISTS", "k5"},
		{"RESTORE", "k6", "0", zrank},
		{"RESTORE", "k6", "0", ""},
		{"RESTORE", "k6"},
		{"DBSIZE"},
	}
	ours := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{})
	oc := dial(t, ours)
	if _, err := oc.Do("SET", "src", "some value"); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range cmds {
		want := reply(rc, cmd)
		if got := reply(oc, cmd); got != want {
			t.Errorf("%q:\nclusterctl:   %s\nredis-server: %s", cmd, got, want)
		}
	}
	// IDLETIME sets the idle time the key starts with (the clock may tick once meanwhile).
	if v, err := oc.Do("OBJECT", "IDLETIME", "k2"); err != nil || v.Int < 1000 || v.Int > 1002 {
		t.Errorf("OBJECT IDLETIME after RESTORE ... IDLETIME 1000: %d %v", v.Int, err)
	}
}

// reply renders a command's reply, error or not, for comparison.
func reply(c *rdbtest.Client, cmd []string) string {
	v, err := c.Do(cmd...)
	if err != nil {
		return "error: " + err.Error()
	}
	if v.IsNull {
		return "nil"
	}
	return fmt.Sprintf("%v %d %q", v.Kind, v.Int, v.Str)
}
