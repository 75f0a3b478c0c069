package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestMultiArgDirectiveAsOneArgument: redis-server 7.0 splits a multi-argument directive
// given as one non-empty argument, on the command line and in a file, so
// `--replicaof "host port"` and `--replicaof host port` name the same master.
func TestMultiArgDirectiveAsOneArgument(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(conf, []byte("replicaof \"127.0.0.1 6380\"\nbind \"127.0.0.1 127.0.0.2\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		file     string
		args     []string
		host     string
		port     int
		bind     []string
		save     []string
		wantFail bool
	}{
		{name: "one argument", args: []string{"--replicaof", "127.0.0.1 6379"}, host: "127.0.0.1", port: 6379},
		{name: "two arguments", args: []string{"--replicaof", "127.0.0.1", "6379"}, host: "127.0.0.1", port: 6379},
		{name: "one argument with extra spaces", args: []string{"--replicaof", " 127.0.0.1   6379 "}, host: "127.0.0.1", port: 6379},
		{name: "no one as one argument", args: []string{"--replicaof", "no one"}},
		{name: "file line", file: conf, host: "127.0.0.1", port: 6380, bind: []string{"127.0.0.1", "127.0.0.2"}},
		{name: "bind as one argument", args: []string{"--bind", "127.0.0.1 ::1"}, bind: []string{"127.0.0.1", "::1"}},
		{name: "empty save stays empty", args: []string{"--save", ""}, save: []string{}},
		{name: "save as one argument", args: []string{"--save", "900 1 300 10"}, save: []string{"900 1", "300 10"}},
		{name: "missing port", args: []string{"--replicaof", "127.0.0.1"}, wantFail: true},
		{name: "three words", args: []string{"--replicaof", "127.0.0.1 6379 7"}, wantFail: true},
		{name: "bad port", args: []string{"--replicaof", "127.0.0.1 port"}, wantFail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(tc.file, tc.args)
			if tc.wantFail {
				if err == nil {
					t.Fatalf("Load(%q) accepted it", tc.args)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load(%q): %v", tc.args, err)
			}
			host, port, ok := c.ReplicaOf()
			if host != tc.host || port != tc.port || ok != (tc.host != "") {
				t.Errorf("ReplicaOf = %q %d %v, want %q %d", host, port, ok, tc.host, tc.port)
			}
			if tc.bind != nil {
				if got := c.Strings("bind"); !reflect.DeepEqual(got, tc.bind) {
					t.Errorf("bind = %q, want %q", got, tc.bind)
				}
			}
			if tc.save != nil {
				if got := c.Strings("save"); !reflect.DeepEqual(append([]string{}, got...), tc.save) {
					t.Errorf("save = %q, want %q", got, tc.save)
				}
			}
		})
	}
}
