package server

import (
	"fmt"
	"strconv"

	"github.com/clusterctl/clusterctl/node/keyspace"
)

// applyConfig copies the settings the server acts on from the configuration and registers
// the hooks that apply CONFIG SET changes at run time.
func (s *Server) applyConfig() error {
	cfg := s.cfg
	ints := map[string]func(int64){
		"maxmemory":                 s.maxmemory.Store,
		"maxclients":                s.maxclients.Store,
		"timeout":                   s.idleTimeout.Store,
		"slowlog-log-slower-than":   s.slowlogSlower.Store,
		"slowlog-max-len":           func(n int64) { s.slowlog.maxLen.Store(n); s.slowlog.trim() },
		"proto-max-bulk-len":        s.env.ProtoMaxBulkLen.Store,
		"client-query-buffer-limit": s.queryBufLimit.Store,
		"hz":                        s.hz.Store,
		"hll-sparse-max-bytes":      s.env.HLLSparseMaxBytes.Store,
		"maxmemory-samples":         s.ks.SetSamples,
		"hash-max-listpack-entries": s.env.HashMaxListpackEntries.Store,
		"hash-max-listpack-value":   s.env.HashMaxListpackValue.Store,
		"set-max-intset-entries":    s.env.SetMaxIntsetEntries.Store,
		"zset-max-listpack-entries": s.env.ZSetMaxListpackEntries.Store,
		"zset-max-listpack-value":   s.env.ZSetMaxListpackValue.Store,
		"stream-node-max-bytes":     s.env.StreamNodeMaxBytes.Store,
		"stream-node-max-entries":   s.env.StreamNodeMaxEntries.Store,
	}
	for name, set := range ints {
		set(cfg.Int(name))
		set := set
		name := name
		cfg.OnSet(name, func(string) error { set(cfg.Int(name)); return nil })
	}
	bools := map[string]func(bool){
		"protected-mode":           s.protectedMode.Store,
		"lazyfree-lazy-user-del":   s.env.LazyfreeUserDel.Store,
		"lazyfree-lazy-user-flush": s.env.LazyfreeUserFlush.Store,
		"lazyfree-lazy-server-del": s.env.LazyfreeServerDel.Store,
		"lazyfree-lazy-expire":     func(bool) { s.applyLazyfree() },
		"lazyfree-lazy-eviction":   func(bool) { s.applyLazyfree() },
	}
	for name, set := range bools {
		set(cfg.Bool(name))
		set := set
		name := name
		cfg.OnSet(name, func(string) error { set(cfg.Bool(name)); return nil })
	}
	s.debugCommand.Store(cfg.String("enable-debug-command"))

	applyPolicy := func(string) error {
		p, ok := keyspace.ParsePolicy(cfg.String("maxmemory-policy"))
		if !ok {
			return fmt.Errorf("unknown maxmemory-policy %q", cfg.String("maxmemory-policy"))
		}
		s.ks.SetPolicy(p)
		return nil
	}
	if err := applyPolicy(""); err != nil {
		return err
	}
	cfg.OnSet("maxmemory-policy", applyPolicy)
	applyLFU := func(string) error {
		s.ks.SetLFU(cfg.Int("lfu-log-factor"), cfg.Int("lfu-decay-time"))
		return nil
	}
	applyLFU("")
	cfg.OnSet("lfu-log-factor", applyLFU)
	cfg.OnSet("lfu-decay-time", applyLFU)

	cfg.OnSet("requirepass", func(v string) error {
		s.acl.setDefaultPassword(cfg.String("requirepass"))
		return nil
	})
	cfg.OnSet("loglevel", func(v string) error { return s.log.SetLevel(v) })
	cfg.DescribeUsers(func() []string {
		var lines []string
		for _, u := range s.acl.sortedUsers() {
			lines = append(lines, u.name+" "+u.describe())
		}
		return lines
	})
	return nil
}

func (s *Server) applyLazyfree() {
	s.ks.SetLazyfree(s.cfg.Bool("lazyfree-lazy-expire"), s.cfg.Bool("lazyfree-lazy-eviction"))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
