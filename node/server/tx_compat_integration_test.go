package server_test

import (
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/node/nodetest"
)

// Differential tests of transactions, the blocking commands where their replies are
// deterministic (served at once, timed out, refused), and Pub/Sub replies.

func TestTransactionsMatchRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{Config: [][2]string{{"enable-debug-command", "yes"}}})
	runDiff(t, p, []step{
		cmd("EXEC"), cmd("DISCARD"), cmd("UNWATCH"),
		// Runtime errors are reported per command; the others still run.
		cmd("MULTI"), cmd("SET", "a", "1"), cmd("INCR", "a"), cmd("LPUSH", "a", "x"), cmd("GET", "a"), cmd("EXEC"),
		// Nested MULTI is refused without dooming the transaction.
		cmd("MULTI"), cmd("MULTI"), cmd("INCR", "a"), cmd("EXEC"),
		// Queue-time errors abort: unknown command, arity, no-multi commands.
		cmd("MULTI"), cmd("NOSUCHCOMMAND", "x"), cmd("SET", "a", "9"), cmd("EXEC"), cmd("GET", "a"),
		cmd("MULTI"), cmd("GET"), cmd("EXEC"),
		cmd("MULTI"), cmd("SAVE"), cmd("EXEC"),
		cmd("MULTI"), cmd("CONFIG", "NOSUCHSUB"), cmd("EXEC"),
		// WATCH inside MULTI is an error but not a queue error.
		cmd("MULTI"), cmd("WATCH", "a"), cmd("PING"), cmd("EXEC"),
		// DISCARD drops the queue.
		cmd("MULTI"), cmd("SET", "a", "100"), cmd("DISCARD"), cmd("GET", "a"), cmd("EXEC"),
		// A write by the watching client itself fails the EXEC.
		cmd("WATCH", "a"), cmd("SET", "a", "3"), cmd("MULTI"), cmd("GET", "a"), cmd("EXEC"),
		// A watched key nobody touched lets it run; UNWATCH forgets the key.
		cmd("WATCH", "a", "nokey"), cmd("MULTI"), cmd("GET", "a"), cmd("EXEC"),
		cmd("WATCH", "a"), cmd("SET", "a", "4"), cmd("UNWATCH"), cmd("MULTI"), cmd("GET", "a"), cmd("EXEC"),
		// Deleting, expiring or flushing a watched key fails the EXEC.
		cmd("WATCH", "a"), cmd("DEL", "a"), cmd("MULTI"), cmd("PING"), cmd("EXEC"),
		cmd("SET", "w", "1"), cmd("WATCH", "w"), cmd("FLUSHDB"), cmd("MULTI"), cmd("PING"), cmd("EXEC"),
		cmd("SET", "w", "1", "PX", "1"), cmd("WATCH", "w"), cmd("DEBUG", "SLEEP", "0.01"), cmd("MULTI"), cmd("PING"), cmd("EXEC"),
		// Whether active expiry has removed w yet is timing; a DEL removes it either way
		// (replying 0), so the DBSIZE below does not depend on it.
		cmd("DEL", "w"),
		// Blocking commands inside MULTI do not block.
		cmd("MULTI"), cmd("BLPOP", "empty", "0"), cmd("BRPOP", "empty", "0"), cmd("BLMOVE", "empty", "d", "LEFT", "RIGHT", "0"),
		cmd("BRPOPLPUSH", "empty", "d", "0"), cmd("BLMPOP", "0", "1", "empty", "LEFT"), cmd("BZPOPMIN", "empty", "0"),
		cmd("BZMPOP", "0", "1", "empty", "MAX"), cmd("RPUSH", "l", "x"), cmd("BLPOP", "l", "0"), cmd("EXEC"),
		// SELECT inside EXEC stays in effect.
		cmd("MULTI"), cmd("SELECT", "1"), cmd("SET", "indb1", "v"), cmd("EXEC"), cmd("GET", "indb1"), cmd("SELECT", "0"),
		cmd("GET", "indb1"),
		// Keyspace-wide commands inside a transaction.
		cmd("MULTI"), cmd("SET", "k1", "v"), cmd("DBSIZE"), cmd("KEYS", "k1"), cmd("FLUSHALL"), cmd("DBSIZE"), cmd("EXEC"),
		cmd("MULTI"), cmd("EVAL", "return redis.call('SET', KEYS[1], 'x')", "1", "ev"), cmd("GET", "ev"), cmd("EXEC"),
	})
}

func TestBlockingCommandsMatchRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{})
	runDiff(t, p, []step{
		cmd("RPUSH", "l", "a", "b", "c", "d", "e"),
		cmd("BLPOP", "l", "0"), cmd("BRPOP", "nope", "l", "0"), cmd("BLPOP", "missing", "l", "1"),
		cmd("BLMOVE", "l", "l2", "LEFT", "RIGHT", "0"), cmd("BRPOPLPUSH", "l2", "l", "0"), cmd("LRANGE", "l", "0", "-1"),
		cmd("BLMPOP", "0", "2", "nope", "l", "RIGHT", "COUNT", "10"), cmd("EXISTS", "l"),
		// Timeouts, immediate (a key of another type is not waited on after WRONGTYPE).
		cmd("BLPOP", "l", "0.01"), cmd("BRPOP", "l", "0.01"), cmd("BLMOVE", "l", "x", "LEFT", "LEFT", "0.01"),
		cmd("BRPOPLPUSH", "l", "x", "0.01"), cmd("BLMPOP", "0.01", "1", "l", "LEFT"),
		cmd("BZPOPMIN", "z", "0.01"), cmd("BZMPOP", "0.01", "1", "z", "MIN"),
		// Argument errors.
		cmd("BLPOP", "l", "-1"), cmd("BLPOP", "l", "abc"), cmd("BLPOP", "l", "1e400"), cmd("BLPOP", "l", ""),
		cmd("BLMOVE", "l", "x", "UP", "LEFT", "0"), cmd("BLMOVE", "l", "x", "LEFT", "LEFT", "-1"),
		cmd("BLMPOP", "0", "0", "l", "LEFT"), cmd("BLMPOP", "0", "1", "l", "MIDDLE"), cmd("BLMPOP", "-1", "1", "l", "LEFT"),
		cmd("BLMPOP", "0", "1", "l", "LEFT", "COUNT", "0"), cmd("BZMPOP", "0", "1", "z", "MIN", "COUNT", "-1"),
		cmd("BZPOPMIN", "z", "-0.5"),
		// Wrong types.
		cmd("SET", "s", "x"), cmd("BLPOP", "nope", "s", "0"), cmd("BLMOVE", "s", "x", "LEFT", "LEFT", "0"),
		cmd("RPUSH", "src", "v"), cmd("BLMOVE", "src", "s", "LEFT", "LEFT", "0"), cmd("LLEN", "src"),
		cmd("BZPOPMAX", "s", "0"), cmd("BZMPOP", "0", "1", "s", "MAX"),
		// Sorted sets.
		cmd("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"),
		cmd("BZPOPMIN", "nope", "z", "0"), cmd("BZPOPMAX", "z", "0"), cmd("BZMPOP", "0", "1", "z", "MIN", "COUNT", "10"),
		cmd("EXISTS", "z"),
		// Streams: served at once, timed out, non-blocking inside MULTI.
		cmd("XADD", "st", "1-1", "f", "v"), cmd("XREAD", "BLOCK", "0", "STREAMS", "st", "0"),
		cmd("XREAD", "BLOCK", "10", "STREAMS", "st", "$"), cmd("XREAD", "BLOCK", "10", "STREAMS", "nost", "$"),
		cmd("XGROUP", "CREATE", "st", "g", "$"), cmd("XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "STREAMS", "st", ">"),
		cmd("XREAD", "BLOCK", "-1", "STREAMS", "st", "$"), cmd("XREAD", "BLOCK", "x", "STREAMS", "st", "$"),
		cmd("MULTI"), cmd("XREAD", "BLOCK", "0", "STREAMS", "st", "$"), cmd("EXEC"),
		// CLIENT UNBLOCK of clients that are not blocked.
		cmd("CLIENT", "UNBLOCK", "999999"), cmd("CLIENT", "UNBLOCK", "abc"), cmd("CLIENT", "UNBLOCK", "1", "MAYBE"),
		cmd("CLIENT", "UNBLOCK", "1", "ERROR"),
	})
}

// multiDo sends one command and reads n replies (SUBSCRIBE answers once per channel).
func (c *rawClient) multiDo(n int, args ...string) []string {
	c.t.Helper()
	out := []string{render(c.do(args...), false)}
	for i := 1; i < n; i++ {
		v, err := c.r.ReadValue()
		if err != nil {
			c.t.Fatalf("reply %d to %q: %v", i+1, args, err)
		}
		out = append(out, render(v, false))
	}
	return out
}

func TestPubSubMatchesRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{})
	type pstep struct {
		who     int // 0: the subscriber, 1: the publisher
		replies int
		args    []string
	}
	steps := []pstep{
		{0, 2, []string{"SUBSCRIBE", "news", "sport"}},
		{0, 1, []string{"PSUBSCRIBE", "n*"}},
		{0, 1, []string{"SSUBSCRIBE", "shard"}},
		{1, 1, []string{"PUBSUB", "NUMSUB", "news", "sport", "none"}},
		{1, 1, []string{"PUBSUB", "NUMPAT"}},
		{1, 1, []string{"PUBSUB", "CHANNELS", "n*"}},
		{1, 1, []string{"PUBSUB", "SHARDCHANNELS"}},
		{1, 1, []string{"PUBSUB", "SHARDNUMSUB", "shard"}},
		{1, 1, []string{"PUBLISH", "news", "hello"}},
		{0, 2, nil}, // message and pmessage
		{1, 1, []string{"SPUBLISH", "shard", "s1"}},
		{0, 1, nil},
		{1, 1, []string{"PUBLISH", "nothing", "x"}},
		{0, 1, []string{"PING"}},
		{0, 1, []string{"PING", "hi"}},
		{0, 1, []string{"GET", "x"}},
		{0, 1, []string{"ECHO", "hi"}}, // refused in RESP2
		{0, 1, []string{"UNSUBSCRIBE", "news"}},
		{0, 1, []string{"PUNSUBSCRIBE"}},
		{0, 1, []string{"SUNSUBSCRIBE"}},
		{0, 1, []string{"UNSUBSCRIBE"}},
		{0, 1, []string{"UNSUBSCRIBE"}},
		{0, 1, []string{"PUNSUBSCRIBE", "x*"}},
		{0, 1, []string{"PING"}},
	}
	for _, proto := range []string{"2", "3"} {
		var clients [2][2]*rawClient // [node][role]
		for i, n := range []*nodetest.Node{p.redis, p.ours} {
			for role := 0; role < 2; role++ {
				c := dialRaw(t, n)
				c.do("HELLO", proto)
				clients[i][role] = c
			}
		}
		for _, s := range steps {
			var got [2][]string
			for i := range clients {
				c := clients[i][s.who]
				if s.args == nil {
					for j := 0; j < s.replies; j++ {
						v, err := c.r.ReadValue()
						if err != nil {
							t.Fatalf("RESP%s read message: %v", proto, err)
						}
						got[i] = append(got[i], render(v, false))
					}
					continue
				}
				got[i] = c.multiDo(s.replies, s.args...)
			}
			if strings.Join(got[1], "") != strings.Join(got[0], "") {
				t.Errorf("RESP%s %v:\n got %q\nwant %q", proto, s.args, got[1], got[0])
			}
		}
	}
}
