package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// kind is how a directive's value is parsed, rendered and rewritten; the kinds are those of
// Redis's standardConfig types (config.c), with numbers split by their flags.
type kind uint8

const (
	kindBool    kind = iota
	kindInt          // plain integer (string2ll)
	kindMemory       // memory value ("1gb"), stored in bytes
	kindPercent      // memory value or "N%" (maxmemory-clients); a percentage is stored negated
	kindOctal        // octal integer (unixsocketperm)
	kindString       // string; see emptyIsNull
	kindEnum         // one name out of a list
	kindFlags        // one or more names of a list of bit flags (shutdown-on-sigint)
	kindSpecial      // hand-written parse/render/rewrite (save, bind, dir, ...)
)

// flag is a property of a directive; the first ones mirror Redis's config flags.
type flag uint16

const (
	// immutable directives are read at start-up only: CONFIG SET refuses them.
	immutable flag = 1 << iota
	// protected directives (dir, dbfilename) can be changed only when
	// enable-protected-configs allows it.
	protected
	// sensitive values (passwords) are never logged.
	sensitive
	// multiArg directives take several arguments on one line (save 900 1, bind a b).
	multiArg
	// hidden directives answer CONFIG GET only by their exact name, never by a pattern.
	hidden
	// unsigned numbers are bound-checked as unsigned C types are.
	unsigned
	// emptyIsNull strings treat "" as unset: CONFIG REWRITE then drops their lines.
	emptyIsNull
	// inert directives are accepted and shown by CONFIG GET but the server does not act on
	// them yet; Config.Inert reports the ones a configuration set.
	inert
	// alias marks the table entry generated for a directive's old name (slave-read-only).
	alias
)

// enumName is one value of an enum or flags directive. Several names may share a value
// (oom-score-adj yes and relative); rendering picks the first, as configEnumGetName does.
type enumName struct {
	name string
	val  int64
}

// directive is one row of the table: a name Redis 7.0 accepts in redis.conf and CONFIG.
type directive struct {
	name      string
	aliasName string // the other name of the same setting ("slaveof" for "replicaof")
	kind      kind
	flags     flag
	def       string // the default, in the syntax of a redis.conf argument
	min, max  int64  // bounds of numeric kinds
	enum      []enumName
	// check validates a string value beyond its kind; it returns Redis's error text.
	check func(string) error
	// checkNum validates an enum or flags value beyond its kind.
	checkNum func(int64) error
	// adjust normalises a numeric value after it was set (hz is capped to 1..500).
	adjust func(int64) int64
	// special implements kindSpecial.
	special special
	primary *directive // for an alias entry, the entry of the canonical name
}

// value is a directive's current value. Numbers, booleans, enums and flags use n (numbers
// keep the C bit pattern: an unsigned long long maximum is -1), strings use s, and special
// directives keep their own type in x.
type value struct {
	n int64
	s string
	x any
}

func (d *directive) is(f flag) bool { return d.flags&f != 0 }

// canonical returns the entry that holds the value: the primary for an alias.
func (d *directive) canonical() *directive {
	if d.primary != nil {
		return d.primary
	}
	return d
}

// parse turns arguments (one for single-argument directives) into a value. cur is the
// current value, which some special directives extend while a file is read (save lines
// accumulate). loading is true while reading a configuration file.
func (d *directive) parse(args []string, cur value, st *loadState) (value, error) {
	switch d.kind {
	case kindBool:
		b, ok := yesNo(args[0])
		if !ok {
			return value{}, errText("argument must be 'yes' or 'no'")
		}
		if b {
			return value{n: 1}, nil
		}
		return value{n: 0}, nil
	case kindInt, kindMemory, kindPercent, kindOctal:
		n, err := d.parseNumber(args[0])
		if err != nil {
			return value{}, err
		}
		if err := d.checkBounds(n); err != nil {
			return value{}, err
		}
		if d.adjust != nil {
			n = d.adjust(n)
		}
		return value{n: n}, nil
	case kindString:
		if d.check != nil {
			if err := d.check(args[0]); err != nil {
				return value{}, err
			}
		}
		return value{s: args[0]}, nil
	case kindEnum, kindFlags:
		n, err := d.parseEnum(args)
		if err != nil {
			return value{}, err
		}
		return value{n: n}, nil
	case kindSpecial:
		return d.special.parse(args, cur, st)
	}
	return value{}, fmt.Errorf("directive %s has no parser", d.name)
}

// parseNumber mirrors numericParseString: memory first, then a percentage, then octal,
// and a plain integer only for directives without those flags.
func (d *directive) parseNumber(s string) (int64, error) {
	switch d.kind {
	case kindMemory, kindPercent:
		if n, ok := memToBytes(s); ok {
			return int64(n), nil
		}
		if d.kind == kindPercent && len(s) > 1 && s[len(s)-1] == '%' {
			if n, ok := parseString2ll(s[:len(s)-1]); ok && n >= 0 {
				return -n, nil
			}
		}
		if d.kind == kindPercent {
			return 0, errText("argument must be a memory or percent value")
		}
		return 0, errText("argument must be a memory value")
	case kindOctal:
		if n, ok := parseOctal(s); ok {
			return n, nil
		}
		return 0, errText("argument couldn't be parsed as an octal number")
	}
	if n, ok := parseString2ll(s); ok {
		return n, nil
	}
	return 0, errText("argument couldn't be parsed into an integer")
}

// parseOctal mirrors strtoll(s, &end, 8) with a check that all of s was used and that it
// did not overflow.
func parseOctal(s string) (int64, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if t == "" {
		return 0, s == ""
	}
	n, err := strconv.ParseInt(t, 8, 64)
	if err != nil || strings.ContainsAny(t[:1], "+-") {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// checkBounds mirrors numericBoundaryCheck, texts included.
func (d *directive) checkBounds(n int64) error {
	if d.is(unsigned) {
		u, lo, hi := uint64(n), uint64(d.min), uint64(d.max)
		if u > hi || u < lo {
			if d.kind == kindOctal {
				return errText(fmt.Sprintf("argument must be between %o and %o inclusive", lo, hi))
			}
			return errText(fmt.Sprintf("argument must be between %d and %d inclusive", lo, hi))
		}
		return nil
	}
	if d.kind == kindPercent && n < 0 {
		if n < d.min {
			return errText(fmt.Sprintf("percentage argument must be less or equal to %d", -d.min))
		}
		return nil
	}
	if n > d.max || n < d.min {
		return errText(fmt.Sprintf("argument must be between %d and %d inclusive", d.min, d.max))
	}
	return nil
}

// parseEnum mirrors configEnumGetValue: one name for an enum; for flags, the names are
// OR-ed together.
func (d *directive) parseEnum(args []string) (int64, error) {
	var out int64
	ok := len(args) > 0
	if d.kind == kindEnum && len(args) != 1 {
		ok = false
	}
	for _, a := range args {
		found := false
		for _, e := range d.enum {
			if strings.EqualFold(e.name, a) {
				out |= e.val
				found = true
				break
			}
		}
		if !found {
			ok = false
			break
		}
	}
	if !ok {
		names := make([]string, len(d.enum))
		for i, e := range d.enum {
			names[i] = e.name
		}
		return 0, errText("argument(s) must be one of the following: " + strings.Join(names, ", "))
	}
	if d.checkNum != nil {
		if err := d.checkNum(out); err != nil {
			return 0, err
		}
	}
	return out, nil
}

// render returns the value as CONFIG GET shows it.
func (d *directive) render(v value, env environment) string {
	switch d.kind {
	case kindBool:
		return renderBool(v.n != 0)
	case kindInt:
		return strconv.FormatInt(v.n, 10)
	case kindMemory:
		return strconv.FormatUint(uint64(v.n), 10)
	case kindPercent:
		if v.n < 0 {
			return strconv.FormatInt(-v.n, 10) + "%"
		}
		return strconv.FormatUint(uint64(v.n), 10)
	case kindOctal:
		return strconv.FormatInt(v.n, 8)
	case kindString:
		return v.s
	case kindEnum:
		return d.enumName(v.n)
	case kindFlags:
		return d.flagNames(v.n)
	case kindSpecial:
		return d.special.render(v, env)
	}
	return ""
}

func (d *directive) enumName(n int64) string {
	for _, e := range d.enum {
		if e.val == n {
			return e.name
		}
	}
	return "unknown"
}

// flagNames mirrors configEnumGetName with bit flags: the names whose bits are all set,
// most specific first, or the zero name when nothing is set.
func (d *directive) flagNames(n int64) string {
	if n == 0 {
		return d.enumName(0)
	}
	var names []string
	rest := n
	for i := len(d.enum) - 1; i >= 0; i-- {
		e := d.enum[i]
		if e.val != 0 && rest&e.val == e.val {
			names = append([]string{e.name}, names...)
			rest &^= e.val
		}
	}
	return strings.Join(names, " ")
}

// errText is an error whose text Redis shows after "CONFIG SET failed (possibly related to
// argument 'x') - " or under the offending line of a configuration file.
type errText string

func (e errText) Error() string { return string(e) }

// intMax and friends are the C limits used by Redis's table.
const (
	intMax   = math.MaxInt32
	intMin   = math.MinInt32
	uintMax  = math.MaxUint32
	longMax  = math.MaxInt64
	llongMax = math.MaxInt64
	ssizeMax = math.MaxInt64
	ullMax   = -1 // ULLONG_MAX as an int64 bit pattern; only with unsigned
)
