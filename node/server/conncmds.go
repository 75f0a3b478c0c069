package server

import (
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/node/command"
	"github.com/clusterctl/clusterctl/node/resp"
)

func (s *Server) registerServerCommands() {
	t := s.table
	t.Register("auth", s.cmdAuth)
	t.Register("hello", s.cmdHello)
	t.Register("quit", func(c *command.Ctx) { c.W.OK(); client0(c).closeAfterReply = true })
	t.Register("reset", s.cmdReset)
	t.Register("client|id", func(c *command.Ctx) { c.W.Int(client0(c).id) })
	t.Register("client|getname", s.cmdClientGetName)
	t.Register("client|setname", s.cmdClientSetName)
	t.Register("client|list", s.cmdClientList)
	t.Register("client|info", func(c *command.Ctx) { c.W.Verbatim("txt", s.clientInfo(client0(c))+"\n") })
	t.Register("client|kill", s.cmdClientKill)
	t.Register("client|pause", s.cmdClientPause)
	t.Register("client|unpause", func(c *command.Ctx) { s.pause.unpause(); c.W.OK() })
	t.Register("client|no-evict", s.cmdClientNoEvict)
	t.Register("client|reply", s.cmdClientReply)
	t.Register("client|help", func(c *command.Ctx) { command.ReplyHelp(c, clientHelp) })
	s.registerAdminCommands()
}

// client0 returns the server's client behind a command context.
func client0(c *command.Ctx) *client { return c.Conn.(*client) }

var clientHelp = []string{
	"GETNAME",
	"    Return the name of the current connection.",
	"ID",
	"    Return the ID of the current connection.",
	"INFO",
	"    Return information about the current client connection.",
	"KILL <ip:port>",
	"    Kill connection made from <ip:port>.",
	"KILL <option> <value> [<option> <value> [...]]",
	"    Kill connections. Options are:",
	"    * ADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made from the specified address",
	"    * LADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made to specified local address",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Kill connections by type.",
	"    * USER <username>",
	"      Kill connections authenticated by <username>.",
	"    * SKIPME (YES|NO)",
	"      Skip killing current connection (default: yes).",
	"LIST [options ...]",
	"    Return information about client connections. Options:",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Return clients of specified type.",
	"UNPAUSE",
	"    Stop the current client pause, resuming traffic.",
	"PAUSE <timeout> [WRITE|ALL]",
	"    Suspend all, or just write, clients for <timeout> milliseconds.",
	"REPLY (ON|OFF|SKIP)",
	"    Control the replies sent to the current connection.",
	"SETNAME <name>",
	"    Assign the name <name> to the current connection.",
	"NO-EVICT (ON|OFF)",
	"    Protect current client connection from eviction.",
}

const errWrongPass = "WRONGPASS invalid username-password pair or user is disabled."

func (s *Server) cmdAuth(c *command.Ctx) {
	cl := client0(c)
	if len(c.Argv) > 3 {
		c.Error(command.ErrSyntax)
		return
	}
	name, pass := "default", string(c.Argv[1])
	if len(c.Argv) == 3 {
		name, pass = string(c.Argv[1]), string(c.Argv[2])
	} else if s.acl.defaultUserNoPass() {
		c.Error("ERR AUTH <password> called without any password configured for the default user. " +
			"Are you sure your configuration is correct?")
		return
	}
	u := s.acl.authenticate(name, pass)
	if u == nil {
		s.log.Verbosef("Authentication failed for user '%s' from %s", name, cl.addr)
		c.Error(errWrongPass)
		return
	}
	cl.user.Store(u)
	c.W.OK()
}

func (s *Server) cmdHello(c *command.Ctx) {
	cl := client0(c)
	var ver int64
	next := 1
	if len(c.Argv) >= 2 {
		var ok bool
		ver, ok = resp.ParseInt(c.Argv[1])
		if !ok {
			c.Error("ERR Protocol version is not an integer or out of range")
			return
		}
		next = 2
		if ver < 2 || ver > 3 {
			c.Error("NOPROTO unsupported protocol version")
			return
		}
	}
	for j := next; j < len(c.Argv); j++ {
		more := len(c.Argv) - 1 - j
		switch {
		case command.Is(c.Argv[j], "auth") && more >= 2:
			u := s.acl.authenticate(string(c.Argv[j+1]), string(c.Argv[j+2]))
			if u == nil {
				c.Error(errWrongPass)
				return
			}
			cl.user.Store(u)
			j += 2
		case command.Is(c.Argv[j], "setname") && more >= 1:
			if !validClientName(c.Argv[j+1]) {
				c.Error(errClientName)
				return
			}
			setClientName(cl, c.Argv[j+1])
			j++
		default:
			c.Error("ERR Syntax error in HELLO option '" + string(c.Argv[j]) + "'")
			return
		}
	}
	if cl.user.Load() == nil {
		c.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the " +
			"HELLO AUTH <user> <pass> option can be used to authenticate the client and select " +
			"the RESP protocol version at the same time")
		return
	}
	if ver != 0 {
		cl.proto.Store(int32(ver))
		c.W.Proto = int(ver)
	}
	mode := "standalone"
	if s.cfg.Bool("cluster-enabled") {
		mode = "cluster"
	}
	c.W.MapLen(7)
	c.W.BulkString("server")
	c.W.BulkString("redis")
	c.W.BulkString("version")
	c.W.BulkString(Version)
	c.W.BulkString("proto")
	c.W.Int(int64(cl.proto.Load()))
	c.W.BulkString("id")
	c.W.Int(cl.id)
	c.W.BulkString("mode")
	c.W.BulkString(mode)
	c.W.BulkString("role")
	c.W.BulkString("master")
	c.W.BulkString("modules")
	c.W.ArrayLen(0)
}

// cmdReset returns the connection to its initial state (resetCommand): RESP2, database 0,
// no name, replies on, out of MONITOR, and authenticated as default only when the default
// user needs no password.
func (s *Server) cmdReset(c *command.Ctx) {
	cl := client0(c)
	if cl.multi != nil {
		s.discardTransaction(cl)
	}
	s.unwatchAll(cl)
	s.resetSubscriptions(cl)
	cl.proto.Store(2)
	c.W.Proto = 2
	c.DB.Index = 0
	cl.name.Store(nil)
	cl.setFlag(flagReplyOff|flagReplySkip|flagReplySkipNext|flagNoEvict|flagNoTouch, false)
	if cl.hasFlag(flagMonitor) {
		s.removeMonitor(cl)
		cl.setFlag(flagMonitor, false)
	}
	if s.acl.authRequired() {
		cl.user.Store(nil)
	} else {
		cl.user.Store(s.acl.defaultUser())
	}
	c.W.Simple("RESET")
}

const errClientName = "ERR Client names cannot contain spaces, newlines or special characters."

// validClientName accepts printable ASCII without spaces, as clientSetName.
func validClientName(name []byte) bool {
	for _, b := range name {
		if b < '!' || b > '~' {
			return false
		}
	}
	return true
}

func setClientName(cl *client, name []byte) {
	if len(name) == 0 {
		cl.name.Store(nil)
		return
	}
	n := string(name)
	cl.name.Store(&n)
}

func (s *Server) cmdClientSetName(c *command.Ctx) {
	if !validClientName(c.Argv[2]) {
		c.Error(errClientName)
		return
	}
	setClientName(client0(c), c.Argv[2])
	c.W.OK()
}

func (s *Server) cmdClientGetName(c *command.Ctx) {
	if name := client0(c).getName(); name != "" {
		c.W.BulkString(name)
		return
	}
	c.W.Null()
}

// clientInfo renders one client as CLIENT LIST does (catClientInfoString).
func (s *Server) clientInfo(cl *client) string {
	now := time.Now()
	flags := ""
	if cl.hasFlag(flagMonitor) {
		flags += "O"
	}
	if cl.hasFlag(flagReplica) {
		flags += "S"
	}
	if cl.hasFlag(flagMaster) {
		flags += "M"
	}
	for _, f := range [...]struct {
		flag   uint32
		letter string
	}{{flagPubSub, "P"}, {flagMulti, "x"}, {flagBlocked, "b"}} {
		if cl.hasFlag(f.flag) {
			flags += f.letter
		}
	}
	if cl.dirtyCAS.Load() {
		flags += "d"
	}
	if cl.hasFlag(flagNoEvict) {
		flags += "e"
	}
	if cl.hasFlag(flagNoTouch) {
		flags += "T"
	}
	if flags == "" {
		flags = "N"
	}
	cmdName := "NULL"
	if cmd := cl.lastCmd.Load(); cmd != nil {
		cmdName = cmd.Name
	}
	userName := ""
	if u := cl.user.Load(); u != nil {
		userName = u.name
	} else {
		userName = "default"
	}
	qbuf := cl.qbuf.Load()
	var b strings.Builder
	b.Grow(300)
	b.WriteString("id=" + itoa(cl.id))
	b.WriteString(" addr=" + cl.addr)
	b.WriteString(" laddr=" + cl.laddr)
	b.WriteString(" fd=" + strconv.Itoa(cl.fd))
	b.WriteString(" name=" + cl.getName())
	b.WriteString(" age=" + itoa(int64(now.Sub(cl.created).Seconds())))
	b.WriteString(" idle=" + itoa((now.UnixMilli()-cl.lastInteraction.Load())/1000))
	b.WriteString(" flags=" + flags)
	b.WriteString(" db=" + itoa(int64(cl.db.Load())))
	b.WriteString(" " + s.subscriptionCounts(cl) + " multi=" + itoa(int64(cl.multiLen.Load())))
	b.WriteString(" qbuf=" + itoa(qbuf))
	b.WriteString(" qbuf-free=" + itoa(max(16*1024-qbuf, 0)))
	b.WriteString(" argv-mem=0 multi-mem=0 rbs=16384 rbp=16384")
	b.WriteString(" obl=0 oll=0 omem=" + itoa(cl.obuf.Load()))
	b.WriteString(" tot-mem=" + itoa(32*1024+qbuf+cl.obuf.Load()))
	b.WriteString(" events=r cmd=" + cmdName)
	b.WriteString(" user=" + userName)
	b.WriteString(" redir=-1 resp=" + itoa(int64(cl.proto.Load())))
	return b.String()
}

func (s *Server) sortedClients() []*client {
	s.clientsMu.Lock()
	out := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	s.clientsMu.Unlock()
	sortClients(out)
	return out
}

func sortClients(cs []*client) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].id < cs[j-1].id; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// clientType returns the CLIENT LIST/KILL TYPE of a client.
func clientType(cl *client) string {
	switch {
	case cl.hasFlag(flagMaster):
		return "master"
	case cl.hasFlag(flagReplica):
		return "replica"
	case cl.hasFlag(flagPubSub):
		return "pubsub"
	}
	return "normal"
}

func validClientType(t string) bool {
	switch lower(t) {
	case "normal", "master", "replica", "slave", "pubsub":
		return true
	}
	return false
}

func (s *Server) cmdClientList(c *command.Ctx) {
	var typ string
	var ids map[int64]bool
	for j := 2; j < len(c.Argv); j++ {
		switch {
		case command.Is(c.Argv[j], "type") && j+1 < len(c.Argv):
			typ = lower(string(c.Argv[j+1]))
			if !validClientType(typ) {
				c.Error("ERR Unknown client type '" + string(c.Argv[j+1]) + "'")
				return
			}
			if typ == "slave" {
				typ = "replica"
			}
			j++
		case command.Is(c.Argv[j], "id") && j+1 < len(c.Argv):
			ids = map[int64]bool{}
			for j++; j < len(c.Argv); j++ {
				id, ok := resp.ParseInt(c.Argv[j])
				if !ok || id <= 0 {
					c.Error("ERR Invalid client ID")
					return
				}
				ids[id] = true
			}
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	var b strings.Builder
	for _, cl := range s.sortedClients() {
		if typ != "" && clientType(cl) != typ {
			continue
		}
		if ids != nil && !ids[cl.id] {
			continue
		}
		b.WriteString(s.clientInfo(cl))
		b.WriteByte('\n')
	}
	c.W.Verbatim("txt", b.String())
}

func (s *Server) cmdClientKill(c *command.Ctx) {
	self := client0(c)
	if len(c.Argv) == 3 {
		// Old form: CLIENT KILL addr.
		for _, cl := range s.sortedClients() {
			if cl.addr == string(c.Argv[2]) {
				s.killClient(cl, self)
				c.W.OK()
				return
			}
		}
		c.Error("ERR No such client")
		return
	}
	if len(c.Argv)%2 != 0 {
		c.Error(command.ErrSyntax)
		return
	}
	var id int64
	var addr, laddr, typ, userName string
	skipMe := true
	for j := 2; j < len(c.Argv); j += 2 {
		opt, val := c.Argv[j], string(c.Argv[j+1])
		switch {
		case command.Is(opt, "id"):
			n, ok := resp.ParseInt(c.Argv[j+1])
			if !ok || n <= 0 {
				c.Error("ERR client-id should be greater than 0")
				return
			}
			id = n
		case command.Is(opt, "type"):
			typ = lower(val)
			if !validClientType(typ) {
				c.Error("ERR Unknown client type '" + val + "'")
				return
			}
			if typ == "slave" {
				typ = "replica"
			}
		case command.Is(opt, "addr"):
			addr = val
		case command.Is(opt, "laddr"):
			laddr = val
		case command.Is(opt, "user"):
			userName = val
			if s.acl.lookup(val) == nil {
				c.Error("ERR No such user '" + val + "'")
				return
			}
		case command.Is(opt, "skipme"):
			switch {
			case command.Is(c.Argv[j+1], "yes"):
				skipMe = true
			case command.Is(c.Argv[j+1], "no"):
				skipMe = false
			default:
				c.Error(command.ErrSyntax)
				return
			}
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	killed := 0
	for _, cl := range s.sortedClients() {
		if (id != 0 && cl.id != id) || (addr != "" && cl.addr != addr) || (laddr != "" && cl.laddr != laddr) ||
			(typ != "" && clientType(cl) != typ) || (skipMe && cl == self) {
			continue
		}
		if userName != "" {
			if u := cl.user.Load(); u == nil || u.name != userName {
				continue
			}
		}
		s.killClient(cl, self)
		killed++
	}
	c.W.Int(int64(killed))
}

// killClient closes a client; the current client is closed after its reply is written.
func (s *Server) killClient(cl, self *client) {
	if cl == self {
		cl.closeAfterReply = true
		return
	}
	cl.conn.Close()
}

func (s *Server) killClientsOfUser(name string) {
	for _, cl := range s.sortedClients() {
		if u := cl.user.Load(); u != nil && u.name == name {
			cl.conn.Close()
		}
	}
}

func (s *Server) cmdClientPause(c *command.Ctx) {
	ms, ok := resp.ParseInt(c.Argv[2])
	if !ok || ms < 0 {
		c.Error("ERR timeout is not an integer or out of range")
		return
	}
	all := true
	if len(c.Argv) == 4 {
		switch {
		case command.Is(c.Argv[3], "write"):
			all = false
		case command.Is(c.Argv[3], "all"):
		default:
			c.Error("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	} else if len(c.Argv) > 4 {
		c.Error(command.ErrSyntax)
		return
	}
	s.pause.pause(time.Duration(ms)*time.Millisecond, all)
	c.W.OK()
}

func (s *Server) cmdClientNoEvict(c *command.Ctx) {
	switch {
	case command.Is(c.Argv[2], "on"):
		client0(c).setFlag(flagNoEvict, true)
	case command.Is(c.Argv[2], "off"):
		client0(c).setFlag(flagNoEvict, false)
	default:
		c.Error(command.ErrSyntax)
		return
	}
	c.W.OK()
}

func (s *Server) cmdClientReply(c *command.Ctx) {
	cl := client0(c)
	switch {
	case command.Is(c.Argv[2], "on"):
		cl.setFlag(flagReplyOff|flagReplySkip|flagReplySkipNext, false)
		c.W.OK()
	case command.Is(c.Argv[2], "off"):
		cl.setFlag(flagReplyOff, true)
	case command.Is(c.Argv[2], "skip"):
		if !cl.hasFlag(flagReplyOff) {
			cl.setFlag(flagReplySkipNext, true)
		}
	default:
		c.Error(command.ErrSyntax)
	}
}
