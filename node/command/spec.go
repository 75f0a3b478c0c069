package command

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
)

// Spec is a command's interface as Redis 7.0 describes it through COMMAND INFO and
// COMMAND DOCS: arity, flags, legacy key positions, ACL categories, key specs and the
// argument structure clients build hints from. commands.json holds the specs captured
// from redis-server 7.0 by internal/gencommands; the prose of COMMAND DOCS (summary,
// complexity) is ours, in docs.go.
type Spec struct {
	Name          string    `json:"name"`
	Arity         int       `json:"arity"`
	Flags         []string  `json:"flags"`
	FirstKey      int       `json:"first_key"`
	LastKey       int       `json:"last_key"`
	Step          int       `json:"step"`
	ACLCategories []string  `json:"acl_categories"`
	Tips          []string  `json:"tips,omitempty"`
	KeySpecs      []KeySpec `json:"key_specs,omitempty"`
	Subcommands   []Spec    `json:"subcommands,omitempty"`
	Docs          Docs      `json:"docs"`
}

// KeySpec is a Redis 7 key specification: where the search for keys begins and how keys
// are found from there, plus flags saying how the command uses them.
type KeySpec struct {
	Notes       string      `json:"notes,omitempty"`
	Flags       []string    `json:"flags"`
	BeginSearch BeginSearch `json:"begin_search"`
	FindKeys    FindKeys    `json:"find_keys"`
}

// BeginSearch is a key spec's begin_search: "index" (at argument Index), "keyword" (after
// the first Keyword found searching from StartFrom; negative counts from the end) or
// "unknown".
type BeginSearch struct {
	Type      string `json:"type"`
	Index     int    `json:"index,omitempty"`
	Keyword   string `json:"keyword,omitempty"`
	StartFrom int    `json:"startfrom,omitempty"`
}

// FindKeys is a key spec's find_keys: "range" (LastKey relative to the first key, negative
// from the end; every KeyStep; Limit divides the remaining arguments), "keynum" (the
// count at KeyNumIdx, keys from FirstKey every KeyStep) or "unknown".
type FindKeys struct {
	Type      string `json:"type"`
	LastKey   int    `json:"lastkey,omitempty"`
	KeyStep   int    `json:"keystep,omitempty"`
	Limit     int    `json:"limit,omitempty"`
	KeyNumIdx int    `json:"keynumidx,omitempty"`
	FirstKey  int    `json:"firstkey,omitempty"`
}

// Docs is the interface part of COMMAND DOCS.
type Docs struct {
	Since           string   `json:"since,omitempty"`
	Group           string   `json:"group"`
	DocFlags        []string `json:"doc_flags,omitempty"`
	DeprecatedSince string   `json:"deprecated_since,omitempty"`
	ReplacedBy      string   `json:"replaced_by,omitempty"`
	Arguments       []Arg    `json:"arguments,omitempty"`
}

// Arg is one argument in COMMAND DOCS: redis-cli's hints are built from these.
type Arg struct {
	Name            string   `json:"name"`
	Type            string   `json:"type"`
	KeySpecIndex    *int     `json:"key_spec_index,omitempty"`
	Token           string   `json:"token,omitempty"`
	Summary         string   `json:"summary,omitempty"`
	Since           string   `json:"since,omitempty"`
	DeprecatedSince string   `json:"deprecated_since,omitempty"`
	Flags           []string `json:"flags,omitempty"`
	Arguments       []Arg    `json:"arguments,omitempty"`
}

//go:generate go run ./internal/gencommands -o commands.json

//go:embed commands.json
var specData []byte

// LoadSpecs parses the embedded specs, keyed by command name (subcommands stay inside
// their container).
func LoadSpecs() (map[string]*Spec, error) {
	var specs []*Spec
	if err := json.Unmarshal(specData, &specs); err != nil {
		return nil, fmt.Errorf("parse embedded commands.json: %w", err)
	}
	m := make(map[string]*Spec, len(specs))
	for _, s := range specs {
		m[s.Name] = s
	}
	return m, nil
}

// SortSpecs orders specs by name, as the generator writes them.
func SortSpecs(specs []*Spec) {
	sort.Slice(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name })
	for _, s := range specs {
		sort.Slice(s.Subcommands, func(i, j int) bool { return s.Subcommands[i].Name < s.Subcommands[j].Name })
	}
}
