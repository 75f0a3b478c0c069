package keyspace

import (
	"errors"
	"iter"
	"slices"
)

// # Point-in-time views without fork
//
// Redis snapshots its dataset by forking: the child sees the memory as it was at the fork
// and the kernel copies a page only when the parent writes to it. A PointInTime does the
// same without a process, copying keys where the kernel copies pages:
//
//   - Begin locks every shard for an instant and marks every database part that holds
//     keys (one shard's slice of one database, a shardDB) as frozen, recording which
//     database it belonged to at that instant. Nothing is copied.
//   - From then on, the first change to a key of a frozen part (added, removed, looked up
//     for writing, its TTL changed) in a slot the consumer has not taken yet first records
//     the key as changed and, when it existed, keeps a copy of it as it still is:
//     copy-before-write. Each key is copied at most once, by whoever changes it first.
//   - The consumer walks the slots in order with Slot. With the slot's shard locked, it
//     copies the slot's keys that no one changed and takes the copies writers kept; it
//     encodes them all after unlocking. From then on, changes to the slot copy nothing.
//
// A copy is as cheap as a fork's page copy: a string (most values) is copied as it is, an
// entry and its bytes, so a client whose write lands on a key not saved yet pays well
// under a microsecond, not an RDB encoding. Values of the other types are encoded into
// RDB bytes at once, under the lock, since copying their structures would cost as much.
//
// Every slot is therefore encoded as it was at Begin. Whole-keyspace changes need no copy:
// FLUSHALL and FLUSHDB detach the parts (which nobody changes afterwards) and SWAPDB moves
// them, while the view remembers each part's database as of Begin. Handlers must change a
// value in place only after looking its key up with LookupWrite (as Redis's
// lookupKeyWrite), which is where the copy is taken.

// SlotEncoder encodes keys of one slot of database db, as they are while the encoder runs,
// appending to dst. It runs either with the slot's shard locked, possibly on a client's
// goroutine in the middle of its command, or on the consumer's goroutine over private
// copies; it must not call back into the keyspace. db has the view's time as Now and no
// effects batch.
type SlotEncoder func(dst []byte, db DB, slot int, keys iter.Seq[*Entry]) []byte

// PointInTime is a view of every key as it was when BeginPointInTime returned. It must
// be closed.
type PointInTime struct {
	ks     *Keyspace
	encode SlotEncoder
	now    int64
	// parts[shard][db] is the part of database db (as numbered at Begin) in the shard,
	// nil when it held no keys.
	parts   [NumShards][]*frozenPart
	keys    []int
	expires []int
	closed  bool
	// scratch is the consumer's copy of the slot it takes, its buffers reused slot after
	// slot.
	scratch slotCopy
}

// frozenPart is a shardDB under a point-in-time view. Its fields are guarded by the
// shard's lock.
type frozenPart struct {
	pit   *PointInTime
	sdb   *shardDB
	db    int
	shard int
	// done has a bit per slot of the shard: taken by the consumer already.
	done [slotsPerShard / 64]uint64
	// changed holds, per slot not taken yet, the keys writers changed since the instant.
	changed [slotsPerShard]*slotChanges
}

// slotChanges are the keys of a slot changed since the view's instant.
type slotChanges struct {
	// existed maps every changed key to whether it existed at the instant: the live entry
	// of such a key is not the view's, and the view's, if any, is in kept.
	existed map[string]bool
	kept    slotCopy
}

// slotCopy is keys as they were at the view's instant: strings as detached entries, every
// other key already encoded.
type slotCopy struct {
	strings []*Entry
	encoded []byte
	// entries and arena hold the consumer's detached strings, reused slot after slot.
	entries []Entry
	arena   []byte
}

// ErrPointInTimeOpen is BeginPointInTime's refusal while another view is open: like Redis,
// which runs one child at a time, the node takes one snapshot at a time.
var ErrPointInTimeOpen = errors.New("a point-in-time view of the keyspace is already open")

// BeginPointInTime starts a point-in-time view of the keyspace, whose slots encode
// encodes. It locks every shard for the instant it takes to mark the database parts;
// atBegin, when not nil, runs at that instant with every shard locked (the moment a
// replication offset or an AOF position corresponds to). now is the view's time in Unix
// milliseconds, handed to encode. Only one view can be open at a time.
func (ks *Keyspace) BeginPointInTime(now int64, encode SlotEncoder, atBegin func()) (*PointInTime, error) {
	if !ks.pitOpen.CompareAndSwap(false, true) {
		return nil, ErrPointInTimeOpen
	}
	pit := &PointInTime{ks: ks, encode: encode, now: now,
		keys: make([]int, ks.numDBs), expires: make([]int, ks.numDBs)}
	ks.LockShards(AllShards)
	defer ks.UnlockShards(AllShards)
	for i := range ks.shards {
		sh := &ks.shards[i]
		pit.parts[i] = make([]*frozenPart, ks.numDBs)
		for db, sdb := range sh.dbs {
			if sdb == nil || sdb.keys == 0 {
				continue
			}
			p := &frozenPart{pit: pit, sdb: sdb, db: db, shard: i}
			sdb.frozen = p
			pit.parts[i][db] = p
			pit.keys[db] += sdb.keys
			pit.expires[db] += sdb.expires.Len()
		}
	}
	if atBegin != nil {
		atBegin()
	}
	return pit, nil
}

// Keys returns the number of keys database db held at the view's instant (expired ones not
// yet deleted included, as DBSIZE counts them).
func (pit *PointInTime) Keys(db int) int { return pit.keys[db] }

// Expires returns the number of keys with a TTL database db held at the view's instant.
func (pit *PointInTime) Expires(db int) int { return pit.expires[db] }

// Now returns the view's time in Unix milliseconds.
func (pit *PointInTime) Now() int64 { return pit.now }

// Slot appends to dst the encoding of the keys slot of database db held at the view's
// instant, and returns it. Each slot can be taken once; a second call appends nothing.
func (pit *PointInTime) Slot(dst []byte, db, slot int) []byte {
	shIdx := slot & (NumShards - 1)
	p := pit.parts[shIdx][db]
	if p == nil {
		return dst
	}
	sh := &pit.ks.shards[shIdx]
	idx := slot / NumShards
	sh.mu.Lock()
	if p.isDone(idx) {
		sh.mu.Unlock()
		return dst
	}
	p.setDone(idx)
	changed := p.changed[idx]
	p.changed[idx] = nil
	p.copyUnchanged(idx, changed, &pit.scratch)
	sh.mu.Unlock()
	dst = p.encodeCopy(dst, slot, &pit.scratch)
	if changed != nil {
		dst = p.encodeCopy(dst, slot, &changed.kept)
	}
	return dst
}

// Close ends the view: writers stop copying keys. It is safe to call more than once.
func (pit *PointInTime) Close() {
	if pit.closed {
		return
	}
	pit.closed = true
	for i := range pit.parts {
		sh := &pit.ks.shards[i]
		sh.mu.Lock()
		for _, p := range pit.parts[i] {
			if p != nil && p.sdb.frozen == p {
				p.sdb.frozen = nil
			}
		}
		sh.mu.Unlock()
		pit.parts[i] = nil
	}
	pit.ks.pitOpen.Store(false)
}

func (p *frozenPart) isDone(idx int) bool { return p.done[idx/64]&(1<<uint(idx%64)) != 0 }

func (p *frozenPart) setDone(idx int) { p.done[idx/64] |= 1 << uint(idx%64) }

func (p *frozenPart) handle() DB { return DB{ks: p.pit.ks, Index: p.db, Now: p.pit.now} }

// copyUnchanged fills c, whose buffers it reuses, with the keys of slot idx that no writer
// changed since the instant; the shard is locked.
func (p *frozenPart) copyUnchanged(idx int, changed *slotChanges, c *slotCopy) {
	c.strings, c.encoded, c.entries, c.arena = c.strings[:0], c.encoded[:0], c.entries[:0], c.arena[:0]
	d := &p.sdb.slots[idx]
	n := d.Len()
	if n == 0 {
		return
	}
	// A detached entry holds its short key inside itself, so entries must not move while
	// they are added: room for every key is made first.
	c.entries = slices.Grow(c.entries, n)
	handle := p.handle()
	slot := idx*NumShards + p.shard
	size := 0
	d.Range(func(e *Entry) bool {
		if changed != nil {
			if _, ok := changed.existed[e.Key()]; ok {
				return true
			}
		}
		if e.Value.Type != TypeString {
			c.encoded = p.encodeOne(c.encoded, handle, slot, e)
			return true
		}
		c.entries = c.entries[:len(c.entries)+1]
		cp := &c.entries[len(c.entries)-1]
		e.CopyInto(cp)
		c.strings = append(c.strings, cp)
		size += len(e.Value.Str)
		return true
	})
	// Later writes rewrite values in place (SETRANGE, APPEND, a SET of the same length),
	// so the bytes are copied too, all into one buffer.
	c.arena = slices.Grow(c.arena, size)
	for _, cp := range c.strings {
		if o := &cp.Value; o.Str != nil {
			start := len(c.arena)
			c.arena = append(c.arena, o.Str...)
			o.Str = c.arena[start:len(c.arena):len(c.arena)]
		}
	}
}

// encodeOne appends the encoding of the single key e, as it is now, to dst: how a value
// other than a string is kept, copying its structure costing as much as encoding it.
func (p *frozenPart) encodeOne(dst []byte, handle DB, slot int, e *Entry) []byte {
	return p.pit.encode(dst, handle, slot, func(yield func(*Entry) bool) { yield(e) })
}

// encodeCopy appends the encoding of the keys in c to dst.
func (p *frozenPart) encodeCopy(dst []byte, slot int, c *slotCopy) []byte {
	dst = append(dst, c.encoded...)
	if len(c.strings) == 0 {
		return dst
	}
	return p.pit.encode(dst, p.handle(), slot, func(yield func(*Entry) bool) {
		for _, e := range c.strings {
			if !yield(e) {
				return
			}
		}
	})
}

// beforeChange is the copy-before-write hook: every path that changes a key of a part
// calls it, with the shard locked, before the change: with the key's entry when it
// exists, with the key's name when it is being added. It costs one nil check when no view
// is open.
func (sdb *shardDB) beforeChange(slot int, e *Entry, added []byte) {
	p := sdb.frozen
	if p == nil {
		return
	}
	idx := slot / NumShards
	if p.isDone(idx) {
		return
	}
	c := p.changed[idx]
	if c == nil {
		c = &slotChanges{existed: map[string]bool{}}
		p.changed[idx] = c
	}
	if e == nil {
		if _, ok := c.existed[string(added)]; !ok {
			c.existed[string(added)] = false
		}
		return
	}
	if _, ok := c.existed[e.Key()]; ok {
		return
	}
	if e.Value.Type != TypeString {
		c.existed[e.Key()] = true
		c.kept.encoded = p.encodeOne(c.kept.encoded, p.handle(), slot, e)
		return
	}
	cp := &Entry{}
	e.CopyInto(cp)
	if cp.Value.Str != nil {
		cp.Value.Str = slices.Clone(cp.Value.Str)
	}
	c.existed[cp.Key()] = true
	c.kept.strings = append(c.kept.strings, cp)
}
