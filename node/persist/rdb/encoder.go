package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/clusterctl/clusterctl/node/resp"
)

// Options are the redis.conf settings that decide how values are written. Start from
// DefaultOptions: the zero value means no compression, no checksum and every collection
// in its plain encoding, which is valid but not what Redis would write.
type Options struct {
	// Compression LZF-compresses strings longer than 20 bytes when that saves at least 4
	// bytes (rdbcompression).
	Compression bool
	// Checksum writes the CRC64 trailer; without it the trailer is zero (rdbchecksum).
	Checksum bool
	// ListMaxListpackSize bounds each quicklist node: a negative value -1..-5 limits its
	// listpack to 4, 8, 16, 32 or 64 KB, a positive value to that many elements
	// (list-max-listpack-size).
	ListMaxListpackSize int
	// ListPackedThreshold is the element size from which a list element gets a plain node
	// of its own (quicklist's packed_threshold, 1 GB unless changed by DEBUG).
	ListPackedThreshold int
	// SetMaxIntsetEntries: sets of integers up to this size are intsets
	// (set-max-intset-entries).
	SetMaxIntsetEntries int
	// HashMaxListpackEntries and HashMaxListpackValue: hashes with at most that many
	// fields, none of whose fields or values is longer, are listpacks
	// (hash-max-listpack-entries, hash-max-listpack-value).
	HashMaxListpackEntries int
	HashMaxListpackValue   int
	// ZSetMaxListpackEntries and ZSetMaxListpackValue do the same for sorted sets
	// (zset-max-listpack-entries, zset-max-listpack-value).
	ZSetMaxListpackEntries int
	ZSetMaxListpackValue   int
	// StreamNodeMaxBytes and StreamNodeMaxEntries bound each stream listpack; 0 means no
	// limit (stream-node-max-bytes, stream-node-max-entries).
	StreamNodeMaxBytes   int
	StreamNodeMaxEntries int
}

// DefaultOptions returns Redis 7.0's defaults.
func DefaultOptions() Options {
	return Options{
		Compression:            true,
		Checksum:               true,
		ListMaxListpackSize:    -2,
		ListPackedThreshold:    1 << 30,
		SetMaxIntsetEntries:    512,
		HashMaxListpackEntries: 512,
		HashMaxListpackValue:   64,
		ZSetMaxListpackEntries: 128,
		ZSetMaxListpackValue:   64,
		StreamNodeMaxBytes:     4096,
		StreamNodeMaxEntries:   100,
	}
}

// writer encodes values into its own buffer, buf, with a sticky error. With out set it is
// a buffered stream: buf is handed to out whenever it passes flushSize (and by flush), and
// after the first failure every write is a no-op and err reports it. Without out
// everything stays in buf, for AppendEntry and DUMP payloads. Appending to a slice the
// writer owns, rather than calling an io.Writer per field, keeps the small writes of
// every key (a type byte, a length) free of allocations.
type writer struct {
	buf  []byte
	out  io.Writer
	opts Options
	err  error
}

// flushSize is the buffered size from which a streaming writer hands its bytes on.
const flushSize = 64 << 10

func (w *writer) writeByte(b byte) {
	if w.out != nil && len(w.buf) >= flushSize {
		w.flush()
	}
	if w.err == nil {
		w.buf = append(w.buf, b)
	}
}

// writeRaw appends p, flushing in flushSize pieces when streaming. p never reaches out
// itself, so the small arrays callers format lengths in stay on their stack.
func (w *writer) writeRaw(p []byte) {
	for w.err == nil {
		room := flushSize - len(w.buf)
		if w.out == nil || len(p) <= room {
			w.buf = append(w.buf, p...)
			return
		}
		if room > 0 {
			w.buf = append(w.buf, p[:room]...)
			p = p[room:]
		}
		w.flush()
	}
}

// flush hands the buffered bytes to out.
func (w *writer) flush() {
	if w.err != nil || w.out == nil || len(w.buf) == 0 {
		return
	}
	_, w.err = w.out.Write(w.buf)
	w.buf = w.buf[:0]
}

// writeLen writes a length in the smallest of its four forms (rdbSaveLen).
func (w *writer) writeLen(n uint64) {
	var b [9]byte
	switch {
	case n < 1<<6:
		w.writeByte(byte(n))
	case n < 1<<14:
		b[0], b[1] = len14Bit<<6|byte(n>>8), byte(n)
		w.writeRaw(b[:2])
	case n <= math.MaxUint32:
		b[0] = len32Bit
		binary.BigEndian.PutUint32(b[1:], uint32(n))
		w.writeRaw(b[:5])
	default:
		b[0] = len64Bit
		binary.BigEndian.PutUint64(b[1:], n)
		w.writeRaw(b[:9])
	}
}

// writeString writes a string as rdbSaveRawString does: as an 8, 16 or 32-bit integer
// when it is the canonical decimal form of one, LZF-compressed when compression is on, it
// is longer than 20 bytes and compression saves at least 4 bytes, else verbatim.
func (w *writer) writeString(s []byte) {
	if len(s) <= 11 {
		if v, ok := resp.ParseInt(s); ok && v >= math.MinInt32 && v <= math.MaxInt32 {
			w.writeIntString(v)
			return
		}
	}
	if w.opts.Compression && len(s) > 20 {
		lz := lzfCompressors.Get().(*lzfCompressor)
		c := lz.compress(s, len(s)-4)
		if c != nil {
			w.writeByte(lenEnc<<6 | encLZF)
			w.writeLen(uint64(len(c)))
			w.writeLen(uint64(len(s)))
			w.writeRaw(c)
		}
		lzfCompressors.Put(lz)
		if c != nil {
			return
		}
	}
	w.writeLen(uint64(len(s)))
	w.writeRaw(s)
}

// writeIntString writes an integer that fits 32 bits in the integer string encoding
// (rdbEncodeInteger).
func (w *writer) writeIntString(v int64) {
	b := [5]byte{0, byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
	switch {
	case v >= math.MinInt8 && v <= math.MaxInt8:
		b[0] = lenEnc<<6 | encInt8
		w.writeRaw(b[:2])
	case v >= math.MinInt16 && v <= math.MaxInt16:
		b[0] = lenEnc<<6 | encInt16
		w.writeRaw(b[:3])
	default:
		b[0] = lenEnc<<6 | encInt32
		w.writeRaw(b[:5])
	}
}

func (w *writer) writeUint64LE(v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	w.writeRaw(b[:])
}

// crcWriter keeps the CRC64 of everything written through it.
type crcWriter struct {
	w       io.Writer
	crc     uint64
	written int64
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.crc = CRC64(c.crc, p[:n])
	c.written += int64(n)
	return n, err
}

// Encoder writes an RDB file: the header, then whatever metadata and keys the caller
// writes in order, then, on Close, the EOF opcode and the checksum trailer. Write the
// metadata first as Redis does: AUX fields (see WriteInfoAux), module aux data, function
// libraries, then each database's keys.
type Encoder struct {
	w       writer
	cw      *crcWriter
	db      int
	started bool
	closed  bool
}

// NewEncoder returns an Encoder writing to w with the given options. It buffers; Close
// flushes.
func NewEncoder(w io.Writer, opts Options) *Encoder {
	cw := &crcWriter{w: w}
	return &Encoder{w: writer{buf: make([]byte, 0, flushSize+4<<10), out: cw, opts: opts}, cw: cw, db: -1}
}

func (e *Encoder) begin() error {
	if e.closed {
		return errors.New("rdb: write after Close")
	}
	if !e.started {
		e.started = true
		e.w.writeRaw(fmt.Appendf(nil, "REDIS%04d", Version))
	}
	return e.w.err
}

// WriteAux writes an AUX field.
func (e *Encoder) WriteAux(key string, value []byte) error {
	if err := e.begin(); err != nil {
		return err
	}
	e.w.writeByte(opAux)
	e.w.writeString([]byte(key))
	e.w.writeString(value)
	return e.w.err
}

// InfoAux is the set of AUX fields Redis 7.0 writes at the start of every RDB
// (rdbSaveInfoAuxFields).
type InfoAux struct {
	RedisVersion string // redis-ver
	CTime        int64  // ctime: Unix seconds when the file was written
	UsedMem      int64  // used-mem
	// Repl, when set, records the replication state so a replica or a restarted master
	// can continue with a partial resync (PSYNC) after loading the file.
	Repl    *ReplAux
	AOFBase bool // aof-base: the file is the base of a multi-part AOF
}

// ReplAux is the replication state recorded in an RDB.
type ReplAux struct {
	StreamDB int    // repl-stream-db: the database the replication stream had selected
	ReplID   string // repl-id: the 40-character replication ID
	Offset   int64  // repl-offset: the replication offset the file corresponds to
}

// WriteInfoAux writes the AUX fields Redis writes, in Redis's order.
func (e *Encoder) WriteInfoAux(info InfoAux) error {
	num := func(n int64) []byte { return strconv.AppendInt(nil, n, 10) }
	fields := []AuxField{
		{"redis-ver", []byte(info.RedisVersion)},
		{"redis-bits", num(64)},
		{"ctime", num(info.CTime)},
		{"used-mem", num(info.UsedMem)},
	}
	if info.Repl != nil {
		fields = append(fields,
			AuxField{"repl-stream-db", num(int64(info.Repl.StreamDB))},
			AuxField{"repl-id", []byte(info.Repl.ReplID)},
			AuxField{"repl-offset", num(info.Repl.Offset)})
	}
	aofBase := int64(0)
	if info.AOFBase {
		aofBase = 1
	}
	fields = append(fields, AuxField{"aof-base", num(aofBase)})
	for _, f := range fields {
		if err := e.WriteAux(f.Key, f.Value); err != nil {
			return err
		}
	}
	return nil
}

// WriteModuleAux writes a module aux record as it was read.
func (e *Encoder) WriteModuleAux(m ModuleAux) error {
	if err := e.begin(); err != nil {
		return err
	}
	e.w.writeByte(opModuleAux)
	e.w.writeLen(m.ID)
	e.w.writeLen(moduleOpUInt)
	e.w.writeLen(m.When)
	e.w.writeRaw(m.Raw)
	return e.w.err
}

// WriteFunction writes a function library's source, as FUNCTION LOAD received it
// (RDB_OPCODE_FUNCTION2).
func (e *Encoder) WriteFunction(code []byte) error {
	if err := e.begin(); err != nil {
		return err
	}
	e.w.writeByte(opFunction2)
	e.w.writeString(code)
	return e.w.err
}

// SelectDB starts database db's keys with its sizes as a loading hint (SELECTDB and
// RESIZEDB). WriteEntry selects the database itself when the caller has not.
func (e *Encoder) SelectDB(db int, keys, expires uint64) error {
	if err := e.begin(); err != nil {
		return err
	}
	if db < 0 {
		return fmt.Errorf("rdb: negative database number %d", db)
	}
	e.w.writeByte(opSelectDB)
	e.w.writeLen(uint64(db))
	e.w.writeByte(opResizeDB)
	e.w.writeLen(keys)
	e.w.writeLen(expires)
	e.db = db
	return e.w.err
}

// WriteEntry writes a key with its expiry, LRU or LFU metadata and value
// (rdbSaveKeyValuePair). A value that cannot be written (an empty collection, a NaN
// score, unordered stream entries) is an error and nothing of the key is written.
func (e *Encoder) WriteEntry(ent *Entry) error {
	if err := e.begin(); err != nil {
		return err
	}
	t, err := objectType(&ent.Value, &e.w.opts)
	if err != nil {
		return fmt.Errorf("rdb: key %q: %w", ent.Key, err)
	}
	if ent.DB != e.db {
		if ent.DB < 0 {
			return fmt.Errorf("rdb: key %q: negative database number %d", ent.Key, ent.DB)
		}
		e.w.writeByte(opSelectDB)
		e.w.writeLen(uint64(ent.DB))
		e.db = ent.DB
	}
	e.w.writeKeyValue(t, ent)
	return e.w.err
}

// writeKeyValue writes a key's metadata opcodes, its object type, name and value: what
// follows the database selection (rdbSaveKeyValuePair).
func (w *writer) writeKeyValue(t byte, ent *Entry) {
	if ent.ExpireAt != 0 {
		w.writeByte(opExpireTimeMs)
		w.writeUint64LE(uint64(ent.ExpireAt))
	}
	if ent.HasIdle {
		w.writeByte(opIdle)
		w.writeLen(ent.Idle)
	}
	if ent.HasFreq {
		w.writeByte(opFreq)
		w.writeByte(ent.Freq)
	}
	w.writeByte(t)
	w.writeString(ent.Key)
	w.writeValue(t, &ent.Value)
}

// AppendEntry appends to dst the bytes WriteEntry would write for ent, without any
// database selection: for writers that encode keys apart from the file they end up in
// (a snapshot taken slot by slot) and pass them on with Encoder.WriteEncoded. A value
// that cannot be written is an error and dst is returned unchanged. ent.DB is ignored.
func AppendEntry(dst []byte, ent *Entry, opts Options) ([]byte, error) {
	t, err := objectType(&ent.Value, &opts)
	if err != nil {
		return dst, fmt.Errorf("rdb: key %q: %w", ent.Key, err)
	}
	w := writer{buf: dst, opts: opts}
	w.writeKeyValue(t, ent)
	return w.buf, nil
}

// WriteEncoded writes keys already encoded by AppendEntry into the database the last
// SelectDB chose.
func (e *Encoder) WriteEncoded(p []byte) error {
	if err := e.begin(); err != nil {
		return err
	}
	if e.db < 0 {
		return errors.New("rdb: encoded keys written before SelectDB")
	}
	e.w.writeRaw(p)
	return e.w.err
}

// Written returns the number of bytes passed to the underlying writer so far (buffered
// bytes not included).
func (e *Encoder) Written() int64 { return e.cw.written }

// Flush writes out the buffered bytes, so a caller can sync the file in steps
// (rdb-save-incremental-fsync).
func (e *Encoder) Flush() error {
	if e.w.err != nil {
		return e.w.err
	}
	e.w.flush()
	return e.w.err
}

// Close writes the EOF opcode and the checksum trailer and flushes. It does not close the
// underlying writer.
func (e *Encoder) Close() error {
	if err := e.begin(); err != nil {
		return err
	}
	e.closed = true
	e.w.writeByte(opEOF)
	if e.w.err != nil {
		return e.w.err
	}
	if e.w.flush(); e.w.err != nil {
		return e.w.err
	}
	sum := e.cw.crc
	if !e.w.opts.Checksum {
		sum = 0
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], sum)
	n, err := e.cw.w.Write(b[:])
	e.cw.written += int64(n)
	return err
}
