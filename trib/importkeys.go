package trib

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/node/hashslot"
	"github.com/clusterctl/clusterctl/node/resp"
)

// ImportOptions tune Import.
type ImportOptions struct {
	// From is the standalone source, host:port.
	From string
	// FromUser and FromPassword authenticate with the source (the cluster's credentials,
	// from Options, go with MIGRATE as AUTH or AUTH2).
	FromUser, FromPassword string
	// Copy keeps the keys on the source (MIGRATE COPY); Replace overwrites keys that already
	// exist in the cluster (MIGRATE REPLACE).
	Copy, Replace bool
	// Batch is the SCAN COUNT and the most keys per MIGRATE; 0 means 1000.
	Batch int
	// Timeout is MIGRATE's own I/O timeout; 0 means 60 s (redis-cli's default).
	Timeout time.Duration
	// ProgressEvery is the interval between progress events; 0 means 1 s.
	ProgressEvery time.Duration
}

func (o ImportOptions) batch() int {
	if o.Batch <= 0 {
		return 1000
	}
	return o.Batch
}

func (o ImportOptions) migrateTimeout() time.Duration {
	if o.Timeout <= 0 {
		return 60 * time.Second
	}
	return o.Timeout
}

// ImportResult says what Import did.
type ImportResult struct {
	Source string `json:"source"`
	// SourceKeys is the source's DBSIZE before the import.
	SourceKeys int64 `json:"source_keys"`
	// Sent counts the keys sent with MIGRATE (a key that expired or was deleted on the way
	// is counted but not moved); PerNode splits them by target master.
	Sent    int64            `json:"sent"`
	PerNode map[string]int64 `json:"per_node"`
	// Passes is the number of SCAN passes (a move repeats the scan while keys remain, as
	// keys written during the import are not guaranteed to be seen by a running scan).
	Passes int `json:"passes"`
	// Left is the source's DBSIZE at the end (0 after a complete move).
	Left    int64         `json:"left"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// ImportError is a failed import: what was done before the failure, and the failure.
type ImportError struct {
	Sent int64
	Copy bool
	Err  error
}

func (e *ImportError) Error() string {
	resume := "rerun the same command to continue: the keys already moved are no longer on the source"
	if e.Copy {
		resume = "rerun with --replace to continue: the keys already copied exist in the cluster"
	}
	return fmt.Sprintf("import stopped after %d key(s): %v; %s", e.Sent, e.Err, resume)
}

func (e *ImportError) Unwrap() error { return e.Err }

// maxImportPasses bounds the scans of a move: keys written to the source during the import
// may need another pass, but a source written faster than it drains must not loop forever.
const maxImportPasses = 5

// Import moves (or with Copy, copies) every key of database 0 of a standalone instance into
// the cluster, as redis-cli's clusterManagerCommandImport does, but faster: instead of one
// MIGRATE round trip per key, every SCAN batch is grouped by target master into one MIGRATE
// ... KEYS per master, and those MIGRATEs are pipelined with the next SCAN, so a batch of
// keys costs a single round trip to the source.
func Import(ctx context.Context, c *Cluster, opts ImportOptions, progress Progress) (*ImportResult, error) {
	start := time.Now()
	progress.emit(LevelStep, ">>> Importing data from %s to cluster %s", opts.From, c.Seed)
	if _, err := requireReady(ctx, c, "import", nil); err != nil {
		return nil, err
	}
	owners, err := slotTargets(c)
	if err != nil {
		return nil, err
	}
	srcOpts := Options{User: opts.FromUser, Password: opts.FromPassword, TLS: c.Opts.TLS,
		Timeout: c.Opts.timeout() + opts.migrateTimeout()}
	src, err := Dial(ctx, opts.From, srcOpts)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer src.Close()
	vs, err := src.Pipeline(ctx, [][]string{{"INFO"}, {"DBSIZE"}})
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	for _, v := range vs {
		if err := v.Err(); err != nil {
			return nil, fmt.Errorf("source %s: %w", opts.From, err)
		}
	}
	info := ParseInfo(string(vs[0].Str))
	if info["cluster_enabled"] == "1" {
		return nil, fmt.Errorf("the source %s is a cluster node: import reads a standalone instance (to move keys between clusters, use reshard)", opts.From)
	}
	res := &ImportResult{Source: opts.From, SourceKeys: vs[1].Int, PerNode: map[string]int64{}}
	for k := range info {
		if strings.HasPrefix(k, "db") && k != "db0" {
			progress.emit(LevelWarn, "*** The source has keys in %s: only db0 is imported (a cluster has one database)", k)
		}
	}
	progress.emit(LevelWarn, "*** Importing %d keys from DB 0", res.SourceKeys)
	im := &importer{c: c, src: src, owners: owners, opts: opts, res: res, progress: progress, start: start}
	retries := 0
	for res.Passes < maxImportPasses {
		res.Passes++
		if err := im.pass(ctx); err != nil {
			if !retryableImport(err, opts) || retries >= maxImportRetries {
				return res, &ImportError{Sent: res.Sent, Copy: opts.Copy, Err: err}
			}
			// The keys a refused MIGRATE carried are still on the source: once the cluster
			// serves again, another pass picks them up.
			retries++
			res.Passes--
			progress.emit(LevelWarn, "*** %v; waiting for the cluster to serve again (retry %d of %d)", err, retries, maxImportRetries)
			if werr := waitFor(ctx, clusterRecoverWait, func() (bool, error) { return clusterServes(ctx, c) }); werr != nil {
				return res, &ImportError{Sent: res.Sent, Copy: opts.Copy, Err: fmt.Errorf("%v; the cluster did not recover: %w", err, werr)}
			}
			continue
		}
		left, err := src.Int(ctx, "DBSIZE")
		if err != nil {
			return res, &ImportError{Sent: res.Sent, Copy: opts.Copy, Err: err}
		}
		res.Left = left
		if opts.Copy || left == 0 {
			break
		}
	}
	res.Elapsed = time.Since(start)
	if !opts.Copy && res.Left > 0 {
		return res, &ImportError{Sent: res.Sent, Err: fmt.Errorf("%d key(s) are still on the source after %d passes (is it being written to?)", res.Left, res.Passes)}
	}
	progress.emit(LevelOK, "[OK] Imported %d key(s) in %v (%.0f keys/s).", res.Sent, res.Elapsed.Round(time.Millisecond), rate(res.Sent, res.Elapsed))
	return res, nil
}

// maxImportRetries bounds the passes restarted after a transient refusal of the cluster;
// clusterRecoverWait how long each waits for the cluster to serve again.
const (
	maxImportRetries   = 5
	clusterRecoverWait = 30 * time.Second
)

// retryableImport reports whether a pass failed on a transient state of the cluster (a
// master briefly flagged as failing makes the targets answer CLUSTERDOWN; a slot being
// moved TRYAGAIN) and whether sending the same keys again is safe: a move leaves the keys
// not moved on the source, a copy with --replace overwrites what it copied already.
func retryableImport(err error, opts ImportOptions) bool {
	if opts.Copy && !opts.Replace {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "CLUSTERDOWN") || strings.Contains(msg, "TRYAGAIN")
}

// clusterServes reports whether every reachable master reports cluster_state:ok.
func clusterServes(ctx context.Context, c *Cluster) (bool, error) {
	for _, m := range c.ReachableMasters() {
		text, err := m.client.String(ctx, "CLUSTER", "INFO")
		if err != nil {
			return false, err
		}
		if ParseInfo(text)["cluster_state"] != "ok" {
			return false, nil
		}
	}
	return true, nil
}

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// importTarget is the master serving a slot, as the source must address it.
type importTarget struct {
	host, port string
	addr       string
}

// slotTargets maps every slot to its master.
func slotTargets(c *Cluster) ([]*importTarget, error) {
	out := make([]*importTarget, hashslot.Count)
	byNode := map[*Node]*importTarget{}
	for slot, owners := range c.SlotOwners() {
		n := owners[0]
		t := byNode[n]
		if t == nil {
			host, port, err := net.SplitHostPort(n.Addr())
			if err != nil {
				return nil, fmt.Errorf("master %s: %w", n.Dial, err)
			}
			t = &importTarget{host: host, port: port, addr: n.Addr()}
			byNode[n] = t
		}
		out[slot] = t
	}
	for s, t := range out {
		if t == nil {
			return nil, fmt.Errorf("slot %d has no master: run clusterctl fix first", s)
		}
	}
	return out, nil
}

type importer struct {
	c        *Cluster
	src      *Client
	owners   []*importTarget
	opts     ImportOptions
	res      *ImportResult
	progress Progress
	start    time.Time
	lastLog  time.Time
}

// pendingMigrate is one MIGRATE in flight and the keys it carries.
type pendingMigrate struct {
	target *importTarget
	keys   int
}

// pass scans the source once. Each round trip carries the MIGRATEs of the previous SCAN
// batch and the next SCAN.
func (im *importer) pass(ctx context.Context) error {
	cursor := "0"
	var cmds [][]string
	var pending []pendingMigrate
	for {
		cmds = append(cmds, []string{"SCAN", cursor, "COUNT", strconv.Itoa(im.opts.batch())})
		vs, err := im.src.Pipeline(ctx, cmds)
		if err != nil {
			return fmt.Errorf("source %s: %w", im.opts.From, err)
		}
		for i, p := range pending {
			if err := im.migrated(p, vs[i]); err != nil {
				return err
			}
		}
		scan := vs[len(vs)-1]
		if err := scan.Err(); err != nil {
			return fmt.Errorf("SCAN on %s: %w", im.opts.From, err)
		}
		if scan.Kind != resp.Array || len(scan.Elems) != 2 {
			return fmt.Errorf("SCAN on %s: unexpected reply %s", im.opts.From, scan.String())
		}
		cursor = string(scan.Elems[0].Str)
		cmds, pending = im.migrates(scan.Elems[1].Elems)
		if cursor == "0" {
			break
		}
	}
	if len(cmds) == 0 {
		return nil
	}
	vs, err := im.src.Pipeline(ctx, cmds)
	if err != nil {
		return fmt.Errorf("source %s: %w", im.opts.From, err)
	}
	for i, p := range pending {
		if err := im.migrated(p, vs[i]); err != nil {
			return err
		}
	}
	return nil
}

// migrates groups keys by target master into MIGRATE ... KEYS commands of at most Batch
// keys, targets in address order.
func (im *importer) migrates(keys []resp.Value) ([][]string, []pendingMigrate) {
	groups := map[*importTarget][]string{}
	for _, k := range keys {
		t := im.owners[hashslot.Of(k.Str)]
		groups[t] = append(groups[t], string(k.Str))
	}
	targets := make([]*importTarget, 0, len(groups))
	for t := range groups {
		targets = append(targets, t)
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].addr < targets[j].addr })
	var cmds [][]string
	var pending []pendingMigrate
	for _, t := range targets {
		ks := groups[t]
		for len(ks) > 0 {
			n := min(len(ks), im.opts.batch())
			cmds = append(cmds, im.migrateArgs(t, ks[:n]))
			pending = append(pending, pendingMigrate{target: t, keys: n})
			ks = ks[n:]
		}
	}
	return cmds, pending
}

func (im *importer) migrateArgs(t *importTarget, keys []string) []string {
	args := []string{"MIGRATE", t.host, t.port, "", "0", strconv.FormatInt(im.opts.migrateTimeout().Milliseconds(), 10)}
	if im.opts.Copy {
		args = append(args, "COPY")
	}
	if im.opts.Replace {
		args = append(args, "REPLACE")
	}
	switch o := im.c.Opts; {
	case o.User != "" && o.Password != "":
		args = append(args, "AUTH2", o.User, o.Password)
	case o.Password != "":
		args = append(args, "AUTH", o.Password)
	}
	args = append(args, "KEYS")
	return append(args, keys...)
}

// migrated accounts for one MIGRATE reply.
func (im *importer) migrated(p pendingMigrate, v resp.Value) error {
	if err := v.Err(); err != nil {
		var re resp.ReplyError
		if errors.As(err, &re) && re.Prefix() == "NOKEY" {
			return nil // every key of the batch expired or was deleted meanwhile
		}
		// The source relays the target's refusal inside its own error:
		// "ERR Target instance replied with error: BUSYKEY Target key name already exists."
		if strings.Contains(err.Error(), "BUSYKEY") {
			return fmt.Errorf("MIGRATE to %s: a key already exists in the cluster (%w): rerun with --replace to overwrite it", p.target.addr, err)
		}
		return fmt.Errorf("MIGRATE from %s to %s: %w", im.opts.From, p.target.addr, err)
	}
	im.res.Sent += int64(p.keys)
	im.res.PerNode[p.target.addr] += int64(p.keys)
	every := im.opts.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	if now := time.Now(); now.Sub(im.lastLog) >= every {
		im.lastLog = now
		im.progress.emit(LevelInfo, "Imported %d of %d key(s) (%.0f keys/s)", im.res.Sent, im.res.SourceKeys, rate(im.res.Sent, now.Sub(im.start)))
	}
	return nil
}
