package server_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/node/resp"
)

func TestSortedSetsMatchRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{})
	runDiff(t, p, []step{
		cmd("ZADD", "z", "1", "a", "2", "b", "3", "c"), cmd("ZADD", "z", "NX", "5", "a", "4", "d"),
		cmd("ZADD", "z", "XX", "CH", "10", "a", "1", "nope"), cmd("ZADD", "z", "GT", "CH", "1", "a", "20", "b"),
		cmd("ZADD", "z", "LT", "CH", "1", "a", "30", "b"), cmd("ZADD", "z", "NX", "XX", "1", "a"),
		cmd("ZADD", "z", "GT", "LT", "1", "a"), cmd("ZADD", "z", "GT", "NX", "1", "a"),
		cmd("ZADD", "z", "INCR", "1", "a", "2", "b"), cmd("ZADD", "z", "INCR", "2.5", "a"),
		cmd("ZADD", "z", "INCR", "NX", "2.5", "a"), cmd("ZADD", "z", "1"), cmd("ZADD", "z", "x", "a"),
		cmd("ZADD", "z", "nan", "a"), cmd("ZADD", "z", "inf", "i", "-inf", "ni", "1e300", "big"),
		cmd("ZINCRBY", "z", "1", "i"), cmd("ZINCRBY", "z", "-inf", "i"), cmd("ZINCRBY", "z", "x", "a"),
		cmd("ZINCRBY", "new", "0.1", "m"), cmd("ZINCRBY", "new", "0.2", "m"), cmd("ZSCORE", "new", "m"),
		cmd("ZADD", "nokey", "XX", "1", "a"), cmd("EXISTS", "nokey"),
		cmd("ZCARD", "z"), cmd("ZCARD", "nokey"), cmd("ZSCORE", "z", "a"), cmd("ZSCORE", "z", "zz"),
		cmd("ZSCORE", "nokey", "a"), cmd("ZMSCORE", "z", "a", "zz", "i"), cmd("ZMSCORE", "nokey", "a", "b"),
		cmd("ZRANK", "z", "a"), cmd("ZREVRANK", "z", "a"), cmd("ZRANK", "z", "zz"), cmd("ZRANK", "nokey", "a"),
		cmd("ZRANGE", "z", "0", "-1"), cmd("ZRANGE", "z", "0", "-1", "WITHSCORES"),
		cmd("ZRANGE", "z", "-2", "100", "REV", "WITHSCORES"), cmd("ZRANGE", "z", "5", "1"),
		cmd("ZRANGE", "z", "(1", "+inf", "BYSCORE", "WITHSCORES"), cmd("ZRANGE", "z", "+inf", "(1", "BYSCORE", "REV"),
		cmd("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2"),
		cmd("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "2"),
		cmd("ZRANGE", "z", "0", "-1", "LIMIT", "1", "2"), cmd("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"),
		cmd("ZRANGE", "z", "x", "y", "BYSCORE"), cmd("ZRANGE", "z", "a", "b", "BYLEX"),
		cmd("ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"), cmd("ZRANGE", "z", "0", "x"),
		cmd("ZREVRANGE", "z", "0", "2", "WITHSCORES"), cmd("ZRANGEBYSCORE", "z", "2", "10", "WITHSCORES", "LIMIT", "0", "1"),
		cmd("ZREVRANGEBYSCORE", "z", "10", "2"), cmd("ZRANGEBYSCORE", "z", "(2", "(2"),
		cmd("ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"),
		cmd("ZRANGEBYLEX", "lex", "[b", "(e"), cmd("ZREVRANGEBYLEX", "lex", "+", "[c", "LIMIT", "1", "5"),
		cmd("ZRANGEBYLEX", "lex", "b", "c"), cmd("ZLEXCOUNT", "lex", "-", "+"), cmd("ZLEXCOUNT", "lex", "(a", "[c"),
		cmd("ZCOUNT", "z", "-inf", "+inf"), cmd("ZCOUNT", "z", "(1", "5"), cmd("ZCOUNT", "nokey", "0", "1"),
		cmd("ZCOUNT", "z", "a", "1"), cmd("ZRANGE", "nokey", "0", "-1"),
		cmd("ZRANGESTORE", "dst", "z", "0", "2"), cmd("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
		cmd("ZRANGESTORE", "dst", "lex", "[b", "[d", "BYLEX", "REV"), cmd("ZRANGE", "dst", "0", "-1"),
		cmd("ZRANGESTORE", "dst", "z", "5", "1"), cmd("EXISTS", "dst"), cmd("ZRANGESTORE", "dst", "z", "0", "1", "WITHSCORES"),
		cmd("ZRANGESTORE", "dst", "nokey", "0", "1"),
		cmd("ZREMRANGEBYRANK", "lex", "0", "0"), cmd("ZREMRANGEBYLEX", "lex", "[c", "[d"),
		cmd("ZREMRANGEBYSCORE", "z", "(-inf", "(3"), cmd("ZREMRANGEBYRANK", "z", "x", "1"),
		cmd("ZREMRANGEBYRANK", "z", "10", "20"), cmd("ZRANGE", "z", "0", "-1", "WITHSCORES"),
		cmd("ZREM", "z", "c", "c", "zz"), cmd("ZREM", "nokey", "a"), cmd("ZREM", "lex", "e"), cmd("EXISTS", "lex"),
		cmd("ZADD", "p", "1", "a", "2", "b", "3", "c", "4", "d"), cmd("ZPOPMIN", "p"), cmd("ZPOPMAX", "p", "2"),
		cmd("ZPOPMIN", "p", "0"), cmd("ZPOPMIN", "p", "-1"), cmd("ZPOPMIN", "p", "10"), cmd("EXISTS", "p"),
		cmd("ZPOPMIN", "nokey"), cmd("ZPOPMAX", "nokey", "3"), cmd("ZPOPMIN", "p", "1", "2"),
		cmd("ZADD", "m1", "1", "a", "2", "b"), cmd("ZADD", "m2", "5", "x"),
		cmd("ZMPOP", "2", "nokey", "m1", "MAX"), cmd("ZMPOP", "2", "nokey", "m1", "MIN", "COUNT", "10"),
		cmd("ZMPOP", "2", "nokey", "m1", "MIN"), cmd("ZMPOP", "0", "m1", "MIN"), cmd("ZMPOP", "1", "m2", "MID"),
		cmd("ZMPOP", "1", "m2", "MIN", "COUNT", "0"), cmd("ZMPOP", "1", "m2", "MIN", "COUNT", "1", "COUNT", "1"),
		cmd("ZMPOP", "5", "m2", "MIN"), cmd("ZMPOP", "x", "m2", "MIN"),
		cmd("SET", "str", "v"), cmd("ZMPOP", "2", "str", "m2", "MIN"), cmd("ZMPOP", "2", "m2", "str", "MIN"),
		cmd("ZADD", "str", "1", "a"), cmd("ZRANGE", "str", "0", "1"), cmd("ZCARD", "str"), cmd("ZPOPMIN", "str"),
		cmd("ZADD", "u1", "1", "a", "2", "b", "3", "c"), cmd("ZADD", "u2", "10", "b", "20", "c", "30", "d"),
		cmd("ZUNION", "2", "u1", "u2", "WITHSCORES"), cmd("ZINTER", "2", "u1", "u2", "WITHSCORES"),
		cmd("ZDIFF", "2", "u1", "u2", "WITHSCORES"), cmd("ZDIFF", "2", "u2", "u1"),
		cmd("ZUNION", "2", "u1", "u2", "WEIGHTS", "2", "0.5", "AGGREGATE", "MAX", "WITHSCORES"),
		cmd("ZINTER", "2", "u1", "u2", "AGGREGATE", "MIN", "WITHSCORES"), cmd("ZUNION", "3", "u1", "u2", "nokey"),
		cmd("ZUNIONSTORE", "out", "2", "u1", "u2", "WEIGHTS", "1", "-1"), cmd("ZRANGE", "out", "0", "-1", "WITHSCORES"),
		cmd("ZINTERSTORE", "out", "2", "u1", "nokey"), cmd("EXISTS", "out"), cmd("ZDIFFSTORE", "out", "1", "u1"),
		cmd("ZUNIONSTORE", "out", "0", "u1"), cmd("ZUNIONSTORE", "out", "3", "u1"), cmd("ZUNION", "1", "u1", "WITHSCORES", "x"),
		cmd("ZUNION", "2", "u1", "str"), cmd("ZDIFF", "2", "u1", "u2", "WEIGHTS", "1", "1"),
		cmd("ZUNION", "2", "u1", "u2", "WEIGHTS", "1", "x"), cmd("ZUNIONSTORE", "out", "1", "u1", "WITHSCORES"),
		cmd("ZINTERCARD", "2", "u1", "u2"), cmd("ZINTERCARD", "2", "u1", "u2", "LIMIT", "1"),
		cmd("ZINTERCARD", "2", "u1", "u2", "LIMIT", "-1"), cmd("ZINTERCARD", "0", "u1"),
		cmd("ZINTERCARD", "1", "nokey"), cmd("ZINTERCARD", "2", "u1", "u2", "WITHSCORES"),
		cmd("ZADD", "inf", "inf", "a", "-inf", "b"), cmd("ZUNION", "2", "inf", "inf", "WITHSCORES"),
		cmd("ZUNION", "2", "inf", "inf", "WEIGHTS", "1", "-1", "WITHSCORES"),
		cmd("ZRANDMEMBER", "nokey"), cmd("ZRANDMEMBER", "nokey", "5"), cmd("ZRANDMEMBER", "u1", "0"),
		cmd("ZRANDMEMBER", "u1", "3", "WITHSCORES"), cmd("ZRANDMEMBER", "u1", "100"),
		cmd("ZRANDMEMBER", "u1", "x"), cmd("ZRANDMEMBER", "u1", "1", "bogus"), cmd("ZRANDMEMBER", "str"),
		cmd("ZRANDMEMBER", "u1", "-9223372036854775808"), cmd("ZRANDMEMBER", "u1", "9223372036854775807", "WITHSCORES"),
		cmd("ZRANDMEMBER", "u1", "1", "WITHSCORES", "x"),
		cmd("ZSCAN", "u1", "0"), cmd("ZSCAN", "u1", "0", "MATCH", "[ab]", "COUNT", "1"), cmd("ZSCAN", "nokey", "0"),
		cmd("ZSCAN", "u1", "x"), cmd("ZSCAN", "u1", "0", "COUNT", "0"), cmd("ZSCAN", "u1", "0", "TYPE", "zset"),
		cmd("ZSCAN", "nokey", "0", "COUNT", "0"), cmd("ZSCAN", "str", "0"),
		cmd("ZADD", "sc", "1.5", "a", "0.1", "b", "1e17", "c", "-0", "d", "inf", "e", "5e18", "f"),
		cmd("ZSCAN", "sc", "0"), cmd("ZRANGE", "sc", "0", "-1", "WITHSCORES"), cmd("ZSCORE", "sc", "d"),
		cmd("OBJECT", "ENCODING", "sc"), cmd("TYPE", "sc"),
	})
}

func TestSortedSetEncodingsMatchRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{Config: [][2]string{
		{"zset-max-listpack-entries", "4"}, {"zset-max-listpack-value", "8"},
	}})
	long := strings.Repeat("x", 9)
	steps := []step{
		cmd("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"), cmd("OBJECT", "ENCODING", "z"),
		cmd("ZADD", "z", "5", "e"), cmd("OBJECT", "ENCODING", "z"),
		cmd("ZREM", "z", "e", "d"), cmd("OBJECT", "ENCODING", "z"),
		cmd("ZADD", "v", "1", "12345678"), cmd("OBJECT", "ENCODING", "v"),
		cmd("ZADD", "v", "1", long), cmd("OBJECT", "ENCODING", "v"),
		cmd("ZADD", "w", "1", long), cmd("OBJECT", "ENCODING", "w"),
		cmd("ZADD", "many", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"), cmd("OBJECT", "ENCODING", "many"),
		cmd("ZADD", "dup", "1", "a", "1", "a", "1", "a", "1", "a", "1", "a"), cmd("OBJECT", "ENCODING", "dup"),
		cmd("ZRANGESTORE", "rs", "z", "0", "-1"), cmd("OBJECT", "ENCODING", "rs"),
		cmd("ZRANGESTORE", "rs", "many", "0", "-1"), cmd("OBJECT", "ENCODING", "rs"),
		cmd("ZRANGESTORE", "rs", "many", "-inf", "+inf", "BYSCORE"), cmd("OBJECT", "ENCODING", "rs"),
		cmd("ZRANGESTORE", "rs", "many", "0", "3"), cmd("OBJECT", "ENCODING", "rs"),
		cmd("ZUNIONSTORE", "us", "1", "z"), cmd("OBJECT", "ENCODING", "us"),
		cmd("ZUNIONSTORE", "us", "2", "z", "many"), cmd("OBJECT", "ENCODING", "us"),
		cmd("ZINTERSTORE", "us", "2", "z", "many"), cmd("OBJECT", "ENCODING", "us"),
		cmd("ZDIFFSTORE", "us", "1", "w"), cmd("OBJECT", "ENCODING", "us"),
		cmd("ZPOPMIN", "many", "3"), cmd("OBJECT", "ENCODING", "many"),
		cmd("ZINCRBY", "i", "1", long), cmd("OBJECT", "ENCODING", "i"),
		unordered("ZSCAN", "z", "0"), cmd("ZSCAN", "z", "0", "MATCH", "a"),
		cmd("CONFIG", "SET", "zset-max-ziplist-entries", "0"), cmd("ZADD", "zero", "1", "a"), cmd("OBJECT", "ENCODING", "zero"),
		cmd("CONFIG", "SET", "zset-max-listpack-entries", "128"), cmd("ZADD", "zero", "2", "b"), cmd("OBJECT", "ENCODING", "zero"),
		cmd("ZADD", "back", "1", "a"), cmd("OBJECT", "ENCODING", "back"),
		cmd("COPY", "z", "zcopy"), cmd("OBJECT", "ENCODING", "zcopy"), cmd("ZRANGE", "zcopy", "0", "-1", "WITHSCORES"),
	}
	// A large set crosses the default-sized threshold as it grows.
	for i := 0; i < 200; i += 50 {
		args := []string{"ZADD", "grow"}
		for j := i; j < i+50; j++ {
			args = append(args, strconv.Itoa(j), "m"+strconv.Itoa(j))
		}
		steps = append(steps, cmd(args...), cmd("OBJECT", "ENCODING", "grow"), cmd("ZCARD", "grow"))
	}
	steps = append(steps, cmd("ZRANGE", "grow", "100", "110", "WITHSCORES"), cmd("ZCOUNT", "grow", "17", "(170"),
		cmd("ZRANK", "grow", "m150"), cmd("ZREMRANGEBYSCORE", "grow", "10", "190"), cmd("OBJECT", "ENCODING", "grow"))
	runDiff(t, p, steps)
}

// TestSortedSetRandomRepliesByProperty checks the replies Redis draws at random by what
// must hold of them: members of the set, distinct when the count is positive, each with
// its own score.
func TestSortedSetRandomRepliesByProperty(t *testing.T) {
	n := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{})
	c := dialRaw(t, n)
	scores := map[string]string{}
	args := []string{"ZADD", "z"}
	for i := 0; i < 300; i++ {
		m := "m" + strconv.Itoa(i)
		scores[m] = strconv.Itoa(i * 3)
		args = append(args, scores[m], m)
	}
	c.do(args...)
	c.do("ZADD", "small", "1", "a", "2", "b", "3", "c")
	for _, tc := range []struct {
		key        string
		count      int
		withScores bool
	}{{"z", 10, false}, {"z", 250, true}, {"z", -50, true}, {"small", 2, true}, {"small", -7, false}, {"z", 1, false}} {
		req := []string{"ZRANDMEMBER", tc.key, strconv.Itoa(tc.count)}
		if tc.withScores {
			req = append(req, "WITHSCORES")
		}
		v := c.do(req...)
		want := tc.count
		if want < 0 {
			want = -want
		}
		step := 1
		if tc.withScores {
			step = 2
		}
		if v.Kind != resp.Array || len(v.Elems) != want*step {
			t.Fatalf("%v: got %d elements, want %d", req, len(v.Elems), want*step)
		}
		seen := map[string]bool{}
		for i := 0; i < len(v.Elems); i += step {
			m := string(v.Elems[i].Str)
			if tc.key == "z" && scores[m] == "" || tc.key == "small" && !strings.Contains("abc", m) {
				t.Fatalf("%v: %q is not a member", req, m)
			}
			if tc.count > 0 && seen[m] {
				t.Fatalf("%v: %q returned twice", req, m)
			}
			seen[m] = true
			if tc.withScores && tc.key == "z" && string(v.Elems[i+1].Str) != scores[m] {
				t.Fatalf("%v: score of %q is %q, want %s", req, m, v.Elems[i+1].Str, scores[m])
			}
		}
	}
	if v := c.do("ZRANDMEMBER", "z"); scores[string(v.Str)] == "" {
		t.Fatalf("ZRANDMEMBER z = %q, not a member", v.Str)
	}
	// ZSCAN of a skiplist-encoded set walks its table: every member comes back.
	seen := map[string]bool{}
	cursor := "0"
	for {
		v := c.do("ZSCAN", "z", cursor, "COUNT", "7")
		cursor = string(v.Elems[0].Str)
		for i := 0; i < len(v.Elems[1].Elems); i += 2 {
			m := string(v.Elems[1].Elems[i].Str)
			if got := string(v.Elems[1].Elems[i+1].Str); got != scores[m] {
				t.Fatalf("ZSCAN: score of %q is %q, want %s", m, got, scores[m])
			}
			seen[m] = true
		}
		if cursor == "0" {
			break
		}
	}
	if len(seen) != len(scores) {
		t.Fatalf("ZSCAN returned %d members, want %d", len(seen), len(scores))
	}
}
