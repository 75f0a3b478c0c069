package hash

import (
	"bytes"
	"testing"
)

func FuzzParseRandArgs(f *testing.F) {
	for _, s := range []string{"", "5", "-5 WITHVALUES", "x", "1 bogus", "-9223372036854775808", "4611686018427387904 withvalues"} {
		f.Add([]byte(s))
	}
	h := New()
	for _, n := range []string{"a", "b", "c"} {
		h.Set(n, n+n, DefaultLimits)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var args [][]byte
		if len(raw) > 0 {
			args = bytes.Split(raw, []byte(" "))
		}
		a, err := ParseRandArgs(args)
		if err != nil {
			return
		}
		if !a.HasCount {
			if len(args) != 0 {
				t.Fatalf("%q parsed without a count", raw)
			}
			return
		}
		// Bound the work: the count only decides how many fields come back.
		count := max(min(a.Count, 10), -10)
		got := h.RandomFields(count)
		if count >= 0 && len(got) != int(min(count, 3)) || count < 0 && len(got) != int(-count) {
			t.Fatalf("count %d: %d fields", count, len(got))
		}
	})
}
