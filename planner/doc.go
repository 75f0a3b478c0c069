// Package planner holds the pure algorithms behind clusterctl's admin commands: where nodes go
// when a cluster is created (host interleaving, redis-cli's slot ranges, replica placement
// with optimal anti-affinity), which slots a reshard or a rebalance moves, how fix covers
// slots and picks owners, and which master a new replica joins.
//
// Every function is pure and deterministic: no I/O, no clock, no randomness, and the same
// input always yields the same plan; where several answers are equally good, ties are broken
// by address (then ID) order. Where redis-cli defines an outcome (slot ranges, the reshard
// table, rebalance arithmetic) the planner reproduces it exactly, single-precision floats
// included; where redis-cli is random (replica placement, covering uncovered slots) the
// planner is exact or even instead.
//
// Replica placement is optimal, not merely improved: it is solved as a min-cost flow whose
// arc costs are convex in the number of replicas sharing a zone or host and are compared as
// lexicographic vectors (zone with master, zone with sibling, host with master, host with
// sibling), so the flow's optimum is the placement's optimum (see placement.go). Tests check
// it against brute force on every small random topology they generate.
package planner
