package commands

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func runMain(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(append([]string{"clusterctl"}, args...), strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestBashCompletionCompletes sources the generated script in a real bash and asks it to
// complete, the way a user's shell would.
func TestBashCompletionCompletes(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	script, _, code := runMain(t, "completion", "bash")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	path := filepath.Join(t.TempDir(), "clusterctl.bash")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		words []string
		want  string
	}{
		{[]string{"clusterctl", "comp"}, "completion"},
		{[]string{"clusterctl", "completion", "fi"}, "fish"},
	}
	for _, tt := range tests {
		probe := "source " + path + "; COMP_WORDS=(" + strings.Join(tt.words, " ") + "); COMP_CWORD=" +
			string(rune('0'+len(tt.words)-1)) + "; _clusterctl; echo \"${COMPREPLY[@]}\""
		out, err := exec.Command(bash, "-c", probe).CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), tt.want) {
			t.Errorf("completing %q: got %q, want %q among them", tt.words, out, tt.want)
		}
	}
}

func TestCompletionScriptsParse(t *testing.T) {
	for _, shell := range completionShells {
		script, stderr, code := runMain(t, "completion", shell)
		if code != ExitOK || script == "" {
			t.Fatalf("%s: exit %d, stderr %q", shell, code, stderr)
		}
		bin, err := exec.LookPath(shell)
		if err != nil {
			continue // the shell is not installed here; its syntax cannot be checked
		}
		path := filepath.Join(t.TempDir(), "script."+shell)
		os.WriteFile(path, []byte(script), 0o644)
		args := []string{"-n", path}
		if shell == "fish" {
			args = []string{"--no-execute", path}
		}
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Errorf("%s rejects the script: %v\n%s", shell, err, out)
		}
	}
}

func TestCompletionUsageErrors(t *testing.T) {
	if _, stderr, code := runMain(t, "completion", "tcsh"); code != ExitUsage || !strings.Contains(stderr, "unknown shell") {
		t.Errorf("tcsh: exit %d, stderr %q", code, stderr)
	}
	if _, _, code := runMain(t, "completion"); code != ExitUsage {
		t.Errorf("no shell: exit %d", code)
	}
}
