package script

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// lrand48 is Redis's redisLrand48 (rand.c): the 48-bit linear congruential generator of
// drand48, so math.random gives the same sequence for a seed on every platform.
type lrand48 struct{ x uint64 }

const (
	lrandA    = 0x5DEECE66D
	lrandC    = 0xB
	lrandMask = 1<<48 - 1
	// lrandMax is REDIS_LRAND48_MAX (INT32_MAX).
	lrandMax = math.MaxInt32
	// lrandInit is the generator's state before any seed: X2 X1 X0 of rand.c.
	lrandInit = 0x1234ABCD330E
)

// seed is redisSrand48: the high 32 bits of the state from the seed, the low 16 from
// the constant 0x330E.
func (r *lrand48) seed(s int32) { r.x = uint64(uint32(s))<<16 | 0x330E }

func (r *lrand48) next() int32 {
	r.x = (lrandA*r.x + lrandC) & lrandMask
	return int32(r.x >> 17)
}

// mathRandom is Redis's math.random: Lua 5.1's implementation over redisLrand48.
func (v *vm) mathRandom(L *lua.LState) int {
	r := float64(v.rng.next()%lrandMax) / float64(lrandMax)
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(r))
	case 1:
		u := L.CheckInt(1)
		if u < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u)) + 1))
	case 2:
		l, u := L.CheckInt(1), L.CheckInt(2)
		if l > u {
			L.ArgError(2, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u-l+1)) + float64(l)))
	default:
		L.RaiseError("wrong number of arguments")
	}
	return 1
}

func (v *vm) mathRandomseed(L *lua.LState) int {
	v.rng.seed(int32(L.CheckInt(1)))
	return 0
}
