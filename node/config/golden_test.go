package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The golden files under testdata/ come from the real redis-server 7.0 (testdata/capture.sh
// regenerates them): these tests load the same fixtures with the same overrides and must
// produce the same CONFIG GET answers, replies, rewritten files and errors.

// vroot is where the fake environment places the fixture directory; capture.sh writes the
// real temporary directory as <dir>, and so do the tests for vroot.
const vroot = "/vroot"

// fixedArgs mirrors fixed_args in capture.sh; the port is normalised to <port> in both.
var fixedArgs = []string{"--port", "16390", "--bind", "127.0.0.1", "--daemonize", "no", "--logfile", ""}

// fakeEnv serves a real directory as vroot, keeps the working directory to itself (so
// tests never change the test process's directory) and reads nothing outside root and the
// paths fixtures name on purpose.
type fakeEnv struct {
	root string // the real directory shown as vroot
	cwd  string // a virtual absolute path
}

func newFakeEnv(root string) *fakeEnv { return &fakeEnv{root: root, cwd: vroot} }

func (e *fakeEnv) abs(p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(e.cwd, p)
	}
	return filepath.Clean(p)
}

// real maps a virtual path to the disk.
func (e *fakeEnv) real(p string) string {
	p = e.abs(p)
	if p == vroot || strings.HasPrefix(p, vroot+"/") {
		return e.root + strings.TrimPrefix(p, vroot)
	}
	return p
}

func (e *fakeEnv) Getwd() (string, error) { return e.cwd, nil }

func (e *fakeEnv) Chdir(dir string) error {
	st, err := os.Stat(e.real(dir))
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return &fs.PathError{Op: "chdir", Path: dir, Err: errNotDir}
	}
	e.cwd = e.abs(dir)
	return nil
}

var errNotDir = errors.New("not a directory")

func (e *fakeEnv) ReadFile(path string) ([]byte, error) { return os.ReadFile(e.real(path)) }

func (e *fakeEnv) Glob(pattern string) ([]string, error) {
	matches, err := filepath.Glob(e.real(pattern))
	if err != nil {
		return nil, err
	}
	for i, m := range matches {
		if strings.HasPrefix(m, e.root) {
			matches[i] = vroot + strings.TrimPrefix(m, e.root)
		}
	}
	return matches, nil
}

func (e *fakeEnv) ReadStdin() ([]byte, error) { return nil, nil }

func (e *fakeEnv) CheckLogFile(path string) error {
	_, err := os.Stat(filepath.Dir(e.real(path)))
	return err
}

// normalise makes our output comparable with a golden file.
func normalise(s string) string {
	s = strings.ReplaceAll(s, vroot, "<dir>")
	s = strings.ReplaceAll(s, "port\t16390\n", "port\t<port>\n")
	s = strings.ReplaceAll(s, "port 16390\n", "port <port>\n")
	return s
}

// sortedPairs renders CONFIG GET pairs as capture.sh does: "name<TAB>value", sorted.
func sortedPairs(pairs [][2]string) string {
	lines := make([]string, len(pairs))
	for i, kv := range pairs {
		lines[i] = kv[0] + "\t" + kv[1]
	}
	sort.Strings(lines)
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

func readGolden(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (regenerate with testdata/capture.sh): %v", err)
	}
	return string(b)
}

// diffLines reports the first lines where got and want differ.
func diffLines(t *testing.T, what, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	n := 0
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("%s line %d:\n  got:  %q\n  want: %q", what, i+1, gl, wl)
			if n++; n >= 5 {
				break
			}
		}
	}
}

func TestDefaultsMatchRedis(t *testing.T) {
	c, err := load(newFakeEnv(t.TempDir()), "", fixedArgs, false)
	if err != nil {
		t.Fatal(err)
	}
	diffLines(t, "defaults.golden", normalise(sortedPairs(c.Get("*"))), readGolden(t, "testdata/defaults.golden"))
}

func fixtureNames(t *testing.T, dir, ext string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*"+ext))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no fixtures in %s: %v", dir, err)
	}
	var names []string
	for _, m := range matches {
		names = append(names, strings.TrimSuffix(filepath.Base(m), ext))
	}
	return names
}

func fixtureArgs(t *testing.T, dir, name string) []string {
	args := append([]string(nil), fixedArgs...)
	b, err := os.ReadFile(filepath.Join(dir, name+".args"))
	if errors.Is(err, fs.ErrNotExist) {
		return args
	}
	if err != nil {
		t.Fatal(err)
	}
	return append(args, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
}

// realUsers describes users as Redis 7.0's ACL code did for the fixtures, standing in for
// the server's ACL code (DescribeUsers).
var realUsers = map[string][]string{
	"comments": {
		"alice on #6624974ea2baffac164422e4490376c1c31313cd97724ae8ce62fb3f0a0370f2 ~app:* resetchannels -@all +@read",
		"default on nopass ~* &* +@all",
	},
}

func TestFixturesMatchRedis(t *testing.T) {
	dir, err := filepath.Abs("testdata/load")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range fixtureNames(t, dir, ".conf") {
		t.Run(name, func(t *testing.T) {
			env := newFakeEnv(dir)
			c, err := load(env, name+".conf", fixtureArgs(t, dir, name), false)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if users, ok := realUsers[name]; ok {
				c.DescribeUsers(func() []string { return users })
			}
			diffLines(t, name+".get", normalise(sortedPairs(c.Get("*"))), readGolden(t, filepath.Join(dir, name+".get")))

			cmds, err := os.ReadFile(filepath.Join(dir, name+".cmds"))
			if errors.Is(err, fs.ErrNotExist) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			var rewritten string
			for _, line := range strings.Split(string(cmds), "\n") {
				if line == "" || line[0] == '#' {
					continue
				}
				out.WriteString("> " + line + "\n")
				args, err := splitArgs(line)
				if err != nil || len(args) < 2 || !strings.EqualFold(args[0], "config") {
					t.Fatalf("bad command line %q", line)
				}
				switch strings.ToLower(args[1]) {
				case "get":
					out.WriteString(sortedPairs(c.Get(args[2:]...)))
				case "set":
					var pairs [][2]string
					for i := 2; i+1 < len(args); i += 2 {
						pairs = append(pairs, [2]string{args[i], args[i+1]})
					}
					if err := c.Set(pairs); err != nil {
						out.WriteString(err.Error() + "\n")
					} else {
						out.WriteString("OK\n")
					}
				case "rewrite":
					old, err := os.ReadFile(filepath.Join(dir, name+".conf"))
					if err != nil {
						t.Fatal(err)
					}
					rewritten = c.rewriteContent(string(old))
					out.WriteString("OK\n")
				}
			}
			diffLines(t, name+".out", normalise(out.String()), readGolden(t, filepath.Join(dir, name+".out")))
			if rewritten != "" {
				compareRewrite(t, name, normalise(rewritten), readGolden(t, filepath.Join(dir, name+".rewritten")))
			}
		})
	}
}

// compareRewrite compares two rewritten files: exactly up to the rewrite signature, and as
// sets of lines after it, since redis-server appends new lines in its hash table's order.
func compareRewrite(t *testing.T, name, got, want string) {
	t.Helper()
	split := func(s string) (string, []string) {
		head, tail, _ := strings.Cut(s, rewriteSignature+"\n")
		lines := strings.Split(strings.TrimSuffix(tail, "\n"), "\n")
		sort.Strings(lines)
		return head, lines
	}
	gh, gt := split(got)
	wh, wt := split(want)
	diffLines(t, name+".rewritten (kept part)", gh, wh)
	diffLines(t, name+".rewritten (appended lines, sorted)", strings.Join(gt, "\n"), strings.Join(wt, "\n"))
}

func TestErrorsMatchRedis(t *testing.T) {
	dir, err := filepath.Abs("testdata/errors")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range fixtureNames(t, dir, ".conf") {
		t.Run(name, func(t *testing.T) {
			_, err := load(newFakeEnv(dir), name+".conf", fixtureArgs(t, dir, name), false)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a *FileError", err)
			}
			diffLines(t, name+".err", normalise(err.Error()+"\n"), readGolden(t, filepath.Join(dir, name+".err")))
		})
	}
}
