package hll

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/clusterctl/clusterctl/node/datatype/internal/redistest"
	"github.com/clusterctl/clusterctl/node/resp"
)

// These tests run the same PFADD / PFCOUNT / PFMERGE on a real redis-server and on this
// package and require identical replies and identical stored bytes (GET of the key).

func pfadd(rc *redistest.Client, key string, elems [][]byte) resp.Value {
	args := []any{"PFADD", key}
	for _, e := range elems {
		args = append(args, e)
	}
	return rc.Do(args...)
}

func requireSameBytes(t *testing.T, rc *redistest.Client, key string, ours []byte, what string) {
	t.Helper()
	v := rc.Do("GET", key)
	if !bytes.Equal(v.Str, ours) {
		t.Fatalf("%s: stored bytes differ\nredis (%d bytes) %x\nours  (%d bytes) %x", what, len(v.Str), head(v.Str), len(ours), head(ours))
	}
}

func head(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

func randomElems(rng *rand.Rand, n, space int) [][]byte {
	elems := make([][]byte, n)
	for i := range elems {
		elems[i] = []byte(fmt.Sprintf("e%d", rng.IntN(space)))
	}
	return elems
}

func TestRedisAddAndCount(t *testing.T) {
	rc := redistest.Start(t)
	for _, sparseMax := range []int{DefaultSparseMaxBytes, 300, 0} {
		rc.MustOK("CONFIG", "SET", "hll-sparse-max-bytes", sparseMax)
		key := fmt.Sprint("hll:", sparseMax)
		rng := rand.New(rand.NewPCG(uint64(sparseMax), 1))
		var ours []byte
		for batch := 0; batch < 60; batch++ {
			// Batches grow so the value walks through sparse, promotion and dense.
			elems := randomElems(rng, 1+rng.IntN(10+batch*10), 50000)
			if batch == 0 {
				elems = nil // PFADD with no elements creates the key
			}
			reply := pfadd(rc, key, elems)
			var changed bool
			var err error
			ours, changed, err = Add(ours, elems, sparseMax)
			if err != nil {
				t.Fatal(err)
			}
			if want := boolInt(changed); reply.Int != want {
				t.Fatalf("batch %d: PFADD replied %d, we say %d", batch, reply.Int, want)
			}
			requireSameBytes(t, rc, key, ours, fmt.Sprintf("sparseMax=%d batch %d", sparseMax, batch))
			if batch%3 == 0 {
				rcard := rc.Do("PFCOUNT", key)
				card, updates, err := Count([][]byte{ours})
				if err != nil {
					t.Fatal(err)
				}
				if uint64(rcard.Int) != card {
					t.Fatalf("batch %d: PFCOUNT redis %d ours %d", batch, rcard.Int, card)
				}
				if updates[0] != nil {
					ours = updates[0]
				}
				requireSameBytes(t, rc, key, ours, fmt.Sprintf("after PFCOUNT, batch %d", batch))
			}
		}
		if !IsDense(ours) {
			t.Fatalf("sparseMax=%d: value never became dense", sparseMax)
		}
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func TestRedisMergeAndUnionCount(t *testing.T) {
	rc := redistest.Start(t)
	rng := rand.New(rand.NewPCG(5, 6))
	ours := map[string][]byte{}
	keys := []string{"a", "b", "c", "d", "e", "f"}
	sizes := []int{0, 3, 40, 400, 4000, 20}
	for i, k := range keys {
		elems := randomElems(rng, sizes[i], 1<<30)
		pfadd(rc, k, elems)
		h, _, err := Add(nil, elems, DefaultSparseMaxBytes)
		if err != nil {
			t.Fatal(err)
		}
		ours[k] = h
		requireSameBytes(t, rc, k, h, "source "+k)
	}
	for round := 0; round < 40; round++ {
		n := 1 + rng.IntN(4)
		srcNames := make([]string, n)
		for i := range srcNames {
			if rng.IntN(5) == 0 {
				srcNames[i] = "missing"
			} else {
				srcNames[i] = keys[rng.IntN(len(keys))]
			}
		}
		dest := fmt.Sprint("dest", round%5)
		if rng.IntN(3) == 0 {
			dest = keys[rng.IntN(len(keys))] // merging into one of the sources
		}
		args := []any{"PFMERGE", dest}
		srcs := make([][]byte, n)
		for i, s := range srcNames {
			args = append(args, s)
			srcs[i] = ours[s]
		}
		if v := rc.Do(args...); v.Err() != nil {
			t.Fatalf("PFMERGE: %v", v.Err())
		}
		merged, err := Merge(ours[dest], srcs, DefaultSparseMaxBytes)
		if err != nil {
			t.Fatal(err)
		}
		ours[dest] = merged
		requireSameBytes(t, rc, dest, merged, fmt.Sprintf("round %d PFMERGE %s %v", round, dest, srcNames))

		cargs := []any{"PFCOUNT"}
		var cvals [][]byte
		for _, s := range append([]string{dest}, srcNames...) {
			cargs = append(cargs, s)
			cvals = append(cvals, ours[s])
		}
		rcard := rc.Do(cargs...)
		card, _, err := Count(cvals)
		if err != nil {
			t.Fatal(err)
		}
		if uint64(rcard.Int) != card {
			t.Fatalf("round %d: PFCOUNT %v: redis %d ours %d", round, cargs[1:], rcard.Int, card)
		}
	}
}

// randomSparse builds a structurally valid but not necessarily canonical sparse value:
// random opcodes (short XZEROs, adjacent mergeable VALs) that cover 16384 registers.
func randomSparse(rng *rand.Rand) []byte {
	h := New()[:HeaderSize]
	left := Registers
	for left > 0 {
		switch rng.IntN(3) {
		case 0:
			n := min(1+rng.IntN(sparseZeroMaxLen), left)
			h = append(h, byte(n-1))
			left -= n
		case 1:
			n := min(1+rng.IntN(2000), left)
			h = append(h, 0x40|byte((n-1)>>8), byte(n-1))
			left -= n
		default:
			n := min(1+rng.IntN(sparseValMaxLen), left)
			h = append(h, valOp(uint8(1+rng.IntN(6)), n))
			left -= n
		}
	}
	if rng.IntN(2) == 0 {
		h[15] |= 0x80
	}
	return h
}

func randomDense(rng *rand.Rand) []byte {
	h := make([]byte, DenseSize)
	copy(h, "HYLL")
	h[15] = 0x80
	for i := 0; i < Registers; i++ {
		if rng.IntN(4) != 0 {
			denseSetRaw(h[HeaderSize:], i, uint8(rng.IntN(64)))
		}
	}
	return h
}

// TestRedisForeignValues loads values that Redis's own writer would not produce
// (non-canonical sparse, dense registers up to 63, corrupted opcodes) with SET and
// compares what PFADD, PFCOUNT and PFMERGE make of them.
func TestRedisForeignValues(t *testing.T) {
	rc := redistest.Start(t)
	rng := rand.New(rand.NewPCG(8, 9))
	hdr := "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80"
	var values [][]byte
	for i := 0; i < 30; i++ {
		values = append(values, randomSparse(rng))
	}
	for i := 0; i < 4; i++ {
		values = append(values, randomDense(rng))
	}
	for _, ops := range []string{"", "\x7f\xfe", "\x7f\xff\x00", "\x7f\xfd\x83", "\x40", "\x7f", "\x7e\xff\x3f\x3f\x3f\x3f"} {
		values = append(values, []byte(hdr+ops))
	}
	values = append(values, []byte("HYLL"), []byte("HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"), []byte("not an hll at all"))

	for i, val := range values {
		what := fmt.Sprintf("value %d (%x)", i, head(val))
		// PFCOUNT
		rc.MustOK("SET", "v", val)
		rcard := rc.Do("PFCOUNT", "v")
		card, updates, err := Count([][]byte{val})
		compareReply(t, what+" PFCOUNT", rcard, card, err)
		if err == nil && updates[0] != nil {
			requireSameBytes(t, rc, "v", updates[0], what+" PFCOUNT cache")
		}
		// PFCOUNT of a union with a real HLL
		rc.MustOK("SET", "v", val)
		rc.Do("DEL", "w")
		pfadd(rc, "w", [][]byte{[]byte("x"), []byte("y")})
		w, _, _ := Add(nil, [][]byte{[]byte("x"), []byte("y")}, DefaultSparseMaxBytes)
		rcard = rc.Do("PFCOUNT", "w", "v")
		card, _, err = Count([][]byte{w, val})
		compareReply(t, what+" PFCOUNT union", rcard, card, err)
		// PFADD
		elems := randomElems(rng, 1+rng.IntN(50), 1000)
		rc.MustOK("SET", "v", val)
		radd := pfadd(rc, "v", elems)
		added, changed, err := Add(val, elems, DefaultSparseMaxBytes)
		compareReply(t, what+" PFADD", radd, uint64(boolInt(changed)), err)
		if err == nil {
			requireSameBytes(t, rc, "v", added, what+" PFADD")
		}
		// PFMERGE into a fresh key and into the value itself
		rc.MustOK("SET", "v", val)
		rc.Do("DEL", "m")
		rmerge := rc.Do("PFMERGE", "m", "w", "v")
		merged, err := Merge(nil, [][]byte{w, val}, DefaultSparseMaxBytes)
		compareStatus(t, what+" PFMERGE", rmerge, err)
		if err == nil {
			requireSameBytes(t, rc, "m", merged, what+" PFMERGE")
		}
		rmerge = rc.Do("PFMERGE", "v", "w")
		merged, err = Merge(val, [][]byte{w}, DefaultSparseMaxBytes)
		compareStatus(t, what+" PFMERGE into it", rmerge, err)
		if err == nil {
			requireSameBytes(t, rc, "v", merged, what+" PFMERGE into it")
		}
	}
}

func compareReply(t *testing.T, what string, v resp.Value, n uint64, err error) {
	t.Helper()
	if v.Err() != nil || err != nil {
		if v.Err() == nil || err == nil || v.Err().Error() != err.Error() {
			t.Fatalf("%s: redis %q, ours %d / %v", what, v.String(), n, err)
		}
		return
	}
	if uint64(v.Int) != n {
		t.Fatalf("%s: redis %d, ours %d", what, v.Int, n)
	}
}

func compareStatus(t *testing.T, what string, v resp.Value, err error) {
	t.Helper()
	rerr := v.Err()
	if (rerr == nil) != (err == nil) || (rerr != nil && rerr.Error() != err.Error()) {
		t.Fatalf("%s: redis %q, ours %v", what, v.String(), err)
	}
}
