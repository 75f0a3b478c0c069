package commands

import (
	"context"
	"os"
	"os/signal"
	"time"

	"github.com/clusterctl/clusterctl/trib"
	"github.com/urfave/cli/v2"
)

func init() { register(newFailoverCommand) }

type failoverOptions struct {
	globals
	seed     string
	failover trib.FailoverOptions
}

func newFailoverCommand(streams *IOStreams) *cli.Command {
	return &cli.Command{
		Name:      "failover",
		Usage:     "promote a replica to master (manual failover) and wait for the swap",
		ArgsUsage: "host:port",
		Description: "Runs CLUSTER FAILOVER on the replica at host:port, or with --master on the best replica of " +
			"that master (most replicated bytes; host:port is then any node of the cluster), and waits until " +
			"the replica, its old master and every other node agree on the swap, then reports how long it took. " +
			"The default failover loses no acknowledged write; --force does without the master (it may be down); " +
			"--takeover does without the other masters' votes too.",
		Flags: withGlobalFlags(
			&cli.BoolFlag{Name: "force", Usage: "CLUSTER FAILOVER FORCE: do not wait for the master"},
			&cli.BoolFlag{Name: "takeover", Usage: "CLUSTER FAILOVER TAKEOVER: do not ask the other masters"},
			&cli.StringFlag{Name: "master", Usage: "fail over this master (ID, ID prefix or host:port) to its best replica"},
			&cli.DurationFlag{Name: "wait", Value: 30 * time.Second, Usage: "how long to wait for the roles to swap"},
		),
		Action: func(c *cli.Context) error {
			seed, err := oneAddr(c)
			if err != nil {
				return err
			}
			g, err := readGlobals(c, streams)
			if err != nil {
				return exitWith(ExitUsage, err)
			}
			mode, err := trib.ParseFailoverMode(c.Bool("force"), c.Bool("takeover"))
			if err != nil {
				return exitWith(ExitUsage, err)
			}
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
			defer stop()
			return runFailover(ctx, streams, failoverOptions{globals: g, seed: seed,
				failover: trib.FailoverOptions{Mode: mode, Master: c.String("master"), Wait: c.Duration("wait")}})
		},
	}
}

func runFailover(ctx context.Context, streams *IOStreams, opts failoverOptions) error {
	return runChange(ctx, streams, opts.globals, opts.seed, func(ctx context.Context, cluster *trib.Cluster, event func(trib.Event)) (*trib.FailoverResult, error) {
		return trib.Failover(ctx, cluster, opts.seed, opts.failover, event)
	})
}
