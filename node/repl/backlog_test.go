package repl

import (
	"bytes"
	"testing"
)

func readAll(r *Reader) []byte {
	var out []byte
	buf := make([]byte, 7)
	for {
		n, _ := r.Next(buf)
		if n == 0 {
			return out
		}
		out = append(out, buf[:n]...)
	}
}

func TestBacklogTrimsToSizeUnlessPinned(t *testing.T) {
	b := NewBacklog(blockSize, 100)
	chunk := bytes.Repeat([]byte("x"), 1000)
	pinned := b.NewReader(100)
	for i := 0; i < 100; i++ {
		b.Append(chunk)
	}
	if first, hl := b.Range(); first != 100 || hl != 100_000 {
		t.Fatalf("pinned backlog trimmed: first %d histlen %d", first, hl)
	}
	if got := readAll(pinned); len(got) != 100_000 {
		t.Fatalf("reader got %d bytes, want 100000", len(got))
	}
	first, hl := b.Range()
	if hl < blockSize || hl >= 2*blockSize || first+hl != b.Offset() {
		t.Fatalf("after the reader caught up: first %d histlen %d offset %d", first, hl, b.Offset())
	}
	if b.Covers(100) || !b.Covers(b.Offset()) || !b.Covers(first) || b.Covers(first-1) {
		t.Fatal("Covers disagrees with Range")
	}
	if b.NewReader(100) != nil {
		t.Fatal("a reader was positioned before the first byte held")
	}
	pinned.Close()
}

func TestBacklogReaderSeesAppendsInOrder(t *testing.T) {
	b := NewBacklog(1<<20, 0)
	r := b.NewReader(0)
	defer r.Close()
	var want []byte
	for i := 0; i < 5000; i++ {
		p := []byte{byte(i), byte(i >> 8), 'a' + byte(i%26)}
		want = append(want, p...)
		b.Append(p)
		if i%1000 == 0 {
			b.Append(bytes.Repeat([]byte{'z'}, 40_000)) // larger than a block
			want = append(want, bytes.Repeat([]byte{'z'}, 40_000)...)
		}
	}
	if got := readAll(r); !bytes.Equal(got, want) {
		t.Fatalf("reader got %d bytes differing from the %d appended", len(got), len(want))
	}
	n, wait := r.Next(make([]byte, 10))
	if n != 0 || wait == nil {
		t.Fatal("a caught-up reader must get a channel to wait on")
	}
	b.Append([]byte("more"))
	select {
	case <-wait:
	default:
		t.Fatal("append did not wake the waiting reader")
	}
	if r.Lag() != 4 {
		t.Fatalf("lag %d, want 4", r.Lag())
	}
}

func TestBacklogResetMovesReaders(t *testing.T) {
	b := NewBacklog(1<<20, 0)
	r := b.NewReader(0)
	b.Append([]byte("abc"))
	b.Reset(500)
	if b.Offset() != 500 || r.Pos() != 500 || r.Lag() != 0 {
		t.Fatalf("after Reset: offset %d pos %d", b.Offset(), r.Pos())
	}
	b.Append([]byte("de"))
	if got := string(readAll(r)); got != "de" {
		t.Fatalf("got %q", got)
	}
}
