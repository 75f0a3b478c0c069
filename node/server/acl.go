package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/clusterctl/clusterctl/node/command"
	"github.com/clusterctl/clusterctl/node/config"
)

func randRead(b []byte) (int, error) { return rand.Read(b) }

// Key permissions of a key pattern (ACL_READ_PERMISSION, ACL_WRITE_PERMISSION).
const (
	permRead  = 1
	permWrite = 2
)

type keyPattern struct {
	perm    int
	pattern string
}

func (kp keyPattern) String() string {
	switch kp.perm {
	case permRead:
		return "%R~" + kp.pattern
	case permWrite:
		return "%W~" + kp.pattern
	}
	return "~" + kp.pattern
}

// selector is a set of permissions (Redis 7's aclSelector): the commands it allows, the
// keys and the channels. A user has a root selector and may have more; a command is
// allowed when one selector allows it with all its keys.
type selector struct {
	// allowed has a bit per command ID.
	allowed []uint64
	// futureCommands is set by +@all: commands added later are allowed too.
	futureCommands bool
	// rules is the normalised list of command rules since the last +@all/-@all, which
	// ACL GETUSER and LIST describe.
	rules       []string
	allKeys     bool
	keys        []keyPattern
	allChannels bool
	channels    []string
}

// user is an ACL user. Users are replaced, never modified in place, so a client holding
// a *user reads a consistent snapshot without locking.
type user struct {
	name      string
	enabled   bool
	nopass    bool
	sanitize  string // "", "sanitize-payload" or "skip-sanitize-payload"
	passwords []string
	root      selector
	selectors []selector
}

func (u *user) allCommands() bool {
	return u.root.futureCommands && len(u.root.rules) == 0 && u.root.allKeys && u.root.allChannels
}

func (u *user) clone() *user {
	c := *u
	c.passwords = append([]string(nil), u.passwords...)
	c.root = u.root.clone()
	c.selectors = make([]selector, len(u.selectors))
	for i := range u.selectors {
		c.selectors[i] = u.selectors[i].clone()
	}
	return &c
}

func (s selector) clone() selector {
	c := s
	c.allowed = append([]uint64(nil), s.allowed...)
	c.rules = append([]string(nil), s.rules...)
	c.keys = append([]keyPattern(nil), s.keys...)
	c.channels = append([]string(nil), s.channels...)
	return c
}

// aclState holds the users. mu guards users; the *user values are immutable.
type aclState struct {
	srv   *Server
	table *command.Table
	mu    sync.RWMutex
	users map[string]*user
	// pubsubDefault is acl-pubsub-default: whether new users start with allchannels.
	pubsubDefault bool
}

func newACLState(s *Server, cfg *config.Config) (*aclState, error) {
	a := &aclState{srv: s, table: s.table, users: map[string]*user{}}
	a.pubsubDefault = cfg.String("acl-pubsub-default") == "allchannels"
	def := a.newUser("default")
	if err := a.apply(def, []string{"on", "nopass", "~*", "&*", "+@all"}); err != nil {
		return nil, err
	}
	a.users["default"] = def
	for _, line := range cfg.Users() {
		if len(line) == 0 {
			continue
		}
		u := a.users[line[0]]
		if u == nil {
			u = a.newUser(line[0])
		} else {
			u = u.clone()
		}
		if err := a.apply(u, line[1:]); err != nil {
			return nil, fmt.Errorf("user %s: %w", line[0], err)
		}
		a.users[u.name] = u
	}
	if pass := cfg.String("requirepass"); pass != "" {
		a.setDefaultPassword(pass)
	}
	return a, nil
}

func (a *aclState) newUser(name string) *user {
	u := &user{name: name}
	u.root = a.newSelector()
	return u
}

func (a *aclState) newSelector() selector {
	return selector{allowed: make([]uint64, (len(a.table.All())+63)/64), allChannels: a.pubsubDefault}
}

// setDefaultPassword applies requirepass: the default user's only password, or nopass
// when empty (ACLUpdateDefaultUserPassword).
func (a *aclState) setDefaultPassword(pass string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.users["default"].clone()
	rules := []string{"resetpass", "nopass"}
	if pass != "" {
		rules = []string{"resetpass", ">" + pass}
	}
	a.apply(u, rules)
	a.users["default"] = u
}

func (a *aclState) defaultUser() *user {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.users["default"]
}

// authRequired reports whether new connections must authenticate: the default user has a
// password or is disabled (authRequired in Redis).
func (a *aclState) authRequired() bool {
	u := a.defaultUser()
	return !u.nopass || !u.enabled
}

func (a *aclState) defaultUserNoPass() bool { return a.defaultUser().nopass }

func (a *aclState) lookup(name string) *user {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.users[name]
}

func hashPassword(p string) string {
	sum := sha256.Sum256([]byte(p))
	return hex.EncodeToString(sum[:])
}

// authenticate checks a username-password pair (ACLCheckUserCredentials).
func (a *aclState) authenticate(name, pass string) *user {
	u := a.lookup(name)
	if u == nil || !u.enabled {
		return nil
	}
	if u.nopass {
		return u
	}
	h := hashPassword(pass)
	for _, p := range u.passwords {
		if subtle.ConstantTimeCompare([]byte(p), []byte(h)) == 1 {
			return u
		}
	}
	return nil
}

// errACL carries the reason part of "ERR Error in ACL SETUSER modifier '%s': %s".
type errACL string

func (e errACL) Error() string { return string(e) }

const (
	errACLSyntax       errACL = "Syntax error"
	errACLUnknown      errACL = "Unknown command or category name in ACL"
	errACLNoPassword   errACL = "The password you are trying to remove from the user does not exist"
	errACLBadHash      errACL = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	errACLKeysAfterAll errACL = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
	errACLChanAfterAll errACL = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
)

// apply applies SETUSER rules to u in order; on error u is left partly modified, so
// callers apply to a clone.
func (a *aclState) apply(u *user, rules []string) error {
	for _, r := range rules {
		if err := a.applyOne(u, r); err != nil {
			var ae errACL
			if errors.As(err, &ae) {
				return fmt.Errorf("Error in ACL SETUSER modifier '%s': %s", r, ae)
			}
			return err
		}
	}
	return nil
}

func (a *aclState) applyOne(u *user, r string) error {
	lr := strings.ToLower(r)
	switch {
	case lr == "on":
		u.enabled = true
	case lr == "off":
		u.enabled = false
	case lr == "nopass":
		u.nopass = true
		u.passwords = nil
	case lr == "resetpass":
		u.nopass = false
		u.passwords = nil
	case lr == "sanitize-payload" || lr == "skip-sanitize-payload":
		u.sanitize = lr
	case lr == "clearselectors":
		u.selectors = nil
	case lr == "reset":
		for _, x := range []string{"resetpass", "resetkeys", "resetchannels"} {
			a.applyOne(u, x)
		}
		if a.pubsubDefault {
			a.applyOne(u, "allchannels")
		}
		u.enabled = false
		u.sanitize = "sanitize-payload"
		u.selectors = nil
		a.applyOne(u, "-@all")
	case strings.HasPrefix(r, ">"):
		h := hashPassword(r[1:])
		u.passwords = appendUnique(u.passwords, h)
		u.nopass = false
	case strings.HasPrefix(r, "#"):
		if !validHash(r[1:]) {
			return errACLBadHash
		}
		u.passwords = appendUnique(u.passwords, r[1:])
		u.nopass = false
	case strings.HasPrefix(r, "<") || strings.HasPrefix(r, "!"):
		h := r[1:]
		if r[0] == '<' {
			h = hashPassword(r[1:])
		} else if !validHash(h) {
			return errACLBadHash
		}
		i := indexOf(u.passwords, h)
		if i < 0 {
			return errACLNoPassword
		}
		u.passwords = append(u.passwords[:i:i], u.passwords[i+1:]...)
	case strings.HasPrefix(r, "(") && strings.HasSuffix(r, ")"):
		sel := a.newSelector()
		for _, part := range strings.Fields(r[1 : len(r)-1]) {
			if err := a.applySelector(&sel, part); err != nil {
				return err
			}
		}
		u.selectors = append(u.selectors, sel)
	default:
		return a.applySelector(&u.root, r)
	}
	return nil
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func appendUnique(list []string, s string) []string {
	if indexOf(list, s) >= 0 {
		return list
	}
	return append(list, s)
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// applySelector applies one rule about commands, keys or channels (ACLSetSelector).
func (a *aclState) applySelector(sel *selector, r string) error {
	lr := strings.ToLower(r)
	switch {
	case lr == "allkeys" || r == "~*":
		sel.allKeys = true
		sel.keys = nil
	case lr == "resetkeys":
		sel.allKeys = false
		sel.keys = nil
	case lr == "allchannels" || r == "&*":
		sel.allChannels = true
		sel.channels = nil
	case lr == "resetchannels":
		sel.allChannels = false
		sel.channels = nil
	case lr == "allcommands" || lr == "+@all":
		for i := range sel.allowed {
			sel.allowed[i] = ^uint64(0)
		}
		sel.futureCommands = true
		sel.rules = nil
	case lr == "nocommands" || lr == "-@all":
		for i := range sel.allowed {
			sel.allowed[i] = 0
		}
		sel.futureCommands = false
		sel.rules = nil
	case strings.HasPrefix(r, "~") || strings.HasPrefix(r, "%"):
		kp, err := parseKeyPattern(r)
		if err != nil {
			return err
		}
		if sel.allKeys {
			return errACLKeysAfterAll
		}
		if kp.pattern == "*" && kp.perm == permRead|permWrite {
			sel.allKeys = true
			sel.keys = nil
			return nil
		}
		sel.keys = append(sel.keys, kp)
	case strings.HasPrefix(r, "&"):
		if sel.allChannels {
			return errACLChanAfterAll
		}
		sel.channels = appendUnique(sel.channels, r[1:])
	case strings.HasPrefix(r, "+@") || strings.HasPrefix(r, "-@"):
		bit, ok := command.CategoryBit(r[2:])
		if !ok {
			return errACLUnknown
		}
		allow := r[0] == '+'
		for _, cmd := range a.table.All() {
			if cmd.Categories&bit != 0 {
				sel.setBit(cmd.ID, allow)
			}
		}
		sel.addRule(strings.ToLower(r))
	case strings.HasPrefix(r, "+") || strings.HasPrefix(r, "-"):
		cmd := a.table.LookupName(r[1:])
		if cmd == nil {
			return errACLUnknown
		}
		allow := r[0] == '+'
		sel.setBit(cmd.ID, allow)
		for _, sub := range cmd.Subcommands {
			sel.setBit(sub.ID, allow)
		}
		sel.addRule(string(r[0]) + cmd.Name)
	default:
		return errACLSyntax
	}
	return nil
}

func parseKeyPattern(r string) (keyPattern, error) {
	if r[0] == '~' {
		return keyPattern{perm: permRead | permWrite, pattern: r[1:]}, nil
	}
	perm := 0
	i := 1
	for ; i < len(r) && r[i] != '~'; i++ {
		switch r[i] {
		case 'R', 'r':
			perm |= permRead
		case 'W', 'w':
			perm |= permWrite
		default:
			return keyPattern{}, errACLSyntax
		}
	}
	if i >= len(r) || perm == 0 {
		return keyPattern{}, errACLSyntax
	}
	return keyPattern{perm: perm, pattern: r[i+1:]}, nil
}

func (sel *selector) setBit(id int, on bool) {
	if on {
		sel.allowed[id/64] |= 1 << uint(id%64)
	} else {
		sel.allowed[id/64] &^= 1 << uint(id%64)
	}
}

func (sel *selector) hasBit(id int) bool { return sel.allowed[id/64]&(1<<uint(id%64)) != 0 }

// addRule records a command rule, replacing an earlier rule about the same command or
// category (ACLUpdateCommandRules).
func (sel *selector) addRule(rule string) {
	out := sel.rules[:0]
	for _, x := range sel.rules {
		if x[1:] != rule[1:] {
			out = append(out, x)
		}
	}
	sel.rules = append(out, rule)
}

func (sel *selector) describeCommands() string {
	base := "-@all"
	if sel.futureCommands {
		base = "+@all"
	}
	if len(sel.rules) == 0 {
		return base
	}
	return base + " " + strings.Join(sel.rules, " ")
}

func (sel *selector) describeKeys() string {
	if sel.allKeys {
		return "~*"
	}
	parts := make([]string, len(sel.keys))
	for i, k := range sel.keys {
		parts[i] = k.String()
	}
	return strings.Join(parts, " ")
}

func (sel *selector) describeChannels() string {
	if sel.allChannels {
		return "&*"
	}
	parts := make([]string, len(sel.channels))
	for i, c := range sel.channels {
		parts[i] = "&" + c
	}
	return strings.Join(parts, " ")
}

// describe renders a selector as ACL LIST does (ACLDescribeSelector).
func (sel *selector) describe() string {
	var parts []string
	if k := sel.describeKeys(); k != "" {
		parts = append(parts, k)
	}
	if sel.allChannels {
		parts = append(parts, "&*")
	} else {
		parts = append(parts, "resetchannels")
		if c := sel.describeChannels(); c != "" {
			parts = append(parts, c)
		}
	}
	parts = append(parts, sel.describeCommands())
	return strings.Join(parts, " ")
}

func (u *user) flagList() []string {
	flags := []string{"off"}
	if u.enabled {
		flags[0] = "on"
	}
	if u.nopass {
		flags = append(flags, "nopass")
	}
	if u.sanitize != "" {
		flags = append(flags, u.sanitize)
	}
	return flags
}

// describe renders a user as ACL LIST does, without the "user <name>" prefix.
func (u *user) describe() string {
	parts := u.flagList()
	for _, p := range u.passwords {
		parts = append(parts, "#"+p)
	}
	parts = append(parts, u.root.describe())
	for i := range u.selectors {
		parts = append(parts, "("+u.selectors[i].describe()+")")
	}
	return strings.Join(parts, " ")
}

func (a *aclState) sortedUsers() []*user {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]*user, 0, len(a.users))
	for _, u := range a.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// aclDenial says why a command is refused: its name, or one of its keys.
type aclDenial struct {
	kind int
	key  string
}

const (
	aclAllowed = iota
	aclDeniedCommand
	aclDeniedKey
)

// noperm is the error processCommand replies with.
func (d aclDenial) noperm(cmd *command.Command) string {
	if d.kind == aclDeniedKey {
		return "NOPERM this user has no permissions to access one of the keys used as arguments"
	}
	return "NOPERM this user has no permissions to run the '" + cmd.FullName() + "' command"
}

// dryrun is the reason ACL DRYRUN gives, naming the key (getAclErrorMessage).
func (d aclDenial) dryrun(cmd *command.Command) string {
	if d.kind == aclDeniedKey {
		return "This user has no permissions to access the '" + d.key + "' key"
	}
	return "This user has no permissions to run the '" + cmd.FullName() + "' command"
}

// check decides whether u may run argv (ACLCheckAllPerm): some selector must allow the
// command and all of its keys.
func (a *aclState) check(u *user, cmd *command.Command, argv [][]byte) aclDenial {
	denial := aclDenial{kind: aclDeniedCommand}
	for _, sel := range append([]*selector{&u.root}, selectorPtrs(u.selectors)...) {
		if !sel.hasBit(cmd.ID) {
			continue
		}
		if sel.allKeys || len(cmd.Spec.KeySpecs) == 0 {
			return aclDenial{}
		}
		key, ok := sel.keysAllowed(cmd, argv)
		if ok {
			return aclDenial{}
		}
		if denial.kind != aclDeniedKey {
			denial = aclDenial{kind: aclDeniedKey, key: key}
		}
	}
	return denial
}

func selectorPtrs(s []selector) []*selector {
	out := make([]*selector, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// keysAllowed checks every key of the command against the selector's patterns, needing
// read permission for keys the command accesses and write permission for keys it
// inserts, deletes or updates (ACLSelectorCheckKey).
func (sel *selector) keysAllowed(cmd *command.Command, argv [][]byte) (denied string, ok bool) {
	for i := range cmd.Spec.KeySpecs {
		ks := cmd.Spec.KeySpecs[i]
		pos := cmd.SpecKeyPositions(i, argv)
		need := 0
		for _, f := range ks.Flags {
			switch f {
			case "access":
				need |= permRead
			case "insert", "delete", "update":
				need |= permWrite
			}
		}
		for _, p := range pos {
			if !sel.keyAllowed(string(argv[p]), need) {
				return string(argv[p]), false
			}
		}
	}
	return "", true
}

func (sel *selector) keyAllowed(key string, need int) bool {
	for _, kp := range sel.keys {
		if kp.perm&need == need && command.StringMatch(kp.pattern, key, false) {
			return true
		}
	}
	return false
}

// setUser implements ACL SETUSER: the rules apply to a copy, which replaces the user only
// when every rule is valid.
func (a *aclState) setUser(name string, rules []string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var u *user
	if old := a.users[name]; old != nil {
		u = old.clone()
	} else {
		u = a.newUser(name)
	}
	if err := a.apply(u, rules); err != nil {
		return err
	}
	a.users[name] = u
	return nil
}

// deleteUsers implements ACL DELUSER and returns how many users existed.
func (a *aclState) deleteUsers(names []string) (int, error) {
	for _, n := range names {
		if n == "default" {
			return 0, errors.New("ERR The 'default' user cannot be removed")
		}
	}
	a.mu.Lock()
	deleted := 0
	var gone []string
	for _, n := range names {
		if _, ok := a.users[n]; ok {
			delete(a.users, n)
			deleted++
			gone = append(gone, n)
		}
	}
	a.mu.Unlock()
	for _, n := range gone {
		a.srv.killClientsOfUser(n)
	}
	return deleted, nil
}

// genpass returns bits of randomness as hex (ACL GENPASS).
func genpass(bits int) string {
	b := make([]byte, (bits+7)/8)
	rand.Read(b)
	s := hex.EncodeToString(b)
	return s[:(bits+3)/4]
}
