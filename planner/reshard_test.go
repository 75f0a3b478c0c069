package planner

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

func slotRange(start, end int) []int {
	var s []int
	for i := start; i <= end; i++ {
		s = append(s, i)
	}
	return s
}

func movesOf(slots []int, from, to string) []Move {
	var m []Move
	for _, s := range slots {
		m = append(m, Move{Slot: s, From: from, To: to})
	}
	return m
}

func TestPlanReshard(t *testing.T) {
	a := MasterSlots{ID: "a", Addr: "10.0.0.1:7000", Slots: slotRange(0, 5460)}
	b := MasterSlots{ID: "b", Addr: "10.0.0.2:7000", Slots: slotRange(5461, 10922)}
	c := MasterSlots{ID: "c", Addr: "10.0.0.3:7000", Slots: slotRange(10923, 16383)}
	tests := []struct {
		name    string
		sources []MasterSlots
		target  string
		count   int
		want    []Move
	}{
		{
			// b holds one slot more, so it comes first and rounds up: 100·5462/10923 =
			// 50.004 → 51, then a: 100·5461/10923 = 49.99 → 49.
			name: "two sources", sources: []MasterSlots{a, b}, target: "c", count: 100,
			want: append(movesOf(slotRange(5461, 5511), "b", "c"), movesOf(slotRange(0, 48), "a", "c")...),
		},
		{
			// The target is never its own source.
			name: "all includes the target", sources: []MasterSlots{a, b, c}, target: "c", count: 1,
			want: movesOf([]int{5461}, "b", "c"),
		},
		{
			// Equal counts: address order decides who goes first and rounds up.
			name: "tie by address", sources: []MasterSlots{c, a}, target: "b", count: 3,
			want: append(movesOf([]int{0, 1}, "a", "b"), movesOf([]int{10923}, "c", "b")...),
		},
		{
			name: "everything", sources: []MasterSlots{a}, target: "b", count: 5461,
			want: movesOf(slotRange(0, 5460), "a", "b"),
		},
		{
			// Asking for more than the sources hold moves what they hold.
			name: "more than held", sources: []MasterSlots{{ID: "x", Slots: []int{7, 9}}}, target: "b", count: 5,
			want: movesOf([]int{7, 9}, "x", "b"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlanReshard(tt.sources, tt.target, tt.count)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PlanReshard = %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestPlanReshardErrors(t *testing.T) {
	a := MasterSlots{ID: "a", Slots: []int{1, 2}}
	tests := []struct {
		name    string
		sources []MasterSlots
		target  string
		count   int
	}{
		{"zero slots", []MasterSlots{a}, "b", 0},
		{"too many slots", []MasterSlots{a}, "b", Slots + 1},
		{"no target", []MasterSlots{a}, "", 1},
		{"no source slots", []MasterSlots{{ID: "a"}}, "b", 1},
		{"only the target", []MasterSlots{a}, "a", 1},
		{"unsorted slots", []MasterSlots{{ID: "a", Slots: []int{2, 1}}}, "b", 1},
		{"slot out of range", []MasterSlots{{ID: "a", Slots: []int{Slots}}}, "b", 1},
	}
	for _, tt := range tests {
		if _, err := PlanReshard(tt.sources, tt.target, tt.count); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

// randomMasters deals every slot to one of n masters at random (some may get none).
func randomMasters(rng *rand.Rand, n int) []MasterSlots {
	masters := make([]MasterSlots, n)
	for i := range masters {
		masters[i] = MasterSlots{ID: string(rune('a' + i)), Addr: string(rune('a'+i)) + ":7000"}
	}
	for s := 0; s < Slots; s++ {
		i := rng.IntN(n)
		if rng.IntN(4) == 0 {
			i = 0 // skew towards the first master
		}
		masters[i].Slots = append(masters[i].Slots, s)
	}
	return masters
}

func TestPlanReshardProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for iter := 0; iter < 100; iter++ {
		masters := randomMasters(rng, 2+rng.IntN(6))
		target := masters[rng.IntN(len(masters))].ID
		count := 1 + rng.IntN(Slots)
		moves, err := PlanReshard(masters, target, count)
		if err != nil {
			t.Fatal(err)
		}
		if len(moves) > count {
			t.Fatalf("%d moves for %d slots", len(moves), count)
		}
		owner := make(map[int]string)
		held := 0
		for _, m := range masters {
			for _, s := range m.Slots {
				owner[s] = m.ID
			}
			if m.ID != target {
				held += len(m.Slots)
			}
		}
		if held >= count && len(moves) < count*9/10 {
			// Rounding down may leave a few slots short, never many.
			t.Fatalf("only %d moves for %d slots from %d held", len(moves), count, held)
		}
		taken := make(map[string]int)
		seen := make(map[int]bool)
		for _, m := range moves {
			if seen[m.Slot] || owner[m.Slot] != m.From || m.To != target || m.From == target {
				t.Fatalf("bad move %+v (owner %s, target %s)", m, owner[m.Slot], target)
			}
			seen[m.Slot] = true
			taken[m.From]++
		}
		// Each source gives a prefix of its slots: its lowest ones.
		for _, m := range masters {
			for _, s := range m.Slots[:taken[m.ID]] {
				if !seen[s] {
					t.Fatalf("source %s gave %d slots but not its low slot %d", m.ID, taken[m.ID], s)
				}
			}
		}
	}
}
