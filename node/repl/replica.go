package repl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clusterctl/clusterctl/node/resp"
)

// Dialer opens the connection to the master; tests pass in-memory pipes.
type Dialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// Loader replaces the node's data set with the RDB a full sync sends. While it runs, the
// node must not serve the half-loaded data set (clients get -LOADING).
type Loader interface {
	LoadRDB(r io.Reader) error
}

// Applier runs the commands of the master's stream on the node, as its master client
// (no replies, no read-only or ACL checks). StreamStarted and StreamEnded bracket one
// connection's stream.
type Applier interface {
	StreamStarted(conn net.Conn)
	Apply(argv [][]byte)
	StreamEnded()
}

// ReplicaSettings are the replica-side settings, read at each connection attempt.
type ReplicaSettings struct {
	MasterUser, MasterAuth string
	ListeningPort          int
	AnnounceIP             string
	Timeout                time.Duration
	// RetryDelay is the pause before reconnecting (replicationCron's one second).
	RetryDelay time.Duration
}

// Replica states, ROLE's names (replicationGetSlaveStateName... slave state strings).
const (
	stateConnect int32 = iota
	stateConnecting
	stateHandshake
	stateTransfer
	stateConnected
)

var roleStateNames = []string{"connect", "connecting", "handshake", "sync", "connected"}

// Replica is the replica side: it follows the master at an address, reconnecting and
// continuing with PSYNC until Stop.
type Replica struct {
	host     string
	port     int
	m        *Master
	dial     Dialer
	clock    Clock
	loader   Loader
	applier  Applier
	settings func() ReplicaSettings
	log      Logger

	state atomic.Int32
	// lastIO is when the master last sent something (unix ms); downSince when the link
	// went down (unix ms, 0 while up or before the first connection).
	lastIO    atomic.Int64
	downSince atomic.Int64
	// Full sync progress, for INFO.
	syncTotal, syncRead atomic.Int64

	// writeMu serialises writes to the master (ACKs from the ticker and from GETACK).
	writeMu sync.Mutex
	conn    net.Conn // guarded by writeMu

	cancel context.CancelFunc
	done   chan struct{}
}

// ReplicaConfig describes a replica side to start.
type ReplicaConfig struct {
	Host     string
	Port     int
	Master   *Master
	Dialer   Dialer
	Clock    Clock
	Loader   Loader
	Applier  Applier
	Settings func() ReplicaSettings
	Log      Logger
}

// StartReplica starts following the master; the goroutine it starts runs until Stop.
func StartReplica(cfg ReplicaConfig) *Replica {
	ctx, cancel := context.WithCancel(context.Background())
	r := &Replica{host: cfg.Host, port: cfg.Port, m: cfg.Master, dial: cfg.Dialer, clock: cfg.Clock,
		loader: cfg.Loader, applier: cfg.Applier, settings: cfg.Settings, log: cfg.Log,
		cancel: cancel, done: make(chan struct{})}
	r.downSince.Store(0)
	go r.run(ctx)
	return r
}

// MasterAddr returns the master's host and port.
func (r *Replica) MasterAddr() (string, int) { return r.host, r.port }

// Connected reports whether the link is up and streaming.
func (r *Replica) Connected() bool { return r.state.Load() == stateConnected }

// RoleState returns ROLE's state name.
func (r *Replica) RoleState() string { return roleStateNames[r.state.Load()] }

// Stop disconnects from the master and waits for the replica's goroutine.
func (r *Replica) Stop() {
	r.cancel()
	r.writeMu.Lock()
	if r.conn != nil {
		r.conn.Close()
	}
	r.writeMu.Unlock()
	<-r.done
}

func (r *Replica) run(ctx context.Context) {
	defer close(r.done)
	addr := net.JoinHostPort(r.host, strconv.Itoa(r.port))
	for ctx.Err() == nil {
		err := r.session(ctx, addr)
		r.state.Store(stateConnect)
		if r.downSince.Load() == 0 || err != nil {
			r.downSince.Store(r.clock.Now().UnixMilli())
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.log.Warningf("%v", err)
		}
		delay := r.settings().RetryDelay
		if delay <= 0 {
			delay = time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// session is one connection to the master: handshake, PSYNC, maybe a full sync, then
// the stream until the link breaks.
func (r *Replica) session(ctx context.Context, addr string) error {
	set := r.settings()
	r.lastIO.Store(r.clock.Now().UnixMilli())
	r.state.Store(stateConnecting)
	r.log.Noticef("Connecting to MASTER %s", addr)
	dctx, cancel := context.WithTimeout(ctx, max(set.Timeout, time.Second))
	conn, err := r.dial.DialContext(dctx, "tcp", addr)
	cancel()
	if err != nil {
		return fmt.Errorf("Error condition on socket for SYNC: %w", err)
	}
	r.writeMu.Lock()
	r.conn = conn
	r.writeMu.Unlock()
	defer func() {
		r.writeMu.Lock()
		r.conn = nil
		r.writeMu.Unlock()
		conn.Close()
	}()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	r.log.Noticef("MASTER <-> REPLICA sync started")

	cr := &countingReader{r: conn}
	br := bufio.NewReaderSize(cr, 64*1024)
	rd := resp.NewReader(br)
	rd.Master = true
	// A master silent for repl-timeout is dropped by Cron, whatever the state.
	call := func(args ...string) (resp.Value, error) {
		w := resp.NewWriter(conn)
		w.CommandStrings(args...)
		if err := w.Flush(); err != nil {
			return resp.Value{}, err
		}
		v, err := rd.ReadValue()
		if err == nil {
			r.lastIO.Store(r.clock.Now().UnixMilli())
		}
		return v, err
	}

	r.lastIO.Store(r.clock.Now().UnixMilli())
	r.state.Store(stateHandshake)
	v, err := call("PING")
	if err != nil {
		return fmt.Errorf("Error reading PING reply from master: %w", err)
	}
	if e := v.Err(); e != nil {
		msg := e.Error()
		if !strings.HasPrefix(msg, "NOAUTH") && !strings.HasPrefix(msg, "NOPERM") &&
			!strings.HasPrefix(msg, "ERR operation not permitted") {
			return fmt.Errorf("Error reply to PING from master: '-%s'", msg)
		}
	}
	r.log.Noticef("Master replied to PING, replication can continue...")
	if set.MasterAuth != "" {
		args := []string{"AUTH", set.MasterAuth}
		if set.MasterUser != "" {
			args = []string{"AUTH", set.MasterUser, set.MasterAuth}
		}
		v, err := call(args...)
		if err != nil {
			return fmt.Errorf("Unable to AUTH to MASTER: %w", err)
		}
		if e := v.Err(); e != nil {
			return fmt.Errorf("Unable to AUTH to MASTER: -%s", e.Error())
		}
	}
	if v, err := call("REPLCONF", "listening-port", strconv.Itoa(set.ListeningPort)); err != nil {
		return err
	} else if v.Err() != nil {
		r.log.Noticef("(Non critical) Master does not understand REPLCONF listening-port: -%s", v.Err())
	}
	if set.AnnounceIP != "" {
		if v, err := call("REPLCONF", "ip-address", set.AnnounceIP); err != nil {
			return err
		} else if v.Err() != nil {
			r.log.Noticef("(Non critical) Master does not understand REPLCONF ip-address: -%s", v.Err())
		}
	}
	if v, err := call("REPLCONF", "capa", "eof", "capa", "psync2"); err != nil {
		return err
	} else if v.Err() != nil {
		r.log.Noticef("(Non critical) Master does not understand REPLCONF capa: -%s", v.Err())
	}

	replID, offset := r.psyncArgs()
	if replID != "?" {
		r.log.Noticef("Trying a partial resynchronization (request %s:%d).", replID, offset)
	}
	v, err = call("PSYNC", replID, strconv.FormatInt(offset, 10))
	if err != nil {
		return fmt.Errorf("Error reading PSYNC reply from master: %w", err)
	}
	if e := v.Err(); e != nil {
		return fmt.Errorf("Unexpected reply to PSYNC from master: -%s", e.Error())
	}
	reply := v.String()
	switch {
	case strings.HasPrefix(reply, "FULLRESYNC "):
		f := strings.Fields(reply)
		if len(f) != 3 {
			return fmt.Errorf("Unexpected reply to PSYNC from master: +%s", reply)
		}
		off, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return fmt.Errorf("Unexpected reply to PSYNC from master: +%s", reply)
		}
		r.log.Noticef("Full resync from master: %s:%d", f[1], off)
		r.state.Store(stateTransfer)
		if err := r.receiveRDB(br); err != nil {
			return err
		}
		r.m.Follow(f[1], off)
		r.log.Noticef("MASTER <-> REPLICA sync: Finished with success")
	case reply == "CONTINUE" || strings.HasPrefix(reply, "CONTINUE "):
		r.log.Noticef("Successful partial resynchronization with master.")
		if id := strings.TrimSpace(strings.TrimPrefix(reply, "CONTINUE")); id != "" {
			cur, _, _ := r.m.ID()
			if id != cur {
				r.log.Noticef("Master replication ID changed to %s", id)
				r.m.Continue(id)
			}
		}
		r.log.Noticef("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.")
	default:
		return fmt.Errorf("Unexpected reply to PSYNC from master: +%s", reply)
	}
	return r.stream(ctx, conn, cr, br, rd)
}

// psyncArgs returns what PSYNC asks for: this node's history and the offset after it,
// or "? -1" when it has none to continue (no backlog ever created).
func (r *Replica) psyncArgs() (string, int64) {
	id, _, _ := r.m.ID()
	r.m.mu.Lock()
	has := r.m.backlog != nil
	r.m.mu.Unlock()
	if !has {
		return "?", -1
	}
	return id, r.m.Offset() + 1
}

// receiveRDB reads the full sync payload ($<len> or $EOF:<mark>) into the loader.
func (r *Replica) receiveRDB(br *bufio.Reader) error {
	var line string
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("I/O error reading bulk count from MASTER: %w", err)
		}
		r.lastIO.Store(r.clock.Now().UnixMilli())
		if l == "\n" {
			continue // the master's keepalive while it prepares the payload
		}
		line = strings.TrimRight(l, "\r\n")
		break
	}
	if !strings.HasPrefix(line, "$") {
		if strings.HasPrefix(line, "-") {
			return fmt.Errorf("MASTER aborted replication with an error: %s", line[1:])
		}
		return fmt.Errorf("Bad protocol from MASTER, the first byte is not '$' (we received '%s'), are you sure the host and port are right?", line)
	}
	var payload io.Reader
	if strings.HasPrefix(line, "$EOF:") && len(line) == 5+40 {
		r.log.Noticef("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk")
		r.syncTotal.Store(-1)
		payload = &markReader{r: br, mark: []byte(line[5:]), progress: r}
	} else {
		n, err := strconv.ParseInt(line[1:], 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("Bad protocol from MASTER: %q", line)
		}
		r.log.Noticef("MASTER <-> REPLICA sync: receiving %d bytes from master to disk", n)
		r.syncTotal.Store(n)
		payload = &progressReader{r: io.LimitReader(br, n), progress: r}
	}
	r.syncRead.Store(0)
	r.log.Noticef("MASTER <-> REPLICA sync: Flushing old data")
	r.log.Noticef("MASTER <-> REPLICA sync: Loading DB in memory")
	if err := r.loader.LoadRDB(payload); err != nil {
		return fmt.Errorf("Failed trying to load the MASTER synchronization DB from socket: %w", err)
	}
	// The loader may stop at the RDB's EOF opcode and checksum; the rest of the payload
	// (nothing, for a well-formed file) is read so the stream starts after it.
	if _, err := io.Copy(io.Discard, payload); err != nil {
		return fmt.Errorf("I/O error trying to sync with MASTER: %w", err)
	}
	return nil
}

// stream applies the master's commands until the link breaks, passing each on to this
// node's own replicas (Cron acknowledges the offset every second).
func (r *Replica) stream(ctx context.Context, conn net.Conn, cr *countingReader, br *bufio.Reader,
	rd *resp.Reader) error {
	r.state.Store(stateConnected)
	r.downSince.Store(0)
	r.lastIO.Store(r.clock.Now().UnixMilli())
	r.applier.StreamStarted(conn)
	defer r.applier.StreamEnded()
	// The first ACK also tells a master that sent an EOF-marked payload that the
	// stream may start (repl_start_cmd_stream_on_ack).
	r.SendAck()

	// consumed counts the bytes of the stream read so far; cr.n - br.Buffered() is the
	// end of the last command read. cr.keep holds the bytes read but not yet applied, so
	// each command's exact bytes go to this node's replicas.
	cr.keep = true
	cr.kept = append(cr.kept[:0], peekBuffered(br)...)
	consumed := cr.n - int64(br.Buffered())
	// A transaction counts as applied at its EXEC: until then its bytes are neither
	// passed on nor acknowledged, so a link broken inside it resumes at its MULTI
	// (Redis advances the master client's reploff only outside MULTI).
	pending, inMulti := 0, false
	for {
		argv, err := rd.ReadCommand()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("Connection with master lost: %w", err)
		}
		r.lastIO.Store(r.clock.Now().UnixMilli())
		end := cr.n - int64(br.Buffered())
		pending += int(end - consumed)
		consumed = end
		if argv != nil {
			switch {
			case isCommand(argv[0], "multi"):
				inMulti = true
			case isCommand(argv[0], "exec"):
				inMulti = false
			}
			r.applier.Apply(argv)
		}
		if inMulti {
			continue
		}
		r.m.Proxy(cr.kept[:pending])
		cr.kept = cr.kept[pending:]
		pending = 0
		if len(cr.kept) == 0 {
			cr.kept = cr.kept[:0:0]
		}
	}
}

func isCommand(name []byte, want string) bool { return strings.EqualFold(string(name), want) }

// peekBuffered returns what br holds but has not returned yet.
func peekBuffered(br *bufio.Reader) []byte {
	b, _ := br.Peek(br.Buffered())
	return append([]byte(nil), b...)
}

// Cron is the replica's share of replicationCron, run once a second: it drops a master
// that sent nothing for repl-timeout, during the handshake, the transfer or the stream,
// and acknowledges the applied offset while streaming.
func (r *Replica) Cron() {
	st := r.state.Load()
	if st == stateConnect {
		return
	}
	if t := r.settings().Timeout; t > 0 && r.clock.Now().UnixMilli()-r.lastIO.Load() > t.Milliseconds() {
		switch st {
		case stateConnecting, stateHandshake:
			r.log.Warningf("Timeout connecting to the MASTER...")
		case stateTransfer:
			r.log.Warningf("Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.")
		default:
			r.log.Warningf("MASTER timeout: no data nor PING received...")
		}
		r.writeMu.Lock()
		if r.conn != nil {
			r.conn.Close()
		}
		r.writeMu.Unlock()
		return
	}
	if st == stateConnected {
		r.SendAck()
	}
}

// SendAck sends REPLCONF ACK <offset> to the master (replicationSendAck).
func (r *Replica) SendAck() {
	off := r.m.Offset()
	w := resp.NewWriter(nil)
	w.CommandStrings("REPLCONF", "ACK", strconv.FormatInt(off, 10))
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	if r.conn != nil && r.state.Load() == stateConnected {
		r.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		r.conn.Write(w.Bytes())
	}
}

// Info writes the replica's part of INFO replication (genRedisInfoString).
func (r *Replica) Info(b *strings.Builder, priority int64, readOnly, announced bool) {
	now := r.clock.Now().UnixMilli()
	st := r.state.Load()
	line := func(name string, v any) { fmt.Fprintf(b, "%s:%v\r\n", name, v) }
	line("role", "slave")
	line("master_host", r.host)
	line("master_port", r.port)
	link := "down"
	if st == stateConnected {
		link = "up"
	}
	line("master_link_status", link)
	lastIO := int64(-1)
	if st == stateConnected {
		lastIO = (now - r.lastIO.Load()) / 1000
	}
	line("master_last_io_seconds_ago", lastIO)
	line("master_sync_in_progress", b2i(st == stateTransfer))
	off := r.m.Offset()
	line("slave_read_repl_offset", off)
	line("slave_repl_offset", off)
	if st == stateTransfer {
		total, read := r.syncTotal.Load(), r.syncRead.Load()
		left := int64(0)
		perc := 0.0
		if total > 0 {
			left = total - read
			perc = float64(read) * 100 / float64(total)
		}
		line("master_sync_total_bytes", total)
		line("master_sync_read_bytes", read)
		line("master_sync_left_bytes", left)
		line("master_sync_perc", fmt.Sprintf("%.2f", perc))
		line("master_sync_last_io_seconds_ago", (now-r.lastIO.Load())/1000)
	}
	if st != stateConnected {
		down := int64(-1)
		if d := r.downSince.Load(); d != 0 {
			down = (now - d) / 1000
		}
		line("master_link_down_since_seconds", down)
	}
	line("slave_priority", priority)
	line("slave_read_only", b2i(readOnly))
	line("replica_announced", b2i(announced))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// countingReader counts the bytes read from the master and, once keep is set, keeps them
// until the replica hands them on.
type countingReader struct {
	r    io.Reader
	n    int64
	keep bool
	kept []byte
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.keep {
		c.kept = append(c.kept, p[:n]...)
	}
	return n, err
}

// progressReader counts a full sync's bytes for INFO and refreshes the read deadline.
type progressReader struct {
	r        io.Reader
	progress *Replica
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.progress.syncRead.Add(int64(n))
		p.progress.lastIO.Store(p.progress.clock.Now().UnixMilli())
	}
	if errors.Is(err, io.EOF) {
		// The length said more was coming: a short payload is a broken link.
		if lr, ok := p.r.(*io.LimitedReader); ok && lr.N > 0 {
			return n, io.ErrUnexpectedEOF
		}
	}
	return n, err
}

// markReader reads a diskless payload: everything up to the 40-byte EOF mark the master
// announced. It looks at the buffered bytes before consuming them, so that the stream
// following the mark stays in the reader.
type markReader struct {
	r        *bufio.Reader
	mark     []byte
	progress *Replica
	eof      bool
}

func (m *markReader) Read(b []byte) (int, error) {
	if m.eof {
		return 0, io.EOF
	}
	want := max(m.r.Buffered(), 1)
	for {
		p, err := m.r.Peek(want)
		if i := bytes.Index(p, m.mark); i >= 0 {
			n := copy(b, p[:i])
			m.consume(n)
			if n == i {
				m.r.Discard(len(m.mark))
				m.eof = true
			}
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
		if safe := len(p) - (len(m.mark) - 1); safe > 0 {
			n := copy(b, p[:safe])
			m.consume(n)
			return n, nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		want = len(p) + 1
	}
}

func (m *markReader) consume(n int) {
	m.r.Discard(n)
	m.progress.syncRead.Add(int64(n))
	m.progress.lastIO.Store(m.progress.clock.Now().UnixMilli())
}
