package server

import (
	"bytes"
	"testing"

	"github.com/clusterctl/clusterctl/node/command"
)

// FuzzServeRequests feeds arbitrary bytes to a client connection of an in-process server:
// whatever the requests, no handler may panic. CLIENT PAUSE is neutralised so a fuzzed
// pause cannot stall the run; proto-max-bulk-len is small so SETRANGE and SETBIT cannot
// allocate half a gigabyte.
func FuzzServeRequests(f *testing.F) {
	for _, s := range []string{
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\n",
		"SET k v EX 10\r\nGETEX k PERSIST\r\nTTL k\r\n",
		"SETRANGE k 5 abc\r\nAPPEND k x\r\nGETRANGE k -3 -1\r\nLCS k k IDX WITHMATCHLEN\r\n",
		"SETBIT b 100 1\r\nBITFIELD b INCRBY i5 3 7 OVERFLOW FAIL GET u3 0\r\nBITOP XOR d b b\r\n",
		"PFADD h a b\r\nPFCOUNT h h\r\nPFMERGE h2 h\r\nINCRBYFLOAT f 1e300\r\n",
		"MSET a 1 b 2\r\nRENAME a c\r\nCOPY c d DB 3 REPLACE\r\nMOVE d 2\r\nSWAPDB 0 2\r\nSCAN 0 MATCH * COUNT 5\r\n",
		"EXPIRE b 10 GT\r\nOBJECT ENCODING b\r\nKEYS *\r\nRANDOMKEY\r\nCOMMAND GETKEYS MSET a b\r\n",
		"HELLO 3 SETNAME x\r\nCLIENT LIST\r\nCLIENT KILL ID 1\r\nINFO all\r\nCONFIG GET *\r\n",
		"ACL SETUSER u on >p ~a* +get (~b +set)\r\nACL GETUSER u\r\nAUTH u p\r\nGET b\r\nRESET\r\n",
		"*1\r\n$-1\r\n*2\r\n$3\r\nget\r\n$-5\r\n",
	} {
		f.Add([]byte(s))
	}
	s := newTestServer(f, "--proto-max-bulk-len", "1mb", "--save", "")
	s.table.LookupName("client|pause").Handler = func(c *command.Ctx) { c.W.OK() }
	f.Fuzz(func(t *testing.T, data []byte) {
		s.ks.FlushAll()
		fc := &fakeConn{in: bytes.NewReader(data)}
		c := s.newClient(fc)
		c.loop()
		s.unlinkClient(c)
		if n := s.panics.Load(); n > 0 {
			t.Fatalf("%d handler panics on input %q", n, data)
		}
	})
}
