package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/clusterctl/clusterctl/node/command"
	"github.com/clusterctl/clusterctl/node/readiness"
	"github.com/clusterctl/clusterctl/node/resp"
)

// Client flags shown by CLIENT LIST (the letters of getClientInfoString).
const (
	flagMonitor       = 1 << iota // O
	flagCloseASAP                 // A
	flagNoEvict                   // e
	flagReplyOff                  // reply OFF: no replies written
	flagReplySkipNext             // reply SKIP: the next command's reply is dropped
	flagReplySkip                 // the current command's reply is dropped
	flagNoTouch
	flagMulti   // x: between MULTI and EXEC
	flagBlocked // b: waiting in a blocking command
	flagPubSub  // P: subscribed to a channel, pattern or shard channel
	flagMaster  // M: the master's stream, applied on a replica
	flagReplica // S: a replica this node feeds
)

// client is one connection. Its goroutine owns the reader, the writer and the command
// context; fields read by other goroutines (CLIENT LIST, KILL, INFO) are atomics or
// guarded by mu.
type client struct {
	srv   *Server
	id    int64
	conn  net.Conn
	fd    int
	addr  string
	laddr string
	local bool // connected over loopback

	r   *resp.Reader
	w   *resp.Writer
	ctx command.Ctx

	created         time.Time
	lastInteraction atomic.Int64 // unix ms
	lastCmd         atomic.Pointer[command.Command]
	db              atomic.Int32
	proto           atomic.Int32
	flags           atomic.Uint32
	qbuf            atomic.Int64
	obuf            atomic.Int64
	user            atomic.Pointer[user] // nil until authenticated when auth is required
	name            atomic.Pointer[string]

	// mu serialises writes to conn between the client's goroutine and goroutines that
	// push to it (MONITOR feeds).
	mu sync.Mutex

	// clock is the monotonic time (ns since the server started) the next command starts
	// at; lastName and lastLookup cache the previous command's name and entry, since
	// clients tend to repeat commands.
	clock      int64
	lastName   []byte
	lastLookup *command.Command

	// monitorCh feeds the MONITOR writer goroutine; set once by startMonitor.
	monitorCh chan []byte
	// closeAfterReply makes the loop close the connection once the reply is flushed
	// (QUIT).
	closeAfterReply bool
	// woff is the replication offset after the client's last write, which WAIT
	// waits for the replicas to acknowledge.
	woff int64
	// aofSync is the AOF position the pending replies wait for under appendfsync always
	// (0: none); flush waits for it (persistence_aof.go).
	aofSync int64

	// Transaction state (multi.go), owned by the client's goroutine but for dirtyCAS,
	// set by writers of watched keys, and multiLen, read by CLIENT LIST (-1 outside
	// MULTI).
	multi    *multiState
	multiLen atomic.Int32
	watched  []watchedKey
	dirtyCAS atomic.Bool

	// Blocking state (blocking.go): blocked is the client's wait, owned by its
	// goroutine; blockedNow mirrors it for CLIENT UNBLOCK; closeWatch is the goroutine
	// noticing a disconnection during the wait.
	blocked    *blockedClient
	blockedNow atomic.Pointer[blockedClient]
	closeWatch chan struct{}

	// Pub/Sub state (pubsub.go): subs is guarded by srv.pubsub.mu, out by mu; the
	// counters mirror subs for CLIENT LIST; pushing is set once a pusher goroutine
	// exists; gone is closed when the connection ends, to stop it.
	subs               subscriptions
	nsub, npsub, nssub atomic.Int32
	out                outbox
	pushing            atomic.Bool
	gone               chan struct{}
}

// ID implements command.Conn.
func (c *client) ID() int64 { return c.id }

func (c *client) hasFlag(f uint32) bool { return c.flags.Load()&f != 0 }

func (c *client) setFlag(f uint32, on bool) {
	for {
		old := c.flags.Load()
		nw := old &^ f
		if on {
			nw |= f
		}
		if c.flags.CompareAndSwap(old, nw) {
			return
		}
	}
}

func (c *client) getName() string {
	if p := c.name.Load(); p != nil {
		return *p
	}
	return ""
}

func (s *Server) newClient(conn net.Conn) *client {
	now := time.Now()
	c := &client{
		srv:     s,
		id:      s.nextID.Add(1),
		conn:    conn,
		fd:      connFD(conn),
		addr:    conn.RemoteAddr().String(),
		laddr:   conn.LocalAddr().String(),
		created: now,
		gone:    make(chan struct{}),
	}
	if ta, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		c.local = ta.IP.IsLoopback()
	}
	c.r = resp.NewReader(bufio.NewReaderSize(countingReader{conn, &s.stats.netInput}, 16*1024))
	c.w = resp.NewWriter(countingWriter{conn, &s.stats.netOutput})
	c.proto.Store(2)
	c.multiLen.Store(-1)
	c.lastInteraction.Store(now.UnixMilli())
	c.ctx = command.Ctx{W: c.w, Env: s.env, Conn: c, DB: s.ks.DB(0, now.UnixMilli(), nil)}
	if !s.acl.authRequired() {
		c.user.Store(s.acl.defaultUser())
	}
	return c
}

// connFD returns the socket's descriptor number for CLIENT LIST, without duplicating it.
func connFD(conn net.Conn) int {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	raw.Control(func(f uintptr) { fd = int(f) })
	return fd
}

// serveConn runs one connection until it closes.
func (s *Server) serveConn(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
		if ka := s.cfg.Int("tcp-keepalive"); ka > 0 {
			tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: time.Duration(ka) * time.Second,
				Interval: time.Duration(ka) * time.Second / 3, Count: 3})
		}
	}
	s.stats.connectionsReceived.Add(1)
	c := s.newClient(readiness.Stream(conn))
	if msg := s.acceptDenied(c); msg != "" {
		c.conn.Write([]byte(msg))
		c.conn.Close() // the wrapper's Close: it also ends the reader Stream started
		s.stats.rejectedConnections.Add(1)
		return
	}
	s.clientsMu.Lock()
	s.clients[c.id] = c
	s.clientsMu.Unlock()
	defer s.unlinkClient(c)
	c.loop()
}

// acceptDenied returns the error line for a connection refused at accept time: too many
// clients (maxclients), or protected mode (acceptCommonHandler, clientAcceptHandler).
func (s *Server) acceptDenied(c *client) string {
	s.clientsMu.Lock()
	n := int64(len(s.clients))
	s.clientsMu.Unlock()
	if n >= s.maxclients.Load() {
		return "-ERR max number of clients reached\r\n"
	}
	if s.protectedMode.Load() && !c.local && s.acl.defaultUserNoPass() {
		return protectedModeError
	}
	return ""
}

// protectedModeError is Redis 7.0's refusal of a non-loopback client in protected mode:
// protected-mode yes and a default user without password, whatever the bind addresses.
const protectedModeError = "-DENIED Redis is running in protected mode because protected " +
	"mode is enabled and no password is set for the default user. " +
	"In this mode connections are only accepted from the loopback interface. " +
	"If you want to connect from external computers to Redis you " +
	"may adopt one of the following solutions: " +
	"1) Just disable protected mode sending the command " +
	"'CONFIG SET protected-mode no' from the loopback interface " +
	"by connecting to Redis from the same host the server is " +
	"running, however MAKE SURE Redis is not publicly accessible " +
	"from internet if you do so. Use CONFIG REWRITE to make this " +
	"change permanent. " +
	"2) Alternatively you can just disable the protected mode by " +
	"editing the Redis configuration file, and setting the protected " +
	"mode option to 'no', and then restarting the server. " +
	"3) If you started the server manually just for testing, restart " +
	"it with the '--protected-mode no' option. " +
	"4) Setup a an authentication password for the default user. " +
	"NOTE: You only need to do one of the above things in order for " +
	"the server to start accepting connections from the outside.\r\n"

func (s *Server) unlinkClient(c *client) {
	c.conn.Close()
	s.clientsMu.Lock()
	delete(s.clients, c.id)
	s.clientsMu.Unlock()
	if c.hasFlag(flagMonitor) {
		s.removeMonitor(c)
	}
	if c.hasFlag(flagReplica) {
		s.forgetLink(c)
	}
	s.unwatchAll(c)
	s.resetSubscriptions(c)
	close(c.gone)
}

// loop reads and executes commands until the connection ends.
func (c *client) loop() {
	s := c.srv
	for {
		c.r.MaxBulkLen = s.env.ProtoMaxBulkLen.Load()
		c.r.MaxQueryBuffer = s.queryBufLimit.Load()
		c.r.Unauthenticated = c.user.Load() == nil
		fromSocket := c.r.Buffered() == 0
		argv, err := c.r.ReadCommand()
		if err != nil {
			c.readFailed(err)
			return
		}
		if fromSocket && c.pushing.Load() {
			// Messages published from now on wait for this batch's replies.
			c.mu.Lock()
			c.out.busy = true
			c.mu.Unlock()
		}
		if fromSocket {
			// A new batch: read the clock. Within a pipeline the end of one command is
			// the start of the next, so a batch of N commands costs N+1 clock reads.
			c.clock = s.monoNow()
			c.lastInteraction.Store(s.wallMs(c.clock))
		}
		if argv != nil {
			c.qbuf.Store(int64(c.r.Buffered()))
			if !c.execute(argv) {
				c.flush()
				return
			}
			if c.closeAfterReply {
				c.flush()
				return
			}
		}
		if c.r.Buffered() == 0 {
			// Let the other clients woken with this one run their commands first, so
			// that the replies leave close together, as redis-server writes them all at
			// the end of an event-loop turn. A client waiting on many connections
			// (redis-benchmark) then finds several ready per wake-up instead of one:
			// at -P 16, 1.4-1.7 epoll_wait calls per 16 replies before, 0.2-0.3 after.
			// With nothing to write there is nothing to gather.
			if c.w.Buffered() > 0 {
				runtime.Gosched()
			}
			if !c.flush() {
				return
			}
		}
	}
}

// readFailed handles the end of the read side: a clean close, a network error, or a
// protocol error, which Redis answers with "-ERR Protocol error: ..." before closing.
func (c *client) readFailed(err error) {
	var pe *resp.ProtocolError
	switch {
	case errors.As(err, &pe):
		c.srv.log.Verbosef("Protocol error (%s) from client: id=%d addr=%s", pe.Msg, c.id, c.addr)
		c.w.Error("ERR " + pe.Error())
		c.srv.env.Errors.Record("ERR")
		c.flush()
	case resp.IsQueryBufferLimit(err):
		c.srv.log.Warningf("Closing client that reached max query buffer length: id=%d addr=%s", c.id, c.addr)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
	default:
		c.srv.log.Verbosef("Reading from client: %v", err)
	}
	c.flush()
}

// flush writes the pending replies; it reports false when the connection is gone.
func (c *client) flush() bool {
	pushing := c.pushing.Load()
	if c.w.Buffered() == 0 && !pushing {
		return true
	}
	if c.aofSync > 0 {
		c.srv.waitAOFSynced(c.aofSync)
		c.aofSync = 0
	}
	c.mu.Lock()
	var err error
	if c.w.Buffered() > 0 {
		err = c.w.Flush()
	}
	if pushing {
		// Pub/Sub messages queued meanwhile follow the replies (pubsub.go).
		if err == nil && len(c.out.buf) > 0 {
			err = c.writeOutboxLocked()
		}
		c.out.busy = false
	}
	c.mu.Unlock()
	return err == nil
}

// execute runs one command with a panic guard; it reports false when the connection
// must close without further replies.
func (c *client) execute(argv [][]byte) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			c.srv.panics.Add(1)
			c.srv.log.Warningf("Panic running '%s' for client id=%d addr=%s: %v\n%s",
				sanitizeArg(argv[0]), c.id, c.addr, r, debug.Stack())
			// Locks taken for the command are released by call's own deferred unlock.
			c.w.Error("ERR internal error while running the command; see the server log")
			ok = true
		}
	}()
	mark := c.w.Buffered()
	c.srv.processCommand(c, argv)
	// CLIENT REPLY OFF and SKIP: the reply is produced and dropped; SKIP lasts for the
	// command after CLIENT REPLY SKIP only (resetClient).
	if f := c.flags.Load(); f&(flagReplyOff|flagReplySkip|flagReplySkipNext) != 0 {
		if f&(flagReplyOff|flagReplySkip) != 0 {
			c.w.Truncate(mark)
		}
		c.setFlag(flagReplySkip, false)
		if f&flagReplySkipNext != 0 {
			c.setFlag(flagReplySkipNext, false)
			c.setFlag(flagReplySkip, true)
		}
	}
	return true
}

func sanitizeArg(b []byte) string {
	s := string(b)
	if len(s) > 128 {
		s = s[:128]
	}
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// countingReader and countingWriter count network bytes for INFO stats.
type countingReader struct {
	r io.Reader
	n *stripedCounter
}

func (cr countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n.add(int64(n))
	return n, err
}

type countingWriter struct {
	w io.Writer
	n *stripedCounter
}

func (cw countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n.add(int64(n))
	return n, err
}

// closeTimedOutClients closes clients idle longer than `timeout` seconds
// (clientsCronHandleTimeout). Monitors are exempt, as Redis exempts replicas and pubsub.
func (s *Server) closeTimedOutClients(now time.Time) {
	timeout := s.idleTimeout.Load()
	if timeout <= 0 {
		return
	}
	limit := now.UnixMilli() - timeout*1000
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	for _, c := range s.clients {
		if c.hasFlag(flagReplica | flagMaster | flagMonitor | flagBlocked | flagPubSub) {
			continue
		}
		if c.lastInteraction.Load() < limit {
			s.log.Verbosef("Closing idle client")
			c.conn.Close()
		}
	}
}

func (c *client) String() string { return fmt.Sprintf("id=%d addr=%s", c.id, c.addr) }
