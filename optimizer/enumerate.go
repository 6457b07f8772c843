package optimizer

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/workloads"
)

// MaxEdges bounds the call edges RuleSetups enumerates (2^MaxEdges
// assignments).
const MaxEdges = 20

// FromAssignment builds the rule setup in which call edge i of app runs
// in-process when local[i] is true and remotely otherwise. Starting from the
// all-remote base (AllRemote, urls without size), each function reached from
// the entry task gets, in its row, the rules of the edges its tasks make: a
// function holds its entry task and every task reached from it by local
// edges, and a remote edge makes the called task a function of its own. A
// rule table is keyed by the function's entry task, so when two tasks of one
// function call the same task with the same call type and the edges
// disagree, the call runs local (such assignments give the same setup as
// another one and are deduplicated by RuleSetups).
func FromAssignment(app *fusionsim.App, local []bool, name fusionsim.TraceName) *fusionsim.Setup {
	s := AllRemote(app.TaskNames(), name)
	out := map[string][]int{}
	for i, e := range app.Edges {
		out[e.Caller] = append(out[e.Caller], i)
	}
	done := map[string]bool{}
	var queue []string
	for _, e := range app.EntryTasks() {
		if !done[e] {
			done[e] = true
			queue = append(queue, e)
		}
	}
	for len(queue) > 0 {
		fn := queue[0]
		queue = queue[1:]
		row := s.Rules[fn]
		in := map[string]bool{fn: true}
		tasks := []string{fn}
		for k := 0; k < len(tasks); k++ {
			for _, i := range out[tasks[k]] {
				e := app.Edges[i]
				if !local[i] {
					continue
				}
				p := row[e.Called]
				if e.Sync {
					p.Sync = fusionsim.Rule{Strategy: fusionsim.Local}
				} else {
					p.Async = fusionsim.Rule{Strategy: fusionsim.Local}
				}
				row[e.Called] = p
				if !in[e.Called] {
					in[e.Called] = true
					tasks = append(tasks, e.Called)
				}
			}
		}
		// The calls whose rule in this row stayed remote reach functions of
		// their own.
		for _, t := range tasks {
			for _, i := range out[t] {
				e := app.Edges[i]
				if !row[e.Called].For(e.Sync).IsLocal() && !done[e.Called] {
					done[e.Called] = true
					queue = append(queue, e.Called)
				}
			}
		}
	}
	return s
}

// RuleSetups returns every distinct rule setup of app's call edges (2^edges
// local/remote assignments, deduplicated, first assignment first: bit i of
// the assignment number set = edge i local) with urls at the default size,
// and the number of assignments.
func RuleSetups(app *fusionsim.App) ([]*fusionsim.Setup, int, error) {
	n := len(app.Edges)
	if n > MaxEdges {
		return nil, 0, fmt.Errorf("%w: %s has %d call edges; at most %d can be enumerated (2^%d setups)", ErrConfig, app.Name, n, MaxEdges, MaxEdges)
	}
	seen := map[string]bool{}
	var out []*fusionsim.Setup
	local := make([]bool, n)
	for a := 0; a < 1<<n; a++ {
		for i := range local {
			local[i] = a&(1<<i) != 0
		}
		s := FromAssignment(app, local, fusionsim.NewTraceName("x"))
		k := rulesKey(s)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, s)
	}
	return out, 1 << n, nil
}

// rulesKey is a canonical form of a setup's rules (JSON with sorted keys).
func rulesKey(s *fusionsim.Setup) string {
	b, err := json.Marshal(s.Rules)
	if err != nil {
		panic(err) // rules always marshal
	}
	return string(b)
}

// SeedFor derives the seed of one setup's evaluation from the base seed and
// the setup's rules (not its name or position), so that a sweep gives the
// same figures whatever the order or number of workers.
func SeedFor(base uint64, s *fusionsim.Setup) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(base >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(deploymentKey(s)))
	// splitmix64 finaliser: spread FNV's low-entropy high bits.
	z := h.Sum64() + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// MemoryVariants returns s at every memory assignment of its functions (the
// groups Layout finds): each function at each size of sizes when
// perFunction, else all functions at the same size, in the order of sizes.
// Rules reaching a function get an explicit size.
func MemoryVariants(app *fusionsim.App, s *fusionsim.Setup, sizes []int, perFunction bool) []*fusionsim.Setup {
	groups := Layout(app, s)
	var out []*fusionsim.Setup
	if !perFunction {
		for _, mb := range sizes {
			m := make(map[string]int, len(groups))
			for _, g := range groups {
				m[g.Entry] = mb
			}
			out = append(out, withMemory(s, m, s.TraceName))
		}
		return out
	}
	idx := make([]int, len(groups))
	for {
		m := make(map[string]int, len(groups))
		for i, g := range groups {
			m[g.Entry] = sizes[idx[i]]
		}
		out = append(out, withMemory(s, m, s.TraceName))
		i := len(idx) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(sizes) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return out
		}
	}
}

// Partition is a grouping of the tasks: each group runs as one function
// whose entry task is the group's root.
type Partition [][]string

// String is the IC2E notation: groups joined by ",", the tasks of a group by
// ".", both sorted (A.B.D.E,C,F,G).
func (p Partition) String() string {
	parts := make([]string, len(p))
	for i, g := range p {
		t := append([]string(nil), g...)
		sort.Strings(t)
		parts[i] = strings.Join(t, ".")
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// Partitions enumerates the partitions of app's tasks reachable from its
// entry whose groups are connected through calls with a single root: every
// task but the entry either starts its own group or joins the group of one
// of its callers. Grouping tasks that never call each other changes no call
// from remote to local, so it only duplicates code; this bound takes IoT
// from Bell(10) = 115,975 partitions to 704. They are ordered by the number
// of groups, most first (the all-remote setup first), then by String.
func Partitions(app *fusionsim.App) ([]Partition, error) {
	tasks := workloads.Reachable(app)
	callers := map[string][]string{}
	for _, e := range app.Edges {
		if e.Caller == e.Called {
			continue
		}
		if !contains(callers[e.Called], e.Caller) {
			callers[e.Called] = append(callers[e.Called], e.Caller)
		}
	}
	var free []string // tasks that may join a caller's group
	for _, t := range tasks {
		if !app.IsEntry(t) && len(callers[t]) > 0 {
			free = append(free, t)
		}
	}
	total := 1
	for _, t := range free {
		total *= len(callers[t]) + 1
		if total > 1_000_000 {
			return nil, fmt.Errorf("%w: %s has more than 1,000,000 connected partitions", ErrConfig, app.Name)
		}
	}
	seen := map[string]bool{}
	var out []Partition
	choice := make([]int, len(free)) // 0: own group, k: join callers[t][k-1]
	for {
		parent := map[string]string{}
		for i, t := range free {
			if choice[i] > 0 {
				parent[t] = callers[t][choice[i]-1]
			}
		}
		if p, ok := partitionOf(tasks, parent); ok {
			if k := p.String(); !seen[k] {
				seen[k] = true
				out = append(out, p)
			}
		}
		i := len(choice) - 1
		for ; i >= 0; i-- {
			choice[i]++
			if choice[i] <= len(callers[free[i]]) {
				break
			}
			choice[i] = 0
		}
		if i < 0 {
			break
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i].String() < out[j].String()
	})
	return out, nil
}

// partitionOf groups tasks by following parent links to a root; ok is false
// when the links make a cycle (no root).
func partitionOf(tasks []string, parent map[string]string) (Partition, bool) {
	root := map[string]string{}
	var find func(t string, depth int) (string, bool)
	find = func(t string, depth int) (string, bool) {
		if depth > len(tasks) {
			return "", false
		}
		p, ok := parent[t]
		if !ok {
			return t, true
		}
		return find(p, depth+1)
	}
	index := map[string]int{}
	var p Partition
	for _, t := range tasks {
		r, ok := find(t, 0)
		if !ok {
			return nil, false
		}
		root[t] = r
	}
	for _, t := range tasks {
		if root[t] == t {
			index[t] = len(p)
			p = append(p, []string{t})
		}
	}
	for _, t := range tasks {
		if root[t] != t {
			i := index[root[t]]
			p[i] = append(p[i], t)
		}
	}
	return p, true
}

// PartitionSetup is the rule setup of a partition: in the row of every task,
// calls to tasks of its own group are local, all others remote (urls
// without size). A task's function thus holds its group's tasks reachable
// from it.
func PartitionSetup(app *fusionsim.App, p Partition, name fusionsim.TraceName) *fusionsim.Setup {
	s := AllRemote(app.TaskNames(), name)
	group := map[string]int{}
	for i, g := range p {
		for _, t := range g {
			group[t] = i
		}
	}
	for _, e := range app.Edges {
		for fn := range s.Rules {
			gf, ok1 := group[fn]
			gc, ok2 := group[e.Called]
			gr, ok3 := group[e.Caller]
			if !ok1 || !ok2 || !ok3 || gf != gc || gf != gr || e.Called == fn {
				continue
			}
			setLocal(s.Rules[fn], e)
		}
	}
	return s
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}
