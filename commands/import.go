package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/trib"
	"github.com/urfave/cli/v2"
)

func init() { register(newImportCommand) }

type importOptions struct {
	globals
	seed string
	imp  trib.ImportOptions
}

func newImportCommand(streams *IOStreams) *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "move every key of a standalone instance into the cluster",
		ArgsUsage: "host:port --from SRC_host:port",
		Description: "Scans database 0 of the standalone instance --from and moves each key to the master serving " +
			"its slot with MIGRATE (the cluster's -a/--user go with MIGRATE as AUTH/AUTH2; --from-user and " +
			"--from-pass authenticate with the source). Keys are grouped per master into MIGRATE ... KEYS batches " +
			"pipelined with the SCAN, one round trip per batch. --copy leaves the keys on the source; --replace " +
			"overwrites keys that already exist in the cluster (without it such a key stops the import).",
		Flags: withGlobalFlags(
			&cli.StringFlag{Name: "from", Aliases: []string{"cluster-from"}, Usage: "the standalone source, host:port (required)"},
			&cli.StringFlag{Name: "from-user", Aliases: []string{"cluster-from-user"}, Usage: "ACL user for the source"},
			&cli.StringFlag{Name: "from-pass", Aliases: []string{"cluster-from-pass"}, Usage: "password for the source"},
			&cli.BoolFlag{Name: "copy", Aliases: []string{"cluster-copy"}, Usage: "copy the keys, leaving them on the source"},
			&cli.BoolFlag{Name: "replace", Aliases: []string{"cluster-replace"}, Usage: "overwrite keys that already exist in the cluster"},
			&cli.IntFlag{Name: "batch", Value: 1000, Usage: "keys per SCAN and at most per MIGRATE"},
			&cli.DurationFlag{Name: "migrate-timeout", Value: 60 * time.Second, Usage: "MIGRATE's own I/O timeout"},
		),
		Action: func(c *cli.Context) error {
			seed, err := oneAddr(c)
			if err != nil {
				return err
			}
			from := c.String("from")
			if from == "" {
				return exitWith(ExitUsage, errors.New("import needs --from SRC_host:port, the standalone instance to import"))
			}
			if !strings.Contains(from, ":") {
				return exitWith(ExitUsage, fmt.Errorf("--from %q is not host:port", from))
			}
			if c.Int("batch") <= 0 {
				return exitWith(ExitUsage, fmt.Errorf("--batch must be positive"))
			}
			g, err := readGlobals(c, streams)
			if err != nil {
				return exitWith(ExitUsage, err)
			}
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
			defer stop()
			return runImport(ctx, streams, importOptions{globals: g, seed: seed, imp: trib.ImportOptions{
				From: from, FromUser: c.String("from-user"), FromPassword: c.String("from-pass"),
				Copy: c.Bool("copy"), Replace: c.Bool("replace"), Batch: c.Int("batch"), Timeout: c.Duration("migrate-timeout"),
			}})
		},
	}
}

func runImport(ctx context.Context, streams *IOStreams, opts importOptions) error {
	return runChange(ctx, streams, opts.globals, opts.seed, func(ctx context.Context, cluster *trib.Cluster, event func(trib.Event)) (*trib.ImportResult, error) {
		return trib.Import(ctx, cluster, opts.imp, event)
	})
}
