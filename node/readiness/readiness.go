// Package readiness lets a goroutine-per-connection server read a socket only once the
// kernel has reported it readable, as redis-server's event loop does, and read and write
// it with raw system calls.
//
// A Go connection's Read always tries the read system call first and parks the goroutine
// only when it fails with EAGAIN. A server answering one request at a time per client
// (redis-benchmark -P 1) therefore makes a failing read for almost every request: after
// writing the reply it reads again before the client had time to send the next request.
// On a virtual machine where every system call is expensive that wasted call is a large
// part of the node's cost per request. Stream's connections skip it: after a read that
// drained the socket, the next read waits for Go's poller to report new data first (see
// streamConn).
//
// Reads and writes are raw system calls, through the socket's syscall.RawConn so that
// deadlines, Close and waiting for readability or writability still go through Go's
// poller. An ordinary system call tells the scheduler it may block: it wakes the
// runtime's monitor thread if that was asleep, and the monitor hands the P to another
// thread when a call outlasts its 20 µs tick, which a read or write often does on a
// virtual machine. A read or write of a non-blocking socket never blocks, so none of
// that is needed, and on the machine of docs/BENCHMARKS.md it was a tenth of the node's
// CPU time at redis-benchmark -P 1.
package readiness
