package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clusterctl/clusterctl/node/command"
	"github.com/clusterctl/clusterctl/node/config"
	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/persist/rdb"
	"github.com/clusterctl/clusterctl/node/persist/snapshot"
	"github.com/clusterctl/clusterctl/node/repl"
)

// Replication: the commands of both sides (PSYNC, SYNC, REPLCONF, WAIT, ROLE, REPLICAOF),
// INFO replication, and the hooks through which the rest of the server obeys the role
// (read-only replicas, min-replicas-to-write, loading). The protocol itself is package
// repl's.

// replicationState is the server's replication bookkeeping.
type replicationState struct {
	master *repl.Master

	// mu guards links and serialises role changes.
	mu sync.Mutex
	// links are the replicas' connections, by client ID, from their first REPLCONF or
	// PSYNC on.
	links map[int64]*repl.Link
	// replica follows a master; nil while this node is a master. Read on every command.
	replica atomic.Pointer[repl.Replica]
	// loading is set while a full sync replaces the data set: clients get -LOADING.
	loading atomic.Bool
	// lastCron is when replicationCron last ran (unix seconds).
	lastCron int64
}

func (s *Server) initReplication() {
	s.repl.links = map[int64]*repl.Link{}
	s.repl.master = repl.NewMaster(s.ks.Stream(), snapshotter{s}, s.replSettings, repl.SystemClock{}, s.log)
	s.cfg.OnSet("repl-backlog-size", func(string) error {
		s.repl.master.SetBacklogSize(s.cfg.Int("repl-backlog-size"))
		return nil
	})
	for _, name := range []string{"min-replicas-to-write", "min-replicas-max-lag"} {
		s.cfg.OnSet(name, func(string) error { s.repl.master.RefreshGoodReplicas(); return nil })
	}
}

// startReplication follows the master replicaof names, once the server listens.
func (s *Server) startReplication() {
	if host, port, ok := s.cfg.ReplicaOf(); ok && !s.cfg.Bool("cluster-enabled") {
		s.follow(host, port)
	}
}

// stopReplication disconnects from the master and from the replicas at shutdown.
func (s *Server) stopReplication() {
	s.repl.mu.Lock()
	r := s.repl.replica.Load()
	s.repl.mu.Unlock()
	if r != nil {
		r.Stop()
	}
	s.repl.master.Close()
}

// replSettings reads the master-side settings from the configuration.
func (s *Server) replSettings() repl.Settings {
	cfg := s.cfg
	sec := func(name string) time.Duration { return time.Duration(cfg.Int(name)) * time.Second }
	lim := cfg.OutputBufferLimit(config.ClassReplica)
	return repl.Settings{
		BacklogSize:     cfg.Int("repl-backlog-size"),
		BacklogTTL:      sec("repl-backlog-ttl"),
		DisklessSync:    cfg.Bool("repl-diskless-sync"),
		DisklessDelay:   sec("repl-diskless-sync-delay"),
		PingPeriod:      sec("repl-ping-replica-period"),
		Timeout:         sec("repl-timeout"),
		MinReplicas:     int(cfg.Int("min-replicas-to-write")),
		MinReplicasLag:  sec("min-replicas-max-lag"),
		OutputHardLimit: int64(lim.Hard),
		OutputSoftLimit: int64(lim.Soft),
		OutputSoftTime:  time.Duration(lim.SoftSeconds) * time.Second,
		TempDir:         ".",
	}
}

// snapshotter writes the RDB of a full sync with package snapshot. The keyspace allows
// one point-in-time view at a time, so a sync that finds a BGSAVE running waits for it.
type snapshotter struct{ s *Server }

func (sn snapshotter) Snapshot(ctx context.Context, w io.Writer, at func() repl.ReplState) error {
	s := sn.s
	opts := s.snapshotOptions()
	opts.Progress = nil
	opts.Repl = func() *rdb.ReplAux {
		st := at()
		return &rdb.ReplAux{ReplID: st.ReplID, Offset: st.Offset, StreamDB: st.DB}
	}
	release := s.cores.borrow()
	defer release()
	for {
		_, err := snapshot.Write(ctx, s.ks, w, opts)
		if !errors.Is(err, keyspace.ErrPointInTimeOpen) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) registerReplicationCommands() {
	t := s.table
	t.Register("psync", s.cmdPSync)
	t.Register("sync", s.cmdPSync)
	t.Register("replconf", s.cmdReplconf)
	t.Register("wait", s.cmdWait)
	t.Register("role", s.cmdRole)
	t.Register("replicaof", s.cmdReplicaOf)
	t.Register("slaveof", s.cmdReplicaOf)
}

// linkOf returns the replica link of a client, creating it on first use.
func (s *Server) linkOf(cl *client) *repl.Link {
	s.repl.mu.Lock()
	defer s.repl.mu.Unlock()
	l := s.repl.links[cl.id]
	if l == nil {
		ip, _, _ := net.SplitHostPort(cl.addr)
		l = s.repl.master.NewLink(cl.conn, cl.id, ip)
		s.repl.links[cl.id] = l
	}
	return l
}

// forgetLink drops a client's replica link when the client goes away.
func (s *Server) forgetLink(cl *client) {
	s.repl.mu.Lock()
	l := s.repl.links[cl.id]
	delete(s.repl.links, cl.id)
	s.repl.mu.Unlock()
	if l != nil {
		l.Close()
	}
}

// cmdPSync is PSYNC replid offset and SYNC (syncCommand): the connection becomes a
// replica's, fed by package repl from now on; its own replies are dropped.
func (s *Server) cmdPSync(c *command.Ctx) {
	cl := client0(c)
	if cl.hasFlag(flagReplica) {
		return
	}
	if r := s.replicaSide(); r != nil && !r.Connected() {
		c.Error("NOMASTERLINK Can't SYNC while not connected with my master")
		return
	}
	psync := command.Is(c.Argv[0], "psync")
	replID, offset := "", int64(0)
	if psync {
		n, err := strconv.ParseInt(string(c.Argv[2]), 10, 64)
		if err != nil {
			c.Error(command.ErrNotInt)
			return
		}
		replID, offset = string(c.Argv[1]), n
	}
	l := s.linkOf(cl)
	cl.setFlag(flagReplica|flagReplyOff, true)
	s.log.Noticef("Replica %s asks for synchronization", l.Addr()+":"+strconv.Itoa(l.ListeningPort))
	s.repl.master.PSync(l, replID, offset, psync)
}

// cmdReplconf is REPLCONF option value ... (replconfCommand).
func (s *Server) cmdReplconf(c *command.Ctx) {
	if len(c.Argv)%2 == 0 {
		c.Error(command.ErrSyntax)
		return
	}
	cl := client0(c)
	for j := 1; j < len(c.Argv); j += 2 {
		opt, val := strings.ToLower(string(c.Argv[j])), string(c.Argv[j+1])
		switch opt {
		case "listening-port":
			port, err := strconv.Atoi(val)
			if err != nil {
				c.Error(command.ErrNotInt)
				return
			}
			s.linkOf(cl).ListeningPort = port
		case "ip-address":
			if len(val) >= 46 {
				c.Error("ERR REPLCONF ip-address provided by replica instance is too long: " + strconv.Itoa(len(val)) + " bytes")
				return
			}
			s.linkOf(cl).AnnouncedIP = val
		case "capa":
			l := s.linkOf(cl)
			switch strings.ToLower(val) {
			case "eof":
				l.CapaEOF = true
			case "psync2":
				l.CapaPSync2 = true
			}
		case "ack":
			// A replica reports its offset; no reply (it would corrupt the stream the
			// replica reads).
			if !cl.hasFlag(flagReplica) {
				return
			}
			off, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return
			}
			s.linkOf(cl).Ack(off)
			return
		case "getack":
			// The master asks for an ACK now; only meaningful from our master.
			if r := s.replicaSide(); r != nil && cl.hasFlag(flagMaster) {
				r.SendAck()
			}
			return
		case "rdb-only", "rdb-filter-only":
		default:
			c.Error("ERR Unrecognized REPLCONF option: " + string(c.Argv[j]))
			return
		}
	}
	c.W.OK()
}

// cmdWait is WAIT numreplicas timeout.
func (s *Server) cmdWait(c *command.Ctx) {
	if s.replicaSide() != nil {
		c.Error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
		return
	}
	num, err := strconv.ParseInt(string(c.Argv[1]), 10, 64)
	if err != nil {
		c.Error(command.ErrNotInt)
		return
	}
	ms, err := strconv.ParseInt(string(c.Argv[2]), 10, 64)
	if err != nil {
		c.Error("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.Error("ERR timeout is negative")
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.shutdownCh:
			cancel()
		case <-ctx.Done():
		}
	}()
	m := s.repl.master
	c.W.Int(int64(m.Wait(ctx, client0(c).woff, int(num), time.Duration(ms)*time.Millisecond)))
}

// cmdRole is ROLE.
func (s *Server) cmdRole(c *command.Ctx) {
	m := s.repl.master
	if r := s.replicaSide(); r != nil {
		host, port := r.MasterAddr()
		c.W.ArrayLen(5)
		c.W.BulkString("slave")
		c.W.BulkString(host)
		c.W.Int(int64(port))
		c.W.BulkString(r.RoleState())
		off := int64(-1)
		if r.Connected() {
			off = m.Offset()
		}
		c.W.Int(off)
		return
	}
	links := s.onlineLinks()
	c.W.ArrayLen(3)
	c.W.BulkString("master")
	c.W.Int(m.Offset())
	c.W.ArrayLen(len(links))
	for _, l := range links {
		c.W.ArrayLen(3)
		c.W.BulkString(l.Addr())
		c.W.BulkString(strconv.Itoa(l.Port()))
		c.W.BulkString(strconv.FormatInt(l.AckOffset(), 10))
	}
}

// onlineLinks returns the replicas past their handshake, in connection order.
func (s *Server) onlineLinks() []*repl.Link {
	links := s.repl.master.Links()
	for i := 1; i < len(links); i++ {
		for j := i; j > 0 && links[j].ID < links[j-1].ID; j-- {
			links[j], links[j-1] = links[j-1], links[j]
		}
	}
	return links
}

// replicaSide returns the replica side when this node follows a master, else nil.
func (s *Server) replicaSide() *repl.Replica { return s.repl.replica.Load() }

// replicationCron runs the replication housekeeping once a second.
func (s *Server) replicationCron(now time.Time) {
	if now.Unix() == s.repl.lastCron {
		return
	}
	s.repl.lastCron = now.Unix()
	s.repl.master.Cron()
	if r := s.replicaSide(); r != nil {
		r.Cron()
	}
}

// replRefusal returns the error a command gets from this node's replication state, ""
// when it may run (processCommand's checks, in Redis's order): a master without enough
// good replicas refuses writes when min-replicas-to-write asks for them; a read-only
// replica refuses clients' writes; a replica whose link is down serves only "stale"
// commands when replica-serve-stale-data is no; while a full sync loads, only "loading"
// commands run.
func (s *Server) replRefusal(c *client, cmd *command.Command) string {
	r := s.repl.replica.Load()
	if r == nil {
		if cmd.IsWrite() && !s.repl.master.WriteAllowed() {
			return "NOREPLICAS Not enough good replicas to write."
		}
		return ""
	}
	if c.hasFlag(flagMaster) {
		return ""
	}
	if cmd.IsWrite() && s.cfg.Bool("replica-read-only") {
		return "READONLY You can't write against a read only replica."
	}
	if !r.Connected() && !s.cfg.Bool("replica-serve-stale-data") && !cmd.Has(command.FlagStale) {
		return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
	}
	if s.repl.loading.Load() && !cmd.Has(command.FlagLoading) {
		return "LOADING Redis is loading the dataset in memory"
	}
	return ""
}

// cmdReplicaOf is REPLICAOF/SLAVEOF host port | NO ONE (replicaofCommand).
func (s *Server) cmdReplicaOf(c *command.Ctx) {
	if s.cfg.Bool("cluster-enabled") {
		c.Error("ERR REPLICAOF not allowed in cluster mode.")
		return
	}
	who := client0(c).String()
	if command.Is(c.Argv[1], "no") && command.Is(c.Argv[2], "one") {
		if s.stopFollowing() {
			s.log.Noticef("MASTER MODE enabled (user request from '%s')", who)
		}
		c.W.OK()
		return
	}
	port, err := strconv.ParseInt(string(c.Argv[2]), 10, 64)
	if err != nil {
		c.Error(command.ErrNotInt)
		return
	}
	if port < 0 || port > 65535 {
		c.Error("ERR Invalid master port")
		return
	}
	host := string(c.Argv[1])
	if r := s.replicaSide(); r != nil {
		if h, p := r.MasterAddr(); strings.EqualFold(h, host) && p == int(port) {
			s.log.Noticef("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.")
			c.W.Simple("OK Already connected to specified master")
			return
		}
	}
	s.follow(host, int(port))
	s.log.Noticef("REPLICAOF %s:%d enabled (user request from '%s')", host, port, who)
	c.W.OK()
}

// follow makes this node a replica of host:port (replicationSetMaster).
func (s *Server) follow(host string, port int) {
	s.repl.mu.Lock()
	defer s.repl.mu.Unlock()
	if old := s.repl.replica.Load(); old != nil {
		old.Stop()
	} else {
		s.repl.master.Demote()
	}
	r := repl.StartReplica(repl.ReplicaConfig{
		Host: host, Port: port, Master: s.repl.master, Dialer: &net.Dialer{}, Clock: repl.SystemClock{},
		Loader: rdbLoader{s}, Applier: &masterClient{s: s}, Settings: s.replicaSettings, Log: s.log,
	})
	s.repl.replica.Store(r)
}

// stopFollowing turns a replica into a master (replicationUnsetMaster) and reports
// whether it was one.
func (s *Server) stopFollowing() bool {
	s.repl.mu.Lock()
	defer s.repl.mu.Unlock()
	r := s.repl.replica.Load()
	if r == nil {
		return false
	}
	r.Stop()
	s.repl.replica.Store(nil)
	s.repl.master.Promote()
	return true
}

func (s *Server) replicaSettings() repl.ReplicaSettings {
	cfg := s.cfg
	port := int(cfg.Int("replica-announce-port"))
	if port == 0 {
		port = s.port
	}
	return repl.ReplicaSettings{
		MasterUser: cfg.String("masteruser"), MasterAuth: cfg.String("masterauth"),
		ListeningPort: port, AnnounceIP: cfg.String("replica-announce-ip"),
		Timeout: time.Duration(cfg.Int("repl-timeout")) * time.Second, RetryDelay: time.Second,
	}
}

// rdbLoader loads a full sync's RDB: the old data set is flushed and the new one loaded
// with every shard locked, clients getting -LOADING meanwhile, so none sees a torn data
// set.
type rdbLoader struct{ s *Server }

func (l rdbLoader) LoadRDB(r io.Reader) error {
	s := l.s
	s.repl.loading.Store(true)
	defer s.repl.loading.Store(false)
	start := time.Now()
	s.ks.FlushAll()
	res, err := snapshot.Load(s.ks, rdb.NewDecoder(bufio.NewReaderSize(r, 1<<20)), snapshot.LoadOptions{
		Limits: s.loadLimits(), Now: time.Now().UnixMilli(), KeepExpired: true,
	})
	if err != nil {
		return err
	}
	s.log.Noticef("Done loading RDB, keys loaded: %d, keys expired: %d.", res.Keys, res.Expired)
	s.log.Noticef("MASTER <-> REPLICA sync: Loaded %d keys in %.3f seconds", res.Keys, time.Since(start).Seconds())
	return nil
}

// masterClient applies the master's stream as Redis's master client does: every command
// runs without reply and without the checks clients' commands get. It shows in CLIENT
// LIST with flag M, and CLIENT KILL TYPE master drops the link.
type masterClient struct {
	s *Server
	c *client
	// queued holds a MULTI's commands until EXEC, which runs them in a row.
	queued  [][][]byte
	inMulti bool
	// db is the database the stream had selected when the last connection ended: a
	// partial resync continues the stream without a SELECT, as Redis keeps its cached
	// master client's database.
	db int
}

func (m *masterClient) StreamStarted(conn net.Conn) {
	s := m.s
	c := s.newClient(conn)
	c.setFlag(flagMaster|flagReplyOff, true)
	c.user.Store(nil)
	c.ctx.DB.Index = m.db
	c.db.Store(int32(m.db))
	s.clientsMu.Lock()
	s.clients[c.id] = c
	s.clientsMu.Unlock()
	m.c = c
	m.queued, m.inMulti = nil, false
}

func (m *masterClient) StreamEnded() {
	m.db = m.c.ctx.DB.Index
	m.s.unlinkClient(m.c)
}

func (m *masterClient) Apply(argv [][]byte) {
	switch {
	case command.Is(argv[0], "multi"):
		m.inMulti, m.queued = true, m.queued[:0]
		return
	case command.Is(argv[0], "exec") && m.inMulti:
		m.inMulti = false
		for _, a := range m.queued {
			m.run(a)
		}
		m.queued = m.queued[:0]
		return
	case m.inMulti:
		cp := make([][]byte, len(argv))
		for i, a := range argv {
			cp[i] = append([]byte(nil), a...)
		}
		m.queued = append(m.queued, cp)
		return
	}
	m.run(argv)
}

// run executes one command of the stream, whatever it replies.
func (m *masterClient) run(argv [][]byte) {
	s, c := m.s, m.c
	cmd := s.table.Lookup(argv[0])
	if cmd != nil && cmd.Subcommands != nil && len(argv) >= 2 {
		cmd = cmd.LookupSub(argv[1])
	}
	if cmd == nil || (cmd.Arity > 0 && cmd.Arity != len(argv)) || len(argv) < -cmd.Arity {
		s.log.Warningf("== CRITICAL == This replica is sending an error to its master: 'unknown command or wrong arity' after processing the command '%s'",
			sanitizeArg(argv[0]))
		return
	}
	defer func() {
		if r := recover(); r != nil {
			s.panics.Add(1)
			s.log.Warningf("Panic applying '%s' from the master: %v", sanitizeArg(argv[0]), r)
		}
		c.w.Reset()
	}()
	c.clock = s.monoNow()
	s.call(c, cmd, argv)
}

// infoReplication is INFO's replication section (genRedisInfoString).
func (s *Server) infoReplication(b *strings.Builder) {
	m := s.repl.master
	if r := s.replicaSide(); r != nil {
		r.Info(b, s.cfg.Int("replica-priority"), s.cfg.Bool("replica-read-only"), s.cfg.Bool("replica-announced"))
	} else {
		field(b, "role", "master")
	}
	links := s.onlineLinks()
	field(b, "connected_slaves", len(links))
	if s.replicaSide() == nil && s.cfg.Int("min-replicas-to-write") > 0 && s.cfg.Int("min-replicas-max-lag") > 0 {
		field(b, "min_slaves_good_slaves", m.GoodReplicas())
	}
	for i, l := range links {
		fmt.Fprintf(b, "slave%d:ip=%s,port=%d,state=%s,offset=%d,lag=%d\r\n",
			i, l.Addr(), l.Port(), l.State(), l.AckOffset(), l.Lag())
	}
	id, id2, second := m.ID()
	active, size, first, histlen := m.BacklogInfo()
	field(b, "master_failover_state", "no-failover")
	field(b, "master_replid", id)
	field(b, "master_replid2", id2)
	field(b, "master_repl_offset", m.Offset())
	field(b, "second_repl_offset", second)
	field(b, "repl_backlog_active", b2i(active))
	field(b, "repl_backlog_size", size)
	field(b, "repl_backlog_first_byte_offset", first)
	field(b, "repl_backlog_histlen", histlen)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
