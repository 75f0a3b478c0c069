package server_test

import (
	"bytes"
	"context"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/node/resp"
)

// pair is one redis-server and one clusterctl server started alike, for differential
// tests: the same commands go to both and the replies must be the same.
type pair struct {
	redis, ours *nodetest.Node
}

func startPair(t *testing.T, opts nodetest.Options) pair {
	t.Helper()
	nodetest.RequireBinary(t, "redis-server")
	return pair{
		redis: nodetest.Start(t, nodetest.Redis, opts),
		ours:  nodetest.Start(t, nodetest.Clusterctl, opts),
	}
}

// rawClient speaks RESP to one node and returns replies as decoded values.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	r    *resp.Reader
	w    *resp.Writer
}

func dialRaw(t *testing.T, n *nodetest.Node) *rawClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, err := n.Dial(ctx)
	if err != nil {
		t.Fatalf("dial %s: %v", n.Addr(), err)
	}
	t.Cleanup(func() { conn.Close() })
	r := resp.NewReader(br)
	r.MaxBulkLen = 1 << 30
	return &rawClient{t: t, conn: conn, r: r, w: resp.NewWriter(conn)}
}

func (c *rawClient) do(args ...string) resp.Value {
	c.t.Helper()
	c.w.CommandStrings(args...)
	if err := c.w.Flush(); err != nil {
		c.t.Fatalf("send %q: %v", args, err)
	}
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	v, err := c.r.ReadValue()
	if err != nil {
		c.t.Fatalf("reply to %q: %v", args, err)
	}
	return v
}

// render writes a value back as RESP3, the exact wire form for comparison; unordered
// sorts aggregate elements first, for replies whose order is a hash table's.
func render(v resp.Value, unordered bool) string {
	if unordered {
		v = sortValue(v)
	}
	var buf bytes.Buffer
	w := resp.NewWriter(&buf)
	w.Proto = 3
	w.Value(v)
	w.Flush()
	return buf.String()
}

func sortValue(v resp.Value) resp.Value {
	for i, e := range v.Elems {
		v.Elems[i] = sortValue(e)
	}
	if v.Kind == resp.Array || v.Kind == resp.Set {
		sort.Slice(v.Elems, func(i, j int) bool { return render(v.Elems[i], false) < render(v.Elems[j], false) })
	}
	return v
}

// step is one command of a differential script; unordered compares its reply as a set,
// shaped by its kind and length only (the reply depends on time).
type step struct {
	args      []string
	unordered bool
	shaped    bool
}

func cmd(args ...string) step       { return step{args: args} }
func unordered(args ...string) step { return step{args: args, unordered: true} }
func shaped(args ...string) step    { return step{args: args, shaped: true} }

// runDiff sends every step to both nodes (RESP2, then again in a fresh database over
// RESP3) and reports each reply that differs.
func runDiff(t *testing.T, p pair, steps []step) {
	t.Helper()
	for _, proto := range []string{"2", "3"} {
		a, b := dialRaw(t, p.redis), dialRaw(t, p.ours)
		for _, c := range []*rawClient{a, b} {
			c.do("HELLO", proto)
			c.do("FLUSHALL")
		}
		for _, s := range steps {
			ra, rb := a.do(s.args...), b.do(s.args...)
			want, got := render(ra, s.unordered), render(rb, s.unordered)
			if s.shaped {
				want, got = shapeOf(ra), shapeOf(rb)
			}
			if got != want {
				t.Errorf("RESP%s %s:\n got %q\nwant %q", proto, strings.Join(s.args, " "), got, want)
			}
		}
	}
}

func TestStringsMatchRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{})
	runDiff(t, p, []step{
		cmd("SET", "s", "hello"), cmd("APPEND", "s", " world"), cmd("GET", "s"), cmd("STRLEN", "s"),
		cmd("GETRANGE", "s", "0", "4"), cmd("GETRANGE", "s", "-5", "-1"), cmd("GETRANGE", "s", "5", "1"),
		cmd("SUBSTR", "s", "-100", "100"), cmd("SETRANGE", "s", "6", "WORLD"), cmd("SETRANGE", "new", "3", "x"),
		cmd("GET", "new"), cmd("SETRANGE", "s", "-1", "x"), cmd("SETRANGE", "empty", "5", ""),
		cmd("OBJECT", "ENCODING", "s"), cmd("SET", "n", "10"), cmd("OBJECT", "ENCODING", "n"),
		cmd("OBJECT", "REFCOUNT", "n"), cmd("SET", "big", "123456789012"), cmd("OBJECT", "REFCOUNT", "big"),
		cmd("SET", "lead", "007"), cmd("OBJECT", "ENCODING", "lead"), cmd("INCR", "lead"),
		cmd("SET", "long", strings.Repeat("x", 45)), cmd("OBJECT", "ENCODING", "long"),
		cmd("INCR", "n"), cmd("DECR", "n"), cmd("INCRBY", "n", "5"), cmd("DECRBY", "n", "3"),
		cmd("INCRBY", "n", "x"), cmd("INCRBY", "n", "9223372036854775807"),
		cmd("DECRBY", "n", "-9223372036854775808"), cmd("INCR", "s"),
		cmd("INCRBYFLOAT", "f", "0.1"), cmd("INCRBYFLOAT", "f", "0.2"), cmd("GET", "f"),
		cmd("OBJECT", "ENCODING", "f"), cmd("INCRBYFLOAT", "f", "1e3"), cmd("INCRBYFLOAT", "f", "-1000.3"),
		cmd("INCRBYFLOAT", "f", "abc"), cmd("INCRBYFLOAT", "f", "inf"), cmd("INCRBYFLOAT", "f", " 1"),
		cmd("INCRBYFLOAT", "f", "5.0e3"), cmd("INCRBYFLOAT", "g", "3"), cmd("OBJECT", "ENCODING", "g"),
		cmd("SET", "k", "v", "NX"), cmd("SET", "k", "v2", "NX"), cmd("SET", "k", "v3", "XX"),
		cmd("SET", "k", "v4", "XX", "GET"), cmd("SET", "nok", "v", "XX", "GET"), cmd("SET", "k", "v", "NX", "XX"),
		cmd("SET", "k", "v", "EX", "0"), cmd("SET", "k", "v", "EX", "-5"), cmd("SET", "k", "v", "EX", "abc"),
		cmd("SET", "k", "v", "EX", "10", "PX", "100"), cmd("SET", "k", "v", "KEEPTTL", "EX", "10"),
		cmd("SET", "k", "v", "EX", "100"), cmd("TTL", "k"), cmd("SET", "k", "v2", "KEEPTTL"), cmd("TTL", "k"),
		cmd("SET", "k", "v3"), cmd("TTL", "k"), cmd("SET", "k", "v", "PXAT", "99999999999999"), cmd("TTL", "k"),
		cmd("SET", "k", "v", "EXAT", "1"), cmd("EXISTS", "k"), cmd("SET", "k", "v", "GET", "BOGUS"),
		cmd("SET", "k", "v", "EX", "9223372036854775807"),
		cmd("SETNX", "k", "1"), cmd("SETNX", "k", "2"), cmd("SETEX", "k", "100", "v"), cmd("TTL", "k"),
		cmd("SETEX", "k", "0", "v"), cmd("PSETEX", "k", "100000", "v"), cmd("TTL", "k"),
		cmd("GETSET", "k", "new"), cmd("TTL", "k"), cmd("GETSET", "fresh", "1"), cmd("GETDEL", "k"),
		cmd("GETDEL", "k"), cmd("SET", "k", "v"), cmd("GETEX", "k", "EX", "100"), cmd("TTL", "k"),
		cmd("GETEX", "k", "PERSIST"), cmd("TTL", "k"), cmd("GETEX", "k", "EX", "1", "PERSIST"),
		cmd("GETEX", "k", "BOGUS"), cmd("GETEX", "nokey", "EX", "10"), cmd("GETEX", "k", "EXAT", "1"), cmd("EXISTS", "k"),
		cmd("MSET", "a", "1", "b", "2"), cmd("MSET", "a", "1", "b"), cmd("MGET", "a", "b", "nokey"),
		cmd("MSETNX", "a", "1", "c", "3"), cmd("MSETNX", "c", "3", "d", "4"), cmd("MGET", "c", "d"),
		cmd("LCS", "s", "n"), cmd("SET", "l1", "ohmytext"), cmd("SET", "l2", "mynewtext"), cmd("LCS", "l1", "l2"),
		cmd("LCS", "l1", "l2", "LEN"), cmd("LCS", "l1", "l2", "IDX"), cmd("LCS", "l1", "l2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
		cmd("LCS", "l1", "l2", "IDX", "LEN"), cmd("LCS", "l1", "nokey"), cmd("LCS", "l1", "l2", "BOGUS"),
		cmd("GET"), cmd("SET", "k"), cmd("GETRANGE", "s", "a", "1"),
	})
}

func TestKeysMatchRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{})
	runDiff(t, p, []step{
		cmd("SET", "a", "1"), cmd("SET", "b", "2"), cmd("SET", "c", "3"),
		cmd("EXISTS", "a", "b", "a", "nokey"), cmd("TYPE", "a"), cmd("TYPE", "nokey"), cmd("TOUCH", "a", "nokey"),
		cmd("DEL", "a", "nokey"), cmd("UNLINK", "b"), cmd("DBSIZE"),
		cmd("SET", "e", "v"), cmd("TTL", "e"), cmd("PTTL", "e"), cmd("TTL", "nokey"), cmd("EXPIRETIME", "e"),
		cmd("EXPIRE", "e", "100"), cmd("TTL", "e"), cmd("EXPIRE", "e", "200", "GT"), cmd("TTL", "e"),
		cmd("EXPIRE", "e", "50", "GT"), cmd("EXPIRE", "e", "50", "LT"), cmd("TTL", "e"),
		cmd("EXPIRE", "e", "60", "NX"), cmd("EXPIRE", "e", "60", "XX"), cmd("EXPIRE", "e", "1", "NX", "XX"),
		cmd("EXPIRE", "e", "1", "GT", "LT"), cmd("EXPIRE", "e", "1", "BOGUS"), cmd("EXPIRE", "e", "abc"),
		cmd("EXPIRE", "e", "9223372036854775807"), cmd("PEXPIRE", "e", "9223372036854775807"),
		cmd("PERSIST", "e"), cmd("PERSIST", "e"), cmd("TTL", "e"), cmd("EXPIRE", "e", "1", "XX"),
		cmd("EXPIRE", "e", "10", "LT"), cmd("TTL", "e"), cmd("PERSIST", "e"),
		cmd("EXPIREAT", "e", "99999999999"), cmd("EXPIRETIME", "e"), cmd("PEXPIREAT", "e", "99999999999123"),
		cmd("PEXPIRETIME", "e"), cmd("EXPIRETIME", "e"), cmd("EXPIRE", "nokey", "10"),
		cmd("EXPIRE", "e", "-1"), cmd("EXISTS", "e"), cmd("PEXPIRE", "c", "0"), cmd("EXISTS", "c"),
		cmd("SET", "r", "v", "EX", "1000"), cmd("RENAME", "r", "r2"), cmd("TTL", "r2"), cmd("EXISTS", "r"),
		cmd("RENAME", "nokey", "x"), cmd("RENAME", "r2", "r2"), cmd("RENAMENX", "r2", "r2"),
		cmd("SET", "t", "1"), cmd("RENAMENX", "r2", "t"), cmd("RENAME", "r2", "t"), cmd("GET", "t"), cmd("TTL", "t"),
		cmd("COPY", "t", "t2"), cmd("COPY", "t", "t2"), cmd("COPY", "t", "t2", "REPLACE"), cmd("TTL", "t2"),
		cmd("COPY", "t", "t"), cmd("COPY", "t", "t", "DB", "1"), cmd("COPY", "t", "t", "DB", "99"),
		cmd("COPY", "t", "t", "DB", "x"), cmd("COPY", "t", "x", "BOGUS"), cmd("COPY", "nokey", "x"),
		cmd("MOVE", "t2", "1"), cmd("MOVE", "t2", "1"), cmd("MOVE", "t", "1"), cmd("MOVE", "t", "0"),
		cmd("MOVE", "t", "99"), cmd("MOVE", "t", "x"), cmd("SELECT", "1"), cmd("MGET", "t", "t2"), cmd("TTL", "t"),
		cmd("SELECT", "0"), cmd("SWAPDB", "0", "1"), cmd("MGET", "t", "t2"), cmd("SWAPDB", "0", "99"),
		cmd("SWAPDB", "x", "0"), cmd("SWAPDB", "0", "x"), cmd("SELECT", "99"), cmd("SELECT", "x"),
		cmd("MSET", "k1", "1", "k2", "2", "other", "3"), unordered("KEYS", "k*"), unordered("KEYS", "*"),
		unordered("KEYS", "k[12]"), cmd("SCAN", "abc"), cmd("SCAN", "0", "COUNT", "0"), cmd("SCAN", "0", "BOGUS", "1"),
		cmd("SCAN", "0", "TYPE", "list"), cmd("OBJECT", "ENCODING", "nokey"), cmd("OBJECT", "FREQ", "k1"),
		shaped("OBJECT", "IDLETIME", "k1"), cmd("OBJECT", "BOGUS", "k1"), cmd("OBJECT", "HELP"),
		cmd("FLUSHDB"), cmd("RANDOMKEY"), cmd("DBSIZE"), cmd("FLUSHALL", "BOGUS"), cmd("FLUSHALL", "SYNC"),
	})
}

func TestBitmapsAndHyperLogLogMatchRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{})
	runDiff(t, p, []step{
		cmd("SETBIT", "bm", "7", "1"), cmd("SETBIT", "bm", "7", "1"), cmd("GETBIT", "bm", "7"),
		cmd("GETBIT", "bm", "100"), cmd("GETBIT", "nokey", "1"), cmd("SETBIT", "bm", "-1", "1"),
		cmd("SETBIT", "bm", "1", "2"), cmd("OBJECT", "ENCODING", "bm"), cmd("SET", "s", "foobar"),
		cmd("BITCOUNT", "s"), cmd("BITCOUNT", "s", "1", "1"), cmd("BITCOUNT", "s", "5", "30", "BIT"),
		cmd("BITCOUNT", "nokey"), cmd("BITCOUNT", "s", "1"), cmd("BITPOS", "s", "1"), cmd("BITPOS", "s", "0", "2"),
		cmd("BITPOS", "nokey", "1"), cmd("BITPOS", "nokey", "0"), cmd("BITPOS", "s", "2"),
		cmd("BITOP", "AND", "d", "s", "bm"), cmd("GET", "d"), cmd("BITOP", "NOT", "d", "s"), cmd("GET", "d"),
		cmd("BITOP", "NOT", "d", "s", "bm"), cmd("BITOP", "OR", "d", "nokey"), cmd("EXISTS", "d"),
		cmd("BITOP", "BOGUS", "d", "s"), cmd("SET", "n", "12"), cmd("GETBIT", "n", "2"),
		cmd("BITFIELD", "bf", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"),
		cmd("BITFIELD", "bf", "SET", "i8", "0", "-100", "GET", "i8", "0"), cmd("BITFIELD_RO", "bf", "GET", "u4", "0"),
		cmd("BITFIELD_RO", "bf", "SET", "u4", "0", "1"), cmd("BITFIELD", "bf", "GET", "u64", "0"),
		cmd("PFADD", "h", "a", "b", "c"), cmd("PFADD", "h", "a"), cmd("PFCOUNT", "h"), cmd("PFADD", "h2", "d"),
		cmd("PFCOUNT", "h", "h2"), cmd("PFMERGE", "h3", "h", "h2"), cmd("PFCOUNT", "h3"), cmd("GET", "h3"),
		cmd("PFADD", "s", "x"), cmd("PFCOUNT", "s"), cmd("PFADD", "empty"), cmd("PFCOUNT", "empty"),
		cmd("SETBIT", "bm", "4294967296", "1"),
	})
}

func TestServerCommandsMatchRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{})
	runDiff(t, p, []step{
		// Only a command slower than this reaches the slow log, so that SLOWLOG's replies
		// below do not depend on how the machine scheduled either server.
		cmd("CONFIG", "SET", "slowlog-log-slower-than", "1000000000"),
		cmd("PING"), cmd("PING", "hi"), cmd("PING", "a", "b"), cmd("ECHO", "x"), cmd("ECHO"),
		cmd("DBSIZE"), cmd("NOSUCHCOMMAND", "a", "b"), cmd("CONFIG", "NOSUCH"), cmd("CONFIG"),
		cmd("CONFIG", "GET", "maxmemory"), cmd("CONFIG", "SET", "maxmemory"), cmd("CONFIG", "SET", "nosuch", "1"),
		cmd("CONFIG", "SET", "maxmemory-policy", "allkeys-lru"), cmd("CONFIG", "GET", "maxmemory-policy"),
		cmd("CONFIG", "SET", "maxmemory-policy", "noeviction"), cmd("CONFIG", "REWRITE"),
		cmd("CLIENT", "SETNAME", "a b"), cmd("CLIENT", "SETNAME", "me"), cmd("CLIENT", "GETNAME"),
		cmd("CLIENT", "KILL", "1.2.3.4:5"), cmd("CLIENT", "KILL", "ID", "99999"), cmd("CLIENT", "REPLY", "x"),
		cmd("CLIENT", "PAUSE", "abc"), cmd("CLIENT", "NO-EVICT", "maybe"), cmd("CLIENT", "BOGUS"),
		cmd("AUTH", "x"), cmd("AUTH", "a", "b"), cmd("AUTH", "a", "b", "c"),
		cmd("HELLO", "4"), cmd("HELLO", "x"), cmd("HELLO", "3", "BOGUS"),
		cmd("ACL", "WHOAMI"), cmd("ACL", "USERS"), cmd("ACL", "LIST"), cmd("ACL", "GETUSER", "default"),
		cmd("ACL", "SETUSER", "u1", "on", ">pw", "~k*", "%R~r*", "+get", "+set", "-@all", "+@string", "-incr"),
		cmd("ACL", "GETUSER", "u1"), cmd("ACL", "LIST"), cmd("ACL", "SETUSER", "u2", "reset"), cmd("ACL", "LIST"),
		cmd("ACL", "SETUSER", "u3", "+nosuch"), cmd("ACL", "SETUSER", "u3", "~a", "allkeys", "~b"),
		cmd("ACL", "SETUSER", "u4", "<nope"), cmd("ACL", "SETUSER", "u4", "#abc"), cmd("ACL", "GETUSER", "nosuch"),
		cmd("ACL", "DELUSER", "default"), cmd("ACL", "DELUSER", "u1", "u2", "u3", "nosuch"), cmd("ACL", "USERS"),
		cmd("ACL", "CAT"), cmd("ACL", "CAT", "nosuch"), cmd("ACL", "SETUSER", "u5", "+@all", "-get"),
		cmd("ACL", "DRYRUN", "u5", "get", "k"), cmd("ACL", "DRYRUN", "u5", "set", "k", "v"),
		cmd("ACL", "DRYRUN", "nosuch", "get", "k"), cmd("ACL", "GENPASS", "0"),
		cmd("COMMAND", "INFO", "get", "set", "nosuch", "config|get"), cmd("COMMAND", "GETKEYS", "set", "k", "v"),
		cmd("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"), cmd("COMMAND", "GETKEYS", "ping"),
		cmd("COMMAND", "GETKEYS", "get"), cmd("COMMAND", "GETKEYS", "nosuch"),
		cmd("COMMAND", "GETKEYSANDFLAGS", "copy", "a", "b"), cmd("COMMAND", "LIST", "FILTERBY", "PATTERN", "xx*"),
		cmd("SLOWLOG", "LEN"), cmd("SLOWLOG", "GET", "-2"), cmd("SLOWLOG", "RESET"),
		cmd("MEMORY", "USAGE", "nokey"), cmd("DEBUG", "SLEEP", "0"), cmd("SHUTDOWN", "ABORT"), cmd("SHUTDOWN", "BOGUS"),
		cmd("SELECT", "0"), cmd("RESET"),
	})
}

// TestDebugDigestMatchesRedis checks DEBUG DIGEST and DIGEST-VALUE are computed as Redis
// computes them, so a dataset can be compared across the two servers.
func TestDebugDigestMatchesRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{Config: [][2]string{{"enable-debug-command", "yes"}}})
	runDiff(t, p, []step{
		cmd("DEBUG", "DIGEST"), cmd("SET", "a", "1"), cmd("SET", "b", "hello"), cmd("SET", "c", "x", "EX", "1000"),
		cmd("SELECT", "3"), cmd("SET", "z", "zz"), cmd("SELECT", "0"),
		cmd("DEBUG", "DIGEST"), cmd("DEBUG", "DIGEST-VALUE", "a", "b", "c", "nokey"),
		cmd("DEBUG", "POPULATE", "100", "p", "10"), cmd("DEBUG", "DIGEST"), cmd("DEBUG", "POPULATE", "-1"),
		cmd("DEBUG", "BOGUS"),
	})
}

func TestDebugRefusedByDefault(t *testing.T) {
	p := startPair(t, nodetest.Options{})
	runDiff(t, p, []step{cmd("DEBUG", "DIGEST"), cmd("DEBUG", "SLEEP", "0")})
}
