package command

import (
	"bytes"
	"sort"
	"strings"

	"github.com/clusterctl/clusterctl/node/datatype/hash"
	"github.com/clusterctl/clusterctl/node/datatype/list"
	"github.com/clusterctl/clusterctl/node/datatype/set"
	"github.com/clusterctl/clusterctl/node/datatype/zset"
	"github.com/clusterctl/clusterctl/node/keyspace"
)

// registerSort adds SORT and SORT_RO. Their BY and GET patterns read keys the key specs
// cannot name, so they run with every shard locked.
func registerSort(t *Table) {
	t.Register("sort", func(c *Ctx) { sortGeneric(c, false) }).Exclusive = true
	t.Register("sort_ro", func(c *Ctx) { sortGeneric(c, true) }).Exclusive = true
}

// sortOptions are SORT's options (sortCommandGeneric's parse).
type sortOptions struct {
	desc, alpha bool
	limitStart  int64
	limitCount  int64
	store       []byte
	by          []byte // nil: sort by the elements themselves
	dontSort    bool   // BY a pattern without '*': keep the natural order
	gets        [][]byte
}

// cString returns b up to its first NUL byte, as C string functions see an sds.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// parseSortOptions parses the options after the key, replying Redis's error on failure.
func parseSortOptions(c *Ctx, readonly bool) (sortOptions, bool) {
	o := sortOptions{limitStart: 0, limitCount: -1}
	argv := c.Argv
	for j := 2; j < len(argv); j++ {
		left := len(argv) - j - 1
		switch {
		case Is(argv[j], "asc"):
			o.desc = false
		case Is(argv[j], "desc"):
			o.desc = true
		case Is(argv[j], "alpha"):
			o.alpha = true
		case Is(argv[j], "limit") && left >= 2:
			var ok bool
			if o.limitStart, ok = parseIndex(c, argv[j+1]); !ok {
				return o, false
			}
			if o.limitCount, ok = parseIndex(c, argv[j+2]); !ok {
				return o, false
			}
			j += 2
		case !readonly && Is(argv[j], "store") && left >= 1:
			o.store = argv[j+1]
			j++
		case Is(argv[j], "by") && left >= 1:
			o.by = argv[j+1]
			if bytes.IndexByte(cString(o.by), '*') < 0 {
				o.dontSort = true
			} else if c.Env.ClusterEnabled {
				c.Error("ERR BY option of SORT denied in Cluster mode.")
				return o, false
			}
			j++
		case Is(argv[j], "get") && left >= 1:
			if c.Env.ClusterEnabled {
				c.Error("ERR GET option of SORT denied in Cluster mode.")
				return o, false
			}
			o.gets = append(o.gets, argv[j+1])
			j++
		default:
			c.Error(ErrSyntax)
			return o, false
		}
	}
	return o, true
}

// sortItem is one element of the sorting vector (redisSortObject).
type sortItem struct {
	elem   string
	score  float64
	cmp    string // the BY value for ALPHA
	hasCmp bool
}

// lookupByPattern is lookupKeyByPattern: "#" is the element itself; otherwise the first
// '*' of the pattern is replaced by the element to name a key, and "->field" after it
// names a field of the hash at that key. Only strings and hash fields are returned;
// ok is false for anything else, for a missing key, or for a pattern without '*'.
func lookupByPattern(c *Ctx, pattern []byte, elem string, write bool) (string, bool) {
	cpat := cString(pattern)
	if len(cpat) == 1 && cpat[0] == '#' {
		return elem, true
	}
	star := bytes.IndexByte(cpat, '*')
	if star < 0 {
		return "", false
	}
	var field []byte
	fieldLen := 0
	if f := bytes.Index(cpat[star+1:], []byte("->")); f >= 0 && star+1+f+2 < len(cpat) {
		at := star + 1 + f
		field = pattern[at+2:]
		fieldLen = len(field)
	}
	postfix := len(pattern) - (star + 1)
	if field != nil {
		postfix -= fieldLen + 2
	}
	key := make([]byte, 0, star+len(elem)+postfix)
	key = append(key, pattern[:star]...)
	key = append(key, elem...)
	key = append(key, pattern[star+1:star+1+postfix]...)
	var e *keyspace.Entry
	if write {
		e = c.DB.LookupWriteKey(key)
	} else {
		e = c.DB.LookupRead(key)
	}
	if e == nil {
		return "", false
	}
	if field != nil {
		if e.Value.Type != keyspace.TypeHash {
			return "", false
		}
		return e.Value.Ptr.(*hash.Hash).GetBytes(field)
	}
	if e.Value.Type != keyspace.TypeString {
		return "", false
	}
	return string(e.Value.Bytes()), true
}

// sortScore reads a sort weight as strtod does in sortCommandGeneric: the C string must
// be consumed whole, without overflow and not NaN. Unlike most float arguments, leading
// white space is allowed and the empty string is zero.
func sortScore(s string) (float64, bool) {
	b := cString([]byte(s))
	if len(b) == 0 {
		return 0, true
	}
	rest := bytes.TrimLeft(b, " \t\n\v\f\r")
	if len(rest) == 0 {
		return 0, false
	}
	v, err := zset.ParseScore(rest)
	return v, err == nil
}

func sortGeneric(c *Ctx, readonly bool) {
	o, ok := parseSortOptions(c, readonly)
	if !ok {
		return
	}
	e := c.DB.LookupRead(c.Argv[1])
	if e != nil && e.Value.Type != keyspace.TypeSet && e.Value.Type != keyspace.TypeList &&
		e.Value.Type != keyspace.TypeZSet {
		c.Error(ErrWrongType)
		return
	}
	// Sorting a set without an order to sort by would give its hash table's order, which
	// replicas need not share: a stored result is sorted alphabetically instead.
	if e != nil && o.dontSort && e.Value.Type == keyspace.TypeSet && o.store != nil {
		o.dontSort, o.alpha, o.by = false, true, nil
	}
	var z *zset.ZSet
	if e != nil && e.Value.Type == keyspace.TypeZSet {
		z = sortableZSet(c, e)
	}
	vectorLen := int64(0)
	if e != nil {
		switch v := e.Value.Ptr.(type) {
		case *list.List:
			vectorLen = int64(v.Len())
		case *set.Set:
			vectorLen = int64(v.Len())
		case *zset.ZSet:
			vectorLen = int64(v.Len())
		}
	}
	// LIMIT sanity checking, with C's wrapping arithmetic.
	start := max(o.limitStart, 0)
	end := vectorLen - 1
	if o.limitCount >= 0 {
		end = start + o.limitCount - 1
	}
	if start >= vectorLen {
		start, end = vectorLen-1, vectorLen-2
	}
	if end >= vectorLen {
		end = vectorLen - 1
	}
	items := loadSortItems(e, z, &o, &start, &end, vectorLen)
	if !o.dontSort {
		if !sortWeights(c, items, &o) {
			c.Error("ERR One or more scores can't be converted into double")
			return
		}
		sortItems(items, &o)
	}
	n := int64(0)
	if end >= start {
		n = end - start + 1
	}
	outLen := n
	if len(o.gets) > 0 {
		outLen = n * int64(len(o.gets))
	}
	if o.store == nil {
		c.W.ArrayLen(int(outLen))
		for j := start; j <= end; j++ {
			it := items[j]
			if len(o.gets) == 0 {
				c.W.BulkString(it.elem)
			}
			for _, g := range o.gets {
				if v, ok := lookupByPattern(c, g, it.elem, false); ok {
					c.W.BulkString(v)
				} else {
					c.W.Null()
				}
			}
		}
		return
	}
	out := &list.List{}
	for j := start; j <= end; j++ {
		it := items[j]
		if len(o.gets) == 0 {
			out.PushTail(it.elem)
		}
		for _, g := range o.gets {
			v, _ := lookupByPattern(c, g, it.elem, true)
			out.PushTail(v)
		}
	}
	if outLen > 0 {
		c.DB.Set(o.store, listObject(out), false)
		c.Notify(NotifyList, "sortstore", o.store)
		c.Dirty(int(outLen))
	} else if c.DB.DeleteKey(o.store) {
		c.Notify(NotifyGeneric, "del", o.store)
		c.Dirty(1)
	}
	// The destination is not among the key arguments the dispatcher signals.
	c.SignalKeyReady(o.store)
	c.W.Int(outLen)
}

// sortableZSet converts a listpack sorted set to a skiplist for good, as SORT does in
// Redis (zsetConvert), and returns it.
func sortableZSet(c *Ctx, e *keyspace.Entry) *zset.ZSet {
	z := e.Value.Ptr.(*zset.ZSet)
	if !z.IsListpack() {
		return z
	}
	sl := zset.CreateSized(zset.Limits{MaxListpackEntries: -1}, 0)
	z.Each(false, func(en zset.Entry) bool {
		sl.Add(en.Member, en.Score, zset.AddFlags{}, zset.Limits{MaxListpackEntries: -1})
		return true
	})
	e.Value.Ptr, e.Value.Enc = sl, keyspace.EncSkiplist
	c.DB.Modified(e)
	return sl
}

// loadSortItems builds the sorting vector. Lists and sorted sets that are not to be
// sorted load only the LIMIT range, in their order (reversed with DESC), and start and
// end are moved to index that shorter vector.
func loadSortItems(e *keyspace.Entry, z *zset.ZSet, o *sortOptions, start, end *int64, vectorLen int64) []sortItem {
	if e == nil {
		return nil
	}
	ranged := o.dontSort && (z != nil || e.Value.Type == keyspace.TypeList) &&
		(*start != 0 || *end != vectorLen-1)
	if ranged {
		vectorLen = *end - *start + 1
	}
	var items []sortItem
	switch v := e.Value.Ptr.(type) {
	case *list.List:
		if o.dontSort {
			if *end >= *start {
				for k := int64(0); k < vectorLen; k++ {
					i := *start + k
					if o.desc {
						i = int64(v.Len()) - 1 - *start - k
					}
					s, _ := v.Index(i)
					items = append(items, sortItem{elem: s})
				}
				*end -= *start
				*start = 0
			}
			return items
		}
		items = make([]sortItem, 0, v.Len())
		v.Each(func(s string) bool { items = append(items, sortItem{elem: s}); return true })
	case *set.Set:
		items = make([]sortItem, 0, v.Len())
		v.Each(func(s string) bool { items = append(items, sortItem{elem: s}); return true })
	case *zset.ZSet:
		if o.dontSort {
			for k := int64(0); k < max(vectorLen, 0); k++ {
				en, _ := z.At(int(*start+k), o.desc)
				items = append(items, sortItem{elem: en.Member})
			}
			*end -= *start
			*start = 0
			return items
		}
		items = make([]sortItem, 0, z.Len())
		z.Each(false, func(en zset.Entry) bool { items = append(items, sortItem{elem: en.Member}); return true })
	}
	return items
}

// sortWeights computes each item's weight: its BY value or the element, as a number
// unless ALPHA. It reports false when a number cannot be read.
func sortWeights(c *Ctx, items []sortItem, o *sortOptions) bool {
	ok := true
	for i := range items {
		it := &items[i]
		val := it.elem
		if o.by != nil {
			v, found := lookupByPattern(c, o.by, it.elem, o.store != nil)
			if !found {
				continue
			}
			val = v
		}
		if o.alpha {
			if o.by != nil {
				it.cmp, it.hasCmp = val, true
			}
			continue
		}
		score, valid := sortScore(val)
		if !valid {
			ok = false
		}
		it.score = score
	}
	return ok
}

// sortItems orders the vector as sortCompare does: numerically by weight with the
// elements' bytes breaking ties, or ALPHA by the BY values (missing ones first) or by
// the elements; DESC reverses the comparison.
func sortItems(items []sortItem, o *sortOptions) {
	cmp := func(a, b *sortItem) int {
		var r int
		switch {
		case !o.alpha:
			switch {
			case a.score > b.score:
				r = 1
			case a.score < b.score:
				r = -1
			default:
				r = strings.Compare(a.elem, b.elem)
			}
		case o.by != nil:
			switch {
			case !a.hasCmp || !b.hasCmp:
				if a.hasCmp == b.hasCmp {
					r = 0
				} else if !a.hasCmp {
					r = -1
				} else {
					r = 1
				}
			default:
				r = strings.Compare(a.cmp, b.cmp)
			}
		default:
			r = strings.Compare(a.elem, b.elem)
		}
		if o.desc {
			r = -r
		}
		return r
	}
	sort.SliceStable(items, func(i, j int) bool { return cmp(&items[i], &items[j]) < 0 })
}
