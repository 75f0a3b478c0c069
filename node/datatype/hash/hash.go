// Package hash implements Redis 7.0's hash value (t_hash.c) as a pure data structure:
// fields with string values in one of Redis's two encodings, with the conversion rule
// between them, plus HRANDFIELD's argument parsing and sampling.
//
// A small hash is a listpack: its fields keep their insertion order, an update keeps the
// field's place, and every lookup is a linear scan, as in Redis. Once it holds more than
// hash-max-listpack-entries fields, or is given a field or value longer than
// hash-max-listpack-value bytes, it becomes a hash table, for good: Redis never converts
// back while the key lives. HGETALL, HKEYS, HVALS and HSCAN reply in the listpack's order,
// so clients (and the differential tests) see exactly Redis's order for small hashes; a
// hash table's order is its own, which Redis clients cannot rely on either.
//
// Nothing here locks, blocks or does I/O; a Hash belongs to the keyspace that holds it.
package hash

import (
	"github.com/clusterctl/clusterctl/node/keyspace/dict"
)

// Limits are the encoding thresholds hash-max-listpack-entries and
// hash-max-listpack-value (hash-max-ziplist-* are their aliases).
type Limits struct {
	MaxListpackEntries int64
	MaxListpackValue   int64
}

// DefaultLimits are redis.conf's defaults.
var DefaultLimits = Limits{MaxListpackEntries: 512, MaxListpackValue: 64}

// Field is one field of a hash with its value.
type Field struct {
	Name, Value string
}

// fieldOverhead approximates the bytes a field costs besides its name and value bytes.
const fieldOverhead = 32

// Hash is a Redis hash. The zero value is an empty listpack-encoded hash.
type Hash struct {
	// lp holds the fields in insertion order while the hash is a listpack.
	lp []Field
	// ht holds them once the hash is a hash table; nil before.
	ht    *dict.Dict[string]
	bytes int64 // sum of the names' and values' lengths
}

// New returns an empty hash, encoded as a listpack (createHashObject).
func New() *Hash { return &Hash{} }

// Encoding is what OBJECT ENCODING replies: "listpack" or "hashtable".
func (h *Hash) Encoding() string {
	if h.ht != nil {
		return "hashtable"
	}
	return "listpack"
}

// IsListpack reports whether Redis would store this hash as a listpack.
func (h *Hash) IsListpack() bool { return h.ht == nil }

// Len is HLEN.
func (h *Hash) Len() int {
	if h.ht != nil {
		return h.ht.Len()
	}
	return len(h.lp)
}

func (h *Hash) find(name string) int {
	for i := range h.lp {
		if h.lp[i].Name == name {
			return i
		}
	}
	return -1
}

// Get is HGET: the value of field name and whether it exists.
func (h *Hash) Get(name string) (string, bool) {
	if h.ht != nil {
		if e := h.ht.Find(name); e != nil {
			return e.Value, true
		}
		return "", false
	}
	if i := h.find(name); i >= 0 {
		return h.lp[i].Value, true
	}
	return "", false
}

// GetBytes is Get for a field name held in a byte slice; it does not allocate.
func (h *Hash) GetBytes(name []byte) (string, bool) {
	if h.ht != nil {
		if e := h.ht.FindBytes(name); e != nil {
			return e.Value, true
		}
		return "", false
	}
	for i := range h.lp {
		if h.lp[i].Name == string(name) {
			return h.lp[i].Value, true
		}
	}
	return "", false
}

// Exists is HEXISTS.
func (h *Hash) Exists(name []byte) bool {
	_, ok := h.GetBytes(name)
	return ok
}

// TryConversion is hashTypeTryConversion: before HSET, HMSET or HSETNX adds anything, a
// listpack hash given a field or value longer than hash-max-listpack-value becomes a hash
// table, whether or not the command then changes the hash.
func (h *Hash) TryConversion(lim Limits, args [][]byte) {
	if h.ht != nil {
		return
	}
	for _, a := range args {
		if int64(len(a)) > lim.MaxListpackValue {
			h.convert()
			return
		}
	}
}

// convert turns a listpack hash into a hash table.
func (h *Hash) convert() {
	ht := dict.New[string]()
	for _, f := range h.lp {
		e, _ := ht.Upsert(f.Name)
		e.Value = f.Value
	}
	h.ht, h.lp = ht, nil
}

// Set is hashTypeSet: it sets field name to value and reports whether the field existed
// (an update) rather than being added. A listpack hash becomes a hash table when the
// field or the value is too long for it, or when it grows past
// hash-max-listpack-entries fields.
func (h *Hash) Set(name, value string, lim Limits) (update bool) {
	if h.ht == nil && (int64(len(name)) > lim.MaxListpackValue || int64(len(value)) > lim.MaxListpackValue) {
		h.convert()
	}
	if h.ht != nil {
		e, added := h.ht.Upsert(name)
		if added {
			h.bytes += int64(len(name))
		} else {
			h.bytes -= int64(len(e.Value))
		}
		e.Value = value
		h.bytes += int64(len(value))
		return !added
	}
	if i := h.find(name); i >= 0 {
		h.bytes += int64(len(value)) - int64(len(h.lp[i].Value))
		h.lp[i].Value = value
		return true
	}
	h.lp = append(h.lp, Field{name, value})
	h.bytes += int64(len(name) + len(value))
	if int64(len(h.lp)) > lim.MaxListpackEntries {
		h.convert()
	}
	return false
}

// Delete is HDEL for one field; it reports whether the field existed.
func (h *Hash) Delete(name []byte) bool {
	if h.ht != nil {
		e := h.ht.DeleteBytes(name)
		if e == nil {
			return false
		}
		h.bytes -= int64(len(e.Key()) + len(e.Value))
		return true
	}
	for i := range h.lp {
		if h.lp[i].Name == string(name) {
			h.bytes -= int64(len(h.lp[i].Name) + len(h.lp[i].Value))
			h.lp = append(h.lp[:i], h.lp[i+1:]...)
			return true
		}
	}
	return false
}

// Each calls fn for every field, in the listpack's order or the table's, until fn
// returns false.
func (h *Hash) Each(fn func(name, value string) bool) {
	if h.ht != nil {
		h.ht.Range(func(e *dict.Entry[string]) bool { return fn(e.Key(), e.Value) })
		return
	}
	for _, f := range h.lp {
		if !fn(f.Name, f.Value) {
			return
		}
	}
}

// Fields returns every field with its value, in Each's order.
func (h *Hash) Fields() []Field {
	out := make([]Field, 0, h.Len())
	h.Each(func(n, v string) bool { out = append(out, Field{n, v}); return true })
	return out
}

// Scan is HSCAN's walk: it calls fn for the fields of the table buckets at cursor and
// returns the next cursor, 0 when the iteration is complete. A listpack hash is returned
// whole, with cursor 0, as Redis does for compact encodings.
func (h *Hash) Scan(cursor uint64, count int, fn func(name, value string)) uint64 {
	if h.ht == nil {
		for _, f := range h.lp {
			fn(f.Name, f.Value)
		}
		return 0
	}
	// Like scanGenericCommand, visit buckets until count replies (a field and its value
	// are two) were collected or 10·count buckets were tried.
	maxIterations := count * 10
	replies := 0
	for {
		cursor = h.ht.Scan(cursor, func(e *dict.Entry[string]) {
			fn(e.Key(), e.Value)
			replies += 2
		})
		if cursor == 0 || maxIterations == 0 || replies >= count {
			return cursor
		}
		maxIterations--
	}
}

// Clone returns a deep copy (COPY); the keyspace calls it through keyspace.Object.Clone.
func (h *Hash) Clone() any {
	c := &Hash{bytes: h.bytes}
	if h.ht == nil {
		c.lp = append([]Field(nil), h.lp...)
		return c
	}
	c.ht = dict.New[string]()
	h.ht.Range(func(e *dict.Entry[string]) bool {
		x, _ := c.ht.Upsert(e.Key())
		x.Value = e.Value
		return true
	})
	return c
}

// MemoryUsage approximates the bytes the hash occupies (MEMORY USAGE, maxmemory), in
// constant time.
func (h *Hash) MemoryUsage() int64 {
	n := int64(h.Len())
	if h.ht != nil {
		return 64 + int64(h.ht.Buckets())*8 + n*(fieldOverhead+56) + h.bytes
	}
	return 48 + int64(cap(h.lp))*32 + h.bytes + n*fieldOverhead/2
}
