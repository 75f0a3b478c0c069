package keyspace

import (
	"math/rand/v2"
	"sort"

	"github.com/clusterctl/clusterctl/node/effects"
	"github.com/clusterctl/clusterctl/node/keyspace/dict"
)

// Policy is a maxmemory-policy.
type Policy int32

// The eviction policies, in redis.conf's spelling.
const (
	NoEviction Policy = iota
	AllKeysLRU
	AllKeysLFU
	AllKeysRandom
	VolatileLRU
	VolatileLFU
	VolatileRandom
	VolatileTTL
)

var policyNames = [...]string{"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
	"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}

// String returns the redis.conf name of the policy.
func (p Policy) String() string { return policyNames[p] }

// ParsePolicy maps a maxmemory-policy name to a Policy.
func ParsePolicy(name string) (Policy, bool) {
	for i, n := range policyNames {
		if n == name {
			return Policy(i), true
		}
	}
	return 0, false
}

func (p Policy) isLFU() bool      { return p == AllKeysLFU || p == VolatileLFU }
func (p Policy) isLRU() bool      { return p == AllKeysLRU || p == VolatileLRU }
func (p Policy) isVolatile() bool { return p >= VolatileLRU }

// IsLFU reports whether the policy tracks access frequency (OBJECT FREQ works).
func (p Policy) IsLFU() bool { return p.isLFU() }

// Policy returns the current eviction policy.
func (ks *Keyspace) Policy() Policy { return Policy(ks.policy.Load()) }

// SetPolicy changes the eviction policy (CONFIG SET maxmemory-policy).
func (ks *Keyspace) SetPolicy(p Policy) { ks.policy.Store(int32(p)) }

// SetLFU sets lfu-log-factor and lfu-decay-time.
func (ks *Keyspace) SetLFU(logFactor, decayTime int64) {
	ks.lfuLogFactor.Store(logFactor)
	ks.lfuDecayTime.Store(decayTime)
}

// SetSamples sets maxmemory-samples.
func (ks *Keyspace) SetSamples(n int64) {
	if n < 1 {
		n = 1
	}
	ks.samples.Store(n)
}

// LRU clock, as evict.c: seconds, 24 bits, wrapping.
const (
	lruClockMax = 1<<24 - 1
	lfuInitVal  = 5
)

func lruClock(nowMs int64) uint32 { return uint32(nowMs/1000) & lruClockMax }

func lfuMinutes(nowMs int64) uint32 { return uint32(nowMs/60000) & 0xffff }

func (ks *Keyspace) initialLRU(nowMs int64) uint32 {
	if ks.Policy().isLFU() {
		return lfuMinutes(nowMs)<<8 | lfuInitVal
	}
	return lruClock(nowMs)
}

// touch updates the access data of o on a lookup (lookupKey's LRU/LFU update).
func (db *DB) touch(o *Object) {
	if db.ks.Policy().isLFU() {
		counter := db.ks.lfuDecr(o, db.Now)
		counter = db.ks.lfuLogIncr(counter)
		o.lru = lfuMinutes(db.Now)<<8 | uint32(counter)
		return
	}
	o.lru = lruClock(db.Now)
}

// IdleTime returns the seconds since e was last accessed (OBJECT IDLETIME), meaningful
// under a non-LFU policy.
func (db *DB) IdleTime(e *Entry) int64 { return idleMs(e.Value.lru, db.Now) / 1000 }

// Frequency returns e's logarithmic access counter after decay (OBJECT FREQ), meaningful
// under an LFU policy.
func (db *DB) Frequency(e *Entry) int { return db.ks.lfuDecr(&e.Value, db.Now) }

func idleMs(lru uint32, nowMs int64) int64 {
	clock := lruClock(nowMs)
	if clock >= lru {
		return int64(clock-lru) * 1000
	}
	return int64(clock+(lruClockMax-lru)) * 1000
}

// lfuDecr returns the counter of o decremented by one per lfu-decay-time minutes elapsed
// since its last decrement (LFUDecrAndReturn).
func (ks *Keyspace) lfuDecr(o *Object, nowMs int64) int {
	ldt := o.lru >> 8
	counter := int(o.lru & 255)
	decay := ks.lfuDecayTime.Load()
	if decay <= 0 {
		return counter
	}
	now := lfuMinutes(nowMs)
	var elapsed uint32
	if now >= ldt {
		elapsed = now - ldt
	} else {
		elapsed = 65535 - ldt + now
	}
	periods := int(int64(elapsed) / decay)
	if periods > counter {
		return 0
	}
	return counter - periods
}

// lfuLogIncr increments a logarithmic counter with probability 1/((c-5)·factor+1)
// (LFULogIncr): the counter reaches 255 after about a million accesses at factor 10.
func (ks *Keyspace) lfuLogIncr(counter int) int {
	if counter == 255 {
		return 255
	}
	base := float64(counter - lfuInitVal)
	if base < 0 {
		base = 0
	}
	p := 1.0 / (base*float64(ks.lfuLogFactor.Load()) + 1)
	if rand.Float64() < p {
		counter++
	}
	return counter
}

// evictCandidate is an entry of the eviction pool (evictionPoolEntry): a sampled key and
// its score, higher meaning a better candidate.
type evictCandidate struct {
	score int64
	db    int
	key   string
}

const evictPoolSize = 16

// Evict deletes keys according to the policy until toFree bytes are freed or nothing is
// left to evict, and returns the bytes freed (performEvictions). Deleted keys are
// propagated as DEL (or UNLINK), each in its own batch. It locks shards itself; call it
// without holding any.
func (ks *Keyspace) Evict(toFree int64, now int64) int64 {
	p := ks.Policy()
	if p == NoEviction || toFree <= 0 {
		return 0
	}
	ks.evictMu.Lock()
	defer ks.evictMu.Unlock()
	var freed int64
	var fx effects.Batch
	fx.Discard = !ks.stream.Active()
	for freed < toFree {
		var n int64
		if p == AllKeysRandom || p == VolatileRandom {
			n = ks.evictRandom(p.isVolatile(), now, &fx)
		} else {
			n = ks.evictBest(p, now, &fx)
		}
		if n < 0 {
			break // nothing left to evict
		}
		freed += n
	}
	return freed
}

// evictRandom deletes one random key (from keys with a TTL when volatile); it returns -1
// when there is none.
func (ks *Keyspace) evictRandom(volatile bool, now int64, fx *effects.Batch) int64 {
	start := rand.IntN(NumShards)
	for db := 0; db < ks.numDBs; db++ {
		for i := 0; i < NumShards; i++ {
			sh := &ks.shards[(start+i)%NumShards]
			sh.mu.Lock()
			sdb := sh.dbs[db]
			var victim *Entry
			if sdb != nil {
				if volatile {
					if x := sdb.expires.Random(); x != nil {
						victim = x.Value
					}
				} else if sdb.keys > 0 {
					victim = sdb.randomEntry()
				}
			}
			if victim != nil {
				n := ks.evictEntry(sh, sdb, db, victim, fx)
				sh.mu.Unlock()
				return n
			}
			sh.mu.Unlock()
		}
	}
	return -1
}

// evictBest samples keys into the pool and deletes the best candidate; -1 when there is
// no key to sample.
func (ks *Keyspace) evictBest(p Policy, now int64, fx *effects.Batch) int64 {
	for attempt := 0; attempt < 8; attempt++ {
		sampled := false
		for db := 0; db < ks.numDBs; db++ {
			if ks.sampleInto(p, db, now) {
				sampled = true
			}
		}
		if !sampled && len(ks.evictPool) == 0 {
			return -1
		}
		// Take the best candidate that still exists.
		for len(ks.evictPool) > 0 {
			c := ks.evictPool[len(ks.evictPool)-1]
			ks.evictPool = ks.evictPool[:len(ks.evictPool)-1]
			db := DB{ks: ks, Index: c.db, Now: now}
			key := []byte(c.key)
			slotSh, _ := db.shardDB(slotOfString(c.key), false)
			slotSh.mu.Lock()
			e := db.Lookup(key, LookupWrite|LookupNoTouch|LookupNoStats|LookupNoExpire)
			if e != nil && (!p.isVolatile() || e.Value.expire != 0) {
				sh, sdb := db.shardDB(int(e.Value.slot), false)
				n := ks.evictEntry(sh, sdb, c.db, e, fx)
				slotSh.mu.Unlock()
				return n
			}
			slotSh.mu.Unlock()
		}
	}
	return -1
}

// sampleInto samples maxmemory-samples keys of one database from a few random shards and
// merges them into the pool (evictionPoolPopulate). It reports whether any key was seen.
func (ks *Keyspace) sampleInto(p Policy, db int, now int64) bool {
	samples := int(ks.samples.Load())
	seen := false
	start := rand.IntN(NumShards)
	for i := 0; i < NumShards && samples > 0; i++ {
		sh := &ks.shards[(start+i)%NumShards]
		sh.mu.Lock()
		sdb := sh.dbs[db]
		if sdb == nil || sdb.keys == 0 || (p.isVolatile() && sdb.expires.Len() == 0) {
			sh.mu.Unlock()
			continue
		}
		consider := func(e *Entry) {
			seen = true
			samples--
			var score int64
			switch {
			case p.isLFU():
				score = 255 - int64(ks.lfuDecr(&e.Value, now))
			case p == VolatileTTL:
				score = -e.Value.expire // sooner expiry, better candidate
			default:
				score = idleMs(e.Value.lru, now)
			}
			ks.poolInsert(evictCandidate{score: score, db: db, key: e.Key()})
		}
		if p.isVolatile() {
			sdb.expires.Sample(samples, func(x *dict.Entry[*Entry]) { consider(x.Value) })
		} else {
			d := sdb.randomSlotDict()
			d.Sample(samples, func(e *Entry) { consider(e) })
		}
		sh.mu.Unlock()
		break
	}
	return seen
}

// poolInsert keeps the pool sorted by ascending score with at most evictPoolSize entries.
func (ks *Keyspace) poolInsert(c evictCandidate) {
	for i := range ks.evictPool {
		if ks.evictPool[i].db == c.db && ks.evictPool[i].key == c.key {
			ks.evictPool[i].score = c.score
			sort.Slice(ks.evictPool, func(a, b int) bool { return ks.evictPool[a].score < ks.evictPool[b].score })
			return
		}
	}
	if len(ks.evictPool) >= evictPoolSize {
		if c.score <= ks.evictPool[0].score {
			return
		}
		ks.evictPool = ks.evictPool[1:]
	}
	i := sort.Search(len(ks.evictPool), func(i int) bool { return ks.evictPool[i].score >= c.score })
	ks.evictPool = append(ks.evictPool, evictCandidate{})
	copy(ks.evictPool[i+1:], ks.evictPool[i:])
	ks.evictPool[i] = c
}

func (ks *Keyspace) evictEntry(sh *shard, sdb *shardDB, db int, e *Entry, fx *effects.Batch) int64 {
	n := e.Value.size
	key := e.Key()
	(&DB{ks: ks, Index: db}).unlink(sh, sdb, e)
	sh.evicted.Add(1)
	cmd := "DEL"
	if ks.lazyfreeEvict.Load() {
		cmd = "UNLINK"
	}
	fx.Reset()
	fx.AddStrings(db, cmd, key)
	ks.stream.Commit(fx)
	if ev := ks.events; ev != nil {
		ev.KeyEvicted(db, key)
	}
	return n
}

// randomEntry returns a random key of the shard's part of a database, choosing the slot
// with probability proportional to its size.
func (sdb *shardDB) randomEntry() *Entry {
	if sdb.keys == 0 {
		return nil
	}
	r := rand.IntN(sdb.keys)
	for i := range sdb.slots {
		d := &sdb.slots[i]
		if r < d.Len() {
			return d.Random()
		}
		r -= d.Len()
	}
	return nil
}

// randomSlotDict returns a non-empty slot table of the shard's part of a database, chosen
// with probability proportional to its size; the caller checked keys > 0.
func (sdb *shardDB) randomSlotDict() *dict.Dict[Object] {
	r := rand.IntN(sdb.keys)
	for i := range sdb.slots {
		d := &sdb.slots[i]
		if r < d.Len() {
			return d
		}
		r -= d.Len()
	}
	return nil
}

// IsLRU reports whether the policy evicts by idle time.
func (p Policy) IsLRU() bool { return p.isLRU() }

// SetLRUOrLFU sets e's access data from recorded values (objectSetLRUOrLFU), as loading
// a file or RESTORE with IDLETIME or FREQ does: under an LFU policy the counter freq when
// it is not negative, under any other policy an idle time of idleSecs seconds when it is
// not negative. It reports whether it changed anything.
func (db *DB) SetLRUOrLFU(e *Entry, freq, idleSecs int64) bool {
	if db.ks.Policy().isLFU() {
		if freq < 0 {
			return false
		}
		e.Value.lru = lfuMinutes(db.Now)<<8 | uint32(min(freq, 255))
		return true
	}
	if idleSecs < 0 {
		return false
	}
	clock := int64(lruClock(db.Now))
	abs := clock - idleSecs
	if abs < 0 {
		// Past the wrapping clock's range: half-way round it keeps the idle time high for
		// a long while, as Redis does.
		abs = (clock + lruClockMax/2) % lruClockMax
	}
	e.Value.lru = uint32(abs)
	return true
}

// LRUOrLFU returns what a file records of e's access data (rdbSaveKeyValuePair): under an
// LRU policy its idle time in seconds (lru true), under an LFU policy its counter after
// decay (lfu true), and nothing under other policies.
func (db *DB) LRUOrLFU(e *Entry) (idleSecs int64, lru bool, freq uint8, lfu bool) {
	p := db.ks.Policy()
	switch {
	case p.isLRU():
		return idleMs(e.Value.lru, db.Now) / 1000, true, 0, false
	case p.isLFU():
		return 0, false, uint8(db.ks.lfuDecr(&e.Value, db.Now)), true
	}
	return 0, false, 0, false
}
