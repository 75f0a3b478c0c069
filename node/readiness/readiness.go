// Package readiness lets a goroutine-per-connection server read a socket only once the
// kernel has reported it readable, as redis-server's event loop does.
//
// A Go connection's Read always tries the read system call first and parks the goroutine
// only when it fails with EAGAIN. A server answering one request at a time per client
// (redis-benchmark -P 1) therefore makes a failing read for almost every request: after
// writing the reply it reads again before the client had time to send the next request.
// On a virtual machine where every system call is expensive that wasted call is about a
// third of the node's cost per request.
//
// A Poller keeps its own edge-triggered epoll set of the connections it wraps. A wrapped
// connection whose last read drained the socket waits on a channel until the Poller has
// seen new data arrive, and only then reads. The Poller itself waits through Go's
// network poller (its epoll descriptor is registered there like a socket), so no thread
// ever blocks in a system call and one epoll_wait serves every client that became
// readable at once. A spurious wake-up costs one failing read, never a missed request.
//
// A wrapped connection also reads and writes with raw system calls, through the socket's
// syscall.RawConn so that deadlines, Close and waiting for writability still go through
// Go's poller. An ordinary system call tells the scheduler it may block: it wakes the
// runtime's monitor thread if that was asleep, and the monitor hands the P to another
// thread when a call outlasts its 20 µs tick, which a read or write often does on a
// virtual machine. A read or write of a non-blocking socket never blocks, so none of
// that is needed, and on the machine of docs/BENCHMARKS.md it was a tenth of the node's
// CPU time at redis-benchmark -P 1.
package readiness

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// gate is a connection whose reads wait for the Poller's word that data has arrived.
type gate struct {
	*rawConn
	p   *Poller
	fd  int32
	gen int32

	// mustRead is true when the next Read has to go to the socket without waiting: the
	// last read filled the caller's buffer (more may be queued, with no new edge to come),
	// failed, or a deadline changed (its expiry must reach the reader).
	mustRead  atomic.Bool
	ready     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func (g *gate) Read(b []byte) (int, error) {
	if !g.mustRead.Load() && !g.p.stopped.Load() {
		select {
		case <-g.ready:
		case <-g.closed:
		}
	}
	n, err := g.rawConn.Read(b)
	g.mustRead.Store(err != nil || n == len(b))
	return n, err
}

// wake tells the reader that data arrived; a wake-up already pending is enough.
func (g *gate) wake() {
	select {
	case g.ready <- struct{}{}:
	default:
	}
}

func (g *gate) Close() error {
	g.closeOnce.Do(func() {
		close(g.closed)
		g.p.forget(g)
	})
	return g.Conn.Close()
}

func (g *gate) SetDeadline(t time.Time) error {
	err := g.Conn.SetDeadline(t)
	g.kick()
	return err
}

func (g *gate) SetReadDeadline(t time.Time) error {
	err := g.Conn.SetReadDeadline(t)
	g.kick()
	return err
}

// kick sends a waiting reader to the socket, so that a deadline set to wake it (as
// blocking commands do to stop their disconnection watcher) does.
func (g *gate) kick() {
	g.mustRead.Store(true)
	g.wake()
}

// Poller is the epoll set of wrapped connections. Its Run loop must be running while
// wrapped connections are read; Close stops it.
type Poller struct {
	impl  pollerImpl
	mu    sync.Mutex
	gates map[int32]*gate
	gen   int32
	// stopped is set when Run has returned: gates then read straight from the socket.
	stopped atomic.Bool
}

// Wrap returns conn reading through the Poller, or conn itself when it has no descriptor
// to watch (or p is nil, or stopped).
func (p *Poller) Wrap(conn net.Conn) net.Conn {
	if p == nil || p.stopped.Load() {
		return conn
	}
	rc := newRawConn(conn)
	if rc == nil {
		return conn
	}
	g := &gate{rawConn: rc, p: p, ready: make(chan struct{}, 1), closed: make(chan struct{})}
	g.mustRead.Store(true) // data may have come with the connection
	var regErr error
	err := rc.raw.Control(func(fd uintptr) {
		g.fd = int32(fd)
		p.add(g)
		// Registered inside Control, while the descriptor cannot be closed under us.
		if regErr = p.impl.register(g.fd, g.gen); regErr != nil {
			p.forget(g)
		}
	})
	if err != nil || regErr != nil {
		return conn
	}
	return g
}

// Run waits for sockets to become readable and wakes their readers, until Close. When it
// returns, every gate falls back to reading the socket directly.
func (p *Poller) Run() {
	defer p.stop()
	p.impl.run(p.dispatchAll)
}

// Close stops Run.
func (p *Poller) Close() error { return p.impl.close() }

func (p *Poller) stop() {
	p.stopped.Store(true)
	p.mu.Lock()
	for _, g := range p.gates {
		g.wake()
	}
	p.mu.Unlock()
}

func (p *Poller) add(g *gate) {
	p.mu.Lock()
	p.gen++
	g.gen = p.gen
	p.gates[g.fd] = g
	p.mu.Unlock()
}

func (p *Poller) forget(g *gate) {
	p.mu.Lock()
	if p.gates[g.fd] == g {
		delete(p.gates, g.fd)
	}
	p.mu.Unlock()
}

// dispatchAll wakes the gates of the descriptors in ready, each given with the generation
// it was registered under: a descriptor number is reused by the next connection once the
// old one is closed, and an event for the old one must not wake the new one.
func (p *Poller) dispatchAll(ready []event) {
	p.mu.Lock()
	for _, ev := range ready {
		if g := p.gates[ev.fd]; g != nil && g.gen == ev.gen {
			g.wake()
		}
	}
	p.mu.Unlock()
}

// event is one readable descriptor reported by the platform's poller.
type event struct{ fd, gen int32 }
