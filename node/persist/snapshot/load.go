package snapshot

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/persist/rdb"
	"github.com/clusterctl/clusterctl/node/persist/rdbvalue"
)

// LoadOptions say how a file is loaded.
type LoadOptions struct {
	// Limits decide the loaded values' encodings.
	Limits rdbvalue.Limits
	// SkipChecksum skips the CRC64 check (rdbchecksum no).
	SkipChecksum bool
	// Now is the time in Unix milliseconds keys are judged expired against.
	Now int64
	// KeepExpired loads keys whose expiry has passed, as a replica and an AOF preamble
	// do; otherwise they are skipped and counted, as a master does (rdbLoad).
	KeepExpired bool
	// Replace lets a key of the file replace one the keyspace holds, as DEBUG RELOAD
	// MERGE does; otherwise a key met twice is an error.
	Replace bool
	// Functions, when set, receives the function libraries the file holds. Without it a
	// file with libraries loads with them left out (LoadResult.FunctionsSkipped).
	Functions func(libraries [][]byte) error
}

// LoadResult describes a loaded file.
type LoadResult struct {
	// Keys is the number of keys loaded; Expired those skipped as already expired.
	Keys, Expired int64
	// EmptySkipped counts keys holding an empty collection, skipped as Redis does.
	EmptySkipped int
	// FunctionsSkipped counts function libraries left out for want of LoadOptions.Functions.
	FunctionsSkipped int
	// Aux holds the file's AUX fields.
	Aux []rdb.AuxField
	// Repl is the replication state recorded in the file (repl-id, repl-offset,
	// repl-stream-db), nil when it has none.
	Repl *rdb.ReplAux
	// Version is the file's RDB version.
	Version int
}

// LoadError is a file that cannot be loaded: corrupt, truncated, or holding what this
// server cannot hold. Keys loaded before the problem stay in the keyspace; callers at
// start-up refuse to start, as Redis does.
type LoadError struct {
	Path string
	Err  error
}

func (e *LoadError) Error() string {
	if e.Path == "" {
		return "load RDB: " + e.Err.Error()
	}
	return "load " + e.Path + ": " + e.Err.Error()
}

func (e *LoadError) Unwrap() error { return e.Err }

// LoadFile loads the RDB file at path into ks (rdbLoad). A missing file is
// os.ErrNotExist, unwrapped, so callers can start empty as Redis does.
func LoadFile(ks *keyspace.Keyspace, path string, opts LoadOptions) (LoadResult, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return LoadResult{}, err
		}
		return LoadResult{}, &LoadError{Path: path, Err: err}
	}
	defer f.Close()
	res, err := Load(ks, rdb.NewDecoder(bufio.NewReaderSize(f, 1<<20)), opts)
	if err != nil {
		var le *LoadError
		if errors.As(err, &le) {
			le.Path = path
		}
	}
	return res, err
}

// Load reads every key from d into ks, locking every shard for the duration. The
// keyspace should be empty: a key the file holds twice, or that already exists, is an
// error. After it returns without error, d.Rest() is what follows the file (an AOF's
// commands).
func Load(ks *keyspace.Keyspace, d *rdb.Decoder, opts LoadOptions) (LoadResult, error) {
	d.SkipChecksum = opts.SkipChecksum
	// The keyspace copies each key, and takes each value's bytes (rdbvalue.ToObject).
	d.ReuseEntry = true
	var res LoadResult
	ks.LockShards(keyspace.AllShards)
	defer ks.UnlockShards(keyspace.AllShards)
	handles := make([]keyspace.DB, ks.NumDBs())
	for i := range handles {
		handles[i] = ks.DB(i, opts.Now, nil)
	}
	fail := func(err error) (LoadResult, error) {
		res.Version = d.Version()
		return res, &LoadError{Err: err}
	}
	for {
		ent, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
		if ent.DB >= len(handles) {
			return fail(fmt.Errorf("the file holds database %d but this server has %d databases (databases, or cluster mode's single database)",
				ent.DB, len(handles)))
		}
		if ent.ExpireAt != 0 && ent.ExpireAt < opts.Now && !opts.KeepExpired {
			res.Expired++
			continue
		}
		obj, err := rdbvalue.ToObject(&ent.Value, opts.Limits)
		if err != nil {
			return fail(fmt.Errorf("key %q in database %d: %w", ent.Key, ent.DB, err))
		}
		db := &handles[ent.DB]
		if old := db.Lookup(ent.Key, keyspace.LookupWrite|keyspace.LookupNoTouch|keyspace.LookupNoExpire); old != nil {
			if !opts.Replace {
				return fail(fmt.Errorf("duplicated key %q in database %d", ent.Key, ent.DB))
			}
			db.Delete(old)
		}
		e := db.Add(ent.Key, obj)
		if ent.ExpireAt != 0 {
			db.SetExpire(e, ent.ExpireAt)
		}
		freq, idle := int64(-1), int64(-1)
		if ent.HasFreq {
			freq = int64(ent.Freq)
		}
		if ent.HasIdle {
			idle = int64(min(ent.Idle, 1<<40))
		}
		db.SetLRUOrLFU(e, freq, idle)
		res.Keys++
	}
	res.Version = d.Version()
	res.EmptySkipped = d.EmptyKeysSkipped()
	res.Aux = d.Aux()
	res.Repl = replAux(d)
	if libs := d.Functions(); len(libs) > 0 {
		if opts.Functions == nil {
			res.FunctionsSkipped = len(libs)
		} else if err := opts.Functions(libs); err != nil {
			return fail(fmt.Errorf("function libraries: %w", err))
		}
	}
	return res, nil
}

// replAux reads the replication aux fields, nil when the file has no repl-id.
func replAux(d *rdb.Decoder) *rdb.ReplAux {
	id, ok := d.AuxValue("repl-id")
	if !ok {
		return nil
	}
	r := &rdb.ReplAux{ReplID: string(id)}
	if v, ok := d.AuxValue("repl-offset"); ok {
		r.Offset, _ = strconv.ParseInt(string(v), 10, 64)
	}
	if v, ok := d.AuxValue("repl-stream-db"); ok {
		db, _ := strconv.Atoi(string(v))
		r.StreamDB = db
	}
	return r
}
