package rdb

import (
	"errors"
	"math"
	"strconv"
)

// maxPreallocItems bounds the capacity reserved from an element count read from the
// input; slices grow past it only as elements actually arrive.
const maxPreallocItems = 1024

// decodeValue reads a value of RDB object type t (rdbLoadObject). empty reports a
// collection with no elements, which Redis skips instead of loading.
func decodeValue(r *reader, t byte) (v Value, empty bool, err error) {
	v.RDBType = t
	switch t {
	case typeString:
		v.Type = TypeString
		v.Str, err = r.readString()
		return v, false, err
	case typeList:
		v.Type, v.Encoding = TypeList, EncodingPlain
		v.List, err = readStrings(r, 1, "list")
		return v, err == nil && len(v.List) == 0, err
	case typeSet:
		v.Type, v.Encoding = TypeSet, EncodingPlain
		if v.Set, err = readStrings(r, 1, "set"); err != nil {
			return v, false, err
		}
		if !distinct(v.Set, 1) {
			return v, false, r.corrupt("Duplicate set members detected")
		}
		return v, len(v.Set) == 0, nil
	case typeZSet, typeZSet2:
		v.Type, v.Encoding = TypeZSet, EncodingPlain
		v.ZSet, err = readZSet(r, t == typeZSet2)
		return v, err == nil && len(v.ZSet) == 0, err
	case typeHash:
		v.Type, v.Encoding = TypeHash, EncodingPlain
		v.Hash, err = readHash(r)
		return v, err == nil && len(v.Hash) == 0, err
	case typeListQuicklist, typeListQuicklist2:
		v.Type = TypeList
		v.List, err = readQuicklist(r, t == typeListQuicklist2)
		return v, err == nil && len(v.List) == 0, err
	case typeHashZipmap, typeListZiplist, typeSetIntset, typeZSetZiplist, typeHashZiplist,
		typeHashListpack, typeZSetListpack, typeSetListpack:
		blob, err := r.readString()
		if err != nil {
			return v, false, err
		}
		v.Encoding = EncodingCompact
		empty, err := decodeCompact(&v, t, blob)
		if err != nil {
			return v, false, r.corrupt("%v", err)
		}
		return v, empty, nil
	case typeStreamListpacks, typeStreamListpacks2, typeStreamListpacks3:
		v.Type = TypeStream
		v.Stream, err = readStream(r, t)
		return v, false, err
	case typeModule2:
		v.Type = TypeModule
		m := &Module{}
		if m.ID, err = r.readLen(); err != nil {
			return v, false, err
		}
		m.Raw, err = readModuleOpcodes(r, m.ID)
		v.Module = m
		return v, false, err
	case typeModulePreGA:
		return v, false, r.corrupt("module value in the pre-GA format (type 6) cannot be loaded")
	}
	return v, false, r.corrupt("Unknown RDB encoding type %d", t)
}

// readStrings reads a count and then count strings per element group (1 for lists and
// sets, 2 for hash field-value pairs).
func readStrings(r *reader, per int, what string) ([][]byte, error) {
	n, err := r.readCount(what)
	if err != nil {
		return nil, err
	}
	if n > math.MaxInt/2 {
		return nil, r.corrupt("%s length %d out of range", what, n)
	}
	total := n * uint64(per)
	out := make([][]byte, 0, min(total, maxPreallocItems))
	for i := uint64(0); i < total; i++ {
		s, err := r.readString()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func readZSet(r *reader, binaryScores bool) ([]ZMember, error) {
	n, err := r.readCount("zset")
	if err != nil {
		return nil, err
	}
	out := make([]ZMember, 0, min(n, maxPreallocItems))
	for i := uint64(0); i < n; i++ {
		m, err := r.readString()
		if err != nil {
			return nil, err
		}
		var score float64
		if binaryScores {
			score, err = r.readBinaryDouble()
		} else {
			score, err = r.readStringDouble()
		}
		if err != nil {
			return nil, err
		}
		if math.IsNaN(score) {
			return nil, r.corrupt("Zset with NAN score detected")
		}
		out = append(out, ZMember{Member: m, Score: score})
	}
	if !distinctMembers(out) {
		return nil, r.corrupt("Duplicate zset fields detected")
	}
	return out, nil
}

func readHash(r *reader) ([]Field, error) {
	flat, err := readStrings(r, 2, "hash")
	if err != nil {
		return nil, err
	}
	h := pairsToFields(flat)
	if !distinctFields(h) {
		return nil, r.corrupt("Duplicate hash fields detected")
	}
	return h, nil
}

// readQuicklist reads a quicklist: a count of nodes, each a ziplist (version 1) or, in
// version 2, a container type and then a listpack or a single plain element.
func readQuicklist(r *reader, v2 bool) ([][]byte, error) {
	n, err := r.readCount("quicklist")
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for i := uint64(0); i < n; i++ {
		container := uint64(containerPacked)
		if v2 {
			if container, err = r.readLen(); err != nil {
				return nil, err
			}
			if container != containerPacked && container != containerPlain {
				return nil, r.corrupt("Quicklist integrity check failed.")
			}
		}
		data, err := r.readString()
		if err != nil {
			return nil, err
		}
		if len(data) == 0 {
			return nil, r.corrupt("empty quicklist node")
		}
		if container == containerPlain {
			out = append(out, data)
			continue
		}
		var elems []lpEntry
		if v2 {
			elems, err = collectListpack(data)
		} else {
			elems, err = parseZiplist(data)
		}
		if err != nil {
			return nil, r.corrupt("%v", err)
		}
		// Redis silently skips empty nodes.
		for _, e := range elems {
			out = append(out, e.bytes())
		}
	}
	return out, nil
}

func collectListpack(lp []byte) ([]lpEntry, error) {
	it, err := newListpackIter(lp)
	if err != nil {
		return nil, err
	}
	var out []lpEntry
	for {
		e, ok, err := it.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		out = append(out, e)
	}
}

// decodeCompact decodes a value stored as one blob: an intset, listpack, ziplist or zipmap.
func decodeCompact(v *Value, t byte, blob []byte) (empty bool, err error) {
	var elems []lpEntry
	switch t {
	case typeSetIntset:
		v.Type = TypeSet
		ints, err := parseIntset(blob)
		if err != nil {
			return false, err
		}
		v.Set = make([][]byte, len(ints))
		for i, n := range ints {
			v.Set[i] = strconv.AppendInt(nil, n, 10)
		}
		return false, nil
	case typeHashZipmap:
		v.Type = TypeHash
		if v.Hash, err = parseZipmap(blob); err != nil {
			return false, err
		}
		if !distinctFields(v.Hash) {
			return false, errors.New("Hash zipmap with dup elements")
		}
		return false, nil
	case typeListZiplist, typeZSetZiplist, typeHashZiplist:
		elems, err = parseZiplist(blob)
	default:
		elems, err = collectListpack(blob)
	}
	if err != nil {
		return false, err
	}
	switch t {
	case typeListZiplist:
		v.Type = TypeList
		v.List = entriesToBytes(elems)
		return len(v.List) == 0, nil
	case typeSetListpack:
		v.Type = TypeSet
		v.Set = entriesToBytes(elems)
		if !distinct(v.Set, 1) {
			return false, errors.New("Set listpack with dup elements")
		}
		return len(v.Set) == 0, nil
	case typeHashZiplist, typeHashListpack:
		v.Type = TypeHash
		if len(elems)%2 != 0 {
			return false, errors.New("Hash listpack integrity check failed: odd number of elements")
		}
		v.Hash = pairsToFields(entriesToBytes(elems))
		if !distinctFields(v.Hash) {
			return false, errors.New("Hash with dup elements")
		}
		return len(v.Hash) == 0, nil
	default: // typeZSetZiplist, typeZSetListpack
		v.Type = TypeZSet
		if len(elems)%2 != 0 {
			return false, errors.New("Zset listpack integrity check failed: odd number of elements")
		}
		v.ZSet = make([]ZMember, 0, len(elems)/2)
		for i := 0; i < len(elems); i += 2 {
			score, err := entryScore(elems[i+1])
			if err != nil {
				return false, err
			}
			v.ZSet = append(v.ZSet, ZMember{Member: elems[i].bytes(), Score: score})
		}
		if !distinctMembers(v.ZSet) {
			return false, errors.New("Zset with dup elements")
		}
		return len(v.ZSet) == 0, nil
	}
}

// entryScore reads a compact sorted set's score, stored as an integer when integral or
// else as the text d2string produced.
func entryScore(e lpEntry) (float64, error) {
	if e.isInt {
		return float64(e.num), nil
	}
	f, err := strconv.ParseFloat(string(e.str), 64)
	if (err != nil && !errors.Is(err, strconv.ErrRange)) || math.IsNaN(f) {
		return 0, errors.New("Zset listpack with an invalid score " + strconv.Quote(string(e.str)))
	}
	return f, nil
}

func entriesToBytes(elems []lpEntry) [][]byte {
	out := make([][]byte, len(elems))
	for i, e := range elems {
		out[i] = e.bytes()
	}
	return out
}

func pairsToFields(flat [][]byte) []Field {
	out := make([]Field, len(flat)/2)
	for i := range out {
		out[i] = Field{Name: flat[2*i], Value: flat[2*i+1]}
	}
	return out
}

// distinct reports whether every stride-th string of items, from the first, is unique.
func distinct(items [][]byte, stride int) bool {
	if len(items) <= stride {
		return true
	}
	seen := make(map[string]struct{}, len(items)/stride)
	for i := 0; i < len(items); i += stride {
		if _, dup := seen[string(items[i])]; dup {
			return false
		}
		seen[string(items[i])] = struct{}{}
	}
	return true
}

func distinctFields(fields []Field) bool {
	if len(fields) < 2 {
		return true
	}
	seen := make(map[string]struct{}, len(fields))
	for _, f := range fields {
		if _, dup := seen[string(f.Name)]; dup {
			return false
		}
		seen[string(f.Name)] = struct{}{}
	}
	return true
}

func distinctMembers(members []ZMember) bool {
	if len(members) < 2 {
		return true
	}
	seen := make(map[string]struct{}, len(members))
	for _, m := range members {
		if _, dup := seen[string(m.Member)]; dup {
			return false
		}
		seen[string(m.Member)] = struct{}{}
	}
	return true
}
