// Package resp is clusterctl's one implementation of the Redis serialization protocol
// (RESP2 and RESP3). The node's server, trib's admin client, replication and MIGRATE all
// read and write through it.
//
// The server side reads requests with Reader.ReadCommand, which accepts both multibulk
// requests and inline commands and enforces Redis's limits with Redis's error texts
// (networking.c: processMultibulkBuffer / processInlineBuffer). The client side reads
// replies with Reader.ReadValue. Writer appends replies or commands to a reusable buffer
// that the caller flushes once per pipeline batch.
package resp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Limits mirror redis.conf defaults.
const (
	// DefaultMaxBulkLen is proto-max-bulk-len's default (512 MB).
	DefaultMaxBulkLen = 512 * 1024 * 1024
	// DefaultMaxQueryBuffer is client-query-buffer-limit's default (1 GB).
	DefaultMaxQueryBuffer = 1024 * 1024 * 1024
	// maxInlineLen is PROTO_INLINE_MAX_SIZE: the longest inline request or length line.
	maxInlineLen = 64 * 1024
	// Before AUTH succeeds Redis refuses large requests so an unauthenticated peer cannot
	// make the server allocate much.
	unauthMaxMultibulk = 10
	unauthMaxBulk      = 16384
)

// ProtocolError is a malformed request. The server replies "-ERR <Error()>" and closes the
// connection, as Redis does.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "Protocol error: " + e.Msg }

func protoErr(format string, a ...any) error {
	return &ProtocolError{Msg: fmt.Sprintf(format, a...)}
}

// ErrUnexpectedReply is returned by the client side for a reply type byte that RESP does
// not define.
var ErrUnexpectedReply = errors.New("resp: unexpected reply type")

// Reader reads RESP from a buffered stream. It is not safe for concurrent use.
type Reader struct {
	br *bufio.Reader
	// MaxBulkLen bounds a bulk string's declared length (proto-max-bulk-len).
	MaxBulkLen int64
	// MaxQueryBuffer bounds the total size of one request (client-query-buffer-limit).
	MaxQueryBuffer int64
	// Unauthenticated applies Redis's stricter pre-AUTH limits.
	Unauthenticated bool
	// Master relaxes the bulk limit for a replication stream, as Redis does for its master.
	Master bool

	args    [][]byte
	spans   []span
	argBuf  []byte
	lineBuf []byte
}

// NewReader returns a Reader over rd with Redis's default limits.
func NewReader(rd io.Reader) *Reader {
	br, ok := rd.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(rd, 16*1024)
	}
	return &Reader{br: br, MaxBulkLen: DefaultMaxBulkLen, MaxQueryBuffer: DefaultMaxQueryBuffer}
}

// Buffered reports how many bytes are already buffered: a server flushes its replies when
// this is zero, so one pipeline batch costs one write.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// BufioReader exposes the underlying buffered reader, for payloads that are not RESP
// (an RDB transfer during a full sync).
func (r *Reader) BufioReader() *bufio.Reader { return r.br }

// readLine returns one CRLF-terminated line without the terminator. The slice is valid
// until the next read. tooBig is the protocol error used when no CRLF arrives within
// maxInlineLen bytes.
func (r *Reader) readLine(tooBig string) ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == nil {
		return trimCRLF(line), nil
	}
	if err != bufio.ErrBufferFull {
		return nil, err
	}
	r.lineBuf = append(r.lineBuf[:0], line...)
	for {
		line, err = r.br.ReadSlice('\n')
		r.lineBuf = append(r.lineBuf, line...)
		if len(r.lineBuf) > maxInlineLen {
			return nil, protoErr("%s", tooBig)
		}
		if err == nil {
			return trimCRLF(r.lineBuf), nil
		}
		if err != bufio.ErrBufferFull {
			return nil, err
		}
	}
}

func trimCRLF(line []byte) []byte {
	n := len(line) - 1 // drop '\n'
	if n > 0 && line[n-1] == '\r' {
		n--
	}
	return line[:n]
}

// ReadCommand reads one request: a multibulk array of bulk strings, or an inline command.
// The returned slices alias an internal buffer valid until the next call; callers that keep
// an argument must copy it. An empty request (a blank inline line, or "*0") yields a nil
// slice and no error; the server ignores it, as Redis does.
func (r *Reader) ReadCommand() ([][]byte, error) {
	c, err := r.br.Peek(1)
	if err != nil {
		return nil, err
	}
	if c[0] != '*' {
		return r.readInline()
	}
	if args, ok := r.readBuffered(); ok {
		return args, nil
	}
	line, err := r.readLine("too big mbulk count string")
	if err != nil {
		return nil, err
	}
	n, ok := parseInt(line[1:])
	if !ok || n > math.MaxInt32 {
		return nil, protoErr("invalid multibulk length")
	}
	if r.Unauthenticated && n > unauthMaxMultibulk {
		return nil, protoErr("unauthenticated multibulk length")
	}
	if n <= 0 {
		return nil, nil
	}
	// Arguments are stored back to back in argBuf and sliced once all are read (argBuf may
	// move while it grows), so a request costs no allocation once the buffers have grown to
	// the connection's working size.
	r.argBuf = r.argBuf[:0]
	r.spans = r.spans[:0]
	var total int64
	for i := int64(0); i < n; i++ {
		hdr, err := r.readLine("too big bulk count string")
		if err != nil {
			return nil, err
		}
		if len(hdr) == 0 || hdr[0] != '$' {
			got := byte(' ')
			if len(hdr) > 0 {
				got = hdr[0]
			}
			return nil, protoErr("expected '$', got '%c'", got)
		}
		blen, ok := parseInt(hdr[1:])
		if !ok || blen < 0 || (!r.Master && blen > r.MaxBulkLen) {
			return nil, protoErr("invalid bulk length")
		}
		if r.Unauthenticated && blen > unauthMaxBulk {
			return nil, protoErr("unauthenticated bulk length")
		}
		total += blen
		if r.MaxQueryBuffer > 0 && total > r.MaxQueryBuffer {
			return nil, errQueryBufferLimit
		}
		start := len(r.argBuf)
		r.argBuf = growLen(r.argBuf, int(blen))
		if _, err := io.ReadFull(r.br, r.argBuf[start:]); err != nil {
			return nil, noEOF(err)
		}
		if err := r.expectCRLF(); err != nil {
			return nil, err
		}
		r.spans = append(r.spans, span{start, len(r.argBuf)})
	}
	return r.sliceArgs(), nil
}

// readBuffered parses a well-formed multibulk request that is entirely in the read buffer
// in one pass over it, as redis-server parses its query buffer. It reports false, having
// consumed nothing, for anything else (a request still arriving, one over a limit, one
// not written the usual way), which the general path in ReadCommand then reads, with the
// same result and Redis's error texts. A pipelined client's requests almost all arrive
// whole, and going through bufio's Read, ReadSlice and Peek for every line and argument
// cost 110 ns of the node's 1.3 us per SET at redis-benchmark -P 16; this takes 50-60
// (go test -bench ReadCommandPipelined ./node/resp).
func (r *Reader) readBuffered() ([][]byte, bool) {
	buf, _ := r.br.Peek(r.br.Buffered())
	n, pos, ok := lengthLine(buf, 0, '*')
	if !ok || n == 0 || (r.Unauthenticated && n > unauthMaxMultibulk) {
		return nil, false
	}
	// Find every argument in buf before copying any, so that a request the general path
	// must read is left untouched.
	spans := r.spans[:0]
	var total int64
	for i := int64(0); i < n; i++ {
		blen, next, ok := lengthLine(buf, pos, '$')
		if !ok || (!r.Master && blen > r.MaxBulkLen) || (r.Unauthenticated && blen > unauthMaxBulk) ||
			blen > int64(len(buf)-next-2) {
			return nil, false
		}
		end := next + int(blen)
		if buf[end] != '\r' || buf[end+1] != '\n' {
			return nil, false
		}
		spans = append(spans, span{next, end})
		total += blen
		pos = end + 2
	}
	r.spans = spans
	if r.MaxQueryBuffer > 0 && total > r.MaxQueryBuffer {
		return nil, false
	}
	// Copied back to back into argBuf as the general path stores them; each span now
	// says where its argument lies there.
	r.argBuf = r.argBuf[:0]
	for i, sp := range spans {
		start := len(r.argBuf)
		r.argBuf = append(r.argBuf, buf[sp.start:sp.end]...)
		spans[i] = span{start, len(r.argBuf)}
	}
	r.br.Discard(pos)
	return r.sliceArgs(), true
}

// lengthLine reads the line at pos in buf when it is written the usual way: the type byte
// kind, 1 to 18 decimal digits without a leading zero (or just 0), CRLF. It returns the
// number and the position after the line; false for any other line, including one that
// readLine and parseInt would accept (a bare LF, a sign), which the general path reads.
func lengthLine(buf []byte, pos int, kind byte) (n int64, next int, ok bool) {
	if pos >= len(buf) || buf[pos] != kind {
		return 0, 0, false
	}
	i := pos + 1
	for ; i < len(buf) && i-pos <= 18; i++ {
		c := buf[i]
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	digits := i - pos - 1
	if digits == 0 || (digits > 1 && buf[pos+1] == '0') ||
		i+1 >= len(buf) || buf[i] != '\r' || buf[i+1] != '\n' {
		return 0, 0, false
	}
	return n, i + 2, true
}

type span struct{ start, end int }

func (r *Reader) sliceArgs() [][]byte {
	r.args = r.args[:0]
	for _, s := range r.spans {
		r.args = append(r.args, r.argBuf[s.start:s.end:s.end])
	}
	return r.args
}

var errQueryBufferLimit = errors.New("client query buffer limit reached")

// IsQueryBufferLimit reports whether err means the request exceeded client-query-buffer-limit;
// Redis closes such a client without a reply.
func IsQueryBufferLimit(err error) bool { return errors.Is(err, errQueryBufferLimit) }

func growLen(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, 2*cap(b)+n)
	copy(nb, b)
	return nb
}

func (r *Reader) expectCRLF() error {
	// Peek and Discard rather than io.ReadFull into a local array, which would escape
	// to the heap: this runs for every argument of every request.
	crlf, err := r.br.Peek(2)
	if err != nil {
		return noEOF(err)
	}
	if crlf[0] != '\r' || crlf[1] != '\n' {
		return protoErr("expected CRLF after bulk")
	}
	r.br.Discard(2)
	return nil
}

// noEOF turns a clean EOF in the middle of a value into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (r *Reader) readInline() ([][]byte, error) {
	line, err := r.readLine("too big inline request")
	if err != nil {
		return nil, err
	}
	words, err := SplitArgs(line)
	if err != nil {
		return nil, protoErr("unbalanced quotes in request")
	}
	if len(words) == 0 {
		return nil, nil
	}
	r.argBuf = r.argBuf[:0]
	r.spans = r.spans[:0]
	for _, w := range words {
		start := len(r.argBuf)
		r.argBuf = append(r.argBuf, w...)
		r.spans = append(r.spans, span{start, len(r.argBuf)})
	}
	return r.sliceArgs(), nil
}

// SplitArgs splits a line into arguments the way Redis's sdssplitargs does: used for inline
// commands, redis.conf lines and redis-cli style input. Double quotes allow \n \r \t \b \a
// \\ \" and \xHH escapes; single quotes allow only \'. A closing quote must be followed by
// a space or the end of the line.
func SplitArgs(line []byte) ([][]byte, error) {
	var out [][]byte
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return out, nil
		}
		var cur []byte
		inDQ, inSQ, done := false, false, false
		cur = []byte{}
		for !done {
			if inDQ {
				if i >= len(line) {
					return nil, errUnbalanced
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					cur = append(cur, hexVal(line[i+2])<<4|hexVal(line[i+3]))
					i += 3
				case c == '\\' && i+1 < len(line):
					i++
					switch line[i] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[i])
					}
				case c == '"':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, errUnbalanced
					}
					done = true
				default:
					cur = append(cur, c)
				}
			} else if inSQ {
				if i >= len(line) {
					return nil, errUnbalanced
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					i++
					cur = append(cur, '\'')
				case c == '\'':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, errUnbalanced
					}
					done = true
				default:
					cur = append(cur, c)
				}
			} else {
				if i >= len(line) {
					done = true
					break
				}
				switch c := line[i]; c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inDQ = true
				case '\'':
					inSQ = true
				default:
					cur = append(cur, c)
				}
			}
			if i < len(line) {
				i++
			}
		}
		out = append(out, cur)
	}
}

var errUnbalanced = errors.New("unbalanced quotes")

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// parseInt parses a decimal int64 as Redis's string2ll does: optional '-', digits only,
// no leading '+', no spaces, no overflow.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := false
	if b[0] == '-' {
		neg = true
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	// string2ll accepts "0" alone but no other leading zero, and no "-0": "01" is not an
	// integer to Redis (INCR on "01" fails, SETBIT k 01 1 fails).
	if b[0] == '0' && (len(b) > 1 || neg) {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<63)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}

// ParseInt is Redis's string2ll: exported for command argument parsing so every integer
// argument is judged by the same rules.
func ParseInt(b []byte) (int64, bool) { return parseInt(b) }

// Kind is a RESP type byte.
type Kind byte

// RESP2 and RESP3 type bytes.
const (
	SimpleString Kind = '+'
	Error        Kind = '-'
	Integer      Kind = ':'
	BulkString   Kind = '$'
	Array        Kind = '*'
	Null         Kind = '_'
	Double       Kind = ','
	Boolean      Kind = '#'
	BlobError    Kind = '!'
	Verbatim     Kind = '='
	BigNumber    Kind = '('
	Map          Kind = '%'
	Set          Kind = '~'
	Attribute    Kind = '|'
	Push         Kind = '>'
)

// Value is one decoded reply. IsNull marks RESP3's _ and the -1 lengths: RESP2's $-1 and
// *-1, and the same on the other aggregates (%-1, ~-1, >-1), which hiredis reads as null too.
// Map elements alternate key, value.
type Value struct {
	Kind   Kind
	Str    []byte
	Int    int64
	Float  float64
	Bool   bool
	IsNull bool
	Elems  []Value
}

// String renders a value the way a person reads it; for errors and status replies it is
// the text itself.
func (v Value) String() string {
	if v.IsNull {
		return "(nil)"
	}
	switch v.Kind {
	case Integer:
		return strconv.FormatInt(v.Int, 10)
	case Double:
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	case Boolean:
		if v.Bool {
			return "true"
		}
		return "false"
	case Array, Set, Push, Map:
		var b bytes.Buffer
		b.WriteByte('[')
		for i, e := range v.Elems {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(e.String())
		}
		b.WriteByte(']')
		return b.String()
	}
	return string(v.Str)
}

// Err returns the reply as a Go error when it is an error reply, else nil.
func (v Value) Err() error {
	if v.Kind == Error || v.Kind == BlobError {
		return ReplyError(v.Str)
	}
	return nil
}

// ReplyError is an error reply from a server, such as "MOVED 3999 127.0.0.1:6381".
type ReplyError string

func (e ReplyError) Error() string { return string(e) }

// Prefix returns the error code, the first word ("MOVED", "ERR", "BUSYKEY").
func (e ReplyError) Prefix() string {
	s := string(e)
	if i := bytes.IndexByte([]byte(s), ' '); i >= 0 {
		return s[:i]
	}
	return s
}

// maxNesting bounds aggregate depth so hostile input cannot exhaust the stack.
const maxNesting = 64

// ReadValue reads one complete reply. Strings in the result are freshly allocated and
// remain valid. RESP3 attributes are read and dropped, as most clients do.
func (r *Reader) ReadValue() (Value, error) { return r.readValue(0) }

// readValue reads one value at depth, dropping the attributes in front of it: an attribute
// may precede any value, an element of an aggregate as well as a whole reply.
func (r *Reader) readValue(depth int) (Value, error) {
	for {
		v, err := r.readOne(depth)
		if err != nil || v.Kind != Attribute {
			return v, err
		}
	}
}

// readOne reads one value, or one attribute, at depth.
func (r *Reader) readOne(depth int) (Value, error) {
	if depth > maxNesting {
		return Value{}, protoErr("too deeply nested reply")
	}
	line, err := r.readLine("too big reply line")
	if err != nil {
		return Value{}, err
	}
	if len(line) == 0 {
		return Value{}, protoErr("empty reply line")
	}
	kind, body := Kind(line[0]), line[1:]
	switch kind {
	case SimpleString, Error:
		return Value{Kind: kind, Str: append([]byte(nil), body...)}, nil
	case Integer:
		n, ok := parseInt(body)
		if !ok {
			return Value{}, protoErr("invalid integer %q", body)
		}
		return Value{Kind: kind, Int: n}, nil
	case BigNumber:
		return Value{Kind: kind, Str: append([]byte(nil), body...)}, nil
	case Double:
		f, err := parseDouble(body)
		if err != nil {
			return Value{}, protoErr("invalid double %q", body)
		}
		return Value{Kind: kind, Float: f, Str: append([]byte(nil), body...)}, nil
	case Boolean:
		if len(body) != 1 || (body[0] != 't' && body[0] != 'f') {
			return Value{}, protoErr("invalid boolean %q", body)
		}
		return Value{Kind: kind, Bool: body[0] == 't'}, nil
	case Null:
		return Value{Kind: Null, IsNull: true}, nil
	case BulkString, BlobError, Verbatim:
		n, ok := parseInt(body)
		if !ok || n < -1 || n > r.MaxBulkLen || (n == -1 && kind != BulkString) {
			return Value{}, protoErr("invalid bulk length")
		}
		if n == -1 {
			return Value{Kind: kind, IsNull: true}, nil
		}
		s := make([]byte, n)
		if _, err := io.ReadFull(r.br, s); err != nil {
			return Value{}, noEOF(err)
		}
		if err := r.expectCRLF(); err != nil {
			return Value{}, err
		}
		if kind == Verbatim && len(s) >= 4 && s[3] == ':' {
			s = s[4:] // drop the "txt:" format prefix
		}
		return Value{Kind: kind, Str: s}, nil
	case Array, Set, Push, Map, Attribute:
		n, ok := parseInt(body)
		if !ok || n < -1 || n > 1<<31 {
			return Value{}, protoErr("invalid multibulk length")
		}
		if n == -1 {
			return Value{Kind: kind, IsNull: true}, nil
		}
		count := n
		if kind == Map || kind == Attribute {
			count *= 2
		}
		// Do not trust the declared count for the allocation: grow as elements arrive.
		elems := make([]Value, 0, min(count, 1024))
		for i := int64(0); i < count; i++ {
			e, err := r.readValue(depth + 1)
			if err != nil {
				return Value{}, err
			}
			elems = append(elems, e)
		}
		return Value{Kind: kind, Elems: elems}, nil
	}
	return Value{}, fmt.Errorf("%w %q", ErrUnexpectedReply, line[0])
}

func parseDouble(b []byte) (float64, error) {
	switch string(b) {
	case "inf", "+inf":
		return posInf, nil
	case "-inf":
		return negInf, nil
	}
	return strconv.ParseFloat(string(b), 64)
}
