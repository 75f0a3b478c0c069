package command

// NotifyClass is a class of keyspace events (Redis's NOTIFY_* flags), one letter of
// notify-keyspace-events each. The bit values are those of config.Notify*, so the
// configuration's integer value converts directly.
type NotifyClass uint32

// The keyspace event classes.
const (
	NotifyKeyspace NotifyClass = 1 << 0  // K: publish on __keyspace@<db>__:<key>
	NotifyKeyevent NotifyClass = 1 << 1  // E: publish on __keyevent@<db>__:<event>
	NotifyGeneric  NotifyClass = 1 << 2  // g: DEL, EXPIRE, RENAME, ...
	NotifyString   NotifyClass = 1 << 3  // $
	NotifyList     NotifyClass = 1 << 4  // l
	NotifySet      NotifyClass = 1 << 5  // s
	NotifyHash     NotifyClass = 1 << 6  // h
	NotifyZset     NotifyClass = 1 << 7  // z
	NotifyExpired  NotifyClass = 1 << 8  // x
	NotifyEvicted  NotifyClass = 1 << 9  // e
	NotifyStream   NotifyClass = 1 << 10 // t
	NotifyKeyMiss  NotifyClass = 1 << 11 // m: a read found no key; not a modification
	NotifyLoaded   NotifyClass = 1 << 12 // module key loaded; no letter
	NotifyModule   NotifyClass = 1 << 13 // d
	NotifyNew      NotifyClass = 1 << 14 // n: a key was created
)

// Events is how commands reach the server's Pub/Sub, WATCH and blocked-client machinery.
// The server implements it; with a nil Env.Events (unit tests of handlers) none of them
// exists and the calls below do nothing. Every method may be called while the caller
// holds shard locks, so implementations take only locks of their own.
type Events interface {
	// KeyspaceEvent publishes one event of an enabled class on the keyspace and/or
	// keyevent channels that flags (the current notify-keyspace-events) ask for.
	KeyspaceEvent(flags NotifyClass, event string, key []byte, db int)
	// KeyModified marks key as modified for the clients WATCHing it (signalModifiedKey).
	KeyModified(db int, key []byte)
	// KeysModified marks every key WATCHed in db as modified when it exists or existed
	// before a flush or swap (touchAllWatchedKeysInDb), and lets the clients blocked on
	// keys of db retry (scanDatabaseForReadyKeys). db -1 means every database.
	KeysModified(db int)
	// KeyReady tells clients blocked on key in db that it may serve them now
	// (signalKeyAsReady); they are served once the running command, MULTI/EXEC or
	// script has finished.
	KeyReady(db int, key []byte)
	// BlockingActive reports whether any client is blocked, so that commands skip
	// signalling readiness when nobody waits.
	BlockingActive() bool
	// WatchActive reports whether any client WATCHes a key, so that the dispatcher skips
	// invalidating the written keys when nobody watches.
	WatchActive() bool
}

// Notify records that the command changed key (or, for NotifyKeyMiss, that a read missed
// it), as Redis's notifyKeyspaceEvent with the event names of Redis ("set", "lpush",
// "hset", "zadd", "xadd", "del", "expire", ...): subscribers of the keyspace and keyevent
// channels get the event when its class is enabled in notify-keyspace-events. A
// modification also invalidates WATCH on the key (signalModifiedKey), so a handler calls
// Notify once for each key it changes, where Redis notifies. When notifications are off
// and nobody WATCHes, it costs an atomic load and a call.
func (c *Ctx) Notify(class NotifyClass, event string, key []byte) {
	c.NotifyIn(c.DB.Index, class, event, key)
}

// NotifyIn is Notify for a key of another database than the client's (MOVE's "move_to",
// COPY ... DB's "copy_to").
func (c *Ctx) NotifyIn(db int, class NotifyClass, event string, key []byte) {
	env := c.Env
	if env == nil || env.Events == nil {
		return
	}
	if class != NotifyKeyMiss {
		env.Events.KeyModified(db, key)
	}
	if f := NotifyClass(env.NotifyFlags.Load()); f&class != 0 && f&(NotifyKeyspace|NotifyKeyevent) != 0 {
		env.Events.KeyspaceEvent(f, event, key, db)
	}
}

// NotifyEnabled reports whether events of class are published now, for a handler that
// would have to build an event name or a key to notify.
func (c *Ctx) NotifyEnabled(class NotifyClass) bool {
	if c.Env == nil || c.Env.Events == nil {
		return false
	}
	f := NotifyClass(c.Env.NotifyFlags.Load())
	return f&class != 0 && f&(NotifyKeyspace|NotifyKeyevent) != 0
}

// SignalModified invalidates WATCH on key without publishing an event, for the few
// changes Redis makes without a notification.
func (c *Ctx) SignalModified(key []byte) {
	if c.Env != nil && c.Env.Events != nil {
		c.Env.Events.KeyModified(c.DB.Index, key)
	}
}

// SignalDBModified is KeysModified for FLUSHDB (the client's database), FLUSHALL (db -1)
// and SWAPDB (each of the two databases).
func (c *Ctx) SignalDBModified(db int) {
	if c.Env != nil && c.Env.Events != nil {
		c.Env.Events.KeysModified(db)
	}
}
