package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/clusterctl/clusterctl/node/command"
	"github.com/clusterctl/clusterctl/node/persist/aof"
	"github.com/clusterctl/clusterctl/node/persist/rdb"
	"github.com/clusterctl/clusterctl/node/persist/snapshot"
	"github.com/clusterctl/clusterctl/node/resp"
)

// The append-only file (Redis 7.0's aof.c): loading at start, appending the effects
// stream through aof.Writer, BGREWRITEAOF, CONFIG SET appendonly and INFO's aof_* fields.
//
// A rewrite is a snapshot (package snapshot) written as the new base while the writer
// switches to a new increment file at the snapshot's instant (Options.AtBegin runs with
// every shard locked, so each command's effects land on exactly one side of the cut).
// The new increment is named in the manifest before anything is written to it, so a crash
// during the rewrite loses nothing; once the base is complete, a new manifest names the
// new base and increment and the old files are deleted.

// aofState is aof_state.
type aofState int

const (
	aofOff aofState = iota
	aofOn
	// aofWaitRewrite: appendonly was turned on at run time and the first rewrite has not
	// finished; the effects already go to the new increment file.
	aofWaitRewrite
)

// aofFields is the AOF's part of persistState, guarded by persistState.mu.
type aofFields struct {
	state  aofState
	writer *aof.Writer
	// live mirrors writer for the clients' replies, which must not wait for persistState.mu
	// (aofSyncPoint, waitAOFSynced).
	live     atomic.Pointer[aof.Writer]
	unsub    func()
	manifest *aof.Manifest
	// incrSizes is the size of the manifest's increment files before the current one;
	// baseSize the base's; rewriteBaseSize the whole AOF's after the last rewrite (the
	// reference of auto-aof-rewrite-percentage).
	incrSizes, baseSize, rewriteBaseSize int64

	rewriteScheduled   bool
	lastRewriteOK      bool
	lastRewriteSeconds int64
	rewrites           int64
	consecutiveFails   int64
	lastRewriteTry     time.Time
}

func (s *Server) aofDir() string      { return s.cfg.String("appenddirname") }
func (s *Server) aofFilename() string { return s.cfg.String("appendfilename") }

func (s *Server) aofPolicy() aof.Policy {
	p, _ := aof.ParsePolicy(s.cfg.String("appendfsync"))
	return p
}

// initAOF registers the CONFIG SET hooks of the AOF.
func (s *Server) initAOF() {
	s.persist.aof.lastRewriteOK = true
	s.persist.aof.lastRewriteSeconds = -1
	s.cfg.OnSet("appendonly", func(string) error {
		if s.cfg.Bool("appendonly") {
			return s.startAppendOnly()
		}
		s.stopAppendOnly()
		return nil
	})
	s.cfg.OnSet("appendfsync", func(string) error {
		s.persist.mu.Lock()
		defer s.persist.mu.Unlock()
		if w := s.persist.aof.writer; w != nil {
			w.SetPolicy(s.aofPolicy())
		}
		return nil
	})
}

// aofLoadClient is the pseudo-client the AOF's commands run as at start-up (Redis's
// fake client): no connection, replies discarded.
func (s *Server) aofLoadClient() *client {
	now := time.Now()
	c := &client{srv: s, addr: "aof", laddr: "aof", created: now, local: true}
	c.w = resp.NewWriter(io.Discard)
	c.proto.Store(2)
	c.ctx = command.Ctx{W: c.w, Env: s.env, Conn: c, DB: s.ks.DB(0, now.UnixMilli(), nil)}
	return c
}

// runAOFCommand applies one command read from the AOF.
func (s *Server) runAOFCommand(c *client, argv [][]byte) error {
	cmd := s.table.Lookup(argv[0])
	if cmd != nil && cmd.Subcommands != nil && len(argv) >= 2 {
		cmd = cmd.LookupSub(argv[1])
	}
	if cmd == nil {
		return fmt.Errorf("unknown command '%s' reading the append only file", truncate(argv[0], 128))
	}
	if (cmd.Arity > 0 && cmd.Arity != len(argv)) || len(argv) < -cmd.Arity {
		return fmt.Errorf("wrong number of arguments for '%s' reading the append only file", cmd.FullName())
	}
	c.clock = s.monoNow()
	s.call(c, cmd, argv)
	c.w.Reset()
	return nil
}

// loadAppendOnlyFiles loads the AOF named by the manifest (loadAppendOnlyFiles): the
// base, RDB preamble or commands, then every increment. A file cut in the middle of a
// command is repaired when it is the last one and aof-load-truncated allows it; any
// other problem stops the start-up.
func (s *Server) loadAppendOnlyFiles() error {
	start := time.Now()
	dir, name := s.aofDir(), s.aofFilename()
	m, err := aof.LoadManifest(dir, name)
	if errors.Is(err, aof.ErrNoManifest) {
		m, err = nil, nil
	}
	if err != nil {
		return err
	}
	// A single appendonly.aof of Redis before 7.0 in the server's directory becomes the
	// base of the multi-part layout (aofUpgradePrepare). The directory is the process's
	// working directory, so the old file's path is its name.
	if aof.NeedsUpgrade(name, dir, name, m) {
		if m, err = aof.Upgrade(name, dir, name, m); err != nil {
			return err
		}
		s.log.Noticef("Successfully migrated an old-style AOF file (%s) into the AOF directory (%s).", name, dir)
	}
	if m == nil {
		s.log.Noticef("The AOF manifest file %s doesn't exist", aof.ManifestName(name))
		return nil
	}
	files := m.Incrs
	if m.Base != nil {
		files = append([]aof.FileInfo{*m.Base}, files...)
	}
	c := s.aofLoadClient()
	p := &s.persist
	for i, fi := range files {
		last := i == len(files)-1
		size, err := s.loadAOFFile(c, filepath.Join(dir, fi.Name), last)
		if err != nil {
			return err
		}
		if fi.Type == aof.Base {
			p.aof.baseSize = size
		} else if !last {
			p.aof.incrSizes += size
		}
	}
	p.aof.manifest = m
	p.aof.rewriteBaseSize = p.aof.baseSize + p.aof.incrSizes
	s.log.Noticef("DB loaded from append only file: %.3f seconds", time.Since(start).Seconds())
	return nil
}

// loadAOFFile loads one file of the AOF and returns its size.
func (s *Server) loadAOFFile(c *client, path string, last bool) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("the AOF file %s cannot be opened: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat %s: %w", path, err)
	}
	br := bufio.NewReaderSize(f, 1<<20)
	var cmds io.Reader = br
	var preamble int64
	if sig, _ := br.Peek(5); string(sig) == "REDIS" {
		d := rdb.NewDecoder(br)
		res, err := snapshot.Load(s.ks, d, snapshot.LoadOptions{Limits: s.loadLimits(),
			SkipChecksum: !s.cfg.Bool("rdbchecksum"), Now: time.Now().UnixMilli(), KeepExpired: true})
		if err != nil {
			return 0, fmt.Errorf("load the RDB preamble of %s: %w", path, err)
		}
		s.log.Noticef("Reading RDB base file on AOF loading...")
		s.log.Noticef("Loading RDB produced by version %s", auxString(res.Aux, "redis-ver"))
		cmds, preamble = d.Rest(), d.Offset()
	}
	valid, err := aof.ReadCommands(cmds, func(argv [][]byte) error { return s.runAOFCommand(c, argv) })
	valid += preamble
	switch {
	case err == nil:
	case errors.Is(err, aof.ErrTruncated) && last && s.cfg.Bool("aof-load-truncated"):
		s.log.Warningf("!!! Warning: short read while loading the AOF file %s!!!", filepath.Base(path))
		s.log.Warningf("!!! Truncating the AOF %s at offset %d !!!", filepath.Base(path), valid)
		if err := os.Truncate(path, valid); err != nil {
			return 0, fmt.Errorf("truncate the AOF %s to its last complete command: %w", path, err)
		}
		s.log.Warningf("AOF %s loaded anyway because aof-load-truncated is enabled", filepath.Base(path))
		return valid, nil
	case errors.Is(err, aof.ErrTruncated) && last:
		return 0, fmt.Errorf("the AOF file %s ends in the middle of a command at offset %d (%v): "+
			"set aof-load-truncated yes, or repair it with redis-check-aof --fix", path, valid, err)
	default:
		return 0, fmt.Errorf("the AOF file %s cannot be loaded: %w", path, err)
	}
	return st.Size(), nil
}

func auxString(aux []rdb.AuxField, name string) string {
	for _, a := range aux {
		if string(a.Key) == name {
			return string(a.Value)
		}
	}
	return ""
}

// openAOFOnStart is aofOpenIfNeededOnServerStart: with appendonly yes, an AOF without
// base or increment (a first start) gets a base written at once from the (empty or
// loaded) data set; then the last increment file, or a new one, is opened for appending.
func (s *Server) openAOFOnStart() error {
	dir, name := s.aofDir(), s.aofFilename()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create the AOF directory %s: %w", dir, err)
	}
	p := &s.persist
	m := p.aof.manifest
	if m == nil {
		m = &aof.Manifest{}
	}
	if m.Empty() {
		seq := m.NextBaseSeq()
		base := aof.BaseName(name, seq, true)
		opts := s.snapshotOptions()
		opts.AOFBase = true
		res, err := snapshot.Save(context.Background(), s.ks, filepath.Join(dir, base), opts)
		if err != nil {
			return fmt.Errorf("write the AOF base %s: %w", base, err)
		}
		m.Base = &aof.FileInfo{Name: base, Seq: seq, Type: aof.Base}
		p.aof.baseSize = res.Bytes
		s.log.Noticef("Creating AOF base file %s on server start", base)
	}
	if len(m.Incrs) == 0 {
		seq := m.NextIncrSeq()
		m.Incrs = append(m.Incrs, aof.FileInfo{Name: aof.IncrName(name, seq), Seq: seq, Type: aof.Incr})
		s.log.Noticef("Creating AOF incr file %s on server start", m.Incrs[0].Name)
	}
	incr := m.Incrs[len(m.Incrs)-1].Name
	f, err := os.OpenFile(filepath.Join(dir, incr), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open the AOF file %s: %w", incr, err)
	}
	if err := aof.WriteManifest(dir, name, m); err != nil {
		f.Close()
		return err
	}
	w, err := aof.NewWriter(f, s.aofPolicy(), s.aofAlwaysFailed)
	if err != nil {
		f.Close()
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.aof.manifest, p.aof.writer, p.aof.state = m, w, aofOn
	p.aof.live.Store(w)
	p.aof.unsub = s.ks.Stream().Subscribe(w)
	if p.aof.rewriteBaseSize == 0 {
		p.aof.rewriteBaseSize = p.aof.baseSize + p.aof.incrSizes + w.Size()
	}
	return nil
}

// aofAlwaysFailed is Redis's reaction to a failed write under appendfsync always: it can
// no longer acknowledge writes truthfully, so it exits.
func (s *Server) aofAlwaysFailed(err error) {
	s.log.Warningf("Can't recover from AOF write error when the AOF fsync policy is 'always': %v. Exiting...", err)
	os.Exit(1)
}

// startAppendOnly is CONFIG SET appendonly yes: a rewrite writes the first base; the
// effects go to a new increment file from its instant on.
func (s *Server) startAppendOnly() error {
	p := &s.persist
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.aof.state != aofOff {
		return nil
	}
	if p.child == childRDB {
		// Redis kills the BGSAVE child to start the rewrite at once.
		s.log.Warningf("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.")
		p.aof.state = aofWaitRewrite
		p.aof.rewriteScheduled = true
		return nil
	}
	p.aof.state = aofWaitRewrite
	if err := s.startRewriteLocked(); err != nil {
		p.aof.state = aofOff
		s.log.Warningf("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation: %v", err)
		return fmt.Errorf("can't start the AOF rewrite: %w", err)
	}
	return nil
}

// stopAppendOnly is CONFIG SET appendonly no: stop a rewrite, flush and close the file.
func (s *Server) stopAppendOnly() {
	p := &s.persist
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.child == childAOF {
		s.log.Noticef("Killing running AOF rewrite child")
		s.cancelChildLocked()
	}
	s.closeAOFLocked()
	p.aof.state = aofOff
	p.aof.rewriteScheduled = false
}

// closeAOFLocked unsubscribes and closes the writer; p.mu is held.
func (s *Server) closeAOFLocked() {
	p := &s.persist
	if p.aof.unsub != nil {
		p.aof.unsub()
		p.aof.unsub = nil
	}
	if p.aof.writer != nil {
		if err := p.aof.writer.Close(); err != nil {
			s.log.Warningf("%v", err)
		}
		p.aof.writer = nil
		p.aof.live.Store(nil)
	}
}

// aofSyncPoint returns the AOF position a command's reply must wait for under appendfsync
// always, read once the command's effects were applied; 0 when replies need not wait.
func (s *Server) aofSyncPoint() int64 {
	w := s.persist.aof.live.Load()
	if w == nil || !w.Always() {
		return 0
	}
	return w.End()
}

// waitAOFSynced holds a client's replies until the AOF is on disk up to off: group
// commit, the clients waiting together sharing one fsync (aof.Writer.WaitSynced). Should
// the writer have been replaced since off was read, the wait costs at most one fsync of
// the new one; the old one was synced when it was closed.
func (s *Server) waitAOFSynced(off int64) {
	if w := s.persist.aof.live.Load(); w != nil {
		w.WaitSynced(off)
	}
}

func (s *Server) cmdBgrewriteaof(c *command.Ctx) {
	p := &s.persist
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.child == childAOF:
		c.Error("ERR Background append only file rewriting already in progress")
	case p.child != childNone:
		p.aof.rewriteScheduled = true
		c.W.Simple("Background append only file rewriting scheduled")
	default:
		if err := s.startRewriteLocked(); err != nil {
			c.Error("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
			return
		}
		c.W.Simple("Background append only file rewriting started")
	}
}

// startRewriteLocked starts a background rewrite (rewriteAppendOnlyFileBackground);
// p.mu is held.
func (s *Server) startRewriteLocked() error {
	p := &s.persist
	if p.shuttingDown {
		return errors.New("shutting down")
	}
	dir, name := s.aofDir(), s.aofFilename()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create the AOF directory %s: %w", dir, err)
	}
	m := p.aof.manifest
	if m == nil {
		m = &aof.Manifest{}
	}
	m = m.Clone()
	// The new increment file exists, and the manifest names it, before the first byte
	// goes to it: a crash during the rewrite then loses nothing (openNewIncrAofForAppend).
	var incrFile *os.File
	var incr aof.FileInfo
	if p.aof.state != aofOff {
		seq := m.NextIncrSeq()
		incr = aof.FileInfo{Name: aof.IncrName(name, seq), Seq: seq, Type: aof.Incr}
		f, err := os.OpenFile(filepath.Join(dir, incr.Name), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return fmt.Errorf("create the AOF file %s: %w", incr.Name, err)
		}
		incrFile = f
		if p.aof.state == aofOn {
			m.Incrs = append(m.Incrs, incr)
			if err := aof.WriteManifest(dir, name, m); err != nil {
				f.Close()
				os.Remove(f.Name())
				return err
			}
			p.aof.manifest = m
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.child, p.childCancel, p.childDone = childAOF, cancel, make(chan struct{})
	p.childStart = time.Now()
	p.aof.lastRewriteTry = p.childStart
	p.aof.rewriteScheduled = false
	p.cancelled = false
	p.keysProcessed.Store(0)
	done := p.childDone
	state := p.aof.state
	s.log.Noticef("Background append only file rewriting started")
	go func() {
		defer close(done)
		p.keysTotal.Store(s.totalKeys()) // outside p.mu, see startBgsaveLocked
		err := s.rewriteAOF(ctx, m, incrFile, incr, state)
		cancel()
		s.rewriteDone(err, m, incr)
	}()
	return nil
}

// rewriteAOF writes the new base. At the snapshot's instant the effects switch to
// incrFile: the running writer's file changes, or, when appendonly was just turned on, a
// writer is created and subscribed.
func (s *Server) rewriteAOF(ctx context.Context, m *aof.Manifest, incrFile *os.File, incr aof.FileInfo, state aofState) error {
	p := &s.persist
	dir := s.aofDir()
	tmp := filepath.Join(dir, "temp-rewriteaof-bg-"+strconv.Itoa(os.Getpid())+".aof")
	var old *os.File
	var switchErr error
	opts := s.snapshotOptions()
	opts.AOFBase = true
	if s.cfg.Bool("aof-rewrite-incremental-fsync") {
		opts.SyncEvery = 4 << 20
	}
	opts.AtBegin = func() {
		if incrFile == nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if w := p.aof.writer; w != nil {
			old, switchErr = w.Switch(incrFile)
			return
		}
		w, err := aof.NewWriter(incrFile, s.aofPolicy(), s.aofAlwaysFailed)
		if err != nil {
			switchErr = err
			return
		}
		p.aof.writer = w
		p.aof.live.Store(w)
		p.aof.unsub = s.ks.Stream().Subscribe(w)
	}
	release := s.cores.borrow()
	res, err := snapshot.Save(ctx, s.ks, tmp, opts)
	release()
	if old != nil {
		// The previous increment is complete: make it durable before the manifest
		// stops naming it as the last one.
		if serr := old.Sync(); serr != nil && err == nil {
			err = fmt.Errorf("fsync the previous AOF increment: %w", serr)
		}
		old.Close()
	}
	if err == nil {
		err = switchErr
	}
	if err != nil {
		os.Remove(tmp)
		if incrFile != nil && state == aofWaitRewrite {
			p.mu.Lock()
			if p.aof.writer == nil {
				incrFile.Close()
			}
			p.mu.Unlock()
		}
		return err
	}
	base := aof.FileInfo{Name: aof.BaseName(s.aofFilename(), m.NextBaseSeq(), true), Seq: m.NextBaseSeq(), Type: aof.Base}
	if err := os.Rename(tmp, filepath.Join(dir, base.Name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("install the AOF base %s: %w", base.Name, err)
	}
	p.mu.Lock()
	p.aof.baseSize = res.Bytes
	p.mu.Unlock()
	// The new manifest: the new base, then the new increment alone; the old base and
	// increments become history and are deleted.
	nm := &aof.Manifest{Base: &base}
	if m.Base != nil {
		nm.History = append(nm.History, aof.FileInfo{Name: m.Base.Name, Seq: m.Base.Seq, Type: aof.History})
	}
	for _, f := range m.Incrs {
		if f.Name != incr.Name {
			nm.History = append(nm.History, aof.FileInfo{Name: f.Name, Seq: f.Seq, Type: aof.History})
		}
	}
	if incrFile != nil {
		nm.Incrs = []aof.FileInfo{incr}
	}
	if err := aof.WriteManifest(dir, s.aofFilename(), nm); err != nil {
		return err
	}
	for _, h := range nm.History {
		if err := os.Remove(filepath.Join(dir, h.Name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warningf("Can't remove the AOF history file %s: %v", h.Name, err)
		}
	}
	nm.History = nil
	if err := aof.WriteManifest(dir, s.aofFilename(), nm); err != nil {
		return err
	}
	p.mu.Lock()
	p.aof.manifest = nm
	p.mu.Unlock()
	return nil
}

// rewriteDone is backgroundRewriteDoneHandler.
func (s *Server) rewriteDone(err error, m *aof.Manifest, incr aof.FileInfo) {
	p := &s.persist
	p.mu.Lock()
	defer p.mu.Unlock()
	p.aof.lastRewriteSeconds = int64(time.Since(p.childStart).Seconds())
	p.child, p.childCancel = childNone, nil
	p.keysTotal.Store(0)
	switch {
	case err == nil:
		p.aof.rewrites++
		p.aof.lastRewriteOK = true
		p.aof.consecutiveFails = 0
		p.aof.incrSizes = 0
		if p.aof.state == aofWaitRewrite {
			p.aof.state = aofOn
			s.log.Noticef("Background AOF rewrite finished successfully")
		}
		if w := p.aof.writer; w != nil {
			p.aof.rewriteBaseSize = p.aof.baseSize + w.Size()
		}
		s.log.Noticef("Background AOF rewrite terminated with success")
	case p.cancelled:
		s.log.Warningf("Background AOF rewrite terminated by request")
	default:
		p.aof.lastRewriteOK = false
		p.aof.consecutiveFails++
		s.log.Warningf("Background AOF rewrite terminated with error: %v", err)
		if p.aof.state == aofWaitRewrite {
			// The first rewrite of appendonly yes failed: try again from the cron.
			s.closeAOFLocked()
			p.aof.rewriteScheduled = true
		}
	}
}

// aofCron is serverCron's AOF part: a scheduled rewrite, or an automatic one when the
// AOF grew by auto-aof-rewrite-percentage since the last rewrite; p.mu is held and no
// child runs.
func (s *Server) aofCronLocked(now time.Time) bool {
	p := &s.persist
	retryOK := p.aof.consecutiveFails == 0 || now.Sub(p.aof.lastRewriteTry) > bgsaveRetryDelay
	if p.aof.rewriteScheduled && retryOK {
		if err := s.startRewriteLocked(); err != nil {
			s.log.Warningf("Can't start a scheduled AOF rewrite: %v", err)
		}
		return true
	}
	if p.aof.state != aofOn || p.aof.writer == nil || !retryOK {
		return false
	}
	pct := s.cfg.Int("auto-aof-rewrite-percentage")
	size := p.aof.baseSize + p.aof.incrSizes + p.aof.writer.Size()
	if pct > 0 && size > s.cfg.Int("auto-aof-rewrite-min-size") {
		base := max(p.aof.rewriteBaseSize, 1)
		if growth := (size*100)/base - 100; growth >= pct {
			s.log.Noticef("Starting automatic rewriting of AOF on %d%% growth", growth)
			if err := s.startRewriteLocked(); err != nil {
				s.log.Warningf("Can't start an automatic AOF rewrite: %v", err)
			}
			return true
		}
	}
	return false
}

// shutdownAOFLocked stops a rewrite and syncs the AOF before exiting; p.mu is held.
func (s *Server) shutdownAOFLocked() {
	p := &s.persist
	if p.child == childAOF {
		s.log.Warningf("There is a child rewriting the AOF. Killing it!")
		s.cancelChildLocked()
	}
	if p.aof.writer != nil {
		s.log.Noticef("Calling fsync() on the AOF file.")
		s.closeAOFLocked()
	}
}

// infoAOF writes the aof_* fields of INFO persistence; p.mu is held.
func (s *Server) infoAOF(b *strings.Builder) {
	p := &s.persist
	a := &p.aof
	field(b, "aof_enabled", boolInt(a.state != aofOff))
	field(b, "aof_rewrite_in_progress", boolInt(p.child == childAOF))
	field(b, "aof_rewrite_scheduled", boolInt(a.rewriteScheduled))
	field(b, "aof_last_rewrite_time_sec", a.lastRewriteSeconds)
	current := int64(-1)
	if p.child == childAOF {
		current = int64(time.Since(p.childStart).Seconds())
	}
	field(b, "aof_current_rewrite_time_sec", current)
	field(b, "aof_last_bgrewrite_status", okErr(a.lastRewriteOK))
	field(b, "aof_rewrites", a.rewrites)
	field(b, "aof_rewrites_consecutive_failures", a.consecutiveFails)
	failed := false
	if a.writer != nil {
		failed, _ = a.writer.Failed()
	}
	field(b, "aof_last_write_status", okErr(!failed))
	field(b, "aof_last_cow_size", 0)
	field(b, "module_fork_in_progress", 0)
	field(b, "module_fork_last_cow_size", 0)
	if a.state != aofOff && a.writer != nil {
		field(b, "aof_current_size", a.baseSize+a.incrSizes+a.writer.Size())
		field(b, "aof_base_size", a.rewriteBaseSize)
		field(b, "aof_pending_rewrite", boolInt(a.rewriteScheduled))
		field(b, "aof_buffer_length", 0)
		field(b, "aof_pending_bio_fsync", 0)
		field(b, "aof_delayed_fsync", a.writer.DelayedFsyncs())
	}
}
