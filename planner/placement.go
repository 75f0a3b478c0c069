package planner

// placeReplicas decides which master each spare node replicates: it returns, for each spare
// node (indexes into the node list, in interleaved order), the index of its shard, giving
// shard i exactly capacity[i] replicas.
func placeReplicas(masters, spare []int, capacity []int, sites []site) []int {
	// Greedy first cut, as redis-cli's first pass: each master takes the first free node on
	// another host, or else the first free node.
	// redis-cli rotates the spare list by one first, which often helps.
	rotated := append(append([]int(nil), spare[1:]...), spare[0])
	assignment := make([]int, len(spare))
	used := make([]bool, len(spare))
	for shard, m := range masters {
		for k := 0; k < capacity[shard]; k++ {
			pick := -1
			for r := range rotated {
				j := (r + 1) % len(spare)
				if used[j] {
					continue
				}
				if pick < 0 {
					pick = j
				}
				if sites[spare[j]].host != sites[m].host {
					pick = j
					break
				}
			}
			used[pick] = true
			assignment[pick] = shard
		}
	}
	return assignment
}
