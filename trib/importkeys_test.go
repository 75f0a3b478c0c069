package trib

import (
	"errors"
	"reflect"
	"testing"

	"github.com/clusterctl/clusterctl/node/hashslot"
	"github.com/clusterctl/clusterctl/node/resp"
)

func TestImportMigrates(t *testing.T) {
	c := fakeCluster(nil)
	owners, err := slotTargets(c)
	if err != nil {
		t.Fatal(err)
	}
	// Keys of the three masters' slots, batched by at most two keys per MIGRATE.
	keys := []string{"{a}1", "{a}2", "{a}3", "{b}1", "{c}1"}
	var vals []resp.Value
	want := map[string][]string{}
	for _, k := range keys {
		vals = append(vals, bulk(k))
		addr := owners[hashslot.Of([]byte(k))].addr
		want[addr] = append(want[addr], k)
	}
	for _, tt := range []struct {
		name  string
		cl    Options
		opts  ImportOptions
		flags []string
	}{
		{"move", Options{}, ImportOptions{Batch: 2}, nil},
		{"copy replace with a password", Options{Password: "pw"}, ImportOptions{Batch: 2, Copy: true, Replace: true}, []string{"COPY", "REPLACE", "AUTH", "pw"}},
		{"ACL user", Options{User: "u", Password: "pw"}, ImportOptions{Batch: 2}, []string{"AUTH2", "u", "pw"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c.Opts = tt.cl
			im := &importer{c: c, owners: owners, opts: tt.opts}
			cmds, pending := im.migrates(vals)
			got := map[string][]string{}
			for i, cmd := range cmds {
				p := pending[i]
				prefix := append([]string{"MIGRATE", p.target.host, p.target.port, "", "0", "60000"}, tt.flags...)
				prefix = append(prefix, "KEYS")
				if !reflect.DeepEqual(cmd[:len(prefix)], prefix) {
					t.Fatalf("command %q, want it to start with %q", cmd, prefix)
				}
				ks := cmd[len(prefix):]
				if len(ks) != p.keys || len(ks) > 2 {
					t.Fatalf("command %q carries %d keys, pending says %d", cmd, len(ks), p.keys)
				}
				got[p.target.addr] = append(got[p.target.addr], ks...)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("keys by target %v, want %v", got, want)
			}
		})
	}
}

func TestRetryableImport(t *testing.T) {
	down := errors.New("MIGRATE from a to b: ERR Target instance replied with error: CLUSTERDOWN The cluster is down")
	busy := errors.New("MIGRATE to b: a key already exists in the cluster (BUSYKEY ...)")
	for _, tt := range []struct {
		err  error
		opts ImportOptions
		want bool
	}{
		{down, ImportOptions{}, true},
		{down, ImportOptions{Copy: true, Replace: true}, true},
		{down, ImportOptions{Copy: true}, false},
		{busy, ImportOptions{}, false},
		{errors.New("TRYAGAIN Multiple keys request during rehashing of slot"), ImportOptions{}, true},
	} {
		if got := retryableImport(tt.err, tt.opts); got != tt.want {
			t.Errorf("retryableImport(%v, %+v) = %v, want %v", tt.err, tt.opts, got, tt.want)
		}
	}
}
