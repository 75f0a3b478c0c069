package server_test

import (
	"strconv"
	"testing"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/node/resp"
)

// The stream tests give every entry an explicit ID so that replies do not depend on the
// clock; replies that carry times (idle, seen-time, delivery time) are compared with the
// times masked.

func TestStreamsMatchRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{})
	runDiff(t, p, []step{
		cmd("XADD", "s", "1-1", "a", "1"), cmd("XADD", "s", "1-2", "b", "2", "c", "3"),
		cmd("XADD", "s", "1-2", "x", "y"), cmd("XADD", "s", "0-0", "x", "y"), cmd("XADD", "s", "1-*", "d", "4"),
		cmd("XADD", "s", "2-*", "e", "5"), cmd("XADD", "s", "5", "f", "6"), cmd("XADD", "s", "5-1", "odd"),
		cmd("XADD", "s", "bad", "f", "v"), cmd("XADD", "s", "NOMKSTREAM", "9-0", "f", "v"),
		cmd("XADD", "nokey", "NOMKSTREAM", "1-1", "f", "v"), cmd("EXISTS", "nokey"),
		cmd("XADD", "s", "MAXLEN", "-1", "9-0", "f", "v"), cmd("XADD", "s", "MAXLEN", "1", "MINID", "1", "9-0", "f", "v"),
		cmd("XADD", "s", "LIMIT", "5", "9-0", "f", "v"), cmd("XADD", "s", "MAXLEN", "5", "LIMIT", "5", "9-0", "f", "v"),
		cmd("XLEN", "s"), cmd("XLEN", "nokey"),
		cmd("XRANGE", "s", "-", "+"), cmd("XRANGE", "s", "1-2", "(5-1"), cmd("XRANGE", "s", "(1-1", "+", "COUNT", "2"),
		cmd("XRANGE", "s", "-", "+", "COUNT", "0"), cmd("XRANGE", "s", "1", "1"), cmd("XRANGE", "s", "x", "+"),
		cmd("XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"), cmd("XRANGE", "nokey", "-", "+"),
		cmd("XREVRANGE", "s", "+", "-", "COUNT", "3"), cmd("XREVRANGE", "s", "2", "1"),
		cmd("XDEL", "s", "1-2", "9-9"), cmd("XDEL", "s", "x"), cmd("XDEL", "nokey", "1-1"), cmd("XLEN", "s"),
		cmd("XINFO", "STREAM", "s"), cmd("XINFO", "STREAM", "nokey"), cmd("XINFO", "STREAM", "s", "FULL", "COUNT"),
		cmd("XTRIM", "s", "MAXLEN", "3"), cmd("XTRIM", "s", "MINID", "2-0"), cmd("XTRIM", "s"),
		cmd("XTRIM", "s", "MAXLEN", "~", "0"), cmd("XTRIM", "nokey", "MAXLEN", "0"), cmd("XRANGE", "s", "-", "+"),
		cmd("XSETID", "s", "1-0"), cmd("XSETID", "s", "100-0", "ENTRIESADDED", "1"),
		cmd("XSETID", "s", "100-0", "ENTRIESADDED", "50", "MAXDELETEDID", "3-0"), cmd("XSETID", "s", "1-0", "MAXDELETEDID", "3-0"),
		cmd("XSETID", "nokey", "1-0"), cmd("XSETID", "s", "200-0", "ENTRIESADDED", "-1"), cmd("XINFO", "STREAM", "s"),
		cmd("XADD", "s", "50-0", "f", "v"), cmd("XADD", "s", "MAXLEN", "=", "2", "300-1", "g", "w"),
		cmd("SET", "str", "v"), cmd("XADD", "str", "1-1", "f", "v"), cmd("XRANGE", "str", "-", "+"), cmd("XLEN", "str"),
		cmd("XREAD", "STREAMS", "s", "0"), cmd("XREAD", "COUNT", "1", "STREAMS", "s", "nokey", "0", "0"),
		cmd("XREAD", "STREAMS", "s", "$"), cmd("XREAD", "STREAMS", "s"), cmd("XREAD", "STREAMS", "s", ">"),
		cmd("XREAD", "STREAMS", "str", "0"), cmd("XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"),
		cmd("XREAD", "NOACK", "STREAMS", "s", "0"), cmd("XREAD", "COUNT", "x", "STREAMS", "s", "0"),
		cmd("XGROUP", "CREATE", "s", "g", "0"), cmd("XGROUP", "CREATE", "s", "g", "0"),
		cmd("XGROUP", "CREATE", "nokey", "g", "$"), cmd("XGROUP", "CREATE", "mk", "g", "$", "MKSTREAM"),
		cmd("XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "1"), cmd("XGROUP", "CREATE", "s", "g3", "x"),
		cmd("XGROUP", "CREATE", "s", "g3", "0", "BOGUS"), cmd("XGROUP", "CREATE", "s", "g3", "0", "ENTRIESREAD", "-5"),
		cmd("XGROUP", "CREATE", "str", "g", "0"), cmd("XINFO", "GROUPS", "s"),
		cmd("XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", ">"),
		cmd("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"), cmd("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"),
		cmd("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0"), cmd("XREADGROUP", "GROUP", "g", "c9", "STREAMS", "s", "0"),
		cmd("XREADGROUP", "GROUP", "nog", "c1", "STREAMS", "s", ">"), cmd("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "$"),
		cmd("XREADGROUP", "STREAMS", "s", ">"), cmd("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "nokey", ">"),
		cmd("XPENDING", "s", "g"), cmd("XPENDING", "s", "nog"), cmd("XPENDING", "s", "g", "-", "+", "x"),
		cmd("XPENDING", "s", "g", "IDLE", "999999999", "-", "+", "10"),
		cmd("XACK", "s", "g", "50-0", "1-1", "bad"), cmd("XACK", "s", "g", "50-0", "1-1"), cmd("XACK", "s", "nog", "1-1"),
		cmd("XACK", "nokey", "g", "1-1"), cmd("XPENDING", "s", "g"),
		cmd("XCLAIM", "s", "g", "c3", "0", "300-1", "JUSTID"), cmd("XCLAIM", "s", "nog", "c3", "0", "300-1"),
		cmd("XCLAIM", "s", "g", "c3", "x", "300-1"), cmd("XCLAIM", "s", "g", "c3", "0", "300-1", "BOGUS"),
		cmd("XCLAIM", "s", "g", "c3", "999999999", "300-1"), cmd("XCLAIM", "s", "g", "c4", "0", "50-0", "FORCE", "RETRYCOUNT", "7", "JUSTID"),
		cmd("XPENDING", "s", "g"), cmd("XAUTOCLAIM", "s", "g", "c5", "0", "0", "COUNT", "1", "JUSTID"),
		cmd("XAUTOCLAIM", "s", "g", "c5", "0", "0", "COUNT", "0"), cmd("XAUTOCLAIM", "s", "nog", "c5", "0", "0"),
		cmd("XDEL", "s", "300-1"), cmd("XAUTOCLAIM", "s", "g", "c5", "0", "0", "JUSTID"), cmd("XPENDING", "s", "g"),
		cmd("XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "0"), cmd("XGROUP", "SETID", "s", "nog", "0"),
		cmd("XGROUP", "SETID", "s", "g", "$"), cmd("XINFO", "GROUPS", "s"),
		cmd("XGROUP", "CREATECONSUMER", "s", "g", "c1"), cmd("XGROUP", "CREATECONSUMER", "s", "g", "new"),
		cmd("XGROUP", "DELCONSUMER", "s", "g", "c5"), cmd("XGROUP", "DELCONSUMER", "s", "g", "none"),
		cmd("XGROUP", "DESTROY", "s", "g2"), cmd("XGROUP", "DESTROY", "s", "g2"), cmd("XGROUP", "DESTROY", "nokey", "g"),
		cmd("XGROUP", "HELP"), cmd("XINFO", "HELP"), cmd("XGROUP", "CREATE", "s"), cmd("XINFO", "CONSUMERS", "s", "nog"),
		cmd("XINFO", "GROUPS", "str"), cmd("OBJECT", "ENCODING", "s"), cmd("TYPE", "s"),
		cmd("XREADGROUP", "GROUP", "g", "c7", "NOACK", "STREAMS", "s", ">"),
		cmd("XADD", "s", "400-0", "h", "8"), cmd("XREADGROUP", "GROUP", "g", "c7", "NOACK", "STREAMS", "s", ">"),
		cmd("XPENDING", "s", "g"), cmd("XINFO", "GROUPS", "s"),
	})
}

// TestStreamsTrimLikeRedis compares node splitting and approximate trimming, which
// depend on the exact listpack sizes Redis computes.
func TestStreamsTrimLikeRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{Config: [][2]string{
		{"stream-node-max-entries", "5"}, {"stream-node-max-bytes", "200"},
	}})
	var steps []step
	for i := 1; i <= 40; i++ {
		id := strconv.Itoa(i) + "-0"
		if i%7 == 0 {
			steps = append(steps, cmd("XADD", "s", id, "other", "value-with-some-length", "x", strconv.Itoa(i)))
		} else {
			steps = append(steps, cmd("XADD", "s", id, "f", strconv.Itoa(i)))
		}
	}
	steps = append(steps,
		cmd("XINFO", "STREAM", "s"), cmd("XTRIM", "s", "MAXLEN", "~", "33"), cmd("XLEN", "s"),
		cmd("XTRIM", "s", "MINID", "~", "20"), cmd("XRANGE", "s", "-", "+", "COUNT", "3"),
		cmd("XTRIM", "s", "MAXLEN", "~", "5", "LIMIT", "6"), cmd("XLEN", "s"),
		cmd("XADD", "s", "MAXLEN", "~", "10", "41-0", "f", "v"), cmd("XLEN", "s"), cmd("XINFO", "STREAM", "s"),
		cmd("XDEL", "s", "30-0", "31-0"), cmd("XINFO", "STREAM", "s"), cmd("XTRIM", "s", "MAXLEN", "3"),
		cmd("XRANGE", "s", "-", "+"), cmd("XINFO", "STREAM", "s"),
	)
	runDiff(t, p, steps)
}

// TestStreamClockRepliesMatchRedis compares the replies that carry times, masking them:
// XPENDING's idle times, XINFO CONSUMERS's idle and XINFO STREAM FULL's times.
func TestStreamClockRepliesMatchRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{})
	steps := [][]string{
		{"XADD", "s", "1-1", "a", "1"}, {"XADD", "s", "1-2", "b", "2"}, {"XADD", "s", "1-3", "c", "3"},
		{"XGROUP", "CREATE", "s", "g", "0"}, {"XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"},
		{"XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"},
		{"XPENDING", "s", "g", "-", "+", "10"}, {"XPENDING", "s", "g", "-", "+", "10", "bob"},
		{"XPENDING", "s", "g", "(1-1", "+", "1"}, {"XPENDING", "s", "g", "-", "+", "10", "nobody"},
		{"XINFO", "CONSUMERS", "s", "g"}, {"XINFO", "STREAM", "s", "FULL"}, {"XINFO", "STREAM", "s", "FULL", "COUNT", "1"},
		{"XCLAIM", "s", "g", "bob", "0", "1-1", "1-2"}, {"XPENDING", "s", "g", "-", "+", "10"},
	}
	for _, proto := range []string{"2", "3"} {
		a, b := dialRaw(t, p.redis), dialRaw(t, p.ours)
		for _, c := range []*rawClient{a, b} {
			c.do("HELLO", proto)
			c.do("FLUSHALL")
		}
		for _, s := range steps {
			want := render(maskTimes(a.do(s...)), false)
			got := render(maskTimes(b.do(s...)), false)
			if got != want {
				t.Errorf("RESP%s %v:\n got %q\nwant %q", proto, s, got, want)
			}
		}
	}
}

// maskTimes replaces integers that are clock readings or idle times with 0: Unix times
// in milliseconds, and small durations sitting where XPENDING and XINFO put them.
func maskTimes(v resp.Value) resp.Value {
	if v.Kind == resp.Integer && v.Int > 1e12 {
		v.Int = 0
	}
	for i := range v.Elems {
		prev := ""
		if i > 0 {
			prev = string(v.Elems[i-1].Str)
		}
		e := v.Elems[i]
		// XPENDING extended: [id, consumer, idle, deliveries].
		if len(v.Elems) == 4 && i == 2 && e.Kind == resp.Integer && v.Elems[0].Kind == resp.BulkString && v.Elems[1].Kind == resp.BulkString {
			e.Int = 0
		}
		if prev == "idle" {
			e.Int = 0
		}
		v.Elems[i] = maskTimes(e)
	}
	return v
}
