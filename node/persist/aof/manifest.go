// Package aof is the append-only file in Redis 7.0's multi-part layout: a directory
// (appenddirname) holding a base file (an RDB snapshot, the "RDB preamble", or commands),
// increment files of commands appended after it, and a manifest naming them in order.
//
//	appendonlydir/
//	  appendonly.aof.1.base.rdb
//	  appendonly.aof.1.incr.aof
//	  appendonly.aof.2.incr.aof
//	  appendonly.aof.manifest    file appendonly.aof.1.base.rdb seq 1 type b
//	                             file appendonly.aof.1.incr.aof seq 1 type i
//	                             file appendonly.aof.2.incr.aof seq 2 type i
//
// The package reads and writes manifests, parses increment files into commands (with
// aof-load-truncated's repair of a torn tail), and appends the effects stream to the
// current increment file under an appendfsync policy (Writer). The server drives
// rewrites: it writes a new base with package snapshot while Writer switches to a new
// increment file at the snapshot's instant, then installs a manifest naming the two.
package aof

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FileType is a manifest entry's type letter.
type FileType byte

// The manifest's file types (aof.c AOF_FILE_TYPE_*).
const (
	Base    FileType = 'b'
	History FileType = 'h'
	Incr    FileType = 'i'
)

// FileInfo is one file of the manifest.
type FileInfo struct {
	Name string
	Seq  int64
	Type FileType
}

// Manifest lists an AOF's files: at most one base, history files awaiting deletion, and
// increment files in the order they apply.
type Manifest struct {
	Base    *FileInfo
	History []FileInfo
	Incrs   []FileInfo
}

// Name suffixes and prefixes of Redis 7.0 (aof.c).
const (
	baseSuffixRDB  = ".base.rdb"
	baseSuffixAOF  = ".base.aof"
	incrSuffix     = ".incr.aof"
	manifestSuffix = ".manifest"
	tempPrefix     = "temp-"
	maxManifestLen = 1024 // MANIFEST_MAX_LINE
)

// ManifestName is the manifest's file name for appendfilename.
func ManifestName(appendFilename string) string { return appendFilename + manifestSuffix }

// BaseName names base file seq; rdb tells an RDB preamble base from a command one.
func BaseName(appendFilename string, seq int64, rdb bool) string {
	suffix := baseSuffixAOF
	if rdb {
		suffix = baseSuffixRDB
	}
	return appendFilename + "." + strconv.FormatInt(seq, 10) + suffix
}

// IncrName names increment file seq.
func IncrName(appendFilename string, seq int64) string {
	return appendFilename + "." + strconv.FormatInt(seq, 10) + incrSuffix
}

// NextBaseSeq and NextIncrSeq are the sequence numbers the next base and increment files
// take (one more than the highest in use, history included for bases as Redis counts).
func (m *Manifest) NextBaseSeq() int64 {
	var n int64
	if m.Base != nil {
		n = m.Base.Seq
	}
	for _, h := range m.History {
		if strings.HasSuffix(h.Name, baseSuffixRDB) || strings.HasSuffix(h.Name, baseSuffixAOF) {
			n = max(n, h.Seq)
		}
	}
	return n + 1
}

// NextIncrSeq is the sequence number of the next increment file.
func (m *Manifest) NextIncrSeq() int64 {
	var n int64
	for _, f := range m.Incrs {
		n = max(n, f.Seq)
	}
	for _, h := range m.History {
		if strings.HasSuffix(h.Name, incrSuffix) {
			n = max(n, h.Seq)
		}
	}
	return n + 1
}

// Empty reports whether the manifest names no base and no increment.
func (m *Manifest) Empty() bool { return m.Base == nil && len(m.Incrs) == 0 }

// Clone returns a deep copy.
func (m *Manifest) Clone() *Manifest {
	c := &Manifest{History: append([]FileInfo(nil), m.History...), Incrs: append([]FileInfo(nil), m.Incrs...)}
	if m.Base != nil {
		b := *m.Base
		c.Base = &b
	}
	return c
}

// Encode renders the manifest as Redis writes it: base, then history, then increments,
// one "file <name> seq <n> type <t>" line each, names quoted when they need it.
func (m *Manifest) Encode() []byte {
	var b bytes.Buffer
	line := func(f FileInfo) {
		fmt.Fprintf(&b, "file %s seq %d type %c\n", quoteName(f.Name), f.Seq, f.Type)
	}
	if m.Base != nil {
		line(*m.Base)
	}
	for _, f := range m.History {
		line(f)
	}
	for _, f := range m.Incrs {
		line(f)
	}
	return b.Bytes()
}

// quoteName quotes a name the way sdscatrepr does when sdsneedsrepr says so.
func quoteName(s string) string {
	needs := s == ""
	for i := 0; i < len(s) && !needs; i++ {
		c := s[i]
		needs = c == '\\' || c == '"' || c == '\'' || c == '\n' || c == '\r' || c == '\t' || c == '\a' || c == '\b' ||
			c == ' ' || c < 0x20 || c >= 0x7f
	}
	if !needs {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if c < 0x20 || c >= 0x7f {
				fmt.Fprintf(&b, `\x%02x`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ErrNoManifest is returned by LoadManifest when the directory or the manifest does not
// exist: the server starts without an AOF, as Redis does.
var ErrNoManifest = errors.New("no AOF manifest")

// LoadManifest reads dir's manifest for appendfilename.
func LoadManifest(dir, appendFilename string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestName(appendFilename))
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoManifest
	}
	if err != nil {
		return nil, fmt.Errorf("open AOF manifest: %w", err)
	}
	defer f.Close()
	m, err := ParseManifest(f)
	if err != nil {
		return nil, fmt.Errorf("AOF manifest %s: %w", path, err)
	}
	return m, nil
}

// ParseManifest parses a manifest as aofLoadManifestFromFile does: '#' lines are
// comments, every other line holds key/value pairs among which file, seq and type are
// required; there is at most one base, and a manifest naming no file is invalid.
func ParseManifest(r io.Reader) (*Manifest, error) {
	m := &Manifest{}
	br := bufio.NewReader(r)
	lines := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if line == "" && err != nil {
			break
		}
		if len(line) > maxManifestLen {
			return nil, errors.New("the AOF manifest file contains a line that is too long")
		}
		if line[len(line)-1] != '\n' {
			return nil, errors.New("the AOF manifest file is invalid format: the last line is not terminated")
		}
		if line[0] == '#' {
			continue
		}
		args, ok := splitArgs(strings.TrimRight(line, "\r\n"))
		if !ok {
			return nil, errors.New("invalid AOF manifest file format: unbalanced quotes")
		}
		if len(args) < 6 || len(args)%2 != 0 {
			return nil, errors.New("invalid AOF manifest file format: a line needs file, seq and type")
		}
		var fi FileInfo
		var haveName, haveSeq, haveType bool
		for i := 0; i < len(args); i += 2 {
			switch strings.ToLower(args[i]) {
			case "file":
				fi.Name, haveName = args[i+1], true
			case "seq":
				n, err := strconv.ParseInt(args[i+1], 10, 64)
				if err != nil {
					return nil, fmt.Errorf("invalid AOF manifest file format: seq %q", args[i+1])
				}
				fi.Seq, haveSeq = n, true
			case "type":
				if len(args[i+1]) != 1 {
					return nil, fmt.Errorf("invalid AOF manifest file format: type %q", args[i+1])
				}
				fi.Type, haveType = FileType(args[i+1][0]), true
			}
		}
		if !haveName || !haveSeq || !haveType || fi.Name == "" || strings.ContainsRune(fi.Name, '/') {
			return nil, errors.New("invalid AOF manifest file format: a line lacks file, seq or type")
		}
		switch fi.Type {
		case Base:
			if m.Base != nil {
				return nil, errors.New("found duplicate base file information")
			}
			b := fi
			m.Base = &b
		case History:
			m.History = append(m.History, fi)
		case Incr:
			if n := len(m.Incrs); n > 0 && fi.Seq <= m.Incrs[n-1].Seq {
				return nil, errors.New("found a non-monotonic sequence number")
			}
			m.Incrs = append(m.Incrs, fi)
		default:
			return nil, fmt.Errorf("unknown AOF file type %q", fi.Type)
		}
		lines++
	}
	if lines == 0 {
		return nil, errors.New("found an empty AOF manifest")
	}
	return m, nil
}

// splitArgs splits a line as sdssplitargs does: spaces separate, double quotes allow
// escapes (\n, \xHH, ...), single quotes only \'; a closing quote must end the word.
func splitArgs(line string) ([]string, bool) {
	var out []string
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return out, true
		}
		var cur strings.Builder
		inDQ, inSQ := false, false
	word:
		for {
			switch {
			case inDQ:
				if i >= len(line) {
					return nil, false
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					v, _ := strconv.ParseUint(line[i+2:i+4], 16, 8)
					cur.WriteByte(byte(v))
					i += 4
				case c == '\\' && i+1 < len(line):
					cur.WriteByte(unescape(line[i+1]))
					i += 2
				case c == '"':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, false
					}
					i++
					break word
				default:
					cur.WriteByte(c)
					i++
				}
			case inSQ:
				if i >= len(line) {
					return nil, false
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					cur.WriteByte('\'')
					i += 2
				case c == '\'':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, false
					}
					i++
					break word
				default:
					cur.WriteByte(c)
					i++
				}
			default:
				if i >= len(line) || isSpace(line[i]) {
					break word
				}
				switch line[i] {
				case '"':
					inDQ = true
				case '\'':
					inSQ = true
				default:
					cur.WriteByte(line[i])
				}
				i++
			}
		}
		out = append(out, cur.String())
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return c
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// WriteManifest installs m as dir's manifest atomically: a temporary file, synced,
// renamed over the manifest, and the directory synced (persistAofManifest).
func WriteManifest(dir, appendFilename string, m *Manifest) error {
	name := ManifestName(appendFilename)
	tmp := filepath.Join(dir, tempPrefix+name)
	if err := writeSynced(tmp, m.Encode()); err != nil {
		return fmt.Errorf("write AOF manifest: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("install AOF manifest: %w", err)
	}
	return SyncDir(dir)
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// SyncDir fsyncs a directory so that files created or renamed in it survive a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
