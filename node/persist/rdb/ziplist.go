package rdb

import (
	"encoding/binary"
	"errors"
)

// Legacy compact encodings that Redis 7.0 still loads from older files but no longer
// writes: ziplist (Redis 2.6 to 6.2), zipmap (before 2.6). Intsets are still current.

var (
	errZiplist = errors.New("ziplist integrity check failed")
	errZipmap  = errors.New("zipmap integrity check failed")
	errIntset  = errors.New("intset integrity check failed")
)

// A ziplist (ziplist.c) is
//
//	<zlbytes uint32 LE> <zltail uint32 LE> <zllen uint16 LE> <entry>... <0xFF>
//
// and each entry is <prevlen> <encoding> <data>: prevlen is the previous entry's size in 1
// byte, or 0xFE and 4 bytes little endian from 254 on; the encoding holds a string length
// (6, 14 or 32 bits, the last two big endian) or an integer type.
const (
	zlHeaderSize = 10
	zlEnd        = 0xff
	zlBigPrevlen = 0xfe
	zlNumUnknown = 0xffff
	zipInt16     = 0xc0
	zipInt32     = 0xd0
	zipInt64     = 0xe0
	zipInt24     = 0xf0
	zipInt8      = 0xfe
	zipImmMin    = 0xf1 // 1111xxxx with xxxx from 0001 to 1101 holds xxxx-1
	zipImmMax    = 0xfd
	zipStr14Bit  = 0x40
	zipStr32Bit  = 0x80
	zipStrMask   = 0xc0
)

// parseZiplist returns the elements of a ziplist, validated as ziplistValidateIntegrity
// does in deep mode: bounds, every prevlen, the tail offset, the count and the terminator.
func parseZiplist(zl []byte) ([]lpEntry, error) {
	if len(zl) < zlHeaderSize+1 || int(binary.LittleEndian.Uint32(zl)) != len(zl) || zl[len(zl)-1] != zlEnd {
		return nil, errZiplist
	}
	tail := int(binary.LittleEndian.Uint32(zl[4:]))
	header := int(binary.LittleEndian.Uint16(zl[8:]))
	var out []lpEntry
	p, prev, last := zlHeaderSize, 0, zlHeaderSize
	for zl[p] != zlEnd {
		start := p
		// need reports whether n more bytes from p stay before the terminator.
		need := func(n int) bool { return n >= 0 && p+n < len(zl) }
		var prevlen int
		if zl[p] < zlBigPrevlen {
			prevlen = int(zl[p])
			p++
		} else {
			if !need(5) {
				return nil, errZiplist
			}
			prevlen = int(binary.LittleEndian.Uint32(zl[p+1:]))
			p += 5
		}
		if prevlen != prev || !need(1) {
			return nil, errZiplist
		}
		enc := zl[p]
		var e lpEntry
		switch {
		case enc&zipStrMask == 0:
			n := int(enc & 0x3f)
			if !need(1 + n) {
				return nil, errZiplist
			}
			e.str, p = zl[p+1:p+1+n], p+1+n
		case enc&zipStrMask == zipStr14Bit:
			if !need(2) {
				return nil, errZiplist
			}
			n := int(enc&0x3f)<<8 | int(zl[p+1])
			if !need(2 + n) {
				return nil, errZiplist
			}
			e.str, p = zl[p+2:p+2+n], p+2+n
		case enc == zipStr32Bit:
			if !need(5) {
				return nil, errZiplist
			}
			n := int(binary.BigEndian.Uint32(zl[p+1:]))
			if !need(5 + n) {
				return nil, errZiplist
			}
			e.str, p = zl[p+5:p+5+n], p+5+n
		case enc >= zipImmMin && enc <= zipImmMax:
			e, p = lpEntry{num: int64(enc&0x0f) - 1, isInt: true}, p+1
		default:
			var width int
			switch enc {
			case zipInt8:
				width = 1
			case zipInt16:
				width = 2
			case zipInt24:
				width = 3
			case zipInt32:
				width = 4
			case zipInt64:
				width = 8
			default:
				return nil, errZiplist
			}
			if !need(1 + width) {
				return nil, errZiplist
			}
			var u uint64
			for i := width - 1; i >= 0; i-- {
				u = u<<8 | uint64(zl[p+1+i])
			}
			shift := 64 - 8*width
			e, p = lpEntry{num: int64(u<<shift) >> shift, isInt: true}, p+1+width
		}
		out = append(out, e)
		prev, last = p-start, start
	}
	if p != len(zl)-1 || tail != last || (header != zlNumUnknown && header != len(out)) {
		return nil, errZiplist
	}
	return out, nil
}

// parseZipmap returns the field-value pairs of a zipmap (zipmap.c), the hash encoding of
// Redis before 2.6:
//
//	<count byte, 254 when unknown> (<len> <field> <len> <free byte> <value> <free bytes>)... <0xFF>
//
// where each <len> is one byte below 254, or 254 and 4 bytes little endian.
func parseZipmap(zm []byte) ([]Field, error) {
	if len(zm) < 2 || zm[len(zm)-1] != zlEnd {
		return nil, errZipmap
	}
	p := 1
	readLen := func() (int, bool) {
		if p >= len(zm)-1 {
			return 0, false
		}
		if zm[p] < 254 {
			p++
			return int(zm[p-1]), true
		}
		if zm[p] == 254 && p+5 < len(zm) {
			n := int(binary.LittleEndian.Uint32(zm[p+1:]))
			p += 5
			return n, true
		}
		return 0, false
	}
	var out []Field
	for zm[p] != zlEnd {
		klen, ok := readLen()
		if !ok || klen > len(zm)-1-p {
			return nil, errZipmap
		}
		key := zm[p : p+klen]
		p += klen
		vlen, ok := readLen()
		if !ok || p >= len(zm)-1 {
			return nil, errZipmap
		}
		free := int(zm[p])
		p++
		if vlen > len(zm)-1-p || free > len(zm)-1-p-vlen {
			return nil, errZipmap
		}
		out = append(out, Field{Name: key, Value: zm[p : p+vlen]})
		p += vlen + free
		if p >= len(zm) {
			return nil, errZipmap
		}
	}
	if p != len(zm)-1 || len(out) == 0 || (zm[0] != 254 && int(zm[0]) != len(out)) {
		return nil, errZipmap
	}
	return out, nil
}

// An intset (intset.c) is <encoding uint32 LE: 2, 4 or 8> <length uint32 LE> followed by
// the integers in that width, little endian, strictly increasing.
func parseIntset(is []byte) ([]int64, error) {
	if len(is) < 8 {
		return nil, errIntset
	}
	width := binary.LittleEndian.Uint32(is)
	n := binary.LittleEndian.Uint32(is[4:])
	if (width != 2 && width != 4 && width != 8) || n == 0 || uint64(len(is)) != 8+uint64(n)*uint64(width) {
		return nil, errIntset
	}
	out := make([]int64, n)
	for i := range out {
		b := is[8+i*int(width):]
		switch width {
		case 2:
			out[i] = int64(int16(binary.LittleEndian.Uint16(b)))
		case 4:
			out[i] = int64(int32(binary.LittleEndian.Uint32(b)))
		default:
			out[i] = int64(binary.LittleEndian.Uint64(b))
		}
		if i > 0 && out[i] <= out[i-1] {
			return nil, errIntset
		}
	}
	return out, nil
}

// buildIntset encodes sorted, distinct integers in the narrowest width that holds them
// all, as intsetAdd would have grown it.
func buildIntset(vals []int64) []byte {
	width := 2
	for _, v := range vals {
		switch {
		case v < -2147483648 || v > 2147483647:
			width = 8
		case (v < -32768 || v > 32767) && width < 4:
			width = 4
		}
	}
	out := make([]byte, 8, 8+len(vals)*width)
	binary.LittleEndian.PutUint32(out, uint32(width))
	binary.LittleEndian.PutUint32(out[4:], uint32(len(vals)))
	for _, v := range vals {
		switch width {
		case 2:
			out = binary.LittleEndian.AppendUint16(out, uint16(v))
		case 4:
			out = binary.LittleEndian.AppendUint32(out, uint32(v))
		default:
			out = binary.LittleEndian.AppendUint64(out, uint64(v))
		}
	}
	return out
}
