package commands

import (
	"bufio"
	"errors"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/trib"
)

// startReshard runs the clusterctl binary's reshard with -v (a line per moved slot) and
// returns once it has moved `after` slots.
func startReshard(t *testing.T, after int, args ...string) (*exec.Cmd, *syncBuffer, chan error) {
	t.Helper()
	bin := nodetest.ClusterctlBinary(t)
	cmd := exec.Command(bin, append([]string{"reshard", "-v", "--yes", "--timeout", "30s"}, args...)...)
	all := &syncBuffer{}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = all
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	moved := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		n := 0
		for sc.Scan() {
			line := sc.Text()
			all.WriteString(line + "\n")
			if strings.HasPrefix(line, "Moved slot ") {
				if n++; n == after {
					close(moved)
				}
			}
		}
		io.Copy(io.Discard, stdout)
		done <- cmd.Wait()
	}()
	select {
	case <-moved:
	case err := <-done:
		t.Fatalf("reshard ended before moving %d slots: %v\n%s", after, err, all.String())
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("reshard did not move %d slots in time\n%s", after, all.String())
	}
	return cmd, all, done
}

// syncBuffer collects stdout (from the scanner) and stderr (from exec) under one lock.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) WriteString(s string) {
	w.Write([]byte(s))
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func openSlots(t *testing.T, seed string) []int {
	r, _ := checkJSON(t, seed)
	return r.OpenSlots
}

// TestReshardInterrupted: Ctrl-C stops between slots with no slot open and prints the
// command that resumes, which completes the plan; kill -9 in the middle of a slot leaves
// exactly that slot open, fix closes it with no key lost, and rerunning the reshard
// completes the plan.
func TestReshardInterrupted(t *testing.T) {
	nodetest.RequireBinary(t, "redis-server")
	nodes := reshardCluster(t, 3)
	seed := nodes[0].Addr()
	client := clusterClient(t, seed)
	fillKeys(t, client, "k:", 20000)
	ms := masterIDs(t, seed)
	a, b, c := ms[0], ms[1], ms[2]

	// Ctrl-C.
	cmd, out, done := startReshard(t, 5, seed, "--from", a.ID, "--to", b.ID, "--slots", "800")
	cmd.Process.Signal(syscall.SIGINT)
	err := <-done
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitProblem {
		t.Fatalf("after Ctrl-C: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^\s*(clusterctl reshard \S+ --from \S+ --to \S+ --slots (\d+) --yes)$`).FindStringSubmatch(out.String())
	if m == nil || !strings.Contains(out.String(), "Stopped between slots") {
		t.Fatalf("no resume command printed:\n%s", out)
	}
	if open := openSlots(t, seed); len(open) != 0 {
		t.Fatalf("open slots after Ctrl-C: %v", open)
	}
	left, _ := strconv.Atoi(m[2])
	moved := len(load(t, seed).NodeByID(b.ID).Slots) - len(b.Slots)
	if left <= 0 || moved+left != 800 {
		t.Fatalf("moved %d, resume moves %d: not the 800 planned", moved, left)
	}
	requireKeys(t, client, "k:", 20000)
	args := append(strings.Fields(m[1])[1:], "--timeout", "30s")
	if o, e, code := cc(t, args...); code != ExitOK {
		t.Fatalf("resume: exit %d\n%s\n%s", code, o, e)
	}
	if n := len(load(t, seed).NodeByID(b.ID).Slots); n != len(b.Slots)+800 {
		t.Fatalf("after resuming the target owns %d slots, want %d", n, len(b.Slots)+800)
	}

	// kill -9.
	before := len(load(t, seed).NodeByID(c.ID).Slots)
	cmd, out, done = startReshard(t, 5, seed, "--from", b.ID, "--to", c.ID, "--slots", "500")
	killMidSlot(t, cmd, done, out, dial(t, b.Dial), dial(t, c.Dial))
	open := openSlots(t, seed)
	if len(open) != 1 {
		t.Fatalf("%d open slots after kill -9 in the middle of a slot, want 1: %v\n%s", len(open), open, out)
	}
	if o, e, code := cc(t, "fix", "--yes", "--timeout", "30s", seed); code != ExitOK {
		t.Fatalf("fix: exit %d\n%s\n%s", code, o, e)
	}
	requireKeys(t, client, "k:", 20000)
	got := len(load(t, seed).NodeByID(c.ID).Slots) - before
	if o, e, code := cc(t, "reshard", seed, "--from", b.ID, "--to", c.ID, "--slots", strconv.Itoa(500-got), "--yes", "--timeout", "30s"); code != ExitOK {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, o, e)
	}
	if n := len(load(t, seed).NodeByID(c.ID).Slots); n != before+500 {
		t.Fatalf("after the rerun %s owns %d slots, want %d", c.Dial, n, before+500)
	}
	requireKeys(t, client, "k:", 20000)
	requireHealthy(t, seed)
}

// killMidSlot kills the reshard with SIGKILL while a slot is open: it polls both nodes until
// one of them shows the slot migrating or importing, freezes the process (SIGSTOP), lets
// what it already sent land, and kills it if the slot is still open; otherwise it lets the
// process go on and tries again. So the kill always leaves a half-moved slot behind.
func killMidSlot(t *testing.T, cmd *exec.Cmd, done chan error, out *syncBuffer, src, dst *trib.Client) {
	t.Helper()
	isOpen := func() bool {
		for _, c := range []*trib.Client{src, dst} {
			for _, line := range strings.Split(do(t, c, "CLUSTER", "NODES"), "\n") {
				if strings.Contains(line, "myself") && (strings.Contains(line, "->-") || strings.Contains(line, "-<-")) {
					return true
				}
			}
		}
		return false
	}
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); {
		select {
		case err := <-done:
			t.Fatalf("the reshard ended before it could be killed mid-slot: %v\n%s", err, out)
		default:
		}
		if !isOpen() {
			continue
		}
		cmd.Process.Signal(syscall.SIGSTOP)
		time.Sleep(300 * time.Millisecond)
		if isOpen() {
			cmd.Process.Kill()
			<-done
			return
		}
		cmd.Process.Signal(syscall.SIGCONT)
	}
	cmd.Process.Kill()
	t.Fatalf("never saw a slot open\n%s", out)
}
