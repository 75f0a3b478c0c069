package rdb

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/clusterctl/clusterctl/node/resp"
)

// Encodings Redis 7.0 still loads but no longer writes. Only 7.0 is installed here, so
// these test-only writers produce them; redis-check-rdb and redis-server 7.0 must accept
// the result (integration test) and our decoder must read it back.

// buildZiplist encodes elements as ziplist.c does, integers in their smallest encoding.
func buildZiplist(elems [][]byte) []byte {
	zl := make([]byte, zlHeaderSize)
	prev, last := 0, zlHeaderSize
	for _, e := range elems {
		start := len(zl)
		if prev < zlBigPrevlen {
			zl = append(zl, byte(prev))
		} else {
			zl = append(zl, zlBigPrevlen)
			zl = binary.LittleEndian.AppendUint32(zl, uint32(prev))
		}
		if v, ok := resp.ParseInt(e); ok && len(e) <= 32 {
			switch {
			case v >= 0 && v <= 12:
				zl = append(zl, zipImmMin+byte(v))
			case v >= math.MinInt8 && v <= math.MaxInt8:
				zl = append(zl, zipInt8, byte(v))
			case v >= math.MinInt16 && v <= math.MaxInt16:
				zl = append(zl, zipInt16, byte(v), byte(v>>8))
			case v >= -1<<23 && v < 1<<23:
				zl = append(zl, zipInt24, byte(v), byte(v>>8), byte(v>>16))
			case v >= math.MinInt32 && v <= math.MaxInt32:
				zl = append(zl, zipInt32)
				zl = binary.LittleEndian.AppendUint32(zl, uint32(v))
			default:
				zl = append(zl, zipInt64)
				zl = binary.LittleEndian.AppendUint64(zl, uint64(v))
			}
		} else {
			switch n := len(e); {
			case n <= 63:
				zl = append(zl, byte(n))
			case n <= 16383:
				zl = append(zl, zipStr14Bit|byte(n>>8), byte(n))
			default:
				zl = append(zl, zipStr32Bit)
				zl = binary.BigEndian.AppendUint32(zl, uint32(n))
			}
			zl = append(zl, e...)
		}
		prev, last = len(zl)-start, start
	}
	zl = append(zl, zlEnd)
	binary.LittleEndian.PutUint32(zl, uint32(len(zl)))
	binary.LittleEndian.PutUint32(zl[4:], uint32(last))
	binary.LittleEndian.PutUint16(zl[8:], uint16(min(len(elems), zlNumUnknown)))
	return zl
}

// buildZipmap encodes a hash as zipmap.c did (no free space after values).
func buildZipmap(fields []Field) []byte {
	zm := []byte{byte(min(len(fields), 254))}
	putLen := func(n int) {
		if n < 254 {
			zm = append(zm, byte(n))
		} else {
			zm = append(zm, 254)
			zm = binary.LittleEndian.AppendUint32(zm, uint32(n))
		}
	}
	for _, f := range fields {
		putLen(len(f.Name))
		zm = append(zm, f.Name...)
		putLen(len(f.Value))
		zm = append(zm, 0)
		zm = append(zm, f.Value...)
	}
	return append(zm, zlEnd)
}

func flattenFields(fields []Field) [][]byte {
	var out [][]byte
	for _, f := range fields {
		out = append(out, f.Name, f.Value)
	}
	return out
}

// zsetPairs lays a sorted set out as its ziplist did: in score order, which Redis trusts
// on load without checking.
func zsetPairs(z []ZMember) [][]byte {
	sorted := slices.Clone(z)
	slices.SortFunc(sorted, compareZMembers)
	var out [][]byte
	for _, m := range sorted {
		out = append(out, m.Member, appendScore(nil, m.Score))
	}
	return out
}

// writeLegacyValue writes v as legacy object type t.
func (w *writer) writeLegacyValue(t byte, v *Value) {
	switch t {
	case typeList:
		w.writeLen(uint64(len(v.List)))
		for _, e := range v.List {
			w.writeString(e)
		}
	case typeListZiplist:
		w.writeString(buildZiplist(v.List))
	case typeListQuicklist:
		var nodes [][][]byte
		for i := 0; i < len(v.List); i += 2 {
			nodes = append(nodes, v.List[i:min(i+2, len(v.List))])
		}
		w.writeLen(uint64(len(nodes)))
		for _, n := range nodes {
			w.writeString(buildZiplist(n))
		}
	case typeZSet:
		w.writeLen(uint64(len(v.ZSet)))
		for _, m := range v.ZSet {
			w.writeString(m.Member)
			switch {
			case math.IsInf(m.Score, 1):
				w.writeByte(254)
			case math.IsInf(m.Score, -1):
				w.writeByte(255)
			default:
				s := appendScore(nil, m.Score)
				w.writeByte(byte(len(s)))
				w.writeRaw(s)
			}
		}
	case typeZSetZiplist:
		w.writeString(buildZiplist(zsetPairs(v.ZSet)))
	case typeHashZipmap:
		w.writeString(buildZipmap(v.Hash))
	case typeHashZiplist:
		w.writeString(buildZiplist(flattenFields(v.Hash)))
	case typeStreamListpacks:
		s := v.Stream
		nodes := buildStreamNodes(s.Entries, 4096, 2)
		w.writeLen(uint64(len(nodes)))
		for _, n := range nodes {
			w.writeString(appendStreamID(nil, n.master))
			w.writeString(n.lp)
		}
		w.writeLen(uint64(len(s.Entries)))
		w.writeLen(s.LastID.Ms)
		w.writeLen(s.LastID.Seq)
		w.writeLen(uint64(len(s.Groups)))
		for _, g := range s.Groups {
			w.writeString(g.Name)
			w.writeLen(g.LastID.Ms)
			w.writeLen(g.LastID.Seq)
			w.writeLen(uint64(len(g.Pending)))
			for _, p := range g.Pending {
				w.writeRaw(appendStreamID(nil, p.ID))
				w.writeUint64LE(uint64(p.DeliveryTime))
				w.writeLen(p.DeliveryCount)
			}
			w.writeLen(uint64(len(g.Consumers)))
			for _, c := range g.Consumers {
				w.writeString(c.Name)
				w.writeUint64LE(uint64(c.SeenTime))
				var owned []StreamID
				for _, p := range g.Pending {
					if bytes.Equal(p.Consumer, c.Name) {
						owned = append(owned, p.ID)
					}
				}
				w.writeLen(uint64(len(owned)))
				for _, id := range owned {
					w.writeRaw(appendStreamID(nil, id))
				}
			}
		}
	default:
		w.writeValue(t, v)
	}
}

// legacyKey is a key to write in a legacy encoding.
type legacyKey struct {
	t   byte
	e   *Entry
	sec bool // expire with the seconds opcode of RDB versions before 3
}

const legacyLibraryCode = "redis.register_function('oldfunc', function(keys, args) return 2 end)"

// legacyKeys lists the legacy keys with the values Redis 7.0 loads them as; the version 1
// stream carries the counters 7.0 derives when loading it.
func legacyKeys() []legacyKey {
	long := bytes.Repeat([]byte("L"), 300)
	list := [][]byte{[]byte("x"), []byte("1"), []byte("12"), []byte("13"), []byte("-100"), []byte("-300"),
		[]byte("70000"), []byte("-9000000"), []byte("5000000000"), []byte(""), bytes.Repeat([]byte("s"), 100), long, []byte("after long")}
	hash := []Field{{[]byte("a"), []byte("1")}, {[]byte("b"), long}, {long, []byte("c")}, {[]byte("n"), []byte("-7")}}
	zset := []ZMember{{[]byte("one"), 1}, {[]byte("half"), 2.5}, {[]byte("neg"), -30000}, {[]byte("pinf"), math.Inf(1)},
		{[]byte("ninf"), math.Inf(-1)}, {[]byte("tiny"), 1e-300}}
	entries := []StreamEntry{
		{ID: StreamID{1000, 0}, Fields: []Field{{[]byte("a"), []byte("1")}}},
		{ID: StreamID{1000, 1}, Fields: []Field{{[]byte("a"), []byte("2")}}},
		{ID: StreamID{1001, 0}, Fields: []Field{{[]byte("b"), []byte("x")}, {[]byte("c"), []byte("y")}}},
		{ID: StreamID{1002, 7}, Fields: []Field{{[]byte("a"), []byte("3")}}},
		{ID: StreamID{1500, 0}, Fields: []Field{{[]byte("a"), []byte("4")}}},
	}
	stream := &Stream{
		Entries: entries, LastID: StreamID{1600, 0}, FirstID: entries[0].ID, EntriesAdded: uint64(len(entries)),
		Groups: []StreamGroup{
			// Read up to the first entry: 7.0 can tell it has read 1.
			{Name: []byte("at-first"), LastID: StreamID{1000, 0}, EntriesRead: 1,
				Pending: []StreamPending{{ID: StreamID{1000, 0}, Consumer: []byte("c1"), DeliveryTime: 1700000000000, DeliveryCount: 3}},
				Consumers: []StreamConsumer{{Name: []byte("c1"), SeenTime: 1700000000500, ActiveTime: 1700000000500},
					{Name: []byte("idle"), SeenTime: 1600000000000, ActiveTime: 1600000000000}}},
			// In the middle: unknown.
			{Name: []byte("middle"), LastID: StreamID{1001, 0}, EntriesRead: EntriesReadUnknown},
			// At the last ID: everything.
			{Name: []byte("at-last"), LastID: StreamID{1600, 0}, EntriesRead: int64(len(entries))},
			// Before the first entry: nothing read yet.
			{Name: []byte("before"), LastID: StreamID{0, 0}, EntriesRead: 0},
		},
	}
	empty := &Stream{LastID: StreamID{7, 7}, FirstID: maxStreamID,
		Groups: []StreamGroup{{Name: []byte("g"), LastID: StreamID{7, 7}, EntriesRead: 0}}}
	kv := func(key string, v Value) *Entry { return &Entry{Key: []byte(key), Value: v} }
	return []legacyKey{
		{t: typeList, e: kv("list:linked", Value{Type: TypeList, List: list})},
		{t: typeListZiplist, e: kv("list:ziplist", Value{Type: TypeList, List: list})},
		{t: typeListQuicklist, e: kv("list:quicklist", Value{Type: TypeList, List: list})},
		{t: typeSet, e: kv("set:plain", Value{Type: TypeSet, Set: [][]byte{[]byte("a"), []byte("b"), []byte("7")}})},
		{t: typeZSet, e: kv("zset:text", Value{Type: TypeZSet, ZSet: zset})},
		{t: typeZSetZiplist, e: kv("zset:ziplist", Value{Type: TypeZSet, ZSet: zset})},
		{t: typeHashZipmap, e: kv("hash:zipmap", Value{Type: TypeHash, Hash: hash})},
		{t: typeHashZiplist, e: kv("hash:ziplist", Value{Type: TypeHash, Hash: hash})},
		{t: typeStreamListpacks, e: kv("stream:v1", Value{Type: TypeStream, Stream: stream})},
		{t: typeStreamListpacks, e: kv("stream:v1:empty", Value{Type: TypeStream, Stream: empty})},
		{t: typeString, sec: true, e: &Entry{Key: []byte("expire:seconds"), Value: Value{Type: TypeString, Str: []byte("v")},
			ExpireAt: 2000000000 * 1000}}, // the seconds opcode holds an int32
		{t: typeString, e: &Entry{DB: 2, Key: []byte("db2"), Value: Value{Type: TypeString, Str: []byte("v")}, ExpireAt: farFutureMs}},
	}
}

const farFutureMs = 4102444800123

// legacyFile writes an RDB version 9 file holding every legacy key and a function library
// in the format of Redis 7.0's release candidates. It returns the file, the keys as Redis
// 7.0 loads them, and the library as 7.0 translates it.
func legacyFile() (file []byte, entries []*Entry, library string) {
	var buf bytes.Buffer
	cw := &crcWriter{w: &buf}
	w := writer{opts: DefaultOptions()}
	w.writeRaw([]byte("REDIS0009"))
	w.writeByte(opAux)
	w.writeString([]byte("redis-ver"))
	w.writeString([]byte("6.2.14"))
	w.writeByte(opFunctionPreGA)
	w.writeString([]byte("oldlib"))
	w.writeString([]byte("LUA"))
	w.writeLen(1)
	w.writeString([]byte("a description"))
	w.writeString([]byte(legacyLibraryCode))
	db := -1
	for _, k := range legacyKeys() {
		if k.e.DB != db {
			db = k.e.DB
			w.writeByte(opSelectDB)
			w.writeLen(uint64(db))
		}
		if k.e.ExpireAt != 0 {
			if k.sec {
				w.writeByte(opExpireTime)
				w.writeRaw(binary.LittleEndian.AppendUint32(nil, uint32(k.e.ExpireAt/1000)))
			} else {
				w.writeByte(opExpireTimeMs)
				w.writeUint64LE(uint64(k.e.ExpireAt))
			}
		}
		w.writeByte(k.t)
		w.writeString(k.e.Key)
		w.writeLegacyValue(k.t, &k.e.Value)
		entries = append(entries, k.e)
	}
	w.writeByte(opEOF)
	cw.Write(w.buf)
	binary.Write(&buf, binary.LittleEndian, cw.crc)
	return buf.Bytes(), entries, "#!LUA name=oldlib\n" + legacyLibraryCode
}

func TestDecodeLegacyEncodings(t *testing.T) {
	file, want, library := legacyFile()
	d := NewDecoder(bytes.NewReader(file))
	for i := 0; ; i++ {
		e, err := d.Next()
		if i == len(want) {
			if err == nil || err.Error() != "EOF" {
				t.Fatalf("after the last key: %v", err)
			}
			break
		}
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		w := want[i]
		if string(e.Key) != string(w.Key) || e.DB != w.DB || e.ExpireAt != w.ExpireAt {
			t.Errorf("key %d: db %d %q expire %d, want db %d %q expire %d", i, e.DB, e.Key, e.ExpireAt, w.DB, w.Key, w.ExpireAt)
		}
		if g, wv := normalize(e.Value), normalize(w.Value); !reflect.DeepEqual(g, wv) {
			t.Errorf("key %q: decoded\n %+v\nwant %+v", e.Key, g, wv)
			if g.Stream != nil {
				t.Errorf("stream got %+v\nwant %+v", *g.Stream, *wv.Stream)
			}
		}
	}
	if d.Version() != 9 || len(d.Functions()) != 1 || string(d.Functions()[0]) != library {
		t.Errorf("version %d, functions %q", d.Version(), d.Functions())
	}
}

// TestLegacyBlobsRejectCorruption flips bytes in ziplists and zipmaps: each flip is
// caught or decodes to something, never a panic.
func TestLegacyBlobsRejectCorruption(t *testing.T) {
	zl := buildZiplist([][]byte{[]byte("a"), []byte("1"), []byte("70000"), bytes.Repeat([]byte("x"), 300), []byte("-9")})
	if got, err := parseZiplist(zl); err != nil || len(got) != 5 {
		t.Fatalf("parseZiplist = %v, %v", got, err)
	}
	zm := buildZipmap([]Field{{[]byte("k"), []byte("v")}, {[]byte("long"), bytes.Repeat([]byte("y"), 300)}})
	if got, err := parseZipmap(zm); err != nil || len(got) != 2 {
		t.Fatalf("parseZipmap = %v, %v", got, err)
	}
	for i := range zl {
		c := bytes.Clone(zl)
		c[i] ^= 0xa5
		parseZiplist(c)
	}
	for i := range zm {
		c := bytes.Clone(zm)
		c[i] ^= 0xa5
		parseZipmap(c)
	}
	is := buildIntset([]int64{-5, 3, 70000})
	if got, err := parseIntset(is); err != nil || !reflect.DeepEqual(got, []int64{-5, 3, 70000}) {
		t.Fatalf("parseIntset = %v, %v", got, err)
	}
	for _, bad := range [][]byte{is[:len(is)-1], buildIntset(nil), buildIntset([]int64{3, 3})} {
		if _, err := parseIntset(bad); err == nil {
			t.Errorf("parseIntset(%x) accepted", bad)
		}
	}
}
