package zset

import (
	"bytes"
	"testing"
)

func fuzzArgs(s []byte) [][]byte {
	if len(s) == 0 {
		return nil
	}
	return bytes.Split(s, []byte(" "))
}

func FuzzParseZAdd(f *testing.F) {
	for _, s := range []string{"1 a", "nx ch 1 a 2 b", "xx gt incr 0x10 a", "nx xx 1 a", "1e400 a", "incr 1 a 2 b"} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, raw []byte, incr bool) {
		a, err := ParseZAdd(fuzzArgs(raw), incr)
		if err != nil {
			return
		}
		if len(a.Pairs) == 0 || (a.Flags.Incr && len(a.Pairs) != 1) || (a.Flags.NX && (a.Flags.XX || a.Flags.GT || a.Flags.LT)) {
			t.Fatalf("accepted %+v", a)
		}
		z := Create(DefaultLimits, len(a.Pairs[0].Member))
		for _, p := range a.Pairs {
			if p.Score != p.Score {
				t.Fatal("NaN score accepted")
			}
			z.Add(p.Member, p.Score, a.Flags, DefaultLimits)
		}
	})
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"0 -1", "(1 +inf BYSCORE REV LIMIT 0 2 WITHSCORES", "- [b BYLEX", "+ - BYLEX REV LIMIT 1 -1", "0 1 LIMIT 0 1"} {
		f.Add([]byte(s), uint8(0))
	}
	byScore := Create(DefaultLimits, 1)
	byLex := Create(DefaultLimits, 1) // lex ranges are defined for equal scores only
	for i, m := range []string{"a", "b", "c", "d", "e"} {
		byScore.Add(m, float64(i%3), AddFlags{}, DefaultLimits)
		byLex.Add(m, 0, AddFlags{}, DefaultLimits)
	}
	f.Fuzz(func(t *testing.T, raw []byte, cmd uint8) {
		q, err := ParseRange(RangeCommand(cmd%7), fuzzArgs(raw))
		if err != nil {
			return
		}
		base := byScore
		if q.Type == ByLex {
			base = byLex
		}
		got := base.Range(q)
		if len(got) > base.Len() {
			t.Fatalf("%d entries from a set of %d", len(got), base.Len())
		}
		if q.Type == ByScore {
			for _, e := range got {
				if !q.Score.Contains(e.Score) {
					t.Fatalf("%v outside %+v", e, q.Score)
				}
			}
		}
		if q.Type == ByLex {
			for _, e := range got {
				if !q.Lex.Contains(e.Member) {
					t.Fatalf("%v outside %+v", e, q.Lex)
				}
			}
		}
		if q.Type != ByRank {
			z := base.Copy()
			n := z.CountByScore(q.Score)
			if q.Type == ByLex {
				n = z.CountByLex(q.Lex)
			}
			if q.Offset == 0 && q.Limit < 0 && n != len(got) {
				t.Fatalf("count %d but range returned %d", n, len(got))
			}
		}
	})
}

func FuzzParseSetOpOptions(f *testing.F) {
	for _, s := range []string{"WEIGHTS 1 2 AGGREGATE MIN", "WITHSCORES", "LIMIT 3", "AGGREGATE", "WEIGHTS inf -inf"} {
		f.Add([]byte(s), uint8(0), false, false)
	}
	a := Create(DefaultLimits, 1)
	a.Add("x", 1, AddFlags{}, DefaultLimits)
	a.Add("y", 2, AddFlags{}, DefaultLimits)
	f.Fuzz(func(t *testing.T, raw []byte, op uint8, store, cardOnly bool) {
		o, err := ParseSetOpOptions(SetOp(op%3), 2, store, cardOnly, fuzzArgs(raw))
		if err != nil {
			return
		}
		if len(o.Weights) != 2 || o.Limit < 0 {
			t.Fatalf("accepted %+v", o)
		}
		res := Combine(SetOp(op%3), []Input{a, a.Copy()}, o)
		for _, e := range res.Entries() {
			if e.Score != e.Score {
				t.Fatal("NaN score in result")
			}
		}
	})
}
