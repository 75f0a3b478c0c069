package server

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Slow log (slowlog.c): the last slowlog-max-len commands that ran at least
// slowlog-log-slower-than microseconds.
const (
	slowlogMaxArgc   = 32  // SLOWLOG_ENTRY_MAX_ARGC
	slowlogMaxString = 128 // SLOWLOG_ENTRY_MAX_STRING
)

type slowlogEntry struct {
	id       int64
	time     int64 // unix seconds
	duration int64 // microseconds
	argv     []string
	addr     string
	name     string
}

type slowlog struct {
	mu      sync.Mutex // guards entries and nextID
	entries []slowlogEntry
	nextID  int64
	maxLen  atomic.Int64
}

func (sl *slowlog) init() { sl.maxLen.Store(128) }

func (sl *slowlog) add(c *client, argv [][]byte, start time.Time, usec int64) {
	n := len(argv)
	if n > slowlogMaxArgc {
		n = slowlogMaxArgc
	}
	args := make([]string, n)
	for i := 0; i < n; i++ {
		if i == slowlogMaxArgc-1 && len(argv) > slowlogMaxArgc {
			args[i] = "... (" + strconv.Itoa(len(argv)-slowlogMaxArgc+1) + " more arguments)"
			break
		}
		a := argv[i]
		if len(a) > slowlogMaxString {
			args[i] = string(a[:slowlogMaxString]) + "... (" + strconv.Itoa(len(a)-slowlogMaxString) + " more bytes)"
		} else {
			args[i] = string(a)
		}
	}
	redactArgs(args)
	sl.mu.Lock()
	defer sl.mu.Unlock()
	e := slowlogEntry{id: sl.nextID, time: start.Unix(), duration: usec, argv: args, addr: c.addr, name: c.getName()}
	sl.nextID++
	sl.entries = append([]slowlogEntry{e}, sl.entries...)
	if max := int(sl.maxLen.Load()); len(sl.entries) > max {
		sl.entries = sl.entries[:max]
	}
}

func (sl *slowlog) get(count int) []slowlogEntry {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if count < 0 || count > len(sl.entries) {
		count = len(sl.entries)
	}
	return append([]slowlogEntry(nil), sl.entries[:count]...)
}

func (sl *slowlog) len() int {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return len(sl.entries)
}

func (sl *slowlog) reset() {
	sl.mu.Lock()
	sl.entries = nil
	sl.mu.Unlock()
}

func (sl *slowlog) trim() {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if max := int(sl.maxLen.Load()); len(sl.entries) > max {
		sl.entries = sl.entries[:max]
	}
}

// redactArgs hides passwords from the slow log and MONITOR, as Redis's
// redactClientCommandArgument does for AUTH, HELLO AUTH and the MIGRATE AUTH options.
func redactArgs(args []string) {
	if len(args) == 0 {
		return
	}
	switch lower(args[0]) {
	case "auth":
		for i := 1; i < len(args); i++ {
			args[i] = "(redacted)"
		}
	case "hello":
		for i := 1; i < len(args); i++ {
			if lower(args[i]) == "auth" && i+2 < len(args) {
				args[i+1], args[i+2] = "(redacted)", "(redacted)"
				i += 2
			}
		}
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
