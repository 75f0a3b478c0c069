package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"syscall"

	"github.com/clusterctl/clusterctl/node/resp"
)

// memToBytes parses a memory value the way Redis's memtoull does: digits followed by an
// optional unit, case-insensitive, where k/m/g are powers of 1000 and kb/mb/gb powers of
// 1024 ("1k" is 1000, "1kb" is 1024). A sign, a decimal point or an unknown unit is an
// error; the digits may be absent ("" and "kb" are 0, as strtoull of "" is 0 in Redis).
func memToBytes(s string) (uint64, bool) {
	if strings.HasPrefix(s, "-") {
		return 0, false
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	var mul uint64
	switch strings.ToLower(s[i:]) {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	digits := s[:i]
	if len(digits) >= 128 {
		return 0, false
	}
	var val uint64
	for _, c := range []byte(digits) {
		d := uint64(c - '0')
		if val > (math.MaxUint64-d)/10 {
			// strtoull saturates at ULLONG_MAX on overflow and Redis only checks EINVAL.
			val = math.MaxUint64
			break
		}
		val = val*10 + d
	}
	return val * mul, true
}

// yesNo parses a boolean the way yesnotoi does: "yes" or "no", case-insensitive.
func yesNo(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "yes"):
		return true, true
	case strings.EqualFold(s, "no"):
		return false, true
	}
	return false, false
}

func renderBool(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// parseStrtoll mirrors strtoll(s, &end, 10) followed by a check that end reached the end of
// the string: leading spaces and a sign are accepted, and an empty string is 0. Values out
// of range saturate, as strtoll does.
func parseStrtoll(s string) (int64, bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var val uint64
	overflow := false
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if !overflow {
			val = val*10 + uint64(s[i]-'0')
			if val > 1<<63 {
				overflow = true
			}
		}
		i++
	}
	if i == start {
		// No digits: strtoll leaves end at the start of the string, so the whole string
		// must have been empty for the check to pass.
		return 0, s == ""
	}
	if i != len(s) {
		return 0, false
	}
	switch {
	case overflow && neg:
		return math.MinInt64, true
	case overflow || (!neg && val == 1<<63):
		return math.MaxInt64, true
	case neg:
		return -int64(val), true
	}
	return int64(val), true
}

func parseString2ll(s string) (int64, bool) { return resp.ParseInt([]byte(s)) }

// formatMemory renders bytes for CONFIG REWRITE the way rewriteConfigFormatMemory does:
// the largest of gb/mb/kb that divides the value, plain bytes otherwise.
func formatMemory(bytes int64) string {
	const kb, mb, gb = 1024, 1024 * 1024, 1024 * 1024 * 1024
	switch {
	case bytes != 0 && bytes%gb == 0:
		return strconv.FormatInt(bytes/gb, 10) + "gb"
	case bytes != 0 && bytes%mb == 0:
		return strconv.FormatInt(bytes/mb, 10) + "mb"
	case bytes != 0 && bytes%kb == 0:
		return strconv.FormatInt(bytes/kb, 10) + "kb"
	}
	return strconv.FormatInt(bytes, 10)
}

// quoteRepr quotes s the way sdscatrepr does, for values written back into redis.conf:
// always in double quotes, with \\ \" \n \r \t \a \b escaped and other non-printable
// bytes as \xHH.
func quoteRepr(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if c >= 0x20 && c < 0x7f {
				b.WriteByte(c)
			} else {
				b.WriteString(`\x`)
				b.WriteByte("0123456789abcdef"[c>>4])
				b.WriteByte("0123456789abcdef"[c&15])
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// strerror renders an OS error the way C's strerror does ("No such file or directory"):
// Go's errno texts are the same messages starting with a lower-case letter.
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		if msg != "" && msg[0] >= 'a' && msg[0] <= 'z' {
			msg = string(msg[0]-'a'+'A') + msg[1:]
		}
		return msg
	}
	return err.Error()
}

// isBaseName reports whether path has no directory part, as Redis's pathIsBaseName.
func isBaseName(path string) bool {
	return !strings.ContainsAny(path, "/\\")
}
