package sweep

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/fusionsim/fusionsim/optimizer"
)

// ErrInterrupted is returned by Runner.Run when its context ends before
// every cell is done; the finished ones are in the journal.
var ErrInterrupted = errors.New("interrupted")

// Runner evaluates the cells of one shard of a plan.
type Runner struct {
	Plan  *Plan
	Shard Shard
	// Evaluator returns the evaluator of a (load, profile) pair (indices of
	// Spec.Loads and Spec.Profiles); NewEvaluators makes the emulator's.
	Evaluator func(load, profile int) optimizer.Evaluator
	// Workers evaluate cells in parallel (0: the number of CPUs).
	Workers int
	// Dedup evaluates cells that deploy the same functions under the same
	// seed, load and profile once: their figures are the same.
	Dedup bool
	// Journal keeps the finished cells (nil: nothing is kept).
	Journal *Journal
	// CheckpointEvery and CheckpointCells flush the journal when this much
	// wall time has passed or this many cells are pending (0: 2 s, 5,000).
	CheckpointEvery time.Duration
	CheckpointCells int
	// Now is the wall clock of checkpoints (nil: time.Now).
	Now func() time.Time
	// Progress, if set, is called with the shard's cells done and its total,
	// one call at a time.
	Progress func(done, total int)
}

// Outcome is what a run of a shard did.
type Outcome struct {
	// Cells are the figures of every cell of the shard, by index.
	Cells map[int]optimizer.Metrics
	// ShardCells counts the shard's cells; Kept those the journal had;
	// Evaluations the evaluations run (fewer than the cells evaluated with
	// Dedup).
	ShardCells, Kept, Evaluations int
}

// Run evaluates every cell of the shard not in the journal. On an error or
// when ctx ends it flushes the journal and returns the error (wrapping
// ErrInterrupted for ctx) with the outcome so far.
func (r *Runner) Run(ctx context.Context) (*Outcome, error) {
	if r.Evaluator == nil {
		return nil, fmt.Errorf("%w: no evaluator", ErrSpec)
	}
	now := r.Now
	if now == nil {
		now = time.Now
	}
	every, maxPending := r.CheckpointEvery, r.CheckpointCells
	if every <= 0 {
		every = 2 * time.Second
	}
	if maxPending <= 0 {
		maxPending = 5000
	}
	out := &Outcome{Cells: map[int]optimizer.Metrics{}}
	var kept map[int]optimizer.Metrics
	if r.Journal != nil {
		kept = r.Journal.Done()
	}
	// The shard's cells, grouped by what they evaluate.
	type job struct {
		cell  Cell // the first cell of the group
		cells []int
	}
	var jobs []*job
	byKey := map[string]*job{}
	known := map[string]optimizer.Metrics{} // figures of kept cells, by key
	var mu sync.Mutex
	r.Plan.All(func(c *Cell) bool {
		if !r.Shard.Has(c.Index) {
			return true
		}
		out.ShardCells++
		key := c.key + "|" + strconv.Itoa(c.Seed) + "|" + strconv.Itoa(c.Load) + "|" + strconv.Itoa(c.Profile)
		if m, ok := kept[c.Index]; ok {
			out.Cells[c.Index] = m
			out.Kept++
			known[key] = m
			return true
		}
		if r.Dedup {
			if j, ok := byKey[key]; ok {
				j.cells = append(j.cells, c.Index)
				return true
			}
		}
		j := &job{cell: *c, cells: []int{c.Index}}
		jobs = append(jobs, j)
		if r.Dedup {
			byKey[key] = j
		}
		return true
	})
	lastFlush := now()
	record := func(j *job, m optimizer.Metrics) error {
		for _, k := range j.cells {
			out.Cells[k] = m
			if r.Journal != nil {
				r.Journal.Add(k, m)
			}
		}
		if r.Progress != nil {
			r.Progress(len(out.Cells), out.ShardCells)
		}
		if r.Journal != nil && (r.Journal.Pending() >= maxPending || now().Sub(lastFlush) >= every) {
			lastFlush = now()
			return r.Journal.Flush()
		}
		return nil
	}
	// Cells whose deployment a kept cell already measured.
	var todo []*job
	for _, j := range jobs {
		key := j.cell.key + "|" + strconv.Itoa(j.cell.Seed) + "|" + strconv.Itoa(j.cell.Load) + "|" + strconv.Itoa(j.cell.Profile)
		if m, ok := known[key]; ok && r.Dedup {
			if err := record(j, m); err != nil {
				return out, err
			}
			continue
		}
		todo = append(todo, j)
	}
	if r.Progress != nil {
		r.Progress(len(out.Cells), out.ShardCells)
	}
	spec := r.Plan.Spec
	err := optimizer.ForEach(ctx, len(todo), r.Workers, func(ctx context.Context, i int) error {
		j := todo[i]
		s := j.cell.Deployment()
		m, err := r.Evaluator(j.cell.Load, j.cell.Profile).Evaluate(ctx, s, optimizer.SeedFor(spec.Seeds[j.cell.Seed], s))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("cell %d (%s, seed %d, load %s, profile %s): %w", j.cell.Index, j.cell.Functions,
				spec.Seeds[j.cell.Seed], spec.Loads[j.cell.Load].Name, spec.Profiles[j.cell.Profile].Name, err)
		}
		mu.Lock()
		defer mu.Unlock()
		out.Evaluations++
		return record(j, m)
	})
	if r.Journal != nil {
		if ferr := r.Journal.Flush(); ferr != nil && err == nil {
			err = ferr
		}
	}
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w: %w", ErrInterrupted, err)
		}
		return out, err
	}
	return out, nil
}
