package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// reader is the decoder's byte source: a buffer over an io.Reader (or over a byte slice,
// for DUMP payloads) that keeps the CRC64 of every byte consumed, so the trailer can be
// checked without a second pass, and the offset of the next byte, for error messages.
type reader struct {
	src    io.Reader // nil when the whole input is in buf
	buf    []byte
	pos    int    // next unread byte of buf
	crcPos int    // buf[:crcPos] is already folded into crc
	crc    uint64 // CRC64 of all bytes before buf[crcPos]
	base   int64  // input offset of buf[0]

	// capture, when non-nil, collects every byte consumed (module values are kept raw).
	capture []byte
	// scratch holds readTemp's bytes when they straddle a refill.
	scratch []byte
}

const readBufSize = 64 << 10

// maxPrealloc bounds how much a length read from the input may make us allocate before
// the bytes it announces have actually arrived: a lying length then fails at the end of
// the input instead of exhausting memory.
const maxPrealloc = 1 << 20

func newStreamReader(src io.Reader) *reader {
	return &reader{src: src, buf: make([]byte, 0, readBufSize)}
}

func newBytesReader(p []byte) *reader { return &reader{buf: p} }

func (r *reader) offset() int64 { return r.base + int64(r.pos) }

func (r *reader) corrupt(format string, a ...any) error {
	return &CorruptError{Offset: r.offset(), Msg: fmt.Sprintf(format, a...)}
}

func (r *reader) truncated() error {
	return &CorruptError{Offset: r.offset(), Msg: "unexpected end of input", Err: io.ErrUnexpectedEOF}
}

// fill makes at least one more unread byte available.
func (r *reader) fill() error {
	if r.src == nil {
		return r.truncated()
	}
	r.crc = CRC64(r.crc, r.buf[r.crcPos:r.pos])
	n := copy(r.buf[:cap(r.buf)], r.buf[r.pos:])
	r.base += int64(r.pos)
	r.buf = r.buf[:n]
	r.pos, r.crcPos = 0, 0
	for len(r.buf) == 0 {
		m, err := r.src.Read(r.buf[len(r.buf):cap(r.buf)])
		r.buf = r.buf[:len(r.buf)+m]
		if m > 0 {
			break
		}
		if err == io.EOF {
			return r.truncated()
		}
		if err != nil {
			return fmt.Errorf("rdb: read at offset %d: %w", r.offset(), err)
		}
	}
	return nil
}

// sum returns the CRC64 of every byte consumed so far.
func (r *reader) sum() uint64 {
	r.crc = CRC64(r.crc, r.buf[r.crcPos:r.pos])
	r.crcPos = r.pos
	return r.crc
}

func (r *reader) readByte() (byte, error) {
	if r.pos == len(r.buf) {
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	b := r.buf[r.pos]
	r.pos++
	if r.capture != nil {
		r.capture = append(r.capture, b)
	}
	return b, nil
}

// read returns the next n bytes in a new slice the caller owns.
func (r *reader) read(n uint64) ([]byte, error) {
	if r.src == nil && n > uint64(len(r.buf)-r.pos) {
		r.pos = len(r.buf)
		return nil, r.truncated()
	}
	return r.appendRead(make([]byte, 0, min(n, maxPrealloc)), n)
}

// appendRead appends the next n bytes to dst.
func (r *reader) appendRead(dst []byte, n uint64) ([]byte, error) {
	if r.src == nil && n > uint64(len(r.buf)-r.pos) {
		r.pos = len(r.buf)
		return dst, r.truncated()
	}
	if n > math.MaxInt {
		return dst, r.corrupt("length %d is too large", n)
	}
	start := len(dst)
	dst = slices.Grow(dst, int(min(n, maxPrealloc)))
	for uint64(len(dst)-start) < n {
		if r.pos == len(r.buf) {
			if err := r.fill(); err != nil {
				return dst, err
			}
		}
		k := min(uint64(len(r.buf)-r.pos), n-uint64(len(dst)-start))
		dst = append(dst, r.buf[r.pos:r.pos+int(k)]...)
		r.pos += int(k)
	}
	if r.capture != nil {
		r.capture = append(r.capture, dst[start:]...)
	}
	return dst, nil
}

// readTemp returns the next n bytes in a slice that is only valid until the reader's
// next call: a window of its buffer when the bytes are all there (the common case for an
// LZF string's compressed form, which is expanded at once), else a scratch buffer.
func (r *reader) readTemp(n uint64) ([]byte, error) {
	if n <= uint64(len(r.buf)-r.pos) {
		p := r.buf[r.pos : r.pos+int(n)]
		r.pos += int(n)
		if r.capture != nil {
			r.capture = append(r.capture, p...)
		}
		return p, nil
	}
	out, err := r.appendRead(r.scratch[:0], n)
	if cap(out) <= maxPrealloc {
		r.scratch = out[:0]
	}
	return out, err
}

// readFixed reads exactly len(dst) bytes into dst.
func (r *reader) readFixed(dst []byte) error {
	for i := range dst {
		b, err := r.readByte()
		if err != nil {
			return err
		}
		dst[i] = b
	}
	return nil
}

func (r *reader) readUint64LE() (uint64, error) {
	var b [8]byte
	if err := r.readFixed(b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// readMillis reads a millisecond timestamp (rdbLoadMillisecondTime): 8 bytes, little
// endian.
func (r *reader) readMillis() (int64, error) {
	v, err := r.readUint64LE()
	return int64(v), err
}

// readLenOrEnc reads a length (rdbLoadLenByRef). When the top bits mark a special string
// encoding it returns that encoding's number and enc=true instead.
func (r *reader) readLenOrEnc() (n uint64, enc bool, err error) {
	b, err := r.readByte()
	if err != nil {
		return 0, false, err
	}
	switch b >> 6 {
	case lenEnc:
		return uint64(b & 0x3f), true, nil
	case len6Bit:
		return uint64(b & 0x3f), false, nil
	case len14Bit:
		b2, err := r.readByte()
		if err != nil {
			return 0, false, err
		}
		return uint64(b&0x3f)<<8 | uint64(b2), false, nil
	}
	switch b {
	case len32Bit:
		var v [4]byte
		if err := r.readFixed(v[:]); err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(v[:])), false, nil
	case len64Bit:
		var v [8]byte
		if err := r.readFixed(v[:]); err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(v[:]), false, nil
	}
	return 0, false, r.corrupt("Unknown length encoding %d in rdbLoadLen()", b>>6)
}

// readLen reads a plain length; a string encoding marker in its place is corruption.
func (r *reader) readLen() (uint64, error) {
	n, enc, err := r.readLenOrEnc()
	if err == nil && enc {
		return 0, r.corrupt("string encoding %d where a length was expected", n)
	}
	return n, err
}

// readCount reads a length that counts elements or entries, each of which takes at least
// one byte of input.
func (r *reader) readCount(what string) (uint64, error) {
	n, err := r.readLen()
	if err != nil {
		return 0, err
	}
	if r.src == nil && n > uint64(len(r.buf)-r.pos) {
		return 0, r.corrupt("%s count %d exceeds the remaining input", what, n)
	}
	return n, nil
}

// readString reads a string in any of its encodings (rdbGenericLoadStringObject): raw
// with a length, an integer of 8, 16 or 32 bits rendered back to decimal, or LZF. The
// slice is new and the caller's.
func (r *reader) readString() ([]byte, error) { return r.appendString(nil) }

// appendString is readString appending to dst; with dst nil the result has exactly the
// string's capacity.
func (r *reader) appendString(dst []byte) ([]byte, error) {
	n, enc, err := r.readLenOrEnc()
	if err != nil {
		return dst, err
	}
	if !enc {
		if dst == nil {
			return r.read(n)
		}
		return r.appendRead(dst, n)
	}
	switch n {
	case encInt8:
		b, err := r.readByte()
		if err != nil {
			return dst, err
		}
		return strconv.AppendInt(dst, int64(int8(b)), 10), nil
	case encInt16:
		var v [2]byte
		if err := r.readFixed(v[:]); err != nil {
			return dst, err
		}
		return strconv.AppendInt(dst, int64(int16(binary.LittleEndian.Uint16(v[:]))), 10), nil
	case encInt32:
		var v [4]byte
		if err := r.readFixed(v[:]); err != nil {
			return dst, err
		}
		return strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(v[:]))), 10), nil
	case encLZF:
		clen, err := r.readLen()
		if err != nil {
			return dst, err
		}
		ulen, err := r.readLen()
		if err != nil {
			return dst, err
		}
		if clen == 0 || ulen == 0 || ulen/lzfMaxRatio > clen {
			return dst, r.corrupt("Invalid LZF compressed string (%d bytes claimed from %d)", ulen, clen)
		}
		c, err := r.readTemp(clen)
		if err != nil {
			return dst, err
		}
		out, err := lzfDecompressAppend(dst, c, int(ulen))
		if err != nil {
			return dst, r.corrupt("%v", err)
		}
		return out, nil
	}
	return dst, r.corrupt("Unknown RDB string encoding type %d", n)
}

// readStringDouble reads a score in the pre-RDB-8 text form (rdbLoadDoubleValue): a
// length byte with 253, 254 and 255 standing for NaN, +inf and -inf.
func (r *reader) readStringDouble() (float64, error) {
	n, err := r.readByte()
	if err != nil {
		return 0, err
	}
	switch n {
	case 255:
		return math.Inf(-1), nil
	case 254:
		return math.Inf(1), nil
	case 253:
		return math.NaN(), nil
	}
	b, err := r.read(uint64(n))
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, r.corrupt("invalid double %q", b)
	}
	return f, nil
}

// readBinaryDouble reads an IEEE 754 double, little endian (rdbLoadBinaryDoubleValue).
func (r *reader) readBinaryDouble() (float64, error) {
	v, err := r.readUint64LE()
	return math.Float64frombits(v), err
}
