package zset

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

func argv(s string) [][]byte {
	if s == "" {
		return nil
	}
	var out [][]byte
	for _, f := range strings.Split(s, " ") {
		out = append(out, []byte(f))
	}
	return out
}

func TestParseZAdd(t *testing.T) {
	cases := []struct {
		args string
		incr bool
		err  error
		want ZAddArgs
	}{
		{"1 a 2 b", false, nil, ZAddArgs{Pairs: []Entry{{"a", 1}, {"b", 2}}}},
		{"nx ch 1 a", false, nil, ZAddArgs{Flags: AddFlags{NX: true}, CH: true, Pairs: []Entry{{"a", 1}}}},
		{"XX GT INCR 1.5 a", false, nil, ZAddArgs{Flags: AddFlags{XX: true, GT: true, Incr: true}, Pairs: []Entry{{"a", 1.5}}}},
		{"-inf a", false, nil, ZAddArgs{Pairs: []Entry{{"a", math.Inf(-1)}}}},
		{"5 a", true, nil, ZAddArgs{Flags: AddFlags{Incr: true}, Pairs: []Entry{{"a", 5}}}},
		{"1 a 2", false, ErrSyntax, ZAddArgs{}},
		{"nx", false, ErrSyntax, ZAddArgs{}},
		{"nx xx 1 a", false, ErrXXAndNX, ZAddArgs{}},
		{"nx gt 1 a", false, ErrGTLTNX, ZAddArgs{}},
		{"gt lt 1 a", false, ErrGTLTNX, ZAddArgs{}},
		{"incr 1 a 2 b", false, ErrIncrPairs, ZAddArgs{}},
		{"1 a x b", false, ErrNotFloat, ZAddArgs{}},
		{"nan a", false, ErrNotFloat, ZAddArgs{}},
		{"nx a", true, ErrSyntax, ZAddArgs{}}, // ZINCRBY k nx a: "nx" is read as an option
	}
	for _, tc := range cases {
		got, err := ParseZAdd(argv(tc.args), tc.incr)
		if !errors.Is(err, tc.err) {
			t.Errorf("ParseZAdd(%q) error %v, want %v", tc.args, err, tc.err)
			continue
		}
		if err == nil && (got.Flags != tc.want.Flags || got.CH != tc.want.CH || len(got.Pairs) != len(tc.want.Pairs)) {
			t.Errorf("ParseZAdd(%q) = %+v, want %+v", tc.args, got, tc.want)
		}
		for i := range tc.want.Pairs {
			if err == nil && got.Pairs[i] != tc.want.Pairs[i] {
				t.Errorf("ParseZAdd(%q) pair %d = %v", tc.args, i, got.Pairs[i])
			}
		}
	}
}

func TestParseScoreRange(t *testing.T) {
	cases := []struct {
		min, max string
		want     ScoreRange
		err      error
	}{
		{"1", "2", ScoreRange{Min: 1, Max: 2}, nil},
		{"(1", "(2", ScoreRange{Min: 1, Max: 2, MinEx: true, MaxEx: true}, nil},
		{"-inf", "+inf", ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)}, nil},
		{"", "(", ScoreRange{MaxEx: true}, nil}, // strtod of "" is 0 with nothing left over
		{" 1", "2\x00junk", ScoreRange{Min: 1, Max: 2}, nil},
		{"0x10", "1e1", ScoreRange{Min: 16, Max: 10}, nil},
		{"nan", "1", ScoreRange{}, ErrMinMaxNotFloat},
		{"1", "x", ScoreRange{}, ErrMinMaxNotFloat},
		{"((1", "2", ScoreRange{}, ErrMinMaxNotFloat},
		{"1 ", "2", ScoreRange{}, ErrMinMaxNotFloat},
	}
	for _, tc := range cases {
		got, err := ParseScoreRange([]byte(tc.min), []byte(tc.max))
		if !errors.Is(err, tc.err) || (err == nil && got != tc.want) {
			t.Errorf("ParseScoreRange(%q, %q) = %+v, %v; want %+v, %v", tc.min, tc.max, got, err, tc.want, tc.err)
		}
	}
}

func TestParseLexRange(t *testing.T) {
	cases := []struct {
		min, max string
		err      error
		empty    bool
	}{
		{"-", "+", nil, false},
		{"[a", "(b", nil, false},
		{"(a", "(a", nil, true},
		{"[a", "[a", nil, false},
		{"+", "-", nil, true},
		{"-", "-", nil, true},
		{"[b", "[a", nil, true},
		{"-\x00zz", "+", nil, false},
		{"a", "+", ErrMinMaxNotString, false},
		{"", "+", ErrMinMaxNotString, false},
		{"-", "+x", ErrMinMaxNotString, false},
	}
	for _, tc := range cases {
		got, err := ParseLexRange([]byte(tc.min), []byte(tc.max))
		if !errors.Is(err, tc.err) || (err == nil && got.empty() != tc.empty) {
			t.Errorf("ParseLexRange(%q, %q) = %+v (empty %v), %v; want empty %v, %v", tc.min, tc.max, got, got.empty(), err, tc.empty, tc.err)
		}
	}
}

func TestParseRange(t *testing.T) {
	cases := []struct {
		cmd  RangeCommand
		args string
		err  error
		want RangeQuery
	}{
		{ZRange, "0 -1", nil, RangeQuery{Type: ByRank, End: -1, Limit: -1}},
		{ZRange, "0 -1 REV WITHSCORES", nil, RangeQuery{Type: ByRank, End: -1, Reverse: true, WithScores: true, Limit: -1}},
		{ZRange, "(5 1 BYSCORE REV LIMIT 1 2", nil, RangeQuery{Type: ByScore, Reverse: true, Score: ScoreRange{Min: 1, Max: 5, MaxEx: true}, Offset: 1, Limit: 2}},
		{ZRange, "0 1 LIMIT 0 1", ErrLimitWithRank, RangeQuery{}},
		{ZRange, "- + BYLEX WITHSCORES", ErrWithScoresByLex, RangeQuery{}},
		{ZRange, "0 1 BYSCORE BYLEX", ErrSyntax, RangeQuery{}},
		{ZRange, "0 1 REV REV", ErrSyntax, RangeQuery{}},
		{ZRange, "0 1 LIMIT 0", ErrSyntax, RangeQuery{}},
		{ZRange, "0 1 BYSCORE LIMIT x 1", ErrNotInteger, RangeQuery{}},
		{ZRange, "a 1", ErrNotInteger, RangeQuery{}},
		{ZRangeStore, "0 1 WITHSCORES", ErrSyntax, RangeQuery{}},
		{ZRevRange, "0 1 REV", ErrSyntax, RangeQuery{}},
		{ZRangeByScore, "1 x", ErrMinMaxNotFloat, RangeQuery{}},
		{ZRangeByScore, "1 2 BYSCORE", ErrSyntax, RangeQuery{}},
		{ZRevRangeByLex, "+ -", nil, RangeQuery{Type: ByLex, Reverse: true, Limit: -1}},
		{ZRangeByLex, "a b", ErrMinMaxNotString, RangeQuery{}},
	}
	for _, tc := range cases {
		got, err := ParseRange(tc.cmd, argv(tc.args))
		if !errors.Is(err, tc.err) {
			t.Errorf("ParseRange(%d, %q) error %v, want %v", tc.cmd, tc.args, err, tc.err)
			continue
		}
		if err == nil && (got.Type != tc.want.Type || got.Reverse != tc.want.Reverse || got.Start != tc.want.Start ||
			got.End != tc.want.End || got.Score != tc.want.Score || got.Offset != tc.want.Offset ||
			got.Limit != tc.want.Limit || got.WithScores != tc.want.WithScores) {
			t.Errorf("ParseRange(%d, %q) = %+v, want %+v", tc.cmd, tc.args, got, tc.want)
		}
	}
}

func TestParseSetOp(t *testing.T) {
	if _, err := ParseNumKeys([]byte("0"), "zunion", 3); err == nil || err.Error() != "ERR at least 1 input key is needed for 'zunion' command" {
		t.Errorf("numkeys 0: %v", err)
	}
	if _, err := ParseNumKeys([]byte("3"), "zunion", 2); !errors.Is(err, ErrSyntax) {
		t.Errorf("too many keys: %v", err)
	}
	if _, err := ParseNumKeys([]byte("x"), "zunion", 2); !errors.Is(err, ErrNotInteger) {
		t.Errorf("numkeys x: %v", err)
	}
	cases := []struct {
		op       SetOp
		store    bool
		cardOnly bool
		args     string
		err      error
	}{
		{Union, false, false, "WEIGHTS 1 2 AGGREGATE max WITHSCORES", nil},
		{Union, false, false, "WEIGHTS 1", ErrSyntax},
		{Union, false, false, "WEIGHTS 1 x", ErrWeightNotFloat},
		{Union, false, false, "AGGREGATE avg", ErrSyntax},
		{Union, true, false, "WITHSCORES", ErrSyntax},
		{Diff, false, false, "WEIGHTS 1 2", ErrSyntax},
		{Diff, false, false, "WITHSCORES", nil},
		{Inter, false, true, "LIMIT 5", nil},
		{Inter, false, true, "LIMIT -1", ErrLimitNegative},
		{Inter, false, true, "LIMIT x", ErrLimitNegative},
		{Inter, false, true, "WITHSCORES", ErrSyntax},
		{Inter, false, false, "LIMIT 1", ErrSyntax},
	}
	for _, tc := range cases {
		_, err := ParseSetOpOptions(tc.op, 2, tc.store, tc.cardOnly, argv(tc.args))
		if !errors.Is(err, tc.err) {
			t.Errorf("ParseSetOpOptions(%d, store=%v, card=%v, %q) = %v, want %v", tc.op, tc.store, tc.cardOnly, tc.args, err, tc.err)
		}
	}
}

func TestCombineWeightsAndAggregates(t *testing.T) {
	a := Create(DefaultLimits, 1)
	b := Create(DefaultLimits, 1)
	a.Add("x", 1, AddFlags{}, DefaultLimits)
	a.Add("y", math.Inf(1), AddFlags{}, DefaultLimits)
	b.Add("x", 2, AddFlags{}, DefaultLimits)
	b.Add("y", math.Inf(-1), AddFlags{}, DefaultLimits)
	b.Add("z", 3, AddFlags{}, DefaultLimits)
	set := PlainSet{Length: 1, ForEach: func(fn func(string) bool) { fn("x") }, Contains: func(m string) bool { return m == "x" }}
	cases := []struct {
		op     SetOp
		inputs []Input
		opts   SetOpOptions
		want   []Entry
	}{
		{Union, []Input{a, b}, SetOpOptions{Weights: []float64{1, 1}}, []Entry{{"y", 0}, {"x", 3}, {"z", 3}}},
		{Union, []Input{a, b}, SetOpOptions{Weights: []float64{1, 0}, Aggregate: Max}, []Entry{{"z", 0}, {"x", 1}, {"y", math.Inf(1)}}},
		{Inter, []Input{a, b, set}, SetOpOptions{Weights: []float64{2, 1, 10}, Aggregate: Sum}, []Entry{{"x", 14}}},
		{Inter, []Input{a, nil}, SetOpOptions{}, nil},
		{Diff, []Input{b, a}, SetOpOptions{}, []Entry{{"z", 3}}},
		{Diff, []Input{a, a}, SetOpOptions{}, nil},
	}
	for i, tc := range cases {
		got := Combine(tc.op, tc.inputs, tc.opts).Entries()
		if len(got) != len(tc.want) {
			t.Errorf("case %d: %v, want %v", i, got, tc.want)
			continue
		}
		for j := range got {
			if got[j] != tc.want[j] {
				t.Errorf("case %d: %v, want %v", i, got, tc.want)
				break
			}
		}
	}
	if n := InterCard([]Input{a, b}, 1); n != 1 {
		t.Errorf("InterCard with LIMIT 1 = %d", n)
	}
}

func TestCstrKeyword(t *testing.T) {
	if !keyword([]byte("WithScores\x00x"), "withscores") || keyword([]byte("with"), "withscores") {
		t.Fatal("keyword")
	}
	if !bytes.Equal(cstr([]byte("a\x00b")), []byte("a")) {
		t.Fatal("cstr")
	}
}
