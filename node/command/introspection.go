package command

import (
	"strings"

	"github.com/clusterctl/clusterctl/node/resp"
)

func registerIntrospection(t *Table) {
	t.Register("command", cmdCommand)
	t.Register("command|count", func(c *Ctx) { c.W.Int(int64(len(c.Env.Table.byName))) })
	t.Register("command|info", cmdCommandInfo)
	t.Register("command|docs", cmdCommandDocs)
	t.Register("command|getkeys", func(c *Ctx) { commandGetKeys(c, false) })
	t.Register("command|getkeysandflags", func(c *Ctx) { commandGetKeys(c, true) })
	t.Register("command|list", cmdCommandList)
	t.Register("command|help", func(c *Ctx) { ReplyHelp(c, commandHelp) })
}

var commandHelp = []string{
	"(no subcommand)",
	"    Return details about all Redis commands.",
	"COUNT",
	"    Return the total number of commands in this Redis server.",
	"LIST",
	"    Return a list of all commands in this Redis server.",
	"INFO [<command-name> ...]",
	"    Return details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"DOCS [<command-name> ...]",
	"    Return documentation details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"GETKEYS <full-command>",
	"    Return the keys from a full Redis command.",
	"GETKEYSANDFLAGS <full-command>",
	"    Return the keys and the access flags from a full Redis command.",
}

// ReplyHelp writes a container's HELP reply: the usage lines under Redis's header and
// footer (addReplyHelp).
func ReplyHelp(c *Ctx, lines []string) {
	name := strings.ToUpper(string(c.Argv[0]))
	c.W.ArrayLen(len(lines) + 3)
	c.W.Simple(name + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.W.Simple(l)
	}
	c.W.Simple("HELP")
	c.W.Simple("    Prints this help.")
}

func cmdCommand(c *Ctx) {
	cmds := c.Env.Table.Commands()
	c.W.ArrayLen(len(cmds))
	for _, cmd := range cmds {
		replyCommandInfo(c.W, cmd)
	}
}

func cmdCommandInfo(c *Ctx) {
	if len(c.Argv) == 2 {
		cmdCommand(c)
		return
	}
	c.W.ArrayLen(len(c.Argv) - 2)
	for _, name := range c.Argv[2:] {
		cmd := c.Env.Table.LookupName(string(name))
		if cmd == nil {
			c.W.NullArray()
			continue
		}
		replyCommandInfo(c.W, cmd)
	}
}

func cmdCommandDocs(c *Ctx) {
	var cmds []*Command
	if len(c.Argv) == 2 {
		cmds = c.Env.Table.Commands()
	} else {
		for _, name := range c.Argv[2:] {
			if cmd := c.Env.Table.LookupName(string(name)); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.W.MapLen(len(cmds))
	for _, cmd := range cmds {
		c.W.BulkString(cmd.Name)
		replyCommandDocs(c.W, cmd)
	}
}

func cmdCommandList(c *Ctx) {
	var filter func(cmd *Command) bool
	switch {
	case len(c.Argv) == 2:
	case len(c.Argv) == 5 && Is(c.Argv[2], "filterby"):
		arg := string(c.Argv[4])
		switch {
		case Is(c.Argv[3], "module"):
			filter = func(*Command) bool { return false } // no modules
		case Is(c.Argv[3], "aclcat"):
			bit, ok := CategoryBit(arg)
			filter = func(cmd *Command) bool { return ok && cmd.Categories&bit != 0 }
		case Is(c.Argv[3], "pattern"):
			filter = func(cmd *Command) bool { return StringMatch(arg, cmd.Name, true) }
		default:
			c.Error(ErrSyntax)
			return
		}
	default:
		c.Error(ErrSyntax)
		return
	}
	var names []string
	var walk func(cmds []*Command)
	walk = func(cmds []*Command) {
		for _, cmd := range cmds {
			if filter == nil || filter(cmd) {
				names = append(names, cmd.Name)
			}
			if cmd.Subcommands != nil {
				walk(cmd.SortedSubcommands())
			}
		}
	}
	walk(c.Env.Table.Commands())
	c.W.ArrayLen(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

// commandGetKeys implements COMMAND GETKEYS and GETKEYSANDFLAGS (getKeysSubcommandImpl).
func commandGetKeys(c *Ctx, withFlags bool) {
	argv := c.Argv[2:]
	cmd := c.Env.Table.Lookup(argv[0])
	if cmd != nil && cmd.Subcommands != nil && len(argv) > 1 {
		cmd = cmd.LookupSub(argv[1])
	}
	switch {
	case cmd == nil:
		c.Error("ERR Invalid command specified")
		return
	case len(cmd.Spec.KeySpecs) == 0:
		c.Error("ERR The command has no key arguments")
		return
	case (cmd.Arity > 0 && cmd.Arity != len(argv)) || len(argv) < -cmd.Arity:
		c.Error("ERR Invalid number of arguments specified for command")
		return
	}
	pos, ok := cmd.KeyPositions(argv, nil)
	if !ok || len(pos) == 0 {
		if cmd.Has(FlagNoMandatoryKeys) {
			c.W.ArrayLen(0)
		} else {
			c.Error("ERR Invalid arguments specified for command")
		}
		return
	}
	c.W.ArrayLen(len(pos))
	for _, p := range pos {
		if !withFlags {
			c.W.Bulk(argv[p])
			continue
		}
		c.W.ArrayLen(2)
		c.W.Bulk(argv[p])
		flags := keySpecFlagsAt(cmd, argv, p)
		c.W.SetLen(len(flags))
		for _, f := range flags {
			c.W.Simple(f)
		}
	}
}

// keySpecFlagsAt returns the flags of the key spec that found the key at position p.
func keySpecFlagsAt(cmd *Command, argv [][]byte, p int) []string {
	for i := range cmd.Spec.KeySpecs {
		for _, q := range cmd.SpecKeyPositions(i, argv) {
			if q == p {
				return cmd.Spec.KeySpecs[i].Flags
			}
		}
	}
	return nil
}

// replyCommandInfo writes one COMMAND INFO entry (addReplyCommandInfo).
func replyCommandInfo(w *resp.Writer, cmd *Command) {
	s := cmd.Spec
	w.ArrayLen(10)
	w.BulkString(cmd.Name)
	w.Int(int64(s.Arity))
	w.SetLen(len(s.Flags))
	for _, f := range s.Flags {
		w.Simple(f)
	}
	w.Int(int64(s.FirstKey))
	w.Int(int64(s.LastKey))
	w.Int(int64(s.Step))
	w.SetLen(len(s.ACLCategories))
	for _, c := range s.ACLCategories {
		w.Simple(c)
	}
	w.SetLen(len(s.Tips))
	for _, t := range s.Tips {
		w.BulkString(t)
	}
	w.SetLen(len(s.KeySpecs))
	for i := range s.KeySpecs {
		replyKeySpec(w, &s.KeySpecs[i])
	}
	if cmd.Subcommands == nil {
		w.SetLen(0)
		return
	}
	subs := cmd.SortedSubcommands()
	w.ArrayLen(len(subs))
	for _, sub := range subs {
		replyCommandInfo(w, sub)
	}
}

func replyKeySpec(w *resp.Writer, ks *KeySpec) {
	if ks.Notes != "" {
		w.MapLen(4)
		w.BulkString("notes")
		w.BulkString(ks.Notes)
	} else {
		w.MapLen(3)
	}
	w.BulkString("flags")
	w.SetLen(len(ks.Flags))
	for _, f := range ks.Flags {
		w.Simple(f)
	}
	w.BulkString("begin_search")
	w.MapLen(2)
	w.BulkString("type")
	w.BulkString(ks.BeginSearch.Type)
	w.BulkString("spec")
	switch ks.BeginSearch.Type {
	case "index":
		w.MapLen(1)
		w.BulkString("index")
		w.Int(int64(ks.BeginSearch.Index))
	case "keyword":
		w.MapLen(2)
		w.BulkString("keyword")
		w.BulkString(ks.BeginSearch.Keyword)
		w.BulkString("startfrom")
		w.Int(int64(ks.BeginSearch.StartFrom))
	default:
		w.MapLen(0)
	}
	w.BulkString("find_keys")
	w.MapLen(2)
	w.BulkString("type")
	w.BulkString(ks.FindKeys.Type)
	w.BulkString("spec")
	switch ks.FindKeys.Type {
	case "range":
		w.MapLen(3)
		w.BulkString("lastkey")
		w.Int(int64(ks.FindKeys.LastKey))
		w.BulkString("keystep")
		w.Int(int64(ks.FindKeys.KeyStep))
		w.BulkString("limit")
		w.Int(int64(ks.FindKeys.Limit))
	case "keynum":
		w.MapLen(3)
		w.BulkString("keynumidx")
		w.Int(int64(ks.FindKeys.KeyNumIdx))
		w.BulkString("firstkey")
		w.Int(int64(ks.FindKeys.FirstKey))
		w.BulkString("keystep")
		w.Int(int64(ks.FindKeys.KeyStep))
	default:
		w.MapLen(0)
	}
}

// replyCommandDocs writes one COMMAND DOCS entry (addReplyCommandDocs), with our summary
// and complexity in place of Redis's prose.
func replyCommandDocs(w *resp.Writer, cmd *Command) {
	d := &cmd.Spec.Docs
	n := 1
	for _, present := range []bool{cmd.Summary != "", d.Since != "", cmd.Complexity != "",
		len(d.DocFlags) > 0, d.DeprecatedSince != "", d.ReplacedBy != "", len(d.Arguments) > 0,
		cmd.Subcommands != nil} {
		if present {
			n++
		}
	}
	w.MapLen(n)
	if cmd.Summary != "" {
		w.BulkString("summary")
		w.BulkString(cmd.Summary)
	}
	if d.Since != "" {
		w.BulkString("since")
		w.BulkString(d.Since)
	}
	w.BulkString("group")
	w.BulkString(d.Group)
	if cmd.Complexity != "" {
		w.BulkString("complexity")
		w.BulkString(cmd.Complexity)
	}
	if len(d.DocFlags) > 0 {
		w.BulkString("doc_flags")
		w.SetLen(len(d.DocFlags))
		for _, f := range d.DocFlags {
			w.Simple(f)
		}
	}
	if d.DeprecatedSince != "" {
		w.BulkString("deprecated_since")
		w.BulkString(d.DeprecatedSince)
	}
	if d.ReplacedBy != "" {
		w.BulkString("replaced_by")
		w.BulkString(d.ReplacedBy)
	}
	if len(d.Arguments) > 0 {
		w.BulkString("arguments")
		replyArgs(w, d.Arguments)
	}
	if cmd.Subcommands != nil {
		subs := cmd.SortedSubcommands()
		w.BulkString("subcommands")
		w.MapLen(len(subs))
		for _, sub := range subs {
			w.BulkString(sub.Name)
			replyCommandDocs(w, sub)
		}
	}
}

func replyArgs(w *resp.Writer, args []Arg) {
	w.ArrayLen(len(args))
	for i := range args {
		a := &args[i]
		n := 2
		for _, present := range []bool{a.KeySpecIndex != nil, a.Token != "", a.Summary != "",
			a.Since != "", a.DeprecatedSince != "", len(a.Flags) > 0,
			a.Type == "oneof" || a.Type == "block"} {
			if present {
				n++
			}
		}
		w.MapLen(n)
		w.BulkString("name")
		w.BulkString(a.Name)
		w.BulkString("type")
		w.BulkString(a.Type)
		if a.KeySpecIndex != nil {
			w.BulkString("key_spec_index")
			w.Int(int64(*a.KeySpecIndex))
		}
		if a.Token != "" {
			w.BulkString("token")
			w.BulkString(a.Token)
		}
		if a.Summary != "" {
			w.BulkString("summary")
			w.BulkString(a.Summary)
		}
		if a.Since != "" {
			w.BulkString("since")
			w.BulkString(a.Since)
		}
		if a.DeprecatedSince != "" {
			w.BulkString("deprecated_since")
			w.BulkString(a.DeprecatedSince)
		}
		if len(a.Flags) > 0 {
			w.BulkString("flags")
			w.SetLen(len(a.Flags))
			for _, f := range a.Flags {
				w.Simple(f)
			}
		}
		if a.Type == "oneof" || a.Type == "block" {
			w.BulkString("arguments")
			replyArgs(w, a.Arguments)
		}
	}
}
