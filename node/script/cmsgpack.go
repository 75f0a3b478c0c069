package script

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// newCmsgpack is lua-cmsgpack 0.4.0 as Redis bundles it: MessagePack without the bin and
// ext types. Numbers that hold an integer encode as the smallest integer type, others as a
// float when a float holds them exactly, else a double; a table whose keys are exactly
// 1..n is an array, any other a map; tables nested deeper than 16 encode as nil.
func newCmsgpack(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(msgpackPack))
	t.RawSetString("unpack", L.NewFunction(func(L *lua.LState) int { return msgpackUnpack(L, 0, 0) }))
	t.RawSetString("unpack_one", L.NewFunction(func(L *lua.LState) int {
		offset := L.OptInt(2, 0)
		L.SetTop(1)
		return msgpackUnpack(L, 1, offset)
	}))
	t.RawSetString("unpack_limit", L.NewFunction(func(L *lua.LState) int {
		limit := L.CheckInt(2)
		offset := L.OptInt(3, 0)
		L.SetTop(1)
		return msgpackUnpack(L, limit, offset)
	}))
	t.RawSetString("_NAME", lua.LString("cmsgpack"))
	t.RawSetString("_VERSION", lua.LString("lua-cmsgpack 0.4.0"))
	t.RawSetString("_COPYRIGHT", lua.LString("Copyright (C) 2012, Salvatore Sanfilippo"))
	t.RawSetString("_DESCRIPTION", lua.LString("MessagePack C implementation for Lua"))
	return t
}

const msgpackMaxNesting = 16

func msgpackPack(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		L.ArgError(0, "MessagePack pack needs input.")
	}
	var b []byte
	for i := 1; i <= n; i++ {
		b = msgpackEncode(b, L.Get(i), 0)
	}
	L.Push(lua.LString(b))
	return 1
}

func msgpackEncode(b []byte, v lua.LValue, level int) []byte {
	switch x := v.(type) {
	case lua.LBool:
		if x {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case lua.LNumber:
		f := float64(x)
		if f >= math.MinInt64 && f < math.MaxInt64 && f == math.Trunc(f) {
			return msgpackInt(b, int64(f))
		}
		if float64(float32(f)) == f || math.IsNaN(f) {
			b = append(b, 0xca)
			return binary.BigEndian.AppendUint32(b, math.Float32bits(float32(f)))
		}
		b = append(b, 0xcb)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	case lua.LString:
		l := len(x)
		switch {
		case l < 32:
			b = append(b, 0xa0|byte(l))
		case l <= 0xff:
			b = append(b, 0xd9, byte(l))
		case l <= 0xffff:
			b = append(b, 0xda)
			b = binary.BigEndian.AppendUint16(b, uint16(l))
		default:
			b = append(b, 0xdb)
			b = binary.BigEndian.AppendUint32(b, uint32(l))
		}
		return append(b, x...)
	case *lua.LTable:
		if level >= msgpackMaxNesting {
			return append(b, 0xc0)
		}
		if n, ok := msgpackArrayLen(x); ok {
			b = msgpackHeader(b, n, 0x90, 0xdc, 0xdd)
			for i := 1; i <= n; i++ {
				b = msgpackEncode(b, x.RawGetInt(i), level+1)
			}
			return b
		}
		count := 0
		x.ForEach(func(_, _ lua.LValue) { count++ })
		b = msgpackHeader(b, count, 0x80, 0xde, 0xdf)
		x.ForEach(func(k, val lua.LValue) {
			b = msgpackEncode(b, k, level+1)
			b = msgpackEncode(b, val, level+1)
		})
		return b
	}
	return append(b, 0xc0)
}

// msgpackArrayLen is table_is_an_array: every key a positive integer and as many keys as
// the largest of them.
func msgpackArrayLen(t *lua.LTable) (int, bool) {
	count, max := 0, 0
	array := true
	t.ForEach(func(k, _ lua.LValue) {
		n, ok := k.(lua.LNumber)
		if !ok || n <= 0 || float64(n) != math.Trunc(float64(n)) {
			array = false
			return
		}
		count++
		if int(n) > max {
			max = int(n)
		}
	})
	return max, array && max == count
}

func msgpackHeader(b []byte, n int, fix, b16, b32 byte) []byte {
	switch {
	case n < 16:
		return append(b, fix|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, b16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, b32), uint32(n))
}

func msgpackInt(b []byte, n int64) []byte {
	if n >= 0 {
		switch {
		case n <= 127:
			return append(b, byte(n))
		case n <= 0xff:
			return append(b, 0xcc, byte(n))
		case n <= 0xffff:
			return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
		case n <= 0xffffffff:
			return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
		}
		return binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(n))
	}
	switch {
	case n >= -32:
		return append(b, byte(n))
	case n >= math.MinInt8:
		return append(b, 0xd0, byte(n))
	case n >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(n))
	case n >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
}

// msgpackUnpack is mp_unpack_full: limit 0 and offset 0 decode everything; otherwise up to
// limit objects from offset, preceded by the offset of the next one (-1 at the end).
func msgpackUnpack(L *lua.LState, limit, offset int) int {
	s := L.CheckString(1)
	all := limit == 0 && offset == 0
	if offset < 0 || limit < 0 {
		L.RaiseError("Invalid request to unpack with offset of %d and limit of %d.", offset, len(s))
	}
	if offset > len(s) {
		L.RaiseError("Start offset %d greater than input length %d.", offset, len(s))
	}
	if all {
		limit = math.MaxInt
	}
	d := msgpackDecoder{L: L, data: s, pos: offset}
	var out []lua.LValue
	for d.pos < len(d.data) && len(out) < limit {
		v := d.value(0)
		switch d.err {
		case errMsgpackEOF:
			L.RaiseError("Missing bytes in input.")
		case errMsgpackFormat:
			L.RaiseError("Bad data format in input.")
		}
		out = append(out, v)
	}
	if !all {
		next := d.pos
		if d.pos >= len(d.data) {
			next = -1
		}
		L.Push(lua.LNumber(next))
	}
	for _, v := range out {
		L.Push(v)
	}
	if all {
		return len(out)
	}
	return len(out) + 1
}

const (
	errMsgpackEOF = iota + 1
	errMsgpackFormat
)

type msgpackDecoder struct {
	L    *lua.LState
	data string
	pos  int
	err  int
}

// take returns the next n bytes, or sets the EOF error.
func (d *msgpackDecoder) take(n int) []byte {
	if d.err != 0 {
		return nil
	}
	if n < 0 || len(d.data)-d.pos < n {
		d.err = errMsgpackEOF
		return nil
	}
	b := []byte(d.data[d.pos : d.pos+n])
	d.pos += n
	return b
}

func (d *msgpackDecoder) uint(n int) uint64 {
	b := d.take(n)
	if b == nil {
		return 0
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

func (d *msgpackDecoder) value(level int) lua.LValue {
	b := d.take(1)
	if b == nil {
		return lua.LNil
	}
	c := b[0]
	switch {
	case c <= 0x7f:
		return lua.LNumber(c)
	case c >= 0xe0:
		return lua.LNumber(int8(c))
	case c&0xf0 == 0x80:
		return d.table(int(c&0x0f), true, level)
	case c&0xf0 == 0x90:
		return d.table(int(c&0x0f), false, level)
	case c&0xe0 == 0xa0:
		return d.str(int(c & 0x1f))
	}
	switch c {
	case 0xc0:
		return lua.LNil
	case 0xc2:
		return lua.LFalse
	case 0xc3:
		return lua.LTrue
	case 0xca:
		return lua.LNumber(math.Float32frombits(uint32(d.uint(4))))
	case 0xcb:
		return lua.LNumber(math.Float64frombits(d.uint(8)))
	case 0xcc:
		return lua.LNumber(d.uint(1))
	case 0xcd:
		return lua.LNumber(d.uint(2))
	case 0xce:
		return lua.LNumber(d.uint(4))
	case 0xcf:
		return lua.LNumber(float64(d.uint(8)))
	case 0xd0:
		return lua.LNumber(int8(d.uint(1)))
	case 0xd1:
		return lua.LNumber(int16(d.uint(2)))
	case 0xd2:
		return lua.LNumber(int32(d.uint(4)))
	case 0xd3:
		return lua.LNumber(float64(int64(d.uint(8))))
	case 0xd9:
		return d.str(int(d.uint(1)))
	case 0xda:
		return d.str(int(d.uint(2)))
	case 0xdb:
		return d.str(int(d.uint(4)))
	case 0xdc:
		return d.table(int(d.uint(2)), false, level)
	case 0xdd:
		return d.table(int(d.uint(4)), false, level)
	case 0xde:
		return d.table(int(d.uint(2)), true, level)
	case 0xdf:
		return d.table(int(d.uint(4)), true, level)
	}
	d.err = errMsgpackFormat
	return lua.LNil
}

func (d *msgpackDecoder) str(n int) lua.LValue {
	b := d.take(n)
	if b == nil {
		return lua.LNil
	}
	return lua.LString(b)
}

func (d *msgpackDecoder) table(n int, isMap bool, level int) lua.LValue {
	if d.err != 0 {
		return lua.LNil
	}
	// Each element takes at least one byte: a count beyond what is left is truncated
	// input, refused before allocating for it.
	per := 1
	if isMap {
		per = 2
	}
	if n > (len(d.data)-d.pos)/per {
		d.err = errMsgpackEOF
		return lua.LNil
	}
	t := d.L.NewTable()
	for i := 1; i <= n && d.err == 0; i++ {
		if isMap {
			k := d.value(level + 1)
			v := d.value(level + 1)
			if k != lua.LNil && d.err == 0 {
				t.RawSet(k, v)
			}
			continue
		}
		t.RawSetInt(i, d.value(level+1))
	}
	return t
}
