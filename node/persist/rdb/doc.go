// Package rdb is the RDB codec: Redis 7.0's dump.rdb format (RDB version 10) and its DUMP
// payloads, with the CRC64 and LZF they use. It is a pure streaming codec over a neutral
// value model (Value, Entry): it never touches the keyspace, which converts to and from
// these values.
//
// An RDB file is the magic "REDIS0010", a sequence of records each introduced by a type
// byte (an opcode such as AUX, SELECTDB, EXPIRETIME_MS, or a value's object type followed
// by its key and value), the EOF opcode, and the CRC64 of everything before it.
//
// Encoder writes what Redis 7.0 writes: strings integer-encoded or LZF-compressed as
// rdbSaveRawString decides, lists as quicklists of listpacks, sets as intsets or hash
// tables, hashes and sorted sets as listpacks or their plain forms, streams as
// listpacks with their consumer groups, each choice made from Options the way Redis makes
// it from redis.conf. Decoder reads that and every older encoding Redis 7.0 still loads
// (zipmap, ziplist, linked lists, quicklists of ziplists, text scores, version 1 streams),
// plus Redis 7.2's set listpack and version 3 streams.
//
// Decoded values may share memory with each other; treat them as read-only.
package rdb
