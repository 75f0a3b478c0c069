package command

import (
	"github.com/clusterctl/clusterctl/node/datatype/bitops"
	"github.com/clusterctl/clusterctl/node/datatype/hll"
	"github.com/clusterctl/clusterctl/node/keyspace"
)

func registerBitmaps(t *Table) {
	t.Register("setbit", cmdSetBit)
	t.Register("getbit", cmdGetBit)
	t.Register("bitcount", cmdBitCount)
	t.Register("bitpos", cmdBitPos)
	t.Register("bitop", cmdBitOp)
	t.Register("bitfield", func(c *Ctx) { bitfield(c, false) })
	t.Register("bitfield_ro", func(c *Ctx) { bitfield(c, true) })
	t.Register("pfadd", cmdPFAdd)
	t.Register("pfcount", cmdPFCount)
	t.Register("pfmerge", cmdPFMerge)
}

// errReply sends an error from a datatype package, whose texts are Redis's replies.
func errReply(c *Ctx, err error) { c.Error(err.Error()) }

// stringForWrite returns the string at key made raw and private for an in-place change,
// creating an empty one when absent (lookupStringForBitCommand without the growth, which
// the bitops functions do); ok is false after a WRONGTYPE reply.
func stringForWrite(c *Ctx, key []byte) (e *keyspace.Entry, ok bool) {
	e, ok = lookupString(c, key, true)
	if !ok {
		return nil, false
	}
	if e == nil {
		e = c.DB.Add(key, keyspace.RawStringObject(nil))
	}
	unshare(&e.Value)
	return e, true
}

func cmdSetBit(c *Ctx) {
	offset, err := bitops.ParseOffset(c.Argv[2], c.Env.ProtoMaxBulkLen.Load())
	if err != nil {
		errReply(c, err)
		return
	}
	on, err := bitops.ParseBitValue(c.Argv[3])
	if err != nil {
		errReply(c, err)
		return
	}
	e, ok := stringForWrite(c, c.Argv[1])
	if !ok {
		return
	}
	val, old, changed := bitops.SetBit(e.Value.Str, offset, on)
	e.Value.Str = val
	c.DB.Modified(e)
	if changed {
		c.Dirty(1)
	}
	c.Notify(NotifyString, "setbit", c.Argv[1])
	c.W.Int(int64(old))
}

func cmdGetBit(c *Ctx) {
	offset, err := bitops.ParseOffset(c.Argv[2], c.Env.ProtoMaxBulkLen.Load())
	if err != nil {
		errReply(c, err)
		return
	}
	e, ok := lookupString(c, c.Argv[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(bitops.GetBit(e.Value.AppendString(nil), offset)))
}

func cmdBitCount(c *Ctx) {
	e, ok := lookupString(c, c.Argv[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.W.Int(0)
		return
	}
	n, err := bitops.Count(e.Value.AppendString(nil), c.Argv[2:])
	if err != nil {
		errReply(c, err)
		return
	}
	c.W.Int(n)
}

func cmdBitPos(c *Ctx) {
	bit, err := bitops.ParseBit(c.Argv[2])
	if err != nil {
		errReply(c, err)
		return
	}
	e, ok := lookupString(c, c.Argv[1], false)
	if !ok {
		return
	}
	if e == nil {
		if bit == 1 {
			c.W.Int(-1)
		} else {
			c.W.Int(0)
		}
		return
	}
	n, err := bitops.Pos(e.Value.AppendString(nil), bit, c.Argv[3:])
	if err != nil {
		errReply(c, err)
		return
	}
	c.W.Int(n)
}

func cmdBitOp(c *Ctx) {
	op, err := bitops.ParseBitop(c.Argv[1], len(c.Argv)-3)
	if err != nil {
		errReply(c, err)
		return
	}
	srcs := make([][]byte, 0, len(c.Argv)-3)
	for _, key := range c.Argv[3:] {
		e := c.DB.LookupRead(key)
		if e == nil {
			srcs = append(srcs, nil)
			continue
		}
		if e.Value.Type != keyspace.TypeString {
			c.Error(ErrWrongType)
			return
		}
		srcs = append(srcs, e.Value.AppendString(nil))
	}
	res := bitops.Bitop(op, srcs)
	dest := c.Argv[2]
	if len(res) > 0 {
		c.DB.Set(dest, keyspace.Object{Type: keyspace.TypeString, Enc: keyspace.EncRaw, Str: res}, false)
		c.Dirty(1)
		c.Notify(NotifyString, "set", dest)
	} else if c.DB.DeleteKey(dest) {
		c.Dirty(1)
		c.Notify(NotifyGeneric, "del", dest)
	}
	c.W.Int(int64(len(res)))
}

func bitfield(c *Ctx, readOnly bool) {
	bf, err := bitops.ParseBitfield(c.Argv[2:], readOnly, c.Env.ProtoMaxBulkLen.Load())
	if err != nil {
		errReply(c, err)
		return
	}
	var e *keyspace.Entry
	var val []byte
	if bf.Writes {
		var ok bool
		if e, ok = stringForWrite(c, c.Argv[1]); !ok {
			return
		}
		val = e.Value.Str
	} else {
		var ok bool
		if e, ok = lookupString(c, c.Argv[1], false); !ok {
			return
		}
		if e != nil {
			val = e.Value.AppendString(nil)
		}
	}
	newVal, results, changes := bf.Exec(val)
	if bf.Writes {
		e.Value.Str = newVal
		c.DB.Modified(e)
	}
	c.Dirty(changes)
	if changes > 0 {
		c.Notify(NotifyString, "setbit", c.Argv[1])
	}
	c.W.ArrayLen(len(results))
	for _, r := range results {
		if r.Nil {
			c.W.Null()
		} else {
			c.W.Int(r.Value)
		}
	}
}

// hllValue returns the string value of an HLL key; ok is false after WRONGTYPE for a
// non-string key (isHLLObjectOrReply's checkType; the package checks the HLL header).
func hllValue(c *Ctx, e *keyspace.Entry) ([]byte, bool) {
	if e == nil {
		return nil, true
	}
	if e.Value.Type != keyspace.TypeString {
		c.Error(ErrWrongType)
		return nil, false
	}
	// Checked key by key, as isHLLObjectOrReply is called on each key in argument order:
	// which error a command with several bad keys replies depends on it.
	v := e.Value.AppendString(nil)
	if err := hll.Validate(v); err != nil {
		errReply(c, err)
		return nil, false
	}
	return v, true
}

func cmdPFAdd(c *Ctx) {
	e := c.DB.LookupWriteKey(c.Argv[1])
	val, ok := hllValue(c, e)
	if !ok {
		return
	}
	newVal, changed, err := hll.Add(val, c.Argv[2:], int(c.Env.HLLSparseMaxBytes.Load()))
	if err != nil {
		errReply(c, err)
		return
	}
	if changed {
		storeRaw(c, c.Argv[1], e, newVal)
		c.Dirty(1)
		c.Notify(NotifyString, "pfadd", c.Argv[1])
		c.W.Int(1)
		return
	}
	c.W.Int(0)
}

// storeRaw stores b as a raw string at key, in place when e is the key's entry.
func storeRaw(c *Ctx, key []byte, e *keyspace.Entry, b []byte) {
	if e == nil {
		c.DB.Add(key, keyspace.Object{Type: keyspace.TypeString, Enc: keyspace.EncRaw, Str: b})
		return
	}
	e.Value.Enc, e.Value.Str, e.Value.Int = keyspace.EncRaw, b, 0
	c.DB.Modified(e)
}

func cmdPFCount(c *Ctx) {
	keys := c.Argv[1:]
	vals := make([][]byte, len(keys))
	entries := make([]*keyspace.Entry, len(keys))
	for i, key := range keys {
		var v []byte
		ok := false
		if len(keys) == 1 {
			entries[i] = c.DB.LookupWriteKey(key)
			v, ok = hllValue(c, entries[i])
		} else {
			entries[i] = c.DB.LookupRead(key)
			v, ok = hllMergeable(c, entries[i])
		}
		if !ok {
			return
		}
		vals[i] = v
	}
	card, updates, err := hll.Count(vals)
	if err != nil {
		errReply(c, err)
		return
	}
	if len(keys) == 1 && len(updates) == 1 && updates[0] != nil && entries[0] != nil {
		// Refreshing the cached cardinality is a write Redis replicates, so replicas keep
		// byte-identical values.
		storeRaw(c, keys[0], entries[0], updates[0])
		c.Dirty(1)
		c.SignalModified(keys[0])
	}
	c.W.Int(int64(card))
}

// hllMergeable is hllValue for the keys PFMERGE and a multi-key PFCOUNT merge: Redis
// merges each key's registers right after checking its type, so a corrupted HyperLogLog
// is reported before a later key's WRONGTYPE.
func hllMergeable(c *Ctx, e *keyspace.Entry) ([]byte, bool) {
	v, ok := hllValue(c, e)
	if !ok || v == nil {
		return v, ok
	}
	if _, err := hll.Merge(nil, [][]byte{v}, 0); err != nil {
		errReply(c, err)
		return nil, false
	}
	return v, true
}

func cmdPFMerge(c *Ctx) {
	// The destination takes part in the union and is checked first (pfmergeCommand
	// walks argv[1:]).
	e := c.DB.LookupWriteKey(c.Argv[1])
	dst, ok := hllMergeable(c, e)
	if !ok {
		return
	}
	srcs := make([][]byte, 0, len(c.Argv)-2)
	for _, key := range c.Argv[2:] {
		v, ok := hllMergeable(c, c.DB.LookupRead(key))
		if !ok {
			return
		}
		srcs = append(srcs, v)
	}
	merged, err := hll.Merge(dst, srcs, int(c.Env.HLLSparseMaxBytes.Load()))
	if err != nil {
		errReply(c, err)
		return
	}
	storeRaw(c, c.Argv[1], e, merged)
	c.Dirty(1)
	c.Notify(NotifyString, "pfadd", c.Argv[1])
	c.W.OK()
}
