package zset

import (
	"math"
	"sort"

	"github.com/clusterctl/clusterctl/node/resp"
)

// Input is one source key of ZUNION, ZINTER, ZDIFF (and their STORE forms) and
// ZINTERCARD: a *ZSet, a PlainSet for a key holding a set (every member scores 1, as in
// Redis), or nil for a missing key.
type Input interface {
	Len() int
	Each(reverse bool, fn func(Entry) bool)
	Score(member string) (float64, bool)
}

// PlainSet adapts a set value to Input.
type PlainSet struct {
	Length   int
	ForEach  func(fn func(member string) bool)
	Contains func(member string) bool
}

// Len returns the set's cardinality.
func (p PlainSet) Len() int { return p.Length }

// Each visits every member with score 1; the order is the set's own.
func (p PlainSet) Each(_ bool, fn func(Entry) bool) {
	p.ForEach(func(m string) bool { return fn(Entry{Member: m, Score: 1}) })
}

// Score returns 1 for a member.
func (p PlainSet) Score(member string) (float64, bool) { return 1, p.Contains(member) }

// SetOp is the operation of ZUNION, ZINTER or ZDIFF.
type SetOp int

// Set operations.
const (
	Union SetOp = iota
	Inter
	Diff
)

// Aggregate is the AGGREGATE option.
type Aggregate int

// Aggregations; SUM is the default.
const (
	Sum Aggregate = iota
	Min
	Max
)

// SetOpOptions are the options after the keys.
type SetOpOptions struct {
	Weights    []float64 // one per key, 1 by default
	Aggregate  Aggregate
	WithScores bool
	Limit      int64 // ZINTERCARD's LIMIT, 0 for none
}

// ParseNumKeys reads numkeys for command (its lower-case name, which the error quotes)
// given how many arguments follow numkeys. Redis checks it before looking up the keys;
// the WRONGTYPE check of each key (neither a sorted set nor a set) comes next, and only
// then ParseSetOpOptions.
func ParseNumKeys(arg []byte, command string, argsAfter int) (int, error) {
	n, ok := resp.ParseInt(arg)
	if !ok {
		return 0, ErrNotInteger
	}
	if n < 1 {
		return 0, rerr("ERR at least 1 input key is needed for '" + command + "' command")
	}
	if n > int64(argsAfter) {
		return 0, ErrSyntax
	}
	return int(n), nil
}

// ParseSetOpOptions parses what follows the keys: WEIGHTS and AGGREGATE (not for ZDIFF
// nor ZINTERCARD), WITHSCORES (not for the STORE forms nor ZINTERCARD), and LIMIT (only
// ZINTERCARD, cardOnly).
func ParseSetOpOptions(op SetOp, numKeys int, store, cardOnly bool, args [][]byte) (SetOpOptions, error) {
	o := SetOpOptions{Weights: make([]float64, numKeys)}
	for i := range o.Weights {
		o.Weights[i] = 1
	}
	for j := 0; j < len(args); {
		left := len(args) - j
		switch {
		case op != Diff && !cardOnly && left >= numKeys+1 && keyword(args[j], "weights"):
			j++
			for i := 0; i < numKeys; i++ {
				w, ok := parseWeight(args[j])
				if !ok {
					return o, ErrWeightNotFloat
				}
				o.Weights[i] = w
				j++
			}
		case op != Diff && !cardOnly && left >= 2 && keyword(args[j], "aggregate"):
			switch {
			case keyword(args[j+1], "sum"):
				o.Aggregate = Sum
			case keyword(args[j+1], "min"):
				o.Aggregate = Min
			case keyword(args[j+1], "max"):
				o.Aggregate = Max
			default:
				return o, ErrSyntax
			}
			j += 2
		case !store && !cardOnly && keyword(args[j], "withscores"):
			o.WithScores = true
			j++
		case cardOnly && left >= 2 && keyword(args[j], "limit"):
			n, ok := resp.ParseInt(args[j+1])
			if !ok || n < 0 {
				return o, ErrLimitNegative
			}
			o.Limit = n
			j += 2
		default:
			return o, ErrSyntax
		}
	}
	return o, nil
}

func parseWeight(arg []byte) (float64, bool) {
	w, err := ParseScore(arg)
	return w, err == nil
}

// aggregate folds val into *target (zunionInterAggregate); SUM of +inf and -inf is 0.
func aggregate(target *float64, val float64, how Aggregate) {
	switch how {
	case Sum:
		*target += val
		if math.IsNaN(*target) {
			*target = 0
		}
	case Min:
		if val < *target {
			*target = val
		}
	case Max:
		if val > *target {
			*target = val
		}
	}
}

type source struct {
	in     Input
	weight float64
}

func (s source) size() int {
	if s.in == nil {
		return 0
	}
	return s.in.Len()
}

// sources pairs inputs with weights and, except for ZDIFF, orders them from the smallest
// as Redis does; a stable order keeps equal-sized inputs in argument order, which fixes
// the order floating-point sums are taken in.
func sources(op SetOp, inputs []Input, weights []float64) []source {
	src := make([]source, len(inputs))
	for i, in := range inputs {
		if z, ok := in.(*ZSet); ok && z == nil {
			in = nil
		}
		src[i] = source{in: in, weight: 1}
		if i < len(weights) {
			src[i].weight = weights[i]
		}
	}
	if op != Diff {
		sort.SliceStable(src, func(a, b int) bool { return src[a].size() < src[b].size() })
	}
	return src
}

// Combine computes ZUNION, ZINTER or ZDIFF (zunionInterDiffGenericCommand). The result is
// a new set in the skiplist encoding, as Redis builds it; a STORE form then calls
// ConvertToListpackIfNeeded and stores it, or deletes the destination when it is empty.
func Combine(op SetOp, inputs []Input, opts SetOpOptions) *ZSet {
	src := sources(op, inputs, opts.Weights)
	dst := newZSet(false)
	add := dst.insertNew
	switch op {
	case Inter:
		if len(src) == 0 || src[0].size() == 0 {
			return dst
		}
		src[0].in.Each(false, func(e Entry) bool {
			if score, ok := interScore(src, e, opts.Aggregate); ok {
				add(e.Member, score)
			}
			return true
		})
	case Union:
		acc := map[string]float64{}
		var order []string
		for _, s := range src {
			if s.size() == 0 {
				continue
			}
			s.in.Each(false, func(e Entry) bool {
				score := s.weight * e.Score
				if math.IsNaN(score) {
					score = 0
				}
				if cur, ok := acc[e.Member]; ok {
					aggregate(&cur, score, opts.Aggregate)
					acc[e.Member] = cur
				} else {
					acc[e.Member] = score
					order = append(order, e.Member)
				}
				return true
			})
		}
		for _, m := range order {
			add(m, acc[m])
		}
	case Diff:
		if len(src) == 0 || src[0].size() == 0 {
			return dst
		}
		src[0].in.Each(false, func(e Entry) bool {
			for _, s := range src[1:] {
				if s.size() > 0 {
					if _, ok := s.in.Score(e.Member); ok {
						return true
					}
				}
			}
			add(e.Member, e.Score)
			return true
		})
	}
	return dst
}

// interScore aggregates a member of the smallest input over the others, reporting false
// when one of them lacks it.
func interScore(src []source, e Entry, how Aggregate) (float64, bool) {
	score := src[0].weight * e.Score
	if math.IsNaN(score) {
		score = 0
	}
	for _, s := range src[1:] {
		v, ok := s.in.Score(e.Member)
		if !ok {
			return 0, false
		}
		aggregate(&score, v*s.weight, how)
	}
	return score, true
}

// InterCard is ZINTERCARD: the size of the intersection, stopping at limit when it is
// not 0.
func InterCard(inputs []Input, limit int64) int64 {
	src := sources(Inter, inputs, nil)
	if len(src) == 0 || src[0].size() == 0 {
		return 0
	}
	var n int64
	src[0].in.Each(false, func(e Entry) bool {
		if _, ok := interScore(src, e, Sum); ok {
			n++
			if limit > 0 && n >= limit {
				return false
			}
		}
		return true
	})
	return n
}
