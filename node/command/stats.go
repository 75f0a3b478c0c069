package command

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// statStripes spreads the per-command counters over several cache lines, chosen by client
// ID, so that two cores running GET at once do not fight over one counter.
const statStripes = 8

type commandStats struct {
	calls, usec, rejected, failed atomic.Int64
	_                             [32]byte
}

// CommandStats are the figures of one INFO commandstats line.
type CommandStats struct {
	Calls, Usec, Rejected, Failed int64
}

// Record counts one execution of cmd by a client (stripe chosen by its ID).
func (cmd *Command) Record(clientID int64, usec int64, failed bool) {
	s := &cmd.stats[clientID&(statStripes-1)]
	s.calls.Add(1)
	s.usec.Add(usec)
	if failed {
		s.failed.Add(1)
	}
}

// RecordRejected counts a call refused before execution (arity, ACL, OOM...).
func (cmd *Command) RecordRejected(clientID int64) {
	cmd.stats[clientID&(statStripes-1)].rejected.Add(1)
}

// Stats sums the stripes.
func (cmd *Command) Stats() CommandStats {
	var out CommandStats
	for i := range cmd.stats {
		s := &cmd.stats[i]
		out.Calls += s.calls.Load()
		out.Usec += s.usec.Load()
		out.Rejected += s.rejected.Load()
		out.Failed += s.failed.Load()
	}
	return out
}

// ResetStats zeroes the counters (CONFIG RESETSTAT).
func (cmd *Command) ResetStats() {
	for i := range cmd.stats {
		s := &cmd.stats[i]
		s.calls.Store(0)
		s.usec.Store(0)
		s.rejected.Store(0)
		s.failed.Store(0)
	}
}

// ErrorStats counts error replies by their code (INFO errorstats, total_error_replies).
type ErrorStats struct {
	mu     sync.Mutex
	counts map[string]int64
	total  atomic.Int64
}

// maxErrorCodes bounds the table as Redis does (ERRORSTATS_LIMIT), so clients inventing
// error codes cannot grow it without end.
const maxErrorCodes = 128

// Record counts one error reply msg ("ERR ...", "WRONGTYPE ...").
func (s *ErrorStats) Record(msg string) {
	s.total.Add(1)
	code, _, _ := strings.Cut(msg, " ")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts == nil {
		s.counts = map[string]int64{}
	}
	if _, ok := s.counts[code]; !ok && len(s.counts) >= maxErrorCodes {
		return
	}
	s.counts[code]++
}

// Total returns the number of error replies.
func (s *ErrorStats) Total() int64 { return s.total.Load() }

// Counts returns the codes and counts, sorted by code.
func (s *ErrorStats) Counts() []struct {
	Code  string
	Count int64
} {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]struct {
		Code  string
		Count int64
	}, 0, len(s.counts))
	for k, v := range s.counts {
		out = append(out, struct {
			Code  string
			Count int64
		}{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Reset zeroes the counters.
func (s *ErrorStats) Reset() {
	s.mu.Lock()
	s.counts = nil
	s.mu.Unlock()
	s.total.Store(0)
}
