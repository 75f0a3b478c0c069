// Package hugepage asks Linux to back the node's heap with transparent huge pages.
//
// The keyspace is a pointer-chasing structure: a lookup touches a bucket array and an
// entry that lie anywhere in a heap of hundreds of megabytes, so nearly every access
// misses the TLB. With 4 KB pages the TLB covers a few megabytes; with 2 MB pages it
// covers gigabytes. On a virtual machine a TLB miss also walks the host's page tables,
// and it then dominates a lookup: on the machine docs/BENCHMARKS.md was measured on, the
// dictionary lookup of a million SETs took 1.65 s of CPU with 4 KB pages and 0.33 s with
// huge pages.
//
// Most distributions set /sys/kernel/mm/transparent_hugepage/enabled to "madvise": only
// memory a process marks with madvise(MADV_HUGEPAGE) gets huge pages, and the Go runtime
// marks only its own metadata. An Advisor marks the heap's mappings, and marks them again
// whenever the runtime has mapped more memory, since each new arena is a new mapping.
//
// redis-server turns huge pages off for itself (disable-thp) because the child it forks
// for a snapshot would copy 2 MB instead of 4 KB on every page the parent writes to. The
// node snapshots without forking, so it has no such cost.
package hugepage

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime/metrics"
	"strconv"
)

// hugePageSize is the size of a transparent huge page on x86-64 and arm64 (4 KB granule).
const hugePageSize = 2 << 20

// mode is the system-wide THP setting.
type mode string

// The modes of /sys/kernel/mm/transparent_hugepage/enabled.
const (
	thpAlways  mode = "always"
	thpMadvise mode = "madvise"
	thpNever   mode = "never"
)

// systemMode reads the active THP mode: the bracketed word of the sysfs file.
func systemMode() (mode, error) {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		return "", fmt.Errorf("read THP mode: %w", err)
	}
	return parseMode(b)
}

func parseMode(b []byte) (mode, error) {
	i := bytes.IndexByte(b, '[')
	j := bytes.IndexByte(b, ']')
	if i < 0 || j < i {
		return "", fmt.Errorf("THP mode %q: no bracketed choice", bytes.TrimSpace(b))
	}
	return mode(b[i+1 : j]), nil
}

// region is an address range [Start, End).
type region struct{ Start, End uintptr }

// anonymousRegions returns the private, writable, anonymous mappings of at least one
// huge page listed in a /proc/PID/maps file: the Go heap's arenas, among others.
func anonymousRegions(r io.Reader) ([]region, error) {
	var out []region
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		// start-end perms offset dev inode [path]
		f := bytes.Fields(sc.Bytes())
		if len(f) < 5 || len(f) > 6 {
			continue
		}
		if string(f[1]) != "rw-p" || string(f[4]) != "0" || len(f) == 6 {
			continue
		}
		dash := bytes.IndexByte(f[0], '-')
		if dash < 0 {
			return nil, fmt.Errorf("maps line %q: no address range", sc.Text())
		}
		start, err := strconv.ParseUint(string(f[0][:dash]), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("maps line %q: %w", sc.Text(), err)
		}
		end, err := strconv.ParseUint(string(f[0][dash+1:]), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("maps line %q: %w", sc.Text(), err)
		}
		if end < start+hugePageSize {
			continue
		}
		out = append(out, region{uintptr(start), uintptr(end)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read memory maps: %w", err)
	}
	return out, nil
}

// Advisor marks the process's heap for huge pages. It is not safe for concurrent use; the
// server's cron owns it.
type Advisor struct {
	enabled bool
	mapped  uint64 // runtime-mapped bytes at the last marking
	sample  []metrics.Sample
}

// NewAdvisor returns an Advisor that acts only when the system's mode is madvise: with
// "always" the heap gets huge pages anyway, and "never" forbids them.
func NewAdvisor() *Advisor {
	m, err := systemMode()
	return &Advisor{
		enabled: err == nil && m == thpMadvise,
		sample:  []metrics.Sample{{Name: "/memory/classes/total:bytes"}},
	}
}

// Enabled reports whether Refresh marks anything.
func (a *Advisor) Enabled() bool { return a.enabled }

// Refresh marks the heap's mappings when the runtime has mapped more memory since the last
// call (reading that figure costs no system call, so calling it every cron tick is cheap).
// It returns the bytes marked, 0 when nothing changed.
func (a *Advisor) Refresh() (int64, error) {
	if !a.enabled {
		return 0, nil
	}
	metrics.Read(a.sample)
	total := a.sample[0].Value.Uint64()
	if total <= a.mapped {
		return 0, nil
	}
	a.mapped = total
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, fmt.Errorf("huge pages: %w", err)
	}
	defer f.Close()
	regions, err := anonymousRegions(f)
	if err != nil {
		return 0, fmt.Errorf("huge pages: %w", err)
	}
	var marked int64
	for _, r := range regions {
		if err := advise(r); err != nil {
			return marked, fmt.Errorf("huge pages for %#x-%#x: %w", r.Start, r.End, err)
		}
		marked += int64(r.End - r.Start)
	}
	return marked, nil
}
