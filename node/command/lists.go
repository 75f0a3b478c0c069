package command

import (
	"strconv"

	"github.com/clusterctl/clusterctl/node/datatype/list"
	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/resp"
)

// registerLists adds the lists commands to the table.
func registerLists(t *Table) {
	t.Register("lpush", func(c *Ctx) { pushGeneric(c, true, false) })
	t.Register("rpush", func(c *Ctx) { pushGeneric(c, false, false) })
	t.Register("lpushx", func(c *Ctx) { pushGeneric(c, true, true) })
	t.Register("rpushx", func(c *Ctx) { pushGeneric(c, false, true) })
	t.Register("lpop", func(c *Ctx) { popGeneric(c, true) })
	t.Register("rpop", func(c *Ctx) { popGeneric(c, false) })
	t.Register("llen", cmdLLen)
	t.Register("lrange", cmdLRange)
	t.Register("lindex", cmdLIndex)
	t.Register("lset", cmdLSet)
	t.Register("linsert", cmdLInsert)
	t.Register("lrem", cmdLRem)
	t.Register("ltrim", cmdLTrim)
	t.Register("lpos", cmdLPos)
	t.Register("lmove", cmdLMove)
	t.Register("rpoplpush", func(c *Ctx) { lmoveGeneric(c, false, true) })
	t.Register("lmpop", cmdLMPop)
}

// lookupKind returns the entry at key when it holds a value of type t; nil when the key
// is missing; ok is false after replying WRONGTYPE (checkType).
func lookupKind(c *Ctx, key []byte, t keyspace.Type, write bool) (e *keyspace.Entry, ok bool) {
	if write {
		e = c.DB.LookupWriteKey(key)
	} else {
		e = c.DB.LookupRead(key)
	}
	if e != nil && e.Value.Type != t {
		c.Error(ErrWrongType)
		return nil, false
	}
	return e, true
}

// LookupList returns the list at key for reading or writing, nil when the key is missing;
// ok is false after replying WRONGTYPE. The blocking commands use it to find a list to
// serve.
func LookupList(c *Ctx, key []byte, write bool) (*keyspace.Entry, *list.List, bool) {
	e, ok := lookupKind(c, key, keyspace.TypeList, write)
	if e == nil {
		return nil, nil, ok
	}
	return e, e.Value.Ptr.(*list.List), true
}

// listObject wraps a list as a keyspace value.
func listObject(l *list.List) keyspace.Object {
	return keyspace.Object{Type: keyspace.TypeList, Enc: keyspace.EncQuicklist, Ptr: l}
}

// addList creates an empty list at key, which must not exist (createQuicklistObject and
// dbAdd).
func addList(c *Ctx, key []byte) (*keyspace.Entry, *list.List) {
	l := &list.List{}
	return c.DB.Add(key, listObject(l)), l
}

// pushGeneric is LPUSH, RPUSH and, with onlyExisting, LPUSHX and RPUSHX
// (pushGenericCommand, pushxGenericCommand).
func pushGeneric(c *Ctx, head, onlyExisting bool) {
	key := c.Argv[1]
	e, l, ok := LookupList(c, key, true)
	if !ok {
		return
	}
	if e == nil {
		if onlyExisting {
			c.W.Int(0)
			return
		}
		e, l = addList(c, key)
	}
	for _, a := range c.Argv[2:] {
		l.Push(string(a), head)
	}
	c.DB.Modified(e)
	c.W.Int(int64(l.Len()))
	c.Dirty(len(c.Argv) - 2)
	c.Notify(NotifyList, pushEvent(head), key)
}

func pushEvent(head bool) string {
	if head {
		return "lpush"
	}
	return "rpush"
}

func popEvent(head bool) string {
	if head {
		return "lpop"
	}
	return "rpop"
}

// ListPop removes up to count elements from the head or the tail of the list l stored in
// e (the entry of key), in pop order, deleting the key when the list empties; it counts
// the changes and sends the events as Redis's listElementsRemoved. Replying and
// replication are the caller's: LPOP replicates as itself, LMPOP and the blocking pops as
// [LR]POP key count.
func ListPop(c *Ctx, e *keyspace.Entry, l *list.List, key []byte, head bool, count int) []string {
	out := l.PopN(count, head)
	c.Notify(NotifyList, popEvent(head), key)
	listElementsRemoved(c, e, l, key, len(out))
	return out
}

// listElementsRemoved deletes the key of an emptied list (with its "del" event), or
// re-accounts its memory, and counts n changes.
func listElementsRemoved(c *Ctx, e *keyspace.Entry, l *list.List, key []byte, n int) {
	if l.Len() == 0 {
		c.DB.Delete(e)
		c.Notify(NotifyGeneric, "del", key)
	} else {
		c.DB.Modified(e)
	}
	c.Dirty(n)
}

// replyStrings writes elements as an array of bulk strings.
func replyStrings(c *Ctx, elems []string) {
	c.W.ArrayLen(len(elems))
	for _, s := range elems {
		c.W.BulkString(s)
	}
}

// popGeneric is LPOP and RPOP with an optional count (popGenericCommand).
func popGeneric(c *Ctx, head bool) {
	if len(c.Argv) > 3 {
		c.WrongArity()
		return
	}
	hasCount := len(c.Argv) == 3
	var count int64
	if hasCount {
		var ok bool
		if count, ok = parsePositive(c, c.Argv[2], ""); !ok {
			return
		}
	}
	e, l, ok := LookupList(c, c.Argv[1], true)
	if !ok {
		return
	}
	if e == nil {
		if hasCount {
			c.W.NullArray()
		} else {
			c.W.Null()
		}
		return
	}
	if hasCount && count == 0 {
		c.W.ArrayLen(0)
		return
	}
	if !hasCount {
		c.W.BulkString(ListPop(c, e, l, c.Argv[1], head, 1)[0])
		return
	}
	replyStrings(c, ListPop(c, e, l, c.Argv[1], head, int(min(count, int64(l.Len())))))
}

// parsePositive reads a non-negative integer argument (getPositiveLongFromObjectOrReply):
// a bad one gets msg, by default Redis's "must be positive".
func parsePositive(c *Ctx, arg []byte, msg string) (int64, bool) {
	n, ok := resp.ParseInt(arg)
	if !ok || n < 0 {
		if msg == "" {
			msg = "ERR value is out of range, must be positive"
		}
		c.Error(msg)
		return 0, false
	}
	return n, true
}

// parseIndex reads an integer argument (getLongFromObjectOrReply).
func parseIndex(c *Ctx, arg []byte) (int64, bool) {
	n, ok := resp.ParseInt(arg)
	if !ok {
		c.Error(ErrNotInt)
	}
	return n, ok
}

func cmdLLen(c *Ctx) {
	_, l, ok := LookupList(c, c.Argv[1], false)
	if !ok {
		return
	}
	if l == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(l.Len()))
}

func cmdLRange(c *Ctx) {
	start, ok := parseIndex(c, c.Argv[2])
	if !ok {
		return
	}
	end, ok := parseIndex(c, c.Argv[3])
	if !ok {
		return
	}
	_, l, ok := LookupList(c, c.Argv[1], false)
	if !ok {
		return
	}
	if l == nil {
		c.W.ArrayLen(0)
		return
	}
	first, count := list.RangeBounds(start, end, l.Len())
	c.W.ArrayLen(count)
	l.Range(first, count, func(s string) { c.W.BulkString(s) })
}

func cmdLIndex(c *Ctx) {
	_, l, ok := LookupList(c, c.Argv[1], false)
	if !ok {
		return
	}
	if l == nil {
		c.W.Null()
		return
	}
	index, ok := parseIndex(c, c.Argv[2])
	if !ok {
		return
	}
	if s, ok := l.Index(index); ok {
		c.W.BulkString(s)
	} else {
		c.W.Null()
	}
}

func cmdLSet(c *Ctx) {
	e, l, ok := LookupList(c, c.Argv[1], true)
	if !ok {
		return
	}
	if l == nil {
		c.Error(ErrNoSuchKey)
		return
	}
	index, ok := parseIndex(c, c.Argv[2])
	if !ok {
		return
	}
	if !l.Set(index, string(c.Argv[3])) {
		c.Error(ErrOutOfRange)
		return
	}
	c.DB.Modified(e)
	c.Dirty(1)
	c.Notify(NotifyList, "lset", c.Argv[1])
	c.W.OK()
}

func cmdLInsert(c *Ctx) {
	var after bool
	switch {
	case Is(c.Argv[2], "after"):
		after = true
	case Is(c.Argv[2], "before"):
	default:
		c.Error(ErrSyntax)
		return
	}
	e, l, ok := LookupList(c, c.Argv[1], true)
	if !ok {
		return
	}
	if l == nil {
		c.W.Int(0)
		return
	}
	if !l.Insert(string(c.Argv[3]), string(c.Argv[4]), after) {
		c.W.Int(-1)
		return
	}
	c.DB.Modified(e)
	c.Dirty(1)
	c.Notify(NotifyList, "linsert", c.Argv[1])
	c.W.Int(int64(l.Len()))
}

func cmdLRem(c *Ctx) {
	count, ok := parseIndex(c, c.Argv[2])
	if !ok {
		return
	}
	e, l, ok := LookupList(c, c.Argv[1], true)
	if !ok {
		return
	}
	if l == nil {
		c.W.Int(0)
		return
	}
	removed := l.Remove(count, string(c.Argv[3]))
	if removed > 0 {
		c.Notify(NotifyList, "lrem", c.Argv[1])
		listElementsRemoved(c, e, l, c.Argv[1], removed)
	}
	c.W.Int(int64(removed))
}

func cmdLTrim(c *Ctx) {
	start, ok := parseIndex(c, c.Argv[2])
	if !ok {
		return
	}
	end, ok := parseIndex(c, c.Argv[3])
	if !ok {
		return
	}
	e, l, ok := LookupList(c, c.Argv[1], true)
	if !ok {
		return
	}
	if l != nil {
		removed := l.Trim(start, end)
		c.Notify(NotifyList, "ltrim", c.Argv[1])
		listElementsRemoved(c, e, l, c.Argv[1], removed)
	}
	c.W.OK()
}

func cmdLPos(c *Ctx) {
	opts, err := list.ParsePosOptions(c.Argv[3:])
	if err != nil {
		c.Error(err.Error())
		return
	}
	_, l, ok := LookupList(c, c.Argv[1], false)
	if !ok {
		return
	}
	if l == nil {
		if opts.Count != -1 {
			c.W.ArrayLen(0)
		} else {
			c.W.Null()
		}
		return
	}
	found := l.Pos(string(c.Argv[2]), opts)
	if opts.Count != -1 {
		c.W.ArrayLen(len(found))
		for _, i := range found {
			c.W.Int(int64(i))
		}
		return
	}
	if len(found) == 0 {
		c.W.Null()
		return
	}
	c.W.Int(int64(found[0]))
}

// parseWhere reads LEFT or RIGHT (getListPositionFromObjectOrReply); head is true for
// LEFT.
func parseWhere(c *Ctx, arg []byte) (head, ok bool) {
	switch {
	case Is(arg, "left"):
		return true, true
	case Is(arg, "right"):
		return false, true
	}
	c.Error(ErrSyntax)
	return false, false
}

func cmdLMove(c *Ctx) {
	from, ok := parseWhere(c, c.Argv[3])
	if !ok {
		return
	}
	to, ok := parseWhere(c, c.Argv[4])
	if !ok {
		return
	}
	lmoveGeneric(c, from, to)
}

// lmoveGeneric is LMOVE and RPOPLPUSH (lmoveGenericCommand): both replicate as
// themselves.
func lmoveGeneric(c *Ctx, fromHead, toHead bool) {
	e, l, ok := LookupList(c, c.Argv[1], true)
	if !ok {
		return
	}
	if l == nil || l.Len() == 0 {
		c.W.Null()
		return
	}
	if elem, ok := ListMove(c, e, l, c.Argv[1], c.Argv[2], fromHead, toHead); ok {
		c.W.BulkString(elem)
	}
}

// ListMove pops one element from the head or tail of the non-empty list src (stored in
// srcEntry under srcKey) and pushes it at the head or tail of the list at dstKey,
// creating it when missing; it deletes the source key when it empties. ok is false after
// replying WRONGTYPE when dstKey holds another type, in which case nothing changed. The
// reply (the element) and replication are the caller's: LMOVE and RPOPLPUSH replicate
// as themselves, BLMOVE as LMOVE and BRPOPLPUSH as RPOPLPUSH.
func ListMove(c *Ctx, srcEntry *keyspace.Entry, src *list.List, srcKey, dstKey []byte, fromHead, toHead bool) (string, bool) {
	dstEntry, dst, ok := LookupList(c, dstKey, true)
	if !ok {
		return "", false
	}
	elem, _ := src.Pop(fromHead)
	if dstEntry == nil {
		dstEntry, dst = addList(c, dstKey)
	}
	dst.Push(elem, toHead)
	c.DB.Modified(dstEntry)
	c.Notify(NotifyList, pushEvent(toHead), dstKey)
	c.Notify(NotifyList, popEvent(fromHead), srcKey)
	if dstEntry != srcEntry {
		listElementsRemoved(c, srcEntry, src, srcKey, 1)
	} else {
		c.Dirty(1)
	}
	return elem, true
}

var (
	argLPOP = []byte("LPOP")
	argRPOP = []byte("RPOP")
)

// MPopArgs are the arguments of LMPOP and BLMPOP after numkeys' position.
type MPopArgs struct {
	Keys  [][]byte
	Head  bool
	Count int64
}

// ParseMPop parses "numkeys key... LEFT|RIGHT [COUNT count]" starting at argv[from]
// (lmpopGenericCommand), replying Redis's error when it fails.
func ParseMPop(c *Ctx, from int) (MPopArgs, bool) {
	var a MPopArgs
	const numkeysErr = "ERR numkeys should be greater than 0"
	numkeys, ok := resp.ParseInt(c.Argv[from])
	if !ok || numkeys < 1 {
		c.Error(numkeysErr)
		return a, false
	}
	whereIdx := int64(from) + numkeys + 1
	if whereIdx >= int64(len(c.Argv)) {
		c.Error(ErrSyntax)
		return a, false
	}
	if a.Head, ok = parseWhere(c, c.Argv[whereIdx]); !ok {
		return a, false
	}
	a.Count = -1
	for j := int(whereIdx) + 1; j < len(c.Argv); j++ {
		if a.Count == -1 && Is(c.Argv[j], "count") && j+1 < len(c.Argv) {
			j++
			n, ok := resp.ParseInt(c.Argv[j])
			if !ok || n < 1 {
				c.Error("ERR count should be greater than 0")
				return a, false
			}
			a.Count = n
			continue
		}
		c.Error(ErrSyntax)
		return a, false
	}
	if a.Count == -1 {
		a.Count = 1
	}
	a.Keys = c.Argv[from+1 : whereIdx]
	return a, true
}

func cmdLMPop(c *Ctx) {
	a, ok := ParseMPop(c, 1)
	if !ok {
		return
	}
	if done := mpopFirstList(c, a); !done {
		c.W.NullArray()
	}
}

// mpopFirstList pops from the first non-empty list of a.Keys, replies and replicates it
// (LMPOP and BLMPOP). It reports whether it replied: a pop, or a WRONGTYPE error.
func mpopFirstList(c *Ctx, a MPopArgs) (done bool) {
	for _, key := range a.Keys {
		e, l, ok := LookupList(c, key, true)
		if !ok {
			return true
		}
		if l == nil || l.Len() == 0 {
			continue
		}
		n := int(min(a.Count, int64(l.Len())))
		ReplyPopWithKey(c, key, ListPop(c, e, l, key, a.Head, n))
		ReplicatePop(c, key, a.Head, n)
		return true
	}
	return false
}

// ReplyPopWithKey writes LMPOP's reply: the key and the popped elements.
func ReplyPopWithKey(c *Ctx, key []byte, elems []string) {
	c.W.ArrayLen(2)
	c.W.Bulk(key)
	replyStrings(c, elems)
}

// ReplicatePop replaces the command's replay form by [LR]POP key count, as LMPOP and
// the blocking pops replicate.
func ReplicatePop(c *Ctx, key []byte, head bool, n int) {
	name := argRPOP
	if head {
		name = argLPOP
	}
	c.Rewrite(name, key, strconv.AppendInt(nil, int64(n), 10))
}
