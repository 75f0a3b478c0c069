package commands

import (
	"bytes"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/creack/pty"
)

// ptySession drives a command on a pseudo-terminal: it keeps everything the command wrote
// and answers the terminal's cursor-position queries, as a terminal emulator would.
type ptySession struct {
	t    *testing.T
	mu   sync.Mutex
	out  bytes.Buffer
	seen int // output before this offset was already matched
	tty  interface {
		Write([]byte) (int, error)
	}
}

// expect waits until text appears in the output after what was matched before.
func (s *ptySession) expect(text string) {
	s.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		all := s.out.String()
		s.mu.Unlock()
		if i := strings.Index(all[s.seen:], text); i >= 0 {
			s.seen += i + len(text)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.t.Fatalf("no %q on the terminal; it shows:\n%s", text, s.out.String())
}

func (s *ptySession) send(keys string) {
	s.t.Helper()
	time.Sleep(100 * time.Millisecond) // let the prompt finish drawing
	if _, err := s.tty.Write([]byte(keys)); err != nil {
		s.t.Fatal(err)
	}
}

// TestReshardInteractive answers redis-cli's reshard questions on a pseudo-terminal: the
// number of slots, the receiving node from the picker, a source then 'done', and the
// confirmation. The slots asked for move from that source to that target.
func TestReshardInteractive(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	nodes := reshardCluster(t, 3)
	seed := nodes[0].Addr()
	client := clusterClient(t, seed)
	fillKeys(t, client, "k:", 1000)
	ms := masterIDs(t, seed)
	a, b := ms[0], ms[1]

	cmd := exec.Command(nodetest.ClusterctlBinary(t), "reshard", "--timeout", "30s", seed)
	cmd.Env = append(cmd.Environ(), "NO_COLOR=1", "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	s := &ptySession{t: t, tty: tty}
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			if n > 0 {
				s.mu.Lock()
				s.out.Write(buf[:n])
				s.mu.Unlock()
				if bytes.Contains(buf[:n], []byte("\x1b[6n")) {
					tty.Write([]byte("\x1b[1;1R"))
				}
			}
			if err != nil {
				break
			}
		}
		done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })

	s.expect("How many slots do you want to move (from 1 to 16384)?")
	s.send("0\r") // refused: out of range, asked again
	s.expect("type a number from 1 to 16384")
	s.send("\x7f120\r")
	s.expect("What is the receiving node ID?")
	s.send(b.ID[:12] + "\r") // the picker filters by what is typed
	s.expect("Please enter all the source node IDs.")
	s.expect("Source node #1:")
	s.send(b.ID + "\r") // refused: the target cannot be a source
	s.expect("not possible to use the target node as source")
	s.send(strings.Repeat("\x7f", 40) + a.ID + "\r")
	s.expect("Source node #2:")
	s.send("done\r")
	s.expect("Ready to move 120 slots.")
	s.expect("Do you want to proceed with the proposed reshard plan (yes/no)?")
	s.send("y\r")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("reshard: %v\n%s", err, s.out.String())
		}
	case <-time.After(5 * time.Minute):
		t.Fatalf("reshard did not finish\n%s", s.out.String())
	}
	if !strings.Contains(s.out.String(), "[OK] Moved 120 slots") {
		t.Fatalf("no summary:\n%s", s.out.String())
	}
	c := load(t, seed)
	if got := len(c.NodeByID(b.ID).Slots); got != len(b.Slots)+120 {
		t.Fatalf("target owns %d slots, want %d", got, len(b.Slots)+120)
	}
	if got := len(c.NodeByID(a.ID).Slots); got != len(a.Slots)-120 {
		t.Fatalf("source owns %d slots, want %d", got, len(a.Slots)-120)
	}
	requireKeys(t, client, "k:", 1000)
}
