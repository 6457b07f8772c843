package calibrate

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// LoadScenario is validate's load that runs the application's scenario
// (workloads.Workload.Scenario, an application file's load: section) as
// the real run did: closed loop, each virtual user sending an iteration's
// requests one after the other, each after the previous response, with as
// many iterations as the real run started. The default for traces whose
// kinds of request are all the scenario's and that hold about as many
// requests as it sends.
const LoadScenario = load.KindScenario

// requestKinds lists the request kinds of recs' root records, sorted.
func requestKinds(recs []trace.Record) []string {
	var kinds []string
	for i := range recs {
		if recs[i].IsRootInvocation {
			if k := RequestKind(&recs[i]); !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	slices.Sort(kinds)
	return kinds
}

// hasEvents reports whether events has a body for every kind.
func hasEvents(events map[string]fusionsim.Event, kinds []string) bool {
	if len(kinds) == 0 {
		return false
	}
	for _, k := range kinds {
		if _, ok := events[k]; !ok {
			return false
		}
	}
	return true
}

// RequestEvents returns the bodies of the requests w's scenario (its
// default load) sends, by the kind of request their traces show
// (RequestKind: the entry task and the first task its root calls, e.g.
// "frontend>checkout"): each request of an iteration, then of the setup
// phase, rendered from seed for virtual user 1, is sent once, one after
// the other, to the all-remote setup of a new emulator with profile prof,
// and its root record names its kind; a kind keeps the first body. nil
// when w has no scenario.
func RequestEvents(ctx context.Context, w workloads.Workload, prof model.Profile, seed uint64) (map[string]fusionsim.Event, error) {
	sc := w.Scenario
	if sc == nil {
		return nil, nil
	}
	one := *sc // one iteration
	one.Executor, one.RatePerS, one.Duration, one.StartRatePerS, one.Stages = load.ExecutorConstant, 1, time.Second, 0, nil
	setup, err := workloads.Remote(w.App, workloads.RemoteName, 0)
	if err != nil {
		return nil, err
	}
	arr, err := one.Arrivals(seed, func(task string, sync bool) (fusionsim.Route, error) {
		return workloads.TaskRoute(setup, task, sync)
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: the scenario's requests: %v", ErrInfer, w.Name(), err)
	}
	// The iteration's requests first: they are the load's own.
	n := len(arr) - load.CountRequests(sc.Setup)
	arr = append(arr[len(arr)-n:], arr[:len(arr)-n]...)
	for i := range arr {
		a := &arr[i]
		if a.EventFor != nil {
			a.Event, a.EventFor = a.EventFor(1), nil
		}
		a.At, a.Follows, a.VUs, a.AfterPrevious = 0, 0, nil, i > 0
	}
	recs, err := EmulateArrivals(ctx, w, setup, fusionsim.Route{}, arr, prof, seed, false)
	if err != nil {
		return nil, fmt.Errorf("%s: the scenario's requests: %w", w.Name(), err)
	}
	var roots []*trace.Record
	for i := range recs {
		if recs[i].IsRootInvocation {
			roots = append(roots, &recs[i])
		}
	}
	if len(roots) != len(arr) {
		return nil, fmt.Errorf("%w: %s: %d root records for the scenario's %d requests", ErrInfer, w.Name(), len(roots), len(arr))
	}
	slices.SortStableFunc(roots, func(a, b *trace.Record) int { return cmp.Compare(a.StartTimestamp, b.StartTimestamp) })
	out := map[string]fusionsim.Event{}
	for i, r := range roots {
		if k := RequestKind(r); out[k] == nil {
			out[k] = arr[i].Event
		}
	}
	return out, nil
}

// ScenarioArrivals makes the arrivals of w's scenario for a setup whose
// real traces hold roots root records (countRoots): the scenario as w
// gives it, with as many iterations as the real run started when the
// executor is a constant rate (the real root requests less the setup
// phase's, per iteration; the duration becomes that many iterations at the
// rate), each request to its entry task's route at the size setup gives
// it. The reason says what ran.
func ScenarioArrivals(w workloads.Workload, setup *fusionsim.Setup, roots int, seed uint64) ([]fusionsim.Arrival, load.Spec, string, error) {
	sc := *w.Scenario
	perIter, inSetup := load.CountRequests(sc.Iteration), load.CountRequests(sc.Setup)
	what := ""
	if sc.Executor == load.ExecutorConstant && roots > inSetup && (roots-inSetup)%perIter == 0 {
		n := (roots - inSetup) / perIter
		// Iteration k starts at k/rate: n iterations take just under n/rate.
		d := time.Duration(math.Ceil((float64(n) - 0.5) / sc.RatePerS * float64(time.Second)))
		if mustStarts(sc, d) == n {
			sc.Duration = d
			what = fmt.Sprintf("%d iterations at %g/s (the real run's: %d root requests, %d in the setup phase, %d per iteration)", n, sc.RatePerS, roots, inSetup, perIter)
		}
	}
	if what == "" {
		what = strings.TrimPrefix(sc.String(), "scenario ")
	}
	arr, err := sc.Arrivals(seed, func(task string, sync bool) (fusionsim.Route, error) {
		return workloads.TaskRoute(setup, task, sync)
	})
	if err != nil {
		return nil, load.Spec{}, "", err
	}
	spec := load.Spec{Kind: LoadScenario, RatePerS: sc.RatePerS, Duration: sc.Duration, Stages: sc.Stages, StartPerS: sc.StartRatePerS, Requests: len(arr), Seed: seed}
	why := fmt.Sprintf("the application's scenario %s, closed loop (each virtual user sends an iteration's requests one after the other, each after the previous response, as the prototype's k6 did; at most %d users): %s; %d requests",
		sc.File, sc.MaxVUs, what, len(arr))
	return arr, spec, why, nil
}

// countRoots counts the root records of recs.
func countRoots(recs []trace.Record) int {
	n := 0
	for i := range recs {
		if recs[i].IsRootInvocation {
			n++
		}
	}
	return n
}

// scenarioSized reports whether sc sends about as many requests as the
// traces have root records, roots (within 10 %): the traces are of a run of
// it, not of a part.
func scenarioSized(sc load.Scenario, roots int) bool {
	n := load.CountRequests(sc.Setup) + mustStarts(sc, sc.Duration)*load.CountRequests(sc.Iteration)
	return math.Abs(float64(roots-n)) <= 0.1*float64(n)
}

// mustStarts is the number of iterations sc starts in d (0 on an error).
func mustStarts(sc load.Scenario, d time.Duration) int {
	sc.Duration = d
	st, err := sc.Starts()
	if err != nil {
		return 0
	}
	return len(st)
}

// scenarioLoad is the load of a setup of w whose real traces are recs
// when they are a run of w's scenario: the scenario (ScenarioArrivals),
// closed loop, when every kind of request of the traces is one of its
// requests (events: RequestEvents), the traces hold about as many requests
// as it sends and o names no other load, or with --load scenario. Else no
// arrivals: the caller infers the load (loadFor), a replay of the real
// requests among others.
func scenarioLoad(w workloads.Workload, setup *fusionsim.Setup, recs []trace.Record, o LoadOverride, events map[string]fusionsim.Event, seed uint64) (load.Spec, []fusionsim.Arrival, string, error) {
	if w.Scenario == nil {
		if o.Kind == LoadScenario {
			return load.Spec{}, nil, "", fmt.Errorf("--load %s: %s has no scenario (an application file's load: section)", LoadScenario, w.Name())
		}
		return load.Spec{}, nil, "", nil
	}
	roots := countRoots(recs)
	if !(o.Kind == LoadScenario || o.IsZero() && hasEvents(events, requestKinds(recs)) && scenarioSized(*w.Scenario, roots)) {
		return load.Spec{}, nil, "", nil
	}
	arr, spec, why, err := ScenarioArrivals(w, setup, roots, seed)
	return spec, arr, why, err
}

// SetupLoad is the load a setup of w whose real traces are recs is
// emulated under, and its arrivals: w's scenario (scenarioLoad) where the
// traces are a run of it, else the load the traces show (loadFor, a replay
// of requests of several kinds with each kind's body from events) or that
// o gives; the reason says which and why. setup is the setup as emulated
// (WithTracedMemory).
func SetupLoad(w workloads.Workload, setup *fusionsim.Setup, recs []trace.Record, o LoadOverride, events map[string]fusionsim.Event, seed uint64) (load.Spec, []fusionsim.Arrival, string, error) {
	spec, arrivals, why, err := scenarioLoad(w, setup, recs, o, events, seed)
	if err != nil || arrivals != nil {
		return spec, arrivals, why, err
	}
	if spec, why, err = loadFor(recs, o, events); err != nil {
		return spec, nil, "", err
	}
	spec.Seed = seed
	if arrivals, err = specArrivals(w, &spec); err != nil {
		return spec, nil, "", err
	}
	return spec, arrivals, why, nil
}
