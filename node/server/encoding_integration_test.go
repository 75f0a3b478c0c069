package server_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/node/nodetest"
)

// TestObjectEncodingMatchesRedis compares OBJECT ENCODING with redis-server for small and
// large values of every type, at and across each conversion threshold, with the
// thresholds moved by CONFIG SET (under their listpack and old ziplist names), over the
// commands that create, grow, shrink and store values.
func TestObjectEncodingMatchesRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{})
	enc := func(k string) cstep { return ex("OBJECT", "ENCODING", k) }
	// fill returns a command adding n members, fields or elements to key.
	fill := func(cmd, key string, n int, pairs bool) cstep {
		args := []string{cmd, key}
		for i := 0; i < n; i++ {
			if cmd == "ZADD" {
				args = append(args, strconv.Itoa(i))
			}
			args = append(args, "m"+strconv.Itoa(i))
			if pairs {
				args = append(args, "v")
			}
		}
		return ex(args...)
	}
	ints := func(key string, n int) cstep {
		args := []string{"SADD", key}
		for i := 0; i < n; i++ {
			args = append(args, strconv.Itoa(i))
		}
		return ex(args...)
	}
	v64, v65 := strings.Repeat("x", 64), strings.Repeat("x", 65)
	steps := []cstep{
		// Strings: int, embstr up to 44 bytes, raw beyond and after APPEND.
		ex("SET", "s1", "12345"), enc("s1"), ex("SET", "s2", strings.Repeat("a", 44)), enc("s2"),
		ex("SET", "s3", strings.Repeat("a", 45)), enc("s3"), ex("APPEND", "s1", "6"), enc("s1"),
		ex("SET", "s4", "-9223372036854775808"), enc("s4"), ex("SET", "s5", "01"), enc("s5"),
		ex("INCR", "s6"), enc("s6"), ex("SETRANGE", "s7", "0", "abc"), enc("s7"),
		// Lists are quicklists in 7.0 whatever their size.
		ex("RPUSH", "l1", "a"), enc("l1"), fill("RPUSH", "l2", 1000, false), enc("l2"),
		ex("RPUSH", "l3", v65), enc("l3"),
		// Hashes: listpack up to 512 fields of up to 64 bytes.
		fill("HSET", "h1", 512, true), enc("h1"), fill("HSET", "h2", 513, true), enc("h2"),
		ex("HSET", "h3", "f", v64), enc("h3"), ex("HSET", "h4", "f", v65), enc("h4"),
		ex("HSET", "h5", v65, "v"), enc("h5"), ex("HDEL", "h2", "m0", "m1"), enc("h2"),
		// Sets: intset up to 512 integers, hashtable for more or for any other member.
		ints("i1", 512), enc("i1"), ints("i2", 513), enc("i2"), ex("SADD", "i3", "a"), enc("i3"),
		ex("SADD", "i4", "1", "x"), enc("i4"), ex("SREM", "i4", "x"), enc("i4"),
		ex("SADD", "i5", "9223372036854775807"), enc("i5"), ex("SADD", "i6", "1.5"), enc("i6"),
		ex("SUNIONSTORE", "i7", "i1"), enc("i7"), ex("SINTERSTORE", "i8", "i2", "i2"), enc("i8"),
		ex("SDIFFSTORE", "i9", "i4", "i1"), enc("i9"),
		// Sorted sets: listpack up to 128 members of up to 64 bytes.
		fill("ZADD", "z1", 128, false), enc("z1"), fill("ZADD", "z2", 129, false), enc("z2"),
		ex("ZADD", "z3", "1", v64), enc("z3"), ex("ZADD", "z4", "1", v65), enc("z4"),
		ex("ZREMRANGEBYRANK", "z2", "0", "100"), enc("z2"), ex("ZRANGESTORE", "z5", "z2", "0", "-1"), enc("z5"),
		ex("ZUNIONSTORE", "z6", "1", "z2"), enc("z6"), ex("ZINCRBY", "z7", "1", v65), enc("z7"),
		// Streams.
		ex("XADD", "x1", "1-1", "f", "v"), enc("x1"), ex("XGROUP", "CREATE", "x2", "g", "$", "MKSTREAM"), enc("x2"),
		// Thresholds moved at run time, under both names.
		ex("CONFIG", "SET", "hash-max-listpack-entries", "2"), fill("HSET", "h6", 2, true), enc("h6"),
		ex("HSET", "h6", "new", "v"), enc("h6"), ex("CONFIG", "SET", "hash-max-ziplist-value", "3"),
		ex("HSET", "h7", "abc", "abc"), enc("h7"), ex("HSET", "h7", "abcd", "v"), enc("h7"),
		ex("CONFIG", "SET", "hash-max-listpack-entries", "512"), ex("CONFIG", "SET", "hash-max-listpack-value", "64"),
		ex("CONFIG", "SET", "set-max-intset-entries", "3"), ints("i10", 3), enc("i10"), ex("SADD", "i10", "3"), enc("i10"),
		ex("SUNIONSTORE", "i11", "i10"), enc("i11"), ex("CONFIG", "SET", "set-max-intset-entries", "0"),
		ex("SADD", "i12", "1"), enc("i12"), ex("CONFIG", "SET", "set-max-intset-entries", "512"),
		ex("CONFIG", "SET", "zset-max-listpack-entries", "3"), fill("ZADD", "z8", 3, false), enc("z8"),
		ex("ZADD", "z8", "9", "new"), enc("z8"), ex("CONFIG", "SET", "zset-max-ziplist-entries", "0"),
		ex("ZADD", "z9", "1", "a"), enc("z9"), ex("CONFIG", "SET", "zset-max-listpack-entries", "128"),
		ex("CONFIG", "SET", "zset-max-ziplist-value", "2"), ex("ZADD", "z10", "1", "abc"), enc("z10"),
		ex("CONFIG", "SET", "zset-max-listpack-value", "64"),
		ex("CONFIG", "SET", "list-max-listpack-size", "2"), fill("RPUSH", "l4", 5, false), enc("l4"),
		ex("CONFIG", "SET", "list-max-ziplist-size", "-2"),
		// Copies keep their encoding.
		ex("COPY", "h1", "h1c"), enc("h1c"), ex("COPY", "i2", "i2c"), enc("i2c"), ex("COPY", "z1", "z1c"), enc("z1c"),
		ex("RENAME", "z4", "z4r"), enc("z4r"), enc("nokey"),
	}
	runCollectionDiff(t, p, steps)
}
