package rdbtest

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FarFuture is an absolute expiry in 2100: no key expires during a test.
const FarFuture = 4102444800123

// FillCommands builds a data set covering every type and encoding the node serves, over
// three databases, with TTLs. Both servers run the same commands.
func FillCommands() [][]string {
	var cmds [][]string
	add := func(args ...string) { cmds = append(cmds, args) }
	expire := func(key string, i int) { add("PEXPIREAT", key, strconv.FormatInt(FarFuture+int64(i), 10)) }

	add("SELECT", "0")
	// Strings: int, int beyond 32 bits, negative, embstr, raw, LZF-compressible,
	// binary, empty, a number that is not an int encoding (leading zero).
	add("SET", "str:int", "12345")
	add("SET", "str:bigint", "1099511627776")
	add("SET", "str:negint", "-42")
	add("SET", "str:embstr", "hello world")
	add("SET", "str:raw", strings.Repeat("raw string of more than forty four bytes ", 3))
	add("SET", "str:lzf", strings.Repeat("a", 2000))
	add("SET", "str:binary", "\x00\x01\xff\xfe binary")
	add("SET", "str:empty", "")
	add("SET", "str:zero-led", "007")
	add("APPEND", "str:appended", "grown by append")
	expire("str:int", 1)
	expire("str:raw", 2)

	// Lists: small, one with many quicklist nodes, binary and integer elements.
	add("RPUSH", "list:small", "a", "1", "", "-7", "a long element of the small list")
	big := []string{"RPUSH", "list:big"}
	for i := 0; i < 3000; i++ {
		big = append(big, fmt.Sprintf("element-%d-%s", i, strings.Repeat("x", i%40)))
	}
	add(big...)
	add("LPUSH", "list:ints", "1", "2", "300", "70000", "5000000000", "-1")
	expire("list:small", 3)

	// Sorted sets: listpack, skiplist (too many members, then a too long member), and
	// scores that stress the double encoding.
	add("ZADD", "zset:listpack", "1", "one", "2.5", "two.5", "-3", "minus", "inf", "top", "-inf", "bottom", "0.1", "tenth")
	zbig := []string{"ZADD", "zset:skiplist"}
	for i := 0; i < 300; i++ {
		zbig = append(zbig, strconv.FormatFloat(float64(i)*1.25, 'g', -1, 64), fmt.Sprintf("member-%d", i))
	}
	add(zbig...)
	add("ZADD", "zset:longmember", "1", strings.Repeat("m", 100), "2", "short")
	add("ZADD", "zset:precise", "3.141592653589793", "pi", "1e-300", "tiny", "1.7976931348623157e308", "huge")
	expire("zset:skiplist", 4)

	// Streams: entries with deletions, trimming, groups with pending entries and
	// consumers, an empty stream made by a group.
	for i := 1; i <= 250; i++ {
		add("XADD", "stream:big", fmt.Sprintf("%d-%d", 1000+i, i%3), "field", strconv.Itoa(i), "other", strings.Repeat("v", i%20))
	}
	add("XDEL", "stream:big", "1010-1", "1100-1")
	add("XGROUP", "CREATE", "stream:big", "g1", "0")
	add("XGROUP", "CREATE", "stream:big", "g2", "$")
	add("XGROUP", "CREATECONSUMER", "stream:big", "g2", "idle-consumer")
	add("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", "stream:big", ">")
	add("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", "stream:big", ">")
	add("XACK", "stream:big", "g1", "1002-2")
	add("XADD", "stream:trimmed", "MAXLEN", "5", "4999-5", "a", "first")
	for i := 0; i < 20; i++ {
		add("XADD", "stream:trimmed", "MAXLEN", "5", fmt.Sprintf("%d-0", 5000+i), "a", strconv.Itoa(i))
	}
	add("XGROUP", "CREATE", "stream:empty", "grp", "$", "MKSTREAM")
	expire("stream:trimmed", 5)

	// Hashes: listpack, hashtable by count, hashtable by a long value, binary fields.
	add("HSET", "hash:listpack", "name", "value", "int", "42", "empty", "", "bin\x00", "\xff")
	hbig := []string{"HSET", "hash:hashtable"}
	for i := 0; i < 600; i++ {
		hbig = append(hbig, fmt.Sprintf("field-%d", i), strconv.Itoa(i*7))
	}
	add(hbig...)
	add("HSET", "hash:longvalue", "f", strings.Repeat("v", 100), "g", "short")
	add("HINCRBY", "hash:listpack", "counter", "5")
	expire("hash:hashtable", 8)

	// Sets: intset (including 64-bit and negative), hashtable by a string member, and
	// hashtable by count.
	add("SADD", "set:intset", "1", "-5", "300", "70000", "5000000000", "-9223372036854775808")
	add("SADD", "set:strings", "a", "b", "1", "binary\x00member")
	sbig := []string{"SADD", "set:bigints"}
	for i := 0; i < 600; i++ {
		sbig = append(sbig, strconv.Itoa(i*3))
	}
	add(sbig...)
	add("SREM", "set:intset", "300")
	expire("set:strings", 9)

	add("SELECT", "3")
	add("SET", "db3:str", "in database three")
	add("RPUSH", "db3:list", "x", "y")
	add("ZADD", "db3:zset", "1", "a")
	add("HSET", "db3:hash", "f", "v")
	add("SADD", "db3:set", "x")
	expire("db3:str", 6)

	add("SELECT", "15")
	add("SET", "db15:str", "1")
	expire("db15:str", 7)
	return cmds
}

// Run sends every command, failing the test on an error reply, and selects database 0
// again.
func Run(t testing.TB, c *Client, cmds [][]string) {
	t.Helper()
	for _, cmd := range cmds {
		if _, err := c.Do(cmd...); err != nil {
			t.Fatalf("%q: %v", cmd, err)
		}
	}
	if _, err := c.Do("SELECT", "0"); err != nil {
		t.Fatal(err)
	}
}

// RequireCoverage fails when a data set lacks one of the type/encoding pairs the fill
// commands are meant to produce, so that a comparison never passes on too little.
func RequireCoverage(t testing.TB, s *Snapshot) {
	t.Helper()
	seen := map[string]bool{}
	for _, k := range s.Keys {
		seen[k.Type+"/"+k.Encoding] = true
	}
	for _, want := range []string{"string/int", "string/embstr", "string/raw", "list/quicklist",
		"zset/listpack", "zset/skiplist", "stream/stream", "hash/listpack", "hash/hashtable",
		"set/intset", "set/hashtable"} {
		if !seen[want] {
			t.Errorf("the data set has no %s key (it has %v)", want, seen)
		}
	}
}

// Compare reports every key that differs between two servers' data sets.
func Compare(t testing.TB, got, want *Snapshot, gotName, wantName string) {
	t.Helper()
	wantKeys := map[string]Key{}
	for _, k := range want.Keys {
		wantKeys[fmt.Sprintf("%d/%q", k.DB, k.Key)] = k
	}
	bad := 0
	for _, k := range got.Keys {
		id := fmt.Sprintf("%d/%q", k.DB, k.Key)
		w, ok := wantKeys[id]
		delete(wantKeys, id)
		switch {
		case !ok:
			t.Errorf("key %s is in %s only", id, gotName)
		case !reflect.DeepEqual(k, w):
			g, x := describeKey(k), describeKey(w)
			at := 0
			for at < len(g) && at < len(x) && g[at] == x[at] {
				at++
			}
			from := max(at-200, 0)
			t.Errorf("key %s differs from byte %d:\n%s: ...%s\n%s: ...%s", id, at, gotName, clip(g[from:]), wantName, clip(x[from:]))
		default:
			continue
		}
		if bad++; bad > 10 {
			t.Fatal("too many differences")
		}
	}
	for id := range wantKeys {
		t.Errorf("key %s is in %s only", id, wantName)
	}
}

func describeKey(k Key) string {
	s := fmt.Sprintf("%s %s exp=%d", k.Type, k.Encoding, k.ExpireAt)
	switch {
	case k.Stream != nil:
		s += fmt.Sprintf(" %+v", *k.Stream)
	case k.String != "":
		s += fmt.Sprintf(" %q", k.String)
	default:
		s += fmt.Sprintf(" list=%q set=%q hash=%q zset=%q", k.List, k.Set, k.Hash, k.ZSet)
	}
	return s
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return s
}
