package rdb

import "errors"

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

// lzfCompress compresses in and returns the compressed bytes, or nil when the result would
// be longer than maxLen (Redis stores such strings uncompressed). The output need not
// match lzf_c.c byte for byte; it only has to decompress with lzf_d.c, which accepts any
// well-formed sequence of runs.
func lzfCompress(in []byte, maxLen int) []byte {
	n := len(in)
	if n == 0 || maxLen <= 0 {
		return nil
	}
	out := make([]byte, 0, min(maxLen, n+n/32+1))
	var htab [1 << lzfHashLog]int32 // position+1 of the last 3-byte sequence with each hash
	hash := func(p int) uint32 {
		v := uint32(in[p])<<16 | uint32(in[p+1])<<8 | uint32(in[p+2])
		return (v * 2654435761) >> (32 - lzfHashLog)
	}
	litStart := 0 // start of the literal bytes not yet emitted
	emitLiterals := func(end int) bool {
		for litStart < end {
			k := min(end-litStart, lzfMaxLiteral)
			if len(out)+1+k > maxLen {
				return false
			}
			out = append(out, byte(k-1))
			out = append(out, in[litStart:litStart+k]...)
			litStart += k
		}
		return true
	}
	ip := 0
	for ip+lzfMinMatch <= n {
		h := hash(ip)
		ref := int(htab[h]) - 1
		htab[h] = int32(ip + 1)
		off := ip - ref - 1
		if ref < 0 || off >= lzfMaxOffset || in[ref] != in[ip] || in[ref+1] != in[ip+1] || in[ref+2] != in[ip+2] {
			ip++
			continue
		}
		maxMatch := min(n-ip, lzfMaxRef)
		l := lzfMinMatch
		for l < maxMatch && in[ref+l] == in[ip+l] {
			l++
		}
		if !emitLiterals(ip) {
			return nil
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
		// Index the positions inside the match too, so later repeats find them.
		for p := ip + 1; p < ip+l && p+lzfMinMatch <= n; p++ {
			htab[hash(p)] = int32(p + 1)
		}
		ip += l
		litStart = ip
	}
	if !emitLiterals(n) {
		return nil
	}
	return out
}

// lzfDecompress expands in into exactly outLen bytes, with lzf_d.c's semantics; anything
// that would read past the input, reference before the start of the output, or produce a
// different length is an error, as rdbLoadLzfStringObject treats it.
func lzfDecompress(in []byte, outLen int) ([]byte, error) {
	if len(in) == 0 || outLen <= 0 || outLen/lzfMaxRatio > len(in) {
		return nil, errLZF
	}
	out := make([]byte, 0, outLen)
	ip := 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < 1<<5 {
			k := ctrl + 1
			if ip+k > len(in) || len(out)+k > outLen {
				return nil, errLZF
			}
			out = append(out, in[ip:ip+k]...)
			ip += k
			continue
		}
		l := ctrl >> 5
		if ip >= len(in) {
			return nil, errLZF
		}
		if l == 7 {
			l += int(in[ip])
			ip++
			if ip >= len(in) {
				return nil, errLZF
			}
		}
		ref := len(out) - (ctrl&0x1f)<<8 - int(in[ip]) - 1
		ip++
		l += 2
		if ref < 0 || len(out)+l > outLen {
			return nil, errLZF
		}
		// Byte by byte: the source may overlap what this reference produces.
		for i := 0; i < l; i++ {
			out = append(out, out[ref+i])
		}
	}
	if len(out) != outLen {
		return nil, errLZF
	}
	return out, nil
}
