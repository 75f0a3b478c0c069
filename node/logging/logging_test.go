package logging

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func fixedLogger(t *testing.T, level string) (*Logger, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	l, err := NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	l.pid = 4242
	l.now = func() time.Time { return time.Date(2026, time.November, 3, 14, 20, 59, 123987000, time.Local) }
	return l, &buf
}

func TestLineFormat(t *testing.T) {
	cases := []struct {
		name string
		role byte
		log  func(l *Logger)
		want string
	}{
		{"notice", 'M', func(l *Logger) { l.Noticef("Ready to accept connections") },
			"4242:M 03 Nov 2026 14:20:59.123 * Ready to accept connections\n"},
		{"warning replica", 'S', func(l *Logger) { l.Warningf("MASTER <-> REPLICA sync: %s", "Finished") },
			"4242:S 03 Nov 2026 14:20:59.123 # MASTER <-> REPLICA sync: Finished\n"},
		{"verbose", 'M', func(l *Logger) { l.Verbosef("Client closed connection") },
			"4242:M 03 Nov 2026 14:20:59.123 - Client closed connection\n"},
		{"debug sentinel", 'X', func(l *Logger) { l.Debugf("x=%d", 1) },
			"4242:X 03 Nov 2026 14:20:59.123 . x=1\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, buf := fixedLogger(t, "debug")
			l.SetRole(tc.role)
			tc.log(l)
			if buf.String() != tc.want {
				t.Fatalf("got %q, want %q", buf.String(), tc.want)
			}
		})
	}
}

func TestLevels(t *testing.T) {
	for _, tc := range []struct {
		level string
		want  string // the level characters written for debug, verbose, notice, warning
	}{
		{"debug", ".-*#"}, {"verbose", "-*#"}, {"notice", "*#"}, {"WARNING", "#"}, {"nothing", ""},
	} {
		l, buf := fixedLogger(t, tc.level)
		l.Debugf("d")
		l.Verbosef("v")
		l.Noticef("n")
		l.Warningf("w")
		var got strings.Builder
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if line != "" {
				got.WriteByte(line[len(line)-3])
			}
		}
		if got.String() != tc.want {
			t.Errorf("level %s wrote %q, want %q", tc.level, got.String(), tc.want)
		}
	}
	if _, err := New("", "loud"); err == nil {
		t.Fatal("unknown level accepted")
	}
}

func TestSetLevel(t *testing.T) {
	l, buf := fixedLogger(t, "warning")
	l.Noticef("hidden")
	if err := l.SetLevel("notice"); err != nil {
		t.Fatal(err)
	}
	l.Noticef("shown")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), "shown") {
		t.Fatalf("log: %q", buf.String())
	}
	if err := l.SetLevel("bogus"); err == nil {
		t.Fatal("bogus level accepted")
	}
}

func TestLongMessageIsCut(t *testing.T) {
	l, buf := fixedLogger(t, "notice")
	l.Noticef("%s", strings.Repeat("a", 5000))
	msg := strings.TrimSuffix(buf.String()[strings.Index(buf.String(), "* ")+2:], "\n")
	if len(msg) != maxMessage-1 {
		t.Fatalf("message length %d, want %d", len(msg), maxMessage-1)
	}
}

var lineRE = regexp.MustCompile(`^\d+:[MSCX] \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} [.\-*#] .*$`)

func TestFileConcurrentAndReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node.log")
	l, err := New(path, "notice")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				l.Noticef("goroutine %d line %d", g, i)
			}
		}(g)
	}
	wg.Wait()
	// Rotate: move the file away, reopen, and the next line lands in a new file.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Warningf("after rotation")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path + ".1")
	lines := strings.Split(strings.TrimSuffix(string(old), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, line := range lines {
		if !lineRE.MatchString(line) {
			t.Fatalf("malformed line %q", line)
		}
	}
	cur, _ := os.ReadFile(path)
	if !strings.HasSuffix(string(cur), fmt.Sprintf("# after rotation\n")) || strings.Count(string(cur), "\n") != 1 {
		t.Fatalf("rotated file: %q", cur)
	}
}
