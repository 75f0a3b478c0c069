package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/clusterctl/clusterctl/node/resp"
)

// RedisVersion is the version named in configuration errors, as redis-server names its own.
const RedisVersion = "7.0.15"

// maxIncludeDepth bounds nested include directives. Redis has no bound (a file including
// itself exhausts its stack); we stop with an error instead.
const maxIncludeDepth = 32

// FileError is a configuration that cannot be loaded. Error() is the text redis-server
// prints on stderr before exiting (without the blank line it prints first):
//
//	*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***
//	Reading the configuration file, at line 2
//	>>> 'foo bar'
//	Bad directive or wrong number of arguments
//
// An error that is not about one line (a log file that cannot be opened, replicaof in
// cluster mode) has Line 0 and no "Reading" lines; a file that cannot be opened at all has
// Open set, and it and a few other start-up failures (Logged) are reported with the text
// of the log line redis-server writes for them instead.
type FileError struct {
	// File is the file the line belongs to: the configuration file, an included file, or
	// "" for lines that came from command-line overrides (redis-server numbers those as
	// lines following the file's last line, and so does Line).
	File string
	Line int
	// Text is the offending line, trimmed as Redis shows it.
	Text string
	// Msg is Redis's reason ("Bad directive or wrong number of arguments").
	Msg string
	// Open is set when File could not be read at all.
	Open bool
	// Logged is set for the errors redis-server reports as a plain log line rather than
	// in the FATAL CONFIG FILE ERROR block; Error() is then Msg alone.
	Logged bool
}

func (e *FileError) Error() string {
	if e.Open {
		return fmt.Sprintf("Fatal error, can't open config file '%s': %s", e.File, e.Msg)
	}
	if e.Logged {
		return e.Msg
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*** FATAL CONFIG FILE ERROR (Redis %s) ***\n", RedisVersion)
	if e.Line > 0 {
		fmt.Fprintf(&b, "Reading the configuration file, at line %d\n", e.Line)
		fmt.Fprintf(&b, ">>> '%s'\n", e.Text)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// environment is what loading touches outside the configuration text: the working
// directory (`dir` changes it), included files, stdin and the log file. Tests and the fuzz
// target replace it so that no file outside theirs is read and the test process does not
// change directory.
type environment interface {
	Getwd() (string, error)
	Chdir(dir string) error
	ReadFile(path string) ([]byte, error)
	Glob(pattern string) ([]string, error)
	ReadStdin() ([]byte, error)
	// CheckLogFile opens path for appending and closes it, as Redis does to fail early.
	CheckLogFile(path string) error
}

type osEnv struct{}

func (osEnv) Getwd() (string, error)                { return os.Getwd() }
func (osEnv) Chdir(dir string) error                { return os.Chdir(dir) }
func (osEnv) ReadFile(path string) ([]byte, error)  { return os.ReadFile(path) }
func (osEnv) Glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }
func (osEnv) ReadStdin() ([]byte, error)            { return io.ReadAll(os.Stdin) }
func (osEnv) CheckLogFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// loadState is the state of one Load: Redis keeps some of it in statics (save_loaded).
type loadState struct {
	env     environment
	loading bool
	// saveSeen is set once a save line was read: the first one replaces the defaults.
	saveSeen bool
	depth    int
	// sentinel is true in Sentinel mode, where sentinel directives are collected.
	sentinel bool
}

// Load reads a redis.conf-syntax file (path "" = none; "-" = stdin, as redis-server) and then
// the command-line overrides exactly as redis-server takes them after the file name
// (e.g. []string{"--port", "7000", "--save", "", "--bind", "127.0.0.1", "::1"}).
// `dir` changes the process's working directory while parsing, as redis-server does.
// A bad file returns *FileError whose Error() is redis-server's text.
func Load(path string, args []string) (*Config, error) {
	return load(osEnv{}, path, args, false)
}

// LoadSentinel is Load for Sentinel mode: `sentinel ...` lines are accepted and kept for
// the Sentinel (see SentinelDirectives) instead of being an error.
func LoadSentinel(path string, args []string) (*Config, error) {
	return load(osEnv{}, path, args, true)
}

func load(env environment, path string, args []string, sentinel bool) (*Config, error) {
	c := newConfig(env)
	st := &loadState{env: env, loading: true, sentinel: sentinel}
	options, fromStdin := overridesToOptions(args)
	if path == "-" {
		path, fromStdin = "", true
	}
	var text string
	if path != "" {
		// redis-server keeps the file's absolute path (getAbsolutePath) for CONFIG REWRITE,
		// computed before a `dir` line changes the working directory.
		abs := path
		if !filepath.IsAbs(path) {
			wd, err := env.Getwd()
			if err != nil {
				return nil, &FileError{File: path, Msg: strerror(err), Open: true}
			}
			abs = filepath.Join(wd, path)
		}
		c.file = abs
		data, err := env.ReadFile(abs)
		if err != nil {
			return nil, &FileError{File: abs, Msg: strerror(err), Open: true}
		}
		text = string(data)
	}
	if fromStdin {
		data, err := env.ReadStdin()
		if err != nil {
			return nil, &FileError{File: "-", Msg: strerror(err), Open: true}
		}
		text += string(data)
	}
	// loadServerConfig appends the options after a newline, so they are numbered as the
	// lines after the file's last one.
	fileLines := strings.Count(text, "\n") + 1
	text += "\n" + options
	if err := c.loadString(text, c.file, fileLines, st); err != nil {
		return nil, err
	}
	if err := c.checkLoaded(); err != nil {
		return nil, err
	}
	return c, nil
}

// overridesToOptions turns the arguments after the file name into configuration lines the
// way redis-server's main() does: "--name" starts a line, other arguments are appended to
// it quoted; "--save" or "--sentinel" with nothing after them, or followed by another
// "--option", get an empty value; a "-" first or last means "also read stdin".
func overridesToOptions(args []string) (string, bool) {
	var b strings.Builder
	fromStdin := false
	handledLast := true
	for j, a := range args {
		last := j == len(args)-1
		switch {
		case a == "-" && (j == 0 || last):
			fromStdin = true
		case handledLast && strings.HasPrefix(a, "--"):
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(a[2:])
			b.WriteByte(' ')
			parts, _ := splitArgs(a)
			if len(parts) == 1 {
				handledLast = false
				nextIsOption := !last && strings.HasPrefix(args[j+1], "--")
				switch {
				case nextIsOption && strings.EqualFold(a, "--save"):
					b.WriteString(`""`)
					handledLast = true
				case last && strings.EqualFold(a, "--save"):
					b.WriteString(`""`)
				case nextIsOption && strings.EqualFold(a, "--sentinel"):
					handledLast = true
				}
			} else {
				handledLast = true
			}
		default:
			b.WriteString(quoteRepr(a))
			b.WriteByte(' ')
			handledLast = true
		}
	}
	return b.String(), fromStdin
}

func splitArgs(line string) ([]string, error) {
	raw, err := resp.SplitArgs([]byte(line))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(raw))
	for i, r := range raw {
		out[i] = string(r)
	}
	return out, nil
}

// deprecated lists directives Redis 7.0 still accepts and ignores, with their argc range.
var deprecated = []struct {
	name             string
	minArgc, maxArgc int
}{
	{"list-max-ziplist-entries", 2, 2},
	{"list-max-ziplist-value", 2, 2},
	{"lua-replicate-commands", 2, 2},
}

// loadString mirrors loadServerConfigFromString for one file's text. overridesFrom is the
// first line number that belongs to the command-line overrides (0: none).
func (c *Config) loadString(text, file string, overridesFrom int, st *loadState) error {
	lines := strings.Split(text, "\n")
	for i, raw := range lines {
		linenum := i + 1
		line := strings.Trim(raw, " \t\r\n")
		if line == "" || line[0] == '#' {
			continue
		}
		fail := func(msg string) error {
			f := file
			if overridesFrom > 0 && linenum > overridesFrom {
				f = ""
			}
			return &FileError{File: f, Line: linenum, Text: line, Msg: msg}
		}
		argv, err := splitArgs(line)
		if err != nil {
			return fail("Unbalanced quotes in configuration line")
		}
		if len(argv) == 0 {
			continue
		}
		argv[0] = strings.ToLower(argv[0])
		if d := lookup(argv[0]); d != nil {
			if !d.is(multiArg) && len(argv) != 2 {
				return fail("wrong number of arguments")
			}
			args := argv[1:]
			// A multi-argument directive given as one non-empty argument is split again,
			// as Redis 7.0 does, so `--replicaof "host port"` and `bind "a b"` work;
			// `--save ""` stays one empty argument.
			if d.is(multiArg) && len(args) == 1 && args[0] != "" {
				if args, err = splitArgs(args[0]); err != nil {
					return fail("Unbalanced quotes in configuration line")
				}
			}
			if err := c.setLoading(d, args, st); err != nil {
				return fail(err.Error())
			}
			continue
		}
		if isDeprecated(argv[0], len(argv)) {
			continue
		}
		if err := c.loadOther(argv, line, linenum, st); err != nil {
			var fe *FileError
			if errors.As(err, &fe) {
				return err
			}
			return fail(err.Error())
		}
	}
	return nil
}

func isDeprecated(name string, argc int) bool {
	for _, d := range deprecated {
		if name == d.name && argc >= d.minArgc && argc <= d.maxArgc {
			return true
		}
	}
	return false
}

// loadOther handles the directives that are not settings: include, rename-command, user,
// loadmodule, module settings (names with a dot) and sentinel.
func (c *Config) loadOther(argv []string, line string, linenum int, st *loadState) error {
	switch {
	case argv[0] == "include" && len(argv) == 2:
		return c.include(argv[1], st)
	case argv[0] == "rename-command" && len(argv) == 3:
		c.renames = append(c.renames, [2]string{argv[1], argv[2]})
		c.mentioned["rename-command"] = true
		return nil
	case argv[0] == "user" && len(argv) >= 2:
		c.users = append(c.users, append([]string(nil), argv[1:]...))
		return nil
	case argv[0] == "loadmodule" && len(argv) >= 2:
		c.modules = append(c.modules, append([]string(nil), argv[1:]...))
		return nil
	case strings.Contains(argv[0], "."):
		if len(argv) != 2 {
			return errText("Module config specified without value")
		}
		c.moduleConfigs = append(c.moduleConfigs, [2]string{argv[0], argv[1]})
		return nil
	case argv[0] == "sentinel":
		// A bare "sentinel" line selects Sentinel mode in redis-server's main().
		if len(argv) != 1 {
			if !st.sentinel {
				return errText("sentinel directive while not in sentinel mode")
			}
			c.sentinelLines = append(c.sentinelLines, SentinelLine{Line: linenum, Text: line, Args: argv[1:]})
		}
		return nil
	}
	return errText("Bad directive or wrong number of arguments")
}

// include mirrors loadServerConfig for an include line: the path is opened relative to
// the current working directory (which an earlier `dir` may have changed); a pattern with
// *, ? or [ includes every matching file in order and nothing when none matches.
func (c *Config) include(path string, st *loadState) error {
	if st.depth >= maxIncludeDepth {
		return errText("include nesting too deep")
	}
	files := []string{path}
	if strings.ContainsAny(path, "*?[") {
		matches, err := st.env.Glob(path)
		if err != nil {
			return &FileError{File: path, Msg: strerror(err), Open: true}
		}
		files = matches
	}
	var text strings.Builder
	for _, f := range files {
		data, err := st.env.ReadFile(f)
		if err != nil {
			return &FileError{File: f, Msg: strerror(err), Open: true}
		}
		text.Write(data)
	}
	st.depth++
	defer func() { st.depth-- }()
	name := path
	if len(files) == 1 {
		name = files[0]
	}
	return c.loadString(text.String(), name, 0, st)
}

// checkLoaded runs the checks Redis makes once the whole configuration is read.
func (c *Config) checkLoaded() error {
	if logfile := c.values["logfile"].s; logfile != "" {
		if err := c.env.CheckLogFile(logfile); err != nil {
			return &FileError{File: c.file, Msg: "Can't open the log file: " + strerror(err)}
		}
	}
	if c.values["cluster-enabled"].n != 0 {
		if r, _ := c.values["replicaof"].x.(replicaOf); r.host != "" {
			return &FileError{File: c.file, Msg: "replicaof directive not allowed in cluster mode"}
		}
	}
	if len(c.moduleConfigs) > 0 && len(c.modules) == 0 {
		// Redis reads module settings into a queue that its modules consume at start-up;
		// with no module to take them it refuses to start.
		return &FileError{File: c.file, Logged: true,
			Msg: "Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting"}
	}
	return nil
}
