// Package set implements Redis 7.0's set value (t_set.c) as a pure data structure:
// members in one of Redis's two encodings with the conversion rule between them, random
// sampling for SPOP and SRANDMEMBER, and the set algebra of SINTER, SUNION and SDIFF.
//
// A set whose members are all integers (as string2ll reads them) is an intset: sorted
// 64-bit integers, so SMEMBERS and the algebra reply in ascending order, exactly as
// Redis. Adding a member that is not an integer, or growing past set-max-intset-entries
// members, makes it a hash table for good; a hash table's order is its own, which Redis
// clients cannot rely on either. Redis 7.0 has no listpack sets (they arrived in 7.2).
//
// Nothing here locks, blocks or does I/O; a Set belongs to the keyspace that holds it.
package set

import (
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/clusterctl/clusterctl/node/keyspace/dict"
	"github.com/clusterctl/clusterctl/node/resp"
)

// Limits is the encoding threshold set-max-intset-entries.
type Limits struct {
	MaxIntsetEntries int64
}

// DefaultLimits are redis.conf's defaults.
var DefaultLimits = Limits{MaxIntsetEntries: 512}

// memberOverhead approximates the bytes a hash-table member costs besides its bytes.
const memberOverhead = 64

// Set is a Redis set. The zero value is an empty intset.
type Set struct {
	// ints holds the members, ascending, while the set is an intset.
	ints []int64
	// ht holds them once the set is a hash table; nil before.
	ht    *dict.Dict[struct{}]
	bytes int64 // sum of the hash-table members' lengths
}

// New returns an empty set for SADD (or SMOVE) creating a key whose first member is
// first: an intset when first is an integer, a hash table otherwise (setTypeCreate).
func New(first string) *Set {
	if _, ok := parseInt(first); ok {
		return &Set{}
	}
	return &Set{ht: dict.New[struct{}]()}
}

// NewIntset returns an empty intset, as the store commands begin their destination
// (createIntsetObject); adding members converts it as usual.
func NewIntset() *Set { return &Set{} }

func parseInt(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	return resp.ParseInt([]byte(s))
}

// Encoding is what OBJECT ENCODING replies: "intset" or "hashtable".
func (s *Set) Encoding() string {
	if s.ht != nil {
		return "hashtable"
	}
	return "intset"
}

// IsIntset reports whether Redis would store this set as an intset.
func (s *Set) IsIntset() bool { return s.ht == nil }

// Len is SCARD.
func (s *Set) Len() int {
	if s.ht != nil {
		return s.ht.Len()
	}
	return len(s.ints)
}

func (s *Set) convert() {
	ht := dict.New[struct{}]()
	var buf [24]byte
	for _, n := range s.ints {
		m := strconv.AppendInt(buf[:0], n, 10)
		ht.UpsertBytes(m)
		s.bytes += int64(len(m))
	}
	s.ht, s.ints = ht, nil
}

// Add is SADD for one member (setTypeAdd); it reports whether the member was new.
func (s *Set) Add(member string, lim Limits) bool {
	if s.ht == nil {
		n, ok := parseInt(member)
		if ok {
			i, found := slices.BinarySearch(s.ints, n)
			if found {
				return false
			}
			s.ints = slices.Insert(s.ints, i, n)
			if int64(len(s.ints)) > lim.MaxIntsetEntries {
				s.convert()
			}
			return true
		}
		s.convert()
	}
	if _, added := s.ht.Upsert(member); !added {
		return false
	}
	s.bytes += int64(len(member))
	return true
}

// Contains is SISMEMBER.
func (s *Set) Contains(member string) bool {
	if s.ht != nil {
		return s.ht.Find(member) != nil
	}
	n, ok := parseInt(member)
	if !ok {
		return false
	}
	_, found := slices.BinarySearch(s.ints, n)
	return found
}

// ContainsBytes is Contains for a member held in a byte slice.
func (s *Set) ContainsBytes(member []byte) bool {
	if s.ht != nil {
		return s.ht.FindBytes(member) != nil
	}
	n, ok := resp.ParseInt(member)
	if !ok {
		return false
	}
	_, found := slices.BinarySearch(s.ints, n)
	return found
}

// Remove is SREM for one member; it reports whether the member was there.
func (s *Set) Remove(member []byte) bool {
	if s.ht != nil {
		if s.ht.DeleteBytes(member) == nil {
			return false
		}
		s.bytes -= int64(len(member))
		return true
	}
	n, ok := resp.ParseInt(member)
	if !ok {
		return false
	}
	i, found := slices.BinarySearch(s.ints, n)
	if !found {
		return false
	}
	s.ints = slices.Delete(s.ints, i, i+1)
	return true
}

// Each calls fn for every member, ascending for an intset, until fn returns false.
func (s *Set) Each(fn func(member string) bool) {
	if s.ht != nil {
		s.ht.Range(func(e *dict.Entry[struct{}]) bool { return fn(e.Key()) })
		return
	}
	for _, n := range s.ints {
		if !fn(strconv.FormatInt(n, 10)) {
			return
		}
	}
}

// ForEach is Each under the name the sorted-set algebra's inputs use: ZUNION, ZINTER,
// ZDIFF and ZINTERCARD accept sets, whose members all score 1.
func (s *Set) ForEach(fn func(member string) bool) { s.Each(fn) }

// Members returns every member in Each's order.
func (s *Set) Members() []string {
	out := make([]string, 0, s.Len())
	s.Each(func(m string) bool { out = append(out, m); return true })
	return out
}

// Random returns a random member; ok is false when the set is empty.
func (s *Set) Random() (string, bool) {
	if s.ht != nil {
		e := s.ht.Random()
		if e == nil {
			return "", false
		}
		return e.Key(), true
	}
	if len(s.ints) == 0 {
		return "", false
	}
	return strconv.FormatInt(s.ints[rand.IntN(len(s.ints))], 10), true
}

// Pop removes and returns a random member (SPOP without a count).
func (s *Set) Pop() (string, bool) {
	m, ok := s.Random()
	if ok {
		s.Remove([]byte(m))
	}
	return m, ok
}

// Scan is SSCAN's walk: it calls fn for the members of the table buckets at cursor and
// returns the next cursor, 0 when the iteration is complete. An intset is returned whole,
// with cursor 0, as Redis does for compact encodings.
func (s *Set) Scan(cursor uint64, count int, fn func(member string)) uint64 {
	if s.ht == nil {
		s.Each(func(m string) bool { fn(m); return true })
		return 0
	}
	// Like scanGenericCommand: visit buckets until count members were collected or
	// 10·count buckets were tried.
	maxIterations := count * 10
	seen := 0
	for {
		cursor = s.ht.Scan(cursor, func(e *dict.Entry[struct{}]) {
			fn(e.Key())
			seen++
		})
		if cursor == 0 || maxIterations == 0 || seen >= count {
			return cursor
		}
		maxIterations--
	}
}

// Clone returns a deep copy (COPY); the keyspace calls it through keyspace.Object.Clone.
func (s *Set) Clone() any {
	c := &Set{bytes: s.bytes}
	if s.ht == nil {
		c.ints = slices.Clone(s.ints)
		return c
	}
	c.ht = dict.New[struct{}]()
	s.ht.Range(func(e *dict.Entry[struct{}]) bool {
		c.ht.Upsert(e.Key())
		return true
	})
	return c
}

// MemoryUsage approximates the bytes the set occupies (MEMORY USAGE, maxmemory), in
// constant time.
func (s *Set) MemoryUsage() int64 {
	if s.ht != nil {
		return 64 + int64(s.ht.Buckets())*8 + int64(s.ht.Len())*memberOverhead + s.bytes
	}
	return 32 + int64(cap(s.ints))*8
}
