package keyspace

import (
	"strconv"

	"github.com/clusterctl/clusterctl/node/resp"
)

// Type is a value's data type, numbered as Redis's OBJ_* constants (the RDB type bytes
// build on them).
type Type uint8

// The value types.
const (
	TypeString Type = 0
	TypeList   Type = 1
	TypeSet    Type = 2
	TypeZSet   Type = 3
	TypeHash   Type = 4
	TypeStream Type = 6
)

// String returns the name TYPE replies with.
func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeList:
		return "list"
	case TypeSet:
		return "set"
	case TypeZSet:
		return "zset"
	case TypeHash:
		return "hash"
	case TypeStream:
		return "stream"
	}
	return "none"
}

// ParseType maps a TYPE name (SCAN ... TYPE t) to a Type.
func ParseType(name string) (Type, bool) {
	for _, t := range []Type{TypeString, TypeList, TypeSet, TypeZSet, TypeHash, TypeStream} {
		if t.String() == name {
			return t, true
		}
	}
	return 0, false
}

// Encoding is a value's representation, numbered as Redis's OBJ_ENCODING_* constants.
type Encoding uint8

// The encodings; strings use Raw, Int and Embstr, the collection types (later) the others.
const (
	EncRaw        Encoding = 0
	EncInt        Encoding = 1
	EncHashtable  Encoding = 2
	EncLinkedList Encoding = 4
	EncZiplist    Encoding = 5
	EncIntset     Encoding = 6
	EncSkiplist   Encoding = 7
	EncEmbstr     Encoding = 8
	EncQuicklist  Encoding = 9
	EncStream     Encoding = 10
	EncListpack   Encoding = 11
)

// String returns the name OBJECT ENCODING replies with.
func (e Encoding) String() string {
	switch e {
	case EncRaw:
		return "raw"
	case EncInt:
		return "int"
	case EncHashtable:
		return "hashtable"
	case EncLinkedList:
		return "linkedlist"
	case EncZiplist:
		return "ziplist"
	case EncIntset:
		return "intset"
	case EncSkiplist:
		return "skiplist"
	case EncEmbstr:
		return "embstr"
	case EncQuicklist:
		return "quicklist"
	case EncStream:
		return "stream"
	case EncListpack:
		return "listpack"
	}
	return "unknown"
}

// embstrMaxLen is OBJ_ENCODING_EMBSTR_SIZE_LIMIT: short strings Redis allocates together
// with their object header, which OBJECT ENCODING reports as "embstr".
const embstrMaxLen = 44

// maxIntLen is the longest string that can be an integer (20 chars: "-9223372036854775808").
const maxIntLen = 20

// Object is a value: a type, an encoding, and the data. Strings keep an integer in Int
// (encoding int) or bytes in Str (raw, embstr); the collection types, added later, keep
// their structure in Ptr. The keyspace stores Objects inline in its table entries, so a
// string key costs one entry plus its key and value bytes.
type Object struct {
	Type Type
	Enc  Encoding
	// slot is the key's hash slot, so an entry finds its table without rehashing the key.
	slot uint16
	// lru holds the LRU clock of the last access (24 bits, seconds), or under an LFU
	// policy the minutes of the last decrement (16 bits) and a logarithmic counter (8
	// bits), as robj.lru does.
	lru uint32
	// expire is the absolute expiry in unix milliseconds, 0 when the key is persistent.
	// It belongs to the key, not the value; the keyspace manages it.
	expire int64
	// size is the number of bytes the keyspace has accounted for this key.
	size int64

	Int int64
	Str []byte
	Ptr any
}

// StringObject returns a string value holding a copy of b, encoded as Redis's
// createStringObject + tryObjectEncoding would: int when b is a canonical integer, embstr
// when short, raw otherwise.
func StringObject(b []byte) Object {
	var o Object
	o.SetString(b)
	return o
}

// RawStringObject returns a string value encoded raw whatever its content, as values built
// by APPEND, SETRANGE and SETBIT are.
func RawStringObject(b []byte) Object {
	return Object{Type: TypeString, Enc: EncRaw, Str: append([]byte(nil), b...)}
}

// IntObject returns a string value with the integer n (INCR and friends).
func IntObject(n int64) Object { return Object{Type: TypeString, Enc: EncInt, Int: n} }

// SetString replaces o's value with a copy of b, reusing o's buffer when it fits.
func (o *Object) SetString(b []byte) {
	o.Type = TypeString
	o.Ptr = nil
	if len(b) <= maxIntLen {
		if n, ok := resp.ParseInt(b); ok {
			o.Enc, o.Int, o.Str = EncInt, n, nil
			return
		}
	}
	// Reuse the old buffer when the new value fits without wasting over half of it.
	if cap(o.Str) >= len(b) && cap(o.Str) <= 2*len(b)+16 {
		o.Str = append(o.Str[:0], b...)
	} else {
		o.Str = append(make([]byte, 0, len(b)), b...)
	}
	o.Enc = EncRaw
	if len(b) <= embstrMaxLen {
		o.Enc = EncEmbstr
	}
}

// AppendString appends the string value of o (which must be a string) to dst.
func (o *Object) AppendString(dst []byte) []byte {
	if o.Enc == EncInt {
		return strconv.AppendInt(dst, o.Int, 10)
	}
	return append(dst, o.Str...)
}

// StringLen returns the length of a string value.
func (o *Object) StringLen() int {
	if o.Enc == EncInt {
		var buf [24]byte
		return len(strconv.AppendInt(buf[:0], o.Int, 10))
	}
	return len(o.Str)
}

// Bytes returns the string value's bytes; for an int-encoded value they are formatted
// into a new slice. Callers must not modify the result.
func (o *Object) Bytes() []byte {
	if o.Enc == EncInt {
		return strconv.AppendInt(nil, o.Int, 10)
	}
	return o.Str
}

// IsString reports whether o is a string value.
func (o *Object) IsString() bool { return o.Type == TypeString }

// Clone returns a deep copy of o without its expiry (COPY, and values moved between
// databases).
func (o *Object) Clone() Object {
	c := Object{Type: o.Type, Enc: o.Enc, lru: o.lru, Int: o.Int}
	if o.Str != nil {
		c.Str = append([]byte(nil), o.Str...)
	}
	if cl, ok := o.Ptr.(interface{ Clone() any }); ok {
		c.Ptr = cl.Clone()
	}
	return c
}

// Sizer is implemented by collection values (later issues) to report their memory use.
type Sizer interface{ MemoryUsage() int64 }

// entryOverhead approximates the bytes a key costs besides its key and value bytes: the
// table entry with its inline Object, a bucket pointer and allocator rounding.
const entryOverhead = 112

// expireOverhead approximates an entry in the expires table.
const expireOverhead = 48

// memoryUsage estimates the bytes a key with this value occupies; MEMORY USAGE reports it
// and maxmemory is enforced against the sum.
func (o *Object) memoryUsage(keyLen int) int64 {
	n := int64(entryOverhead + roundAlloc(keyLen))
	if o.Str != nil {
		n += int64(roundAlloc(cap(o.Str)))
	}
	if s, ok := o.Ptr.(Sizer); ok {
		n += s.MemoryUsage()
	}
	if o.expire != 0 {
		n += expireOverhead
	}
	return n
}

// roundAlloc rounds n up the way Go's small size classes do (to 8 bytes, then 16).
func roundAlloc(n int) int {
	if n == 0 {
		return 0
	}
	if n <= 8 {
		return 8
	}
	return (n + 15) &^ 15
}

// EmbstrObject returns a string value holding a copy of b without trying the int encoding,
// as Redis's createStringObject (INCRBYFLOAT results, DEBUG POPULATE values): embstr
// when short, raw otherwise.
func EmbstrObject(b []byte) Object {
	o := RawStringObject(b)
	if len(b) <= embstrMaxLen {
		o.Enc = EncEmbstr
	}
	return o
}

// SharedInteger reports whether Redis would store this value as one of its shared integer
// objects (0..9999), which OBJECT REFCOUNT reports as 2147483647.
func (o *Object) SharedInteger() bool {
	return o.Type == TypeString && o.Enc == EncInt && o.Int >= 0 && o.Int < 10000
}
