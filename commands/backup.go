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

func init() { register(newBackupCommand) }

type backupOptions struct {
	globals
	seed   string
	backup trib.BackupOptions
}

func newBackupCommand(streams *IOStreams) *cli.Command {
	return &cli.Command{
		Name:      "backup",
		Usage:     "save an RDB of every master and the topology to a directory",
		ArgsUsage: "host:port DIR",
		Description: "Fetches a snapshot from every master at once over the replication protocol, as redis-cli --rdb " +
			"does (REPLCONF rdb-only, PSYNC; diskless $EOF framing or $length framing), reads each back with the " +
			"RDB codec (every key and the checksum), writes it atomically to DIR/<node-id>.rdb, and writes " +
			"DIR/nodes.json with the topology, each master's replication ID and offset, and the files.",
		Flags: withGlobalFlags(
			&cli.BoolFlag{Name: "disk", Usage: "ask for disk-based transfers (each master saves its RDB to its own disk first) instead of diskless ones"},
			&cli.DurationFlag{Name: "idle-timeout", Value: 60 * time.Second, Usage: "give up on a master silent for this long during its transfer"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return exitWith(ExitUsage, fmt.Errorf("backup needs host:port of a cluster node and a directory, got %d argument(s)", c.NArg()))
			}
			seed, dir := c.Args().Get(0), c.Args().Get(1)
			if !strings.Contains(seed, ":") {
				return exitWith(ExitUsage, fmt.Errorf("%q is not host:port", seed))
			}
			if dir == "" {
				return exitWith(ExitUsage, fmt.Errorf("the backup directory is empty"))
			}
			g, err := readGlobals(c, streams)
			if err != nil {
				return exitWith(ExitUsage, err)
			}
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
			defer stop()
			return runBackup(ctx, streams, backupOptions{globals: g, seed: seed, backup: trib.BackupOptions{Dir: dir,
				FetchRDBOptions: trib.FetchRDBOptions{Disk: c.Bool("disk"), Idle: c.Duration("idle-timeout")}}})
		},
	}
}

func runBackup(ctx context.Context, streams *IOStreams, opts backupOptions) error {
	return runChange(ctx, streams, opts.globals, opts.seed, func(ctx context.Context, cluster *trib.Cluster, event func(trib.Event)) (*trib.BackupResult, error) {
		return trib.Backup(ctx, cluster, opts.backup, event)
	})
}
