package script

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// wrapStringFormat makes string.format's %q quote as Lua 5.1's addquoted does (a newline
// becomes a backslash followed by the newline itself, NUL becomes \000): scripts written for
// Redis build keys and log lines with it. Every other conversion is gopher-lua's own.
func wrapStringFormat(L *lua.LState, lib *lua.LTable) {
	orig, ok := lib.RawGetString("format").(*lua.LFunction)
	if !ok {
		return
	}
	lib.RawSetString("format", L.NewFunction(func(L *lua.LState) int {
		format := L.CheckString(1)
		if strings.Contains(format, "q") {
			format = quoteConversions(L, format)
		}
		top := L.GetTop()
		L.Push(orig)
		L.Push(lua.LString(format))
		for i := 2; i <= top; i++ {
			L.Push(L.Get(i))
		}
		L.Call(top, 1)
		return 1
	}))
}

// quoteConversions replaces each %q of format by %s and its argument (on L's stack) by the
// quoted string.
func quoteConversions(L *lua.LState, format string) string {
	var out strings.Builder
	arg := 1
	for i := 0; i < len(format); i++ {
		c := format[i]
		out.WriteByte(c)
		if c != '%' {
			continue
		}
		if i+1 < len(format) && format[i+1] == '%' {
			out.WriteByte('%')
			i++
			continue
		}
		arg++
		// Flags, width and precision, as Lua 5.1's scanformat accepts them.
		j := i + 1
		for j < len(format) && strings.IndexByte("-+ #0", format[j]) >= 0 {
			j++
		}
		for j < len(format) && (format[j] >= '0' && format[j] <= '9' || format[j] == '.') {
			j++
		}
		if j < len(format) && format[j] == 'q' {
			L.Replace(arg, lua.LString(addQuoted(L.CheckString(arg))))
			out.WriteByte('s')
			i = j
			continue
		}
		out.WriteString(format[i+1 : min(j+1, len(format))])
		i = j
	}
	return out.String()
}

func addQuoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\', '\n':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\r':
			b.WriteString(`\r`)
		case 0:
			b.WriteString(`\000`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
