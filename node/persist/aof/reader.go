package aof

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrTruncated is a file that ends inside a command or inside a MULTI without its EXEC:
// what a crash in the middle of a write leaves. With aof-load-truncated the server cuts
// the last file back to the end of its last complete command (or to before the
// unfinished MULTI) and goes on; otherwise it refuses to start.
var ErrTruncated = errors.New("unexpected end of file")

// FormatError is a file whose bytes are not commands: not a torn tail but damage.
type FormatError struct {
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("bad file format reading the append only file at offset %d: %s", e.Offset, e.Msg)
}

// Limits that keep a damaged file from making the loader allocate without bound; they
// are Redis's protocol limits (proto-max-bulk-len's default, and the multibulk cap).
const (
	maxArgs   = 1 << 20
	maxBulk   = 512 << 20
	readChunk = 64 << 10
)

// ReadCommands calls fn with every command of an AOF's command part, in order, as
// loadSingleAppendOnlyFile applies them. Lines starting with '#' are annotations and are
// skipped. The commands between MULTI and EXEC are delivered only once the EXEC is read,
// without the MULTI and EXEC themselves, so a transaction cut by a crash applies nothing.
// argv is valid only during the call.
//
// It returns the offset just past the last command applied (for truncation). A torn tail
// gives an error wrapping ErrTruncated; damage a *FormatError; an error of fn is returned
// as is.
func ReadCommands(r io.Reader, fn func(argv [][]byte) error) (valid int64, err error) {
	cr := &commandReader{r: bufio.NewReaderSize(r, 64<<10)}
	var multi [][][]byte
	inMulti := false
	for {
		argv, err := cr.next()
		if errors.Is(err, io.EOF) {
			if inMulti {
				return valid, fmt.Errorf("%w: MULTI without EXEC", ErrTruncated)
			}
			return valid, nil
		}
		if err != nil {
			return valid, err
		}
		switch {
		case len(argv) == 1 && equalFold(argv[0], "multi"):
			if inMulti {
				return valid, &FormatError{Offset: cr.off, Msg: "MULTI inside MULTI"}
			}
			inMulti, multi = true, multi[:0]
		case len(argv) == 1 && equalFold(argv[0], "exec"):
			if !inMulti {
				return valid, &FormatError{Offset: cr.off, Msg: "EXEC without MULTI"}
			}
			for _, q := range multi {
				if err := fn(q); err != nil {
					return valid, err
				}
			}
			inMulti = false
			valid = cr.off
		case inMulti:
			q := make([][]byte, len(argv))
			for i, a := range argv {
				q[i] = append([]byte(nil), a...)
			}
			multi = append(multi, q)
		default:
			if err := fn(argv); err != nil {
				return valid, err
			}
			valid = cr.off
		}
	}
}

func equalFold(b []byte, s string) bool { return len(b) == len(s) && bytes.EqualFold(b, []byte(s)) }

// commandReader parses RESP arrays of bulk strings, counting bytes.
type commandReader struct {
	r    *bufio.Reader
	off  int64
	argv [][]byte
	buf  []byte
}

// line reads one CRLF-terminated line without its terminator; io.EOF only when nothing
// at all was read.
func (c *commandReader) line() ([]byte, error) {
	l, err := c.r.ReadSlice('\n')
	c.off += int64(len(l))
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, &FormatError{Offset: c.off, Msg: "line too long"}
	}
	if err != nil {
		if len(l) == 0 && errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if errors.Is(err, io.EOF) {
			return nil, ErrTruncated
		}
		return nil, err
	}
	if len(l) < 2 || l[len(l)-2] != '\r' {
		return nil, &FormatError{Offset: c.off, Msg: "line not terminated by CRLF"}
	}
	return l[:len(l)-2], nil
}

func (c *commandReader) next() ([][]byte, error) {
	var l []byte
	for {
		var err error
		start := c.off
		l, err = c.line()
		if err != nil {
			return nil, err
		}
		if len(l) > 0 && l[0] == '#' {
			continue // annotation (aof-timestamp-enabled)
		}
		if len(l) == 0 || l[0] != '*' {
			return nil, &FormatError{Offset: start, Msg: "expected '*'"}
		}
		break
	}
	argc, err := strconv.Atoi(string(l[1:]))
	if err != nil || argc < 1 || argc > maxArgs {
		return nil, &FormatError{Offset: c.off, Msg: "invalid number of arguments " + strconv.Quote(string(l[1:]))}
	}
	c.argv = c.argv[:0]
	c.buf = c.buf[:0]
	ends := make([]int, 0, argc)
	for i := 0; i < argc; i++ {
		l, err := c.line()
		if errors.Is(err, io.EOF) {
			return nil, ErrTruncated
		}
		if err != nil {
			return nil, err
		}
		if len(l) == 0 || l[0] != '$' {
			return nil, &FormatError{Offset: c.off, Msg: "expected '$'"}
		}
		n, err := strconv.Atoi(string(l[1:]))
		if err != nil || n < 0 || n > maxBulk {
			return nil, &FormatError{Offset: c.off, Msg: "invalid bulk length " + strconv.Quote(string(l[1:]))}
		}
		// Read in chunks, so a lying length costs what the file holds, not what it says.
		for left := n + 2; left > 0; {
			k := min(left, readChunk)
			at := len(c.buf)
			c.buf = append(c.buf, make([]byte, k)...)
			got, err := io.ReadFull(c.r, c.buf[at:])
			c.off += int64(got)
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					return nil, ErrTruncated
				}
				return nil, err
			}
			left -= k
		}
		if c.buf[len(c.buf)-2] != '\r' || c.buf[len(c.buf)-1] != '\n' {
			return nil, &FormatError{Offset: c.off, Msg: "bulk string not terminated by CRLF"}
		}
		c.buf = c.buf[:len(c.buf)-2]
		ends = append(ends, len(c.buf))
	}
	start := 0
	for _, end := range ends {
		c.argv = append(c.argv, c.buf[start:end:end])
		start = end
	}
	return c.argv, nil
}
