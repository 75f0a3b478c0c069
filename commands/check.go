package commands

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/node/hashslot"
	"github.com/clusterctl/clusterctl/trib"
	"github.com/urfave/cli/v2"
)

func init() { register(newCheckCommand) }

type checkOptions struct {
	globals
	seed                 string
	searchMultipleOwners bool
	maxLag               int
}

func newCheckCommand(streams *IOStreams) *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "check a cluster's health (exit 0 healthy, 1 problems, 3 unreachable)",
		ArgsUsage: "host:port",
		Description: "Loads the topology from the node given and from every node it knows, in parallel, and " +
			"reports what redis-cli --cluster check reports (agreement, open slots, coverage, multiple owners) " +
			"plus failed nodes, masters without replicas, replica links and lag, replicas on their master's " +
			"host, cluster_state and config epoch collisions. --json problems have stable kinds (README).",
		Flags: withGlobalFlags(
			&cli.BoolFlag{Name: "search-multiple-owners", Usage: "look for keys of a slot on masters that do not own it"},
			&cli.IntFlag{Name: "max-lag", Value: 10, Usage: "seconds since a replica's last acknowledgement above which it is lagging"},
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
			return runCheck(c.Context, streams, checkOptions{globals: g, seed: seed,
				searchMultipleOwners: c.Bool("search-multiple-owners"), maxLag: c.Int("max-lag")})
		},
	}
}

func runCheck(ctx context.Context, streams *IOStreams, opts checkOptions) error {
	cluster, err := trib.Load(ctx, opts.seed, opts.Options)
	if err != nil {
		return exitForLoad(err)
	}
	defer cluster.Close()
	report, err := trib.Check(ctx, cluster, trib.CheckOptions{SearchMultipleOwners: opts.searchMultipleOwners, MaxLag: opts.maxLag})
	if err != nil {
		return exitWith(ExitProblem, err)
	}
	if opts.JSON {
		if err := writeJSON(streams.Out, report); err != nil {
			return err
		}
	} else {
		renderCheck(newPrinter(streams.Out, opts.globals), report)
	}
	return checkExit(report)
}

// checkExit: 0 healthy, 3 when a node could not be reached or authenticated, 1 otherwise.
func checkExit(r *trib.Report) error {
	if r.Healthy {
		return nil
	}
	if r.Has(trib.KindUnreachable) || r.Has(trib.KindAuthFailed) {
		return exitWith(ExitUnreachable, nil)
	}
	return exitWith(ExitProblem, nil)
}

// renderCheck prints a report in redis-cli's shape (clusterManagerCheckCluster), then the
// checks beyond redis-cli.
func renderCheck(p *printer, r *trib.Report) {
	p.step(">>> Performing Cluster Check (using node %s)", r.Seed)
	renderNodes(p, r.Nodes)
	for _, pr := range r.Problems {
		if pr.Kind == trib.KindUnreachable || pr.Kind == trib.KindAuthFailed {
			p.err("[ERR] %s", pr.Message)
		}
	}
	if r.Agree {
		p.ok("[OK] All nodes agree about slots configuration.")
	} else {
		p.err("[ERR] Nodes don't agree about configuration!")
	}
	p.step(">>> Check for open slots...")
	if len(r.OpenSlots) > 0 {
		for _, n := range r.Nodes {
			if len(n.Migrating) > 0 {
				p.warn("[WARNING] Node %s has slots in migrating state %s.", n.Addr, joinSlots(n.Migrating))
			}
			if len(n.Importing) > 0 {
				p.warn("[WARNING] Node %s has slots in importing state %s.", n.Addr, joinSlots(n.Importing))
			}
		}
		var s []string
		for _, slot := range r.OpenSlots {
			s = append(s, strconv.Itoa(slot))
		}
		p.warn("[WARNING] The following slots are open: %s.", strings.Join(s, ","))
	}
	p.step(">>> Check slots coverage...")
	if r.SlotsCovered == hashslot.Count {
		p.ok("[OK] All %d slots covered.", hashslot.Count)
	} else {
		p.err("[ERR] Not all %d slots are covered by nodes.", hashslot.Count)
		for _, pr := range r.Problems {
			if pr.Kind == trib.KindUncoveredSlots {
				p.line("Uncovered slots (%d): %s", len(pr.Slots), trib.FormatSlotRanges(pr.Slots))
			}
		}
	}
	if r.SearchedMultipleOwners {
		p.step(">>> Check for multiple slot owners...")
		found := false
		for _, pr := range r.Problems {
			if pr.Kind == trib.KindMultipleOwners {
				found = true
				p.warn("[WARNING] Slot %d has %d owners:", *pr.Slot, len(pr.Nodes))
				for _, n := range pr.Nodes {
					p.line("    %s", n)
				}
			}
		}
		if !found {
			p.ok("[OK] No multiple owners found.")
		}
	}
	p.step(">>> Check nodes, replicas and cluster state...")
	extra := 0
	for _, pr := range r.Problems {
		switch pr.Kind {
		case trib.KindUnreachable, trib.KindAuthFailed, trib.KindConfigDisagreement, trib.KindOpenSlot,
			trib.KindUncoveredSlots, trib.KindMultipleOwners:
			continue
		}
		extra++
		if pr.Severity == trib.SeverityError {
			p.err("[ERR] %s (%s)", pr.Message, pr.Kind)
		} else {
			p.warn("[WARNING] %s (%s)", pr.Message, pr.Kind)
		}
	}
	if extra == 0 {
		p.ok("[OK] No failed nodes; replicas and cluster state are fine.")
	}
	if r.Healthy {
		p.ok("[OK] The cluster is healthy.")
	} else {
		p.err("[ERR] %d problem(s) found.", len(r.Problems))
	}
}

// renderNodes prints the M:/S: lines of redis-cli's clusterManagerShowNodes.
func renderNodes(p *printer, nodes []trib.NodeReport) {
	for _, n := range nodes {
		role := "M"
		if n.Role == "replica" {
			role = "S"
		}
		addr := n.Addr
		if n.Hostname != "" {
			addr += " (" + n.Hostname + ")"
		}
		p.line("%s: %s %s", role, n.ID, addr)
		redisRole := "master"
		if n.Role == "replica" {
			redisRole = "slave"
		}
		if n.SlotRanges == "" {
			p.line("   slots: (0 slots) %s", redisRole)
		} else {
			p.line("   slots:%s (%d slots) %s", n.SlotRanges, n.SlotCount, redisRole)
		}
		if n.Role == "replica" {
			p.line("   replicates %s", n.MasterID)
		} else if n.Replicas > 0 {
			p.line("   %d additional replica(s)", n.Replicas)
		}
		if !n.Reachable {
			p.line("   (unreachable)")
		}
		if p.verbose {
			p.line("   flags:%s keys:%d", strings.Join(n.Flags, ","), n.Keys)
		}
	}
}

func joinSlots(m map[int]string) string {
	slots := make([]int, 0, len(m))
	for s := range m {
		slots = append(slots, s)
	}
	sort.Ints(slots)
	parts := make([]string, len(slots))
	for i, s := range slots {
		parts[i] = strconv.Itoa(s)
	}
	return strings.Join(parts, ",")
}
