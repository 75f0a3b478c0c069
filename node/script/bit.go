package script

import (
	"math"
	"math/bits"

	lua "github.com/yuin/gopher-lua"
)

// newBit is LuaBitOp 1.0 (the bit library Redis bundles): 32-bit operations whose results
// are signed 32-bit numbers.
func newBit(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	fold := func(op func(a, b uint32) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			r := bitArg(L, 1)
			for i := 2; i <= L.GetTop(); i++ {
				r = op(r, bitArg(L, i))
			}
			L.Push(bitResult(r))
			return 1
		}
	}
	shift := func(op func(x uint32, n uint) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			x := bitArg(L, 1)
			n := uint(bitArg(L, 2) & 31)
			L.Push(bitResult(op(x, n)))
			return 1
		}
	}
	for name, fn := range map[string]lua.LGFunction{
		"tobit":  func(L *lua.LState) int { L.Push(bitResult(bitArg(L, 1))); return 1 },
		"bnot":   func(L *lua.LState) int { L.Push(bitResult(^bitArg(L, 1))); return 1 },
		"band":   fold(func(a, b uint32) uint32 { return a & b }),
		"bor":    fold(func(a, b uint32) uint32 { return a | b }),
		"bxor":   fold(func(a, b uint32) uint32 { return a ^ b }),
		"lshift": shift(func(x uint32, n uint) uint32 { return x << n }),
		"rshift": shift(func(x uint32, n uint) uint32 { return x >> n }),
		"arshift": shift(func(x uint32, n uint) uint32 {
			return uint32(int32(x) >> n)
		}),
		"rol":   shift(func(x uint32, n uint) uint32 { return bits.RotateLeft32(x, int(n)) }),
		"ror":   shift(func(x uint32, n uint) uint32 { return bits.RotateLeft32(x, -int(n)) }),
		"bswap": func(L *lua.LState) int { L.Push(bitResult(bits.ReverseBytes32(bitArg(L, 1)))); return 1 },
		"tohex": bitToHex,
	} {
		t.RawSetString(name, L.NewFunction(fn))
	}
	return t
}

// bitArg converts argument i as LuaBitOp's barg: the number rounded to an integer (ties
// to even, as adding 2^52+2^51 does) and taken modulo 2^32.
func bitArg(L *lua.LState, i int) uint32 {
	var f float64
	switch a := L.Get(i).(type) {
	case lua.LNumber:
		f = float64(a)
	case lua.LString:
		n, err := parseLuaNumber(string(a))
		if err != nil {
			L.TypeError(i, lua.LTNumber)
		}
		f = n
	default:
		L.TypeError(i, lua.LTNumber)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	f = math.RoundToEven(f)
	if math.Abs(f) < 1<<63 {
		return uint32(int64(f))
	}
	m := math.Mod(f, 1<<32)
	if m < 0 {
		m += 1 << 32
	}
	return uint32(m)
}

func bitResult(x uint32) lua.LNumber { return lua.LNumber(int32(x)) }

// bitToHex is bit.tohex(x [,n]): n hex digits (8 by default), upper case for negative n.
func bitToHex(L *lua.LState) int {
	x := bitArg(L, 1)
	n := int32(8)
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		n = int32(bitArg(L, 2))
	}
	digits := "0123456789abcdef"
	if n < 0 {
		n = -n
		digits = "0123456789ABCDEF"
	}
	if n > 8 {
		n = 8
	}
	buf := make([]byte, n)
	for i := int(n) - 1; i >= 0; i-- {
		buf[i] = digits[x&15]
		x >>= 4
	}
	L.Push(lua.LString(buf))
	return 1
}
