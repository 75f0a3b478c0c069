package aof

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clusterctl/clusterctl/node/effects"
)

// Policy is appendfsync.
type Policy int32

// The appendfsync policies.
const (
	FsyncEverysec Policy = iota
	FsyncAlways
	FsyncNo
)

// ParsePolicy reads an appendfsync value.
func ParsePolicy(s string) (Policy, bool) {
	switch s {
	case "always":
		return FsyncAlways, true
	case "everysec":
		return FsyncEverysec, true
	case "no":
		return FsyncNo, true
	}
	return 0, false
}

// Writer appends the effects stream to the current increment file; it is an
// effects.Subscriber.
//
// Every batch is written to the file before Apply returns, that is before the command's
// client gets its reply, as Redis writes its AOF buffer before replying: a process killed
// with -9 loses no acknowledged write whatever the policy, since the data is in the
// kernel. everysec fsyncs from a background goroutine once a second; no leaves it to the
// kernel. A batch of several ops is one MULTI/EXEC unit.
//
// With appendfsync always the write must also be on disk before the reply goes out. Apply
// runs with the command's keys locked, so it does not fsync itself (every writer would
// then queue behind one fsync at a time); instead the server notes End after the command
// and calls WaitSynced before sending the reply. That is group commit, as Redis's event
// loop fsyncs once per iteration for every client served in it: whoever finds the file
// not yet synced up to its write becomes the leader and fsyncs everything written so far,
// while the writes that arrive meanwhile wait for the next leader and share its fsync.
type Writer struct {
	// mu guards everything below; Apply holds it while writing.
	mu     sync.Mutex
	f      *os.File
	buf    []byte
	db     int // the database the file's last SELECT chose, -1 for none yet
	dirty  bool
	closed bool
	// prev is the file Switch replaced while bytes of it up to prevEnd may not be synced
	// yet; the next leader syncs it before the current file.
	prev    *os.File
	prevEnd int64

	// syncMu makes one leader fsync at a time; the writers queued on it are the next
	// group. synced is the position up to which everything is on disk.
	syncMu sync.Mutex
	synced atomic.Int64
	// syncFile is f.Sync, replaceable by tests.
	syncFile func(*os.File) error
	// fsyncs counts the fsyncs of WaitSynced, for tests of the grouping.
	fsyncs atomic.Int64

	policy atomic.Int32
	size   atomic.Int64 // bytes of the current increment file
	// end counts the bytes written by this Writer, across Switch: the positions End and
	// WaitSynced speak of. Written under mu, read without it.
	end atomic.Int64
	// failed is set while the last write or fsync failed (aof_last_write_status).
	failed  atomic.Bool
	lastErr atomic.Pointer[error]
	// delayedFsync counts everysec fsyncs that found the previous one still running.
	delayedFsync atomic.Int64
	// onAlwaysFailure runs when a write or fsync fails under appendfsync always: Redis
	// exits then, since it can no longer keep its promise to clients.
	onAlwaysFailure func(error)

	stop chan struct{}
	done chan struct{}
}

// NewWriter appends to f (opened for appending) with the given policy; onAlwaysFailure
// may be nil. It starts the everysec fsync goroutine, which Close stops.
func NewWriter(f *os.File, policy Policy, onAlwaysFailure func(error)) (*Writer, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	w := &Writer{f: f, db: -1, onAlwaysFailure: onAlwaysFailure, syncFile: (*os.File).Sync,
		stop: make(chan struct{}), done: make(chan struct{})}
	w.size.Store(st.Size())
	w.policy.Store(int32(policy))
	go w.fsyncLoop()
	return w, nil
}

// SetPolicy changes appendfsync.
func (w *Writer) SetPolicy(p Policy) { w.policy.Store(int32(p)) }

// Size returns the size of the current increment file.
func (w *Writer) Size() int64 { return w.size.Load() }

// Failed reports whether the last write or fsync failed, and with what.
func (w *Writer) Failed() (bool, error) {
	if !w.failed.Load() {
		return false, nil
	}
	if p := w.lastErr.Load(); p != nil {
		return true, *p
	}
	return true, nil
}

// DelayedFsyncs counts the fsyncs delayed by a slow disk (aof_delayed_fsync).
func (w *Writer) DelayedFsyncs() int64 { return w.delayedFsync.Load() }

// Apply implements effects.Subscriber.
func (w *Writer) Apply(b *effects.Batch) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || len(b.Ops) == 0 {
		return
	}
	w.buf = w.buf[:0]
	if len(b.Ops) > 1 {
		w.selectDB(b.Ops[0].DB)
		w.buf = appendCommand(w.buf, []byte("MULTI"))
	}
	for _, op := range b.Ops {
		w.selectDB(op.DB)
		w.buf = appendCommand(w.buf, op.Argv...)
	}
	if len(b.Ops) > 1 {
		w.buf = appendCommand(w.buf, []byte("EXEC"))
	}
	w.writeLocked()
	if cap(w.buf) > 1<<20 {
		w.buf = nil
	}
}

func (w *Writer) selectDB(db int) {
	if db == w.db {
		return
	}
	w.buf = appendCommand(w.buf, []byte("SELECT"), strconv.AppendInt(nil, int64(db), 10))
	w.db = db
}

// writeLocked writes w.buf; w.mu is held. Under appendfsync always the fsync is left to
// WaitSynced.
func (w *Writer) writeLocked() {
	n, err := w.f.Write(w.buf)
	w.size.Add(int64(n))
	w.end.Add(int64(n))
	if err != nil {
		w.fail(fmt.Errorf("write AOF %s: %w", w.f.Name(), err))
		return
	}
	w.failed.Store(false)
	w.dirty = true
}

// fail records a failed write or fsync; under appendfsync always it is fatal.
func (w *Writer) fail(err error) {
	w.lastErr.Store(&err)
	w.failed.Store(true)
	if Policy(w.policy.Load()) == FsyncAlways && w.onAlwaysFailure != nil {
		w.onAlwaysFailure(err)
	}
}

// Always reports whether the policy is appendfsync always, under which replies wait for
// WaitSynced.
func (w *Writer) Always() bool { return Policy(w.policy.Load()) == FsyncAlways }

// End returns the position after the last byte written so far. Read after a command's
// effects were applied, it is the position the command's reply waits for.
func (w *Writer) End() int64 { return w.end.Load() }

// WaitSynced returns once every byte up to position off is on disk (or the Writer is
// closed, which syncs). It fsyncs itself when no fsync under way covers off: the callers
// that arrive while one runs wait for it on syncMu, and the first of them to find its
// write still not covered fsyncs once for all of them.
func (w *Writer) WaitSynced(off int64) {
	if w.synced.Load() >= off {
		return
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	if w.synced.Load() >= off {
		return
	}
	// Let the clients whose commands are ready run first, as Redis serves every ready
	// client of an event-loop iteration before its one fsync: their writes then join
	// this fsync instead of each waiting for the next.
	runtime.Gosched()
	w.mu.Lock()
	f, end, closed := w.f, w.end.Load(), w.closed
	prev, prevEnd := w.prev, w.prevEnd
	w.dirty = false
	w.mu.Unlock()
	if closed {
		return
	}
	if prev != nil {
		// A file the rewrite switched away from and then closed was synced by it first.
		if err := w.syncFile(prev); err != nil && !errors.Is(err, os.ErrClosed) {
			w.fail(fmt.Errorf("fsync AOF %s: %w", prev.Name(), err))
			return
		}
		w.mu.Lock()
		if w.prev == prev && w.prevEnd == prevEnd {
			w.prev = nil
		}
		w.mu.Unlock()
	}
	w.fsyncs.Add(1)
	if err := w.syncFile(f); err != nil && !errors.Is(err, os.ErrClosed) {
		w.fail(fmt.Errorf("fsync AOF %s: %w", f.Name(), err))
		return
	}
	w.synced.Store(end)
}

// appendCommand appends argv in the AOF's RESP form.
func appendCommand(dst []byte, argv ...[]byte) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(argv)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range argv {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// AppendCommand appends argv in the AOF's RESP form (for writing command bases).
func AppendCommand(dst []byte, argv ...[]byte) []byte { return appendCommand(dst, argv...) }

// Switch makes the writer append to f from now on, as a rewrite does at its snapshot's
// instant; the next write starts with a SELECT. It returns the previous file, which the
// caller syncs and closes.
func (w *Writer) Switch(f *os.File) (old *os.File, err error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	old = w.f
	if end := w.end.Load(); end > w.synced.Load() {
		// Not fsynced here: Switch runs at a snapshot's instant with every shard locked.
		w.prev, w.prevEnd = old, end
	}
	w.f, w.db, w.dirty = f, -1, false
	w.size.Store(st.Size())
	return old, nil
}

// Sync fsyncs the current file now.
func (w *Writer) Sync() error {
	w.mu.Lock()
	f := w.f
	w.dirty = false
	w.mu.Unlock()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync AOF %s: %w", f.Name(), err)
	}
	return nil
}

// fsyncLoop is appendfsync everysec: once a second, when something was written since
// the last fsync, fsync outside the lock so writers do not wait for the disk.
func (w *Writer) fsyncLoop() {
	defer close(w.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		if Policy(w.policy.Load()) != FsyncEverysec {
			continue
		}
		w.mu.Lock()
		f, dirty := w.f, w.dirty
		w.dirty = false
		w.mu.Unlock()
		if !dirty {
			continue
		}
		start := time.Now()
		// A file a rewrite switched away from meanwhile is closed: its owner synced it.
		if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			err = fmt.Errorf("fsync AOF %s: %w", f.Name(), err)
			w.lastErr.Store(&err)
			w.failed.Store(true)
		}
		if time.Since(start) > time.Second {
			w.delayedFsync.Add(1)
		}
	}
}

// Close stops the fsync goroutine, fsyncs and closes the file. Later batches are
// dropped.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	f, end := w.f, w.end.Load()
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	// Under syncMu, so WaitSynced callers queued behind this learn the outcome and none
	// fsyncs a file being closed.
	w.syncMu.Lock()
	err := f.Sync()
	if err == nil {
		w.synced.Store(end)
	}
	w.syncMu.Unlock()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close AOF %s: %w", f.Name(), err)
	}
	return nil
}
