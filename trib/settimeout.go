package trib

import (
	"context"
	"fmt"
	"strconv"
	"sync"
)

// MinNodeTimeout is the smallest cluster-node-timeout SetTimeout accepts, as redis-cli
// refuses anything under 100 ms ("Setting a node timeout of less than 100 milliseconds is
// a bad idea.").
const MinNodeTimeout = 100

// TimeoutResult is one node's outcome of SetTimeout.
type TimeoutResult struct {
	Node string `json:"node"`
	ID   string `json:"id"`
	// Set reports that CONFIG SET succeeded: the node runs with the new timeout.
	Set bool `json:"set"`
	// Rewritten reports that CONFIG REWRITE succeeded too: the timeout survives a restart.
	Rewritten bool `json:"rewritten"`
	// Error says what failed (empty when both steps succeeded).
	Error string `json:"error,omitempty"`
}

// OK reports whether both steps succeeded.
func (r TimeoutResult) OK() bool { return r.Set && r.Rewritten }

// SetTimeout runs CONFIG SET cluster-node-timeout ms and CONFIG REWRITE on every node of the
// cluster in parallel (redis-cli's clusterManagerCommandSetTimeout does them one by one),
// and returns each node's outcome in load order. A node that could not be loaded fails with
// its load error. The error is for a timeout under MinNodeTimeout only.
func SetTimeout(ctx context.Context, c *Cluster, ms int) ([]TimeoutResult, error) {
	if ms < MinNodeTimeout {
		return nil, fmt.Errorf("a node timeout of %d ms is under %d ms: setting it is a bad idea", ms, MinNodeTimeout)
	}
	out := make([]TimeoutResult, len(c.Nodes))
	var wg sync.WaitGroup
	for i, n := range c.Nodes {
		out[i] = TimeoutResult{Node: n.Dial, ID: n.ID}
		if !n.Reachable() {
			out[i].Error = n.Err.Error()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = setTimeout(ctx, n, ms)
		}()
	}
	wg.Wait()
	return out, nil
}

func setTimeout(ctx context.Context, n *Node, ms int) TimeoutResult {
	r := TimeoutResult{Node: n.Dial, ID: n.ID}
	if err := n.client.OK(ctx, "CONFIG", "SET", "cluster-node-timeout", strconv.Itoa(ms)); err != nil {
		r.Error = err.Error()
		return r
	}
	r.Set = true
	if err := n.client.OK(ctx, "CONFIG", "REWRITE"); err != nil {
		r.Error = fmt.Sprintf("the new timeout is in effect but not saved to the configuration file: %v", err)
		return r
	}
	r.Rewritten = true
	return r
}
