package keyspace

import (
	"errors"
	"iter"
)

// # Point-in-time views without fork
//
// Redis snapshots its dataset by forking: the child sees the memory as it was at the fork
// and the kernel copies a page only when the parent writes to it. A PointInTime does the
// same at the granularity of a hash slot, without a process:
//
//   - Begin locks every shard for an instant and marks every database part that holds
//     keys (one shard's slice of one database, a shardDB) as frozen, recording which
//     database it belonged to at that instant. Nothing is copied.
//   - From then on, the first change to a slot of a frozen part (a key added, removed,
//     looked up for writing, its TTL changed) first encodes the whole slot as it still is,
//     with the slot's shard locked, and keeps the bytes: copy-before-write. Each slot is
//     encoded at most once, by whoever reaches it first.
//   - The consumer walks the slots in order with Slot: a slot already encoded by a writer
//     hands over its bytes; any other slot is unchanged since Begin, and is encoded then
//     with its shard locked for just that slot.
//
// Every slot is therefore encoded as it was at Begin. Whole-keyspace changes need no copy:
// FLUSHALL and FLUSHDB detach the parts (which nobody changes afterwards) and SWAPDB moves
// them, while the view remembers each part's database as of Begin. Handlers must change a
// value in place only after looking its key up with LookupWrite (as Redis's
// lookupKeyWrite), which is where the copy is taken.

// SlotEncoder encodes the keys of one slot of database db, as they are while the encoder
// runs, appending to dst. It runs with the slot's shard locked, possibly on a client's
// goroutine in the middle of its command, and must not call back into the keyspace; db
// has the view's time as Now and no effects batch.
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
}

// frozenPart is a shardDB under a point-in-time view. Its fields are guarded by the
// shard's lock.
type frozenPart struct {
	pit   *PointInTime
	sdb   *shardDB
	db    int
	shard int
	// done has a bit per slot of the shard: encoded already, by a writer or by Slot.
	done [slotsPerShard / 64]uint64
	// saved holds the slots writers encoded before changing them, until Slot takes them.
	saved [slotsPerShard][]byte
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
	sh.mu.Lock()
	defer sh.mu.Unlock()
	idx := slot / NumShards
	if p.isDone(idx) {
		dst = append(dst, p.saved[idx]...)
		p.saved[idx] = nil
		return dst
	}
	p.setDone(idx)
	return p.encodeSlot(dst, idx)
}

// Close ends the view: writers stop copying slots. It is safe to call more than once.
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

func (p *frozenPart) encodeSlot(dst []byte, idx int) []byte {
	d := &p.sdb.slots[idx]
	if d.Len() == 0 {
		return dst
	}
	handle := DB{ks: p.pit.ks, Index: p.db, Now: p.pit.now}
	return p.pit.encode(dst, handle, idx*NumShards+p.shard, func(yield func(*Entry) bool) {
		d.Range(yield)
	})
}

// beforeChange is the copy-before-write hook: every path that changes a key of a part
// calls it, with the shard locked, before the change. It costs one nil check when no view
// is open.
func (sdb *shardDB) beforeChange(slot int) {
	if p := sdb.frozen; p != nil {
		idx := slot / NumShards
		if !p.isDone(idx) {
			p.setDone(idx)
			p.saved[idx] = p.encodeSlot(nil, idx)
		}
	}
}
