package rdb

import (
	"errors"
	"fmt"
)

// Version is the RDB format version this package writes, Redis 7.0's RDB_VERSION.
const Version = 10

// MaxReadVersion is the newest format the decoder reads: Redis 7.2's version 11, whose new
// set listpack and stream v3 types it understands. (Redis 7.0 itself refuses 11.)
const MaxReadVersion = 11

// Object types (rdb.h RDB_TYPE_*): the byte before a key names its value's encoding.
const (
	typeString           = 0
	typeList             = 1 // linked list of strings, before Redis 3.2
	typeSet              = 2
	typeZSet             = 3 // scores as strings, before RDB 8
	typeHash             = 4
	typeZSet2            = 5 // scores as binary doubles
	typeModulePreGA      = 6
	typeModule2          = 7
	typeHashZipmap       = 9
	typeListZiplist      = 10
	typeSetIntset        = 11
	typeZSetZiplist      = 12
	typeHashZiplist      = 13
	typeListQuicklist    = 14 // quicklist of ziplists, Redis 3.2 to 6.2
	typeStreamListpacks  = 15 // Redis 5 to 6.2
	typeHashListpack     = 16
	typeZSetListpack     = 17
	typeListQuicklist2   = 18 // quicklist of listpacks or plain nodes, Redis 7.0
	typeStreamListpacks2 = 19 // adds first ID, max deleted ID, entries added, entries read
	typeSetListpack      = 20 // Redis 7.2
	typeStreamListpacks3 = 21 // Redis 7.2: adds consumers' active time
)

// Opcodes (rdb.h RDB_OPCODE_*) share the type byte's position.
const (
	opFunctionPreGA = 246 // Redis 7.0 release candidates' function format
	opFunction2     = 245
	opModuleAux     = 247
	opIdle          = 248
	opFreq          = 249
	opAux           = 250
	opResizeDB      = 251
	opExpireTimeMs  = 252
	opExpireTime    = 253
	opSelectDB      = 254
	opEOF           = 255
)

// Length encodings: the top two bits of the first byte.
const (
	len6Bit  = 0
	len14Bit = 1
	len32Bit = 0x80
	len64Bit = 0x81
	lenEnc   = 3 // a special string encoding follows in the low 6 bits
)

// Special string encodings (RDB_ENC_*).
const (
	encInt8  = 0
	encInt16 = 1
	encInt32 = 2
	encLZF   = 3
)

// Module serialization opcodes (RDB_MODULE_OPCODE_*).
const (
	moduleOpEOF    = 0
	moduleOpSInt   = 1
	moduleOpUInt   = 2
	moduleOpFloat  = 3
	moduleOpDouble = 4
	moduleOpString = 5
)

// Quicklist node containers (QUICKLIST_NODE_CONTAINER_*).
const (
	containerPlain  = 1
	containerPacked = 2
)

// Stream listpack entry flags (STREAM_ITEM_FLAG_*).
const (
	streamFlagDeleted    = 1
	streamFlagSameFields = 2
)

// ErrDumpPayload is RESTORE's complaint about a payload whose footer is wrong: its RDB
// version is newer than 10 or its CRC64 does not match. The text is Redis's reply.
var ErrDumpPayload = errors.New("DUMP payload version or checksum are wrong")

// ErrBadDataFormat is RESTORE's complaint about a payload whose footer is right but whose
// value does not decode. The text is Redis's reply; errors wrapping it say what was wrong.
var ErrBadDataFormat = errors.New("Bad data format")

// CorruptError reports input that is not a valid RDB stream: a truncation, a bad
// checksum, or a structure that does not hold together.
type CorruptError struct {
	// Offset is the byte offset in the input where the problem was noticed.
	Offset int64
	// Msg says what was wrong, in Redis's words where Redis has words for it.
	Msg string
	// Err is the underlying cause, such as io.ErrUnexpectedEOF, when there is one.
	Err error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("rdb: corrupt data at offset %d: %s", e.Offset, e.Msg)
}

func (e *CorruptError) Unwrap() error { return e.Err }
