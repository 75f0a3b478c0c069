package trib

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/node/persist/rdb"
	"github.com/clusterctl/clusterctl/node/resp"
)

// Framings of an RDB transfer, as a master announces them after +FULLRESYNC.
const (
	// FramingLength is "$<length>\r\n" then exactly that many bytes (disk-based transfer).
	FramingLength = "length"
	// FramingEOF is "$EOF:<40 random bytes>\r\n", the payload, then the same 40 bytes
	// (diskless transfer, only to replicas that announced REPLCONF capa eof).
	FramingEOF = "eof"
)

// eofMarkLen is RDB_EOF_MARK_SIZE: the length of the diskless transfer's end mark.
const eofMarkLen = 40

// RDBTransfer describes one RDB received over the replication protocol.
type RDBTransfer struct {
	// ReplID and Offset are the master's replication ID and offset from +FULLRESYNC: the
	// point in the master's history the RDB holds.
	ReplID string `json:"repl_id,omitempty"`
	Offset int64  `json:"repl_offset"`
	// Framing is FramingLength or FramingEOF.
	Framing string `json:"framing"`
	// Bytes is the size of the RDB payload.
	Bytes int64 `json:"bytes"`
}

// FetchRDBOptions tune FetchRDB.
type FetchRDBOptions struct {
	// Disk asks for a disk-based transfer: without REPLCONF capa eof the master saves the
	// RDB to its own disk first and sends it with a length. By default the master may
	// stream it diskless (repl-diskless-sync, the default since Redis 7.0).
	Disk bool
	// Idle bounds the wait for each read of the transfer (the master sends a newline every
	// second while it prepares the RDB); 0 means 60 s.
	Idle time.Duration
}

// FetchRDB fetches a snapshot of the node at addr over the replication protocol, as
// `redis-cli --rdb` does: REPLCONF rdb-only 1 (so the master closes the link after the RDB
// instead of streaming its writes) and, unless opts.Disk, REPLCONF capa eof; then
// PSYNC ? -1, whose +FULLRESYNC reply gives the replication ID and offset; then the RDB
// with either framing, written to w.
func FetchRDB(ctx context.Context, addr string, opts Options, w io.Writer, fopts FetchRDBOptions) (*RDBTransfer, error) {
	c, err := Dial(ctx, addr, opts)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.fetchRDB(ctx, w, fopts)
}

func (c *Client) fetchRDB(ctx context.Context, w io.Writer, fopts FetchRDBOptions) (*RDBTransfer, error) {
	confs := [][]string{{"REPLCONF", "rdb-only", "1"}}
	if !fopts.Disk {
		confs = append(confs, []string{"REPLCONF", "capa", "eof"})
	}
	// Replies are checked loosely: a server before 7.0 does not know rdb-only and then
	// simply keeps the link open after the RDB, which is closed here anyway.
	vs, err := c.Pipeline(ctx, confs)
	if err != nil {
		return nil, err
	}
	if len(vs) > 1 {
		if err := vs[1].Err(); err != nil {
			return nil, fmt.Errorf("REPLCONF capa eof on %s: %w", c.addr, err)
		}
	}
	// PSYNC must be alone on the wire: Redis refuses it while replies are pending.
	v, err := c.Do(ctx, "PSYNC", "?", "-1")
	if err != nil {
		return nil, fmt.Errorf("PSYNC on %s: %w", c.addr, err)
	}
	t := &RDBTransfer{}
	f := strings.Fields(string(v.Str))
	if v.Kind != resp.SimpleString || len(f) != 3 || f[0] != "FULLRESYNC" {
		return nil, fmt.Errorf("PSYNC on %s: expected +FULLRESYNC <replid> <offset>, got %q", c.addr, v.String())
	}
	t.ReplID = f[1]
	if t.Offset, err = strconv.ParseInt(f[2], 10, 64); err != nil {
		return nil, fmt.Errorf("PSYNC on %s: bad offset in %q", c.addr, v.String())
	}
	idle := fopts.Idle
	if idle <= 0 {
		idle = 60 * time.Second
	}
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Now()) })
	defer stop()
	src := &idleReader{r: c.r.BufioReader(), conn: c, idle: idle}
	t.Framing, t.Bytes, err = copyRDBPayload(bufio.NewReaderSize(src, 64<<10), w)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("RDB transfer from %s: %w", c.addr, err)
	}
	return t, nil
}

// idleReader reads from the client's buffered connection, moving the deadline forward
// before every read so that only an idle link times out, not a long transfer.
type idleReader struct {
	r    *bufio.Reader
	conn *Client
	idle time.Duration
}

func (ir *idleReader) Read(p []byte) (int, error) {
	if ir.r.Buffered() == 0 {
		ir.conn.conn.SetDeadline(time.Now().Add(ir.idle))
	}
	return ir.r.Read(p)
}

// maxHeaderLine bounds the "$..." line and the keepalive newlines before it.
const maxHeaderLine = 128

// copyRDBPayload reads the transfer that follows +FULLRESYNC: any keepalive newlines, then
// "$<length>\r\n" and that many bytes, or "$EOF:<mark>\r\n" and bytes up to the mark. The
// payload goes to w. It returns the framing and the payload size.
func copyRDBPayload(r *bufio.Reader, w io.Writer) (string, int64, error) {
	var line []byte
	for {
		var err error
		line, err = readHeaderLine(r)
		if err != nil {
			return "", 0, err
		}
		if len(line) > 0 {
			break // an empty line is the keepalive a master sends while it prepares the RDB
		}
	}
	if line[0] == '-' {
		return "", 0, resp.ReplyError(line[1:])
	}
	if line[0] != '$' {
		return "", 0, fmt.Errorf("expected the RDB header ($<length> or $EOF:<mark>), got %q", line)
	}
	if mark, ok := bytes.CutPrefix(line[1:], []byte("EOF:")); ok {
		if len(mark) != eofMarkLen {
			return "", 0, fmt.Errorf("EOF mark of %d bytes, want %d", len(mark), eofMarkLen)
		}
		n, err := copyUntilMark(r, w, mark)
		return FramingEOF, n, err
	}
	size, ok := resp.ParseInt(line[1:])
	if !ok || size < 0 {
		return "", 0, fmt.Errorf("bad RDB length %q", line)
	}
	n, err := io.CopyN(w, r, size)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return "", n, fmt.Errorf("after %d of %d bytes: %w", n, size, err)
	}
	return FramingLength, n, nil
}

// readHeaderLine reads one line ending in "\n" (with or without "\r"), at most
// maxHeaderLine bytes, without the line ending.
func readHeaderLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("reading the RDB header: %w", err)
		}
		if b == '\n' {
			return bytes.TrimSuffix(line, []byte("\r")), nil
		}
		if len(line) >= maxHeaderLine {
			return nil, fmt.Errorf("RDB header line longer than %d bytes", maxHeaderLine)
		}
		line = append(line, b)
	}
}

// copyUntilMark copies r to w up to the first occurrence of mark, which is not copied. It
// holds back the last len(mark) bytes read, since they may be the start of the mark. (The
// mark is 40 random bytes: like Redis's replica, this trusts it not to occur in the data.)
func copyUntilMark(r io.Reader, w io.Writer, mark []byte) (int64, error) {
	buf := make([]byte, 64<<10+len(mark))
	held := 0 // bytes at the start of buf not yet written: the tail that may be the mark
	var written int64
	for {
		n, err := r.Read(buf[held:])
		held += n
		// The held-back tail and the new bytes are searched together, so a mark split
		// across reads is found; nothing that follows it is read as payload.
		if i := bytes.Index(buf[:held], mark); n > 0 && i >= 0 {
			m, werr := w.Write(buf[:i])
			return written + int64(m), werr
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return written, fmt.Errorf("after %d bytes, before the EOF mark: %w", written, err)
		}
		if held > len(mark) {
			out := held - len(mark)
			m, werr := w.Write(buf[:out])
			written += int64(m)
			if werr != nil {
				return written, werr
			}
			held = copy(buf, buf[out:held])
		}
	}
}

// BackupOptions tune Backup.
type BackupOptions struct {
	// Dir receives <node-id>.rdb per master and nodes.json; it is created if missing.
	Dir string
	FetchRDBOptions
}

// RDBFile is one master's snapshot in a backup.
type RDBFile struct {
	NodeID string `json:"node_id"`
	Node   string `json:"node"`
	// File is the file name inside the backup directory (empty when the fetch failed).
	File string `json:"file,omitempty"`
	RDBTransfer
	// Keys is the number of keys the rdb codec read back from the file; RDBVersion its
	// format version; SHA256 the file's digest.
	Keys       int64     `json:"keys"`
	RDBVersion int       `json:"rdb_version,omitempty"`
	SHA256     string    `json:"sha256,omitempty"`
	Started    time.Time `json:"started"`
	// Elapsed is the time the transfer and the verification took.
	Elapsed time.Duration `json:"elapsed_ns"`
	Error   string        `json:"error,omitempty"`
}

// TopologyNode is one node of nodes.json.
type TopologyNode struct {
	ID          string   `json:"id"`
	Addr        string   `json:"addr"`
	Hostname    string   `json:"hostname,omitempty"`
	Role        string   `json:"role"`
	MasterID    string   `json:"master_id,omitempty"`
	Flags       []string `json:"flags"`
	ConfigEpoch uint64   `json:"config_epoch"`
	// Slots are the slot ranges a master serves, as "0-5460" strings.
	Slots     []string `json:"slots"`
	SlotCount int      `json:"slot_count"`
	// RDB is the file holding the master's data, when it was backed up.
	RDB string `json:"rdb,omitempty"`
}

// Topology is the content of nodes.json: the cluster as the seed's node saw it when the
// backup started, and the RDB files taken.
type Topology struct {
	Format  int            `json:"format"`
	Created time.Time      `json:"created"`
	Seed    string         `json:"seed"`
	Nodes   []TopologyNode `json:"nodes"`
	RDBs    []RDBFile      `json:"rdbs"`
}

// TopologyFile is the name of the topology file in a backup directory.
const TopologyFile = "nodes.json"

// BackupResult says what Backup did.
type BackupResult struct {
	Dir     string        `json:"dir"`
	RDBs    []RDBFile     `json:"rdbs"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Backup fetches an RDB from every master of the cluster at once (FetchRDB), writes each
// to <dir>/<node-id>.rdb atomically (a temporary file, fsync, rename) once the rdb codec
// has read it back completely (every key, and the checksum), and writes nodes.json with the
// topology and the files. A master that fails is reported in its RDBFile and in the error;
// the others are still written.
func Backup(ctx context.Context, c *Cluster, opts BackupOptions, progress Progress) (*BackupResult, error) {
	start := time.Now()
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("backup directory: %w", err)
	}
	masters := c.Masters()
	if len(masters) == 0 {
		return nil, fmt.Errorf("the cluster of %s has no master", c.Seed)
	}
	progress.emit(LevelStep, ">>> Backing up %d master(s) of cluster %s to %s", len(masters), c.Seed, opts.Dir)
	res := &BackupResult{Dir: opts.Dir, RDBs: make([]RDBFile, len(masters))}
	var wg sync.WaitGroup
	for i, m := range masters {
		res.RDBs[i] = RDBFile{NodeID: m.ID, Node: m.Dial}
		if !m.Reachable() {
			res.RDBs[i].Error = m.Err.Error()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res.RDBs[i] = backupMaster(ctx, c.Opts, m, opts)
			if f := res.RDBs[i]; f.Error == "" {
				progress.emit(LevelOK, "[OK] %s: %s, %d bytes, %d keys (%s transfer, %v)", m.Dial, f.File, f.Bytes, f.Keys, f.Framing, f.Elapsed.Round(time.Millisecond))
			} else {
				progress.emit(LevelErr, "[ERR] %s: %s", m.Dial, f.Error)
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	topo := Topology{Format: 1, Created: start.UTC(), Seed: c.Seed, RDBs: res.RDBs}
	files := map[string]string{}
	for _, f := range res.RDBs {
		files[f.NodeID] = f.File
	}
	for _, n := range c.masterFirst() {
		tn := TopologyNode{ID: n.ID, Addr: n.Addr(), Hostname: n.Hostname, Role: "master", MasterID: n.MasterID,
			Flags: n.Flags, ConfigEpoch: n.ConfigEpoch, Slots: []string{}, SlotCount: len(n.Slots), RDB: files[n.ID]}
		if n.IsReplica() {
			tn.Role = "replica"
		}
		for _, r := range SlotRanges(n.Slots) {
			if r[0] == r[1] {
				tn.Slots = append(tn.Slots, strconv.Itoa(r[0]))
			} else {
				tn.Slots = append(tn.Slots, fmt.Sprintf("%d-%d", r[0], r[1]))
			}
		}
		topo.Nodes = append(topo.Nodes, tn)
	}
	data, err := json.MarshalIndent(topo, "", "  ")
	if err != nil {
		return res, err
	}
	if err := writeFileAtomic(opts.Dir, TopologyFile, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	}); err != nil {
		return res, fmt.Errorf("write %s: %w", TopologyFile, err)
	}
	var failed []string
	for _, f := range res.RDBs {
		if f.Error != "" {
			failed = append(failed, f.Node)
		}
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		return res, fmt.Errorf("the backup of %d master(s) failed (%s); the other files and %s are written: rerun backup to retry",
			len(failed), strings.Join(failed, ", "), TopologyFile)
	}
	progress.emit(LevelOK, "[OK] Backup of %d master(s) written to %s in %v.", len(masters), opts.Dir, res.Elapsed.Round(time.Millisecond))
	return res, nil
}

// backupMaster fetches, verifies and writes one master's RDB.
func backupMaster(ctx context.Context, opts Options, m *Node, bopts BackupOptions) RDBFile {
	f := RDBFile{NodeID: m.ID, Node: m.Dial, Started: time.Now().UTC()}
	name := m.ID + ".rdb"
	err := writeFileAtomic(bopts.Dir, name, func(w io.Writer) error {
		sum := sha256.New()
		t, err := FetchRDB(ctx, m.Dial, opts, io.MultiWriter(w, sum), bopts.FetchRDBOptions)
		if err != nil {
			return err
		}
		f.RDBTransfer = *t
		f.SHA256 = hex.EncodeToString(sum.Sum(nil))
		return nil
	}, func(path string) error {
		keys, version, err := verifyRDB(path)
		f.Keys, f.RDBVersion = keys, version
		return err
	})
	f.Elapsed = time.Since(f.Started)
	if err != nil {
		f.Error = err.Error()
		return f
	}
	f.File = name
	return f
}

// verifyRDB reads an RDB file to its end with the rdb codec (which checks every structure
// and the trailing CRC64) and returns its key count and version.
func verifyRDB(path string) (int64, int, error) {
	file, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer file.Close()
	d := rdb.NewDecoder(file)
	var keys int64
	for {
		_, err := d.Next()
		if errors.Is(err, io.EOF) {
			return keys, d.Version(), nil
		}
		if err != nil {
			return keys, d.Version(), fmt.Errorf("the RDB received does not verify after %d key(s): %w", keys, err)
		}
		keys++
	}
}

// writeFileAtomic writes dir/name through a temporary file in dir: write fills it, each
// check runs on the complete, synced temporary file, and only then is it renamed over name
// and the directory synced. On any error the temporary file is removed and name is left as
// it was.
func writeFileAtomic(dir, name string, write func(io.Writer) error, checks ...func(path string) error) (err error) {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 256<<10)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	for _, check := range checks {
		if err = check(tmp.Name()); err != nil {
			return err
		}
	}
	if err = os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
