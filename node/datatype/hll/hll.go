// Package hll implements Redis 7.0's HyperLogLog as PFADD, PFCOUNT and PFMERGE see it: a
// string value, byte-for-byte the one redis-server stores (hyperloglog.c), so that values
// move between our node and Redis through DUMP/RESTORE, RDB files and replication.
//
// The value starts with a 16-byte header: the magic "HYLL", an encoding byte (0 dense,
// 1 sparse), three unused bytes and the cached cardinality as a little-endian uint64 whose
// most significant bit, when set, marks the cache stale. 16384 six-bit registers follow:
//
//   - dense: 12288 bytes, register i in bits 6i..6i+5 counted from the least significant bit
//     of each byte onwards;
//   - sparse: run-length opcodes ZERO (00xxxxxx: 1..64 zero registers), XZERO
//     (01xxxxxx yyyyyyyy: 1..16384 zero registers) and VAL (1vvvvvxx: 1..4 registers of value
//     1..32).
//
// A new value is sparse. It is promoted to dense when a register needs a value above 32 or
// when the sparse form would grow past hll-sparse-max-bytes (a parameter here).
//
// Elements are hashed with MurmurHash64A (seed 0xadc83b19): the low 14 bits pick the
// register, and the run of zero bits above them, plus one, is the candidate register value.
// Cardinality uses the register-histogram estimator of Redis 7.0 (Ertl, "New cardinality
// estimation algorithms for HyperLogLog sketches").
//
// The functions are pure: they never modify the slices they are given. Callers check that
// a key holds a string before calling; the functions check that the string is a
// HyperLogLog and return ErrWrongType or ErrCorrupted with Redis's texts otherwise.
package hll

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
)

// Layout constants of Redis's HyperLogLog (hyperloglog.c).
const (
	precision    = 14                                    // HLL_P: bits of the hash that pick the register
	Registers    = 1 << precision                        // HLL_REGISTERS
	registerMask = Registers - 1                         // HLL_P_MASK
	hashBits     = 64 - precision                        // HLL_Q: bits left for the zero-run count
	registerBits = 6                                     // HLL_BITS
	registerMax  = 1<<registerBits - 1                   // HLL_REGISTER_MAX
	HeaderSize   = 16                                    // HLL_HDR_SIZE
	DenseSize    = HeaderSize + Registers*registerBits/8 // HLL_DENSE_SIZE: 12304 bytes
	alphaInf     = 0.721347520444481703680               // HLL_ALPHA_INF: 1/(2 ln 2)

	encodingDense  = 0
	encodingSparse = 1

	sparseValMaxValue = 32
	sparseValMaxLen   = 4
	sparseZeroMaxLen  = 64
	sparseXZeroMaxLen = 16384

	hashSeed = 0xadc83b19

	// DefaultSparseMaxBytes is hll-sparse-max-bytes' default.
	DefaultSparseMaxBytes = 3000
)

// Errors with Redis's reply texts.
var (
	// ErrWrongType is returned for a string that is not a HyperLogLog.
	ErrWrongType = errors.New("WRONGTYPE Key is not a valid HyperLogLog string value.")
	// ErrCorrupted is returned for a HyperLogLog whose sparse opcodes do not describe
	// exactly 16384 registers.
	ErrCorrupted = errors.New("INVALIDOBJ Corrupted HLL object detected")
)

// New returns an empty HyperLogLog as PFADD creates it: sparse, a single XZERO opcode
// covering every register, cached cardinality 0 and valid.
func New() []byte {
	h := make([]byte, HeaderSize+2, HeaderSize+64)
	copy(h, "HYLL")
	h[4] = encodingSparse
	putXZero(h[HeaderSize:], Registers)
	return h
}

// Validate reports whether val is a HyperLogLog string as isHLLObjectOrReply judges it:
// long enough for the header, the magic, a known encoding, and the exact size when dense.
// It does not walk the sparse opcodes; corruption there shows up as ErrCorrupted later.
func Validate(val []byte) error {
	if len(val) < HeaderSize || string(val[:4]) != "HYLL" || val[4] > encodingSparse {
		return ErrWrongType
	}
	if val[4] == encodingDense && len(val) != DenseSize {
		return ErrWrongType
	}
	return nil
}

// IsDense reports whether a valid HyperLogLog uses the dense encoding.
func IsDense(val []byte) bool { return len(val) > 4 && val[4] == encodingDense }

// cacheValid reports whether the cached cardinality may be used: Redis marks it stale by
// setting the top bit of its last byte (HLL_INVALIDATE_CACHE).
func cacheValid(h []byte) bool { return h[15]&0x80 == 0 }

func invalidateCache(h []byte) { h[15] |= 0x80 }

func cachedCard(h []byte) uint64 { return binary.LittleEndian.Uint64(h[8:16]) }

// MurmurHash64A is the 64-bit MurmurHash2 Redis uses for HyperLogLog, in its
// endian-neutral form (the 8-byte blocks are read little-endian).
func MurmurHash64A(key []byte, seed uint32) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := uint64(seed) ^ uint64(len(key))*m
	for len(key) >= 8 {
		k := binary.LittleEndian.Uint64(key)
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
		key = key[8:]
	}
	if len(key) > 0 {
		for i := len(key) - 1; i >= 0; i-- {
			h ^= uint64(key[i]) << (8 * i)
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// patternLen returns the register an element maps to and the value it proposes for it:
// the number of zero bits above the index bits before the first one, plus one
// (hllPatLen). A sentinel bit at position Q bounds the result to Q+1 = 51.
func patternLen(elem []byte) (index int, count uint8) {
	hash := MurmurHash64A(elem, hashSeed)
	index = int(hash & registerMask)
	hash >>= precision
	hash |= 1 << hashBits
	return index, uint8(bits.TrailingZeros64(hash) + 1)
}

// denseGet reads register i of the dense register array regs. The last register's upper
// byte lies past the array, where Redis reads the sds terminator, a zero.
func denseGet(regs []byte, i int) uint8 {
	byteIdx := i * registerBits / 8
	shift := uint(i*registerBits) & 7
	v := uint(regs[byteIdx]) >> shift
	if byteIdx+1 < len(regs) {
		v |= uint(regs[byteIdx+1]) << (8 - shift)
	}
	return uint8(v & registerMax)
}

// denseSetRaw writes register i unconditionally.
func denseSetRaw(regs []byte, i int, val uint8) {
	byteIdx := i * registerBits / 8
	shift := uint(i*registerBits) & 7
	v := uint(val)
	regs[byteIdx] &^= byte(registerMax << shift)
	regs[byteIdx] |= byte(v << shift)
	if byteIdx+1 < len(regs) {
		regs[byteIdx+1] &^= byte(registerMax >> (8 - shift))
		regs[byteIdx+1] |= byte(v >> (8 - shift))
	}
}

// denseSet raises register i to val if val is larger (hllDenseSet).
func denseSet(regs []byte, i int, val uint8) bool {
	if val > denseGet(regs, i) {
		denseSetRaw(regs, i, val)
		return true
	}
	return false
}

// Add implements PFADD on the key's current value val (nil when the key does not exist).
// It returns the value to store and whether PFADD replies 1: the key was created or a
// register changed. When nothing changed newVal is val itself. sparseMax is
// hll-sparse-max-bytes. On ErrCorrupted the caller stores nothing, where Redis would keep
// whatever registers it set before reaching the corrupt opcode.
func Add(val []byte, elems [][]byte, sparseMax int) (newVal []byte, changed bool, err error) {
	var h []byte
	owned := false
	if val == nil {
		h, owned, changed = New(), true, true
	} else {
		if err := Validate(val); err != nil {
			return nil, false, err
		}
		h = val
	}
	for _, e := range elems {
		index, count := patternLen(e)
		if h[4] == encodingDense {
			if count <= denseGet(h[HeaderSize:], index) {
				continue
			}
			if !owned {
				h, owned = clone(h), true
			}
			denseSetRaw(h[HeaderSize:], index, count)
			changed = true
			continue
		}
		if !owned {
			// Sparse values are small; copying up front keeps sparseSet simple.
			h, owned = clone(h), true
		}
		var set bool
		h, set, err = sparseSet(h, index, count, sparseMax)
		if err != nil {
			return nil, false, err
		}
		changed = changed || set
	}
	if !changed {
		return val, false, nil
	}
	invalidateCache(h)
	return h, true, nil
}

func clone(b []byte) []byte {
	c := make([]byte, len(b), len(b)+8)
	copy(c, b)
	return c
}

// Count implements PFCOUNT over the values of the named keys, in argument order, with nil
// for a key that does not exist. With one key it returns the cached cardinality when it is
// valid, else computes it and returns in cacheUpdates[0] the value with the cache
// refreshed, which PFCOUNT stores and propagates although it is a read command. With
// several keys it estimates the cardinality of their union and updates nothing. Entries of
// cacheUpdates are nil where nothing changed.
func Count(vals [][]byte) (card uint64, cacheUpdates [][]byte, err error) {
	cacheUpdates = make([][]byte, len(vals))
	if len(vals) == 1 {
		val := vals[0]
		if val == nil {
			return 0, cacheUpdates, nil
		}
		if err := Validate(val); err != nil {
			return 0, nil, err
		}
		if cacheValid(val) {
			return cachedCard(val), cacheUpdates, nil
		}
		var histo [64]int
		if val[4] == encodingDense {
			denseHisto(val[HeaderSize:], &histo)
		} else if !sparseHisto(val[HeaderSize:], &histo) {
			return 0, nil, ErrCorrupted
		}
		card = estimate(&histo)
		updated := clone(val)
		binary.LittleEndian.PutUint64(updated[8:16], card)
		cacheUpdates[0] = updated
		return card, cacheUpdates, nil
	}
	var max [Registers]uint8
	for _, val := range vals {
		if val == nil {
			continue
		}
		if err := Validate(val); err != nil {
			return 0, nil, err
		}
		if err := mergeInto(&max, val); err != nil {
			return 0, nil, err
		}
	}
	var histo [64]int
	for _, r := range max {
		histo[r]++
	}
	return estimate(&histo), cacheUpdates, nil
}

// Merge implements PFMERGE: dst is the destination key's value (nil when missing), srcs
// the source keys' values (nil for missing keys). As in Redis the destination takes part
// in the union. The result is dense if any input was dense, else sparse unless it outgrows
// sparseMax; its cached cardinality is marked stale.
func Merge(dst []byte, srcs [][]byte, sparseMax int) ([]byte, error) {
	var max [Registers]uint8
	useDense := false
	for _, val := range append([][]byte{dst}, srcs...) {
		if val == nil {
			continue
		}
		if err := Validate(val); err != nil {
			return nil, err
		}
		if val[4] == encodingDense {
			useDense = true
		}
		if err := mergeInto(&max, val); err != nil {
			return nil, err
		}
	}
	var h []byte
	if dst == nil {
		h = New()
	} else {
		h = clone(dst)
	}
	if useDense && h[4] == encodingSparse {
		var err error
		if h, err = sparseToDense(h); err != nil {
			return nil, err
		}
	}
	for i, v := range max {
		if v == 0 {
			continue
		}
		if h[4] == encodingDense {
			denseSet(h[HeaderSize:], i, v)
			continue
		}
		// Redis ignores a failure here: the sources, the destination included, were
		// already walked successfully by mergeInto.
		if nh, _, err := sparseSet(h, i, v, sparseMax); err == nil {
			h = nh
		}
	}
	invalidateCache(h)
	return h, nil
}

// mergeInto raises max[i] to the value of register i of the HyperLogLog val (hllMerge).
func mergeInto(max *[Registers]uint8, val []byte) error {
	regs := val[HeaderSize:]
	if val[4] == encodingDense {
		for i := range max {
			if r := denseGet(regs, i); r > max[i] {
				max[i] = r
			}
		}
		return nil
	}
	idx := 0
	for p := 0; p < len(regs); {
		op := regs[p]
		switch {
		case isZero(op):
			idx += zeroLen(op)
			p++
		case isXZero(op):
			idx += xzeroLen(regs, p)
			p += 2
		default:
			n, v := valLen(op), valValue(op)
			if idx+n > Registers {
				return ErrCorrupted
			}
			for ; n > 0; n-- {
				if v > max[idx] {
					max[idx] = v
				}
				idx++
			}
			p++
		}
	}
	if idx != Registers {
		return ErrCorrupted
	}
	return nil
}

func denseHisto(regs []byte, histo *[64]int) {
	for i := 0; i < Registers; i++ {
		histo[denseGet(regs, i)]++
	}
}

// sparseHisto counts registers per value from sparse opcodes and reports whether they
// cover exactly 16384 registers (hllSparseRegHisto).
func sparseHisto(ops []byte, histo *[64]int) bool {
	idx := 0
	for p := 0; p < len(ops); {
		op := ops[p]
		switch {
		case isZero(op):
			n := zeroLen(op)
			idx += n
			histo[0] += n
			p++
		case isXZero(op):
			n := xzeroLen(ops, p)
			idx += n
			histo[0] += n
			p += 2
		default:
			n := valLen(op)
			idx += n
			histo[valValue(op)] += n
			p++
		}
	}
	return idx == Registers
}

// estimate turns a register histogram into a cardinality (hllCount, Redis 7.0). The
// float64(...) conversions keep each product rounded on its own, as C evaluates it,
// instead of letting the compiler fuse a multiply-add.
func estimate(histo *[64]int) uint64 {
	m := float64(Registers)
	z := m * tau((m-float64(histo[hashBits+1]))/m)
	for j := hashBits; j >= 1; j-- {
		z += float64(histo[j])
		z *= 0.5
	}
	z += float64(m * sigma(float64(histo[0])/m))
	return uint64(math.Round(float64(alphaInf*m) * m / z))
}

// sigma is the series σ(x) of Ertl's estimator for the share of zero registers.
func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y := 1.0
	z := x
	for {
		x *= x
		prev := z
		z += float64(x * y)
		y += y
		if z == prev {
			return z
		}
	}
}

// tau is the series τ(x) of Ertl's estimator for the share of saturated registers.
func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y := 1.0
	z := 1 - x
	for {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		d := 1 - x
		z -= float64(float64(d*d) * y)
		if z == prev {
			return z / 3
		}
	}
}
