package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/trib"
	"github.com/urfave/cli/v2"
)

func init() { register(newSetTimeoutCommand) }

type setTimeoutOptions struct {
	globals
	seed string
	ms   int
}

func newSetTimeoutCommand(streams *IOStreams) *cli.Command {
	return &cli.Command{
		Name:      "set-timeout",
		Usage:     "set cluster-node-timeout on every node and save it",
		ArgsUsage: "host:port MILLISECONDS",
		Description: "Runs CONFIG SET cluster-node-timeout and CONFIG REWRITE on every node of the cluster in " +
			"parallel and reports each node's result. Exit 1 when any node failed (a node whose CONFIG REWRITE " +
			"failed runs with the new timeout but loses it on restart); 3 when a node cannot be reached.",
		Flags: withGlobalFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return exitWith(ExitUsage, fmt.Errorf("set-timeout needs host:port and the timeout in milliseconds, got %d argument(s)", c.NArg()))
			}
			seed := c.Args().Get(0)
			if !strings.Contains(seed, ":") {
				return exitWith(ExitUsage, fmt.Errorf("%q is not host:port", seed))
			}
			ms, err := strconv.Atoi(c.Args().Get(1))
			if err != nil {
				return exitWith(ExitUsage, fmt.Errorf("timeout %q: want milliseconds as an integer", c.Args().Get(1)))
			}
			if ms < trib.MinNodeTimeout {
				return exitWith(ExitUsage, fmt.Errorf("setting a node timeout of less than %d milliseconds is a bad idea", trib.MinNodeTimeout))
			}
			g, err := readGlobals(c, streams)
			if err != nil {
				return exitWith(ExitUsage, err)
			}
			return runSetTimeout(c.Context, streams, setTimeoutOptions{globals: g, seed: seed, ms: ms})
		},
	}
}

// setTimeoutOutput is set-timeout's --json output.
type setTimeoutOutput struct {
	Timeout int                  `json:"timeout_ms"`
	Nodes   []trib.TimeoutResult `json:"nodes"`
	OK      int                  `json:"ok"`
	Failed  int                  `json:"failed"`
}

func runSetTimeout(ctx context.Context, streams *IOStreams, opts setTimeoutOptions) error {
	cluster, err := trib.Load(ctx, opts.seed, opts.Options)
	if err != nil {
		return exitForLoad(err)
	}
	defer cluster.Close()
	results, err := trib.SetTimeout(ctx, cluster, opts.ms)
	if err != nil {
		return exitWith(ExitUsage, err)
	}
	out := setTimeoutOutput{Timeout: opts.ms, Nodes: results}
	for _, r := range results {
		if r.OK() {
			out.OK++
		} else {
			out.Failed++
		}
	}
	if opts.JSON {
		if err := writeJSON(streams.Out, out); err != nil {
			return err
		}
	} else {
		renderSetTimeout(newPrinter(streams.Out, opts.globals), out)
	}
	if out.Failed == 0 {
		return nil
	}
	for _, n := range cluster.Nodes {
		if !n.Reachable() {
			return exitWith(ExitUnreachable, errors.New("some nodes could not be reached: their timeout is unchanged"))
		}
	}
	return exitWith(ExitProblem, fmt.Errorf("%d node(s) failed; rerun set-timeout once they are fixed", out.Failed))
}

// renderSetTimeout prints redis-cli's lines: a step, "*** New timeout set for host:port" or
// "[ERR] ..." per node, and the tally.
func renderSetTimeout(p *printer, out setTimeoutOutput) {
	p.step(">>> Reconfiguring node timeout in every cluster node...")
	for _, r := range out.Nodes {
		if r.OK() {
			if !p.quiet {
				p.warn("*** New timeout set for %s", r.Node)
			}
			continue
		}
		p.err("[ERR] setting node-timeout for %s: %s", r.Node, r.Error)
	}
	p.step(">>> New node timeout set. %d OK, %d ERR.", out.OK, out.Failed)
}
