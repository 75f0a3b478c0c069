package hll

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// registersOf decodes a valid HyperLogLog into its 16384 registers.
func registersOf(t testing.TB, h []byte) [Registers]uint8 {
	t.Helper()
	var regs [Registers]uint8
	if err := Validate(h); err != nil {
		t.Fatalf("invalid HLL: %v", err)
	}
	if err := mergeInto(&regs, h); err != nil {
		t.Fatalf("decode HLL: %v", err)
	}
	return regs
}

// checkCanonicalSparse verifies the invariants Redis's sparse writer keeps: opcodes
// cover exactly 16384 registers and no two adjacent VALs could have been merged.
func checkCanonicalSparse(t testing.TB, h []byte) {
	t.Helper()
	ops := h[HeaderSize:]
	idx := 0
	for p := 0; p < len(ops); {
		switch op := ops[p]; {
		case isZero(op):
			idx += zeroLen(op)
			p++
		case isXZero(op):
			if p+1 >= len(ops) {
				t.Fatalf("truncated XZERO at %d", p)
			}
			idx += xzeroLen(ops, p)
			p += 2
		default:
			idx += valLen(op)
			p++
		}
	}
	if idx != Registers {
		t.Fatalf("sparse opcodes cover %d registers", idx)
	}
}

func elem(i int) []byte { return []byte(fmt.Sprintf("element:%d", i)) }

func TestNewIsRedisEmptyHLL(t *testing.T) {
	want := append([]byte("HYLL\x01\x00\x00\x00"), make([]byte, 8)...)
	want = append(want, 0x7f, 0xff)
	if got := New(); !bytes.Equal(got, want) {
		t.Fatalf("New() = %x, want %x", got, want)
	}
}

// Bytes captured from redis-server 7.0.15: PFADD h2 a b c, then PFCOUNT h2.
func TestAddMatchesCapturedRedisBytes(t *testing.T) {
	ops := []byte{0x60, 0xf3, 0x80, 0x50, 0xb1, 0x84, 0x4b, 0xfb, 0x80, 0x42, 0x5a}
	want := append([]byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80"), ops...)
	got, changed, err := Add(nil, [][]byte{[]byte("a"), []byte("b"), []byte("c")}, DefaultSparseMaxBytes)
	if err != nil || !changed {
		t.Fatalf("Add: changed=%v err=%v", changed, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("PFADD a b c:\n got %x\nwant %x", got, want)
	}
	card, updates, err := Count([][]byte{got})
	if err != nil || card != 3 {
		t.Fatalf("Count = %d, %v; want 3", card, err)
	}
	wantCached := append([]byte("HYLL\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00"), ops...)
	if !bytes.Equal(updates[0], wantCached) {
		t.Fatalf("cache update:\n got %x\nwant %x", updates[0], wantCached)
	}
	// With the cache valid, Count reads it and updates nothing.
	card, updates, err = Count([][]byte{wantCached})
	if err != nil || card != 3 || updates[0] != nil {
		t.Fatalf("cached Count = %d, %x, %v", card, updates[0], err)
	}
}

func TestMurmurHash64A(t *testing.T) {
	// Reference values from Austin Appleby's MurmurHash64A (C, little-endian) with Redis's
	// seed, for every tail length 0..7 and two full blocks.
	want := []uint64{
		0xd8dfea6585bc9732, 0xc5064924982a33a9, 0x41f41cd92bc3e7fd, 0x835c985c13304b3a,
		0x270e11c0772a74b7, 0x0e6e0cb83e3eb7a3, 0x59960027c4c33775, 0x559c262a7f7060f4,
		0x4f529b651cb08252, 0x1ec0e7008dc11df3, 0xfc02e73798aa83fd, 0xd4c4ad5ba30cf4e7,
		0xf3c9a89477e1aae9, 0x9bbd5df10295e1b0, 0xb53b149c485fac1e, 0x3fe8c8f51a1e3d6d,
		0x9f8565428eaa573d,
	}
	for n, w := range want {
		key := []byte("0123456789abcdef")[:n]
		if got := MurmurHash64A(key, hashSeed); got != w {
			t.Errorf("MurmurHash64A(%q) = %#016x, want %#016x", key, got, w)
		}
	}
}

func TestValidate(t *testing.T) {
	dense := make([]byte, DenseSize)
	copy(dense, "HYLL")
	cases := []struct {
		name string
		val  []byte
		want error
	}{
		{"empty sparse", New(), nil},
		{"dense", dense, nil},
		{"short", []byte("HYLL"), ErrWrongType},
		{"empty string", []byte{}, ErrWrongType},
		{"bad magic", append([]byte("HYLX\x01\x00\x00\x00"), make([]byte, 10)...), ErrWrongType},
		{"bad encoding", append([]byte("HYLL\x02\x00\x00\x00"), make([]byte, 10)...), ErrWrongType},
		{"raw encoding", append([]byte("HYLL\xff\x00\x00\x00"), make([]byte, 10)...), ErrWrongType},
		{"dense too short", dense[:DenseSize-1], ErrWrongType},
		{"dense too long", append(append([]byte{}, dense...), 0), ErrWrongType},
		{"header only sparse", []byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), nil},
	}
	for _, tc := range cases {
		if got := Validate(tc.val); !errors.Is(got, tc.want) {
			t.Errorf("%s: Validate = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCorruptedSparse(t *testing.T) {
	hdr := []byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80")
	cases := []struct {
		name string
		ops  []byte
	}{
		{"no opcodes", nil},
		{"too few registers", []byte{0x7f, 0xfe}},
		{"too many registers", []byte{0x7f, 0xff, 0x00}},
		{"val overflow", []byte{0x7f, 0xfd, 0x83}},
		{"truncated xzero", []byte{0x40}},
	}
	for _, tc := range cases {
		val := append(append([]byte{}, hdr...), tc.ops...)
		if _, _, err := Count([][]byte{val}); !errors.Is(err, ErrCorrupted) {
			t.Errorf("%s: Count err = %v, want ErrCorrupted", tc.name, err)
		}
		if _, _, err := Count([][]byte{val, nil}); !errors.Is(err, ErrCorrupted) {
			t.Errorf("%s: multi-key Count err = %v, want ErrCorrupted", tc.name, err)
		}
		if _, err := Merge(nil, [][]byte{val}, DefaultSparseMaxBytes); !errors.Is(err, ErrCorrupted) {
			t.Errorf("%s: Merge err = %v, want ErrCorrupted", tc.name, err)
		}
	}
}

// TestAddAgainstRegisterModel adds random elements to our encoding and to a plain
// register array and checks they agree after every batch, through sparse, the
// promotion, and dense; and that the cardinality equals the estimator applied to the
// model's registers and is within HyperLogLog's error bound of the truth.
func TestAddAgainstRegisterModel(t *testing.T) {
	for _, sparseMax := range []int{0, 200, DefaultSparseMaxBytes, 20000} {
		t.Run(fmt.Sprint("sparseMax=", sparseMax), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(sparseMax), 7))
			var model [Registers]uint8
			var h []byte
			distinct := map[string]bool{}
			for batch := 0; batch < 60; batch++ {
				n := 1 + rng.IntN(200)
				elems := make([][]byte, n)
				for i := range elems {
					elems[i] = elem(rng.IntN(20000))
					distinct[string(elems[i])] = true
				}
				before := h
				var snapshot []byte
				if before != nil {
					snapshot = append([]byte{}, before...)
				}
				wantChanged := h == nil
				for _, e := range elems {
					idx, cnt := patternLen(e)
					if cnt > model[idx] {
						model[idx] = cnt
						wantChanged = true
					}
				}
				nh, changed, err := Add(h, elems, sparseMax)
				if err != nil {
					t.Fatal(err)
				}
				if before != nil && !bytes.Equal(before, snapshot) {
					t.Fatal("Add modified its input")
				}
				if changed != wantChanged {
					t.Fatalf("batch %d: changed = %v, want %v", batch, changed, wantChanged)
				}
				h = nh
				if got := registersOf(t, h); got != model {
					t.Fatalf("batch %d: registers differ from model", batch)
				}
				if !IsDense(h) {
					checkCanonicalSparse(t, h)
					if len(h) > sparseMax && sparseMax >= HeaderSize+2 {
						t.Fatalf("sparse value of %d bytes exceeds %d", len(h), sparseMax)
					}
				}
			}
			var histo [64]int
			for _, r := range model {
				histo[r]++
			}
			card, _, err := Count([][]byte{h})
			if err != nil {
				t.Fatal(err)
			}
			if want := estimate(&histo); card != want {
				t.Fatalf("Count = %d, estimator on model = %d", card, want)
			}
			truth := float64(len(distinct))
			if math.Abs(float64(card)-truth)/truth > 0.05 {
				t.Fatalf("Count = %d for %v distinct elements", card, truth)
			}
		})
	}
}

// TestSparseSetLargeValuePromotes drives sparseSet with register values no element of a
// test can produce cheaply (above 32), which must promote to dense.
func TestSparseSetLargeValuePromotes(t *testing.T) {
	h, _, err := Add(nil, [][]byte{elem(1), elem(2)}, DefaultSparseMaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	want := registersOf(t, h)
	h, changed, err := sparseSet(append([]byte{}, h...), 100, 40, DefaultSparseMaxBytes)
	if err != nil || !changed || !IsDense(h) {
		t.Fatalf("sparseSet(40): changed=%v dense=%v err=%v", changed, IsDense(h), err)
	}
	want[100] = 40
	if got := registersOf(t, h); got != want {
		t.Fatal("registers differ after promotion")
	}
}

// TestSparseSetEveryShape checks sparseSet against the model for random register
// writes, which exercises every split (ZERO, XZERO, VAL at the start, middle and end of
// a run) and the merge step.
func TestSparseSetEveryShape(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		var model [Registers]uint8
		h := New()
		for i := 0; i < 60; i++ {
			// Cluster the writes so runs of equal adjacent values form.
			idx := rng.IntN(40)
			if rng.IntN(3) == 0 {
				idx = rng.IntN(Registers)
			}
			v := uint8(1 + rng.IntN(3))
			var changed bool
			var err error
			h, changed, err = sparseSet(h, idx, v, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if want := v > model[idx]; changed != want {
				t.Fatalf("round %d: set %d=%d changed=%v want %v", round, idx, v, changed, want)
			}
			if v > model[idx] {
				model[idx] = v
			}
			checkCanonicalSparse(t, h)
			if got := registersOf(t, h); got != model {
				t.Fatalf("round %d step %d: registers differ", round, i)
			}
		}
	}
}

func TestMergeAgainstRegisterModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 20; round++ {
		var model [Registers]uint8
		var vals [][]byte
		anyDense := false
		for k := 0; k < 1+rng.IntN(4); k++ {
			if rng.IntN(4) == 0 {
				vals = append(vals, nil)
				continue
			}
			n := rng.IntN(3000)
			elems := make([][]byte, n)
			for i := range elems {
				elems[i] = elem(rng.IntN(1 << 30))
			}
			h, _, err := Add(nil, elems, DefaultSparseMaxBytes)
			if err != nil {
				t.Fatal(err)
			}
			anyDense = anyDense || IsDense(h)
			regs := registersOf(t, h)
			for i, r := range regs {
				if r > model[i] {
					model[i] = r
				}
			}
			vals = append(vals, h)
		}
		merged, err := Merge(vals[0], vals[1:], DefaultSparseMaxBytes)
		if err != nil {
			t.Fatal(err)
		}
		if got := registersOf(t, merged); got != model {
			t.Fatalf("round %d: merged registers differ", round)
		}
		if anyDense && !IsDense(merged) {
			t.Fatalf("round %d: merge of a dense input is sparse", round)
		}
		if cacheValid(merged) {
			t.Fatalf("round %d: merge left the cache valid", round)
		}
		union, _, err := Count(append([][]byte{nil}, vals...))
		if err != nil {
			t.Fatal(err)
		}
		single, _, err := Count([][]byte{merged})
		if err != nil {
			t.Fatal(err)
		}
		if union != single {
			t.Fatalf("round %d: PFCOUNT of the union %d != PFCOUNT of the merge %d", round, union, single)
		}
	}
}

func TestCountEmptyAndMissing(t *testing.T) {
	for _, vals := range [][][]byte{{nil}, {New()}, {nil, nil}, {New(), nil, New()}} {
		card, _, err := Count(vals)
		if err != nil || card != 0 {
			t.Errorf("Count(%d values) = %d, %v; want 0", len(vals), card, err)
		}
	}
	// A stale cache is recomputed, not trusted.
	h := New()
	binary.LittleEndian.PutUint64(h[8:], 1<<63|12345)
	card, updates, err := Count([][]byte{h})
	if err != nil || card != 0 || updates[0] == nil || cachedCard(updates[0]) != 0 {
		t.Fatalf("stale cache: card=%d update=%x err=%v", card, updates[0], err)
	}
}

func TestAddNothingChangedReturnsSameValue(t *testing.T) {
	h, _, err := Add(nil, [][]byte{[]byte("x")}, DefaultSparseMaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	again, changed, err := Add(h, [][]byte{[]byte("x")}, DefaultSparseMaxBytes)
	if err != nil || changed || &again[0] != &h[0] {
		t.Fatalf("re-adding an element: changed=%v same=%v err=%v", changed, &again[0] == &h[0], err)
	}
}
