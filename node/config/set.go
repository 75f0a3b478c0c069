package config

import (
	"fmt"
	"strings"
)

// Get implements CONFIG GET pattern [pattern ...]: glob patterns matched without case
// (Redis's stringmatch with nocase), every alias answered under its own name, hidden
// directives only by exact name. A name given without glob characters is answered under
// the spelling it was asked with, as Redis does. Each directive is answered once, in the
// order the patterns find them (table order within a pattern).
func (c *Config) Get(patterns ...string) [][2]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out [][2]string
	seen := map[string]bool{}
	add := func(key string, d *directive) {
		out = append(out, [2]string{key, d.render(c.values[d.canonical().name], c.env)})
	}
	for _, pat := range patterns {
		if !strings.ContainsAny(pat, "[*?") {
			d := lookup(pat)
			if d == nil || seen[d.name] {
				continue
			}
			seen[d.name] = true
			add(pat, d)
			continue
		}
		for _, d := range directiveTable {
			if d.is(hidden) || seen[d.name] {
				continue
			}
			if stringMatch(pat, d.name, true) {
				seen[d.name] = true
				add(d.name, d)
			}
		}
	}
	return out
}

// SetError is a failed CONFIG SET; Error() is the reply text, "ERR ..." included.
type SetError struct{ Msg string }

func (e *SetError) Error() string { return e.Msg }

func setFailed(name string, err error) error {
	return &SetError{Msg: fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - %s", name, err.Error())}
}

// Set implements CONFIG SET name value [name value ...] for a client that is not local
// (see SetAs).
func (c *Config) Set(pairs [][2]string) error { return c.SetAs(pairs, false) }

// SetAs implements CONFIG SET like Redis 7.0's configSetCommand: every name is checked
// first (unknown, immutable, protected, duplicate), then every value is parsed and stored,
// then the apply hooks of the directives whose value changed run in order; a failure at
// any step restores every previous value, re-running the hooks, so the command is all or
// nothing. localClient says whether the client connected over loopback or a Unix socket,
// which enable-protected-configs "local" allows to change protected directives (dir,
// dbfilename). Multi-argument values are split on single spaces, as Redis does.
func (c *Config) SetAs(pairs [][2]string, localClient bool) error {
	c.setMu.Lock()
	defer c.setMu.Unlock()

	dirs := make([]*directive, len(pairs))
	var badName, errName, errMsg string
	for i, kv := range pairs {
		d := lookup(kv[0])
		if d == nil {
			if badName == "" && errName == "" {
				badName = kv[0]
			}
			continue
		}
		if badName != "" || errName != "" {
			continue
		}
		if d.is(immutable) {
			errName, errMsg = kv[0], "can't set immutable config"
			continue
		}
		if d.is(protected) && !c.protectedAllowed(localClient) {
			errName, errMsg = kv[0], "can't set protected config"
			continue
		}
		for j := 0; j < i; j++ {
			if dirs[j] == d {
				errName, errMsg = kv[0], "duplicate parameter"
				break
			}
		}
		dirs[i] = d
	}
	if badName != "" {
		return &SetError{Msg: fmt.Sprintf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", badName)}
	}
	if errName != "" {
		return setFailed(errName, errText(errMsg))
	}

	st := &loadState{env: c.env}
	c.mu.Lock()
	old := make([]value, len(pairs))
	oldRendered := make([]string, len(pairs))
	for i, d := range dirs {
		old[i] = c.values[d.canonical().name]
		oldRendered[i] = d.render(old[i], c.env)
	}
	restore := func(n int) {
		for j := n - 1; j >= 0; j-- {
			d := dirs[j]
			if d.name == "dir" {
				// The directory is the process's; go back to where it was.
				_ = c.env.Chdir(oldRendered[j])
			}
			c.values[d.canonical().name] = old[j]
		}
	}
	// Apply hooks in the order their directives were given, each directive once.
	var toApply []int
	for i, d := range dirs {
		args := splitOnSpaces(pairs[i][1], d.is(multiArg) || d.kind == kindFlags)
		v, err := d.parse(args, c.values[d.canonical().name], st)
		if err != nil {
			restore(i + 1)
			c.mu.Unlock()
			return setFailed(d.name, err)
		}
		c.values[d.canonical().name] = v
		if d.render(v, c.env) != oldRendered[i] || d.name == "dir" {
			toApply = append(toApply, i)
		}
	}
	hooks := make([][]func(string) error, len(toApply))
	rendered := make([]string, len(toApply))
	for k, i := range toApply {
		d := dirs[i]
		hooks[k] = c.hooks[d.canonical().name]
		rendered[k] = d.render(c.values[d.canonical().name], c.env)
	}
	c.mu.Unlock()

	for k, i := range toApply {
		for _, fn := range hooks[k] {
			if err := fn(rendered[k]); err != nil {
				c.mu.Lock()
				restore(len(dirs))
				c.mu.Unlock()
				// Re-apply the restored values, as restoreBackupConfig does.
				for k2 := 0; k2 <= k; k2++ {
					for _, undo := range hooks[k2] {
						_ = undo(oldRendered[toApply[k2]])
					}
				}
				return setFailed(dirs[i].name, err)
			}
		}
	}
	return nil
}

// protectedAllowed mirrors allowProtectedAction for enable-protected-configs.
func (c *Config) protectedAllowed(localClient bool) bool {
	c.mu.RLock()
	mode := c.values["enable-protected-configs"].n
	c.mu.RUnlock()
	return mode == 1 || (mode == 2 && localClient)
}

// splitOnSpaces splits a CONFIG SET value the way performInterfaceSet does for
// multi-argument directives: on every single space (sdssplitlen), so "" gives no argument
// and two spaces give an empty one.
func splitOnSpaces(s string, multi bool) []string {
	if !multi {
		return []string{s}
	}
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}
