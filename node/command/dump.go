package command

import (
	"errors"
	"strconv"

	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/persist/rdb"
	"github.com/clusterctl/clusterctl/node/persist/rdbvalue"
	"github.com/clusterctl/clusterctl/node/resp"
)

// DUMP and RESTORE (cluster.c dumpCommand, restoreCommand). The payload is one value in
// RDB encoding with a version and CRC64 footer, the same bytes redis-server 7.0 produces
// and accepts; package rdb builds and checks it, package rdbvalue converts values.

// NewDump returns the DUMP handler; opts gives the settings the value is encoded with
// (rdbcompression and the encoding thresholds), read at each call so CONFIG SET applies.
func NewDump(opts func() rdb.Options) Handler {
	return func(c *Ctx) {
		e := c.DB.LookupRead(c.Argv[1])
		if e == nil {
			c.W.Null()
			return
		}
		var scratch [24]byte
		v, err := rdbvalue.FromObject(&e.Value, scratch[:0])
		if err == nil {
			var payload []byte
			if payload, err = rdb.EncodeDump(&v, opts()); err == nil {
				c.W.Bulk(payload)
				return
			}
		}
		c.Error("ERR DUMP of key " + strconv.Quote(string(c.Argv[1])) + " failed: " + err.Error())
	}
}

// restoreArgs are RESTORE's options.
type restoreArgs struct {
	replace, absTTL bool
	// idle is IDLETIME in seconds, freq FREQ; -1 when not given.
	idle, freq int64
}

// parseRestoreArgs reads RESTORE's options after the payload, replying on error.
func parseRestoreArgs(c *Ctx) (restoreArgs, bool) {
	a := restoreArgs{idle: -1, freq: -1}
	for j := 4; j < len(c.Argv); j++ {
		more := len(c.Argv) - j - 1
		switch {
		case Is(c.Argv[j], "replace"):
			a.replace = true
		case Is(c.Argv[j], "absttl"):
			a.absTTL = true
		case Is(c.Argv[j], "idletime") && more >= 1 && a.freq == -1:
			n, ok := resp.ParseInt(c.Argv[j+1])
			if !ok {
				c.Error(ErrNotInt)
				return a, false
			}
			if n < 0 {
				c.Error("ERR Invalid IDLETIME value, must be >= 0")
				return a, false
			}
			a.idle = n
			j++
		case Is(c.Argv[j], "freq") && more >= 1 && a.idle == -1:
			n, ok := resp.ParseInt(c.Argv[j+1])
			if !ok {
				c.Error(ErrNotInt)
				return a, false
			}
			if n < 0 || n > 255 {
				c.Error("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return a, false
			}
			a.freq = n
			j++
		default:
			c.Error(ErrSyntax)
			return a, false
		}
	}
	return a, true
}

// NewRestore returns the handler of RESTORE and RESTORE-ASKING; limits gives the
// thresholds that decide the restored value's encoding, as when loading a file.
//
// As in Redis 7.0 the checks run in this order: options, an existing key without
// REPLACE (BUSYKEY), the TTL, the payload's footer, the value. A relative TTL replays as
// an absolute one with ABSTTL, so replicas and the AOF expire the key at the same
// instant; a TTL already in the past restores nothing and, when REPLACE removed a key,
// replays as DEL.
func NewRestore(limits func() rdbvalue.Limits) Handler {
	return func(c *Ctx) {
		key := c.Argv[1]
		a, ok := parseRestoreArgs(c)
		if !ok {
			return
		}
		old := c.DB.LookupWriteKey(key)
		if old != nil && !a.replace {
			c.Error("BUSYKEY Target key name already exists.")
			return
		}
		ttl, ok := resp.ParseInt(c.Argv[2])
		if !ok {
			c.Error(ErrNotInt)
			return
		}
		if ttl < 0 {
			c.Error("ERR Invalid TTL value, must be >= 0")
			return
		}
		v, err := rdb.DecodeDump(c.Argv[3])
		if errors.Is(err, rdb.ErrDumpPayload) {
			c.Error("ERR DUMP payload version or checksum are wrong")
			return
		}
		var obj keyspace.Object
		if err == nil {
			obj, err = rdbvalue.ToObject(v, limits())
		}
		if err != nil {
			c.Error("ERR Bad data format")
			return
		}
		deleted := old != nil
		if deleted {
			c.DB.Delete(old)
		}
		if ttl != 0 && !a.absTTL {
			ttl += c.DB.Now
		}
		if ttl != 0 && ttl <= c.DB.Now {
			// checkAlreadyExpired: the key would be gone at once.
			if deleted {
				del := "DEL"
				if c.Env.LazyfreeServerDel.Load() {
					del = "UNLINK"
				}
				c.Rewrite([]byte(del), key)
				c.Notify(NotifyGeneric, "del", key)
				c.Dirty(1)
			}
			c.W.OK()
			return
		}
		e := c.DB.Add(key, obj)
		if ttl != 0 {
			c.DB.SetExpire(e, ttl)
			if !a.absTTL {
				argv := make([][]byte, 0, len(c.Argv)+1)
				argv = append(argv, c.Argv[:2]...)
				argv = append(argv, strconv.AppendInt(nil, ttl, 10))
				argv = append(argv, c.Argv[3:]...)
				c.Rewrite(append(argv, []byte("ABSTTL"))...)
			}
		}
		c.DB.SetLRUOrLFU(e, a.freq, a.idle)
		c.Notify(NotifyGeneric, "restore", key)
		c.Dirty(1)
		c.W.OK()
	}
}
