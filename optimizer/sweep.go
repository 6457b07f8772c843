package optimizer

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/fusionsim/fusionsim"
)

// DefaultMaxSetups bounds a sweep (Sweep.MaxSetups zero).
const DefaultMaxSetups = 200_000

// Sweep evaluates every rule setup of an application (RuleSetups) at every
// memory size of a list, in parallel, and finds the Pareto front of (median
// latency, cost per request). Each setup is evaluated with a seed derived
// from the base seed and its rules (SeedFor), on its own emulator, and the
// results are stored by position, so the outcome is the same whatever the
// number of workers.
type Sweep struct {
	App *fusionsim.App
	// MemorySizesMB are the sizes tried, in MB.
	MemorySizesMB []int
	// PerFunctionMemory tries every combination of sizes over the functions
	// of each rule setup instead of one size for all.
	PerFunctionMemory bool
	// MaxSetups refuses sweeps larger than this (0: DefaultMaxSetups).
	MaxSetups int
	// Workers evaluate setups in parallel (0: runtime.NumCPU()).
	Workers int
	// Seed is the base seed.
	Seed uint64
	// Evaluator measures one setup.
	Evaluator Evaluator
	// Progress, if set, is called after each evaluation with the count done
	// and the total, from the worker goroutines one at a time.
	Progress func(done, total int)
	// Kept, if set, gives the figures of setup i (in Setups' order) kept
	// from an earlier, interrupted run: it is not evaluated again.
	Kept func(i int) (Metrics, bool)
	// Finished, if set, is called with every setup evaluated (not those
	// Kept gave), from the worker goroutines one at a time: the place to
	// keep them.
	Finished func(i int, m Metrics)
}

// SweepResult is what a sweep found.
type SweepResult struct {
	// Assignments is the number of local/remote assignments of the call
	// edges; RuleSetups the distinct rule setups they give.
	Assignments, RuleSetups int
	// Points are every evaluated setup, in enumeration order (rule setup,
	// then memory).
	Points []Point
	// Front is the Pareto front of Points, fastest first.
	Front []Point
}

// Setups lists the setups of the sweep in enumeration order, named
// "sweep<i>" by position, with the number of assignments and rule setups.
func (s *Sweep) Setups() ([]*fusionsim.Setup, int, int, error) {
	if s.App == nil {
		return nil, 0, 0, fmt.Errorf("%w: sweep.App: nil", ErrConfig)
	}
	if err := validateSizes("sweep.MemorySizesMB", s.MemorySizesMB); err != nil {
		return nil, 0, 0, err
	}
	rules, assignments, err := RuleSetups(s.App)
	if err != nil {
		return nil, 0, 0, err
	}
	limit := s.MaxSetups
	if limit == 0 {
		limit = DefaultMaxSetups
	}
	// Count first: per-function sweeps grow as sizes^functions.
	total := 0
	for _, r := range rules {
		n := len(s.MemorySizesMB)
		if s.PerFunctionMemory {
			n = 1
			for range Layout(s.App, r) {
				n *= len(s.MemorySizesMB)
				if n > limit {
					break
				}
			}
		}
		total += n
		if total > limit {
			what := fmt.Sprintf("%d rule setups x %d memory sizes", len(rules), len(s.MemorySizesMB))
			if s.PerFunctionMemory {
				what = fmt.Sprintf("%d rule setups, each function at each of %d memory sizes", len(rules), len(s.MemorySizesMB))
			}
			return nil, 0, 0, fmt.Errorf("%w: sweep of %s: %s is more than %d setups", ErrConfig, s.App.Name, what, limit)
		}
	}
	out := make([]*fusionsim.Setup, 0, total)
	for _, r := range rules {
		for _, v := range MemoryVariants(s.App, r, s.MemorySizesMB, s.PerFunctionMemory) {
			v.TraceName = fusionsim.NewTraceName("sweep" + strconv.Itoa(len(out)))
			out = append(out, v)
		}
	}
	return out, assignments, len(rules), nil
}

// Run evaluates every setup and returns the points and the front. It stops
// at the first error (naming the setup) or when ctx is done.
func (s *Sweep) Run(ctx context.Context) (*SweepResult, error) {
	if s.Evaluator == nil {
		return nil, fmt.Errorf("%w: sweep.Evaluator: nil", ErrConfig)
	}
	setups, assignments, rules, err := s.Setups()
	if err != nil {
		return nil, err
	}
	points := make([]Point, len(setups))
	var todo []int
	for i, su := range setups {
		points[i] = Point{Setup: su, Label: Describe(s.App, su)}
		if s.Kept != nil {
			if m, ok := s.Kept(i); ok {
				points[i].Metrics = m
				continue
			}
		}
		todo = append(todo, i)
	}
	var mu sync.Mutex
	done := len(setups) - len(todo)
	err = ForEach(ctx, len(todo), s.Workers, func(ctx context.Context, k int) error {
		i := todo[k]
		su := setups[i]
		m, err := s.Evaluator.Evaluate(ctx, su, SeedFor(s.Seed, su))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("sweep: setup %s (%s): %w", su.Name(), points[i].Label, err)
		}
		mu.Lock()
		defer mu.Unlock()
		points[i].Metrics = m
		if s.Finished != nil {
			s.Finished(i, m)
		}
		done++
		if s.Progress != nil {
			s.Progress(done, len(setups))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &SweepResult{Assignments: assignments, RuleSetups: rules, Points: points, Front: ParetoFront(points)}, nil
}
