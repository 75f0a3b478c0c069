package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/clusterctl/clusterctl/node/command"
)

// pauseState is CLIENT PAUSE: until a deadline, commands of normal clients (all of them,
// or only those that may write) wait before running.
type pauseState struct {
	active atomic.Bool // fast path: checked before every command
	mu     sync.Mutex  // guards until, all and wake
	until  time.Time
	all    bool
	wake   chan struct{} // closed on UNPAUSE or a new pause
}

func (p *pauseState) pause(d time.Duration, all bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	until := time.Now().Add(d)
	// A new pause only extends an active one, and never narrows ALL to WRITE (Redis
	// keeps the most restrictive purpose and the latest end).
	if p.active.Load() {
		if until.After(p.until) {
			p.until = until
		}
		p.all = p.all || all
	} else {
		p.until, p.all = until, all
	}
	if p.wake != nil {
		close(p.wake)
	}
	p.wake = make(chan struct{})
	p.active.Store(true)
}

func (p *pauseState) unpause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active.Store(false)
	if p.wake != nil {
		close(p.wake)
		p.wake = nil
	}
}

// blocks reports whether cmd must wait for the pause to end: under WRITE, commands that
// may write or replicate (EVAL, PUBLISH...); under ALL, every command. CLIENT PAUSE and
// UNPAUSE themselves always run, so a pause can be lifted.
func (p *pauseState) blocks(cmd *command.Command) bool {
	if !p.active.Load() {
		return false
	}
	if cmd.Name == "client|unpause" || cmd.Name == "client|pause" {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Now().After(p.until) {
		p.active.Store(false)
		return false
	}
	return p.all || cmd.IsWrite() || cmd.Has(command.FlagMayReplicate)
}

// wait blocks until the pause ends, is lifted, or the server shuts down.
func (p *pauseState) wait(cmd *command.Command, shutdown <-chan struct{}) {
	for p.blocks(cmd) {
		p.mu.Lock()
		wake, left := p.wake, time.Until(p.until)
		p.mu.Unlock()
		t := time.NewTimer(left)
		select {
		case <-wake:
		case <-t.C:
		case <-shutdown:
			t.Stop()
			return
		}
		t.Stop()
	}
}
