package keyspace

import (
	"unsafe"

	"github.com/clusterctl/clusterctl/node/effects"
	"github.com/clusterctl/clusterctl/node/hashslot"
	"github.com/clusterctl/clusterctl/node/keyspace/dict"
)

// DB is one command's handle on one database: the database index, the time the command
// runs at and the batch collecting its effects. It is a small value, created per command.
//
// Methods that take a key or an entry require the caller to hold the key's shard lock.
type DB struct {
	ks *Keyspace
	// Index is the database number.
	Index int
	// Now is the command's time in unix milliseconds; expiry is judged against it.
	Now int64
	// Effects receives the deletions of keys found expired.
	Effects *effects.Batch
	// Held is the mask of shards the caller already holds for longer than one command
	// (a script or a transaction runs its commands with every shard locked). The
	// operations that lock shards themselves skip these, so such commands do not
	// deadlock on their own locks.
	Held uint64

	// primed caches the slots of the command's key arguments, computed once when the
	// dispatcher locked their shards (see PrimeSlot).
	primed  [8]primedSlot
	nPrimed int
}

type primedSlot struct {
	p    *byte
	n    int
	slot int
}

// PrimeSlot records that key (an argument slice, immutable for the command) hashes to
// slot, so lookups of that very slice skip the CRC. ResetPrimed forgets them; the
// dispatcher calls it before every command because argument buffers are reused.
func (db *DB) PrimeSlot(key []byte, slot int) {
	if db.nPrimed < len(db.primed) && len(key) > 0 {
		db.primed[db.nPrimed] = primedSlot{unsafe.SliceData(key), len(key), slot}
		db.nPrimed++
	}
}

// ResetPrimed forgets the primed slots.
func (db *DB) ResetPrimed() { db.nPrimed = 0 }

func (db *DB) slotOf(key []byte) int {
	if len(key) > 0 {
		p := unsafe.SliceData(key)
		for i := 0; i < db.nPrimed; i++ {
			if db.primed[i].p == p && db.primed[i].n == len(key) {
				return db.primed[i].slot
			}
		}
	}
	return hashslot.Of(key)
}

// Keyspace returns the keyspace the handle belongs to.
func (db *DB) Keyspace() *Keyspace { return db.ks }

// WithIndex returns a handle on another database with the same time and effects.
func (db *DB) WithIndex(index int) DB {
	c := *db
	c.Index = index
	return c
}

func (db *DB) shardDB(slot int, create bool) (*shard, *shardDB) {
	sh := &db.ks.shards[slot&(NumShards-1)]
	sdb := sh.dbs[db.Index]
	if sdb == nil && create {
		sdb = &shardDB{}
		sh.dbs[db.Index] = sdb
	}
	return sh, sdb
}

// LookupFlags adjust a lookup (Redis's LOOKUP_* flags).
type LookupFlags uint8

const (
	// LookupWrite is a lookup by a write command: it does not count hits and misses.
	LookupWrite LookupFlags = 1 << iota
	// LookupNoTouch leaves the key's LRU/LFU data alone (TYPE, OBJECT, TTL, EXISTS...).
	LookupNoTouch
	// LookupNoStats counts neither hit nor miss.
	LookupNoStats
	// LookupNoExpire returns a logically expired key without deleting it.
	LookupNoExpire
)

// Lookup returns the live entry for key, or nil. An expired key is deleted on the way
// (lazy expiry) and its DEL recorded in the effects, as Redis's expireIfNeeded.
func (db *DB) Lookup(key []byte, flags LookupFlags) *Entry {
	slot := db.slotOf(key)
	sh, sdb := db.shardDB(slot, false)
	var e *Entry
	if sdb != nil {
		e = sdb.slotDict(slot).FindBytes(key)
	}
	if e != nil && e.Value.expire != 0 && db.Now > e.Value.expire {
		if flags&LookupNoExpire == 0 {
			db.deleteExpired(sh, sdb, e)
		}
		e = nil
	}
	if e != nil && flags&LookupWrite != 0 {
		sdb.beforeChange(slot, e, nil) // the caller may change the value in place
	}
	if flags&(LookupWrite|LookupNoStats) == 0 {
		if e != nil {
			sh.hits.Add(1)
		} else {
			sh.misses.Add(1)
		}
	}
	if e != nil && flags&LookupNoTouch == 0 {
		db.touch(&e.Value)
	}
	return e
}

// LookupRead is Lookup for a read command (lookupKeyRead).
func (db *DB) LookupRead(key []byte) *Entry { return db.Lookup(key, 0) }

// LookupWriteKey is Lookup for a write command (lookupKeyWrite).
func (db *DB) LookupWriteKey(key []byte) *Entry { return db.Lookup(key, LookupWrite) }

// Exists reports whether key is live, without touching it or counting stats.
func (db *DB) Exists(key []byte) bool {
	return db.Lookup(key, LookupNoTouch|LookupNoStats) != nil
}

func (db *DB) deleteExpired(sh *shard, sdb *shardDB, e *Entry) {
	key := e.Key()
	db.unlink(sh, sdb, e)
	sh.expired.Add(1)
	if db.Effects != nil {
		db.Effects.AddStrings(db.Index, db.ks.expireCommand(), key)
	}
	if ev := db.ks.events; ev != nil {
		ev.KeyExpired(db.Index, key)
	}
}

func (ks *Keyspace) expireCommand() string {
	if ks.lazyfreeExpire.Load() {
		return "UNLINK"
	}
	return "DEL"
}

// unlink removes e from its slot table and the expires table.
func (db *DB) unlink(sh *shard, sdb *shardDB, e *Entry) {
	slot := int(e.Value.slot)
	sdb.beforeChange(slot, e, nil)
	sdb.slotDict(slot).Delete(e.Key())
	if e.Value.expire != 0 {
		sdb.expires.Delete(e.Key())
	}
	sdb.keys--
	sh.used.Add(-e.Value.size)
}

// Add stores a new key, which must not exist (dbAdd), and returns its entry.
func (db *DB) Add(key []byte, o Object) *Entry {
	slot := db.slotOf(key)
	sh, sdb := db.shardDB(slot, true)
	sdb.beforeChange(slot, nil, key)
	e, _ := sdb.slotDict(slot).UpsertBytes(key)
	db.init(sh, sdb, e, slot, o)
	if ev := db.ks.events; ev != nil {
		ev.KeyCreated(db.Index, key)
	}
	return e
}

func (db *DB) init(sh *shard, sdb *shardDB, e *Entry, slot int, o Object) {
	o.slot = uint16(slot)
	o.expire = 0
	o.size = 0
	o.lru = db.ks.initialLRU(db.Now)
	e.Value = o
	sdb.keys++
	db.account(sh, e)
}

// Set stores o under key, replacing any value (setKey). The old TTL is dropped unless
// keepTTL. Under an LFU policy the access counter survives the overwrite, as in
// dbOverwrite.
func (db *DB) Set(key []byte, o Object, keepTTL bool) *Entry {
	e := db.Lookup(key, LookupWrite|LookupNoTouch)
	if e == nil {
		return db.Add(key, o)
	}
	db.overwrite(e, o, keepTTL)
	return e
}

func (db *DB) overwrite(e *Entry, o Object, keepTTL bool) {
	sh, sdb := db.shardDB(int(e.Value.slot), false)
	old := &e.Value
	if !keepTTL && old.expire != 0 {
		sdb.expires.Delete(e.Key())
		old.expire = 0
	}
	o.slot, o.expire, o.size = old.slot, old.expire, old.size
	if db.ks.Policy().isLFU() {
		o.lru = old.lru
	} else {
		o.lru = db.ks.initialLRU(db.Now)
	}
	*old = o
	db.account(sh, e)
}

// SetString stores a string value under key (SET's hot path): it reuses the existing
// value's buffer when it can, so overwriting a key allocates nothing.
func (db *DB) SetString(key, val []byte, keepTTL bool) *Entry {
	e := db.Lookup(key, LookupWrite|LookupNoTouch)
	if e == nil {
		return db.Add(key, StringObject(val))
	}
	sh, sdb := db.shardDB(int(e.Value.slot), false)
	o := &e.Value
	if !keepTTL && o.expire != 0 {
		sdb.expires.Delete(e.Key())
		o.expire = 0
	}
	if o.Type != TypeString {
		o.Ptr = nil
	}
	o.SetString(val)
	if !db.ks.Policy().isLFU() {
		o.lru = db.ks.initialLRU(db.Now)
	}
	db.account(sh, e)
	return e
}

// Delete removes the key of e (dbDelete).
func (db *DB) Delete(e *Entry) {
	sh, sdb := db.shardDB(int(e.Value.slot), false)
	db.unlink(sh, sdb, e)
}

// DeleteKey removes key if it is live and reports whether it was.
func (db *DB) DeleteKey(key []byte) bool {
	e := db.Lookup(key, LookupWrite|LookupNoTouch)
	if e == nil {
		return false
	}
	db.Delete(e)
	return true
}

// Modified re-accounts the memory of e after its value was changed in place (INCR,
// APPEND, SETRANGE...). It is also where signalModifiedKey's WATCH invalidation will hook.
func (db *DB) Modified(e *Entry) {
	sh := &db.ks.shards[int(e.Value.slot)&(NumShards-1)]
	db.account(sh, e)
}

func (db *DB) account(sh *shard, e *Entry) {
	n := e.Value.memoryUsage(len(e.Key()))
	sh.used.Add(n - e.Value.size)
	e.Value.size = n
}

// MemoryUsage returns the bytes accounted for the key of e (MEMORY USAGE).
func (db *DB) MemoryUsage(e *Entry) int64 { return e.Value.size }

// Expire returns the absolute expiry of e in unix milliseconds, 0 when persistent.
func (db *DB) Expire(e *Entry) int64 { return e.Value.expire }

// SetExpire sets the absolute expiry of e (setExpire). A time in the past still sets it;
// callers that want EXPIRE's "delete at once" behaviour check first.
func (db *DB) SetExpire(e *Entry, at int64) {
	sh, sdb := db.shardDB(int(e.Value.slot), false)
	sdb.beforeChange(int(e.Value.slot), e, nil)
	if e.Value.expire == 0 {
		x, _ := sdb.expires.Upsert(e.Key())
		x.Value = e
	}
	e.Value.expire = at
	db.account(sh, e)
}

// Persist removes the expiry of e and reports whether it had one.
func (db *DB) Persist(e *Entry) bool {
	if e.Value.expire == 0 {
		return false
	}
	sh, sdb := db.shardDB(int(e.Value.slot), false)
	sdb.beforeChange(int(e.Value.slot), e, nil)
	sdb.expires.Delete(e.Key())
	e.Value.expire = 0
	db.account(sh, e)
	return true
}

// Slot returns the hash slot of e's key.
func (db *DB) Slot(e *Entry) int { return int(e.Value.slot) }

// CountKeysInSlot returns the number of keys of slot; the caller holds the slot's shard.
func (db *DB) CountKeysInSlot(slot int) int {
	_, sdb := db.shardDB(slot, false)
	if sdb == nil {
		return 0
	}
	return sdb.slotDict(slot).Len()
}

// KeysInSlot calls fn for up to count keys of slot; the caller holds the slot's shard.
func (db *DB) KeysInSlot(slot, count int, fn func(key string)) {
	_, sdb := db.shardDB(slot, false)
	if sdb == nil {
		return
	}
	d := sdb.slotDict(slot)
	d.Range(func(e *dict.Entry[Object]) bool {
		if count <= 0 {
			return false
		}
		count--
		fn(e.Key())
		return true
	})
}
