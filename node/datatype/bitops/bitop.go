package bitops

// Op is a BITOP operation.
type Op int

// BITOP operations.
const (
	And Op = iota
	Or
	Xor
	Not
)

// ParseBitop parses BITOP's operation name given the number of source keys. Redis checks
// both before looking up any key.
func ParseBitop(name []byte, sources int) (Op, error) {
	var op Op
	switch {
	case keyword(name, "and"):
		op = And
	case keyword(name, "or"):
		op = Or
	case keyword(name, "xor"):
		op = Xor
	case keyword(name, "not"):
		op = Not
	default:
		return 0, ErrSyntax
	}
	if op == Not && sources != 1 {
		return 0, ErrBitopNot
	}
	return op, nil
}

// Bitop computes BITOP over the source values (nil or empty for missing keys), shorter
// ones padded with zero bytes. The result is as long as the longest source; when that is
// zero Redis deletes the destination instead of storing an empty string, and replies 0.
func Bitop(op Op, srcs [][]byte) []byte {
	maxLen := 0
	for _, s := range srcs {
		maxLen = max(maxLen, len(s))
	}
	if maxLen == 0 {
		return nil
	}
	res := make([]byte, maxLen)
	at := func(s []byte, i int) byte {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	for i := range res {
		out := at(srcs[0], i)
		switch op {
		case Not:
			out = ^out
		case And:
			for _, s := range srcs[1:] {
				out &= at(s, i)
			}
		case Or:
			for _, s := range srcs[1:] {
				out |= at(s, i)
			}
		case Xor:
			for _, s := range srcs[1:] {
				out ^= at(s, i)
			}
		}
		res[i] = out
	}
	return res
}
