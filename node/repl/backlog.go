// Package repl is PSYNC2 replication: the replication buffer and backlog, the master side
// that serves PSYNC/SYNC to replicas, and the replica side that follows a master. It
// interoperates with redis-server 7.0 on the wire (replication.c).
//
// The state machines take their network and clock through small interfaces (Dialer, Clock,
// Snapshotter, Loader, Applier) so that tests drive them over in-memory pipes with fake
// time; package server wires them to sockets, the keyspace and the command table.
//
// # Offsets
//
// The replication stream is a sequence of bytes. A node's master_repl_offset is the number
// of bytes of the stream it has produced (master) or applied (replica) since the history
// named by its replid began. Byte i of the stream (counting from 0) has Redis offset i+1,
// which is why PSYNC asks for "offset+1" and repl_backlog_first_byte_offset starts at 1.
// Positions in this package are the 0-based byte counts; Redis's 1-based offsets appear
// only on the wire and in INFO.
package repl

import (
	"sync"
)

// blockSize is the size of a backlog block (PROTO_REPLY_CHUNK_BYTES): the unit the backlog
// grows and trims by.
const blockSize = 16 * 1024

// Backlog is the replication buffer: the recent part of the stream, kept so that replicas
// can be fed from it and a reconnecting replica can continue (partial resync). As in
// Redis 7.0, replicas read from the same buffer rather than each holding a copy: a
// reader's position pins the blocks it still needs, and the backlog drops its oldest
// blocks only when they are both beyond repl-backlog-size and read by every reader.
//
// It is safe for concurrent use.
type Backlog struct {
	mu sync.Mutex
	// blocks hold the stream from position start to end, back to back.
	blocks [][]byte
	start  int64
	end    int64
	size   int64
	// readers pin positions; see Reader.
	readers map[*Reader]struct{}
	// changed is closed and replaced whenever bytes are appended or the backlog is reset,
	// waking readers that wait for data.
	changed chan struct{}
}

// NewBacklog returns an empty backlog of size bytes whose stream starts at position at.
func NewBacklog(size, at int64) *Backlog {
	return &Backlog{size: max(size, 1), start: at, end: at, readers: map[*Reader]struct{}{},
		changed: make(chan struct{})}
}

// Offset returns the position after the last byte (master_repl_offset).
func (b *Backlog) Offset() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.end
}

// Range returns the first position held and the number of bytes held
// (repl_backlog_first_byte_offset - 1 and repl_backlog_histlen).
func (b *Backlog) Range() (first, histlen int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.start, b.end - b.start
}

// Size returns the configured size.
func (b *Backlog) Size() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.size
}

// SetSize changes repl-backlog-size; the backlog trims to it as readers allow.
func (b *Backlog) SetSize(size int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.size = max(size, 1)
	b.trimLocked()
}

// Append adds p to the stream.
func (b *Backlog) Append(p []byte) {
	if len(p) == 0 {
		return
	}
	b.mu.Lock()
	b.end += int64(len(p))
	for len(p) > 0 {
		if n := len(b.blocks); n > 0 && len(b.blocks[n-1]) < cap(b.blocks[n-1]) {
			last := b.blocks[n-1]
			k := min(cap(last)-len(last), len(p))
			b.blocks[n-1] = append(last, p[:k]...)
			p = p[k:]
			continue
		}
		b.blocks = append(b.blocks, make([]byte, 0, max(blockSize, min(len(p), 1<<20))))
	}
	b.trimLocked()
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

// trimLocked drops whole blocks from the front while what remains still covers size bytes
// and no reader needs them (incrementalTrimReplicationBacklog).
func (b *Backlog) trimLocked() {
	pinned := b.end
	for r := range b.readers {
		pinned = min(pinned, r.pos)
	}
	for len(b.blocks) > 1 {
		first := int64(len(b.blocks[0]))
		if b.end-b.start-first < b.size || b.start+first > pinned {
			break
		}
		b.blocks[0] = nil
		b.blocks = b.blocks[1:]
		b.start += first
	}
}

// Reset empties the backlog and restarts the stream at position at, as after a full
// resync of a replica or the creation of a new replication history.
func (b *Backlog) Reset(at int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.blocks = nil
	b.start, b.end = at, at
	for r := range b.readers {
		r.pos = at
	}
	close(b.changed)
	b.changed = make(chan struct{})
}

// Covers reports whether the backlog holds the stream from position pos on, so that a
// replica at pos can continue: pos is between the first byte held and the end.
func (b *Backlog) Covers(pos int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return pos >= b.start && pos <= b.end
}

// Reader is a position in the stream that the backlog keeps bytes for, one per replica
// being fed. Close it when done.
type Reader struct {
	b   *Backlog
	pos int64 // guarded by b.mu
}

// NewReader pins pos and returns a reader positioned there. It returns nil when the
// backlog no longer holds pos.
func (b *Backlog) NewReader(pos int64) *Reader {
	b.mu.Lock()
	defer b.mu.Unlock()
	if pos < b.start || pos > b.end {
		return nil
	}
	r := &Reader{b: b, pos: pos}
	b.readers[r] = struct{}{}
	return r
}

// Pos returns the reader's position.
func (r *Reader) Pos() int64 {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	return r.pos
}

// Lag returns how many bytes of the stream the reader has not read yet: the size of the
// replica's output buffer, which client-output-buffer-limit replica bounds.
func (r *Reader) Lag() int64 {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	return r.b.end - r.pos
}

// Next copies up to len(dst) bytes from the reader's position into dst and advances.
// When nothing is available it returns 0 and a channel closed when that changes.
func (r *Reader) Next(dst []byte) (int, <-chan struct{}) {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.pos >= b.end {
		return 0, b.changed
	}
	if r.pos < b.start {
		// Cannot happen while the reader pins its position; a Reset moved it.
		r.pos = b.start
	}
	n := 0
	off := r.pos - b.start
	for _, blk := range b.blocks {
		if n == len(dst) {
			break
		}
		if off >= int64(len(blk)) {
			off -= int64(len(blk))
			continue
		}
		n += copy(dst[n:], blk[off:])
		off = 0
	}
	r.pos += int64(n)
	b.trimLocked()
	return n, nil
}

// Close unpins the reader's position.
func (r *Reader) Close() {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	delete(r.b.readers, r)
	r.b.trimLocked()
}
