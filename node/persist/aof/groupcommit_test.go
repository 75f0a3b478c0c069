package aof

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/effects"
)

// syncRecorder stands in for fsync: it takes a while, like a disk, and remembers how much
// of each file had been written when the fsync began, which is what that fsync made durable.
type syncRecorder struct {
	mu      sync.Mutex
	delay   time.Duration
	durable map[string]int64 // file name -> size covered by the last completed fsync
}

func (r *syncRecorder) sync(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	time.Sleep(r.delay)
	if err := f.Sync(); err != nil {
		return err
	}
	r.mu.Lock()
	r.durable[f.Name()] = max(r.durable[f.Name()], st.Size())
	r.mu.Unlock()
	return nil
}

func (r *syncRecorder) covered(name string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.durable[name]
}

func openIncr(t *testing.T, dir string, seq int) *os.File {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "appendonly.aof."+strconv.Itoa(seq)+".incr.aof"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestAlwaysGroupCommit has concurrent clients write under appendfsync always: each
// waits for its write to be on disk before "replying", and writes that arrive together
// share an fsync.
func TestAlwaysGroupCommit(t *testing.T) {
	const clients, writesEach = 8, 10
	f := openIncr(t, t.TempDir(), 1)
	w, err := NewWriter(f, FsyncAlways, func(err error) { t.Error(err) })
	if err != nil {
		t.Fatal(err)
	}
	rec := &syncRecorder{delay: 10 * time.Millisecond, durable: map[string]int64{}}
	w.syncFile = rec.sync
	var applyMu sync.Mutex // the effects stream's lock
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			var b effects.Batch
			for i := 0; i < writesEach; i++ {
				b.Reset()
				b.AddStrings(0, "SET", "k"+strconv.Itoa(c), strconv.Itoa(i))
				applyMu.Lock()
				w.Apply(&b)
				applyMu.Unlock()
				// The file position after this write, as the server reads it after the
				// command: the reply may go only once it is on disk.
				st, err := f.Stat()
				if err != nil {
					t.Error(err)
					return
				}
				w.WaitSynced(w.End())
				if got := rec.covered(f.Name()); got < st.Size() {
					t.Errorf("client %d write %d: replied with %d bytes durable, wrote up to %d", c, i, got, st.Size())
				}
			}
		}(c)
	}
	wg.Wait()
	n := w.fsyncs.Load()
	t.Logf("%d writes, %d fsyncs", clients*writesEach, n)
	if n >= clients*writesEach/2 {
		t.Errorf("%d fsyncs for %d concurrent writes: they are not grouped", n, clients*writesEach)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Once closed, waiting returns at once.
	w.WaitSynced(w.End() + 1)
}

// TestAlwaysSyncsTheFileSwitchedAway checks that a write made just before a rewrite's
// switch is made durable by the next wait, though it went to the previous file.
func TestAlwaysSyncsTheFileSwitchedAway(t *testing.T) {
	dir := t.TempDir()
	first, second := openIncr(t, dir, 1), openIncr(t, dir, 2)
	w, err := NewWriter(first, FsyncAlways, func(err error) { t.Error(err) })
	if err != nil {
		t.Fatal(err)
	}
	rec := &syncRecorder{durable: map[string]int64{}}
	w.syncFile = rec.sync
	var b effects.Batch
	b.AddStrings(0, "SET", "a", "1")
	w.Apply(&b)
	before := w.End()
	old, err := w.Switch(second)
	if err != nil || old != first {
		t.Fatalf("Switch: %v, %v", old, err)
	}
	w.Apply(&b)
	w.WaitSynced(w.End())
	if got := rec.covered(first.Name()); got != before {
		t.Errorf("the switched-away file has %d bytes durable, want %d", got, before)
	}
	if got := rec.covered(second.Name()); got != w.End()-before {
		t.Errorf("the new file has %d bytes durable, want %d", got, w.End()-before)
	}
	first.Close()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
