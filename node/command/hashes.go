package command

import (
	"math/big"
	"strconv"

	"github.com/clusterctl/clusterctl/node/datatype/hash"
	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/resp"
)

// registerHashes adds the hashes commands to the table.
func registerHashes(t *Table) {
	t.Register("hset", func(c *Ctx) { hsetGeneric(c, false) })
	t.Register("hmset", func(c *Ctx) { hsetGeneric(c, true) })
	t.Register("hsetnx", cmdHSetNX)
	t.Register("hget", cmdHGet)
	t.Register("hmget", cmdHMGet)
	t.Register("hdel", cmdHDel)
	t.Register("hlen", cmdHLen)
	t.Register("hstrlen", cmdHStrlen)
	t.Register("hexists", cmdHExists)
	t.Register("hincrby", cmdHIncrBy)
	t.Register("hincrbyfloat", cmdHIncrByFloat)
	t.Register("hkeys", func(c *Ctx) { hgetallGeneric(c, true, false) })
	t.Register("hvals", func(c *Ctx) { hgetallGeneric(c, false, true) })
	t.Register("hgetall", func(c *Ctx) { hgetallGeneric(c, true, true) })
	t.Register("hrandfield", cmdHRandField)
	t.Register("hscan", cmdHScan)
}

func hashLimits(c *Ctx) hash.Limits {
	return hash.Limits{
		MaxListpackEntries: c.Env.HashMaxListpackEntries.Load(),
		MaxListpackValue:   c.Env.HashMaxListpackValue.Load(),
	}
}

// hashObject wraps a hash as a keyspace value.
func hashObject(h *hash.Hash) keyspace.Object {
	o := keyspace.Object{Type: keyspace.TypeHash, Ptr: h}
	setHashEncoding(&o)
	return o
}

// setHashEncoding keeps the value's encoding (OBJECT ENCODING, DEBUG OBJECT) in step
// with the hash's.
func setHashEncoding(o *keyspace.Object) {
	if o.Ptr.(*hash.Hash).IsListpack() {
		o.Enc = keyspace.EncListpack
	} else {
		o.Enc = keyspace.EncHashtable
	}
}

// lookupHash returns the hash at key, nil when the key is missing; ok is false after
// replying WRONGTYPE.
func lookupHash(c *Ctx, key []byte, write bool) (*keyspace.Entry, *hash.Hash, bool) {
	e, ok := lookupKind(c, key, keyspace.TypeHash, write)
	if e == nil {
		return nil, nil, ok
	}
	return e, e.Value.Ptr.(*hash.Hash), true
}

// lookupHashOrCreate is hashTypeLookupWriteOrCreate: the hash at key, created empty when
// missing.
func lookupHashOrCreate(c *Ctx, key []byte) (*keyspace.Entry, *hash.Hash, bool) {
	e, h, ok := lookupHash(c, key, true)
	if !ok || e != nil {
		return e, h, ok
	}
	h = hash.New()
	return c.DB.Add(key, hashObject(h)), h, true
}

// hashModified re-accounts a changed hash, deleting its key (with a "del" event) when it
// emptied.
func hashModified(c *Ctx, e *keyspace.Entry, h *hash.Hash, key []byte) {
	if h.Len() == 0 {
		c.DB.Delete(e)
		c.Notify(NotifyGeneric, "del", key)
		return
	}
	setHashEncoding(&e.Value)
	c.DB.Modified(e)
}

// hsetGeneric is HSET and HMSET (hsetCommand); they differ in their reply only.
func hsetGeneric(c *Ctx, hmset bool) {
	if len(c.Argv)%2 == 1 {
		c.WrongArity()
		return
	}
	e, h, ok := lookupHashOrCreate(c, c.Argv[1])
	if !ok {
		return
	}
	lim := hashLimits(c)
	h.TryConversion(lim, c.Argv[2:])
	created := 0
	for i := 2; i < len(c.Argv); i += 2 {
		if !h.Set(string(c.Argv[i]), string(c.Argv[i+1]), lim) {
			created++
		}
	}
	hashModified(c, e, h, c.Argv[1])
	c.Dirty((len(c.Argv) - 2) / 2)
	c.Notify(NotifyHash, "hset", c.Argv[1])
	if hmset {
		c.W.OK()
	} else {
		c.W.Int(int64(created))
	}
}

func cmdHSetNX(c *Ctx) {
	e, h, ok := lookupHashOrCreate(c, c.Argv[1])
	if !ok {
		return
	}
	if h.Exists(c.Argv[2]) {
		c.W.Int(0)
		return
	}
	// Redis converts only when it is about to add the field (hsetnxCommand): a too long
	// value given for an existing field leaves a listpack alone.
	lim := hashLimits(c)
	h.TryConversion(lim, c.Argv[2:4])
	h.Set(string(c.Argv[2]), string(c.Argv[3]), lim)
	hashModified(c, e, h, c.Argv[1])
	c.Dirty(1)
	c.Notify(NotifyHash, "hset", c.Argv[1])
	c.W.Int(1)
}

func cmdHGet(c *Ctx) {
	_, h, ok := lookupHash(c, c.Argv[1], false)
	if !ok {
		return
	}
	if h == nil {
		c.W.Null()
		return
	}
	if v, found := h.GetBytes(c.Argv[2]); found {
		c.W.BulkString(v)
	} else {
		c.W.Null()
	}
}

func cmdHMGet(c *Ctx) {
	_, h, ok := lookupHash(c, c.Argv[1], false)
	if !ok {
		return
	}
	c.W.ArrayLen(len(c.Argv) - 2)
	for _, f := range c.Argv[2:] {
		if h == nil {
			c.W.Null()
			continue
		}
		if v, found := h.GetBytes(f); found {
			c.W.BulkString(v)
		} else {
			c.W.Null()
		}
	}
}

func cmdHDel(c *Ctx) {
	e, h, ok := lookupHash(c, c.Argv[1], true)
	if !ok {
		return
	}
	if h == nil {
		c.W.Int(0)
		return
	}
	deleted := 0
	for _, f := range c.Argv[2:] {
		if h.Delete(f) {
			deleted++
			if h.Len() == 0 {
				break
			}
		}
	}
	if deleted > 0 {
		c.Notify(NotifyHash, "hdel", c.Argv[1])
		hashModified(c, e, h, c.Argv[1])
	}
	c.Dirty(deleted)
	c.W.Int(int64(deleted))
}

func cmdHLen(c *Ctx) {
	_, h, ok := lookupHash(c, c.Argv[1], false)
	if !ok {
		return
	}
	if h == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(h.Len()))
}

func cmdHStrlen(c *Ctx) {
	_, h, ok := lookupHash(c, c.Argv[1], false)
	if !ok {
		return
	}
	if h == nil {
		c.W.Int(0)
		return
	}
	v, _ := h.GetBytes(c.Argv[2])
	c.W.Int(int64(len(v)))
}

func cmdHExists(c *Ctx) {
	_, h, ok := lookupHash(c, c.Argv[1], false)
	if !ok {
		return
	}
	if h != nil && h.Exists(c.Argv[2]) {
		c.W.Int(1)
		return
	}
	c.W.Int(0)
}

func cmdHIncrBy(c *Ctx) {
	incr, ok := resp.ParseInt(c.Argv[3])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	e, h, ok := lookupHashOrCreate(c, c.Argv[1])
	if !ok {
		return
	}
	var value int64
	if v, found := h.GetBytes(c.Argv[2]); found {
		if value, ok = resp.ParseInt([]byte(v)); !ok {
			c.Error("ERR hash value is not an integer")
			return
		}
	}
	if (incr < 0 && value < 0 && incr < -maxInt64-1-value) ||
		(incr > 0 && value > 0 && incr > maxInt64-value) {
		c.Error(ErrOverflow)
		return
	}
	value += incr
	h.Set(string(c.Argv[2]), strconv.FormatInt(value, 10), hashLimits(c))
	hashModified(c, e, h, c.Argv[1])
	c.Dirty(1)
	c.Notify(NotifyHash, "hincrby", c.Argv[1])
	c.W.Int(value)
}

var argHSET = []byte("HSET")

func cmdHIncrByFloat(c *Ctx) {
	incr, ok := parseLongDouble(c.Argv[3])
	if !ok {
		c.Error(ErrNotFloat)
		return
	}
	if incr.IsInf() {
		c.Error("ERR value is NaN or Infinity")
		return
	}
	e, h, ok := lookupHashOrCreate(c, c.Argv[1])
	if !ok {
		return
	}
	value := new(big.Float).SetPrec(longDoublePrec)
	if v, found := h.GetBytes(c.Argv[2]); found {
		if value, ok = parseLongDouble([]byte(v)); !ok {
			c.Error("ERR hash value is not a float")
			return
		}
	}
	value.SetPrec(longDoublePrec).Add(value, incr) // incr is finite: no Inf-Inf
	if exp := value.MantExp(nil); value.IsInf() || exp > 16384 {
		c.Error("ERR increment would produce NaN or Infinity")
		return
	}
	out := formatLongDouble(value)
	h.Set(string(c.Argv[2]), out, hashLimits(c))
	hashModified(c, e, h, c.Argv[1])
	c.Dirty(1)
	c.Notify(NotifyHash, "hincrbyfloat", c.Argv[1])
	c.W.BulkString(out)
	// Replicated as HSET with the result, so float formatting on a replica or an AOF
	// reload cannot differ.
	c.Rewrite(argHSET, c.Argv[1], c.Argv[2], []byte(out))
}

// hgetallGeneric is HKEYS, HVALS and HGETALL (genericHgetallCommand): a map when both
// fields and values are asked for, an array otherwise.
func hgetallGeneric(c *Ctx, fields, values bool) {
	_, h, ok := lookupHash(c, c.Argv[1], false)
	if !ok {
		return
	}
	n := 0
	if h != nil {
		n = h.Len()
	}
	if fields && values {
		c.W.MapLen(n)
	} else {
		c.W.ArrayLen(n)
	}
	if h == nil {
		return
	}
	h.Each(func(name, value string) bool {
		if fields {
			c.W.BulkString(name)
		}
		if values {
			c.W.BulkString(value)
		}
		return true
	})
}

func cmdHRandField(c *Ctx) {
	a, err := hash.ParseRandArgs(c.Argv[2:])
	if err != nil {
		c.Error(err.Error())
		return
	}
	_, h, ok := lookupHash(c, c.Argv[1], false)
	if !ok {
		return
	}
	if !a.HasCount {
		if h == nil {
			c.W.Null()
			return
		}
		f, _ := h.Random()
		c.W.BulkString(f.Name)
		return
	}
	if h == nil {
		c.W.ArrayLen(0)
		return
	}
	fields := h.RandomFields(a.Count)
	resp3 := c.W.Proto >= 3
	switch {
	case a.WithValues && !resp3:
		c.W.ArrayLen(2 * len(fields))
	default:
		c.W.ArrayLen(len(fields))
	}
	for _, f := range fields {
		if a.WithValues && resp3 {
			c.W.ArrayLen(2)
		}
		c.W.BulkString(f.Name)
		if a.WithValues {
			c.W.BulkString(f.Value)
		}
	}
}

func cmdHScan(c *Ctx) {
	cursor, ok := parseScanCursor(c, c.Argv[2])
	if !ok {
		return
	}
	_, h, ok := lookupHash(c, c.Argv[1], false)
	if !ok {
		return
	}
	if h == nil {
		replyEmptyScan(c)
		return
	}
	opts, ok := parseScanOptions(c, 3)
	if !ok {
		return
	}
	var out []string
	next := h.Scan(cursor, opts.count, func(name, value string) {
		if opts.match(name) {
			out = append(out, name, value)
		}
	})
	replyScan(c, next, out)
}
