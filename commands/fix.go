package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/clusterctl/clusterctl/trib"
	"github.com/urfave/cli/v2"
)

func init() { register(newFixCommand) }

type fixOptions struct {
	globals
	seed   string
	fix    trib.FixOptions
	maxLag int
}

// settleTime bounds how long create and fix wait for transient problems (gossip still
// spreading, a replica resyncing) to clear before their final check.
const settleTime = 10 * time.Second

func newFixCommand(streams *IOStreams) *cli.Command {
	return &cli.Command{
		Name:      "fix",
		Usage:     "repair what check finds, with a confirmation per repair",
		ArgsUsage: "host:port",
		Description: "Closes open slots (forward by default; --direction back returns a half-done migration and " +
			"its keys to the source), covers uncovered slots, keeps one owner per slot (--search-multiple-owners), " +
			"forgets failed nodes and gives replica-less masters a spare replica. It never deletes a key; " +
			"what it cannot decide it reports and leaves.",
		Flags: withGlobalFlags(
			&cli.BoolFlag{Name: "search-multiple-owners", Usage: "also repair slots whose keys are on several masters"},
			&cli.BoolFlag{Name: "fix-with-unreachable-masters", Usage: "fix even though masters are unreachable (their slots are taken as lost)"},
			&cli.StringFlag{Name: "direction", Value: "forward", Usage: "close half-done migrations forward or back"},
			&cli.BoolFlag{Name: "replace", Usage: "overwrite keys that already exist on the target of a move"},
			&cli.IntFlag{Name: "pipeline", Value: 100, Usage: "keys per MIGRATE"},
			&cli.IntFlag{Name: "max-lag", Value: 10, Usage: "as check: seconds since a replica's last acknowledgement above which it is lagging"},
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
			dir, err := trib.ParseDirection(c.String("direction"))
			if err != nil {
				return exitWith(ExitUsage, err)
			}
			// Ctrl-C cancels the context: the current step stops at its next round trip and
			// the error says how to resume.
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
			defer stop()
			return runFix(ctx, streams, fixOptions{globals: g, seed: seed, maxLag: c.Int("max-lag"), fix: trib.FixOptions{
				SearchMultipleOwners:      c.Bool("search-multiple-owners"),
				FixWithUnreachableMasters: c.Bool("fix-with-unreachable-masters"),
				Direction:                 dir,
				Migrate: trib.MigrateOptions{Batch: c.Int("pipeline"), Replace: c.Bool("replace"),
					User: g.User, Password: g.Password},
			}})
		},
	}
}

// fixOutput is fix's --json output.
type fixOutput struct {
	Before *trib.Report    `json:"before"`
	Result *trib.FixResult `json:"result"`
	After  *trib.Report    `json:"after"`
	Error  string          `json:"error,omitempty"`
}

func runFix(ctx context.Context, streams *IOStreams, opts fixOptions) error {
	p := newPrinter(streams.Out, opts.globals)
	if opts.JSON {
		p = newPrinter(streams.ErrOut, opts.globals)
	}
	cluster, err := trib.Load(ctx, opts.seed, opts.Options)
	if err != nil {
		return exitForLoad(err)
	}
	defer cluster.Close()
	out := &fixOutput{}
	finish := finisher(streams, opts.JSON, &out, &out.Error)
	checkOpts := trib.CheckOptions{SearchMultipleOwners: opts.fix.SearchMultipleOwners, MaxLag: opts.maxLag}
	before, err := trib.Check(ctx, cluster, checkOpts)
	if err != nil {
		return finish(ExitProblem, err)
	}
	out.Before = before
	renderCheck(p, before)
	if before.Healthy {
		out.After = before
		return finish(ExitOK, nil)
	}
	ask := &confirmer{streams: streams, yes: opts.Yes}
	if !ask.canAsk() {
		return finish(ExitUsage, errNeedYes)
	}
	res, err := trib.Fix(ctx, cluster, opts.fix, ask.ask, p.event)
	out.Result = res
	if ask.err != nil {
		return finish(ExitUsage, ask.err)
	}
	if err != nil {
		var um *trib.UnreachableMastersError
		if errors.As(err, &um) {
			p.warn("*** %s", err)
			return finish(ExitUnreachable, err)
		}
		return finish(ExitProblem, fmt.Errorf("fix stopped: %w (done so far: %d repair(s); rerun `clusterctl fix %s` to continue)",
			err, len(res.Fixed), opts.seed))
	}
	after, err := trib.CheckSettled(ctx, cluster, checkOpts, settleTime)
	if err != nil {
		return finish(ExitProblem, err)
	}
	out.After = after
	p.step(">>> Fix summary: %d repair(s), %d key(s) moved, %d declined, %d left unfixed",
		len(res.Fixed), res.KeysMoved, len(res.Declined), len(res.Unfixable))
	for _, f := range res.Fixed {
		p.ok("[OK] %s", f)
	}
	for _, d := range res.Declined {
		p.warn("[WARNING] declined: %s", d)
	}
	for _, u := range res.Unfixable {
		p.err("[ERR] not fixed: %s", u)
	}
	renderCheck(p, after)
	return finish(checkExitCode(after), nil)
}

func checkExitCode(r *trib.Report) int {
	var ee *exitError
	if err := checkExit(r); errors.As(err, &ee) {
		return ee.code
	}
	return ExitOK
}
