// Package config is the node's redis.conf: parsing a configuration file and redis-server's
// command-line overrides, the table of every directive Redis 7.0 knows (names, old names,
// bounds, defaults, which ones CONFIG SET may change), and CONFIG GET, SET and REWRITE.
//
// It mirrors Redis's config.c: the same syntax (sdssplitargs quoting, include, `dir`
// changing directory while reading), the same renderings, and the same error texts, so
// that tools and people who know redis-server see no difference.
package config

import (
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Config is a loaded configuration. It is safe for concurrent use: an RWMutex guards the
// values, and CONFIG SET and REWRITE are serialised by a second mutex so that apply hooks
// run without holding the value lock (a hook may read the configuration).
type Config struct {
	env  environment
	file string // absolute path of the configuration file, "" when none

	// setMu serialises Set and Rewrite.
	setMu sync.Mutex

	// mu guards everything below.
	mu sync.RWMutex
	// values holds the current value of every directive by canonical name.
	values map[string]value
	// mentioned records the canonical names set by the file or the overrides.
	mentioned     map[string]bool
	hooks         map[string][]func(string) error
	renames       [][2]string
	users         [][]string
	modules       [][]string
	moduleConfigs [][2]string
	sentinelLines []SentinelLine
	describeUsers func() []string
}

// SentinelLine is a `sentinel ...` directive read in Sentinel mode, kept for the Sentinel.
type SentinelLine struct {
	Line int
	Text string
	Args []string // the arguments after "sentinel"
}

func newConfig(env environment) *Config {
	c := &Config{
		env:       env,
		values:    make(map[string]value, len(directiveTable)),
		mentioned: map[string]bool{},
		hooks:     map[string][]func(string) error{},
	}
	st := &loadState{env: env}
	for _, d := range directiveTable {
		if d.is(alias) || d.name == "dir" {
			continue
		}
		v, err := d.parse(d.defaultArgs(), value{}, st)
		if err != nil {
			// The table's defaults are constants checked by the tests.
			panic("config: bad default for " + d.name + ": " + err.Error())
		}
		c.values[d.name] = v
	}
	return c
}

// Default returns a configuration with every directive at its default, without reading
// any file; for tests and tools that need one.
func Default() *Config { return newConfig(osEnv{}) }

// setLoading sets a directive while a configuration is read.
func (c *Config) setLoading(d *directive, args []string, st *loadState) error {
	p := d.canonical()
	v, err := d.parse(args, c.values[p.name], st)
	if err != nil {
		return err
	}
	c.values[p.name] = v
	c.mentioned[p.name] = true
	return nil
}

// lookupValue returns the directive and value for a name (or alias), and whether it exists.
func (c *Config) lookupValue(name string) (*directive, value, bool) {
	d := lookup(name)
	if d == nil {
		return nil, value{}, false
	}
	c.mu.RLock()
	v := c.values[d.canonical().name]
	c.mu.RUnlock()
	return d, v, true
}

// Int returns an integer directive's value: memory sizes in bytes, booleans as 0/1, enums
// as the value of their name (the Policy* and Shutdown* constants), notify-keyspace-events
// as its Notify* bits. It returns 0 for an unknown name.
func (c *Config) Int(name string) int64 {
	d, v, ok := c.lookupValue(name)
	if !ok {
		return 0
	}
	if d.kind == kindSpecial {
		if r, ok := v.x.(replicaOf); ok {
			return r.port
		}
	}
	return v.n
}

// Bool returns a yes/no directive's value.
func (c *Config) Bool(name string) bool {
	_, v, ok := c.lookupValue(name)
	return ok && v.n != 0
}

// String returns a string directive's value; for any other kind, its CONFIG GET rendering
// (enums by their lower-case canonical name).
func (c *Config) String(name string) string {
	d, v, ok := c.lookupValue(name)
	if !ok {
		return ""
	}
	return d.render(v, c.env)
}

// Strings returns a multi-argument directive's values: the bind addresses, the save
// points as "seconds changes" pairs, the client-output-buffer-limit classes as
// "class hard soft seconds", replicaof as host and port, the user lines and the
// rename-command pairs ("user" and "rename-command"); for a single-value directive, its
// one rendered value.
func (c *Config) Strings(name string) []string {
	switch strings.ToLower(name) {
	case "user":
		var out []string
		for _, u := range c.Users() {
			out = append(out, strings.Join(u, " "))
		}
		return out
	case "rename-command":
		var out []string
		for _, r := range c.RenamedCommands() {
			out = append(out, r[0]+" "+r[1])
		}
		return out
	}
	d, v, ok := c.lookupValue(name)
	if !ok {
		return nil
	}
	switch x := v.x.(type) {
	case []string:
		return append([]string(nil), x...)
	case []SavePoint:
		out := make([]string, len(x))
		for i, p := range x {
			out[i] = strconv.FormatInt(p.Seconds, 10) + " " + strconv.FormatInt(p.Changes, 10)
		}
		return out
	case [classCount]OutputBufferLimit:
		out := make([]string, classCount)
		for i, l := range x {
			out[i] = classNames[i] + " " + strconv.FormatUint(l.Hard, 10) + " " +
				strconv.FormatUint(l.Soft, 10) + " " + strconv.FormatInt(l.SoftSeconds, 10)
		}
		return out
	case replicaOf:
		if x.host == "" {
			return nil
		}
		return []string{x.host, strconv.FormatInt(x.port, 10)}
	}
	r := d.render(v, c.env)
	if d.is(multiArg) {
		return strings.Fields(r)
	}
	return []string{r}
}

// File returns the absolute path of the configuration file, "" when none.
func (c *Config) File() string { return c.file }

// SavePoints returns the save rules (none when snapshots are off).
func (c *Config) SavePoints() []SavePoint {
	_, v, _ := c.lookupValue("save")
	return append([]SavePoint(nil), v.x.([]SavePoint)...)
}

// OutputBufferLimit returns client-output-buffer-limit for a class (ClassNormal,
// ClassReplica, ClassPubSub).
func (c *Config) OutputBufferLimit(class int) OutputBufferLimit {
	_, v, _ := c.lookupValue("client-output-buffer-limit")
	limits := v.x.([classCount]OutputBufferLimit)
	if class < 0 || class >= classCount {
		return OutputBufferLimit{}
	}
	return limits[class]
}

// ReplicaOf returns the master set by replicaof/slaveof, and false when there is none.
func (c *Config) ReplicaOf() (host string, port int, ok bool) {
	_, v, _ := c.lookupValue("replicaof")
	r := v.x.(replicaOf)
	return r.host, int(r.port), r.host != ""
}

// LatencyPercentiles returns latency-tracking-info-percentiles.
func (c *Config) LatencyPercentiles() []float64 {
	_, v, _ := c.lookupValue("latency-tracking-info-percentiles")
	return append([]float64(nil), v.x.([]float64)...)
}

// RenamedCommands returns the rename-command directives in file order, as
// {old name, new name}; an empty new name removes the command. Redis checks that the old
// name is a command; the server does that against its command table.
func (c *Config) RenamedCommands() [][2]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([][2]string(nil), c.renames...)
}

// Users returns the `user` directives' arguments (name, then ACL rules), unparsed: the
// server's ACL code interprets them.
func (c *Config) Users() [][]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([][]string, len(c.users))
	for i, u := range c.users {
		out[i] = append([]string(nil), u...)
	}
	return out
}

// Modules returns the loadmodule directives' arguments (path, then module arguments).
func (c *Config) Modules() [][]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([][]string(nil), c.modules...)
}

// SentinelDirectives returns the `sentinel ...` lines read in Sentinel mode, in order.
func (c *Config) SentinelDirectives() []SentinelLine {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]SentinelLine(nil), c.sentinelLines...)
}

// IsSensitive reports whether a directive's value must never be logged (requirepass,
// masterauth, ...): CONFIG SET arguments for it are redacted from logs, SLOWLOG and
// MONITOR, as Redis does.
func IsSensitive(name string) bool {
	d := lookup(name)
	return d != nil && d.is(sensitive)
}

// Names returns every directive name and alias CONFIG GET * answers, in table order.
func Names() []string {
	var out []string
	for _, d := range directiveTable {
		if !d.is(hidden) {
			out = append(out, d.name)
		}
	}
	return out
}

// Inert lists the directives that were set (in the file or the overrides) to something
// other than their default and that the server accepts but does not act on yet; the server
// logs them once at start-up. Module loading and module settings are included.
func (c *Config) Inert() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	for _, d := range directiveTable {
		if d.is(alias) || !d.is(inert) || !c.mentioned[d.name] {
			continue
		}
		def, _ := d.parse(d.defaultArgs(), value{}, &loadState{env: c.env})
		if d.render(c.values[d.name], c.env) != d.render(def, c.env) {
			out = append(out, d.name)
		}
	}
	if len(c.modules) > 0 {
		out = append(out, "loadmodule")
	}
	for _, m := range c.moduleConfigs {
		out = append(out, m[0])
	}
	sort.Strings(out)
	return out
}

// OnSet registers fn to apply a directive's new value to the running server (e.g.
// maxmemory). fn receives the value as CONFIG GET renders it and runs after every value of
// a CONFIG SET was validated and stored, only when the value changed; an error makes the
// whole CONFIG SET fail and restores the previous values. Hooks registered for an alias
// are registered for its directive.
func (c *Config) OnSet(name string, fn func(value string) error) {
	d := lookup(name)
	if d == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := d.canonical().name
	c.hooks[key] = append(c.hooks[key], fn)
}

// DescribeUsers registers the function CONFIG REWRITE uses to write the `user` lines:
// the server's ACL code describes every user as ACL LIST does (without the "user "
// prefix). Without it, REWRITE writes back the user lines it loaded, after a default user
// line derived from requirepass.
func (c *Config) DescribeUsers(fn func() []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.describeUsers = fn
}
