package server_test

import (
	"testing"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/node/resp"
)

// TestCommandTableMatchesRedis compares COMMAND INFO and COMMAND DOCS of every command the
// node serves with redis-server's, which cluster clients route by and redis-cli builds its
// hints from. The prose of COMMAND DOCS (summary, complexity, history) is ours and is left
// out of the comparison.
func TestCommandTableMatchesRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{})
	for _, proto := range []string{"2", "3"} {
		a, b := dialRaw(t, p.redis), dialRaw(t, p.ours)
		a.do("HELLO", proto)
		b.do("HELLO", proto)
		all := b.do("COMMAND")
		if len(all.Elems) < 30 {
			t.Fatalf("COMMAND lists %d commands", len(all.Elems))
		}
		var names []string
		for _, info := range all.Elems {
			names = append(names, string(info.Elems[0].Str))
			// A container is compared subcommand by subcommand: the node serves a subset
			// of some containers' subcommands (CLIENT TRACKING comes with client-side
			// caching), and each one it serves must match.
			for _, sub := range info.Elems[9].Elems {
				names = append(names, string(sub.Elems[0].Str))
			}
		}
		for _, name := range names {
			want := render(withoutSubcommands(a.do("COMMAND", "INFO", name)), true)
			got := render(withoutSubcommands(b.do("COMMAND", "INFO", name)), true)
			if got != want {
				t.Errorf("RESP%s COMMAND INFO %s:\n got %q\nwant %q", proto, name, got, want)
			}
			want = render(stripProse(a.do("COMMAND", "DOCS", name)), true)
			got = render(stripProse(b.do("COMMAND", "DOCS", name)), true)
			if got != want {
				t.Errorf("RESP%s COMMAND DOCS %s:\n got %q\nwant %q", proto, name, got, want)
			}
		}
	}
}

// withoutSubcommands drops the subcommand list of COMMAND INFO entries.
func withoutSubcommands(v resp.Value) resp.Value {
	for i := range v.Elems {
		if len(v.Elems[i].Elems) == 10 {
			v.Elems[i].Elems = v.Elems[i].Elems[:9]
		}
	}
	return v
}

// stripProse removes summary, complexity and history from a COMMAND DOCS reply and turns
// its maps into sorted pairs, so subcommand order does not matter.
func stripProse(v resp.Value) resp.Value {
	isMap := v.Kind == resp.Map
	if !isMap && v.Kind == resp.Array && len(v.Elems)%2 == 0 && len(v.Elems) > 0 && v.Elems[0].Kind == resp.BulkString {
		// RESP2 maps arrive as flat arrays: recognise the docs maps by their keys.
		switch string(v.Elems[0].Str) {
		case "summary", "since", "group", "name":
			isMap = true
		}
	}
	if !isMap {
		for i := range v.Elems {
			v.Elems[i] = stripProse(v.Elems[i])
		}
		return v
	}
	var pairs []resp.Value
	for i := 0; i+1 < len(v.Elems); i += 2 {
		switch string(v.Elems[i].Str) {
		case "summary", "complexity", "history", "subcommands":
			continue
		}
		pairs = append(pairs, resp.Value{Kind: resp.Array, Elems: []resp.Value{v.Elems[i], stripProse(v.Elems[i+1])}})
	}
	return resp.Value{Kind: resp.Set, Elems: pairs}
}
