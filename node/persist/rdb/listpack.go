package rdb

import (
	"encoding/binary"
	"errors"
	"strconv"

	"github.com/clusterctl/clusterctl/node/resp"
)

// A listpack (listpack.c) is a serialized list of strings and integers:
//
//	<total-bytes uint32 LE> <num-elements uint16 LE> <entry>... <0xFF>
//
// Each entry is an encoding byte (with the length or value), the data, and a "backlen":
// the entry's own size written so that it can be read from right to left.
const (
	lpHeaderSize    = 6
	lpNumUnknown    = 0xffff // the element count no longer fits the header
	lpEOF           = 0xff
	lpMaxSafetySize = 1 << 30 // LISTPACK_MAX_SAFETY_SIZE: Redis never builds larger ones
)

var errListpack = errors.New("listpack integrity check failed")

// lpEntry is one decoded listpack element: a string (aliasing the listpack's bytes) or an
// integer.
type lpEntry struct {
	str   []byte
	num   int64
	isInt bool
}

// bytes renders the element as Redis hands it out: integers in decimal.
func (e lpEntry) bytes() []byte {
	if e.isInt {
		return strconv.AppendInt(nil, e.num, 10)
	}
	return e.str
}

// integer returns the element as an integer, parsing a string element as Redis's
// lpGetIntegerIfValid does.
func (e lpEntry) integer() (int64, bool) {
	if e.isInt {
		return e.num, true
	}
	return resp.ParseInt(e.str)
}

// listpackIter walks a listpack, validating as it goes what lpValidateIntegrity checks
// in deep mode: the header, every entry's bounds and backlen, the terminator, and the
// element count.
type listpackIter struct {
	lp    []byte
	p     int
	count int
	done  bool
}

func newListpackIter(lp []byte) (*listpackIter, error) {
	if len(lp) < lpHeaderSize+1 || int(binary.LittleEndian.Uint32(lp)) != len(lp) || lp[len(lp)-1] != lpEOF {
		return nil, errListpack
	}
	return &listpackIter{lp: lp, p: lpHeaderSize}, nil
}

// next returns the next element; ok is false after the last one, once the count has been
// checked against the header.
func (it *listpackIter) next() (e lpEntry, ok bool, err error) {
	if it.done {
		return e, false, nil
	}
	lp, p := it.lp, it.p
	if lp[p] == lpEOF {
		it.done = true
		if p != len(lp)-1 {
			return e, false, errListpack
		}
		if num := int(binary.LittleEndian.Uint16(lp[4:])); num != lpNumUnknown && num != it.count {
			return e, false, errListpack
		}
		return e, false, nil
	}
	// need reports whether n more bytes from p stay before the terminator.
	need := func(n int) bool { return n >= 0 && p+n < len(lp) }
	b := lp[p]
	var size int // encoding byte(s) plus data
	switch {
	case b&0x80 == 0: // 7-bit unsigned integer
		e = lpEntry{num: int64(b & 0x7f), isInt: true}
		size = 1
	case b&0xc0 == 0x80: // string up to 63 bytes
		n := int(b & 0x3f)
		if !need(1 + n) {
			return e, false, errListpack
		}
		e.str = lp[p+1 : p+1+n]
		size = 1 + n
	case b&0xe0 == 0xc0: // 13-bit signed integer
		if !need(2) {
			return e, false, errListpack
		}
		v := int64(b&0x1f)<<8 | int64(lp[p+1])
		if v >= 1<<12 {
			v -= 1 << 13
		}
		e = lpEntry{num: v, isInt: true}
		size = 2
	case b&0xf0 == 0xe0: // string up to 4095 bytes
		if !need(2) {
			return e, false, errListpack
		}
		n := int(b&0x0f)<<8 | int(lp[p+1])
		if !need(2 + n) {
			return e, false, errListpack
		}
		e.str = lp[p+2 : p+2+n]
		size = 2 + n
	case b == 0xf0: // string with a 32-bit length
		if !need(5) {
			return e, false, errListpack
		}
		n := int(binary.LittleEndian.Uint32(lp[p+1:]))
		if !need(5 + n) {
			return e, false, errListpack
		}
		e.str = lp[p+5 : p+5+n]
		size = 5 + n
	case b >= 0xf1 && b <= 0xf4: // 16, 24, 32 or 64-bit signed integer
		width := int(b-0xf1) + 2
		if b == 0xf4 {
			width = 8
		}
		if !need(1 + width) {
			return e, false, errListpack
		}
		var u uint64
		for i := width - 1; i >= 0; i-- {
			u = u<<8 | uint64(lp[p+1+i])
		}
		shift := 64 - 8*width
		e = lpEntry{num: int64(u<<shift) >> shift, isInt: true}
		size = 1 + width
	default:
		return e, false, errListpack
	}
	bl := lpBacklenSize(size)
	if !need(size + bl) {
		return e, false, errListpack
	}
	if got, ok := lpDecodeBacklen(lp[p+size : p+size+bl]); !ok || got != size {
		return e, false, errListpack
	}
	it.p = p + size + bl
	it.count++
	return e, true, nil
}

// lpBacklenSize is the size of the backlen that follows an entry of n bytes
// (lpEncodeBacklen).
func lpBacklenSize(n int) int {
	switch {
	case n <= 127:
		return 1
	case n < 16383:
		return 2
	case n < 2097151:
		return 3
	case n < 268435455:
		return 4
	}
	return 5
}

// lpDecodeBacklen decodes a backlen written left to right: the first byte holds the most
// significant 7 bits, and every byte but the first has the top bit set.
func lpDecodeBacklen(b []byte) (int, bool) {
	v := 0
	for i, c := range b {
		if (i == 0) != (c&0x80 == 0) {
			return 0, false
		}
		v = v<<7 | int(c&0x7f)
	}
	return v, true
}

func appendBacklen(dst []byte, n int) []byte {
	k := lpBacklenSize(n)
	for i := k - 1; i >= 0; i-- {
		c := byte(n>>(7*i)) & 0x7f
		if i != k-1 {
			c |= 0x80
		}
		dst = append(dst, c)
	}
	return dst
}

// listpackBuilder appends elements as lpAppend does: a string that is an integer in
// canonical decimal form is stored as an integer.
type listpackBuilder struct {
	buf   []byte
	count int
}

func newListpackBuilder() *listpackBuilder {
	return &listpackBuilder{buf: make([]byte, lpHeaderSize, 256)}
}

func (b *listpackBuilder) size() int { return len(b.buf) + 1 }

func (b *listpackBuilder) appendString(s []byte) {
	if v, ok := resp.ParseInt(s); ok {
		b.appendInt(v)
		return
	}
	start := len(b.buf)
	n := len(s)
	switch {
	case n < 64:
		b.buf = append(b.buf, 0x80|byte(n))
	case n < 4096:
		b.buf = append(b.buf, 0xe0|byte(n>>8), byte(n))
	default:
		b.buf = append(b.buf, 0xf0, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
	}
	b.buf = append(b.buf, s...)
	b.buf = appendBacklen(b.buf, len(b.buf)-start)
	b.count++
}

func (b *listpackBuilder) appendInt(v int64) {
	start := len(b.buf)
	switch {
	case v >= 0 && v <= 127:
		b.buf = append(b.buf, byte(v))
	case v >= -4096 && v <= 4095:
		u := uint64(v) & (1<<13 - 1)
		b.buf = append(b.buf, 0xc0|byte(u>>8), byte(u))
	case v >= -32768 && v <= 32767:
		b.buf = append(b.buf, 0xf1, byte(v), byte(v>>8))
	case v >= -8388608 && v <= 8388607:
		b.buf = append(b.buf, 0xf2, byte(v), byte(v>>8), byte(v>>16))
	case v >= -2147483648 && v <= 2147483647:
		b.buf = append(b.buf, 0xf3, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	default:
		b.buf = append(b.buf, 0xf4)
		b.buf = binary.LittleEndian.AppendUint64(b.buf, uint64(v))
	}
	b.buf = appendBacklen(b.buf, len(b.buf)-start)
	b.count++
}

// finish terminates the listpack and fills in its header.
func (b *listpackBuilder) finish() []byte {
	b.buf = append(b.buf, lpEOF)
	binary.LittleEndian.PutUint32(b.buf, uint32(len(b.buf)))
	num := b.count
	if num >= lpNumUnknown {
		num = lpNumUnknown
	}
	binary.LittleEndian.PutUint16(b.buf[4:], uint16(num))
	return b.buf
}

// lpStringSize is the number of bytes s takes as a listpack element, backlen included.
func lpStringSize(s []byte) int {
	var n int
	if v, ok := resp.ParseInt(s); ok {
		switch {
		case v >= 0 && v <= 127:
			n = 1
		case v >= -4096 && v <= 4095:
			n = 2
		case v >= -32768 && v <= 32767:
			n = 3
		case v >= -8388608 && v <= 8388607:
			n = 4
		case v >= -2147483648 && v <= 2147483647:
			n = 5
		default:
			n = 9
		}
	} else {
		switch l := len(s); {
		case l < 64:
			n = 1 + l
		case l < 4096:
			n = 2 + l
		default:
			n = 5 + l
		}
	}
	return n + lpBacklenSize(n)
}
