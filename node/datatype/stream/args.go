package stream

import (
	"errors"
	"math"

	"github.com/clusterctl/clusterctl/node/resp"
)

// RangeArgs is a parsed XRANGE or XREVRANGE.
type RangeArgs struct {
	Start, End ID
	// Count is COUNT's value; -1 when absent. COUNT 0 or negative makes Redis reply a
	// null array (NullReply).
	Count     int64
	NullReply bool
	Rev       bool
}

// ParseRange parses XRANGE key start end [COUNT n] (rev: XREVRANGE key end start) from
// the arguments after the key. Redis parses everything before looking up the key.
func ParseRange(args [][]byte, rev bool) (RangeArgs, error) {
	r := RangeArgs{Count: -1, Rev: rev}
	if len(args) < 2 {
		return r, ErrSyntax
	}
	startArg, endArg := args[0], args[1]
	if rev {
		startArg, endArg = endArg, startArg
	}
	var ex bool
	var err error
	if r.Start, ex, err = ParseIntervalID(startArg, 0); err != nil {
		return r, err
	}
	if ex {
		var ok bool
		if r.Start, ok = r.Start.incr(); !ok {
			return r, ErrInvalidStart
		}
	}
	if r.End, ex, err = ParseIntervalID(endArg, math.MaxUint64); err != nil {
		return r, err
	}
	if ex {
		var ok bool
		if r.End, ok = r.End.decr(); !ok {
			return r, ErrInvalidEnd
		}
	}
	for j := 2; j < len(args); j++ {
		if !keyword(args[j], "count") || j+1 >= len(args) {
			return r, ErrSyntax
		}
		n, ok := resp.ParseInt(args[j+1])
		if !ok {
			return r, ErrNotInteger
		}
		r.Count = max(n, 0)
		j++
	}
	r.NullReply = r.Count == 0
	return r, nil
}

// Range runs a parsed XRANGE / XREVRANGE.
func (s *Stream) RangeQuery(r RangeArgs) []Entry {
	return s.Range(r.Start, r.End, max(r.Count, 0), r.Rev)
}

// ParseIDs parses the IDs of XDEL and XACK (strict, a missing sequence is 0). Redis
// checks them all before changing anything; for XACK it looks the group up first and
// replies 0 without parsing when the key or group is missing.
func ParseIDs(args [][]byte) ([]ID, error) {
	ids := make([]ID, len(args))
	for i, a := range args {
		id, err := ParseStrictID(a, 0)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

// ReadArgs is a parsed XREAD or XREADGROUP, up to the stream IDs, which depend on each
// key's stream (ResolveReadID).
type ReadArgs struct {
	Count int64 // 0: no limit
	// Block is BLOCK's timeout in milliseconds, -1 when not blocking (0 blocks forever).
	Block    int64
	Group    string
	Consumer string
	NoAck    bool
	Keys     [][]byte
	IDs      [][]byte
}

var (
	errUnbalancedRead = errors.New("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
	errGroupOnXRead   = errors.New("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
	errNoAckOnXRead   = errors.New("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
	errMissingGroup   = errors.New("ERR Missing GROUP option for XREADGROUP")
	errDollarInGroup  = errors.New("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")
	errGreaterInRead  = errors.New("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
)

// ParseRead parses the arguments after XREAD or XREADGROUP (group) up to STREAMS, as
// xreadCommand does before any key lookup. Running BLOCK from a script is refused by the
// server before this.
func ParseRead(args [][]byte, group bool) (ReadArgs, error) {
	r := ReadArgs{Block: -1}
	streamsAt := -1
	groupGiven := false
	for i := 0; i < len(args); i++ {
		more := len(args) - i - 1
		switch {
		case keyword(args[i], "block") && more > 0:
			i++
			ms, err := ParseTimeout(args[i])
			if err != nil {
				return r, err
			}
			r.Block = ms
		case keyword(args[i], "count") && more > 0:
			i++
			n, ok := resp.ParseInt(args[i])
			if !ok {
				return r, ErrNotInteger
			}
			r.Count = max(n, 0)
		case keyword(args[i], "streams") && more > 0:
			streamsAt = i + 1
			if (len(args)-streamsAt)%2 != 0 {
				return r, errUnbalancedRead
			}
			n := (len(args) - streamsAt) / 2
			r.Keys = args[streamsAt : streamsAt+n]
			r.IDs = args[streamsAt+n:]
			i = len(args)
		case keyword(args[i], "group") && more >= 2:
			if !group {
				return r, errGroupOnXRead
			}
			r.Group, r.Consumer = string(args[i+1]), string(args[i+2])
			groupGiven = true
			i += 2
		case keyword(args[i], "noack"):
			if !group {
				return r, errNoAckOnXRead
			}
			r.NoAck = true
		default:
			return r, ErrSyntax
		}
	}
	if streamsAt < 0 {
		return r, ErrSyntax
	}
	if group && !groupGiven {
		return r, errMissingGroup
	}
	return r, nil
}

// ParseTimeout parses a BLOCK timeout in milliseconds (getTimeoutFromObjectOrReply).
func ParseTimeout(arg []byte) (int64, error) {
	n, ok := resp.ParseInt(arg)
	if !ok {
		return 0, ErrTimeoutNotInt
	}
	if n < 0 {
		return 0, ErrTimeoutNeg
	}
	return n, nil
}

// ReadID is one stream's position in XREAD / XREADGROUP.
type ReadID struct {
	// After: entries with greater IDs are read.
	After ID
	// New is XREADGROUP's ">": entries never delivered to the group.
	New bool
}

// ResolveReadID resolves one stream's ID argument. Redis handles the keys in order: for
// each, the WRONGTYPE check, then for XREADGROUP the NOGROUP check (NoReadGroupError),
// then this. s is nil for a missing key; "$" means the stream's last ID.
func ResolveReadID(arg []byte, group bool, s *Stream) (ReadID, error) {
	switch string(cstr(arg)) {
	case "$":
		if group {
			return ReadID{}, errDollarInGroup
		}
		if s != nil {
			return ReadID{After: s.lastID}, nil
		}
		return ReadID{}, nil
	case ">":
		if !group {
			return ReadID{}, errGreaterInRead
		}
		return ReadID{New: true}, nil
	}
	id, err := ParseStrictID(arg, 0)
	if group && id == MaxID {
		// Redis marks ">" with the maximal ID, so an explicit maximal ID reads as ">".
		return ReadID{New: true}, err
	}
	return ReadID{After: id}, err
}

// Read serves XREAD for one stream: entries after id, at most count (0: all). Redis
// replies only for streams with such entries, and blocks or replies nil when none has.
func (s *Stream) Read(after ID, count int64) []Entry {
	if !after.Less(s.lastID) {
		return nil
	}
	start, _ := after.incr()
	return s.Range(start, MaxID, count, false)
}

// PendingQuery is XPENDING's extended form.
type PendingQuery struct {
	MinIdle    int64
	Start, End ID
	Count      int64
	Consumer   string
}

// ParsePending parses the arguments after XPENDING key group. summary is true for the
// short form (no arguments). Everything is parsed before the key lookup.
func ParsePending(args [][]byte) (q PendingQuery, summary bool, err error) {
	if len(args) == 0 {
		return q, true, nil
	}
	if len(args) < 3 || len(args) > 6 {
		return q, false, ErrSyntax
	}
	i := 0
	if keyword(args[0], "idle") {
		n, ok := resp.ParseInt(args[1])
		if !ok {
			return q, false, ErrNotInteger
		}
		q.MinIdle = n
		if len(args) < 5 {
			return q, false, ErrSyntax
		}
		i = 2
	}
	n, ok := resp.ParseInt(args[i+2])
	if !ok {
		return q, false, ErrNotInteger
	}
	q.Count = max(n, 0)
	var ex bool
	if q.Start, ex, err = ParseIntervalID(args[i], 0); err != nil {
		return q, false, err
	}
	if ex {
		if q.Start, ok = q.Start.incr(); !ok {
			return q, false, ErrInvalidStart
		}
	}
	if q.End, ex, err = ParseIntervalID(args[i+1], math.MaxUint64); err != nil {
		return q, false, err
	}
	if ex {
		if q.End, ok = q.End.decr(); !ok {
			return q, false, ErrInvalidEnd
		}
	}
	if i+3 < len(args) {
		q.Consumer = string(args[i+3])
	}
	return q, false, nil
}

// ClaimArgs is a parsed XCLAIM.
type ClaimArgs struct {
	Consumer   string
	MinIdle    int64
	IDs        []ID
	Force      bool
	JustID     bool
	RetryCount int64 // -1 when not given
	// Delivery is the IDLE (DeliveryIsIdle) or TIME value, whichever came last.
	Delivery       int64
	DeliveryIsIdle bool
	DeliveryGiven  bool
	LastID         ID
	LastIDGiven    bool
}

// ParseClaim parses XCLAIM's arguments after key and group (consumer, min-idle-time,
// IDs, options). Redis checks the key and group first (NoKeyOrGroupError), then these.
// The IDs are those arguments that parse as IDs, up to the first that does not; the rest
// are options.
func ParseClaim(args [][]byte) (ClaimArgs, error) {
	a := ClaimArgs{RetryCount: -1}
	if len(args) < 3 {
		return a, ErrSyntax
	}
	a.Consumer = string(args[0])
	n, ok := resp.ParseInt(args[1])
	if !ok {
		return a, errors.New("ERR Invalid min-idle-time argument for XCLAIM")
	}
	a.MinIdle = max(n, 0)
	j := 2
	for ; j < len(args); j++ {
		id, err := ParseStrictID(args[j], 0)
		if err != nil {
			break
		}
		a.IDs = append(a.IDs, id)
	}
	for ; j < len(args); j++ {
		more := len(args) - 1 - j
		switch opt := args[j]; {
		case keyword(opt, "force"):
			a.Force = true
		case keyword(opt, "justid"):
			a.JustID = true
		case keyword(opt, "idle") && more > 0, keyword(opt, "time") && more > 0:
			j++
			v, ok := resp.ParseInt(args[j])
			if !ok {
				name := "IDLE"
				if keyword(opt, "time") {
					name = "TIME"
				}
				return a, errors.New("ERR Invalid " + name + " option argument for XCLAIM")
			}
			a.Delivery, a.DeliveryIsIdle, a.DeliveryGiven = v, keyword(opt, "idle"), true
		case keyword(opt, "retrycount") && more > 0:
			j++
			v, ok := resp.ParseInt(args[j])
			if !ok {
				return a, errors.New("ERR Invalid RETRYCOUNT option argument for XCLAIM")
			}
			a.RetryCount = v
		case keyword(opt, "lastid") && more > 0:
			j++
			id, err := ParseStrictID(args[j], 0)
			if err != nil {
				return a, err
			}
			a.LastID, a.LastIDGiven = id, true
		default:
			return a, errors.New("ERR Unrecognized XCLAIM option '" + string(cstr(opt)) + "'")
		}
	}
	return a, nil
}

// AutoClaimArgs is a parsed XAUTOCLAIM.
type AutoClaimArgs struct {
	Consumer string
	MinIdle  int64
	Start    ID
	Count    int64
	JustID   bool
}

// ParseAutoClaim parses XAUTOCLAIM's arguments after key and group (consumer,
// min-idle-time, start, options). Redis parses them before the key and group lookup.
func ParseAutoClaim(args [][]byte) (AutoClaimArgs, error) {
	a := AutoClaimArgs{Count: 100}
	if len(args) < 3 {
		return a, ErrSyntax
	}
	a.Consumer = string(args[0])
	n, ok := resp.ParseInt(args[1])
	if !ok {
		return a, errors.New("ERR Invalid min-idle-time argument for XAUTOCLAIM")
	}
	a.MinIdle = max(n, 0)
	start, ex, err := ParseIntervalID(args[2], 0)
	if err != nil {
		return a, err
	}
	if ex {
		if start, ok = start.incr(); !ok {
			return a, ErrInvalidStart
		}
	}
	a.Start = start
	for j := 3; j < len(args); j++ {
		more := len(args) - 1 - j
		switch {
		case keyword(args[j], "count") && more > 0:
			// COUNT is bounded so that COUNT * 10 attempts cannot overflow.
			v, ok := resp.ParseInt(args[j+1])
			if !ok || v < 1 || v > math.MaxInt64/16 {
				return a, errors.New("ERR COUNT must be > 0")
			}
			a.Count = v
			j++
		case keyword(args[j], "justid"):
			a.JustID = true
		default:
			return a, ErrSyntax
		}
	}
	return a, nil
}

// GroupArgs is a parsed XGROUP CREATE or SETID.
type GroupArgs struct {
	// ID is the ID argument; Dollar is "$", the stream's last ID.
	ID          ID
	Dollar      bool
	MkStream    bool
	EntriesRead int64
}

// SubcommandSyntaxError is addReplySubcommandSyntaxError's reply for a subcommand as
// the client typed it, e.g. ("create", "XGROUP").
func SubcommandSyntaxError(sub, command string) error {
	return errors.New("ERR unknown subcommand or wrong number of arguments for '" + sub + "'. Try " + command + " HELP.")
}

// ParseGroupOptions parses XGROUP CREATE (create) or SETID options after the ID, as
// xgroupCommand does before the key lookup: MKSTREAM (CREATE only) and ENTRIESREAD.
// sub is the subcommand as typed, for the error text.
func ParseGroupOptions(sub []byte, create bool, opts [][]byte) (GroupArgs, error) {
	g := GroupArgs{EntriesRead: InvalidEntriesRead}
	for i := 0; i < len(opts); {
		switch {
		case create && keyword(opts[i], "mkstream"):
			g.MkStream = true
			i++
		case keyword(opts[i], "entriesread") && i+1 < len(opts):
			n, ok := resp.ParseInt(opts[i+1])
			if !ok {
				return g, ErrNotInteger
			}
			if n < 0 && n != InvalidEntriesRead {
				return g, errors.New("ERR value for ENTRIESREAD must be positive or -1")
			}
			g.EntriesRead = n
			i += 2
		default:
			return g, SubcommandSyntaxError(string(sub), "XGROUP")
		}
	}
	return g, nil
}

// ParseGroupID parses XGROUP CREATE's (strict) or SETID's ID argument, after the key
// lookup and the group checks, as Redis does; "$" is reported in Dollar.
func ParseGroupID(arg []byte, create bool) (ID, bool, error) {
	if string(arg) == "$" {
		return ID{}, true, nil
	}
	var id ID
	var err error
	if create {
		id, err = ParseStrictID(arg, 0)
	} else {
		id, err = ParseID(arg, 0)
	}
	return id, false, err
}

// ResolveGroupID turns "$" into the stream's last ID.
func (s *Stream) ResolveGroupID(id ID, dollar bool) ID {
	if dollar {
		if s == nil {
			return ID{}
		}
		return s.lastID
	}
	return id
}

// InfoArgs is a parsed XINFO STREAM.
type InfoArgs struct {
	Full  bool
	Count int64 // FULL's COUNT: 10 by default, 0 for everything
}

// ParseInfoStream parses what follows XINFO STREAM key; sub is the subcommand as typed,
// for the error text.
func ParseInfoStream(sub []byte, args [][]byte) (InfoArgs, error) {
	a := InfoArgs{Count: 10}
	if len(args) == 0 {
		return a, nil
	}
	if !keyword(args[0], "full") {
		return a, SubcommandSyntaxError(string(sub), "XINFO")
	}
	a.Full = true
	switch {
	case len(args) == 1:
	case len(args) == 3 && keyword(args[1], "count"):
		n, ok := resp.ParseInt(args[2])
		if !ok {
			return a, ErrNotInteger
		}
		if n < 0 {
			n = 10 // a negative COUNT means the default, as in Redis
		}
		a.Count = n
	default:
		return a, SubcommandSyntaxError(string(sub), "XINFO")
	}
	return a, nil
}
