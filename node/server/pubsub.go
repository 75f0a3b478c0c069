package server

import (
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clusterctl/clusterctl/node/command"
	"github.com/clusterctl/clusterctl/node/config"
)

// Pub/Sub (pubsub.c): SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, their UNSUBSCRIBEs, PUBLISH,
// SPUBLISH, PUBSUB, and the delivery of keyspace notifications.
//
// Subscriptions live in three tables (channels, patterns, shard channels) mapping a name
// to its subscribers, guarded by one lock. A message is not written to the subscriber's
// connection by the publisher: it is encoded in the subscriber's protocol (a RESP3 push
// or a RESP2 array) and appended to the subscriber's outbox. The subscriber's own
// goroutine writes its outbox after its pending replies when it flushes; while it waits
// for input, a pusher goroutine owned by the client writes the outbox. So a message
// never overtakes the reply of the SUBSCRIBE that asked for it, and a slow subscriber
// never slows a publisher: once its outbox exceeds the pubsub class of
// client-output-buffer-limit (the hard limit, or the soft one for longer than its
// seconds), the connection is closed, as Redis frees such a client.

// pubsubState holds the subscriptions.
type pubsubState struct {
	// mu guards the three tables and every client's subscription sets.
	mu       sync.RWMutex
	channels map[string]map[*client]struct{}
	patterns map[string]map[*client]struct{}
	shard    map[string]map[*client]struct{}
	// npatterns mirrors len(patterns) for the lock-free check of PUBLISH.
	npatterns atomic.Int64
	// hard, soft and softSeconds cache the pubsub output buffer limit.
	hard, soft, softSeconds atomic.Int64
}

// subscriptions are one client's subscriptions, guarded by pubsubState.mu.
type subscriptions struct {
	channels, patterns, shard map[string]struct{}
}

func (ss *subscriptions) total() int { return len(ss.channels) + len(ss.patterns) }

// outbox is what publishers queue for one client, guarded by client.mu.
type outbox struct {
	buf []byte
	// busy is set while the client's goroutine processes commands: it will write the
	// outbox itself after its replies.
	busy bool
	// overSoftSince is when the outbox first exceeded the soft limit (0: it is under).
	overSoftSince int64
	// wake tells the pusher goroutine there is something to write; nil until the
	// client first subscribes.
	wake chan struct{}
}

// pubsub kinds: the message type names and the table each works on.
type pubsubKind int

const (
	kindChannel pubsubKind = iota
	kindPattern
	kindShard
)

var (
	subscribeReplies   = [...]string{"subscribe", "psubscribe", "ssubscribe"}
	unsubscribeReplies = [...]string{"unsubscribe", "punsubscribe", "sunsubscribe"}
)

func (s *Server) registerPubSubCommands() {
	t := s.table
	t.Register("subscribe", func(c *command.Ctx) { s.subscribe(c, kindChannel) })
	t.Register("psubscribe", func(c *command.Ctx) { s.subscribe(c, kindPattern) })
	t.Register("ssubscribe", func(c *command.Ctx) { s.subscribe(c, kindShard) })
	t.Register("unsubscribe", func(c *command.Ctx) { s.unsubscribe(c, kindChannel) })
	t.Register("punsubscribe", func(c *command.Ctx) { s.unsubscribe(c, kindPattern) })
	t.Register("sunsubscribe", func(c *command.Ctx) { s.unsubscribe(c, kindShard) })
	t.Register("publish", func(c *command.Ctx) { c.W.Int(int64(s.publish(c.Argv[1], c.Argv[2], false))) })
	t.Register("spublish", func(c *command.Ctx) { c.W.Int(int64(s.publish(c.Argv[1], c.Argv[2], true))) })
	t.Register("pubsub|channels", func(c *command.Ctx) { s.pubsubChannels(c, kindChannel) })
	t.Register("pubsub|shardchannels", func(c *command.Ctx) { s.pubsubChannels(c, kindShard) })
	t.Register("pubsub|numsub", func(c *command.Ctx) { s.pubsubNumsub(c, kindChannel) })
	t.Register("pubsub|shardnumsub", func(c *command.Ctx) { s.pubsubNumsub(c, kindShard) })
	t.Register("pubsub|numpat", func(c *command.Ctx) {
		s.pubsub.mu.RLock()
		defer s.pubsub.mu.RUnlock()
		c.W.Int(int64(len(s.pubsub.patterns)))
	})
	t.Register("pubsub|help", func(c *command.Ctx) { command.ReplyHelp(c, pubsubHelp) })
	t.Register("ping", s.cmdPing)

	s.loadPubSubLimit()
	s.cfg.OnSet("client-output-buffer-limit", func(string) error { s.loadPubSubLimit(); return nil })
}

func (s *Server) loadPubSubLimit() {
	l := s.cfg.OutputBufferLimit(config.ClassPubSub)
	s.pubsub.hard.Store(int64(min(l.Hard, 1<<62)))
	s.pubsub.soft.Store(int64(min(l.Soft, 1<<62)))
	s.pubsub.softSeconds.Store(l.SoftSeconds)
}

var pubsubHelp = []string{
	"CHANNELS [<pattern>]",
	"    Return the currently active channels matching a <pattern> (default: '*').",
	"NUMPAT",
	"    Return number of subscriptions to patterns.",
	"NUMSUB [<channel> ...]",
	"    Return the number of subscribers for the specified channels, excluding",
	"    pattern subscriptions(default: no channels).",
	"SHARDCHANNELS [<pattern>]",
	"    Return the currently active shard level channels matching a <pattern> (default: '*').",
	"SHARDNUMSUB [<shardchannel> ...]",
	"    Return the number of subscribers for the specified shard level channel(s)",
}

func (p *pubsubState) table(kind pubsubKind) *map[string]map[*client]struct{} {
	switch kind {
	case kindPattern:
		return &p.patterns
	case kindShard:
		return &p.shard
	}
	return &p.channels
}

func (ss *subscriptions) set(kind pubsubKind) *map[string]struct{} {
	switch kind {
	case kindPattern:
		return &ss.patterns
	case kindShard:
		return &ss.shard
	}
	return &ss.channels
}

// subscribedCount is the count a (un)subscribe reply carries: channels and patterns
// together, shard channels on their own (clientSubscriptionsCount,
// clientShardSubscriptionsCount).
func (ss *subscriptions) count(kind pubsubKind) int {
	if kind == kindShard {
		return len(ss.shard)
	}
	return ss.total()
}

// subscribe is SUBSCRIBE, PSUBSCRIBE and SSUBSCRIBE: one confirmation per name.
func (s *Server) subscribe(c *command.Ctx, kind pubsubKind) {
	cl := client0(c)
	p := &s.pubsub
	p.mu.Lock()
	defer p.mu.Unlock()
	set := cl.subs.set(kind)
	table := p.table(kind)
	for _, name := range c.Argv[1:] {
		n := string(name)
		if _, ok := (*set)[n]; !ok {
			if *set == nil {
				*set = map[string]struct{}{}
			}
			(*set)[n] = struct{}{}
			if *table == nil {
				*table = map[string]map[*client]struct{}{}
			}
			subs := (*table)[n]
			if subs == nil {
				subs = map[*client]struct{}{}
				(*table)[n] = subs
			}
			subs[cl] = struct{}{}
		}
		c.W.PushLen(3)
		c.W.BulkString(subscribeReplies[kind])
		c.W.Bulk(name)
		c.W.Int(int64(cl.subs.count(kind)))
	}
	p.npatterns.Store(int64(len(p.patterns)))
	s.subscriptionsChanged(cl)
}

// unsubscribe is UNSUBSCRIBE, PUNSUBSCRIBE and SUNSUBSCRIBE; without names, from all.
func (s *Server) unsubscribe(c *command.Ctx, kind pubsubKind) {
	cl := client0(c)
	p := &s.pubsub
	p.mu.Lock()
	defer p.mu.Unlock()
	names := c.Argv[1:]
	if len(names) == 0 {
		set := *cl.subs.set(kind)
		if len(set) == 0 {
			c.W.PushLen(3)
			c.W.BulkString(unsubscribeReplies[kind])
			c.W.Null()
			c.W.Int(int64(cl.subs.count(kind)))
			return
		}
		for _, n := range sortedKeys(set) {
			s.unsubscribeLocked(cl, kind, n)
			c.W.PushLen(3)
			c.W.BulkString(unsubscribeReplies[kind])
			c.W.BulkString(n)
			c.W.Int(int64(cl.subs.count(kind)))
		}
	} else {
		for _, name := range names {
			s.unsubscribeLocked(cl, kind, string(name))
			c.W.PushLen(3)
			c.W.BulkString(unsubscribeReplies[kind])
			c.W.Bulk(name)
			c.W.Int(int64(cl.subs.count(kind)))
		}
	}
	p.npatterns.Store(int64(len(p.patterns)))
	s.subscriptionsChanged(cl)
}

// sortedKeys lists a subscription set in a stable order. Redis walks its dict in hash
// order, which no client can rely on.
func sortedKeys(set map[string]struct{}) []string {
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// unsubscribeLocked removes one subscription; p.mu is held.
func (s *Server) unsubscribeLocked(cl *client, kind pubsubKind, name string) {
	set := cl.subs.set(kind)
	if _, ok := (*set)[name]; !ok {
		return
	}
	delete(*set, name)
	table := s.pubsub.table(kind)
	if subs := (*table)[name]; subs != nil {
		delete(subs, cl)
		if len(subs) == 0 {
			delete(*table, name)
		}
	}
}

// subscriptionsChanged updates the client's P flag and counters; p.mu is held.
func (s *Server) subscriptionsChanged(cl *client) {
	n := cl.subs.total() + len(cl.subs.shard)
	cl.nsub.Store(int32(len(cl.subs.channels)))
	cl.npsub.Store(int32(len(cl.subs.patterns)))
	cl.nssub.Store(int32(len(cl.subs.shard)))
	cl.setFlag(flagPubSub, n > 0)
	if n > 0 {
		s.startPusher(cl)
	}
}

// resetSubscriptions drops every subscription of cl (RESET, disconnection).
func (s *Server) resetSubscriptions(cl *client) {
	if !cl.hasFlag(flagPubSub) {
		return
	}
	p := &s.pubsub
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, kind := range []pubsubKind{kindChannel, kindPattern, kindShard} {
		for n := range *cl.subs.set(kind) {
			s.unsubscribeLocked(cl, kind, n)
		}
	}
	p.npatterns.Store(int64(len(p.patterns)))
	s.subscriptionsChanged(cl)
}

// pubsubCounts returns the numbers of channels, patterns and shard channels with
// subscribers, for INFO stats.
func (s *Server) pubsubCounts() (channels, patterns, shard int) {
	p := &s.pubsub
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.channels), len(p.patterns), len(p.shard)
}

// subscriptionCounts renders CLIENT LIST's "sub=.. psub=.. ssub=..".
func (s *Server) subscriptionCounts(cl *client) string {
	return "sub=" + itoa(int64(cl.nsub.Load())) + " psub=" + itoa(int64(cl.npsub.Load())) +
		" ssub=" + itoa(int64(cl.nssub.Load()))
}

// publish delivers a message to the subscribers of channel and of the patterns matching
// it (shard channels only for SPUBLISH), and returns how many deliveries it made
// (pubsubPublishMessage).
func (s *Server) publish(channel, message []byte, shard bool) int {
	p := &s.pubsub
	p.mu.RLock()
	defer p.mu.RUnlock()
	n := 0
	if shard {
		for cl := range p.shard[string(channel)] {
			cl.push("smessage", nil, channel, message)
			n++
		}
		return n
	}
	for cl := range p.channels[string(channel)] {
		cl.push("message", nil, channel, message)
		n++
	}
	if p.npatterns.Load() > 0 {
		ch := string(channel)
		for pat, subs := range p.patterns {
			if !command.StringMatch(pat, ch, false) {
				continue
			}
			for cl := range subs {
				cl.push("pmessage", []byte(pat), channel, message)
				n++
			}
		}
	}
	return n
}

// push queues one message for the client in its protocol and wakes its pusher.
func (cl *client) push(kind string, pattern, channel, message []byte) {
	n := 3
	if pattern != nil {
		n = 4
	}
	var hdr [24]byte
	prefix := byte('*')
	if cl.proto.Load() >= 3 {
		prefix = '>'
	}
	cl.mu.Lock()
	b := cl.out.buf
	b = append(append(append(b, prefix), strconv.AppendInt(hdr[:0], int64(n), 10)...), "\r\n"...)
	b = appendBulk(b, []byte(kind))
	if pattern != nil {
		b = appendBulk(b, pattern)
	}
	b = appendBulk(b, channel)
	b = appendBulk(b, message)
	cl.out.buf = b
	over := cl.srv.outboxOverLimit(cl)
	wake := cl.out.wake
	cl.mu.Unlock()
	if over {
		cl.srv.log.Warningf("Client %s scheduled to be closed ASAP for overcoming of output buffer limits.", cl)
		cl.setFlag(flagCloseASAP, true)
		cl.conn.Close()
		return
	}
	if wake != nil {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

func appendBulk(b, s []byte) []byte {
	var tmp [24]byte
	b = append(b, '$')
	b = append(b, strconv.AppendInt(tmp[:0], int64(len(s)), 10)...)
	b = append(b, "\r\n"...)
	b = append(b, s...)
	return append(b, "\r\n"...)
}

// outboxOverLimit applies the pubsub output buffer limit (checkClientOutputBufferLimits);
// cl.mu is held.
func (s *Server) outboxOverLimit(cl *client) bool {
	size := int64(len(cl.out.buf))
	p := &s.pubsub
	if hard := p.hard.Load(); hard > 0 && size >= hard {
		return true
	}
	soft := p.soft.Load()
	if soft <= 0 || size < soft {
		cl.out.overSoftSince = 0
		return false
	}
	now := time.Now().UnixMilli()
	if cl.out.overSoftSince == 0 {
		cl.out.overSoftSince = now
		return false
	}
	return now-cl.out.overSoftSince > p.softSeconds.Load()*1000
}

// startPusher starts the goroutine that writes the outbox while the client is idle; it
// ends when the connection closes.
func (s *Server) startPusher(cl *client) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	// Called while the client's goroutine runs its (P|S)SUBSCRIBE: the reply goes out
	// before any message.
	cl.out.busy = true
	if cl.out.wake != nil {
		return
	}
	wake := make(chan struct{}, 1)
	cl.out.wake = wake
	cl.pushing.Store(true)
	s.connWG.Add(1)
	go func() {
		defer s.connWG.Done()
		for {
			select {
			case <-wake:
			case <-cl.gone:
				return
			}
			cl.mu.Lock()
			var err error
			if !cl.out.busy && len(cl.out.buf) > 0 {
				err = cl.writeOutboxLocked()
			}
			cl.mu.Unlock()
			if err != nil {
				cl.conn.Close()
				return
			}
		}
	}()
}

// writeOutboxLocked writes the queued messages; cl.mu is held.
func (cl *client) writeOutboxLocked() error {
	cl.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := countingWriter{cl.conn, &cl.srv.stats.netOutput}.Write(cl.out.buf)
	cl.conn.SetWriteDeadline(time.Time{})
	if cap(cl.out.buf) > 64<<10 {
		cl.out.buf = nil
	} else {
		cl.out.buf = cl.out.buf[:0]
	}
	cl.out.overSoftSince = 0
	return err
}

// subscribedContextAllowed reports whether a RESP2 client with subscriptions may run
// cmd (processCommand's pubsub context check).
func subscribedContextAllowed(cmd *command.Command) bool {
	switch cmd.Name {
	case "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe",
		"ping", "quit", "reset":
		return true
	}
	return false
}

// cmdPing is PING, which a RESP2 subscriber gets as a ["pong", message] array.
func (s *Server) cmdPing(c *command.Ctx) {
	if len(c.Argv) > 2 {
		c.WrongArity()
		return
	}
	cl, ok := c.Conn.(*client)
	if ok && c.W.Proto < 3 && cl.hasFlag(flagPubSub) {
		c.W.ArrayLen(2)
		c.W.BulkString("pong")
		if len(c.Argv) == 2 {
			c.W.Bulk(c.Argv[1])
		} else {
			c.W.BulkString("")
		}
		return
	}
	if len(c.Argv) == 1 {
		c.W.Simple("PONG")
		return
	}
	c.W.Bulk(c.Argv[1])
}

func (s *Server) pubsubChannels(c *command.Ctx, kind pubsubKind) {
	if len(c.Argv) > 3 {
		c.WrongArity()
		return
	}
	var pattern string
	hasPattern := len(c.Argv) == 3
	if hasPattern {
		pattern = string(c.Argv[2])
	}
	s.pubsub.mu.RLock()
	var names []string
	for n := range *s.pubsub.table(kind) {
		if !hasPattern || command.StringMatch(pattern, n, false) {
			names = append(names, n)
		}
	}
	s.pubsub.mu.RUnlock()
	sort.Strings(names)
	c.W.ArrayLen(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

func (s *Server) pubsubNumsub(c *command.Ctx, kind pubsubKind) {
	s.pubsub.mu.RLock()
	defer s.pubsub.mu.RUnlock()
	table := *s.pubsub.table(kind)
	c.W.ArrayLen(2 * (len(c.Argv) - 2)) // an array in RESP3 too, as Redis 7.0 replies
	for _, name := range c.Argv[2:] {
		c.W.Bulk(name)
		c.W.Int(int64(len(table[string(name)])))
	}
}

// keyspaceEvent publishes a keyspace event (notifyKeyspaceEvent) on
// __keyspace@<db>__:<key> with the event as message and/or __keyevent@<db>__:<event>
// with the key as message.
func (s *Server) keyspaceEvent(flags command.NotifyClass, event string, key []byte, db int) {
	var buf []byte
	prefix := func(kind string) []byte {
		buf = append(buf[:0], "__key"...)
		buf = append(buf, kind...)
		buf = append(buf, '@')
		buf = strconv.AppendInt(buf, int64(db), 10)
		return append(buf, "__:"...)
	}
	if flags&command.NotifyKeyspace != 0 {
		ch := append(prefix("space"), key...)
		s.publish(ch, []byte(event), false)
	}
	if flags&command.NotifyKeyevent != 0 {
		ch := append(prefix("event"), event...)
		s.publish(ch, key, false)
	}
}
