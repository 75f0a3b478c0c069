package zset

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/clusterctl/clusterctl/node/keyspace/dict"
	"github.com/clusterctl/clusterctl/node/resp"
)

// Clone returns an independent copy, as keyspace.Object.Clone expects of a collection
// (COPY, MOVE between databases).
func (z *ZSet) Clone() any { return z.Copy() }

// nodeBytes approximates what one member costs besides its bytes: its skiplist node with
// the average 1.33 levels, and its entry in the member index.
const nodeBytes = 160

// MemoryUsage estimates the bytes the set occupies (keyspace.Sizer), for MEMORY USAGE
// and maxmemory. It is O(1).
func (z *ZSet) MemoryUsage() int64 {
	return 64 + z.memberBytes + int64(z.Len())*nodeBytes
}

// Scan is one ZSCAN call from cursor, calling fn for each entry it returns, and gives the
// next cursor (0 at the end). As in Redis, a set in the listpack encoding is returned
// whole in one call with cursor 0; otherwise the member index is walked with dictScan's
// cursor, stopping once count entries were found or after 10*count buckets.
func (z *ZSet) Scan(cursor uint64, count int64, fn func(Entry)) uint64 {
	if z.listpack {
		z.Each(false, func(e Entry) bool { fn(e); return true })
		return 0
	}
	emitted := int64(0)
	iterations := count * 10
	for {
		cursor = z.dict.Scan(cursor, func(e *dict.Entry[*node]) {
			fn(Entry{e.Value.member, e.Value.score})
			emitted++
		})
		iterations--
		if cursor == 0 || iterations <= 0 || emitted >= count {
			return cursor
		}
	}
}

// AppendScanScore formats a score as ZSCAN returns it: the bytes Redis keeps for it. A
// listpack holds integral scores within ±2^62 as integers (double2ll) and the others as
// d2string wrote them; the skiplist's scores go through d2string at scan time.
func AppendScanScore(dst []byte, score float64, listpack bool) []byte {
	if listpack && score >= -(math.MaxInt64/2) && score <= math.MaxInt64/2 && score == math.Trunc(score) {
		return strconv.AppendInt(dst, int64(score), 10)
	}
	return appendD2String(dst, score)
}

// appendD2String is Redis 7.0's d2string: integral values below 2^52 as integers, the
// rest as %.17g, keeping the sign of zero.
func appendD2String(dst []byte, v float64) []byte {
	const lo, hi = -4503599627370495, 4503599627370496
	if v == 0 {
		if math.Signbit(v) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	if v > lo && v < hi && v == math.Trunc(v) {
		return strconv.AppendInt(dst, int64(v), 10)
	}
	return resp.FormatDouble(dst, v)
}

// Random returns a random entry of a non-empty set (ZRANDMEMBER without a count, and
// with a negative one, where members may repeat).
func (z *ZSet) Random() Entry {
	e := z.dict.Random()
	return Entry{e.Value.member, e.Value.score}
}

// RandomDistinct returns count distinct random entries of a set with more than count
// members (ZRANDMEMBER with a positive count below ZCARD), in no particular order. Like
// Redis it copies the set and drops members when count is close to its size, and picks
// members until it has count of them when count is small.
func (z *ZSet) RandomDistinct(count int) []Entry {
	if count <= 0 {
		return nil
	}
	if count*3 > z.Len() {
		all := z.Entries()
		for i := 0; i < count; i++ {
			j := i + rand.IntN(len(all)-i)
			all[i], all[j] = all[j], all[i]
		}
		return all[:count]
	}
	seen := make(map[string]bool, count)
	out := make([]Entry, 0, count)
	for len(out) < count {
		e := z.Random()
		if !seen[e.Member] {
			seen[e.Member] = true
			out = append(out, e)
		}
	}
	return out
}
