package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A DUMP payload (cluster.c createDumpPayload) is one value as an RDB object type byte and
// the value's RDB encoding, followed by a footer: the RDB version as 2 bytes little endian
// and the CRC64 of everything before the CRC as 8 bytes little endian.

// EncodeDump returns the DUMP payload of v, as Redis 7.0's DUMP would produce it (the
// options' Compression plays rdbcompression's part; the CRC is always written).
func EncodeDump(v *Value, opts Options) ([]byte, error) {
	t, err := objectType(v, &opts)
	if err != nil {
		return nil, fmt.Errorf("rdb: dump: %w", err)
	}
	w := writer{opts: opts}
	w.writeByte(t)
	w.writeValue(t, v)
	out := binary.LittleEndian.AppendUint16(w.buf, Version)
	return binary.LittleEndian.AppendUint64(out, CRC64(0, out)), nil
}

// DecodeDump decodes a DUMP payload as RESTORE does. A wrong footer (a version newer than
// 10, a CRC mismatch, or too short a payload) gives ErrDumpPayload; a value that does not
// decode gives an error wrapping ErrBadDataFormat. The payload is not retained.
func DecodeDump(payload []byte) (*Value, error) {
	if err := VerifyDump(payload); err != nil {
		return nil, err
	}
	r := newBytesReader(payload[:len(payload)-10])
	t, err := r.readByte()
	if err != nil {
		return nil, badDataFormat(err)
	}
	if !isObjectType(t) {
		return nil, badDataFormat(r.corrupt("Unknown RDB encoding type %d", t))
	}
	v, empty, err := decodeValue(r, t)
	if err != nil {
		return nil, badDataFormat(err)
	}
	if empty {
		return nil, badDataFormat(errors.New("empty collection"))
	}
	return &v, nil
}

// VerifyDump checks a payload's footer (verifyDumpPayload): its RDB version must be one
// Redis 7.0 reads and its CRC64 must match.
func VerifyDump(payload []byte) error {
	if len(payload) < 10 {
		return ErrDumpPayload
	}
	footer := payload[len(payload)-10:]
	if binary.LittleEndian.Uint16(footer) > Version {
		return ErrDumpPayload
	}
	if binary.LittleEndian.Uint64(footer[2:]) != CRC64(0, payload[:len(payload)-8]) {
		return ErrDumpPayload
	}
	return nil
}

func badDataFormat(err error) error {
	return fmt.Errorf("%w: %w", ErrBadDataFormat, err)
}
