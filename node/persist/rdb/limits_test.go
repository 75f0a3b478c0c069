package rdb

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestLyingLengths: lengths that announce far more data than the input holds fail at the
// end of the input, without allocating what they announce.
func TestLyingLengths(t *testing.T) {
	header := []byte("REDIS0010")
	tests := []struct {
		name string
		body []byte
	}{
		{"4 GB string", []byte{typeString, 1, 'k', len32Bit, 0xff, 0xff, 0xff, 0xff, 'a'}},
		{"2^60-byte string", []byte{typeString, 1, 'k', len64Bit, 0x10, 0, 0, 0, 0, 0, 0, 0, 'a'}},
		{"2^60-element list", []byte{typeList, 1, 'k', len64Bit, 0x10, 0, 0, 0, 0, 0, 0, 0, 1, 'a'}},
		{"2^60 quicklist nodes", []byte{typeListQuicklist2, 1, 'k', len64Bit, 0x10, 0, 0, 0, 0, 0, 0, 0, 2}},
		{"LZF claiming 4 GB from 2 bytes", []byte{typeString, 1, 'k', lenEnc<<6 | encLZF, 2, len32Bit, 0xff, 0xff, 0xff, 0xff, 0, 'a'}},
		{"2^60 stream groups", []byte{typeStreamListpacks2, 1, 'k', 0, 0, 0, 0, 0, 0, 0, 0, 0, len64Bit, 0x10, 0, 0, 0, 0, 0, 0, 0}},
		{"2^60 PEL entries", []byte{typeStreamListpacks2, 1, 'k', 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 'g', 0, 0, 0, len64Bit, 0x10, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append(append([]byte{}, header...), tt.body...)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := decodeAll(in)
			runtime.ReadMemStats(&after)
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a CorruptError", err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
				t.Errorf("allocated %d bytes", grew)
			}
			// As a DUMP payload the same value is RESTORE's "Bad data format".
			p := append([]byte{}, tt.body[0])
			p = append(p, tt.body[3:]...)
			p = append(p, Version, 0)
			p = append(p, make([]byte, 8)...)
			crc := CRC64(0, p[:len(p)-8])
			for i := 0; i < 8; i++ {
				p[len(p)-8+i] = byte(crc >> (8 * i))
			}
			if _, err := DecodeDump(p); !errors.Is(err, ErrBadDataFormat) {
				t.Errorf("DecodeDump: %v", err)
			}
		})
	}
}

// TestRedis72Types decodes the two object types Redis 7.2 added: sets as listpacks and
// streams whose consumers record an active time.
func TestRedis72Types(t *testing.T) {
	w := writer{opts: DefaultOptions()}
	w.writeRaw([]byte("REDIS0011"))

	w.writeByte(typeSetListpack)
	w.writeString([]byte("set"))
	lp := newListpackBuilder()
	for _, m := range []string{"a", "7", "-3", "b"} {
		lp.appendString([]byte(m))
	}
	w.writeString(lp.finish())

	// A version 3 stream is version 2 with each consumer's active time after its seen
	// time.
	w.writeByte(typeStreamListpacks3)
	w.writeString([]byte("stream"))
	entries := []StreamEntry{{ID: StreamID{10, 1}, Fields: []Field{{[]byte("f"), []byte("v")}}}}
	nodes := buildStreamNodes(entries, 4096, 100)
	w.writeLen(1)
	w.writeString(appendStreamID(nil, nodes[0].master))
	w.writeString(nodes[0].lp)
	for _, n := range []uint64{1, 10, 1, 10, 1, 0, 0, 1} { // length, last, first, max deleted, added
		w.writeLen(n)
	}
	w.writeLen(1) // groups
	w.writeString([]byte("g"))
	w.writeLen(10)
	w.writeLen(1)
	w.writeLen(1) // entries read
	w.writeLen(1) // PEL
	w.writeRaw(appendStreamID(nil, StreamID{10, 1}))
	w.writeUint64LE(1000)
	w.writeLen(2)
	w.writeLen(1) // consumers
	w.writeString([]byte("c"))
	w.writeUint64LE(2000) // seen
	w.writeUint64LE(1500) // active
	w.writeLen(1)
	w.writeRaw(appendStreamID(nil, StreamID{10, 1}))
	w.writeByte(opEOF)
	w.writeUint64LE(0)

	d := NewDecoder(bytes.NewReader(w.buf))
	set, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	if got := normalize(set.Value).Set; !reflect.DeepEqual(got, [][]byte{[]byte("-3"), []byte("7"), []byte("a"), []byte("b")}) {
		t.Errorf("set = %q", got)
	}
	st, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	want := &Stream{Entries: entries, LastID: StreamID{10, 1}, FirstID: StreamID{10, 1}, EntriesAdded: 1,
		Groups: []StreamGroup{{Name: []byte("g"), LastID: StreamID{10, 1}, EntriesRead: 1,
			Pending:   []StreamPending{{ID: StreamID{10, 1}, Consumer: []byte("c"), DeliveryTime: 1000, DeliveryCount: 2}},
			Consumers: []StreamConsumer{{Name: []byte("c"), SeenTime: 2000, ActiveTime: 1500}}}}}
	if !reflect.DeepEqual(st.Value.Stream, want) {
		t.Errorf("stream = %+v\nwant %+v", st.Value.Stream, want)
	}
	if _, err := d.Next(); err != io.EOF {
		t.Errorf("end: %v", err)
	}
}

// TestEncoderGolden pins the encoder's output byte for byte, so a change to what we write
// is a deliberate one (go test -run TestEncoderGolden -update rewrites it).
func TestEncoderGolden(t *testing.T) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf, DefaultOptions())
	if err := enc.WriteInfoAux(InfoAux{RedisVersion: "7.0.15", CTime: 1700000000, UsedMem: 1 << 20,
		Repl: &ReplAux{ReplID: "0123456789012345678901234567890123456789", Offset: 42}}); err != nil {
		t.Fatal(err)
	}
	samples := sampleValues()
	for i, name := range sortedKeys(samples) {
		if err := enc.WriteEntry(&Entry{DB: i % 3, Key: []byte(name), Value: samples[name], ExpireAt: int64(i) * 1000}); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden-encoder.rdb")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("encoder output (%d bytes) differs from %s (%d bytes); rerun with -update if intended", buf.Len(), path, len(want))
	}
}
