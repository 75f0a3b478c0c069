package list

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

func TestPushPopBothEnds(t *testing.T) {
	l := &List{}
	// Enough pushes at both ends to wrap the ring and grow it several times.
	var model []string
	for i := 0; i < 1000; i++ {
		e := string(rune('a' + i%26))
		if i%3 == 0 {
			l.PushHead(e)
			model = append([]string{e}, model...)
		} else {
			l.PushTail(e)
			model = append(model, e)
		}
	}
	if got := l.Elements(); !slices.Equal(got, model) {
		t.Fatalf("elements differ from the model")
	}
	for i := 0; l.Len() > 0; i++ {
		head := i%2 == 0
		e, ok := l.Pop(head)
		want := model[len(model)-1]
		if head {
			want, model = model[0], model[1:]
		} else {
			model = model[:len(model)-1]
		}
		if !ok || e != want {
			t.Fatalf("pop %d: got %q, want %q", i, e, want)
		}
	}
	if _, ok := l.Pop(true); ok {
		t.Fatal("pop from an empty list succeeded")
	}
	if l.MemoryUsage() <= 0 {
		t.Fatal("memory usage of an empty list is not positive")
	}
}

func TestRangeBounds(t *testing.T) {
	for _, tc := range []struct {
		start, end int64
		n          int
		first, cnt int
	}{
		{0, -1, 5, 0, 5}, {1, 2, 5, 1, 2}, {-2, -1, 5, 3, 2}, {-100, 100, 5, 0, 5},
		{3, 1, 5, 0, 0}, {5, 10, 5, 0, 0}, {0, -6, 5, 0, 0}, {0, 0, 0, 0, 0},
		{-9223372036854775808, 9223372036854775807, 3, 0, 3},
	} {
		first, cnt := RangeBounds(tc.start, tc.end, tc.n)
		if first != tc.first || cnt != tc.cnt {
			t.Errorf("RangeBounds(%d, %d, %d) = %d, %d; want %d, %d", tc.start, tc.end, tc.n, first, cnt, tc.first, tc.cnt)
		}
	}
}

func TestIndexSetInsertRemoveTrim(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   func(l *List) any
		want []string
		ret  any
	}{
		{"index", func(l *List) any { e, _ := l.Index(-1); return e }, []string{"a", "b", "c", "b", "a"}, "a"},
		{"index out", func(l *List) any { _, ok := l.Index(5); return ok }, []string{"a", "b", "c", "b", "a"}, false},
		{"set", func(l *List) any { return l.Set(-2, "X") }, []string{"a", "b", "c", "X", "a"}, true},
		{"set out", func(l *List) any { return l.Set(-6, "X") }, []string{"a", "b", "c", "b", "a"}, false},
		{"insert before", func(l *List) any { return l.Insert("b", "X", false) }, []string{"a", "X", "b", "c", "b", "a"}, true},
		{"insert after last", func(l *List) any { return l.Insert("c", "X", true) }, []string{"a", "b", "c", "X", "b", "a"}, true},
		{"insert before head", func(l *List) any { return l.Insert("a", "X", false) }, []string{"X", "a", "b", "c", "b", "a"}, true},
		{"insert missing", func(l *List) any { return l.Insert("q", "X", false) }, []string{"a", "b", "c", "b", "a"}, false},
		{"remove all", func(l *List) any { return l.Remove(0, "b") }, []string{"a", "c", "a"}, 2},
		{"remove head", func(l *List) any { return l.Remove(1, "a") }, []string{"b", "c", "b", "a"}, 1},
		{"remove tail", func(l *List) any { return l.Remove(-1, "a") }, []string{"a", "b", "c", "b"}, 1},
		{"remove more", func(l *List) any { return l.Remove(-5, "b") }, []string{"a", "c", "a"}, 2},
		{"trim", func(l *List) any { return l.Trim(1, -2) }, []string{"b", "c", "b"}, 2},
		{"trim empty", func(l *List) any { return l.Trim(3, 1) }, []string{}, 5},
		{"pop n tail", func(l *List) any { return l.PopN(2, false) }, []string{"a", "b", "c"}, []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := New("a", "b", "c", "b", "a")
			ret := tc.op(l)
			if !reflect.DeepEqual(ret, tc.ret) {
				t.Errorf("returned %v, want %v", ret, tc.ret)
			}
			if got := l.Elements(); !slices.Equal(got, tc.want) {
				t.Errorf("list is %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPos(t *testing.T) {
	l := New("a", "b", "c", "1", "2", "3", "c", "c")
	for _, tc := range []struct {
		elem string
		o    PosOptions
		want []int
	}{
		{"c", PosOptions{Rank: 1, Count: -1}, []int{2}},
		{"c", PosOptions{Rank: 2, Count: -1}, []int{6}},
		{"c", PosOptions{Rank: -1, Count: -1}, []int{7}},
		{"c", PosOptions{Rank: -2, Count: 0}, []int{6, 2}},
		{"c", PosOptions{Rank: 1, Count: 2}, []int{2, 6}},
		{"c", PosOptions{Rank: 1, Count: 0, MaxLen: 4}, []int{2}},
		{"c", PosOptions{Rank: -9223372036854775808, Count: -1}, []int{7}},
		{"x", PosOptions{Rank: 1, Count: -1}, nil},
	} {
		if got := l.Pos(tc.elem, tc.o); !slices.Equal(got, tc.want) {
			t.Errorf("Pos(%q, %+v) = %v, want %v", tc.elem, tc.o, got, tc.want)
		}
	}
}

func TestParsePosOptions(t *testing.T) {
	args := func(s ...string) [][]byte {
		out := make([][]byte, len(s))
		for i, a := range s {
			out[i] = []byte(a)
		}
		return out
	}
	for _, tc := range []struct {
		args []string
		want PosOptions
		err  error
	}{
		{nil, PosOptions{Rank: 1, Count: -1}, nil},
		{[]string{"RANK", "-2", "count", "0", "MaxLen", "10"}, PosOptions{Rank: -2, Count: 0, MaxLen: 10}, nil},
		{[]string{"RANK", "0"}, PosOptions{}, errRankZero},
		{[]string{"RANK", "x"}, PosOptions{}, errNotInt},
		{[]string{"COUNT", "-1"}, PosOptions{}, errCountNeg},
		{[]string{"COUNT", "x"}, PosOptions{}, errCountNeg},
		{[]string{"MAXLEN", "-1"}, PosOptions{}, errMaxlenNeg},
		{[]string{"RANK"}, PosOptions{}, errSyntax},
		{[]string{"BOGUS", "1"}, PosOptions{}, errSyntax},
	} {
		got, err := ParsePosOptions(args(tc.args...))
		if !errors.Is(err, tc.err) || (err == nil && got != tc.want) {
			t.Errorf("ParsePosOptions(%q) = %+v, %v; want %+v, %v", tc.args, got, err, tc.want, tc.err)
		}
	}
}

// TestAgainstModel runs random operations on a List and on a plain slice.
func TestAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	l := &List{}
	var model []string
	for i := 0; i < 20000; i++ {
		e := string(rune('a' + r.IntN(4)))
		switch r.IntN(8) {
		case 0:
			l.PushHead(e)
			model = append([]string{e}, model...)
		case 1, 2:
			l.PushTail(e)
			model = append(model, e)
		case 3:
			head := r.IntN(2) == 0
			got, ok := l.Pop(head)
			if ok != (len(model) > 0) {
				t.Fatal("pop disagrees on emptiness")
			}
			if ok {
				want := model[len(model)-1]
				if head {
					want, model = model[0], model[1:]
				} else {
					model = model[:len(model)-1]
				}
				if got != want {
					t.Fatalf("pop got %q, want %q", got, want)
				}
			}
		case 4:
			c := int64(r.IntN(5) - 2)
			n := l.Remove(c, e)
			want := removeModel(&model, c, e)
			if n != want {
				t.Fatalf("Remove(%d, %q) = %d, want %d", c, e, n, want)
			}
		case 5:
			after := r.IntN(2) == 0
			ok := l.Insert(e, "p", after)
			i := slices.Index(model, e)
			if ok != (i >= 0) {
				t.Fatal("Insert disagrees on the pivot")
			}
			if i >= 0 {
				if after {
					i++
				}
				model = slices.Insert(model, i, "p")
			}
		case 6:
			s, en := int64(r.IntN(10)-5), int64(r.IntN(10)-5)
			l.Trim(s, en)
			first, cnt := RangeBounds(s, en, len(model))
			model = append([]string(nil), model[first:first+cnt]...)
		case 7:
			c := l.Clone().(*List)
			if !slices.Equal(c.Elements(), model) {
				t.Fatal("clone differs")
			}
		}
		if got := l.Elements(); !slices.Equal(got, model) {
			t.Fatalf("step %d: list %q, model %q", i, got, model)
		}
	}
}

func removeModel(model *[]string, count int64, e string) int {
	m := *model
	removed := 0
	if count >= 0 {
		var out []string
		for _, x := range m {
			if x == e && (count == 0 || int64(removed) < count) {
				removed++
				continue
			}
			out = append(out, x)
		}
		*model = out
		return removed
	}
	out := make([]string, 0, len(m))
	for i := len(m) - 1; i >= 0; i-- {
		if m[i] == e && int64(removed) < -count {
			removed++
			continue
		}
		out = append(out, m[i])
	}
	slices.Reverse(out)
	*model = out
	return removed
}
