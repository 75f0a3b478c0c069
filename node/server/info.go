package server

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/clusterctl/clusterctl/node/command"
	"github.com/clusterctl/clusterctl/node/keyspace"
)

// infoSections are INFO's sections in Redis's order; default marks those of a plain INFO.
var infoSections = []struct {
	name    string
	deflt   bool
	render  func(s *Server, b *strings.Builder)
	display string
}{
	{"server", true, (*Server).infoServer, "Server"},
	{"clients", true, (*Server).infoClients, "Clients"},
	{"memory", true, (*Server).infoMemory, "Memory"},
	{"persistence", true, (*Server).infoPersistence, "Persistence"},
	{"stats", true, (*Server).infoStats, "Stats"},
	{"replication", true, (*Server).infoReplication, "Replication"},
	{"cpu", true, (*Server).infoCPU, "CPU"},
	{"modules", true, func(*Server, *strings.Builder) {}, "Modules"},
	{"commandstats", false, (*Server).infoCommandStats, "Commandstats"},
	{"errorstats", true, (*Server).infoErrorStats, "Errorstats"},
	{"cluster", true, (*Server).infoCluster, "Cluster"},
	{"keyspace", true, (*Server).infoKeyspace, "Keyspace"},
}

func (s *Server) cmdInfo(c *command.Ctx) {
	want := map[string]bool{}
	all, everything := false, false
	if len(c.Argv) == 1 {
		want["default"] = true
	}
	for _, a := range c.Argv[1:] {
		name := strings.ToLower(string(a))
		switch name {
		case "all":
			all = true
		case "everything":
			everything = true
		}
		want[name] = true
	}
	var b strings.Builder
	for _, sec := range infoSections {
		include := everything || want[sec.name] ||
			(all && sec.name != "modules") || (want["default"] && sec.deflt)
		if !include {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + sec.display + "\r\n")
		if sec.name == "keyspace" {
			// Through the command's handle: INFO run by a script must not wait for
			// the shards the script holds.
			s.infoKeyspaceOf(&b, &c.DB)
			continue
		}
		sec.render(s, &b)
	}
	c.W.Verbatim("txt", b.String())
}

func field(b *strings.Builder, name string, value any) {
	fmt.Fprintf(b, "%s:%v\r\n", name, value)
}

func (s *Server) infoServer(b *strings.Builder) {
	now := time.Now()
	up := now.Sub(s.startTime)
	var uts syscall.Utsname
	osName := "Linux"
	if syscall.Uname(&uts) == nil {
		osName = fmt.Sprintf("%s %s %s", utsString(uts.Sysname[:]), utsString(uts.Release[:]), utsString(uts.Machine[:]))
	}
	exe, _ := os.Executable()
	mode := "standalone"
	if s.cfg.Bool("cluster-enabled") {
		mode = "cluster"
	}
	field(b, "redis_version", Version)
	field(b, "redis_git_sha1", "00000000")
	field(b, "redis_git_dirty", 0)
	field(b, "redis_build_id", "0")
	field(b, "redis_mode", mode)
	field(b, "os", osName)
	field(b, "arch_bits", 64)
	field(b, "monotonic_clock", "POSIX clock_gettime")
	field(b, "multiplexing_api", "epoll")
	field(b, "atomicvar_api", "c11-builtin")
	field(b, "gcc_version", "0.0.0")
	field(b, "process_id", os.Getpid())
	field(b, "process_supervised", "no")
	field(b, "run_id", s.runID)
	field(b, "tcp_port", s.port)
	field(b, "server_time_usec", now.UnixMicro())
	field(b, "uptime_in_seconds", int64(up.Seconds()))
	field(b, "uptime_in_days", int64(up.Hours()/24))
	field(b, "hz", s.hz.Load())
	field(b, "configured_hz", s.cfg.Int("hz"))
	field(b, "lru_clock", (now.Unix())&(1<<24-1))
	field(b, "executable", exe)
	field(b, "config_file", s.cfg.File())
	field(b, "io_threads_active", 0)
}

func utsString(a []int8) string {
	var sb strings.Builder
	for _, c := range a {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}

func (s *Server) infoClients(b *strings.Builder) {
	s.clientsMu.Lock()
	n := len(s.clients)
	s.clientsMu.Unlock()
	field(b, "connected_clients", n)
	field(b, "cluster_connections", 0)
	field(b, "maxclients", s.maxclients.Load())
	field(b, "client_recent_max_input_buffer", 0)
	field(b, "client_recent_max_output_buffer", 0)
	field(b, "blocked_clients", s.blocking.count.Load())
	field(b, "tracking_clients", 0)
	field(b, "clients_in_timeout_table", 0)
}

// bytesHuman renders a byte count as Redis's bytesToHuman.
func bytesHuman(n int64) string {
	f := float64(n)
	switch {
	case n < 1024:
		return fmt.Sprintf("%dB", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.2fK", f/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.2fM", f/(1024*1024))
	case n < 1024*1024*1024*1024:
		return fmt.Sprintf("%.2fG", f/(1024*1024*1024))
	default:
		return fmt.Sprintf("%.2fT", f/(1024*1024*1024*1024))
	}
}

func (s *Server) infoMemory(b *strings.Builder) {
	used := s.usedMemory()
	if used > s.peakMemory.Load() {
		s.peakMemory.Store(used)
	}
	peak := s.peakMemory.Load()
	r := rss()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	startup := s.baselineMemory()
	dataset := used - startup
	var si syscall.Sysinfo_t
	var total int64
	if syscall.Sysinfo(&si) == nil {
		total = int64(si.Totalram) * int64(si.Unit)
	}
	field(b, "used_memory", used)
	field(b, "used_memory_human", bytesHuman(used))
	field(b, "used_memory_rss", r)
	field(b, "used_memory_rss_human", bytesHuman(r))
	field(b, "used_memory_peak", peak)
	field(b, "used_memory_peak_human", bytesHuman(peak))
	field(b, "used_memory_peak_perc", fmt.Sprintf("%.2f%%", 100*float64(used)/float64(max(peak, 1))))
	field(b, "used_memory_overhead", startup)
	field(b, "used_memory_startup", startup)
	field(b, "used_memory_dataset", dataset)
	field(b, "used_memory_dataset_perc", fmt.Sprintf("%.2f%%", 100*float64(dataset)/float64(max(used, 1))))
	field(b, "allocator_allocated", ms.HeapAlloc)
	field(b, "allocator_active", ms.HeapInuse)
	field(b, "allocator_resident", ms.HeapSys-ms.HeapReleased)
	field(b, "total_system_memory", total)
	field(b, "total_system_memory_human", bytesHuman(total))
	maxmem := s.maxmemory.Load()
	field(b, "maxmemory", maxmem)
	field(b, "maxmemory_human", bytesHuman(maxmem))
	field(b, "maxmemory_policy", s.ks.Policy().String())
	field(b, "mem_fragmentation_ratio", fmt.Sprintf("%.2f", float64(r)/float64(max(used, 1))))
	field(b, "mem_fragmentation_bytes", r-used)
	field(b, "mem_not_counted_for_evict", 0)
	field(b, "mem_replication_backlog", 0)
	field(b, "mem_total_replication_buffers", 0)
	field(b, "mem_clients_slaves", 0)
	field(b, "mem_clients_normal", 0)
	field(b, "mem_cluster_links", 0)
	field(b, "mem_aof_buffer", 0)
	field(b, "mem_allocator", "go-"+runtime.Version())
	field(b, "active_defrag_running", 0)
	field(b, "lazyfree_pending_objects", 0)
	field(b, "lazyfreed_objects", 0)
}

func (s *Server) infoStats(b *strings.Builder) {
	ks := s.ks.Stats()
	field(b, "total_connections_received", s.stats.connectionsReceived.Load())
	field(b, "total_commands_processed", s.stats.commands.load())
	field(b, "instantaneous_ops_per_sec", int64(s.stats.instantaneous(metricCommands)))
	field(b, "total_net_input_bytes", s.stats.netInput.load())
	field(b, "total_net_output_bytes", s.stats.netOutput.load())
	field(b, "total_net_repl_input_bytes", 0)
	field(b, "total_net_repl_output_bytes", 0)
	field(b, "instantaneous_input_kbps", fmt.Sprintf("%.2f", s.stats.instantaneous(metricNetInput)/1024))
	field(b, "instantaneous_output_kbps", fmt.Sprintf("%.2f", s.stats.instantaneous(metricNetOutput)/1024))
	field(b, "instantaneous_input_repl_kbps", "0.00")
	field(b, "instantaneous_output_repl_kbps", "0.00")
	field(b, "rejected_connections", s.stats.rejectedConnections.Load())
	field(b, "sync_full", s.repl.master.SyncFull.Load())
	field(b, "sync_partial_ok", s.repl.master.SyncPartialOK.Load())
	field(b, "sync_partial_err", s.repl.master.SyncPartialErr.Load())
	field(b, "expired_keys", ks.Expired)
	field(b, "expired_stale_perc", "0.00")
	field(b, "expired_time_cap_reached_count", 0)
	field(b, "expire_cycle_cpu_milliseconds", 0)
	field(b, "evicted_keys", ks.Evicted)
	field(b, "evicted_clients", 0)
	field(b, "total_eviction_exceeded_time", 0)
	field(b, "current_eviction_exceeded_time", 0)
	field(b, "keyspace_hits", ks.Hits)
	field(b, "keyspace_misses", ks.Misses)
	channels, patterns, shard := s.pubsubCounts()
	field(b, "pubsub_channels", channels)
	field(b, "pubsub_patterns", patterns)
	field(b, "pubsubshard_channels", shard)
	field(b, "latest_fork_usec", 0)
	field(b, "total_forks", 0)
	field(b, "migrate_cached_sockets", 0)
	field(b, "slave_expires_tracked_keys", 0)
	field(b, "active_defrag_hits", 0)
	field(b, "active_defrag_misses", 0)
	field(b, "active_defrag_key_hits", 0)
	field(b, "active_defrag_key_misses", 0)
	field(b, "total_active_defrag_time", 0)
	field(b, "current_active_defrag_time", 0)
	field(b, "tracking_total_keys", 0)
	field(b, "tracking_total_items", 0)
	field(b, "tracking_total_prefixes", 0)
	field(b, "unexpected_error_replies", 0)
	field(b, "total_error_replies", s.env.Errors.Total())
	field(b, "dump_payload_sanitizations", 0)
	field(b, "total_reads_processed", 0)
	field(b, "total_writes_processed", 0)
	field(b, "io_threaded_reads_processed", 0)
	field(b, "io_threaded_writes_processed", 0)
	field(b, "reply_buffer_shrinks", 0)
	field(b, "reply_buffer_expands", 0)
}

func (s *Server) infoCPU(b *strings.Builder) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	sys := float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6
	user := float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6
	field(b, "used_cpu_sys", fmt.Sprintf("%.6f", sys))
	field(b, "used_cpu_user", fmt.Sprintf("%.6f", user))
	field(b, "used_cpu_sys_children", "0.000000")
	field(b, "used_cpu_user_children", "0.000000")
	field(b, "used_cpu_sys_main_thread", fmt.Sprintf("%.6f", sys))
	field(b, "used_cpu_user_main_thread", fmt.Sprintf("%.6f", user))
}

func (s *Server) infoCommandStats(b *strings.Builder) {
	cmds := append([]*command.Command(nil), s.table.All()...)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	for _, cmd := range cmds {
		st := cmd.Stats()
		if st.Calls == 0 && st.Rejected == 0 && st.Failed == 0 {
			continue
		}
		per := 0.0
		if st.Calls > 0 {
			per = float64(st.Usec) / float64(st.Calls)
		}
		fmt.Fprintf(b, "cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d\r\n",
			cmd.Name, st.Calls, st.Usec, per, st.Rejected, st.Failed)
	}
}

func (s *Server) infoErrorStats(b *strings.Builder) {
	for _, e := range s.env.Errors.Counts() {
		fmt.Fprintf(b, "errorstat_%s:count=%d\r\n", e.Code, e.Count)
	}
}

func (s *Server) infoCluster(b *strings.Builder) {
	enabled := 0
	if s.cfg.Bool("cluster-enabled") {
		enabled = 1
	}
	field(b, "cluster_enabled", enabled)
}

func (s *Server) infoKeyspace(b *strings.Builder) {
	db := s.ks.DB(0, time.Now().UnixMilli(), nil)
	s.infoKeyspaceOf(b, &db)
}

func (s *Server) infoKeyspaceOf(b *strings.Builder, h *keyspace.DB) {
	for db, st := range h.AllStats() {
		if st.Keys == 0 {
			continue
		}
		fmt.Fprintf(b, "db%d:keys=%d,expires=%d,avg_ttl=%d\r\n", db, st.Keys, st.Expires, st.AvgTTL)
	}
}
