package list

import (
	"bytes"
	"errors"

	"github.com/clusterctl/clusterctl/node/resp"
)

// Redis's error texts for LPOS's options (lposCommand).
var (
	errNotInt    = errors.New("ERR value is not an integer or out of range")
	errSyntax    = errors.New("ERR syntax error")
	errRankZero  = errors.New("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
	errCountNeg  = errors.New("ERR COUNT can't be negative")
	errMaxlenNeg = errors.New("ERR MAXLEN can't be negative")
)

// PosOptions are LPOS's options. Count is -1 when COUNT was not given (the reply is
// then one index or nil rather than an array); 0 means all matches. MaxLen 0 means no
// limit on the elements compared.
type PosOptions struct {
	Rank, Count, MaxLen int64
}

// ParsePosOptions parses LPOS's options (the arguments after the element), with Redis's
// replies for bad ones.
func ParsePosOptions(args [][]byte) (PosOptions, error) {
	o := PosOptions{Rank: 1, Count: -1}
	for j := 0; j < len(args); j++ {
		more := j+1 < len(args)
		switch {
		case keyword(args[j], "rank") && more:
			j++
			n, ok := resp.ParseInt(args[j])
			if !ok {
				return o, errNotInt
			}
			// Redis 7.0 takes any long here: -LONG_MIN overflows back to itself, which
			// then behaves as rank -1 (see Pos).
			if n == 0 {
				return o, errRankZero
			}
			o.Rank = n
		case keyword(args[j], "count") && more:
			j++
			n, ok := resp.ParseInt(args[j])
			if !ok || n < 0 {
				return o, errCountNeg
			}
			o.Count = n
		case keyword(args[j], "maxlen") && more:
			j++
			n, ok := resp.ParseInt(args[j])
			if !ok || n < 0 {
				return o, errMaxlenNeg
			}
			o.MaxLen = n
		default:
			return o, errSyntax
		}
	}
	return o, nil
}

// keyword compares an argument with an option name as strcasecmp does: the argument ends
// at its first NUL byte.
func keyword(arg []byte, word string) bool {
	if i := bytes.IndexByte(arg, 0); i >= 0 {
		arg = arg[:i]
	}
	return bytes.EqualFold(arg, []byte(word))
}

// Pos is LPOS: the indexes of the elements equal to e, scanning from the head for a
// positive rank and from the tail for a negative one, skipping the first |rank|-1
// matches, returning at most o.Count indexes (all when 0, one when -1) and comparing at
// most o.MaxLen elements (all when 0).
func (l *List) Pos(e string, o PosOptions) []int {
	rank, fromTail := o.Rank, false
	if rank < 0 {
		rank, fromTail = -rank, true // MinInt64 stays negative: every match qualifies
	}
	want := o.Count
	if want < 0 {
		want = 1
	}
	var out []int
	var matches int64
	for k := 0; k < l.n && (o.MaxLen == 0 || int64(k) < o.MaxLen); k++ {
		i := k
		if fromTail {
			i = l.n - 1 - k
		}
		if l.ring[l.at(i)] != e {
			continue
		}
		matches++
		if matches < rank {
			continue
		}
		out = append(out, i)
		if want != 0 && int64(len(out)) >= want {
			break
		}
	}
	return out
}
