package rdb

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestCRC64(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
	}{
		{"", 0},
		{"123456789", 0xe9c6d914c4b8d9ca}, // crc64.c's own check value
	}
	for _, tt := range tests {
		if got := CRC64(0, []byte(tt.in)); got != tt.want {
			t.Errorf("CRC64(%q) = %016x, want %016x", tt.in, got, tt.want)
		}
	}
	// Incremental updates equal one pass.
	s := []byte("123456789")
	if got := CRC64(CRC64(0, s[:4]), s[4:]); got != 0xe9c6d914c4b8d9ca {
		t.Errorf("incremental CRC64 = %016x", got)
	}
}

func TestLZFRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 5000)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	tests := []struct {
		name     string
		in       []byte
		compress bool // expected to shrink by at least 4 bytes
	}{
		{"repeated byte", bytes.Repeat([]byte("a"), 1000), true},
		{"repeated phrase", bytes.Repeat([]byte("hello world "), 300), true},
		{"long run past max ref", bytes.Repeat([]byte("xyz"), 5000), true},
		{"random", random, false},
		{"short", []byte("abcabcabcabcabcabcabcabc"), true},
		{"distance past 8k", append(append(append([]byte{}, random...), bytes.Repeat([]byte{0}, 9000)...), random[:100]...), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := lzfCompress(tt.in, len(tt.in)-4)
			if (c != nil) != tt.compress {
				t.Fatalf("compressed = %v, want %v", c != nil, tt.compress)
			}
			if c == nil {
				return
			}
			got, err := lzfDecompress(c, len(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.in) {
				t.Fatal("round trip differs")
			}
		})
	}
}

func TestLZFDecompressRejects(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		n    int
	}{
		{"empty", nil, 1},
		{"literal past input", []byte{5, 'a'}, 6},
		{"reference before start", []byte{0, 'a', 0x20, 5}, 4},
		{"reference without offset", []byte{0, 'a', 0x20}, 4},
		{"long reference without length", []byte{0, 'a', 0xe0}, 20},
		{"output longer than declared", []byte{2, 'a', 'b', 'c'}, 2},
		{"output shorter than declared", []byte{2, 'a', 'b', 'c'}, 4},
		{"lying length", []byte{0, 'a'}, 1 << 30},
	}
	for _, tt := range tests {
		if _, err := lzfDecompress(tt.in, tt.n); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	// An overlapping reference: "a" then copy 3 bytes from 1 back gives "aaaa".
	got, err := lzfDecompress([]byte{0, 'a', 0x20, 0}, 4)
	if err != nil || string(got) != "aaaa" {
		t.Errorf("overlap: %q, %v", got, err)
	}
}

func TestLengthEncoding(t *testing.T) {
	tests := []struct {
		n    uint64
		want string
	}{
		{0, "00"},
		{63, "3f"},
		{64, "4040"},
		{16383, "7fff"},
		{16384, "8000004000"},
		{math.MaxUint32, "80ffffffff"},
		{math.MaxUint32 + 1, "810000000100000000"},
	}
	for _, tt := range tests {
		var w writer
		w.writeLen(tt.n)
		if got := hex.EncodeToString(w.buf); got != tt.want {
			t.Errorf("writeLen(%d) = %s, want %s", tt.n, got, tt.want)
		}
		got, err := newBytesReader(w.buf).readLen()
		if err != nil || got != tt.n {
			t.Errorf("readLen(%s) = %d, %v", tt.want, got, err)
		}
	}
}

func TestStringEncoding(t *testing.T) {
	long := strings.Repeat("abcd", 20)
	tests := []struct {
		in       string
		compress bool
		want     string // hex prefix of the encoding
	}{
		{"0", true, "c000"},
		{"-128", true, "c080"},
		{"127", true, "c07f"},
		{"128", true, "c18000"},
		{"-32769", true, "c2ff7fffff"},
		{"2147483647", true, "c2ffffff7f"},
		{"2147483648", true, "0a"}, // beyond 32 bits: verbatim
		{"007", true, "03"},        // not canonical: verbatim
		{"-0", true, "02"},
		{"12345678901", true, "0b"},
		{long, true, "c3"},
		{long, false, "4050"},
		{"abcdefghijklmnopqrstu", true, "15"}, // incompressible: verbatim
	}
	for _, tt := range tests {
		w := writer{opts: Options{Compression: tt.compress}}
		w.writeString([]byte(tt.in))
		if got := hex.EncodeToString(w.buf); !strings.HasPrefix(got, tt.want) {
			t.Errorf("writeString(%q) = %s, want prefix %s", tt.in, got, tt.want)
		}
		got, err := newBytesReader(w.buf).readString()
		if err != nil || string(got) != tt.in {
			t.Errorf("readString of %q = %q, %v", tt.in, got, err)
		}
	}
}

func TestListpackIntegers(t *testing.T) {
	values := []int64{0, 127, 128, -1, -4096, 4095, 4096, -4097, 32767, -32768, 32768,
		8388607, -8388608, 8388608, math.MaxInt32, math.MinInt32, math.MaxInt32 + 1,
		math.MaxInt64, math.MinInt64}
	lp := newListpackBuilder()
	for _, v := range values {
		lp.appendString([]byte(strconv.FormatInt(v, 10)))
	}
	lp.appendString([]byte("not a number"))
	lp.appendString(bytes.Repeat([]byte("x"), 100))
	lp.appendString(bytes.Repeat([]byte("y"), 5000))
	blob := lp.finish()
	elems, err := collectListpack(blob)
	if err != nil {
		t.Fatal(err)
	}
	if len(elems) != len(values)+3 {
		t.Fatalf("%d elements", len(elems))
	}
	for i, v := range values {
		if !elems[i].isInt || elems[i].num != v {
			t.Errorf("element %d = %+v, want integer %d", i, elems[i], v)
		}
	}
	if string(elems[len(values)].str) != "not a number" || len(elems[len(values)+2].str) != 5000 {
		t.Error("string elements differ")
	}
	// Each corruption of a byte must be caught or decode to something, never panic.
	for i := range blob {
		c := bytes.Clone(blob)
		c[i] ^= 0x55
		collectListpack(c)
	}
}

// sampleValues covers every type and, with DefaultOptions, every encoding Redis 7.0
// writes.
func sampleValues() map[string]Value {
	bigList := make([][]byte, 3000)
	for i := range bigList {
		bigList[i] = []byte("element-" + strconv.Itoa(i))
	}
	intSet := [][]byte{[]byte("3"), []byte("-70000"), []byte("1"), []byte("9000000000")}
	bigSet := make([][]byte, 600)
	for i := range bigSet {
		bigSet[i] = []byte(strconv.Itoa(i))
	}
	var bigHash []Field
	for i := 0; i < 600; i++ {
		bigHash = append(bigHash, Field{[]byte("f" + strconv.Itoa(i)), []byte(strconv.Itoa(i * 7))})
	}
	var bigZSet []ZMember
	for i := 0; i < 200; i++ {
		bigZSet = append(bigZSet, ZMember{[]byte("m" + strconv.Itoa(i)), float64(i) / 3})
	}
	stream := &Stream{
		LastID:       StreamID{1700000000500, 3},
		MaxDeletedID: StreamID{1700000000000, 1},
		EntriesAdded: 260,
		Groups: []StreamGroup{{
			Name: []byte("g1"), LastID: StreamID{1700000000002, 0}, EntriesRead: 3,
			Pending: []StreamPending{
				{ID: StreamID{1700000000001, 0}, Consumer: []byte("alice"), DeliveryTime: 1700000001000, DeliveryCount: 2},
				{ID: StreamID{1700000000002, 0}, Consumer: []byte("bob"), DeliveryTime: 1700000002000, DeliveryCount: 1},
			},
			Consumers: []StreamConsumer{{Name: []byte("alice"), SeenTime: 1700000001000, ActiveTime: 1700000001000},
				{Name: []byte("bob"), SeenTime: 1700000002000, ActiveTime: 1700000002000},
				{Name: []byte("carol"), SeenTime: 1700000003000, ActiveTime: 1700000003000}},
		}, {
			Name: []byte("g2"), LastID: StreamID{}, EntriesRead: EntriesReadUnknown,
		}},
	}
	for i := 0; i < 250; i++ {
		fields := []Field{{[]byte("name"), []byte("n" + strconv.Itoa(i))}, {[]byte("n"), []byte(strconv.Itoa(i))}}
		if i%7 == 0 {
			fields = append(fields, Field{[]byte("extra"), bytes.Repeat([]byte("e"), i)})
		}
		stream.Entries = append(stream.Entries, StreamEntry{ID: StreamID{1700000000001 + uint64(i/2), uint64(i % 2)}, Fields: fields})
	}
	stream.FirstID = stream.Entries[0].ID
	return map[string]Value{
		"str:int":            {Type: TypeString, Str: []byte("12345")},
		"str:bigint":         {Type: TypeString, Str: []byte("-9223372036854775808")},
		"str:embstr":         {Type: TypeString, Str: []byte("hello")},
		"str:raw":            {Type: TypeString, Str: bytes.Repeat([]byte("r"), 100)},
		"str:binary":         {Type: TypeString, Str: []byte{0, 1, 2, 0xff, '\r', '\n'}},
		"str:empty":          {Type: TypeString, Str: []byte{}},
		"list:small":         {Type: TypeList, List: [][]byte{[]byte("a"), []byte("1"), []byte("-5000"), {}}},
		"list:big":           {Type: TypeList, List: bigList},
		"set:intset":         {Type: TypeSet, Set: intSet},
		"set:strings":        {Type: TypeSet, Set: [][]byte{[]byte("x"), []byte("y"), []byte("1")}},
		"set:bigints":        {Type: TypeSet, Set: bigSet},
		"hash:small":         {Type: TypeHash, Hash: []Field{{[]byte("a"), []byte("1")}, {[]byte("b"), []byte("two")}}},
		"hash:longval":       {Type: TypeHash, Hash: []Field{{[]byte("a"), bytes.Repeat([]byte("v"), 65)}}},
		"hash:big":           {Type: TypeHash, Hash: bigHash},
		"hash:forced-plain":  {Type: TypeHash, Encoding: EncodingPlain, Hash: []Field{{[]byte("f"), []byte("v")}}},
		"set:forced-plain":   {Type: TypeSet, Encoding: EncodingPlain, Set: [][]byte{[]byte("1"), []byte("2")}},
		"set:forced-compact": {Type: TypeSet, Encoding: EncodingCompact, Set: bigSet},
		"zset:small": {Type: TypeZSet, ZSet: []ZMember{{[]byte("b"), 2}, {[]byte("a"), 1.5},
			{[]byte("inf"), math.Inf(1)}, {[]byte("ninf"), math.Inf(-1)}, {[]byte("big"), 1e300}, {[]byte("neg"), -3}}},
		"zset:big":     {Type: TypeZSet, ZSet: bigZSet},
		"stream":       {Type: TypeStream, Stream: stream},
		"stream:empty": {Type: TypeStream, Stream: &Stream{LastID: StreamID{5, 5}, EntriesAdded: 1, MaxDeletedID: StreamID{5, 5}, Groups: []StreamGroup{{Name: []byte("g"), LastID: StreamID{5, 5}, EntriesRead: 1}}}},
		"module":       {Type: TypeModule, Module: &Module{ID: 0x1234 << 10, Raw: []byte{moduleOpUInt, 7, moduleOpString, 2, 'h', 'i', moduleOpEOF}}},
	}
}

// wantRDBType is the object type each sample is written as with DefaultOptions.
var wantRDBType = map[string]uint8{
	"str:int": typeString, "str:bigint": typeString, "str:embstr": typeString, "str:raw": typeString,
	"str:binary": typeString, "str:empty": typeString,
	"list:small": typeListQuicklist2, "list:big": typeListQuicklist2,
	"set:intset": typeSetIntset, "set:strings": typeSet, "set:bigints": typeSet,
	"hash:forced-plain": typeHash, "set:forced-plain": typeSet, "set:forced-compact": typeSetIntset,
	"hash:small": typeHashListpack, "hash:longval": typeHash, "hash:big": typeHash,
	"zset:small": typeZSetListpack, "zset:big": typeZSet2,
	"stream": typeStreamListpacks2, "stream:empty": typeStreamListpacks2, "module": typeModule2,
}

// normalize puts a value in a canonical form for comparison: set members, hash fields
// and sorted set members sorted, encoding hints cleared.
func normalize(v Value) Value {
	v.RDBType, v.Encoding = 0, EncodingAuto
	if v.Set != nil {
		v.Set = append([][]byte(nil), v.Set...)
		sortBytes(v.Set)
	}
	if v.Hash != nil {
		v.Hash = append([]Field(nil), v.Hash...)
		sortFields(v.Hash)
	}
	if v.ZSet != nil {
		v.ZSet = append([]ZMember(nil), v.ZSet...)
		sortZSet(v.ZSet)
	}
	return v
}

func TestRoundTrip(t *testing.T) {
	samples := sampleValues()
	var buf bytes.Buffer
	enc := NewEncoder(&buf, DefaultOptions())
	if err := enc.WriteInfoAux(InfoAux{RedisVersion: "7.0.15", CTime: 1700000000, UsedMem: 1 << 20,
		Repl: &ReplAux{StreamDB: 0, ReplID: strings.Repeat("a", 40), Offset: 12345}}); err != nil {
		t.Fatal(err)
	}
	if err := enc.WriteFunction([]byte("#!lua name=lib\nredis.register_function('f', function() return 1 end)")); err != nil {
		t.Fatal(err)
	}
	if err := enc.WriteModuleAux(ModuleAux{Module: Module{ID: 99 << 10, Raw: []byte{moduleOpEOF}}, When: 2}); err != nil {
		t.Fatal(err)
	}
	names := sortedKeys(samples)
	if err := enc.SelectDB(0, uint64(len(names)), 1); err != nil {
		t.Fatal(err)
	}
	for i, name := range names {
		e := &Entry{Key: []byte(name), Value: samples[name]}
		if i == 0 {
			e.ExpireAt = 1900000000123
		}
		if i == 1 {
			e.HasIdle, e.Idle = true, 3600
		}
		if i == 2 {
			e.HasFreq, e.Freq = true, 200
		}
		if err := enc.WriteEntry(e); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if err := enc.WriteEntry(&Entry{DB: 7, Key: []byte("other-db"), Value: Value{Type: TypeString, Str: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()

	dec := NewDecoder(bytes.NewReader(file))
	var got []*Entry
	for {
		e, err := dec.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if len(got) != len(names)+1 {
		t.Fatalf("decoded %d keys, want %d", len(got), len(names)+1)
	}
	if v, ok := dec.AuxValue("repl-offset"); !ok || string(v) != "12345" {
		t.Errorf("repl-offset aux = %q, %v", v, ok)
	}
	if len(dec.Functions()) != 1 || len(dec.ModuleAux()) != 1 || dec.ModuleAux()[0].When != 2 {
		t.Errorf("functions %d, module aux %+v", len(dec.Functions()), dec.ModuleAux())
	}
	for i, name := range names {
		e := got[i]
		if string(e.Key) != name || e.DB != 0 {
			t.Fatalf("key %d = db %d %q, want %q", i, e.DB, e.Key, name)
		}
		if e.Value.RDBType != wantRDBType[name] {
			t.Errorf("%s: written as type %d, want %d", name, e.Value.RDBType, wantRDBType[name])
		}
		if g, w := normalize(e.Value), normalize(samples[name]); !reflect.DeepEqual(g, w) {
			t.Errorf("%s: decoded value differs:\n got %+v\nwant %+v", name, g, w)
		}
	}
	if got[0].ExpireAt != 1900000000123 || !got[1].HasIdle || got[1].Idle != 3600 || !got[2].HasFreq || got[2].Freq != 200 {
		t.Errorf("metadata lost: %+v %+v %+v", got[0], got[1], got[2])
	}
	if last := got[len(got)-1]; last.DB != 7 {
		t.Errorf("last key in db %d", last.DB)
	}

	// Every sample also survives a DUMP payload.
	for _, name := range names {
		v := samples[name]
		p, err := EncodeDump(&v, DefaultOptions())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		back, err := DecodeDump(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(normalize(*back), normalize(v)) {
			t.Errorf("%s: DUMP round trip differs", name)
		}
	}

	// A flipped bit anywhere is caught by a structure check or by the checksum.
	for _, off := range []int{20, len(file) / 2, len(file) - 12} {
		c := bytes.Clone(file)
		c[off] ^= 1
		if err := decodeAll(c); err == nil {
			t.Errorf("bit flip at %d not detected", off)
		}
	}
	// Every truncation is an error, not a panic or a silent success.
	for n := 0; n < len(file); n += 1 + n/50 {
		err := decodeAll(file[:n])
		var ce *CorruptError
		if !errors.As(err, &ce) {
			t.Fatalf("truncated at %d: %v", n, err)
		}
	}
}

func decodeAll(file []byte) error {
	d := NewDecoder(bytes.NewReader(file))
	for {
		_, err := d.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestEncoderRejects(t *testing.T) {
	tests := []struct {
		name string
		v    Value
	}{
		{"empty list", Value{Type: TypeList}},
		{"empty set", Value{Type: TypeSet}},
		{"NaN score", Value{Type: TypeZSet, ZSet: []ZMember{{[]byte("a"), math.NaN()}}}},
		{"unordered stream", Value{Type: TypeStream, Stream: &Stream{Entries: []StreamEntry{{ID: StreamID{2, 0}}, {ID: StreamID{1, 0}}}}}},
		{"pending without consumer", Value{Type: TypeStream, Stream: &Stream{Groups: []StreamGroup{{Name: []byte("g"),
			Pending: []StreamPending{{ID: StreamID{1, 0}, Consumer: []byte("nobody")}}}}}}},
		{"no type", Value{}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := NewEncoder(&buf, DefaultOptions()).WriteEntry(&Entry{Key: []byte("k"), Value: tt.v}); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestDumpFooter(t *testing.T) {
	v := Value{Type: TypeString, Str: []byte("hello")}
	p, err := EncodeDump(&v, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	// DUMP of "hello" in Redis 7.0: type 0, "\x05hello", version 10, CRC.
	if got := hex.EncodeToString(p[:len(p)-8]); got != "000568656c6c6f0a00" {
		t.Errorf("payload %s", got)
	}
	bad := bytes.Clone(p)
	bad[len(bad)-1] ^= 1
	if _, err := DecodeDump(bad); !errors.Is(err, ErrDumpPayload) {
		t.Errorf("bad CRC: %v", err)
	}
	newer := bytes.Clone(p[:len(p)-10])
	newer = append(newer, 11, 0)
	newer = append(newer, make([]byte, 8)...)
	crc := CRC64(0, newer[:len(newer)-8])
	for i := 0; i < 8; i++ {
		newer[len(newer)-8+i] = byte(crc >> (8 * i))
	}
	if _, err := DecodeDump(newer); !errors.Is(err, ErrDumpPayload) {
		t.Errorf("version 11: %v", err)
	}
	garbage := []byte{typeSetIntset, 3, 1, 2, 3}
	garbage = append(garbage, 10, 0)
	crc = CRC64(0, garbage)
	for i := 0; i < 8; i++ {
		garbage = append(garbage, byte(crc>>(8*i)))
	}
	if _, err := DecodeDump(garbage); !errors.Is(err, ErrBadDataFormat) {
		t.Errorf("bad intset: %v", err)
	}
}
