package server

import (
	"os"
	"runtime"
	"sync"
)

// backgroundCores lends a core to background snapshots (BGSAVE, an AOF rewrite, the RDB of
// a full sync) while they run.
//
// The node runs Go code on half the machine's cores (threads). redis-server writes its
// snapshots in a forked child, which the kernel schedules on another core. Ours is a
// goroutine of the same process: on one P it shares that P with every client, and the
// garbage collector's marking of a large heap, which a snapshot's copy-before-write
// allocations start, is then charged to clients as mark assists (measured: SET p99 of
// 650 ms during a BGSAVE of 1,000,000 keys on one P). With one more P the collector's
// dedicated worker and the writer get a core of their own, as the child would.
type backgroundCores struct {
	mu       sync.Mutex
	users    int
	restore  int  // GOMAXPROCS to go back to when the last user is done; 0: nothing raised
	disabled bool // the operator fixed the thread count (GOMAXPROCS or io-threads)
}

func newBackgroundCores(ioThreads int64) *backgroundCores {
	return &backgroundCores{disabled: os.Getenv("GOMAXPROCS") != "" || ioThreads > 1}
}

// borrow raises GOMAXPROCS by one, up to the number of cores, for as long as any caller
// holds the returned release function; release is idempotent.
func (b *backgroundCores) borrow() (release func()) {
	b.mu.Lock()
	if b.users == 0 && !b.disabled {
		if cur := runtime.GOMAXPROCS(0); cur < runtime.NumCPU() {
			b.restore = cur
			runtime.GOMAXPROCS(cur + 1)
		}
	}
	b.users++
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.users--
			if b.users == 0 && b.restore > 0 {
				runtime.GOMAXPROCS(b.restore)
				b.restore = 0
			}
		})
	}
}
