package optimizer

import (
	"context"
	"fmt"
	"math"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/experiment"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/results"
)

// Metrics are the figures of one setup under one load.
type Metrics struct {
	// Requests sent and how many failed (throttled, function errors).
	Requests, Errors int
	// Invocations counts the Lambda invocations the requests caused.
	Invocations int
	// MedianLatencyMs and P95LatencyMs are of the root invocations'
	// internalDuration (the entry handler's time), the published figures'
	// request-response latency; in ms.
	MedianLatencyMs, P95LatencyMs float64
	// MedianE2EMs is the client-side end-to-end latency (gateway, cold start
	// and handler) of the successful requests, ms.
	MedianE2EMs float64
	// CostPerRequestUSD is the price of every invocation (billed GB-s at the
	// profile's first tier plus the request fee) per request, in USD.
	CostPerRequestUSD float64
	// MedianRootBilledMs is the prototype's figure of merit: the median
	// billed duration of the root invocations, ms.
	MedianRootBilledMs float64
}

// Evaluator measures one setup. seed makes the measurement reproducible.
type Evaluator interface {
	Evaluate(ctx context.Context, setup *fusionsim.Setup, seed uint64) (Metrics, error)
}

// EmulatorEvaluator runs the load against a fresh emulator per setup and
// takes the figures from its traces, exactly as a single run does: the
// emulator's log records go through the trace extractor into the setup's
// summary row (experiment.Run on a fixed setup, keeping nothing but the
// row), so that an evaluated setup's figures are those of "simulate run"
// on the same setup, load and seed. Safe for concurrent use: every call has
// its own emulator.
type EmulatorEvaluator struct {
	// App is the application.
	App *fusionsim.App
	// Profile is the platform's profile (zero: model.Default()).
	Profile model.Profile
	// Arrivals is the load sent to the entry route of each setup
	// (EntryRoute).
	Arrivals []fusionsim.Arrival
	// Load, when set, makes each setup's load instead (a scenario's
	// requests go to their entry tasks' routes, at the memory sizes the
	// setup gives them).
	Load func(*fusionsim.Setup) ([]fusionsim.Arrival, error)
}

// Evaluate implements Evaluator.
func (e *EmulatorEvaluator) Evaluate(ctx context.Context, setup *fusionsim.Setup, seed uint64) (Metrics, error) {
	prof := e.Profile
	if prof.Name == "" && prof.CPU.MBPerVCPU == 0 {
		prof = model.Default()
	}
	em, err := emulator.New(emulator.Config{App: e.App, Profile: prof, Seed: seed})
	if err != nil {
		return Metrics{}, err
	}
	defer em.Close()
	load := func(*fusionsim.Setup) ([]fusionsim.Arrival, error) { return e.Arrivals, nil }
	if e.Load != nil {
		load = e.Load
	}
	res, err := experiment.Run(ctx, experiment.Config{
		Platform: em, App: e.App, Planner: experiment.Fixed{setup},
		Load:    load,
		Entry:   EntryRoute(setup, e.App.Entry),
		Pricing: prof.Pricing,
		Lean:    true,
	})
	if err != nil {
		return Metrics{}, fmt.Errorf("setup %s: %w", setup.Name(), err)
	}
	it := res.Iterations[0]
	if it.LogProblems > 0 {
		return Metrics{}, fmt.Errorf("setup %s: %d problems in the logs", setup.Name(), it.LogProblems)
	}
	return MetricsOf(it.Row, it.Stats), nil
}

// MetricsOf are the metrics of a setup's summary row and statistics.
func MetricsOf(row results.Row, st *results.SetupStats) Metrics {
	m := Metrics{
		Requests: row.Requests, Errors: row.Errors, Invocations: row.Invocations,
		MedianLatencyMs: row.MedianMs, P95LatencyMs: row.P95Ms, MedianE2EMs: row.E2EMedianMs,
		MedianRootBilledMs: math.NaN(),
	}
	if row.Requests > 0 {
		m.CostPerRequestUSD = row.USDPerMillion / 1e6
	}
	if st.RootBilled().Len() > 0 {
		m.MedianRootBilledMs = st.RootBilled().Median()
	}
	return m
}

// Point is one evaluated setup.
type Point struct {
	Setup *fusionsim.Setup
	// Label describes the setup (Describe).
	Label string
	Metrics
}

// valid reports whether the point can be on a front: every request served
// and figures measured.
func (p Point) valid() bool {
	return p.Errors == 0 && !math.IsNaN(p.MedianLatencyMs) && p.Requests > 0
}

// dominates reports whether p is at least as good as q in median latency and
// cost per request and better in one.
func (p Point) dominates(q Point) bool {
	return p.MedianLatencyMs <= q.MedianLatencyMs && p.CostPerRequestUSD <= q.CostPerRequestUSD &&
		(p.MedianLatencyMs < q.MedianLatencyMs || p.CostPerRequestUSD < q.CostPerRequestUSD)
}

// ParetoFront returns the points no other point dominates in (median
// latency, cost per request), fastest first; points with failed requests are
// left out. Equal points are all kept.
func ParetoFront(points []Point) []Point {
	ms := make([]Metrics, len(points))
	for i, p := range points {
		ms[i] = p.Metrics
	}
	idx := FrontIndices(ms)
	front := make([]Point, len(idx))
	for i, k := range idx {
		front[i] = points[k]
	}
	return front
}

// Distance says how far p is from a front: the front point nearest to it
// and how much slower (SlowerPct) and more expensive (CostlierPct) p is
// than that point, in percent (0 when p is as good). The nearest point
// minimises the Euclidean norm of the two excesses; a point on the front
// (or better than it) has distance 0 to itself or the point it matches.
type Distance struct {
	Nearest                Point
	SlowerPct, CostlierPct float64
}

// DistanceTo measures p against front; ok is false for an empty front.
func DistanceTo(p Point, front []Point) (Distance, bool) {
	var best Distance
	bestNorm := math.Inf(1)
	for _, q := range front {
		dl := excessPct(p.MedianLatencyMs, q.MedianLatencyMs)
		dc := excessPct(p.CostPerRequestUSD, q.CostPerRequestUSD)
		if n := math.Hypot(dl, dc); n < bestNorm {
			bestNorm = n
			best = Distance{Nearest: q, SlowerPct: dl, CostlierPct: dc}
		}
	}
	return best, !math.IsInf(bestNorm, 1)
}

// excessPct is how much more a is than b, in percent of b; 0 when a <= b.
func excessPct(a, b float64) float64 {
	switch {
	case a <= b:
		return 0
	case b <= 0:
		return math.Inf(1)
	}
	return (a/b - 1) * 100
}
