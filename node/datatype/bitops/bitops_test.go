package bitops

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

func argv(s string) [][]byte {
	if s == "" {
		return nil
	}
	var out [][]byte
	for _, f := range strings.Split(s, " ") {
		out = append(out, []byte(f))
	}
	return out
}

func TestParseOffset(t *testing.T) {
	cases := []struct {
		arg     string
		maxBulk int64
		want    uint64
		err     error
	}{
		{"0", 512 << 20, 0, nil},
		{"7", 512 << 20, 7, nil},
		{"4294967295", 512 << 20, 4294967295, nil},
		{"4294967296", 512 << 20, 0, ErrBitOffset},
		{"4294967296", 0, 4294967296, nil},
		{"-1", 512 << 20, 0, ErrBitOffset},
		{"01", 512 << 20, 0, ErrBitOffset},
		{"#1", 512 << 20, 0, ErrBitOffset}, // '#' only means something to BITFIELD
		{"", 512 << 20, 0, ErrBitOffset},
		{"1.0", 512 << 20, 0, ErrBitOffset},
	}
	for _, tc := range cases {
		got, err := ParseOffset([]byte(tc.arg), tc.maxBulk)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("ParseOffset(%q, %d) = %d, %v; want %d, %v", tc.arg, tc.maxBulk, got, err, tc.want, tc.err)
		}
	}
}

func TestSetBitGetBit(t *testing.T) {
	v, old, changed := SetBit(nil, 7, 1)
	if !bytes.Equal(v, []byte{0x01}) || old != 0 || !changed {
		t.Fatalf("SETBIT missing 7 1 = %x, %d, %v", v, old, changed)
	}
	v, old, changed = SetBit(v, 7, 1)
	if old != 1 || changed {
		t.Fatalf("setting a set bit: old=%d changed=%v", old, changed)
	}
	v, old, changed = SetBit(v, 17, 0)
	if !bytes.Equal(v, []byte{0x01, 0, 0}) || old != 0 || !changed {
		t.Fatalf("growing with a zero bit = %x, %d, %v", v, old, changed)
	}
	if GetBit(v, 7) != 1 || GetBit(v, 6) != 0 || GetBit(v, 1000) != 0 {
		t.Fatal("GetBit")
	}
	// Growing within capacity must zero the new bytes even if the backing array held data.
	buf := []byte{0xff, 0xff, 0xff}
	v, _, _ = SetBit(buf[:1], 16, 0)
	if !bytes.Equal(v, []byte{0xff, 0, 0}) {
		t.Fatalf("grow within capacity = %x", v)
	}
}

func TestCountAndPosTable(t *testing.T) {
	foobar := []byte("foobar")
	cases := []struct {
		fn   string
		val  []byte
		args string
		want int64
		err  error
	}{
		{"count", foobar, "", 26, nil},
		{"count", foobar, "0 0", 4, nil},
		{"count", foobar, "1 1", 6, nil},
		{"count", foobar, "1 1 BYTE", 6, nil},
		{"count", foobar, "5 30 BIT", 17, nil},
		{"count", foobar, "-1 -2", 0, nil},
		{"count", foobar, "-1 -2 nonsense", 0, nil}, // empty range wins over a bad unit
		{"count", foobar, "0 -1 nonsense", 0, ErrSyntax},
		{"count", foobar, "0", 0, ErrSyntax},
		{"count", foobar, "a 1", 0, ErrNotInteger},
		{"count", foobar, "0 1 BIT x", 0, ErrSyntax},
		{"count", []byte{}, "0 -1", 0, nil},
		{"pos", []byte{0xff, 0xf0, 0x00}, "", 12, nil},
		{"pos", []byte{0xff, 0xff, 0xff}, "", 24, nil},     // past the end reads as 0
		{"pos", []byte{0xff, 0xff, 0xff}, "0 -1", -1, nil}, // explicit end: none in range
		{"pos", []byte{0xff, 0xff, 0xff}, "0", 24, nil},
		{"pos", []byte{0x00, 0xff, 0xf0}, "2 -1 BYTE", 20, nil},
		{"pos", []byte{0x00, 0xff, 0xf0}, "7 15 BIT", 7, nil},
		{"pos", []byte{0x00, 0xff, 0xf0}, "8 15 BIT", -1, nil},
		{"pos", []byte{0x00, 0xff, 0xf0}, "7 x BIT", 0, ErrNotInteger},
		{"pos", []byte{0x00, 0xff, 0xf0}, "7 x BITS", 0, ErrSyntax}, // unit is read before end
		{"pos", []byte{}, "", -1, nil},
	}
	for _, tc := range cases {
		var got int64
		var err error
		bit := 0
		if tc.fn == "count" {
			got, err = Count(tc.val, argv(tc.args))
		} else {
			got, err = Pos(tc.val, bit, argv(tc.args))
		}
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%s %x %q = %d, %v; want %d, %v", tc.fn, tc.val, tc.args, got, err, tc.want, tc.err)
		}
	}
}

// naiveRange resolves a range the way the command documentation states it, one bit at a
// time: negative indexes count from the end, the range is clamped to the string, and a
// BYTE range covers whole bytes.
func naiveRange(n int, start, end int64, isBit bool) (lo, hi int64) {
	total := int64(n)
	if isBit {
		total *= 8
	}
	if start < 0 {
		start = max(start+total, 0)
	}
	if end < 0 {
		end = max(end+total, 0)
	}
	end = min(end, total-1)
	if !isBit {
		return start * 8, end*8 + 7
	}
	return start, end
}

// TestCountPosAgainstBitModel checks BITCOUNT and BITPOS with explicit ranges against a
// bit-by-bit scan.
func TestCountPosAgainstBitModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		val := make([]byte, rng.IntN(6))
		for j := range val {
			val[j] = []byte{0, 0xff, byte(rng.Uint32())}[rng.IntN(3)]
		}
		start := int64(rng.IntN(100) - 50)
		end := int64(rng.IntN(100) - 50)
		isBit := rng.IntN(2) == 0
		unit := "BYTE"
		if isBit {
			unit = "BIT"
		}
		args := argv(fmt.Sprintf("%d %d %s", start, end, unit))
		lo, hi := naiveRange(len(val), start, end, isBit)
		if start < 0 && end < 0 && start > end {
			lo, hi = 0, -1
		}
		var ones int64
		for b := lo; b <= hi; b++ {
			ones += int64(GetBit(val, uint64(b)))
		}
		if got, err := Count(val, args); err != nil || got != ones {
			t.Fatalf("BITCOUNT %x %q = %d, %v; want %d", val, args, got, err, ones)
		}
		lo, hi = naiveRange(len(val), start, end, isBit)
		for bit := 0; bit <= 1; bit++ {
			want := int64(-1)
			for b := lo; b <= hi; b++ {
				if GetBit(val, uint64(b)) == bit {
					want = b
					break
				}
			}
			if got, err := Pos(val, bit, args); err != nil || got != want {
				t.Fatalf("BITPOS %x %d %q = %d, %v; want %d", val, bit, args, got, err, want)
			}
		}
	}
}

func TestBitop(t *testing.T) {
	cases := []struct {
		op   string
		srcs []string
		want string
	}{
		{"and", []string{"\xff\x0f", "\x0f"}, "\x0f\x00"},
		{"OR", []string{"\xf0", "\x0f\x01"}, "\xff\x01"},
		{"Xor", []string{"\xff", "\x0f", "\x01"}, "\xf1"},
		{"not", []string{"\x0f"}, "\xf0"},
		{"and", []string{"", ""}, ""},
	}
	for _, tc := range cases {
		op, err := ParseBitop([]byte(tc.op), len(tc.srcs))
		if err != nil {
			t.Fatal(err)
		}
		var srcs [][]byte
		for _, s := range tc.srcs {
			srcs = append(srcs, []byte(s))
		}
		if got := Bitop(op, srcs); string(got) != tc.want {
			t.Errorf("BITOP %s %q = %x, want %x", tc.op, tc.srcs, got, tc.want)
		}
	}
	if _, err := ParseBitop([]byte("not"), 2); !errors.Is(err, ErrBitopNot) {
		t.Errorf("NOT with two keys: %v", err)
	}
	if _, err := ParseBitop([]byte("nand"), 2); !errors.Is(err, ErrSyntax) {
		t.Errorf("unknown op: %v", err)
	}
}

func TestParseBitfieldErrors(t *testing.T) {
	cases := []struct {
		args     string
		readOnly bool
		err      error
	}{
		{"GET u8 0", false, nil},
		{"get i64 #3 set u63 0 1 incrby i1 7 -1 overflow fail", false, nil},
		{"GET u64 0", false, ErrBitfieldType},
		{"GET i65 0", false, ErrBitfieldType},
		{"GET i0 0", false, ErrBitfieldType},
		{"GET x8 0", false, ErrBitfieldType},
		{"GET i08 0", false, ErrBitfieldType},
		{"GET u8 -1", false, ErrBitOffset},
		{"GET u8 #x", false, ErrBitOffset},
		{"GET u8 4294967296", false, ErrBitOffset},
		{"GET u8 #536870912", false, ErrBitOffset},
		{"SET u8 0 x", false, ErrNotInteger},
		{"SET u8 0", false, ErrSyntax},
		{"GET u8", false, ErrSyntax},
		{"OVERFLOW", false, ErrSyntax},
		{"OVERFLOW up", false, ErrOverflowType},
		{"DEL u8 0", false, ErrSyntax},
		{"GET u8 0 SET u8 0 1", true, ErrBitfieldRO},
		{"SET u8 0 1 GET u64 0", true, ErrBitfieldType}, // every op is parsed first
	}
	for _, tc := range cases {
		_, err := ParseBitfield(argv(tc.args), tc.readOnly, 512<<20)
		if !errors.Is(err, tc.err) {
			t.Errorf("ParseBitfield(%q, ro=%v) = %v, want %v", tc.args, tc.readOnly, err, tc.err)
		}
	}
}

// TestBitfieldAgainstBigIntModel checks SET, INCRBY and GET with every overflow policy
// against arbitrary-precision arithmetic.
func TestBitfieldAgainstBigIntModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		signed := rng.IntN(2) == 0
		width := 1 + rng.IntN(64)
		if !signed && width == 64 {
			width = 63
		}
		lo, hi := new(big.Int), new(big.Int)
		if signed {
			lo.Lsh(big.NewInt(1), uint(width-1)).Neg(lo)
			hi.Lsh(big.NewInt(1), uint(width-1)).Sub(hi, big.NewInt(1))
		} else {
			hi.Lsh(big.NewInt(1), uint(width)).Sub(hi, big.NewInt(1))
		}
		span := new(big.Int).Sub(hi, lo)
		span.Add(span, big.NewInt(1))
		// A current value in range, and an operand that may overflow in either direction.
		cur := randBelow(rng, span)
		cur.Add(cur, lo)
		operand := rng.Int64() >> uint(rng.IntN(64))
		if rng.IntN(2) == 0 {
			operand = -operand
		}
		offset := uint64(rng.IntN(20))
		ow := Overflow(rng.IntN(3))
		kind := []string{"SET", "INCRBY"}[rng.IntN(2)]
		typ := fmt.Sprintf("u%d", width)
		if signed {
			typ = fmt.Sprintf("i%d", width)
		}
		owName := []string{"WRAP", "SAT", "FAIL"}[ow]
		setup, err := ParseBitfield(argv(fmt.Sprintf("SET %s %d %s", typ, offset, cur)), false, 0)
		if err != nil {
			t.Fatal(err)
		}
		val, _, _ := setup.Exec(nil)
		bf, err := ParseBitfield(argv(fmt.Sprintf("OVERFLOW %s %s %s %d %d GET %s %d", owName, kind, typ, offset, operand, typ, offset)), false, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, res, _ := bf.Exec(val)

		target := new(big.Int).SetInt64(operand)
		if !signed && kind == "SET" && operand < 0 {
			// Redis takes the SET value as unsigned: a negative one is a huge number.
			target.Add(target, new(big.Int).Lsh(big.NewInt(1), 64))
		}
		if kind == "INCRBY" {
			target.Add(target, cur)
		}
		stored, reply, isNil := new(big.Int).Set(target), new(big.Int).Set(target), false
		if target.Cmp(lo) < 0 || target.Cmp(hi) > 0 {
			switch ow {
			case Wrap:
				m := new(big.Int).Sub(target, lo)
				m.Mod(m, span)
				stored.Add(m, lo)
			case Sat:
				// Redis's check computes max-value in 64 bits; for a SET far below the
				// minimum that wraps and the value saturates to the maximum instead
				// (checkSignedBitfieldOverflow; redis-server 7.0 does store the maximum).
				headroom := new(big.Int).Sub(hi, target)
				quirk := signed && kind == "SET" && width < 64 && !headroom.IsInt64()
				if target.Cmp(lo) < 0 && !quirk {
					stored.Set(lo)
				} else {
					stored.Set(hi)
				}
			case Fail:
				stored.Set(cur)
				isNil = true
			}
		}
		reply.Set(stored)
		if kind == "SET" {
			reply.Set(cur)
		}
		what := fmt.Sprintf("%s %s at %d: cur=%s operand=%d overflow=%s", kind, typ, offset, cur, operand, owName)
		if res[0].Nil != isNil || (!isNil && res[0].Value != reply.Int64()) {
			t.Fatalf("%s: reply %+v, want %s (nil=%v)", what, res[0], reply, isNil)
		}
		if res[1].Value != stored.Int64() {
			t.Fatalf("%s: stored %d, want %s", what, res[1].Value, stored)
		}
	}
}

// randBelow returns a uniformly random integer in [0, n) for n <= 2^64.
func randBelow(rng *rand.Rand, n *big.Int) *big.Int {
	if n.IsUint64() {
		return new(big.Int).SetUint64(rng.Uint64N(n.Uint64()))
	}
	return new(big.Int).SetUint64(rng.Uint64()) // n == 2^64
}

func TestBitfieldGrowsKeyEvenWhenFailing(t *testing.T) {
	bf, err := ParseBitfield(argv("OVERFLOW FAIL INCRBY u2 100 7"), false, 0)
	if err != nil {
		t.Fatal(err)
	}
	val, res, changes := bf.Exec(nil)
	if len(val) != 13 || !res[0].Nil || changes != 0 {
		t.Fatalf("val=%x res=%+v changes=%d; want 13 zero bytes, nil, 0 changes", val, res, changes)
	}
	ro, err := ParseBitfield(argv("GET u8 0"), true, 0)
	if err != nil {
		t.Fatal(err)
	}
	if val, res, _ := ro.Exec(nil); val != nil || res[0].Value != 0 {
		t.Fatalf("read-only on a missing key: %x %+v", val, res)
	}
}
