package zset

import (
	"math/rand/v2"
	"unsafe"
)

// The skiplist follows Redis's zskiplist (t_zset.c, after Pugh's paper): nodes ordered by
// score then member bytes, a backward pointer on level 0 for reverse walks, and on each
// level the span, the number of level-0 steps a forward link jumps, so that ranks are
// found in O(log N).
const (
	maxLevel    = 32   // ZSKIPLIST_MAXLEVEL
	levelChance = 0.25 // ZSKIPLIST_P
)

type link struct {
	forward *node
	span    int
}

type node struct {
	member   string
	score    float64
	backward *node
	level    []link
}

// A search visits a dozen or more nodes scattered over the heap. Redis allocates a node's
// level array inside the node; a Go slice would be a second allocation, and the member a
// third, so each visited node would cost three cache (and TLB) misses instead of one.
// newNode therefore allocates the common heights (1 to 4 levels: 99.6% of nodes with
// ZSKIPLIST_P 0.25) with their links and a short member in the same object.
const inlineMember = 24

type node1 struct {
	node
	links [1]link
	short [inlineMember]byte
}

type node2 struct {
	node
	links [2]link
	short [inlineMember]byte
}

type node3 struct {
	node
	links [3]link
	short [inlineMember]byte
}

type node4 struct {
	node
	links [4]link
	short [inlineMember]byte
}

func newNode(level int, score float64, member string) *node {
	var n *node
	var links []link
	var short []byte
	switch level {
	case 1:
		x := &node1{}
		n, links, short = &x.node, x.links[:], x.short[:]
	case 2:
		x := &node2{}
		n, links, short = &x.node, x.links[:], x.short[:]
	case 3:
		x := &node3{}
		n, links, short = &x.node, x.links[:], x.short[:]
	case 4:
		x := &node4{}
		n, links, short = &x.node, x.links[:], x.short[:]
	default:
		n, links = &node{}, make([]link, level)
	}
	n.level, n.score, n.member = links, score, member
	if len(member) > 0 && len(member) <= len(short) {
		copy(short, member)
		n.member = unsafe.String(&short[0], len(member))
	}
	return n
}

type skiplist struct {
	header *node
	tail   *node
	length int
	level  int
}

func newSkiplist() *skiplist {
	return &skiplist{header: &node{level: make([]link, maxLevel)}, level: 1}
}

func randomLevel() int {
	level := 1
	for level < maxLevel && rand.Float64() < levelChance {
		level++
	}
	return level
}

// less reports whether (score, member) sorts before node n.
func less(score float64, member string, n *node) bool {
	return n.score < score || (n.score == score && n.member < member)
}

// insert adds a member that is not present yet and returns its node.
func (sl *skiplist) insert(score float64, member string) *node {
	n := newNode(randomLevel(), score, member)
	sl.link(n)
	return n
}

// link puts node n, whose score, member and height are set and which is in no list, at
// its place.
func (sl *skiplist) link(n *node) {
	score, member := n.score, n.member
	var update [maxLevel]*node
	var rank [maxLevel]int
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		if i < sl.level-1 {
			rank[i] = rank[i+1]
		}
		for f := x.level[i].forward; f != nil && less(score, member, f); f = x.level[i].forward {
			rank[i] += x.level[i].span
			x = f
		}
		update[i] = x
	}
	level := len(n.level)
	if level > sl.level {
		for i := sl.level; i < level; i++ {
			rank[i] = 0
			update[i] = sl.header
			update[i].level[i].span = sl.length
		}
		sl.level = level
	}
	for i := 0; i < level; i++ {
		n.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = n
		n.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := level; i < sl.level; i++ {
		update[i].level[i].span++
	}
	n.backward = nil
	if update[0] != sl.header {
		n.backward = update[0]
	}
	if n.level[0].forward != nil {
		n.level[0].forward.backward = n
	} else {
		sl.tail = n
	}
	sl.length++
}

// unlink removes x given, per level, the last node before it.
func (sl *skiplist) unlink(x *node, update *[maxLevel]*node) {
	for i := 0; i < sl.level; i++ {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
		} else {
			update[i].level[i].span--
		}
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x.backward
	} else {
		sl.tail = x.backward
	}
	for sl.level > 1 && sl.header.level[sl.level-1].forward == nil {
		sl.level--
	}
	sl.length--
}

// delete removes the node with exactly this score and member and reports whether it
// existed.
func (sl *skiplist) delete(score float64, member string) bool {
	var update [maxLevel]*node
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && less(score, member, f); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	x = x.level[0].forward
	if x != nil && x.score == score && x.member == member {
		sl.unlink(x, &update)
		return true
	}
	return false
}

// updateScore moves node x, found through the set's dictionary, to a new score: in place
// when its neighbours allow, as zslUpdateScore does, which needs no search since the
// neighbours are x's own links. Otherwise x is unlinked and linked again at its new place:
// Redis frees the node and allocates another, but keeping it spares an allocation and
// keeps the set's nodes where they are in memory, and its height is as random as a new
// one's.
func (sl *skiplist) updateScore(x *node, score float64) {
	if (x.backward == nil || x.backward.score < score) &&
		(x.level[0].forward == nil || x.level[0].forward.score > score) {
		x.score = score
		return
	}
	var update [maxLevel]*node
	p := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := p.level[i].forward; f != nil && less(x.score, x.member, f); f = p.level[i].forward {
			p = f
		}
		update[i] = p
	}
	sl.unlink(x, &update)
	x.score = score
	sl.link(x)
}

// rank returns the 1-based rank of an element known to be present.
func (sl *skiplist) rank(score float64, member string) int {
	r := 0
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && (f.score < score || (f.score == score && f.member <= member)); f = x.level[i].forward {
			r += x.level[i].span
			x = f
		}
		if x.member == member && x != sl.header {
			return r
		}
	}
	return 0
}

// byRank returns the node at 1-based rank r, or nil.
func (sl *skiplist) byRank(r int) *node {
	traversed := 0
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= r {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		if traversed == r {
			return x
		}
	}
	return nil
}

// firstWhere returns the first node for which past (monotonic over the order: false
// then true) holds, with its 1-based rank, or nil.
func (sl *skiplist) firstWhere(past func(*node) bool) (*node, int) {
	r := 0
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && !past(f); f = x.level[i].forward {
			r += x.level[i].span
			x = f
		}
	}
	if x.level[0].forward == nil {
		return nil, 0
	}
	return x.level[0].forward, r + 1
}

// lastWhere returns the last node for which within (monotonic: true then false) holds,
// with its 1-based rank, or nil.
func (sl *skiplist) lastWhere(within func(*node) bool) (*node, int) {
	r := 0
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && within(f); f = x.level[i].forward {
			r += x.level[i].span
			x = f
		}
	}
	if x == sl.header {
		return nil, 0
	}
	return x, r
}
