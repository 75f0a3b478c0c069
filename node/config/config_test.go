package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestMemToBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"123", 123, true}, {"1b", 1, true}, {"1B", 1, true},
		{"1k", 1000, true}, {"1K", 1000, true}, {"1kb", 1024, true}, {"1kB", 1024, true},
		{"1m", 1000000, true}, {"1mb", 1 << 20, true}, {"1MB", 1 << 20, true},
		{"1g", 1000000000, true}, {"1gb", 1 << 30, true}, {"1Gb", 1 << 30, true},
		{"", 0, true}, {"kb", 0, true}, // strtoull of no digits is 0, and Redis checks nothing else
		{"-1", 0, false}, {"1.5gb", 0, false}, {"1x", 0, false}, {"5gigabytes", 0, false},
		{" 1", 0, false}, {"1 ", 0, false}, {"1tb", 0, false},
		{"18446744073709551615", 18446744073709551615, true},
		{"99999999999999999999", 18446744073709551615, true},   // saturates like strtoull
		{"99999999999999999999gb", 18446744072635809792, true}, // then wraps like the C product
		{strings.Repeat("1", 128), 0, false},                   // longer than Redis's buffer
		{strings.Repeat("0", 126) + "1", 1, true},
	} {
		got, ok := memToBytes(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("memToBytes(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestStringMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		nocase     bool
		want       bool
	}{
		{"*", "maxmemory", false, true},
		{"max*", "maxmemory", false, true},
		{"MAX*", "maxmemory", true, true},
		{"MAX*", "maxmemory", false, false},
		{"*memory", "maxmemory", false, true},
		{"max?emory", "maxmemory", false, true},
		{"max?emory", "maxemory", false, false},
		{"[lm]axmemory", "maxmemory", false, true},
		{"[^m]axmemory", "maxmemory", false, false},
		{"[a-z]axmemory", "maxmemory", false, true},
		{"[z-a]axmemory", "maxmemory", false, true}, // reversed ranges are allowed
		{"[A-Z]axmemory", "maxmemory", true, true},
		{"max\\*", "max*", false, true},
		{"max\\*", "maxx", false, false},
		{"[\\]]", "]", false, true},
		{"[abc", "a", false, true}, // an unterminated class ends the pattern
		{"a[", "a", false, false},
		{"**", "", false, false}, // nothing matches an empty name, as in Redis
		{"a**", "a", false, true},
		{"*a*b*c*d*e*f*g*h*i*j*k*l*m*n*o*p*", strings.Repeat("a", 60), false, false},
	} {
		if got := stringMatch(tc.pattern, tc.s, tc.nocase); got != tc.want {
			t.Errorf("stringMatch(%q, %q, %v) = %v, want %v", tc.pattern, tc.s, tc.nocase, got, tc.want)
		}
	}
}

func TestOverridesToOptions(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		want  string
		stdin bool
	}{
		{nil, "", false},
		{[]string{"--port", "7000"}, `port "7000" `, false},
		{[]string{"--bind", "127.0.0.1", "::1", "--save", ""}, "bind \"127.0.0.1\" \"::1\" \nsave \"\" ", false},
		{[]string{"--save", "--port", "7000"}, "save \"\"\nport \"7000\" ", false},
		{[]string{"--port", "7000", "--save"}, "port \"7000\" \nsave \"\"", false},
		{[]string{"--port 7000", "--hz", "20"}, "port 7000 \nhz \"20\" ", false},
		{[]string{"--requirepass", "--not-an-option"}, "requirepass \"--not-an-option\" ", false},
		{[]string{"--sentinel", "--port", "1"}, "sentinel \nport \"1\" ", false},
		{[]string{"-", "--port", "1"}, "port \"1\" ", true},
		{[]string{"--port", "1", "-"}, "port \"1\" ", true},
		{[]string{"--masterauth", "a\"b\n"}, "masterauth \"a\\\"b\\n\" ", false},
	} {
		got, stdin := overridesToOptions(tc.args)
		if got != tc.want || stdin != tc.stdin {
			t.Errorf("overridesToOptions(%q) = %q, %v; want %q, %v", tc.args, got, stdin, tc.want, tc.stdin)
		}
	}
}

// loadText loads configuration text through a fake environment rooted at a temporary
// directory.
func loadText(t *testing.T, text string, args ...string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "redis.conf"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return load(newFakeEnv(dir), "redis.conf", args, false)
}

func mustLoad(t *testing.T, text string, args ...string) *Config {
	t.Helper()
	c, err := loadText(t, text, args...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTypedGetters(t *testing.T) {
	c := mustLoad(t, `
maxmemory 1gb
maxmemory-policy ALLKEYS-LRU
appendonly yes
notify-keyspace-events KEx
slaveof 10.0.0.1 6380
bind 127.0.0.1 ::1
save 900 1
save 60 10000
client-output-buffer-limit pubsub 1mb 512kb 30
rename-command FLUSHALL ""
rename-command CONFIG cfg
user alice on >pw ~* +@all
shutdown-on-sigterm save now
`, "--port", "7001")
	checks := []struct {
		got, want any
	}{
		{c.Int("maxmemory"), int64(1 << 30)},
		{c.Int("port"), int64(7001)},
		{c.Int("maxmemory-policy"), int64(PolicyAllkeysLRU)},
		{c.String("maxmemory-policy"), "allkeys-lru"},
		{c.Bool("appendonly"), true},
		{c.Bool("APPENDONLY"), true},
		{c.Int("notify-keyspace-events"), int64(NotifyKeyspace | NotifyKeyevent | NotifyExpired)},
		{c.String("notify-keyspace-events"), "xKE"},
		{c.Int("shutdown-on-sigterm"), int64(ShutdownSave | ShutdownNow)},
		{c.Strings("bind"), []string{"127.0.0.1", "::1"}},
		{c.Strings("save"), []string{"900 1", "60 10000"}},
		{c.SavePoints(), []SavePoint{{900, 1}, {60, 10000}}},
		{c.Strings("replicaof"), []string{"10.0.0.1", "6380"}},
		{c.String("slaveof"), "10.0.0.1 6380"},
		{c.OutputBufferLimit(ClassPubSub), OutputBufferLimit{Hard: 1 << 20, Soft: 512 << 10, SoftSeconds: 30}},
		{c.OutputBufferLimit(ClassReplica), OutputBufferLimit{Hard: 256 << 20, Soft: 64 << 20, SoftSeconds: 60}},
		{c.RenamedCommands(), [][2]string{{"FLUSHALL", ""}, {"CONFIG", "cfg"}}},
		{c.Users(), [][]string{{"alice", "on", ">pw", "~*", "+@all"}}},
		{c.Strings("user"), []string{"alice on >pw ~* +@all"}},
		{c.LatencyPercentiles(), []float64{50, 99, 99.9}},
		{c.Int("no-such-directive"), int64(0)},
		{c.String("no-such-directive"), ""},
		{c.File(), vroot + "/redis.conf"},
	}
	for i, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("check %d: got %#v, want %#v", i, ch.got, ch.want)
		}
	}
	host, port, ok := c.ReplicaOf()
	if host != "10.0.0.1" || port != 6380 || !ok {
		t.Errorf("ReplicaOf = %q %d %v", host, port, ok)
	}
}

func TestSetAppliesHooksAllOrNothing(t *testing.T) {
	c := Default()
	var applied []string
	c.OnSet("maxmemory", func(v string) error { applied = append(applied, "maxmemory="+v); return nil })
	c.OnSet("slave-priority", func(v string) error { applied = append(applied, "priority="+v); return nil })
	failPolicy := false
	c.OnSet("maxmemory-policy", func(v string) error {
		applied = append(applied, "policy="+v)
		if failPolicy && v != "noeviction" {
			return errors.New("policy refused")
		}
		return nil
	})

	// A successful set runs the hooks of changed values, in order, once each.
	if err := c.Set([][2]string{{"maxmemory", "1mb"}, {"replica-priority", "7"}, {"timeout", "0"}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"maxmemory=1048576", "priority=7"}
	if !reflect.DeepEqual(applied, want) {
		t.Fatalf("applied %q, want %q", applied, want)
	}
	// Setting the same value again runs nothing.
	applied = nil
	if err := c.Set([][2]string{{"maxmemory", "1048576"}}); err != nil || applied != nil {
		t.Fatalf("unchanged set: err %v, applied %q", err, applied)
	}

	// A failing hook restores every value and re-applies the old ones.
	failPolicy = true
	applied = nil
	err := c.Set([][2]string{{"maxmemory", "2mb"}, {"maxmemory-policy", "allkeys-lru"}})
	wantErr := "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - policy refused"
	if err == nil || err.Error() != wantErr {
		t.Fatalf("err %v, want %q", err, wantErr)
	}
	if c.Int("maxmemory") != 1<<20 || c.String("maxmemory-policy") != "noeviction" {
		t.Fatalf("not restored: maxmemory %d policy %s", c.Int("maxmemory"), c.String("maxmemory-policy"))
	}
	want = []string{"maxmemory=2097152", "policy=allkeys-lru", "maxmemory=1048576", "policy=noeviction"}
	if !reflect.DeepEqual(applied, want) {
		t.Fatalf("applied %q, want %q", applied, want)
	}

	// A value that does not parse changes nothing, even the values before it.
	applied = nil
	err = c.Set([][2]string{{"timeout", "5"}, {"maxmemory", "lots"}})
	if err == nil || !strings.Contains(err.Error(), "argument must be a memory value") {
		t.Fatalf("err %v", err)
	}
	if c.Int("timeout") != 0 || applied != nil {
		t.Fatalf("timeout %d applied %q", c.Int("timeout"), applied)
	}
}

func TestSetProtectedConfigs(t *testing.T) {
	for _, tc := range []struct {
		mode  string
		local bool
		ok    bool
	}{
		{"no", true, false}, {"local", false, false}, {"local", true, true}, {"yes", false, true},
	} {
		c := mustLoad(t, "enable-protected-configs "+tc.mode+"\n")
		err := c.SetAs([][2]string{{"dbfilename", "other.rdb"}}, tc.local)
		if (err == nil) != tc.ok {
			t.Errorf("mode %s local %v: err %v", tc.mode, tc.local, err)
		}
		if err != nil && err.Error() != "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config" {
			t.Errorf("error text %q", err)
		}
	}
}

func TestInert(t *testing.T) {
	c := mustLoad(t, "io-threads 4\nactivedefrag no\nmaxmemory 1mb\nloadmodule /x.so\ntls-port 16999\n")
	// activedefrag is set to its default, so there is nothing to warn about.
	want := []string{"io-threads", "loadmodule", "tls-port"}
	if got := c.Inert(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Inert() = %q, want %q", got, want)
	}
}

func TestLoadFromStdinAndIncludeDepth(t *testing.T) {
	dir := t.TempDir()
	env := &stdinEnv{fakeEnv: *newFakeEnv(dir), stdin: "maxmemory 5mb\n"}
	c, err := load(env, "-", []string{"--timeout", "3"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Int("maxmemory") != 5<<20 || c.Int("timeout") != 3 || c.File() != "" {
		t.Fatalf("maxmemory %d timeout %d file %q", c.Int("maxmemory"), c.Int("timeout"), c.File())
	}
	// A file including itself stops with an error instead of recursing forever.
	os.WriteFile(filepath.Join(dir, "loop.conf"), []byte("include loop.conf\n"), 0o644)
	_, err = load(newFakeEnv(dir), "loop.conf", nil, false)
	if err == nil || !strings.Contains(err.Error(), "include nesting too deep") {
		t.Fatalf("err %v", err)
	}
}

type stdinEnv struct {
	fakeEnv
	stdin string
}

func (e *stdinEnv) ReadStdin() ([]byte, error) { return []byte(e.stdin), nil }

func TestFileErrorFields(t *testing.T) {
	_, err := loadText(t, "port 7000\n\nbogus 1\n")
	var fe *FileError
	if !errors.As(err, &fe) || fe.File != vroot+"/redis.conf" || fe.Line != 3 || fe.Text != "bogus 1" {
		t.Fatalf("%#v", err)
	}
	// Lines from the overrides follow the file's lines and name no file.
	_, err = loadText(t, "port 7000\n", "--hz", "x")
	if !errors.As(err, &fe) || fe.File != "" || fe.Line != 3 || fe.Text != `hz "x"` {
		t.Fatalf("%#v", err)
	}
}

// TestLoadChangesDirectory checks the real environment: `dir` changes the process's
// directory while loading, so the include after it is found relative to it.
func TestLoadChangesDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // restored when the test ends
	os.Mkdir(filepath.Join(dir, "data"), 0o755)
	os.WriteFile(filepath.Join(dir, "data", "more.conf"), []byte("timeout 9\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "redis.conf"), []byte("dir data\ninclude more.conf\n"), 0o644)
	c, err := Load("redis.conf", nil)
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	want, _ := filepath.EvalSymlinks(filepath.Join(dir, "data"))
	if got, _ := filepath.EvalSymlinks(wd); got != want {
		t.Fatalf("working directory %s, want %s", got, want)
	}
	if got, _ := filepath.EvalSymlinks(c.String("dir")); got != want || c.Int("timeout") != 9 {
		t.Fatalf("dir %s timeout %d", c.String("dir"), c.Int("timeout"))
	}
	if c.File() != filepath.Join(dir, "redis.conf") {
		t.Fatalf("File() = %s", c.File())
	}
}

func TestRewriteWritesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "redis.conf")
	os.WriteFile(path, []byte("# my settings\nmaxmemory 1mb\nsave 900 1\n"), 0o600)
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set([][2]string{{"maxmemory", "2mb"}, {"timeout", "10"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	wd, _ := os.Getwd()
	want := "# my settings\nmaxmemory 2mb\nsave 900 1\n\n" + rewriteSignature + "\n" +
		"timeout 10\ndir " + quoteRepr(wd) + "\nlatency-tracking-info-percentiles 50 99 99.9\n" +
		"user default on nopass ~* &* +@all\n"
	if string(b) != want {
		t.Fatalf("rewritten:\n%s\nwant:\n%s", b, want)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o644&^os.FileMode(currentUmask()) {
		t.Fatalf("mode %v", st.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left over files: %v", entries)
	}
	// A second rewrite of an unchanged configuration changes nothing but the blank line
	// the file's final newline becomes, as with redis-server.
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	if b2, _ := os.ReadFile(path); string(b2) != want+"\n" {
		t.Fatalf("second rewrite:\n%s", b2)
	}
	// And the result loads back to the same values.
	c2, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c2.Get("*"), c.Get("*")) {
		t.Fatal("rewritten file loads to different values")
	}

	if err := Default().Rewrite(); err == nil || err.Error() != "ERR The server is running without a config file" {
		t.Fatalf("rewrite without file: %v", err)
	}
}

func TestGetAnswersAsRedis(t *testing.T) {
	c := Default()
	got := c.Get("MAXMEMORY", "maxmemory", "maxmemory-p*", "rdb-key-save-delay", "rdb-key-*", "nonexistent")
	want := [][2]string{{"MAXMEMORY", "0"}, {"maxmemory-policy", "noeviction"}, {"rdb-key-save-delay", "0"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Get = %q, want %q", got, want)
	}
	all := c.Get("*")
	if len(all) != len(Names()) {
		t.Fatalf("CONFIG GET * has %d entries, Names %d", len(all), len(Names()))
	}
	if !IsSensitive("requirepass") || !IsSensitive("MASTERAUTH") || IsSensitive("port") {
		t.Fatal("IsSensitive")
	}
}

func TestConcurrentGetAndSet(t *testing.T) {
	c := Default()
	c.OnSet("maxmemory", func(string) error { _ = c.Int("maxmemory"); return nil })
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(2)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if err := c.Set([][2]string{{"maxmemory", fmt.Sprint(i + g)}}); err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				_ = c.Get("max*")
				_ = c.Int("maxmemory")
				_ = c.Strings("save")
			}
		}()
	}
	wg.Wait()
}

// TestDefaultsParse checks the table's own constants: every default parses, renders as
// itself, and every alias points at a directive of the same kind.
func TestDefaultsParse(t *testing.T) {
	for _, d := range directiveTable {
		if d.name == "dir" {
			continue
		}
		v, err := d.parse(d.defaultArgs(), value{}, &loadState{env: newFakeEnv(t.TempDir())})
		if err != nil {
			t.Errorf("%s: default %q: %v", d.name, d.def, err)
			continue
		}
		if d.kind != kindSpecial && d.kind != kindString && d.render(v, nil) != strings.ToLower(d.def) && d.def != `""` {
			t.Errorf("%s: default %q renders as %q", d.name, d.def, d.render(v, nil))
		}
		if d.is(alias) && (d.primary == nil || d.primary.kind != d.kind) {
			t.Errorf("%s: bad alias", d.name)
		}
	}
}
