package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clusterctl/clusterctl/node/command"
	"github.com/clusterctl/clusterctl/node/datatype/hash"
	"github.com/clusterctl/clusterctl/node/datatype/set"
	"github.com/clusterctl/clusterctl/node/datatype/stream"
	"github.com/clusterctl/clusterctl/node/datatype/zset"
	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/persist/rdb"
	"github.com/clusterctl/clusterctl/node/persist/rdbvalue"
	"github.com/clusterctl/clusterctl/node/persist/snapshot"
)

// Persistence: SAVE, BGSAVE and save points, loading at start, SHUTDOWN's final save,
// DEBUG RELOAD and INFO persistence, driving package snapshot (and the AOF, package aof).
//
// Redis runs at most one child process at a time, a BGSAVE or an AOF rewrite; here the
// "child" is a goroutine writing a point-in-time snapshot, and the same rule holds (the
// keyspace allows one point-in-time view at a time).

// childKind is what the background job is doing.
type childKind int

const (
	childNone childKind = iota
	childRDB
	childAOF
)

// persistState is the persistence bookkeeping; mu guards every field not atomic.
type persistState struct {
	mu sync.Mutex

	child       childKind
	childCancel context.CancelFunc
	childDone   chan struct{}
	childStart  time.Time
	// cancelled marks a child stopped on purpose (FLUSHALL, SHUTDOWN): its failure is
	// not an error.
	cancelled bool

	bgsaveScheduled   bool
	lastBgsaveOK      bool
	lastBgsaveTry     time.Time
	lastBgsaveSeconds int64
	dirtyAtStart      int64
	saves             int64

	keysProcessed atomic.Int64
	keysTotal     atomic.Int64

	loadedKeys, loadedExpired int64

	// shuttingDown stops save points and scheduled saves once the final save began.
	shuttingDown bool

	aof aofFields
}

func (s *Server) initPersistence() {
	s.persist.lastBgsaveOK = true
	s.persist.lastBgsaveSeconds = -1
	s.initAOF()
}

func (s *Server) registerPersistenceCommands() {
	t := s.table
	t.Register("save", s.cmdSave)
	t.Register("bgsave", s.cmdBgsave)
	t.Register("lastsave", func(c *command.Ctx) { c.W.Int(s.lastSaveUnix.Load()) })
	t.Register("dump", command.NewDump(s.rdbOptions))
	restore := command.NewRestore(s.loadLimits)
	t.Register("restore", restore)
	t.Register("restore-asking", restore)
	t.Register("bgrewriteaof", s.cmdBgrewriteaof)
	s.env.AfterFlushAll = s.afterFlushAll
}

// rdbPath is dbfilename in dir; dir is the process's working directory, as in Redis.
func (s *Server) rdbPath() string { return s.cfg.String("dbfilename") }

// rdbOptions reads the settings a snapshot is written with.
func (s *Server) rdbOptions() rdb.Options {
	cfg := s.cfg
	return rdb.Options{
		Compression:            cfg.Bool("rdbcompression"),
		Checksum:               cfg.Bool("rdbchecksum"),
		ListMaxListpackSize:    int(cfg.Int("list-max-listpack-size")),
		ListPackedThreshold:    1 << 30,
		SetMaxIntsetEntries:    int(cfg.Int("set-max-intset-entries")),
		HashMaxListpackEntries: int(cfg.Int("hash-max-listpack-entries")),
		HashMaxListpackValue:   int(cfg.Int("hash-max-listpack-value")),
		ZSetMaxListpackEntries: int(cfg.Int("zset-max-listpack-entries")),
		ZSetMaxListpackValue:   int(cfg.Int("zset-max-listpack-value")),
		StreamNodeMaxBytes:     int(cfg.Int("stream-node-max-bytes")),
		StreamNodeMaxEntries:   int(cfg.Int("stream-node-max-entries")),
	}
}

// loadLimits reads the thresholds a loaded value's encoding is decided with.
func (s *Server) loadLimits() rdbvalue.Limits {
	cfg := s.cfg
	return rdbvalue.Limits{
		ZSet: zset.Limits{MaxListpackEntries: int(cfg.Int("zset-max-listpack-entries")),
			MaxListpackValue: int(cfg.Int("zset-max-listpack-value"))},
		Hash: hash.Limits{MaxListpackEntries: cfg.Int("hash-max-listpack-entries"),
			MaxListpackValue: cfg.Int("hash-max-listpack-value")},
		Set: set.Limits{MaxIntsetEntries: cfg.Int("set-max-intset-entries")},
		Stream: stream.Config{NodeMaxBytes: cfg.Int("stream-node-max-bytes"),
			NodeMaxEntries: cfg.Int("stream-node-max-entries")},
	}
}

func (s *Server) snapshotOptions() snapshot.Options {
	opts := snapshot.Options{
		RDB:          s.rdbOptions(),
		RedisVersion: Version,
		UsedMem:      s.usedMemory,
		Progress:     &s.persist.keysProcessed,
		KeySaveDelay: time.Duration(s.cfg.Int("rdb-key-save-delay")) * time.Microsecond,
	}
	if s.cfg.Bool("rdb-save-incremental-fsync") {
		opts.SyncEvery = 4 << 20 // REDIS_AUTOSYNC_BYTES
	}
	return opts
}

// totalKeys counts the keys of every database, for current_save_keys_total.
func (s *Server) totalKeys() int64 {
	var n int64
	for _, st := range s.ks.DBStats(0) {
		n += int64(st.Keys)
	}
	return n
}

// saveForeground is rdbSave: a snapshot written by the caller's goroutine. Clients are
// served meanwhile (unlike Redis's SAVE, nothing needs to block them), and the file is
// the data set at the moment the save began.
func (s *Server) saveForeground(ctx context.Context) error {
	p := &s.persist
	p.keysProcessed.Store(0)
	p.keysTotal.Store(s.totalKeys())
	dirty := s.env.Dirty.Load()
	_, err := snapshot.Save(ctx, s.ks, s.rdbPath(), s.snapshotOptions())
	p.keysTotal.Store(0)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.saves++
	if err != nil {
		s.log.Warningf("Failed saving the DB: %v", err)
		return err
	}
	s.log.Noticef("DB saved on disk")
	s.env.Dirty.Add(-dirty)
	s.lastSaveUnix.Store(time.Now().Unix())
	p.lastBgsaveOK = true
	return nil
}

func (s *Server) cmdSave(c *command.Ctx) {
	s.persist.mu.Lock()
	busy := s.persist.child == childRDB
	s.persist.mu.Unlock()
	if busy {
		c.Error("ERR Background save already in progress")
		return
	}
	if err := s.saveForeground(context.Background()); err != nil {
		if errors.Is(err, keyspace.ErrPointInTimeOpen) {
			c.Error("ERR Background save already in progress")
			return
		}
		c.Error("ERR")
		return
	}
	c.W.OK()
}

func (s *Server) cmdBgsave(c *command.Ctx) {
	schedule := false
	if len(c.Argv) > 1 {
		if len(c.Argv) == 2 && command.Is(c.Argv[1], "schedule") {
			schedule = true
		} else {
			c.Error(command.ErrSyntax)
			return
		}
	}
	p := &s.persist
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.child == childRDB:
		c.Error("ERR Background save already in progress")
	case p.child != childNone:
		if schedule {
			p.bgsaveScheduled = true
			c.W.Simple("Background saving scheduled")
			return
		}
		c.Error("ERR Another child process is active (AOF?): can't BGSAVE right now. " +
			"Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
	default:
		if err := s.startBgsaveLocked(); err != nil {
			c.Error("ERR")
			return
		}
		c.W.Simple("Background saving started")
	}
}

// startBgsaveLocked starts a BGSAVE (rdbSaveBackground); p.mu is held.
func (s *Server) startBgsaveLocked() error {
	p := &s.persist
	if p.shuttingDown {
		return errors.New("shutting down")
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.child, p.childCancel, p.childDone = childRDB, cancel, make(chan struct{})
	p.childStart = time.Now()
	p.lastBgsaveTry = p.childStart
	p.dirtyAtStart = s.env.Dirty.Load()
	p.bgsaveScheduled = false
	p.cancelled = false
	p.saves++
	p.keysProcessed.Store(0)
	done := p.childDone
	s.log.Noticef("Background saving started")
	go func() {
		defer close(done)
		// Counted here, not under p.mu: counting locks shards, and a command holding
		// shards (FLUSHALL) may be waiting for p.mu.
		p.keysTotal.Store(s.totalKeys())
		release := s.cores.borrow()
		_, err := snapshot.Save(ctx, s.ks, s.rdbPath(), s.snapshotOptions())
		release()
		cancel()
		s.bgsaveDone(err)
	}()
	return nil
}

// bgsaveDone is backgroundSaveDoneHandler.
func (s *Server) bgsaveDone(err error) {
	p := &s.persist
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastBgsaveSeconds = int64(time.Since(p.childStart).Seconds())
	p.child, p.childCancel = childNone, nil
	p.keysTotal.Store(0)
	switch {
	case err == nil:
		s.log.Noticef("Background saving terminated with success")
		s.env.Dirty.Add(-p.dirtyAtStart)
		s.lastSaveUnix.Store(time.Now().Unix())
		p.lastBgsaveOK = true
	case p.cancelled:
		s.log.Warningf("Background saving terminated by request")
	default:
		s.log.Warningf("Background saving error: %v", err)
		p.lastBgsaveOK = false
	}
}

// cancelBgsaveLocked stops a running BGSAVE (killRDBChild) and waits for it; p.mu is
// held and released while waiting.
func (s *Server) cancelBgsaveLocked() {
	if s.persist.child == childRDB {
		s.cancelChildLocked()
	}
}

// cancelChildLocked stops the running BGSAVE or AOF rewrite and waits for it; p.mu is
// held and released while waiting.
func (s *Server) cancelChildLocked() {
	p := &s.persist
	if p.child == childNone {
		return
	}
	p.cancelled = true
	p.childCancel()
	done := p.childDone
	p.mu.Unlock()
	<-done
	p.mu.Lock()
}

// afterFlushAll is what FLUSHALL does for persistence (flushAllDataAndResetRDB): a
// running BGSAVE is stopped and, when save points are configured, the now empty data set
// is saved at once. It reports whether it saved, which resets the dirty counter.
func (s *Server) afterFlushAll() bool {
	p := &s.persist
	p.mu.Lock()
	s.cancelBgsaveLocked()
	p.mu.Unlock()
	if len(s.cfg.SavePoints()) == 0 {
		return false
	}
	// The keyspace is empty now: the snapshot is written without a point-in-time view,
	// so a FLUSHALL inside MULTI or a script, holding every shard, cannot deadlock.
	empty := keyspace.New(1, nil)
	if _, err := snapshot.Save(context.Background(), empty, s.rdbPath(), s.snapshotOptions()); err != nil {
		s.log.Warningf("Failed saving the DB after FLUSHALL: %v", err)
		return false
	}
	p.mu.Lock()
	p.saves++
	p.lastBgsaveOK = true
	p.mu.Unlock()
	s.env.Dirty.Store(0)
	s.lastSaveUnix.Store(time.Now().Unix())
	return true
}

// persistenceCron is serverCron's persistence part: save points and scheduled BGSAVEs.
const bgsaveRetryDelay = 5 * time.Second // CONFIG_BGSAVE_RETRY_DELAY

func (s *Server) persistenceCron(now time.Time) {
	p := &s.persist
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.child != childNone || p.shuttingDown {
		return
	}
	if s.aofCronLocked(now) {
		return
	}
	canRetry := p.lastBgsaveOK || now.Sub(p.lastBgsaveTry) > bgsaveRetryDelay
	if p.bgsaveScheduled && canRetry {
		s.startBgsaveLocked()
		return
	}
	dirty := s.env.Dirty.Load()
	elapsed := now.Unix() - s.lastSaveUnix.Load()
	for _, sp := range s.cfg.SavePoints() {
		if dirty >= sp.Changes && elapsed > sp.Seconds && canRetry {
			s.log.Noticef("%d changes in %d seconds. Saving...", sp.Changes, sp.Seconds)
			s.startBgsaveLocked()
			return
		}
	}
}

// loadDataFromDisk loads dbfilename at start (loadDataFromDisk). A missing file is an
// empty data set; a file that cannot be loaded stops the server from starting rather
// than serving part of a data set.
func (s *Server) loadDataFromDisk() error {
	if s.cfg.Bool("appendonly") {
		// With the AOF on, it alone is the data set, as in Redis.
		if err := s.loadAppendOnlyFiles(); err != nil {
			s.log.Warningf("Fatal error loading the AOF: %v. Exiting.", err)
			return fmt.Errorf("fatal error loading the append only file: %w", err)
		}
		if err := s.openAOFOnStart(); err != nil {
			s.log.Warningf("%v. Exiting.", err)
			return err
		}
		return nil
	}
	start := time.Now()
	path := s.rdbPath()
	res, err := snapshot.LoadFile(s.ks, path, snapshot.LoadOptions{
		Limits:       s.loadLimits(),
		SkipChecksum: !s.cfg.Bool("rdbchecksum"),
		Now:          time.Now().UnixMilli(),
	})
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		s.log.Warningf("Fatal error loading the DB: %v. Exiting.", err)
		return fmt.Errorf("fatal error loading the DB from %s: %w", absPath(path), err)
	}
	if res.FunctionsSkipped > 0 {
		s.log.Warningf("The RDB file holds %d function libraries, which this server cannot load: they were left out", res.FunctionsSkipped)
	}
	s.persist.mu.Lock()
	s.persist.loadedKeys, s.persist.loadedExpired = res.Keys, res.Expired
	s.persist.mu.Unlock()
	s.log.Noticef("Done loading RDB, keys loaded: %d, keys expired: %d.", res.Keys, res.Expired)
	s.log.Noticef("DB loaded from disk: %.3f seconds", time.Since(start).Seconds())
	return nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// prepareForShutdown does SHUTDOWN's persistence work: stop a running BGSAVE, save when
// save points exist (or SAVE was asked) unless NOSAVE. A failed save stops the shutdown
// unless force.
func (s *Server) prepareForShutdown(save, nosave, force bool) error {
	p := &s.persist
	p.mu.Lock()
	if p.child == childRDB {
		s.log.Warningf("There is a child saving an .rdb. Killing it!")
	}
	s.cancelBgsaveLocked()
	s.shutdownAOFLocked()
	p.shuttingDown = true
	p.mu.Unlock()
	if (len(s.cfg.SavePoints()) > 0 && !nosave) || save {
		s.log.Noticef("Saving the final RDB snapshot before exiting.")
		if err := s.saveForeground(context.Background()); err != nil && !force {
			s.log.Warningf("Error trying to save the DB, can't exit.")
			p.mu.Lock()
			p.shuttingDown = false
			p.mu.Unlock()
			return err
		}
	}
	return nil
}

// debugReload is DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty the keyspace, load
// the file back.
func (s *Server) debugReload(c *command.Ctx) {
	save, flush, merge := true, true, false
	for _, a := range c.Argv[2:] {
		switch {
		case command.Is(a, "nosave"):
			save = false
		case command.Is(a, "noflush"):
			flush = false
		case command.Is(a, "merge"):
			merge = true
		default:
			c.Error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
			return
		}
	}
	if save {
		if err := s.saveForeground(context.Background()); err != nil {
			c.Error("ERR Error trying to save the DB, check server logs.")
			return
		}
	}
	if flush {
		s.ks.FlushAll()
	}
	res, err := snapshot.LoadFile(s.ks, s.rdbPath(), snapshot.LoadOptions{
		Limits:       s.loadLimits(),
		SkipChecksum: !s.cfg.Bool("rdbchecksum"),
		Now:          time.Now().UnixMilli(),
		Replace:      merge,
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warningf("DEBUG RELOAD: %v", err)
		c.Error("ERR Error trying to load the RDB dump, check server logs.")
		return
	}
	s.persist.mu.Lock()
	s.persist.loadedKeys, s.persist.loadedExpired = res.Keys, res.Expired
	s.persist.mu.Unlock()
	s.log.Noticef("DB reloaded by DEBUG RELOAD")
	c.W.OK()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func okErr(ok bool) string {
	if ok {
		return "ok"
	}
	return "err"
}

func (s *Server) infoPersistence(b *strings.Builder) {
	p := &s.persist
	p.mu.Lock()
	defer p.mu.Unlock()
	bgsave := p.child == childRDB
	field(b, "loading", 0)
	field(b, "async_loading", 0)
	field(b, "current_cow_peak", 0)
	field(b, "current_cow_size", 0)
	field(b, "current_cow_size_age", 0)
	field(b, "current_fork_perc", "0.00")
	field(b, "current_save_keys_processed", p.keysProcessed.Load())
	field(b, "current_save_keys_total", p.keysTotal.Load())
	field(b, "rdb_changes_since_last_save", s.env.Dirty.Load())
	field(b, "rdb_bgsave_in_progress", boolInt(bgsave))
	field(b, "rdb_last_save_time", s.lastSaveUnix.Load())
	field(b, "rdb_last_bgsave_status", okErr(p.lastBgsaveOK))
	field(b, "rdb_last_bgsave_time_sec", p.lastBgsaveSeconds)
	current := int64(-1)
	if bgsave {
		current = int64(time.Since(p.childStart).Seconds())
	}
	field(b, "rdb_current_bgsave_time_sec", current)
	field(b, "rdb_saves", p.saves)
	field(b, "rdb_last_cow_size", 0)
	field(b, "rdb_last_load_keys_expired", p.loadedExpired)
	field(b, "rdb_last_load_keys_loaded", p.loadedKeys)
	s.infoAOF(b)
}
