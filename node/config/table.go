package config

import (
	"strconv"
	"strings"
)

// The directive table: every name Redis 7.0.15's standardConfig table knows, with its
// alias, flags, bounds and default. Defaults render exactly as redis-server 7.0's CONFIG GET
// (testdata/config-get-default.golden is captured from it). The table order is the order
// in which CONFIG GET answers and CONFIG REWRITE appends.
//
// Marking a directive inert means the server accepts it and shows it, but does not act on
// it yet; whoever implements the feature removes the mark.

func boolDir(name, aliasName string, flags flag, def bool) *directive {
	return &directive{name: name, aliasName: aliasName, kind: kindBool, flags: flags, def: renderBool(def)}
}

func intDir(name, aliasName string, flags flag, min, max, def int64) *directive {
	return &directive{name: name, aliasName: aliasName, kind: kindInt, flags: flags, min: min, max: max,
		def: strconv.FormatInt(def, 10)}
}

func memDir(name, aliasName string, flags flag, min, max, def int64) *directive {
	return &directive{name: name, aliasName: aliasName, kind: kindMemory, flags: flags, min: min, max: max,
		def: strconv.FormatUint(uint64(def), 10)}
}

func strDir(name, aliasName string, flags flag, def string, check func(string) error) *directive {
	return &directive{name: name, aliasName: aliasName, kind: kindString, flags: flags, def: def, check: check}
}

func enumDir(name, aliasName string, flags flag, names []enumName, def string) *directive {
	return &directive{name: name, aliasName: aliasName, kind: kindEnum, flags: flags, enum: names, def: def}
}

func specialDir(name, aliasName string, flags flag, sp special, def string) *directive {
	return &directive{name: name, aliasName: aliasName, kind: kindSpecial, flags: flags, special: sp, def: def}
}

func names(list ...string) []enumName {
	out := make([]enumName, len(list))
	for i, n := range list {
		out[i] = enumName{name: n, val: int64(i)}
	}
	return out
}

var (
	maxmemoryPolicies = []enumName{
		{"volatile-lru", 0}, {"volatile-lfu", 1}, {"volatile-random", 2}, {"volatile-ttl", 3},
		{"allkeys-lru", 4}, {"allkeys-lfu", 5}, {"allkeys-random", 6}, {"noeviction", 7},
	}
	syslogFacilities = names("user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7")
	logLevels        = names("debug", "verbose", "notice", "warning")
	supervisedModes  = names("upstart", "systemd", "auto", "no")
	aofFsyncModes    = names("everysec", "always", "no")
	disklessLoad     = names("disabled", "on-empty-db", "swapdb")
	tlsAuthClients   = names("no", "yes", "optional")
	// oom-score-adj: "yes" is the old name of "relative"; CONFIG GET shows "yes".
	oomScoreAdjModes = []enumName{{"no", 0}, {"yes", 1}, {"relative", 1}, {"absolute", 2}}
	aclPubsubDefault = []enumName{{"allchannels", 1}, {"resetchannels", 0}}
	sanitizePayload  = names("no", "yes", "clients")
	protectedAction  = names("no", "yes", "local")
	endpointTypes    = names("ip", "hostname", "unknown-endpoint")
	propagationError = names("ignore", "panic", "panic-on-replicas")
	// Shutdown flags for shutdown-on-sigint/sigterm (SHUTDOWN_* in server.h).
	shutdownFlags = []enumName{{"default", 0}, {"save", 1}, {"nosave", 2}, {"now", 4}, {"force", 8}}
)

// Values of the enum directives, for the server's convenience (Int returns them).
const (
	// maxmemory-policy
	PolicyVolatileLRU    = 0
	PolicyVolatileLFU    = 1
	PolicyVolatileRandom = 2
	PolicyVolatileTTL    = 3
	PolicyAllkeysLRU     = 4
	PolicyAllkeysLFU     = 5
	PolicyAllkeysRandom  = 6
	PolicyNoEviction     = 7
	// shutdown-on-sigint / shutdown-on-sigterm bits
	ShutdownSave   = 1
	ShutdownNoSave = 2
	ShutdownNow    = 4
	ShutdownForce  = 8
)

func checkShutdownFlags(n int64) error {
	if n&ShutdownSave != 0 && n&ShutdownNoSave != 0 {
		return errText("shutdown options SAVE and NOSAVE can't be used simultaneously")
	}
	return nil
}

func checkDBFilename(s string) error {
	if !isBaseName(s) {
		return errText("dbfilename can't be a path, just a filename")
	}
	return nil
}

func checkAOFFilename(s string) error {
	if s == "" {
		return errText("appendfilename can't be empty")
	}
	if !isBaseName(s) {
		return errText("appendfilename can't be a path, just a filename")
	}
	return nil
}

func checkAOFDirname(s string) error {
	if s == "" {
		return errText("appenddirname can't be empty")
	}
	if !isBaseName(s) {
		return errText("appenddirname can't be a path, just a dirname")
	}
	return nil
}

// netHostStrLen is NET_HOST_STR_LEN.
const netHostStrLen = 256

func checkAnnouncedHostname(s string) error {
	if len(s) >= netHostStrLen {
		return errText("Hostnames must be less than 256 characters")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return errText("Hostnames may only contain alphanumeric characters, hyphens or dots")
		}
	}
	return nil
}

// procTitleVars are the variables redis.conf's proc-title-template may use.
var procTitleVars = map[string]bool{
	"title": true, "listen-addr": true, "server-mode": true, "port": true, "tls-port": true,
	"unixsocket": true, "config-file": true,
}

// checkProcTitleTemplate mirrors validateProcTitleTemplate: braces balanced, known
// variables only, and the template must not be blank.
func checkProcTitleTemplate(s string) error {
	bad := errText("template format is invalid or contains unknown variables")
	if strings.TrimSpace(s) == "" {
		return bad
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			end := strings.IndexByte(s[i+1:], '}')
			if end < 0 {
				return bad
			}
			if !procTitleVars[s[i+1:i+1+end]] {
				return bad
			}
			i += end + 1
		case '}':
			return bad
		}
	}
	return nil
}

// capHz mirrors updateHZ: hz is a hint, accepted out of range but kept within 1..500.
func capHz(n int64) int64 {
	const minHz, maxHz = 1, 500
	if n < minHz {
		return minHz
	}
	if n > maxHz {
		return maxHz
	}
	return n
}

func buildTable() []*directive {
	t := []*directive{
		// Bool directives.
		boolDir("rdbchecksum", "", immutable, true),
		boolDir("daemonize", "", immutable, false),
		boolDir("io-threads-do-reads", "", immutable|inert, false),
		boolDir("always-show-logo", "", immutable|inert, false),
		boolDir("protected-mode", "", 0, true),
		boolDir("rdbcompression", "", 0, true),
		boolDir("rdb-del-sync-files", "", 0, false),
		boolDir("activerehashing", "", inert, true),
		boolDir("stop-writes-on-bgsave-error", "", 0, true),
		boolDir("set-proc-title", "", immutable|inert, true),
		boolDir("dynamic-hz", "", inert, true),
		boolDir("lazyfree-lazy-eviction", "", inert, false),
		boolDir("lazyfree-lazy-expire", "", inert, false),
		boolDir("lazyfree-lazy-server-del", "", inert, false),
		boolDir("lazyfree-lazy-user-del", "", inert, false),
		boolDir("lazyfree-lazy-user-flush", "", inert, false),
		boolDir("repl-disable-tcp-nodelay", "", 0, false),
		boolDir("repl-diskless-sync", "", 0, true),
		boolDir("aof-rewrite-incremental-fsync", "", 0, true),
		boolDir("no-appendfsync-on-rewrite", "", 0, false),
		boolDir("cluster-require-full-coverage", "", 0, true),
		boolDir("rdb-save-incremental-fsync", "", 0, true),
		boolDir("aof-load-truncated", "", 0, true),
		boolDir("aof-use-rdb-preamble", "", 0, true),
		boolDir("aof-timestamp-enabled", "", inert, false),
		boolDir("cluster-replica-no-failover", "cluster-slave-no-failover", 0, false),
		boolDir("replica-lazy-flush", "slave-lazy-flush", inert, false),
		boolDir("replica-serve-stale-data", "slave-serve-stale-data", 0, true),
		boolDir("replica-read-only", "slave-read-only", 0, true),
		boolDir("replica-ignore-maxmemory", "slave-ignore-maxmemory", 0, true),
		boolDir("jemalloc-bg-thread", "", inert, true),
		boolDir("activedefrag", "", inert, false),
		boolDir("syslog-enabled", "", immutable|inert, false),
		boolDir("cluster-enabled", "", immutable, false),
		boolDir("appendonly", "", 0, false),
		boolDir("cluster-allow-reads-when-down", "", 0, false),
		boolDir("cluster-allow-pubsubshard-when-down", "", 0, true),
		boolDir("crash-log-enabled", "", inert, true),
		boolDir("crash-memcheck-enabled", "", inert, true),
		boolDir("use-exit-on-panic", "", hidden|inert, false),
		boolDir("disable-thp", "", immutable|inert, true),
		boolDir("cluster-allow-replica-migration", "", 0, true),
		boolDir("replica-announced", "", 0, true),
		boolDir("latency-tracking", "", inert, true),
		boolDir("aof-disable-auto-gc", "", 0, false),
		boolDir("replica-ignore-disk-write-errors", "", 0, false),

		// String directives.
		strDir("aclfile", "", immutable, "", nil),
		strDir("unixsocket", "", immutable|emptyIsNull|inert, "", nil),
		strDir("pidfile", "", immutable|emptyIsNull, "", nil),
		strDir("replica-announce-ip", "slave-announce-ip", emptyIsNull, "", nil),
		strDir("masteruser", "", sensitive|emptyIsNull, "", nil),
		strDir("cluster-announce-ip", "", emptyIsNull, "", nil),
		strDir("cluster-config-file", "", immutable, "nodes.conf", nil),
		strDir("cluster-announce-hostname", "", emptyIsNull, "", checkAnnouncedHostname),
		strDir("syslog-ident", "", immutable|inert, "redis", nil),
		strDir("dbfilename", "", protected, "dump.rdb", checkDBFilename),
		strDir("appendfilename", "", immutable, "appendonly.aof", checkAOFFilename),
		strDir("appenddirname", "", immutable, "appendonlydir", checkAOFDirname),
		strDir("server_cpulist", "", immutable|emptyIsNull|inert, "", nil),
		strDir("bio_cpulist", "", immutable|emptyIsNull|inert, "", nil),
		strDir("aof_rewrite_cpulist", "", immutable|emptyIsNull|inert, "", nil),
		strDir("bgsave_cpulist", "", immutable|emptyIsNull|inert, "", nil),
		strDir("ignore-warnings", "", 0, "", nil),
		strDir("proc-title-template", "", inert, "{title} {listen-addr} {server-mode}", checkProcTitleTemplate),
		strDir("bind-source-addr", "", emptyIsNull, "", nil),
		strDir("logfile", "", immutable, "", nil),
		strDir("masterauth", "", sensitive|emptyIsNull, "", nil),
		strDir("requirepass", "", sensitive|emptyIsNull, "", nil),

		// Enum directives.
		enumDir("supervised", "", immutable|inert, supervisedModes, "no"),
		enumDir("syslog-facility", "", immutable|inert, syslogFacilities, "local0"),
		enumDir("repl-diskless-load", "", 0, disklessLoad, "disabled"),
		enumDir("loglevel", "", 0, logLevels, "notice"),
		enumDir("maxmemory-policy", "", 0, maxmemoryPolicies, "noeviction"),
		enumDir("appendfsync", "", 0, aofFsyncModes, "everysec"),
		enumDir("oom-score-adj", "", inert, oomScoreAdjModes, "no"),
		enumDir("acl-pubsub-default", "", 0, aclPubsubDefault, "resetchannels"),
		enumDir("sanitize-dump-payload", "", 0, sanitizePayload, "no"),
		enumDir("enable-protected-configs", "", immutable, protectedAction, "no"),
		enumDir("enable-debug-command", "", immutable, protectedAction, "no"),
		enumDir("enable-module-command", "", immutable|inert, protectedAction, "no"),
		enumDir("cluster-preferred-endpoint-type", "", 0, endpointTypes, "ip"),
		enumDir("propagation-error-behavior", "", 0, propagationError, "ignore"),
		{name: "shutdown-on-sigint", kind: kindFlags, flags: multiArg, enum: shutdownFlags, def: "default", checkNum: checkShutdownFlags},
		{name: "shutdown-on-sigterm", kind: kindFlags, flags: multiArg, enum: shutdownFlags, def: "default", checkNum: checkShutdownFlags},

		// Integer directives (C int).
		intDir("databases", "", immutable, 1, intMax, 16),
		intDir("port", "", 0, 0, 65535, 6379),
		intDir("io-threads", "", immutable|inert, 1, 128, 1),
		intDir("auto-aof-rewrite-percentage", "", 0, 0, intMax, 100),
		intDir("cluster-replica-validity-factor", "cluster-slave-validity-factor", 0, 0, intMax, 10),
		intDir("list-max-listpack-size", "list-max-ziplist-size", 0, intMin, intMax, -2),
		intDir("tcp-keepalive", "", 0, 0, intMax, 300),
		intDir("cluster-migration-barrier", "", 0, 0, intMax, 1),
		intDir("active-defrag-cycle-min", "", inert, 1, 99, 1),
		intDir("active-defrag-cycle-max", "", inert, 1, 99, 25),
		intDir("active-defrag-threshold-lower", "", inert, 0, 1000, 10),
		intDir("active-defrag-threshold-upper", "", inert, 0, 1000, 100),
		intDir("lfu-log-factor", "", 0, 0, intMax, 10),
		intDir("lfu-decay-time", "", 0, 0, intMax, 1),
		intDir("replica-priority", "slave-priority", 0, 0, intMax, 100),
		intDir("repl-diskless-sync-delay", "", 0, 0, intMax, 5),
		intDir("maxmemory-samples", "", 0, 1, intMax, 5),
		intDir("maxmemory-eviction-tenacity", "", 0, 0, 100, 10),
		intDir("timeout", "", 0, 0, intMax, 0),
		intDir("replica-announce-port", "slave-announce-port", 0, 0, 65535, 0),
		intDir("tcp-backlog", "", immutable, 0, intMax, 511),
		intDir("cluster-port", "", immutable, 0, 65535, 0),
		intDir("cluster-announce-bus-port", "", 0, 0, 65535, 0),
		intDir("cluster-announce-port", "", 0, 0, 65535, 0),
		intDir("cluster-announce-tls-port", "", 0, 0, 65535, 0),
		intDir("repl-timeout", "", 0, 1, intMax, 60),
		intDir("repl-ping-replica-period", "repl-ping-slave-period", 0, 1, intMax, 10),
		intDir("list-compress-depth", "", 0, 0, intMax, 0),
		intDir("rdb-key-save-delay", "", hidden, intMin, intMax, 0),
		intDir("key-load-delay", "", hidden, intMin, intMax, 0),
		intDir("active-expire-effort", "", 0, 1, 10, 1),
		{name: "hz", kind: kindInt, min: 0, max: intMax, def: "10", adjust: capHz},
		intDir("min-replicas-to-write", "min-slaves-to-write", 0, 0, intMax, 0),
		intDir("min-replicas-max-lag", "min-slaves-max-lag", 0, 0, intMax, 10),
		intDir("watchdog-period", "", hidden|inert, 0, intMax, 0),
		intDir("shutdown-timeout", "", 0, 0, intMax, 10),
		intDir("repl-diskless-sync-max-replicas", "", 0, 0, intMax, 0),

		// Unsigned int, long and long long directives.
		intDir("maxclients", "", unsigned, 1, uintMax, 10000),
		{name: "unixsocketperm", kind: kindOctal, flags: immutable | unsigned | inert, min: 0, max: 0o777, def: "0"},
		intDir("socket-mark-id", "", immutable|unsigned|inert, 0, uintMax, 0),
		intDir("active-defrag-max-scan-fields", "", unsigned|inert, 1, longMax, 1000),
		intDir("slowlog-max-len", "", unsigned, 0, longMax, 128),
		intDir("acllog-max-len", "", unsigned, 0, longMax, 128),
		intDir("busy-reply-threshold", "lua-time-limit", 0, 0, longMax, 5000),
		intDir("cluster-node-timeout", "", 0, 0, llongMax, 15000),
		intDir("slowlog-log-slower-than", "", 0, -1, llongMax, 10000),
		intDir("latency-monitor-threshold", "", 0, 0, llongMax, 0),
		memDir("proto-max-bulk-len", "", 0, 1024*1024, longMax, 512*1024*1024),
		intDir("stream-node-max-entries", "", 0, 0, llongMax, 100),
		memDir("repl-backlog-size", "", 0, 1, llongMax, 1024*1024),
		memDir("maxmemory", "", unsigned, 0, ullMax, 0),
		memDir("cluster-link-sendbuf-limit", "", unsigned, 0, ullMax, 0),

		// size_t, ssize_t, time_t and off_t directives.
		intDir("hash-max-listpack-entries", "hash-max-ziplist-entries", unsigned, 0, longMax, 512),
		intDir("set-max-intset-entries", "", unsigned, 0, longMax, 512),
		intDir("zset-max-listpack-entries", "zset-max-ziplist-entries", unsigned, 0, longMax, 128),
		memDir("active-defrag-ignore-bytes", "", unsigned|inert, 1, llongMax, 100<<20),
		memDir("hash-max-listpack-value", "hash-max-ziplist-value", unsigned, 0, longMax, 64),
		memDir("stream-node-max-bytes", "", unsigned, 0, longMax, 4096),
		memDir("zset-max-listpack-value", "zset-max-ziplist-value", unsigned, 0, longMax, 64),
		memDir("hll-sparse-max-bytes", "", unsigned, 0, longMax, 3000),
		intDir("tracking-table-max-keys", "", unsigned|inert, 0, longMax, 1000000),
		memDir("client-query-buffer-limit", "", unsigned, 1024*1024, longMax, 1024*1024*1024),
		{name: "maxmemory-clients", kind: kindPercent, min: -100, max: ssizeMax, def: "0", flags: inert},
		intDir("repl-backlog-ttl", "", 0, 0, longMax, 3600),
		memDir("auto-aof-rewrite-min-size", "", 0, 0, llongMax, 64*1024*1024),
		intDir("loading-process-events-interval-bytes", "", hidden, 1024, intMax, 2*1024*1024),

		// TLS directives (Debian's redis-server is built with TLS).
		intDir("tls-port", "", inert, 0, 65535, 0),
		intDir("tls-session-cache-size", "", inert, 0, intMax, 20*1024),
		intDir("tls-session-cache-timeout", "", inert, 0, intMax, 300),
		boolDir("tls-cluster", "", inert, false),
		boolDir("tls-replication", "", inert, false),
		enumDir("tls-auth-clients", "", inert, tlsAuthClients, "yes"),
		boolDir("tls-prefer-server-ciphers", "", inert, false),
		boolDir("tls-session-caching", "", inert, true),
		strDir("tls-cert-file", "", emptyIsNull|inert, "", nil),
		strDir("tls-key-file", "", emptyIsNull|inert, "", nil),
		strDir("tls-key-file-pass", "", emptyIsNull|sensitive|inert, "", nil),
		strDir("tls-client-cert-file", "", emptyIsNull|inert, "", nil),
		strDir("tls-client-key-file", "", emptyIsNull|inert, "", nil),
		strDir("tls-client-key-file-pass", "", emptyIsNull|sensitive|inert, "", nil),
		strDir("tls-dh-params-file", "", emptyIsNull|inert, "", nil),
		strDir("tls-ca-cert-file", "", emptyIsNull|inert, "", nil),
		strDir("tls-ca-cert-dir", "", emptyIsNull|inert, "", nil),
		strDir("tls-protocols", "", emptyIsNull|inert, "", nil),
		strDir("tls-ciphers", "", emptyIsNull|inert, "", nil),
		strDir("tls-ciphersuites", "", emptyIsNull|inert, "", nil),

		// Special directives.
		specialDir("dir", "", protected, dirDirective{}, ""),
		specialDir("save", "", multiArg, saveDirective{}, "3600 1 300 100 60 10000"),
		specialDir("client-output-buffer-limit", "", multiArg, outputBufferDirective{},
			"normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
		specialDir("oom-score-adj-values", "", multiArg|inert, oomScoreAdjValuesDirective{}, "0 200 800"),
		specialDir("notify-keyspace-events", "", 0, notifyDirective{}, `""`),
		specialDir("bind", "", multiArg, bindDirective{}, "* -::*"),
		specialDir("replicaof", "slaveof", immutable|multiArg, replicaOfDirective{}, "no one"),
		specialDir("latency-tracking-info-percentiles", "", multiArg|inert, percentilesDirective{}, "50 99 99.9"),
	}
	// The unsigned long long maximum is the bit pattern -1; everything else about the
	// bounds is signed.
	return t
}

// directiveTable is built once; entries are never modified after init.
var (
	directiveTable []*directive
	// directiveByName maps lower-case names and aliases to entries (lookupConfig is
	// case-insensitive).
	directiveByName map[string]*directive
)

func init() {
	for _, d := range buildTable() {
		directiveTable = append(directiveTable, d)
		if d.aliasName != "" {
			a := *d
			a.name, a.aliasName = d.aliasName, d.name
			a.flags |= alias
			a.primary = d
			directiveTable = append(directiveTable, &a)
		}
	}
	directiveByName = make(map[string]*directive, len(directiveTable))
	for _, d := range directiveTable {
		directiveByName[d.name] = d
	}
}

// lookup finds a directive by name, ignoring case.
func lookup(name string) *directive {
	if d, ok := directiveByName[name]; ok {
		return d
	}
	return directiveByName[strings.ToLower(name)]
}

// defaultArgs returns the arguments that produce a directive's default value.
func (d *directive) defaultArgs() []string {
	if d.kind == kindSpecial || d.kind == kindFlags {
		args, _ := splitArgs(d.def)
		return args
	}
	return []string{d.def}
}
