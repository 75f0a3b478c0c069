package stream

import (
	"bytes"
	"testing"
)

func fuzzArgs(s []byte) [][]byte {
	if len(s) == 0 {
		return nil
	}
	return bytes.Split(s, []byte(" "))
}

// FuzzParseID checks the ID parsers never panic and that an ID's text form parses back.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"1-2", "5", "-", "+", "01-1", " 3", "5--03", "1-*", "18446744073709551615-18446744073709551615", "(1-1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, arg []byte) {
		id, err := ParseID(arg, 0)
		ParseStrictID(arg, 0)
		ParseIntervalID(arg, 0)
		parseID(arg, 0, true, true)
		if err != nil {
			return
		}
		back, err := ParseStrictID([]byte(id.String()), 0)
		if err != nil || back != id {
			t.Fatalf("%v does not round-trip: %v %v", id, back, err)
		}
	})
}

// FuzzStreamCommands parses XADD, XTRIM, XRANGE, XREAD, XPENDING, XCLAIM and
// XAUTOCLAIM arguments and runs whatever parses against a small stream with a group.
func FuzzStreamCommands(f *testing.F) {
	for _, s := range []string{
		"MAXLEN ~ 3 * f v", "MINID 5 LIMIT 2 1-* a b", "- + COUNT 2", "(1-0 +", "COUNT 1 STREAMS s 0",
		"IDLE 5 - + 10 c", "c 0 1-0 2-0 FORCE JUSTID LASTID 9-0", "c 0 0-0 COUNT 2 JUSTID",
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, raw []byte, which uint8) {
		args := fuzzArgs(raw)
		cfg := Config{NodeMaxBytes: 100, NodeMaxEntries: 3}
		s := New()
		for i := 1; i <= 8; i++ {
			a, _ := ParseXAdd([][]byte{ID{uint64(i), 0}.Append(nil), []byte("f"), []byte("v")}, false, cfg)
			s.Add(a, 0, cfg)
		}
		g, _ := s.CreateGroup("g", ID{}, InvalidEntriesRead)
		s.ReadGroup(g, "c", true, ID{}, 5, false, 10)
		before := s.Len()
		switch which % 7 {
		case 0:
			if a, err := ParseXAdd(args, false, cfg); err == nil {
				if _, err := s.Add(a, 100, cfg); err == nil {
					s.Trim(a.Trim)
				}
			}
		case 1:
			if tr, err := ParseXTrim(args, false, cfg); err == nil {
				if n := s.Trim(tr); n != before-s.Len() {
					t.Fatalf("trim reported %d, length went %d -> %d", n, before, s.Len())
				}
			}
		case 2:
			if r, err := ParseRange(args, which%2 == 0); err == nil {
				s.RangeQuery(r)
			}
		case 3:
			if r, err := ParseRead(args, which%2 == 0); err == nil && len(r.Keys) != len(r.IDs) {
				t.Fatal("unbalanced keys and IDs accepted")
			}
		case 4:
			if q, summary, err := ParsePending(args); err == nil && !summary {
				g.Pending(q, 20)
			}
		case 5:
			if a, err := ParseClaim(args); err == nil {
				s.Claim("k", g, a, 30)
			}
		case 6:
			if a, err := ParseAutoClaim(args); err == nil {
				s.AutoClaim("k", g, a, 30)
			}
		}
		var live int64
		s.walk(ID{}, MaxID, false, func(*item) bool { live++; return true })
		if live != s.Len() {
			t.Fatalf("length %d but %d live entries", s.Len(), live)
		}
		total := 0
		for _, c := range g.Consumers() {
			total += c.PendingCount()
		}
		if total != g.PendingCount() {
			t.Fatalf("consumers hold %d pending entries, group %d", total, g.PendingCount())
		}
	})
}
