package script

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// cjson is the lua-cjson 2.1 library Redis bundles: the same encodings, limits and error
// texts for the cases scripts meet (object keys come out in insertion order).
type cjson struct {
	encodeMaxDepth    int
	decodeMaxDepth    int
	encodePrecision   int
	sparseConvert     bool
	sparseRatio       int
	sparseSafe        int
	encodeInvalidNums bool
	decodeInvalidNums bool
	encodeKeepBuffer  bool
	null              *lua.LUserData
}

func newCJSON(L *lua.LState) *lua.LTable {
	c := &cjson{
		encodeMaxDepth: 1000, decodeMaxDepth: 1000, encodePrecision: 14,
		sparseRatio: 2, sparseSafe: 10, decodeInvalidNums: true, encodeKeepBuffer: true,
	}
	c.null = L.NewUserData()
	mt := L.NewTable()
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("userdata: (nil)"))
		return 1
	}))
	mt.RawSetString("__metatable", lua.LFalse)
	c.null.Metatable = mt
	t := L.NewTable()
	for name, fn := range map[string]lua.LGFunction{
		"encode":                  c.encode,
		"decode":                  c.decode,
		"encode_max_depth":        c.intOption("encode_max_depth", &c.encodeMaxDepth, 1, math.MaxInt32),
		"decode_max_depth":        c.intOption("decode_max_depth", &c.decodeMaxDepth, 1, math.MaxInt32),
		"encode_number_precision": c.intOption("encode_number_precision", &c.encodePrecision, 1, 14),
		"encode_keep_buffer":      c.boolOption("encode_keep_buffer", &c.encodeKeepBuffer),
		"encode_invalid_numbers":  c.boolOption("encode_invalid_numbers", &c.encodeInvalidNums),
		"decode_invalid_numbers":  c.boolOption("decode_invalid_numbers", &c.decodeInvalidNums),
		"encode_sparse_array":     c.sparseOption,
	} {
		t.RawSetString(name, L.NewFunction(fn))
	}
	t.RawSetString("null", c.null)
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	return t
}

// intOption is a configuration function: with an argument it sets the value, and it
// returns the current one.
func (c *cjson) intOption(name string, p *int, lo, hi int) lua.LGFunction {
	return func(L *lua.LState) int {
		if L.GetTop() > 1 {
			L.ArgError(2, "found too many arguments")
		}
		if L.GetTop() == 1 && L.Get(1) != lua.LNil {
			n := L.CheckInt(1)
			if n < lo || n > hi {
				L.ArgError(1, fmt.Sprintf("expected integer between %d and %d", lo, hi))
			}
			*p = n
		}
		L.Push(lua.LNumber(*p))
		return 1
	}
}

func (c *cjson) boolOption(name string, p *bool) lua.LGFunction {
	return func(L *lua.LState) int {
		if L.GetTop() > 1 {
			L.ArgError(2, "found too many arguments")
		}
		if L.GetTop() == 1 && L.Get(1) != lua.LNil {
			switch a := L.Get(1).(type) {
			case lua.LBool:
				*p = bool(a)
			case lua.LString:
				switch a {
				case "on":
					*p = true
				case "off":
					*p = false
				default:
					L.ArgError(1, "invalid option '"+string(a)+"'")
				}
			default:
				L.ArgError(1, "invalid option")
			}
		}
		L.Push(lua.LBool(*p))
		return 1
	}
}

func (c *cjson) sparseOption(L *lua.LState) int {
	if L.GetTop() >= 1 && L.Get(1) != lua.LNil {
		c.sparseConvert = L.ToBool(1)
	}
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		c.sparseRatio = L.CheckInt(2)
	}
	if L.GetTop() >= 3 && L.Get(3) != lua.LNil {
		c.sparseSafe = L.CheckInt(3)
	}
	L.Push(lua.LBool(c.sparseConvert))
	L.Push(lua.LNumber(c.sparseRatio))
	L.Push(lua.LNumber(c.sparseSafe))
	return 3
}

func (c *cjson) encode(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.ArgError(1, "expected 1 argument")
	}
	var b strings.Builder
	c.encodeValue(L, &b, L.Get(1), 0)
	L.Push(lua.LString(b.String()))
	return 1
}

func (c *cjson) encodeValue(L *lua.LState, b *strings.Builder, v lua.LValue, depth int) {
	switch x := v.(type) {
	case lua.LString:
		encodeJSONString(b, string(x))
	case lua.LNumber:
		c.encodeNumber(L, b, float64(x))
	case lua.LBool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case *lua.LNilType:
		b.WriteString("null")
	case *lua.LTable:
		depth++
		if depth > c.encodeMaxDepth {
			L.RaiseError("Cannot serialise, excessive nesting (%d)", depth)
		}
		n := c.arrayLength(L, x)
		if n > 0 {
			b.WriteByte('[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					b.WriteByte(',')
				}
				c.encodeValue(L, b, x.RawGetInt(i), depth)
			}
			b.WriteByte(']')
			return
		}
		b.WriteByte('{')
		first := true
		x.ForEach(func(k, val lua.LValue) {
			if !first {
				b.WriteByte(',')
			}
			first = false
			switch kk := k.(type) {
			case lua.LString:
				encodeJSONString(b, string(kk))
			case lua.LNumber:
				b.WriteByte('"')
				c.encodeNumber(L, b, float64(kk))
				b.WriteByte('"')
			default:
				L.RaiseError("Cannot serialise %s: table key must be a number or string", k.Type().String())
			}
			b.WriteByte(':')
			c.encodeValue(L, b, val, depth)
		})
		b.WriteByte('}')
	case *lua.LUserData:
		if x == c.null {
			b.WriteString("null")
			return
		}
		L.RaiseError("Cannot serialise %s: type not supported", v.Type().String())
	default:
		L.RaiseError("Cannot serialise %s: type not supported", v.Type().String())
	}
}

func (c *cjson) encodeNumber(L *lua.LState, b *strings.Builder, f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		if !c.encodeInvalidNums {
			L.RaiseError("Cannot serialise number: must not be NaN or Inf")
		}
		switch {
		case math.IsNaN(f):
			b.WriteString("nan")
		case f > 0:
			b.WriteString("inf")
		default:
			b.WriteString("-inf")
		}
		return
	}
	b.WriteString(formatG(f, c.encodePrecision))
}

// arrayLength is lua_array_length: the array length of a table whose keys are all
// positive integers, 0 for an empty table or one with other keys; an excessively sparse
// array is an error unless encode_sparse_array allows converting it to an object.
func (c *cjson) arrayLength(L *lua.LState, t *lua.LTable) int {
	max, items := 0, 0
	isArray := true
	t.ForEach(func(k, _ lua.LValue) {
		if !isArray {
			return
		}
		n, ok := k.(lua.LNumber)
		if !ok || float64(n) < 1 || float64(n) != math.Floor(float64(n)) {
			isArray = false
			return
		}
		if int(n) > max {
			max = int(n)
		}
		items++
	})
	if !isArray {
		return 0
	}
	if c.sparseRatio > 0 && max > items*c.sparseRatio && max > c.sparseSafe {
		if !c.sparseConvert {
			L.RaiseError("Cannot serialise table: excessively sparse array")
		}
		return 0
	}
	return max
}

// encodeJSONString writes s quoted with lua-cjson's escapes, which include "\/" and DEL.
func encodeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch ch {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '/':
			b.WriteString(`\/`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if ch < 0x20 || ch == 0x7f {
				fmt.Fprintf(b, `\u%04x`, ch)
			} else {
				b.WriteByte(ch)
			}
		}
	}
	b.WriteByte('"')
}

// JSON tokens, named as lua-cjson names them in its errors.
const (
	tObjBegin = iota
	tObjEnd
	tArrBegin
	tArrEnd
	tString
	tNumber
	tBoolean
	tNull
	tColon
	tComma
	tEnd
	tError
)

var tokenNames = [...]string{"T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING",
	"T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END", "T_ERROR"}

type jsonToken struct {
	kind  int
	index int
	str   string
	num   float64
	b     bool
	err   string
}

type jsonDecoder struct {
	L     *lua.LState
	c     *cjson
	data  string
	pos   int
	depth int
}

func (c *cjson) decode(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.ArgError(1, "expected 1 argument")
	}
	var data string
	switch a := L.Get(1).(type) {
	case lua.LString:
		data = string(a)
	case lua.LNumber:
		data = formatNumber14g(float64(a))
	default:
		L.TypeError(1, lua.LTString)
	}
	d := &jsonDecoder{L: L, c: c, data: data}
	tok := d.next()
	v := d.value(tok)
	if tok = d.next(); tok.kind != tEnd {
		d.expected("the end", tok)
	}
	L.Push(v)
	return 1
}

func (d *jsonDecoder) expected(what string, tok jsonToken) {
	found := tokenNames[tok.kind]
	if tok.kind == tError {
		found = tok.err
	}
	d.L.RaiseError("Expected %s but found %s at character %d", what, found, tok.index+1)
}

func (d *jsonDecoder) value(tok jsonToken) lua.LValue {
	switch tok.kind {
	case tString:
		return lua.LString(tok.str)
	case tNumber:
		return lua.LNumber(tok.num)
	case tBoolean:
		return lua.LBool(tok.b)
	case tNull:
		return d.c.null
	case tObjBegin:
		return d.object()
	case tArrBegin:
		return d.array()
	}
	d.expected("value", tok)
	return lua.LNil
}

func (d *jsonDecoder) enter() {
	d.depth++
	if d.depth > d.c.decodeMaxDepth {
		d.L.RaiseError("Found too many nested data structures (%d) at character %d", d.depth, d.pos)
	}
}

func (d *jsonDecoder) object() lua.LValue {
	d.enter()
	t := d.L.NewTable()
	tok := d.next()
	if tok.kind == tObjEnd {
		d.depth--
		return t
	}
	for {
		if tok.kind != tString {
			d.expected("object key string", tok)
		}
		key := tok.str
		if tok = d.next(); tok.kind != tColon {
			d.expected("colon", tok)
		}
		t.RawSetString(key, d.value(d.next()))
		tok = d.next()
		if tok.kind == tObjEnd {
			d.depth--
			return t
		}
		if tok.kind != tComma {
			d.expected("comma or object end", tok)
		}
		tok = d.next()
	}
}

func (d *jsonDecoder) array() lua.LValue {
	d.enter()
	t := d.L.NewTable()
	tok := d.next()
	if tok.kind == tArrEnd {
		d.depth--
		return t
	}
	for i := 1; ; i++ {
		t.RawSetInt(i, d.value(tok))
		tok = d.next()
		if tok.kind == tArrEnd {
			d.depth--
			return t
		}
		if tok.kind != tComma {
			d.expected("comma or array end", tok)
		}
		tok = d.next()
	}
}

func (d *jsonDecoder) next() jsonToken {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
			continue
		}
		break
	}
	start := d.pos
	if d.pos >= len(d.data) {
		return jsonToken{kind: tEnd, index: start}
	}
	ch := d.data[d.pos]
	single := map[byte]int{'{': tObjBegin, '}': tObjEnd, '[': tArrBegin, ']': tArrEnd, ':': tColon, ',': tComma}
	if k, ok := single[ch]; ok {
		d.pos++
		return jsonToken{kind: k, index: start}
	}
	switch {
	case ch == '"':
		return d.stringToken()
	case ch == '-' || (ch >= '0' && ch <= '9'):
		return d.numberToken()
	case strings.HasPrefix(d.data[d.pos:], "true"):
		d.pos += 4
		return jsonToken{kind: tBoolean, b: true, index: start}
	case strings.HasPrefix(d.data[d.pos:], "false"):
		d.pos += 5
		return jsonToken{kind: tBoolean, index: start}
	case strings.HasPrefix(d.data[d.pos:], "null"):
		d.pos += 4
		return jsonToken{kind: tNull, index: start}
	case d.c.decodeInvalidNums && d.isInvalidNumber():
		return d.numberToken()
	}
	return jsonToken{kind: tError, index: start, err: "invalid token"}
}

// isInvalidNumber reports whether a number JSON does not allow starts here: "+", "inf",
// "nan" or hex (json_is_invalid_number).
func (d *jsonDecoder) isInvalidNumber() bool {
	p := d.data[d.pos:]
	if strings.HasPrefix(p, "+") {
		p = p[1:]
	}
	lower := strings.ToLower(p)
	return strings.HasPrefix(lower, "0x") || strings.HasPrefix(lower, "inf") || strings.HasPrefix(lower, "nan") ||
		strings.HasPrefix(lower, "infinity")
}

// numberToken reads a number as strtod does: the longest prefix that is a number.
func (d *jsonDecoder) numberToken() jsonToken {
	start := d.pos
	f, n := strtod(d.data[d.pos:])
	if n == 0 {
		return jsonToken{kind: tError, index: start, err: "invalid number"}
	}
	d.pos += n
	return jsonToken{kind: tNumber, num: f, index: start}
}

// strtod parses the longest numeric prefix of s as C's strtod: decimal with exponent,
// hex, inf, infinity, nan, with an optional sign. It returns the value and the bytes used.
func strtod(s string) (float64, int) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	rest := strings.ToLower(s[i:])
	sign := 1.0
	if neg {
		sign = -1
	}
	switch {
	case strings.HasPrefix(rest, "infinity"):
		return sign * math.Inf(1), i + 8
	case strings.HasPrefix(rest, "inf"):
		return sign * math.Inf(1), i + 3
	case strings.HasPrefix(rest, "nan"):
		return math.NaN(), i + 3
	case strings.HasPrefix(rest, "0x"):
		j := i + 2
		for j < len(s) && isHexDigit(s[j]) {
			j++
		}
		if j == i+2 {
			return 0, i + 1 // just the "0"
		}
		u, _ := strconv.ParseUint(s[i+2:j], 16, 64)
		return sign * float64(u), j
	}
	j := i
	digits := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
		digits++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && s[k] >= '0' && s[k] <= '9' {
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			j = k
		}
	}
	f, err := strconv.ParseFloat(s[:j], 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, j // ±Inf or 0, as strtod
		}
		return 0, 0
	}
	return f, j
}

func isHexDigit(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (d *jsonDecoder) stringToken() jsonToken {
	start := d.pos
	d.pos++ // opening quote
	var b strings.Builder
	for {
		if d.pos >= len(d.data) {
			return jsonToken{kind: tError, index: start, err: "unexpected end of string"}
		}
		ch := d.data[d.pos]
		if ch == '"' {
			d.pos++
			return jsonToken{kind: tString, str: b.String(), index: start}
		}
		if ch != '\\' {
			b.WriteByte(ch)
			d.pos++
			continue
		}
		if d.pos+1 >= len(d.data) {
			return jsonToken{kind: tError, index: start, err: "unexpected end of string"}
		}
		esc := d.data[d.pos+1]
		switch esc {
		case '"', '\\', '/':
			b.WriteByte(esc)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, n := d.unicodeEscape(d.pos)
			if n == 0 {
				return jsonToken{kind: tError, index: d.pos, err: "invalid unicode escape code"}
			}
			var buf [4]byte
			b.Write(buf[:utf8.EncodeRune(buf[:], r)])
			d.pos += n
			continue
		default:
			return jsonToken{kind: tError, index: d.pos, err: "invalid escape code"}
		}
		d.pos += 2
	}
}

// unicodeEscape decodes \uXXXX at p, with a following low surrogate when XXXX is a high
// one; it returns the rune and the bytes consumed, 0 when invalid.
func (d *jsonDecoder) unicodeEscape(p int) (rune, int) {
	hex4 := func(at int) (rune, bool) {
		if at+6 > len(d.data) || d.data[at] != '\\' || d.data[at+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(d.data[at+2:at+6], 16, 32)
		return rune(n), err == nil
	}
	r, ok := hex4(p)
	if !ok {
		return 0, 0
	}
	switch {
	case r >= 0xDC00 && r <= 0xDFFF:
		return 0, 0
	case r >= 0xD800 && r <= 0xDBFF:
		lo, ok := hex4(p + 6)
		if !ok || lo < 0xDC00 || lo > 0xDFFF {
			return 0, 0
		}
		return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), 12
	}
	return r, 6
}
