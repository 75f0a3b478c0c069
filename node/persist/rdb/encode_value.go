package rdb

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/clusterctl/clusterctl/node/resp"
)

// objectType decides which RDB object type a value is written as: the encoding Redis 7.0
// would have given it (rdbSaveObjectType), honouring the value's Encoding hint.
func objectType(v *Value, opts *Options) (byte, error) {
	switch v.Type {
	case TypeString:
		return typeString, nil
	case TypeList:
		if len(v.List) == 0 {
			return 0, errEmpty
		}
		return typeListQuicklist2, nil
	case TypeSet:
		if len(v.Set) == 0 {
			return 0, errEmpty
		}
		if v.Encoding != EncodingPlain &&
			(v.Encoding == EncodingCompact || len(v.Set) <= opts.SetMaxIntsetEntries) && allIntegers(v.Set) {
			return typeSetIntset, nil
		}
		return typeSet, nil
	case TypeZSet:
		if len(v.ZSet) == 0 {
			return 0, errEmpty
		}
		for _, m := range v.ZSet {
			if math.IsNaN(m.Score) {
				return 0, fmt.Errorf("member %q has a NaN score", m.Member)
			}
		}
		if compactFits(v.Encoding, len(v.ZSet), opts.ZSetMaxListpackEntries, func(yield func([]byte) bool) {
			for _, m := range v.ZSet {
				if !yield(m.Member) {
					return
				}
			}
		}, opts.ZSetMaxListpackValue) {
			return typeZSetListpack, nil
		}
		return typeZSet2, nil
	case TypeHash:
		if len(v.Hash) == 0 {
			return 0, errEmpty
		}
		if compactFits(v.Encoding, len(v.Hash), opts.HashMaxListpackEntries, func(yield func([]byte) bool) {
			for _, f := range v.Hash {
				if !yield(f.Name) || !yield(f.Value) {
					return
				}
			}
		}, opts.HashMaxListpackValue) {
			return typeHashListpack, nil
		}
		return typeHash, nil
	case TypeStream:
		if v.Stream == nil {
			return 0, errors.New("stream value without a Stream")
		}
		if err := checkStream(v.Stream); err != nil {
			return 0, err
		}
		return typeStreamListpacks2, nil
	case TypeModule:
		if v.Module == nil {
			return 0, errors.New("module value without a Module")
		}
		return typeModule2, nil
	}
	return 0, fmt.Errorf("unknown value type %v", v.Type)
}

// errEmpty: Redis deletes a collection when its last element goes, and a file holding an
// empty one fails redis-check-rdb.
var errEmpty = errors.New("empty collection: Redis never stores one")

func allIntegers(members [][]byte) bool {
	for _, m := range members {
		if _, ok := resp.ParseInt(m); !ok {
			return false
		}
	}
	return true
}

// compactFits reports whether a hash or sorted set is written as a listpack: by the
// thresholds under EncodingAuto, always under EncodingCompact, and in no case when the
// listpack would pass the 1 GB Redis never lets one reach.
func compactFits(enc Encoding, n, maxEntries int, elems func(func([]byte) bool), maxValue int) bool {
	if enc == EncodingPlain || (enc == EncodingAuto && n > maxEntries) {
		return false
	}
	total := 0
	fits := true
	elems(func(b []byte) bool {
		total += len(b) + 11
		if enc == EncodingAuto && len(b) > maxValue || total >= lpMaxSafetySize {
			fits = false
		}
		return fits
	})
	return fits
}

// checkStream rejects what would make an invalid file: entries out of order, and pending
// entries whose consumer the group does not have (redis-check-rdb requires an owner for
// every one).
func checkStream(s *Stream) error {
	for i := 1; i < len(s.Entries); i++ {
		if s.Entries[i].ID.Compare(s.Entries[i-1].ID) <= 0 {
			return fmt.Errorf("stream entry %s does not follow %s", s.Entries[i].ID, s.Entries[i-1].ID)
		}
	}
	for _, g := range s.Groups {
		for _, p := range g.Pending {
			found := false
			for _, c := range g.Consumers {
				if bytes.Equal(c.Name, p.Consumer) {
					found = true
					break
				}
			}
			if !found {
				return fmt.Errorf("stream group %q: pending entry %s has no consumer %q", g.Name, p.ID, p.Consumer)
			}
		}
	}
	return nil
}

// writeValue writes a value as object type t, chosen by objectType (rdbSaveObject).
func (w *writer) writeValue(t byte, v *Value) {
	switch t {
	case typeString:
		w.writeString(v.Str)
	case typeListQuicklist2:
		w.writeQuicklist(v.List)
	case typeSetIntset:
		ints := make([]int64, len(v.Set))
		for i, m := range v.Set {
			ints[i], _ = resp.ParseInt(m)
		}
		slices.Sort(ints)
		w.writeString(buildIntset(ints))
	case typeSet:
		w.writeLen(uint64(len(v.Set)))
		for _, m := range v.Set {
			w.writeString(m)
		}
	case typeZSetListpack:
		sorted := slices.Clone(v.ZSet)
		slices.SortFunc(sorted, compareZMembers)
		lp := newListpackBuilder()
		var score []byte
		for _, m := range sorted {
			lp.appendString(m.Member)
			score = appendScore(score[:0], m.Score)
			lp.appendString(score)
		}
		w.writeString(lp.finish())
	case typeZSet2:
		w.writeLen(uint64(len(v.ZSet)))
		for _, m := range v.ZSet {
			w.writeString(m.Member)
			w.writeUint64LE(math.Float64bits(m.Score))
		}
	case typeHashListpack:
		lp := newListpackBuilder()
		for _, f := range v.Hash {
			lp.appendString(f.Name)
			lp.appendString(f.Value)
		}
		w.writeString(lp.finish())
	case typeHash:
		w.writeLen(uint64(len(v.Hash)))
		for _, f := range v.Hash {
			w.writeString(f.Name)
			w.writeString(f.Value)
		}
	case typeStreamListpacks2:
		w.writeStream(v.Stream)
	case typeModule2:
		w.writeLen(v.Module.ID)
		w.writeRaw(v.Module.Raw)
	}
}

// compareZMembers orders a sorted set as Redis does: by score, then by member bytes.
func compareZMembers(a, b ZMember) int {
	switch {
	case a.Score < b.Score:
		return -1
	case a.Score > b.Score:
		return 1
	}
	return bytes.Compare(a.Member, b.Member)
}

// appendScore renders a score as d2string does for a sorted set listpack: integral values
// within ±2^52 as integers (which the listpack then stores as integers), others as %.17g.
func appendScore(dst []byte, f float64) []byte {
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	if f > -4503599627370495 && f < 4503599627370496 && f == math.Trunc(f) {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return resp.FormatDouble(dst, f)
}

// quicklistLimit returns the byte and element limits of one quicklist node for
// list-max-listpack-size (quicklist.c's optimization_level and SIZE_SAFETY_LIMIT).
func quicklistLimit(fill int) (maxBytes, maxCount int) {
	if fill < 0 {
		levels := [...]int{4096, 8192, 16384, 32768, 65536}
		return levels[min(-fill, len(levels))-1], math.MaxInt
	}
	return 8192, max(fill, 1)
}

// writeQuicklist writes a list as a quicklist of listpack nodes (RDB_TYPE_LIST_QUICKLIST_2),
// giving elements from ListPackedThreshold on a plain node of their own, as Redis 7.0 does.
func (w *writer) writeQuicklist(list [][]byte) {
	maxBytes, maxCount := quicklistLimit(w.opts.ListMaxListpackSize)
	plainFrom := w.opts.ListPackedThreshold
	if plainFrom <= 0 || plainFrom > lpMaxSafetySize {
		plainFrom = lpMaxSafetySize
	}
	// First pass: where nodes end, so the node count can precede them.
	type node struct {
		start, end int
		plain      bool
	}
	var nodes []node
	size, count := 0, 0
	for i, el := range list {
		if len(el) >= plainFrom {
			nodes = append(nodes, node{i, i + 1, true})
			count = 0
			continue
		}
		es := lpStringSize(el)
		if count > 0 && (size+es > maxBytes || count >= maxCount) {
			count = 0
		}
		if count == 0 {
			nodes = append(nodes, node{start: i})
			size = lpHeaderSize + 1
		}
		size += es
		count++
		nodes[len(nodes)-1].end = i + 1
	}
	w.writeLen(uint64(len(nodes)))
	for _, n := range nodes {
		if n.plain {
			w.writeLen(containerPlain)
			w.writeString(list[n.start])
			continue
		}
		w.writeLen(containerPacked)
		lp := newListpackBuilder()
		for _, el := range list[n.start:n.end] {
			lp.appendString(el)
		}
		w.writeString(lp.finish())
	}
}

// writeStream writes a stream as RDB_TYPE_STREAM_LISTPACKS_2.
func (w *writer) writeStream(s *Stream) {
	nodes := buildStreamNodes(s.Entries, w.opts.StreamNodeMaxBytes, w.opts.StreamNodeMaxEntries)
	w.writeLen(uint64(len(nodes)))
	var key []byte
	for _, n := range nodes {
		key = appendStreamID(key[:0], n.master)
		w.writeString(key)
		w.writeString(n.lp)
	}
	first := s.FirstID
	if first.IsZero() && len(s.Entries) > 0 {
		first = s.Entries[0].ID
	}
	w.writeLen(uint64(len(s.Entries)))
	w.writeLen(s.LastID.Ms)
	w.writeLen(s.LastID.Seq)
	w.writeLen(first.Ms)
	w.writeLen(first.Seq)
	w.writeLen(s.MaxDeletedID.Ms)
	w.writeLen(s.MaxDeletedID.Seq)
	w.writeLen(s.EntriesAdded)
	w.writeLen(uint64(len(s.Groups)))
	for _, g := range s.Groups {
		w.writeString(g.Name)
		w.writeLen(g.LastID.Ms)
		w.writeLen(g.LastID.Seq)
		w.writeLen(uint64(g.EntriesRead))
		w.writeLen(uint64(len(g.Pending)))
		for _, p := range g.Pending {
			w.writeRaw(appendStreamID(key[:0], p.ID))
			w.writeUint64LE(uint64(p.DeliveryTime))
			w.writeLen(p.DeliveryCount)
		}
		w.writeLen(uint64(len(g.Consumers)))
		for _, c := range g.Consumers {
			w.writeString(c.Name)
			w.writeUint64LE(uint64(c.SeenTime))
			var owned []StreamID
			for _, p := range g.Pending {
				if bytes.Equal(p.Consumer, c.Name) {
					owned = append(owned, p.ID)
				}
			}
			w.writeLen(uint64(len(owned)))
			for _, id := range owned {
				w.writeRaw(appendStreamID(key[:0], id))
			}
		}
	}
}
