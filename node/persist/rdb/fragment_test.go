package rdb

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestAppendEntryMatchesWriteEntry: keys encoded apart and passed through WriteEncoded
// make the same file as WriteEntry.
func TestAppendEntryMatchesWriteEntry(t *testing.T) {
	samples := SampleValues()
	delete(samples, "module")
	var direct, fragments bytes.Buffer
	a := NewEncoder(&direct, DefaultOptions())
	b := NewEncoder(&fragments, DefaultOptions())
	if err := a.SelectDB(0, 1, 0); err != nil {
		t.Fatal(err)
	}
	if err := b.SelectDB(0, 1, 0); err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for i, name := range SortedKeys(samples) {
		e := &Entry{Key: []byte(name), Value: samples[name], ExpireAt: int64(i) * 1000, HasIdle: i%2 == 0, Idle: 7, HasFreq: i%3 == 0, Freq: 9}
		if err := a.WriteEntry(e); err != nil {
			t.Fatal(err)
		}
		var err error
		if buf, err = AppendEntry(buf, e, DefaultOptions()); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.WriteEncoded(buf); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b.Close()
	if !bytes.Equal(direct.Bytes(), fragments.Bytes()) {
		t.Fatal("AppendEntry + WriteEncoded differ from WriteEntry")
	}
	if b.Written() != int64(fragments.Len()) {
		t.Errorf("Written() = %d, file has %d bytes", b.Written(), fragments.Len())
	}

	// A value that cannot be written leaves dst as it was.
	before := len(buf)
	out, err := AppendEntry(buf, &Entry{Key: []byte("e"), Value: Value{Type: TypeList}}, DefaultOptions())
	if err == nil || len(out) != before {
		t.Errorf("empty list: err %v, %d bytes appended", err, len(out)-before)
	}
	// Encoded keys need a database first.
	if err := NewEncoder(io.Discard, DefaultOptions()).WriteEncoded(buf); err == nil {
		t.Error("WriteEncoded before SelectDB succeeded")
	}
}

// TestDecoderRest: what follows the file (an AOF's commands after its preamble) is
// handed back intact, however far the decoder read ahead.
func TestDecoderRest(t *testing.T) {
	var file bytes.Buffer
	enc := NewEncoder(&file, DefaultOptions())
	enc.WriteEntry(&Entry{Key: []byte("k"), Value: Value{Type: TypeString, Str: []byte("v")}})
	enc.Close()
	size := file.Len()
	tail := bytes.Repeat([]byte("*1\r\n$4\r\nPING\r\n"), 10000)
	file.Write(tail)
	d := NewDecoder(bytes.NewReader(file.Bytes()))
	for {
		_, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if d.Offset() != int64(size) {
		t.Errorf("Offset() = %d after the file, want %d", d.Offset(), size)
	}
	rest, err := io.ReadAll(d.Rest())
	if err != nil || !bytes.Equal(rest, tail) {
		t.Fatalf("Rest() gave %d bytes (%v), want the %d after the file", len(rest), err, len(tail))
	}
}
