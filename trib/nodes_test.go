package trib

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseClusterNodesLines(t *testing.T) {
	tests := []struct {
		name string
		line string
		want NodeEntry
	}{
		{
			name: "master with ranges and open slots (myself)",
			line: "533786cc500ae4ebd5e98145ae1d6863dda79073 127.0.0.1:17001@27001 myself,master - 0 1795443893000 1 connected 0-2 5 [100->-dbf05330057d798f5d53ac2d1d54d3b543306b38] [101-<-6c793b917bb184e5c0128dab25ee586c053ea374]",
			want: NodeEntry{
				ID: "533786cc500ae4ebd5e98145ae1d6863dda79073", IP: "127.0.0.1", Port: 17001, BusPort: 27001,
				Flags: []string{"myself", "master"}, PongRecv: 1795443893000, ConfigEpoch: 1, Connected: true,
				Slots:     []int{0, 1, 2, 5},
				Migrating: map[int]string{100: "dbf05330057d798f5d53ac2d1d54d3b543306b38"},
				Importing: map[int]string{101: "6c793b917bb184e5c0128dab25ee586c053ea374"},
			},
		},
		{
			name: "replica with hostname",
			line: "957df829038431cbb5f5130af19a5278c2afdb3a 127.0.0.2:17005@27005,node-5.example slave 6c793b917bb184e5c0128dab25ee586c053ea374 0 1795443893090 3 connected",
			want: NodeEntry{
				ID: "957df829038431cbb5f5130af19a5278c2afdb3a", IP: "127.0.0.2", Port: 17005, BusPort: 27005,
				Hostname: "node-5.example", Flags: []string{"slave"}, MasterID: "6c793b917bb184e5c0128dab25ee586c053ea374",
				PongRecv: 1795443893090, ConfigEpoch: 3, Connected: true,
			},
		},
		{
			name: "IPv6 as Redis 7.0 prints it (no brackets)",
			line: "a ::1:7000@17000 master,fail? - 10 20 4 disconnected 16383",
			want: NodeEntry{ID: "a", IP: "::1", Port: 7000, BusPort: 17000, Flags: []string{"master", "fail?"},
				PingSent: 10, PongRecv: 20, ConfigEpoch: 4, Slots: []int{16383}},
		},
		{
			name: "IPv6 in brackets",
			line: "b [fe80::1]:7001@17001 master,fail - 0 0 0 connected",
			want: NodeEntry{ID: "b", IP: "fe80::1", Port: 7001, BusPort: 17001, Flags: []string{"master", "fail"}, Connected: true},
		},
		{
			name: "noaddr, handshake",
			line: "c :0@0 master,noaddr,handshake - 0 0 0 disconnected",
			want: NodeEntry{ID: "c", Port: 0, BusPort: 0, Flags: []string{"master", "noaddr", "handshake"}},
		},
		{
			name: "pre-4.0 address without bus port",
			line: "d 10.0.0.1:6379 master - 0 0 0 connected",
			want: NodeEntry{ID: "d", IP: "10.0.0.1", Port: 6379, BusPort: 16379, Flags: []string{"master"}, Connected: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseClusterNodes(tt.line + "\n")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0], tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseClusterNodesErrors(t *testing.T) {
	for _, line := range []string{
		"a 127.0.0.1:1@2 master - 0 0 0",                     // too few fields
		"a 127.0.0.1 master - 0 0 0 connected",               // no port
		"a 127.0.0.1:x@2 master - 0 0 0 connected",           // bad port
		"a 127.0.0.1:1@2 master - x 0 0 connected",           // bad ping
		"a 127.0.0.1:1@2 master - 0 0 0 sleeping",            // bad link state
		"a 127.0.0.1:1@2 master - 0 0 0 connected 16384",     // slot out of range
		"a 127.0.0.1:1@2 master - 0 0 0 connected 10-5",      // reversed range
		"a 127.0.0.1:1@2 master - 0 0 0 connected [5->-]",    // migrating without id
		"a 127.0.0.1:1@2 master - 0 0 0 connected [5-x-b]",   // unknown open form
		"a 127.0.0.1:1@2 master - 0 0 0 connected [5->-b",    // no closing bracket
		"a 127.0.0.1:1@2 master - 0 0 0 connected 007",       // leading zero
		"a 127.0.0.1:99999@2 master - 0 0 0 connected",       // port out of range
		"a 127.0.0.1:1@2 master - 0 0 -1 connected",          // negative epoch
		"a 127.0.0.1:1@2 master - 0 0 0 connected -1",        // negative slot
		"a 127.0.0.1:1@2 master - 0 0 0 connected 1-2-3",     // bad range
		"a 127.0.0.1:1@2 master - 0 0 0 connected +5",        // sign
		"a 127.0.0.1:1@x master - 0 0 0 connected",           // bad bus port
		"a 127.0.0.1:1@2 master - 0 0 0 connected [x->-abc]", // bad open slot
	} {
		if _, err := ParseClusterNodes(line); err == nil {
			t.Errorf("%q: want an error", line)
		}
	}
}

func TestParseClusterNodesTable(t *testing.T) {
	text := strings.Join([]string{
		"6c793b917bb184e5c0128dab25ee586c053ea374 127.0.0.1:17003@27003 master - 0 1795443893291 3 connected 10923-16383",
		"",
		"533786cc500ae4ebd5e98145ae1d6863dda79073 127.0.0.1:17001@27001 myself,master - 0 1795443893000 1 connected 0-5460",
		"38f902e4000bc13429e976ab98a77566a4b684a9 127.0.0.1:17006@27006 slave 533786cc500ae4ebd5e98145ae1d6863dda79073 0 1795443893090 1 connected\r",
	}, "\n")
	got, err := ParseClusterNodes(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got[1].Myself() || !got[2].IsReplica() || got[0].IsReplica() || len(got[0].Slots) != 16384-10923 {
		t.Fatalf("unexpected parse: %+v", got)
	}
	if sig := ConfigSignature(got); sig != "533786cc500ae4ebd5e98145ae1d6863dda79073:0-5460|6c793b917bb184e5c0128dab25ee586c053ea374:10923-16383" {
		t.Fatalf("signature %q", sig)
	}
}

func TestFormatSlotRanges(t *testing.T) {
	tests := []struct {
		slots []int
		want  string
	}{
		{nil, ""},
		{[]int{5}, "[5]"},
		{[]int{0, 1, 2, 3}, "[0-3]"},
		{[]int{0, 1, 5, 7, 8}, "[0-1],[5],[7-8]"},
	}
	for _, tt := range tests {
		if got := FormatSlotRanges(tt.slots); got != tt.want {
			t.Errorf("FormatSlotRanges(%v) = %q, want %q", tt.slots, got, tt.want)
		}
	}
}

// FuzzParseClusterNodes: any input parses or fails cleanly; what parses has slots in range,
// ascending, and ports in range.
func FuzzParseClusterNodes(f *testing.F) {
	for _, s := range []string{
		"533786cc500ae4ebd5e98145ae1d6863dda79073 127.0.0.1:17001@27001 myself,master - 0 1795443893000 1 connected 0-5460 [100->-dbf0]\n",
		"a ::1:7000@17000,host master,fail? - 10 20 4 disconnected 16383 [5-<-b]\n",
		"c :0@0 master,noaddr,handshake - 0 0 0 disconnected\n",
		"b [fe80::1]:7001@17001 slave a 0 0 0 connected\r\n\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		entries, err := ParseClusterNodes(text)
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.Port < 0 || e.Port > 65535 || e.BusPort < 0 || e.BusPort > 65535 {
				t.Fatalf("port out of range: %+v", e)
			}
			for i, s := range e.Slots {
				if s < 0 || s >= 16384 || (i > 0 && s < e.Slots[i-1]) {
					t.Fatalf("bad slots %v", e.Slots)
				}
			}
			for s := range e.Migrating {
				if s < 0 || s >= 16384 {
					t.Fatalf("bad migrating slot %d", s)
				}
			}
			_ = FormatSlotRanges(e.Slots)
		}
	})
}
