package server

import (
	"github.com/clusterctl/clusterctl/node/command"
)

// serverEvents connects the command handlers' Notify, WATCH and blocking signals
// (command.Events) to the server's tables.
type serverEvents struct{ s *Server }

// KeyModified implements command.Events.
func (e serverEvents) KeyModified(db int, key []byte) { e.s.watches.touch(db, key) }

// KeysModified implements command.Events.
func (e serverEvents) KeysModified(db int) {
	e.s.watches.touchDB(db)
	e.s.blocking.dbReady(db)
}

// KeyReady implements command.Events.
func (e serverEvents) KeyReady(db int, key []byte) { e.s.blocking.keyReady(db, key) }

// BlockingActive implements command.Events.
func (e serverEvents) BlockingActive() bool { return e.s.blocking.count.Load() > 0 }

// WatchActive implements command.Events.
func (e serverEvents) WatchActive() bool { return e.s.watches.n.Load() > 0 }

// KeyspaceEvent implements command.Events.
func (e serverEvents) KeyspaceEvent(flags command.NotifyClass, event string, key []byte, db int) {
	e.s.keyspaceEvent(flags, event, key, db)
}

// initEvents wires the events into the command environment and keeps the cached
// notify-keyspace-events current.
func (s *Server) initEvents() {
	s.env.Events = serverEvents{s}
	s.ks.SetEvents(keyspaceEvents{s})
	s.env.NotifyFlags.Store(uint32(s.cfg.Int("notify-keyspace-events")))
	s.cfg.OnSet("notify-keyspace-events", func(string) error {
		s.env.NotifyFlags.Store(uint32(s.cfg.Int("notify-keyspace-events")))
		return nil
	})
	s.registerMultiCommands()
	s.table.Register("client|unblock", s.cmdClientUnblock)
	s.registerPubSubCommands()
}

// keyspaceEvents receives the keyspace's expiries, evictions and key creations
// (keyspace.KeyEvents) and turns them into keyspace events and WATCH invalidations, as
// deleteExpiredKeyAndPropagate, performEvictions and dbAdd do.
type keyspaceEvents struct{ s *Server }

// KeyExpired implements keyspace.KeyEvents.
func (e keyspaceEvents) KeyExpired(db int, key string) {
	e.removed(db, key, command.NotifyExpired, "expired")
}

// KeyEvicted implements keyspace.KeyEvents.
func (e keyspaceEvents) KeyEvicted(db int, key string) {
	e.removed(db, key, command.NotifyEvicted, "evicted")
}

func (e keyspaceEvents) removed(db int, key string, class command.NotifyClass, event string) {
	s := e.s
	if s.watches.n.Load() > 0 {
		s.watches.touch(db, []byte(key))
	}
	if f := command.NotifyClass(s.env.NotifyFlags.Load()); f&class != 0 && f&(command.NotifyKeyspace|command.NotifyKeyevent) != 0 {
		s.keyspaceEvent(f, event, []byte(key), db)
	}
}

// KeyCreated implements keyspace.KeyEvents.
func (e keyspaceEvents) KeyCreated(db int, key []byte) {
	s := e.s
	if f := command.NotifyClass(s.env.NotifyFlags.Load()); f&command.NotifyNew != 0 && f&(command.NotifyKeyspace|command.NotifyKeyevent) != 0 {
		s.keyspaceEvent(f, "new", key, db)
	}
}
