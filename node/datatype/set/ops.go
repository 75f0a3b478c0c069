package set

import "sort"

// Inter calls fn with the members of the intersection of sets, in the order Redis's
// sinterGenericCommand emits them: it walks the smallest set (the first of the smallest,
// as a stable sort by size leaves them) and keeps the members every other set contains.
// A nil set is an empty one. fn returns false to stop (SINTERCARD's LIMIT).
func Inter(sets []*Set, fn func(member string) bool) {
	if len(sets) == 0 {
		return
	}
	for _, s := range sets {
		if s == nil || s.Len() == 0 {
			return
		}
	}
	sorted := append([]*Set(nil), sets...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Len() < sorted[j].Len() })
	first := sorted[0]
	first.Each(func(m string) bool {
		for _, o := range sorted[1:] {
			if o != first && !o.Contains(m) {
				return true
			}
		}
		return fn(m)
	})
}

// InterStore returns the intersection of sets as a new set, built as SINTERSTORE builds
// its destination: an intset that converts as members are added.
func InterStore(sets []*Set, lim Limits) *Set {
	dst := NewIntset()
	Inter(sets, func(m string) bool { dst.Add(m, lim); return true })
	return dst
}

// Union returns the union of sets as a new set (sunionDiffGenericCommand's destination:
// an intset that converts as members are added). A nil set is an empty one.
func Union(sets []*Set, lim Limits) *Set {
	dst := NewIntset()
	for _, s := range sets {
		if s == nil {
			continue
		}
		s.Each(func(m string) bool { dst.Add(m, lim); return true })
	}
	return dst
}

// Diff returns the members of the first set that no other set contains, as a new set
// built like Union's. A nil set is an empty one.
func Diff(sets []*Set, lim Limits) *Set {
	dst := NewIntset()
	if len(sets) == 0 || sets[0] == nil {
		return dst
	}
	first := sets[0]
	first.Each(func(m string) bool {
		for _, o := range sets[1:] {
			if o == first {
				return true // the difference of a set with itself is empty
			}
			if o != nil && o.Contains(m) {
				return true
			}
		}
		dst.Add(m, lim)
		return true
	})
	return dst
}
