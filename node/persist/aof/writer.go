package aof

import (
	"errors"
	"fmt"
	"os"
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
// kernel. With appendfsync always Apply also fsyncs before returning, so the write
// survives a machine crash too; everysec fsyncs from a background goroutine once a
// second; no leaves it to the kernel. A batch of several ops is one MULTI/EXEC unit.
type Writer struct {
	// mu guards everything below; Apply holds it while writing.
	mu     sync.Mutex
	f      *os.File
	buf    []byte
	db     int // the database the file's last SELECT chose, -1 for none yet
	dirty  bool
	closed bool

	policy atomic.Int32
	size   atomic.Int64 // bytes of the current increment file
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
	w := &Writer{f: f, db: -1, onAlwaysFailure: onAlwaysFailure, stop: make(chan struct{}), done: make(chan struct{})}
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

// writeLocked writes w.buf, and fsyncs under appendfsync always; w.mu is held.
func (w *Writer) writeLocked() {
	n, err := w.f.Write(w.buf)
	w.size.Add(int64(n))
	always := Policy(w.policy.Load()) == FsyncAlways
	if err == nil && always {
		err = w.f.Sync()
	}
	if err != nil {
		err = fmt.Errorf("write AOF %s: %w", w.f.Name(), err)
		w.lastErr.Store(&err)
		w.failed.Store(true)
		if always && w.onAlwaysFailure != nil {
			w.onAlwaysFailure(err)
		}
		return
	}
	w.failed.Store(false)
	w.dirty = !always
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
	f := w.f
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close AOF %s: %w", f.Name(), err)
	}
	return nil
}
