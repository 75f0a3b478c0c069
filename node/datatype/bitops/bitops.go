// Package bitops implements Redis 7.0's bit commands over string values (bitops.c):
// SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP and BITFIELD / BITFIELD_RO.
//
// Bit 0 is the most significant bit of the first byte; reads past the end of a string see
// zero bits, and writes grow the string with zero bytes. Argument parsers take the raw
// arguments and return Redis's exact error replies. The command handler keeps what only
// it can do, in Redis's order: the key lookup, the WRONGTYPE check and storing the result.
//
// Functions that write (SetBit, Bitfield.Exec) work like append: they modify the value
// they are given when it is long enough and return the slice to store. The caller must own
// that value (Redis's dbUnshareStringValue), e.g. not share it with a snapshot in progress.
package bitops

import (
	"bytes"
	"errors"
	"math/bits"

	"github.com/clusterctl/clusterctl/node/resp"
)

// Errors with Redis's reply texts.
var (
	ErrBitOffset    = errors.New("ERR bit offset is not an integer or out of range")
	ErrBitValue     = errors.New("ERR bit is not an integer or out of range")
	ErrNotInteger   = errors.New("ERR value is not an integer or out of range")
	ErrSyntax       = errors.New("ERR syntax error")
	ErrBitArgument  = errors.New("ERR The bit argument must be 1 or 0.")
	ErrBitopNot     = errors.New("ERR BITOP NOT must be called with a single source key.")
	ErrBitfieldType = errors.New("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
	ErrOverflowType = errors.New("ERR Invalid OVERFLOW type specified")
	ErrBitfieldRO   = errors.New("ERR BITFIELD_RO only supports the GET subcommand")
)

// cstr cuts an argument at its first NUL byte: Redis compares keywords with strcasecmp and
// measures some arguments with strlen, both of which stop there.
func cstr(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// keyword reports whether arg equals word (lower case) as strcasecmp sees it.
func keyword(arg []byte, word string) bool {
	return bytes.EqualFold(cstr(arg), []byte(word))
}

// ParseOffset parses a bit offset for SETBIT, GETBIT (getBitOffsetFromArgument): a
// non-negative integer whose byte, offset/8, is below maxBulkLen (proto-max-bulk-len).
// maxBulkLen <= 0 lifts the limit, as Redis does for its master and AOF loading.
func ParseOffset(arg []byte, maxBulkLen int64) (uint64, error) {
	return parseOffset(arg, maxBulkLen, 0)
}

// parseOffset also accepts BITFIELD's "#n" form when width > 0: n fields of that width.
func parseOffset(arg []byte, maxBulkLen int64, width int) (uint64, error) {
	hash := width > 0 && len(arg) > 0 && arg[0] == '#'
	if hash {
		arg = arg[1:]
	}
	n, ok := resp.ParseInt(arg)
	if !ok {
		return 0, ErrBitOffset
	}
	if hash {
		n *= int64(width) // wraps on overflow as in C, then fails the range check
	}
	if n < 0 || (maxBulkLen > 0 && n>>3 >= maxBulkLen) {
		return 0, ErrBitOffset
	}
	return uint64(n), nil
}

// ParseBitValue parses SETBIT's value argument: 0 or 1.
func ParseBitValue(arg []byte) (int, error) {
	n, ok := resp.ParseInt(arg)
	if !ok || n&^1 != 0 {
		return 0, ErrBitValue
	}
	return int(n), nil
}

// GetBit returns the bit at offset, zero past the end of val.
func GetBit(val []byte, offset uint64) int {
	byteIdx := offset >> 3
	if byteIdx >= uint64(len(val)) {
		return 0
	}
	return int(val[byteIdx]>>(7-offset&7)) & 1
}

// grow returns val extended with zero bytes to at least n bytes (sdsgrowzero), reusing
// its capacity when it can.
func grow(val []byte, n uint64) []byte {
	if uint64(len(val)) >= n {
		return val
	}
	old := len(val)
	if uint64(cap(val)) >= n {
		val = val[:n]
		clear(val[old:])
		return val
	}
	return append(val, make([]byte, int(n)-old)...)
}

// SetBit implements SETBIT on the key's value (nil when missing) with on being 0 or 1. It
// returns the value to store, the bit's previous value, and whether the key changed
// (created, grown, or the bit flipped), which decides propagation and keyspace events.
func SetBit(val []byte, offset uint64, on int) (newVal []byte, old int, changed bool) {
	byteIdx := offset >> 3
	changed = val == nil || uint64(len(val)) <= byteIdx
	val = grow(val, byteIdx+1)
	shift := 7 - offset&7
	old = int(val[byteIdx]>>shift) & 1
	if old != on {
		changed = true
	}
	val[byteIdx] = val[byteIdx]&^(1<<shift) | byte(on)<<shift
	return val, old, changed
}

// parseRangeInt parses a BITCOUNT / BITPOS start or end.
func parseRangeInt(arg []byte) (int64, error) {
	n, ok := resp.ParseInt(arg)
	if !ok {
		return 0, ErrNotInteger
	}
	return n, nil
}

// parseUnit parses the BIT|BYTE argument; it reports true for BIT.
func parseUnit(arg []byte) (bool, error) {
	switch {
	case keyword(arg, "bit"):
		return true, nil
	case keyword(arg, "byte"):
		return false, nil
	}
	return false, ErrSyntax
}

// edgeMasks are the bits of the first and last byte of a BIT range that lie outside it.
type edgeMasks struct{ first, last byte }

// resolveRange turns start and end (negative from the end, in bits or bytes) into an
// inclusive byte range of val and the masks for bits outside a BIT range, as
// bitcountCommand and bitposCommand do. ok is false for an empty range.
func resolveRange(strlen, start, end int64, isBit bool) (s, e int64, m edgeMasks, ok bool) {
	total := strlen
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start = max(start, 0)
	end = max(end, 0)
	if end >= total {
		end = total - 1
	}
	if isBit && start <= end {
		m.first = ^byte(1<<(8-start&7) - 1)
		m.last = byte(1<<(7-end&7) - 1)
		start >>= 3
		end >>= 3
	}
	return start, end, m, start <= end
}

// Count implements BITCOUNT on an existing string value; args are the arguments after
// the key. For a missing key Redis replies 0 before looking at the arguments, and the
// WRONGTYPE check also comes first.
func Count(val []byte, args [][]byte) (int64, error) {
	var start, end int64
	isBit := false
	switch len(args) {
	case 0:
		start, end = 0, int64(len(val))-1
	case 2, 3:
		var err error
		if start, err = parseRangeInt(args[0]); err != nil {
			return 0, err
		}
		if end, err = parseRangeInt(args[1]); err != nil {
			return 0, err
		}
		// Both negative and reversed is an empty range even before the unit is read.
		if start < 0 && end < 0 && start > end {
			return 0, nil
		}
		if len(args) == 3 {
			if isBit, err = parseUnit(args[2]); err != nil {
				return 0, err
			}
		}
	default:
		return 0, ErrSyntax
	}
	s, e, m, ok := resolveRange(int64(len(val)), start, end, isBit)
	if !ok {
		return 0, nil
	}
	n := popcount(val[s : e+1])
	n -= bits.OnesCount8(val[s] & m.first)
	n -= bits.OnesCount8(val[e] & m.last)
	return int64(n), nil
}

func popcount(b []byte) int {
	n := 0
	for len(b) >= 8 {
		n += bits.OnesCount64(uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56)
		b = b[8:]
	}
	for _, c := range b {
		n += bits.OnesCount8(c)
	}
	return n
}

// ParseBit parses BITPOS's bit argument. Redis checks it before looking up the key; for
// a missing key it then replies -1 when looking for 1 and 0 when looking for 0.
func ParseBit(arg []byte) (int, error) {
	n, ok := resp.ParseInt(arg)
	if !ok {
		return 0, ErrNotInteger
	}
	if n != 0 && n != 1 {
		return 0, ErrBitArgument
	}
	return int(n), nil
}

// Pos implements BITPOS on an existing string value for bit (from ParseBit); args are the
// arguments after the bit: [start [end [BIT|BYTE]]]. Without an explicit end, a search
// for 0 that finds none answers the first bit past the string, which reads as zero; with
// an end it answers -1 (bitposCommand's end_given rule).
func Pos(val []byte, bit int, args [][]byte) (int64, error) {
	var start, end int64
	isBit, endGiven := false, false
	switch len(args) {
	case 0:
		start, end = 0, int64(len(val))-1
	case 1, 2, 3:
		var err error
		if start, err = parseRangeInt(args[0]); err != nil {
			return 0, err
		}
		// Redis reads the unit before the end.
		if len(args) == 3 {
			if isBit, err = parseUnit(args[2]); err != nil {
				return 0, err
			}
		}
		if len(args) >= 2 {
			if end, err = parseRangeInt(args[1]); err != nil {
				return 0, err
			}
			endGiven = true
		} else if isBit {
			end = int64(len(val))<<3 + 7
		} else {
			end = int64(len(val)) - 1
		}
	default:
		return 0, ErrSyntax
	}
	s, e, m, ok := resolveRange(int64(len(val)), start, end, isBit)
	if !ok {
		return -1, nil
	}
	// Scan bit by bit over whole bytes, treating the masked edge bits as the opposite of
	// what is sought, then apply the end rule.
	for i := s; i <= e; i++ {
		c := val[i]
		var outside byte
		if i == s {
			outside |= m.first
		}
		if i == e {
			outside |= m.last
		}
		if bit == 1 {
			c &^= outside
		} else {
			c |= outside
			c = ^c
		}
		if c != 0 {
			return i<<3 + int64(bits.LeadingZeros8(c)), nil
		}
	}
	if bit == 1 || endGiven {
		return -1, nil
	}
	return (e + 1) << 3, nil
}
