package commands

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/clusterctl/clusterctl/trib"
	"github.com/urfave/cli/v2"
)

func init() { register(newDelNodeCommand) }

type delNodeOptions struct {
	globals
	seed, node string
	del        trib.DelNodeOptions
}

func newDelNodeCommand(streams *IOStreams) *cli.Command {
	return &cli.Command{
		Name:      "del-node",
		Usage:     "remove a node that serves no slot from a cluster",
		ArgsUsage: "host:port NODE",
		Description: "NODE is the node's ID, a unique ID prefix or its host:port. Refuses a master that still " +
			"serves slots (reshard them away first). Moves the node's replicas to the master with fewest " +
			"replicas, makes every other node CLUSTER FORGET it at once (within the 60 s blacklist window), " +
			"then resets it with CLUSTER RESET SOFT (or stops it with --shutdown), and checks that no node " +
			"lists it any more.",
		Flags: withGlobalFlags(
			&cli.BoolFlag{Name: "shutdown", Usage: "SHUTDOWN the removed node instead of resetting it"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return exitWith(ExitUsage, fmt.Errorf("del-node needs host:port of a cluster node and the node to remove, got %d argument(s)", c.NArg()))
			}
			seed := c.Args().Get(0)
			if !strings.Contains(seed, ":") {
				return exitWith(ExitUsage, fmt.Errorf("%q is not host:port", seed))
			}
			g, err := readGlobals(c, streams)
			if err != nil {
				return exitWith(ExitUsage, err)
			}
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
			defer stop()
			return runDelNode(ctx, streams, delNodeOptions{globals: g, seed: seed, node: c.Args().Get(1),
				del: trib.DelNodeOptions{Shutdown: c.Bool("shutdown")}})
		},
	}
}

func runDelNode(ctx context.Context, streams *IOStreams, opts delNodeOptions) error {
	return runChange(ctx, streams, opts.globals, opts.seed, func(ctx context.Context, cluster *trib.Cluster, event func(trib.Event)) (*trib.DelNodeResult, error) {
		return trib.DelNode(ctx, cluster, opts.node, opts.del, event)
	})
}
