// Package command is the node's command table and the handlers of the data commands.
//
// The table is built from the specs of redis-server 7.0 (commands.json: arity, flags,
// legacy key positions, Redis 7 key specs, ACL categories, argument docs) joined with our
// handlers: a command exists on the node exactly when a handler is registered for it, and
// then COMMAND, COMMAND DOCS, ACL, the dispatcher's arity check and key extraction, and
// (later) cluster redirection and replication all read the same entry.
//
// A handler gets a *Ctx: the arguments, the reply writer, the client's database handle
// and the effects batch. The server (package server) looks the command up, checks it,
// locks the shards of its keys (Ctx.KeyMask), calls the handler and commits its effects.
package command

import (
	"fmt"
	"sort"
	"strings"
)

// Flags are a command's flags (Redis's CMD_*), as COMMAND INFO lists them.
type Flags uint32

// The command flags, named as in COMMAND INFO.
const (
	FlagWrite Flags = 1 << iota
	FlagReadonly
	FlagDenyOOM
	FlagModule
	FlagAdmin
	FlagPubSub
	FlagNoScript
	FlagBlocking
	FlagLoading
	FlagStale
	FlagSkipMonitor
	FlagSkipSlowlog
	FlagAsking
	FlagFast
	FlagNoAuth
	FlagMayReplicate
	FlagSentinel
	FlagOnlySentinel
	FlagNoMandatoryKeys
	FlagProtected
	FlagNoAsyncLoading
	FlagNoMulti
	FlagMovableKeys
	FlagAllowBusy
)

var flagNames = map[string]Flags{
	"write": FlagWrite, "readonly": FlagReadonly, "denyoom": FlagDenyOOM, "module": FlagModule,
	"admin": FlagAdmin, "pubsub": FlagPubSub, "noscript": FlagNoScript, "blocking": FlagBlocking,
	"loading": FlagLoading, "stale": FlagStale, "skip_monitor": FlagSkipMonitor,
	"skip_slowlog": FlagSkipSlowlog, "asking": FlagAsking, "fast": FlagFast, "no_auth": FlagNoAuth,
	"may_replicate": FlagMayReplicate, "sentinel": FlagSentinel, "only_sentinel": FlagOnlySentinel,
	"no_mandatory_keys": FlagNoMandatoryKeys, "protected": FlagProtected,
	"no_async_loading": FlagNoAsyncLoading, "no_multi": FlagNoMulti, "movablekeys": FlagMovableKeys,
	"allow_busy": FlagAllowBusy,
}

// Category is an ACL category bit.
type Category uint32

// Categories lists the ACL categories in Redis's order (ACL CAT).
var Categories = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash",
	"string", "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
	"blocking", "dangerous", "connection", "transaction", "scripting"}

// CategoryBit returns the bit of an ACL category name (without '@'), and false when the
// name is not a category.
func CategoryBit(name string) (Category, bool) {
	for i, c := range Categories {
		if strings.EqualFold(c, name) {
			return 1 << uint(i), true
		}
	}
	return 0, false
}

// Handler executes a command.
type Handler func(c *Ctx)

// Command is one entry of the table: a top-level command or a subcommand.
type Command struct {
	// Name is the lower-case full name: "get", "config|get".
	Name string
	// ID numbers every command and subcommand, for per-command arrays (stats, ACL).
	ID         int
	Spec       *Spec
	Arity      int
	Flags      Flags
	Categories Category
	Handler    Handler
	// Parent is the container of a subcommand.
	Parent *Command
	// Subcommands of a container, by lower-case name without the parent.
	Subcommands map[string]*Command
	// Summary and Complexity are our short texts for COMMAND DOCS and redis-cli's help.
	Summary, Complexity string
	// Exclusive makes the dispatcher lock every shard around the handler instead of
	// the shards of its keys, so nothing else touches the keyspace while it runs
	// (EVAL and FCALL: a script may use keys it did not declare). A handler that runs
	// other commands marks their handles' Held with the shards it holds.
	Exclusive bool

	keySpecs []keySpec
	stats    [statStripes]commandStats
}

// Has reports whether the command has all of flags.
func (cmd *Command) Has(f Flags) bool { return cmd.Flags&f == f }

// IsWrite reports whether the command may modify the keyspace.
func (cmd *Command) IsWrite() bool { return cmd.Flags&FlagWrite != 0 }

// FullName returns the name as Redis prints it in errors ("config|get").
func (cmd *Command) FullName() string { return cmd.Name }

// Table is the set of commands the node serves.
type Table struct {
	byName map[string]*Command
	all    []*Command // by ID
	specs  map[string]*Spec
}

// NewTable returns an empty table over the embedded specs.
func NewTable() *Table {
	specs, err := LoadSpecs()
	if err != nil {
		panic(err) // the embedded file is part of the binary; tests parse it
	}
	return &Table{byName: map[string]*Command{}, specs: specs}
}

// Register adds the handler of a command or subcommand ("config|get"); its interface comes
// from the spec Redis 7.0 has for that name. A container is registered implicitly with
// its first subcommand. Registering a name Redis does not know is a programming error.
func (t *Table) Register(name string, h Handler) *Command {
	name = strings.ToLower(name)
	parentName, subName, isSub := strings.Cut(name, "|")
	spec := t.specs[parentName]
	if spec == nil {
		panic(fmt.Sprintf("command: no Redis 7.0 spec for %q", name))
	}
	if !isSub {
		cmd := t.byName[name]
		if cmd == nil {
			cmd = t.newCommand(spec, nil)
			t.byName[name] = cmd
		}
		cmd.Handler = h
		return cmd
	}
	parent := t.byName[parentName]
	if parent == nil {
		parent = t.newCommand(spec, nil)
		t.byName[parentName] = parent
	}
	var subSpec *Spec
	for i := range spec.Subcommands {
		if spec.Subcommands[i].Name == name {
			subSpec = &spec.Subcommands[i]
		}
	}
	if subSpec == nil {
		panic(fmt.Sprintf("command: no Redis 7.0 spec for subcommand %q", name))
	}
	if parent.Subcommands == nil {
		parent.Subcommands = map[string]*Command{}
	}
	sub := t.newCommand(subSpec, parent)
	sub.Handler = h
	parent.Subcommands[subName] = sub
	return sub
}

func (t *Table) newCommand(spec *Spec, parent *Command) *Command {
	cmd := &Command{Name: spec.Name, ID: len(t.all), Spec: spec, Arity: spec.Arity, Parent: parent}
	for _, f := range spec.Flags {
		cmd.Flags |= flagNames[f]
	}
	for _, c := range spec.ACLCategories {
		if bit, ok := CategoryBit(strings.TrimPrefix(c, "@")); ok {
			cmd.Categories |= bit
		}
	}
	cmd.Summary, cmd.Complexity = docText(spec.Name)
	cmd.keySpecs = compileKeySpecs(spec.KeySpecs)
	t.all = append(t.all, cmd)
	return cmd
}

// Lookup returns the top-level command named name, case-insensitively, without
// allocating; nil when the node has no such command.
func (t *Table) Lookup(name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return nil
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return t.byName[string(buf[:len(name)])]
}

// LookupSub returns the subcommand sub of cmd, case-insensitively.
func (cmd *Command) LookupSub(sub []byte) *Command {
	var buf [32]byte
	if len(sub) > len(buf) {
		return nil
	}
	for i, c := range sub {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return cmd.Subcommands[string(buf[:len(sub)])]
}

// LookupName finds a command or "container|sub" by name, case-insensitively.
func (t *Table) LookupName(name string) *Command {
	parent, sub, isSub := strings.Cut(strings.ToLower(name), "|")
	cmd := t.byName[parent]
	if cmd == nil || !isSub {
		return cmd
	}
	return cmd.Subcommands[sub]
}

// Commands returns the top-level commands sorted by name.
func (t *Table) Commands() []*Command {
	out := make([]*Command, 0, len(t.byName))
	for _, c := range t.byName {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// All returns every command and subcommand, indexed by ID.
func (t *Table) All() []*Command { return t.all }

// SortedSubcommands returns the subcommands of cmd sorted by name.
func (cmd *Command) SortedSubcommands() []*Command {
	out := make([]*Command, 0, len(cmd.Subcommands))
	for _, c := range cmd.Subcommands {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Rename implements rename-command: the command becomes reachable under newName only;
// an empty newName removes it.
func (t *Table) Rename(oldName, newName string) error {
	oldName, newName = strings.ToLower(oldName), strings.ToLower(newName)
	cmd := t.byName[oldName]
	if cmd == nil {
		return fmt.Errorf("No such command in rename-command: %s", oldName)
	}
	delete(t.byName, oldName)
	if newName != "" {
		if _, taken := t.byName[newName]; taken {
			return fmt.Errorf("Target command name already exists")
		}
		t.byName[newName] = cmd
	}
	return nil
}
