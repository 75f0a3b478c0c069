package planner

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

// addArc adds an arc and its zero-capacity reverse, returning the arc's index.
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

// minCostFlow sends up to want units from source to sink by successive shortest paths. Each
// path is found with queue-based Bellman-Ford, which tolerates the negative costs of reverse
// arcs; the residual graph never has a negative cycle because every augmentation follows a
// shortest path. It returns the flow sent.
func (g *flowGraph) minCostFlow(source, sink, want int) int {
	n := len(g.head)
	dist := make([]placementCost, n)
	reached := make([]bool, n)
	queued := make([]bool, n)
	via := make([]int, n) // arc used to reach each node
	sent := 0
	for sent < want {
		for i := range reached {
			reached[i], queued[i], via[i] = false, false, -1
		}
		reached[source] = true
		dist[source] = placementCost{}
		queue := []int{source}
		queued[source] = true
		for len(queue) > 0 {
			u := queue[0]
			queue = queue[1:]
			queued[u] = false
			for a := g.head[u]; a >= 0; a = g.arcs[a].next {
				arc := &g.arcs[a]
				if arc.capacity == 0 {
					continue
				}
				d := dist[u].plus(arc.cost)
				if !reached[arc.to] || d.less(dist[arc.to]) {
					reached[arc.to] = true
					dist[arc.to] = d
					via[arc.to] = a
					if !queued[arc.to] {
						queued[arc.to] = true
						queue = append(queue, arc.to)
					}
				}
			}
		}
		if !reached[sink] {
			break
		}
		push := want - sent
		for v := sink; v != source; v = g.arcs[via[v]^1].to {
			push = min(push, g.arcs[via[v]].capacity)
		}
		for v := sink; v != source; v = g.arcs[via[v]^1].to {
			g.arcs[via[v]].capacity -= push
			g.arcs[via[v]^1].capacity += push
		}
		sent += push
	}
	return sent
}
