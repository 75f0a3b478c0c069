package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/planner"
	"github.com/clusterctl/clusterctl/trib"
	"github.com/olekukonko/tablewriter"
	"github.com/urfave/cli/v2"
)

func init() {
	register(newRebalanceCommand)
	interspersed["rebalance"] = true
}

type rebalanceOptions struct {
	globals
	seed      string
	plan      trib.RebalanceOptions
	simulate  bool
	move      moveSettings
	givenArgs []string // the command line, to print the resuming command
}

func newRebalanceCommand(streams *IOStreams) *cli.Command {
	return &cli.Command{
		Name:      "rebalance",
		Usage:     "even out slots, keys or memory between the masters",
		ArgsUsage: "host:port",
		Description: "--by slots (the default) is redis-cli's arithmetic: each master's share of the 16384 slots by " +
			"weight, nothing done while every master is within --threshold percent. --by keys and --by memory " +
			"balance the key count or MEMORY USAGE instead, moving the fewest slots they can. --simulate prints " +
			"the plan only. Slots move as in reshard, verified one by one; Ctrl-C stops between slots.",
		Flags: withGlobalFlags(append([]cli.Flag{
			&cli.StringSliceFlag{Name: "weight", Usage: "NODE=W: the weight of a master (ID, ID prefix or host:port); repeatable; 0 empties it"},
			&cli.Float64Flag{Name: "threshold", Value: planner.DefaultThreshold, Usage: "percent a master may be off its share"},
			&cli.BoolFlag{Name: "use-empty-masters", Usage: "give slots to masters that have none"},
			&cli.BoolFlag{Name: "simulate", Usage: "print the plan and change nothing"},
			&cli.StringFlag{Name: "by", Value: "slots", Usage: "what to balance: slots, keys or memory"},
		}, moveFlags()...)...),
		Action: func(c *cli.Context) error {
			seed, err := oneAddr(c)
			if err != nil {
				return err
			}
			g, err := readGlobals(c, streams)
			if err != nil {
				return exitWith(ExitUsage, err)
			}
			ms, err := readMoveFlags(c)
			if err != nil {
				return exitWith(ExitUsage, err)
			}
			by, err := parseBy(c.String("by"))
			if err != nil {
				return exitWith(ExitUsage, err)
			}
			weights, err := parseWeights(c.StringSlice("weight"))
			if err != nil {
				return exitWith(ExitUsage, err)
			}
			if th := c.Float64("threshold"); th <= 0 {
				return exitWith(ExitUsage, fmt.Errorf("--threshold must be positive, got %g", th))
			}
			ctx, cancel := interruptContext(c.Context, streams)
			defer cancel()
			return runRebalance(ctx, streams, rebalanceOptions{globals: g, seed: seed, simulate: c.Bool("simulate"), move: ms,
				plan: trib.RebalanceOptions{By: by, Weights: weights, Threshold: c.Float64("threshold"),
					UseEmptyMasters: c.Bool("use-empty-masters")},
				givenArgs: rebalanceArgs(c)})
		},
	}
}

func parseBy(s string) (planner.RebalanceBy, error) {
	for _, b := range []planner.RebalanceBy{planner.BySlots, planner.ByKeys, planner.ByMemory} {
		if s == b.String() {
			return b, nil
		}
	}
	return planner.BySlots, fmt.Errorf("--by %q: want slots, keys or memory", s)
}

func parseWeights(list []string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, w := range list {
		for _, part := range strings.Split(w, ",") {
			node, val, ok := strings.Cut(part, "=")
			f, err := strconv.ParseFloat(val, 64)
			if !ok || node == "" || err != nil || f < 0 {
				return nil, fmt.Errorf("--weight %q: want NODE=W with W a number of at least 0", part)
			}
			out[node] = f
		}
	}
	return out, nil
}

// rebalanceArgs rebuilds the flags given, so that the resuming command repeats them.
func rebalanceArgs(c *cli.Context) []string {
	var out []string
	for _, name := range []string{"by", "threshold", "pipeline", "batch-bytes", "parallel", "big-key-bytes"} {
		if c.IsSet(name) {
			out = append(out, "--"+name, fmt.Sprint(c.Value(name)))
		}
	}
	for _, w := range c.StringSlice("weight") {
		out = append(out, "--weight", w)
	}
	for _, name := range []string{"use-empty-masters", "replace"} {
		if c.Bool(name) {
			out = append(out, "--"+name)
		}
	}
	return out
}

// rebalanceOutput is rebalance's --json output.
type rebalanceOutput struct {
	Simulate  bool              `json:"simulate"`
	By        string            `json:"by"`
	Needed    bool              `json:"needed"`
	Threshold float64           `json:"threshold"`
	Shares    []trib.MasterLoad `json:"shares"`
	Moves     []planner.Move    `json:"moves"`
	// OutOfThreshold lists masters the plan cannot bring within the threshold (--by keys or
	// memory, when one slot holds too much).
	OutOfThreshold []string         `json:"out_of_threshold,omitempty"`
	BigKeys        []trib.SlotLoad  `json:"big_keys,omitempty"`
	Result         *trib.MoveResult `json:"result,omitempty"`
	Resume         string           `json:"resume,omitempty"`
	Error          string           `json:"error,omitempty"`
}

func runRebalance(ctx context.Context, streams *IOStreams, opts rebalanceOptions) error {
	p := newPrinter(streams.Out, opts.globals)
	if opts.JSON {
		p = newPrinter(streams.ErrOut, opts.globals)
	}
	threshold := opts.plan.Threshold
	if threshold == 0 {
		threshold = planner.DefaultThreshold
	}
	out := &rebalanceOutput{Simulate: opts.simulate, By: opts.plan.By.String(), Threshold: threshold, Moves: []planner.Move{}}
	finish := finisher(streams, opts.JSON, &out, &out.Error)
	cluster, err := trib.Load(ctx, opts.seed, opts.Options)
	if err != nil {
		return exitForLoad(err)
	}
	defer cluster.Close()
	report, err := trib.ReadyToMove(ctx, cluster, 5*time.Second)
	if report != nil && !opts.Quiet {
		renderCheck(p, report)
	}
	if err != nil {
		p.err("*** Please fix your cluster problems before rebalancing")
		return finish(ExitProblem, err)
	}
	if opts.plan.By != planner.BySlots {
		p.step(">>> Counting the keys of every slot (--by %s)", opts.plan.By)
	}
	plan, err := trib.PlanRebalance(ctx, cluster, opts.plan)
	if err != nil {
		return finish(ExitUsage, err)
	}
	out.Needed, out.Moves, out.OutOfThreshold = plan.Needed, plan.Moves, plan.OutOfThreshold
	out.Shares = plan.Shares(opts.plan.By)
	var total float64
	for _, m := range plan.Masters {
		total += plan.Weights[m.ID]
	}
	p.step(">>> Rebalancing across %d nodes. Total weight = %.2f", len(plan.Masters), total)
	renderShares(p, out.Shares, opts.plan.By)
	if !plan.Needed || len(plan.Moves) == 0 {
		p.warn("*** No rebalancing needed! All nodes are within the %.2f%% threshold.", threshold)
		return finish(ExitOK, nil)
	}
	renderMoves(p, cluster, plan.Moves)
	for _, id := range plan.OutOfThreshold {
		p.warn("[WARNING] %s stays outside the threshold: its slots are too coarse to balance it by %s.",
			addrOf(cluster, id), opts.plan.By)
	}
	if opts.simulate {
		p.ok("[OK] Simulation: nothing was changed.")
		return finish(ExitOK, nil)
	}
	confirm := &confirmer{streams: streams, yes: opts.Yes}
	if !confirm.canAsk() {
		return finish(ExitUsage, errNeedYes)
	}
	loads := plan.Loads
	if opts.move.bigKeyBytes > 0 || loads == nil {
		loads, err = scanMoves(ctx, p, cluster, plan.Moves, opts.move.bigKeyBytes > 0)
		if err != nil {
			return finish(ExitProblem, err)
		}
	}
	out.BigKeys = trib.BigKeys(loads, opts.move.bigKeyBytes)
	if !warnBigKeys(p, out.BigKeys, opts.move.bigKeyBytes, confirm) {
		if confirm.err != nil {
			return finish(ExitUsage, confirm.err)
		}
		return finish(ExitProblem, errors.New("aborted before moving a big key; nothing was changed"))
	}
	if !confirm.ask(fmt.Sprintf("Do you want to proceed with moving %d slots (yes/no)?", len(plan.Moves))) {
		if confirm.err != nil {
			return finish(ExitUsage, confirm.err)
		}
		return finish(ExitProblem, errors.New("aborted: the rebalance plan was not accepted; nothing was changed"))
	}
	resume := func([]planner.Move) string {
		return strings.Join(append([]string{"clusterctl rebalance", opts.seed}, append(opts.givenArgs, "--yes")...), " ")
	}
	res, err := executeMoves(ctx, p, cluster, plan.Moves, opts.move, loads, opts.globals)
	out.Result = res
	if err != nil {
		code, err := explainStop(p, opts.seed, res, err, resume)
		if len(res.Remaining) > 0 {
			out.Resume = resume(res.Remaining)
		}
		return finish(code, err)
	}
	return finish(ExitOK, nil)
}

func addrOf(c *trib.Cluster, id string) string {
	if n := c.NodeByID(id); n != nil {
		return n.Dial
	}
	return id
}

// renderShares prints each master's weight and load before and after the plan.
func renderShares(p *printer, shares []trib.MasterLoad, by planner.RebalanceBy) {
	if p.quiet {
		return
	}
	unit := map[planner.RebalanceBy]string{planner.BySlots: "Slots", planner.ByKeys: "Keys", planner.ByMemory: "Bytes"}[by]
	t := tablewriter.NewWriter(p.w)
	t.SetHeader([]string{"Master", "ID", "Weight", unit + " now", unit + " after"})
	t.SetAutoFormatHeaders(false)
	t.SetAlignment(tablewriter.ALIGN_RIGHT)
	for _, s := range shares {
		t.Append([]string{s.Addr, idPrefix(s.ID), strconv.FormatFloat(s.Weight, 'g', -1, 64),
			strconv.FormatInt(s.Before, 10), strconv.FormatInt(s.After, 10)})
	}
	t.Render()
}
