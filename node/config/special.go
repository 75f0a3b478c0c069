package config

import (
	"math"
	"strconv"
	"strings"
)

// special is a directive whose value is not a plain number, string or enum: Redis gives
// these their own set/get/rewrite functions (config.c, "Special configs").
type special interface {
	// parse returns the new value for the given arguments; cur is the current value.
	parse(args []string, cur value, st *loadState) (value, error)
	// render returns the CONFIG GET text.
	render(v value, env environment) string
	// rewrite emits the directive's lines into a CONFIG REWRITE.
	rewrite(d *directive, v value, rw *rewriteState, c *Config)
}

// SavePoint is one `save <seconds> <changes>` rule: snapshot when at least Changes writes
// happened within Seconds.
type SavePoint struct {
	Seconds int64
	Changes int64
}

type saveDirective struct{}

// parse mirrors setConfigSaveOption. While a file is read, the first save line replaces
// the defaults and later ones add to it; CONFIG SET replaces the whole list. A single empty
// argument means no save points.
func (saveDirective) parse(args []string, cur value, st *loadState) (value, error) {
	clear := len(args) == 1 && args[0] == ""
	if clear {
		// `save ""` empties the list, also after earlier save lines of the same file.
		args = nil
	}
	if len(args)%2 != 0 {
		return value{}, errText("Invalid save parameters")
	}
	points := make([]SavePoint, 0, len(args)/2)
	for j := 0; j < len(args); j += 2 {
		seconds, ok1 := parseStrtoll(args[j])
		changes, ok2 := parseStrtoll(args[j+1])
		if !ok1 || !ok2 || seconds < 1 || changes < 0 {
			return value{}, errText("Invalid save parameters")
		}
		// changes is a C int in Redis: larger values wrap as the cast does.
		points = append(points, SavePoint{Seconds: seconds, Changes: int64(int32(changes))})
	}
	if st != nil && st.loading {
		if st.saveSeen && !clear {
			old, _ := cur.x.([]SavePoint)
			points = append(append([]SavePoint(nil), old...), points...)
		}
		st.saveSeen = true
	}
	return value{x: points}, nil
}

func (saveDirective) render(v value, _ environment) string {
	points, _ := v.x.([]SavePoint)
	parts := make([]string, len(points))
	for i, p := range points {
		parts[i] = strconv.FormatInt(p.Seconds, 10) + " " + strconv.FormatInt(p.Changes, 10)
	}
	return strings.Join(parts, " ")
}

// rewrite mirrors rewriteConfigSaveOption: save lines are always written, and an empty
// list is written as `save ""` so the defaults do not come back at the next start.
func (saveDirective) rewrite(d *directive, v value, rw *rewriteState, _ *Config) {
	points, _ := v.x.([]SavePoint)
	if len(points) == 0 {
		rw.line(d.name, `save ""`, true)
	}
	for _, p := range points {
		rw.line(d.name, "save "+strconv.FormatInt(p.Seconds, 10)+" "+strconv.FormatInt(p.Changes, 10), true)
	}
	rw.processed(d.name)
}

// defaultBind is CONFIG_DEFAULT_BINDADDR: every IPv4 address, and every IPv6 address when
// available (the "-" makes a missing IPv6 stack not an error).
var defaultBind = []string{"*", "-::*"}

// maxBind is CONFIG_BINDADDR_MAX.
const maxBind = 16

type bindDirective struct{}

func (bindDirective) parse(args []string, _ value, _ *loadState) (value, error) {
	if len(args) > maxBind {
		return value{}, errText("Too many bind addresses specified.")
	}
	if len(args) == 1 && args[0] == "" {
		args = nil
	}
	return value{x: append([]string{}, args...)}, nil
}

func (bindDirective) render(v value, _ environment) string {
	addrs, _ := v.x.([]string)
	return strings.Join(addrs, " ")
}

// rewrite mirrors rewriteConfigBindOption: the default is not written (and lines that set
// it are dropped); no address at all is written as `bind ""`.
func (bindDirective) rewrite(d *directive, v value, rw *rewriteState, _ *Config) {
	addrs, _ := v.x.([]string)
	if equalStrings(addrs, defaultBind) {
		rw.processed(d.name)
		return
	}
	list := strings.Join(addrs, " ")
	if len(addrs) == 0 {
		list = `""`
	}
	rw.line(d.name, d.name+" "+list, true)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// dirDirective is the working directory. Setting it changes the process's directory at
// once, which is why a `dir` line affects the relative paths (include, logfile, ...) that
// follow it in a file; reading it asks the OS, as getConfigDirOption does.
type dirDirective struct{}

func (dirDirective) parse(args []string, _ value, st *loadState) (value, error) {
	if len(args) != 1 {
		return value{}, errText("wrong number of arguments")
	}
	if err := st.env.Chdir(args[0]); err != nil {
		return value{}, errText(strerror(err))
	}
	return value{}, nil
}

func (dirDirective) render(_ value, env environment) string {
	wd, err := env.Getwd()
	if err != nil {
		return ""
	}
	return wd
}

// rewrite always writes the absolute directory, as rewriteConfigDirOption does.
func (dirDirective) rewrite(d *directive, _ value, rw *rewriteState, c *Config) {
	wd, err := c.env.Getwd()
	if err != nil {
		rw.processed(d.name)
		return
	}
	rw.line(d.name, d.name+" "+quoteRepr(wd), true)
}

// OutputBufferLimit is one class's client-output-buffer-limit: a client is disconnected
// when its pending output exceeds Hard bytes, or stays above Soft bytes for SoftSeconds.
// Zero disables a limit.
type OutputBufferLimit struct {
	Hard        uint64
	Soft        uint64
	SoftSeconds int64
}

// Client classes of client-output-buffer-limit, in Redis's order (CLIENT_TYPE_*).
const (
	ClassNormal = iota
	ClassReplica
	ClassPubSub
	classCount
)

var classNames = [classCount]string{"normal", "slave", "pubsub"}

var defaultOutputBufferLimits = [classCount]OutputBufferLimit{
	{0, 0, 0},
	{256 * 1024 * 1024, 64 * 1024 * 1024, 60},
	{32 * 1024 * 1024, 8 * 1024 * 1024, 60},
}

// classByName mirrors getClientTypeByName; "master" is a class name but has no limit.
func classByName(name string) (int, bool) {
	switch strings.ToLower(name) {
	case "normal":
		return ClassNormal, true
	case "slave", "replica":
		return ClassReplica, true
	case "pubsub":
		return ClassPubSub, true
	}
	return -1, false
}

type outputBufferDirective struct{}

// parse mirrors updateClientOutputBufferLimit: groups of four arguments, all validated
// before any class changes; classes not named keep their limits.
func (outputBufferDirective) parse(args []string, cur value, _ *loadState) (value, error) {
	if len(args)%4 != 0 {
		return value{}, errText("Wrong number of arguments in buffer limit configuration.")
	}
	limits, _ := cur.x.([classCount]OutputBufferLimit)
	for j := 0; j < len(args); j += 4 {
		class, ok := classByName(args[j])
		if !ok {
			return value{}, errText("Invalid client class specified in buffer limit configuration.")
		}
		hard, ok1 := memToBytes(args[j+1])
		soft, ok2 := memToBytes(args[j+2])
		seconds, ok3 := parseStrtoll(args[j+3])
		// soft_seconds is a C int: the value is truncated before the sign check.
		seconds = int64(int32(seconds))
		if !ok1 || !ok2 || !ok3 || seconds < 0 {
			return value{}, errText("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
		}
		limits[class] = OutputBufferLimit{Hard: hard, Soft: soft, SoftSeconds: seconds}
	}
	return value{x: limits}, nil
}

func (outputBufferDirective) render(v value, _ environment) string {
	limits, _ := v.x.([classCount]OutputBufferLimit)
	parts := make([]string, classCount)
	for i, l := range limits {
		parts[i] = classNames[i] + " " + strconv.FormatUint(l.Hard, 10) + " " +
			strconv.FormatUint(l.Soft, 10) + " " + strconv.FormatInt(l.SoftSeconds, 10)
	}
	return strings.Join(parts, " ")
}

// rewrite mirrors rewriteConfigClientOutputBufferLimitOption: one line per class, written
// when the class differs from its default, with the replica class under its new name.
func (outputBufferDirective) rewrite(d *directive, v value, rw *rewriteState, _ *Config) {
	limits, _ := v.x.([classCount]OutputBufferLimit)
	for i, l := range limits {
		name := classNames[i]
		if name == "slave" {
			name = "replica"
		}
		line := d.name + " " + name + " " + formatMemory(int64(l.Hard)) + " " +
			formatMemory(int64(l.Soft)) + " " + strconv.FormatInt(l.SoftSeconds, 10)
		rw.line(d.name, line, l != defaultOutputBufferLimits[i])
	}
}

var defaultOOMScoreAdjValues = [3]int64{0, 200, 800}

type oomScoreAdjValuesDirective struct{}

// parse mirrors setConfigOOMScoreAdjValuesOption: three values within -2000..2000.
func (oomScoreAdjValuesDirective) parse(args []string, _ value, _ *loadState) (value, error) {
	if len(args) != 3 {
		return value{}, errText("wrong number of arguments")
	}
	var vals [3]int64
	for i, a := range args {
		n, ok := parseStrtoll(a)
		if !ok || n < -2000 || n > 2000 {
			return value{}, errText("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
		}
		vals[i] = n
	}
	return value{x: vals}, nil
}

func (oomScoreAdjValuesDirective) render(v value, _ environment) string {
	vals, _ := v.x.([3]int64)
	return strconv.FormatInt(vals[0], 10) + " " + strconv.FormatInt(vals[1], 10) + " " + strconv.FormatInt(vals[2], 10)
}

func (o oomScoreAdjValuesDirective) rewrite(d *directive, v value, rw *rewriteState, _ *Config) {
	vals, _ := v.x.([3]int64)
	rw.line(d.name, d.name+" "+o.render(v, nil), vals != defaultOOMScoreAdjValues)
}

// Keyspace notification classes (NOTIFY_* in server.h), the bits of
// Int("notify-keyspace-events").
const (
	NotifyKeyspace = 1 << 0  // K
	NotifyKeyevent = 1 << 1  // E
	NotifyGeneric  = 1 << 2  // g
	NotifyString   = 1 << 3  // $
	NotifyList     = 1 << 4  // l
	NotifySet      = 1 << 5  // s
	NotifyHash     = 1 << 6  // h
	NotifyZset     = 1 << 7  // z
	NotifyExpired  = 1 << 8  // x
	NotifyEvicted  = 1 << 9  // e
	NotifyStream   = 1 << 10 // t
	NotifyKeyMiss  = 1 << 11 // m (not part of A)
	NotifyLoaded   = 1 << 12 // module key loaded; no letter
	NotifyModule   = 1 << 13 // d
	NotifyNew      = 1 << 14 // n (not part of A)
	// NotifyAll is what "A" stands for.
	NotifyAll = NotifyGeneric | NotifyString | NotifyList | NotifySet | NotifyHash |
		NotifyZset | NotifyExpired | NotifyEvicted | NotifyStream | NotifyModule
)

// parseNotifyFlags mirrors keyspaceEventsStringToFlags (letters are case-sensitive).
func parseNotifyFlags(s string) (int64, bool) {
	var flags int64
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'A':
			flags |= NotifyAll
		case 'g':
			flags |= NotifyGeneric
		case '$':
			flags |= NotifyString
		case 'l':
			flags |= NotifyList
		case 's':
			flags |= NotifySet
		case 'h':
			flags |= NotifyHash
		case 'z':
			flags |= NotifyZset
		case 'x':
			flags |= NotifyExpired
		case 'e':
			flags |= NotifyEvicted
		case 'K':
			flags |= NotifyKeyspace
		case 'E':
			flags |= NotifyKeyevent
		case 't':
			flags |= NotifyStream
		case 'm':
			flags |= NotifyKeyMiss
		case 'd':
			flags |= NotifyModule
		case 'n':
			flags |= NotifyNew
		default:
			return 0, false
		}
	}
	return flags, true
}

// renderNotifyFlags mirrors keyspaceEventsFlagsToString: "A" when every class of A is set,
// otherwise the class letters in a fixed order, then K, E and m.
func renderNotifyFlags(flags int64) string {
	var b strings.Builder
	if flags&NotifyAll == NotifyAll {
		b.WriteByte('A')
	} else {
		for _, f := range []struct {
			bit int64
			c   byte
		}{{NotifyGeneric, 'g'}, {NotifyString, '$'}, {NotifyList, 'l'}, {NotifySet, 's'},
			{NotifyHash, 'h'}, {NotifyZset, 'z'}, {NotifyExpired, 'x'}, {NotifyEvicted, 'e'},
			{NotifyStream, 't'}, {NotifyModule, 'd'}} {
			if flags&f.bit != 0 {
				b.WriteByte(f.c)
			}
		}
	}
	if flags&NotifyKeyspace != 0 {
		b.WriteByte('K')
	}
	if flags&NotifyKeyevent != 0 {
		b.WriteByte('E')
	}
	if flags&NotifyKeyMiss != 0 {
		b.WriteByte('m')
	}
	// Redis 7.0 accepts 'n' but does not render it: CONFIG GET and REWRITE drop it.
	return b.String()
}

type notifyDirective struct{}

func (notifyDirective) parse(args []string, _ value, _ *loadState) (value, error) {
	if len(args) != 1 {
		return value{}, errText("wrong number of arguments")
	}
	flags, ok := parseNotifyFlags(args[0])
	if !ok {
		return value{}, errText("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
	}
	return value{n: flags}, nil
}

func (notifyDirective) render(v value, _ environment) string { return renderNotifyFlags(v.n) }

func (notifyDirective) rewrite(d *directive, v value, rw *rewriteState, _ *Config) {
	rw.line(d.name, d.name+" "+quoteRepr(renderNotifyFlags(v.n)), v.n != 0)
}

// replicaOf is the master a replica follows; an empty host means none.
type replicaOf struct {
	host string
	port int64
}

type replicaOfDirective struct{}

// parse mirrors setConfigReplicaOfOption: "no one" clears it.
func (replicaOfDirective) parse(args []string, _ value, _ *loadState) (value, error) {
	if len(args) != 2 {
		return value{}, errText("wrong number of arguments")
	}
	if strings.EqualFold(args[0], "no") && strings.EqualFold(args[1], "one") {
		return value{x: replicaOf{}}, nil
	}
	port, ok := parseStrtoll(args[1])
	if !ok || port < 0 || port > 65535 {
		return value{}, errText("Invalid master port")
	}
	return value{x: replicaOf{host: args[0], port: port}}, nil
}

func (replicaOfDirective) render(v value, _ environment) string {
	r, _ := v.x.(replicaOf)
	if r.host == "" {
		return ""
	}
	return r.host + " " + strconv.FormatInt(r.port, 10)
}

// rewrite mirrors rewriteConfigReplicaOfOption: nothing for a master or a cluster node.
func (replicaOfDirective) rewrite(d *directive, v value, rw *rewriteState, c *Config) {
	r, _ := v.x.(replicaOf)
	if r.host == "" || c.values["cluster-enabled"].n != 0 {
		rw.processed(d.name)
		return
	}
	rw.line(d.name, d.name+" "+r.host+" "+strconv.FormatInt(r.port, 10), true)
}

type percentilesDirective struct{}

// parse mirrors setConfigLatencyTrackingInfoPercentilesOutputOption.
func (percentilesDirective) parse(args []string, _ value, _ *loadState) (value, error) {
	if len(args) == 1 && args[0] == "" {
		args = nil
	}
	out := make([]float64, 0, len(args))
	for _, a := range args {
		f, ok := string2d(a)
		if !ok {
			return value{}, errText("Invalid latency-tracking-info-percentiles parameters")
		}
		if f > 100.0 || f < 0.0 {
			return value{}, errText("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
		}
		out = append(out, f)
	}
	return value{x: out}, nil
}

// string2d mirrors Redis's string2d: the whole string is a number, no leading space, not
// NaN, and no overflow to infinity.
func string2d(s string) (float64, bool) {
	if s == "" || isCSpace(s[0]) || strings.ContainsRune(s, '_') {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func isCSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// formatPercentile mirrors "%f" followed by trimDoubleString: 99.900000 becomes 99.9.
func formatPercentile(f float64) string {
	s := strconv.FormatFloat(f, 'f', 6, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

func (percentilesDirective) render(v value, _ environment) string {
	ps, _ := v.x.([]float64)
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = formatPercentile(p)
	}
	return strings.Join(parts, " ")
}

// rewrite always writes the percentiles, `""` for none, so defaults do not come back.
func (p percentilesDirective) rewrite(d *directive, v value, rw *rewriteState, _ *Config) {
	ps, _ := v.x.([]float64)
	if len(ps) == 0 {
		rw.line(d.name, d.name+` ""`, true)
		return
	}
	rw.line(d.name, d.name+" "+p.render(v, nil), true)
}
