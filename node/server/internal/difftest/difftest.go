// Package difftest generates the randomized command sequences of the differential test:
// the same sequence goes to a real redis-server and to clusterctl server, and every reply
// must be the same.
//
// Every command is drawn from a fixed seed, so a failure is reproduced by its seed and
// index. The keyspace is small (a few dozen keys shared by every family, each family
// favouring some of them) so that commands collide: they meet keys of other types
// (WRONGTYPE), missing keys, empty results and encoding conversions; a config family
// moves the encoding thresholds so OBJECT ENCODING is compared on both sides of them.
// Nothing depends on randomness on the server side: stream entries carry explicit IDs and
// pending entries are read only through their counts, and the random commands (SPOP,
// SRANDMEMBER, HRANDFIELD, ZRANDMEMBER) are drawn only with counts that take all or
// nothing. Replies that read the clock (EXPIRETIME after a relative TTL) carry a
// tolerance, and replies in a hash table's order are compared as multisets.
package difftest

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Compare says how a reply is compared.
type Compare int

const (
	// Exact replies are compared byte for byte.
	Exact Compare = iota
	// Unordered replies are arrays whose order is a hash table's (KEYS, SMEMBERS): their
	// elements are compared as a multiset.
	Unordered
	// UnorderedPairs replies are arrays of pairs in hash table order (HGETALL, or
	// HRANDFIELD WITHVALUES: flat in RESP2, nested in RESP3): compared as a multiset of
	// pairs.
	UnorderedPairs
	// ScanMembers replies are [cursor, members] (SSCAN, SCAN): the members are compared
	// as a multiset.
	ScanMembers
	// ScanPairs replies are [cursor, flat pairs] (HSCAN, ZSCAN): the pairs are compared
	// as a multiset.
	ScanPairs
)

// Command is one generated request.
type Command struct {
	Args    []string
	Compare Compare
	// Tolerance, when positive, lets integer replies differ by up to this much: they read
	// a clock (EXPIRETIME of a key given a relative TTL, TTL), and the two servers run
	// the command a few milliseconds apart.
	Tolerance int64
}

// String renders the command as redis-cli would take it.
func (c Command) String() string {
	parts := make([]string, len(c.Args))
	for i, a := range c.Args {
		if a == "" || strings.ContainsAny(a, " \"\\") {
			a = strconv.Quote(a)
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}

// Family is a group of commands the generator can draw from.
type Family struct {
	Name string
	// Weight is the family's share of the commands.
	Weight int
	gen    func(g *Generator) Command
}

// Families returns every family, in a fixed order.
func Families() []Family {
	return []Family{
		{"strings", 3, (*Generator).strings},
		{"keys", 2, (*Generator).keys},
		{"bitmaps", 2, (*Generator).bitmaps},
		{"hyperloglog", 1, (*Generator).hll},
		{"zsets", 4, (*Generator).zsets},
		{"streams", 4, (*Generator).streams},
		{"lists", 3, (*Generator).lists},
		{"hashes", 3, (*Generator).hashes},
		{"sets", 3, (*Generator).sets},
		{"sort", 1, (*Generator).sort},
		{"config", 1, (*Generator).config},
	}
}

// Generator draws commands.
type Generator struct {
	rng      *rand.Rand
	families []Family
	total    int
	// streamMs is the millisecond part of the next stream ID; mostly growing, sometimes
	// reused or stepped back to provoke "ID equal or smaller" errors.
	streamMs int
	// counts are the commands drawn per family.
	counts map[string]int
}

// New returns a generator of commands from families (all of them when none is given)
// drawn from seed.
func New(seed uint64, families ...Family) *Generator {
	if len(families) == 0 {
		families = Families()
	}
	g := &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), families: families,
		streamMs: 1, counts: map[string]int{}}
	for _, f := range families {
		g.total += f.Weight
	}
	return g
}

// Next returns the next command.
func (g *Generator) Next() Command {
	n := g.rng.IntN(g.total)
	for _, f := range g.families {
		if n < f.Weight {
			g.counts[f.Name]++
			return f.gen(g)
		}
		n -= f.Weight
	}
	panic("unreachable")
}

// Counts returns how many commands of each family were drawn.
func (g *Generator) Counts() map[string]int { return g.counts }

// --- drawing helpers ---

func (g *Generator) intn(n int) int           { return g.rng.IntN(n) }
func (g *Generator) chance(pct int) bool      { return g.rng.IntN(100) < pct }
func (g *Generator) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }
func (g *Generator) num(lo, hi int) string    { return strconv.Itoa(lo + g.rng.IntN(hi-lo+1)) }

// keyCount is the size of the shared keyspace.
const keyCount = 36

// key returns a key of the family whose favourite keys start at base: usually one of its
// eight, sometimes any key at all, so families meet each other's values.
func (g *Generator) key(base int) string {
	if g.chance(15) {
		return "k" + strconv.Itoa(g.intn(keyCount))
	}
	return "k" + strconv.Itoa((base+g.intn(8))%keyCount)
}

// Favourite key ranges of the families; neighbours overlap.
const (
	baseStrings = 0
	baseBitmaps = 4
	baseHLL     = 8
	baseZSets   = 12
	baseStreams = 18
	baseLists   = 24
	baseHashes  = 28
	baseSets    = 32
)

// value returns a short value; some are numbers, one is long enough to leave the
// compact encodings.
func (g *Generator) value() string {
	switch g.intn(12) {
	case 0:
		return ""
	case 1:
		return strings.Repeat("v", 70)
	case 2:
		return g.num(-5, 20)
	case 3:
		return g.pick("3.5", "-0.25", "1e3", "12345678901234567890")
	}
	return g.pick("a", "b", "c", "d", "e", "hello", "x y", "abc")
}

// --- strings ---

// farFuture is an absolute time (2100-01-01) plus a little, so EXPIRETIME replies are
// the same on both servers.
func (g *Generator) farFuture() int { return 4102444800 + g.intn(1000) }

func (g *Generator) strings() Command {
	k := g.key(baseStrings)
	switch g.intn(22) {
	case 0, 1:
		args := []string{"SET", k, g.value()}
		switch g.intn(6) {
		case 0:
			args = append(args, "NX")
		case 1:
			args = append(args, "XX", "GET")
		case 2:
			args = append(args, "EXAT", strconv.Itoa(g.farFuture()))
		case 3:
			args = append(args, "KEEPTTL")
		case 4:
			args = append(args, "GET")
		}
		return cmd(args...)
	case 2, 3:
		return cmd("GET", k)
	case 4:
		return cmd("APPEND", k, g.value())
	case 5:
		return cmd(g.pick("INCR", "DECR"), k)
	case 6:
		return cmd(g.pick("INCRBY", "DECRBY"), k, g.num(-100, 100))
	case 7:
		return cmd("INCRBYFLOAT", k, g.pick("1.5", "-0.5", "10", "2.25", "x"))
	case 8:
		return cmd("STRLEN", k)
	case 9:
		return cmd("GETRANGE", k, g.num(-5, 5), g.num(-5, 10))
	case 10:
		return cmd("SETRANGE", k, g.num(0, 10), g.value())
	case 11:
		return cmd("MSET", k, g.value(), g.key(baseStrings), g.value())
	case 12:
		return cmd("MGET", k, g.key(baseStrings), g.key(baseStrings))
	case 13:
		return cmd("SETNX", k, g.value())
	case 14:
		return cmd("GETSET", k, g.value())
	case 15:
		return cmd("GETDEL", k)
	case 16:
		return cmd("LCS", k, g.key(baseStrings), g.pick("LEN", "IDX", "IDX"))
	case 17:
		switch g.intn(3) {
		case 0:
			return cmd("GETEX", k)
		case 1:
			return cmd("GETEX", k, "PERSIST")
		}
		return cmd("GETEX", k, "EXAT", strconv.Itoa(g.farFuture()))
	case 18:
		return cmd("MSETNX", k, g.value(), g.key(baseStrings), g.value())
	case 19:
		return cmd("SETEX", k, g.num(100000, 200000), g.value())
	case 20:
		return cmd("OBJECT", "ENCODING", k)
	}
	return cmd("SUBSTR", k, g.num(0, 3), g.num(0, 6))
}

// cmd makes an exactly compared command.
func cmd(args ...string) Command { return Command{Args: args} }

// --- keys and expiry ---

func (g *Generator) keys() Command {
	k := g.key(g.intn(keyCount))
	switch g.intn(19) {
	case 0, 1:
		return cmd("DEL", k, g.key(g.intn(keyCount)))
	case 2:
		return cmd("EXISTS", k, k, g.key(0))
	case 3, 4:
		return cmd("TYPE", k)
	case 5:
		return cmd("RENAME", k, g.key(g.intn(keyCount)))
	case 6:
		return cmd("RENAMENX", k, g.key(g.intn(keyCount)))
	case 7:
		args := []string{"COPY", k, g.key(g.intn(keyCount))}
		if g.chance(50) {
			args = append(args, "REPLACE")
		}
		return cmd(args...)
	case 8:
		at := g.farFuture()
		if g.chance(10) {
			at = 1 // in the past: deletes the key
		}
		args := []string{"EXPIREAT", k, strconv.Itoa(at)}
		if g.chance(40) {
			args = append(args, g.pick("NX", "XX", "GT", "LT"))
		}
		return cmd(args...)
	case 9:
		return cmd("PEXPIREAT", k, strconv.Itoa(g.farFuture()*1000+g.intn(1000)))
	case 10:
		// A relative expiry far away: the reply (0 or 1) does not depend on the clock.
		return cmd("EXPIRE", k, g.num(100000, 999999), g.pick("NX", "XX", "GT", "LT"))
	case 11:
		return cmd("PERSIST", k)
	case 12, 13:
		// SETEX and EXPIRE set relative TTLs, so these replies read the clock.
		switch name := g.pick("EXPIRETIME", "PEXPIRETIME", "TTL", "PTTL"); name {
		case "EXPIRETIME", "TTL":
			return Command{Args: []string{name, k}, Tolerance: 2}
		default:
			return Command{Args: []string{name, k}, Tolerance: 2000}
		}
	case 14:
		return cmd("TOUCH", k, g.key(0))
	case 15:
		return cmd("UNLINK", k)
	case 16:
		return cmd("DBSIZE")
	case 17:
		// The whole keyspace fits in one call; its order is the main table's.
		args := []string{"SCAN", "0", "COUNT", "1000"}
		if g.chance(50) {
			args = append(args, "TYPE", g.pick("string", "list", "set", "zset", "hash", "stream"))
		}
		if g.chance(30) {
			args = append(args, "MATCH", g.pick("k1*", "k?"))
		}
		return Command{Args: args, Compare: ScanMembers}
	}
	return Command{Args: []string{"KEYS", g.pick("*", "k1*", "k?", "*[0-3]")}, Compare: Unordered}
}

// --- bitmaps ---

func (g *Generator) bitmaps() Command {
	k := g.key(baseBitmaps)
	unit := func() []string {
		if g.chance(50) {
			return []string{g.pick("BYTE", "BIT")}
		}
		return nil
	}
	switch g.intn(10) {
	case 0, 1, 2:
		return cmd("SETBIT", k, g.num(0, 200), g.pick("0", "1", "1"))
	case 3:
		return cmd("GETBIT", k, g.num(0, 220))
	case 4:
		if g.chance(30) {
			return cmd("BITCOUNT", k)
		}
		return cmd(append([]string{"BITCOUNT", k, g.num(-10, 10), g.num(-10, 30)}, unit()...)...)
	case 5:
		args := []string{"BITPOS", k, g.pick("0", "1")}
		if g.chance(60) {
			args = append(args, g.num(-5, 10))
			if g.chance(60) {
				args = append(args, g.num(-5, 30))
				args = append(args, unit()...)
			}
		}
		return cmd(args...)
	case 6:
		op := g.pick("AND", "OR", "XOR", "NOT")
		if op == "NOT" {
			return cmd("BITOP", op, g.key(baseBitmaps), k)
		}
		return cmd("BITOP", op, g.key(baseBitmaps), k, g.key(baseBitmaps))
	case 7, 8:
		args := []string{"BITFIELD", k}
		for n := 1 + g.intn(3); n > 0; n-- {
			typ := g.pick("u8", "i5", "u1", "i16", "u63")
			switch g.intn(4) {
			case 0:
				args = append(args, "GET", typ, g.num(0, 40))
			case 1:
				args = append(args, "SET", typ, "#"+g.num(0, 4), g.num(-300, 300))
			case 2:
				args = append(args, "OVERFLOW", g.pick("WRAP", "SAT", "FAIL"))
			default:
				args = append(args, "INCRBY", typ, g.num(0, 40), g.num(-200, 200))
			}
		}
		return cmd(args...)
	}
	return cmd("BITFIELD_RO", k, "GET", g.pick("u8", "i7"), g.num(0, 30))
}

// --- HyperLogLog ---

func (g *Generator) hll() Command {
	k := g.key(baseHLL)
	switch g.intn(4) {
	case 0, 1:
		args := []string{"PFADD", k}
		for n := g.intn(6); n > 0; n-- {
			args = append(args, "e"+g.num(0, 300))
		}
		return cmd(args...)
	case 2:
		if g.chance(50) {
			return cmd("PFCOUNT", k)
		}
		return cmd("PFCOUNT", k, g.key(baseHLL))
	}
	return cmd("PFMERGE", g.key(baseHLL), k, g.key(baseHLL))
}

// --- sorted sets ---

func (g *Generator) member() string {
	if g.chance(3) {
		return strings.Repeat("m", 70) // beyond zset-max-listpack-value
	}
	return "m" + g.num(0, 20)
}

func (g *Generator) score() string {
	switch g.intn(12) {
	case 0:
		return g.pick("inf", "-inf", "+inf")
	case 1:
		return g.pick("1.5", "-2.25", "0.1", "1e3", "-0")
	case 2:
		return g.pick("x", "nan", "")
	}
	return g.num(-10, 30)
}

func (g *Generator) scoreBound() string {
	switch g.intn(8) {
	case 0:
		return g.pick("-inf", "+inf")
	case 1:
		return "(" + g.num(-10, 30)
	case 2:
		return g.pick("x", "(", "1.5")
	}
	return g.num(-10, 30)
}

func (g *Generator) lexBound() string {
	switch g.intn(6) {
	case 0:
		return g.pick("-", "+")
	case 1:
		return g.pick("x", "m1")
	}
	return g.pick("[", "(") + g.member()
}

// lexKey returns one of the sorted sets whose members all score 0. Lex ranges are only
// defined over equal scores: over mixed ones Redis's reply depends on the encoding and,
// for a skiplist, on its random levels.
func (g *Generator) lexKey() string { return "lex" + g.num(0, 2) }

func (g *Generator) zsets() Command {
	k := g.key(baseZSets)
	switch g.intn(28) {
	case 0, 1, 2, 3:
		if g.chance(25) {
			args := []string{"ZADD", g.lexKey()}
			for n := 1 + g.intn(4); n > 0; n-- {
				args = append(args, "0", g.member())
			}
			return cmd(args...)
		}
		args := []string{"ZADD", k}
		if g.chance(30) {
			args = append(args, strings.Fields(g.pick("NX", "XX", "GT", "LT", "CH", "INCR", "GT CH", "NX XX"))...)
		}
		for n := 1 + g.intn(4); n > 0; n-- {
			args = append(args, g.score(), g.member())
		}
		return cmd(args...)
	case 4:
		return cmd("ZINCRBY", k, g.score(), g.member())
	case 5:
		return cmd("ZREM", k, g.member(), g.member())
	case 6:
		return cmd("ZCARD", k)
	case 7:
		return cmd("ZSCORE", k, g.member())
	case 8:
		return cmd("ZMSCORE", k, g.member(), g.member())
	case 9:
		return cmd(g.pick("ZRANK", "ZREVRANK"), k, g.member())
	case 10:
		return cmd("ZCOUNT", k, g.scoreBound(), g.scoreBound())
	case 11:
		return cmd("ZLEXCOUNT", g.lexKey(), g.lexBound(), g.lexBound())
	case 12, 13:
		args := []string{"ZRANGE", k}
		switch g.intn(3) {
		case 0:
			args = append(args, g.num(-5, 5), g.num(-5, 20))
		case 1:
			args = append(args, g.scoreBound(), g.scoreBound(), "BYSCORE")
		default:
			args = []string{"ZRANGE", g.lexKey(), g.lexBound(), g.lexBound(), "BYLEX"}
		}
		if g.chance(30) {
			args = append(args, "REV")
		}
		if g.chance(30) {
			args = append(args, "LIMIT", g.num(-1, 3), g.num(-1, 5))
		}
		if g.chance(50) {
			args = append(args, "WITHSCORES")
		}
		return cmd(args...)
	case 14:
		return cmd(g.pick("ZRANGEBYSCORE", "ZREVRANGEBYSCORE"), k, g.scoreBound(), g.scoreBound(), "WITHSCORES")
	case 15:
		return cmd(g.pick("ZRANGEBYLEX", "ZREVRANGEBYLEX"), g.lexKey(), g.lexBound(), g.lexBound())
	case 16:
		return cmd("ZREVRANGE", k, g.num(-5, 5), g.num(-5, 10), "WITHSCORES")
	case 17:
		return cmd("ZRANGESTORE", g.key(baseZSets), k, g.num(-5, 5), g.num(-5, 10))
	case 18:
		switch g.intn(3) {
		case 0:
			return cmd("ZREMRANGEBYRANK", k, g.num(-5, 5), g.num(-5, 5))
		case 1:
			return cmd("ZREMRANGEBYSCORE", k, g.scoreBound(), g.scoreBound())
		}
		return cmd("ZREMRANGEBYLEX", g.lexKey(), g.lexBound(), g.lexBound())
	case 19:
		args := []string{g.pick("ZPOPMIN", "ZPOPMAX"), k}
		if g.chance(50) {
			args = append(args, g.num(-1, 4))
		}
		return cmd(args...)
	case 20:
		args := []string{"ZMPOP", "2", k, g.key(baseZSets), g.pick("MIN", "MAX")}
		if g.chance(50) {
			args = append(args, "COUNT", g.num(0, 3))
		}
		return cmd(args...)
	case 21, 22:
		op := g.pick("ZUNION", "ZINTER", "ZDIFF")
		args := []string{op, "2", k, g.key(baseZSets)}
		if op != "ZDIFF" && g.chance(40) {
			args = append(args, "WEIGHTS", g.pick("1", "2", "-1", "0.5"), g.pick("1", "3", "inf"))
		}
		if op != "ZDIFF" && g.chance(40) {
			args = append(args, "AGGREGATE", g.pick("SUM", "MIN", "MAX"))
		}
		if g.chance(50) {
			args = append(args, "WITHSCORES")
		}
		return cmd(args...)
	case 23:
		op := g.pick("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE")
		return cmd(op, g.key(baseZSets), "2", k, g.key(baseZSets))
	case 24:
		args := []string{"ZINTERCARD", "2", k, g.key(baseZSets)}
		if g.chance(50) {
			args = append(args, "LIMIT", g.num(0, 3))
		}
		return cmd(args...)
	case 25:
		// Only the deterministic forms: the whole set (count at least its size) or an
		// empty key.
		return cmd("ZRANDMEMBER", k, g.num(100, 200), "WITHSCORES")
	case 26:
		// ZSCAN returns a listpack whole; a skiplist's order is its hash table's.
		return Command{Args: []string{"ZSCAN", k, "0", "COUNT", "1000"}, Compare: ScanPairs}
	}
	return cmd("OBJECT", "ENCODING", k)
}

// --- streams ---

// streamID returns an explicit ID: mostly after the previous one, sometimes equal or
// older (an error unless the key is another stream), sometimes with "-*".
func (g *Generator) streamID() string {
	switch g.intn(10) {
	case 0:
		return strconv.Itoa(max(g.streamMs-g.intn(3), 0)) + "-" + g.num(0, 2)
	case 1:
		g.streamMs++
		return strconv.Itoa(g.streamMs) + "-*"
	}
	g.streamMs += g.intn(3)
	return strconv.Itoa(g.streamMs) + "-" + g.num(1, 3)
}

// oldID returns an ID in the range already used, for XDEL, XRANGE, XACK...
func (g *Generator) oldID() string {
	switch g.intn(8) {
	case 0:
		return g.pick("0", "0-0", "x")
	}
	return strconv.Itoa(g.intn(g.streamMs+1)) + "-" + g.num(0, 3)
}

func (g *Generator) group() string    { return g.pick("g1", "g1", "g2", "nog") }
func (g *Generator) consumer() string { return g.pick("alice", "bob", "carol") }

func (g *Generator) streams() Command {
	k := g.key(baseStreams)
	switch g.intn(26) {
	case 0, 1, 2, 3, 4, 5:
		args := []string{"XADD", k}
		if g.chance(5) {
			args = append(args, "NOMKSTREAM")
		}
		if g.chance(15) {
			if g.chance(50) {
				args = append(args, "MAXLEN", g.pick("=", "~", "="), g.num(0, 10))
			} else {
				args = append(args, "MINID", g.oldID())
			}
		}
		args = append(args, g.streamID())
		for n := 1 + g.intn(2); n > 0; n-- {
			args = append(args, g.pick("f", "g", "h"), g.value())
		}
		return cmd(args...)
	case 6:
		return cmd("XLEN", k)
	case 7, 8:
		args := []string{g.pick("XRANGE", "XREVRANGE"), k}
		lo, hi := g.pick("-", g.oldID(), "("+g.oldID()), g.pick("+", g.oldID())
		if args[0] == "XREVRANGE" {
			lo, hi = hi, lo
		}
		args = append(args, lo, hi)
		if g.chance(40) {
			args = append(args, "COUNT", g.num(-1, 5))
		}
		return cmd(args...)
	case 9:
		return cmd("XDEL", k, g.oldID(), g.oldID())
	case 10:
		if g.chance(50) {
			return cmd("XTRIM", k, "MAXLEN", g.pick("=", "~"), g.num(0, 8))
		}
		return cmd("XTRIM", k, "MINID", g.oldID())
	case 11, 12:
		args := []string{"XGROUP", "CREATE", k, g.group(), g.pick("0", "$", g.oldID())}
		if g.chance(30) {
			args = append(args, "MKSTREAM")
		}
		return cmd(args...)
	case 13:
		return cmd("XGROUP", "SETID", k, g.group(), g.pick("0", "$", g.oldID()))
	case 14:
		switch g.intn(3) {
		case 0:
			return cmd("XGROUP", "DESTROY", k, g.group())
		case 1:
			return cmd("XGROUP", "CREATECONSUMER", k, g.group(), g.consumer())
		}
		return cmd("XGROUP", "DELCONSUMER", k, g.group(), g.consumer())
	case 15, 16, 17:
		args := []string{"XREADGROUP", "GROUP", g.group(), g.consumer()}
		if g.chance(50) {
			args = append(args, "COUNT", g.num(1, 3))
		}
		if g.chance(20) {
			args = append(args, "NOACK")
		}
		return cmd(append(args, "STREAMS", k, g.pick(">", ">", "0", g.oldID()))...)
	case 18:
		args := []string{"XREAD"}
		if g.chance(50) {
			args = append(args, "COUNT", g.num(1, 3))
		}
		return cmd(append(args, "STREAMS", k, g.key(baseStreams), g.oldID(), g.oldID())...)
	case 19:
		return cmd("XACK", k, g.group(), g.oldID(), g.oldID())
	case 20:
		return cmd("XPENDING", k, g.group())
	case 21:
		args := []string{"XCLAIM", k, g.group(), g.consumer(), "0", g.oldID(), g.oldID()}
		if g.chance(50) {
			args = append(args, "JUSTID")
		}
		return cmd(args...)
	case 22:
		return cmd("XAUTOCLAIM", k, g.group(), g.consumer(), "0", g.pick("0", g.oldID()), "COUNT", g.num(1, 4))
	case 23:
		return cmd("XINFO", "GROUPS", k)
	case 24:
		g.streamMs++
		return cmd("XSETID", k, strconv.Itoa(g.streamMs)+"-0")
	}
	if g.chance(50) {
		return cmd("OBJECT", "ENCODING", k)
	}
	return cmd("TYPE", k)
}

// --- lists ---

func (g *Generator) element() string {
	if g.chance(4) {
		return strings.Repeat("e", 70)
	}
	return g.pick("a", "b", "c", "d", "1", "2", "300", "-7")
}

func (g *Generator) lists() Command {
	k := g.key(baseLists)
	switch g.intn(20) {
	case 0, 1, 2, 3:
		args := []string{g.pick("LPUSH", "RPUSH", "LPUSHX", "RPUSHX"), k}
		for n := 1 + g.intn(3); n > 0; n-- {
			args = append(args, g.element())
		}
		return cmd(args...)
	case 4:
		args := []string{g.pick("LPOP", "RPOP"), k}
		if g.chance(40) {
			args = append(args, g.num(0, 3))
		}
		return cmd(args...)
	case 5:
		return cmd("LLEN", k)
	case 6, 7:
		return cmd("LRANGE", k, g.num(-5, 5), g.num(-5, 10))
	case 8:
		return cmd("LINDEX", k, g.num(-5, 5))
	case 9:
		return cmd("LSET", k, g.num(-3, 3), g.element())
	case 10:
		return cmd("LINSERT", k, g.pick("BEFORE", "AFTER"), g.element(), g.element())
	case 11:
		return cmd("LREM", k, g.num(-2, 2), g.element())
	case 12:
		return cmd("LTRIM", k, g.num(-5, 3), g.num(-3, 10))
	case 13:
		args := []string{"LPOS", k, g.element()}
		if g.chance(50) {
			args = append(args, "RANK", g.pick("1", "-1", "2", "0"))
		}
		if g.chance(50) {
			args = append(args, "COUNT", g.num(0, 3))
		}
		if g.chance(30) {
			args = append(args, "MAXLEN", g.num(0, 5))
		}
		return cmd(args...)
	case 14:
		return cmd("LMOVE", k, g.key(baseLists), g.pick("LEFT", "RIGHT"), g.pick("LEFT", "RIGHT"))
	case 15:
		return cmd("RPOPLPUSH", k, g.key(baseLists))
	case 16:
		args := []string{"LMPOP", "2", k, g.key(baseLists), g.pick("LEFT", "RIGHT")}
		if g.chance(50) {
			args = append(args, "COUNT", g.num(1, 3))
		}
		return cmd(args...)
	}
	return cmd("OBJECT", "ENCODING", k)
}

// --- hashes ---

func (g *Generator) field() string {
	if g.chance(3) {
		return strings.Repeat("f", 70) // beyond hash-max-listpack-value
	}
	return "f" + g.num(0, 9)
}

func (g *Generator) hashes() Command {
	k := g.key(baseHashes)
	switch g.intn(22) {
	case 0, 1, 2, 3:
		args := []string{g.pick("HSET", "HSET", "HMSET"), k}
		for n := 1 + g.intn(3); n > 0; n-- {
			args = append(args, g.field(), g.value())
		}
		return cmd(args...)
	case 4:
		return cmd("HSETNX", k, g.field(), g.value())
	case 5, 6:
		return cmd("HGET", k, g.field())
	case 7:
		return cmd("HMGET", k, g.field(), g.field())
	case 8:
		return cmd("HDEL", k, g.field(), g.field())
	case 9:
		return cmd("HLEN", k)
	case 10:
		return cmd("HSTRLEN", k, g.field())
	case 11:
		return cmd("HEXISTS", k, g.field())
	case 12:
		return cmd("HINCRBY", k, g.field(), g.pick(g.num(-100, 100), "x", "9223372036854775807"))
	case 13:
		return cmd("HINCRBYFLOAT", k, g.field(), g.pick("1.5", "-0.25", "10", "1e3", "x", "inf"))
	case 14, 15:
		// A listpack replies in insertion order, a hash table in its own.
		switch g.intn(3) {
		case 0:
			return Command{Args: []string{"HGETALL", k}, Compare: UnorderedPairs}
		case 1:
			return Command{Args: []string{"HKEYS", k}, Compare: Unordered}
		}
		return Command{Args: []string{"HVALS", k}, Compare: Unordered}
	case 16:
		return Command{Args: []string{"HSCAN", k, "0", "COUNT", "1000"}, Compare: ScanPairs}
	case 17:
		// Only the deterministic forms: the whole hash (count at least its size) or none.
		if g.chance(20) {
			return cmd("HRANDFIELD", k, "0")
		}
		if g.chance(50) {
			return Command{Args: []string{"HRANDFIELD", k, g.num(20, 100), "WITHVALUES"}, Compare: UnorderedPairs}
		}
		return Command{Args: []string{"HRANDFIELD", k, g.num(20, 100)}, Compare: Unordered}
	}
	return cmd("OBJECT", "ENCODING", k)
}

// --- sets ---

func (g *Generator) setMember() string {
	switch g.intn(10) {
	case 0:
		return strings.Repeat("s", 70)
	case 1, 2, 3:
		return g.pick("a", "b", "c", "d", "e")
	}
	return g.num(-3, 20)
}

func (g *Generator) setKeys(k string) []string {
	keys := []string{k, g.key(baseSets)}
	if g.chance(30) {
		keys = append(keys, g.key(baseSets))
	}
	return keys
}

func (g *Generator) sets() Command {
	k := g.key(baseSets)
	switch g.intn(24) {
	case 0, 1, 2, 3, 4:
		args := []string{"SADD", k}
		for n := 1 + g.intn(4); n > 0; n-- {
			args = append(args, g.setMember())
		}
		return cmd(args...)
	case 5:
		return cmd("SREM", k, g.setMember(), g.setMember())
	case 6:
		return cmd("SISMEMBER", k, g.setMember())
	case 7:
		return cmd("SMISMEMBER", k, g.setMember(), g.setMember())
	case 8:
		return cmd("SCARD", k)
	case 9, 10:
		// An intset replies in ascending order, a hash table in its own.
		return Command{Args: []string{"SMEMBERS", k}, Compare: Unordered}
	case 11, 12:
		op := g.pick("SINTER", "SUNION", "SDIFF")
		return Command{Args: append([]string{op}, g.setKeys(k)...), Compare: Unordered}
	case 13, 14:
		op := g.pick("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE")
		return cmd(append([]string{op, g.key(baseSets)}, g.setKeys(k)...)...)
	case 15:
		keys := g.setKeys(k)
		args := append([]string{"SINTERCARD", strconv.Itoa(len(keys))}, keys...)
		if g.chance(50) {
			args = append(args, "LIMIT", g.num(0, 3))
		}
		return cmd(args...)
	case 16:
		return cmd("SMOVE", k, g.key(baseSets), g.setMember())
	case 17:
		return Command{Args: []string{"SSCAN", k, "0", "COUNT", "1000"}, Compare: ScanMembers}
	case 18:
		// Only the deterministic forms: every member or none.
		if g.chance(30) {
			return cmd(g.pick("SRANDMEMBER", "SPOP"), k, "0")
		}
		return Command{Args: []string{g.pick("SRANDMEMBER", "SRANDMEMBER", "SPOP"), k, g.num(40, 100)}, Compare: Unordered}
	}
	return cmd("OBJECT", "ENCODING", k)
}

// --- SORT ---

// sort draws SORT and SORT_RO over any family's keys. BY nosort on a set replies in its
// table's order, so it goes without LIMIT or STORE and is compared as a multiset.
func (g *Generator) sort() Command {
	k := g.key([]int{baseLists, baseSets, baseZSets, baseHashes}[g.intn(4)])
	name := g.pick("SORT", "SORT", "SORT_RO")
	args := []string{name, k}
	if g.chance(20) {
		args = append(args, "BY", "nosort")
		if g.chance(50) {
			args = append(args, g.pick("ASC", "DESC"))
		}
		return Command{Args: args, Compare: Unordered}
	}
	by, alpha := g.chance(40), g.chance(40)
	if by {
		args = append(args, "BY", g.pick("k*", "k*->f1", "nokey*"))
	}
	if alpha {
		args = append(args, "ALPHA")
	}
	if g.chance(30) {
		args = append(args, "DESC")
	}
	// With BY and ALPHA, Redis's sortCompare calls equal weights (missing keys) a tie and
	// leaves them in the order the value was read, a hash table's for sets and sorted
	// sets: compare as a multiset, without LIMIT or STORE, which would keep that order.
	// Numeric ties fall back to comparing the elements and are deterministic.
	tie := by && alpha
	if !tie && g.chance(30) {
		args = append(args, "LIMIT", g.num(-1, 3), g.num(-1, 4))
	}
	for n := g.intn(3); n > 0; n-- {
		args = append(args, "GET", g.pick("#", "k*", "k*->f2"))
	}
	if tie {
		return Command{Args: args, Compare: Unordered}
	}
	if name == "SORT" && g.chance(25) {
		args = append(args, "STORE", g.key(baseLists))
	}
	return cmd(args...)
}

// --- encoding thresholds ---

// config moves the encoding thresholds up and down, so values cross them both ways and
// OBJECT ENCODING is compared on each side.
func (g *Generator) config() Command {
	switch g.intn(5) {
	case 0:
		return cmd("CONFIG", "SET", g.pick("hash-max-listpack-entries", "hash-max-ziplist-entries"), g.pick("2", "4", "512"))
	case 1:
		return cmd("CONFIG", "SET", g.pick("hash-max-listpack-value", "zset-max-listpack-value"), g.pick("3", "64"))
	case 2:
		return cmd("CONFIG", "SET", "set-max-intset-entries", g.pick("2", "5", "512"))
	case 3:
		return cmd("CONFIG", "SET", g.pick("zset-max-listpack-entries", "zset-max-ziplist-entries"), g.pick("0", "3", "128"))
	}
	return cmd("CONFIG", "SET", "list-max-listpack-size", g.pick("-2", "4", "-1"))
}
