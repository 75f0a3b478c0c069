package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
	"github.com/clusterctl/clusterctl/planner"
	"github.com/clusterctl/clusterctl/trib"
	"github.com/olekukonko/tablewriter"
	"github.com/urfave/cli/v2"
)

func init() {
	register(newReshardCommand)
	// redis-cli takes the flags after the address too (reshard host:port --cluster-yes).
	interspersed["reshard"] = true
}

// moveFlags are the flags reshard and rebalance share: how slots are moved.
func moveFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "pipeline", Value: trib.DefaultBatchKeys, Usage: "most keys per GETKEYSINSLOT and per MIGRATE"},
		&cli.Int64Flag{Name: "batch-bytes", Value: trib.DefaultBatchBytes, Usage: "most bytes (MEMORY USAGE) per MIGRATE; a larger key moves alone"},
		&cli.IntFlag{Name: "parallel", Value: trib.DefaultParallel, Usage: "most slots in flight at once, one per source/target pair"},
		&cli.Int64Flag{Name: "big-key-bytes", Value: trib.DefaultBigKeyBytes, Usage: "warn before moving a slot holding a key this large (0: do not measure keys)"},
		&cli.BoolFlag{Name: "replace", Usage: "overwrite keys that already exist on the target (BUSYKEY)"},
	}
}

// moveSettings are the parsed moveFlags.
type moveSettings struct {
	batchKeys   int
	batchBytes  int64
	parallel    int
	bigKeyBytes int64
	replace     bool
}

func readMoveFlags(c *cli.Context) (moveSettings, error) {
	s := moveSettings{batchKeys: c.Int("pipeline"), batchBytes: c.Int64("batch-bytes"), parallel: c.Int("parallel"),
		bigKeyBytes: c.Int64("big-key-bytes"), replace: c.Bool("replace")}
	switch {
	case s.batchKeys < 1:
		return s, fmt.Errorf("--pipeline must be at least 1, got %d", s.batchKeys)
	case s.batchBytes < 1:
		return s, fmt.Errorf("--batch-bytes must be at least 1, got %d", s.batchBytes)
	case s.parallel < 1:
		return s, fmt.Errorf("--parallel must be at least 1, got %d", s.parallel)
	case s.bigKeyBytes < 0:
		return s, fmt.Errorf("--big-key-bytes must not be negative, got %d", s.bigKeyBytes)
	}
	return s, nil
}

type reshardOptions struct {
	globals
	seed   string
	from   []string
	to     string
	slots  int
	dryRun bool
	move   moveSettings
}

func newReshardCommand(streams *IOStreams) *cli.Command {
	return &cli.Command{
		Name:      "reshard",
		Usage:     "move slots and their keys to one master",
		ArgsUsage: "host:port",
		Description: "Asks redis-cli's questions for what is not given by flags (how many slots, the receiving node, " +
			"the source nodes or 'all'), shows the plan and asks for confirmation (unless --yes), then moves each " +
			"slot with IMPORTING/MIGRATING, batched MIGRATE and SETSLOT NODE on every master, verifying each slot " +
			"before the next. Ctrl-C stops between slots and prints the command that resumes.",
		Flags: withGlobalFlags(append([]cli.Flag{
			&cli.StringSliceFlag{Name: "from", Usage: "source masters (IDs, ID prefixes or host:port, comma-separated), or 'all'"},
			&cli.StringFlag{Name: "to", Usage: "the receiving master (ID, ID prefix or host:port)"},
			&cli.IntFlag{Name: "slots", Usage: "how many slots to move (1 to 16384)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and change nothing"},
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
			if c.IsSet("slots") && (c.Int("slots") < 1 || c.Int("slots") > planner.Slots) {
				return exitWith(ExitUsage, fmt.Errorf("--slots must be between 1 and %d, got %d", planner.Slots, c.Int("slots")))
			}
			var from []string
			for _, f := range c.StringSlice("from") {
				for _, part := range strings.Split(f, ",") {
					if part = strings.TrimSpace(part); part != "" {
						from = append(from, part)
					}
				}
			}
			ctx, cancel := interruptContext(c.Context, streams)
			defer cancel()
			return runReshard(ctx, streams, reshardOptions{globals: g, seed: seed, from: from, to: c.String("to"),
				slots: c.Int("slots"), dryRun: c.Bool("dry-run"), move: ms})
		},
	}
}

// interruptContext is cancelled by the first Ctrl-C (SIGINT): migrations then stop between
// slots. The first signal also restores the default handling, so a second Ctrl-C ends the
// process at once.
func interruptContext(parent context.Context, streams *IOStreams) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
			signal.Stop(sig)
			fmt.Fprintln(streams.ErrOut, "\nInterrupted: finishing the slot in flight, then stopping (Ctrl-C again to quit at once).")
			cancel()
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sig)
		close(done)
		cancel()
	}
}

// reshardOutput is reshard's --json output.
type reshardOutput struct {
	DryRun  bool             `json:"dry_run"`
	Target  string           `json:"target,omitempty"`
	Sources []string         `json:"sources,omitempty"`
	Moves   []planner.Move   `json:"moves"`
	BigKeys []trib.SlotLoad  `json:"big_keys,omitempty"`
	Result  *trib.MoveResult `json:"result,omitempty"`
	Resume  string           `json:"resume,omitempty"`
	Error   string           `json:"error,omitempty"`
}

func runReshard(ctx context.Context, streams *IOStreams, opts reshardOptions) error {
	p := newPrinter(streams.Out, opts.globals)
	if opts.JSON {
		p = newPrinter(streams.ErrOut, opts.globals)
	}
	out := &reshardOutput{DryRun: opts.dryRun, Moves: []planner.Move{}}
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
		var nr *trib.ClusterNotReadyError
		if errors.As(err, &nr) {
			p.err("*** Please fix your cluster problems before resharding")
		}
		return finish(ExitProblem, err)
	}

	ask := &reshardAsker{streams: streams, cluster: cluster}
	missing := missingReshardParams(opts)
	if len(missing) > 0 && !ask.canPrompt() {
		return finish(ExitUsage, fmt.Errorf("reshard needs %s: stdin is not a terminal, so give them as flags "+
			"(--slots N --to ID --from ID,ID|all)", strings.Join(missing, ", ")))
	}
	var plan *trib.ReshardPlan
	if len(missing) == 0 {
		plan, err = trib.PlanReshard(cluster, trib.ReshardOptions{From: opts.from, To: opts.to, Slots: opts.slots})
		if err != nil {
			return finish(ExitUsage, err)
		}
	} else {
		plan, err = ask.plan(opts)
		if err != nil {
			return finish(ExitUsage, err)
		}
	}
	out.Target = plan.Target.ID
	for _, s := range plan.Sources {
		out.Sources = append(out.Sources, s.ID)
	}
	out.Moves = plan.Moves
	renderReshardPlan(p, cluster, plan)
	if opts.dryRun {
		p.ok("[OK] Dry run: nothing was changed.")
		return finish(ExitOK, nil)
	}
	confirm := &confirmer{streams: streams, yes: opts.Yes}
	if !confirm.canAsk() {
		return finish(ExitUsage, errNeedYes)
	}
	loads, err := scanMoves(ctx, p, cluster, plan.Moves, opts.move.bigKeyBytes > 0)
	if err != nil {
		return finish(ExitProblem, err)
	}
	out.BigKeys = trib.BigKeys(loads, opts.move.bigKeyBytes)
	if !warnBigKeys(p, out.BigKeys, opts.move.bigKeyBytes, confirm) {
		if confirm.err != nil {
			return finish(ExitUsage, confirm.err)
		}
		return finish(ExitProblem, errors.New("aborted before moving a big key; nothing was changed"))
	}
	if !confirm.ask("Do you want to proceed with the proposed reshard plan (yes/no)?") {
		if confirm.err != nil {
			return finish(ExitUsage, confirm.err)
		}
		return finish(ExitProblem, errors.New("aborted: the reshard plan was not accepted; nothing was changed"))
	}
	resume := func(remaining []planner.Move) string {
		return reshardResumeCommand(opts, plan, len(remaining))
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

// missingReshardParams names the parameters that must be asked for.
func missingReshardParams(opts reshardOptions) []string {
	var missing []string
	if opts.slots == 0 {
		missing = append(missing, "--slots")
	}
	if opts.to == "" {
		missing = append(missing, "--to")
	}
	if len(opts.from) == 0 {
		missing = append(missing, "--from")
	}
	return missing
}

// reshardResumeCommand is the command that moves what is left of a reshard.
func reshardResumeCommand(opts reshardOptions, plan *trib.ReshardPlan, left int) string {
	var from []string
	for _, s := range plan.Sources {
		from = append(from, s.ID)
	}
	return fmt.Sprintf("clusterctl reshard %s --from %s --to %s --slots %d --yes", opts.seed,
		strings.Join(from, ","), plan.Target.ID, left)
}

// renderReshardPlan prints redis-cli's "Ready to move" block, with the plan as a table of
// slot ranges per source (every slot with -v, as redis-cli prints them).
func renderReshardPlan(p *printer, c *trib.Cluster, plan *trib.ReshardPlan) {
	p.line("")
	p.line("Ready to move %d slots.", len(plan.Moves))
	p.line("  Source nodes:")
	for _, s := range plan.Sources {
		renderMasterLines(p, c, s, "    ")
	}
	p.line("  Destination node:")
	renderMasterLines(p, c, plan.Target, "    ")
	p.line("  Resharding plan:")
	renderMoves(p, c, plan.Moves)
}

func renderMasterLines(p *printer, c *trib.Cluster, n *trib.Node, indent string) {
	p.line("%sM: %s %s", indent, n.ID, n.Dial)
	p.line("%s   slots:%s (%d slots) master", indent, trib.FormatSlotRanges(n.Slots), len(n.Slots))
	if r := len(c.ReplicasOf(n.ID)); r > 0 {
		p.line("%s   %d additional replica(s)", indent, r)
	}
}

// renderMoves prints a plan: a table of source → target with the slot ranges, and with -v
// redis-cli's line per slot.
func renderMoves(p *printer, c *trib.Cluster, moves []planner.Move) {
	if p.verbose {
		for _, mv := range moves {
			p.line("    Moving slot %d from %s", mv.Slot, mv.From)
		}
	}
	type pair struct{ from, to string }
	var order []pair
	slots := map[pair][]int{}
	for _, mv := range moves {
		k := pair{mv.From, mv.To}
		if _, ok := slots[k]; !ok {
			order = append(order, k)
		}
		slots[k] = append(slots[k], mv.Slot)
	}
	addr := func(id string) string {
		if n := c.NodeByID(id); n != nil {
			return n.Dial
		}
		return id
	}
	t := tablewriter.NewWriter(p.w)
	t.SetHeader([]string{"From", "To", "Slots", "Ranges"})
	t.SetAutoFormatHeaders(false)
	t.SetAutoWrapText(false)
	for _, k := range order {
		s := append([]int(nil), slots[k]...)
		sort.Ints(s)
		ranges := trib.FormatSlotRanges(s)
		if len(ranges) > 60 {
			ranges = ranges[:57] + "..."
		}
		t.Append([]string{addr(k.from) + " (" + idPrefix(k.from) + ")", addr(k.to) + " (" + idPrefix(k.to) + ")",
			strconv.Itoa(len(s)), ranges})
	}
	t.Render()
}

// scanMoves counts (and, with bytes, measures) the keys of the slots to move.
func scanMoves(ctx context.Context, p *printer, c *trib.Cluster, moves []planner.Move, bytes bool) (map[int]trib.SlotLoad, error) {
	bySource := map[string][]int{}
	for _, mv := range moves {
		bySource[mv.From] = append(bySource[mv.From], mv.Slot)
	}
	for _, s := range bySource {
		sort.Ints(s)
	}
	if bytes {
		p.step(">>> Measuring the keys of the %d slots to move (MEMORY USAGE; --big-key-bytes 0 skips it)", len(moves))
	}
	loads, err := trib.ScanSlots(ctx, c, bySource, bytes)
	if err != nil {
		return nil, err
	}
	var keys, size int64
	for _, l := range loads {
		keys += l.Keys
		size += l.Bytes
	}
	if bytes {
		p.line("%d keys, %s in the slots to move.", keys, humanBytes(size))
	} else {
		p.line("%d keys in the slots to move.", keys)
	}
	return loads, nil
}

// warnBigKeys reports slots holding a key over the limit and asks whether to go on
// (SPEC 1.1a: migrating a big key blocks the source).
func warnBigKeys(p *printer, big []trib.SlotLoad, limit int64, confirm *confirmer) bool {
	if len(big) == 0 {
		return true
	}
	for _, l := range big {
		p.warn("[WARNING] Slot %d holds the key %q of %s (over %s): moving it blocks its node while it transfers.",
			l.Slot, l.BigKey, humanBytes(l.BigKeyBytes), humanBytes(limit))
	}
	return confirm.ask(fmt.Sprintf("%d slot(s) hold big keys. Move them anyway?", len(big)))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// executeMoves runs the moves with a progress display and prints the summary.
func executeMoves(ctx context.Context, p *printer, c *trib.Cluster, moves []planner.Move, ms moveSettings,
	loads map[int]trib.SlotLoad, g globals) (*trib.MoveResult, error) {
	prog := newProgressView(p, len(moves))
	p.step(">>> Moving %d slots", len(moves))
	res, err := c.MoveSlots(ctx, moves, trib.SlotMoveOptions{
		BatchKeys: ms.batchKeys, BatchBytes: ms.batchBytes, Timeout: g.Timeout, Replace: ms.replace,
		Parallel: ms.parallel, Loads: loads, Progress: prog.update,
	})
	prog.close()
	if err == nil {
		rate := 0.0
		if secs := res.Elapsed.Seconds(); secs > 0 {
			rate = float64(res.KeysMoved) / secs
		}
		p.ok("[OK] Moved %d slots and %d keys in %s (%.0f keys/s); every slot verified.",
			res.SlotsMoved, res.KeysMoved, res.Elapsed.Round(time.Millisecond), rate)
	}
	return res, err
}

// explainStop prints why a migration stopped, what was done and the commands that repair
// and resume (SPEC 1.1a: never exit silently part-way), and returns the exit code and error.
func explainStop(p *printer, seed string, res *trib.MoveResult, err error, resume func([]planner.Move) string) (int, error) {
	done := fmt.Sprintf("%d slot(s) and %d key(s) were moved and verified", res.SlotsMoved, res.KeysMoved)
	if errors.Is(err, trib.ErrStopped) {
		p.warn("*** Stopped between slots: %s; %d slot(s) were not moved. No slot is left open.", done, len(res.Remaining))
		if len(res.Remaining) > 0 {
			p.line("To resume, run:")
			p.line("  %s", resume(res.Remaining))
		}
		return ExitProblem, fmt.Errorf("interrupted: %s; resume with `%s`", done, resume(res.Remaining))
	}
	p.err("[ERR] %v", err)
	p.line("%s before the error; %d slot(s) were not moved.", done, len(res.Remaining))
	if res.OpenSlot >= 0 {
		p.line("Slot %d is left open. Close it with:", res.OpenSlot)
		p.line("  clusterctl fix %s", seed)
	}
	if len(res.Remaining) > 0 {
		p.line("Then, to move the rest, run:")
		p.line("  %s", resume(res.Remaining))
	}
	if trib.IsUnreachable(err) {
		return ExitUnreachable, err
	}
	return ExitProblem, err
}

// progressView shows MoveSlots progress: a bar redrawn in place on a terminal, a log line
// every two seconds otherwise (and a line per slot with -v).
type progressView struct {
	p        *printer
	total    int
	mu       sync.Mutex
	last     time.Time
	drawn    bool
	lastLine trib.MoveProgress
}

func newProgressView(p *printer, total int) *progressView {
	return &progressView{p: p, total: total, last: time.Now()}
}

func (v *progressView) update(m trib.MoveProgress) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.lastLine = m
	if v.p.quiet {
		return
	}
	if v.p.verbose && m.SlotDone {
		v.clearBar()
		v.p.line("Moved slot %d from %s to %s: %d key(s)", m.Slot, m.From, m.To, m.SlotKeys)
	}
	now := time.Now()
	if v.p.terminal {
		if now.Sub(v.last) < 100*time.Millisecond && m.SlotsDone != m.SlotsTotal {
			return
		}
		v.last = now
		fmt.Fprintf(v.p.w, "\r%s\x1b[K", progressBar(m, 30))
		v.drawn = true
		return
	}
	if now.Sub(v.last) >= 2*time.Second {
		v.last = now
		v.p.line("%s", progressText(m))
	}
}

func (v *progressView) clearBar() {
	if v.drawn {
		fmt.Fprint(v.p.w, "\r\x1b[K")
		v.drawn = false
	}
}

func (v *progressView) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.drawn {
		fmt.Fprintln(v.p.w)
		v.drawn = false
	}
}

// progressText is the progress as one line: slots, keys, keys/s and ETA.
func progressText(m trib.MoveProgress) string {
	rate := 0.0
	if s := m.Elapsed.Seconds(); s > 0 {
		rate = float64(m.KeysMoved) / s
	}
	keys := strconv.FormatInt(m.KeysMoved, 10)
	if m.KeysTotal > 0 {
		keys += "/" + strconv.FormatInt(m.KeysTotal, 10)
	}
	return fmt.Sprintf("%d/%d slots, %s keys, %.0f keys/s, ETA %s", m.SlotsDone, m.SlotsTotal, keys, rate, eta(m))
}

// eta estimates the time left from the share of keys moved (or of slots, when the key count
// is unknown or zero).
func eta(m trib.MoveProgress) string {
	var frac float64
	switch {
	case m.KeysTotal > 0:
		frac = float64(m.KeysMoved) / float64(m.KeysTotal)
	case m.SlotsTotal > 0:
		frac = float64(m.SlotsDone) / float64(m.SlotsTotal)
	}
	if frac <= 0 {
		return "-"
	}
	if frac >= 1 {
		return "0s"
	}
	left := time.Duration(float64(m.Elapsed) * (1 - frac) / frac)
	return left.Round(time.Second).String()
}

// progressBar draws "[=====>    ] " followed by progressText.
func progressBar(m trib.MoveProgress, width int) string {
	frac := 0.0
	if m.SlotsTotal > 0 {
		frac = float64(m.SlotsDone) / float64(m.SlotsTotal)
	}
	fill := int(frac * float64(width))
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	return "[" + bar + "] " + progressText(m)
}

// reshardAsker puts redis-cli's reshard questions with survey.
type reshardAsker struct {
	streams *IOStreams
	cluster *trib.Cluster
	in      *os.File
	out     io.Writer
}

func (a *reshardAsker) canPrompt() bool {
	in, ok := a.streams.In.(*os.File)
	if !ok || !isTerminal(in) {
		return false
	}
	a.in = in
	a.out = a.streams.Out
	return true
}

// plan asks for what opts leaves out, with redis-cli's questions, and plans the reshard.
func (a *reshardAsker) plan(opts reshardOptions) (*trib.ReshardPlan, error) {
	c := a.cluster
	slots := opts.slots
	if slots == 0 {
		var answer string
		err := a.askOne(&survey.Input{Message: fmt.Sprintf("How many slots do you want to move (from 1 to %d)?", planner.Slots)},
			&answer, survey.WithValidator(func(v any) error {
				n, err := strconv.Atoi(strings.TrimSpace(v.(string)))
				if err != nil || n < 1 || n > planner.Slots {
					return fmt.Errorf("type a number from 1 to %d", planner.Slots)
				}
				return nil
			}))
		if err != nil {
			return nil, err
		}
		slots, _ = strconv.Atoi(strings.TrimSpace(answer))
	}
	var target *trib.Node
	if opts.to != "" {
		t, err := trib.ResolveTarget(c, opts.to)
		if err != nil {
			return nil, err
		}
		target = t
	} else {
		masters := c.ReachableMasters()
		choices := make([]string, len(masters))
		for i, m := range masters {
			choices[i] = masterChoice(m)
		}
		var picked int
		if err := a.askOne(&survey.Select{Message: "What is the receiving node ID?", Options: choices, PageSize: 12}, &picked); err != nil {
			return nil, err
		}
		target = masters[picked]
	}
	from := opts.from
	if len(from) == 0 {
		fmt.Fprintln(a.out, "Please enter all the source node IDs.")
		fmt.Fprintln(a.out, "  Type 'all' to use all the nodes as source nodes for the hash slots.")
		fmt.Fprintln(a.out, "  Type 'done' once you entered all the source nodes IDs.")
		var candidates []string
		for _, m := range c.ReachableMasters() {
			if m.ID != target.ID && len(m.Slots) > 0 {
				candidates = append(candidates, m.ID)
			}
		}
		for i := 1; ; i++ {
			var answer string
			err := a.askOne(&survey.Input{
				Message: fmt.Sprintf("Source node #%d:", i),
				Help:    "a master's ID, ID prefix or host:port; 'all' for every master; 'done' to finish",
				Suggest: func(prefix string) []string {
					var out []string
					for _, id := range append([]string{"all", "done"}, candidates...) {
						if strings.HasPrefix(id, prefix) {
							out = append(out, id)
						}
					}
					return out
				},
			}, &answer, survey.WithValidator(func(v any) error {
				s := strings.TrimSpace(v.(string))
				switch {
				case s == "all" || s == "done":
					return nil
				case s == "":
					return errors.New("type a node ID, 'all' or 'done'")
				}
				_, err := trib.ResolveSource(c, s, target)
				return err
			}))
			if err != nil {
				return nil, err
			}
			answer = strings.TrimSpace(answer)
			if answer == "all" {
				from = []string{"all"}
				break
			}
			if answer == "done" {
				break
			}
			from = append(from, answer)
		}
		if len(from) == 0 {
			return nil, errors.New("*** No source nodes given, operation aborted.")
		}
	}
	return trib.PlanReshard(c, trib.ReshardOptions{From: from, To: target.ID, Slots: slots})
}

// masterChoice is how a master shows in a picker: ID, address and slot count.
func masterChoice(m *trib.Node) string {
	return fmt.Sprintf("%s %s (%d slots)", m.ID, m.Dial, len(m.Slots))
}

func (a *reshardAsker) askOne(q survey.Prompt, answer any, opts ...survey.AskOpt) error {
	out, ok := a.out.(*os.File)
	if !ok {
		out = os.Stdout
	}
	opts = append(opts, survey.WithStdio(a.in, out, a.streams.ErrOut))
	if err := survey.AskOne(q, answer, opts...); err != nil {
		if errors.Is(err, terminal.InterruptErr) {
			return errors.New("interrupted; nothing was changed")
		}
		return fmt.Errorf("prompt: %w", err)
	}
	return nil
}
