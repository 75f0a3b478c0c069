package command

import "github.com/clusterctl/clusterctl/node/keyspace"

const lookupNoTouch = keyspace.LookupNoTouch

// RegisterData adds the handlers of the data commands (strings, bitmaps, HyperLogLog,
// keys, databases) and of the connection and introspection commands that need no server
// state (PING, ECHO, SELECT, COMMAND).
func RegisterData(t *Table) {
	registerStrings(t)
	registerBitmaps(t)
	registerKeys(t)
	registerDatabases(t)
	registerIntrospection(t)
	registerLists(t)
	registerHashes(t)
	registerSets(t)
	registerZSets(t)
	registerStreams(t)
	registerSort(t)
	registerBlocking(t)
}
