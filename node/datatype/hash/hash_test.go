package hash

import (
	"errors"
	"slices"
	"sort"
	"strconv"
	"testing"
)

func names(fs []Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

func TestListpackKeepsInsertionOrder(t *testing.T) {
	h := New()
	lim := DefaultLimits
	for _, f := range []string{"c", "a", "b"} {
		if h.Set(f, "v"+f, lim) {
			t.Fatalf("Set(%q) reported an update", f)
		}
	}
	if !h.Set("a", "new", lim) {
		t.Fatal("updating a reported an add")
	}
	if got := names(h.Fields()); !slices.Equal(got, []string{"c", "a", "b"}) {
		t.Fatalf("order %q", got)
	}
	if v, _ := h.Get("a"); v != "new" {
		t.Fatalf("a = %q", v)
	}
	h.Delete([]byte("c"))
	h.Set("c", "again", lim)
	if got := names(h.Fields()); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("order after re-adding %q", got)
	}
	if h.Encoding() != "listpack" {
		t.Fatalf("encoding %s", h.Encoding())
	}
}

func TestConversion(t *testing.T) {
	lim := Limits{MaxListpackEntries: 3, MaxListpackValue: 5}
	for _, tc := range []struct {
		name string
		do   func(h *Hash)
		want string
	}{
		{"at the entries limit", func(h *Hash) {
			for i := 0; i < 3; i++ {
				h.Set(strconv.Itoa(i), "v", lim)
			}
		}, "listpack"},
		{"past the entries limit", func(h *Hash) {
			for i := 0; i < 4; i++ {
				h.Set(strconv.Itoa(i), "v", lim)
			}
		}, "hashtable"},
		{"long value", func(h *Hash) { h.Set("f", "123456", lim) }, "hashtable"},
		{"long field", func(h *Hash) { h.Set("123456", "v", lim) }, "hashtable"},
		{"value at the limit", func(h *Hash) { h.Set("12345", "12345", lim) }, "listpack"},
		{"try conversion without a change", func(h *Hash) { h.TryConversion(lim, [][]byte{[]byte("f"), []byte("123456")}) }, "hashtable"},
		{"never back", func(h *Hash) {
			h.Set("f", "123456", lim)
			h.Delete([]byte("f"))
			h.Set("g", "1", lim)
		}, "hashtable"},
		{"zero entries", func(h *Hash) { h.Set("f", "v", Limits{MaxListpackEntries: 0, MaxListpackValue: 64}) }, "hashtable"},
	} {
		h := New()
		tc.do(h)
		if h.Encoding() != tc.want {
			t.Errorf("%s: encoding %s, want %s", tc.name, h.Encoding(), tc.want)
		}
	}
}

func TestHashTableOperations(t *testing.T) {
	lim := Limits{MaxListpackEntries: 2, MaxListpackValue: 64}
	h := New()
	want := map[string]string{}
	for i := 0; i < 500; i++ {
		f, v := "f"+strconv.Itoa(i), strconv.Itoa(i*i)
		h.Set(f, v, lim)
		want[f] = v
	}
	for i := 0; i < 500; i += 3 {
		f := "f" + strconv.Itoa(i)
		if !h.Delete([]byte(f)) {
			t.Fatalf("Delete(%s) found nothing", f)
		}
		delete(want, f)
	}
	if h.Len() != len(want) {
		t.Fatalf("Len %d, want %d", h.Len(), len(want))
	}
	// A full scan returns every field at least once.
	seen := map[string]string{}
	var cursor uint64
	for {
		cursor = h.Scan(cursor, 10, func(n, v string) { seen[n] = v })
		if cursor == 0 {
			break
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("scan saw %d fields, want %d", len(seen), len(want))
	}
	for f, v := range want {
		if seen[f] != v {
			t.Fatalf("scan %s = %q, want %q", f, seen[f], v)
		}
		if got, ok := h.GetBytes([]byte(f)); !ok || got != v {
			t.Fatalf("GetBytes(%s) = %q, %v", f, got, ok)
		}
	}
	c := h.Clone().(*Hash)
	c.Set("extra", "1", lim)
	if h.Exists([]byte("extra")) || c.Len() != h.Len()+1 {
		t.Fatal("clone shares state with the original")
	}
	if h.MemoryUsage() <= 0 || c.MemoryUsage() <= h.MemoryUsage() {
		t.Fatalf("memory usage %d, clone %d", h.MemoryUsage(), c.MemoryUsage())
	}
}

func TestRandomFields(t *testing.T) {
	for _, enc := range []Limits{DefaultLimits, {MaxListpackEntries: 1, MaxListpackValue: 64}} {
		h := New()
		for i := 0; i < 20; i++ {
			h.Set("f"+strconv.Itoa(i), "v"+strconv.Itoa(i), enc)
		}
		for _, count := range []int64{1, 5, 7, 19, 20, 100, -3, -50} {
			got := h.RandomFields(count)
			wantLen := int(min(count, 20))
			if count < 0 {
				wantLen = int(-count)
			}
			if len(got) != wantLen {
				t.Fatalf("%s count %d: %d fields", h.Encoding(), count, len(got))
			}
			distinct := map[string]bool{}
			for _, f := range got {
				if v, _ := h.Get(f.Name); v != f.Value {
					t.Fatalf("field %q with value %q, hash has %q", f.Name, f.Value, v)
				}
				distinct[f.Name] = true
			}
			if count > 0 && len(distinct) != len(got) {
				t.Fatalf("count %d: repeated fields", count)
			}
			if count > 0 && h.IsListpack() {
				// A listpack sample keeps the listpack's order.
				idx := make([]int, len(got))
				for i, f := range got {
					idx[i], _ = strconv.Atoi(f.Name[1:])
				}
				if !sort.IntsAreSorted(idx) {
					t.Fatalf("listpack sample out of order: %v", idx)
				}
			}
		}
	}
	if got := New().RandomFields(5); len(got) != 0 {
		t.Fatal("fields from an empty hash")
	}
}

func TestParseRandArgs(t *testing.T) {
	args := func(s ...string) [][]byte {
		var out [][]byte
		for _, a := range s {
			out = append(out, []byte(a))
		}
		return out
	}
	for _, tc := range []struct {
		in   []string
		want RandArgs
		err  error
	}{
		{nil, RandArgs{}, nil},
		{[]string{"5"}, RandArgs{HasCount: true, Count: 5}, nil},
		{[]string{"-5", "withvalues"}, RandArgs{HasCount: true, Count: -5, WithValues: true}, nil},
		{[]string{"x"}, RandArgs{}, errNotInt},
		{[]string{"1", "bogus"}, RandArgs{}, errSyntax},
		{[]string{"1", "withvalues", "x"}, RandArgs{}, errSyntax},
		{[]string{"-9223372036854775808"}, RandArgs{}, errCountRange},
		{[]string{"4611686018427387904", "WITHVALUES"}, RandArgs{}, errOutOfRange},
	} {
		got, err := ParseRandArgs(args(tc.in...))
		if !errors.Is(err, tc.err) || (err == nil && got != tc.want) {
			t.Errorf("ParseRandArgs(%q) = %+v, %v; want %+v, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
