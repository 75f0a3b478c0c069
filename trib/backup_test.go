package trib

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/clusterctl/clusterctl/node/resp"
)

var testMark = strings.Repeat("0123456789", 4)

func TestCopyRDBPayload(t *testing.T) {
	payload := "REDIS0010" + strings.Repeat("\x00data\r\n$EOF:", 5000) + "\xff12345678"
	tests := []struct {
		name    string
		stream  string
		framing string
		want    string
		wantErr string
	}{
		{"length", "$" + itoa(len(payload)) + "\r\n" + payload, FramingLength, payload, ""},
		{"length after keepalives", "\n\n\n$" + itoa(len(payload)) + "\r\n" + payload + "trailing replication stream", FramingLength, payload, ""},
		{"empty length", "$0\r\n", FramingLength, "", ""},
		{"eof", "$EOF:" + testMark + "\r\n" + payload + testMark, FramingEOF, payload, ""},
		{"eof after keepalives", "\n$EOF:" + testMark + "\r\n" + payload + testMark + "more", FramingEOF, payload, ""},
		{"eof empty payload", "$EOF:" + testMark + "\r\n" + testMark, FramingEOF, "", ""},
		{"eof mark inside the payload start is data", "$EOF:" + testMark + "\r\n" + testMark[:20] + "x" + testMark, FramingEOF, testMark[:20] + "x", ""},
		{"truncated length", "$100\r\nshort", "", "", "unexpected EOF"},
		{"truncated eof", "$EOF:" + testMark + "\r\n" + payload, "", "", "before the EOF mark"},
		{"short mark", "$EOF:abc\r\n", "", "", "EOF mark of 3 bytes"},
		{"negative length", "$-1\r\n", "", "", "bad RDB length"},
		{"not a header", "+OK\r\n", "", "", "expected the RDB header"},
		{"error reply", "-ERR BGSAVE failed\r\n", "", "", "BGSAVE failed"},
		{"nothing", "", "", "", "unexpected EOF"},
		{"endless header", strings.Repeat("$", 1000), "", "", "longer than"},
	}
	for _, tt := range tests {
		for _, reader := range []struct {
			name string
			wrap func(io.Reader) io.Reader
		}{{"whole", func(r io.Reader) io.Reader { return r }}, {"byte by byte", iotest.OneByteReader}, {"halves", iotest.HalfReader}} {
			t.Run(tt.name+"/"+reader.name, func(t *testing.T) {
				var out bytes.Buffer
				framing, n, err := copyRDBPayload(bufio.NewReaderSize(reader.wrap(strings.NewReader(tt.stream)), 16), &out)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("err = %v, want %q", err, tt.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if framing != tt.framing || n != int64(len(tt.want)) || out.String() != tt.want {
					t.Fatalf("framing %s, %d bytes (%d written), want %s and %d bytes", framing, n, out.Len(), tt.framing, len(tt.want))
				}
			})
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// FuzzCopyRDBPayload checks that no transfer stream makes the reader panic or report more
// bytes than it wrote, and that a successful read of a length framing wrote exactly the
// announced length.
func FuzzCopyRDBPayload(f *testing.F) {
	f.Add([]byte("$5\r\nhello"))
	f.Add([]byte("\n\n$EOF:" + testMark + "\r\nREDIS" + testMark))
	f.Add([]byte("$EOF:" + testMark + "\r\n"))
	f.Add([]byte("-ERR x\r\n"))
	f.Add([]byte("$9999999999999999999\r\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		var out bytes.Buffer
		framing, n, err := copyRDBPayload(bufio.NewReader(bytes.NewReader(stream)), &out)
		if n != int64(out.Len()) {
			t.Fatalf("reported %d bytes, wrote %d", n, out.Len())
		}
		if err == nil && framing == FramingLength && int64(out.Len()) > int64(len(stream)) {
			t.Fatalf("wrote %d bytes from a %d-byte stream", out.Len(), len(stream))
		}
	})
}

// fakeMaster serves one replication handshake on conn: it reads the REPLCONF commands and
// PSYNC, checking PSYNC arrives alone, then writes the scripted transfer.
func fakeMaster(t *testing.T, conn net.Conn, wantEOF bool, transfer string) {
	t.Helper()
	r := resp.NewReader(conn)
	w := resp.NewWriter(conn)
	var sawCapa bool
	for {
		cmd, err := r.ReadCommand()
		if err != nil {
			t.Errorf("fake master: %v", err)
			return
		}
		name := strings.ToUpper(string(cmd[0]))
		if name == "REPLCONF" {
			if strings.EqualFold(string(cmd[1]), "capa") {
				sawCapa = true
			}
			w.OK()
			if r.Buffered() == 0 {
				w.Flush()
			}
			continue
		}
		if name != "PSYNC" {
			t.Errorf("fake master: unexpected %s", name)
			return
		}
		if w.Buffered() > 0 {
			t.Errorf("fake master: PSYNC with pending replies (Redis refuses it)")
		}
		break
	}
	if sawCapa != wantEOF {
		t.Errorf("REPLCONF capa eof sent: %v, want %v", sawCapa, wantEOF)
	}
	w.Simple("FULLRESYNC 8de1787ba490483314a4d30f1c628bc5025eb761 4711")
	w.Flush()
	// The transfer in small writes, with pauses, as a slow master would send it.
	for len(transfer) > 0 {
		n := min(len(transfer), 7000)
		if _, err := conn.Write([]byte(transfer[:n])); err != nil {
			return
		}
		transfer = transfer[n:]
	}
	conn.Close()
}

func TestFetchRDBOverTheWire(t *testing.T) {
	payload := strings.Repeat("rdb-bytes", 10000)
	for _, tt := range []struct {
		name     string
		disk     bool
		transfer string
		framing  string
	}{
		{"diskless", false, "\n$EOF:" + testMark + "\r\n" + payload + testMark, FramingEOF},
		{"disk", true, "\n\n$" + itoa(len(payload)) + "\r\n" + payload, FramingLength},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			done := make(chan struct{})
			go func() {
				defer close(done)
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				fakeMaster(t, conn, !tt.disk, tt.transfer)
			}()
			var out bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tr, err := FetchRDB(ctx, ln.Addr().String(), Options{}, &out, FetchRDBOptions{Disk: tt.disk})
			<-done
			if err != nil {
				t.Fatal(err)
			}
			if tr.Framing != tt.framing || tr.Offset != 4711 || tr.ReplID != "8de1787ba490483314a4d30f1c628bc5025eb761" ||
				tr.Bytes != int64(len(payload)) || out.String() != payload {
				t.Fatalf("transfer %+v, %d bytes received", tr, out.Len())
			}
		})
	}
}

func TestFetchRDBIdleTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	release := make(chan struct{})
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r, w := resp.NewReader(conn), resp.NewWriter(conn)
		for {
			cmd, err := r.ReadCommand()
			if err != nil {
				return
			}
			if strings.EqualFold(string(cmd[0]), "PSYNC") {
				break
			}
			w.OK()
			if r.Buffered() == 0 {
				w.Flush()
			}
		}
		w.Simple("FULLRESYNC 8de1787ba490483314a4d30f1c628bc5025eb761 0")
		w.Flush()
		conn.Write([]byte("$100\r\npartial"))
		<-release // then silence
	}()
	defer close(release)
	start := time.Now()
	_, err = FetchRDB(context.Background(), ln.Addr().String(), Options{}, io.Discard, FetchRDBOptions{Idle: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("err = %v, want an idle timeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %v to notice a silent master", took)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.rdb"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A failed check leaves the old file and no temporary file.
	err := writeFileAtomic(dir, "a.rdb", func(w io.Writer) error {
		_, err := io.WriteString(w, "new")
		return err
	}, func(string) error { return errors.New("does not verify") })
	if err == nil {
		t.Fatal("a failed check was not reported")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.rdb")); string(b) != "old" {
		t.Fatalf("a.rdb = %q after a failed write", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%d files left in the directory, want 1", len(entries))
	}
	// A good write replaces it.
	var checked string
	if err := writeFileAtomic(dir, "a.rdb", func(w io.Writer) error {
		_, err := io.WriteString(w, "new")
		return err
	}, func(path string) error {
		b, err := os.ReadFile(path)
		checked = string(b)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.rdb")); string(b) != "new" || checked != "new" {
		t.Fatalf("a.rdb = %q, checked %q", b, checked)
	}
}
