package command

import (
	"sync/atomic"

	"github.com/clusterctl/clusterctl/node/effects"
	"github.com/clusterctl/clusterctl/node/hashslot"
	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/resp"
)

// Env is the node state data command handlers read beyond their keys: the keyspace and the
// settings they obey, cached from the configuration by the server (which keeps them
// current through CONFIG SET hooks) so handlers never take the configuration's lock.
type Env struct {
	Keyspace *keyspace.Keyspace
	Table    *Table
	Errors   *ErrorStats

	// ProtoMaxBulkLen is proto-max-bulk-len: the largest string a command may build
	// (APPEND, SETRANGE, SETBIT).
	ProtoMaxBulkLen atomic.Int64
	// HLLSparseMaxBytes is hll-sparse-max-bytes.
	HLLSparseMaxBytes atomic.Int64
	// Dirty counts keyspace changes since the last save (rdb_changes_since_last_save).
	Dirty atomic.Int64
	// LazyfreeUserDel makes DEL behave as UNLINK (lazyfree-lazy-user-del).
	LazyfreeUserDel atomic.Bool
	// LazyfreeUserFlush makes FLUSHALL/FLUSHDB default to ASYNC (lazyfree-lazy-user-flush).
	LazyfreeUserFlush atomic.Bool
}

// NewEnv returns an Env with Redis's default settings.
func NewEnv(ks *keyspace.Keyspace, t *Table) *Env {
	env := &Env{Keyspace: ks, Table: t, Errors: &ErrorStats{}}
	env.ProtoMaxBulkLen.Store(resp.DefaultMaxBulkLen)
	env.HLLSparseMaxBytes.Store(3000)
	return env
}

// Conn is the connection a command runs for, as far as data handlers care; the server's
// client type implements it and server-side handlers reach their own type through it.
type Conn interface {
	// ID returns the client ID (CLIENT ID).
	ID() int64
}

// Ctx is the state of one client's command execution. The server keeps one per client and
// reuses it for every command, so running a command allocates nothing.
type Ctx struct {
	// Argv are the command's arguments, Argv[0] its name. They alias the connection's read
	// buffer: a handler that keeps one copies it.
	Argv [][]byte
	Cmd  *Command
	W    *resp.Writer
	// DB is the client's selected database; SELECT changes DB.Index.
	DB   keyspace.DB
	Env  *Env
	Conn Conn
	// Effects collects the command's replay form (see package effects).
	Effects effects.Batch

	dirty       int64
	noPropagate bool
	failed      bool
	keyPos      []int
}

// Begin prepares the context for a command at time now (unix ms).
func (c *Ctx) Begin(argv [][]byte, cmd *Command, now int64, discardEffects bool) {
	c.Argv, c.Cmd = argv, cmd
	c.DB.Now = now
	c.DB.Effects = &c.Effects
	c.Effects.Reset()
	c.Effects.Discard = discardEffects
	c.dirty, c.noPropagate, c.failed = 0, false, false
}

// Finish appends the command's own replay form, as call() does after the handler: the
// arguments as sent (or as Rewrite replaced them), when the command changed something.
// It returns the number of changes.
func (c *Ctx) Finish() int64 {
	if c.dirty > 0 {
		c.Env.Dirty.Add(c.dirty)
		if !c.noPropagate {
			c.Effects.Add(c.DB.Index, c.Argv...)
		}
	}
	return c.dirty
}

// Failed reports whether the handler replied with an error.
func (c *Ctx) Failed() bool { return c.failed }

// Dirty records n changes to the keyspace (server.dirty += n): the command will be
// propagated, and save points count them.
func (c *Ctx) Dirty(n int) { c.dirty += int64(n) }

// Propagate adds an op to the command's effects before its own (alsoPropagate), in the
// client's current database.
func (c *Ctx) Propagate(argv ...[]byte) { c.Effects.Add(c.DB.Index, argv...) }

// PropagateStrings is Propagate with string arguments.
func (c *Ctx) PropagateStrings(argv ...string) { c.Effects.AddStrings(c.DB.Index, argv...) }

// Rewrite replaces the command's replay form (rewriteClientCommandVector): SET k v EX 10
// replays as SET k v PXAT <abs>. Call it once the command is known to change something.
func (c *Ctx) Rewrite(argv ...[]byte) {
	c.Effects.Add(c.DB.Index, argv...)
	c.noPropagate = true
}

// NoPropagate keeps the command's own arguments out of the effects
// (preventCommandPropagation), for commands whose effects were all added explicitly.
func (c *Ctx) NoPropagate() { c.noPropagate = true }

// Error replies with an error ("ERR ...", "WRONGTYPE ...") and counts it.
func (c *Ctx) Error(msg string) {
	c.failed = true
	c.W.Error(msg)
	if c.Env != nil && c.Env.Errors != nil {
		c.Env.Errors.Record(msg)
	}
}

// Redis's common error replies (server.c createSharedObjects).
const (
	ErrWrongType   = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrSyntax      = "ERR syntax error"
	ErrNotInt      = "ERR value is not an integer or out of range"
	ErrNotFloat    = "ERR value is not a valid float"
	ErrNoSuchKey   = "ERR no such key"
	ErrOutOfRange  = "ERR index out of range"
	ErrDBIndex     = "ERR DB index is out of range"
	ErrOverflow    = "ERR increment or decrement would overflow"
	ErrStringLimit = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	ErrSameObject  = "ERR source and destination objects are the same"
)

// WrongArity replies with Redis's arity error for the running command.
func (c *Ctx) WrongArity() {
	c.Error("ERR wrong number of arguments for '" + c.Cmd.FullName() + "' command")
}

// KeyPositions returns the argument indexes of the command's keys, using its key specs
// (getKeysUsingKeySpecs). ok is false when the arguments do not fit the specs (a syntax
// error the handler reports).
func (cmd *Command) KeyPositions(argv [][]byte, out []int) (keys []int, ok bool) {
	out = out[:0]
	argc := len(argv)
	for i := range cmd.Spec.KeySpecs {
		ks := &cmd.Spec.KeySpecs[i]
		if hasString(ks.Flags, "not_key") {
			continue
		}
		first := 0
		switch ks.BeginSearch.Type {
		case "index":
			first = ks.BeginSearch.Index
		case "keyword":
			start, end := ks.BeginSearch.StartFrom, argc-1
			if start <= 0 {
				start, end = argc+start, 1
			}
			for j := start; ; {
				if j >= argc || j < 1 {
					break
				}
				if equalFold(argv[j], ks.BeginSearch.Keyword) {
					first = j + 1
					break
				}
				if j == end {
					break
				}
				if start <= end {
					j++
				} else {
					j--
				}
			}
			if first == 0 {
				continue
			}
		default:
			return out[:0], false
		}
		var last, step int
		switch ks.FindKeys.Type {
		case "range":
			step = ks.FindKeys.KeyStep
			switch {
			case ks.FindKeys.LastKey >= 0:
				last = first + ks.FindKeys.LastKey
			case ks.FindKeys.Limit == 0:
				last = argc + ks.FindKeys.LastKey
			default:
				last = first + (argc-first)/ks.FindKeys.Limit + ks.FindKeys.LastKey
			}
		case "keynum":
			step = ks.FindKeys.KeyStep
			idx := first + ks.FindKeys.KeyNumIdx
			if idx >= argc {
				return out[:0], false
			}
			n, ok := resp.ParseInt(argv[idx])
			if !ok || n < 0 || n > int64(argc) {
				return out[:0], false
			}
			first += ks.FindKeys.FirstKey
			last = first + int(n) - 1
			if n == 0 {
				continue
			}
		default:
			return out[:0], false
		}
		if last >= argc || last < first || first >= argc {
			return out[:0], false
		}
		if step < 1 {
			step = 1
		}
		for j := first; j <= last; j += step {
			out = append(out, j)
		}
	}
	return out, true
}

// KeyMask returns the keyspace shards the command's keys live in, which the server locks
// around the handler, and whether the command has any key.
func (c *Ctx) KeyMask() (mask uint64, hasKeys bool) {
	var ok bool
	c.keyPos, ok = c.Cmd.KeyPositions(c.Argv, c.keyPos)
	if !ok || len(c.keyPos) == 0 {
		return 0, false
	}
	for _, p := range c.keyPos {
		mask |= keyspace.ShardMask(hashslot.Of(c.Argv[p]))
	}
	return mask, true
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// equalFold compares an argument with a lower- or upper-case ASCII word.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Is reports whether argument b is the keyword s, case-insensitively (strcasecmp).
func Is(b []byte, s string) bool { return equalFold(b, s) }
