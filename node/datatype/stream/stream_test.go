package stream

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
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

func TestParseID(t *testing.T) {
	cases := []struct {
		in     string
		strict bool
		want   ID
		err    error
	}{
		{"1-2", false, ID{1, 2}, nil},
		{"5", false, ID{5, 7}, nil}, // missing sequence
		{"-", false, ID{}, nil},
		{"+", false, MaxID, nil},
		{"-", true, ID{}, ErrInvalidID},
		{"+", true, ID{}, ErrInvalidID},
		{"18446744073709551615-18446744073709551615", true, MaxID, nil},
		{"18446744073709551616-0", true, ID{}, ErrInvalidID},
		// string2ull falls back to strtoull: leading zeros, space, '+', and a negative
		// sequence that wraps.
		{"01-1", true, ID{1, 1}, nil},
		{" 3", true, ID{3, 7}, nil},
		{"+4", true, ID{4, 7}, nil},
		{"5--03", true, ID{5, math.MaxUint64 - 2}, nil},
		{"5--3", true, ID{}, ErrInvalidID},
		{"-5", true, ID{}, ErrInvalidID},
		{"1-2\x00junk", true, ID{1, 2}, nil},
		{"1-", true, ID{}, ErrInvalidID},
		{"x", true, ID{}, ErrInvalidID},
		{"1-*", true, ID{}, ErrInvalidID},
		{strings.Repeat("1", 128), true, ID{}, ErrInvalidID},
	}
	for _, tc := range cases {
		var got ID
		var err error
		if tc.strict {
			got, err = ParseStrictID([]byte(tc.in), 7)
		} else {
			got, err = ParseID([]byte(tc.in), 7)
		}
		if !errors.Is(err, tc.err) || (err == nil && got != tc.want) {
			t.Errorf("parse %q (strict %v) = %v, %v; want %v, %v", tc.in, tc.strict, got, err, tc.want, tc.err)
		}
	}
	id, seqGiven, err := parseID([]byte("7-*"), 0, true, true)
	if err != nil || seqGiven || id != (ID{7, 0}) {
		t.Errorf("7-* = %v %v %v", id, seqGiven, err)
	}
}

func TestAddGeneratesIDsFromTheClock(t *testing.T) {
	s := New()
	add := func(args string, now uint64) (ID, error) {
		a, err := ParseXAdd(argv(args), false, DefaultConfig)
		if err != nil {
			return ID{}, err
		}
		return s.Add(a, now, DefaultConfig)
	}
	steps := []struct {
		args string
		now  uint64
		want string
		err  error
	}{
		{"* f v", 1000, "1000-0", nil},
		{"* f v", 1000, "1000-1", nil},
		{"* f v", 999, "1000-2", nil}, // the clock went back: keep the last millisecond
		{"* f v", 2000, "2000-0", nil},
		{"2000-* f v", 0, "2000-1", nil},
		{"3000-* f v", 0, "3000-0", nil},
		{"2999-* f v", 0, "", ErrIDTooSmall},
		{"3000-0 f v", 0, "", ErrIDTooSmall},
		{"0-0 f v", 0, "", ErrIDZero},
		{"18446744073709551615-18446744073709551615 f v", 0, "18446744073709551615-18446744073709551615", nil},
		{"* f v", 5000, "", ErrExhausted},
	}
	for _, st := range steps {
		id, err := add(st.args, st.now)
		if !errors.Is(err, st.err) || (err == nil && id.String() != st.want) {
			t.Fatalf("XADD %s at %d = %v, %v; want %s, %v", st.args, st.now, id, err, st.want, st.err)
		}
	}
	if s.Len() != 7 || s.EntriesAdded() != 7 {
		t.Fatalf("length %d, entries added %d", s.Len(), s.EntriesAdded())
	}
}

func TestParseXAddAndXTrim(t *testing.T) {
	cases := []struct {
		args  string
		xadd  bool
		err   error
		limit int64
	}{
		{"MAXLEN ~ 10 * f v", true, nil, 100 * DefaultConfig.NodeMaxEntries},
		{"MAXLEN = 10 * f v", true, nil, 0},
		{"MINID ~ 5 LIMIT 7 * f v", true, nil, 7},
		{"MAXLEN 10 LIMIT 7 * f v", true, errLimitNoApprox, 0},
		{"LIMIT 7 * f v", true, errLimitNoTrim, 0},
		{"MAXLEN 1 MINID 1 * f v", true, errBothStrategies, 0},
		{"MAXLEN -1 * f v", true, errMaxLenNegative, 0},
		{"MAXLEN ~ 1 LIMIT -1 * f v", true, errLimitNegative, 0},
		{"NOMKSTREAM * f", true, errXAddArity, 0},
		{"bogus f v", true, ErrInvalidID, 0},
		{"MAXLEN 5", false, nil, 0},
		{"MAXLEN 5 bogus", false, ErrSyntax, 0},
		{"LIMIT 5", false, errLimitNoTrim, 0},
	}
	for _, tc := range cases {
		var tr TrimArgs
		var err error
		if tc.xadd {
			var a AddArgs
			a, err = ParseXAdd(argv(tc.args), false, DefaultConfig)
			tr = a.Trim
		} else {
			tr, err = ParseXTrim(argv(tc.args), false, DefaultConfig)
		}
		if !errors.Is(err, tc.err) || (err == nil && tr.Limit != tc.limit) {
			t.Errorf("%q: %+v, %v; want limit %d, %v", tc.args, tr, err, tc.limit, tc.err)
		}
	}
}

// TestNodesSplitAndApproxTrim checks the node layout against what Redis does with
// stream-node-max-entries: full nodes split, "~" drops only whole nodes, and the value
// propagated to replicas is the length actually left.
func TestNodesSplitAndApproxTrim(t *testing.T) {
	cfg := Config{NodeMaxBytes: 4096, NodeMaxEntries: 10}
	s := New()
	for i := 1; i <= 35; i++ {
		a, _ := ParseXAdd(argv(fmt.Sprintf("%d-0 f v", i)), false, cfg)
		if _, err := s.Add(a, 0, cfg); err != nil {
			t.Fatal(err)
		}
	}
	if s.NodeCount() != 4 {
		t.Fatalf("35 entries in nodes of 10: %d nodes", s.NodeCount())
	}
	tr, _ := ParseXTrim(argv("MAXLEN ~ 22"), false, cfg)
	if n := s.Trim(tr); n != 10 || s.Len() != 25 {
		t.Fatalf("MAXLEN ~ 22 removed %d, left %d; want 10, 25", n, s.Len())
	}
	if v := string(s.PropagatedTrimValue(tr)); v != "25" {
		t.Fatalf("propagated MAXLEN %s", v)
	}
	tr, _ = ParseXTrim(argv("MAXLEN 22"), false, cfg)
	if n := s.Trim(tr); n != 3 || s.Len() != 22 || s.NodeCount() != 3 {
		t.Fatalf("MAXLEN 22 removed %d, left %d in %d nodes", n, s.Len(), s.NodeCount())
	}
	if s.FirstID() != (ID{14, 0}) {
		t.Fatalf("first ID %v", s.FirstID())
	}
	tr, _ = ParseXTrim(argv("MINID ~ 30"), false, cfg)
	s.Trim(tr)
	if s.FirstID() != (ID{21, 0}) || string(s.PropagatedTrimValue(tr)) != "21-0" {
		t.Fatalf("MINID ~ 30 left first ID %v", s.FirstID())
	}
}

// TestRangeAgainstModel checks XRANGE / XREVRANGE with deletions against a plain slice.
func TestRangeAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cfg := Config{NodeMaxBytes: 200, NodeMaxEntries: 4}
	for round := 0; round < 50; round++ {
		s := New()
		var model []ID
		for i := 0; i < 60; i++ {
			id := ID{uint64(i/3 + 1), uint64(i % 3)}
			a, _ := ParseXAdd(argv(fmt.Sprintf("%s f %d", id, i)), false, cfg)
			s.Add(a, 0, cfg)
			model = append(model, id)
		}
		for i := 0; i < 30; i++ {
			victim := ID{uint64(rng.IntN(22)), uint64(rng.IntN(3))}
			s.Delete([]ID{victim})
			for j, id := range model {
				if id == victim {
					model = append(model[:j], model[j+1:]...)
					break
				}
			}
		}
		for q := 0; q < 40; q++ {
			start := ID{uint64(rng.IntN(22)), uint64(rng.IntN(3))}
			end := ID{uint64(rng.IntN(22)), uint64(rng.IntN(3))}
			count := int64(rng.IntN(5))
			rev := rng.IntN(2) == 0
			var want []ID
			for _, id := range model {
				if !id.Less(start) && !end.Less(id) {
					want = append(want, id)
				}
			}
			if rev {
				for l, r := 0, len(want)-1; l < r; l, r = l+1, r-1 {
					want[l], want[r] = want[r], want[l]
				}
			}
			if count > 0 && int64(len(want)) > count {
				want = want[:count]
			}
			got := s.Range(start, end, count, rev)
			if len(got) != len(want) {
				t.Fatalf("range %v..%v count %d rev %v: %d entries, want %d", start, end, count, rev, len(got), len(want))
			}
			for k := range got {
				if got[k].ID != want[k] {
					t.Fatalf("range %v..%v: entry %d is %v, want %v", start, end, k, got[k].ID, want[k])
				}
			}
		}
		if s.Len() != int64(len(model)) {
			t.Fatalf("length %d, model %d", s.Len(), len(model))
		}
	}
}

func TestLagAndEntriesRead(t *testing.T) {
	s := New()
	for i := 1; i <= 5; i++ {
		a, _ := ParseXAdd(argv(fmt.Sprintf("%d-0 f v", i)), false, DefaultConfig)
		s.Add(a, 0, DefaultConfig)
	}
	g, _ := s.CreateGroup("g", ID{}, InvalidEntriesRead)
	if lag, ok := s.Lag(g); !ok || lag != 5 {
		t.Fatalf("lag before reading = %d, %v", lag, ok)
	}
	res := s.ReadGroup(g, "c", true, ID{}, 2, false, 100)
	if len(res.Entries) != 2 || g.EntriesRead() != 2 || len(res.Claimed) != 2 || !res.ConsumerCreated {
		t.Fatalf("read 2: %+v, entries-read %d", res, g.EntriesRead())
	}
	if lag, _ := s.Lag(g); lag != 3 {
		t.Fatalf("lag = %d, want 3", lag)
	}
	s.Delete([]ID{{4, 0}}) // a tombstone ahead of the group makes the lag unknown
	if _, ok := s.Lag(g); ok {
		t.Fatal("lag known across a tombstone")
	}
	if n := g.Ack([]ID{{1, 0}, {9, 0}}); n != 1 || g.PendingCount() != 1 {
		t.Fatalf("XACK = %d, pending %d", n, g.PendingCount())
	}
	p := g.Pending(PendingQuery{Start: ID{}, End: MaxID, Count: 10}, 150)
	if len(p) != 1 || p[0].ID != (ID{2, 0}) || p[0].Idle != 50 || p[0].DeliveryCount != 1 {
		t.Fatalf("XPENDING = %+v", p)
	}
}

func TestAutoClaimCursorAndDeleted(t *testing.T) {
	s := New()
	for i := 1; i <= 6; i++ {
		a, _ := ParseXAdd(argv(fmt.Sprintf("%d-0 f v", i)), false, DefaultConfig)
		s.Add(a, 0, DefaultConfig)
	}
	g, _ := s.CreateGroup("g", ID{}, InvalidEntriesRead)
	s.ReadGroup(g, "a", true, ID{}, 0, false, 10)
	s.Delete([]ID{{2, 0}})
	res := s.AutoClaim("k", g, AutoClaimArgs{Consumer: "b", Start: ID{}, Count: 2}, 20)
	// Entry 1 is claimed, 2 is gone (and counts), so the scan stops with 3 as the cursor.
	if len(res.Entries) != 1 || res.Entries[0].ID != (ID{1, 0}) || len(res.Deleted) != 1 || res.Next != (ID{3, 0}) {
		t.Fatalf("XAUTOCLAIM = %+v", res)
	}
	if g.Consumer("b").PendingCount() != 1 || g.PendingCount() != 5 {
		t.Fatalf("pending after XAUTOCLAIM: b %d, group %d", g.Consumer("b").PendingCount(), g.PendingCount())
	}
	if len(res.Propagate) != 2 || string(res.Propagate[1][0]) != "XCLAIM" {
		t.Fatalf("propagation %q", res.Propagate)
	}
}
