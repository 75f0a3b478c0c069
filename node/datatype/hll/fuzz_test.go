package hll

import (
	"testing"
)

// wellFormed reports whether val is a HyperLogLog whose opcodes, if sparse, are complete
// and cover exactly 16384 registers.
func wellFormed(val []byte) bool {
	if Validate(val) != nil {
		return false
	}
	if IsDense(val) {
		return true
	}
	ops := val[HeaderSize:]
	idx := 0
	for p := 0; p < len(ops); {
		switch op := ops[p]; {
		case isZero(op):
			idx += zeroLen(op)
			p++
		case isXZero(op):
			if p+1 >= len(ops) {
				return false
			}
			idx += xzeroLen(ops, p)
			p += 2
		default:
			idx += valLen(op)
			p++
		}
	}
	return idx == Registers
}

// FuzzValue feeds arbitrary strings to the HyperLogLog value parser through every entry
// point. Nothing may panic; a well-formed value must be accepted everywhere, keep its
// registers through PFADD (only raising the target one) and through PFMERGE.
func FuzzValue(f *testing.F) {
	abc, _, _ := Add(nil, [][]byte{[]byte("a"), []byte("b"), []byte("c")}, DefaultSparseMaxBytes)
	f.Add(New(), []byte("x"))
	f.Add(abc, []byte("a"))
	f.Add([]byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f"), []byte("y"))
	f.Add([]byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x40"), []byte("y"))
	f.Add([]byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xfd\x83"), []byte("z"))
	f.Add([]byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x80\x84\x7f\xfb"), []byte("z"))
	f.Add([]byte("HYLL\x00"), []byte(""))
	f.Fuzz(func(t *testing.T, val []byte, elem []byte) {
		orig := append([]byte(nil), val...)
		_, _, countErr := Count([][]byte{val})
		_, _, unionErr := Count([][]byte{val, New()})
		added, _, addErr := Add(val, [][]byte{elem}, 40)
		merged, mergeErr := Merge(val, [][]byte{abc}, 40)
		if string(orig) != string(val) {
			t.Fatal("input modified")
		}
		if !wellFormed(val) {
			return
		}
		if countErr != nil || unionErr != nil || addErr != nil || mergeErr != nil {
			t.Fatalf("well-formed value rejected: %v %v %v %v", countErr, unionErr, addErr, mergeErr)
		}
		before := registersOf(t, val)
		after := registersOf(t, added)
		idx, cnt := patternLen(elem)
		if cnt > before[idx] {
			before[idx] = cnt
		}
		if after != before {
			t.Fatal("PFADD changed registers other than the element's")
		}
		m := registersOf(t, merged)
		a := registersOf(t, abc)
		orig2 := registersOf(t, val)
		for i := range m {
			if m[i] != max(orig2[i], a[i]) {
				t.Fatalf("PFMERGE register %d = %d, want max(%d, %d)", i, m[i], orig2[i], a[i])
			}
		}
	})
}
