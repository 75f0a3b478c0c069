package list

import (
	"bytes"
	"testing"
)

func FuzzParsePosOptions(f *testing.F) {
	for _, s := range []string{"", "RANK -1", "COUNT 0 MAXLEN 3", "RANK 0", "rank -9223372036854775808", "COUNT x"} {
		f.Add([]byte(s))
	}
	l := New("a", "b", "a", "c", "a")
	f.Fuzz(func(t *testing.T, raw []byte) {
		var args [][]byte
		if len(raw) > 0 {
			args = bytes.Split(raw, []byte(" "))
		}
		o, err := ParsePosOptions(args)
		if err != nil {
			return
		}
		if o.Rank == 0 || o.Count < -1 || o.MaxLen < 0 {
			t.Fatalf("accepted %+v", o)
		}
		got := l.Pos("a", o)
		if o.Count > 0 && len(got) > int(o.Count) || o.Count == -1 && len(got) > 1 {
			t.Fatalf("%+v: %d matches", o, len(got))
		}
		for _, i := range got {
			if e, _ := l.Index(int64(i)); e != "a" {
				t.Fatalf("index %d is %q", i, e)
			}
		}
	})
}
