package list

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/clusterctl/clusterctl/node/datatype/internal/redistest"
	"github.com/clusterctl/clusterctl/node/resp"
)

// TestMatchesRedis runs the same random list operations on a List and on redis-server
// and compares every result and, after each operation, the whole list.
func TestMatchesRedis(t *testing.T) {
	rc := redistest.Start(t)
	r := rand.New(rand.NewPCG(7, 7))
	l := &List{}
	elem := func() string { return []string{"a", "b", "c", "1", "22", ""}[r.IntN(6)] }
	idx := func() int64 { return int64(r.IntN(14) - 7) }
	for i := 0; i < 800; i++ {
		var got any
		var v resp.Value
		switch r.IntN(9) {
		case 0, 1:
			e := elem()
			head := r.IntN(2) == 0
			l.Push(e, head)
			v = rc.Do(map[bool]string{true: "LPUSH", false: "RPUSH"}[head], "k", e)
			got = int64(l.Len())
		case 2:
			head := r.IntN(2) == 0
			n := r.IntN(3) + 1
			got = l.PopN(n, head)
			v = rc.Do(map[bool]string{true: "LPOP", false: "RPOP"}[head], "k", n)
		case 3:
			e, p, after := elem(), elem(), r.IntN(2) == 0
			got = l.Insert(p, e, after)
			v = rc.Do("LINSERT", "k", map[bool]string{true: "AFTER", false: "BEFORE"}[after], p, e)
		case 4:
			c, e := int64(r.IntN(5)-2), elem()
			got = int64(l.Remove(c, e))
			v = rc.Do("LREM", "k", c, e)
		case 5:
			s, e := idx(), idx()
			l.Trim(s, e)
			v = rc.Do("LTRIM", "k", s, e)
		case 6:
			i, e := idx(), elem()
			got = l.Set(i, e)
			v = rc.Do("LSET", "k", i, e)
		case 7:
			e := elem()
			o := PosOptions{Rank: int64(r.IntN(5) - 2), Count: int64(r.IntN(4) - 1), MaxLen: int64(r.IntN(4))}
			if o.Rank == 0 {
				o.Rank = 1
			}
			got = l.Pos(e, o)
			v = rc.Do("LPOS", "k", e, "RANK", o.Rank, "COUNT", max(o.Count, 0), "MAXLEN", o.MaxLen)
			if o.Count == -1 {
				v = rc.Do("LPOS", "k", e, "RANK", o.Rank, "MAXLEN", o.MaxLen)
			}
		case 8:
			i := idx()
			e, ok := l.Index(i)
			got = [2]any{e, ok}
			v = rc.Do("LINDEX", "k", i)
		}
		checkReply(t, i, got, v)
		want := rc.Do("LRANGE", "k", 0, -1)
		if len(want.Elems) != l.Len() {
			t.Fatalf("step %d: length %d, redis %d", i, l.Len(), len(want.Elems))
		}
		for j, e := range l.Elements() {
			if string(want.Elems[j].Str) != e {
				t.Fatalf("step %d: element %d is %q, redis %q", i, j, e, want.Elems[j].Str)
			}
		}
	}
}

func checkReply(t *testing.T, step int, got any, v resp.Value) {
	t.Helper()
	switch g := got.(type) {
	case nil:
		return
	case int64:
		if v.Int != g {
			t.Fatalf("step %d: %d, redis %v", step, g, v)
		}
	case bool: // LINSERT: the new length or -1 (0 for no key); LSET: OK or an error
		ok := (v.Kind == resp.Integer && v.Int > 0) || v.Kind == resp.SimpleString
		if ok != g {
			t.Fatalf("step %d: %v, redis %v", step, g, v)
		}
	case []string:
		if len(g) == 0 && v.IsNull {
			return
		}
		if len(g) != len(v.Elems) {
			t.Fatalf("step %d: %q, redis %v", step, g, v)
		}
		for i := range g {
			if g[i] != string(v.Elems[i].Str) {
				t.Fatalf("step %d: %q, redis %v", step, g, v)
			}
		}
	case []int:
		ints := v.Elems
		if v.Kind == resp.Integer {
			ints = []resp.Value{v}
		}
		if len(g) != len(ints) {
			t.Fatalf("step %d: %v, redis %v", step, g, v)
		}
		for i := range g {
			if strconv.Itoa(g[i]) != strconv.FormatInt(ints[i].Int, 10) {
				t.Fatalf("step %d: %v, redis %v", step, g, v)
			}
		}
	case [2]any:
		if g[1].(bool) == v.IsNull || (!v.IsNull && g[0].(string) != string(v.Str)) {
			t.Fatalf("step %d: %v, redis %v", step, g, v)
		}
	}
}
