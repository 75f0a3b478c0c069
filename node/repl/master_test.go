package repl

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// masterRig is a master side under test: it followed testReplID from offset 1000,
// received 100 bytes of stream, and was then promoted, so its own history (a new ID)
// continues testReplID's from offset 1101 on.
type masterRig struct {
	m        *Master
	clock    *fakeClock
	log      *fakeLog
	set      Settings
	newID    string
	oldBytes string
}

func newTestMaster(t *testing.T, set Settings) *masterRig {
	t.Helper()
	clock, log := newFakeClock(), &fakeLog{}
	rig := &masterRig{clock: clock, log: log, set: set}
	rig.m = NewMaster(nil, fakeSnapshotter{payload: "RDB-PAYLOAD"}, func() Settings { return rig.set }, clock, log)
	t.Cleanup(rig.m.Close)
	rig.m.Demote()
	rig.m.Follow(testReplID, 1000)
	rig.oldBytes = strings.Repeat(pingStream, 7) + strings.Repeat("x", 100-7*len(pingStream))
	rig.m.Proxy([]byte(rig.oldBytes))
	rig.m.Promote()
	rig.newID, _, _ = rig.m.ID()
	return rig
}

// connect starts a replica link: REPLCONF capa as given, then PSYNC.
func (rig *masterRig) connect(id int64, psync2, eof bool, replID string, offset int64) (*Link, *recordConn) {
	conn := &recordConn{}
	l := rig.m.NewLink(conn, id, "10.0.0."+strconv.FormatInt(id, 10))
	l.ListeningPort, l.CapaPSync2, l.CapaEOF = 6379, psync2, eof
	rig.m.PSync(l, replID, offset, true)
	return l, conn
}

// TestMasterPartialResyncDecision: PSYNC continues when the replica asks for this
// node's history, or the one it continued from up to where they diverged, at an offset
// the backlog still holds; otherwise it answers +FULLRESYNC with the snapshot's offset
// (masterTryPartialResynchronization).
func TestMasterPartialResyncDecision(t *testing.T) {
	set := DefaultSettings()
	set.DisklessDelay = 0
	set.TempDir = t.TempDir()
	for _, tc := range []struct {
		name    string
		psync2  bool
		replID  string // "new" stands for the promoted master's ID
		offset  int64
		want    string // the reply line; "" for a full resync
		sent    string // the backlog bytes a partial resync sends
		errStat int64
	}{
		{name: "own history, at the end", psync2: true, replID: "new", offset: 1101, want: "+CONTINUE new"},
		{name: "old history, inside the backlog", psync2: true, replID: testReplID, offset: 1001,
			want: "+CONTINUE new", sent: "all"},
		{name: "old history, up to where it diverged", psync2: true, replID: testReplID, offset: 1101, want: "+CONTINUE new"},
		{name: "old history, past where it diverged", psync2: true, replID: testReplID, offset: 1102, errStat: 1},
		{name: "before the backlog", psync2: true, replID: testReplID, offset: 1000, errStat: 1},
		{name: "beyond the end", psync2: true, replID: "new", offset: 1102, errStat: 1},
		{name: "unknown ID", psync2: true, replID: testReplID2, offset: 1050, errStat: 1},
		{name: "first sync", psync2: true, replID: "?", offset: -1},
		{name: "no psync2 capability", psync2: false, replID: testReplID, offset: 1051, want: "+CONTINUE", sent: "tail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := newTestMaster(t, set)
			replID := tc.replID
			if replID == "new" {
				replID = rig.newID
			}
			want := strings.Replace(tc.want, "new", rig.newID, 1)
			_, conn := rig.connect(1, tc.psync2, true, replID, tc.offset)
			if want == "" {
				want = "+FULLRESYNC " + rig.newID + " 1100"
				eventually(t, "the full resync", func() bool { return strings.Contains(conn.String(), "RDB-PAYLOAD") })
				if got := conn.String(); !strings.HasPrefix(got, want+"\r\n$EOF:") {
					t.Fatalf("replica got %q, want %q and an EOF-marked payload", got, want)
				}
				if full, ok, bad := rig.m.SyncFull.Load(), rig.m.SyncPartialOK.Load(), rig.m.SyncPartialErr.Load(); full != 1 || ok != 0 || bad != tc.errStat {
					t.Fatalf("sync_full %d sync_partial_ok %d sync_partial_err %d", full, ok, bad)
				}
				return
			}
			var body string
			switch tc.sent {
			case "all":
				body = rig.oldBytes
			case "tail":
				body = rig.oldBytes[50:]
			}
			eventually(t, "the partial resync", func() bool { return conn.String() == want+"\r\n"+body })
			rig.m.feedRaw(PingCmd)
			eventually(t, "the stream to follow", func() bool { return conn.String() == want+"\r\n"+body+string(PingCmd) })
			if full, ok := rig.m.SyncFull.Load(), rig.m.SyncPartialOK.Load(); full != 0 || ok != 1 {
				t.Fatalf("sync_full %d sync_partial_ok %d", full, ok)
			}
		})
	}
}

// TestMasterAcksForWait: REPLCONF ACK moves a replica's acknowledged offset forward only;
// WAIT counts the online replicas at or past the client's offset, asks them with GETACK,
// and returns as soon as enough acknowledged or when its timeout passes.
func TestMasterAcksForWait(t *testing.T) {
	rig := newTestMaster(t, DefaultSettings())
	a, _ := rig.connect(1, true, true, rig.newID, 1101)
	b, connB := rig.connect(2, true, true, rig.newID, 1101)
	eventually(t, "both links online", func() bool { return a.State() == "online" && b.State() == "online" })

	for _, tc := range []struct {
		name      string
		ackA      int64
		ackB      int64
		waitOff   int64
		num       int
		timeout   time.Duration
		want      int
		wantAckA  int64
		lateAckB  int64 // ACK sent by b while WAIT blocks; 0 for none
		getAckFed bool
	}{
		{name: "both past the offset", ackA: 1100, ackB: 1100, waitOff: 1100, num: 2, want: 2, wantAckA: 1100},
		{name: "an older ACK does not move back", ackA: 900, ackB: 1100, waitOff: 1100, num: 1, want: 2, wantAckA: 1100},
		{name: "one short, times out", ackA: 1200, ackB: 1100, waitOff: 1200, num: 2, timeout: 30 * time.Millisecond,
			want: 1, wantAckA: 1200, getAckFed: true},
		{name: "a late ACK wakes WAIT", ackA: 1300, ackB: 1100, waitOff: 1300, num: 2, timeout: time.Minute,
			want: 2, wantAckA: 1300, lateAckB: 1300, getAckFed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a.Ack(tc.ackA)
			b.Ack(tc.ackB)
			if got := a.AckOffset(); got != tc.wantAckA {
				t.Fatalf("replica a acknowledged %d, want %d", got, tc.wantAckA)
			}
			before := rig.m.Offset()
			if tc.lateAckB != 0 {
				go func() {
					eventually(t, "GETACK to reach the replica", func() bool {
						return strings.HasSuffix(connB.String(), string(GetAckCmd))
					})
					b.Ack(tc.lateAckB)
				}()
			}
			if got := rig.m.Wait(context.Background(), tc.waitOff, tc.num, tc.timeout); got != tc.want {
				t.Fatalf("WAIT %d from offset %d = %d, want %d", tc.num, tc.waitOff, got, tc.want)
			}
			if fed := rig.m.Offset() - before; (fed == int64(len(GetAckCmd))) != tc.getAckFed {
				t.Fatalf("the stream grew by %d bytes; GETACK expected: %v", fed, tc.getAckFed)
			}
		})
	}
}

// TestMasterCronByClock: with the master's clock, a replica's lag is the time since its
// last ACK; min-replicas-to-write counts the replicas whose lag is at most
// min-replicas-max-lag; a replica silent for repl-timeout is dropped.
func TestMasterCronByClock(t *testing.T) {
	set := DefaultSettings()
	set.MinReplicas, set.MinReplicasLag, set.Timeout = 1, 10*time.Second, 60*time.Second
	rig := newTestMaster(t, set)
	l, conn := rig.connect(1, true, true, rig.newID, 1101)
	eventually(t, "the link online", func() bool { return l.State() == "online" })
	l.Ack(1100)
	rig.m.Cron()
	if !rig.m.WriteAllowed() || rig.m.GoodReplicas() != 1 {
		t.Fatalf("one fresh replica: write allowed %v, good replicas %d", rig.m.WriteAllowed(), rig.m.GoodReplicas())
	}
	for _, step := range []struct {
		advance time.Duration
		lag     int64
		allowed bool
		dropped bool
	}{
		{advance: 10 * time.Second, lag: 10, allowed: true},
		{advance: time.Second, lag: 11, allowed: false},
		{advance: 49 * time.Second, lag: 60, allowed: false},
		{advance: time.Second, lag: 61, allowed: false, dropped: true},
	} {
		rig.clock.Advance(step.advance)
		if got := l.Lag(); got != step.lag {
			t.Fatalf("lag %d, want %d", got, step.lag)
		}
		rig.m.Cron()
		if rig.m.WriteAllowed() != step.allowed {
			t.Fatalf("at lag %d write allowed %v, want %v", step.lag, !step.allowed, step.allowed)
		}
		if conn.isClosed() != step.dropped {
			t.Fatalf("at lag %d the replica dropped: %v, want %v", step.lag, conn.isClosed(), step.dropped)
		}
	}
	if !rig.log.has("Disconnecting timedout replica (streaming sync): 10.0.0.1:6379") {
		t.Fatal("the timeout was not logged")
	}
}
