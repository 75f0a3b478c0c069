package rdb

import (
	"errors"
	"math/bits"
	"slices"
	"sync"
)

// LZF is the compression Redis applies to long strings in RDB files (lzf_c.c, lzf_d.c).
// A compressed stream is a sequence of runs, each starting with a control byte:
//
//	000LLLLL <L+1 literal bytes>                 a literal run of 1..32 bytes
//	LLLOOOOO OOOOOOOO                            a back reference of L+2 bytes (L in 1..6)
//	111OOOOO LLLLLLLL OOOOOOOO                   a back reference of L+9 bytes
//
// where the 13-bit O is the distance back from the current output position minus one.
// Back references may overlap the bytes they produce (a run of one repeated byte).
const (
	lzfMaxLiteral = 32          // longest literal run one control byte describes
	lzfMaxOffset  = 1 << 13     // back references reach at most this far back
	lzfMaxRef     = 7 + 255 + 2 // longest back reference: 3 length bits, one extra byte, plus 2
	lzfMinMatch   = 3           // a shorter back reference would not be smaller than literals
	lzfHashLog    = 14
	// lzfMaxRatio bounds the expansion of valid input: a 3-byte back reference yields at most
	// lzfMaxRef bytes. A declared uncompressed length beyond it is a lie we refuse to
	// allocate for.
	lzfMaxRatio = (lzfMaxRef + 2) / 3
)

var errLZF = errors.New("Invalid LZF compressed string")

// lzfCompressor holds what one compression needs, reused from a pool so that compressing
// a million short strings allocates nothing: the hash table of the last position of each
// 3-byte sequence, and the output buffer.
type lzfCompressor struct {
	htab [1 << lzfHashLog]uint32 // position+1 of the last 3-byte sequence with each hash
	out  []byte
}

var lzfCompressors = sync.Pool{New: func() any { return new(lzfCompressor) }}

// lzfCompress compresses in and returns the compressed bytes, or nil when the result would
// be longer than maxLen (Redis stores such strings uncompressed). The output need not
// match lzf_c.c byte for byte; it only has to decompress with lzf_d.c, which accepts any
// well-formed sequence of runs.
func lzfCompress(in []byte, maxLen int) []byte {
	c := lzfCompressors.Get().(*lzfCompressor)
	defer lzfCompressors.Put(c)
	out := c.compress(in, maxLen)
	if out == nil {
		return nil
	}
	return append([]byte(nil), out...)
}

// compress is lzfCompress into c's buffer, valid until c's next use. The hash table is
// sized to the input (at least 256 entries, at most 1<<lzfHashLog) and only that part is
// cleared, so a 100-byte value does not pay for clearing 64 KB.
func (c *lzfCompressor) compress(in []byte, maxLen int) []byte {
	n := len(in)
	if n < lzfMinMatch || maxLen <= 0 {
		return nil
	}
	hlog := min(max(bits.Len(uint(n)), 8), lzfHashLog)
	shift := 32 - uint(hlog)
	htab := c.htab[:1<<hlog]
	clear(htab)
	if cap(c.out) < maxLen {
		c.out = make([]byte, 0, max(maxLen, 256))
	}
	out := c.out[:0]
	litStart := 0 // start of the literal bytes not yet emitted
	ip := 0
	for ip+lzfMinMatch <= n {
		v := uint32(in[ip])<<16 | uint32(in[ip+1])<<8 | uint32(in[ip+2])
		h := (v * 2654435761) >> shift
		ref := int(htab[h]) - 1
		htab[h] = uint32(ip + 1)
		off := ip - ref - 1
		if ref < 0 || off >= lzfMaxOffset || uint32(in[ref])<<16|uint32(in[ref+1])<<8|uint32(in[ref+2]) != v {
			ip++
			continue
		}
		maxMatch := min(n-ip, lzfMaxRef)
		l := lzfMinMatch
		for l < maxMatch && in[ref+l] == in[ip+l] {
			l++
		}
		// Literals before the match, in runs of at most lzfMaxLiteral.
		for litStart < ip {
			k := min(ip-litStart, lzfMaxLiteral)
			if len(out)+1+k > maxLen {
				return nil
			}
			out = append(out, byte(k-1))
			out = append(out, in[litStart:litStart+k]...)
			litStart += k
		}
		code := l - 2
		if code < 7 {
			if len(out)+2 > maxLen {
				return nil
			}
			out = append(out, byte(code<<5|off>>8), byte(off))
		} else {
			if len(out)+3 > maxLen {
				return nil
			}
			out = append(out, byte(7<<5|off>>8), byte(code-7), byte(off))
		}
		// Index the last positions of the match, as lzf_c.c does: enough for a repeat that
		// follows to find it, without hashing every byte of a long run.
		for p := max(ip+1, ip+l-2); p < ip+l && p+lzfMinMatch <= n; p++ {
			w := uint32(in[p])<<16 | uint32(in[p+1])<<8 | uint32(in[p+2])
			htab[(w*2654435761)>>shift] = uint32(p + 1)
		}
		ip += l
		litStart = ip
	}
	for litStart < n {
		k := min(n-litStart, lzfMaxLiteral)
		if len(out)+1+k > maxLen {
			return nil
		}
		out = append(out, byte(k-1))
		out = append(out, in[litStart:litStart+k]...)
		litStart += k
	}
	c.out = out
	return out
}

// lzfDecompress expands in into exactly outLen bytes, with lzf_d.c's semantics; anything
// that would read past the input, reference before the start of the output, or produce a
// different length is an error, as rdbLoadLzfStringObject treats it.
func lzfDecompress(in []byte, outLen int) ([]byte, error) {
	return lzfDecompressAppend(nil, in, outLen)
}

// lzfDecompressAppend is lzfDecompress appending to dst; with dst nil the result has
// exactly outLen bytes of capacity.
func lzfDecompressAppend(dst, in []byte, outLen int) ([]byte, error) {
	if len(in) == 0 || outLen <= 0 || outLen/lzfMaxRatio > len(in) {
		return dst, errLZF
	}
	base := len(dst)
	if dst == nil {
		dst = make([]byte, 0, outLen)
	} else {
		dst = slices.Grow(dst, outLen)
	}
	out := dst
	end := base + outLen
	ip := 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < 1<<5 {
			k := ctrl + 1
			if ip+k > len(in) || len(out)+k > end {
				return dst[:base], errLZF
			}
			out = append(out, in[ip:ip+k]...)
			ip += k
			continue
		}
		l := ctrl >> 5
		if ip >= len(in) {
			return dst[:base], errLZF
		}
		if l == 7 {
			l += int(in[ip])
			ip++
			if ip >= len(in) {
				return dst[:base], errLZF
			}
		}
		ref := len(out) - (ctrl&0x1f)<<8 - int(in[ip]) - 1
		ip++
		l += 2
		if ref < base || len(out)+l > end {
			return dst[:base], errLZF
		}
		// The source may overlap what this reference produces (a run of a repeated
		// pattern): out[ref:] repeats with the period of the distance, so copying from
		// ref in chunks of everything produced since ref (a whole number of periods)
		// gives lzf_d.c's byte-by-byte result with few copies.
		for l > 0 {
			k := min(l, len(out)-ref)
			out = append(out, out[ref:ref+k]...)
			l -= k
		}
	}
	if len(out) != end {
		return dst[:base], errLZF
	}
	return out, nil
}
