package server

import (
	"sync"
	"sync/atomic"
	"time"
)

// stripedCounter is a counter updated by many goroutines: each adds to the stripe of its
// client, so two cores rarely write the same cache line; readers sum the stripes.
type stripedCounter struct {
	stripes [8]struct {
		n atomic.Int64
		_ [56]byte
	}
	next atomic.Uint32
}

func (sc *stripedCounter) addFor(id int64, n int64) { sc.stripes[id&7].n.Add(n) }

// add spreads updates from callers without an ID round-robin over the stripes.
func (sc *stripedCounter) add(n int64) {
	sc.stripes[sc.next.Add(1)&7].n.Add(n)
}

func (sc *stripedCounter) load() int64 {
	var t int64
	for i := range sc.stripes {
		t += sc.stripes[i].n.Load()
	}
	return t
}

func (sc *stripedCounter) reset() {
	for i := range sc.stripes {
		sc.stripes[i].n.Store(0)
	}
}

// serverStats are the counters of INFO stats.
type serverStats struct {
	connectionsReceived atomic.Int64
	rejectedConnections atomic.Int64
	commands            stripedCounter
	netInput            stripedCounter
	netOutput           stripedCounter

	// mu guards the instantaneous metrics, sampled by the cron (trackInstantaneousMetric).
	mu          sync.Mutex
	samples     [3]metricSamples
	lastSampled time.Time
}

const (
	metricCommands = iota
	metricNetInput
	metricNetOutput
)

// metricSamples keeps the last 16 per-second rates of one metric (STATS_METRIC_SAMPLES).
type metricSamples struct {
	lastValue int64
	rates     [16]float64
	idx       int
}

func (s *serverStats) sample(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Sample every 100 ms, as Redis's run_with_period(100).
	if !s.lastSampled.IsZero() && now.Sub(s.lastSampled) < 100*time.Millisecond {
		return
	}
	elapsed := now.Sub(s.lastSampled).Seconds()
	values := [3]int64{s.commands.load(), s.netInput.load(), s.netOutput.load()}
	for i, v := range values {
		m := &s.samples[i]
		if !s.lastSampled.IsZero() && elapsed > 0 {
			m.rates[m.idx] = float64(v-m.lastValue) / elapsed
			m.idx = (m.idx + 1) % len(m.rates)
		}
		m.lastValue = v
	}
	s.lastSampled = now
}

// instantaneous returns the average per-second rate of a metric over the last samples.
func (s *serverStats) instantaneous(metric int) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum float64
	for _, r := range s.samples[metric].rates {
		sum += r
	}
	return sum / float64(len(s.samples[metric].rates))
}

func (s *serverStats) reset() {
	s.connectionsReceived.Store(0)
	s.rejectedConnections.Store(0)
	s.commands.reset()
	s.netInput.reset()
	s.netOutput.reset()
	s.mu.Lock()
	s.samples = [3]metricSamples{}
	s.lastSampled = time.Time{}
	s.mu.Unlock()
}
