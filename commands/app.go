// Package commands is clusterctl's command line: one file per command, each parsing flags
// into options, calling trib (the admin engine) or node (the server), and rendering the
// result. Nothing imports this package.
package commands

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

// Exit codes shared by every admin command (SPEC 1.1).
const (
	ExitOK          = 0
	ExitProblem     = 1 // the operation failed, or the cluster has problems
	ExitUsage       = 2
	ExitUnreachable = 3 // a node could not be reached or authenticated
)

// IOStreams are the streams a command reads and writes, injected so tests can drive commands
// with buffers instead of a terminal.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// registry holds the commands; each command file adds itself in an init function so that
// adding a command touches one file.
var registry []func(*IOStreams) *cli.Command

func register(f func(*IOStreams) *cli.Command) { registry = append(registry, f) }

// exitError carries an exit code out of a command's action.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// exitWith returns an error that makes Main exit with code, printing err when it is not nil.
func exitWith(code int, err error) error { return &exitError{code: code, err: err} }

// NewApp builds the urfave/cli application over the given streams.
func NewApp(streams *IOStreams) *cli.App {
	app := &cli.App{
		Name:  "clusterctl",
		Usage: "create, check, fix and scale Redis Cluster; run a Redis Cluster node",
		Description: "clusterctl is the successor of redis-trib.rb and redis-cli --cluster. " +
			"Its admin commands work on clusters of redis-server 7.0 nodes and of its own nodes alike.",
		Reader:          streams.In,
		Writer:          streams.Out,
		ErrWriter:       streams.ErrOut,
		HideHelpCommand: false,
		Flags:           globalFlags(),
		ExitErrHandler:  func(*cli.Context, error) {}, // Main decides the exit code
		OnUsageError: func(c *cli.Context, err error, isSub bool) error {
			return exitWith(ExitUsage, err)
		},
	}
	for _, f := range registry {
		app.Commands = append(app.Commands, f(streams))
	}
	return app
}

// Main runs the application and returns the process exit code.
func Main(args []string, in io.Reader, out, errOut io.Writer) int {
	streams := &IOStreams{In: in, Out: out, ErrOut: errOut}
	app := NewApp(streams)
	err := app.Run(moveFlagsFirst(app, args))
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(errOut, "clusterctl:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(errOut, "clusterctl:", err)
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	// urfave/cli reports flag and argument mistakes as plain errors.
	return ExitUsage
}
