package trib

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/node/hashslot"
)

// NodeEntry is one line of CLUSTER NODES: how one node sees another (or itself, when Myself).
// The format is Redis 7.0's clusterGenNodeDescription:
//
//	<id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot> <slot> ...
//
// where a slot is "N", "N-M", "[N->-<id>]" (migrating to id) or "[N-<-<id>]" (importing
// from id); the bracketed forms appear only on the line of the node itself.
type NodeEntry struct {
	ID       string
	IP       string // without brackets, also for IPv6; empty for noaddr
	Port     int
	BusPort  int
	Hostname string // announced hostname (cluster-announce-hostname), if any
	Flags    []string
	MasterID string // "" for a master ("-" in the text)
	PingSent int64
	PongRecv int64
	// ConfigEpoch is the node's config epoch (a replica shows its master's).
	ConfigEpoch uint64
	Connected   bool // link-state "connected"
	// Slots the node serves, ascending.
	Slots []int
	// Migrating maps a slot to the ID of the node it is migrating to; Importing to the ID
	// of the node it is importing from.
	Migrating map[int]string
	Importing map[int]string
}

// Addr returns ip:port ([ip]:port for IPv6), the address clients use.
func (e *NodeEntry) Addr() string { return net.JoinHostPort(e.IP, strconv.Itoa(e.Port)) }

// HasFlag reports whether the flags include f ("myself", "master", "slave", "fail?", ...).
func (e *NodeEntry) HasFlag(f string) bool {
	for _, x := range e.Flags {
		if x == f {
			return true
		}
	}
	return false
}

// Myself reports the "myself" flag: the line describes the node that answered.
func (e *NodeEntry) Myself() bool { return e.HasFlag("myself") }

// IsMaster reports the "master" flag.
func (e *NodeEntry) IsMaster() bool { return e.HasFlag("master") }

// IsReplica reports the "slave" flag (Redis 7.0 still prints "slave").
func (e *NodeEntry) IsReplica() bool { return e.HasFlag("slave") }

// Failed reports the "fail" flag: a majority of masters agreed the node is down.
func (e *NodeEntry) Failed() bool { return e.HasFlag("fail") }

// PFailed reports the "fail?" flag: this observer suspects the node is down.
func (e *NodeEntry) PFailed() bool { return e.HasFlag("fail?") }

// ParseClusterNodes parses the reply of CLUSTER NODES. Blank lines are skipped; any malformed
// line is an error naming the line.
func ParseClusterNodes(text string) ([]NodeEntry, error) {
	var out []NodeEntry
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		e, err := parseNodeLine(line)
		if err != nil {
			return nil, fmt.Errorf("CLUSTER NODES line %d: %w", i+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func parseNodeLine(line string) (NodeEntry, error) {
	f := strings.Fields(line)
	if len(f) < 8 {
		return NodeEntry{}, fmt.Errorf("%d fields, want at least 8: %q", len(f), line)
	}
	e := NodeEntry{ID: f[0]}
	if e.ID == "" {
		return e, fmt.Errorf("empty node ID")
	}
	if err := parseNodeAddr(f[1], &e); err != nil {
		return e, err
	}
	e.Flags = strings.Split(f[2], ",")
	if f[3] != "-" {
		e.MasterID = f[3]
	}
	var err error
	if e.PingSent, err = strconv.ParseInt(f[4], 10, 64); err != nil {
		return e, fmt.Errorf("ping-sent %q: %w", f[4], err)
	}
	if e.PongRecv, err = strconv.ParseInt(f[5], 10, 64); err != nil {
		return e, fmt.Errorf("pong-recv %q: %w", f[5], err)
	}
	if e.ConfigEpoch, err = strconv.ParseUint(f[6], 10, 64); err != nil {
		return e, fmt.Errorf("config-epoch %q: %w", f[6], err)
	}
	switch f[7] {
	case "connected":
		e.Connected = true
	case "disconnected":
	default:
		return e, fmt.Errorf("link-state %q", f[7])
	}
	for _, s := range f[8:] {
		if err := parseSlotField(s, &e); err != nil {
			return e, err
		}
	}
	// Redis prints ranges in ascending order; sort only input that is not.
	if !sort.IntsAreSorted(e.Slots) {
		sort.Ints(e.Slots)
	}
	return e, nil
}

// parseNodeAddr parses "ip:port@cport[,hostname]". Redis 7.0 prints IPv6 addresses without
// brackets ("::1:6379@16379"), so the port is after the last colon; "[::1]:6379@16379" is
// accepted too. A node without an address yet prints ":0@0" (with the "noaddr" flag).
func parseNodeAddr(s string, e *NodeEntry) error {
	addr, hostname, _ := strings.Cut(s, ",")
	e.Hostname = hostname
	hostPort, cport, hasBus := strings.Cut(addr, "@")
	i := strings.LastIndexByte(hostPort, ':')
	if i < 0 {
		return fmt.Errorf("address %q has no port", s)
	}
	ip, port := hostPort[:i], hostPort[i+1:]
	if strings.HasPrefix(ip, "[") && strings.HasSuffix(ip, "]") {
		ip = ip[1 : len(ip)-1]
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("address %q: bad port", s)
	}
	e.IP, e.Port = ip, p
	if hasBus {
		b, err := strconv.Atoi(cport)
		if err != nil || b < 0 || b > 65535 {
			return fmt.Errorf("address %q: bad bus port", s)
		}
		e.BusPort = b
	} else {
		// Redis before 4.0 had no "@cport": the bus port was always port+10000.
		e.BusPort = p + 10000
	}
	return nil
}

func parseSlotField(s string, e *NodeEntry) error {
	if strings.HasPrefix(s, "[") {
		if !strings.HasSuffix(s, "]") {
			return fmt.Errorf("open slot %q: no closing bracket", s)
		}
		body := s[1 : len(s)-1]
		if slot, id, ok := strings.Cut(body, "->-"); ok {
			n, err := parseSlot(slot)
			if err != nil || id == "" {
				return fmt.Errorf("migrating slot %q", s)
			}
			if e.Migrating == nil {
				e.Migrating = make(map[int]string)
			}
			e.Migrating[n] = id
			return nil
		}
		if slot, id, ok := strings.Cut(body, "-<-"); ok {
			n, err := parseSlot(slot)
			if err != nil || id == "" {
				return fmt.Errorf("importing slot %q", s)
			}
			if e.Importing == nil {
				e.Importing = make(map[int]string)
			}
			e.Importing[n] = id
			return nil
		}
		return fmt.Errorf("open slot %q", s)
	}
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := parseSlot(lo)
	if err != nil {
		return fmt.Errorf("slot %q", s)
	}
	b := a
	if isRange {
		if b, err = parseSlot(hi); err != nil || b < a {
			return fmt.Errorf("slot range %q", s)
		}
	}
	e.Slots = slices.Grow(e.Slots, b-a+1)
	for n := a; n <= b; n++ {
		e.Slots = append(e.Slots, n)
	}
	return nil
}

func parseSlot(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n >= hashslot.Count || (len(s) > 1 && s[0] == '0') || s[0] == '+' {
		return 0, fmt.Errorf("bad slot %q", s)
	}
	return n, nil
}

// SlotRanges compresses ascending slots into inclusive [start, end] ranges.
func SlotRanges(slots []int) [][2]int {
	var out [][2]int
	for _, s := range slots {
		if n := len(out); n > 0 && out[n-1][1] == s-1 {
			out[n-1][1] = s
			continue
		}
		out = append(out, [2]int{s, s})
	}
	return out
}

// FormatSlotRanges renders slots as redis-cli does in check: "[0-5460],[5462]" .
func FormatSlotRanges(slots []int) string {
	var b strings.Builder
	for i, r := range SlotRanges(slots) {
		if i > 0 {
			b.WriteByte(',')
		}
		if r[0] == r[1] {
			fmt.Fprintf(&b, "[%d]", r[0])
		} else {
			fmt.Fprintf(&b, "[%d-%d]", r[0], r[1])
		}
	}
	return b.String()
}
