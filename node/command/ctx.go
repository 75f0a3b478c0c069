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
	// ClusterEnabled is cluster-enabled: one database, no MOVE, SWAPDB or SELECT.
	ClusterEnabled bool
	// AfterFlushAll, when set, runs after FLUSHALL emptied the keyspace: the server stops
	// a running BGSAVE and saves the empty data set when save points are configured,
	// reporting whether it saved (which resets the dirty counter, as Redis does).
	AfterFlushAll func() (saved bool)
	// HashMaxListpackEntries and HashMaxListpackValue are hash-max-listpack-entries and
	// hash-max-listpack-value; SetMaxIntsetEntries is set-max-intset-entries: the sizes
	// up to which hashes and sets keep their compact encodings.
	HashMaxListpackEntries, HashMaxListpackValue, SetMaxIntsetEntries atomic.Int64
	// LazyfreeServerDel is lazyfree-lazy-server-del: SPOP emptying a set replicates as
	// UNLINK rather than DEL.
	LazyfreeServerDel atomic.Bool
	// ZSetMaxListpackEntries and ZSetMaxListpackValue are zset-max-listpack-entries and
	// zset-max-listpack-value: the sizes up to which a sorted set is a listpack.
	ZSetMaxListpackEntries, ZSetMaxListpackValue atomic.Int64
	// StreamNodeMaxBytes and StreamNodeMaxEntries are stream-node-max-bytes and
	// stream-node-max-entries: the size of a stream's macro nodes.
	StreamNodeMaxBytes, StreamNodeMaxEntries atomic.Int64
	// NotifyFlags is notify-keyspace-events as NotifyClass bits.
	NotifyFlags atomic.Uint32
	// Events reaches the server's Pub/Sub, WATCH and blocked clients (see notify.go);
	// nil when there is no server.
	Events Events
}

// NewEnv returns an Env with Redis's default settings.
func NewEnv(ks *keyspace.Keyspace, t *Table) *Env {
	env := &Env{Keyspace: ks, Table: t, Errors: &ErrorStats{}}
	env.ProtoMaxBulkLen.Store(resp.DefaultMaxBulkLen)
	env.HLLSparseMaxBytes.Store(3000)
	env.HashMaxListpackEntries.Store(512)
	env.HashMaxListpackValue.Store(64)
	env.SetMaxIntsetEntries.Store(512)
	env.ZSetMaxListpackEntries.Store(128)
	env.ZSetMaxListpackValue.Store(64)
	env.StreamNodeMaxBytes.Store(4096)
	env.StreamNodeMaxEntries.Store(100)
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

	dirty        int64
	noPropagate  bool
	failed       bool
	keyPos       []int
	block        *BlockRequest // set by Block
	denyBlocking bool          // set by the server inside EXEC and scripts
}

// Begin prepares the context for a command at time now (unix ms).
func (c *Ctx) Begin(argv [][]byte, cmd *Command, now int64, discardEffects bool) {
	c.Argv, c.Cmd = argv, cmd
	c.DB.Now = now
	c.DB.Effects = &c.Effects
	c.DB.ResetPrimed()
	c.Effects.Reset()
	c.Effects.Discard = discardEffects
	c.dirty, c.noPropagate, c.failed = 0, false, false
	c.block = nil
}

// Finish appends the command's own replay form, as call() does after the handler: the
// arguments as sent (or as Rewrite replaced them), when the command changed something.
// The keys of such a command are also signalled to clients blocked on them. It returns
// the number of changes.
func (c *Ctx) Finish() int64 {
	if c.dirty > 0 {
		c.Env.Dirty.Add(c.dirty)
		if !c.noPropagate {
			c.Effects.Add(c.DB.Index, c.Argv...)
		}
		c.signalWrittenKeys()
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

// keySpec is a KeySpec compiled for the dispatcher: enums instead of strings.
type keySpec struct {
	notKey    bool
	bsKeyword bool // begin_search by keyword, else by index
	bsUnknown bool
	index     int
	keyword   string
	startFrom int
	fk        uint8 // fkRange, fkKeynum, fkUnknown
	lastKey   int
	keyStep   int
	limit     int
	keyNumIdx int
	firstKey  int
	// Flags are the key spec's flags as COMMAND INFO lists them.
	Flags []string
}

const (
	fkRange = iota
	fkKeynum
	fkUnknown
)

func compileKeySpecs(specs []KeySpec) []keySpec {
	out := make([]keySpec, len(specs))
	for i, ks := range specs {
		k := keySpec{
			notKey:    hasString(ks.Flags, "not_key"),
			bsKeyword: ks.BeginSearch.Type == "keyword",
			bsUnknown: ks.BeginSearch.Type != "keyword" && ks.BeginSearch.Type != "index",
			index:     ks.BeginSearch.Index,
			keyword:   ks.BeginSearch.Keyword,
			startFrom: ks.BeginSearch.StartFrom,
			lastKey:   ks.FindKeys.LastKey,
			keyStep:   max(ks.FindKeys.KeyStep, 1),
			limit:     ks.FindKeys.Limit,
			keyNumIdx: ks.FindKeys.KeyNumIdx,
			firstKey:  ks.FindKeys.FirstKey,
			Flags:     ks.Flags,
		}
		switch ks.FindKeys.Type {
		case "range":
			k.fk = fkRange
		case "keynum":
			k.fk = fkKeynum
		default:
			k.fk = fkUnknown
		}
		out[i] = k
	}
	return out
}

// KeyPositions returns the argument indexes of the command's keys, using its key specs
// (getKeysUsingKeySpecs). ok is false when the arguments do not fit the specs (a syntax
// error the handler reports).
func (cmd *Command) KeyPositions(argv [][]byte, out []int) (keys []int, ok bool) {
	out = out[:0]
	for i := range cmd.keySpecs {
		if cmd.keySpecs[i].notKey {
			continue
		}
		if out, ok = cmd.keySpecs[i].positions(argv, out); !ok {
			return out[:0], false
		}
	}
	return out, true
}

// SpecKeyPositions returns the keys found by key spec i alone, for checks that depend on
// the spec's flags (ACL read/write permissions, COMMAND GETKEYSANDFLAGS).
func (cmd *Command) SpecKeyPositions(i int, argv [][]byte) []int {
	out, _ := cmd.keySpecs[i].positions(argv, nil)
	return out
}

func (ks *keySpec) positions(argv [][]byte, out []int) ([]int, bool) {
	argc := len(argv)
	first := 0
	switch {
	case ks.bsUnknown:
		return out, false
	case ks.bsKeyword:
		start, end := ks.startFrom, argc-1
		if start <= 0 {
			start, end = argc+start, 1
		}
		// The search stops before end, as Redis's loop does.
		for j := start; j != end && j >= 1 && j < argc; {
			if equalFold(argv[j], ks.keyword) {
				first = j + 1
				break
			}
			if start <= end {
				j++
			} else {
				j--
			}
		}
		if first == 0 {
			return out, true // keyword absent: no keys from this spec
		}
	default:
		first = ks.index
	}
	var last int
	switch ks.fk {
	case fkRange:
		switch {
		case ks.lastKey >= 0:
			last = first + ks.lastKey
		case ks.limit == 0:
			last = argc + ks.lastKey
		default:
			last = first + (argc-first)/ks.limit + ks.lastKey
		}
	case fkKeynum:
		idx := first + ks.keyNumIdx
		if idx >= argc {
			return out, false
		}
		n, ok := resp.ParseInt(argv[idx])
		if !ok || n < 0 || n > int64(argc) {
			return out, false
		}
		if n == 0 {
			return out, true
		}
		first += ks.firstKey
		last = first + int(n) - 1
	default:
		return out, false
	}
	if last >= argc || last < first || first >= argc {
		return out, false
	}
	for j := first; j <= last; j += ks.keyStep {
		out = append(out, j)
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
		slot := hashslot.Of(c.Argv[p])
		c.DB.PrimeSlot(c.Argv[p], slot)
		mask |= keyspace.ShardMask(slot)
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
