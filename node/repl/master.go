package repl

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clusterctl/clusterctl/node/effects"
)

// Clock tells the time; tests pass a fake one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }

// ReplState is what a snapshot records of the replication stream (the repl-id,
// repl-offset and repl-stream-db aux fields): the file is the data set at stream
// position Offset of the history ReplID.
type ReplState struct {
	ReplID string
	Offset int64
	DB     int
}

// Snapshotter writes a point-in-time RDB of the keyspace. At the snapshot's instant,
// while nothing changes the keyspace, it calls at and records the state at returns in
// the file; what the keyspace looks like at that instant is what the file holds.
type Snapshotter interface {
	Snapshot(ctx context.Context, w io.Writer, at func() ReplState) error
}

// Settings are the master-side settings, read afresh each time they are needed so that
// CONFIG SET applies at once.
type Settings struct {
	BacklogSize     int64
	BacklogTTL      time.Duration
	DisklessSync    bool
	DisklessDelay   time.Duration
	PingPeriod      time.Duration
	Timeout         time.Duration
	MinReplicas     int
	MinReplicasLag  time.Duration
	OutputHardLimit int64
	OutputSoftLimit int64
	OutputSoftTime  time.Duration
	// TempDir is where a disk-based full sync writes its RDB before sending it.
	TempDir string
}

// DefaultSettings are redis.conf's defaults.
func DefaultSettings() Settings {
	return Settings{BacklogSize: 1 << 20, BacklogTTL: time.Hour, DisklessSync: true,
		DisklessDelay: 5 * time.Second, PingPeriod: 10 * time.Second, Timeout: 60 * time.Second,
		MinReplicasLag: 10 * time.Second, OutputHardLimit: 256 << 20, OutputSoftLimit: 64 << 20,
		OutputSoftTime: 60 * time.Second, TempDir: "."}
}

// Logger receives the master's and replica's log lines, in Redis's words.
type Logger interface {
	Noticef(format string, args ...any)
	Warningf(format string, args ...any)
}

// Master is the master side of replication: the replication ID and offset of the node's
// history, the backlog, and the replicas it feeds. A node that is itself a replica has a
// Master too: it serves its own replicas (chained replication) from the stream it
// receives, which it passes on byte for byte with Proxy.
type Master struct {
	clock    Clock
	log      Logger
	settings func() Settings
	snap     Snapshotter
	stream   *effects.Stream

	// feedMu serialises everything that appends to the stream, so that the feeder's
	// selected database and the backlog's bytes follow one order. Lock order: keyspace
	// shards, then the effects stream's lock, then feedMu, then mu.
	feedMu sync.Mutex
	feeder Feeder
	buf    []byte

	// mu guards the fields below.
	mu      sync.Mutex
	replID  string
	replID2 string
	// secondOffset is second_repl_offset: up to which Redis offset replID2's history is
	// shared with replID's; -1 when there is no replID2.
	secondOffset int64
	// offset is master_repl_offset while there is no backlog (it keeps counting from
	// where the last backlog ended).
	offset  int64
	backlog *Backlog
	// feedEffects says whether this node's own writes are the stream (a master) rather
	// than its master's stream (a replica).
	feedEffects bool
	links       map[*Link]struct{}
	// noLinksSince is when the last replica went away, for repl-backlog-ttl.
	noLinksSince time.Time
	cronLoops    int64
	// syncing serialises full syncs: the keyspace allows one snapshot at a time.
	syncing sync.Mutex

	// ackCh is closed and replaced when a replica acknowledges, waking WAIT.
	ackCh chan struct{}

	// Statistics (INFO stats).
	SyncFull, SyncPartialOK, SyncPartialErr atomic.Int64
	// goodReplicas is repl_good_slaves_count and minReplicas min-replicas-to-write (0
	// when it or min-replicas-max-lag is off), refreshed by Cron: every write reads them.
	goodReplicas, minReplicas atomic.Int64

	// subMu guards unsubscribe, which stops the effects feed (nil when not subscribed).
	subMu       sync.Mutex
	unsubscribe func()

	wg sync.WaitGroup
}

// NewMaster returns the master side of a node whose effects appear on stream.
func NewMaster(stream *effects.Stream, snap Snapshotter, settings func() Settings, clock Clock, log Logger) *Master {
	return &Master{clock: clock, log: log, settings: settings, snap: snap, stream: stream,
		replID: NewReplID(), replID2: zeroID, secondOffset: -1, feedEffects: true,
		links: map[*Link]struct{}{}, noLinksSince: clock.Now(), ackCh: make(chan struct{})}
}

const zeroID = "0000000000000000000000000000000000000000"

// NewReplID returns a random 40-character replication ID (changeReplicationId).
func NewReplID() string {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the runtime guarantees it does not fail
	}
	return hex.EncodeToString(b[:])
}

// ID returns the replication IDs and second_repl_offset.
func (m *Master) ID() (replID, replID2 string, secondOffset int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.replID, m.replID2, m.secondOffset
}

// Offset returns master_repl_offset.
func (m *Master) Offset() int64 {
	m.mu.Lock()
	b := m.backlog
	off := m.offset
	m.mu.Unlock()
	if b != nil {
		return b.Offset()
	}
	return off
}

// BacklogInfo returns the backlog's state for INFO: whether it exists, its size, the Redis
// offset of its first byte and how many bytes it holds.
func (m *Master) BacklogInfo() (active bool, size, firstByte, histlen int64) {
	m.mu.Lock()
	b := m.backlog
	m.mu.Unlock()
	size = m.settings().BacklogSize
	if b == nil {
		return false, size, 0, 0
	}
	first, hl := b.Range()
	return true, size, first + 1, hl
}

// Apply implements effects.Subscriber: a master's own writes become the stream.
func (m *Master) Apply(batch *effects.Batch) {
	m.feedMu.Lock()
	defer m.feedMu.Unlock()
	m.mu.Lock()
	b, own := m.backlog, m.feedEffects
	m.mu.Unlock()
	if b == nil || !own {
		return
	}
	m.buf = m.feeder.AppendBatch(m.buf[:0], batch)
	b.Append(m.buf)
}

// Proxy appends bytes received from this node's master to the stream, as a replica
// passes its master's stream on to its own replicas unchanged
// (replicationFeedStreamFromMasterStream), so offsets agree along a chain.
func (m *Master) Proxy(p []byte) {
	m.feedMu.Lock()
	defer m.feedMu.Unlock()
	m.mu.Lock()
	b := m.backlog
	m.mu.Unlock()
	if b != nil {
		b.Append(p)
	}
}

// feedRaw appends a command that is not a keyspace effect (PING, REPLCONF GETACK): it
// selects no database (dictid -1 in replicationFeedSlaves).
func (m *Master) feedRaw(p []byte) {
	m.feedMu.Lock()
	defer m.feedMu.Unlock()
	m.mu.Lock()
	b, own := m.backlog, m.feedEffects
	m.mu.Unlock()
	if b != nil && own {
		b.Append(p)
	}
}

// ensureBacklogLocked creates the backlog when the first replica arrives
// (createReplicationBacklog): a master starts a new history then, since nothing before
// it was recorded. m.mu must be held.
func (m *Master) ensureBacklogLocked() {
	if m.backlog != nil {
		return
	}
	if m.feedEffects {
		m.replID, m.replID2, m.secondOffset = NewReplID(), zeroID, -1
	}
	m.backlog = NewBacklog(m.settings().BacklogSize, m.offset)
}

// syncSubscription subscribes to the effects stream while this node is a master with a
// backlog, and unsubscribes otherwise. It must be called with none of the master's other
// locks held: the stream calls Apply under its own lock, which takes them.
func (m *Master) syncSubscription() {
	m.subMu.Lock()
	defer m.subMu.Unlock()
	m.mu.Lock()
	want := m.feedEffects && m.backlog != nil && m.stream != nil
	m.mu.Unlock()
	switch {
	case want && m.unsubscribe == nil:
		m.unsubscribe = m.stream.Subscribe(m)
	case !want && m.unsubscribe != nil:
		m.unsubscribe()
		m.unsubscribe = nil
	}
}

// SetBacklogSize applies repl-backlog-size.
func (m *Master) SetBacklogSize(size int64) {
	m.mu.Lock()
	b := m.backlog
	m.mu.Unlock()
	if b != nil {
		b.SetSize(size)
	}
}

// Link is one replica connected to this master: the connection it was accepted on, what
// it announced with REPLCONF, and its acknowledged offset.
type Link struct {
	m    *Master
	conn Conn
	// Addr is the replica's address as the master sees it (its IP for INFO).
	IP string
	// ID is the client ID of the replica's connection.
	ID int64

	// Set by REPLCONF before PSYNC; read by the feeding goroutine after.
	ListeningPort int
	AnnouncedIP   string
	CapaEOF       bool
	CapaPSync2    bool

	state   atomic.Int32
	ackOff  atomic.Int64 // Redis offset the replica acknowledged
	ackTime atomic.Int64 // unix ms of the last ACK
	reader  *Reader
	// overSoftSince is when the output buffer first exceeded the soft limit, zero when
	// under it (unix ms).
	overSoftSince int64
	// pending is the reply line PSYNC gets (+FULLRESYNC or +CONTINUE), sent by the
	// feeding goroutine before the payload.
	pending  string
	closed   atomic.Bool
	closeSig chan struct{}
	done     chan struct{}
	// firstAck is closed by the replica's first ACK.
	firstAck     chan struct{}
	firstAckOnce sync.Once
}

// Link states, INFO's state= values.
const (
	linkWaitBgsave int32 = iota
	linkSendBulk
	linkOnline
)

var linkStateNames = []string{"wait_bgsave", "send_bulk", "online"}

// Conn is what the master needs of a replica's connection: writing, closing, and a
// write deadline so a replica that stops reading is dropped after repl-timeout.
type Conn interface {
	io.Writer
	Close() error
	SetWriteDeadline(t time.Time) error
}

// NewLink prepares a replica connection; REPLCONF fills it in, PSYNC/SYNC starts it.
func (m *Master) NewLink(conn Conn, id int64, ip string) *Link {
	return &Link{m: m, conn: conn, ID: id, IP: ip, done: make(chan struct{}), closeSig: make(chan struct{}),
		firstAck: make(chan struct{})}
}

// State returns INFO's state name.
func (l *Link) State() string { return linkStateNames[l.state.Load()] }

// AckOffset returns the offset the replica last acknowledged.
func (l *Link) AckOffset() int64 { return l.ackOff.Load() }

// Ack records REPLCONF ACK offset.
func (l *Link) Ack(offset int64) {
	now := l.m.clock.Now().UnixMilli()
	l.ackTime.Store(now)
	if offset > l.ackOff.Load() {
		l.ackOff.Store(offset)
	}
	l.firstAckOnce.Do(func() { close(l.firstAck) })
	m := l.m
	m.mu.Lock()
	close(m.ackCh)
	m.ackCh = make(chan struct{})
	m.mu.Unlock()
}

// Lag returns the seconds since the replica's last ACK.
func (l *Link) Lag() int64 {
	t := l.ackTime.Load()
	return max(0, (l.m.clock.Now().UnixMilli()-t)/1000)
}

// Port returns the port the replica announced.
func (l *Link) Port() int { return l.ListeningPort }

// Addr returns the address INFO and ROLE show: the announced IP, else the peer's.
func (l *Link) Addr() string {
	if l.AnnouncedIP != "" {
		return l.AnnouncedIP
	}
	return l.IP
}

// Close drops the replica.
func (l *Link) Close() {
	if l.closed.CompareAndSwap(false, true) {
		close(l.closeSig)
		l.conn.Close()
	}
}

// Done is closed once the link's feeding goroutine has finished.
func (l *Link) Done() <-chan struct{} { return l.done }

// Links returns the replicas, in no particular order.
func (m *Master) Links() []*Link {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Link, 0, len(m.links))
	for l := range m.links {
		out = append(out, l)
	}
	return out
}

// PSync answers PSYNC replid offset for l (syncCommand and
// masterTryPartialResynchronization): a partial resync when the requested history is
// this node's (or the one it continued from, up to where they diverge) and the backlog
// still holds it, else a full resync. It returns at once; a goroutine feeds the replica
// until the link closes. SYNC is PSync with psync false.
func (m *Master) PSync(l *Link, replID string, offset int64, psync bool) {
	m.mu.Lock()
	m.links[l] = struct{}{}
	m.ensureBacklogLocked()
	if psync {
		if r := m.tryContinueLocked(l, replID, offset); r != nil {
			m.mu.Unlock()
			m.syncSubscription()
			m.SyncPartialOK.Add(1)
			m.start(l, func() error { return m.feedPartial(l, r) })
			return
		}
		if replID != "?" {
			m.SyncPartialErr.Add(1)
		}
	}
	m.mu.Unlock()
	m.syncSubscription()
	m.SyncFull.Add(1)
	m.start(l, func() error { return m.feedFull(l, psync) })
}

// tryContinueLocked returns a reader for a partial resync, nil when it is not possible.
func (m *Master) tryContinueLocked(l *Link, replID string, offset int64) *Reader {
	if replID != m.replID && (replID != m.replID2 || offset > m.secondOffset) {
		if replID != "?" {
			m.log.Noticef("Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '%s', my replication IDs are '%s' and '%s')",
				replID, m.replID, m.replID2)
		}
		return nil
	}
	r := m.backlog.NewReader(offset - 1)
	if r == nil {
		m.log.Noticef("Unable to partial resync with replica %s for lack of backlog (Replica request was: %d).",
			l.describe(), offset)
		return nil
	}
	var reply string
	if l.CapaPSync2 {
		reply = "+CONTINUE " + m.replID + "\r\n"
	} else {
		reply = "+CONTINUE\r\n"
	}
	l.reader = r
	l.pending = reply
	m.log.Noticef("Partial resynchronization request from %s accepted. Sending %d bytes of backlog starting from offset %d.",
		l.describe(), r.Lag(), offset)
	return r
}

func (l *Link) describe() string {
	return l.Addr() + ":" + strconv.Itoa(l.ListeningPort)
}

func (m *Master) start(l *Link, feed func() error) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(l.done)
		err := feed()
		if err != nil && !l.closed.Load() {
			m.log.Warningf("Connection with replica %s lost: %v", l.describe(), err)
		}
		m.drop(l)
	}()
}

// drop forgets a replica whose feeding ended.
func (m *Master) drop(l *Link) {
	l.Close()
	m.mu.Lock()
	delete(m.links, l)
	if len(m.links) == 0 {
		m.noLinksSince = m.clock.Now()
	}
	if l.reader != nil {
		l.reader.Close()
	}
	m.mu.Unlock()
}

// feedPartial sends +CONTINUE and then the stream from the replica's offset.
func (m *Master) feedPartial(l *Link, r *Reader) error {
	l.state.Store(linkOnline)
	l.ackTime.Store(m.clock.Now().UnixMilli())
	if err := l.write([]byte(l.pending)); err != nil {
		return err
	}
	return m.feedStream(l, r)
}

// feedFull runs a full resync: +FULLRESYNC, the RDB (diskless with an EOF mark, or from a
// file with its length first), then the stream from the snapshot's offset on.
func (m *Master) feedFull(l *Link, psync bool) error {
	set := m.settings()
	diskless := set.DisklessSync && l.CapaEOF
	if diskless && set.DisklessDelay > 0 {
		select {
		case <-time.After(set.DisklessDelay):
		case <-l.closedCh():
			return nil
		}
	}
	// One snapshot at a time; the lock is released once the RDB is written, before the
	// stream is fed.
	m.syncing.Lock()
	locked := true
	unlock := func() {
		if locked {
			locked = false
			m.syncing.Unlock()
		}
	}
	defer unlock()
	if l.closed.Load() {
		return nil
	}
	at := func() ReplState {
		m.feedMu.Lock()
		defer m.feedMu.Unlock()
		m.mu.Lock()
		defer m.mu.Unlock()
		m.ensureBacklogLocked()
		pos := m.backlog.Offset()
		l.reader = m.backlog.NewReader(pos)
		db := max(m.feeder.Selected(), 0)
		m.feeder.ForceSelect()
		if psync {
			l.pending = "+FULLRESYNC " + m.replID + " " + strconv.FormatInt(pos, 10) + "\r\n"
		}
		return ReplState{ReplID: m.replID, Offset: pos, DB: db}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-l.closedCh():
			cancel()
		case <-ctx.Done():
		}
	}()
	if diskless {
		m.log.Noticef("Starting BGSAVE for SYNC with target: replicas sockets")
		var mark [20]byte
		rand.Read(mark[:])
		eof := hex.EncodeToString(mark[:])
		bw := bufio.NewWriterSize(deadlineWriter{l, set.Timeout}, 64*1024)
		w := &prefixWriter{w: bw, prefix: func() []byte { return []byte(l.pending + "$EOF:" + eof + "\r\n") }}
		l.state.Store(linkSendBulk)
		if err := m.snap.Snapshot(ctx, w, at); err != nil {
			return fmt.Errorf("full sync: %w", err)
		}
		if _, err := bw.WriteString(eof); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		unlock()
		// A replica reading an EOF-marked payload looks for the mark at the end of what
		// it read, so the stream must not follow in the same packet: it starts once the
		// replica acknowledges, as in Redis (repl_start_cmd_stream_on_ack).
		select {
		case <-l.firstAck:
		case <-l.closedCh():
			return nil
		}
		m.log.Noticef("Synchronization with replica %s succeeded", l.describe())
	} else {
		m.log.Noticef("Starting BGSAVE for SYNC with target: disk")
		f, err := os.CreateTemp(set.TempDir, "temp-repl-*.rdb")
		if err != nil {
			return fmt.Errorf("full sync: create RDB file: %w", err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		bw := bufio.NewWriterSize(f, 1<<20)
		if err := m.snap.Snapshot(ctx, bw, at); err != nil {
			return fmt.Errorf("full sync: %w", err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("full sync: write RDB file: %w", err)
		}
		unlock()
		size, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		l.state.Store(linkSendBulk)
		out := bufio.NewWriterSize(deadlineWriter{l, set.Timeout}, 64*1024)
		out.WriteString(l.pending + "$" + strconv.FormatInt(size, 10) + "\r\n")
		if _, err := io.Copy(out, f); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
		m.log.Noticef("Synchronization with replica %s succeeded", l.describe())
	}
	l.ackTime.Store(m.clock.Now().UnixMilli())
	l.state.Store(linkOnline)
	return m.feedStream(l, l.reader)
}

// feedStream writes the stream to the replica as it grows, until the link closes.
func (m *Master) feedStream(l *Link, r *Reader) error {
	buf := make([]byte, 64*1024)
	closed := l.closedCh()
	for {
		n, wait := r.Next(buf)
		if n == 0 {
			select {
			case <-wait:
				continue
			case <-closed:
				return nil
			}
		}
		if err := l.write(buf[:n]); err != nil {
			return err
		}
	}
}

func (l *Link) write(p []byte) error {
	if t := l.m.settings().Timeout; t > 0 {
		// The socket's deadline is on the wall clock whatever clock the engine runs on
		// (a test's fake clock would put it in the past).
		l.conn.SetWriteDeadline(time.Now().Add(t))
	}
	_, err := l.conn.Write(p)
	return err
}

// closedCh returns a channel closed once Close was called.
func (l *Link) closedCh() <-chan struct{} { return l.closeSig }

type deadlineWriter struct {
	l       *Link
	timeout time.Duration
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	if d.timeout > 0 {
		d.l.conn.SetWriteDeadline(time.Now().Add(d.timeout))
	}
	return d.l.conn.Write(p)
}

// prefixWriter writes prefix() before the first byte: the FULLRESYNC line and the EOF
// header can only be built once the snapshot's instant fixed the offset.
type prefixWriter struct {
	w      io.Writer
	prefix func() []byte
	done   bool
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if !p.done {
		p.done = true
		if _, err := p.w.Write(p.prefix()); err != nil {
			return 0, err
		}
	}
	return p.w.Write(b)
}
