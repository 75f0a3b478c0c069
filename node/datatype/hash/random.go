package hash

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/clusterctl/clusterctl/node/resp"
)

// Redis's error texts for HRANDFIELD's arguments (hrandfieldCommand).
var (
	errNotInt     = errors.New("ERR value is not an integer or out of range")
	errSyntax     = errors.New("ERR syntax error")
	errOutOfRange = errors.New("ERR value is out of range")
	errCountRange = errors.New("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
)

// RandArgs are HRANDFIELD's arguments after the key.
type RandArgs struct {
	// HasCount is false for the form without a count, which replies one bulk string.
	HasCount   bool
	Count      int64
	WithValues bool
}

// ParseRandArgs parses HRANDFIELD's optional count and WITHVALUES, with Redis's errors:
// the count must fit in -LONG_MAX..LONG_MAX, and with WITHVALUES in half that, since the
// reply has two elements per field.
func ParseRandArgs(args [][]byte) (RandArgs, error) {
	var a RandArgs
	if len(args) == 0 {
		return a, nil
	}
	n, ok := resp.ParseInt(args[0])
	if !ok {
		return a, errNotInt
	}
	if n == math.MinInt64 {
		return a, errCountRange
	}
	a.HasCount, a.Count = true, n
	switch {
	case len(args) > 2 || (len(args) == 2 && !keyword(args[1], "withvalues")):
		return a, errSyntax
	case len(args) == 2:
		a.WithValues = true
		if n < -math.MaxInt64/2 || n > math.MaxInt64/2 {
			return a, errOutOfRange
		}
	}
	return a, nil
}

func keyword(arg []byte, word string) bool {
	if i := bytes.IndexByte(arg, 0); i >= 0 {
		arg = arg[:i]
	}
	return bytes.EqualFold(arg, []byte(word))
}

// Random returns a random field (HRANDFIELD without a count); ok is false when the hash
// is empty.
func (h *Hash) Random() (f Field, ok bool) {
	if h.ht != nil {
		e := h.ht.Random()
		if e == nil {
			return Field{}, false
		}
		return Field{e.Key(), e.Value}, true
	}
	if len(h.lp) == 0 {
		return Field{}, false
	}
	return h.lp[rand.IntN(len(h.lp))], true
}

// RandomFields is HRANDFIELD with a count (hrandfieldWithCountCommand): for a negative
// count, -count fields drawn independently (repeats possible); for a count at least the
// hash's size, every field in order; otherwise count distinct fields, in the listpack's
// order for a listpack, as lpRandomPairsUnique returns them.
func (h *Hash) RandomFields(count int64) []Field {
	size := h.Len()
	if count == 0 || size == 0 {
		return nil
	}
	if count < 0 {
		n := -count
		out := make([]Field, 0, min(n, 1<<20))
		for i := int64(0); i < n; i++ {
			f, _ := h.Random()
			out = append(out, f)
		}
		return out
	}
	if count >= int64(size) {
		return h.Fields()
	}
	k := int(count)
	if h.ht == nil {
		idx := sampleIndexes(size, k)
		sort.Ints(idx)
		out := make([]Field, k)
		for i, j := range idx {
			out[i] = h.lp[j]
		}
		return out
	}
	if k*3 > size {
		// Many of them: copy all and drop random ones (CASE 3).
		all := h.Fields()
		rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		return all[:k]
	}
	// Few of them: draw until enough distinct ones (CASE 4).
	seen := make(map[string]bool, k)
	out := make([]Field, 0, k)
	for len(out) < k {
		e := h.ht.Random()
		if seen[e.Key()] {
			continue
		}
		seen[e.Key()] = true
		out = append(out, Field{e.Key(), e.Value})
	}
	return out
}

// sampleIndexes returns k distinct random indexes below n.
func sampleIndexes(n, k int) []int {
	p := rand.Perm(n)
	return p[:k]
}
