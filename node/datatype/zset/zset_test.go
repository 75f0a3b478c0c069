package zset

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

// model is the naive sorted set the property tests compare against: a slice kept in
// (score, member) order.
type model []Entry

func (m model) sorted() model {
	sort.Slice(m, func(i, j int) bool {
		return m[i].Score < m[j].Score || (m[i].Score == m[j].Score && m[i].Member < m[j].Member)
	})
	return m
}

func (m model) find(member string) int {
	for i, e := range m {
		if e.Member == member {
			return i
		}
	}
	return -1
}

func (m model) filter(keep func(Entry) bool) model {
	var out model
	for _, e := range m {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// window applies reverse, LIMIT offset count to the entries of a range.
func window(in model, reverse bool, offset, count int64) []Entry {
	out := slices.Clone(in)
	if reverse {
		slices.Reverse(out)
	}
	if offset < 0 {
		return nil
	}
	if offset >= int64(len(out)) {
		return nil
	}
	out = out[offset:]
	if count >= 0 && count < int64(len(out)) {
		out = out[:count]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func requireSame(t *testing.T, what string, got, want []Entry) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got %v\nwant %v", what, got, want)
	}
}

// checkStructure verifies the skiplist's spans and links through ranks and positions.
func checkStructure(t *testing.T, z *ZSet, m model) {
	t.Helper()
	if z.Len() != len(m) || z.dict.Len() != len(m) {
		t.Fatalf("length %d (dict %d), model %d", z.Len(), z.dict.Len(), len(m))
	}
	requireSame(t, "entries", z.Entries(), m)
	var rev []Entry
	z.Each(true, func(e Entry) bool { rev = append(rev, e); return true })
	requireSame(t, "reverse entries", rev, window(m, true, 0, -1))
	for i, e := range m {
		if r, ok := z.Rank(e.Member, false); !ok || r != i {
			t.Fatalf("rank of %q = %d, want %d", e.Member, r, i)
		}
		if r, ok := z.Rank(e.Member, true); !ok || r != len(m)-1-i {
			t.Fatalf("reverse rank of %q = %d, want %d", e.Member, r, len(m)-1-i)
		}
		if got, ok := z.At(i, false); !ok || got != e {
			t.Fatalf("At(%d) = %v, want %v", i, got, e)
		}
	}
}

func randomScoreRange(rng *rand.Rand) ScoreRange {
	pick := func() float64 {
		switch rng.IntN(10) {
		case 0:
			return math.Inf(-1)
		case 1:
			return math.Inf(1)
		}
		return float64(rng.IntN(21) - 10)
	}
	return ScoreRange{Min: pick(), Max: pick(), MinEx: rng.IntN(2) == 0, MaxEx: rng.IntN(2) == 0}
}

func randomLexRange(rng *rand.Rand) LexRange {
	pick := func() LexBound {
		switch rng.IntN(8) {
		case 0:
			return LexBound{Inf: -1, Exclusive: true}
		case 1:
			return LexBound{Inf: 1, Exclusive: true}
		}
		return LexBound{Value: fmt.Sprintf("m%02d", rng.IntN(40)), Exclusive: rng.IntN(2) == 0}
	}
	return LexRange{Min: pick(), Max: pick()}
}

func TestAgainstSortedSliceModel(t *testing.T) {
	for seed := uint64(0); seed < 30; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		sameScore := seed%3 == 0 // lex ranges are defined only with equal scores
		z := Create(DefaultLimits, 1)
		var m model
		for step := 0; step < 400; step++ {
			member := fmt.Sprintf("m%02d", rng.IntN(40))
			score := float64(rng.IntN(21) - 10)
			if sameScore {
				score = 0
			}
			switch op := rng.IntN(12); op {
			case 0, 1, 2, 3:
				flags := AddFlags{XX: rng.IntN(5) == 0, GT: rng.IntN(6) == 0, Incr: rng.IntN(4) == 0 && !sameScore}
				if !flags.GT {
					flags.LT = rng.IntN(6) == 0
				}
				if !flags.GT && !flags.LT && !flags.XX {
					flags.NX = rng.IntN(5) == 0
				}
				res, newScore, err := z.Add(member, score, flags, DefaultLimits)
				if err != nil {
					t.Fatal(err)
				}
				wantRes, wantScore := Nop, 0.0
				if i := m.find(member); i >= 0 {
					cur := m[i].Score
					target := score
					if flags.Incr {
						target += cur
					}
					switch {
					case flags.NX, flags.LT && target >= cur, flags.GT && target <= cur:
						wantRes, wantScore = Nop, cur
					case target == cur:
						wantRes, wantScore = Unchanged, cur
					default:
						wantRes, wantScore = Updated, target
						m[i].Score = target
					}
				} else if !flags.XX {
					wantRes, wantScore = Added, score
					m = append(m, Entry{member, score})
				}
				m = m.sorted()
				if res != wantRes || (res != Nop && newScore != wantScore) {
					t.Fatalf("Add(%q, %v, %+v) = %v %v, want %v %v", member, score, flags, res, newScore, wantRes, wantScore)
				}
			case 4:
				got := z.Remove(member)
				i := m.find(member)
				if got != (i >= 0) {
					t.Fatalf("Remove(%q) = %v", member, got)
				}
				if i >= 0 {
					m = append(m[:i], m[i+1:]...)
				}
			case 5:
				r := randomScoreRange(rng)
				in := m.filter(func(e Entry) bool { return r.Contains(e.Score) })
				if r.empty() {
					in = nil
				}
				rev := rng.IntN(2) == 0
				off, cnt := int64(rng.IntN(5)-1), int64(rng.IntN(6)-1)
				requireSame(t, fmt.Sprintf("RangeByScore %+v rev=%v %d %d", r, rev, off, cnt), z.RangeByScore(r, rev, off, cnt), window(in, rev, off, cnt))
				if got := z.CountByScore(r); got != len(in) {
					t.Fatalf("CountByScore %+v = %d, want %d", r, got, len(in))
				}
			case 6:
				if !sameScore {
					continue
				}
				r := randomLexRange(rng)
				in := m.filter(func(e Entry) bool { return r.Contains(e.Member) })
				if r.empty() {
					in = nil
				}
				rev := rng.IntN(2) == 0
				off, cnt := int64(rng.IntN(5)-1), int64(rng.IntN(6)-1)
				requireSame(t, fmt.Sprintf("RangeByLex %+v rev=%v", r, rev), z.RangeByLex(r, rev, off, cnt), window(in, rev, off, cnt))
				if got := z.CountByLex(r); got != len(in) {
					t.Fatalf("CountByLex %+v = %d, want %d", r, got, len(in))
				}
			case 7:
				start, end := int64(rng.IntN(50)-25), int64(rng.IntN(50)-25)
				rev := rng.IntN(2) == 0
				var want []Entry
				if s, e, ok := ResolveRankRange(start, end, len(m)); ok {
					want = window(m, rev, 0, -1)[s : e+1]
				}
				requireSame(t, fmt.Sprintf("range by rank %d %d rev=%v", start, end, rev), z.Range(RangeQuery{Type: ByRank, Start: start, End: end, Reverse: rev}), want)
			case 8:
				start, end := int64(rng.IntN(50)-25), int64(rng.IntN(50)-25)
				if s, e, ok := ResolveRankRange(start, end, len(m)); ok {
					if got := z.RemoveRangeByRank(s, e); got != e-s+1 {
						t.Fatalf("RemoveRangeByRank(%d, %d) = %d", s, e, got)
					}
					m = append(m[:s], m[e+1:]...)
				}
			case 9:
				r := randomScoreRange(rng)
				keep := m.filter(func(e Entry) bool { return r.empty() || !r.Contains(e.Score) })
				if got := z.RemoveRangeByScore(r); got != len(m)-len(keep) {
					t.Fatalf("RemoveRangeByScore %+v = %d, want %d", r, got, len(m)-len(keep))
				}
				m = keep
			case 10:
				if !sameScore {
					continue
				}
				r := randomLexRange(rng)
				keep := m.filter(func(e Entry) bool { return r.empty() || !r.Contains(e.Member) })
				if got := z.RemoveRangeByLex(r); got != len(m)-len(keep) {
					t.Fatalf("RemoveRangeByLex %+v = %d, want %d", r, got, len(m)-len(keep))
				}
				m = keep
			case 11:
				n := rng.IntN(3)
				max := rng.IntN(2) == 0
				want := window(m, max, 0, int64(n))
				requireSame(t, fmt.Sprintf("Pop(%d, %v)", n, max), z.Pop(n, max), want)
				for _, e := range want {
					m = append(m[:m.find(e.Member)], m[m.find(e.Member)+1:]...)
				}
			}
			checkStructure(t, z, m)
		}
	}
}

func TestEncodingRules(t *testing.T) {
	lim := Limits{MaxListpackEntries: 3, MaxListpackValue: 5}
	z := Create(lim, 1)
	if z.Encoding() != "listpack" {
		t.Fatal("a small new set is a listpack")
	}
	for i, m := range []string{"a", "b", "c"} {
		z.Add(m, float64(i), AddFlags{}, lim)
	}
	if z.Encoding() != "listpack" {
		t.Fatal("three members fit the listpack")
	}
	z.Add("d", 4, AddFlags{}, lim)
	if z.Encoding() != "skiplist" {
		t.Fatal("a fourth member converts")
	}
	z.Remove("d")
	if z.Encoding() != "skiplist" {
		t.Fatal("removing never converts back")
	}
	z.ConvertToListpackIfNeeded(lim)
	if z.Encoding() != "listpack" {
		t.Fatal("store results convert back when small")
	}
	z.Add("toolong", 1, AddFlags{}, lim)
	if z.Encoding() != "skiplist" {
		t.Fatal("a long member converts")
	}
	if Create(lim, 6).Encoding() != "skiplist" || Create(Limits{0, 64}, 1).Encoding() != "skiplist" {
		t.Fatal("ZADD creation rule")
	}
	if CreateSized(lim, 4).Encoding() != "skiplist" || CreateSized(lim, -1).Encoding() != "listpack" {
		t.Fatal("ZRANGESTORE creation rule")
	}
	// Updating a member does not convert, even past the limits.
	z2 := Create(Limits{MaxListpackEntries: 1, MaxListpackValue: 64}, 1)
	z2.Add("a", 1, AddFlags{}, Limits{MaxListpackEntries: 1, MaxListpackValue: 64})
	z2.Add("a", 2, AddFlags{}, Limits{MaxListpackEntries: 0, MaxListpackValue: 0})
	if z2.Encoding() != "listpack" {
		t.Fatal("an update converted the encoding")
	}
}

func TestAddNaN(t *testing.T) {
	z := Create(DefaultLimits, 1)
	z.Add("a", math.Inf(1), AddFlags{}, DefaultLimits)
	if _, _, err := z.Add("a", math.Inf(-1), AddFlags{Incr: true}, DefaultLimits); err != ErrNaN {
		t.Fatalf("inf + -inf: %v", err)
	}
	if _, _, err := z.Add("b", math.NaN(), AddFlags{}, DefaultLimits); err != ErrNaN {
		t.Fatalf("NaN score: %v", err)
	}
	if s, _ := z.Score("a"); !math.IsInf(s, 1) || z.Len() != 1 {
		t.Fatal("a failed Add changed the set")
	}
}

func TestNewNodeKeepsMemberAndHeight(t *testing.T) {
	members := []string{"", "a", strings.Repeat("m", inlineMember), strings.Repeat("m", inlineMember+1)}
	for level := 1; level <= 6; level++ {
		for _, member := range members {
			n := newNode(level, 1.5, member)
			if n.member != member || n.score != 1.5 || len(n.level) != level {
				t.Errorf("newNode(%d, 1.5, %q) = member %q, score %v, %d levels", level, member, n.member, n.score, len(n.level))
			}
		}
	}
}
