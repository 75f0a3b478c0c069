package bitops

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/node/datatype/internal/redistest"
	"github.com/clusterctl/clusterctl/node/resp"
)

// store is the keyspace a command handler would give this package: string values only.
type store map[string][]byte

// exec runs one bit command through this package the way a command handler does (key
// lookup, then the package's parsers and operations in Redis's order) and renders the
// reply as a resp.Value for comparison with redis-server's.
func (s store) exec(args [][]byte) resp.Value {
	errV := func(err error) resp.Value { return resp.Value{Kind: resp.Error, Str: []byte(err.Error())} }
	intV := func(n int64) resp.Value { return resp.Value{Kind: resp.Integer, Int: n} }
	maxBulk := int64(resp.DefaultMaxBulkLen)
	key := string(args[1])
	val, exists := s[key]
	switch strings.ToUpper(string(args[0])) {
	case "GET":
		if !exists {
			return resp.Value{Kind: resp.BulkString, IsNull: true}
		}
		return resp.Value{Kind: resp.BulkString, Str: val}
	case "SETBIT":
		off, err := ParseOffset(args[2], maxBulk)
		if err != nil {
			return errV(err)
		}
		on, err := ParseBitValue(args[3])
		if err != nil {
			return errV(err)
		}
		nv, old, _ := SetBit(val, off, on)
		s[key] = nv
		return intV(int64(old))
	case "GETBIT":
		off, err := ParseOffset(args[2], maxBulk)
		if err != nil {
			return errV(err)
		}
		return intV(int64(GetBit(val, off)))
	case "BITCOUNT":
		if !exists {
			return intV(0)
		}
		n, err := Count(val, args[2:])
		if err != nil {
			return errV(err)
		}
		return intV(n)
	case "BITPOS":
		bit, err := ParseBit(args[2])
		if err != nil {
			return errV(err)
		}
		if !exists {
			return intV(-int64(bit)) // -1 looking for 1, 0 looking for 0
		}
		n, err := Pos(val, bit, args[3:])
		if err != nil {
			return errV(err)
		}
		return intV(n)
	case "BITOP":
		op, err := ParseBitop(args[1], len(args)-3)
		if err != nil {
			return errV(err)
		}
		var srcs [][]byte
		for _, k := range args[3:] {
			srcs = append(srcs, s[string(k)])
		}
		res := Bitop(op, srcs)
		if res == nil {
			delete(s, string(args[2]))
		} else {
			s[string(args[2])] = res
		}
		return intV(int64(len(res)))
	case "BITFIELD", "BITFIELD_RO":
		bf, err := ParseBitfield(args[2:], strings.EqualFold(string(args[0]), "bitfield_ro"), maxBulk)
		if err != nil {
			return errV(err)
		}
		nv, results, _ := bf.Exec(val)
		if bf.Writes {
			s[key] = nv
		}
		out := resp.Value{Kind: resp.Array}
		for _, r := range results {
			if r.Nil {
				out.Elems = append(out.Elems, resp.Value{Kind: resp.BulkString, IsNull: true})
			} else {
				out.Elems = append(out.Elems, intV(r.Value))
			}
		}
		return out
	}
	panic("unexpected command " + string(args[0]))
}

func sameReply(a, b resp.Value) bool {
	if a.Kind != b.Kind || a.IsNull != b.IsNull || a.Int != b.Int || !bytes.Equal(a.Str, b.Str) || len(a.Elems) != len(b.Elems) {
		return false
	}
	for i := range a.Elems {
		if !sameReply(a.Elems[i], b.Elems[i]) {
			return false
		}
	}
	return true
}

// gen produces random bit commands, valid and invalid, over a few keys.
type gen struct {
	rng *rand.Rand
	// clean makes invalid arguments rare, so that long valid BITFIELD commands and their
	// overflow handling get exercised too.
	clean bool
}

// bad reports whether to produce an invalid argument, with odds 1 in n (rarer when clean).
func (g gen) bad(n int) bool {
	if g.clean {
		n *= 20
	}
	return g.rng.IntN(n) == 0
}

func (g gen) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }

func (g gen) key() string { return g.pick("k1", "k2", "k3", "missing") }

func (g gen) smallInt() string {
	if g.bad(12) {
		return g.pick("x", "", "1.5", "01", "-0", "+1", " 1", "9223372036854775807", "-9223372036854775808", "99999999999999999999")
	}
	if g.rng.IntN(6) == 0 {
		return fmt.Sprint(-g.rng.IntN(60))
	}
	return fmt.Sprint(g.rng.IntN(60))
}

func (g gen) offset(bigOK bool) string {
	if g.bad(15) {
		return g.pick("-1", "x", "", "01", "4294967296", "18446744073709551616")
	}
	if bigOK && g.rng.IntN(15) == 0 {
		return g.pick("4294967295", "4294967288", "100000000")
	}
	return fmt.Sprint(g.rng.IntN(120))
}

func (g gen) unit() []string {
	switch g.rng.IntN(4) {
	case 0:
		return nil
	case 1:
		return []string{g.pick("bit", "BIT", "Bit")}
	case 2:
		return []string{g.pick("byte", "BYTE")}
	}
	return []string{g.pick("bits", "x", "bit\x00x")}
}

func (g gen) fieldType() string {
	if g.bad(10) {
		return g.pick("u64", "i65", "i0", "u0", "x8", "i", "", "I8", "i08", "u8\x00zz", "i-1")
	}
	switch g.rng.IntN(4) {
	case 0:
		return g.pick("i64", "u63", "i63", "i1", "u1")
	case 1:
		return fmt.Sprintf("%s%d", g.pick("i", "u"), 1+g.rng.IntN(63))
	}
	return fmt.Sprintf("%s%d", g.pick("i", "u"), 1+g.rng.IntN(9))
}

func (g gen) fieldValue() string {
	if g.bad(20) {
		return g.pick("x", "18446744073709551615")
	}
	switch g.rng.IntN(6) {
	case 0:
		return g.pick("9223372036854775807", "-9223372036854775808", "9223372036854775806", "-9223372036854775807")
	case 1:
		return fmt.Sprint(g.rng.Int64() - 1<<62)
	case 2:
		return fmt.Sprint(-g.rng.IntN(1000))
	}
	return fmt.Sprint(g.rng.IntN(1000))
}

func (g gen) bitfieldArgs(readOnly bool) []string {
	var args []string
	writes := false
	n := 1 + g.rng.IntN(5)
	for i := 0; i < n; i++ {
		switch r := g.rng.IntN(10); {
		case r < 4 || readOnly && r < 8:
			args = append(args, g.pick("GET", "get"), g.fieldType(), g.fieldOffset(!writes))
		case r < 6:
			writes = true
			args = append(args, g.pick("SET", "set"), g.fieldType(), g.fieldOffset(false), g.fieldValue())
		case r < 8:
			writes = true
			args = append(args, g.pick("INCRBY", "incrby"), g.fieldType(), g.fieldOffset(false), g.fieldValue())
		case r < 9 || g.clean:
			ow := g.pick("WRAP", "sat", "FAIL", "fail", "wrap", "SAT")
			if g.bad(6) {
				ow = "bogus"
			}
			args = append(args, "OVERFLOW", ow)
		default:
			// Truncated or unknown subcommands.
			args = append(args, g.pick("GET", "SET", "INCRBY", "OVERFLOW", "DEL"))
			return args
		}
	}
	return args
}

func (g gen) fieldOffset(bigOK bool) string {
	if g.rng.IntN(5) == 0 {
		return "#" + fmt.Sprint(g.rng.IntN(8))
	}
	if g.bad(30) {
		return g.pick("#", "#-1", "#x", "#9223372036854775807")
	}
	return g.offset(bigOK)
}

func (g gen) command() []string {
	switch g.rng.IntN(8) {
	case 0, 1:
		return []string{"SETBIT", g.key(), g.offset(false), g.pick("0", "1", "1", "2", "-1", "x")}
	case 2:
		return []string{"GETBIT", g.key(), g.offset(true)}
	case 3:
		cmd := []string{"BITCOUNT", g.key()}
		switch g.rng.IntN(5) {
		case 0:
		case 1:
			cmd = append(cmd, g.smallInt())
		case 2:
			cmd = append(cmd, g.smallInt(), g.smallInt(), "bit", "extra")
		default:
			cmd = append(cmd, g.smallInt(), g.smallInt())
			cmd = append(cmd, g.unit()...)
		}
		return cmd
	case 4:
		cmd := []string{"BITPOS", g.key(), g.pick("0", "1", "1", "0", "2", "x")}
		switch g.rng.IntN(5) {
		case 0:
		case 1:
			cmd = append(cmd, g.smallInt())
		case 2:
			cmd = append(cmd, g.smallInt(), g.smallInt(), "bit", "extra")
		default:
			cmd = append(cmd, g.smallInt(), g.smallInt())
			cmd = append(cmd, g.unit()...)
		}
		return cmd
	case 5:
		cmd := []string{"BITOP", g.pick("AND", "or", "XOR", "not", "NOT", "nand", "and\x00"), g.key()}
		for n := 1 + g.rng.IntN(3); n > 0; n-- {
			cmd = append(cmd, g.key())
		}
		return cmd
	case 6:
		return append([]string{"BITFIELD", g.key()}, g.bitfieldArgs(false)...)
	default:
		return append([]string{"BITFIELD_RO", g.key()}, g.bitfieldArgs(g.rng.IntN(4) != 0)...)
	}
}

func TestRedisRandomBitCommands(t *testing.T) {
	for _, clean := range []bool{false, true} {
		t.Run(fmt.Sprint("clean=", clean), func(t *testing.T) {
			runRandomBitCommands(t, gen{rng: rand.New(rand.NewPCG(11, 12)), clean: clean})
		})
	}
}

func runRandomBitCommands(t *testing.T, g gen) {
	rc := redistest.Start(t)
	ours := store{}
	// Seed the keys with values of various lengths, including an integer-looking one.
	for k, v := range map[string]string{"k1": "foobar", "k2": "\xff\xf0\x00\x0f\xaa", "k3": "12345"} {
		rc.MustOK("SET", k, v)
		ours[k] = []byte(v)
	}
	for i := 0; i < 6000; i++ {
		cmd := g.command()
		args := make([][]byte, len(cmd))
		for j, a := range cmd {
			args[j] = []byte(a)
		}
		want := rc.DoArgs(args)
		got := ours.exec(args)
		if !sameReply(want, got) {
			t.Fatalf("command %d %q:\nredis %v (%c)\nours  %v (%c)", i, cmd, want, want.Kind, got, got.Kind)
		}
		for _, k := range []string{"k1", "k2", "k3", "missing"} {
			want := rc.Do("GET", k)
			got := ours.exec([][]byte{[]byte("GET"), []byte(k)})
			if !sameReply(want, got) {
				t.Fatalf("after command %d %q, key %s:\nredis %q\nours  %q", i, cmd, k, want.Str, got.Str)
			}
		}
		if i%500 == 499 {
			// Start over from short values so offsets keep landing near the ends.
			for _, k := range []string{"k1", "k2", "k3", "missing"} {
				rc.Do("DEL", k)
				delete(ours, k)
			}
		}
	}
}
