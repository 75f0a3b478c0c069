package commands

import (
	"context"
	"errors"

	"github.com/clusterctl/clusterctl/trib"
)

// changeOutput is the --json output of a command that changes the cluster: its result, and
// the error that stopped it.
type changeOutput[R any] struct {
	Result R      `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

// runChange loads the cluster through seed, runs change on it with progress printed, writes
// the --json output and maps the error to an exit code (exitForChange); add-node, del-node,
// failover, backup and import differ only in change.
func runChange[R any](ctx context.Context, streams *IOStreams, g globals, seed string,
	change func(context.Context, *trib.Cluster, func(trib.Event)) (R, error)) error {
	p := logPrinter(streams, g)
	cluster, err := trib.Load(ctx, seed, g.Options)
	if err != nil {
		return exitForLoad(err)
	}
	defer cluster.Close()
	res, err := change(ctx, cluster, p.event)
	if g.JSON {
		out := changeOutput[R]{Result: res}
		if err != nil {
			out.Error = err.Error()
		}
		if werr := writeJSON(streams.Out, out); werr != nil {
			return werr
		}
	}
	if err != nil {
		return exitForChange(err)
	}
	return nil
}

// logPrinter prints progress on stdout, or on stderr with --json (the result goes to stdout).
func logPrinter(streams *IOStreams, g globals) *printer {
	if g.JSON {
		return newPrinter(streams.ErrOut, g)
	}
	return newPrinter(streams.Out, g)
}

// exitForChange maps the error of a topology change to an exit code: 3 when it is about
// reaching or authenticating nodes, 1 otherwise.
func exitForChange(err error) error {
	var nr *trib.NotReadyError
	var pf *trib.PreflightError
	switch {
	case errors.As(err, &nr):
		if nr.OnlyUnreachable() {
			return exitWith(ExitUnreachable, err)
		}
	case errors.As(err, &pf):
		if pf.OnlyUnreachable() {
			return exitWith(ExitUnreachable, err)
		}
	case trib.IsUnreachable(err) || trib.IsAuth(err):
		return exitWith(ExitUnreachable, err)
	}
	return exitWith(ExitProblem, err)
}
