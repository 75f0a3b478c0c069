package command

import (
	"strconv"

	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/resp"
)

func registerStrings(t *Table) {
	t.Register("get", cmdGet)
	t.Register("set", cmdSet)
	t.Register("incr", func(c *Ctx) { incrDecr(c, 1) })
	t.Register("decr", func(c *Ctx) { incrDecr(c, -1) })
	t.Register("incrby", cmdIncrBy)
	t.Register("decrby", cmdDecrBy)
	t.Register("mset", cmdMSet)
	t.Register("mget", cmdMGet)
	t.Register("setnx", cmdSetNX)
	t.Register("setex", func(c *Ctx) { setExpireVariant(c, setEX) })
	t.Register("psetex", func(c *Ctx) { setExpireVariant(c, setPX) })
	t.Register("getset", cmdGetSet)
	t.Register("getdel", cmdGetDel)
	t.Register("getex", cmdGetEx)
	t.Register("msetnx", cmdMSetNX)
	t.Register("append", cmdAppend)
	t.Register("strlen", cmdStrlen)
	t.Register("incrbyfloat", cmdIncrByFloat)
	t.Register("getrange", cmdGetRange)
	t.Register("substr", cmdGetRange)
	t.Register("setrange", cmdSetRange)
	t.Register("lcs", cmdLCS)
}

// lookupString returns the string entry at key for reading; ok is false when the key holds
// another type, after replying WRONGTYPE (checkType).
func lookupString(c *Ctx, key []byte, write bool) (e *keyspace.Entry, ok bool) {
	if write {
		e = c.DB.LookupWriteKey(key)
	} else {
		e = c.DB.LookupRead(key)
	}
	if e != nil && e.Value.Type != keyspace.TypeString {
		c.Error(ErrWrongType)
		return nil, false
	}
	return e, true
}

// replyString writes a string value as a bulk reply.
func replyString(c *Ctx, o *keyspace.Object) {
	if o.Enc == keyspace.EncInt {
		c.W.BulkInt(o.Int)
		return
	}
	c.W.Bulk(o.Str)
}

// getGeneric replies with the string at key, nil when absent (getGenericCommand). It
// returns false after replying WRONGTYPE.
func getGeneric(c *Ctx, key []byte) bool {
	e, ok := lookupString(c, key, false)
	if !ok {
		return false
	}
	if e == nil {
		c.W.Null()
		return true
	}
	replyString(c, &e.Value)
	return true
}

func cmdGet(c *Ctx) { getGeneric(c, c.Argv[1]) }

// SET options (t_string.c OBJ_SET_*, OBJ_EX...).
const (
	setNX = 1 << iota
	setXX
	setGet
	setKeepTTL
	setEX
	setPX
	setEXAT
	setPXAT
	setPersist
)

const setExpireFlags = setEX | setPX | setEXAT | setPXAT

// parseSetOptions mirrors parseExtendedStringArgumentsOrReply for SET (and GETEX when
// forGetex): options in any order, conflicting ones a syntax error, a repeated expiry of
// the same kind allowed with the last one winning.
func parseSetOptions(c *Ctx, start int, forGetex bool) (flags int, expire []byte, ok bool) {
	argv := c.Argv
	for j := start; j < len(argv); j++ {
		opt := argv[j]
		hasNext := j+1 < len(argv)
		switch {
		case Is(opt, "nx") && flags&setXX == 0 && !forGetex:
			flags |= setNX
		case Is(opt, "xx") && flags&setNX == 0 && !forGetex:
			flags |= setXX
		case Is(opt, "get") && !forGetex:
			flags |= setGet
		case Is(opt, "keepttl") && flags&(setPersist|setExpireFlags) == 0 && !forGetex:
			flags |= setKeepTTL
		case Is(opt, "persist") && forGetex && flags&(setExpireFlags|setKeepTTL) == 0:
			flags |= setPersist
		case Is(opt, "ex") && flags&(setKeepTTL|setPersist|setEXAT|setPX|setPXAT) == 0 && hasNext:
			flags |= setEX
			expire = argv[j+1]
			j++
		case Is(opt, "px") && flags&(setKeepTTL|setPersist|setEX|setEXAT|setPXAT) == 0 && hasNext:
			flags |= setPX
			expire = argv[j+1]
			j++
		case Is(opt, "exat") && flags&(setKeepTTL|setPersist|setEX|setPX|setPXAT) == 0 && hasNext:
			flags |= setEXAT
			expire = argv[j+1]
			j++
		case Is(opt, "pxat") && flags&(setKeepTTL|setPersist|setEX|setEXAT|setPX) == 0 && hasNext:
			flags |= setPXAT
			expire = argv[j+1]
			j++
		default:
			c.Error(ErrSyntax)
			return 0, nil, false
		}
	}
	return flags, expire, true
}

// expireMillis converts an EX/PX/EXAT/PXAT argument to an absolute unix time in
// milliseconds, replying Redis's error when it is not a positive integer or overflows
// (getExpireMillisecondsOrReply).
func expireMillis(c *Ctx, arg []byte, flags int) (int64, bool) {
	n, ok := resp.ParseInt(arg)
	if !ok {
		c.Error(ErrNotInt)
		return 0, false
	}
	seconds := flags&(setEX|setEXAT) != 0
	if n <= 0 || (seconds && n > maxInt64/1000) {
		c.Error("ERR invalid expire time in '" + c.Cmd.FullName() + "' command")
		return 0, false
	}
	if seconds {
		n *= 1000
	}
	if flags&(setEX|setPX) != 0 {
		n += c.DB.Now
	}
	if n <= 0 {
		c.Error("ERR invalid expire time in '" + c.Cmd.FullName() + "' command")
		return 0, false
	}
	return n, true
}

const maxInt64 = 1<<63 - 1

var (
	argSET  = []byte("SET")
	argPXAT = []byte("PXAT")
)

func cmdSet(c *Ctx) {
	flags, expireArg, ok := parseSetOptions(c, 3, false)
	if !ok {
		return
	}
	setGeneric(c, flags, c.Argv[1], c.Argv[2], expireArg)
}

// setGeneric is SET's body (setGenericCommand), shared with SETEX, PSETEX and SETNX.
func setGeneric(c *Ctx, flags int, key, val, expireArg []byte) {
	var at int64
	if expireArg != nil {
		var ok bool
		if at, ok = expireMillis(c, expireArg, flags); !ok {
			return
		}
	}
	if flags&setGet != 0 && !getGeneric(c, key) {
		return
	}
	if flags&(setNX|setXX) != 0 {
		found := c.DB.LookupWriteKey(key) != nil
		if (flags&setNX != 0 && found) || (flags&setXX != 0 && !found) {
			if flags&setGet == 0 {
				c.W.Null()
			}
			return
		}
	}
	e := c.DB.SetString(key, val, flags&setKeepTTL != 0)
	c.Dirty(1)
	c.Notify(NotifyString, "set", key)
	if expireArg != nil {
		c.DB.SetExpire(e, at)
		c.Notify(NotifyGeneric, "expire", key)
		if flags&setPXAT == 0 {
			// Replicas and the AOF get an absolute time, so a late replay expires the key
			// at the same instant.
			var buf [24]byte
			c.Rewrite(argSET, key, val, argPXAT, strconv.AppendInt(buf[:0], at, 10))
		}
	}
	if flags&setGet == 0 {
		c.W.OK()
	} else if expireArg == nil {
		// Propagate without GET: a replica has no one to reply to.
		c.Rewrite(c.withoutGet()...)
	}
}

// withoutGet returns the arguments minus the GET option.
func (c *Ctx) withoutGet() [][]byte {
	out := make([][]byte, 0, len(c.Argv))
	for i, a := range c.Argv {
		if i >= 3 && Is(a, "get") {
			continue
		}
		out = append(out, a)
	}
	return out
}

// stringInt reads a string value as an integer (getLongLongFromObject).
func stringInt(o *keyspace.Object) (int64, bool) {
	if o.Enc == keyspace.EncInt {
		return o.Int, true
	}
	return resp.ParseInt(o.Str)
}

func incrDecr(c *Ctx, incr int64) {
	e, ok := lookupString(c, c.Argv[1], true)
	if !ok {
		return
	}
	var value int64
	if e != nil {
		if value, ok = stringInt(&e.Value); !ok {
			c.Error(ErrNotInt)
			return
		}
	}
	if (incr < 0 && value < 0 && incr < -maxInt64-1-value) ||
		(incr > 0 && value > 0 && incr > maxInt64-value) {
		c.Error(ErrOverflow)
		return
	}
	value += incr
	if e == nil {
		c.DB.Add(c.Argv[1], keyspace.IntObject(value))
	} else {
		o := &e.Value
		o.Enc, o.Int, o.Str = keyspace.EncInt, value, nil
		c.DB.Modified(e)
	}
	c.Dirty(1)
	c.Notify(NotifyString, "incrby", c.Argv[1])
	c.W.Int(value)
}

func cmdIncrBy(c *Ctx) {
	n, ok := resp.ParseInt(c.Argv[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	incrDecr(c, n)
}

func cmdDecrBy(c *Ctx) {
	n, ok := resp.ParseInt(c.Argv[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if n == -maxInt64-1 {
		c.Error("ERR decrement would overflow")
		return
	}
	incrDecr(c, -n)
}

func cmdMSet(c *Ctx) {
	if len(c.Argv)%2 == 0 {
		c.WrongArity()
		return
	}
	for j := 1; j < len(c.Argv); j += 2 {
		c.DB.SetString(c.Argv[j], c.Argv[j+1], false)
		c.Notify(NotifyString, "set", c.Argv[j])
	}
	c.Dirty((len(c.Argv) - 1) / 2)
	c.W.OK()
}

func cmdMGet(c *Ctx) {
	c.W.ArrayLen(len(c.Argv) - 1)
	for _, key := range c.Argv[1:] {
		e := c.DB.LookupRead(key)
		if e == nil || e.Value.Type != keyspace.TypeString {
			c.W.Null()
			continue
		}
		replyString(c, &e.Value)
	}
}
