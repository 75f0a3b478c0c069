// Package dict is the node's hash table: chained buckets in a power-of-two table, grown and
// shrunk by incremental rehashing, scanned with Redis's reverse-binary cursor (dict.c).
//
// Go's map cannot be scanned with a cursor that survives resizes, and SCAN (and later
// HSCAN, SSCAN, ZSCAN) promise that an element present for the whole iteration is returned
// at least once even if the table grows or shrinks in between. dictScan gives that promise
// by incrementing the cursor's reversed bits: the buckets a cursor has visited in a small
// table are exactly the expansions of the ones it visited in a larger one, and vice versa.
//
// A Dict is not safe for concurrent use; its owner holds the lock that guards it.
package dict

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"unsafe"
)

// initialSize is the first bucket count (DICT_HT_INITIAL_SIZE).
const initialSize = 4

// minFill is the fill percentage under which a table is shrunk (HASHTABLE_MIN_FILL).
const minFill = 10

var seed = maphash.MakeSeed()

// Hash returns the hash used for key; exported so callers that shard by hash agree with it.
func Hash(key string) uint64 { return maphash.String(seed, key) }

func hashBytes(key []byte) uint64 { return maphash.Bytes(seed, key) }

// shortKey is the longest key stored inside its entry rather than in an allocation of its
// own: most keys are short, and keeping them on the entry's cache lines saves a cache
// miss per lookup as well as an allocation per key.
const shortKey = 24

// Entry is one key and its value. Its address is stable for as long as the key is in the
// table, so callers may keep a pointer while they hold the table's lock.
type Entry[V any] struct {
	key   string
	next  *Entry[V]
	short [shortKey]byte
	Value V
}

// Key returns the entry's key.
func (e *Entry[V]) Key() string { return e.key }

// CopyInto makes c a copy of e that shares nothing e's table may change later: a key kept
// inside e is copied into c, and c links to no other entry. The value is copied by
// assignment, so a value holding references stays shared; deep copies are the caller's.
func (e *Entry[V]) CopyInto(c *Entry[V]) {
	c.next = nil
	c.Value = e.Value
	if len(e.key) > 0 && unsafe.StringData(e.key) == &e.short[0] {
		n := copy(c.short[:], e.key)
		c.key = unsafe.String(&c.short[0], n)
		return
	}
	c.key = e.key
}

type table[V any] struct {
	buckets []*Entry[V]
	used    int
}

func (t *table[V]) mask() uint64 { return uint64(len(t.buckets) - 1) }

// Dict maps string keys to values of type V. The zero value is an empty table ready to use.
type Dict[V any] struct {
	t [2]table[V]
	// rehashIdx is the next bucket of t[0] to move into t[1], or -1 when not rehashing
	// (stored +1 so that the zero value means "not rehashing").
	rehashIdx int
	// paused counts Range calls in progress; rehashing is suspended meanwhile so that
	// deleting the current entry does not move the ones not yet visited.
	paused int
}

// New returns an empty Dict.
func New[V any]() *Dict[V] { return &Dict[V]{} }

// Len returns the number of entries.
func (d *Dict[V]) Len() int { return d.t[0].used + d.t[1].used }

// Buckets returns the number of buckets of both tables (for DEBUG HTSTATS-like reporting
// and memory accounting).
func (d *Dict[V]) Buckets() int { return len(d.t[0].buckets) + len(d.t[1].buckets) }

func (d *Dict[V]) rehashing() bool { return d.rehashIdx != 0 }

// rehashStep moves one bucket, as _dictRehashStep does on every access, so the cost of a
// resize is spread over the operations that follow it.
func (d *Dict[V]) rehashStep() {
	if d.paused == 0 && d.rehashing() {
		d.Rehash(1)
	}
}

// Rehash moves up to n buckets from the old table to the new one, visiting at most 10·n
// empty buckets, and reports whether rehashing is still in progress (dictRehash).
func (d *Dict[V]) Rehash(n int) bool {
	if !d.rehashing() || d.paused > 0 {
		return d.rehashing()
	}
	emptyVisits := n * 10
	old, nw := &d.t[0], &d.t[1]
	for ; n > 0 && old.used > 0; n-- {
		idx := d.rehashIdx - 1
		for old.buckets[idx] == nil {
			idx++
			d.rehashIdx++
			emptyVisits--
			if emptyVisits == 0 {
				return true
			}
		}
		for e := old.buckets[idx]; e != nil; {
			next := e.next
			h := Hash(e.key) & nw.mask()
			e.next = nw.buckets[h]
			nw.buckets[h] = e
			old.used--
			nw.used++
			e = next
		}
		old.buckets[idx] = nil
		d.rehashIdx++
	}
	if old.used == 0 {
		d.t[0] = d.t[1]
		d.t[1] = table[V]{}
		d.rehashIdx = 0
		// Deletes during the rehash may have left the new table sparse in turn.
		d.shrinkIfNeeded()
		return d.rehashing()
	}
	return true
}

// resize starts rehashing into a table of the smallest power of two ≥ size.
func (d *Dict[V]) resize(size int) {
	if d.rehashing() {
		return
	}
	n := initialSize
	for n < size {
		n <<= 1
	}
	if n == len(d.t[0].buckets) {
		return
	}
	if d.t[0].buckets == nil {
		d.t[0].buckets = make([]*Entry[V], n)
		return
	}
	d.t[1] = table[V]{buckets: make([]*Entry[V], n)}
	d.rehashIdx = 1
}

// expandIfNeeded grows the table once it holds as many entries as buckets (load factor 1,
// _dictExpandIfNeeded).
func (d *Dict[V]) expandIfNeeded() {
	if d.rehashing() {
		return
	}
	if len(d.t[0].buckets) == 0 {
		d.resize(initialSize)
		return
	}
	if d.t[0].used >= len(d.t[0].buckets) && d.paused == 0 {
		d.resize(d.t[0].used + 1)
	}
}

// shrinkIfNeeded starts a shrink when under 10% of the buckets are used (htNeedsResize,
// which Redis runs from its cron; doing it on delete keeps sparse tables from lingering).
func (d *Dict[V]) shrinkIfNeeded() {
	if d.rehashing() || d.paused > 0 {
		return
	}
	size := len(d.t[0].buckets)
	if size > initialSize && d.t[0].used*100/size < minFill {
		d.resize(max(d.t[0].used, initialSize))
	}
}

// Find returns the entry for key, or nil.
func (d *Dict[V]) Find(key string) *Entry[V] {
	if d.Len() == 0 {
		return nil
	}
	d.rehashStep()
	h := Hash(key)
	for i := 0; i < 2; i++ {
		t := &d.t[i]
		if len(t.buckets) == 0 {
			break
		}
		for e := t.buckets[h&t.mask()]; e != nil; e = e.next {
			if e.key == key {
				return e
			}
		}
		if !d.rehashing() {
			break
		}
	}
	return nil
}

// FindBytes is Find for a key held in a byte slice; it does not allocate.
func (d *Dict[V]) FindBytes(key []byte) *Entry[V] {
	if d.Len() == 0 {
		return nil
	}
	d.rehashStep()
	h := hashBytes(key)
	for i := 0; i < 2; i++ {
		t := &d.t[i]
		if len(t.buckets) == 0 {
			break
		}
		for e := t.buckets[h&t.mask()]; e != nil; e = e.next {
			if e.key == string(key) {
				return e
			}
		}
		if !d.rehashing() {
			break
		}
	}
	return nil
}

// insert links a new entry for key, which must not be present, with hash h.
func (d *Dict[V]) insert(key string, h uint64) *Entry[V] {
	e := d.insertEntry(h)
	e.key = key
	return e
}

// insertEntry links a new entry with hash h; the caller sets its key.
func (d *Dict[V]) insertEntry(h uint64) *Entry[V] {
	d.expandIfNeeded()
	t := &d.t[0]
	if d.rehashing() {
		t = &d.t[1] // new entries go to the new table, as in dictAddRaw
	}
	e := &Entry[V]{}
	idx := h & t.mask()
	e.next = t.buckets[idx]
	t.buckets[idx] = e
	t.used++
	return e
}

// Upsert returns the entry for key, adding one with a zero Value when absent; added
// reports which.
func (d *Dict[V]) Upsert(key string) (e *Entry[V], added bool) {
	if e := d.Find(key); e != nil {
		return e, false
	}
	return d.insert(key, Hash(key)), true
}

// UpsertBytes is Upsert for a key in a byte slice: the key is copied only when it is added.
func (d *Dict[V]) UpsertBytes(key []byte) (e *Entry[V], added bool) {
	if e := d.FindBytes(key); e != nil {
		return e, false
	}
	e = d.insertEntry(hashBytes(key))
	if len(key) <= shortKey && len(key) > 0 {
		n := copy(e.short[:], key)
		e.key = unsafe.String(&e.short[0], n)
	} else {
		e.key = string(key)
	}
	return e, true
}

// Delete removes key and returns its entry, or nil when it was absent.
func (d *Dict[V]) Delete(key string) *Entry[V] {
	return d.delete(Hash(key), func(e *Entry[V]) bool { return e.key == key })
}

// DeleteBytes is Delete for a key in a byte slice.
func (d *Dict[V]) DeleteBytes(key []byte) *Entry[V] {
	return d.delete(hashBytes(key), func(e *Entry[V]) bool { return e.key == string(key) })
}

func (d *Dict[V]) delete(h uint64, match func(*Entry[V]) bool) *Entry[V] {
	if d.Len() == 0 {
		return nil
	}
	d.rehashStep()
	for i := 0; i < 2; i++ {
		t := &d.t[i]
		if len(t.buckets) == 0 {
			break
		}
		idx := h & t.mask()
		var prev *Entry[V]
		for e := t.buckets[idx]; e != nil; prev, e = e, e.next {
			if !match(e) {
				continue
			}
			if prev == nil {
				t.buckets[idx] = e.next
			} else {
				prev.next = e.next
			}
			e.next = nil
			t.used--
			d.shrinkIfNeeded()
			return e
		}
		if !d.rehashing() {
			break
		}
	}
	return nil
}

// Clear removes every entry and releases the tables.
func (d *Dict[V]) Clear() { *d = Dict[V]{} }

// Range calls fn for every entry until fn returns false. fn may delete the entry it is
// given but must not add entries.
func (d *Dict[V]) Range(fn func(e *Entry[V]) bool) {
	d.paused++
	defer func() { d.paused-- }()
	for i := 0; i < 2; i++ {
		for _, e := range d.t[i].buckets {
			for e != nil {
				next := e.next
				if !fn(e) {
					return
				}
				e = next
			}
		}
	}
}

// Scan calls fn for the entries of the bucket(s) at cursor and returns the next cursor;
// 0 means the iteration is complete. It is dictScan: every entry present from the first
// call to the last is visited at least once, across any number of resizes; some may be
// visited twice. fn must not modify the table.
func (d *Dict[V]) Scan(cursor uint64, fn func(e *Entry[V])) uint64 {
	if d.Len() == 0 {
		return 0
	}
	emit := func(b *Entry[V]) {
		for e := b; e != nil; e = e.next {
			fn(e)
		}
	}
	v := cursor
	if !d.rehashing() {
		t := &d.t[0]
		m := t.mask()
		emit(t.buckets[v&m])
		v |= ^m
		v = bits.Reverse64(v)
		v++
		return bits.Reverse64(v)
	}
	small, large := &d.t[0], &d.t[1]
	if len(small.buckets) > len(large.buckets) {
		small, large = large, small
	}
	m0, m1 := small.mask(), large.mask()
	emit(small.buckets[v&m0])
	for {
		emit(large.buckets[v&m1])
		v |= ^m1
		v = bits.Reverse64(v)
		v++
		v = bits.Reverse64(v)
		if v&(m0^m1) == 0 {
			break
		}
	}
	return v
}

// Random returns a random entry, or nil when empty (dictGetFairRandomKey's simpler cousin
// dictGetRandomKey: a random non-empty bucket, then a random entry of its chain).
func (d *Dict[V]) Random() *Entry[V] {
	if d.Len() == 0 {
		return nil
	}
	d.rehashStep()
	var b *Entry[V]
	for b == nil {
		if d.rehashing() {
			// Buckets of t[0] below rehashIdx-1 are empty: they have been moved.
			lo := uint64(d.rehashIdx - 1)
			n0, n1 := uint64(len(d.t[0].buckets)), uint64(len(d.t[1].buckets))
			h := lo + rand.Uint64N(n0+n1-lo)
			if h >= n0 {
				b = d.t[1].buckets[h-n0]
			} else {
				b = d.t[0].buckets[h]
			}
		} else {
			b = d.t[0].buckets[rand.Uint64N(uint64(len(d.t[0].buckets)))]
		}
	}
	n := 0
	for e := b; e != nil; e = e.next {
		n++
	}
	k := rand.IntN(n)
	for ; k > 0; k-- {
		b = b.next
	}
	return b
}

// Sample calls fn for up to count entries taken from a random region of the table, for
// eviction and active expiry (dictGetSomeKeys): cheaper than count calls to Random, at
// the price of entries that are near each other in the table.
func (d *Dict[V]) Sample(count int, fn func(e *Entry[V])) {
	if d.Len() == 0 || count <= 0 {
		return
	}
	count = min(count, d.Len())
	for j := 0; j < count && d.rehashing(); j++ {
		d.rehashStep()
	}
	tables := 1
	if d.rehashing() {
		tables = 2
	}
	maxMask := d.t[0].mask()
	if tables == 2 && d.t[1].mask() > maxMask {
		maxMask = d.t[1].mask()
	}
	i := rand.Uint64() & maxMask
	emptyLen, stored := 0, 0
	for steps := count * 10; stored < count && steps > 0; steps-- {
		for j := 0; j < tables; j++ {
			t := &d.t[j]
			// While rehashing, t[0]'s buckets below rehashIdx-1 are empty.
			if tables == 2 && j == 0 && i < uint64(d.rehashIdx-1) {
				if i >= uint64(len(d.t[1].buckets)) {
					i = uint64(d.rehashIdx - 1)
				} else {
					continue
				}
			}
			if i >= uint64(len(t.buckets)) {
				continue
			}
			e := t.buckets[i]
			if e == nil {
				emptyLen++
				if emptyLen >= 5 && emptyLen > count {
					i = rand.Uint64() & maxMask
					emptyLen = 0
				}
				continue
			}
			emptyLen = 0
			for ; e != nil && stored < count; e = e.next {
				fn(e)
				stored++
			}
		}
		i = (i + 1) & maxMask
	}
}
