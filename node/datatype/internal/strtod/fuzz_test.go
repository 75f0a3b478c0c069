package strtod

import (
	"math"
	"strconv"
	"testing"
)

// FuzzParse checks that Parse never panics, consumes a prefix that parses to the same
// value on its own, and agrees with strconv on plain decimal numbers.
func FuzzParse(f *testing.F) {
	for _, tc := range glibc {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		v, n, erange := Parse(s)
		if n < 0 || n > len(s) {
			t.Fatalf("consumed %d of %d bytes", n, len(s))
		}
		if n == 0 {
			if v != 0 {
				t.Fatalf("no conversion but value %v", v)
			}
			return
		}
		v2, n2, erange2 := Parse(s[:n])
		if n2 != n || erange2 != erange || (v2 != v && !(math.IsNaN(v) && math.IsNaN(v2))) {
			t.Fatalf("prefix %q parses to %v/%d/%v, whole input to %v/%d/%v", s[:n], v2, n2, erange2, v, n, erange)
		}
		if d, ok := String2d(s); ok {
			if want, err := strconv.ParseFloat(string(s), 64); err == nil && isPlainDecimal(s) && want != d {
				t.Fatalf("String2d(%q) = %v, strconv %v", s, d, want)
			}
		}
	})
}

func isPlainDecimal(s []byte) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9') && c != '.' && c != '-' && c != 'e' && c != 'E' && c != '+' {
			return false
		}
	}
	return true
}
