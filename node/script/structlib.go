package script

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// newStruct is the struct library Redis bundles (Roberto Ierusalimschy's struct 0.2):
// pack, unpack and size over a format of options
//
//	> big endian   < little endian   ![n] alignment   x padding byte   ' ' ignored
//	b/B h/H l/L T i[n]/I[n]  signed/unsigned integers (char, short, long, size_t, n bytes)
//	f d  float, double   s zero-terminated string   c[n] n chars (c0: the whole string when
//	packing, the previous number's length when unpacking)
//
// with the sizes and alignment of a 64-bit little-endian machine, the platform Redis runs on.
func newStruct(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(structPack))
	t.RawSetString("unpack", L.NewFunction(structUnpack))
	t.RawSetString("size", L.NewFunction(structSize))
	return t
}

const (
	structMaxIntSize = 32
	structMaxAlign   = 8
)

// structFormat walks a format string, keeping the endianness and alignment options.
type structFormat struct {
	L      *lua.LState
	fmt    string
	pos    int
	little bool
	align  int
}

func newStructFormat(L *lua.LState) *structFormat {
	return &structFormat{L: L, fmt: L.CheckString(1), little: true, align: 1}
}

func (f *structFormat) more() bool { return f.pos < len(f.fmt) }

func (f *structFormat) next() byte {
	c := f.fmt[f.pos]
	f.pos++
	return c
}

// number reads the optional count after an option, or returns def.
func (f *structFormat) number(def int) int {
	if !f.more() || f.fmt[f.pos] < '0' || f.fmt[f.pos] > '9' {
		return def
	}
	a := 0
	for f.more() && f.fmt[f.pos] >= '0' && f.fmt[f.pos] <= '9' {
		d := int(f.fmt[f.pos] - '0')
		if a > (math.MaxInt32-d)/10 {
			f.L.RaiseError("integral size overflow")
		}
		a = a*10 + d
		f.pos++
	}
	return a
}

// size is optsize: the bytes an option takes, reading its count.
func (f *structFormat) size(opt byte) int {
	switch opt {
	case 'B', 'b':
		return 1
	case 'H', 'h':
		return 2
	case 'L', 'l', 'T', 'd':
		return 8
	case 'f':
		return 4
	case 'x':
		return 1
	case 'c':
		return f.number(1)
	case 's', ' ', '<', '>', '!':
		return 0
	case 'i', 'I':
		sz := f.number(4)
		if sz > structMaxIntSize {
			f.L.RaiseError("integral size %d is larger than limit of %d", sz, structMaxIntSize)
		}
		return sz
	}
	f.L.ArgError(1, fmt.Sprintf("invalid format option '%c'", opt))
	return 0
}

// padding is gettoalign: the zero bytes before an option at offset n.
func (f *structFormat) padding(n int, opt byte, size int) int {
	if size == 0 || opt == 'c' {
		return 0
	}
	if size > f.align {
		size = f.align
	}
	return (size - (n & (size - 1))) & (size - 1)
}

// common applies the options that only change the state.
func (f *structFormat) common(opt byte) {
	switch opt {
	case '>':
		f.little = false
	case '<':
		f.little = true
	case '!':
		a := f.number(structMaxAlign)
		if a <= 0 || a&(a-1) != 0 {
			f.L.RaiseError("alignment %d is not a power of 2", a)
		}
		f.align = a
	}
}

func (f *structFormat) putInt(b *strings.Builder, n float64, size int) {
	var v uint64
	if n < 0 {
		v = uint64(int64(n))
	} else {
		v = uint64(n)
	}
	buf := make([]byte, size)
	for i := 0; i < size; i++ {
		if f.little {
			buf[i] = byte(v)
		} else {
			buf[size-1-i] = byte(v)
		}
		v >>= 8
	}
	b.Write(buf)
}

func (f *structFormat) getInt(data []byte, signed bool) float64 {
	var v uint64
	size := len(data)
	for i := 0; i < size; i++ {
		v <<= 8
		if f.little {
			v |= uint64(data[size-1-i])
		} else {
			v |= uint64(data[i])
		}
	}
	if !signed {
		return float64(v)
	}
	if size < 8 && v&(1<<(size*8-1)) != 0 {
		v |= ^uint64(0) << (size * 8)
	}
	return float64(int64(v))
}

func (f *structFormat) order() binary.ByteOrder {
	if f.little {
		return binary.LittleEndian
	}
	return binary.BigEndian
}

func structPack(L *lua.LState) int {
	f := newStructFormat(L)
	var b strings.Builder
	arg := 2
	total := 0
	for f.more() {
		opt := f.next()
		size := f.size(opt)
		pad := f.padding(total, opt, size)
		total += pad
		b.WriteString(strings.Repeat("\x00", pad))
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			f.putInt(&b, float64(L.CheckNumber(arg)), size)
			arg++
		case 'x':
			b.WriteByte(0)
		case 'f':
			var buf [4]byte
			f.order().PutUint32(buf[:], math.Float32bits(float32(L.CheckNumber(arg))))
			b.Write(buf[:])
			arg++
		case 'd':
			var buf [8]byte
			f.order().PutUint64(buf[:], math.Float64bits(float64(L.CheckNumber(arg))))
			b.Write(buf[:])
			arg++
		case 'c', 's':
			s := L.CheckString(arg)
			arg++
			if size == 0 {
				size = len(s)
			}
			if len(s) < size {
				L.ArgError(arg, "string too short")
			}
			b.WriteString(s[:size])
			if opt == 's' {
				b.WriteByte(0)
				size++
			}
		default:
			f.common(opt)
		}
		total += size
	}
	L.Push(lua.LString(b.String()))
	return 1
}

func structUnpack(L *lua.LState) int {
	f := newStructFormat(L)
	data := L.CheckString(2)
	start := L.OptInt(3, 1)
	if start <= 0 {
		L.ArgError(3, "offset must be 1 or greater")
	}
	pos := start - 1
	L.SetTop(2)
	for f.more() {
		opt := f.next()
		size := f.size(opt)
		pos += f.padding(pos, opt, size)
		if pos+size > len(data) {
			L.ArgError(2, "data string too short")
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			signed := opt >= 'a' && opt <= 'z'
			L.Push(lua.LNumber(f.getInt([]byte(data[pos:pos+size]), signed)))
		case 'x':
		case 'f':
			L.Push(lua.LNumber(math.Float32frombits(f.order().Uint32([]byte(data[pos : pos+4])))))
		case 'd':
			L.Push(lua.LNumber(math.Float64frombits(f.order().Uint64([]byte(data[pos : pos+8])))))
		case 'c':
			if size == 0 {
				n, ok := L.Get(-1).(lua.LNumber)
				if L.GetTop() <= 2 || !ok {
					L.RaiseError("format 'c0' needs a previous size")
				}
				size = int(n)
				L.Pop(1)
				if size < 0 || pos+size > len(data) {
					L.ArgError(2, "data string too short")
				}
			}
			L.Push(lua.LString(data[pos : pos+size]))
		case 's':
			end := strings.IndexByte(data[pos:], 0)
			if end < 0 {
				L.RaiseError("unfinished string in data")
			}
			L.Push(lua.LString(data[pos : pos+end]))
			size = end + 1
		default:
			f.common(opt)
		}
		pos += size
	}
	L.Push(lua.LNumber(pos + 1))
	return L.GetTop() - 2
}

func structSize(L *lua.LState) int {
	f := newStructFormat(L)
	pos := 0
	for f.more() {
		opt := f.next()
		size := f.size(opt)
		pos += f.padding(pos, opt, size)
		switch {
		case opt == 's':
			L.ArgError(1, "option 's' has no fixed size")
		case opt == 'c' && size == 0:
			L.ArgError(1, "option 'c0' has no fixed size")
		}
		if !(opt >= 'a' && opt <= 'z' || opt >= 'A' && opt <= 'Z' || opt >= '0' && opt <= '9') {
			f.common(opt)
		}
		pos += size
	}
	L.Push(lua.LNumber(pos))
	return 1
}
