package rdb

import (
	"bytes"
	"slices"
	"sort"
)

func sortBytes(s [][]byte) { slices.SortFunc(s, bytes.Compare) }

func sortFields(f []Field) {
	slices.SortFunc(f, func(a, b Field) int { return bytes.Compare(a.Name, b.Name) })
}

func sortZSet(z []ZMember) { slices.SortFunc(z, compareZMembers) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
