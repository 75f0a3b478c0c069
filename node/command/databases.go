package command

import (
	"github.com/clusterctl/clusterctl/node/resp"
)

func registerDatabases(t *Table) {
	t.Register("ping", cmdPing)
	t.Register("echo", func(c *Ctx) { c.W.Bulk(c.Argv[1]) })
	t.Register("select", cmdSelect)
	t.Register("dbsize", func(c *Ctx) { c.W.Int(int64(c.DB.DBSize())) })
	t.Register("flushdb", cmdFlushDB)
	t.Register("flushall", cmdFlushAll)
}

func cmdPing(c *Ctx) {
	if len(c.Argv) > 2 {
		c.WrongArity()
		return
	}
	if len(c.Argv) == 1 {
		c.W.Simple("PONG")
		return
	}
	c.W.Bulk(c.Argv[1])
}

func cmdSelect(c *Ctx) {
	id, ok := resp.ParseInt(c.Argv[1])
	if !ok || id < -1<<31 || id > 1<<31-1 {
		c.Error(ErrNotInt)
		return
	}
	if c.Env.ClusterEnabled && id != 0 {
		c.Error("ERR SELECT is not allowed in cluster mode")
		return
	}
	if id < 0 || id >= int64(c.Env.Keyspace.NumDBs()) {
		c.Error(ErrDBIndex)
		return
	}
	c.DB.Index = int(id)
	c.W.OK()
}

// flushAsync parses FLUSHALL/FLUSHDB's optional ASYNC|SYNC (getFlushCommandFlags).
func flushAsync(c *Ctx) (async, ok bool) {
	if len(c.Argv) > 2 {
		c.Error(ErrSyntax)
		return false, false
	}
	if len(c.Argv) == 2 {
		switch {
		case Is(c.Argv[1], "sync"):
			return false, true
		case Is(c.Argv[1], "async"):
			return true, true
		}
		c.Error(ErrSyntax)
		return false, false
	}
	return c.Env.LazyfreeUserFlush.Load(), true
}

func cmdFlushDB(c *Ctx) {
	if _, ok := flushAsync(c); !ok {
		return
	}
	c.Dirty(c.DB.Flush())
	c.SignalDBModified(c.DB.Index)
	// Propagated even when the database was already empty, as Redis forces it.
	c.Rewrite(c.Argv...)
	c.W.OK()
}

func cmdFlushAll(c *Ctx) {
	if _, ok := flushAsync(c); !ok {
		return
	}
	n := c.DB.FlushAll()
	c.SignalDBModified(-1)
	if c.Env.AfterFlushAll != nil && c.Env.AfterFlushAll() {
		n = 0 // the save reset the dirty counter; FLUSHALL itself counts one
	}
	c.Dirty(n + 1)
	c.Rewrite(c.Argv...)
	c.W.OK()
}
