package config

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
)

// TestErrorsAgainstLiveRedis runs the real redis-server on every bad fixture and compares
// what it prints with our FileError, so the golden files cannot drift from Redis unnoticed.
// redis-server exits while reading its configuration; a fixture it accepted would make it
// serve on a free loopback port, and the test stops it and fails.
func TestErrorsAgainstLiveRedis(t *testing.T) {
	bin := nodetest.RequireBinary(t, "redis-server")
	src, err := filepath.Abs("testdata/errors")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if err := exec.Command("cp", "-r", src+"/.", work).Run(); err != nil {
		t.Fatalf("copy fixtures: %v", err)
	}
	logLine := regexp.MustCompile(`(Fatal error, can't open config file.*|Module Configuration detected.*)`)
	for _, name := range fixtureNames(t, work, ".conf") {
		t.Run(name, func(t *testing.T) {
			port := nodetest.FreePort(t, "127.0.0.1")
			args := fixtureArgs(t, work, name)
			args[1] = strconv.Itoa(port)

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, append([]string{name + ".conf"}, args...)...)
			cmd.Dir = work
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(runErr, &exit) || ctx.Err() != nil {
				t.Fatalf("redis-server did not fail on %s: %v", name, runErr)
			}
			want := strings.TrimLeft(stderr.String(), "\n")
			if m := logLine.FindString(stdout.String()); m != "" {
				want += m + "\n"
			}
			want = strings.ReplaceAll(want, work, "<dir>")

			_, err := load(newFakeEnv(work), name+".conf", args, false)
			if err == nil {
				t.Fatalf("we loaded %s; redis-server said:\n%s", name, want)
			}
			got := strings.ReplaceAll(err.Error()+"\n", vroot, "<dir>")
			if got != want {
				t.Errorf("got:\n%s\nredis-server:\n%s", got, want)
			}
		})
	}
}
