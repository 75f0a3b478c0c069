package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/node/resp"
	"github.com/clusterctl/clusterctl/node/server/internal/difftest"
)

// TestDifferentialAgainstRedis sends the same randomized command sequences, over every
// data type, to redis-server and to clusterctl server and requires identical replies:
// 10,000 commands over RESP2 and 3,000 over RESP3, each from a fixed seed, pipelined in
// batches. The first difference fails the test with the seed, the command's index, the
// command, both replies and the commands just before it.
func TestDifferentialAgainstRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{})
	for _, run := range []struct {
		seed  uint64
		proto int
		n     int
	}{{seed: 20240601, proto: 2, n: 10000}, {seed: 7, proto: 3, n: 3000}} {
		t.Run(fmt.Sprintf("seed%d_resp%d", run.seed, run.proto), func(t *testing.T) {
			gen := difftest.New(run.seed)
			redis, ours := dialPipe(t, p.redis, run.proto), dialPipe(t, p.ours, run.proto)
			const batch = 200
			var history []difftest.Command
			start := time.Now()
			for done := 0; done < run.n; {
				cmds := make([]difftest.Command, min(batch, run.n-done))
				for i := range cmds {
					cmds[i] = gen.Next()
				}
				want, got := redis.roundTrip(cmds), ours.roundTrip(cmds)
				for i, c := range cmds {
					w, g := renderAs(want[i], c.Compare), renderAs(got[i], c.Compare)
					if w != g && !withinTolerance(want[i], got[i], c.Tolerance) {
						var before strings.Builder
						for _, h := range history[max(len(history)-12, 0):] {
							before.WriteString("\n    " + h.String())
						}
						t.Fatalf("seed %d, RESP%d, command %d: %s\n got %q\nwant %q\nafter:%s",
							run.seed, run.proto, done+i, c, g, w, before.String())
					}
					history = append(history, c)
				}
				done += len(cmds)
			}
			t.Logf("%d commands in %v, by family %v", run.n, time.Since(start).Round(time.Millisecond), gen.Counts())
		})
	}
}

// pipeClient sends batches of commands and reads their replies.
type pipeClient struct {
	t    *testing.T
	conn net.Conn
	r    *resp.Reader
	w    *resp.Writer
}

func dialPipe(t *testing.T, n *nodetest.Node, proto int) *pipeClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, err := n.Dial(ctx)
	if err != nil {
		t.Fatalf("dial %s: %v", n.Addr(), err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &pipeClient{t: t, conn: conn, r: resp.NewReader(br), w: resp.NewWriter(conn)}
	c.roundTrip([]difftest.Command{
		{Args: []string{"HELLO", fmt.Sprint(proto)}}, {Args: []string{"FLUSHALL"}},
	})
	return c
}

func (c *pipeClient) roundTrip(cmds []difftest.Command) []resp.Value {
	c.t.Helper()
	// Write from a goroutine so a large batch cannot deadlock on full socket buffers.
	errc := make(chan error, 1)
	go func() {
		for _, cmd := range cmds {
			c.w.CommandStrings(cmd.Args...)
		}
		errc <- c.w.Flush()
	}()
	c.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	out := make([]resp.Value, len(cmds))
	for i := range cmds {
		v, err := c.r.ReadValue()
		if err != nil {
			c.t.Fatalf("reply %d of batch (%s): %v", i, cmds[i], err)
		}
		out[i] = v
	}
	if err := <-errc; err != nil {
		c.t.Fatalf("send batch: %v", err)
	}
	return out
}

// withinTolerance reports whether two integer replies differ by at most tol.
func withinTolerance(a, b resp.Value, tol int64) bool {
	if tol <= 0 || a.Kind != resp.Integer || b.Kind != resp.Integer {
		return false
	}
	d := a.Int - b.Int
	return -tol <= d && d <= tol
}

// renderAs renders a reply for comparison, ordering what a hash table ordered.
func renderAs(v resp.Value, how difftest.Compare) string {
	switch how {
	case difftest.Unordered:
		return render(v, true)
	case difftest.UnorderedPairs:
		return render(sortedPairs(v), false)
	case difftest.ScanMembers, difftest.ScanPairs:
		if v.Kind != resp.Array || len(v.Elems) != 2 {
			return render(v, false)
		}
		v.Elems = append([]resp.Value(nil), v.Elems...)
		if how == difftest.ScanPairs {
			v.Elems[1] = sortedPairs(v.Elems[1])
		} else {
			v.Elems[1] = sortValue(v.Elems[1])
		}
		return render(v, false)
	}
	return render(v, false)
}

// sortedPairs sorts an array of pairs: flat (field, value, field, value...) or, as
// RESP3 HRANDFIELD WITHVALUES replies, nested ([field, value], ...).
func sortedPairs(v resp.Value) resp.Value {
	n := 2
	if len(v.Elems) > 0 && v.Elems[0].Kind == resp.Array {
		n = 1
	}
	if len(v.Elems)%n != 0 {
		return v
	}
	groups := make([][]resp.Value, 0, len(v.Elems)/n)
	for i := 0; i < len(v.Elems); i += n {
		groups = append(groups, v.Elems[i:i+n])
	}
	key := func(g []resp.Value) string {
		var b bytes.Buffer
		for _, e := range g {
			b.WriteString(render(e, false))
		}
		return b.String()
	}
	sort.SliceStable(groups, func(i, j int) bool { return key(groups[i]) < key(groups[j]) })
	out := v
	out.Elems = nil
	for _, g := range groups {
		out.Elems = append(out.Elems, g...)
	}
	return out
}
