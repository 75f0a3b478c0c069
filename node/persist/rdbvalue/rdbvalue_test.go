package rdbvalue

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/node/datatype/hash"
	"github.com/clusterctl/clusterctl/node/datatype/set"
	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/persist/rdb"
)

func bs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func fields(kv ...string) []rdb.Field {
	var out []rdb.Field
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, rdb.Field{Name: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	return out
}

func manyInts(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, "%d", i)
	}
	return out
}

// TestLoadedEncodings checks the encodings values get on load, which decide OBJECT
// ENCODING after a restart as in redis-server (rdbLoadObject), whatever the file held.
func TestLoadedEncodings(t *testing.T) {
	lim := DefaultLimits()
	lim.Hash = hash.Limits{MaxListpackEntries: 4, MaxListpackValue: 8}
	lim.Set = set.Limits{MaxIntsetEntries: 4}
	for _, tc := range []struct {
		name string
		v    rdb.Value
		want keyspace.Encoding
		err  string
	}{
		{"string int", rdb.Value{Type: rdb.TypeString, Str: []byte("123")}, keyspace.EncInt, ""},
		{"string embstr", rdb.Value{Type: rdb.TypeString, Str: []byte("abc")}, keyspace.EncEmbstr, ""},
		{"string raw", rdb.Value{Type: rdb.TypeString, Str: bytes.Repeat([]byte("r"), 45)}, keyspace.EncRaw, ""},
		{"set of ints from a hash table", rdb.Value{Type: rdb.TypeSet, Encoding: rdb.EncodingPlain, Set: bs("1", "-2", "3")}, keyspace.EncIntset, ""},
		{"set of ints beyond the limit", rdb.Value{Type: rdb.TypeSet, Encoding: rdb.EncodingCompact, Set: manyInts(5)}, keyspace.EncHashtable, ""},
		{"set with a string", rdb.Value{Type: rdb.TypeSet, Set: bs("1", "x")}, keyspace.EncHashtable, ""},
		{"set with a duplicate", rdb.Value{Type: rdb.TypeSet, Set: bs("a", "a")}, 0, "twice"},
		{"small hash from a hash table", rdb.Value{Type: rdb.TypeHash, Encoding: rdb.EncodingPlain, Hash: fields("a", "1", "b", "2")}, keyspace.EncListpack, ""},
		{"hash with a long value", rdb.Value{Type: rdb.TypeHash, Encoding: rdb.EncodingCompact, Hash: fields("a", strings.Repeat("v", 9))}, keyspace.EncHashtable, ""},
		{"hash with too many fields", rdb.Value{Type: rdb.TypeHash, Hash: fields("a", "1", "b", "2", "c", "3", "d", "4", "e", "5")}, keyspace.EncHashtable, ""},
		{"hash with a duplicate", rdb.Value{Type: rdb.TypeHash, Hash: fields("a", "1", "a", "2")}, 0, "twice"},
		{"list", rdb.Value{Type: rdb.TypeList, List: bs("a", "b")}, keyspace.EncQuicklist, ""},
		{"zset from a skiplist that fits", rdb.Value{Type: rdb.TypeZSet, Encoding: rdb.EncodingPlain, ZSet: []rdb.ZMember{{Member: []byte("m"), Score: 1}}}, keyspace.EncListpack, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ToObject(&tc.v, lim)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Enc != tc.want {
				t.Fatalf("encoding %v, want %v", o.Enc, tc.want)
			}
			// And back: the same value, with the encoding the object has.
			back, err := FromObject(&o, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := describe(back), describe(tc.v); got != want {
				t.Fatalf("round trip gives %s, want %s", got, want)
			}
		})
	}
}

// describe renders a value with collections in a canonical order, ignoring encodings.
func describe(v rdb.Value) string {
	switch v.Type {
	case rdb.TypeSet:
		m := map[string]bool{}
		for _, s := range v.Set {
			m[string(s)] = true
		}
		return fmt.Sprint(m)
	case rdb.TypeHash:
		m := map[string]string{}
		for _, f := range v.Hash {
			m[string(f.Name)] = string(f.Value)
		}
		return fmt.Sprint(m)
	case rdb.TypeList:
		return string(bytes.Join(v.List, []byte{0}))
	case rdb.TypeZSet:
		return fmt.Sprint(v.ZSet)
	}
	return string(v.Str)
}
