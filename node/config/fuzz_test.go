package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sandboxEnv is fakeEnv confined to its root: paths outside it do not exist, so fuzzed
// include and dir lines cannot reach the machine's files (/dev/zero would never end).
type sandboxEnv struct{ fakeEnv }

func (e *sandboxEnv) inside(p string) bool {
	p = e.abs(p)
	return p == vroot || strings.HasPrefix(p, vroot+"/")
}

func (e *sandboxEnv) Chdir(dir string) error {
	if !e.inside(dir) {
		return &fs.PathError{Op: "chdir", Path: dir, Err: fs.ErrNotExist}
	}
	return e.fakeEnv.Chdir(dir)
}

func (e *sandboxEnv) ReadFile(p string) ([]byte, error) {
	if !e.inside(p) {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	st, err := os.Stat(e.real(p))
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrInvalid}
	}
	return e.fakeEnv.ReadFile(p)
}

func (e *sandboxEnv) Glob(pattern string) ([]string, error) {
	matches, err := e.fakeEnv.Glob(pattern)
	var in []string
	for _, m := range matches {
		if e.inside(m) {
			in = append(in, m)
		}
	}
	return in, err
}

func (e *sandboxEnv) CheckLogFile(string) error { return nil }

// FuzzLoad: arbitrary file content and overrides never panic; the result is either a
// configuration or a *FileError, and a loaded configuration renders and rewrites.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.conf")
	for _, s := range seeds {
		b, _ := os.ReadFile(s)
		f.Add(string(b), "--port\n7000")
	}
	f.Add("save \"\"\nsave 1 2 3\n", "--save")
	f.Add("include redis.conf\n", "")
	f.Add("dir .\ninclude *\n", "-")
	f.Add("bind '\\x41' \"\\x4\"\n", "--bind\n\"")
	f.Fuzz(func(t *testing.T, content, args string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "redis.conf"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		var argv []string
		if args != "" {
			argv = strings.Split(args, "\n")
		}
		env := &sandboxEnv{fakeEnv: *newFakeEnv(dir)}
		c, err := load(env, "redis.conf", argv, false)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FileError: %v", err, err)
			}
			_ = fe.Error()
			return
		}
		all := c.Get("*")
		if len(all) != len(Names()) {
			t.Fatalf("CONFIG GET * has %d entries", len(all))
		}
		_ = c.rewriteContent(content)
		_ = c.Inert()
	})
}

// FuzzSet: arbitrary CONFIG SET pairs never panic, and a failed SET leaves every value as
// it was.
func FuzzSet(f *testing.F) {
	f.Add("maxmemory", "1gb", "save", "1 2")
	f.Add("client-output-buffer-limit", "normal 1 1 1  ", "bind", "")
	f.Add("shutdown-on-sigint", "save now", "hz", "-5")
	f.Add("latency-tracking-info-percentiles", "1e400", "notify-keyspace-events", "A$")
	f.Add("replica-priority", "1", "slave-priority", "2")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		c := newConfig(&sandboxEnv{fakeEnv: *newFakeEnv(t.TempDir())})
		before := c.Get("*")
		if err := c.Set([][2]string{{n1, v1}, {n2, v2}}); err != nil {
			after := c.Get("*")
			for i := range before {
				if before[i] != after[i] {
					t.Fatalf("failed SET changed %s: %q -> %q", before[i][0], before[i][1], after[i][1])
				}
			}
			return
		}
		// What CONFIG GET shows must be accepted back by CONFIG SET.
		for _, kv := range c.Get(n1, n2) {
			d := lookup(kv[0])
			if d.is(immutable) || d.is(protected) {
				continue
			}
			if err := c.Set([][2]string{{kv[0], kv[1]}}); err != nil {
				t.Fatalf("setting %s back to its rendering %q: %v", kv[0], kv[1], err)
			}
		}
	})
}
