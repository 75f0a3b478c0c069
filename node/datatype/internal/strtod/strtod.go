// Package strtod reproduces C's strtod as glibc implements it, for the Redis argument
// parsers that call it: which prefix of the input it consumes (leading white space,
// "inf"/"infinity", "nan" with an optional "(chars)", hexadecimal floats with an optional
// binary exponent, decimal floats) and when it reports ERANGE. Redis's string2d and
// zslParseRange judge a number by those three things, so Go's strconv alone would accept
// and refuse different strings.
package strtod

import (
	"math"
	"strconv"
)

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func hasPrefixFold(s []byte, p string) bool {
	if len(s) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if lower(s[i]) != p[i] {
			return false
		}
	}
	return true
}

// Parse converts the longest prefix of s that strtod accepts. n is the number of bytes
// consumed, 0 when there is no number (and v is 0). erange is set when strtod would set
// errno to ERANGE with a result of ±HUGE_VAL or zero: overflow, or a non-zero number
// that underflows to zero. s is taken whole; callers mimicking a C string cut it at its
// first NUL themselves.
func Parse(s []byte) (v float64, n int, erange bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	sign := 1.0
	if neg {
		sign = -1
	}
	rest := s[i:]
	switch {
	case hasPrefixFold(rest, "infinity"):
		return sign * math.Inf(1), i + 8, false
	case hasPrefixFold(rest, "inf"):
		return sign * math.Inf(1), i + 3, false
	case hasPrefixFold(rest, "nan"):
		j := i + 3
		if j < len(s) && s[j] == '(' {
			k := j + 1
			for k < len(s) && (isDigit(s[k]) || (lower(s[k]) >= 'a' && lower(s[k]) <= 'z') || s[k] == '_') {
				k++
			}
			if k < len(s) && s[k] == ')' {
				j = k + 1
			}
		}
		return math.Copysign(math.NaN(), sign), j, false
	}
	if len(rest) >= 3 && rest[0] == '0' && lower(rest[1]) == 'x' && (isHex(rest[2]) || (rest[2] == '.' && len(rest) > 3 && isHex(rest[3]))) {
		return parseHex(s, i, neg)
	}
	return parseDecimal(s, i, neg)
}

// scanDigits returns the end of a run of mantissa digits with at most one '.', and
// whether it contains a digit and a non-zero digit.
func scanDigits(s []byte, i int, digit func(byte) bool) (end int, any, nonZero bool) {
	dot := false
	for i < len(s) {
		c := s[i]
		switch {
		case digit(c):
			any = true
			if c != '0' {
				nonZero = true
			}
		case c == '.' && !dot:
			dot = true
		default:
			return i, any, nonZero
		}
		i++
	}
	return i, any, nonZero
}

// scanExponent returns the end of an exponent starting at s[i] (after 'e' or 'p'), or i
// itself when no digits follow, in which case strtod leaves the letter unconsumed.
func scanExponent(s []byte, i int) int {
	j := i + 1
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	if j >= len(s) || !isDigit(s[j]) {
		return i
	}
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	return j
}

func parseDecimal(s []byte, start int, neg bool) (float64, int, bool) {
	end, any, nonZero := scanDigits(s, start, isDigit)
	if !any {
		return 0, 0, false
	}
	if end < len(s) && lower(s[end]) == 'e' {
		end = scanExponent(s, end)
	}
	return finish(string(s[start:end]), end, neg, nonZero)
}

func parseHex(s []byte, start int, neg bool) (float64, int, bool) {
	end, _, nonZero := scanDigits(s, start+2, isHex)
	mantissa := string(s[start:end])
	exponent := "p0" // Go requires the binary exponent that C makes optional
	if end < len(s) && lower(s[end]) == 'p' {
		if e := scanExponent(s, end); e > end {
			exponent = string(s[end:e])
			end = e
		}
	}
	return finish(mantissa+exponent, end, neg, nonZero)
}

func finish(text string, end int, neg, nonZero bool) (float64, int, bool) {
	v, err := strconv.ParseFloat(text, 64)
	erange := false
	if err != nil {
		// Only a range error is possible for the syntax scanned above.
		erange = true
	} else if v == 0 && nonZero {
		erange = true
	}
	if neg {
		v = -v
	}
	return v, end, erange
}

// String2d is Redis's string2d: the whole of s must be a number, with no leading white
// space, neither overflowing nor underflowing to zero, and not NaN. It is how Redis reads
// ZADD scores, WEIGHTS and the other "valid float" arguments.
func String2d(s []byte) (float64, bool) {
	if len(s) == 0 || isSpace(s[0]) {
		return 0, false
	}
	v, n, erange := Parse(s)
	if n != len(s) || erange || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}
