package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/clusterctl/clusterctl/trib"
	"github.com/urfave/cli/v2"
)

func init() { register(newCallCommand) }

type callOptions struct {
	globals
	seed    string
	args    []string
	targets trib.CallTargets
}

func newCallCommand(streams *IOStreams) *cli.Command {
	return &cli.Command{
		Name:      "call",
		Usage:     "run a command on every node in parallel",
		ArgsUsage: "host:port COMMAND [args...]",
		Description: "Loads the cluster from the node given and runs the command on every node (or only the " +
			"masters or only the replicas) at once, printing each reply prefixed by its node, as redis-cli " +
			"--cluster call does. Flags go before host:port: everything after it is the command. Exit 1 when " +
			"a node replies with an error, 3 when a node cannot be reached.",
		Flags: withGlobalFlags(
			&cli.BoolFlag{Name: "only-masters", Aliases: []string{"cluster-only-masters"}, Usage: "run on the masters only"},
			&cli.BoolFlag{Name: "only-replicas", Aliases: []string{"cluster-only-replicas"}, Usage: "run on the replicas only"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() < 2 {
				return exitWith(ExitUsage, errors.New("call needs host:port and a command"))
			}
			seed := c.Args().First()
			if !strings.Contains(seed, ":") {
				return exitWith(ExitUsage, fmt.Errorf("%q is not host:port", seed))
			}
			g, err := readGlobals(c, streams)
			if err != nil {
				return exitWith(ExitUsage, err)
			}
			targets := trib.CallAllNodes
			switch {
			case c.Bool("only-masters") && c.Bool("only-replicas"):
				return exitWith(ExitUsage, errors.New("--only-masters and --only-replicas exclude each other"))
			case c.Bool("only-masters"):
				targets = trib.CallOnlyMasters
			case c.Bool("only-replicas"):
				targets = trib.CallOnlyReplicas
			}
			return runCall(c.Context, streams, callOptions{globals: g, seed: seed, args: c.Args().Tail(), targets: targets})
		},
	}
}

// callOutput is call's --json output.
type callOutput struct {
	Command []string         `json:"command"`
	Replies []trib.CallReply `json:"replies"`
}

func runCall(ctx context.Context, streams *IOStreams, opts callOptions) error {
	cluster, err := trib.Load(ctx, opts.seed, opts.Options)
	if err != nil {
		return exitForLoad(err)
	}
	defer cluster.Close()
	replies := trib.Call(ctx, cluster, opts.args, opts.targets)
	if opts.JSON {
		if err := writeJSON(streams.Out, callOutput{Command: opts.args, Replies: replies}); err != nil {
			return err
		}
	} else {
		renderCall(newPrinter(streams.Out, opts.globals), opts.args, replies)
	}
	return callExit(replies)
}

// renderCall prints redis-cli's shape: ">>> Calling CMD ARGS", then "host:port: reply" per
// node ("host:port: Failed!" for a node that did not answer, with the reason).
func renderCall(p *printer, args []string, replies []trib.CallReply) {
	p.step(">>> Calling %s", strings.Join(args, " "))
	for _, r := range replies {
		if r.Err != nil {
			p.err("%s: Failed! %v", r.Node, r.Err)
			continue
		}
		// The reply is data: print it as it is, never through a format string.
		io.WriteString(p.w, r.Node+": "+r.Text+"\n")
	}
}

// callExit: 3 when a node could not be reached, 1 when one replied with an error.
func callExit(replies []trib.CallReply) error {
	code := ExitOK
	for _, r := range replies {
		switch {
		case r.Err != nil:
			code = ExitUnreachable
		case r.ReplyError != "" && code == ExitOK:
			code = ExitProblem
		}
	}
	if code == ExitOK {
		return nil
	}
	return exitWith(code, nil)
}
