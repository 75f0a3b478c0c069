package trib

import (
	"encoding/json"
	"testing"

	"github.com/clusterctl/clusterctl/node/resp"
)

func bulk(s string) resp.Value { return resp.Value{Kind: resp.BulkString, Str: []byte(s)} }

func TestFormatReplyRaw(t *testing.T) {
	tests := []struct {
		name string
		v    resp.Value
		raw  string
		json string
	}{
		{"status", resp.Value{Kind: resp.SimpleString, Str: []byte("OK")}, "OK", `"OK"`},
		{"bulk", bulk("hello\nworld"), "hello\nworld", `"hello\nworld"`},
		{"integer", resp.Value{Kind: resp.Integer, Int: -42}, "-42", `-42`},
		{"nil bulk", resp.Value{Kind: resp.BulkString, IsNull: true}, "", `null`},
		{"nil array", resp.Value{Kind: resp.Array, IsNull: true}, "", `null`},
		{"error", resp.Value{Kind: resp.Error, Str: []byte("ERR unknown command")}, "ERR unknown command\n", `"ERR unknown command"`},
		{"array", resp.Value{Kind: resp.Array, Elems: []resp.Value{bulk("a"), {Kind: resp.Integer, Int: 1}, bulk("")}}, "a\n1\n", `["a",1,""]`},
		{"nested", resp.Value{Kind: resp.Array, Elems: []resp.Value{bulk("x"), {Kind: resp.Array, Elems: []resp.Value{bulk("y"), bulk("z")}}}}, "x\ny\nz", `["x",["y","z"]]`},
		{"empty array", resp.Value{Kind: resp.Array}, "", `[]`},
		{"boolean", resp.Value{Kind: resp.Boolean, Bool: true}, "(true)", `true`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatReplyRaw(tt.v); got != tt.raw {
				t.Errorf("FormatReplyRaw = %q, want %q", got, tt.raw)
			}
			b, err := json.Marshal(ReplyJSON(tt.v))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.json {
				t.Errorf("ReplyJSON = %s, want %s", b, tt.json)
			}
		})
	}
}

func TestCallTargets(t *testing.T) {
	c := fakeCluster(func(nodes []*Node) {
		nodes[5].Err = &UnreachableError{Addr: nodes[5].Dial}
	})
	// No node has a connection: only the selection and the unreachable node are checked,
	// the reachable ones fail on the missing connection.
	for _, tt := range []struct {
		targets CallTargets
		want    int
		roles   string
	}{
		{CallAllNodes, 6, ""},
		{CallOnlyMasters, 3, "master"},
		{CallOnlyReplicas, 3, "replica"},
	} {
		replies := Call(t.Context(), c, []string{"PING"}, tt.targets)
		if len(replies) != tt.want {
			t.Fatalf("targets %d: %d replies, want %d", tt.targets, len(replies), tt.want)
		}
		for _, r := range replies {
			if tt.roles != "" && r.Role != tt.roles {
				t.Errorf("targets %d: reply from a %s", tt.targets, r.Role)
			}
			if !r.Failed() || r.Error == "" {
				t.Errorf("targets %d: %s did not fail without a connection: %+v", tt.targets, r.Node, r)
			}
		}
	}
}
