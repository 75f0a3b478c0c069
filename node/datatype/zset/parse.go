package zset

import (
	"bytes"
	"errors"
	"math"

	"github.com/clusterctl/clusterctl/node/datatype/internal/strtod"
	"github.com/clusterctl/clusterctl/node/resp"
)

func rerr(text string) error { return errors.New(text) }

// Errors with Redis's reply texts.
var (
	ErrSyntax          = rerr("ERR syntax error")
	ErrNotFloat        = rerr("ERR value is not a valid float")
	ErrNotInteger      = rerr("ERR value is not an integer or out of range")
	ErrMinMaxNotFloat  = rerr("ERR min or max is not a float")
	ErrMinMaxNotString = rerr("ERR min or max not valid string range item")
	ErrXXAndNX         = rerr("ERR XX and NX options at the same time are not compatible")
	ErrGTLTNX          = rerr("ERR GT, LT, and/or NX options at the same time are not compatible")
	ErrIncrPairs       = rerr("ERR INCR option supports a single increment-element pair")
	ErrLimitWithRank   = rerr("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
	ErrWithScoresByLex = rerr("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
	ErrWeightNotFloat  = rerr("ERR weight value is not a float")
	ErrLimitNegative   = rerr("ERR LIMIT can't be negative")
)

// cstr cuts an argument at its first NUL, where Redis's strcasecmp and strtod stop.
func cstr(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

func keyword(arg []byte, word string) bool { return bytes.EqualFold(cstr(arg), []byte(word)) }

// ParseScore reads a score, increment or weight as getDoubleFromObject does (string2d):
// the whole argument must be a float, "inf" and hexadecimal forms included; NaN,
// overflow and leading spaces are refused.
func ParseScore(arg []byte) (float64, error) {
	v, ok := strtod.String2d(arg)
	if !ok {
		return 0, ErrNotFloat
	}
	return v, nil
}

// ScoreRange is a zrangespec: a score interval whose ends may be exclusive.
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool
}

// ParseScoreRange parses ZRANGEBYSCORE-style bounds (zslParseRange): a float, "(" before
// it for an exclusive end, "-inf" and "+inf". Like Redis it reads with strtod up to a NUL,
// so leading spaces and an empty string (zero) pass while NaN does not.
func ParseScoreRange(min, max []byte) (ScoreRange, error) {
	var r ScoreRange
	var ok bool
	if r.Min, r.MinEx, ok = parseScoreBound(min); !ok {
		return r, ErrMinMaxNotFloat
	}
	if r.Max, r.MaxEx, ok = parseScoreBound(max); !ok {
		return r, ErrMinMaxNotFloat
	}
	return r, nil
}

func parseScoreBound(arg []byte) (v float64, ex, ok bool) {
	arg = cstr(arg)
	if len(arg) > 0 && arg[0] == '(' {
		ex = true
		arg = arg[1:]
	}
	v, n, _ := strtod.Parse(arg)
	if n != len(arg) || math.IsNaN(v) {
		return 0, false, false
	}
	return v, ex, true
}

func (r ScoreRange) empty() bool {
	return r.Min > r.Max || (r.Min == r.Max && (r.MinEx || r.MaxEx))
}

// Contains reports whether a score lies in the range.
func (r ScoreRange) Contains(score float64) bool { return r.gteMin(score) && r.lteMax(score) }

func (r ScoreRange) gteMin(v float64) bool {
	if r.MinEx {
		return v > r.Min
	}
	return v >= r.Min
}

func (r ScoreRange) lteMax(v float64) bool {
	if r.MaxEx {
		return v < r.Max
	}
	return v <= r.Max
}

func (r ScoreRange) gteMinNode(n *node) bool { return r.gteMin(n.score) }
func (r ScoreRange) lteMaxNode(n *node) bool { return r.lteMax(n.score) }

// LexBound is one end of a lex range: "-" (below every string), "+" (above every
// string), or a string, inclusive ("[") or exclusive ("(").
type LexBound struct {
	Inf       int // -1 for "-", +1 for "+", 0 for a string
	Value     string
	Exclusive bool
}

// LexRange is a zlexrangespec.
type LexRange struct{ Min, Max LexBound }

// ParseLexRange parses ZRANGEBYLEX-style bounds (zslParseLexRange).
func ParseLexRange(min, max []byte) (LexRange, error) {
	var r LexRange
	var ok bool
	if r.Min, ok = parseLexBound(min); !ok {
		return r, ErrMinMaxNotString
	}
	if r.Max, ok = parseLexBound(max); !ok {
		return r, ErrMinMaxNotString
	}
	return r, nil
}

func parseLexBound(arg []byte) (LexBound, bool) {
	if len(arg) == 0 {
		return LexBound{}, false
	}
	switch arg[0] {
	case '+', '-':
		// Redis looks at the second byte of the C string: "+" alone, or followed by a NUL.
		if len(arg) > 1 && arg[1] != 0 {
			return LexBound{}, false
		}
		inf := 1
		if arg[0] == '-' {
			inf = -1
		}
		return LexBound{Inf: inf, Exclusive: true}, true
	case '(':
		return LexBound{Value: string(arg[1:]), Exclusive: true}, true
	case '[':
		return LexBound{Value: string(arg[1:])}, true
	}
	return LexBound{}, false
}

// compareLex orders a string against a bound (sdscmplex).
func compareLex(s string, b LexBound) int {
	switch {
	case b.Inf < 0:
		return 1
	case b.Inf > 0:
		return -1
	case s < b.Value:
		return -1
	case s > b.Value:
		return 1
	}
	return 0
}

// compareBounds orders two bounds (sdscmplex on the range's ends): "-" below every
// string, "+" above, and two infinities of the same sign equal.
func compareBounds(a, b LexBound) int {
	switch {
	case a.Inf != b.Inf:
		if a.Inf < b.Inf {
			return -1
		}
		return 1
	case a.Inf != 0 || a.Value == b.Value:
		return 0
	case a.Value < b.Value:
		return -1
	}
	return 1
}

func (r LexRange) empty() bool {
	c := compareBounds(r.Min, r.Max)
	return c > 0 || (c == 0 && (r.Min.Exclusive || r.Max.Exclusive))
}

func (r LexRange) gteMin(s string) bool {
	c := compareLex(s, r.Min)
	if r.Min.Exclusive {
		return c > 0
	}
	return c >= 0
}

func (r LexRange) lteMax(s string) bool {
	c := compareLex(s, r.Max)
	if r.Max.Exclusive {
		return c < 0
	}
	return c <= 0
}

// Contains reports whether a member lies in the range.
func (r LexRange) Contains(member string) bool { return r.gteMin(member) && r.lteMax(member) }

func (r LexRange) gteMinNode(n *node) bool { return r.gteMin(n.member) }
func (r LexRange) lteMaxNode(n *node) bool { return r.lteMax(n.member) }

// ZAddArgs is a parsed ZADD or ZINCRBY.
type ZAddArgs struct {
	Flags AddFlags
	CH    bool
	Pairs []Entry
}

// ParseZAdd parses the arguments after the key of ZADD, or of ZINCRBY with incr set
// (which behaves as ZADD INCR and, like Redis, also reads options before the increment).
// Every score is checked before anything is written.
func ParseZAdd(args [][]byte, incr bool) (ZAddArgs, error) {
	var a ZAddArgs
	a.Flags.Incr = incr
	i := 0
	for ; i < len(args); i++ {
		switch {
		case keyword(args[i], "nx"):
			a.Flags.NX = true
		case keyword(args[i], "xx"):
			a.Flags.XX = true
		case keyword(args[i], "ch"):
			a.CH = true
		case keyword(args[i], "incr"):
			a.Flags.Incr = true
		case keyword(args[i], "gt"):
			a.Flags.GT = true
		case keyword(args[i], "lt"):
			a.Flags.LT = true
		default:
			goto pairs
		}
	}
pairs:
	rest := args[i:]
	if len(rest) == 0 || len(rest)%2 != 0 {
		return a, ErrSyntax
	}
	f := a.Flags
	if f.NX && f.XX {
		return a, ErrXXAndNX
	}
	if (f.GT && f.NX) || (f.LT && f.NX) || (f.GT && f.LT) {
		return a, ErrGTLTNX
	}
	if f.Incr && len(rest) > 2 {
		return a, ErrIncrPairs
	}
	a.Pairs = make([]Entry, len(rest)/2)
	for j := range a.Pairs {
		score, err := ParseScore(rest[2*j])
		if err != nil {
			return a, err
		}
		a.Pairs[j] = Entry{Member: string(rest[2*j+1]), Score: score}
	}
	return a, nil
}

// RangeType is how a ZRANGE-family command selects members.
type RangeType int

// Range types.
const (
	ByRank RangeType = iota
	ByScore
	ByLex
)

// RangeCommand names a command of the ZRANGE family; each fixes some options.
type RangeCommand int

// The ZRANGE family.
const (
	ZRange RangeCommand = iota
	ZRangeStore
	ZRevRange
	ZRangeByScore
	ZRevRangeByScore
	ZRangeByLex
	ZRevRangeByLex
)

// RangeQuery is a parsed ZRANGE-family command.
type RangeQuery struct {
	Type       RangeType
	Reverse    bool
	Start, End int64 // ByRank, unresolved (see ResolveRankRange)
	Score      ScoreRange
	Lex        LexRange
	Offset     int64
	Limit      int64 // -1: no LIMIT
	WithScores bool
}

// ParseRange parses the arguments of a ZRANGE-family command from min/start onwards
// (after the key, and for ZRANGESTORE after destination and source), with
// zrangeGenericCommand's checks in its order. All of it happens before the key lookup.
func ParseRange(cmd RangeCommand, args [][]byte) (RangeQuery, error) {
	q := RangeQuery{Limit: -1}
	if len(args) < 2 {
		return q, ErrSyntax
	}
	typeFixed, dirFixed := true, true
	switch cmd {
	case ZRange, ZRangeStore:
		typeFixed, dirFixed = false, false
	case ZRevRange:
		q.Reverse = true
	case ZRangeByScore:
		q.Type = ByScore
	case ZRevRangeByScore:
		q.Type, q.Reverse = ByScore, true
	case ZRangeByLex:
		q.Type = ByLex
	case ZRevRangeByLex:
		q.Type, q.Reverse = ByLex, true
	}
	store := cmd == ZRangeStore
	for j := 2; j < len(args); j++ {
		left := len(args) - j - 1
		switch {
		case !store && keyword(args[j], "withscores"):
			q.WithScores = true
		case keyword(args[j], "limit") && left >= 2:
			var ok1, ok2 bool
			q.Offset, ok1 = resp.ParseInt(args[j+1])
			if !ok1 {
				return q, ErrNotInteger
			}
			q.Limit, ok2 = resp.ParseInt(args[j+2])
			if !ok2 {
				return q, ErrNotInteger
			}
			j += 2
		case !dirFixed && keyword(args[j], "rev"):
			q.Reverse, dirFixed = true, true
		case !typeFixed && keyword(args[j], "bylex"):
			q.Type, typeFixed = ByLex, true
		case !typeFixed && keyword(args[j], "byscore"):
			q.Type, typeFixed = ByScore, true
		default:
			return q, ErrSyntax
		}
	}
	if q.Limit != -1 && q.Type == ByRank {
		return q, ErrLimitWithRank
	}
	if q.WithScores && q.Type == ByLex {
		return q, ErrWithScoresByLex
	}
	lo, hi := args[0], args[1]
	if q.Reverse && q.Type != ByRank {
		lo, hi = hi, lo // the range is given as max, min
	}
	var err error
	switch q.Type {
	case ByRank:
		var ok bool
		if q.Start, ok = resp.ParseInt(lo); !ok {
			return q, ErrNotInteger
		}
		if q.End, ok = resp.ParseInt(hi); !ok {
			return q, ErrNotInteger
		}
	case ByScore:
		q.Score, err = ParseScoreRange(lo, hi)
	case ByLex:
		q.Lex, err = ParseLexRange(lo, hi)
	}
	return q, err
}

// Range runs a parsed query. The caller replies scores when WithScores is set (and a
// ZRANGESTORE stores them).
func (z *ZSet) Range(q RangeQuery) []Entry {
	switch q.Type {
	case ByScore:
		return z.RangeByScore(q.Score, q.Reverse, q.Offset, q.Limit)
	case ByLex:
		return z.RangeByLex(q.Lex, q.Reverse, q.Offset, q.Limit)
	}
	s, e, ok := ResolveRankRange(q.Start, q.End, z.Len())
	if !ok {
		return nil
	}
	return z.RangeByRank(s, e, q.Reverse)
}
