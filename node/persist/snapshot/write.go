// Package snapshot writes the keyspace to RDB files and loads them back: SAVE, BGSAVE,
// the RDB preamble of an AOF rewrite, and the stream a replica's full sync receives.
//
// # Point in time without fork
//
// Redis forks: the child writes the memory image of the instant of the fork while the
// parent goes on serving, the kernel copying each page the parent touches. Go cannot
// fork, so a snapshot is taken slot by slot with copy-before-write (see
// keyspace.BeginPointInTime):
//
//  1. At the snapshot's instant every keyspace shard is locked for as long as it takes to
//     mark the databases' parts frozen and count their keys (microseconds, whatever the
//     size of the data set). The replication offset or AOF position the file corresponds
//     to is read at that instant (Options.AtBegin, Options.Repl).
//  2. The writer then walks the hash slots in order, database by database. For each slot
//     it locks that slot's shard just long enough to copy the slot's keys (about 60 keys
//     per slot for a million keys; a string is copied as it is, other values are encoded),
//     unlocks, encodes the copy into a buffer and writes the buffer out. Between slots it
//     yields to the clients' goroutines.
//  3. A command about to change a key in a slot the writer has not reached yet (adding,
//     deleting, overwriting it, changing its TTL, or looking it up to modify it in place)
//     first keeps a copy of that key as it still is, and the writer uses the copy when it
//     gets there. FLUSHALL and SWAPDB change no slot: they detach or move whole parts,
//     which the view still reads as they were.
//
// So every slot lands in the file as it was at the instant, which is what makes the file a
// consistent image to which the replication stream or the AOF's next increment applies.
// No client waits for more than the copy of one slot, and a write pays for the copy of its
// own key only; the extra memory is that of the keys changed before the writer reached
// them, as Redis's copy-on-write holds the pages changed during a BGSAVE.
package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/clusterctl/clusterctl/node/hashslot"
	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/persist/rdb"
	"github.com/clusterctl/clusterctl/node/persist/rdbvalue"
)

// Options say how a snapshot is written.
type Options struct {
	// RDB holds rdbcompression, rdbchecksum and the encoding thresholds.
	RDB rdb.Options
	// RedisVersion is written as the redis-ver aux field.
	RedisVersion string
	// UsedMem, when set, gives the used-mem aux field.
	UsedMem func() int64
	// Repl, when set, runs at the snapshot's instant and its result is written as the
	// repl-stream-db, repl-id and repl-offset aux fields, so that whoever loads the file
	// can continue the replication stream from that offset.
	Repl func() *rdb.ReplAux
	// AtBegin, when set, runs at the snapshot's instant with every shard locked: the point
	// where an AOF rewrite switches to a new increment file.
	AtBegin func()
	// AOFBase marks the file as the base of a multi-part AOF (aof-base aux field).
	AOFBase bool
	// Functions, when set, returns the function libraries to write, at the snapshot's
	// instant.
	Functions func() [][]byte
	// KeySaveDelay makes the writer sleep this long per key (rdb-key-save-delay, for
	// tests that need a slow BGSAVE). Only the writer's goroutine sleeps.
	KeySaveDelay time.Duration
	// SyncEvery, when positive, flushes and syncs the file every so many bytes
	// (rdb-save-incremental-fsync), so the final fsync has little left to do.
	SyncEvery int64
	// Progress, when set, counts the keys written as they are.
	Progress *atomic.Int64
}

// Result describes a written snapshot.
type Result struct {
	// Keys is the number of keys written.
	Keys int64
	// Bytes is the size of the file.
	Bytes int64
	// Repl is what Options.Repl returned at the snapshot's instant.
	Repl *rdb.ReplAux
	// Time is the snapshot's instant.
	Time time.Time
}

// slotWriter encodes slots for a view; it runs on the writer's goroutine and, for slots
// changed before the writer reached them, on clients' goroutines, so everything it shares
// is atomic.
type slotWriter struct {
	opts rdb.Options
	keys atomic.Int64
	// err is the first key that could not be encoded.
	errOnce sync.Once
	err     error
}

func (w *slotWriter) fail(err error) {
	w.errOnce.Do(func() { w.err = err })
}

func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// encode is the view's keyspace.SlotEncoder.
func (w *slotWriter) encode(dst []byte, db keyspace.DB, _ int, keys iter.Seq[*keyspace.Entry]) []byte {
	var scratch [24]byte
	n := int64(0)
	for e := range keys {
		var err error
		dst, err = AppendKey(dst, db, e, w.opts, scratch[:0])
		if err != nil {
			w.fail(fmt.Errorf("db %d: %w", db.Index, err))
			continue
		}
		n++
	}
	w.keys.Add(n)
	return dst
}

// AppendKey appends the RDB encoding of one key (its expiry, LRU or LFU data, type, name
// and value) to dst. db's policy decides whether IDLE or FREQ is written, as Redis writes
// them under LRU and LFU maxmemory policies. scratch formats integer strings.
func AppendKey(dst []byte, db keyspace.DB, e *keyspace.Entry, opts rdb.Options, scratch []byte) ([]byte, error) {
	v, err := rdbvalue.FromObject(&e.Value, scratch)
	if err != nil {
		return dst, fmt.Errorf("key %q: %w", e.Key(), err)
	}
	ent := rdb.Entry{Key: bytesOf(e.Key()), Value: v, ExpireAt: db.Expire(e)}
	idle, lru, freq, lfu := db.LRUOrLFU(e)
	if lru {
		ent.Idle, ent.HasIdle = uint64(idle), true
	}
	if lfu {
		ent.Freq, ent.HasFreq = freq, true
	}
	return rdb.AppendEntry(dst, &ent, opts)
}

// Write streams a point-in-time RDB file of ks to out (see the package documentation).
// It returns when the file is complete, ctx is done, or writing fails; clients are served
// meanwhile. It fails with keyspace.ErrPointInTimeOpen while another snapshot runs.
func Write(ctx context.Context, ks *keyspace.Keyspace, out io.Writer, opts Options) (Result, error) {
	sw := &slotWriter{opts: opts.RDB}
	var res Result
	var functions [][]byte
	now := time.Now()
	pit, err := ks.BeginPointInTime(now.UnixMilli(), sw.encode, func() {
		if opts.Repl != nil {
			res.Repl = opts.Repl()
		}
		if opts.Functions != nil {
			functions = opts.Functions()
		}
		if opts.AtBegin != nil {
			opts.AtBegin()
		}
	})
	if err != nil {
		return res, err
	}
	defer pit.Close()
	res.Time = now

	enc := rdb.NewEncoder(out, opts.RDB)
	usedMem := int64(0)
	if opts.UsedMem != nil {
		usedMem = opts.UsedMem()
	}
	err = enc.WriteInfoAux(rdb.InfoAux{RedisVersion: opts.RedisVersion, CTime: now.Unix(), UsedMem: usedMem,
		Repl: res.Repl, AOFBase: opts.AOFBase})
	for _, f := range functions {
		if err == nil {
			err = enc.WriteFunction(f)
		}
	}
	if err != nil {
		return res, fmt.Errorf("write RDB header: %w", err)
	}
	syncer, _ := out.(interface{ Sync() error })
	nextSync := opts.SyncEvery
	var buf []byte
	for db := 0; db < ks.NumDBs(); db++ {
		if pit.Keys(db) == 0 {
			continue
		}
		if err := enc.SelectDB(db, uint64(pit.Keys(db)), uint64(pit.Expires(db))); err != nil {
			return res, fmt.Errorf("write RDB: %w", err)
		}
		for slot := 0; slot < hashslot.Count; slot++ {
			before := sw.keys.Load()
			buf = pit.Slot(buf[:0], db, slot)
			if len(buf) == 0 {
				continue
			}
			if err := enc.WriteEncoded(buf); err != nil {
				return res, fmt.Errorf("write RDB: %w", err)
			}
			if opts.Progress != nil {
				opts.Progress.Store(sw.keys.Load())
			}
			if opts.KeySaveDelay > 0 {
				time.Sleep(opts.KeySaveDelay * time.Duration(sw.keys.Load()-before))
			}
			if nextSync > 0 && syncer != nil && enc.Written() >= nextSync {
				if err := enc.Flush(); err != nil {
					return res, fmt.Errorf("write RDB: %w", err)
				}
				if err := syncer.Sync(); err != nil {
					return res, fmt.Errorf("fsync RDB: %w", err)
				}
				nextSync = enc.Written() + opts.SyncEvery
			}
			if err := ctx.Err(); err != nil {
				return res, err
			}
			// With one P (GOMAXPROCS 1 on small machines) this keeps clients' latency
			// to the encoding of one slot rather than the scheduler's 10 ms slice.
			runtime.Gosched()
		}
	}
	if sw.err != nil {
		return res, sw.err
	}
	if err := enc.Close(); err != nil {
		return res, fmt.Errorf("write RDB: %w", err)
	}
	res.Keys = sw.keys.Load()
	res.Bytes = enc.Written()
	return res, nil
}

// Save writes a snapshot to path atomically, as rdbSave does: into a temporary file in
// the same directory, synced, then renamed over path, and the directory synced, so a
// crash leaves either the old file or the new one, never a torn one.
func Save(ctx context.Context, ks *keyspace.Keyspace, path string, opts Options) (Result, error) {
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, "temp-"+strconv.Itoa(os.Getpid())+".rdb")
	f, err := os.Create(tmp)
	if err != nil {
		return Result{}, fmt.Errorf("failed opening the temp RDB file %s (in server root dir %s) for saving: %w",
			filepath.Base(tmp), absDir(dir), err)
	}
	res, err := Write(ctx, ks, f, opts)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return res, err
	}
	if err := SyncDir(dir); err != nil {
		return res, fmt.Errorf("fsync directory %s: %w", absDir(dir), err)
	}
	return res, nil
}

// SyncDir fsyncs a directory, making a rename in it durable (fsyncFileDir).
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

func absDir(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}
