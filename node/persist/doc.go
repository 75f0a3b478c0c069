// Package persist is the home of the node's on-disk formats and of the machinery that
// writes and loads them. Its subpackages split by concern:
//
//   - rdb: the RDB version 10 codec (Redis 7.0's dump.rdb and DUMP/RESTORE payloads), a
//     pure streaming encoder and decoder over a neutral value model, with its CRC64 and
//     LZF. It knows nothing of the keyspace; the keyspace converts to and from its values.
//   - aof: the append-only file (Redis 7.0's multi-part layout with an RDB preamble).
//
// Snapshot scheduling (SAVE, BGSAVE, save points) and AOF rewriting live next to these
// formats and drive them; the formats never call back into the server.
package persist
