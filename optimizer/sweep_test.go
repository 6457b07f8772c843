package optimizer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"strconv"
	"testing"

	"github.com/fusionsim/fusionsim"
)

// A deterministic analytic platform for the property test: task t runs
// work[t] ms at full speed; a function at mb MB runs at min(mb, 1769)/1769
// of full speed; a remote sync call costs syncMs on top of the callee's time,
// a remote async call ackMs; local async calls are awaited (the prototype
// awaited every promise). Cost is billed ms x MB summed over invocations.
const (
	syncMs = 40.0
	ackMs  = 15.0
)

type graph struct {
	app  *fusionsim.App
	work map[string]float64
}

// randomGraph makes an app of n tasks T0..Tn-1 (entry T0): a random DAG in
// which every task but the entry has at least one caller, with random
// sync/async edges.
func randomGraph(rng *rand.Rand, n int) graph {
	g := graph{app: &fusionsim.App{Name: "g", Entry: "T0", Tasks: map[string]fusionsim.Task{}}, work: map[string]float64{}}
	name := func(i int) string { return "T" + strconv.Itoa(i) }
	for i := 0; i < n; i++ {
		g.app.Tasks[name(i)] = func(fusionsim.Context, fusionsim.Event) (fusionsim.Event, error) { return nil, nil }
		g.work[name(i)] = float64(1 + rng.IntN(300))
	}
	for j := 1; j < n; j++ {
		callers := []int{rng.IntN(j)}
		for i := 0; i < j; i++ {
			if i != callers[0] && rng.IntN(4) == 0 {
				callers = append(callers, i)
			}
		}
		for _, i := range callers {
			g.app.Edges = append(g.app.Edges, fusionsim.Edge{Caller: name(i), Called: name(j), Sync: rng.IntN(2) == 0})
		}
	}
	return g
}

func speed(mb int) float64 { return math.Min(float64(mb), 1769) / 1769 }

// ruleEvaluator evaluates a setup from its rule table.
type ruleEvaluator struct{ g graph }

func (e ruleEvaluator) Evaluate(_ context.Context, s *fusionsim.Setup, _ uint64) (Metrics, error) {
	var cost float64
	var run func(fn string, mb int, task string) float64
	run = func(fn string, mb int, task string) float64 {
		t := e.g.work[task] / speed(mb)
		for _, ed := range e.g.app.Edges {
			if ed.Caller != task {
				continue
			}
			r, ok := s.Rule(fn, ed.Called, ed.Sync)
			if !ok {
				return math.NaN()
			}
			switch {
			case r.IsLocal():
				t += run(fn, mb, ed.Called)
			default:
				rt, err := r.Route()
				if err != nil {
					return math.NaN()
				}
				callee := rt.Function()
				d := run(callee.Task, callee.MemoryMB, callee.Task)
				cost += math.Ceil(d) * float64(callee.MemoryMB)
				if ed.Sync {
					t += syncMs + d
				} else {
					t += ackMs
				}
			}
		}
		return t
	}
	entry := EntryRoute(s, e.g.app.Entry).Function()
	lat := run(entry.Task, entry.MemoryMB, entry.Task)
	cost += math.Ceil(lat) * float64(entry.MemoryMB)
	return Metrics{Requests: 1, Invocations: 1, MedianLatencyMs: lat, P95LatencyMs: lat, CostPerRequestUSD: cost, MedianRootBilledMs: math.Ceil(lat)}, nil
}

// bruteForce evaluates every local/remote assignment of the edges directly
// from the bits, at every uniform memory size, without rule tables: a
// function holds its entry and every task reached by local edges; in it, a
// call of a given type to a task runs local when any edge of that type to
// that task from a task of the function is local (one rule per (function,
// task, type)).
func bruteForce(g graph, sizes []int) []Point {
	edges := g.app.Edges
	var out []Point
	for a := 0; a < 1<<len(edges); a++ {
		local := func(i int) bool { return a&(1<<i) != 0 }
		for _, mb := range sizes {
			var cost float64
			var run func(fn, task string, members map[string]bool) float64
			members := func(fn string) map[string]bool {
				m := map[string]bool{fn: true}
				for changed := true; changed; {
					changed = false
					for i, ed := range edges {
						if m[ed.Caller] && local(i) && !m[ed.Called] {
							m[ed.Called] = true
							changed = true
						}
					}
				}
				return m
			}
			runsLocal := func(m map[string]bool, called string, sync bool) bool {
				for i, ed := range edges {
					if m[ed.Caller] && ed.Called == called && ed.Sync == sync && local(i) {
						return true
					}
				}
				return false
			}
			run = func(fn, task string, m map[string]bool) float64 {
				t := g.work[task] / speed(mb)
				for _, ed := range edges {
					if ed.Caller != task {
						continue
					}
					if runsLocal(m, ed.Called, ed.Sync) {
						t += run(fn, ed.Called, m)
						continue
					}
					d := run(ed.Called, ed.Called, members(ed.Called))
					cost += math.Ceil(d) * float64(mb)
					if ed.Sync {
						t += syncMs + d
					} else {
						t += ackMs
					}
				}
				return t
			}
			lat := run(g.app.Entry, g.app.Entry, members(g.app.Entry))
			cost += math.Ceil(lat) * float64(mb)
			out = append(out, Point{Label: fmt.Sprintf("assignment %b @%d", a, mb), Metrics: Metrics{Requests: 1, MedianLatencyMs: lat, CostPerRequestUSD: cost}})
		}
	}
	return out
}

// bestOf is the fastest point, the cheaper one on a tie.
func bestOf(ps []Point) Point {
	b := ps[0]
	for _, p := range ps[1:] {
		if p.MedianLatencyMs < b.MedianLatencyMs || p.MedianLatencyMs == b.MedianLatencyMs && p.CostPerRequestUSD < b.CostPerRequestUSD {
			b = p
		}
	}
	return b
}

// frontValues lists the distinct (latency, cost) pairs of a front.
func frontValues(ps []Point) [][2]float64 {
	seen := map[[2]float64]bool{}
	var out [][2]float64
	for _, p := range ps {
		v := [2]float64{p.MedianLatencyMs, p.CostPerRequestUSD}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] || out[i][0] == out[j][0] && out[i][1] < out[j][1] })
	return out
}

// TestSweepMatchesBruteForce is the property test: on random task graphs of
// 3 to 5 tasks, the parallel sweep over rule setups finds the same best
// setup and the same Pareto front as a brute force over edge assignments
// written independently here, and the same points with 1 and 3 workers.
func TestSweepMatchesBruteForce(t *testing.T) {
	sizes := []int{128, 1024, 2048}
	for seed := uint64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		g := randomGraph(rng, 3+rng.IntN(3))
		sw := &Sweep{App: g.app, MemorySizesMB: sizes, Seed: seed, Evaluator: ruleEvaluator{g}, Workers: 3}
		res, err := sw.Run(context.Background())
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		brute := bruteForce(g, sizes)
		got, want := bestOf(res.Points), bestOf(brute)
		if got.MedianLatencyMs != want.MedianLatencyMs || got.CostPerRequestUSD != want.CostPerRequestUSD {
			t.Errorf("seed %d, edges %v: sweep's best %s (%.2f ms, %.0f) != brute force's %s (%.2f ms, %.0f)",
				seed, g.app.Edges, got.Label, got.MedianLatencyMs, got.CostPerRequestUSD, want.Label, want.MedianLatencyMs, want.CostPerRequestUSD)
		}
		if gf, bf := frontValues(res.Front), frontValues(ParetoFront(brute)); !reflect.DeepEqual(gf, bf) {
			t.Errorf("seed %d, edges %v: fronts differ\nsweep %v\nbrute %v", seed, g.app.Edges, gf, bf)
		}
		sw.Workers = 1
		res1, err := sw.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i := range res.Points {
			if res.Points[i].Label != res1.Points[i].Label || res.Points[i].Metrics != res1.Points[i].Metrics {
				t.Fatalf("seed %d: point %d differs with 1 worker: %+v vs %+v", seed, i, res.Points[i], res1.Points[i])
			}
		}
		if res.Assignments != 1<<len(g.app.Edges) || res.RuleSetups > res.Assignments || len(res.Points) != res.RuleSetups*len(sizes) {
			t.Errorf("seed %d: %d assignments, %d rule setups, %d points", seed, res.Assignments, res.RuleSetups, len(res.Points))
		}
	}
}
