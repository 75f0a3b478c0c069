package zset

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/node/datatype/internal/redistest"
	"github.com/clusterctl/clusterctl/node/resp"
)

var testLimits = Limits{MaxListpackEntries: 8, MaxListpackValue: 10}

var errWrongType = rerr("WRONGTYPE Operation against a key holding the wrong kind of value")

// keyspace is what a command handler would give this package: sorted sets and plain
// sets (map members) as values.
type keyspace map[string]any

func errV(err error) resp.Value { return resp.Value{Kind: resp.Error, Str: []byte(err.Error())} }
func intV(n int64) resp.Value   { return resp.Value{Kind: resp.Integer, Int: n} }
func bulkV(s string) resp.Value { return resp.Value{Kind: resp.BulkString, Str: []byte(s)} }
func nilV() resp.Value          { return resp.Value{Kind: resp.BulkString, IsNull: true} }
func scoreV(f float64) resp.Value {
	return resp.Value{Kind: resp.BulkString, Str: resp.FormatDouble(nil, f)}
}

func entriesV(es []Entry, withScores bool) resp.Value {
	v := resp.Value{Kind: resp.Array, Elems: []resp.Value{}}
	for _, e := range es {
		v.Elems = append(v.Elems, bulkV(e.Member))
		if withScores {
			v.Elems = append(v.Elems, scoreV(e.Score))
		}
	}
	return v
}

// zset looks a key up for a sorted-set command.
func (ks keyspace) zset(key []byte) (*ZSet, error) {
	switch v := ks[string(key)].(type) {
	case nil:
		return nil, nil
	case *ZSet:
		return v, nil
	}
	return nil, errWrongType
}

func (ks keyspace) dropIfEmpty(key []byte) {
	if z, ok := ks[string(key)].(*ZSet); ok && z.Len() == 0 {
		delete(ks, string(key))
	}
}

func (ks keyspace) input(key []byte) (Input, error) {
	switch v := ks[string(key)].(type) {
	case nil:
		return nil, nil
	case *ZSet:
		return v, nil
	case map[string]bool:
		return PlainSet{
			Length: len(v),
			ForEach: func(fn func(string) bool) {
				for m := range v {
					if !fn(m) {
						return
					}
				}
			},
			Contains: func(m string) bool { return v[m] },
		}, nil
	}
	return nil, errWrongType
}

var rangeCommands = map[string]RangeCommand{
	"ZRANGE": ZRange, "ZRANGESTORE": ZRangeStore, "ZREVRANGE": ZRevRange,
	"ZRANGEBYSCORE": ZRangeByScore, "ZREVRANGEBYSCORE": ZRevRangeByScore,
	"ZRANGEBYLEX": ZRangeByLex, "ZREVRANGEBYLEX": ZRevRangeByLex,
}

// exec runs one command the way a command handler built on this package would.
func (ks keyspace) exec(args [][]byte) resp.Value {
	name := strings.ToUpper(string(args[0]))
	switch name {
	case "DEL":
		_, ok := ks[string(args[1])]
		delete(ks, string(args[1]))
		if ok {
			return intV(1)
		}
		return intV(0)
	case "SADD":
		if _, isZ := ks[string(args[1])].(*ZSet); isZ {
			return errV(errWrongType)
		}
		s, ok := ks[string(args[1])].(map[string]bool)
		if !ok {
			s = map[string]bool{}
			ks[string(args[1])] = s
		}
		var added int64
		for _, m := range args[2:] {
			if !s[string(m)] {
				s[string(m)] = true
				added++
			}
		}
		return intV(added)
	case "OBJECT":
		z, _ := ks.zset(args[2])
		return bulkV(z.Encoding())
	case "ZADD", "ZINCRBY":
		a, err := ParseZAdd(args[2:], name == "ZINCRBY")
		if err != nil {
			return errV(err)
		}
		z, err := ks.zset(args[1])
		if err != nil {
			return errV(err)
		}
		var added, updated, processed int64
		var score float64
		if z == nil && !a.Flags.XX {
			z = Create(testLimits, len(a.Pairs[0].Member))
			ks[string(args[1])] = z
		}
		if z != nil {
			for _, p := range a.Pairs {
				res, s, err := z.Add(p.Member, p.Score, a.Flags, testLimits)
				if err != nil {
					return errV(err)
				}
				switch res {
				case Added:
					added++
				case Updated:
					updated++
				}
				if res != Nop {
					processed++
					score = s
				}
			}
		}
		if a.Flags.Incr {
			if processed == 0 {
				return nilV()
			}
			return scoreV(score)
		}
		if a.CH {
			return intV(added + updated)
		}
		return intV(added)
	case "ZREM":
		z, err := ks.zset(args[1])
		if err != nil || z == nil {
			if err != nil {
				return errV(err)
			}
			return intV(0)
		}
		var n int64
		for _, m := range args[2:] {
			if z.Remove(string(m)) {
				n++
			}
		}
		ks.dropIfEmpty(args[1])
		return intV(n)
	case "ZSCORE", "ZRANK", "ZREVRANK":
		z, err := ks.zset(args[1])
		if err != nil {
			return errV(err)
		}
		if z == nil {
			return nilV()
		}
		if name == "ZSCORE" {
			if s, ok := z.Score(string(args[2])); ok {
				return scoreV(s)
			}
			return nilV()
		}
		if r, ok := z.Rank(string(args[2]), name == "ZREVRANK"); ok {
			return intV(int64(r))
		}
		return nilV()
	case "ZCARD":
		z, err := ks.zset(args[1])
		if err != nil {
			return errV(err)
		}
		if z == nil {
			return intV(0)
		}
		return intV(int64(z.Len()))
	case "ZCOUNT", "ZLEXCOUNT":
		var sr ScoreRange
		var lr LexRange
		var err error
		if name == "ZCOUNT" {
			sr, err = ParseScoreRange(args[2], args[3])
		} else {
			lr, err = ParseLexRange(args[2], args[3])
		}
		if err != nil {
			return errV(err)
		}
		z, err := ks.zset(args[1])
		if err != nil {
			return errV(err)
		}
		if z == nil {
			return intV(0)
		}
		if name == "ZCOUNT" {
			return intV(int64(z.CountByScore(sr)))
		}
		return intV(int64(z.CountByLex(lr)))
	case "ZRANGE", "ZRANGESTORE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZRANGEBYLEX", "ZREVRANGEBYLEX":
		src, rest := args[1], args[2:]
		if name == "ZRANGESTORE" {
			src, rest = args[2], args[3:]
		}
		q, err := ParseRange(rangeCommands[name], rest)
		if err != nil {
			return errV(err)
		}
		z, err := ks.zset(src)
		if err != nil {
			return errV(err)
		}
		var es []Entry
		if z != nil {
			es = z.Range(q)
		}
		if name != "ZRANGESTORE" {
			return entriesV(es, q.WithScores)
		}
		hint := -1
		if q.Type == ByRank && z != nil {
			hint = len(es)
		}
		dst := CreateSized(testLimits, hint)
		for _, e := range es {
			dst.Add(e.Member, e.Score, AddFlags{}, testLimits)
		}
		if dst.Len() > 0 {
			ks[string(args[1])] = dst
		} else {
			delete(ks, string(args[1]))
		}
		return intV(int64(dst.Len()))
	case "ZREMRANGEBYRANK", "ZREMRANGEBYSCORE", "ZREMRANGEBYLEX":
		var start, end int64
		var sr ScoreRange
		var lr LexRange
		var err error
		switch name {
		case "ZREMRANGEBYRANK":
			var ok1, ok2 bool
			start, ok1 = resp.ParseInt(args[2])
			end, ok2 = resp.ParseInt(args[3])
			if !ok1 || !ok2 {
				err = ErrNotInteger
			}
		case "ZREMRANGEBYSCORE":
			sr, err = ParseScoreRange(args[2], args[3])
		default:
			lr, err = ParseLexRange(args[2], args[3])
		}
		if err != nil {
			return errV(err)
		}
		z, err := ks.zset(args[1])
		if err != nil {
			return errV(err)
		}
		if z == nil {
			return intV(0)
		}
		var n int
		switch name {
		case "ZREMRANGEBYRANK":
			if s, e, ok := ResolveRankRange(start, end, z.Len()); ok {
				n = z.RemoveRangeByRank(s, e)
			}
		case "ZREMRANGEBYSCORE":
			n = z.RemoveRangeByScore(sr)
		default:
			n = z.RemoveRangeByLex(lr)
		}
		ks.dropIfEmpty(args[1])
		return intV(int64(n))
	case "ZPOPMIN", "ZPOPMAX":
		count := int64(1)
		if len(args) > 2 {
			var ok bool
			if count, ok = resp.ParseInt(args[2]); !ok || count < 0 {
				return errV(rerr("ERR value is out of range, must be positive"))
			}
		}
		z, err := ks.zset(args[1])
		if err != nil {
			return errV(err)
		}
		if z == nil || count == 0 {
			return entriesV(nil, true)
		}
		es := z.Pop(int(count), name == "ZPOPMAX")
		ks.dropIfEmpty(args[1])
		return entriesV(es, true)
	case "ZUNION", "ZINTER", "ZDIFF", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZINTERCARD":
		store := strings.HasSuffix(name, "STORE")
		idx := 1
		if store {
			idx = 2
		}
		op := map[string]SetOp{"ZUNION": Union, "ZINTER": Inter, "ZDIFF": Diff, "ZINTERCARD": Inter}[strings.TrimSuffix(name, "STORE")]
		n, err := ParseNumKeys(args[idx], strings.ToLower(name), len(args)-idx-1)
		if err != nil {
			return errV(err)
		}
		inputs := make([]Input, n)
		for i := range inputs {
			if inputs[i], err = ks.input(args[idx+1+i]); err != nil {
				return errV(err)
			}
		}
		opts, err := ParseSetOpOptions(op, n, store, name == "ZINTERCARD", args[idx+1+n:])
		if err != nil {
			return errV(err)
		}
		if name == "ZINTERCARD" {
			return intV(InterCard(inputs, opts.Limit))
		}
		res := Combine(op, inputs, opts)
		if !store {
			return entriesV(res.Entries(), opts.WithScores)
		}
		if res.Len() > 0 {
			res.ConvertToListpackIfNeeded(testLimits)
			ks[string(args[1])] = res
		} else {
			delete(ks, string(args[1]))
		}
		return intV(int64(res.Len()))
	}
	panic("unexpected command " + name)
}

func sameReply(a, b resp.Value) bool {
	if a.Kind != b.Kind || a.IsNull != b.IsNull || a.Int != b.Int || !bytes.Equal(a.Str, b.Str) || len(a.Elems) != len(b.Elems) {
		return false
	}
	for i := range a.Elems {
		if !sameReply(a.Elems[i], b.Elems[i]) {
			return false
		}
	}
	return true
}

type zgen struct{ rng *rand.Rand }

func (g zgen) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }

func (g zgen) member() string {
	if g.rng.IntN(25) == 0 {
		return "a-member-longer-than-ten-bytes"
	}
	return string(rune('a' + g.rng.IntN(12)))
}

func (g zgen) score() string {
	switch g.rng.IntN(14) {
	case 0:
		return g.pick("inf", "-inf", "+inf", "1.5", "-2.25", "0x10", "1e1", "-0", "1e308", "4.9e-324")
	case 1:
		return g.pick("nan", "x", "", " 1", "1e", "1e400", "(1", "1\x00")
	}
	return fmt.Sprint(g.rng.IntN(11) - 5)
}

func (g zgen) bound() string {
	switch g.rng.IntN(8) {
	case 0:
		return g.pick("-inf", "+inf", "inf", "(-inf", "(+inf")
	case 1:
		return g.pick("x", "nan", "(", "", " 2", "((1", "1e400", "(1\x00x", "0x8")
	case 2:
		return "(" + fmt.Sprint(g.rng.IntN(11)-5)
	}
	return fmt.Sprint(g.rng.IntN(11) - 5)
}

func (g zgen) lexBound() string {
	switch g.rng.IntN(8) {
	case 0:
		return g.pick("-", "+")
	case 1:
		return g.pick("a", "", "+x", "-\x00", "[", "(")
	}
	return g.pick("[", "(") + g.member()
}

func (g zgen) index() string {
	if g.rng.IntN(15) == 0 {
		return g.pick("x", "1.0", "")
	}
	return fmt.Sprint(g.rng.IntN(16) - 8)
}

func (g zgen) key() string { return g.pick("z1", "z2", "z3", "s1", "missing") }

// dst is a destination for store commands; "lex" is kept out so its scores stay equal.
// s1 is seeded as a plain set and never written by sorted-set commands.
func (g zgen) dst() string { return g.pick("z1", "z2", "z3", "d") }

func (g zgen) rangeOptions(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		switch g.rng.IntN(6) {
		case 0:
			out = append(out, g.pick("WITHSCORES", "withscores"))
		case 1, 2:
			out = append(out, "LIMIT", fmt.Sprint(g.rng.IntN(5)-1), fmt.Sprint(g.rng.IntN(6)-2))
		case 3:
			out = append(out, g.pick("REV", "rev"))
		case 4:
			out = append(out, g.pick("BYSCORE", "BYLEX", "byscore"))
		default:
			out = append(out, g.pick("LIMIT", "x", "LIMIT 1"))
		}
	}
	return out
}

func (g zgen) command() []string {
	switch r := g.rng.IntN(24); r {
	case 0, 1, 2, 3:
		key := g.pick("z1", "z2", "z3", "lex", "s1", "missing")
		cmd := []string{"ZADD", key}
		for _, f := range []string{"NX", "XX", "GT", "LT", "CH", "INCR"} {
			if g.rng.IntN(7) == 0 && !(key == "lex" && f == "INCR") {
				cmd = append(cmd, f)
			}
		}
		for n := 1 + g.rng.IntN(3); n > 0; n-- {
			if key == "lex" {
				cmd = append(cmd, "0", g.member())
			} else {
				cmd = append(cmd, g.score(), g.member())
			}
		}
		if g.rng.IntN(20) == 0 && len(cmd) > 4 { // an odd count, within ZADD's arity
			cmd = cmd[:len(cmd)-1]
		}
		return cmd
	case 4:
		return []string{"ZINCRBY", g.pick("z1", "z2", "s1", "missing"), g.score(), g.member()}
	case 5:
		return []string{"ZREM", g.pick("z1", "z2", "z3", "lex", "s1"), g.member(), g.member()}
	case 6:
		return []string{g.pick("ZSCORE", "ZRANK", "ZREVRANK"), g.key(), g.member()}
	case 7:
		return []string{"ZCARD", g.key()}
	case 8:
		return []string{"ZCOUNT", g.key(), g.bound(), g.bound()}
	case 9:
		return []string{"ZLEXCOUNT", g.pick("lex", "nokey", "s1"), g.lexBound(), g.lexBound()}
	case 10, 11:
		cmd := []string{g.pick("ZRANGE", "ZREVRANGE"), g.key(), g.index(), g.index()}
		return append(cmd, g.rangeOptions(g.rng.IntN(2))...)
	case 12, 13:
		cmd := []string{g.pick("ZRANGEBYSCORE", "ZREVRANGEBYSCORE"), g.key(), g.bound(), g.bound()}
		return append(cmd, g.rangeOptions(g.rng.IntN(3))...)
	case 14:
		cmd := []string{g.pick("ZRANGEBYLEX", "ZREVRANGEBYLEX"), g.pick("lex", "nokey", "s1"), g.lexBound(), g.lexBound()}
		return append(cmd, g.rangeOptions(g.rng.IntN(2))...)
	case 15:
		// ZRANGE with BYSCORE/BYLEX, and ZRANGESTORE.
		src := g.key()
		lo, hi := g.bound(), g.bound()
		by := g.pick("BYSCORE", "BYSCORE", "BYLEX", "")
		if by == "BYLEX" {
			src, lo, hi = g.pick("lex", "nokey"), g.lexBound(), g.lexBound()
		} else if by == "" {
			lo, hi = g.index(), g.index()
		}
		cmd := []string{"ZRANGE", src, lo, hi}
		if g.rng.IntN(2) == 0 {
			cmd = []string{"ZRANGESTORE", g.dst(), src, lo, hi}
		}
		if by != "" {
			cmd = append(cmd, by)
		}
		return append(cmd, g.rangeOptions(g.rng.IntN(3))...)
	case 16:
		return []string{"ZREMRANGEBYRANK", g.pick("z1", "z2", "z3", "lex"), g.index(), g.index()}
	case 17:
		return []string{"ZREMRANGEBYSCORE", g.pick("z1", "z2", "z3"), g.bound(), g.bound()}
	case 18:
		return []string{"ZREMRANGEBYLEX", g.pick("lex", "nokey", "s1"), g.lexBound(), g.lexBound()}
	case 19:
		cmd := []string{g.pick("ZPOPMIN", "ZPOPMAX"), g.pick("z1", "z2", "z3", "lex", "s1")}
		if g.rng.IntN(2) == 0 {
			cmd = append(cmd, g.pick("0", "1", "2", "3", "-1", "x"))
		}
		return cmd
	case 20, 21, 22:
		name := g.pick("ZUNION", "ZINTER", "ZDIFF", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZINTERCARD")
		cmd := []string{name}
		if strings.HasSuffix(name, "STORE") {
			cmd = append(cmd, g.dst())
		}
		n := 1 + g.rng.IntN(3)
		numkeys := fmt.Sprint(n)
		if g.rng.IntN(15) == 0 {
			numkeys = g.pick("0", "-1", "x", "9")
		}
		cmd = append(cmd, numkeys)
		for i := 0; i < n; i++ {
			cmd = append(cmd, g.pick("z1", "z2", "z3", "s1", "missing", "lex"))
		}
		for i := g.rng.IntN(3); i > 0; i-- {
			switch g.rng.IntN(5) {
			case 0:
				cmd = append(cmd, "WEIGHTS")
				for j := 0; j < n; j++ {
					cmd = append(cmd, g.pick("1", "2", "-1", "0", "0.5", "inf", "-inf", "x"))
				}
			case 1:
				cmd = append(cmd, "AGGREGATE", g.pick("SUM", "min", "MAX", "avg"))
			case 2:
				cmd = append(cmd, "WITHSCORES")
			case 3:
				cmd = append(cmd, "LIMIT", g.pick("0", "1", "2", "-1", "x"))
			default:
				cmd = append(cmd, g.pick("WEIGHTS", "AGGREGATE", "bogus"))
			}
		}
		return cmd
	default:
		return []string{"SADD", "s1", g.member(), g.member()}
	}
}

func TestRedisRandomSortedSetCommands(t *testing.T) {
	rc := redistest.Start(t,
		[2]string{"zset-max-listpack-entries", fmt.Sprint(testLimits.MaxListpackEntries)},
		[2]string{"zset-max-listpack-value", fmt.Sprint(testLimits.MaxListpackValue)})
	ours := keyspace{}
	g := zgen{rand.New(rand.NewPCG(21, 22))}
	keys := []string{"z1", "z2", "z3", "lex", "s1", "d", "missing"}
	seed := func() {
		args := [][]byte{[]byte("SADD"), []byte("s1"), []byte("a"), []byte("c"), []byte("k")}
		rc.DoArgs(args)
		ours.exec(args)
	}
	seed()
	for i := 0; i < 8000; i++ {
		cmd := g.command()
		args := make([][]byte, len(cmd))
		for j, a := range cmd {
			args[j] = []byte(a)
		}
		want := rc.DoArgs(args)
		got := ours.exec(args)
		if !sameReply(want, got) {
			t.Fatalf("command %d %q:\nredis %v\nours  %v", i, cmd, want, got)
		}
		for _, k := range keys {
			if _, isSet := ours[k].(map[string]bool); isSet {
				continue
			}
			want := rc.Do("ZRANGE", k, 0, -1, "WITHSCORES")
			got := ours.exec([][]byte{[]byte("ZRANGE"), []byte(k), []byte("0"), []byte("-1"), []byte("WITHSCORES")})
			if !sameReply(want, got) {
				t.Fatalf("after command %d %q, key %s:\nredis %v\nours  %v", i, cmd, k, want, got)
			}
			if _, ok := ours[k]; ok {
				want := rc.Do("OBJECT", "ENCODING", k)
				got := ours.exec([][]byte{[]byte("OBJECT"), []byte("ENCODING"), []byte(k)})
				if !sameReply(want, got) {
					t.Fatalf("after command %d %q, key %s: encoding redis %v ours %v", i, cmd, k, want, got)
				}
			}
		}
		if i%700 == 699 {
			for _, k := range keys {
				rc.Do("DEL", k)
				delete(ours, k)
			}
			seed()
		}
	}
}

// TestRedisBigSetOperations checks the set algebra on larger inputs, where the size
// ordering of the inputs decides the order of floating-point sums.
func TestRedisBigSetOperations(t *testing.T) {
	rc := redistest.Start(t)
	ours := keyspace{}
	rng := rand.New(rand.NewPCG(31, 32))
	for _, k := range []string{"a", "b", "c", "d"} {
		args := [][]byte{[]byte("ZADD"), []byte(k)}
		for i := 0; i < 300; i++ {
			args = append(args, []byte(fmt.Sprint(rng.Float64()*1000-500)), []byte(fmt.Sprint("m", rng.IntN(500))))
		}
		rc.DoArgs(args)
		ours.exec(args)
	}
	for _, cmd := range []string{
		"ZUNION 4 a b c d WITHSCORES",
		"ZUNION 3 a b c WEIGHTS 0.1 0.7 3.3 WITHSCORES",
		"ZINTER 3 a b c WEIGHTS 0.1 0.7 3.3 WITHSCORES",
		"ZINTER 2 a b AGGREGATE MIN WITHSCORES",
		"ZUNION 2 c d AGGREGATE MAX WITHSCORES",
		"ZDIFF 3 a b c WITHSCORES",
		"ZUNIONSTORE u 4 a b c d WEIGHTS 1 -1 1 -1",
		"ZRANGE u 0 -1 WITHSCORES",
		"OBJECT ENCODING u",
		"ZINTERCARD 2 a b LIMIT 5",
		"ZINTERCARD 4 a b c d",
		"ZRANGE a 10 -10 REV WITHSCORES",
		"ZRANGEBYSCORE a (-100 100 WITHSCORES LIMIT 3 20",
		"ZREVRANGEBYSCORE b 400 (-0.5 WITHSCORES",
	} {
		var args [][]byte
		for _, f := range strings.Fields(cmd) {
			args = append(args, []byte(f))
		}
		want := rc.DoArgs(args)
		got := ours.exec(args)
		if !sameReply(want, got) {
			t.Fatalf("%s:\nredis %v\nours  %v", cmd, want, got)
		}
	}
}
