package stream

import (
	"errors"
	"strconv"

	"github.com/clusterctl/clusterctl/node/resp"
)

// TrimStrategy is how XADD or XTRIM trims.
type TrimStrategy int

// Trim strategies.
const (
	TrimNone TrimStrategy = iota
	TrimMaxLen
	TrimMinID
)

// TrimArgs are the trimming options of XADD and XTRIM.
type TrimArgs struct {
	Strategy TrimStrategy
	// Approx is the "~" form: only whole nodes are removed.
	Approx bool
	// Limit caps the entries removed (0: none); with "~" it defaults to
	// 100 * stream-node-max-entries.
	Limit  int64
	MaxLen int64
	MinID  ID
	// ArgIndex is the position, in the arguments given to the parser, of the MAXLEN or
	// MINID value; after an approximate trim the command is propagated with "=" before it
	// and PropagatedTrimValue in it, so replicas trim exactly as much.
	ArgIndex int
}

// AddArgs is a parsed XADD.
type AddArgs struct {
	Trim       TrimArgs
	NoMkStream bool
	// ID is the explicit ID when IDGiven; SeqGiven is false for "ms-*".
	ID       ID
	IDGiven  bool
	SeqGiven bool
	// IDIndex is the position of the ID argument; XADD is propagated with the generated
	// ID there when the ID was "*" or "ms-*".
	IDIndex int
	Fields  [][]byte
}

var (
	errMaxLenNegative = errors.New("ERR The MAXLEN argument must be >= 0.")
	errLimitNegative  = errors.New("ERR The LIMIT argument must be >= 0.")
	errBothStrategies = errors.New("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
	errLimitNoTrim    = errors.New("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
	errXTrimNoTrim    = errors.New("ERR syntax error, XTRIM must be called with a trimming strategy")
	errLimitNoApprox  = errors.New("ERR syntax error, LIMIT cannot be used without the special ~ option")
	errXAddArity      = errors.New("ERR wrong number of arguments for 'xadd' command")
)

// ParseXAdd parses the arguments after XADD's key (streamParseAddOrTrimArgsOrReply and
// xaddCommand's checks before the key lookup). trusted is set for the replication master
// and AOF loading, where a trim is never limited. The WRONGTYPE check and NOMKSTREAM's
// null reply come after.
func ParseXAdd(args [][]byte, trusted bool, cfg Config) (AddArgs, error) {
	var a AddArgs
	i, err := parseAddOrTrim(args, true, trusted, cfg, &a)
	if err != nil {
		return a, err
	}
	a.IDIndex = i
	rest := args[min(i+1, len(args)):]
	if len(rest) < 2 || len(rest)%2 == 1 {
		return a, errXAddArity
	}
	a.Fields = rest
	if a.IDGiven && a.SeqGiven && a.ID.IsZero() {
		return a, ErrIDZero
	}
	return a, nil
}

// ParseXTrim parses the arguments after XTRIM's key.
func ParseXTrim(args [][]byte, trusted bool, cfg Config) (TrimArgs, error) {
	var a AddArgs
	_, err := parseAddOrTrim(args, false, trusted, cfg, &a)
	return a.Trim, err
}

// parseAddOrTrim returns the position of XADD's ID.
func parseAddOrTrim(args [][]byte, xadd, trusted bool, cfg Config, a *AddArgs) (int, error) {
	t := &a.Trim
	limitGiven := false
	i := 0
	for ; i < len(args); i++ {
		more := len(args) - 1 - i
		opt := cstr(args[i])
		switch {
		case xadd && len(opt) == 1 && opt[0] == '*':
			goto done
		case keyword(opt, "maxlen") && more > 0, keyword(opt, "minid") && more > 0:
			if t.Strategy != TrimNone {
				return 0, errBothStrategies
			}
			t.Approx = false
			if more >= 2 {
				if next := cstr(args[i+1]); len(next) == 1 && (next[0] == '~' || next[0] == '=') {
					t.Approx = next[0] == '~'
					i++
				}
			}
			if keyword(opt, "maxlen") {
				n, ok := resp.ParseInt(args[i+1])
				if !ok {
					return 0, ErrNotInteger
				}
				if n < 0 {
					return 0, errMaxLenNegative
				}
				t.Strategy, t.MaxLen = TrimMaxLen, n
			} else {
				id, err := ParseStrictID(args[i+1], 0)
				if err != nil {
					return 0, err
				}
				t.Strategy, t.MinID = TrimMinID, id
			}
			i++
			t.ArgIndex = i
		case keyword(opt, "limit") && more > 0:
			n, ok := resp.ParseInt(args[i+1])
			if !ok {
				return 0, ErrNotInteger
			}
			if n < 0 {
				return 0, errLimitNegative
			}
			t.Limit = n
			limitGiven = true
			i++
		case xadd && keyword(opt, "nomkstream"):
			a.NoMkStream = true
		case xadd:
			id, seqGiven, err := parseID(args[i], 0, true, true)
			if err != nil {
				return 0, err
			}
			a.ID, a.IDGiven, a.SeqGiven = id, true, seqGiven
			goto done
		default:
			return 0, ErrSyntax
		}
	}
done:
	if t.Limit != 0 && t.Strategy == TrimNone {
		return 0, errLimitNoTrim
	}
	if !xadd && t.Strategy == TrimNone {
		return 0, errXTrimNoTrim
	}
	switch {
	case trusted:
		t.Limit = 0
	case limitGiven:
		if !t.Approx {
			return 0, errLimitNoApprox
		}
	case t.Approx:
		t.Limit = 100 * cfg.NodeMaxEntries
	default:
		t.Limit = 0
	}
	return i, nil
}

// Add is XADD's write: it appends the entry with the ID the arguments ask for (generating
// it from now, in Unix milliseconds, for "*"), without trimming. The caller then calls
// Trim when a.Trim.Strategy is set.
func (s *Stream) Add(a AddArgs, now uint64, cfg Config) (ID, error) {
	if s.lastID == MaxID {
		return ID{}, ErrExhausted
	}
	var id ID
	switch {
	case !a.IDGiven:
		id, _ = s.nextID(now)
	case a.SeqGiven:
		id = a.ID
	case a.ID.Ms == s.lastID.Ms:
		// "ms-*" in the last ID's millisecond continues its sequence.
		if s.lastID.Seq == MaxID.Seq {
			return ID{}, ErrIDTooSmall
		}
		id = ID{a.ID.Ms, s.lastID.Seq + 1}
	default:
		id = a.ID
	}
	if id.Compare(s.lastID) <= 0 {
		return ID{}, ErrIDTooSmall
	}
	var tot int64
	for _, f := range a.Fields {
		tot += int64(len(f))
	}
	if tot > listpackMaxSize {
		return ID{}, ErrTooLarge
	}
	s.append(id, a.Fields, cfg)
	return id, nil
}

// Trim is streamTrim: it removes entries from the head per t and returns how many. An
// approximate trim removes only whole nodes; an exact one also flags entries deleted in
// the first node it cannot drop entirely.
func (s *Stream) Trim(t TrimArgs) int64 {
	if t.Strategy == TrimNone {
		return 0
	}
	var deleted int64
	for len(s.nodes) > 0 {
		if t.Strategy == TrimMaxLen && s.length <= t.MaxLen {
			break
		}
		n := s.nodes[0]
		if t.Limit > 0 && deleted+n.live > t.Limit {
			break
		}
		var removeNode bool
		if t.Strategy == TrimMaxLen {
			removeNode = s.length-n.live >= t.MaxLen
		} else {
			removeNode = n.items[len(n.items)-1].id.Less(t.MinID)
		}
		if removeNode {
			s.nodes[0] = nil
			s.nodes = s.nodes[1:]
			s.length -= n.live
			deleted += n.live
			continue
		}
		if t.Approx {
			break
		}
		var fromNode int64
		for k := range n.items {
			it := &n.items[k]
			if t.Strategy == TrimMaxLen && s.length <= t.MaxLen ||
				t.Strategy == TrimMinID && !it.id.Less(t.MinID) {
				break
			}
			if !it.deleted {
				it.deleted = true
				it.fields = nil
				fromNode++
				s.length--
			}
		}
		n.live -= fromNode
		n.dead += fromNode
		deleted += fromNode
		break
	}
	if s.length == 0 {
		s.firstID = ID{}
	} else {
		s.firstID, _ = s.edge(true)
	}
	return deleted
}

// PropagatedTrimValue is what an approximate trim's MAXLEN or MINID value is rewritten
// to for replicas and the AOF (streamRewriteTrimArgument): the length left, or the first
// entry's ID, tombstones included, which is the maximal ID when the stream is empty.
func (s *Stream) PropagatedTrimValue(t TrimArgs) []byte {
	if t.Strategy == TrimMaxLen {
		return strconv.AppendInt(nil, s.length, 10)
	}
	if len(s.nodes) == 0 {
		return MaxID.Append(nil)
	}
	return s.nodes[0].items[0].id.Append(nil)
}
