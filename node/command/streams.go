package command

import (
	"github.com/clusterctl/clusterctl/node/datatype/stream"
	"github.com/clusterctl/clusterctl/node/keyspace"
)

// registerStreams adds the streams commands to the table.
func registerStreams(t *Table) {
	t.Register("xadd", cmdXAdd)
	t.Register("xtrim", cmdXTrim)
	t.Register("xlen", cmdXLen)
	t.Register("xrange", func(c *Ctx) { xrangeGeneric(c, false) })
	t.Register("xrevrange", func(c *Ctx) { xrangeGeneric(c, true) })
	t.Register("xdel", cmdXDel)
	t.Register("xsetid", cmdXSetID)
	t.Register("xread", func(c *Ctx) { xreadGeneric(c, false) })
	t.Register("xreadgroup", func(c *Ctx) { xreadGeneric(c, true) })
	t.Register("xack", cmdXAck)
	t.Register("xpending", cmdXPending)
	t.Register("xclaim", cmdXClaim)
	t.Register("xautoclaim", cmdXAutoClaim)
	t.Register("xgroup|create", cmdXGroupCreate)
	t.Register("xgroup|setid", cmdXGroupSetID)
	t.Register("xgroup|destroy", cmdXGroupDestroy)
	t.Register("xgroup|createconsumer", cmdXGroupCreateConsumer)
	t.Register("xgroup|delconsumer", cmdXGroupDelConsumer)
	t.Register("xgroup|help", func(c *Ctx) { ReplyHelp(c, xgroupHelp) })
	t.Register("xinfo|stream", cmdXInfoStream)
	t.Register("xinfo|groups", cmdXInfoGroups)
	t.Register("xinfo|consumers", cmdXInfoConsumers)
	t.Register("xinfo|help", func(c *Ctx) { ReplyHelp(c, xinfoHelp) })
}

var xgroupHelp = []string{
	"CREATE <key> <groupname> <id|$> [option]",
	"    Create a new consumer group. Options are:",
	"    * MKSTREAM",
	"      Create the empty stream if it does not exist.",
	"    * ENTRIESREAD entries_read",
	"      Set the group's entries_read counter (internal use).",
	"CREATECONSUMER <key> <groupname> <consumer>",
	"    Create a new consumer in the specified group.",
	"DELCONSUMER <key> <groupname> <consumer>",
	"    Remove the specified consumer.",
	"DESTROY <key> <groupname>",
	"    Remove the specified group.",
	"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
	"    Set the current group ID and entries_read counter.",
}

var xinfoHelp = []string{
	"CONSUMERS <key> <groupname>",
	"    Show consumers of <groupname>.",
	"GROUPS <key>",
	"    Show the stream consumer groups.",
	"STREAM <key> [FULL [COUNT <count>]",
	"    Show information about the stream.",
}

// streamConfig returns stream-node-max-bytes and stream-node-max-entries.
func (c *Ctx) streamConfig() stream.Config {
	return stream.Config{
		NodeMaxBytes:   c.Env.StreamNodeMaxBytes.Load(),
		NodeMaxEntries: c.Env.StreamNodeMaxEntries.Load(),
	}
}

// streamNow is the command's time as the stream package takes it.
func (c *Ctx) streamNow() uint64 { return uint64(max(c.DB.Now, 0)) }

// streamObject wraps a stream as a keyspace value.
func streamObject(s *stream.Stream) keyspace.Object {
	return keyspace.Object{Type: keyspace.TypeStream, Enc: keyspace.EncStream, Ptr: s}
}

// lookupStream returns the stream at key (nil when absent) for a write or a read
// command; ok is false after a WRONGTYPE reply.
func lookupStream(c *Ctx, key []byte, write bool) (e *keyspace.Entry, s *stream.Stream, ok bool) {
	if write {
		e = c.DB.LookupWriteKey(key)
	} else {
		e = c.DB.LookupRead(key)
	}
	if e == nil {
		return nil, nil, true
	}
	if e.Value.Type != keyspace.TypeStream {
		c.Error(ErrWrongType)
		return nil, nil, false
	}
	return e, e.Value.Ptr.(*stream.Stream), true
}

// lookupGroup returns the stream at key and its group named by argv[2], replying
// WRONGTYPE or noGroup's error when either is missing.
func lookupGroup(c *Ctx, write bool, noGroup func(key, group string) error) (*keyspace.Entry, *stream.Stream, *stream.Group, bool) {
	e, s, ok := lookupStream(c, c.Argv[1], write)
	if !ok {
		return nil, nil, nil, false
	}
	var g *stream.Group
	if s != nil {
		g = s.Group(string(c.Argv[2]))
	}
	if g == nil {
		c.Error(noGroup(string(c.Argv[1]), string(c.Argv[2])).Error())
		return nil, nil, nil, false
	}
	return e, s, g, true
}

// copyArgs copies arguments that a value keeps beyond the command into one allocation:
// the handler's arguments alias the connection's read buffer.
func copyArgs(args [][]byte) [][]byte {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	arena := make([]byte, 0, n)
	out := make([][]byte, len(args))
	for i, a := range args {
		start := len(arena)
		arena = append(arena, a...)
		out[i] = arena[start:len(arena):len(arena)]
	}
	return out
}

var argEquals = []byte("=")

// rewriteApproxTrim replaces an approximate trim's "~" and value in argv with "=" and
// what the trim left, so that replicas and the AOF trim exactly as much
// (streamRewriteApproxSpecifier, streamRewriteTrimArgument). offset is the position in
// argv of the first argument the parser was given.
func rewriteApproxTrim(argv [][]byte, offset int, s *stream.Stream, t stream.TrimArgs) {
	argv[offset+t.ArgIndex-1] = argEquals
	argv[offset+t.ArgIndex] = s.PropagatedTrimValue(t)
}

func cmdXAdd(c *Ctx) {
	cfg := c.streamConfig()
	a, err := stream.ParseXAdd(c.Argv[2:], false, cfg)
	if err != nil {
		c.Error(err.Error())
		return
	}
	key := c.Argv[1]
	e, s, ok := lookupStream(c, key, true)
	if !ok {
		return
	}
	if s == nil {
		if a.NoMkStream {
			c.W.Null()
			return
		}
		s = stream.New()
		e = c.DB.Add(key, streamObject(s))
	}
	a.Fields = copyArgs(a.Fields)
	id, err := s.Add(a, c.streamNow(), cfg)
	if err != nil {
		c.Error(err.Error())
		return
	}
	stream.WriteID(c.W, id)
	c.Notify(NotifyStream, "xadd", key)
	c.Dirty(1)
	if a.Trim.Strategy != stream.TrimNone && s.Trim(a.Trim) > 0 {
		c.Notify(NotifyStream, "xtrim", key)
	}
	c.DB.Modified(e)
	// Replicas get the generated ID and the exact trim.
	idGenerated := !a.IDGiven || !a.SeqGiven
	if a.Trim.Approx || idGenerated {
		argv := append([][]byte(nil), c.Argv...)
		if a.Trim.Approx {
			rewriteApproxTrim(argv, 2, s, a.Trim)
		}
		if idGenerated {
			argv[2+a.IDIndex] = id.Append(nil)
		}
		c.Rewrite(argv...)
	}
}

func cmdXTrim(c *Ctx) {
	t, err := stream.ParseXTrim(c.Argv[2:], false, c.streamConfig())
	if err != nil {
		c.Error(err.Error())
		return
	}
	key := c.Argv[1]
	e, s, ok := lookupStream(c, key, true)
	if !ok {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	deleted := s.Trim(t)
	if deleted > 0 {
		c.Notify(NotifyStream, "xtrim", key)
		c.DB.Modified(e)
		c.Dirty(int(deleted))
		if t.Approx {
			argv := append([][]byte(nil), c.Argv...)
			rewriteApproxTrim(argv, 2, s, t)
			c.Rewrite(argv...)
		}
	}
	c.W.Int(deleted)
}

func cmdXLen(c *Ctx) {
	_, s, ok := lookupStream(c, c.Argv[1], false)
	if !ok {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(s.Len())
}

// xrangeGeneric is XRANGE and XREVRANGE: everything is parsed before the key lookup.
func xrangeGeneric(c *Ctx, rev bool) {
	r, err := stream.ParseRange(c.Argv[2:], rev)
	if err != nil {
		c.Error(err.Error())
		return
	}
	_, s, ok := lookupStream(c, c.Argv[1], false)
	switch {
	case !ok:
	case s == nil:
		c.W.ArrayLen(0)
	case r.NullReply:
		c.W.NullArray()
	default:
		stream.WriteEntries(c.W, s.RangeQuery(r))
	}
}

// cmdXDel looks the key up before checking the IDs, as Redis does; all of them are
// checked before any is deleted.
func cmdXDel(c *Ctx) {
	key := c.Argv[1]
	e, s, ok := lookupStream(c, key, true)
	if !ok {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	ids, err := stream.ParseIDs(c.Argv[2:])
	if err != nil {
		c.Error(err.Error())
		return
	}
	deleted := s.Delete(ids)
	if deleted > 0 {
		c.Notify(NotifyStream, "xdel", key)
		c.DB.Modified(e)
		c.Dirty(int(deleted))
	}
	c.W.Int(deleted)
}

func cmdXSetID(c *Ctx) {
	a, err := stream.ParseXSetID(c.Argv[2:])
	if err != nil {
		c.Error(err.Error())
		return
	}
	key := c.Argv[1]
	_, s, ok := lookupStream(c, key, true)
	if !ok {
		return
	}
	if s == nil {
		c.Error(ErrNoSuchKey)
		return
	}
	if err := s.SetLastID(a); err != nil {
		c.Error(err.Error())
		return
	}
	c.W.OK()
	c.Notify(NotifyStream, "xsetid", key)
	c.Dirty(1)
}

// xreadRequest is a parsed XREAD or XREADGROUP with each stream's position resolved.
type xreadRequest struct {
	args  stream.ReadArgs
	group bool
	ids   []stream.ReadID
}

// parseXRead parses XREAD or XREADGROUP and resolves the ID of each stream, checking
// each key's type and, for XREADGROUP, its group (xreadCommand before serving). It
// replies the error and returns false when something is wrong.
func parseXRead(c *Ctx, group bool) (req xreadRequest, ok bool) {
	args, err := stream.ParseRead(c.Argv[1:], group)
	if err != nil {
		c.Error(err.Error())
		return req, false
	}
	req = xreadRequest{args: args, group: group, ids: make([]stream.ReadID, len(args.Keys))}
	for i, key := range args.Keys {
		_, s, ok := lookupStream(c, key, false)
		if !ok {
			return req, false
		}
		if group && (s == nil || s.Group(args.Group) == nil) {
			c.Error(stream.NoReadGroupError(string(key), args.Group).Error())
			return req, false
		}
		if req.ids[i], err = stream.ResolveReadID(args.IDs[i], group, s); err != nil {
			c.Error(err.Error())
			return req, false
		}
	}
	return req, true
}

// xreadServe is the synchronous part of XREAD and XREADGROUP: it replies with what every
// stream can give now, as a map from key to entries (an array of pairs in RESP2), and
// reports whether there was anything. When there was not, it has not replied: the caller
// blocks (BLOCK) or replies the null array. XREADGROUP's deliveries are replicated as
// Redis 7.0 does: XCLAIM for each entry made pending, and with NOACK XGROUP
// CREATECONSUMER for a new consumer and XGROUP SETID for the group's new position.
func xreadServe(c *Ctx, req xreadRequest) bool {
	type served struct {
		key     []byte
		entries []stream.Entry
	}
	var out []served
	now := c.streamNow()
	for i, key := range req.args.Keys {
		_, s, _ := lookupStream(c, key, false)
		if s == nil {
			continue
		}
		id := req.ids[i]
		if !req.group {
			if es := s.Read(id.After, req.args.Count); len(es) > 0 {
				out = append(out, served{key, es})
			}
			continue
		}
		g := s.Group(req.args.Group)
		res := s.ReadGroup(g, req.args.Consumer, id.New, id.After, req.args.Count, req.args.NoAck, now)
		if !res.Served {
			continue
		}
		out = append(out, served{key, res.Entries})
		c.NoPropagate()
		c.Dirty(1)
		k := string(key)
		if res.ConsumerCreated && req.args.NoAck {
			c.Propagate(g.ConsumerCreatePropagation(k, req.args.Consumer)...)
		}
		for _, claimed := range res.Claimed {
			c.Propagate(g.DeliveryPropagation(k, claimed)...)
		}
		if res.LastIDChanged {
			c.Propagate(g.SetIDPropagation(k)...)
		}
	}
	if len(out) == 0 {
		return false
	}
	if c.W.Proto >= 3 {
		c.W.MapLen(len(out))
	} else {
		c.W.ArrayLen(len(out))
	}
	for _, o := range out {
		if c.W.Proto < 3 {
			c.W.ArrayLen(2)
		}
		c.W.Bulk(o.key)
		stream.WriteEntries(c.W, o.entries)
	}
	return true
}

// xreadGeneric is XREAD and XREADGROUP: with nothing to serve they block when BLOCK was
// given (xreadBlock), else reply the null array.
func xreadGeneric(c *Ctx, group bool) {
	req, ok := parseXRead(c, group)
	if !ok {
		return
	}
	if !xreadServe(c, req) {
		if req.args.Block >= 0 {
			xreadBlock(c, req)
			return
		}
		c.W.NullArray()
	}
}

func cmdXAck(c *Ctx) {
	_, s, ok := lookupStream(c, c.Argv[1], false)
	if !ok {
		return
	}
	var g *stream.Group
	if s != nil {
		g = s.Group(string(c.Argv[2]))
	}
	if g == nil {
		c.W.Int(0)
		return
	}
	ids, err := stream.ParseIDs(c.Argv[3:])
	if err != nil {
		c.Error(err.Error())
		return
	}
	n := g.Ack(ids)
	c.Dirty(int(n))
	c.W.Int(n)
}

func cmdXPending(c *Ctx) {
	q, summary, err := stream.ParsePending(c.Argv[3:])
	if err != nil {
		c.Error(err.Error())
		return
	}
	_, _, g, ok := lookupGroup(c, false, stream.NoKeyOrGroupError)
	if !ok {
		return
	}
	if summary {
		stream.WritePendingSummary(c.W, g.Summary())
		return
	}
	stream.WritePending(c.W, g.Pending(q, c.streamNow()))
}

// propagateClaims replicates an XCLAIM or XAUTOCLAIM by its effects, not by itself.
func (c *Ctx) propagateClaims(res stream.ClaimResult) {
	c.NoPropagate()
	for _, argv := range res.Propagate {
		c.Propagate(argv...)
	}
	if res.SetID != nil {
		c.Propagate(res.SetID...)
	}
	c.Dirty(len(res.Propagate))
	if res.SetID != nil {
		c.Dirty(1)
	}
}

func cmdXClaim(c *Ctx) {
	e, s, g, ok := lookupGroup(c, true, stream.NoKeyOrGroupError)
	if !ok {
		return
	}
	a, err := stream.ParseClaim(c.Argv[3:])
	if err != nil {
		c.Error(err.Error())
		return
	}
	res := s.Claim(string(c.Argv[1]), g, a, c.streamNow())
	if a.JustID {
		stream.WriteIDs(c.W, res.Entries)
	} else {
		stream.WriteEntries(c.W, res.Entries)
	}
	c.propagateClaims(res)
	c.DB.Modified(e)
}

func cmdXAutoClaim(c *Ctx) {
	a, err := stream.ParseAutoClaim(c.Argv[3:])
	if err != nil {
		c.Error(err.Error())
		return
	}
	e, s, g, ok := lookupGroup(c, true, stream.NoKeyOrGroupError)
	if !ok {
		return
	}
	res := s.AutoClaim(string(c.Argv[1]), g, a, c.streamNow())
	stream.WriteAutoClaim(c.W, res, a.JustID)
	c.propagateClaims(res)
	c.DB.Modified(e)
}

// xgroupLookup is xgroupCommand's common part for the subcommands other than CREATE ...
// MKSTREAM: the key must hold a stream and, but for CREATE and DESTROY, the group must
// exist.
func xgroupLookup(c *Ctx, needGroup bool) (*keyspace.Entry, *stream.Stream, *stream.Group, bool) {
	key, name := c.Argv[2], string(c.Argv[3])
	e, s, ok := lookupStream(c, key, true)
	if !ok {
		return nil, nil, nil, false
	}
	if s == nil {
		c.Error("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")
		return nil, nil, nil, false
	}
	g := s.Group(name)
	if needGroup && g == nil {
		c.Error(stream.NoGroupError(string(key), name).Error())
		return nil, nil, nil, false
	}
	return e, s, g, true
}

func cmdXGroupCreate(c *Ctx) {
	opts, err := stream.ParseGroupOptions(c.Argv[1], true, c.Argv[5:])
	if err != nil {
		c.Error(err.Error())
		return
	}
	key := c.Argv[2]
	var e *keyspace.Entry
	var s *stream.Stream
	if opts.MkStream {
		var ok bool
		if e, s, ok = lookupStream(c, key, true); !ok {
			return
		}
	} else {
		var ok bool
		if e, s, _, ok = xgroupLookup(c, false); !ok {
			return
		}
	}
	id, dollar, err := stream.ParseGroupID(c.Argv[4], true)
	if err != nil {
		c.Error(err.Error())
		return
	}
	id = s.ResolveGroupID(id, dollar)
	if s == nil {
		s = stream.New()
		e = c.DB.Add(key, streamObject(s))
	}
	if _, err := s.CreateGroup(string(c.Argv[3]), id, opts.EntriesRead); err != nil {
		c.Error(err.Error())
		return
	}
	c.DB.Modified(e)
	c.W.OK()
	c.Notify(NotifyStream, "xgroup-create", key)
	c.Dirty(1)
}

func cmdXGroupSetID(c *Ctx) {
	opts, err := stream.ParseGroupOptions(c.Argv[1], false, c.Argv[5:])
	if err != nil {
		c.Error(err.Error())
		return
	}
	_, s, g, ok := xgroupLookup(c, true)
	if !ok {
		return
	}
	id, dollar, err := stream.ParseGroupID(c.Argv[4], false)
	if err != nil {
		c.Error(err.Error())
		return
	}
	g.SetID(s.ResolveGroupID(id, dollar), opts.EntriesRead)
	c.W.OK()
	c.Notify(NotifyStream, "xgroup-setid", c.Argv[2])
	c.Dirty(1)
}

func cmdXGroupDestroy(c *Ctx) {
	e, s, _, ok := xgroupLookup(c, false)
	if !ok {
		return
	}
	if !s.DestroyGroup(string(c.Argv[3])) {
		c.W.Int(0)
		return
	}
	c.DB.Modified(e)
	c.W.Int(1)
	c.Notify(NotifyStream, "xgroup-destroy", c.Argv[2])
	c.Dirty(1)
}

func cmdXGroupCreateConsumer(c *Ctx) {
	e, _, g, ok := xgroupLookup(c, true)
	if !ok {
		return
	}
	if !g.CreateConsumer(string(c.Argv[4]), c.streamNow()) {
		c.W.Int(0)
		return
	}
	c.DB.Modified(e)
	c.W.Int(1)
	c.Notify(NotifyStream, "xgroup-createconsumer", c.Argv[2])
	c.Dirty(1)
}

func cmdXGroupDelConsumer(c *Ctx) {
	e, _, g, ok := xgroupLookup(c, true)
	if !ok {
		return
	}
	name := string(c.Argv[4])
	if g.Consumer(name) == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(g.DeleteConsumer(name)))
	c.DB.Modified(e)
	c.Notify(NotifyStream, "xgroup-delconsumer", c.Argv[2])
	c.Dirty(1)
}

// xinfoLookup finds XINFO's key, which must hold a stream.
func xinfoLookup(c *Ctx) (*stream.Stream, bool) {
	_, s, ok := lookupStream(c, c.Argv[2], false)
	if !ok {
		return nil, false
	}
	if s == nil {
		c.Error(ErrNoSuchKey)
		return nil, false
	}
	return s, true
}

func cmdXInfoStream(c *Ctx) {
	s, ok := xinfoLookup(c)
	if !ok {
		return
	}
	a, err := stream.ParseInfoStream(c.Argv[1], c.Argv[3:])
	if err != nil {
		c.Error(err.Error())
		return
	}
	s.WriteInfo(c.W, a)
}

func cmdXInfoGroups(c *Ctx) {
	if s, ok := xinfoLookup(c); ok {
		s.WriteGroupsInfo(c.W)
	}
}

func cmdXInfoConsumers(c *Ctx) {
	s, ok := xinfoLookup(c)
	if !ok {
		return
	}
	g := s.Group(string(c.Argv[3]))
	if g == nil {
		c.Error(stream.NoGroupError(string(c.Argv[2]), string(c.Argv[3])).Error())
		return
	}
	g.WriteConsumersInfo(c.W, c.streamNow())
}
