package repl

import (
	"context"
	"time"
)

// Cron is the master's share of replicationCron, run once a second: PING the replicas
// every repl-ping-replica-period, drop replicas silent for repl-timeout or over their
// output buffer limits, free the backlog repl-backlog-ttl after the last replica left,
// and count the good replicas min-replicas-to-write judges writes by.
func (m *Master) Cron() {
	set := m.settings()
	now := m.clock.Now()
	m.mu.Lock()
	m.cronLoops++
	loops := m.cronLoops
	own := m.feedEffects
	m.mu.Unlock()
	links := m.Links()

	period := max(int64(set.PingPeriod/time.Second), 1)
	if own && len(links) > 0 && loops%period == 0 {
		m.feedRaw(PingCmd)
	}
	for _, l := range links {
		if l.state.Load() == linkOnline && set.Timeout > 0 &&
			now.UnixMilli()-l.ackTime.Load() > set.Timeout.Milliseconds() {
			m.log.Warningf("Disconnecting timedout replica (streaming sync): %s", l.describe())
			l.Close()
			continue
		}
		m.checkOutputLimits(l, set, now)
	}
	m.mu.Lock()
	if own && m.backlog != nil && len(m.links) == 0 && set.BacklogTTL > 0 &&
		now.Sub(m.noLinksSince) > set.BacklogTTL {
		m.log.Noticef("Replication backlog freed after %d seconds without connected replicas.",
			int64(set.BacklogTTL/time.Second))
		m.offset = m.backlog.Offset()
		m.backlog = nil
		m.replID, m.replID2, m.secondOffset = NewReplID(), zeroID, -1
	}
	m.mu.Unlock()
	m.syncSubscription()
	m.refreshGoodReplicas()
}

// checkOutputLimits drops a replica whose unsent stream exceeds client-output-buffer-limit
// replica: the hard limit at once, the soft one after it has been exceeded for the soft
// time (checkClientOutputBufferLimits).
func (m *Master) checkOutputLimits(l *Link, set Settings, now time.Time) {
	m.mu.Lock()
	r := l.reader
	m.mu.Unlock()
	if r == nil {
		return
	}
	lag := r.Lag()
	over := false
	if set.OutputHardLimit > 0 && lag >= set.OutputHardLimit {
		over = true
	} else if set.OutputSoftLimit > 0 && lag >= set.OutputSoftLimit {
		if l.overSoftSince == 0 {
			l.overSoftSince = now.UnixMilli()
		} else if now.UnixMilli()-l.overSoftSince >= set.OutputSoftTime.Milliseconds() {
			over = true
		}
	} else {
		l.overSoftSince = 0
	}
	if over {
		m.log.Warningf("Client id=%d addr=%s flags=S scheduled to be closed ASAP for overcoming of output buffer limits.",
			l.ID, l.describe())
		l.Close()
	}
}

// refreshGoodReplicas counts the online replicas whose last ACK is at most
// min-replicas-max-lag seconds old (refreshGoodSlavesCount).
func (m *Master) refreshGoodReplicas() {
	set := m.settings()
	if set.MinReplicas == 0 || set.MinReplicasLag == 0 {
		m.minReplicas.Store(0)
		return
	}
	now := m.clock.Now().UnixMilli()
	good := int64(0)
	for _, l := range m.Links() {
		lagSec := (now - l.ackTime.Load()) / 1000
		if l.state.Load() == linkOnline && lagSec <= int64(set.MinReplicasLag/time.Second) {
			good++
		}
	}
	m.goodReplicas.Store(good)
	m.minReplicas.Store(int64(set.MinReplicas))
}

// RefreshGoodReplicas recounts the good replicas at once, for CONFIG SET of
// min-replicas-to-write and min-replicas-max-lag.
func (m *Master) RefreshGoodReplicas() { m.refreshGoodReplicas() }

// GoodReplicas returns min_slaves_good_slaves: the replicas min-replicas-to-write counts.
func (m *Master) GoodReplicas() int64 { return m.goodReplicas.Load() }

// WriteAllowed reports whether min-replicas-to-write lets a write run: it does unless the
// setting is on and fewer good replicas than it asks for are connected.
func (m *Master) WriteAllowed() bool {
	min := m.minReplicas.Load()
	return min == 0 || m.goodReplicas.Load() >= min
}

// Acked counts the replicas that acknowledged at least Redis offset off.
func (m *Master) Acked(off int64) int {
	n := 0
	for _, l := range m.Links() {
		if l.state.Load() == linkOnline && l.ackOff.Load() >= off {
			n++
		}
	}
	return n
}

// Wait is WAIT numreplicas timeout: it blocks until num replicas acknowledged Redis
// offset off, timeout passed (0 waits for ever) or ctx is done, and returns how many
// acknowledged. Replicas are asked for their offsets at once with REPLCONF GETACK.
func (m *Master) Wait(ctx context.Context, off int64, num int, timeout time.Duration) int {
	if n := m.Acked(off); n >= num {
		return n
	}
	m.feedRaw(GetAckCmd)
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	for {
		m.mu.Lock()
		ch := m.ackCh
		m.mu.Unlock()
		if n := m.Acked(off); n >= num {
			return n
		}
		select {
		case <-ch:
		case <-expired:
			return m.Acked(off)
		case <-ctx.Done():
			return m.Acked(off)
		}
	}
}

// Promote makes this node a master of its own history after it followed another
// (replicationUnsetMaster): the history so far stays shared under replid2 up to the
// current offset, so replicas of the old master that follow this node continue with a
// partial resync; replicas are disconnected to learn the new ID; the next write selects
// its database explicitly.
func (m *Master) Promote() {
	m.feedMu.Lock()
	m.mu.Lock()
	if m.backlog == nil {
		m.backlog = NewBacklog(m.settings().BacklogSize, m.offset)
	}
	off := m.backlog.Offset()
	m.replID2, m.secondOffset = m.replID, off+1
	m.replID = NewReplID()
	m.feedEffects = true
	m.feeder.ForceSelect()
	links := m.linksLocked()
	m.mu.Unlock()
	m.feedMu.Unlock()
	m.syncSubscription()
	for _, l := range links {
		l.Close()
	}
}

// Demote stops feeding this node's own writes: it is becoming a replica, whose stream is
// its master's (Proxy). Replicas are disconnected, to resynchronise once the node has a
// master (replicationSetMaster's disconnectSlaves).
func (m *Master) Demote() {
	m.feedMu.Lock()
	m.mu.Lock()
	m.feedEffects = false
	links := m.linksLocked()
	m.mu.Unlock()
	m.feedMu.Unlock()
	m.syncSubscription()
	for _, l := range links {
		l.Close()
	}
}

// Follow adopts the history of this node's master after a full resync: its replication
// ID, an empty backlog starting at offset, and no second ID. Replicas of this node are
// disconnected so they resynchronise with the new data set.
func (m *Master) Follow(replID string, offset int64) {
	m.feedMu.Lock()
	defer m.feedMu.Unlock()
	m.mu.Lock()
	m.replID, m.replID2, m.secondOffset = replID, zeroID, -1
	if m.backlog == nil {
		m.backlog = NewBacklog(m.settings().BacklogSize, offset)
	} else {
		m.backlog.Reset(offset)
	}
	m.offset = offset
	links := m.linksLocked()
	m.mu.Unlock()
	for _, l := range links {
		l.Close()
	}
}

// Continue records that this node's master continued the stream under a new ID (it was
// promoted): the node's own history so far is shared with it up to the current offset
// (PSYNC's +CONTINUE <new id>). Replicas are disconnected to learn the new ID.
func (m *Master) Continue(newID string) {
	m.feedMu.Lock()
	defer m.feedMu.Unlock()
	m.mu.Lock()
	if newID == m.replID {
		m.mu.Unlock()
		return
	}
	off := m.offset
	if m.backlog != nil {
		off = m.backlog.Offset()
	}
	m.replID2, m.secondOffset = m.replID, off+1
	m.replID = newID
	links := m.linksLocked()
	m.mu.Unlock()
	for _, l := range links {
		l.Close()
	}
}

func (m *Master) linksLocked() []*Link {
	out := make([]*Link, 0, len(m.links))
	for l := range m.links {
		out = append(out, l)
	}
	return out
}

// Close drops every replica and waits for their goroutines.
func (m *Master) Close() {
	m.mu.Lock()
	links := m.linksLocked()
	m.feedEffects = false
	m.mu.Unlock()
	m.syncSubscription()
	for _, l := range links {
		l.Close()
	}
	m.wg.Wait()
}
