package keyspace

import (
	"time"

	"github.com/clusterctl/clusterctl/node/keyspace/dict"
)

// Active expiry (expire.c activeExpireCycle): a background pass samples keys with a TTL
// and deletes the expired ones, so keys nobody reads again do not hold memory forever.
const (
	expireKeysPerLoop   = 20 // ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP
	expireAcceptedStale = 10 // percent of expired keys tolerated before moving on
)

// ActiveExpireCycle runs one slow cycle of active expiry lasting at most budget: it walks
// databases and shards round-robin from where the previous cycle stopped, sampling each
// shard's expires table with a cursor and repeating on a shard while more than 10% of the
// sampled keys were expired. Each deletion is committed to the effects stream as a DEL (or
// UNLINK) of its own. It returns the number of keys deleted.
func (ks *Keyspace) ActiveExpireCycle(now int64, budget time.Duration) int {
	if !ks.activeExpiry.Load() {
		return 0
	}
	ks.cronMu.Lock()
	defer ks.cronMu.Unlock()
	deadline := time.Now().Add(budget)
	deleted := 0
	fx := &ks.cronBatch
	for visited := 0; visited < ks.numDBs*NumShards; visited++ {
		db, shIdx := ks.cronDB, ks.cronShard
		ks.cronShard++
		if ks.cronShard == NumShards {
			ks.cronShard = 0
			ks.cronDB = (ks.cronDB + 1) % ks.numDBs
		}
		sh := &ks.shards[shIdx]
		for {
			sh.mu.Lock()
			sdb := sh.dbs[db]
			if sdb == nil || sdb.expires.Len() == 0 {
				sh.mu.Unlock()
				break
			}
			sampled, expired := 0, 0
			var victims []*Entry
			for sampled < expireKeysPerLoop {
				sdb.expireCursor = sdb.expires.Scan(sdb.expireCursor, func(x *dict.Entry[*Entry]) {
					sampled++
					if now > x.Value.Value.expire {
						victims = append(victims, x.Value)
					}
				})
				if sdb.expireCursor == 0 {
					break
				}
			}
			handle := DB{ks: ks, Index: db, Now: now}
			for _, e := range victims {
				fx.Reset()
				fx.Discard = !ks.stream.Active()
				handle.Effects = fx
				handle.deleteExpired(sh, sdb, e)
				ks.stream.Commit(fx)
				expired++
			}
			sh.mu.Unlock()
			deleted += expired
			if sampled == 0 || expired*100/sampled <= expireAcceptedStale || time.Now().After(deadline) {
				break
			}
		}
		if time.Now().After(deadline) {
			break
		}
	}
	return deleted
}
