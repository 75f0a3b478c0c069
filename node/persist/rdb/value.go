package rdb

import (
	"fmt"
	"strconv"
)

// Type is a value's data type, as the TYPE command names it.
type Type uint8

// The data types an RDB file can hold.
const (
	TypeString Type = iota + 1
	TypeList
	TypeSet
	TypeZSet
	TypeHash
	TypeStream
	// TypeModule is a module's value, kept as the module wrote it (see Module).
	TypeModule
)

func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeList:
		return "list"
	case TypeSet:
		return "set"
	case TypeZSet:
		return "zset"
	case TypeHash:
		return "hash"
	case TypeStream:
		return "stream"
	case TypeModule:
		return "module"
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Encoding tells the encoder which of Redis's two representations of a set, hash or sorted
// set to write, and tells the keyspace which one a decoded value had.
type Encoding uint8

const (
	// EncodingAuto lets the encoder decide from the value's size and the Options
	// thresholds, as Redis 7.0 decides when it creates or converts an object.
	EncodingAuto Encoding = iota
	// EncodingCompact is intset or listpack (ziplist and zipmap in older files). The
	// encoder still writes the plain form when the value does not fit the compact one
	// (an intset of non-integers, a listpack over 1 GB).
	EncodingCompact
	// EncodingPlain is a hash table (sets, hashes) or skiplist (sorted sets).
	EncodingPlain
)

// Field is one field of a hash or of a stream entry.
type Field struct {
	Name  []byte
	Value []byte
}

// ZMember is one member of a sorted set.
type ZMember struct {
	Member []byte
	Score  float64
}

// StreamID is a stream entry ID, <ms>-<seq>.
type StreamID struct {
	Ms  uint64
	Seq uint64
}

// Compare returns -1, 0 or 1 as id is less than, equal to or greater than other
// (streamCompareID).
func (id StreamID) Compare(other StreamID) int {
	switch {
	case id.Ms < other.Ms:
		return -1
	case id.Ms > other.Ms:
		return 1
	case id.Seq < other.Seq:
		return -1
	case id.Seq > other.Seq:
		return 1
	}
	return 0
}

// IsZero reports whether id is 0-0.
func (id StreamID) IsZero() bool { return id.Ms == 0 && id.Seq == 0 }

func (id StreamID) String() string { return fmt.Sprintf("%d-%d", id.Ms, id.Seq) }

// StreamEntry is one live entry of a stream. Deleted entries, which Redis keeps inside its
// listpacks as tombstones, are not part of the model.
type StreamEntry struct {
	ID     StreamID
	Fields []Field
}

// Stream is a stream with its consumer groups.
type Stream struct {
	// Entries are in increasing ID order.
	Entries []StreamEntry
	// LastID is the last ID ever generated (XADD's lower bound for the next ID).
	LastID StreamID
	// FirstID is the ID of the first entry, 0-0 when the stream is empty. The encoder
	// takes Entries[0].ID when it is left zero.
	FirstID StreamID
	// MaxDeletedID is the greatest ID ever deleted by XDEL or trimming.
	MaxDeletedID StreamID
	// EntriesAdded counts every entry ever added (XINFO's entries-added).
	EntriesAdded uint64
	// Groups are the consumer groups, in name order.
	Groups []StreamGroup
}

// EntriesReadUnknown is a group's EntriesRead when Redis cannot tell how many entries the
// group has read (SCG_INVALID_ENTRIES_READ); XINFO reports it as nil.
const EntriesReadUnknown int64 = -1

// StreamGroup is a consumer group.
type StreamGroup struct {
	Name   []byte
	LastID StreamID
	// EntriesRead is the group's logical read counter, or EntriesReadUnknown.
	EntriesRead int64
	// Pending is the group's pending entries list (PEL), in ID order.
	Pending []StreamPending
	// Consumers are in name order.
	Consumers []StreamConsumer
}

// StreamPending is one delivered but not yet acknowledged entry of a group.
type StreamPending struct {
	ID StreamID
	// Consumer owns the entry. Redis files always name one; nil only when a file's group
	// PEL holds an entry that no consumer's PEL lists.
	Consumer []byte
	// DeliveryTime is the Unix time in milliseconds of the last delivery.
	DeliveryTime int64
	// DeliveryCount is how many times the entry was delivered.
	DeliveryCount uint64
}

// StreamConsumer is a consumer of a group. Its pending entries are the group's Pending
// entries that name it.
type StreamConsumer struct {
	Name []byte
	// SeenTime is the Unix time in milliseconds of the consumer's last interaction.
	SeenTime int64
	// ActiveTime is the Unix time in milliseconds of its last successful read (Redis 7.2);
	// files written by 7.0 do not record it and it reads as SeenTime, as 7.2 loads them.
	ActiveTime int64
}

// Module is a module type's value or aux data, kept as the module serialized it: a
// sequence of module opcodes (RDB_MODULE_OPCODE_*) and their arguments ending with the EOF
// opcode. Without the module it cannot be interpreted, only carried.
type Module struct {
	// ID is the module type ID: 54 bits of name (see ModuleName) and a 10-bit encoding
	// version.
	ID  uint64
	Raw []byte
}

// ModuleName returns the 9-character type name encoded in a module type ID
// (moduleTypeNameByID).
func ModuleName(id uint64) string {
	const charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	name := make([]byte, 9)
	id >>= 10
	for i := 8; i >= 0; i-- {
		name[i] = charset[id&63]
		id >>= 6
	}
	return string(name)
}

// Value is one key's value in a neutral form the keyspace converts to and from. Only the
// field matching Type is used.
type Value struct {
	Type     Type
	Encoding Encoding
	// RDBType is the RDB object type byte the decoder read the value with (for example
	// 11 for an intset set, 18 for a quicklist); the encoder ignores it.
	RDBType uint8

	Str  []byte
	List [][]byte
	// Set members are distinct.
	Set [][]byte
	// Hash fields are distinct.
	Hash []Field
	// ZSet members are distinct and no score is NaN.
	ZSet   []ZMember
	Stream *Stream
	Module *Module
}

// Entry is one key as stored in an RDB file: its database, name, value and the metadata
// the opcodes before it carry.
type Entry struct {
	DB    int
	Key   []byte
	Value Value
	// ExpireAt is the absolute Unix time in milliseconds when the key expires; 0 means
	// it has no TTL.
	ExpireAt int64
	// Idle is the LRU idle time in seconds, written and read with the IDLE opcode when
	// HasIdle is set (Redis writes it under an LRU maxmemory-policy).
	Idle    uint64
	HasIdle bool
	// Freq is the LFU logarithmic access counter, written and read with the FREQ opcode
	// when HasFreq is set (Redis writes it under an LFU maxmemory-policy).
	Freq    uint8
	HasFreq bool
}

// AuxField is one AUX field: a name and a value, both strings (redis-ver, ctime, repl-id,
// repl-offset, ...).
type AuxField struct {
	Key   string
	Value []byte
}

// ModuleAux is module data not tied to a key (RDB_OPCODE_MODULE_AUX).
type ModuleAux struct {
	Module
	// When is REDISMODULE_AUX_BEFORE_RDB (1) or REDISMODULE_AUX_AFTER_RDB (2).
	When uint64
}
