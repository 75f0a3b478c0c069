// Package effects is the node's effects stream: every change to the keyspace, in the form
// that replicas and the AOF replay (Redis's command propagation, server.c
// alsoPropagate/propagatePendingCommands).
//
// A command does not always replay as it was sent: SET k v EX 10 becomes SET k v PXAT
// <abs>, so a replica that applies it late still expires the key at the same instant; a
// key removed by lazy or active expiry becomes DEL k; an evicted key DEL k; a command that
// changed nothing produces nothing. Handlers describe their effects into a Batch; the
// server commits the batch to the Stream once the command has finished, while it still
// holds the keyspace locks of the keys involved, so the order of batches in the stream is
// an order in which the commands could have run one after another.
//
// A batch with more than one op is one atomic unit: consumers replaying it wrap it in
// MULTI/EXEC, as Redis 7.0 does for a command whose effects are several commands.
package effects

import (
	"sync"
	"sync/atomic"
)

// Op is one command in replay form, to be applied in database DB.
type Op struct {
	DB   int
	Argv [][]byte
}

// Batch collects the effects of one command, one expiry or one eviction. The zero value is
// ready to use. Its argument bytes are copied into an arena, so callers may pass slices
// they reuse afterwards; the arena is reused after Reset, so subscribers copy what they keep.
type Batch struct {
	Ops []Op
	// Discard makes Add a no-op: the stream has no subscriber, and copying arguments
	// nobody reads would cost every write command.
	Discard bool

	arena []byte
	args  [][]byte
}

// Add appends one op.
func (b *Batch) Add(db int, argv ...[]byte) {
	if b.Discard {
		return
	}
	start := len(b.args)
	for _, a := range argv {
		off := len(b.arena)
		b.arena = append(b.arena, a...)
		b.args = append(b.args, b.arena[off:len(b.arena):len(b.arena)])
	}
	b.Ops = append(b.Ops, Op{DB: db, Argv: b.args[start:len(b.args):len(b.args)]})
}

// AddStrings is Add with string arguments, for replay forms built from constants.
func (b *Batch) AddStrings(db int, argv ...string) {
	if b.Discard {
		return
	}
	start := len(b.args)
	for _, a := range argv {
		off := len(b.arena)
		b.arena = append(b.arena, a...)
		b.args = append(b.args, b.arena[off:len(b.arena):len(b.arena)])
	}
	b.Ops = append(b.Ops, Op{DB: db, Argv: b.args[start:len(b.args):len(b.args)]})
}

// Len returns the number of ops.
func (b *Batch) Len() int { return len(b.Ops) }

// Reset empties the batch for reuse, keeping its buffers unless they grew large.
func (b *Batch) Reset() {
	b.Ops = b.Ops[:0]
	b.args = b.args[:0]
	if cap(b.arena) > 1<<20 {
		b.arena = nil
	} else {
		b.arena = b.arena[:0]
	}
}

// Subscriber receives committed batches in commit order. Apply runs while the stream's
// lock (and the keyspace locks of the command) are held: it must be quick, must not call
// back into the keyspace, and must copy anything it keeps.
type Subscriber interface {
	Apply(b *Batch)
}

// Stream delivers committed batches to its subscribers. It is safe for concurrent use.
type Stream struct {
	mu   sync.Mutex
	subs []Subscriber
	// active mirrors len(subs) > 0 for the lock-free check on every command.
	active atomic.Bool
}

// Subscribe adds sub and returns a function that removes it.
func (s *Stream) Subscribe(sub Subscriber) (cancel func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = append(s.subs, sub)
	s.active.Store(true)
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			for i, x := range s.subs {
				if x == sub {
					s.subs = append(s.subs[:i:i], s.subs[i+1:]...)
					break
				}
			}
			s.active.Store(len(s.subs) > 0)
		})
	}
}

// Active reports whether anyone subscribes; when not, batches may be discarded unbuilt.
func (s *Stream) Active() bool { return s.active.Load() }

// Commit hands b to every subscriber. An empty batch is not delivered.
func (s *Stream) Commit(b *Batch) {
	if len(b.Ops) == 0 || !s.active.Load() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range s.subs {
		sub.Apply(b)
	}
}

// Recorder is a Subscriber that keeps copies of every batch, for tests and tools.
type Recorder struct {
	mu      sync.Mutex
	batches [][]Op
}

// Apply implements Subscriber.
func (r *Recorder) Apply(b *Batch) {
	ops := make([]Op, len(b.Ops))
	for i, op := range b.Ops {
		argv := make([][]byte, len(op.Argv))
		for j, a := range op.Argv {
			argv[j] = append([]byte(nil), a...)
		}
		ops[i] = Op{DB: op.DB, Argv: argv}
	}
	r.mu.Lock()
	r.batches = append(r.batches, ops)
	r.mu.Unlock()
}

// Batches returns the batches recorded so far and forgets them.
func (r *Recorder) Batches() [][]Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.batches
	r.batches = nil
	return out
}
