package server

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clusterctl/clusterctl/node/command"
	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/resp"
)

func (s *Server) registerAdminCommands() {
	t := s.table
	t.Register("config|get", s.cmdConfigGet)
	t.Register("config|set", s.cmdConfigSet)
	t.Register("config|rewrite", s.cmdConfigRewrite)
	t.Register("config|resetstat", func(c *command.Ctx) { s.resetStats(); c.W.OK() })
	t.Register("config|help", func(c *command.Ctx) { command.ReplyHelp(c, configHelp) })
	t.Register("shutdown", s.cmdShutdown)
	t.Register("time", cmdTime)
	t.Register("slowlog|get", s.cmdSlowlogGet)
	t.Register("slowlog|len", func(c *command.Ctx) { c.W.Int(int64(s.slowlog.len())) })
	t.Register("slowlog|reset", func(c *command.Ctx) { s.slowlog.reset(); c.W.OK() })
	t.Register("slowlog|help", func(c *command.Ctx) { command.ReplyHelp(c, slowlogHelp) })
	t.Register("monitor", func(c *command.Ctx) { s.startMonitor(client0(c)); c.W.OK() })
	t.Register("memory|usage", s.cmdMemoryUsage)
	t.Register("memory|help", func(c *command.Ctx) { command.ReplyHelp(c, memoryHelp) })
	t.Register("debug", s.cmdDebug)
	t.Register("info", s.cmdInfo)
	s.registerACLCommands()
	s.registerPersistenceCommands()
}

var configHelp = []string{
	"GET <pattern>",
	"    Return parameters matching the glob-like <pattern> and their values.",
	"SET <directive> <value>",
	"    Set the configuration <directive> to <value>.",
	"RESETSTAT",
	"    Reset statistics reported by the INFO command.",
	"REWRITE",
	"    Rewrite the configuration file.",
}

var slowlogHelp = []string{
	"GET [<count>]",
	"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
	"    Entries are made of:",
	"    id, timestamp, time in microseconds, arguments array, client IP and port,",
	"    client name",
	"LEN",
	"    Return the length of the slowlog.",
	"RESET",
	"    Reset the slowlog.",
}

var memoryHelp = []string{
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
}

func (s *Server) cmdConfigGet(c *command.Ctx) {
	patterns := make([]string, len(c.Argv)-2)
	for i, a := range c.Argv[2:] {
		patterns[i] = string(a)
	}
	pairs := s.cfg.Get(patterns...)
	c.W.MapLen(len(pairs))
	for _, p := range pairs {
		c.W.BulkString(p[0])
		c.W.BulkString(p[1])
	}
}

func (s *Server) cmdConfigSet(c *command.Ctx) {
	if len(c.Argv)%2 != 0 {
		c.WrongArity()
		return
	}
	var pairs [][2]string
	for i := 2; i+1 < len(c.Argv); i += 2 {
		pairs = append(pairs, [2]string{string(c.Argv[i]), string(c.Argv[i+1])})
	}
	if err := s.cfg.SetAs(pairs, client0(c).local); err != nil {
		c.Error(err.Error())
		return
	}
	c.W.OK()
}

func (s *Server) cmdConfigRewrite(c *command.Ctx) {
	if err := s.cfg.Rewrite(); err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "ERR ") {
			msg = "ERR Rewriting config file: " + msg
			s.log.Warningf("CONFIG REWRITE failed: %v", err)
		}
		c.Error(msg)
		return
	}
	s.log.Noticef("CONFIG REWRITE executed with success.")
	c.W.OK()
}

// resetStats is CONFIG RESETSTAT (resetServerStats and resetCommandTableStats).
func (s *Server) resetStats() {
	s.stats.reset()
	s.ks.ResetStats()
	s.env.Errors.Reset()
	for _, cmd := range s.table.All() {
		cmd.ResetStats()
	}
}

// cmdShutdown implements SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT].
func (s *Server) cmdShutdown(c *command.Ctx) {
	abort := false
	save, nosave, force := false, false, false
	for _, a := range c.Argv[1:] {
		switch {
		case command.Is(a, "nosave"):
			nosave = true
		case command.Is(a, "save"):
			save = true
		case command.Is(a, "now"):
		case command.Is(a, "force"):
			force = true
		case command.Is(a, "abort"):
			abort = true
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	if (abort && len(c.Argv) != 2) || (save && nosave) {
		c.Error(command.ErrSyntax)
		return
	}
	if abort {
		c.Error("ERR No shutdown in progress.")
		return
	}
	if err := s.prepareForShutdown(save, nosave, force); err != nil {
		c.Error("ERR Errors trying to SHUTDOWN. Check logs.")
		return
	}
	s.log.Warningf("User requested shutdown...")
	client0(c).closeAfterReply = true
	s.Shutdown()
}

func cmdTime(c *command.Ctx) {
	now := time.Now()
	c.W.ArrayLen(2)
	c.W.BulkInt(now.Unix())
	c.W.BulkInt(int64(now.Nanosecond() / 1000))
}

func (s *Server) cmdSlowlogGet(c *command.Ctx) {
	count := int64(10)
	if len(c.Argv) == 3 {
		n, ok := resp.ParseInt(c.Argv[2])
		if !ok || n < -1 {
			c.Error("ERR count should be greater than or equal to -1")
			return
		}
		count = n
	} else if len(c.Argv) > 3 {
		c.WrongArity()
		return
	}
	entries := s.slowlog.get(int(count))
	c.W.ArrayLen(len(entries))
	for _, e := range entries {
		c.W.ArrayLen(6)
		c.W.Int(e.id)
		c.W.Int(e.time)
		c.W.Int(e.duration)
		c.W.ArrayLen(len(e.argv))
		for _, a := range e.argv {
			c.W.BulkString(a)
		}
		c.W.BulkString(e.addr)
		c.W.BulkString(e.name)
	}
}

func (s *Server) cmdMemoryUsage(c *command.Ctx) {
	if len(c.Argv) != 3 && len(c.Argv) != 5 {
		c.Error(command.ErrSyntax)
		return
	}
	if len(c.Argv) == 5 {
		if !command.Is(c.Argv[3], "samples") {
			c.Error(command.ErrSyntax)
			return
		}
		if n, ok := resp.ParseInt(c.Argv[4]); !ok || n < 0 {
			c.Error(command.ErrNotInt)
			return
		}
	}
	e := c.DB.Lookup(c.Argv[2], keyspace.LookupNoTouch|keyspace.LookupNoStats)
	if e == nil {
		c.W.Null()
		return
	}
	c.W.Int(c.DB.MemoryUsage(e))
}

// cmdDebug implements the DEBUG subcommands used by tests and tools. DEBUG is not a
// container in Redis's table (it parses its own arguments), so neither is it here.
func (s *Server) cmdDebug(c *command.Ctx) {
	sub := strings.ToLower(string(c.Argv[1]))
	n := len(c.Argv)
	switch {
	case sub == "help":
		command.ReplyHelp(c, debugHelp)
	case sub == "sleep" && n == 3:
		secs, err := strconv.ParseFloat(string(c.Argv[2]), 64)
		if err != nil {
			c.Error(command.ErrNotFloat)
			return
		}
		// Redis sleeps with the whole server blocked; here every key is locked instead.
		s.ks.LockShards(keyspace.AllShards)
		time.Sleep(time.Duration(secs * float64(time.Second)))
		s.ks.UnlockShards(keyspace.AllShards)
		c.W.OK()
	case sub == "segfault":
		s.log.Warningf("DEBUG SEGFAULT: crashing on request")
		syscall.Kill(os.Getpid(), syscall.SIGSEGV)
		time.Sleep(time.Second)
		os.Exit(139)
	case sub == "reload":
		s.debugReload(c)
	case sub == "set-active-expire" && n == 3:
		on := string(c.Argv[2]) != "0"
		s.ks.SetActiveExpiry(on)
		c.W.OK()
	case sub == "populate" && n >= 3 && n <= 5:
		s.debugPopulate(c)
	case sub == "digest" && n == 2:
		d := s.datasetDigest(c)
		c.W.Simple(hex.EncodeToString(d[:]))
	case sub == "digest-value" && n >= 2:
		s.ks.LockShards(keyspace.AllShards)
		defer s.ks.UnlockShards(keyspace.AllShards)
		c.W.ArrayLen(n - 2)
		for _, key := range c.Argv[2:] {
			var d [20]byte
			if e := c.DB.Lookup(key, keyspace.LookupNoTouch|keyspace.LookupNoStats); e != nil {
				objectDigest(&d, c.DB, e)
			}
			c.W.Simple(hex.EncodeToString(d[:]))
		}
	case sub == "object" && n == 3:
		s.ks.LockShards(keyspace.AllShards)
		defer s.ks.UnlockShards(keyspace.AllShards)
		e := c.DB.Lookup(c.Argv[2], keyspace.LookupNoTouch|keyspace.LookupNoStats)
		if e == nil {
			c.Error(command.ErrNoSuchKey)
			return
		}
		o := &e.Value
		c.W.Simple(fmt.Sprintf("Value at:%p refcount:1 encoding:%s serializedlength:%d lru:%d lru_seconds_idle:%d",
			o, o.Enc, o.StringLen()+1, 0, c.DB.IdleTime(e)))
	default:
		c.Error("ERR unknown subcommand or wrong number of arguments for '" + truncate(c.Argv[1], 128) +
			"'. Try DEBUG HELP.")
	}
}

var debugHelp = []string{
	"DIGEST",
	"    Output a hex signature representing the current DB content.",
	"DIGEST-VALUE <key> [<key> ...]",
	"    Output a hex signature of the values of all the specified keys.",
	"OBJECT <key>",
	"    Show low level info about the <key> and associated value.",
	"POPULATE <count> [<prefix>] [<size>]",
	"    Create <count> string keys named key:<num>. If <prefix> is specified then",
	"    it is used instead of the 'key' prefix. These are not propagated to",
	"    replicas. Cluster slots are not respected so keys not belonging to the",
	"    current node can be created in cluster mode.",
	"RELOAD [option ...]",
	"    Save the RDB on disk and reload it back to memory. Valid <option> values:",
	"    * MERGE: conflicting keys will be loaded from RDB.",
	"    * NOFLUSH: the existing database will not be removed before load, but",
	"      conflicting keys will generate an exception and kill the server.",
	"    * NOSAVE: the database will be loaded from an existing RDB file.",
	"    Examples:",
	"    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
	"      the database.",
	"    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
	"      existing RDB file.",
	"    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
	"      file to the database.",
	"SEGFAULT",
	"    Crash the server with sigsegv.",
	"SET-ACTIVE-EXPIRE <0|1>",
	"    Setting it to 0 disables expiring keys in background when they are not",
	"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
	"    default.",
	"SLEEP <seconds>",
	"    Stop the server for <seconds>. Decimals allowed.",
}

func (s *Server) debugPopulate(c *command.Ctx) {
	count, ok := resp.ParseInt(c.Argv[2])
	if !ok || count < 0 {
		c.Error("ERR value is out of range, must be positive")
		return
	}
	prefix := "key"
	if len(c.Argv) >= 4 {
		prefix = string(c.Argv[3])
	}
	var size int64
	if len(c.Argv) == 5 {
		if size, ok = resp.ParseInt(c.Argv[4]); !ok || size < 0 {
			c.Error("ERR value is out of range, must be positive")
			return
		}
	}
	s.ks.LockShards(keyspace.AllShards)
	defer s.ks.UnlockShards(keyspace.AllShards)
	var key, val []byte
	for j := int64(0); j < count; j++ {
		key = strconv.AppendInt(append(append(key[:0], prefix...), ':'), j, 10)
		if c.DB.LookupWriteKey(key) != nil {
			continue
		}
		val = strconv.AppendInt(append(val[:0], "value:"...), j, 10)
		v := val
		if size > 0 {
			v = make([]byte, size)
			copy(v, val)
		}
		// Redis stores these as created, without trying the int encoding.
		c.DB.Add(key, keyspace.RawStringObject(v))
		if e := c.DB.LookupWriteKey(key); e != nil && len(v) <= 44 {
			e.Value.Enc = keyspace.EncEmbstr
		}
	}
	c.W.OK()
}

// datasetDigest computes DEBUG DIGEST exactly as Redis's computeDatasetDigest, so the
// digest of a dataset is the same on redis-server and here.
func (s *Server) datasetDigest(c *command.Ctx) [20]byte {
	s.ks.LockShards(keyspace.AllShards)
	defer s.ks.UnlockShards(keyspace.AllShards)
	var final [20]byte
	for db := 0; db < s.ks.NumDBs(); db++ {
		h := c.DB.WithIndex(db)
		var keys []string
		h.KeysLocked(func(k string) { keys = append(keys, k) })
		if len(keys) == 0 {
			continue
		}
		var aux [4]byte
		binary.BigEndian.PutUint32(aux[:], uint32(db))
		mixDigest(&final, aux[:])
		for _, k := range keys {
			var d [20]byte
			mixDigest(&d, []byte(k))
			if e := h.Lookup([]byte(k), keyspace.LookupNoTouch|keyspace.LookupNoStats|keyspace.LookupNoExpire); e != nil {
				objectDigest(&d, h, e)
			}
			xorDigest(&final, d[:])
		}
	}
	return final
}

// objectDigest mixes a value (and the presence of an expiry) into d (xorObjectDigest).
func objectDigest(d *[20]byte, db keyspace.DB, e *keyspace.Entry) {
	o := &e.Value
	var typ [4]byte
	binary.BigEndian.PutUint32(typ[:], uint32(o.Type))
	mixDigest(d, typ[:])
	if o.Type == keyspace.TypeString {
		mixDigest(d, o.AppendString(nil))
	}
	if db.Expire(e) != 0 {
		xorDigest(d, []byte("!!expire!!"))
	}
}

func xorBytes(d *[20]byte, b []byte) {
	for i := range d {
		d[i] ^= b[i]
	}
}

func xorDigest(d *[20]byte, b []byte) {
	h := sha1.Sum(b)
	xorBytes(d, h[:])
}

func mixDigest(d *[20]byte, b []byte) {
	xorDigest(d, b)
	*d = sha1.Sum(d[:])
}

func (s *Server) registerACLCommands() {
	t := s.table
	t.Register("acl|whoami", func(c *command.Ctx) {
		if u := client0(c).user.Load(); u != nil {
			c.W.BulkString(u.name)
			return
		}
		c.W.BulkString("default")
	})
	t.Register("acl|users", func(c *command.Ctx) {
		users := s.acl.sortedUsers()
		c.W.ArrayLen(len(users))
		for _, u := range users {
			c.W.BulkString(u.name)
		}
	})
	t.Register("acl|list", func(c *command.Ctx) {
		users := s.acl.sortedUsers()
		c.W.ArrayLen(len(users))
		for _, u := range users {
			c.W.BulkString("user " + u.name + " " + u.describe())
		}
	})
	t.Register("acl|setuser", func(c *command.Ctx) {
		rules := make([]string, len(c.Argv)-3)
		for i, a := range c.Argv[3:] {
			rules[i] = string(a)
		}
		if err := s.acl.setUser(string(c.Argv[2]), rules); err != nil {
			c.Error("ERR " + err.Error())
			return
		}
		c.W.OK()
	})
	t.Register("acl|getuser", s.cmdACLGetUser)
	t.Register("acl|deluser", func(c *command.Ctx) {
		names := make([]string, len(c.Argv)-2)
		for i, a := range c.Argv[2:] {
			names[i] = string(a)
		}
		n, err := s.acl.deleteUsers(names)
		if err != nil {
			c.Error(err.Error())
			return
		}
		c.W.Int(int64(n))
	})
	t.Register("acl|cat", s.cmdACLCat)
	t.Register("acl|genpass", func(c *command.Ctx) {
		bits := int64(256)
		if len(c.Argv) == 3 {
			n, ok := resp.ParseInt(c.Argv[2])
			if !ok || n <= 0 || n > 4096 {
				c.Error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
				return
			}
			bits = n
		}
		c.W.BulkString(genpass(int(bits)))
	})
	t.Register("acl|dryrun", func(c *command.Ctx) {
		u := s.acl.lookup(string(c.Argv[2]))
		if u == nil {
			c.Error("ERR User '" + string(c.Argv[2]) + "' not found")
			return
		}
		argv := c.Argv[3:]
		cmd := s.table.Lookup(argv[0])
		if cmd != nil && cmd.Subcommands != nil && len(argv) > 1 {
			cmd = cmd.LookupSub(argv[1])
		}
		if cmd == nil {
			c.Error("ERR Command '" + string(argv[0]) + "' not found")
			return
		}
		if (cmd.Arity > 0 && cmd.Arity != len(argv)) || len(argv) < -cmd.Arity {
			c.Error("ERR wrong number of arguments for '" + cmd.FullName() + "' command")
			return
		}
		if denied := s.acl.check(u, cmd, argv); denied.kind != aclAllowed {
			c.W.BulkString(denied.dryrun(cmd))
			return
		}
		c.W.OK()
	})
	t.Register("acl|help", func(c *command.Ctx) { command.ReplyHelp(c, aclHelp) })
}

var aclHelp = []string{
	"CAT [<category>]",
	"    List all commands that belong to <category>, or all command categories",
	"    when no category is specified.",
	"DELUSER <username> [<username> ...]",
	"    Delete a list of users.",
	"DRYRUN <username> <command> [<arg> ...]",
	"    Returns whether the user can execute the given command without executing the command.",
	"GETUSER <username>",
	"    Get the user's details.",
	"GENPASS [<bits>]",
	"    Generate a secure 256-bit user password. The optional `bits` argument can",
	"    be used to specify a different size.",
	"LIST",
	"    Show users details in config file format.",
	"SETUSER <username> <attribute> [<attribute> ...]",
	"    Create or modify a user with the specified attributes.",
	"USERS",
	"    List all the registered usernames.",
	"WHOAMI",
	"    Return the current connection username.",
}

func (s *Server) cmdACLGetUser(c *command.Ctx) {
	u := s.acl.lookup(string(c.Argv[2]))
	if u == nil {
		c.W.NullArray()
		return
	}
	c.W.MapLen(6)
	c.W.BulkString("flags")
	flags := u.flagList()
	c.W.SetLen(len(flags))
	for _, f := range flags {
		c.W.BulkString(f)
	}
	c.W.BulkString("passwords")
	c.W.ArrayLen(len(u.passwords))
	for _, p := range u.passwords {
		c.W.BulkString(p)
	}
	writeSelector := func(sel *selector) {
		c.W.BulkString("commands")
		c.W.BulkString(sel.describeCommands())
		c.W.BulkString("keys")
		c.W.BulkString(sel.describeKeys())
		c.W.BulkString("channels")
		c.W.BulkString(sel.describeChannels())
	}
	writeSelector(&u.root)
	c.W.BulkString("selectors")
	c.W.ArrayLen(len(u.selectors))
	for i := range u.selectors {
		c.W.MapLen(3)
		writeSelector(&u.selectors[i])
	}
}

func (s *Server) cmdACLCat(c *command.Ctx) {
	if len(c.Argv) == 2 {
		c.W.ArrayLen(len(command.Categories))
		for _, cat := range command.Categories {
			c.W.BulkString(cat)
		}
		return
	}
	bit, ok := command.CategoryBit(string(c.Argv[2]))
	if !ok {
		c.Error("ERR Unknown category '" + string(c.Argv[2]) + "'")
		return
	}
	var names []string
	for _, cmd := range s.table.Commands() {
		if cmd.Categories&bit != 0 && cmd.Handler != nil {
			names = append(names, cmd.Name)
		}
		for _, sub := range cmd.SortedSubcommands() {
			if sub.Categories&bit != 0 {
				names = append(names, sub.Name)
			}
		}
	}
	c.W.ArrayLen(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}
