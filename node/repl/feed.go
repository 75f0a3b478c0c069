package repl

import (
	"strconv"

	"github.com/clusterctl/clusterctl/node/effects"
	"github.com/clusterctl/clusterctl/node/resp"
)

// Feeder encodes effects into the bytes of the replication stream as Redis 7.0's
// propagatePendingCommands and replicationFeedSlaves do: a SELECT whenever an op's
// database differs from the one the stream last selected, and a batch of several ops
// wrapped in MULTI/EXEC, the SELECT for the first op coming before the MULTI.
//
// The zero value has no database selected, so its first op is preceded by a SELECT. It
// is not safe for concurrent use.
type Feeder struct {
	w resp.Writer
	// selected is the database the stream has selected; -1 forces a SELECT.
	selected int
	init     bool
}

// ForceSelect makes the next op emit a SELECT, as Redis does when a full resync starts
// (server.slaveseldb = -1) so the replica, whose RDB says nothing of the selected
// database, gets one before the stream's first command.
func (f *Feeder) ForceSelect() { f.selected, f.init = -1, true }

// Selected returns the database the stream has selected, -1 for none.
func (f *Feeder) Selected() int {
	if !f.init {
		return -1
	}
	return f.selected
}

var (
	multiCmd = []byte("*1\r\n$5\r\nMULTI\r\n")
	execCmd  = []byte("*1\r\n$4\r\nEXEC\r\n")
	// PingCmd is the PING a master sends every repl-ping-replica-period seconds.
	PingCmd = []byte("*1\r\n$4\r\nPING\r\n")
	// GetAckCmd is REPLCONF GETACK *, which WAIT sends to have replicas report their
	// offsets at once.
	GetAckCmd = []byte("*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n")
)

// AppendBatch appends the stream form of b to dst.
func (f *Feeder) AppendBatch(dst []byte, b *effects.Batch) []byte {
	if len(b.Ops) == 0 {
		return dst
	}
	multi := len(b.Ops) > 1
	if multi {
		dst = f.selectDB(dst, b.Ops[0].DB)
		dst = append(dst, multiCmd...)
	}
	for _, op := range b.Ops {
		dst = f.AppendOp(dst, op.DB, op.Argv)
	}
	if multi {
		dst = append(dst, execCmd...)
	}
	return dst
}

// AppendOp appends one command in database db.
func (f *Feeder) AppendOp(dst []byte, db int, argv [][]byte) []byte {
	dst = f.selectDB(dst, db)
	f.w.Reset()
	f.w.Command(argv...)
	return append(dst, f.w.Bytes()...)
}

func (f *Feeder) selectDB(dst []byte, db int) []byte {
	if f.init && f.selected == db {
		return dst
	}
	f.selected, f.init = db, true
	n := strconv.Itoa(db)
	dst = append(dst, "*2\r\n$6\r\nSELECT\r\n$"...)
	dst = strconv.AppendInt(dst, int64(len(n)), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, n...)
	return append(dst, "\r\n"...)
}
