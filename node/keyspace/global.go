package keyspace

import (
	"math/rand/v2"

	"github.com/clusterctl/clusterctl/node/hashslot"
)

// The operations in this file span many shards and take the locks themselves: call them
// without holding any shard.

func slotOfString(key string) int { return hashslot.OfString(key) }

// lockAll locks the shards the handle does not already hold and returns them, for
// unlockAll.
func (db *DB) lockAll() uint64 {
	m := AllShards &^ db.Held
	db.ks.LockShards(m)
	return m
}

// lockShard locks shard i unless the handle already holds it, and reports whether it did.
func (db *DB) lockShard(i int) bool {
	if db.Held&(1<<uint(i)) != 0 {
		return false
	}
	db.ks.shards[i].mu.Lock()
	return true
}

// DBSize returns the number of keys of the database, expired ones not yet deleted
// included, as Redis's DBSIZE. It locks every shard so the count is a consistent one.
func (db *DB) DBSize() int {
	defer db.ks.UnlockShards(db.lockAll())
	n := 0
	for i := range db.ks.shards {
		if sdb := db.ks.shards[i].dbs[db.Index]; sdb != nil {
			n += sdb.keys
		}
	}
	return n
}

// Flush deletes every key of the database and returns how many there were (FLUSHDB).
func (db *DB) Flush() int {
	defer db.ks.UnlockShards(db.lockAll())
	return db.ks.flushLocked(db.Index)
}

// FlushAll is Keyspace.FlushAll for a command, honouring the shards the handle holds.
func (db *DB) FlushAll() int {
	defer db.ks.UnlockShards(db.lockAll())
	return db.ks.flushAllLocked()
}

// FlushAll deletes every key of every database (FLUSHALL) and returns how many there were.
func (ks *Keyspace) FlushAll() int {
	ks.LockShards(AllShards)
	defer ks.UnlockShards(AllShards)
	return ks.flushAllLocked()
}

func (ks *Keyspace) flushAllLocked() int {
	n := 0
	for db := 0; db < ks.numDBs; db++ {
		n += ks.flushLocked(db)
	}
	return n
}

func (ks *Keyspace) flushLocked(db int) int {
	n := 0
	for i := range ks.shards {
		sh := &ks.shards[i]
		sdb := sh.dbs[db]
		if sdb == nil {
			continue
		}
		n += sdb.keys
		var freed int64
		for i := range sdb.slots {
			d := &sdb.slots[i]
			d.Range(func(e *Entry) bool {
				freed += e.Value.size
				return true
			})
		}
		sh.used.Add(-freed)
		sh.dbs[db] = nil
	}
	return n
}

// SwapDB exchanges the contents of databases a and b (SWAPDB).
func (ks *Keyspace) SwapDB(a, b int) {
	ks.LockShards(AllShards)
	defer ks.UnlockShards(AllShards)
	ks.swapDBLocked(a, b)
}

// SwapDB is Keyspace.SwapDB for a command, honouring the shards the handle holds.
func (db *DB) SwapDB(a, b int) {
	defer db.ks.UnlockShards(db.lockAll())
	db.ks.swapDBLocked(a, b)
}

func (ks *Keyspace) swapDBLocked(a, b int) {
	for i := range ks.shards {
		sh := &ks.shards[i]
		sh.dbs[a], sh.dbs[b] = sh.dbs[b], sh.dbs[a]
	}
}

// Keys calls fn for every live key of the database (KEYS): a consistent view, every shard
// locked for the duration. Expired keys are skipped but not deleted, as Redis's KEYS.
func (db *DB) Keys(fn func(key string)) {
	defer db.ks.UnlockShards(db.lockAll())
	db.KeysLocked(fn)
}

// KeysLocked is Keys for a caller that already holds every shard.
func (db *DB) KeysLocked(fn func(key string)) {
	for i := range db.ks.shards {
		sdb := db.ks.shards[i].dbs[db.Index]
		if sdb == nil {
			continue
		}
		for i := range sdb.slots {
			d := &sdb.slots[i]
			d.Range(func(e *Entry) bool {
				if e.Value.expire == 0 || db.Now <= e.Value.expire {
					fn(e.Key())
				}
				return true
			})
		}
	}
}

// Cursor layout: SCAN's cursor walks the slot tables shard by shard. Its low 14 bits
// number the table (shard·slotsPerShard + slot/NumShards), the rest is the table's own
// reverse-binary cursor. Cursors are opaque to clients; 0 starts and ends an iteration.
const tableBits = 14

// ScanEntry is a key returned by Scan with its type.
type ScanEntry struct {
	Key  string
	Type Type
}

// Scan continues a SCAN iteration from cursor: it visits tables until at least count keys
// were collected or 10·count buckets visited, and returns the keys and the next cursor
// (0 when done). Expired keys met on the way are deleted, with their DEL recorded in the
// handle's effects, as scanGenericCommand does. It locks one shard at a time.
func (db *DB) Scan(cursor uint64, count int, out []ScanEntry) ([]ScanEntry, uint64) {
	table := int(cursor & (1<<tableBits - 1))
	inner := cursor >> tableBits
	maxIterations := count * 10
	for table < hashslot.Count && maxIterations > 0 && len(out) < count {
		shIdx := table / slotsPerShard
		sh := &db.ks.shards[shIdx]
		locked := db.lockShard(shIdx)
		sdb := sh.dbs[db.Index]
		for table/slotsPerShard == shIdx && maxIterations > 0 && len(out) < count {
			if sdb == nil {
				table = (shIdx + 1) * slotsPerShard
				inner = 0
				break
			}
			sd := &sdb.slots[table%slotsPerShard]
			if sd.Len() == 0 {
				table++
				inner = 0
				continue
			}
			start := len(out)
			inner = sd.Scan(inner, func(e *Entry) {
				out = append(out, ScanEntry{Key: e.Key(), Type: e.Value.Type})
			})
			maxIterations--
			// Drop and delete the keys found expired.
			kept := out[:start]
			for _, se := range out[start:] {
				e := sd.Find(se.Key)
				if e != nil && e.Value.expire != 0 && db.Now > e.Value.expire {
					db.deleteExpired(sh, sdb, e)
					continue
				}
				kept = append(kept, se)
			}
			out = kept
			if inner == 0 {
				table++
			}
		}
		if locked {
			sh.mu.Unlock()
		}
	}
	if table >= hashslot.Count {
		return out, 0
	}
	return out, inner<<tableBits | uint64(table)
}

// RandomKey returns a random live key of the database, or "" and false when it is empty
// (RANDOMKEY). Shards are chosen in proportion to their key counts; expired keys met are
// deleted.
func (db *DB) RandomKey() (string, bool) {
	for attempt := 0; attempt < 100; attempt++ {
		counts := make([]int, NumShards)
		total := 0
		for i := range db.ks.shards {
			sh := &db.ks.shards[i]
			locked := db.lockShard(i)
			if sdb := sh.dbs[db.Index]; sdb != nil {
				counts[i] = sdb.keys
				total += sdb.keys
			}
			if locked {
				sh.mu.Unlock()
			}
		}
		if total == 0 {
			return "", false
		}
		r := rand.IntN(total)
		i := 0
		for ; r >= counts[i]; i++ {
			r -= counts[i]
		}
		sh := &db.ks.shards[i]
		locked := db.lockShard(i)
		unlock := func() {
			if locked {
				sh.mu.Unlock()
			}
		}
		sdb := sh.dbs[db.Index]
		if sdb == nil || sdb.keys == 0 {
			unlock()
			continue
		}
		e := sdb.randomEntry()
		if e.Value.expire != 0 && db.Now > e.Value.expire {
			db.deleteExpired(sh, sdb, e)
			unlock()
			continue
		}
		key := e.Key()
		unlock()
		return key, true
	}
	return "", false
}
