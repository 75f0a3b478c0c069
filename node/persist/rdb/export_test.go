package rdb

// Test helpers shared with the external test package (which can import rdbtest without
// an import cycle).
var (
	SampleValues = sampleValues
	SortedKeys   = sortedKeys[Value]
)

// LegacyFile is legacyFile for the integration tests.
var LegacyFile = legacyFile
