package commands

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
	"github.com/charmbracelet/lipgloss"
	"github.com/clusterctl/clusterctl/trib"
	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"
)

// Global options of the admin commands (SPEC 1.1). They are accepted before the command
// (`clusterctl -a pw check ...`) and after it (`clusterctl check -a pw ...`); the command's
// own position wins.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "password", Aliases: []string{"a"}, Usage: "password for AUTH (default: $CLUSTERCTL_AUTH, then $REDISCLI_AUTH)"},
		&cli.StringFlag{Name: "user", Usage: "ACL user for AUTH"},
		&cli.BoolFlag{Name: "tls", Usage: "connect to the nodes with TLS"},
		&cli.StringFlag{Name: "cacert", Usage: "CA certificate file to verify the nodes with"},
		&cli.StringFlag{Name: "cert", Usage: "client certificate file"},
		&cli.StringFlag{Name: "key", Usage: "client private key file"},
		&cli.BoolFlag{Name: "insecure", Usage: "do not verify the nodes' certificates"},
		&cli.DurationFlag{Name: "timeout", Value: trib.DefaultTimeout, Usage: "I/O timeout per node"},
		&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "assume yes to every prompt"},
		&cli.BoolFlag{Name: "json", Usage: "machine-readable output on stdout (logs go to stderr)"},
		&cli.BoolFlag{Name: "no-color", Usage: "no colours (also $NO_COLOR, and whenever stdout is not a terminal)"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "more detail"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only errors and results"},
	}
}

// withGlobalFlags appends the global options to a command's own flags.
func withGlobalFlags(own ...cli.Flag) []cli.Flag { return append(own, globalFlags()...) }

// setIn returns the nearest context (the command's first, then its parents) where the flag
// was given, or c itself.
func setIn(c *cli.Context, name string) *cli.Context {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet(name) {
			return ctx
		}
	}
	return c
}

// globals are the resolved global options.
type globals struct {
	trib.Options
	JSON, NoColor, Verbose, Quiet, Yes bool
}

// errNeedYes is returned when a change needs confirmation and there is nobody to ask.
var errNeedYes = errors.New("this command changes the cluster and asks for confirmation, but stdin is not a terminal: rerun with --yes to confirm non-interactively")

// readGlobals resolves the global options: flags (command level first), then the
// environment. A password given on the command line prints redis-cli's warning.
func readGlobals(c *cli.Context, streams *IOStreams) (globals, error) {
	str := func(n string) string { return setIn(c, n).String(n) }
	flag := func(n string) bool { return setIn(c, n).Bool(n) }
	g := globals{
		JSON: flag("json"), NoColor: flag("no-color"), Verbose: flag("verbose"), Quiet: flag("quiet"), Yes: flag("yes"),
	}
	g.User = str("user")
	g.Password = str("password")
	if g.Password != "" {
		if !g.Quiet {
			fmt.Fprintln(streams.ErrOut, "Warning: Using a password with '-a' or '--password' option on the command line interface may not be safe.")
		}
	} else if pw := os.Getenv("CLUSTERCTL_AUTH"); pw != "" {
		g.Password = pw
	} else {
		g.Password = os.Getenv("REDISCLI_AUTH")
	}
	g.Timeout = setIn(c, "timeout").Duration("timeout")
	if g.Timeout <= 0 {
		return g, fmt.Errorf("--timeout must be positive, got %v", g.Timeout)
	}
	if flag("tls") || str("cacert") != "" || str("cert") != "" {
		cfg, err := tlsConfig(str("cacert"), str("cert"), str("key"), flag("insecure"))
		if err != nil {
			return g, err
		}
		g.TLS = cfg
	}
	return g, nil
}

func tlsConfig(cacert, cert, key string, insecure bool) (*tls.Config, error) {
	cfg := &tls.Config{InsecureSkipVerify: insecure, MinVersion: tls.VersionTLS12}
	if cacert != "" {
		pem, err := os.ReadFile(cacert)
		if err != nil {
			return nil, fmt.Errorf("read --cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cacert %s holds no PEM certificate", cacert)
		}
		cfg.RootCAs = pool
	}
	if cert != "" || key != "" {
		if cert == "" || key == "" {
			return nil, errors.New("--cert and --key go together")
		}
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("load --cert/--key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// isTerminal reports whether the stream is a terminal.
func isTerminal(s any) bool {
	f, ok := s.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// printer writes redis-cli-shaped human output, styled with lipgloss when stdout is a
// terminal and neither NO_COLOR nor --no-color is set; plain text otherwise.
type printer struct {
	w        io.Writer
	color    bool
	terminal bool
	quiet    bool
	verbose  bool
}

func newPrinter(w io.Writer, g globals) *printer {
	term := isTerminal(w)
	_, noColorEnv := os.LookupEnv("NO_COLOR")
	return &printer{w: w, terminal: term, color: term && !noColorEnv && !g.NoColor, quiet: g.Quiet, verbose: g.Verbose}
}

// Styles mirror redis-cli's colours: bold steps, green [OK], yellow warnings, red errors.
var (
	styleStep = lipgloss.NewStyle().Bold(true)
	styleOK   = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("2"))
	styleWarn = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("3"))
	styleErr  = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("1"))
)

func (p *printer) styled(s lipgloss.Style, text string) {
	if p.color {
		text = s.Render(text)
	}
	fmt.Fprintln(p.w, text)
}

func (p *printer) line(format string, a ...any) { fmt.Fprintf(p.w, format+"\n", a...) }
func (p *printer) step(format string, a ...any) {
	if !p.quiet {
		p.styled(styleStep, fmt.Sprintf(format, a...))
	}
}
func (p *printer) ok(format string, a ...any)   { p.styled(styleOK, fmt.Sprintf(format, a...)) }
func (p *printer) warn(format string, a ...any) { p.styled(styleWarn, fmt.Sprintf(format, a...)) }
func (p *printer) err(format string, a ...any)  { p.styled(styleErr, fmt.Sprintf(format, a...)) }

// event renders a progress event from trib.
func (p *printer) event(e trib.Event) {
	switch e.Level {
	case trib.LevelStep:
		p.step("%s", e.Text)
	case trib.LevelOK:
		p.ok("%s", e.Text)
	case trib.LevelWarn:
		p.warn("%s", e.Text)
	case trib.LevelErr:
		p.err("%s", e.Text)
	default:
		if !p.quiet {
			p.line("%s", e.Text)
		}
	}
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// finisher returns the function that ends a command: with --json it records err in
// *errField and writes out whatever happened; then it turns code and err into the exit.
func finisher(streams *IOStreams, asJSON bool, out any, errField *string) func(code int, err error) error {
	return func(code int, err error) error {
		if asJSON {
			if err != nil {
				*errField = err.Error()
			}
			if werr := writeJSON(streams.Out, out); werr != nil {
				return werr
			}
		}
		if code == ExitOK {
			return nil
		}
		return exitWith(code, err)
	}
}

// confirmer asks yes/no questions with survey. With --yes every answer is yes; with stdin
// not a terminal it fails with errNeedYes instead of hanging (SPEC 1.1).
type confirmer struct {
	streams *IOStreams
	yes     bool
	err     error // the first failure; later questions are answered no
}

func (c *confirmer) ask(question string) bool {
	if c.yes {
		return true
	}
	if c.err != nil {
		return false
	}
	in, ok := c.streams.In.(*os.File)
	if !ok || !isTerminal(in) {
		c.err = errNeedYes
		return false
	}
	out, ok := c.streams.Out.(*os.File)
	if !ok {
		out = os.Stdout
	}
	answer := false
	err := survey.AskOne(&survey.Confirm{Message: question}, &answer,
		survey.WithStdio(in, out, c.streams.ErrOut))
	if err != nil {
		if errors.Is(err, terminal.InterruptErr) {
			c.err = errors.New("interrupted")
		} else {
			c.err = fmt.Errorf("prompt: %w", err)
		}
		return false
	}
	return answer
}

// canAsk reports whether a question could be put to a person (or --yes answers it).
func (c *confirmer) canAsk() bool {
	if c.yes {
		return true
	}
	in, ok := c.streams.In.(*os.File)
	return ok && isTerminal(in)
}

// exitForLoad maps an error from loading a cluster to an exit code.
func exitForLoad(err error) error {
	if trib.IsUnreachable(err) || trib.IsAuth(err) {
		return exitWith(ExitUnreachable, err)
	}
	return exitWith(ExitProblem, err)
}

// oneAddr checks that a command got exactly one host:port argument.
func oneAddr(c *cli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", exitWith(ExitUsage, fmt.Errorf("%s needs exactly one host:port argument, got %d", c.Command.Name, c.NArg()))
	}
	addr := c.Args().First()
	if !strings.Contains(addr, ":") {
		return "", exitWith(ExitUsage, fmt.Errorf("%q is not host:port", addr))
	}
	return addr, nil
}

// durationOr returns d, or def when d is zero.
func durationOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// interspersed lists the commands whose flags may follow their addresses, as redis-cli
// allows (`check host:port --search-multiple-owners`). Commands that pass arguments through
// to Redis (call) are not in it: "-1" there is data.
var interspersed = map[string]bool{"create": true, "check": true, "info": true, "fix": true,
	"add-node": true, "del-node": true, "failover": true, "set-timeout": true, "import": true, "backup": true}

// moveFlagsFirst rewrites args so that the flags of an interspersed command come before its
// positional arguments, which is where urfave/cli stops parsing flags. Arguments after "--"
// stay as they are.
func moveFlagsFirst(app *cli.App, args []string) []string {
	// Find the command name: the first argument after the program that is not a global flag.
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		if takesValue(app.Flags, args[i]) {
			i++
		}
		i++
	}
	if i >= len(args) || !interspersed[args[i]] {
		return args
	}
	var cmd *cli.Command
	for _, c := range app.Commands {
		if c.Name == args[i] {
			cmd = c
		}
	}
	if cmd == nil {
		return args
	}
	out := append([]string{}, args[:i+1]...)
	var flags, positional []string
	rest := args[i+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			positional = append(positional, rest[j:]...)
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			flags = append(flags, a)
			if takesValue(cmd.Flags, a) && j+1 < len(rest) {
				flags = append(flags, rest[j+1])
				j++
			}
			continue
		}
		positional = append(positional, a)
	}
	return append(append(out, flags...), positional...)
}

// takesValue reports whether arg ("--name", "-n", not "--name=v") names a flag that needs a
// value in the next argument.
func takesValue(flags []cli.Flag, arg string) bool {
	if strings.Contains(arg, "=") {
		return false
	}
	name := strings.TrimLeft(arg, "-")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*cli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}
