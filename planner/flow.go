package planner

import "container/heap"

// flowGraph is a residual graph for min-cost flow with lexicographic vector costs. Arcs are
// stored in pairs: arc i and its reverse i^1.
type flowGraph struct {
	head []int // first arc leaving each node, -1 for none
	arcs []flowArc
}

type flowArc struct {
	to, next int
	capacity int // residual capacity
	cost     placementCost
}

func newFlowGraph() *flowGraph { return &flowGraph{} }

func (g *flowGraph) addNode() int {
	g.head = append(g.head, -1)
	return len(g.head) - 1
}

// addArc adds an arc of non-negative cost and its zero-capacity reverse, returning the arc's
// index.
func (g *flowGraph) addArc(from, to, capacity int, cost placementCost) int {
	var zero placementCost
	g.arcs = append(g.arcs,
		flowArc{to: to, next: g.head[from], capacity: capacity, cost: cost},
		flowArc{to: from, next: g.head[to], capacity: 0, cost: zero.minus(cost)})
	g.head[from] = len(g.arcs) - 2
	g.head[to] = len(g.arcs) - 1
	return len(g.arcs) - 2
}

// flow is the flow an arc carries: its reverse arc's residual capacity.
func (g *flowGraph) flow(arc int) int { return g.arcs[arc^1].capacity }

// minCostFlow sends up to want units from source to sink at least cost, by the primal-dual
// method: each phase runs Dijkstra on costs reduced by node potentials (never negative, since
// every arc cost is), raises the potentials by the distances so that the arcs on shortest
// paths cost exactly zero, then pushes a maximum flow (Dinic) through those zero-cost arcs
// only. Every unit thus travels a shortest path, which is the successive-shortest-path
// optimality argument, but a phase carries every path of one length at once, so the number
// of phases is the number of distinct path costs, not the number of units. It returns the
// flow sent.
func (g *flowGraph) minCostFlow(source, sink, want int) int {
	n := len(g.head)
	potential := make([]placementCost, n)
	dist := make([]placementCost, n)
	reached := make([]bool, n)
	level := make([]int, n)
	next := make([]int, n)
	reduced := func(u int, a *flowArc) placementCost {
		return a.cost.plus(potential[u]).minus(potential[a.to])
	}
	sent := 0
	for sent < want {
		// Dijkstra on reduced costs.
		for i := range reached {
			reached[i] = false
		}
		done := make([]bool, n)
		dist[source] = placementCost{}
		reached[source] = true
		pq := &costHeap{{node: source}}
		for pq.Len() > 0 {
			item := heap.Pop(pq).(costItem)
			u := item.node
			if done[u] || item.cost != dist[u] {
				continue
			}
			done[u] = true
			for a := g.head[u]; a >= 0; a = g.arcs[a].next {
				arc := &g.arcs[a]
				if arc.capacity == 0 || done[arc.to] {
					continue
				}
				d := dist[u].plus(reduced(u, arc))
				if !reached[arc.to] || d.less(dist[arc.to]) {
					reached[arc.to] = true
					dist[arc.to] = d
					heap.Push(pq, costItem{cost: d, node: arc.to})
				}
			}
		}
		if !reached[sink] {
			break
		}
		for v := range potential {
			d := dist[sink]
			if reached[v] && dist[v].less(d) {
				d = dist[v]
			}
			potential[v] = potential[v].plus(d)
		}
		// Dinic on the arcs whose reduced cost is now zero.
		admissible := func(u int, a *flowArc) bool {
			return a.capacity > 0 && reduced(u, a) == placementCost{}
		}
		for sent < want {
			for i := range level {
				level[i] = -1
			}
			level[source] = 0
			queue := []int{source}
			for len(queue) > 0 {
				u := queue[0]
				queue = queue[1:]
				for a := g.head[u]; a >= 0; a = g.arcs[a].next {
					arc := &g.arcs[a]
					if level[arc.to] < 0 && admissible(u, arc) {
						level[arc.to] = level[u] + 1
						queue = append(queue, arc.to)
					}
				}
			}
			if level[sink] < 0 {
				break
			}
			copy(next, g.head)
			var push func(u, limit int) int
			push = func(u, limit int) int {
				if u == sink {
					return limit
				}
				for ; next[u] >= 0; next[u] = g.arcs[next[u]].next {
					a := next[u]
					arc := &g.arcs[a]
					if level[arc.to] != level[u]+1 || !admissible(u, arc) {
						continue
					}
					if pushed := push(arc.to, min(limit, arc.capacity)); pushed > 0 {
						g.arcs[a].capacity -= pushed
						g.arcs[a^1].capacity += pushed
						return pushed
					}
				}
				return 0
			}
			for sent < want {
				pushed := push(source, want-sent)
				if pushed == 0 {
					break
				}
				sent += pushed
			}
		}
	}
	return sent
}

// costItem and costHeap make Dijkstra's priority queue.
type costItem struct {
	cost placementCost
	node int
}

type costHeap []costItem

func (h costHeap) Len() int           { return len(h) }
func (h costHeap) Less(i, j int) bool { return h[i].cost.less(h[j].cost) }
func (h costHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *costHeap) Push(x any)        { *h = append(*h, x.(costItem)) }
func (h *costHeap) Pop() any {
	old := *h
	item := old[len(old)-1]
	*h = old[:len(old)-1]
	return item
}
