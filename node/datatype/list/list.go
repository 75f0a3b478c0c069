// Package list implements Redis 7.0's list value (t_list.c) as a pure data structure: a
// double-ended queue of strings with the operations of the list commands (push and pop
// at both ends, index, range, insert around a pivot, remove by value, trim, LPOS), plus
// the argument parsing of LPOS with Redis's exact error texts.
//
// Redis 7.0 always stores a list as a quicklist (a linked list of listpack nodes, each
// node filled up to list-max-listpack-size, interior nodes optionally compressed by
// list-compress-depth); the listpack-encoded small lists arrived in 7.2. The replies do
// not depend on the node layout, so a List is a ring buffer and reports "quicklist".
//
// Nothing here locks, blocks or does I/O; a List belongs to the keyspace that holds it.
package list

// Encoding is what OBJECT ENCODING replies for every list in Redis 7.0.
const Encoding = "quicklist"

// elementOverhead approximates the bytes an element costs besides its own bytes: the
// string header in the ring plus allocator rounding.
const elementOverhead = 24

// List is a Redis list. The zero value is an empty list ready to use.
type List struct {
	ring  []string // capacity is zero or a power of two
	head  int      // index in ring of the first element
	n     int      // number of elements
	bytes int64    // sum of the elements' lengths, for MemoryUsage
}

// New returns a list holding elems in order.
func New(elems ...string) *List {
	l := &List{}
	l.grow(len(elems))
	for _, e := range elems {
		l.PushTail(e)
	}
	return l
}

// Len is LLEN.
func (l *List) Len() int { return l.n }

func (l *List) mask() int { return len(l.ring) - 1 }

// at returns the ring slot of the i-th element (0 <= i < n).
func (l *List) at(i int) int { return (l.head + i) & l.mask() }

// grow makes room for extra more elements.
func (l *List) grow(extra int) {
	need := l.n + extra
	if need <= len(l.ring) {
		return
	}
	size := max(len(l.ring), 4)
	for size < need {
		size *= 2
	}
	ring := make([]string, size)
	if l.n > 0 {
		// Copy the (possibly wrapped) elements to the start of the new ring.
		first := copy(ring, l.ring[l.head:min(l.head+l.n, len(l.ring))])
		if first < l.n {
			copy(ring[first:], l.ring[:l.n-first])
		}
	}
	l.ring, l.head = ring, 0
}

// shrink releases a ring that has become mostly empty, so a list that was long once does
// not keep its peak memory.
func (l *List) shrink() {
	if len(l.ring) > 64 && l.n < len(l.ring)/4 {
		old := *l
		l.ring, l.head, l.n = nil, 0, 0
		l.grow(old.n)
		for i := 0; i < old.n; i++ {
			l.ring[i] = old.ring[old.at(i)]
		}
		l.n = old.n
	}
}

// PushHead adds e before the first element (LPUSH).
func (l *List) PushHead(e string) {
	l.grow(1)
	l.head = (l.head - 1) & l.mask()
	l.ring[l.head] = e
	l.n++
	l.bytes += int64(len(e))
}

// PushTail adds e after the last element (RPUSH).
func (l *List) PushTail(e string) {
	l.grow(1)
	l.ring[l.at(l.n)] = e
	l.n++
	l.bytes += int64(len(e))
}

// Push adds e at the head or at the tail.
func (l *List) Push(e string, head bool) {
	if head {
		l.PushHead(e)
	} else {
		l.PushTail(e)
	}
}

// Pop removes and returns the first (head) or last element; ok is false when the list is
// empty.
func (l *List) Pop(head bool) (e string, ok bool) {
	if l.n == 0 {
		return "", false
	}
	var slot int
	if head {
		slot = l.head
		l.head = (l.head + 1) & l.mask()
	} else {
		slot = l.at(l.n - 1)
	}
	e = l.ring[slot]
	l.ring[slot] = ""
	l.n--
	l.bytes -= int64(len(e))
	l.shrink()
	return e, true
}

// PopN removes up to count elements from the head or the tail and returns them in the
// order they were popped (LPOP/RPOP with a count, LMPOP).
func (l *List) PopN(count int, head bool) []string {
	count = min(count, l.n)
	out := make([]string, 0, count)
	for i := 0; i < count; i++ {
		e, _ := l.Pop(head)
		out = append(out, e)
	}
	return out
}

// normalize turns a possibly negative index into a position, reporting whether it is
// within the list.
func (l *List) normalize(index int64) (int, bool) {
	if index < 0 {
		index += int64(l.n)
	}
	if index < 0 || index >= int64(l.n) {
		return 0, false
	}
	return int(index), true
}

// Index is LINDEX: the element at index, negative indexes counting from the tail.
func (l *List) Index(index int64) (string, bool) {
	i, ok := l.normalize(index)
	if !ok {
		return "", false
	}
	return l.ring[l.at(i)], true
}

// Set is LSET: it replaces the element at index and reports whether index was in range.
func (l *List) Set(index int64, e string) bool {
	i, ok := l.normalize(index)
	if !ok {
		return false
	}
	slot := l.at(i)
	l.bytes += int64(len(e)) - int64(len(l.ring[slot]))
	l.ring[slot] = e
	return true
}

// RangeBounds resolves LRANGE/LTRIM's start and end (inclusive, negative counting from
// the tail) against a list of length n: the first position and the number of elements,
// 0 when the range is empty.
func RangeBounds(start, end int64, n int) (first, count int) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if end < 0 {
		end += ln
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= ln {
		return 0, 0
	}
	if end >= ln {
		end = ln - 1
	}
	return int(start), int(end - start + 1)
}

// Range calls fn for count elements from position first, in order (LRANGE).
func (l *List) Range(first, count int, fn func(e string)) {
	for i := first; i < first+count && i < l.n; i++ {
		fn(l.ring[l.at(i)])
	}
}

// Each calls fn for every element from head to tail until fn returns false.
func (l *List) Each(fn func(e string) bool) {
	for i := 0; i < l.n; i++ {
		if !fn(l.ring[l.at(i)]) {
			return
		}
	}
}

// Elements returns a copy of the elements from head to tail.
func (l *List) Elements() []string {
	out := make([]string, 0, l.n)
	l.Each(func(e string) bool { out = append(out, e); return true })
	return out
}

// insertAt inserts e so that it becomes the element at position i (0 <= i <= n).
func (l *List) insertAt(i int, e string) {
	switch {
	case i == 0:
		l.PushHead(e)
		return
	case i == l.n:
		l.PushTail(e)
		return
	}
	l.grow(1)
	if i < l.n/2 {
		// Shift the first i elements one slot towards the head.
		l.head = (l.head - 1) & l.mask()
		for j := 0; j < i; j++ {
			l.ring[l.at(j)] = l.ring[l.at(j+1)]
		}
	} else {
		for j := l.n; j > i; j-- {
			l.ring[l.at(j)] = l.ring[l.at(j-1)]
		}
	}
	l.ring[l.at(i)] = e
	l.n++
	l.bytes += int64(len(e))
}

// removeAt deletes the element at position i.
func (l *List) removeAt(i int) {
	l.bytes -= int64(len(l.ring[l.at(i)]))
	if i < l.n/2 {
		for j := i; j > 0; j-- {
			l.ring[l.at(j)] = l.ring[l.at(j-1)]
		}
		l.ring[l.head] = ""
		l.head = (l.head + 1) & l.mask()
	} else {
		for j := i; j < l.n-1; j++ {
			l.ring[l.at(j)] = l.ring[l.at(j+1)]
		}
		l.ring[l.at(l.n-1)] = ""
	}
	l.n--
}

// Insert is LINSERT: it inserts e before (or after) the first element equal to pivot,
// searching from the head, and reports whether the pivot was found.
func (l *List) Insert(pivot, e string, after bool) bool {
	for i := 0; i < l.n; i++ {
		if l.ring[l.at(i)] == pivot {
			if after {
				i++
			}
			l.insertAt(i, e)
			return true
		}
	}
	return false
}

// Remove is LREM: it removes up to count elements equal to e, from the head when count
// is positive, from the tail when negative, all of them when zero, and returns how many
// it removed.
func (l *List) Remove(count int64, e string) int {
	removed := 0
	if count >= 0 {
		// Compact in one pass: keep the elements that stay, in order.
		w := 0
		for r := 0; r < l.n; r++ {
			x := l.ring[l.at(r)]
			if x == e && (count == 0 || int64(removed) < count) {
				removed++
				continue
			}
			l.ring[l.at(w)] = x
			w++
		}
		for j := w; j < l.n; j++ {
			l.ring[l.at(j)] = ""
		}
		l.n = w
	} else {
		limit := -count
		w := l.n - 1
		for r := l.n - 1; r >= 0; r-- {
			x := l.ring[l.at(r)]
			if x == e && int64(removed) < limit {
				removed++
				continue
			}
			l.ring[l.at(w)] = x
			w--
		}
		for j := 0; j <= w; j++ {
			l.ring[l.at(j)] = ""
		}
		l.head = l.at(w + 1)
		l.n -= removed
	}
	l.bytes -= int64(removed) * int64(len(e))
	l.shrink()
	return removed
}

// Trim is LTRIM: it keeps only the elements from start to end (inclusive, negative
// counting from the tail); an empty range empties the list. It returns the number of
// elements removed.
func (l *List) Trim(start, end int64) int {
	first, count := RangeBounds(start, end, l.n)
	removed := l.n - count
	for l.n > first+count {
		l.Pop(false)
	}
	for i := 0; i < first; i++ {
		l.Pop(true)
	}
	return removed
}

// Clone returns a deep copy (COPY); the keyspace calls it through keyspace.Object.Clone.
func (l *List) Clone() any {
	c := &List{}
	c.grow(l.n)
	l.Each(func(e string) bool { c.PushTail(e); return true })
	return c
}

// MemoryUsage approximates the bytes the list occupies (MEMORY USAGE, maxmemory), in
// constant time.
func (l *List) MemoryUsage() int64 {
	return 48 + int64(len(l.ring))*16 + l.bytes + int64(l.n)*(elementOverhead-16)
}
