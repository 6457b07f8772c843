package optimizer

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/fusionsim/fusionsim"
)

// deploymentKey is a canonical form of what a setup deploys: its strategies
// and, for remote rules, the function reached with an explicit size ("SYNC-A"
// and "SYNC-A-128" are the same). Setups with equal keys behave the same.
func deploymentKey(s *fusionsim.Setup) string {
	norm := func(r fusionsim.Rule) fusionsim.Rule {
		if r.IsLocal() {
			return fusionsim.Rule{Strategy: fusionsim.Local}
		}
		rt, err := r.Route()
		if err != nil {
			return r
		}
		f := rt.Function()
		rt.MemoryMB = f.MemoryMB
		return fusionsim.Rule{Strategy: r.Strategy, URL: rt.String()}
	}
	rules := make(fusionsim.Rules, len(s.Rules))
	for e, row := range s.Rules {
		m := make(map[string]fusionsim.RulePair, len(row))
		for t, p := range row {
			m[t] = fusionsim.RulePair{Sync: norm(p.Sync), Async: norm(p.Async)}
		}
		rules[e] = m
	}
	b, err := json.Marshal(rules)
	if err != nil {
		panic(err) // rules always marshal
	}
	return string(b)
}

// finishBest is the end of a search: the trial with the lowest median root
// billed duration (the prototype's criterion; the earliest wins ties),
// redeployed under name.
func finishBest(history []Trial, name fusionsim.TraceName, why string) (Decision, error) {
	bi, bm := Best(history)
	if bi < 0 {
		return Decision{Done: true, Reason: why + "; no setup has root invocations"}, nil
	}
	return Decision{
		Next: history[bi].Setup.Clone(name),
		Done: true,
		Reason: fmt.Sprintf("%s; redeploying setup %s, the lowest median root billed duration (%s ms)",
			why, history[bi].Name, strconv.FormatFloat(bm, 'f', -1, 64)),
	}, nil
}

// listSearch proposes the candidates of a fixed list one per iteration,
// skipping those already tried, until the list or the budget is exhausted.
type listSearch struct {
	name       string
	candidates func() ([]*fusionsim.Setup, []string, error) // setups and labels
	budget     int
	clock      Clock
	cache      []*fusionsim.Setup
	labels     []string
}

func (l *listSearch) next(ctx context.Context, history []Trial) (Decision, error) {
	if err := ctx.Err(); err != nil {
		return Decision{}, err
	}
	name, err := NewName(l.clock, history)
	if err != nil {
		return Decision{}, err
	}
	if l.cache == nil {
		c, labels, err := l.candidates()
		if err != nil {
			return Decision{}, err
		}
		if len(c) == 0 {
			return Decision{}, fmt.Errorf("%w: %s: no candidate setup", ErrConfig, l.name)
		}
		l.cache, l.labels = c, labels
	}
	if l.budget > 0 && len(history) >= l.budget {
		return finishBest(history, name, fmt.Sprintf("budget of %d iterations spent", l.budget))
	}
	tried := make(map[string]bool, len(history))
	for _, t := range history {
		if t.Setup != nil {
			tried[deploymentKey(t.Setup)] = true
		}
	}
	for i, c := range l.cache {
		if !tried[deploymentKey(c)] {
			s := c.Clone(name)
			return Decision{Next: s, Reason: fmt.Sprintf("candidate %d of %d: %s", i+1, len(l.cache), l.labels[i])}, nil
		}
	}
	return finishBest(history, name, fmt.Sprintf("all %d candidates tried", len(l.cache)))
}

// PartitionSearch is the IC2E strategy: one partition of the task set per
// iteration (Partitions: connected groups with one root each, the
// all-remote setup first, then by falling number of groups), every function
// at MemoryMB, then the partition with the lowest median root billed
// duration. MaxIterations bounds the search (0: every partition, 704 for
// IoT, 64 for split).
type PartitionSearch struct {
	App *fusionsim.App
	// MemoryMB is every function's size (0: the default size, urls without
	// size).
	MemoryMB      int
	MaxIterations int
	Clock         Clock
	list          listSearch
}

var _ Optimizer = (*PartitionSearch)(nil)

// Name is "partitions".
func (p *PartitionSearch) Name() string { return "partitions" }

// Next implements Optimizer.
func (p *PartitionSearch) Next(ctx context.Context, history []Trial) (Decision, error) {
	if p.App == nil {
		return Decision{}, fmt.Errorf("%w: partitions.App: nil", ErrConfig)
	}
	if p.MemoryMB != 0 {
		if err := validateSizes("partitions.MemoryMB", []int{p.MemoryMB}); err != nil {
			return Decision{}, err
		}
	}
	p.list.name, p.list.budget, p.list.clock = p.Name(), p.MaxIterations, p.Clock
	p.list.candidates = func() ([]*fusionsim.Setup, []string, error) {
		parts, err := Partitions(p.App)
		if err != nil {
			return nil, nil, err
		}
		var out []*fusionsim.Setup
		var labels []string
		for _, part := range parts {
			s := PartitionSetup(p.App, part, fusionsim.NewTraceName("p"))
			if p.MemoryMB != 0 {
				s = MemoryVariants(p.App, s, []int{p.MemoryMB}, false)[0]
			}
			out = append(out, s)
			labels = append(labels, "partition "+part.String())
		}
		return out, labels, nil
	}
	return p.list.next(ctx, history)
}

// ExhaustiveSearch deploys every setup of a Sweep (every rule setup at every
// memory size) one per iteration, then the one with the lowest median root
// billed duration. For a sweep in parallel with its Pareto front, use Sweep.
type ExhaustiveSearch struct {
	App               *fusionsim.App
	MemorySizesMB     []int
	PerFunctionMemory bool
	MaxIterations     int // 0: no bound but the sweep's size
	Clock             Clock
	list              listSearch
}

var _ Optimizer = (*ExhaustiveSearch)(nil)

// Name is "exhaustive".
func (e *ExhaustiveSearch) Name() string { return "exhaustive" }

// Next implements Optimizer.
func (e *ExhaustiveSearch) Next(ctx context.Context, history []Trial) (Decision, error) {
	e.list.name, e.list.budget, e.list.clock = e.Name(), e.MaxIterations, e.Clock
	e.list.candidates = func() ([]*fusionsim.Setup, []string, error) {
		sw := &Sweep{App: e.App, MemorySizesMB: e.MemorySizesMB, PerFunctionMemory: e.PerFunctionMemory}
		setups, _, _, err := sw.Setups()
		if err != nil {
			return nil, nil, err
		}
		labels := make([]string, len(setups))
		for i, s := range setups {
			labels[i] = Describe(e.App, s)
		}
		return setups, labels, nil
	}
	return e.list.next(ctx, history)
}

// RandomSearch deploys setups drawn at random, without repetition, from the
// sweep's set (every rule setup at every memory size, or every per-function
// combination), Budget of them, then the one with the lowest median root
// billed duration: the baseline a feedback optimizer should beat with the
// same number of iterations.
type RandomSearch struct {
	App               *fusionsim.App
	MemorySizesMB     []int
	PerFunctionMemory bool
	// Budget is the number of iterations (> 0).
	Budget int
	// Seed orders the draws.
	Seed  uint64
	Clock Clock
	list  listSearch
}

var _ Optimizer = (*RandomSearch)(nil)

// Name is "random".
func (r *RandomSearch) Name() string { return "random" }

// Next implements Optimizer.
func (r *RandomSearch) Next(ctx context.Context, history []Trial) (Decision, error) {
	if r.Budget <= 0 {
		return Decision{}, fmt.Errorf("%w: random.Budget: %d must be > 0", ErrConfig, r.Budget)
	}
	r.list.name, r.list.budget, r.list.clock = r.Name(), r.Budget, r.Clock
	r.list.candidates = func() ([]*fusionsim.Setup, []string, error) {
		sw := &Sweep{App: r.App, MemorySizesMB: r.MemorySizesMB, PerFunctionMemory: r.PerFunctionMemory}
		setups, _, _, err := sw.Setups()
		if err != nil {
			return nil, nil, err
		}
		rng := rand.New(rand.NewPCG(r.Seed, r.Seed^0x5851f42d4c957f2d))
		perm := rng.Perm(len(setups))
		n := min(r.Budget, len(setups))
		out := make([]*fusionsim.Setup, n)
		labels := make([]string, n)
		for i := range n {
			out[i] = setups[perm[i]]
			labels[i] = "random draw " + Describe(r.App, out[i])
		}
		return out, labels, nil
	}
	return r.list.next(ctx, history)
}
