// Package persist is the home of the node's on-disk formats and of the machinery that
// writes and loads them. Its subpackages split by concern:
//
//   - rdb: the RDB version 10 codec (Redis 7.0's dump.rdb and DUMP/RESTORE payloads), a
//     pure streaming encoder and decoder over a neutral value model, with its CRC64 and
//     LZF. It knows nothing of the keyspace; the keyspace converts to and from its values.
//   - rdbvalue: that conversion, keyspace Objects to rdb Values and back, deciding each
//     loaded value's encoding from the thresholds as redis-server does.
//   - snapshot: point-in-time RDB files of the running keyspace without fork (SAVE,
//     BGSAVE, an AOF rewrite's base, a replica's full sync) and loading them back.
//   - aof: the append-only file in Redis 7.0's multi-part layout (manifest, RDB-preamble
//     base, increments), its command reader with aof-load-truncated's repair, and the
//     writer that appends the effects stream under an appendfsync policy.
//
// The server (node/server, persistence.go and persistence_aof.go) schedules snapshots and
// rewrites and wires these together; the formats never call back into the server.
package persist
