package resp

import (
	"io"
	"math"
	"strconv"
)

var (
	posInf = math.Inf(1)
	negInf = math.Inf(-1)
)

// Writer appends RESP to an in-memory buffer; Flush sends it. The server writes every reply
// of a pipeline batch and flushes once. Proto selects RESP2 (2, the default) or RESP3 (3):
// the RESP3-only types degrade to their RESP2 forms exactly as Redis's addReply* functions
// do, so command handlers write one form for both protocols.
type Writer struct {
	w     io.Writer
	buf   []byte
	Proto int
	err   error
}

// NewWriter returns a RESP2 Writer that flushes into w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, buf: make([]byte, 0, 16*1024), Proto: 2}
}

// Buffered returns the number of bytes not yet flushed; a server uses it to enforce the
// client output buffer limits.
func (w *Writer) Buffered() int { return len(w.buf) }

// Bytes returns the pending output without flushing it.
func (w *Writer) Bytes() []byte { return w.buf }

// Reset drops any pending output.
func (w *Writer) Reset() { w.buf = w.buf[:0] }

// Flush writes the pending output. After a write error every later Flush returns it.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	_, w.err = w.w.Write(w.buf)
	// Keep a moderately sized buffer for the next batch; let a huge one be collected.
	if cap(w.buf) > 1<<20 {
		w.buf = make([]byte, 0, 16*1024)
	} else {
		w.buf = w.buf[:0]
	}
	return w.err
}

// Raw appends bytes that are already RESP (a cached reply, a replication stream).
func (w *Writer) Raw(b []byte) { w.buf = append(w.buf, b...) }

func (w *Writer) line(kind byte, s string) {
	w.buf = append(w.buf, kind)
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

func (w *Writer) header(kind byte, n int64) {
	w.buf = append(w.buf, kind)
	w.buf = strconv.AppendInt(w.buf, n, 10)
	w.buf = append(w.buf, '\r', '\n')
}

// Simple writes a status reply ("+OK"). CR and LF in s would break framing and are
// replaced by spaces, as Redis's addReplyStatusLength callers guarantee.
func (w *Writer) Simple(s string) { w.line('+', sanitizeLine(s)) }

// OK writes "+OK".
func (w *Writer) OK() { w.buf = append(w.buf, "+OK\r\n"...) }

// Error writes an error reply. msg must carry its code ("ERR ...", "WRONGTYPE ..."); a
// message without one gets "ERR " as in addReplyError.
func (w *Writer) Error(msg string) {
	msg = sanitizeLine(msg)
	if len(msg) == 0 || msg[0] < 'A' || msg[0] > 'Z' || !hasCode(msg) {
		msg = "ERR " + msg
	}
	w.line('-', msg)
}

// hasCode reports whether msg starts with an upper-case word followed by a space, which
// is what Redis clients take as the error code.
func hasCode(msg string) bool {
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == ' ' {
			return i > 0
		}
		if (c < 'A' || c > 'Z') && c != '_' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func sanitizeLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] == '\r' || b[j] == '\n' {
					b[j] = ' '
				}
			}
			return string(b)
		}
	}
	return s
}

// Int writes an integer reply.
func (w *Writer) Int(n int64) { w.header(':', n) }

// Bulk writes a bulk string.
func (w *Writer) Bulk(b []byte) {
	w.header('$', int64(len(b)))
	w.buf = append(w.buf, b...)
	w.buf = append(w.buf, '\r', '\n')
}

// BulkString writes a bulk string from a Go string.
func (w *Writer) BulkString(s string) {
	w.header('$', int64(len(s)))
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

// BulkInt writes n as a bulk string (as Redis does for INCRBYFLOAT-like replies).
func (w *Writer) BulkInt(n int64) {
	var tmp [24]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// Null writes the null bulk string: "$-1" in RESP2, "_" in RESP3.
func (w *Writer) Null() {
	if w.Proto >= 3 {
		w.buf = append(w.buf, "_\r\n"...)
		return
	}
	w.buf = append(w.buf, "$-1\r\n"...)
}

// NullArray writes the null array: "*-1" in RESP2, "_" in RESP3 (BLPOP timeout, EXEC abort).
func (w *Writer) NullArray() {
	if w.Proto >= 3 {
		w.buf = append(w.buf, "_\r\n"...)
		return
	}
	w.buf = append(w.buf, "*-1\r\n"...)
}

// ArrayLen starts an array of n elements.
func (w *Writer) ArrayLen(n int) { w.header('*', int64(n)) }

// MapLen starts a map of n pairs; in RESP2 it is an array of 2n elements.
func (w *Writer) MapLen(n int) {
	if w.Proto >= 3 {
		w.header('%', int64(n))
		return
	}
	w.header('*', int64(2*n))
}

// SetLen starts a set of n elements; in RESP2 it is an array.
func (w *Writer) SetLen(n int) {
	if w.Proto >= 3 {
		w.header('~', int64(n))
		return
	}
	w.header('*', int64(n))
}

// PushLen starts an out-of-band push message; in RESP2 it is an array.
func (w *Writer) PushLen(n int) {
	if w.Proto >= 3 {
		w.header('>', int64(n))
		return
	}
	w.header('*', int64(n))
}

// AttributeLen starts a RESP3 attribute map of n pairs. It writes nothing in RESP2, where
// attributes do not exist; the caller must then skip the pairs too.
func (w *Writer) AttributeLen(n int) {
	w.header('|', int64(n))
}

// Double writes a floating point reply: "," in RESP3, a bulk string in RESP2, formatted as
// Redis's addReplyDouble (%.17g, "inf"/"-inf").
func (w *Writer) Double(f float64) {
	var tmp [32]byte
	s := FormatDouble(tmp[:0], f)
	if w.Proto >= 3 {
		w.buf = append(w.buf, ',')
		w.buf = append(w.buf, s...)
		w.buf = append(w.buf, '\r', '\n')
		return
	}
	w.Bulk(s)
}

// FormatDouble formats f as Redis's addReplyDouble does: %.17g, with "inf" and "-inf"; a
// NaN is written as "nan".
func FormatDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		return append(dst, "nan"...)
	}
	return appendG17(dst, f)
}

// appendG17 mirrors C's printf("%.17g").
func appendG17(dst []byte, f float64) []byte {
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	exp := int(math.Floor(math.Log10(math.Abs(f))))
	// Log10 can be off by one near powers of ten; the %e rendering is authoritative.
	e := strconv.AppendFloat(nil, f, 'e', 16, 64)
	if i := lastIndexByte(e, 'e'); i >= 0 {
		if x, err := strconv.Atoi(string(e[i+1:])); err == nil {
			exp = x
		}
	}
	if exp < -4 || exp >= 17 {
		mant := e[:lastIndexByte(e, 'e')]
		mant = trimZeros(mant)
		dst = append(dst, mant...)
		dst = append(dst, 'e')
		if exp < 0 {
			dst = append(dst, '-')
			exp = -exp
		} else {
			dst = append(dst, '+')
		}
		if exp < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	}
	s := strconv.AppendFloat(nil, f, 'f', 16-exp, 64)
	return append(dst, trimZeros(s)...)
}

func lastIndexByte(b []byte, c byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == c {
			return i
		}
	}
	return -1
}

func trimZeros(s []byte) []byte {
	if lastIndexByte(s, '.') < 0 {
		return s
	}
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

// Bool writes a boolean: "#t"/"#f" in RESP3, the integers 1/0 in RESP2.
func (w *Writer) Bool(b bool) {
	if w.Proto >= 3 {
		if b {
			w.buf = append(w.buf, "#t\r\n"...)
		} else {
			w.buf = append(w.buf, "#f\r\n"...)
		}
		return
	}
	if b {
		w.buf = append(w.buf, ":1\r\n"...)
	} else {
		w.buf = append(w.buf, ":0\r\n"...)
	}
}

// Verbatim writes a verbatim string with a three-letter format ("txt", "mkd"); a bulk
// string in RESP2.
func (w *Writer) Verbatim(format, s string) {
	if w.Proto >= 3 {
		w.header('=', int64(len(s)+4))
		w.buf = append(w.buf, format...)
		w.buf = append(w.buf, ':')
		w.buf = append(w.buf, s...)
		w.buf = append(w.buf, '\r', '\n')
		return
	}
	w.BulkString(s)
}

// BigNumber writes a RESP3 big number; a bulk string in RESP2.
func (w *Writer) BigNumber(digits string) {
	if w.Proto >= 3 {
		w.line('(', digits)
		return
	}
	w.BulkString(digits)
}

// Command writes a request as a multibulk array, the form every Redis server accepts.
func (w *Writer) Command(args ...[]byte) {
	w.header('*', int64(len(args)))
	for _, a := range args {
		w.Bulk(a)
	}
}

// CommandStrings writes a request given as strings.
func (w *Writer) CommandStrings(args ...string) {
	w.header('*', int64(len(args)))
	for _, a := range args {
		w.BulkString(a)
	}
}

// Value writes a decoded value back out, preserving its kind (used by proxies and tests).
func (w *Writer) Value(v Value) {
	switch v.Kind {
	case SimpleString:
		w.line('+', string(v.Str))
	case Error:
		w.line('-', string(v.Str))
	case Integer:
		w.Int(v.Int)
	case BulkString:
		if v.IsNull {
			w.Null()
			return
		}
		w.Bulk(v.Str)
	case Null:
		w.Null()
	case Double:
		w.Double(v.Float)
	case Boolean:
		w.Bool(v.Bool)
	case Verbatim:
		w.Verbatim("txt", string(v.Str))
	case BigNumber:
		w.BigNumber(string(v.Str))
	case BlobError:
		w.header('!', int64(len(v.Str)))
		w.buf = append(w.buf, v.Str...)
		w.buf = append(w.buf, '\r', '\n')
	case Array, Set, Push:
		if v.IsNull {
			w.NullArray()
			return
		}
		switch v.Kind {
		case Set:
			w.SetLen(len(v.Elems))
		case Push:
			w.PushLen(len(v.Elems))
		default:
			w.ArrayLen(len(v.Elems))
		}
		for _, e := range v.Elems {
			w.Value(e)
		}
	case Map:
		if v.IsNull { // %-1, which hiredis also reads as a null
			w.NullArray()
			return
		}
		w.MapLen(len(v.Elems) / 2)
		for _, e := range v.Elems {
			w.Value(e)
		}
	}
}

// Truncate drops the output written after the first n pending bytes (CLIENT REPLY OFF
// and SKIP produce replies and discard them).
func (w *Writer) Truncate(n int) {
	if n >= 0 && n < len(w.buf) {
		w.buf = w.buf[:n]
	}
}
