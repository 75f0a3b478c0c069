package commands

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/trib"
	"github.com/urfave/cli/v2"
)

func init() { register(newAddNodeCommand) }

type addNodeOptions struct {
	globals
	newAddr, seed string
	add           trib.AddNodeOptions
}

func newAddNodeCommand(streams *IOStreams) *cli.Command {
	return &cli.Command{
		Name:      "add-node",
		Usage:     "add an empty node to a cluster, as a master or a replica",
		ArgsUsage: "NEW_host:port EXISTING_host:port",
		Description: "Checks the cluster (no error-level problem) and the new node (reachable, cluster-enabled, " +
			"empty, alone) before changing anything, sends CLUSTER MEET and waits until every node knows the " +
			"new one. With --replica it then replicates --master-id, or the master with fewest replicas, and " +
			"waits until the replica is in sync and every node sees it.",
		Flags: withGlobalFlags(
			&cli.BoolFlag{Name: "replica", Aliases: []string{"cluster-replica", "cluster-slave"}, Usage: "add the node as a replica"},
			&cli.StringFlag{Name: "master-id", Aliases: []string{"cluster-master-id"}, Usage: "master to replicate (ID, ID prefix or host:port); implies --replica"},
			&cli.DurationFlag{Name: "wait", Value: 30 * time.Second, Usage: "how long to wait for the cluster to know the node"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return exitWith(ExitUsage, fmt.Errorf("add-node needs the new node and an existing node (host:port each), got %d argument(s)", c.NArg()))
			}
			for _, a := range c.Args().Slice() {
				if !strings.Contains(a, ":") {
					return exitWith(ExitUsage, fmt.Errorf("%q is not host:port", a))
				}
			}
			g, err := readGlobals(c, streams)
			if err != nil {
				return exitWith(ExitUsage, err)
			}
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
			defer stop()
			return runAddNode(ctx, streams, addNodeOptions{globals: g, newAddr: c.Args().Get(0), seed: c.Args().Get(1),
				add: trib.AddNodeOptions{Replica: c.Bool("replica"), MasterID: c.String("master-id"), Converge: c.Duration("wait")}})
		},
	}
}

func runAddNode(ctx context.Context, streams *IOStreams, opts addNodeOptions) error {
	return runChange(ctx, streams, opts.globals, opts.seed, func(ctx context.Context, cluster *trib.Cluster, event func(trib.Event)) (*trib.AddNodeResult, error) {
		return trib.AddNode(ctx, cluster, opts.newAddr, opts.add, event)
	})
}
