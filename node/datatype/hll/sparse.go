package hll

// Sparse opcodes (hyperloglog.c, "Sparse representation"):
//
//	ZERO   00xxxxxx           xxxxxx+1 registers (1..64) set to zero
//	XZERO  01xxxxxx yyyyyyyy  xxxxxxyyyyyyyy+1 registers (1..16384) set to zero
//	VAL    1vvvvvxx           xx+1 registers (1..4) set to vvvvv+1 (1..32)

func isZero(op byte) bool  { return op&0xc0 == 0 }
func isXZero(op byte) bool { return op&0xc0 == 0x40 }
func isVal(op byte) bool   { return op&0x80 != 0 }

func zeroLen(op byte) int    { return int(op&0x3f) + 1 }
func valLen(op byte) int     { return int(op&0x3) + 1 }
func valValue(op byte) uint8 { return (op>>2)&0x1f + 1 }

// xzeroLen decodes the XZERO opcode at ops[p]. A truncated opcode at the very end reads
// a zero second byte, as Redis reads the sds terminator there.
func xzeroLen(ops []byte, p int) int {
	var low byte
	if p+1 < len(ops) {
		low = ops[p+1]
	}
	return (int(ops[p]&0x3f)<<8 | int(low)) + 1
}

func valOp(value uint8, n int) byte { return 0x80 | (value-1)<<2 | byte(n-1) }

func putXZero(dst []byte, n int) {
	dst[0] = 0x40 | byte((n-1)>>8)
	dst[1] = byte(n - 1)
}

// appendZeros appends the shortest opcode for a run of n zero registers.
func appendZeros(seq []byte, n int) []byte {
	if n > sparseZeroMaxLen {
		return append(seq, 0x40|byte((n-1)>>8), byte(n-1))
	}
	return append(seq, byte(n-1))
}

// opLen is the size in bytes of the opcode starting with op.
func opLen(op byte) int {
	if isXZero(op) {
		return 2
	}
	return 1
}

// sparseToDense converts a sparse HyperLogLog to the dense encoding, keeping the header
// (and so the cached cardinality) as hllSparseToDense does.
func sparseToDense(h []byte) ([]byte, error) {
	dense := make([]byte, DenseSize)
	copy(dense, h[:HeaderSize])
	dense[4] = encodingDense
	regs := dense[HeaderSize:]
	ops := h[HeaderSize:]
	idx := 0
	for p := 0; p < len(ops); {
		op := ops[p]
		switch {
		case isZero(op):
			idx += zeroLen(op)
			p++
		case isXZero(op):
			idx += xzeroLen(ops, p)
			p += 2
		default:
			n, v := valLen(op), valValue(op)
			if idx+n > Registers {
				return nil, ErrCorrupted
			}
			for ; n > 0; n-- {
				denseSetRaw(regs, idx, v)
				idx++
			}
			p++
		}
	}
	if idx != Registers {
		return nil, ErrCorrupted
	}
	return dense, nil
}

// sparseSet raises register index of the sparse HyperLogLog h to count (hllSparseSet).
// h belongs to the caller and may be modified in place; the result may be a different
// slice, and dense when the register value does not fit a VAL opcode or the sparse form
// would outgrow sparseMax bytes. It reports whether the register changed.
//
// The opcode covering the register is split in place into at most five bytes
// (XZERO-VAL-XZERO in the worst case), then up to five opcodes from the one before it are
// scanned to merge adjacent VALs of equal value, exactly as Redis does so that the bytes
// match.
func sparseSet(h []byte, index int, count uint8, sparseMax int) ([]byte, bool, error) {
	if count > sparseValMaxValue {
		return promote(h, index, count)
	}
	// Step 1: find the opcode covering the register.
	p, end := HeaderSize, len(h)
	first, span, prev := 0, 0, -1
	for p < end {
		op := h[p]
		switch {
		case isZero(op):
			span = zeroLen(op)
		case isVal(op):
			span = valLen(op)
		default:
			span = xzeroLen(h, p)
		}
		if index <= first+span-1 {
			break
		}
		prev = p
		p += opLen(op)
		first += span
	}
	if span == 0 || p >= end {
		return nil, false, ErrCorrupted
	}
	op := h[p]
	// A value ending in the first byte of an XZERO is corrupt, but Redis reads the sds
	// terminator as its second byte, splices as usual and, its length count being one
	// short, loses the last byte it wrote. Mimic that with a virtual zero byte that is
	// cut off again after the splice, so such values evolve exactly as in Redis.
	virtual := 0
	if isXZero(op) && p+1 == end {
		h = append(h, 0)
		end++
		virtual = 1
	}
	runLen := span

	// Step 2: the cases that need no split.
	if isVal(op) {
		if valValue(op) >= count {
			return h, false, nil
		}
		if runLen == 1 {
			h[p] = valOp(count, 1)
			return mergeAdjacentVals(h, prev), true, nil
		}
	}
	if isZero(op) && runLen == 1 {
		h[p] = valOp(count, 1)
		return mergeAdjacentVals(h, prev), true, nil
	}

	// Step 3: split the opcode around the register.
	var seqBuf [5]byte
	seq := seqBuf[:0]
	last := first + span - 1
	if isVal(op) {
		cur := valValue(op)
		if index != first {
			seq = append(seq, valOp(cur, index-first))
		}
		seq = append(seq, valOp(count, 1))
		if index != last {
			seq = append(seq, valOp(cur, last-index))
		}
	} else {
		if index != first {
			seq = appendZeros(seq, index-first)
		}
		seq = append(seq, valOp(count, 1))
		if index != last {
			seq = appendZeros(seq, last-index)
		}
	}
	oldLen := opLen(op)
	delta := len(seq) - oldLen
	if delta > 0 && len(h)-virtual+delta > sparseMax {
		return promote(h[:end-virtual], index, count)
	}
	if delta > 0 {
		h = append(h, seq[:delta]...) // grow; the tail is moved right below
	}
	copy(h[p+len(seq):], h[p+oldLen:end])
	h = h[:end+delta]
	copy(h[p:], seq)
	h = h[:len(h)-virtual]
	return mergeAdjacentVals(h, prev), true, nil
}

// mergeAdjacentVals is step 4 of hllSparseSet: starting at the opcode before the changed
// one (or at the first), look at up to five opcodes and fuse runs of VALs with the same
// value while the run fits one opcode. Redis rescans after a merge without advancing, and
// every pass of the loop, merging or not, uses up one of the five.
func mergeAdjacentVals(h []byte, prev int) []byte {
	p := HeaderSize
	if prev >= 0 {
		p = prev
	}
	for scan := 5; p < len(h) && scan > 0; scan-- {
		op := h[p]
		if isXZero(op) {
			p += 2
			continue
		}
		if isZero(op) {
			p++
			continue
		}
		if p+1 < len(h) && isVal(h[p+1]) {
			v1, v2 := valValue(op), valValue(h[p+1])
			if n := valLen(op) + valLen(h[p+1]); v1 == v2 && n <= sparseValMaxLen {
				h[p+1] = valOp(v1, n)
				copy(h[p:], h[p+1:])
				h = h[:len(h)-1]
				continue
			}
		}
		p++
	}
	return h
}

// promote converts h to dense and then sets the register, which necessarily changes it.
func promote(h []byte, index int, count uint8) ([]byte, bool, error) {
	dense, err := sparseToDense(h)
	if err != nil {
		return nil, false, err
	}
	denseSet(dense[HeaderSize:], index, count)
	return dense, true, nil
}
