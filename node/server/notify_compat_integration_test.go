package server_test

import (
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/node/nodetest"
)

// TestKeyspaceEventsMatchRedis compares the keyspace notifications of a series of
// commands, as a pattern subscriber receives them.
func TestKeyspaceEventsMatchRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{Config: [][2]string{{"enable-debug-command", "yes"}}})
	script := [][]string{
		{"SET", "a", "1"}, {"SET", "a", "2", "EX", "100"}, {"INCR", "n"}, {"DECRBY", "n", "3"},
		{"INCRBYFLOAT", "f", "1.5"}, {"APPEND", "a", "x"}, {"SETRANGE", "a", "0", "y"}, {"GETDEL", "a"},
		{"MSET", "b", "1", "c", "2"}, {"SETNX", "c", "3"}, {"GETSET", "c", "4"}, {"EXPIRE", "b", "100"},
		{"PERSIST", "b"}, {"GETEX", "c", "PX", "100000"}, {"RENAME", "b", "b2"}, {"DEL", "b2", "c", "nokey"},
		{"LPUSH", "l", "1", "2"}, {"RPOP", "l"}, {"LPOP", "l"}, {"SADD", "s", "1"}, {"HSET", "h", "f", "v"},
		{"ZADD", "z", "1", "m"}, {"ZPOPMIN", "z"}, {"XADD", "x", "1-1", "f", "v"}, {"SETBIT", "bits", "1", "1"},
		{"PFADD", "hll", "a"}, {"COPY", "n", "ncopy"}, {"MOVE", "ncopy", "1"}, {"EXPIRE", "n", "0"},
		{"SET", "e", "1", "PX", "1"}, {"DEBUG", "SLEEP", "0.01"}, {"GET", "e"},
		{"MULTI"}, {"RPUSH", "q", "x"}, {"LMOVE", "q", "q2", "LEFT", "RIGHT"}, {"EXEC"},
		{"BITOP", "AND", "dest", "bits"}, {"PFMERGE", "hll2", "hll"}, {"FLUSHALL"},
	}
	var events [2][]string
	for i, n := range []*nodetest.Node{p.redis, p.ours} {
		sub, c := dialRaw(t, n), dialRaw(t, n)
		c.do("FLUSHALL")
		c.do("CONFIG", "SET", "notify-keyspace-events", "KEA")
		sub.do("PSUBSCRIBE", "__key*__:*")
		sub.multiDo(1, "SUBSCRIBE", "end")
		for _, args := range script {
			c.do(args...)
		}
		c.do("PUBLISH", "end", "x")
		for {
			v, err := sub.r.ReadValue()
			if err != nil {
				t.Fatalf("%s: reading events: %v", n.Kind, err)
			}
			s := render(v, false)
			if strings.Contains(s, "$3\r\nend\r\n") {
				break
			}
			events[i] = append(events[i], s)
		}
		c.do("CONFIG", "SET", "notify-keyspace-events", "")
	}
	if len(events[0]) < 60 {
		t.Fatalf("redis-server sent only %d events: %q", len(events[0]), events[0])
	}
	if strings.Join(events[1], "\n") != strings.Join(events[0], "\n") {
		t.Errorf("events differ:\n got %q\nwant %q", events[1], events[0])
	}
}
