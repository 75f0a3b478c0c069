package rdb

import (
	"bytes"
	"fmt"
	"io"
	"math"
)

// Decoder reads an RDB file as a stream of keys. It holds one key at a time, so loading a
// file needs no second copy of the data set; the metadata records around the keys (AUX
// fields, function libraries, module aux data) are collected as they pass and are
// available from the accessors once Next has read past them (Redis writes them all before
// the first key, except module aux data it may write after the last).
//
// Every structure is validated as it is read, as redis-check-rdb's deep sanitization does:
// corrupt or truncated input gives a *CorruptError, never a panic, and lengths read from
// the input never make the decoder allocate much more than the input actually holds.
type Decoder struct {
	// SkipChecksum disables the CRC64 check of the trailer, as rdbchecksum no does on
	// load. A trailer of zero, written with rdbchecksum no, is never checked.
	SkipChecksum bool
	// ReuseEntry makes Next return the same Entry every time, its Key in a buffer the
	// next call overwrites, for a loader that copies each key into its own structures:
	// loading a million keys then allocates no Entry and no key. The Value's bytes are
	// new on every call either way.
	ReuseEntry bool

	entry     Entry
	keyBuf    []byte
	r         *reader
	version   int
	started   bool
	err       error // sticky: once set, Next returns it
	db        int
	dbSize    uint64
	expSize   uint64
	aux       []AuxField
	functions [][]byte
	moduleAux []ModuleAux
	skipped   int
}

// NewDecoder returns a Decoder reading an RDB file from r. It reads ahead from r in
// blocks.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: newStreamReader(r)}
}

// Version returns the file's RDB version, once Next has been called.
func (d *Decoder) Version() int { return d.version }

// Aux returns the AUX fields read so far, in file order.
func (d *Decoder) Aux() []AuxField { return d.aux }

// AuxValue returns the value of the AUX field named key (the last one, if repeated).
func (d *Decoder) AuxValue(key string) ([]byte, bool) {
	for i := len(d.aux) - 1; i >= 0; i-- {
		if d.aux[i].Key == key {
			return d.aux[i].Value, true
		}
	}
	return nil, false
}

// Functions returns the function library sources read so far (FUNCTION LOAD payloads).
func (d *Decoder) Functions() [][]byte { return d.functions }

// ModuleAux returns the module aux records read so far.
func (d *Decoder) ModuleAux() []ModuleAux { return d.moduleAux }

// ResizeHint returns the key and expire counts the last RESIZEDB record announced for the
// current database, for pre-sizing its tables.
func (d *Decoder) ResizeHint() (keys, expires uint64) { return d.dbSize, d.expSize }

// EmptyKeysSkipped counts keys with an empty collection value, which Redis skips on load
// rather than failing (rdbLoadObject's RDB_LOAD_ERR_EMPTY_KEY); Next skips them too.
func (d *Decoder) EmptyKeysSkipped() int { return d.skipped }

// Offset returns the number of input bytes consumed so far.
func (d *Decoder) Offset() int64 { return d.r.offset() }

// Rest returns the input that follows the RDB file, once Next has returned io.EOF: the
// bytes the decoder read ahead and what is left of the source. An AOF with an RDB
// preamble continues there with its commands.
func (d *Decoder) Rest() io.Reader {
	ahead := bytes.NewReader(d.r.buf[d.r.pos:])
	if d.r.src == nil {
		return ahead
	}
	return io.MultiReader(ahead, d.r.src)
}

// Next returns the next key. After the last key it checks the trailer's checksum and
// returns io.EOF.
func (d *Decoder) Next() (*Entry, error) {
	if d.err != nil {
		return nil, d.err
	}
	e, err := d.next()
	if err != nil {
		d.err = err
	}
	return e, err
}

// newEntry returns the Entry the next key is read into.
func (d *Decoder) newEntry() *Entry {
	if d.ReuseEntry {
		d.entry = Entry{DB: d.db}
		return &d.entry
	}
	return &Entry{DB: d.db}
}

func (d *Decoder) readHeader() error {
	var magic [9]byte
	if err := d.r.readFixed(magic[:]); err != nil {
		return err
	}
	if !bytes.Equal(magic[:5], []byte("REDIS")) {
		return &CorruptError{Msg: "wrong signature: not an RDB file"}
	}
	v := 0
	for _, c := range magic[5:] {
		if c < '0' || c > '9' {
			return &CorruptError{Msg: fmt.Sprintf("bad RDB version %q", magic[5:])}
		}
		v = v*10 + int(c-'0')
	}
	if v < 1 || v > MaxReadVersion {
		return &CorruptError{Msg: fmt.Sprintf("can't handle RDB format version %d", v)}
	}
	d.version = v
	return nil
}

func (d *Decoder) next() (*Entry, error) {
	r := d.r
	if !d.started {
		d.started = true
		if err := d.readHeader(); err != nil {
			return nil, err
		}
	}
	e := d.newEntry()
	for {
		op, err := r.readByte()
		if err != nil {
			return nil, err
		}
		switch op {
		case opExpireTime:
			var b [4]byte
			if err := r.readFixed(b[:]); err != nil {
				return nil, err
			}
			secs := int32(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
			e.ExpireAt = int64(secs) * 1000
		case opExpireTimeMs:
			if e.ExpireAt, err = r.readMillis(); err != nil {
				return nil, err
			}
		case opFreq:
			if e.Freq, err = r.readByte(); err != nil {
				return nil, err
			}
			e.HasFreq = true
		case opIdle:
			if e.Idle, err = r.readLen(); err != nil {
				return nil, err
			}
			e.HasIdle = true
		case opEOF:
			return nil, d.finish()
		case opSelectDB:
			db, err := r.readLen()
			if err != nil {
				return nil, err
			}
			if db > math.MaxInt32 {
				return nil, r.corrupt("database number %d out of range", db)
			}
			d.db, d.dbSize, d.expSize = int(db), 0, 0
			e.DB = d.db
		case opResizeDB:
			if d.dbSize, err = r.readLen(); err != nil {
				return nil, err
			}
			if d.expSize, err = r.readLen(); err != nil {
				return nil, err
			}
		case opAux:
			key, err := r.readString()
			if err != nil {
				return nil, err
			}
			val, err := r.readString()
			if err != nil {
				return nil, err
			}
			d.aux = append(d.aux, AuxField{Key: string(key), Value: val})
		case opModuleAux:
			m, err := readModuleAux(r)
			if err != nil {
				return nil, err
			}
			d.moduleAux = append(d.moduleAux, m)
		case opFunction2:
			code, err := r.readString()
			if err != nil {
				return nil, err
			}
			d.functions = append(d.functions, code)
		case opFunctionPreGA:
			code, err := readPreGAFunction(r)
			if err != nil {
				return nil, err
			}
			d.functions = append(d.functions, code)
		default:
			if !isObjectType(op) {
				return nil, r.corrupt("Unknown RDB encoding type %d", op)
			}
			if d.ReuseEntry {
				d.keyBuf, err = r.appendString(d.keyBuf[:0])
				e.Key = d.keyBuf
			} else {
				e.Key, err = r.readString()
			}
			if err != nil {
				return nil, err
			}
			v, empty, err := decodeValue(r, op)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", e.Key, err)
			}
			if empty {
				d.skipped++
				e = d.newEntry()
				continue
			}
			e.Value = v
			return e, nil
		}
	}
}

// finish checks the trailer after the EOF opcode: RDB 5 and later end with the CRC64 of
// everything before it, or zero when written with rdbchecksum no.
func (d *Decoder) finish() error {
	if d.version < 5 {
		return io.EOF
	}
	sum := d.r.sum()
	got, err := d.r.readUint64LE()
	if err != nil {
		return err
	}
	if got != 0 && got != sum && !d.SkipChecksum {
		return &CorruptError{Offset: d.r.offset() - 8,
			Msg: fmt.Sprintf("RDB CRC error: checksum %016x, computed %016x", got, sum)}
	}
	return io.EOF
}

// isObjectType mirrors rdbIsObjectType, extended with Redis 7.2's set listpack and
// stream v3.
func isObjectType(t byte) bool {
	return t <= typeModule2 || (t >= typeHashZipmap && t <= typeStreamListpacks3)
}

// readModuleAux reads a module aux record after its opcode: the module ID, the "when"
// argument behind a UINT opcode, then the module's own opcodes up to EOF.
func readModuleAux(r *reader) (ModuleAux, error) {
	var m ModuleAux
	var err error
	if m.ID, err = r.readLen(); err != nil {
		return m, err
	}
	whenOp, err := r.readLen()
	if err != nil {
		return m, err
	}
	if whenOp != moduleOpUInt {
		return m, r.corrupt("bad when_opcode in module %s aux data", ModuleName(m.ID))
	}
	if m.When, err = r.readLen(); err != nil {
		return m, err
	}
	m.Raw, err = readModuleOpcodes(r, m.ID)
	return m, err
}

// readModuleOpcodes captures a module's serialized data, which is self-describing:
// opcodes each followed by one argument, up to the EOF opcode (rdbLoadCheckModuleValue).
func readModuleOpcodes(r *reader, id uint64) ([]byte, error) {
	r.capture = make([]byte, 0, 64)
	defer func() { r.capture = nil }()
	for {
		op, err := r.readLen()
		if err != nil {
			return nil, err
		}
		switch op {
		case moduleOpEOF:
			return r.capture, nil
		case moduleOpSInt, moduleOpUInt:
			_, err = r.readLen()
		case moduleOpString:
			_, err = r.readString()
		case moduleOpFloat:
			var b [4]byte
			err = r.readFixed(b[:])
		case moduleOpDouble:
			_, err = r.readUint64LE()
		default:
			return nil, r.corrupt("unknown opcode %d in module %s data", op, ModuleName(id))
		}
		if err != nil {
			return nil, err
		}
	}
}

// readPreGAFunction reads a library in the format of Redis 7.0's release candidates
// (name, engine, optional description, code) and translates it to the shebang form 7.0
// uses, as rdbFunctionLoad does.
func readPreGAFunction(r *reader) ([]byte, error) {
	name, err := r.readString()
	if err != nil {
		return nil, err
	}
	engine, err := r.readString()
	if err != nil {
		return nil, err
	}
	hasDesc, err := r.readLen()
	if err != nil {
		return nil, err
	}
	if hasDesc != 0 {
		if _, err := r.readString(); err != nil {
			return nil, err
		}
	}
	code, err := r.readString()
	if err != nil {
		return nil, err
	}
	return fmt.Appendf(nil, "#!%s name=%s\n%s", engine, name, code), nil
}
