package server

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/command"
	"github.com/clusterctl/clusterctl/node/effects"
	"github.com/clusterctl/clusterctl/node/resp"
)

// testClient runs commands in-process against a server that is not listening.
type testClient struct {
	t  *testing.T
	s  *Server
	c  *client
	fc *fakeConn
}

func newTestClient(t *testing.T, s *Server) *testClient {
	fc := &fakeConn{in: bytes.NewReader(nil)}
	c := s.newClient(fc)
	c.clock = s.monoNow()
	return &testClient{t: t, s: s, c: c, fc: fc}
}

// do runs one command and returns its reply as RESP text.
func (tc *testClient) do(args ...string) string {
	tc.t.Helper()
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	tc.c.clock = tc.s.monoNow()
	tc.c.execute(argv)
	out := string(tc.c.w.Bytes())
	tc.c.w.Reset()
	return out
}

// ops flattens recorded batches into "db:ARGS" strings, one per op, batches separated by "|".
func ops(batches [][]effects.Op) string {
	var parts []string
	for _, b := range batches {
		var ops []string
		for _, op := range b {
			var args []string
			for _, a := range op.Argv {
				args = append(args, string(a))
			}
			ops = append(ops, strings.Join(args, " "))
		}
		parts = append(parts, strings.Join(ops, "; "))
	}
	return strings.Join(parts, " | ")
}

// TestEffectsReplayForm checks the effects stream carries every write in the form a
// replica replays: relative times made absolute, expiries as DEL, reads absent.
func TestEffectsReplayForm(t *testing.T) {
	s := newTestServer(t)
	rec := &effects.Recorder{}
	cancel := s.Effects().Subscribe(rec)
	defer cancel()
	tc := newTestClient(t, s)
	now := time.Now().UnixMilli()
	tc.do("SET", "k", "v", "EX", "100")
	tc.do("GET", "k")
	tc.do("SET", "plain", "v")
	tc.do("SET", "plain", "w", "NX") // no change: nothing
	tc.do("INCRBYFLOAT", "f", "1.5")
	tc.do("EXPIRE", "plain", "50")
	tc.do("GETSET", "plain", "x")
	tc.do("DEL", "nokey")
	tc.do("SET", "gone", "v", "PX", "1")
	time.Sleep(5 * time.Millisecond)
	tc.do("GET", "gone") // lazy expiry
	tc.do("SELECT", "2")
	tc.do("SET", "in2", "v")
	tc.do("FLUSHALL")
	got := rec.Batches()
	if len(got) != 9 {
		t.Fatalf("%d batches: %s", len(got), ops(got))
	}
	pxat := string(got[0][0].Argv[4])
	if len(got[0][0].Argv) != 5 || string(got[0][0].Argv[3]) != "PXAT" || pxat < itoa(now+100000) {
		t.Errorf("SET EX replays as %s, want SET k v PXAT <now+100s>", ops(got[:1]))
	}
	want := []string{
		"SET plain v",
		"SET f 1.5 KEEPTTL",
		"PEXPIREAT plain ",
		"SET plain x",
		"SET gone v PXAT ",
		"DEL gone",
		"SET in2 v",
		"FLUSHALL",
	}
	for i, w := range want {
		if g := ops(got[i+1 : i+2]); !strings.HasPrefix(g, w) {
			t.Errorf("batch %d = %q, want prefix %q", i+1, g, w)
		}
	}
	if got[7][0].DB != 2 {
		t.Errorf("SET in2 recorded in db %d, want 2", got[7][0].DB)
	}
}

// TestActiveExpiryPropagatesDel checks keys nobody reads are removed by the cron's cycle
// and replicated as DEL.
func TestActiveExpiryPropagatesDel(t *testing.T) {
	s := newTestServer(t)
	tc := newTestClient(t, s)
	for i := 0; i < 50; i++ {
		tc.do("SET", "k"+itoa(int64(i)), "v", "PX", "1")
	}
	tc.do("SET", "stay", "v")
	rec := &effects.Recorder{}
	defer s.Effects().Subscribe(rec)()
	time.Sleep(5 * time.Millisecond)
	for i := 0; i < 100 && tc.do("DBSIZE") != ":1\r\n"; i++ {
		s.ks.ActiveExpireCycle(time.Now().UnixMilli(), 10*time.Millisecond)
	}
	if got := tc.do("DBSIZE"); got != ":1\r\n" {
		t.Fatalf("DBSIZE after active expiry = %q", got)
	}
	batches := rec.Batches()
	if len(batches) != 50 {
		t.Fatalf("%d expiry batches, want 50", len(batches))
	}
	for _, b := range batches {
		if len(b) != 1 || string(b[0].Argv[0]) != "DEL" {
			t.Fatalf("expiry replicated as %s", ops([][]effects.Op{b}))
		}
	}
	if !strings.Contains(tc.do("INFO", "stats"), "expired_keys:50") {
		t.Error("INFO stats does not count the 50 expired keys")
	}
}

// TestEvictionPolicies fills a small maxmemory under each policy and checks what is evicted.
func TestEvictionPolicies(t *testing.T) {
	for _, tt := range []struct {
		policy        string
		keepsVolatile bool // only keys with a TTL may go
		oom           bool
	}{
		{"noeviction", false, true},
		{"allkeys-lru", false, false},
		{"allkeys-lfu", false, false},
		{"allkeys-random", false, false},
		{"volatile-lru", true, false},
		{"volatile-lfu", true, false},
		{"volatile-random", true, false},
		{"volatile-ttl", true, false},
	} {
		t.Run(tt.policy, func(t *testing.T) {
			s := newTestServer(t)
			rec := &effects.Recorder{}
			defer s.Effects().Subscribe(rec)()
			tc := newTestClient(t, s)
			limit := s.usedMemory() + 200*1024
			tc.do("CONFIG", "SET", "maxmemory", itoa(limit))
			tc.do("CONFIG", "SET", "maxmemory-policy", tt.policy)
			val := strings.Repeat("x", 1000)
			var oom bool
			for i := 0; i < 400; i++ {
				args := []string{"SET", "k" + itoa(int64(i)), val}
				if i%2 == 0 {
					args = append(args, "EX", "1000")
				}
				if r := tc.do(args...); strings.HasPrefix(r, "-OOM") {
					if r != "-OOM command not allowed when used memory > 'maxmemory'.\r\n" {
						t.Fatalf("OOM reply %q", r)
					}
					oom = true
					break
				}
			}
			// Under a volatile policy the keys without a TTL fill memory in the end, and
			// then writes are refused too, as in Redis.
			if oom != tt.oom && !tt.keepsVolatile {
				t.Fatalf("OOM = %v, want %v", oom, tt.oom)
			}
			if s.usedMemory() > limit+2*1024 {
				t.Errorf("used memory %d above maxmemory %d", s.usedMemory(), limit)
			}
			if tt.oom {
				if r := tc.do("GET", "k0"); !strings.HasPrefix(r, "$") {
					t.Errorf("reads must work at the limit: GET = %q", r)
				}
				return
			}
			evicted := 0
			for _, b := range rec.Batches() {
				if string(b[0].Argv[0]) != "DEL" {
					continue
				}
				evicted++
				key := string(b[0].Argv[1])
				n := key[1:]
				if tt.keepsVolatile && n[len(n)-1]%2 != 0 {
					t.Errorf("%s evicted %s, which has no TTL", tt.policy, key)
				}
			}
			if evicted == 0 {
				t.Error("nothing evicted")
			}
		})
	}
}

// TestPanicInHandlerIsContained makes a handler panic: the client gets an error, the
// shards are unlocked, and the next command works.
func TestPanicInHandlerIsContained(t *testing.T) {
	s := newTestServer(t)
	get := s.table.LookupName("get")
	orig := get.Handler
	get.Handler = func(c *command.Ctx) { panic("boom") }
	tc := newTestClient(t, s)
	if r := tc.do("GET", "k"); !strings.HasPrefix(r, "-ERR internal error") {
		t.Fatalf("reply to a panicking handler: %q", r)
	}
	get.Handler = orig
	if r := tc.do("SET", "k", "v"); r != "+OK\r\n" {
		t.Fatalf("after the panic SET replies %q (shard left locked?)", r)
	}
	if r := tc.do("GET", "k"); r != "$1\r\nv\r\n" {
		t.Fatalf("GET = %q", r)
	}
}

// TestProtectedMode checks Redis 7.0's rule: with protected-mode on and no password for
// the default user, only loopback clients are accepted.
func TestProtectedMode(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		remote  net.IP
		refused bool
	}{
		{"loopback", nil, net.IPv4(127, 0, 0, 1), false},
		{"other loopback", nil, net.IPv4(127, 3, 2, 1), false},
		{"remote", nil, net.IPv4(10, 1, 2, 3), true},
		{"remote with password", []string{"--requirepass", "x"}, net.IPv4(10, 1, 2, 3), false},
		{"remote, protection off", []string{"--protected-mode", "no"}, net.IPv4(10, 1, 2, 3), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, tt.args...)
			c := s.newClient(&fakeConn{in: bytes.NewReader(nil), remote: tt.remote})
			msg := s.acceptDenied(c)
			if refused := msg != ""; refused != tt.refused {
				t.Fatalf("refused = %v, want %v", refused, tt.refused)
			}
			if tt.refused && !strings.HasPrefix(msg, "-DENIED Redis is running in protected mode") {
				t.Errorf("message %q", msg)
			}
		})
	}
}

// TestPipelineFlushesOnce checks a pipeline of commands is answered with one write.
func TestPipelineFlushesOnce(t *testing.T) {
	s := newTestServer(t)
	var req bytes.Buffer
	w := resp.NewWriter(&req)
	for i := 0; i < 50; i++ {
		w.CommandStrings("SET", "k", "v")
	}
	w.Flush()
	fc := &fakeConn{in: bytes.NewReader(req.Bytes())}
	c := s.newClient(fc)
	c.loop()
	if fc.writes != 1 {
		t.Errorf("%d writes for a pipeline of 50, want 1", fc.writes)
	}
	if got := strings.Count(fc.out.String(), "+OK\r\n"); got != 50 {
		t.Errorf("%d replies, want 50", got)
	}
}
