package repl

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	testReplID  = "1111111111111111111111111111111111111111"
	testReplID2 = "2222222222222222222222222222222222222222"
	testMark    = "abcdefghijabcdefghijabcdefghijabcdefghij"
	pingStream  = "*1\r\n$4\r\nPING\r\n"
)

// replicaRig is a replica side under test with its fakes.
type replicaRig struct {
	r       *Replica
	m       *Master
	dialer  *pipeDialer
	clock   *fakeClock
	loader  *recordLoader
	applier *recordApplier
	log     *fakeLog
}

func startTestReplica(t *testing.T, set ReplicaSettings) *replicaRig {
	t.Helper()
	clock, log := newFakeClock(), &fakeLog{}
	rig := &replicaRig{dialer: newPipeDialer(), clock: clock, loader: &recordLoader{},
		applier: &recordApplier{}, log: log}
	rig.m = NewMaster(nil, nil, DefaultSettings, clock, log)
	rig.m.Demote()
	if set.RetryDelay == 0 {
		set.RetryDelay = time.Millisecond
	}
	rig.r = StartReplica(ReplicaConfig{Host: "127.0.0.1", Port: 6379, Master: rig.m, Dialer: rig.dialer,
		Clock: clock, Loader: rig.loader, Applier: rig.applier, Settings: func() ReplicaSettings { return set },
		Log: log})
	t.Cleanup(rig.r.Stop)
	return rig
}

// handshake plays the master's side of the handshake up to PSYNC, checking every command
// the replica sends, and returns the PSYNC arguments.
func (rig *replicaRig) handshake(t *testing.T, me *masterEnd) (replID, offset string) {
	t.Helper()
	me.expect("PING")
	me.send("+PONG\r\n")
	me.expect("REPLCONF", "listening-port", "7000")
	me.send("+OK\r\n")
	me.expect("REPLCONF", "capa", "eof", "capa", "psync2")
	me.send("+OK\r\n")
	cmd, err := me.next()
	if err != nil || len(cmd) != 3 || cmd[0] != "PSYNC" {
		t.Fatalf("expected PSYNC, got %q (%v)", cmd, err)
	}
	return cmd[1], cmd[2]
}

// TestReplicaHandshake checks the commands a replica sends before PSYNC, in order, and
// how it takes the master's replies (replicaofCommand → syncWithMaster).
func TestReplicaHandshake(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  ReplicaSettings
		// steps alternate: the command the replica must send, the master's reply.
		steps []string
		// failsWith is the log line that ends the attempt ("" when it reaches PSYNC).
		failsWith string
	}{
		{name: "no auth", set: ReplicaSettings{ListeningPort: 7000},
			steps: []string{"PING", "+PONG", "REPLCONF listening-port 7000", "+OK",
				"REPLCONF capa eof capa psync2", "+OK", "PSYNC ? -1", ""}},
		{name: "masterauth", set: ReplicaSettings{ListeningPort: 7000, MasterAuth: "pw"},
			steps: []string{"PING", "-NOAUTH Authentication required.", "AUTH pw", "+OK",
				"REPLCONF listening-port 7000", "+OK", "REPLCONF capa eof capa psync2", "+OK", "PSYNC ? -1", ""}},
		{name: "masteruser", set: ReplicaSettings{ListeningPort: 7001, MasterUser: "repl", MasterAuth: "pw"},
			steps: []string{"PING", "+PONG", "AUTH repl pw", "+OK", "REPLCONF listening-port 7001", "+OK",
				"REPLCONF capa eof capa psync2", "+OK", "PSYNC ? -1", ""}},
		{name: "announce ip and an old master", set: ReplicaSettings{ListeningPort: 7000, AnnounceIP: "10.1.2.3"},
			steps: []string{"PING", "+PONG", "REPLCONF listening-port 7000", "-ERR unknown command",
				"REPLCONF ip-address 10.1.2.3", "+OK", "REPLCONF capa eof capa psync2", "-ERR unknown option",
				"PSYNC ? -1", ""}},
		{name: "ping error", set: ReplicaSettings{ListeningPort: 7000},
			steps:     []string{"PING", "-ERR something else"},
			failsWith: "Error reply to PING from master: '-ERR something else'"},
		{name: "auth refused", set: ReplicaSettings{ListeningPort: 7000, MasterAuth: "bad"},
			steps:     []string{"PING", "+PONG", "AUTH bad", "-WRONGPASS invalid username-password pair or user is disabled."},
			failsWith: "Unable to AUTH to MASTER: -WRONGPASS"},
		{name: "psync refused", set: ReplicaSettings{ListeningPort: 7000},
			steps: []string{"PING", "+PONG", "REPLCONF listening-port 7000", "+OK",
				"REPLCONF capa eof capa psync2", "+OK", "PSYNC ? -1", "-NOMASTERLINK Can't SYNC while not connected with my master"},
			failsWith: "Unexpected reply to PSYNC from master: -NOMASTERLINK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := startTestReplica(t, tc.set)
			me := rig.dialer.accept(t)
			if addr := <-rig.dialer.addrs; addr != "127.0.0.1:6379" {
				t.Fatalf("dialed %s", addr)
			}
			if st := rig.r.RoleState(); st != "handshake" && st != "connecting" {
				t.Fatalf("ROLE state during the handshake: %s", st)
			}
			for i := 0; i < len(tc.steps); i += 2 {
				me.expect(strings.Fields(tc.steps[i])...)
				if i+1 < len(tc.steps) && tc.steps[i+1] != "" {
					me.send(tc.steps[i+1] + "\r\n")
				}
			}
			if tc.failsWith != "" {
				eventually(t, "the log line "+tc.failsWith, func() bool { return rig.log.has(tc.failsWith) })
				if !me.closed(5 * time.Second) {
					t.Fatal("the replica kept the connection after a failed handshake")
				}
				rig.dialer.accept(t) // it tries again
				return
			}
			if st := rig.r.RoleState(); st != "handshake" {
				t.Fatalf("ROLE state while waiting for PSYNC's reply: %s", st)
			}
		})
	}
}

// TestReplicaFullThenPartialResync: a full resync in each framing loads exactly the
// payload and adopts the master's ID and offset; the stream's bytes advance the offset;
// after the link breaks, PSYNC asks to continue from offset+1, and +CONTINUE keeps the
// data (with a new ID, the old one becomes replid2 up to where they diverged).
func TestReplicaFullThenPartialResync(t *testing.T) {
	const rdb = "REDIS0010 not really an rdb, but the loader takes any bytes"
	for _, tc := range []struct {
		name      string
		payload   string
		continue_ string
		wantID    string
		wantID2   string
	}{
		{name: "length framing, same ID", payload: "$" + strconv.Itoa(len(rdb)) + "\r\n" + rdb,
			continue_: "+CONTINUE " + testReplID, wantID: testReplID, wantID2: zeroID},
		{name: "EOF framing, new ID", payload: "\n\n$EOF:" + testMark + "\r\n" + rdb + testMark,
			continue_: "+CONTINUE " + testReplID2, wantID: testReplID2, wantID2: testReplID},
		{name: "length framing, old master without psync2", payload: "$" + strconv.Itoa(len(rdb)) + "\r\n" + rdb,
			continue_: "+CONTINUE", wantID: testReplID, wantID2: zeroID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := startTestReplica(t, ReplicaSettings{ListeningPort: 7000, Timeout: time.Minute})
			me := rig.dialer.accept(t)
			if id, off := rig.handshake(t, me); id != "?" || off != "-1" {
				t.Fatalf("first PSYNC %s %s, want ? -1", id, off)
			}
			me.send("+FULLRESYNC " + testReplID + " 1000\r\n" + tc.payload)
			me.expect("REPLCONF", "ACK", "1000")
			if loads := rig.loader.all(); len(loads) != 1 || string(loads[0]) != rdb {
				t.Fatalf("loader got %q, want the payload %q", loads, rdb)
			}
			if id, _, _ := rig.m.ID(); id != testReplID || rig.m.Offset() != 1000 || !rig.r.Connected() {
				t.Fatalf("after the full sync: ID %s offset %d connected %v", id, rig.m.Offset(), rig.r.Connected())
			}
			stream := pingStream + "*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
			me.send(stream)
			want := int64(1000 + len(stream))
			eventually(t, "the stream to be applied", func() bool { return rig.m.Offset() == want })
			if got := strings.Join(rig.applier.applied(), ";"); got != "PING;SELECT 1;SET k v" {
				t.Fatalf("applied %s", got)
			}

			me.conn.Close() // the link breaks
			me = rig.dialer.accept(t)
			if id, off := rig.handshake(t, me); id != testReplID || off != strconv.FormatInt(want+1, 10) {
				t.Fatalf("PSYNC %s %s after the link broke, want %s %d", id, off, testReplID, want+1)
			}
			me.send(tc.continue_ + "\r\n")
			me.expect("REPLCONF", "ACK", strconv.FormatInt(want, 10))
			me.send(pingStream)
			eventually(t, "the continued stream", func() bool { return rig.m.Offset() == want+int64(len(pingStream)) })
			id, id2, second := rig.m.ID()
			if id != tc.wantID || id2 != tc.wantID2 {
				t.Fatalf("IDs after +CONTINUE: %s %s, want %s %s", id, id2, tc.wantID, tc.wantID2)
			}
			if tc.wantID2 != zeroID && second != want+1 {
				t.Fatalf("second_repl_offset %d, want %d", second, want+1)
			}
			if n := len(rig.loader.all()); n != 1 {
				t.Fatalf("a partial resync loaded an RDB (%d loads)", n)
			}
		})
	}
}

// TestReplicaTimesOutSilentMaster: Cron drops a master that sent nothing for
// repl-timeout by the replica's clock, in the handshake, the transfer and the stream,
// and only then; while streaming it acknowledges the offset every second instead.
func TestReplicaTimesOutSilentMaster(t *testing.T) {
	const timeout = 60 * time.Second
	for _, tc := range []struct {
		name  string
		reach func(t *testing.T, rig *replicaRig, me *masterEnd)
		state string
		log   string
	}{
		{name: "handshake", state: "handshake", log: "Timeout connecting to the MASTER...",
			reach: func(t *testing.T, rig *replicaRig, me *masterEnd) { me.expect("PING") }},
		{name: "transfer", state: "sync", log: "Timeout receiving bulk data from MASTER...",
			reach: func(t *testing.T, rig *replicaRig, me *masterEnd) {
				rig.handshake(t, me)
				me.send("+FULLRESYNC " + testReplID + " 0\r\n$100\r\nREDIS0010")
			}},
		{name: "stream", state: "connected", log: "MASTER timeout: no data nor PING received...",
			reach: func(t *testing.T, rig *replicaRig, me *masterEnd) {
				rig.handshake(t, me)
				me.send("+FULLRESYNC " + testReplID + " 0\r\n$3\r\nRDB")
				me.expect("REPLCONF", "ACK", "0")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := startTestReplica(t, ReplicaSettings{ListeningPort: 7000, Timeout: timeout})
			me := rig.dialer.accept(t)
			tc.reach(t, rig, me)
			eventually(t, "state "+tc.state, func() bool { return rig.r.RoleState() == tc.state })
			rig.clock.Advance(timeout)
			// The pipe has no buffer: Cron's ACK waits for the test to read it.
			done := make(chan struct{})
			go func() { defer close(done); rig.r.Cron() }()
			if tc.state == "connected" {
				me.expect("REPLCONF", "ACK", "0") // the cron's ACK, not a drop
			}
			<-done
			if me.closed(20 * time.Millisecond) {
				t.Fatal("dropped the master at exactly repl-timeout")
			}
			rig.clock.Advance(time.Second)
			rig.r.Cron()
			if !me.closed(5 * time.Second) {
				t.Fatal("kept a master silent for longer than repl-timeout")
			}
			if !rig.log.has(tc.log) {
				t.Fatalf("no %q in the log", tc.log)
			}
			rig.dialer.accept(t) // and it reconnects
		})
	}
}
