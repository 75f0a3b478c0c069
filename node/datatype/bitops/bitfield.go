package bitops

import (
	"github.com/clusterctl/clusterctl/node/resp"
)

// FieldOp is a BITFIELD subcommand.
type FieldOp int

// BITFIELD subcommands.
const (
	FieldGet FieldOp = iota
	FieldSet
	FieldIncrBy
)

// Overflow is a BITFIELD OVERFLOW policy.
type Overflow int

// Overflow policies; WRAP is the default.
const (
	Wrap Overflow = iota
	Sat
	Fail
)

// BitfieldOp is one GET, SET or INCRBY of a BITFIELD command.
type BitfieldOp struct {
	Op       FieldOp
	Signed   bool
	Bits     int    // 1..64 signed, 1..63 unsigned
	Offset   uint64 // in bits, "#n" already multiplied out
	Value    int64  // SET value or INCRBY increment
	Overflow Overflow
}

// Bitfield is a parsed BITFIELD or BITFIELD_RO command.
type Bitfield struct {
	Ops []BitfieldOp
	// Writes is true when some op is a SET or INCRBY; the key is then created or grown to
	// hold the farthest written bit before any op runs.
	Writes        bool
	highestOffset uint64
}

// BitfieldResult is one element of BITFIELD's reply: an integer, or nil when an
// OVERFLOW FAIL prevented the write.
type BitfieldResult struct {
	Value int64
	Nil   bool
}

// ParseBitfield parses the arguments after the key of BITFIELD (readOnly false) or
// BITFIELD_RO (readOnly true), with bitfieldGeneric's errors in its order: every
// subcommand is checked first, then BITFIELD_RO refuses writes. The WRONGTYPE check comes
// after parsing. maxBulkLen is proto-max-bulk-len as in ParseOffset.
func ParseBitfield(args [][]byte, readOnly bool, maxBulkLen int64) (*Bitfield, error) {
	bf := &Bitfield{}
	overflow := Wrap
	for j := 0; j < len(args); j++ {
		remaining := len(args) - j - 1
		var op FieldOp
		switch {
		case keyword(args[j], "get") && remaining >= 2:
			op = FieldGet
		case keyword(args[j], "set") && remaining >= 3:
			op = FieldSet
		case keyword(args[j], "incrby") && remaining >= 3:
			op = FieldIncrBy
		case keyword(args[j], "overflow") && remaining >= 1:
			j++
			switch {
			case keyword(args[j], "wrap"):
				overflow = Wrap
			case keyword(args[j], "sat"):
				overflow = Sat
			case keyword(args[j], "fail"):
				overflow = Fail
			default:
				return nil, ErrOverflowType
			}
			continue
		default:
			return nil, ErrSyntax
		}
		signed, width, err := parseFieldType(args[j+1])
		if err != nil {
			return nil, err
		}
		offset, err := parseOffset(args[j+2], maxBulkLen, width)
		if err != nil {
			return nil, err
		}
		var value int64
		if op != FieldGet {
			bf.Writes = true
			bf.highestOffset = max(bf.highestOffset, offset+uint64(width)-1)
			var ok bool
			if value, ok = resp.ParseInt(args[j+3]); !ok {
				return nil, ErrNotInteger
			}
			j++
		}
		bf.Ops = append(bf.Ops, BitfieldOp{Op: op, Signed: signed, Bits: width, Offset: offset, Value: value, Overflow: overflow})
		j += 2
	}
	if readOnly && bf.Writes {
		return nil, ErrBitfieldRO
	}
	return bf, nil
}

// parseFieldType parses i1..i64 and u1..u63 (getBitfieldTypeFromArgument; the width is
// read up to a NUL byte, as strlen sees it). u64 is refused because RESP integers are
// signed 64-bit.
func parseFieldType(arg []byte) (signed bool, width int, err error) {
	arg = cstr(arg)
	if len(arg) == 0 || (arg[0] != 'i' && arg[0] != 'u') {
		return false, 0, ErrBitfieldType
	}
	signed = arg[0] == 'i'
	n, ok := resp.ParseInt(arg[1:])
	if !ok || n < 1 || (signed && n > 64) || (!signed && n > 63) {
		return false, 0, ErrBitfieldType
	}
	return signed, int(n), nil
}

// Exec runs the operations in order on the key's value (nil when missing) and returns the
// value to store, one result per op, and the number of changes Redis counts (a write that
// changed the field, or any write to a key it created or grew); when that is zero Redis
// neither propagates nor notifies. For a command with writes the returned value is
// created or grown to the farthest written bit even when OVERFLOW FAIL skipped every
// write, as Redis does; the caller stores it whenever Writes is set. For a read-only
// command newVal is val.
func (bf *Bitfield) Exec(val []byte) (newVal []byte, results []BitfieldResult, changes int) {
	results = make([]BitfieldResult, len(bf.Ops))
	dirty := false
	if bf.Writes {
		need := bf.highestOffset>>3 + 1
		dirty = val == nil || uint64(len(val)) < need
		val = grow(val, need)
	}
	for i, op := range bf.Ops {
		if op.Op == FieldGet {
			u := getField(val, op.Offset, op.Bits)
			if op.Signed {
				results[i].Value = signExtend(u, op.Bits)
			} else {
				results[i].Value = int64(u)
			}
			continue
		}
		var oldVal, newVal uint64
		var ret int64
		var over bool
		if op.Signed {
			old := signExtend(getField(val, op.Offset, op.Bits), op.Bits)
			var nv int64
			if op.Op == FieldIncrBy {
				var wrapped int64
				over, wrapped = signedOverflow(old, op.Value, op.Bits, op.Overflow)
				nv = old + op.Value
				if over {
					nv = wrapped
				}
				ret = nv
			} else {
				var wrapped int64
				nv = op.Value
				if over, wrapped = signedOverflow(nv, 0, op.Bits, op.Overflow); over {
					nv = wrapped
				}
				ret = old
			}
			oldVal, newVal = uint64(old), uint64(nv)
		} else {
			old := getField(val, op.Offset, op.Bits)
			var nv uint64
			if op.Op == FieldIncrBy {
				var wrapped uint64
				nv = old + uint64(op.Value)
				if over, wrapped = unsignedOverflow(old, op.Value, op.Bits, op.Overflow); over {
					nv = wrapped
				}
				ret = int64(nv)
			} else {
				var wrapped uint64
				nv = uint64(op.Value)
				if over, wrapped = unsignedOverflow(nv, 0, op.Bits, op.Overflow); over {
					nv = wrapped
				}
				ret = int64(old)
			}
			oldVal, newVal = old, nv
		}
		if over && op.Overflow == Fail {
			results[i].Nil = true
			continue
		}
		results[i].Value = ret
		setField(val, op.Offset, op.Bits, newVal)
		if dirty || oldVal != newVal {
			changes++
		}
	}
	return val, results, changes
}

// getField reads width bits at offset, most significant first; bits past the end of val
// read as zero.
func getField(val []byte, offset uint64, width int) uint64 {
	var v uint64
	for j := 0; j < width; j++ {
		v = v<<1 | uint64(GetBit(val, offset+uint64(j)))
	}
	return v
}

// setField writes the low width bits of v at offset; val is long enough.
func setField(val []byte, offset uint64, width int, v uint64) {
	for j := 0; j < width; j++ {
		bit := byte(v>>(width-1-j)) & 1
		o := offset + uint64(j)
		shift := 7 - o&7
		val[o>>3] = val[o>>3]&^(1<<shift) | bit<<shift
	}
}

func signExtend(u uint64, width int) int64 {
	if width < 64 && u&(1<<(width-1)) != 0 {
		u |= ^uint64(0) << width
	}
	return int64(u)
}

// unsignedOverflow reports whether value+incr leaves 0..2^width-1
// (checkUnsignedBitfieldOverflow) and, for WRAP and SAT, the value to store instead. As
// in Redis the check takes value as unsigned, so a negative SET value is an overflow that
// SAT turns into the maximum.
func unsignedOverflow(value uint64, incr int64, width int, ow Overflow) (bool, uint64) {
	maxVal := uint64(1)<<width - 1
	maxIncr := int64(maxVal - value)
	minIncr := -int64(value)
	if value > maxVal || (incr > 0 && incr > maxIncr) {
		switch ow {
		case Wrap:
			return true, (value + uint64(incr)) &^ (^uint64(0) << width)
		case Sat:
			return true, maxVal
		}
		return true, 0
	}
	if incr < 0 && incr < minIncr {
		switch ow {
		case Wrap:
			return true, (value + uint64(incr)) &^ (^uint64(0) << width)
		case Sat:
			return true, 0
		}
		return true, 0
	}
	return false, 0
}

// signedOverflow is checkSignedBitfieldOverflow: whether value+incr leaves the signed
// range of width bits, and the WRAP or SAT replacement. Arithmetic wraps as Redis's
// unsigned casts do, with the same consequence: a SET far below the minimum makes
// max-value wrap negative, is taken for an overflow upwards, and SAT stores the maximum
// (BITFIELD k OVERFLOW SAT SET i60 0 -9024325988143655667 stores 2^59-1 in Redis 7.0).
func signedOverflow(value, incr int64, width int, ow Overflow) (bool, int64) {
	maxVal := int64(1)<<(width-1) - 1
	if width == 64 {
		maxVal = 1<<63 - 1
	}
	minVal := -maxVal - 1
	maxIncr := int64(uint64(maxVal) - uint64(value))
	minIncr := minVal - value
	wrap := func() int64 {
		c := uint64(value) + uint64(incr)
		if width < 64 {
			mask := ^uint64(0) << width
			if c&(1<<(width-1)) != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		return int64(c)
	}
	if value > maxVal || (width != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr) {
		switch ow {
		case Wrap:
			return true, wrap()
		case Sat:
			return true, maxVal
		}
		return true, 0
	}
	if value < minVal || (width != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr) {
		switch ow {
		case Wrap:
			return true, wrap()
		case Sat:
			return true, minVal
		}
		return true, 0
	}
	return false, 0
}
