// Package server is `clusterctl server`: the listeners, the client connections, and the
// dispatch of commands to the command table (package command) over the keyspace (package
// keyspace).
//
// # Connections
//
// Each accepted connection is served by one goroutine that reads requests with
// resp.Reader.ReadCommand and writes replies into a resp.Writer buffer, flushing once the
// read buffer is empty, so a pipeline of N requests costs one read and one write system
// call rather than N of each. A panic in a handler is recovered per connection: the client
// gets an error, the log a stack trace, and the server goes on.
//
// # Locks
//
// There is no global lock. Before a handler runs, the dispatcher extracts the command's
// keys with its key specs and locks the keyspace shards they live in (keyspace.LockShards,
// ascending order), so commands on different keys run in parallel and commands on the same
// key one after the other; no lock is held while reading from or writing to a socket.
// Commands that span the keyspace (FLUSHALL, KEYS, DBSIZE, SCAN) lock shards themselves.
// Server state has its own small locks, each documented next to the fields it guards.
//
// # Effects
//
// While a handler runs, what it changed is recorded in the client's effects batch in the
// form replicas and the AOF replay (SET EX as SET PXAT, lazily expired keys as DEL). The
// dispatcher commits the batch to the keyspace's effects stream before unlocking, so the
// stream's order is a valid serial order of the commands. Active expiry and eviction
// commit their DELs to the same stream. Nothing consumes it yet; replication and the AOF
// will subscribe.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clusterctl/clusterctl/node/command"
	"github.com/clusterctl/clusterctl/node/config"
	"github.com/clusterctl/clusterctl/node/effects"
	"github.com/clusterctl/clusterctl/node/hugepage"
	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/logging"
)

// threads picks how many cores run Go code (GOMAXPROCS). redis-server executes commands
// on one thread and leaves the other cores to the kernel's network stack and to its
// clients; a node that takes every core competes with them. Measured on a 2-core machine
// with redis-benchmark on the same host, one core serves about 1.5x the requests of two
// at -P 1. So: io-threads when set above 1, else half the cores (at least one). An
// explicit GOMAXPROCS environment variable wins.
func threads(ioThreads int64) int {
	if os.Getenv("GOMAXPROCS") != "" {
		return runtime.GOMAXPROCS(0)
	}
	if ioThreads > 1 {
		return int(ioThreads)
	}
	return max(1, runtime.NumCPU()/2)
}

// Version is the Redis version the node reports (INFO, HELLO).
const Version = "7.0.15"

// Server is a running node.
type Server struct {
	thp   *hugepage.Advisor // owned by Run before the cron starts, then by the cron
	cfg   *config.Config
	log   *logging.Logger
	table *command.Table
	env   *command.Env
	ks    *keyspace.Keyspace

	runID     string
	startTime time.Time
	port      int

	listenersMu sync.Mutex
	listeners   []net.Listener
	// cores lends background snapshots a core of their own (cores.go).
	cores *backgroundCores

	// clientsMu guards clients.
	clientsMu sync.Mutex
	clients   map[int64]*client
	nextID    atomic.Int64

	acl     *aclState
	slowlog slowlog
	stats   serverStats

	// monitors holds the clients in MONITOR mode; monitorCount mirrors its length for
	// the lock-free check made after every command.
	monitorsMu   sync.Mutex
	monitors     map[*client]struct{}
	monitorCount atomic.Int32

	// pause is CLIENT PAUSE's state.
	pause pauseState

	// Cached settings, kept current by CONFIG SET hooks.
	maxmemory     atomic.Int64
	maxclients    atomic.Int64
	idleTimeout   atomic.Int64 // seconds, 0 = never
	slowlogSlower atomic.Int64 // microseconds, negative = off
	protectedMode atomic.Bool
	queryBufLimit atomic.Int64
	debugCommand  atomic.Value // string: no|yes|local
	hz            atomic.Int64
	lastSaveUnix  atomic.Int64
	peakMemory    atomic.Int64

	// monoBase anchors the monotonic clock commands are timed with; wallOffset converts
	// it to unix nanoseconds and is refreshed by the cron, so a changed system clock is
	// followed within a tick.
	monoBase   time.Time
	wallOffset atomic.Int64

	// panics counts handler panics recovered by connections (a bug each time).
	panics atomic.Int64

	// scripting is the Lua engine and script cache (see scripting.go).
	scripting *scripting

	// persist is the persistence state (see persistence.go).
	persist persistState

	// repl is the replication state (see replication.go).
	repl replicationState

	// watches, blocking and pubsub are the WATCH table, the blocked clients and the
	// Pub/Sub subscriptions (multi.go, blocking.go, pubsub.go).
	watches  watchTable
	blocking blockingState
	pubsub   pubsubState

	shutdownOnce sync.Once
	shutdownCh   chan struct{}
	connWG       sync.WaitGroup
}

// New prepares a server from a loaded configuration; Run starts it.
func New(cfg *config.Config, log *logging.Logger) (*Server, error) {
	s := &Server{
		cfg:        cfg,
		log:        log,
		table:      command.NewTable(),
		startTime:  time.Now(),
		clients:    map[int64]*client{},
		monitors:   map[*client]struct{}{},
		shutdownCh: make(chan struct{}),
		runID:      newRunID(),
		monoBase:   time.Now(),
	}
	s.refreshWallOffset()
	runtime.GOMAXPROCS(threads(cfg.Int("io-threads")))
	s.cores = newBackgroundCores(cfg.Int("io-threads"))
	dbs := int(cfg.Int("databases"))
	if cfg.Bool("cluster-enabled") {
		dbs = 1
	}
	s.ks = keyspace.New(dbs, &effects.Stream{})
	s.env = command.NewEnv(s.ks, s.table)
	s.env.ClusterEnabled = cfg.Bool("cluster-enabled")
	command.RegisterData(s.table)
	s.registerServerCommands()
	s.registerReplicationCommands()
	s.initEvents()
	s.scripting = newScripting()
	s.registerScriptingCommands()
	for _, rn := range cfg.RenamedCommands() {
		if err := s.table.Rename(rn[0], rn[1]); err != nil {
			return nil, fmt.Errorf("rename-command %s: %w", rn[0], err)
		}
	}
	acl, err := newACLState(s, cfg)
	if err != nil {
		return nil, err
	}
	s.acl = acl
	s.slowlog.init()
	if err := s.applyConfig(); err != nil {
		return nil, err
	}
	s.lastSaveUnix.Store(time.Now().Unix())
	s.initPersistence()
	s.initReplication()
	return s, nil
}

// Keyspace returns the server's keyspace (for in-process tests and tools).
func (s *Server) Keyspace() *keyspace.Keyspace { return s.ks }

// Effects returns the effects stream, to which replication and the AOF subscribe.
func (s *Server) Effects() *effects.Stream { return s.ks.Stream() }

// Table returns the command table.
func (s *Server) Table() *command.Table { return s.table }

// Run listens on the configured addresses and serves until ctx is done or a SHUTDOWN;
// it returns once every connection is closed.
func (s *Server) Run(ctx context.Context) error {
	s.log.Warningf("oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo")
	s.log.Warningf("Redis version=%s, bits=64, commit=00000000, modified=0, pid=%d, just started", Version, os.Getpid())
	if s.cfg.File() == "" {
		s.log.Warningf("Warning: no config file specified, using the default config. In order to specify a config file use clusterctl server /path/to/redis.conf")
	} else {
		s.log.Warningf("Configuration loaded")
	}
	for _, d := range s.cfg.Inert() {
		s.log.Warningf("Directive '%s' is accepted but has no effect yet on this server", d)
	}
	s.thp = hugepage.NewAdvisor()
	if s.thp.Enabled() {
		s.log.Noticef("Transparent huge pages are in madvise mode: advising them for the heap")
	}
	s.refreshHugePages()
	if err := s.loadDataFromDisk(); err != nil {
		return err
	}
	if err := s.listen(); err != nil {
		return err
	}
	defer s.removePidfile()
	if err := s.writePidfile(); err != nil {
		s.log.Warningf("Failed to write PID file: %v", err)
	}
	s.log.Noticef("Running mode=standalone, port=%d.", s.port)
	s.log.Noticef("PID: %d", os.Getpid())
	s.log.Warningf("Server initialized")
	s.log.Noticef("Ready to accept connections")
	s.startReplication()

	cronCtx, stopCron := context.WithCancel(context.Background())
	cronDone := make(chan struct{})
	go func() {
		defer close(cronDone)
		s.cron(cronCtx)
	}()
	s.listenersMu.Lock()
	for _, l := range s.listeners {
		s.connWG.Add(1)
		go func(l net.Listener) {
			defer s.connWG.Done()
			s.acceptLoop(l)
		}(l)
	}
	s.listenersMu.Unlock()

	select {
	case <-ctx.Done():
		s.Shutdown()
	case <-s.shutdownCh:
	}
	s.abandonScript() // a script looping forever must not hold the connection open
	s.closeListeners()
	s.stopReplication()
	s.closeClients()
	s.connWG.Wait()
	stopCron()
	<-cronDone
	s.log.Warningf("Redis is now ready to exit, bye bye...")
	return nil
}

// ShutdownOnSignal logs the signal as Redis does and asks Run to stop.
func (s *Server) ShutdownOnSignal(name string) {
	s.log.Warningf("Received %s scheduling shutdown...", name)
	s.log.Warningf("User requested shutdown...")
	if err := s.prepareForShutdown(false, false, false); err != nil {
		s.log.Warningf("SIGTERM received but errors trying to shut down the server, check the logs for more information")
		return
	}
	s.Shutdown()
}

// Shutdown asks Run to stop; it returns at once.
func (s *Server) Shutdown() {
	s.shutdownOnce.Do(func() { close(s.shutdownCh) })
}

func (s *Server) listen() error {
	port := int(s.cfg.Int("port"))
	s.port = port
	if port == 0 {
		return nil // TCP disabled, as port 0 means in Redis
	}
	addrs := s.cfg.Strings("bind")
	if len(addrs) == 0 {
		addrs = []string{"*", "-::*"}
	}
	var listeners []net.Listener
	for _, a := range addrs {
		optional := strings.HasPrefix(a, "-")
		a = strings.TrimPrefix(a, "-")
		network, host := "tcp", a
		switch a {
		case "*":
			network, host = "tcp4", "0.0.0.0"
		case "::*":
			network, host = "tcp6", "::"
		}
		l, err := net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			if optional || isAddrNotAvailable(err) && len(addrs) > 1 {
				s.log.Warningf("Could not create server TCP listening socket %s:%d: %v", a, port, err)
				continue
			}
			for _, l := range listeners {
				l.Close()
			}
			s.log.Warningf("Could not create server TCP listening socket %s:%d: bind: %v", a, port, err)
			return fmt.Errorf("listen on %s port %d: %w", a, port, err)
		}
		listeners = append(listeners, l)
	}
	if len(listeners) == 0 {
		return fmt.Errorf("listen on port %d: no bind address could be used", port)
	}
	s.listenersMu.Lock()
	s.listeners = listeners
	s.listenersMu.Unlock()
	return nil
}

func isAddrNotAvailable(err error) bool {
	return strings.Contains(err.Error(), "cannot assign requested address") ||
		strings.Contains(err.Error(), "address family not supported")
}

func (s *Server) closeListeners() {
	s.listenersMu.Lock()
	defer s.listenersMu.Unlock()
	for _, l := range s.listeners {
		l.Close()
	}
}

func (s *Server) closeClients() {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	for _, c := range s.clients {
		c.conn.Close()
	}
}

func (s *Server) acceptLoop(l net.Listener) {
	var backoff time.Duration
	for {
		conn, err := l.Accept()
		if err != nil {
			select {
			case <-s.shutdownCh:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait a little and retry, as a busy
			// server must not spin on accept.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warningf("Accepting client connection: %v", err)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		s.connWG.Add(1)
		go func() {
			defer s.connWG.Done()
			s.serveConn(conn)
		}()
	}
}

func (s *Server) writePidfile() error {
	path := s.cfg.String("pidfile")
	if path == "" {
		if !s.cfg.Bool("daemonize") {
			return nil
		}
		path = "/var/run/redis.pid" // redis-server's default for a daemon
	}
	return os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}

func (s *Server) removePidfile() {
	path := s.cfg.String("pidfile")
	if path == "" && s.cfg.Bool("daemonize") {
		path = "/var/run/redis.pid"
	}
	if path != "" {
		os.Remove(path)
	}
}

// cron runs the periodic work of serverCron at hz: active expiry, client timeouts, the
// instantaneous metrics.
func (s *Server) cron(ctx context.Context) {
	hz := max(s.hz.Load(), 1)
	t := time.NewTicker(time.Second / time.Duration(hz))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.refreshWallOffset()
			if h := max(s.hz.Load(), 1); h != hz {
				hz = h
				t.Reset(time.Second / time.Duration(hz))
			}
			// A slow cycle may use 25% of one core per cron tick (ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC).
			budget := time.Second / time.Duration(hz) / 4
			if s.repl.replica.Load() == nil { // a replica's keys expire by its master's DELs
				s.ks.ActiveExpireCycle(now.UnixMilli(), budget)
			}
			s.refreshHugePages()
			s.stats.sample(now)
			s.closeTimedOutClients(now)
			s.persistenceCron(now)
			s.replicationCron(now)
		}
	}
}

// refreshHugePages marks memory the runtime has mapped since the last call for huge pages
// (package hugepage says why); a failure is logged and ends the marking.
func (s *Server) refreshHugePages() {
	if s.thp == nil {
		return
	}
	if _, err := s.thp.Refresh(); err != nil {
		s.log.Warningf("Stopped advising transparent huge pages: %v", err)
		s.thp = nil
	}
}

// monoNow returns monotonic nanoseconds since the server started: one clock read.
func (s *Server) monoNow() int64 { return int64(time.Since(s.monoBase)) }

// wallMs converts a monotonic reading to unix milliseconds.
func (s *Server) wallMs(mono int64) int64 { return (mono + s.wallOffset.Load()) / 1e6 }

// wallTime converts a monotonic reading to a time.Time.
func (s *Server) wallTime(mono int64) time.Time { return time.Unix(0, mono+s.wallOffset.Load()) }

func (s *Server) refreshWallOffset() {
	now := time.Now()
	s.wallOffset.Store(now.UnixNano() - int64(now.Sub(s.monoBase)))
}

func newRunID() string {
	var b [20]byte
	if _, err := randRead(b[:]); err != nil {
		for i := range b {
			b[i] = byte(time.Now().UnixNano() >> (i % 8))
		}
	}
	return fmt.Sprintf("%x", b[:])
}

// rss returns the resident set size in bytes, from /proc/self/statm.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// usedMemory is INFO's used_memory: the Go heap in use, which includes the keyspace and
// the clients' buffers. maxmemory is judged against it, as Redis judges zmalloc's count.
func (s *Server) usedMemory() int64 {
	return s.ks.UsedMemory() + s.baselineMemory()
}

// baselineMemory is the memory the server needs with an empty keyspace, counted once at
// start-up, so that used_memory does not swing with garbage the collector has yet to
// reclaim.
func (s *Server) baselineMemory() int64 {
	return baseline.Load()
}

var baseline atomic.Int64

func init() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseline.Store(int64(ms.HeapAlloc))
}
