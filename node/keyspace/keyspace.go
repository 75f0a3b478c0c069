// Package keyspace holds the node's databases: keys organised by hash slot, their values,
// their expiry, and the memory they account for.
//
// # Layout
//
// Every database keeps one hash table (package dict) per hash slot, so that counting,
// listing, deleting or snapshotting the keys of a slot (CLUSTER COUNTKEYSINSLOT,
// GETKEYSINSLOT, slot migration) touches only that slot. Keys with a TTL are also listed
// in a per-shard expires table, which the active expiry cycle samples, as Redis samples
// db->expires.
//
// # Locking
//
// The 16384 slots are spread over NumShards shards (slot mod NumShards); one mutex guards
// everything stored in a shard's slots, in every database. A command locks the shards of
// its keys (LockShards with a mask built by ShardMask), in ascending order so two
// commands never deadlock, runs, and unlocks: commands on different keys run in parallel
// on different cores, commands on the same keys one after the other. Operations on the
// whole keyspace (FLUSHALL, SWAPDB, KEYS, DBSIZE) lock every shard. The methods of DB
// that take a key or an entry require the caller to hold that key's shard; the methods
// documented as locking take the locks themselves and must be called without any.
//
// # Effects
//
// Deleting an expired key on access (lazy expiry), in the active expiry cycle or by
// eviction records a DEL in the effects batch (package effects), so replicas and the AOF
// delete it too rather than expiring it by their own clock.
package keyspace

import (
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/clusterctl/clusterctl/node/effects"
	"github.com/clusterctl/clusterctl/node/hashslot"
	"github.com/clusterctl/clusterctl/node/keyspace/dict"
)

// NumShards is the number of lock shards. A power of two dividing 16384, large enough
// that two cores rarely want the same shard, small enough that locking all is cheap.
const NumShards = 64

const slotsPerShard = hashslot.Count / NumShards

// Entry is a key with its value, as stored in a slot's table.
type Entry = dict.Entry[Object]

// ShardOf returns the shard of a slot.
func ShardOf(slot int) int { return slot & (NumShards - 1) }

// ShardMask returns the lock mask bit of a slot's shard.
func ShardMask(slot int) uint64 { return 1 << uint(slot&(NumShards-1)) }

// AllShards is the mask of every shard.
const AllShards = ^uint64(0)

// shard is one lock and the slots it guards.
type shard struct {
	mu  sync.Mutex
	dbs []*shardDB // one per database, allocated on first write

	used    atomic.Int64 // bytes accounted for the keys of this shard
	hits    atomic.Int64 // keyspace_hits
	misses  atomic.Int64 // keyspace_misses
	expired atomic.Int64 // expired_keys
	evicted atomic.Int64 // evicted_keys

	_ [64]byte // keep neighbouring shards' hot fields off this cache line
}

// shardDB is one database's part of a shard.
type shardDB struct {
	// slots holds the tables by value: one pointer less to chase per lookup.
	slots   [slotsPerShard]dict.Dict[Object]
	expires dict.Dict[*Entry]
	keys    int
	// expireCursor is where the active expiry cycle resumes its scan of expires.
	expireCursor uint64
	// frozen is set while a point-in-time view holds this part (see pointintime.go).
	frozen *frozenPart
}

func (sdb *shardDB) slotDict(slot int) *dict.Dict[Object] {
	return &sdb.slots[slot/NumShards]
}

// Keyspace is the set of databases of one node.
type Keyspace struct {
	shards [NumShards]shard
	numDBs int
	stream *effects.Stream

	policy         atomic.Int32 // Policy
	lfuLogFactor   atomic.Int64
	lfuDecayTime   atomic.Int64
	samples        atomic.Int64 // maxmemory-samples
	activeExpiry   atomic.Bool  // DEBUG SET-ACTIVE-EXPIRE
	lazyfreeExpire atomic.Bool  // propagate expiries as UNLINK rather than DEL
	lazyfreeEvict  atomic.Bool

	pitOpen atomic.Bool // a PointInTime is open

	evictMu   sync.Mutex // one eviction pass at a time; see Evict
	evictPool []evictCandidate

	// events, when set, hears of the changes no command makes (see SetEvents).
	events KeyEvents

	cronMu     sync.Mutex // guards the active expiry cycle's progress
	cronDB     int
	cronShard  int
	cronBatch  effects.Batch
	staleRatio float64
}

// New returns an empty keyspace of numDBs databases whose background deletions
// (active expiry, eviction) are committed to stream.
func New(numDBs int, stream *effects.Stream) *Keyspace {
	if numDBs < 1 {
		numDBs = 1
	}
	if stream == nil {
		stream = &effects.Stream{}
	}
	ks := &Keyspace{numDBs: numDBs, stream: stream}
	for i := range ks.shards {
		ks.shards[i].dbs = make([]*shardDB, numDBs)
	}
	ks.lfuLogFactor.Store(10)
	ks.lfuDecayTime.Store(1)
	ks.samples.Store(5)
	ks.activeExpiry.Store(true)
	return ks
}

// KeyEvents hears of the keyspace's own changes, for keyspace notifications and WATCH:
// keys deleted because they expired (on access or by the active cycle) or were evicted,
// and keys created (dbAdd's "new" event). The calls are made with the key's shard
// locked, so implementations take only locks of their own.
type KeyEvents interface {
	KeyExpired(db int, key string)
	KeyEvicted(db int, key string)
	KeyCreated(db int, key []byte)
}

// SetEvents installs the receiver of the keyspace's own events; call it before the
// keyspace is used.
func (ks *Keyspace) SetEvents(ev KeyEvents) { ks.events = ev }

// NumDBs returns the number of databases.
func (ks *Keyspace) NumDBs() int { return ks.numDBs }

// Stream returns the effects stream the keyspace commits background deletions to.
func (ks *Keyspace) Stream() *effects.Stream { return ks.stream }

// LockShards locks the shards in mask, in ascending order.
func (ks *Keyspace) LockShards(mask uint64) {
	for m := mask; m != 0; m &= m - 1 {
		ks.shards[bits.TrailingZeros64(m)].mu.Lock()
	}
}

// UnlockShards unlocks the shards in mask.
func (ks *Keyspace) UnlockShards(mask uint64) {
	for m := mask; m != 0; m &= m - 1 {
		ks.shards[bits.TrailingZeros64(m)].mu.Unlock()
	}
}

// UsedMemory returns the bytes accounted for all keys.
func (ks *Keyspace) UsedMemory() int64 {
	var n int64
	for i := range ks.shards {
		n += ks.shards[i].used.Load()
	}
	return n
}

// Stats are the keyspace counters INFO stats reports.
type Stats struct {
	Hits, Misses, Expired, Evicted int64
}

// Stats sums the counters of every shard.
func (ks *Keyspace) Stats() Stats {
	var s Stats
	for i := range ks.shards {
		sh := &ks.shards[i]
		s.Hits += sh.hits.Load()
		s.Misses += sh.misses.Load()
		s.Expired += sh.expired.Load()
		s.Evicted += sh.evicted.Load()
	}
	return s
}

// ResetStats zeroes the counters (CONFIG RESETSTAT).
func (ks *Keyspace) ResetStats() {
	for i := range ks.shards {
		sh := &ks.shards[i]
		sh.hits.Store(0)
		sh.misses.Store(0)
		sh.expired.Store(0)
		sh.evicted.Store(0)
	}
}

// SetActiveExpiry turns the active expiry cycle on or off (DEBUG SET-ACTIVE-EXPIRE).
func (ks *Keyspace) SetActiveExpiry(on bool) { ks.activeExpiry.Store(on) }

// SetLazyfree chooses how expiries and evictions are propagated: UNLINK when the
// lazyfree-lazy-expire / lazyfree-lazy-eviction option is on, DEL otherwise, as Redis.
func (ks *Keyspace) SetLazyfree(expire, evict bool) {
	ks.lazyfreeExpire.Store(expire)
	ks.lazyfreeEvict.Store(evict)
}

// DB returns the handle through which one command uses database index. now is the time in
// unix milliseconds the command runs at (fixed for its whole execution, like Redis's
// cached mstime), fx the batch that collects its effects.
func (ks *Keyspace) DB(index int, now int64, fx *effects.Batch) DB {
	return DB{ks: ks, Index: index, Now: now, Effects: fx}
}

// DBStats are the per-database figures of INFO keyspace.
type DBStats struct {
	Keys, Expires int
	AvgTTL        int64
}

// DBStats returns the key and expires counts of every database, locking each shard in
// turn. The average TTL is estimated from the keys with an expiry, like Redis's avg_ttl.
func (ks *Keyspace) DBStats(now int64) []DBStats {
	db := ks.DB(0, now, nil)
	return db.AllStats()
}

// AllStats is DBStats for a command (INFO keyspace), honouring the shards the handle
// holds and judging TTLs at the handle's time.
func (db *DB) AllStats() []DBStats {
	ks, now := db.ks, db.Now
	out := make([]DBStats, ks.numDBs)
	ttlSum := make([]int64, ks.numDBs)
	ttlN := make([]int64, ks.numDBs)
	for i := range ks.shards {
		sh := &ks.shards[i]
		locked := db.lockShard(i)
		for n, sdb := range sh.dbs {
			if sdb == nil {
				continue
			}
			out[n].Keys += sdb.keys
			out[n].Expires += sdb.expires.Len()
			// Sample a few TTLs per shard rather than walking every expire.
			sdb.expires.Sample(4, func(e *dict.Entry[*Entry]) {
				if ttl := e.Value.Value.expire - now; ttl > 0 {
					ttlSum[n] += ttl
					ttlN[n]++
				}
			})
		}
		if locked {
			sh.mu.Unlock()
		}
	}
	for n := range out {
		if ttlN[n] > 0 {
			out[n].AvgTTL = ttlSum[n] / ttlN[n]
		}
	}
	return out
}

// LazyfreeExpire reports whether expiries are replicated as UNLINK.
func (ks *Keyspace) LazyfreeExpire() bool { return ks.lazyfreeExpire.Load() }
