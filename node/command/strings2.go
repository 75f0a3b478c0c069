package command

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/node/keyspace"
	"github.com/clusterctl/clusterctl/node/resp"
)

var (
	argDEL       = []byte("DEL")
	argUNLINK    = []byte("UNLINK")
	argPEXPIREAT = []byte("PEXPIREAT")
	argPERSIST   = []byte("PERSIST")
	argKEEPTTL   = []byte("KEEPTTL")
)

// cmdSetNX is SETNX: SET NX replying 1 or 0.
func cmdSetNX(c *Ctx) {
	if c.DB.LookupWriteKey(c.Argv[1]) != nil {
		c.W.Int(0)
		return
	}
	c.DB.SetString(c.Argv[1], c.Argv[2], false)
	c.Dirty(1)
	c.Notify(NotifyString, "set", c.Argv[1])
	c.W.Int(1)
}

// setExpireVariant is SETEX (seconds) and PSETEX (milliseconds): key, time, value.
func setExpireVariant(c *Ctx, flag int) {
	setGeneric(c, flag, c.Argv[1], c.Argv[3], c.Argv[2])
}

func cmdGetSet(c *Ctx) {
	if !getGeneric(c, c.Argv[1]) {
		return
	}
	c.DB.SetString(c.Argv[1], c.Argv[2], false)
	c.Dirty(1)
	c.Notify(NotifyString, "set", c.Argv[1])
	// Replicas apply a plain SET: nobody reads the old value there.
	c.Rewrite(argSET, c.Argv[1], c.Argv[2])
}

func cmdGetDel(c *Ctx) {
	e, ok := lookupString(c, c.Argv[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.W.Null()
		return
	}
	replyString(c, &e.Value)
	c.DB.Delete(e)
	c.Dirty(1)
	c.Notify(NotifyGeneric, "del", c.Argv[1])
	c.Rewrite(argDEL, c.Argv[1])
}

func cmdGetEx(c *Ctx) {
	flags, expireArg, ok := parseSetOptions(c, 2, true)
	if !ok {
		return
	}
	e := c.DB.LookupRead(c.Argv[1])
	if e == nil {
		c.W.Null()
		return
	}
	if e.Value.Type != keyspace.TypeString {
		c.Error(ErrWrongType)
		return
	}
	var at int64
	if expireArg != nil {
		if at, ok = expireMillis(c, expireArg, flags); !ok {
			return
		}
	}
	replyString(c, &e.Value)
	switch {
	case flags&(setEXAT|setPXAT) != 0 && at <= c.DB.Now:
		// An absolute time already past deletes the key, replicated as DEL.
		c.DB.Delete(e)
		c.Dirty(1)
		c.Notify(NotifyGeneric, "del", c.Argv[1])
		c.Rewrite(c.expireDeleteCommand(), c.Argv[1])
	case expireArg != nil:
		c.DB.SetExpire(e, at)
		c.Dirty(1)
		c.Notify(NotifyGeneric, "expire", c.Argv[1])
		if flags&setPXAT == 0 {
			var buf [24]byte
			c.Rewrite(argPEXPIREAT, c.Argv[1], strconv.AppendInt(buf[:0], at, 10))
		}
	case flags&setPersist != 0:
		if c.DB.Persist(e) {
			c.Dirty(1)
			c.Notify(NotifyGeneric, "persist", c.Argv[1])
			c.Rewrite(argPERSIST, c.Argv[1])
		}
	}
}

// expireDeleteCommand is how a deletion caused by an expiry time is replicated: UNLINK
// under lazyfree-lazy-expire, DEL otherwise.
func (c *Ctx) expireDeleteCommand() []byte {
	if c.Env.Keyspace.LazyfreeExpire() {
		return argUNLINK
	}
	return argDEL
}

func cmdMSetNX(c *Ctx) {
	if len(c.Argv)%2 == 0 {
		c.WrongArity()
		return
	}
	for j := 1; j < len(c.Argv); j += 2 {
		if c.DB.LookupWriteKey(c.Argv[j]) != nil {
			c.W.Int(0)
			return
		}
	}
	for j := 1; j < len(c.Argv); j += 2 {
		c.DB.SetString(c.Argv[j], c.Argv[j+1], false)
		c.Notify(NotifyString, "set", c.Argv[j])
	}
	c.Dirty((len(c.Argv) - 1) / 2)
	c.W.Int(1)
}

// checkStringLength refuses a string that would exceed proto-max-bulk-len.
func checkStringLength(c *Ctx, size, add int64) bool {
	total := size + add
	if total > c.Env.ProtoMaxBulkLen.Load() || total < size || total < add {
		c.Error(ErrStringLimit)
		return false
	}
	return true
}

// unshare makes a string value raw and its buffer private (dbUnshareStringValue), ready to
// be modified in place.
func unshare(o *keyspace.Object) {
	if o.Enc == keyspace.EncInt {
		o.Str = o.AppendString(nil)
	}
	o.Enc = keyspace.EncRaw
}

func cmdAppend(c *Ctx) {
	e, ok := lookupString(c, c.Argv[1], true)
	if !ok {
		return
	}
	if e == nil {
		e = c.DB.Add(c.Argv[1], keyspace.StringObject(c.Argv[2]))
	} else {
		o := &e.Value
		if !checkStringLength(c, int64(o.StringLen()), int64(len(c.Argv[2]))) {
			return
		}
		unshare(o)
		o.Str = append(o.Str, c.Argv[2]...)
		c.DB.Modified(e)
	}
	c.Dirty(1)
	c.Notify(NotifyString, "append", c.Argv[1])
	c.W.Int(int64(e.Value.StringLen()))
}

func cmdStrlen(c *Ctx) {
	e, ok := lookupString(c, c.Argv[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(e.Value.StringLen()))
}

// longDoublePrec is the mantissa of C's long double on x86-64, which INCRBYFLOAT computes
// in: parsing and adding at this precision, then printing with %.17Lf and trimming zeros,
// gives exactly Redis's strings (0.1 + 0.2 is "0.3", not "0.30000000000000004").
const longDoublePrec = 64

// parseLongDouble parses a float argument as Redis's string2ld (strtold): no spaces, no
// trailing bytes, no NaN; "inf" is accepted and caught later as a result.
func parseLongDouble(b []byte) (*big.Float, bool) {
	s := string(b)
	if len(s) == 0 || len(s) > 5*1024 || strings.ContainsAny(s, " \t\n\r\v\f_") {
		return nil, false
	}
	switch strings.ToLower(strings.TrimLeft(s, "+-")) {
	case "inf", "infinity":
		return new(big.Float).SetInf(s[0] == '-'), true
	case "nan":
		return nil, false
	}
	f, _, err := big.ParseFloat(s, 0, longDoublePrec, big.ToNearestEven)
	if err != nil {
		return nil, false
	}
	// Beyond long double's range strtold reports ERANGE; Redis rejects it.
	if exp := f.MantExp(nil); exp > 16384 || (exp < -16445 && f.Sign() != 0) {
		return nil, false
	}
	return f, true
}

// formatLongDouble renders as Redis's ld2string in human-friendly mode: %.17Lf with the
// trailing zeros (and a trailing point) removed.
func formatLongDouble(f *big.Float) string {
	s := f.Text('f', 17)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

func cmdIncrByFloat(c *Ctx) {
	e, ok := lookupString(c, c.Argv[1], true)
	if !ok {
		return
	}
	value := new(big.Float).SetPrec(longDoublePrec)
	if e != nil {
		v, ok := parseLongDouble(e.Value.AppendString(nil))
		if !ok {
			c.Error(ErrNotFloat)
			return
		}
		value = v
	}
	incr, ok := parseLongDouble(c.Argv[2])
	if !ok {
		c.Error(ErrNotFloat)
		return
	}
	if incr.IsInf() || value.IsInf() {
		c.Error("ERR increment would produce NaN or Infinity")
		return
	}
	value.SetPrec(longDoublePrec).Add(value, incr)
	if exp := value.MantExp(nil); exp > 16384 {
		c.Error("ERR increment would produce NaN or Infinity")
		return
	}
	out := []byte(formatLongDouble(value))
	if e == nil {
		c.DB.Add(c.Argv[1], keyspace.EmbstrObject(out))
	} else {
		c.DB.Set(c.Argv[1], keyspace.EmbstrObject(out), true)
	}
	c.Dirty(1)
	c.Notify(NotifyString, "incrbyfloat", c.Argv[1])
	c.W.Bulk(out)
	// The result, not the increment, is replicated: float formatting on a replica could
	// differ from ours.
	c.Rewrite(argSET, c.Argv[1], out, argKEEPTTL)
}

func cmdGetRange(c *Ctx) {
	start, ok1 := resp.ParseInt(c.Argv[2])
	end, ok2 := resp.ParseInt(c.Argv[3])
	if !ok1 || !ok2 {
		c.Error(ErrNotInt)
		return
	}
	e, ok := lookupString(c, c.Argv[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.W.BulkString("")
		return
	}
	var buf [24]byte
	str := e.Value.Str
	if e.Value.Enc == keyspace.EncInt {
		str = e.Value.AppendString(buf[:0])
	}
	n := int64(len(str))
	if start < 0 && end < 0 && start > end {
		c.W.BulkString("")
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.W.BulkString("")
		return
	}
	c.W.Bulk(str[start : end+1])
}

func cmdSetRange(c *Ctx) {
	offset, ok := resp.ParseInt(c.Argv[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if offset < 0 {
		c.Error("ERR offset is out of range")
		return
	}
	value := c.Argv[3]
	e, ok := lookupString(c, c.Argv[1], true)
	if !ok {
		return
	}
	if e == nil {
		if len(value) == 0 {
			c.W.Int(0)
			return
		}
		if !checkStringLength(c, offset, int64(len(value))) {
			return
		}
		e = c.DB.Add(c.Argv[1], keyspace.RawStringObject(nil))
	} else {
		if len(value) == 0 {
			c.W.Int(int64(e.Value.StringLen()))
			return
		}
		if !checkStringLength(c, offset, int64(len(value))) {
			return
		}
	}
	o := &e.Value
	unshare(o)
	if need := int(offset) + len(value); need > len(o.Str) {
		o.Str = append(o.Str, make([]byte, need-len(o.Str))...)
	}
	copy(o.Str[offset:], value)
	c.DB.Modified(e)
	c.Dirty(1)
	c.Notify(NotifyString, "setrange", c.Argv[1])
	c.W.Int(int64(len(o.Str)))
}

// cmdLCS implements LCS with the dynamic-programming table of lcsCommand, walking it back
// to build the subsequence and, with IDX, the matching ranges from the end.
func cmdLCS(c *Ctx) {
	ea := c.DB.LookupRead(c.Argv[1])
	eb := c.DB.LookupRead(c.Argv[2])
	if (ea != nil && ea.Value.Type != keyspace.TypeString) || (eb != nil && eb.Value.Type != keyspace.TypeString) {
		c.Error("ERR The specified keys must contain string values")
		return
	}
	var a, b []byte
	if ea != nil {
		a = ea.Value.AppendString(nil)
	}
	if eb != nil {
		b = eb.Value.AppendString(nil)
	}
	var getLen, getIdx, withMatchLen bool
	var minMatchLen int64
	for j := 3; j < len(c.Argv); j++ {
		more := len(c.Argv) - 1 - j
		switch {
		case Is(c.Argv[j], "idx"):
			getIdx = true
		case Is(c.Argv[j], "len"):
			getLen = true
		case Is(c.Argv[j], "withmatchlen"):
			withMatchLen = true
		case Is(c.Argv[j], "minmatchlen") && more > 0:
			n, ok := resp.ParseInt(c.Argv[j+1])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			minMatchLen = max(n, 0)
			j++
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if getIdx && getLen {
		c.Error("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	if int64(len(a)) >= math.MaxUint32-1 || int64(len(b)) >= math.MaxUint32-1 {
		c.Error("ERR String too long for LCS")
		return
	}
	alen, blen := len(a), len(b)
	cells := uint64(alen+1) * uint64(blen+1)
	if cells*4 > uint64(c.Env.ProtoMaxBulkLen.Load()) {
		c.Error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	dp := make([]uint32, cells)
	at := func(i, j int) *uint32 { return &dp[j+i*(blen+1)] }
	for i := 1; i <= alen; i++ {
		for j := 1; j <= blen; j++ {
			if a[i-1] == b[j-1] {
				*at(i, j) = *at(i-1, j-1) + 1
			} else {
				*at(i, j) = max(*at(i-1, j), *at(i, j-1))
			}
		}
	}
	idx := int(*at(alen, blen))
	computeLCS := getIdx || !getLen
	var result []byte
	if computeLCS {
		result = make([]byte, idx)
	}
	type match struct{ aStart, aEnd, bStart, bEnd, length int }
	var matches []match
	aStart, aEnd, bStart, bEnd := alen, 0, 0, 0 // aStart == alen: no range open
	i, j := alen, blen
	for computeLCS && i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if aStart == alen {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if *at(i-1, j) > *at(i, j-1) {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		if emit {
			n := aEnd - aStart + 1
			if minMatchLen == 0 || int64(n) >= minMatchLen {
				matches = append(matches, match{aStart, aEnd, bStart, bEnd, n})
			}
			aStart = alen
		}
	}
	switch {
	case getIdx:
		c.W.MapLen(2)
		c.W.BulkString("matches")
		c.W.ArrayLen(len(matches))
		for _, m := range matches {
			if withMatchLen {
				c.W.ArrayLen(3)
			} else {
				c.W.ArrayLen(2)
			}
			c.W.ArrayLen(2)
			c.W.Int(int64(m.aStart))
			c.W.Int(int64(m.aEnd))
			c.W.ArrayLen(2)
			c.W.Int(int64(m.bStart))
			c.W.Int(int64(m.bEnd))
			if withMatchLen {
				c.W.Int(int64(m.length))
			}
		}
		c.W.BulkString("len")
		c.W.Int(int64(*at(alen, blen)))
	case getLen:
		c.W.Int(int64(idx))
	default:
		c.W.Bulk(result)
	}
}
