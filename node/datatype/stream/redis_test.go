package stream

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/datatype/internal/redistest"
	"github.com/clusterctl/clusterctl/node/resp"
)

var testConfig = Config{NodeMaxBytes: 300, NodeMaxEntries: 5}

var errWrongType = fmt.Errorf("WRONGTYPE Operation against a key holding the wrong kind of value")

// keyspace is what a command handler built on this package would keep: streams, and a
// plain string key to provoke WRONGTYPE.
type keyspace map[string]any

func nowMs() uint64 { return uint64(time.Now().UnixMilli()) }

func (ks keyspace) stream(key []byte) (*Stream, error) {
	switch v := ks[string(key)].(type) {
	case nil:
		return nil, nil
	case *Stream:
		return v, nil
	}
	return nil, errWrongType
}

// exec runs one command through this package the way a command handler does, in
// Redis's order of checks, and renders the RESP2 reply.
func (ks keyspace) exec(args [][]byte) resp.Value {
	var buf bytes.Buffer
	w := resp.NewWriter(&buf)
	if err := ks.run(w, args); err != nil {
		w.Reset()
		w.Error(err.Error())
	}
	w.Flush()
	v, err := resp.NewReader(bufio.NewReader(&buf)).ReadValue()
	if err != nil {
		panic(err)
	}
	return v
}

func (ks keyspace) run(w *resp.Writer, args [][]byte) error {
	name := strings.ToUpper(string(args[0]))
	key := string(args[1])
	switch name {
	case "SET":
		ks[key] = string(args[2])
		w.OK()
	case "DEL":
		delete(ks, key)
		w.Int(1)
	case "XADD":
		a, err := ParseXAdd(args[2:], false, testConfig)
		if err != nil {
			return err
		}
		s, err := ks.stream(args[1])
		if err != nil {
			return err
		}
		if s == nil {
			if a.NoMkStream {
				w.Null()
				return nil
			}
			s = New()
			ks[key] = s
		}
		id, err := s.Add(a, nowMs(), testConfig)
		if err != nil {
			return err
		}
		s.Trim(a.Trim)
		WriteID(w, id)
	case "XTRIM":
		t, err := ParseXTrim(args[2:], false, testConfig)
		if err != nil {
			return err
		}
		s, err := ks.stream(args[1])
		if err != nil {
			return err
		}
		if s == nil {
			w.Int(0)
			return nil
		}
		w.Int(s.Trim(t))
	case "XDEL", "XLEN":
		s, err := ks.stream(args[1])
		if err != nil {
			return err
		}
		if s == nil {
			w.Int(0)
			return nil
		}
		if name == "XLEN" {
			w.Int(s.Len())
			return nil
		}
		ids, err := ParseIDs(args[2:])
		if err != nil {
			return err
		}
		w.Int(s.Delete(ids))
	case "XRANGE", "XREVRANGE":
		r, err := ParseRange(args[2:], name == "XREVRANGE")
		if err != nil {
			return err
		}
		s, err := ks.stream(args[1])
		if err != nil {
			return err
		}
		switch {
		case s == nil:
			w.ArrayLen(0)
		case r.NullReply:
			w.NullArray()
		default:
			WriteEntries(w, s.RangeQuery(r))
		}
	case "XREAD", "XREADGROUP":
		return ks.read(w, args, name == "XREADGROUP")
	case "XGROUP":
		return ks.xgroup(w, args)
	case "XACK":
		s, err := ks.stream(args[1])
		if err != nil {
			return err
		}
		var g *Group
		if s != nil {
			g = s.Group(string(args[2]))
		}
		if g == nil {
			w.Int(0)
			return nil
		}
		ids, err := ParseIDs(args[3:])
		if err != nil {
			return err
		}
		w.Int(g.Ack(ids))
	case "XPENDING":
		q, summary, err := ParsePending(args[3:])
		if err != nil {
			return err
		}
		s, g, err := ks.group(args, NoKeyOrGroupError)
		if err != nil {
			return err
		}
		_ = s
		if summary {
			WritePendingSummary(w, g.Summary())
		} else {
			WritePending(w, g.Pending(q, nowMs()))
		}
	case "XCLAIM":
		s, g, err := ks.group(args, NoKeyOrGroupError)
		if err != nil {
			return err
		}
		a, err := ParseClaim(args[3:])
		if err != nil {
			return err
		}
		res := s.Claim(key, g, a, nowMs())
		if a.JustID {
			WriteIDs(w, res.Entries)
		} else {
			WriteEntries(w, res.Entries)
		}
	case "XAUTOCLAIM":
		a, err := ParseAutoClaim(args[3:])
		if err != nil {
			return err
		}
		s, g, err := ks.group(args, NoKeyOrGroupError)
		if err != nil {
			return err
		}
		WriteAutoClaim(w, s.AutoClaim(key, g, a, nowMs()), a.JustID)
	case "XINFO":
		return ks.xinfo(w, args)
	default:
		panic("unexpected command " + name)
	}
	return nil
}

// group looks up args[1] and the group args[2].
func (ks keyspace) group(args [][]byte, noGroup func(key, group string) error) (*Stream, *Group, error) {
	s, err := ks.stream(args[1])
	if err != nil {
		return nil, nil, err
	}
	if s == nil || s.Group(string(args[2])) == nil {
		return nil, nil, noGroup(string(args[1]), string(args[2]))
	}
	return s, s.Group(string(args[2])), nil
}

func (ks keyspace) read(w *resp.Writer, args [][]byte, group bool) error {
	r, err := ParseRead(args[1:], group)
	if err != nil {
		return err
	}
	streams := make([]*Stream, len(r.Keys))
	ids := make([]ReadID, len(r.Keys))
	for i, k := range r.Keys {
		if streams[i], err = ks.stream(k); err != nil {
			return err
		}
		if group && (streams[i] == nil || streams[i].Group(r.Group) == nil) {
			return NoReadGroupError(string(k), r.Group)
		}
		if ids[i], err = ResolveReadID(r.IDs[i], group, streams[i]); err != nil {
			return err
		}
	}
	type served struct {
		key     []byte
		entries []Entry
	}
	var out []served
	for i, s := range streams {
		if s == nil {
			continue
		}
		if group {
			res := s.ReadGroup(s.Group(r.Group), r.Consumer, ids[i].New, ids[i].After, r.Count, r.NoAck, nowMs())
			if res.Served {
				out = append(out, served{r.Keys[i], res.Entries})
			}
			continue
		}
		if es := s.Read(ids[i].After, r.Count); len(es) > 0 {
			out = append(out, served{r.Keys[i], es})
		}
	}
	if len(out) == 0 {
		w.NullArray()
		return nil
	}
	w.ArrayLen(len(out))
	for _, o := range out {
		w.ArrayLen(2)
		w.Bulk(o.key)
		WriteEntries(w, o.entries)
	}
	return nil
}

func (ks keyspace) xgroup(w *resp.Writer, args [][]byte) error {
	sub := strings.ToUpper(string(args[1]))
	var opts GroupArgs
	var err error
	if sub == "CREATE" || sub == "SETID" {
		if opts, err = ParseGroupOptions(args[1], sub == "CREATE", args[5:]); err != nil {
			return err
		}
	}
	key, group := string(args[2]), string(args[3])
	s, err := ks.stream(args[2])
	if err != nil {
		return err
	}
	if !opts.MkStream {
		if s == nil {
			return fmt.Errorf("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")
		}
		if s.Group(group) == nil && (sub == "SETID" || sub == "CREATECONSUMER" || sub == "DELCONSUMER") {
			return NoGroupError(key, group)
		}
	}
	switch sub {
	case "CREATE":
		id, dollar, err := ParseGroupID(args[4], true)
		if err != nil {
			return err
		}
		id = s.ResolveGroupID(id, dollar)
		if s == nil {
			s = New()
			ks[key] = s
		}
		if _, err := s.CreateGroup(group, id, opts.EntriesRead); err != nil {
			return err
		}
		w.OK()
	case "SETID":
		id, dollar, err := ParseGroupID(args[4], false)
		if err != nil {
			return err
		}
		s.Group(group).SetID(s.ResolveGroupID(id, dollar), opts.EntriesRead)
		w.OK()
	case "DESTROY":
		if s.DestroyGroup(group) {
			w.Int(1)
		} else {
			w.Int(0)
		}
	case "CREATECONSUMER":
		if s.Group(group).CreateConsumer(string(args[4]), nowMs()) {
			w.Int(1)
		} else {
			w.Int(0)
		}
	case "DELCONSUMER":
		w.Int(int64(s.Group(group).DeleteConsumer(string(args[4]))))
	}
	return nil
}

func (ks keyspace) xinfo(w *resp.Writer, args [][]byte) error {
	s, err := ks.stream(args[2])
	if err != nil {
		return err
	}
	if s == nil {
		return ErrNoSuchKey
	}
	switch strings.ToUpper(string(args[1])) {
	case "STREAM":
		a, err := ParseInfoStream(args[1], args[3:])
		if err != nil {
			return err
		}
		s.WriteInfo(w, a)
	case "GROUPS":
		s.WriteGroupsInfo(w)
	case "CONSUMERS":
		g := s.Group(string(args[3]))
		if g == nil {
			return NoGroupError(string(args[2]), string(args[3]))
		}
		g.WriteConsumersInfo(w, nowMs())
	}
	return nil
}

// sameReply compares replies; integers that are clock readings (Unix milliseconds, or
// idle times in the commands that report them) may differ by the time between the two
// executions.
func sameReply(a, b resp.Value, clocky bool) bool {
	if a.Kind != b.Kind || a.IsNull != b.IsNull || !bytes.Equal(a.Str, b.Str) || len(a.Elems) != len(b.Elems) {
		return false
	}
	if a.Int != b.Int {
		d := a.Int - b.Int
		if d < 0 {
			d = -d
		}
		timestamp := a.Int > 1e12 && b.Int > 1e12
		if !(d <= 3000 && (timestamp || clocky)) {
			return false
		}
	}
	for i := range a.Elems {
		// In XPENDING's extended form the idle time is element 2 of each entry; in XINFO
		// CONSUMERS it follows the "idle" key.
		c := false
		if clocky && i > 0 && string(a.Elems[i-1].Str) == "idle" {
			c = true
		}
		if clocky && len(a.Elems) == 4 && i == 2 && a.Elems[0].Kind == resp.BulkString && a.Elems[1].Kind == resp.BulkString {
			c = true
		}
		if !sameReply(a.Elems[i], b.Elems[i], c || (clocky && a.Elems[i].Kind == resp.Array)) {
			return false
		}
	}
	return true
}

type sgen struct {
	rng   *rand.Rand
	next  uint64
	added []string // IDs XADD returned, so commands can name existing entries
}

func (g *sgen) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }

func (g *sgen) key() string { return g.pick("s1", "s1", "s2", "str", "nokey") }

// group is a group name, rarely a missing one.
func (g *sgen) group() string {
	if g.rng.IntN(10) == 0 {
		return "nog"
	}
	return g.pick("g1", "g2")
}

// groupKey is the key of a command about consumer groups: mostly streams that have them.
func (g *sgen) groupKey() string {
	if g.rng.IntN(8) == 0 {
		return g.key()
	}
	return g.pick("s1", "s2")
}

func (g *sgen) id() string {
	switch g.rng.IntN(20) {
	case 0:
		return g.pick("0-0", "0-*", "x", "1-x", "-", "+", "18446744073709551615-18446744073709551615", "01-1", " 5", "5--03")
	case 1, 2:
		return fmt.Sprintf("%d-*", g.next+uint64(g.rng.IntN(2)))
	case 3:
		return fmt.Sprintf("%d", g.rng.Uint64N(g.next+2))
	}
	g.next += uint64(g.rng.IntN(2))
	return fmt.Sprintf("%d-%d", g.next, g.rng.IntN(4))
}

// existingID is an ID likely to be in the streams.
func (g *sgen) existingID() string {
	if len(g.added) > 0 && g.rng.IntN(5) != 0 {
		return g.added[len(g.added)-1-g.rng.IntN(min(len(g.added), 40))]
	}
	return fmt.Sprintf("%d-%d", 1+g.rng.Uint64N(g.next), g.rng.IntN(4))
}

func (g *sgen) rangeID() string {
	switch g.rng.IntN(8) {
	case 0:
		return g.pick("-", "+", "(-", "(+", "x", "(0-0", "(18446744073709551615-18446744073709551615")
	case 1:
		return "(" + g.existingID()
	case 2:
		return fmt.Sprint(g.rng.Uint64N(g.next + 2))
	}
	return g.existingID()
}

func (g *sgen) fields() []string {
	var out []string
	for n := 1 + g.rng.IntN(3); n > 0; n-- {
		out = append(out, g.pick("f1", "f2", "f3", "100"), g.pick("v", "12", "-5", strings.Repeat("x", 40+g.rng.IntN(80)), "9223372036854775807"))
	}
	return out
}

func (g *sgen) trim() []string {
	switch g.rng.IntN(8) {
	case 0:
		return []string{"MAXLEN", g.pick("~", "=", ""), fmt.Sprint(g.rng.IntN(30))}
	case 1:
		return []string{"MINID", g.pick("~", "=", ""), g.existingID()}
	case 2:
		return []string{"MAXLEN", "~", fmt.Sprint(g.rng.IntN(30)), "LIMIT", g.pick("0", "3", "10", "-1")}
	case 3:
		return []string{g.pick("LIMIT", "MAXLEN", "MINID"), g.pick("x", "-1", "5")}
	}
	return nil
}

func dropEmpty(xs []string) []string {
	out := xs[:0]
	for _, x := range xs {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

func (g *sgen) command() []string {
	key := g.key()
	switch r := g.rng.IntN(30); {
	case r < 8:
		cmd := []string{"XADD", key}
		if g.rng.IntN(10) == 0 {
			cmd = append(cmd, "NOMKSTREAM")
		}
		cmd = append(cmd, g.trim()...)
		cmd = append(cmd, g.id())
		return dropEmpty(append(cmd, g.fields()...))
	case r < 9:
		t := g.trim()
		if t == nil {
			t = []string{"MAXLEN", fmt.Sprint(g.rng.IntN(20))}
		}
		return dropEmpty(append([]string{"XTRIM", key}, t...))
	case r < 10:
		return []string{"XDEL", key, g.existingID(), g.existingID()}
	case r < 11:
		return []string{"XLEN", key}
	case r < 13:
		cmd := []string{g.pick("XRANGE", "XREVRANGE"), key, g.rangeID(), g.rangeID()}
		if g.rng.IntN(3) == 0 {
			cmd = append(cmd, "COUNT", g.pick("0", "1", "3", "-1", "x"))
		}
		return cmd
	case r < 14:
		cmd := []string{"XREAD"}
		if g.rng.IntN(2) == 0 {
			cmd = append(cmd, "COUNT", g.pick("1", "2", "0"))
		}
		return append(cmd, "STREAMS", key, g.pick("s2", "s1"), g.pick("0", "$", g.existingID(), ">"), g.pick("0", g.existingID()))
	case r < 18:
		cmd := []string{"XREADGROUP", "GROUP", g.group(), g.pick("c1", "c2", "c3")}
		if g.rng.IntN(2) == 0 {
			cmd = append(cmd, "COUNT", g.pick("1", "2", "0", "-1"))
		}
		if g.rng.IntN(6) == 0 {
			cmd = append(cmd, "NOACK")
		}
		return append(cmd, "STREAMS", g.groupKey(), g.pick(">", ">", ">", "0", g.existingID(), "$"))
	case r < 20:
		switch g.rng.IntN(6) {
		case 0, 1:
			cmd := []string{"XGROUP", "CREATE", key, g.pick("g1", "g2"), g.pick("$", "0", g.existingID(), "x", "-")}
			if g.rng.IntN(3) == 0 {
				cmd = append(cmd, "MKSTREAM")
			}
			if g.rng.IntN(3) == 0 {
				cmd = append(cmd, "ENTRIESREAD", g.pick("0", "3", "-1", "-2"))
			}
			return cmd
		case 2:
			cmd := []string{"XGROUP", "SETID", g.groupKey(), g.pick("g1", "g2", "nog"), g.pick("$", "0", g.existingID(), "-", "+")}
			if g.rng.IntN(2) == 0 {
				cmd = append(cmd, "ENTRIESREAD", g.pick("0", "2", "-1"))
			}
			return cmd
		case 3:
			if g.rng.IntN(4) != 0 {
				return []string{"XLEN", key} // keep destroying groups rare
			}
			return []string{"XGROUP", "DESTROY", key, g.pick("g1", "g2")}
		case 4:
			return []string{"XGROUP", "CREATECONSUMER", g.groupKey(), g.pick("g1", "g2", "nog"), g.pick("c1", "c4")}
		default:
			return []string{"XGROUP", "DELCONSUMER", g.groupKey(), g.pick("g1", "g2", "nog"), g.pick("c1", "c2", "c4")}
		}
	case r < 22:
		return []string{"XACK", g.groupKey(), g.group(), g.existingID(), g.pick(g.existingID(), "x")}
	case r < 24:
		cmd := []string{"XPENDING", g.groupKey(), g.group()}
		switch g.rng.IntN(4) {
		case 0:
		case 1:
			cmd = append(cmd, "IDLE", g.pick("0", "100000000", "x"), g.rangeID(), g.rangeID(), g.pick("10", "1", "-1"))
		default:
			cmd = append(cmd, g.rangeID(), g.rangeID(), g.pick("10", "2", "0", "x"))
			if g.rng.IntN(2) == 0 {
				cmd = append(cmd, g.pick("c1", "c2", "c9"))
			}
		}
		return cmd
	case r < 26:
		cmd := []string{"XCLAIM", g.groupKey(), g.group(), g.pick("c1", "c2", "c3"), g.pick("0", "0", "0", "100000000", "-5", "x"), g.existingID(), g.existingID()}
		for n := g.rng.IntN(3); n > 0; n-- {
			switch g.rng.IntN(9) {
			case 0:
				cmd = append(cmd, "FORCE")
			case 1:
				cmd = append(cmd, "JUSTID")
			case 2:
				cmd = append(cmd, "IDLE", g.pick("100000000", "x", "-3", "5000"))
			case 3:
				cmd = append(cmd, "TIME", g.pick("1000", "1000", "x"))
			case 4:
				cmd = append(cmd, "RETRYCOUNT", g.pick("7", "-1", "7", "x"))
			case 5, 6:
				cmd = append(cmd, "LASTID", g.existingID())
			case 7:
				cmd = append(cmd, "BOGUS")
			}
		}
		return cmd
	case r < 28:
		cmd := []string{"XAUTOCLAIM", g.groupKey(), g.group(), g.pick("c1", "c2", "c3"), g.pick("0", "0", "100000000", "x"), g.pick("-", "0", g.rangeID())}
		if g.rng.IntN(2) == 0 {
			cmd = append(cmd, "COUNT", g.pick("1", "2", "100", "0", "x"))
		}
		if g.rng.IntN(3) == 0 {
			cmd = append(cmd, "JUSTID")
		}
		return cmd
	default:
		switch g.rng.IntN(5) {
		case 0:
			return []string{"XINFO", "STREAM", key}
		case 1:
			return []string{"XINFO", "STREAM", key, "FULL", "COUNT", g.pick("0", "2", "x", "-3")}
		case 2:
			return []string{"XINFO", "STREAM", key, g.pick("FULL", "bogus")}
		case 3:
			return []string{"XINFO", "GROUPS", key}
		default:
			return []string{"XINFO", "CONSUMERS", g.groupKey(), g.pick("g1", "g2", "nog")}
		}
	}
}

func TestRedisRandomStreamCommands(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rc := redistest.Start(t,
				[2]string{"stream-node-max-bytes", fmt.Sprint(testConfig.NodeMaxBytes)},
				[2]string{"stream-node-max-entries", fmt.Sprint(testConfig.NodeMaxEntries)})
			ours := keyspace{}
			g := &sgen{rng: rand.New(rand.NewPCG(seed, 41)), next: 1}
			seedKeys := func() {
				for _, c := range [][]string{
					{"SET", "str", "x"},
					{"XGROUP", "CREATE", "s1", "g1", "0", "MKSTREAM"},
					{"XGROUP", "CREATE", "s1", "g2", "$"},
					{"XGROUP", "CREATE", "s2", "g1", "0", "MKSTREAM"},
					{"XGROUP", "CREATE", "s2", "g2", "0"},
				} {
					rc.DoArgs(toArgs(c))
					ours.exec(toArgs(c))
				}
			}
			seedKeys()
			for i := 0; i < 3000; i++ {
				cmd := g.command()
				args := toArgs(cmd)
				want := rc.DoArgs(args)
				got := ours.exec(args)
				if cmd[0] == "XADD" && got.Kind == resp.BulkString && !got.IsNull {
					g.added = append(g.added, string(got.Str))
				}
				clocky := cmd[0] == "XPENDING" || cmd[0] == "XINFO"
				if !sameReply(want, got, clocky) {
					t.Fatalf("command %d %q:\nredis %v\nours  %v", i, cmd, want, got)
				}
				for _, k := range []string{"s1", "s2"} {
					for _, probe := range [][]string{{"XRANGE", k, "-", "+"}, {"XINFO", "STREAM", k}, {"XINFO", "STREAM", k, "FULL", "COUNT", "0"}} {
						want := rc.DoArgs(toArgs(probe))
						got := ours.exec(toArgs(probe))
						if !sameReply(want, got, true) {
							t.Fatalf("after command %d %q, %q:\nredis %v\nours  %v", i, cmd, probe, want, got)
						}
					}
				}
				if i%600 == 599 {
					for _, k := range []string{"s1", "s2", "nokey"} {
						rc.Do("DEL", k)
						delete(ours, k)
					}
					seedKeys()
				}
			}
		})
	}
}

func toArgs(cmd []string) [][]byte {
	args := make([][]byte, len(cmd))
	for i, a := range cmd {
		args[i] = []byte(a)
	}
	return args
}
