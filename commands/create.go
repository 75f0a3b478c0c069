package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/clusterctl/clusterctl/planner"
	"github.com/clusterctl/clusterctl/trib"
	"github.com/urfave/cli/v2"
)

func init() { register(newCreateCommand) }

type createOptions struct {
	globals
	addrs    []string
	replicas int
	zones    map[string]string
	dryRun   bool
	maxLag   int
}

func newCreateCommand(streams *IOStreams) *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a cluster from empty nodes",
		ArgsUsage: "host:port...",
		Description: "Checks every node first (reachable, authenticated, cluster-enabled, empty, alone) and reports " +
			"every problem at once; plans masters, slots and replicas with optimal host/zone anti-affinity; " +
			"asks for confirmation (unless --yes); then assigns slots, joins the nodes, sets the replicas and " +
			"runs check. --dry-run prints the plan only (unreachable nodes allowed).",
		Flags: withGlobalFlags(
			&cli.IntFlag{Name: "replicas", Aliases: []string{"cluster-replicas"}, Usage: "replicas per master"},
			&cli.StringSliceFlag{Name: "zone", Usage: "ADDR=ZONE: the zone of a node, for zone anti-affinity (repeatable)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and change nothing"},
			&cli.IntFlag{Name: "max-lag", Value: 10, Usage: "for the final check, as check: seconds since a replica's last acknowledgement above which it is lagging"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return exitWith(ExitUsage, errors.New("create needs the nodes' host:port addresses"))
			}
			g, err := readGlobals(c, streams)
			if err != nil {
				return exitWith(ExitUsage, err)
			}
			if c.Int("replicas") < 0 {
				return exitWith(ExitUsage, fmt.Errorf("--replicas must not be negative"))
			}
			zones := map[string]string{}
			for _, z := range c.StringSlice("zone") {
				addr, zone, ok := strings.Cut(z, "=")
				if !ok || addr == "" || zone == "" {
					return exitWith(ExitUsage, fmt.Errorf("--zone %q: want ADDR=ZONE", z))
				}
				zones[addr] = zone
			}
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
			defer stop()
			return runCreate(ctx, streams, createOptions{globals: g, addrs: c.Args().Slice(),
				replicas: c.Int("replicas"), zones: zones, dryRun: c.Bool("dry-run"), maxLag: c.Int("max-lag")})
		},
	}
}

// createResult is create's --json output.
type createResult struct {
	DryRun     bool                     `json:"dry_run"`
	Problems   []trib.PreflightProblem  `json:"problems,omitempty"`
	Shards     []planShard              `json:"shards,omitempty"`
	Violations []planViolation          `json:"violations"`
	Report     *trib.Report             `json:"report,omitempty"`
	Error      string                   `json:"error,omitempty"`
	nodes      map[string]*trib.NewNode `json:"-"`
}

type planNode struct {
	Addr string `json:"addr"`
	ID   string `json:"id,omitempty"`
}

type planViolation struct {
	Shard int      `json:"shard"`
	Kind  string   `json:"kind"`
	Nodes []string `json:"nodes"`
}

type planShard struct {
	Master   planNode   `json:"master"`
	Start    int        `json:"slot_start"`
	End      int        `json:"slot_end"`
	Replicas []planNode `json:"replicas"`
}

func runCreate(ctx context.Context, streams *IOStreams, opts createOptions) error {
	p := newPrinter(streams.Out, opts.globals)
	if opts.JSON {
		p = newPrinter(streams.ErrOut, opts.globals) // logs on stderr, the result on stdout
	}
	res := &createResult{DryRun: opts.dryRun, Violations: []planViolation{}, nodes: map[string]*trib.NewNode{}}
	finish := finisher(streams, opts.JSON, &res, &res.Error)

	nodes, problems := trib.Preflight(ctx, opts.addrs, opts.Options,
		trib.CreateOptions{Replicas: opts.replicas, Zones: opts.zones, AllowUnreachable: opts.dryRun})
	defer trib.CloseNodes(nodes)
	if len(problems) > 0 {
		res.Problems = problems
		for _, pr := range problems {
			p.err("[ERR] %s", pr.Message)
		}
		perr := &trib.PreflightError{Problems: problems}
		code := ExitProblem
		if perr.OnlyUnreachable() {
			code = ExitUnreachable
		}
		return finish(code, fmt.Errorf("%d node(s) cannot join a new cluster; nothing was changed:\n  %s",
			countNodes(problems), strings.Join(problemTexts(problems), "\n  ")))
	}
	for _, n := range nodes {
		res.nodes[n.Addr] = n
	}
	plan, err := trib.PlanCreate(nodes, opts.replicas)
	if err != nil {
		var few *planner.TooFewMastersError
		if errors.As(err, &few) {
			p.err("*** ERROR: Invalid configuration for cluster creation.")
			p.err("*** %s", err)
			return finish(ExitProblem, err)
		}
		return finish(ExitProblem, err)
	}
	res.fillPlan(plan)
	renderPlan(p, len(nodes), res, plan)
	if opts.dryRun {
		p.ok("[OK] Dry run: nothing was changed.")
		return finish(ExitOK, nil)
	}
	ask := &confirmer{streams: streams, yes: opts.Yes}
	if !ask.ask("Can I set the above configuration? (type 'yes' to accept)") {
		if ask.err != nil {
			return finish(ExitUsage, ask.err)
		}
		return finish(ExitProblem, errors.New("aborted: the configuration was not accepted; nothing was changed"))
	}
	if err := trib.ApplyCreate(ctx, nodes, plan, trib.CreateOptions{}, p.event); err != nil {
		return finish(ExitProblem, fmt.Errorf("create stopped part-way: %w (run `clusterctl check %s` to see the state, "+
			"`clusterctl fix %s` to repair it)", err, nodes[0].Addr, nodes[0].Addr))
	}
	cluster, err := trib.Load(ctx, nodes[0].MeetAddr(), opts.Options)
	if err != nil {
		return finish(ExitProblem, fmt.Errorf("the cluster was created but could not be checked: %w", err))
	}
	defer cluster.Close()
	// The nodes agreed when ApplyCreate returned; give a replica between two ACKs or a
	// node's view one gossip round behind a moment to settle before judging.
	report, err := trib.CheckSettled(ctx, cluster, trib.CheckOptions{MaxLag: opts.maxLag}, settleTime)
	if err != nil {
		return finish(ExitProblem, err)
	}
	res.Report = report
	renderCheck(p, report)
	if !report.Healthy {
		return finish(ExitProblem, errors.New("the cluster was created but check found problems"))
	}
	return finish(ExitOK, nil)
}

func problemTexts(problems []trib.PreflightProblem) []string {
	var out []string
	for _, p := range problems {
		out = append(out, p.Message)
	}
	return out
}

func countNodes(problems []trib.PreflightProblem) int {
	seen := map[string]bool{}
	for _, p := range problems {
		seen[p.Node] = true
	}
	return len(seen)
}

func (r *createResult) node(n planner.Node) planNode {
	pn := planNode{Addr: n.Addr}
	if nn := r.nodes[n.Addr]; nn != nil {
		pn.ID = nn.ID
	}
	return pn
}

func (r *createResult) fillPlan(plan planner.CreatePlan) {
	for _, sh := range plan.Shards {
		ps := planShard{Master: r.node(sh.Master), Start: sh.Slots.Start, End: sh.Slots.End, Replicas: []planNode{}}
		for _, rep := range sh.Replicas {
			ps.Replicas = append(ps.Replicas, r.node(rep))
		}
		r.Shards = append(r.Shards, ps)
	}
	for _, v := range plan.Violations {
		r.Violations = append(r.Violations, planViolation{Shard: v.Shard, Kind: v.Kind, Nodes: v.Nodes})
	}
}

// renderPlan prints the plan in redis-cli's shape (clusterManagerCommandCreate).
func renderPlan(p *printer, nodeCount int, res *createResult, plan planner.CreatePlan) {
	p.step(">>> Performing hash slots allocation on %d nodes...", nodeCount)
	for i, sh := range res.Shards {
		p.line("Master[%d] -> Slots %d - %d", i, sh.Start, sh.End)
	}
	for _, sh := range res.Shards {
		for _, r := range sh.Replicas {
			p.line("Adding replica %s to %s", r.Addr, sh.Master.Addr)
		}
	}
	p.step(">>> Trying to optimize slaves allocation for anti-affinity")
	if len(plan.Violations) == 0 {
		p.ok("[OK] Perfect anti-affinity obtained!")
	} else {
		for _, v := range plan.Violations {
			p.warn("[WARNING] Shard %d (master %s): %s share a %s", v.Shard, plan.Shards[v.Shard].Master.Addr,
				strings.Join(v.Nodes, ", "), v.Kind)
		}
	}
	id := func(n planNode) string {
		if n.ID == "" {
			return "(not reached)"
		}
		return n.ID
	}
	for _, sh := range res.Shards {
		p.line("M: %s %s", id(sh.Master), sh.Master.Addr)
		p.line("   slots:[%d-%d] (%d slots) master", sh.Start, sh.End, sh.End-sh.Start+1)
		if len(sh.Replicas) > 0 {
			p.line("   %d additional replica(s)", len(sh.Replicas))
		}
	}
	for _, sh := range res.Shards {
		for _, r := range sh.Replicas {
			p.line("S: %s %s", id(r), r.Addr)
			p.line("   replicates %s", id(sh.Master))
		}
	}
}
