package trib

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/clusterctl/clusterctl/node/resp"
)

// CallTargets says which nodes Call runs a command on.
type CallTargets int

const (
	// CallAllNodes runs on every node, masters and replicas.
	CallAllNodes CallTargets = iota
	// CallOnlyMasters runs on the masters (redis-cli's --cluster-only-masters).
	CallOnlyMasters
	// CallOnlyReplicas runs on the replicas (redis-cli's --cluster-only-replicas).
	CallOnlyReplicas
)

// CallReply is one node's answer to Call.
type CallReply struct {
	Node string `json:"node"`
	ID   string `json:"id"`
	Role string `json:"role"`
	// Reply is the reply as JSON-friendly values: string, int64, float64, bool, nil or a
	// list of them. Unset when the node failed.
	Reply any `json:"reply"`
	// Text is the reply formatted as redis-cli's cliFormatReplyRaw formats it.
	Text string `json:"-"`
	// ReplyError is set when the node answered with an error reply.
	ReplyError string `json:"reply_error,omitempty"`
	// Err is set when the node could not be reached or stopped answering.
	Err error `json:"-"`
	// Error is Err as text, for --json.
	Error string `json:"error,omitempty"`
}

// Failed reports whether the node did not answer or answered with an error.
func (r CallReply) Failed() bool { return r.Err != nil || r.ReplyError != "" }

// Call runs one command on the selected nodes of a loaded cluster, in parallel, and returns
// the replies in the cluster's load order (redis-cli's clusterManagerCommandCall runs them
// one after the other). A node that could not be loaded gets its load error.
func Call(ctx context.Context, c *Cluster, args []string, targets CallTargets) []CallReply {
	var nodes []*Node
	for _, n := range c.Nodes {
		switch {
		case targets == CallOnlyMasters && !n.IsMaster():
		case targets == CallOnlyReplicas && !n.IsReplica():
		default:
			nodes = append(nodes, n)
		}
	}
	out := make([]CallReply, len(nodes))
	for i, n := range nodes {
		out[i] = CallReply{Node: n.Addr(), ID: n.ID, Role: "master"}
		if n.IP == "" {
			out[i].Node = n.Dial
		}
		if n.IsReplica() {
			out[i].Role = "replica"
		}
		if !n.Reachable() {
			out[i].Err, out[i].Error = n.Err, n.Err.Error()
		}
	}
	var wg sync.WaitGroup
	for i, n := range nodes {
		if !n.Reachable() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := n.client.Do(ctx, args...)
			var re resp.ReplyError
			switch {
			case errors.As(err, &re):
				out[i].ReplyError = string(re)
				out[i].Text = FormatReplyRaw(v)
			case err != nil:
				out[i].Err, out[i].Error = err, err.Error()
			default:
				out[i].Reply = ReplyJSON(v)
				out[i].Text = FormatReplyRaw(v)
			}
		}()
	}
	wg.Wait()
	return out
}

// FormatReplyRaw renders a reply as redis-cli's cliFormatReplyRaw does (what `call` and
// `redis-cli --raw` print): strings as they are, integers in decimal, nil as nothing, an
// error as its text followed by a newline, and the elements of an aggregate one per line.
func FormatReplyRaw(v resp.Value) string {
	var b strings.Builder
	formatRaw(&b, v)
	return b.String()
}

func formatRaw(b *strings.Builder, v resp.Value) {
	if v.IsNull || v.Kind == resp.Null {
		return
	}
	switch v.Kind {
	case resp.Error, resp.BlobError:
		b.Write(v.Str)
		b.WriteByte('\n')
	case resp.Integer:
		b.WriteString(strconv.FormatInt(v.Int, 10))
	case resp.Double:
		b.WriteString(strconv.FormatFloat(v.Float, 'g', 17, 64))
	case resp.Boolean:
		if v.Bool {
			b.WriteString("(true)")
		} else {
			b.WriteString("(false)")
		}
	case resp.Array, resp.Set, resp.Push, resp.Map:
		for i, e := range v.Elems {
			if i > 0 {
				b.WriteByte('\n')
			}
			formatRaw(b, e)
		}
	default:
		b.Write(v.Str)
	}
}

// ReplyJSON converts a reply to values encoding/json renders naturally: bulk and status
// strings as strings, integers as numbers, nil as null, aggregates as arrays (a map as an
// array of alternating keys and values, as RESP2 sends it).
func ReplyJSON(v resp.Value) any {
	if v.IsNull || v.Kind == resp.Null {
		return nil
	}
	switch v.Kind {
	case resp.Integer:
		return v.Int
	case resp.Double:
		return v.Float
	case resp.Boolean:
		return v.Bool
	case resp.Array, resp.Set, resp.Push, resp.Map:
		out := make([]any, 0, len(v.Elems))
		for _, e := range v.Elems {
			out = append(out, ReplyJSON(e))
		}
		return out
	}
	return string(v.Str)
}
