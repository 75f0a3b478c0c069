// Command gencommands captures the command interface of a real redis-server 7.0 into
// commands.json: COMMAND INFO (arity, flags, key positions, ACL categories, tips, key
// specs, subcommands) and the interface part of COMMAND DOCS (since, group, doc flags,
// deprecation, argument structure). Prose that is Redis's documentation rather than
// interface (the summaries, complexity and history of COMMAND DOCS) is left out; the
// node's own short texts live in docs.go.
//
// It starts redis-server on a free loopback port in 12000..22767, queries it over RESP3
// and stops it by PID:
//
//	go run ./internal/gencommands -o commands.json
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/clusterctl/clusterctl/node/command"
	"github.com/clusterctl/clusterctl/node/resp"
)

func main() {
	out := flag.String("o", "commands.json", "output file")
	bin := flag.String("redis-server", "redis-server", "redis-server binary (7.0)")
	flag.Parse()
	if err := run(*bin, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gencommands:", err)
		os.Exit(1)
	}
}

func run(bin, out string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "gencommands-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--dir", dir, "--logfile", "")
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var conn net.Conn
	for i := 0; i < 100; i++ {
		if conn, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("connect %s: %w", addr, err)
	}
	defer conn.Close()
	r := resp.NewReader(bufio.NewReader(conn))
	r.MaxBulkLen = 1 << 30
	w := resp.NewWriter(conn)
	call := func(args ...string) (resp.Value, error) {
		w.CommandStrings(args...)
		if err := w.Flush(); err != nil {
			return resp.Value{}, err
		}
		v, err := r.ReadValue()
		if err == nil {
			err = v.Err()
		}
		return v, err
	}
	if _, err := call("HELLO", "3"); err != nil {
		return fmt.Errorf("HELLO 3: %w", err)
	}
	info, err := call("COMMAND", "INFO")
	if err != nil {
		return fmt.Errorf("COMMAND INFO: %w", err)
	}
	docs, err := call("COMMAND", "DOCS")
	if err != nil {
		return fmt.Errorf("COMMAND DOCS: %w", err)
	}
	docMap := map[string]resp.Value{}
	for i := 0; i+1 < len(docs.Elems); i += 2 {
		docMap[string(docs.Elems[i].Str)] = docs.Elems[i+1]
	}
	var specs []*command.Spec
	for _, v := range info.Elems {
		s, err := parseInfo(v, docMap)
		if err != nil {
			return err
		}
		specs = append(specs, s)
	}
	command.SortSpecs(specs)
	b, err := json.MarshalIndent(specs, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(b, '\n'), 0o644)
}

func freePort() (int, error) {
	for i := 0; i < 200; i++ {
		p := 12000 + rand.IntN(22767-12000)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			l.Close()
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free port in 12000..22767")
}

func strs(v resp.Value) []string {
	out := []string{}
	for _, e := range v.Elems {
		out = append(out, string(e.Str))
	}
	return out
}

// parseInfo reads one COMMAND INFO entry: name, arity, flags, first, last, step, ACL
// categories, tips, key specs, subcommands.
func parseInfo(v resp.Value, docs map[string]resp.Value) (*command.Spec, error) {
	e := v.Elems
	if len(e) != 10 {
		return nil, fmt.Errorf("COMMAND INFO entry with %d fields", len(e))
	}
	s := &command.Spec{
		Name:          string(e[0].Str),
		Arity:         int(e[1].Int),
		Flags:         strs(e[2]),
		FirstKey:      int(e[3].Int),
		LastKey:       int(e[4].Int),
		Step:          int(e[5].Int),
		ACLCategories: strs(e[6]),
		Tips:          strs(e[7]),
	}
	if len(s.Tips) == 0 {
		s.Tips = nil
	}
	for _, ks := range e[8].Elems {
		spec, err := parseKeySpec(ks)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
		s.KeySpecs = append(s.KeySpecs, spec)
	}
	for _, sub := range e[9].Elems {
		ss, err := parseInfo(sub, nil)
		if err != nil {
			return nil, err
		}
		s.Subcommands = append(s.Subcommands, *ss)
	}
	if docs != nil {
		d, ok := docs[s.Name]
		if !ok {
			return nil, fmt.Errorf("%s: no COMMAND DOCS entry", s.Name)
		}
		if err := parseDocs(s, d); err != nil {
			return nil, fmt.Errorf("%s docs: %w", s.Name, err)
		}
	}
	return s, nil
}

func pairs(v resp.Value, fn func(k string, v resp.Value) error) error {
	if v.Kind != resp.Map {
		return fmt.Errorf("expected a map, got %q", v.Kind)
	}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		if err := fn(string(v.Elems[i].Str), v.Elems[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func parseKeySpec(v resp.Value) (command.KeySpec, error) {
	var ks command.KeySpec
	err := pairs(v, func(k string, v resp.Value) error {
		switch k {
		case "notes":
			ks.Notes = string(v.Str)
		case "flags":
			ks.Flags = strs(v)
		case "begin_search":
			return pairs(v, func(k string, v resp.Value) error {
				switch k {
				case "type":
					ks.BeginSearch.Type = string(v.Str)
				case "spec":
					return pairs(v, func(k string, v resp.Value) error {
						switch k {
						case "index":
							ks.BeginSearch.Index = int(v.Int)
						case "keyword":
							ks.BeginSearch.Keyword = string(v.Str)
						case "startfrom":
							ks.BeginSearch.StartFrom = int(v.Int)
						default:
							return fmt.Errorf("unknown begin_search field %q", k)
						}
						return nil
					})
				default:
					return fmt.Errorf("unknown begin_search key %q", k)
				}
				return nil
			})
		case "find_keys":
			return pairs(v, func(k string, v resp.Value) error {
				switch k {
				case "type":
					ks.FindKeys.Type = string(v.Str)
				case "spec":
					return pairs(v, func(k string, v resp.Value) error {
						n := int(v.Int)
						switch k {
						case "lastkey":
							ks.FindKeys.LastKey = n
						case "keystep":
							ks.FindKeys.KeyStep = n
						case "limit":
							ks.FindKeys.Limit = n
						case "keynumidx":
							ks.FindKeys.KeyNumIdx = n
						case "firstkey":
							ks.FindKeys.FirstKey = n
						default:
							return fmt.Errorf("unknown find_keys field %q", k)
						}
						return nil
					})
				default:
					return fmt.Errorf("unknown find_keys key %q", k)
				}
				return nil
			})
		default:
			return fmt.Errorf("unknown key spec field %q", k)
		}
		return nil
	})
	return ks, err
}

func parseDocs(s *command.Spec, v resp.Value) error {
	var subDocs resp.Value
	err := pairs(v, func(k string, v resp.Value) error {
		switch k {
		case "summary", "complexity", "history":
			// Documentation prose: ours is in docs.go.
		case "since":
			s.Docs.Since = string(v.Str)
		case "group":
			s.Docs.Group = string(v.Str)
		case "doc_flags":
			s.Docs.DocFlags = strs(v)
		case "deprecated_since":
			s.Docs.DeprecatedSince = string(v.Str)
		case "replaced_by":
			s.Docs.ReplacedBy = string(v.Str)
		case "arguments":
			args, err := parseArgs(v)
			s.Docs.Arguments = args
			return err
		case "subcommands":
			subDocs = v
		default:
			return fmt.Errorf("unknown docs field %q", k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := range s.Subcommands {
		sub := &s.Subcommands[i]
		found := false
		pairs(subDocs, func(k string, v resp.Value) error {
			if k == sub.Name {
				found = true
				err = parseDocs(sub, v)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("no docs for subcommand %s", sub.Name)
		}
	}
	return nil
}

func parseArgs(v resp.Value) ([]command.Arg, error) {
	var out []command.Arg
	for _, av := range v.Elems {
		var a command.Arg
		err := pairs(av, func(k string, v resp.Value) error {
			switch k {
			case "name":
				a.Name = string(v.Str)
			case "type":
				a.Type = string(v.Str)
			case "key_spec_index":
				n := int(v.Int)
				a.KeySpecIndex = &n
			case "token":
				a.Token = string(v.Str)
			case "summary":
				a.Summary = string(v.Str)
			case "since":
				a.Since = string(v.Str)
			case "deprecated_since":
				a.DeprecatedSince = string(v.Str)
			case "flags":
				a.Flags = strs(v)
			case "arguments":
				args, err := parseArgs(v)
				a.Arguments = args
				return err
			default:
				return fmt.Errorf("unknown argument field %q", k)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}
