package commands

import (
	"context"
	"fmt"
	"strconv"

	"github.com/clusterctl/clusterctl/node/hashslot"
	"github.com/clusterctl/clusterctl/trib"
	"github.com/olekukonko/tablewriter"
	"github.com/urfave/cli/v2"
)

func init() { register(newInfoCommand) }

func newInfoCommand(streams *IOStreams) *cli.Command {
	return &cli.Command{
		Name:      "info",
		Usage:     "show keys, slots, replicas, memory and ops/s per master",
		ArgsUsage: "host:port",
		Flags:     withGlobalFlags(),
		Action: func(c *cli.Context) error {
			seed, err := oneAddr(c)
			if err != nil {
				return err
			}
			g, err := readGlobals(c, streams)
			if err != nil {
				return exitWith(ExitUsage, err)
			}
			return runInfo(c.Context, streams, g, seed)
		},
	}
}

// MasterInfo is one row of info.
type MasterInfo struct {
	Addr       string `json:"addr"`
	ID         string `json:"id"`
	Keys       int64  `json:"keys"`
	Slots      int    `json:"slots"`
	Replicas   int    `json:"replicas"`
	UsedMemory int64  `json:"used_memory"`
	MemoryText string `json:"used_memory_human"`
	OpsPerSec  int64  `json:"ops_per_sec"`
	Reachable  bool   `json:"reachable"`
}

// ClusterInfo is the result of info.
type ClusterInfo struct {
	Masters     []MasterInfo `json:"masters"`
	Keys        int64        `json:"keys"`
	KeysPerSlot float64      `json:"keys_per_slot"`
}

func collectInfo(c *trib.Cluster) ClusterInfo {
	var out ClusterInfo
	out.Masters = []MasterInfo{}
	for _, m := range c.Masters() {
		used, _ := strconv.ParseInt(m.Info["used_memory"], 10, 64)
		ops, _ := strconv.ParseInt(m.Info["instantaneous_ops_per_sec"], 10, 64)
		out.Masters = append(out.Masters, MasterInfo{
			Addr: m.Dial, ID: m.ID, Keys: m.Keys, Slots: len(m.Slots), Replicas: len(c.ReplicasOf(m.ID)),
			UsedMemory: used, MemoryText: m.Info["used_memory_human"], OpsPerSec: ops, Reachable: m.Reachable(),
		})
		out.Keys += m.Keys
	}
	out.KeysPerSlot = float64(out.Keys) / hashslot.Count
	return out
}

func runInfo(ctx context.Context, streams *IOStreams, g globals, seed string) error {
	cluster, err := trib.Load(ctx, seed, g.Options)
	if err != nil {
		return exitForLoad(err)
	}
	defer cluster.Close()
	info := collectInfo(cluster)
	if g.JSON {
		return writeJSON(streams.Out, info)
	}
	p := newPrinter(streams.Out, g)
	renderInfo(p, info, p.terminal)
	return nil
}

func idPrefix(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// renderInfo prints a table (on a terminal) or redis-cli's clusterManagerCommandInfo lines
// (for scripts that parse them), then the totals.
func renderInfo(p *printer, info ClusterInfo, table bool) {
	if table {
		t := tablewriter.NewWriter(p.w)
		t.SetHeader([]string{"Master", "ID", "Keys", "Slots", "Replicas", "Memory", "Ops/s"})
		t.SetAutoFormatHeaders(false)
		t.SetAlignment(tablewriter.ALIGN_RIGHT)
		for _, m := range info.Masters {
			mem := m.MemoryText
			if !m.Reachable {
				mem = "unreachable"
			}
			t.Append([]string{m.Addr, idPrefix(m.ID), strconv.FormatInt(m.Keys, 10), strconv.Itoa(m.Slots),
				strconv.Itoa(m.Replicas), mem, strconv.FormatInt(m.OpsPerSec, 10)})
		}
		t.Render()
	} else {
		for _, m := range info.Masters {
			p.line("%s (%s...) -> %d keys | %d slots | %d slaves.", m.Addr, idPrefix(m.ID), m.Keys, m.Slots, m.Replicas)
		}
	}
	p.ok("[OK] %d keys in %d masters.", info.Keys, len(info.Masters))
	p.line("%s keys per slot on average.", fmt.Sprintf("%.2f", info.KeysPerSlot))
}
