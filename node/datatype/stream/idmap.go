package stream

import "math/rand/v2"

// idMap is an ordered map from IDs to values (a treap), the structure Redis keeps in
// radix trees for pending entries lists: O(log n) insert, delete and seek, ordered walks.
type idMap[V any] struct {
	root *treapNode[V]
	n    int
}

type treapNode[V any] struct {
	key         ID
	val         V
	prio        uint64
	left, right *treapNode[V]
}

func (m *idMap[V]) Len() int { return m.n }

// Get returns the value for key.
func (m *idMap[V]) Get(key ID) (V, bool) {
	for t := m.root; t != nil; {
		switch c := key.Compare(t.key); {
		case c < 0:
			t = t.left
		case c > 0:
			t = t.right
		default:
			return t.val, true
		}
	}
	var zero V
	return zero, false
}

// Set inserts or replaces key's value.
func (m *idMap[V]) Set(key ID, val V) {
	var added bool
	m.root, added = insertNode(m.root, key, val)
	if added {
		m.n++
	}
}

func insertNode[V any](t *treapNode[V], key ID, val V) (*treapNode[V], bool) {
	if t == nil {
		return &treapNode[V]{key: key, val: val, prio: rand.Uint64()}, true
	}
	var added bool
	switch c := key.Compare(t.key); {
	case c < 0:
		t.left, added = insertNode(t.left, key, val)
		if t.left.prio > t.prio {
			t = rotateRight(t)
		}
	case c > 0:
		t.right, added = insertNode(t.right, key, val)
		if t.right.prio > t.prio {
			t = rotateLeft(t)
		}
	default:
		t.val = val
	}
	return t, added
}

func rotateRight[V any](t *treapNode[V]) *treapNode[V] {
	l := t.left
	t.left, l.right = l.right, t
	return l
}

func rotateLeft[V any](t *treapNode[V]) *treapNode[V] {
	r := t.right
	t.right, r.left = r.left, t
	return r
}

// Delete removes key and reports whether it was present.
func (m *idMap[V]) Delete(key ID) bool {
	var removed bool
	m.root, removed = deleteNode(m.root, key)
	if removed {
		m.n--
	}
	return removed
}

func deleteNode[V any](t *treapNode[V], key ID) (*treapNode[V], bool) {
	if t == nil {
		return nil, false
	}
	var removed bool
	switch c := key.Compare(t.key); {
	case c < 0:
		t.left, removed = deleteNode(t.left, key)
	case c > 0:
		t.right, removed = deleteNode(t.right, key)
	default:
		return merge(t.left, t.right), true
	}
	return t, removed
}

func merge[V any](a, b *treapNode[V]) *treapNode[V] {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.prio > b.prio:
		a.right = merge(a.right, b)
		return a
	default:
		b.left = merge(a, b.left)
		return b
	}
}

// Ascend calls fn for keys >= from in order until fn returns false.
func (m *idMap[V]) Ascend(from ID, fn func(ID, V) bool) {
	ascend(m.root, from, fn)
}

func ascend[V any](t *treapNode[V], from ID, fn func(ID, V) bool) bool {
	if t == nil {
		return true
	}
	if !t.key.Less(from) {
		if !ascend(t.left, from, fn) || !fn(t.key, t.val) {
			return false
		}
	}
	return ascend(t.right, from, fn)
}

// Descend calls fn for keys <= from in reverse order until fn returns false.
func (m *idMap[V]) Descend(from ID, fn func(ID, V) bool) {
	descend(m.root, from, fn)
}

func descend[V any](t *treapNode[V], from ID, fn func(ID, V) bool) bool {
	if t == nil {
		return true
	}
	if !from.Less(t.key) {
		if !descend(t.right, from, fn) || !fn(t.key, t.val) {
			return false
		}
	}
	return descend(t.left, from, fn)
}

// First returns the smallest key.
func (m *idMap[V]) First() (ID, V, bool) {
	t := m.root
	if t == nil {
		var zero V
		return ID{}, zero, false
	}
	for t.left != nil {
		t = t.left
	}
	return t.key, t.val, true
}

// Last returns the largest key.
func (m *idMap[V]) Last() (ID, V, bool) {
	t := m.root
	if t == nil {
		var zero V
		return ID{}, zero, false
	}
	for t.right != nil {
		t = t.right
	}
	return t.key, t.val, true
}
