package set

import (
	"math/rand/v2"
	"slices"
)

// RandomMembers is SRANDMEMBER with a count (srandmemberWithCountCommand): for a negative
// count, -count members drawn independently (repeats possible); for a count at least the
// set's size, every member in Each's order; otherwise count distinct random members.
func (s *Set) RandomMembers(count int64) []string {
	size := s.Len()
	if count == 0 || size == 0 {
		return nil
	}
	if count < 0 {
		n := -count
		out := make([]string, 0, min(n, 1<<20))
		for i := int64(0); i < n; i++ {
			m, _ := s.Random()
			out = append(out, m)
		}
		return out
	}
	if count >= int64(size) {
		return s.Members()
	}
	return s.sample(int(count))
}

// sample returns k distinct random members, 0 < k < Len.
func (s *Set) sample(k int) []string {
	size := s.Len()
	if s.ht == nil || k*3 > size {
		// Many of them (or an intset, cheap to index): shuffle a copy and keep k.
		all := s.Members()
		rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		return all[:k]
	}
	// Few of them: draw until enough distinct ones.
	seen := make(map[string]bool, k)
	out := make([]string, 0, k)
	for len(out) < k {
		m, _ := s.Random()
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

// PopN is SPOP with a count below the set's size (spopWithCountCommand's cases 2 and 3):
// it removes count distinct random members and returns them. The caller handles a count
// at least the size, which pops everything.
func (s *Set) PopN(count int) []string {
	count = min(count, s.Len())
	if count <= 0 {
		return nil
	}
	out := s.sample(count)
	for _, m := range out {
		s.Remove([]byte(m))
	}
	if s.ht == nil {
		s.ints = slices.Clip(s.ints)
	}
	return out
}
