package bitops

import (
	"bytes"
	"testing"
)

// fuzzArgs splits fuzz input into arguments at spaces, so the fuzzer can build commands.
func fuzzArgs(s []byte) [][]byte {
	if len(s) == 0 {
		return nil
	}
	return bytes.Split(s, []byte(" "))
}

// fuzzMaxBulk keeps offsets, and so the values Exec grows, small.
const fuzzMaxBulk = 1 << 12

func FuzzParseBitfield(f *testing.F) {
	for _, s := range []string{
		"GET u8 0", "get i64 #3 set u63 0 1 incrby i1 7 -1 overflow fail",
		"OVERFLOW SAT INCRBY i8 #2 -300 GET u1 7", "SET u64 0 1", "GET i8\x00x 0", "OVERFLOW",
		"SET i60 14 -9024325988143655667",
	} {
		f.Add([]byte(s), []byte("\xff\x00\x55"), false)
	}
	f.Fuzz(func(t *testing.T, args, val []byte, readOnly bool) {
		bf, err := ParseBitfield(fuzzArgs(args), readOnly, fuzzMaxBulk)
		if err != nil {
			return
		}
		if readOnly && bf.Writes {
			t.Fatal("BITFIELD_RO accepted a write")
		}
		orig := append([]byte(nil), val...)
		nv, res, changes := bf.Exec(append([]byte(nil), val...))
		if len(res) != len(bf.Ops) || changes < 0 {
			t.Fatalf("%d results for %d ops, %d changes", len(res), len(bf.Ops), changes)
		}
		if !bf.Writes && !bytes.Equal(nv, orig) {
			t.Fatal("read-only BITFIELD changed the value")
		}
		for i, op := range bf.Ops {
			if op.Op == FieldGet || res[i].Nil {
				continue
			}
			if op.Signed && op.Bits < 64 {
				lim := int64(1) << (op.Bits - 1)
				if op.Op == FieldIncrBy && (res[i].Value < -lim || res[i].Value >= lim) {
					t.Fatalf("INCRBY i%d replied %d", op.Bits, res[i].Value)
				}
			} else if !op.Signed && op.Op == FieldIncrBy && (res[i].Value < 0 || res[i].Value >= int64(1)<<op.Bits) {
				t.Fatalf("INCRBY u%d replied %d", op.Bits, res[i].Value)
			}
		}
	})
}

func FuzzCountPos(f *testing.F) {
	for _, s := range []string{"", "0 -1", "1 1 BYTE", "5 30 BIT", "-1 -2 x", "7 x BITS", "0", "0 1 BIT x"} {
		f.Add([]byte("foobar"), []byte(s), byte(1))
	}
	f.Fuzz(func(t *testing.T, val, args []byte, bit byte) {
		a := fuzzArgs(args)
		if n, err := Count(val, a); err == nil && (n < 0 || n > int64(len(val))*8) {
			t.Fatalf("BITCOUNT = %d for %d bytes", n, len(val))
		}
		b := int(bit & 1)
		if p, err := Pos(val, b, a); err == nil {
			if p < -1 || p > int64(len(val))*8 {
				t.Fatalf("BITPOS = %d for %d bytes", p, len(val))
			}
			if p >= 0 && p < int64(len(val))*8 && GetBit(val, uint64(p)) != b {
				t.Fatalf("BITPOS %d = %d but that bit is not %d", b, p, b)
			}
		}
	})
}

func FuzzParseOffset(f *testing.F) {
	for _, s := range []string{"0", "4294967295", "-1", "#3", "01", "", "18446744073709551616"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, arg []byte) {
		off, err := ParseOffset(arg, fuzzMaxBulk)
		if err == nil && off>>3 >= fuzzMaxBulk {
			t.Fatalf("offset %d accepted beyond the limit", off)
		}
		if _, err := ParseBitValue(arg); err == nil && string(arg) != "0" && string(arg) != "1" {
			t.Fatalf("bit value %q accepted", arg)
		}
	})
}
