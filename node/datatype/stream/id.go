package stream

import (
	"bytes"
	"errors"
	"math"
	"strconv"

	"github.com/clusterctl/clusterctl/node/resp"
)

// ID is a stream entry ID: milliseconds and a sequence number.
type ID struct {
	Ms, Seq uint64
}

// MaxID is the largest ID, what "+" means.
var MaxID = ID{math.MaxUint64, math.MaxUint64}

// Compare orders two IDs: -1, 0 or 1.
func (a ID) Compare(b ID) int {
	switch {
	case a.Ms < b.Ms:
		return -1
	case a.Ms > b.Ms:
		return 1
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

// Less reports whether a sorts before b.
func (a ID) Less(b ID) bool { return a.Compare(b) < 0 }

// IsZero reports whether the ID is 0-0.
func (a ID) IsZero() bool { return a.Ms == 0 && a.Seq == 0 }

// String formats the ID as "ms-seq".
func (a ID) String() string { return string(a.Append(nil)) }

// Append appends "ms-seq" to dst.
func (a ID) Append(dst []byte) []byte {
	dst = strconv.AppendUint(dst, a.Ms, 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, a.Seq, 10)
}

// incr returns the next ID (streamIncrID). Past the maximum ok is false and, as in
// Redis, the ID wraps to 0-0, which callers that ignore the failure go on with.
func (a ID) incr() (ID, bool) {
	switch {
	case a.Seq < math.MaxUint64:
		return ID{a.Ms, a.Seq + 1}, true
	case a.Ms < math.MaxUint64:
		return ID{a.Ms + 1, 0}, true
	}
	return ID{}, false
}

// decr returns the previous ID (streamDecrID); ok is false before 0-0.
func (a ID) decr() (ID, bool) {
	switch {
	case a.Seq > 0:
		return ID{a.Ms, a.Seq - 1}, true
	case a.Ms > 0:
		return ID{a.Ms - 1, math.MaxUint64}, true
	}
	return a, false
}

// Errors with Redis's reply texts.
var (
	ErrInvalidID     = errors.New("ERR Invalid stream ID specified as stream command argument")
	ErrSyntax        = errors.New("ERR syntax error")
	ErrNotInteger    = errors.New("ERR value is not an integer or out of range")
	ErrIDTooSmall    = errors.New("ERR The ID specified in XADD is equal or smaller than the target stream top item")
	ErrIDZero        = errors.New("ERR The ID specified in XADD must be greater than 0-0")
	ErrExhausted     = errors.New("ERR The stream has exhausted the last possible ID, unable to add more items")
	ErrTooLarge      = errors.New("ERR Elements are too large to be stored")
	ErrInvalidStart  = errors.New("ERR invalid start ID for the interval")
	ErrInvalidEnd    = errors.New("ERR invalid end ID for the interval")
	ErrNoSuchKey     = errors.New("ERR no such key")
	ErrBusyGroup     = errors.New("BUSYGROUP Consumer Group name already exists")
	ErrTimeoutNeg    = errors.New("ERR timeout is negative")
	ErrTimeoutNotInt = errors.New("ERR timeout is not an integer or out of range")
)

// cstr cuts an argument at its first NUL, as Redis's C string handling does.
func cstr(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

func keyword(arg []byte, word string) bool { return bytes.EqualFold(cstr(arg), []byte(word)) }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// string2ull is Redis's string2ull: string2ll for non-negative numbers, else glibc's
// strtoull, which also takes leading space, a sign (negating modulo 2^64) and leading
// zeros, and must consume the whole non-empty string.
func string2ull(s []byte) (uint64, bool) {
	if v, ok := resp.ParseInt(s); ok {
		if v < 0 {
			return 0, false
		}
		return uint64(v), true
	}
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v uint64
	overflow := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			overflow = true
		}
		v = v*10 + d
	}
	if len(s) == 0 || i == start || i != len(s) || overflow {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseID is streamGenericParseIDOrReply. missingSeq fills in the sequence of an ID given
// as milliseconds only; strict refuses "-" and "+"; allowSeqStar accepts XADD's "ms-*"
// and reports whether the sequence was given.
func parseID(arg []byte, missingSeq uint64, strict, allowSeqStar bool) (id ID, seqGiven bool, err error) {
	if len(arg) > 127 {
		return ID{}, false, ErrInvalidID
	}
	buf := cstr(arg)
	if len(buf) == 1 && (buf[0] == '-' || buf[0] == '+') {
		if strict {
			return ID{}, false, ErrInvalidID
		}
		if buf[0] == '-' {
			return ID{}, true, nil
		}
		return MaxID, true, nil
	}
	msPart, seqPart, hasSeq := bytes.Cut(buf, []byte("-"))
	ms, ok := string2ull(msPart)
	if !ok {
		return ID{}, false, ErrInvalidID
	}
	if !hasSeq {
		return ID{ms, missingSeq}, true, nil
	}
	if allowSeqStar && len(seqPart) == 1 && seqPart[0] == '*' {
		return ID{ms, 0}, false, nil
	}
	seq, ok := string2ull(seqPart)
	if !ok {
		return ID{}, false, ErrInvalidID
	}
	return ID{ms, seq}, true, nil
}

// ParseID parses an ID where "-" and "+" are allowed (streamParseIDOrReply).
func ParseID(arg []byte, missingSeq uint64) (ID, error) {
	id, _, err := parseID(arg, missingSeq, false, false)
	return id, err
}

// ParseStrictID parses an ID where "-" and "+" are refused (streamParseStrictIDOrReply).
func ParseStrictID(arg []byte, missingSeq uint64) (ID, error) {
	id, _, err := parseID(arg, missingSeq, true, false)
	return id, err
}

// ParseIntervalID parses an XRANGE / XPENDING bound: an ID, "-", "+", or an ID prefixed
// with "(" for an exclusive bound (streamParseIntervalIDOrReply).
func ParseIntervalID(arg []byte, missingSeq uint64) (id ID, exclusive bool, err error) {
	if len(arg) > 1 && arg[0] == '(' {
		id, err = ParseStrictID(arg[1:], missingSeq)
		return id, true, err
	}
	id, err = ParseID(arg, missingSeq)
	return id, false, err
}
