package set

import (
	"slices"
	"sort"
	"strconv"
	"testing"
)

func build(lim Limits, members ...string) *Set {
	s := New(members[0])
	for _, m := range members {
		s.Add(m, lim)
	}
	return s
}

func TestEncodings(t *testing.T) {
	lim := Limits{MaxIntsetEntries: 3}
	for _, tc := range []struct {
		name    string
		members []string
		want    string
	}{
		{"integers", []string{"3", "-1", "2"}, "intset"},
		{"past the limit", []string{"1", "2", "3", "4"}, "hashtable"},
		{"a string", []string{"1", "a"}, "hashtable"},
		{"string first", []string{"a"}, "hashtable"},
		{"leading zero is a string", []string{"01"}, "hashtable"},
		{"minus zero is a string", []string{"1", "-0"}, "hashtable"},
		{"extremes", []string{"9223372036854775807", "-9223372036854775808"}, "intset"},
		{"overflow is a string", []string{"9223372036854775808"}, "hashtable"},
		{"duplicates do not count", []string{"1", "1", "2", "2", "3", "3"}, "intset"},
	} {
		s := build(lim, tc.members...)
		if s.Encoding() != tc.want {
			t.Errorf("%s: encoding %s, want %s", tc.name, s.Encoding(), tc.want)
		}
	}
	if s := build(Limits{MaxIntsetEntries: 0}, "1"); s.Encoding() != "hashtable" {
		t.Errorf("set-max-intset-entries 0: %s", s.Encoding())
	}
}

func TestIntsetOrderAndRemove(t *testing.T) {
	s := build(DefaultLimits, "5", "-3", "100", "0", "5")
	if got := s.Members(); !slices.Equal(got, []string{"-3", "0", "5", "100"}) {
		t.Fatalf("members %q", got)
	}
	for _, tc := range []struct {
		m    string
		want bool
	}{{"5", true}, {"5", false}, {"x", false}, {"05", false}, {"100", true}} {
		if got := s.Remove([]byte(tc.m)); got != tc.want {
			t.Errorf("Remove(%q) = %v", tc.m, got)
		}
	}
	if !s.Contains("-3") || s.Contains("5") || s.ContainsBytes([]byte("x")) {
		t.Fatal("membership wrong after removals")
	}
	if s.Len() != 2 || s.Encoding() != "intset" {
		t.Fatalf("len %d encoding %s", s.Len(), s.Encoding())
	}
}

func TestHashTableScanAndClone(t *testing.T) {
	s := New("a")
	for i := 0; i < 1000; i++ {
		s.Add("m"+strconv.Itoa(i), DefaultLimits)
	}
	seen := map[string]bool{}
	var cursor uint64
	for {
		cursor = s.Scan(cursor, 7, func(m string) { seen[m] = true })
		if cursor == 0 {
			break
		}
	}
	if len(seen) != s.Len() {
		t.Fatalf("scan saw %d of %d", len(seen), s.Len())
	}
	c := s.Clone().(*Set)
	c.Remove([]byte("m1"))
	if !s.Contains("m1") || c.Contains("m1") || c.Len() != s.Len()-1 {
		t.Fatal("clone shares state")
	}
	if s.MemoryUsage() <= 0 {
		t.Fatal("no memory usage")
	}
}

func TestRandomAndPop(t *testing.T) {
	for _, first := range []string{"1", "a"} {
		s := New(first)
		for i := 0; i < 50; i++ {
			s.Add(strconv.Itoa(i), DefaultLimits)
		}
		size := s.Len()
		for _, count := range []int64{1, 10, 20, size64(s) - 1, size64(s), 1000, -5, -200} {
			got := s.RandomMembers(count)
			want := int(min(count, int64(size)))
			if count < 0 {
				want = int(-count)
			}
			if len(got) != want {
				t.Fatalf("%s count %d: %d members", s.Encoding(), count, len(got))
			}
			distinct := map[string]bool{}
			for _, m := range got {
				if !s.Contains(m) {
					t.Fatalf("%q is not a member", m)
				}
				distinct[m] = true
			}
			if count > 0 && len(distinct) != len(got) {
				t.Fatalf("count %d: repeated members", count)
			}
		}
		popped := s.PopN(30)
		if len(popped) != 30 || s.Len() != size-30 {
			t.Fatalf("PopN: %d popped, %d left", len(popped), s.Len())
		}
		for _, m := range popped {
			if s.Contains(m) {
				t.Fatalf("popped %q is still there", m)
			}
		}
		for s.Len() > 0 {
			if _, ok := s.Pop(); !ok {
				t.Fatal("Pop failed on a non-empty set")
			}
		}
		if _, ok := s.Pop(); ok {
			t.Fatal("Pop succeeded on an empty set")
		}
	}
}

func size64(s *Set) int64 { return int64(s.Len()) }

func TestAlgebra(t *testing.T) {
	lim := DefaultLimits
	a := build(lim, "1", "2", "3", "4")
	b := build(lim, "3", "4", "5")
	c := build(lim, "4", "x")
	sorted := func(s *Set) []string {
		m := s.Members()
		sort.Strings(m)
		return m
	}
	inter := func(sets ...*Set) []string {
		var out []string
		Inter(sets, func(m string) bool { out = append(out, m); return true })
		return out
	}
	for _, tc := range []struct {
		name string
		got  []string
		want []string
	}{
		{"inter", inter(a, b), []string{"3", "4"}},
		{"inter three", inter(a, b, c), []string{"4"}},
		{"inter missing", inter(a, nil), nil},
		{"inter self", inter(a, a), []string{"1", "2", "3", "4"}},
		{"union", Union([]*Set{a, b}, lim).Members(), []string{"1", "2", "3", "4", "5"}},
		{"union strings", sorted(Union([]*Set{a, c}, lim)), []string{"1", "2", "3", "4", "x"}},
		{"diff", Diff([]*Set{a, b}, lim).Members(), []string{"1", "2"}},
		{"diff self", Diff([]*Set{a, a}, lim).Members(), []string{}},
		{"diff missing first", Diff([]*Set{nil, a}, lim).Members(), []string{}},
		{"diff missing other", Diff([]*Set{a, nil}, lim).Members(), []string{"1", "2", "3", "4"}},
		{"inter store", InterStore([]*Set{a, b}, lim).Members(), []string{"3", "4"}},
	} {
		if !slices.Equal(tc.got, tc.want) && !(len(tc.got) == 0 && len(tc.want) == 0) {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if enc := Union([]*Set{a, b}, lim).Encoding(); enc != "intset" {
		t.Errorf("union of intsets is %s", enc)
	}
	if enc := Union([]*Set{a, c}, lim).Encoding(); enc != "hashtable" {
		t.Errorf("union with a string is %s", enc)
	}
	var n int
	Inter([]*Set{a, a}, func(string) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("Inter did not stop: %d calls", n)
	}
}
