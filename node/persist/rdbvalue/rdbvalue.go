// Package rdbvalue converts between the keyspace's values (keyspace.Object) and the RDB
// codec's neutral values (rdb.Value), for snapshots, their loading, and DUMP/RESTORE.
//
// Writing keeps the encoding a value has (a listpack sorted set is written as a
// listpack, whatever the thresholds are now), as rdbSaveObject does. Loading re-decides
// the encoding from the thresholds as rdbLoadObject does, so OBJECT ENCODING after a load
// answers what redis-server would answer after loading the same file: strings become int,
// embstr or raw by tryObjectEncoding; a sorted set written as a skiplist becomes a
// listpack again when it fits, one written as a listpack a skiplist when it has more
// members than zset-max-listpack-entries.
package rdbvalue

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"github.com/clusterctl/clusterctl/node/datatype/hash"
	"github.com/clusterctl/clusterctl/node/datatype/list"
	"github.com/clusterctl/clusterctl/node/datatype/set"
	"github.com/clusterctl/clusterctl/node/datatype/stream"
	"github.com/clusterctl/clusterctl/node/datatype/zset"
	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/persist/rdb"
)

// Limits are the redis.conf thresholds that decide a loaded value's encoding.
type Limits struct {
	ZSet   zset.Limits
	Hash   hash.Limits
	Set    set.Limits
	Stream stream.Config
}

// DefaultLimits are redis.conf's defaults.
func DefaultLimits() Limits {
	return Limits{ZSet: zset.DefaultLimits, Hash: hash.DefaultLimits, Set: set.DefaultLimits, Stream: stream.DefaultConfig}
}

// ErrUnsupported is the error for values the node cannot hold: module values, and data
// types whose keyspace representation does not exist yet.
var ErrUnsupported = errors.New("value type not supported by this server")

// FromObject describes o as an rdb.Value. The value shares memory with o: encode it
// before o changes. scratch, when not nil, is used to format an integer string without
// allocating.
func FromObject(o *keyspace.Object, scratch []byte) (rdb.Value, error) {
	switch o.Type {
	case keyspace.TypeString:
		if o.Enc == keyspace.EncInt {
			return rdb.Value{Type: rdb.TypeString, Str: strconv.AppendInt(scratch[:0], o.Int, 10)}, nil
		}
		return rdb.Value{Type: rdb.TypeString, Str: o.Str}, nil
	case keyspace.TypeList:
		l, ok := o.Ptr.(*list.List)
		if !ok {
			return rdb.Value{}, fmt.Errorf("list holds %T", o.Ptr)
		}
		v := rdb.Value{Type: rdb.TypeList, List: make([][]byte, 0, l.Len())}
		l.Each(func(e string) bool {
			v.List = append(v.List, bytesOf(e))
			return true
		})
		return v, nil
	case keyspace.TypeHash:
		h, ok := o.Ptr.(*hash.Hash)
		if !ok {
			return rdb.Value{}, fmt.Errorf("hash holds %T", o.Ptr)
		}
		v := rdb.Value{Type: rdb.TypeHash, Encoding: rdb.EncodingPlain, Hash: make([]rdb.Field, 0, h.Len())}
		if h.IsListpack() {
			v.Encoding = rdb.EncodingCompact
		}
		h.Each(func(name, value string) bool {
			v.Hash = append(v.Hash, rdb.Field{Name: bytesOf(name), Value: bytesOf(value)})
			return true
		})
		return v, nil
	case keyspace.TypeSet:
		st, ok := o.Ptr.(*set.Set)
		if !ok {
			return rdb.Value{}, fmt.Errorf("set holds %T", o.Ptr)
		}
		v := rdb.Value{Type: rdb.TypeSet, Encoding: rdb.EncodingPlain, Set: make([][]byte, 0, st.Len())}
		if st.IsIntset() {
			v.Encoding = rdb.EncodingCompact
		}
		st.Each(func(m string) bool {
			v.Set = append(v.Set, bytesOf(m))
			return true
		})
		return v, nil
	case keyspace.TypeZSet:
		z, ok := o.Ptr.(*zset.ZSet)
		if !ok {
			return rdb.Value{}, fmt.Errorf("sorted set holds %T", o.Ptr)
		}
		return fromZSet(z), nil
	case keyspace.TypeStream:
		s, ok := o.Ptr.(*stream.Stream)
		if !ok {
			return rdb.Value{}, fmt.Errorf("stream holds %T", o.Ptr)
		}
		return fromStream(s), nil
	}
	return rdb.Value{}, fmt.Errorf("%w: %s", ErrUnsupported, o.Type)
}

// bytesOf views a string's bytes without copying; the rdb encoder only reads them.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func fromZSet(z *zset.ZSet) rdb.Value {
	v := rdb.Value{Type: rdb.TypeZSet, Encoding: rdb.EncodingPlain, ZSet: make([]rdb.ZMember, 0, z.Len())}
	if z.IsListpack() {
		v.Encoding = rdb.EncodingCompact
	}
	z.Each(false, func(e zset.Entry) bool {
		v.ZSet = append(v.ZSet, rdb.ZMember{Member: bytesOf(e.Member), Score: e.Score})
		return true
	})
	return v
}

func fromStream(s *stream.Stream) rdb.Value {
	m := s.Meta()
	out := &rdb.Stream{
		LastID:       streamID(m.LastID),
		FirstID:      streamID(m.FirstID),
		MaxDeletedID: streamID(m.MaxDeletedID),
		EntriesAdded: uint64(m.EntriesAdded),
		Entries:      make([]rdb.StreamEntry, 0, s.Len()),
	}
	s.EachEntry(func(e stream.Entry) bool {
		fields := make([]rdb.Field, len(e.Fields)/2)
		for i := range fields {
			fields[i] = rdb.Field{Name: e.Fields[2*i], Value: e.Fields[2*i+1]}
		}
		out.Entries = append(out.Entries, rdb.StreamEntry{ID: streamID(e.ID), Fields: fields})
		return true
	})
	for _, g := range s.Groups() {
		rg := rdb.StreamGroup{Name: bytesOf(g.Name), LastID: streamID(g.LastID()), EntriesRead: g.EntriesRead()}
		g.EachPending(func(p stream.PendingState) bool {
			rg.Pending = append(rg.Pending, rdb.StreamPending{ID: streamID(p.ID), Consumer: bytesOf(p.Consumer),
				DeliveryTime: int64(p.DeliveryTime), DeliveryCount: uint64(p.DeliveryCount)})
			return true
		})
		for _, c := range g.Consumers() {
			seen := int64(c.SeenTime())
			rg.Consumers = append(rg.Consumers, rdb.StreamConsumer{Name: bytesOf(c.Name), SeenTime: seen, ActiveTime: seen})
		}
		out.Groups = append(out.Groups, rg)
	}
	return rdb.Value{Type: rdb.TypeStream, Stream: out}
}

func streamID(id stream.ID) rdb.StreamID { return rdb.StreamID{Ms: id.Ms, Seq: id.Seq} }

func fromRDBID(id rdb.StreamID) stream.ID { return stream.ID{Ms: id.Ms, Seq: id.Seq} }

// ToObject builds a keyspace value from a decoded one, with the encoding Redis 7.0 gives
// it on load. A string keeps v.Str as its buffer (the decoder's bytes are the caller's to
// hand over), so v must not be changed afterwards; other types share no memory with v.
func ToObject(v *rdb.Value, lim Limits) (keyspace.Object, error) {
	switch v.Type {
	case rdb.TypeString:
		// SetString reuses the object's buffer when it fits: given v.Str itself, its copy
		// is onto the same bytes, and loading a string costs no second allocation.
		o := keyspace.Object{Str: v.Str[:0]}
		o.SetString(v.Str)
		return o, nil
	case rdb.TypeList:
		// Redis 7.0 holds every list as a quicklist, whatever the file's encoding.
		elems := make([]string, len(v.List))
		for i, e := range v.List {
			elems[i] = string(e)
		}
		return keyspace.Object{Type: keyspace.TypeList, Enc: keyspace.EncQuicklist, Ptr: list.New(elems...)}, nil
	case rdb.TypeHash:
		// rdbLoadObject: a listpack while the hash has at most hash-max-listpack-entries
		// fields, none longer than hash-max-listpack-value, whatever the file held.
		h := hash.New()
		for _, f := range v.Hash {
			if h.Set(string(f.Name), string(f.Value), lim.Hash) {
				return keyspace.Object{}, fmt.Errorf("hash field %q appears twice", f.Name)
			}
		}
		enc := keyspace.EncHashtable
		if h.IsListpack() {
			enc = keyspace.EncListpack
		}
		return keyspace.Object{Type: keyspace.TypeHash, Enc: enc, Ptr: h}, nil
	case rdb.TypeSet:
		// An intset while every member is an integer and there are at most
		// set-max-intset-entries of them, whatever the file held (Redis 7.0 has no
		// listpack sets: a 7.2 file's listpack set loads by the same rule).
		st := set.NewIntset()
		for _, m := range v.Set {
			if !st.Add(string(m), lim.Set) {
				return keyspace.Object{}, fmt.Errorf("set member %q appears twice", m)
			}
		}
		enc := keyspace.EncHashtable
		if st.IsIntset() {
			enc = keyspace.EncIntset
		}
		return keyspace.Object{Type: keyspace.TypeSet, Enc: enc, Ptr: st}, nil
	case rdb.TypeZSet:
		z, err := toZSet(v, lim.ZSet)
		if err != nil {
			return keyspace.Object{}, err
		}
		return ZSetObject(z), nil
	case rdb.TypeStream:
		s, err := toStream(v.Stream, lim.Stream)
		if err != nil {
			return keyspace.Object{}, err
		}
		return keyspace.Object{Type: keyspace.TypeStream, Enc: keyspace.EncStream, Ptr: s}, nil
	}
	return keyspace.Object{}, fmt.Errorf("%w: %s", ErrUnsupported, v.Type)
}

// ZSetObject wraps a sorted set as a keyspace value with its encoding.
func ZSetObject(z *zset.ZSet) keyspace.Object {
	enc := keyspace.EncSkiplist
	if z.IsListpack() {
		enc = keyspace.EncListpack
	}
	return keyspace.Object{Type: keyspace.TypeZSet, Enc: enc, Ptr: z}
}

// toZSet mirrors rdbLoadObject: a listpack (or ziplist) stays one unless it has more
// members than zset-max-listpack-entries; a skiplist is built as one, then becomes a
// listpack when it fits both thresholds.
func toZSet(v *rdb.Value, lim zset.Limits) (*zset.ZSet, error) {
	n := len(v.ZSet)
	// While filling, nothing converts: members are added under limits they all fit.
	fill := zset.Limits{MaxListpackEntries: n, MaxListpackValue: math.MaxInt}
	var z *zset.ZSet
	compact := v.Encoding == rdb.EncodingCompact
	if compact && n <= lim.MaxListpackEntries {
		z = zset.CreateSized(fill, n)
	} else {
		z = zset.CreateSized(zset.Limits{MaxListpackEntries: -1}, n)
	}
	for _, m := range v.ZSet {
		res, _, err := z.Add(string(m.Member), m.Score, zset.AddFlags{NX: true}, fill)
		if err != nil {
			return nil, fmt.Errorf("sorted set member %q: %w", m.Member, err)
		}
		if res != zset.Added {
			return nil, fmt.Errorf("sorted set member %q appears twice", m.Member)
		}
	}
	if !compact {
		z.ConvertToListpackIfNeeded(lim)
	}
	return z, nil
}

func toStream(v *rdb.Stream, cfg stream.Config) (*stream.Stream, error) {
	if v == nil {
		return nil, errors.New("stream value without a stream")
	}
	entries := make([]stream.Entry, len(v.Entries))
	for i, e := range v.Entries {
		fields := make([][]byte, 0, 2*len(e.Fields))
		for _, f := range e.Fields {
			fields = append(fields, append([]byte(nil), f.Name...), append([]byte(nil), f.Value...))
		}
		entries[i] = stream.Entry{ID: fromRDBID(e.ID), Fields: fields}
	}
	s, err := stream.Restore(entries, stream.Meta{
		LastID:       fromRDBID(v.LastID),
		FirstID:      fromRDBID(v.FirstID),
		MaxDeletedID: fromRDBID(v.MaxDeletedID),
		EntriesAdded: int64(v.EntriesAdded),
	}, cfg)
	if err != nil {
		return nil, err
	}
	for _, g := range v.Groups {
		grp, err := s.CreateGroup(string(g.Name), fromRDBID(g.LastID), g.EntriesRead)
		if err != nil {
			return nil, fmt.Errorf("stream group %q: %w", g.Name, err)
		}
		for _, c := range g.Consumers {
			if !grp.RestoreConsumer(string(c.Name), uint64(c.SeenTime)) {
				return nil, fmt.Errorf("stream group %q: consumer %q appears twice", g.Name, c.Name)
			}
		}
		for _, p := range g.Pending {
			if p.Consumer == nil {
				// A group PEL entry no consumer owns: Redis refuses such a file.
				return nil, fmt.Errorf("stream group %q: pending entry %s has no consumer", g.Name, p.ID)
			}
			err := grp.RestorePending(stream.PendingState{ID: fromRDBID(p.ID), Consumer: string(p.Consumer),
				DeliveryTime: uint64(p.DeliveryTime), DeliveryCount: int64(p.DeliveryCount)})
			if err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}
