package hugepage

import (
	"bufio"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

func TestParseMode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want mode
		err  bool
	}{
		{"always [madvise] never\n", thpMadvise, false},
		{"[always] madvise never\n", thpAlways, false},
		{"always madvise [never]\n", thpNever, false},
		{"always madvise never\n", "", true},
		{"", "", true},
	} {
		got, err := parseMode([]byte(tc.in))
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("parseMode(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestAnonymousRegions(t *testing.T) {
	maps := `00400000-00a17000 r-xp 00000000 fe:00 9978691                            /usr/bin/clusterctl
c000000000-c004000000 rw-p 00000000 00:00 0 
c004000000-c004001000 rw-p 00000000 00:00 0 
7f0000000000-7f0000400000 rw-p 00000000 00:00 0                          [heap]
7f1000000000-7f1000400000 rw-s 00000000 00:01 1234                       /dev/shm/x
7f2000000000-7f2000400000 ---p 00000000 00:00 0 
7f3000000000-7f3000200000 rw-p 00000000 00:00 0
`
	got, err := anonymousRegions(strings.NewReader(maps))
	if err != nil {
		t.Fatal(err)
	}
	want := []region{{0xc000000000, 0xc004000000}, {0x7f3000000000, 0x7f3000200000}}
	if len(got) != len(want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("region %d = %x, want %x", i, got[i], want[i])
		}
	}
	if _, err := anonymousRegions(strings.NewReader("zz-yy rw-p 00000000 00:00 0\n")); err == nil {
		t.Error("a malformed address range was accepted")
	}
}

// TestRefreshMarksTheHeap checks, on a system in madvise mode, that the mapping holding a
// freshly allocated heap object carries the "hg" (MADV_HUGEPAGE) flag after Refresh.
func TestRefreshMarksTheHeap(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("transparent huge pages are a Linux feature")
	}
	if m, err := systemMode(); err != nil || m != thpMadvise {
		t.Skipf("THP mode is %q (%v); only madvise mode is advised", m, err)
	}
	a := NewAdvisor()
	if !a.Enabled() {
		t.Fatal("the advisor is disabled in madvise mode")
	}
	big := make([]byte, 64<<20) // a fresh arena's worth, so the runtime maps more memory
	addr := uintptr(unsafe.Pointer(&big[len(big)/2]))
	marked, err := a.Refresh()
	if err != nil {
		t.Fatal(err)
	}
	if marked < 64<<20 {
		t.Fatalf("Refresh marked %d bytes, want at least the 64 MB just allocated", marked)
	}
	a.mapped = math.MaxUint64 // as if nothing were mapped since
	if again, err := a.Refresh(); err != nil || again != 0 {
		t.Errorf("a Refresh with no new memory marked %d bytes (%v), want 0", again, err)
	}
	flags := vmFlags(t, addr)
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("the heap mapping at %#x has VmFlags %q, want hg", addr, flags)
	}
	runtime.KeepAlive(big)
}

// vmFlags returns the VmFlags line of the mapping containing addr in /proc/self/smaps.
func vmFlags(t *testing.T, addr uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	inside := false
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) >= 5 && strings.Contains(f[0], "-") { // a mapping's header
			r, err := anonymousRegions(strings.NewReader(line))
			inside = err == nil && len(r) == 1 && r[0].Start <= addr && addr < r[0].End
			continue
		}
		if inside && strings.HasPrefix(line, "VmFlags:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmFlags:"))
		}
	}
	t.Fatalf("no anonymous mapping holds %#x", addr)
	return ""
}
