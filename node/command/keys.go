package command

import (
	"strconv"

	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/resp"
)

func registerKeys(t *Table) {
	t.Register("del", cmdDel)
	t.Register("unlink", cmdDel)
	t.Register("exists", cmdExists)
	t.Register("type", cmdType)
	t.Register("touch", cmdTouch)
	t.Register("ttl", func(c *Ctx) { ttlGeneric(c, false, false) })
	t.Register("pttl", func(c *Ctx) { ttlGeneric(c, true, false) })
	t.Register("expiretime", func(c *Ctx) { ttlGeneric(c, false, true) })
	t.Register("pexpiretime", func(c *Ctx) { ttlGeneric(c, true, true) })
	t.Register("expire", func(c *Ctx) { expireGeneric(c, c.DB.Now, true) })
	t.Register("pexpire", func(c *Ctx) { expireGeneric(c, c.DB.Now, false) })
	t.Register("expireat", func(c *Ctx) { expireGeneric(c, 0, true) })
	t.Register("pexpireat", func(c *Ctx) { expireGeneric(c, 0, false) })
	t.Register("persist", cmdPersist)
	t.Register("rename", func(c *Ctx) { renameGeneric(c, false) })
	t.Register("renamenx", func(c *Ctx) { renameGeneric(c, true) })
	t.Register("copy", cmdCopy)
	t.Register("move", cmdMove)
	t.Register("keys", cmdKeys)
	t.Register("scan", cmdScan)
	t.Register("randomkey", cmdRandomKey)
	t.Register("swapdb", cmdSwapDB)
	t.Register("object|encoding", cmdObjectEncoding)
	t.Register("object|refcount", cmdObjectRefcount)
	t.Register("object|idletime", cmdObjectIdletime)
	t.Register("object|freq", cmdObjectFreq)
	t.Register("object|help", func(c *Ctx) { ReplyHelp(c, objectHelp) })
}

func cmdDel(c *Ctx) {
	deleted := 0
	for _, key := range c.Argv[1:] {
		if c.DB.DeleteKey(key) {
			c.Notify(NotifyGeneric, "del", key)
			deleted++
		}
	}
	c.Dirty(deleted)
	c.W.Int(int64(deleted))
}

func cmdExists(c *Ctx) {
	n := 0
	for _, key := range c.Argv[1:] {
		if c.DB.Lookup(key, lookupNoTouch) != nil {
			n++
		}
	}
	c.W.Int(int64(n))
}

func cmdType(c *Ctx) {
	e := c.DB.Lookup(c.Argv[1], lookupNoTouch)
	if e == nil {
		c.W.Simple("none")
		return
	}
	c.W.Simple(e.Value.Type.String())
}

func cmdTouch(c *Ctx) {
	n := 0
	for _, key := range c.Argv[1:] {
		if c.DB.LookupRead(key) != nil {
			n++
		}
	}
	c.W.Int(int64(n))
}

// ttlGeneric implements TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 for a missing key, -1
// without expiry; seconds are rounded to the nearest (ttlGenericCommand).
func ttlGeneric(c *Ctx, ms, abs bool) {
	e := c.DB.Lookup(c.Argv[1], lookupNoTouch)
	if e == nil {
		c.W.Int(-2)
		return
	}
	at := c.DB.Expire(e)
	if at == 0 {
		c.W.Int(-1)
		return
	}
	ttl := at
	if !abs {
		ttl = at - c.DB.Now
	}
	ttl = max(ttl, 0)
	if !ms {
		ttl = (ttl + 500) / 1000
	}
	c.W.Int(ttl)
}

// EXPIRE options (EXPIRE_NX and friends).
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

// expireGeneric implements EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT with NX XX GT LT
// (expireGenericCommand); basetime is now for the relative forms, 0 for the absolute.
func expireGeneric(c *Ctx, basetime int64, seconds bool) {
	flags := 0
	for _, opt := range c.Argv[3:] {
		switch {
		case Is(opt, "nx"):
			flags |= expireNX
		case Is(opt, "xx"):
			flags |= expireXX
		case Is(opt, "gt"):
			flags |= expireGT
		case Is(opt, "lt"):
			flags |= expireLT
		default:
			c.Error("ERR Unsupported option " + string(opt))
			return
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		c.Error("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		c.Error("ERR GT and LT options at the same time are not compatible")
		return
	}
	when, ok := resp.ParseInt(c.Argv[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	invalid := "ERR invalid expire time in '" + c.Cmd.FullName() + "' command"
	if seconds {
		if when > maxInt64/1000 || when < (-maxInt64-1)/1000 {
			c.Error(invalid)
			return
		}
		when *= 1000
	}
	if when > maxInt64-basetime {
		c.Error(invalid)
		return
	}
	when += basetime
	e := c.DB.LookupWriteKey(c.Argv[1])
	if e == nil {
		c.W.Int(0)
		return
	}
	if flags != 0 {
		cur := c.DB.Expire(e) // 0: none, an infinite TTL for GT and LT
		switch {
		case flags&expireNX != 0 && cur != 0,
			flags&expireXX != 0 && cur == 0,
			flags&expireGT != 0 && (cur == 0 || when <= cur),
			flags&expireLT != 0 && cur != 0 && when >= cur:
			c.W.Int(0)
			return
		}
	}
	if when <= c.DB.Now {
		// A time already past deletes the key at once; replicas get the deletion.
		c.DB.Delete(e)
		c.Dirty(1)
		c.Notify(NotifyGeneric, "del", c.Argv[1])
		c.Rewrite(c.expireDeleteCommand(), c.Argv[1])
		c.W.Int(1)
		return
	}
	c.DB.SetExpire(e, when)
	c.Dirty(1)
	c.Notify(NotifyGeneric, "expire", c.Argv[1])
	c.W.Int(1)
	// Replicate as PEXPIREAT <absolute ms>, keeping the options.
	if c.Cmd.Name != "pexpireat" || basetime != 0 || seconds {
		argv := make([][]byte, 0, len(c.Argv))
		argv = append(argv, argPEXPIREAT, c.Argv[1], []byte(strconv.FormatInt(when, 10)))
		argv = append(argv, c.Argv[3:]...)
		c.Rewrite(argv...)
	}
}

func cmdPersist(c *Ctx) {
	e := c.DB.LookupWriteKey(c.Argv[1])
	if e == nil || !c.DB.Persist(e) {
		c.W.Int(0)
		return
	}
	c.Dirty(1)
	c.Notify(NotifyGeneric, "persist", c.Argv[1])
	c.W.Int(1)
}

// moveEntry stores the value of e under key in db (with its expiry) and deletes e from
// src: RENAME and MOVE.
func moveEntry(src *keyspace.DB, e *keyspace.Entry, dst *keyspace.DB, key []byte) {
	at := src.Expire(e)
	obj := e.Value
	src.Delete(e)
	ne := dst.Add(key, obj)
	if at != 0 {
		dst.SetExpire(ne, at)
	}
}

func renameGeneric(c *Ctx, nx bool) {
	src, dst := c.Argv[1], c.Argv[2]
	e := c.DB.LookupWriteKey(src)
	if e == nil {
		c.Error(ErrNoSuchKey)
		return
	}
	if string(src) == string(dst) {
		if nx {
			c.W.Int(0)
		} else {
			c.W.OK()
		}
		return
	}
	if old := c.DB.LookupWriteKey(dst); old != nil {
		if nx {
			c.W.Int(0)
			return
		}
		c.DB.Delete(old)
	}
	moveEntry(&c.DB, e, &c.DB, dst)
	c.Dirty(1)
	c.Notify(NotifyGeneric, "rename_from", src)
	c.Notify(NotifyGeneric, "rename_to", dst)
	if nx {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

// parseDBIndex reads a database number (getIntFromObjectOrReply) and checks its range.
func parseDBIndex(c *Ctx, arg []byte) (int, bool) {
	n, ok := resp.ParseInt(arg)
	if !ok || n < -1<<31 || n > 1<<31-1 {
		c.Error(ErrNotInt)
		return 0, false
	}
	if n < 0 || n >= int64(c.Env.Keyspace.NumDBs()) {
		c.Error(ErrDBIndex)
		return 0, false
	}
	return int(n), true
}

func cmdCopy(c *Ctx) {
	src, dstKey := c.Argv[1], c.Argv[2]
	dstIndex := c.DB.Index
	replace := false
	for j := 3; j < len(c.Argv); j++ {
		switch {
		case Is(c.Argv[j], "replace"):
			replace = true
		case Is(c.Argv[j], "db") && j+1 < len(c.Argv):
			n, ok := parseDBIndex(c, c.Argv[j+1])
			if !ok {
				return
			}
			dstIndex = n
			j++
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if c.Env.ClusterEnabled && (c.DB.Index != 0 || dstIndex != 0) {
		c.Error("ERR Copying to another database is not allowed in cluster mode")
		return
	}
	if dstIndex == c.DB.Index && string(src) == string(dstKey) {
		c.Error(ErrSameObject)
		return
	}
	e := c.DB.LookupRead(src)
	if e == nil {
		c.W.Int(0)
		return
	}
	dst := c.DB.WithIndex(dstIndex)
	if old := dst.LookupWriteKey(dstKey); old != nil {
		if !replace {
			c.W.Int(0)
			return
		}
		dst.Delete(old)
	}
	at := c.DB.Expire(e)
	ne := dst.Add(dstKey, e.Value.Clone())
	if at != 0 {
		dst.SetExpire(ne, at)
	}
	c.Dirty(1)
	c.NotifyIn(dstIndex, NotifyGeneric, "copy_to", dstKey)
	if dstIndex != c.DB.Index {
		c.SignalKeyReadyIn(dstIndex, dstKey)
	}
	c.W.Int(1)
}

func cmdMove(c *Ctx) {
	if c.Env.ClusterEnabled {
		c.Error("ERR MOVE is not allowed in cluster mode")
		return
	}
	n, ok := parseDBIndex(c, c.Argv[2])
	if !ok {
		return
	}
	if n == c.DB.Index {
		c.Error(ErrSameObject)
		return
	}
	e := c.DB.LookupWriteKey(c.Argv[1])
	if e == nil {
		c.W.Int(0)
		return
	}
	dst := c.DB.WithIndex(n)
	if dst.LookupWriteKey(c.Argv[1]) != nil {
		c.W.Int(0)
		return
	}
	moveEntry(&c.DB, e, &dst, c.Argv[1])
	c.Dirty(1)
	c.Notify(NotifyGeneric, "move_from", c.Argv[1])
	c.NotifyIn(n, NotifyGeneric, "move_to", c.Argv[1])
	c.SignalKeyReadyIn(n, c.Argv[1])
	c.W.Int(1)
}

func cmdKeys(c *Ctx) {
	pattern := string(c.Argv[1])
	all := pattern == "*"
	var keys []string
	c.DB.Keys(func(k string) {
		if all || StringMatch(pattern, k, false) {
			keys = append(keys, k)
		}
	})
	c.W.ArrayLen(len(keys))
	for _, k := range keys {
		c.W.BulkString(k)
	}
}

// cmdScan implements SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
// (scanGenericCommand).
func cmdScan(c *Ctx) {
	cursor, err := strconv.ParseUint(string(c.Argv[1]), 10, 64)
	if err != nil {
		c.Error("ERR invalid cursor")
		return
	}
	count := int64(10)
	var pattern string
	usePattern := false
	typeFilter, useType := keyspace.Type(0), false
	typeKnown := true
	for i := 2; i < len(c.Argv); i += 2 {
		more := len(c.Argv) - i
		switch {
		case Is(c.Argv[i], "count") && more >= 2:
			n, ok := resp.ParseInt(c.Argv[i+1])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			if n < 1 {
				c.Error(ErrSyntax)
				return
			}
			count = n
		case Is(c.Argv[i], "match") && more >= 2:
			pattern = string(c.Argv[i+1])
			usePattern = pattern != "*"
		case Is(c.Argv[i], "type") && more >= 2:
			useType = true
			// Redis 7.0 matches nothing for an unknown type name rather than failing.
			typeFilter, typeKnown = keyspace.ParseType(string(lowerBytes(c.Argv[i+1])))
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	entries, next := c.DB.Scan(cursor, int(min(count, 1<<20)), nil)
	c.W.ArrayLen(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	n := 0
	for _, e := range entries {
		if keep(e, usePattern, pattern, useType, typeKnown, typeFilter) {
			n++
		}
	}
	c.W.ArrayLen(n)
	for _, e := range entries {
		if keep(e, usePattern, pattern, useType, typeKnown, typeFilter) {
			c.W.BulkString(e.Key)
		}
	}
}

func keep(e keyspace.ScanEntry, usePattern bool, pattern string, useType, typeKnown bool, t keyspace.Type) bool {
	if usePattern && !StringMatch(pattern, e.Key, false) {
		return false
	}
	if useType && (!typeKnown || e.Type != t) {
		return false
	}
	return true
}

func lowerBytes(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

func cmdRandomKey(c *Ctx) {
	key, ok := c.DB.RandomKey()
	if !ok {
		c.W.Null()
		return
	}
	c.W.BulkString(key)
}

func cmdSwapDB(c *Ctx) {
	if c.Env.ClusterEnabled {
		c.Error("ERR SWAPDB is not allowed in cluster mode")
		return
	}
	a, ok := resp.ParseInt(c.Argv[1])
	if !ok || a < -1<<31 || a > 1<<31-1 {
		c.Error("ERR invalid first DB index")
		return
	}
	b, ok := resp.ParseInt(c.Argv[2])
	if !ok || b < -1<<31 || b > 1<<31-1 {
		c.Error("ERR invalid second DB index")
		return
	}
	n := int64(c.Env.Keyspace.NumDBs())
	if a < 0 || a >= n || b < 0 || b >= n {
		c.Error(ErrDBIndex)
		return
	}
	c.DB.SwapDB(int(a), int(b))
	c.Dirty(1)
	c.SignalDBModified(int(a))
	c.SignalDBModified(int(b))
	c.W.OK()
}

var objectHelp = []string{
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
}

// objectLookup finds the key of an OBJECT subcommand without touching it; a missing key
// replies nil (objectCommandLookupOrReply).
func objectLookup(c *Ctx) *keyspace.Entry {
	e := c.DB.Lookup(c.Argv[2], lookupNoTouch|keyspace.LookupNoStats)
	if e == nil {
		c.W.Null()
	}
	return e
}

func cmdObjectEncoding(c *Ctx) {
	if e := objectLookup(c); e != nil {
		c.W.BulkString(e.Value.Enc.String())
	}
}

func cmdObjectRefcount(c *Ctx) {
	e := objectLookup(c)
	if e == nil {
		return
	}
	p := c.Env.Keyspace.Policy()
	if e.Value.SharedInteger() && !p.IsLFU() && !p.IsLRU() {
		c.W.Int(2147483647) // OBJ_SHARED_REFCOUNT
		return
	}
	c.W.Int(1)
}

const policySwitchNote = " Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."

func cmdObjectIdletime(c *Ctx) {
	e := objectLookup(c)
	if e == nil {
		return
	}
	if c.Env.Keyspace.Policy().IsLFU() {
		c.Error("ERR An LFU maxmemory policy is selected, idle time not tracked." + policySwitchNote)
		return
	}
	c.W.Int(c.DB.IdleTime(e))
}

func cmdObjectFreq(c *Ctx) {
	e := objectLookup(c)
	if e == nil {
		return
	}
	if !c.Env.Keyspace.Policy().IsLFU() {
		c.Error("ERR An LFU maxmemory policy is not selected, access frequency not tracked." + policySwitchNote)
		return
	}
	c.W.Int(int64(c.DB.Frequency(e)))
}
