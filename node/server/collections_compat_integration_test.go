package server_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/node/resp"
)

// Differential tests of the list, hash and set families and SORT against redis-server:
// the same commands, the same raw replies (errors included), over RESP2 and RESP3.
// Replies whose order is a hash table's are compared as sets; replies that are random are
// compared by shape (kind and length) only.

// cstep is one command of a collection differential script.
type cstep struct {
	args      []string
	unordered bool // compare as a set: the order is a hash table's
	shape     bool // compare kind and length only: the reply is random
}

func ex(args ...string) cstep { return cstep{args: args} }
func un(args ...string) cstep { return cstep{args: args, unordered: true} }
func sh(args ...string) cstep { return cstep{args: args, shape: true} }

// shapeOf renders a reply's kind, nullness and element count (and an error's text).
func shapeOf(v resp.Value) string {
	s := strconv.Itoa(int(v.Kind)) + ":" + strconv.FormatBool(v.IsNull) + ":" + strconv.Itoa(len(v.Elems))
	if v.Kind == resp.Error {
		s += ":" + string(v.Str)
	}
	return s
}

// runCollectionDiff sends every step to both nodes (RESP2, then again in a fresh
// database over RESP3) and reports each reply that differs.
func runCollectionDiff(t *testing.T, p pair, steps []cstep) {
	t.Helper()
	for _, proto := range []string{"2", "3"} {
		a, b := dialRaw(t, p.redis), dialRaw(t, p.ours)
		for _, c := range []*rawClient{a, b} {
			c.do("HELLO", proto)
			c.do("FLUSHALL")
		}
		for _, s := range steps {
			ra, rb := a.do(s.args...), b.do(s.args...)
			var want, got string
			if s.shape {
				want, got = shapeOf(ra), shapeOf(rb)
			} else {
				want, got = render(ra, s.unordered), render(rb, s.unordered)
			}
			if got != want {
				t.Errorf("RESP%s %s:\n got %q\nwant %q", proto, strings.Join(s.args, " "), got, want)
			}
		}
	}
}

func TestListsMatchRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{})
	long := strings.Repeat("x", 100)
	runCollectionDiff(t, p, []cstep{
		ex("RPUSH", "l", "a", "b", "c"), ex("LPUSH", "l", "z", "y"), ex("LRANGE", "l", "0", "-1"),
		ex("OBJECT", "ENCODING", "l"), ex("TYPE", "l"), ex("LLEN", "l"), ex("LLEN", "nokey"),
		ex("LRANGE", "l", "1", "2"), ex("LRANGE", "l", "-2", "-1"), ex("LRANGE", "l", "-100", "100"),
		ex("LRANGE", "l", "3", "1"), ex("LRANGE", "l", "10", "20"), ex("LRANGE", "l", "a", "1"),
		ex("LRANGE", "nokey", "0", "-1"), ex("LINDEX", "l", "0"), ex("LINDEX", "l", "-1"),
		ex("LINDEX", "l", "99"), ex("LINDEX", "l", "x"), ex("LINDEX", "nokey", "x"),
		ex("LSET", "l", "1", "Y"), ex("LSET", "l", "99", "v"), ex("LSET", "l", "-1", "C"),
		ex("LSET", "nokey", "0", "v"), ex("LSET", "l", "x", "v"), ex("LRANGE", "l", "0", "-1"),
		ex("LINSERT", "l", "BEFORE", "a", "pre"), ex("LINSERT", "l", "after", "C", "post"),
		ex("LINSERT", "l", "after", "nothere", "v"), ex("LINSERT", "l", "middle", "a", "v"),
		ex("LINSERT", "nokey", "before", "a", "v"), ex("LRANGE", "l", "0", "-1"),
		ex("RPUSH", "r", "a", "b", "a", "c", "a", "b", "a"), ex("LREM", "r", "2", "a"), ex("LRANGE", "r", "0", "-1"),
		ex("LREM", "r", "-1", "a"), ex("LRANGE", "r", "0", "-1"), ex("LREM", "r", "0", "b"),
		ex("LRANGE", "r", "0", "-1"), ex("LREM", "r", "x", "b"), ex("LREM", "nokey", "0", "b"),
		ex("LREM", "r", "0", "c"), ex("LREM", "r", "0", "a"), ex("EXISTS", "r"),
		ex("RPUSH", "t", "1", "2", "3", "4", "5", "6"), ex("LTRIM", "t", "1", "-2"), ex("LRANGE", "t", "0", "-1"),
		ex("LTRIM", "t", "0", "100"), ex("LTRIM", "t", "x", "1"), ex("LTRIM", "nokey", "0", "1"),
		ex("LTRIM", "t", "5", "1"), ex("EXISTS", "t"),
		ex("LPUSHX", "nokey", "a"), ex("RPUSHX", "nokey", "a"), ex("EXISTS", "nokey"),
		ex("LPUSHX", "l", "hx", "hy"), ex("RPUSHX", "l", "tx"), ex("LRANGE", "l", "0", "-1"),
		ex("LPOP", "l"), ex("RPOP", "l"), ex("LPOP", "l", "2"), ex("RPOP", "l", "2"), ex("LPOP", "l", "0"),
		ex("LPOP", "nokey"), ex("LPOP", "nokey", "2"), ex("LPOP", "nokey", "0"), ex("LPOP", "l", "-1"),
		ex("LPOP", "l", "x"), ex("LPOP", "l", "1", "2"), ex("RPOP", "l", "100"), ex("EXISTS", "l"),
		ex("RPUSH", "p", "a", "b", "c", "1", "2", "3", "c", "c"), ex("LPOS", "p", "c"), ex("LPOS", "p", "c", "RANK", "2"),
		ex("LPOS", "p", "c", "RANK", "-1"), ex("LPOS", "p", "c", "RANK", "-2", "COUNT", "0"),
		ex("LPOS", "p", "c", "COUNT", "2"), ex("LPOS", "p", "c", "COUNT", "0", "MAXLEN", "4"),
		ex("LPOS", "p", "x"), ex("LPOS", "p", "x", "COUNT", "1"), ex("LPOS", "nokey", "x"),
		ex("LPOS", "nokey", "x", "COUNT", "1"), ex("LPOS", "p", "c", "RANK", "0"),
		ex("LPOS", "p", "c", "RANK", "x"), ex("LPOS", "p", "c", "COUNT", "-1"), ex("LPOS", "p", "c", "COUNT", "x"),
		ex("LPOS", "p", "c", "MAXLEN", "-1"), ex("LPOS", "p", "c", "BOGUS"), ex("LPOS", "p", "c", "RANK"),
		ex("LPOS", "p", "c", "RANK", "-9223372036854775808"), ex("LPOS", "p", "1", "RANK", "9223372036854775807"),
		ex("LPOS", "p", "c", "MAXLEN", "0", "RANK", "-1", "COUNT", "5"),
		ex("LMOVE", "p", "q", "LEFT", "RIGHT"), ex("LMOVE", "p", "q", "right", "left"), ex("LRANGE", "q", "0", "-1"),
		ex("LMOVE", "p", "p", "LEFT", "RIGHT"), ex("LRANGE", "p", "0", "-1"), ex("LMOVE", "p", "q", "UP", "LEFT"),
		ex("LMOVE", "nokey", "q", "LEFT", "LEFT"), ex("RPOPLPUSH", "p", "q"), ex("RPOPLPUSH", "nokey", "q"),
		ex("SET", "str", "v"), ex("LMOVE", "p", "str", "LEFT", "LEFT"), ex("RPOPLPUSH", "str", "q"),
		ex("LRANGE", "p", "0", "-1"), ex("RPUSH", "one", "x"), ex("RPOPLPUSH", "one", "one"), ex("LRANGE", "one", "0", "-1"),
		ex("RPOPLPUSH", "one", "two"), ex("EXISTS", "one"), ex("LRANGE", "two", "0", "-1"),
		ex("LMPOP", "2", "nokey", "p", "LEFT"), ex("LMPOP", "2", "nokey", "p", "RIGHT", "COUNT", "2"),
		ex("LMPOP", "1", "nokey", "LEFT"), ex("LMPOP", "0", "p", "LEFT"), ex("LMPOP", "x", "p", "LEFT"),
		ex("LMPOP", "3", "p", "LEFT"), ex("LMPOP", "1", "p", "MIDDLE"), ex("LMPOP", "1", "p", "LEFT", "COUNT", "0"),
		ex("LMPOP", "1", "p", "LEFT", "COUNT", "1", "COUNT", "2"), ex("LMPOP", "1", "p", "LEFT", "BOGUS"),
		ex("LMPOP", "2", "str", "p", "LEFT"), ex("LMPOP", "2", "p", "str", "LEFT", "COUNT", "100"), ex("EXISTS", "p"),
		ex("LPUSH", "str", "a"), ex("LLEN", "str"), ex("LRANGE", "str", "0", "1"), ex("LINDEX", "str", "0"),
		ex("LSET", "str", "0", "a"), ex("LPOS", "str", "a"), ex("LPOP", "str"), ex("LREM", "str", "0", "a"),
		ex("LTRIM", "str", "0", "1"), ex("LINSERT", "str", "before", "a", "b"), ex("LPUSHX", "str", "a"),
		ex("RPUSH", "big", long, long), ex("OBJECT", "ENCODING", "big"), ex("LRANGE", "big", "0", "0"),
		ex("LPUSH"), ex("LPUSH", "l"), ex("LRANGE", "l", "0"), ex("LMOVE", "a", "b", "LEFT"),
		ex("CONFIG", "SET", "list-max-listpack-size", "4"), ex("CONFIG", "SET", "list-max-ziplist-size", "-1"),
		ex("CONFIG", "SET", "list-compress-depth", "1"), ex("RPUSH", "c", "1", "2", "3", "4", "5", "6"),
		ex("OBJECT", "ENCODING", "c"), ex("LRANGE", "c", "0", "-1"), ex("CONFIG", "SET", "list-max-listpack-size", "-2"),
		ex("CONFIG", "SET", "list-compress-depth", "0"),
		ex("RPUSH", "cp", "a", "b"), ex("COPY", "cp", "cp2"), ex("RPUSH", "cp2", "c"), ex("LRANGE", "cp", "0", "-1"),
		ex("LRANGE", "cp2", "0", "-1"), ex("RENAME", "cp2", "cp3"), ex("LRANGE", "cp3", "0", "-1"),
		ex("DEL", "cp", "cp3"), ex("EXISTS", "cp", "cp3"),
	})
}
