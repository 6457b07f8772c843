package calibrate

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/experiment"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/results"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// Grouping says whether the emulated traces get the prototype's grouping
// quirk (one record per trace and function).
type Grouping int

const (
	// GroupingAuto groups the emulated traces of a setup when its real ones
	// show the quirk (Grouped).
	GroupingAuto Grouping = iota
	// GroupingOn always groups them; GroupingOff never does.
	GroupingOn
	GroupingOff
)

// ValidateOptions configure Validate.
type ValidateOptions struct {
	// Profile is the platform's profile (model.Default() if zero).
	Profile model.Profile
	// Seed seeds every emulated setup (each setup's emulator is seeded with
	// a hash of Seed and the setup name, so results do not depend on which
	// setups run or in which order).
	Seed uint64
	// App, when set, is the application itself (one read from a file, or
	// a workload whose code changed); else the task names show it
	// (PickWorkload).
	App *workloads.Workload
	// Load replaces what InferLoad infers for every setup: the kind and,
	// where set, its parameters (LoadFor).
	Load LoadOverride
	// Timeout is the functions' timeout the real traces ran under, to flag
	// roots cut off by it (0: the profile's limits.timeoutS).
	Timeout time.Duration
	// Grouping applies the prototype's grouping quirk to the emulated
	// traces.
	Grouping Grouping
	// Setups, when not empty, selects setups by name.
	Setups []string
	// FitOn, when set, names the setup of the directory ("first": its first
	// setup with traces) whose traces fit the application's work figures
	// (FitApp) before every setup is emulated with them: the transfer from
	// one measured setup to the others.
	FitOn string
	// FitFromCode starts that fit from the code's figures, not the
	// profile's (AppFitOptions.FromCode).
	FitFromCode bool
	// Parallel is how many setups run at once (0: the number of CPUs).
	Parallel int
	// Progress, if set, is called as setups finish: done of total, and the
	// setup just finished.
	Progress func(done, total int, setup string)
}

// SetupResult compares one setup's real and emulated traces.
type SetupResult struct {
	Setup string
	// Load is the load the emulator ran, and LoadWhy what it was inferred
	// from (InferLoad, LoadFor).
	Load    load.Spec
	LoadWhy string
	// Notes say where the emulated setup departs from the configuration
	// metadata because the traces say otherwise (memory sizes).
	Notes []string
	// Fit reports that the setup's traces fitted the application's figures
	// (ValidateOptions.FitOn): it is not a prediction.
	Fit bool
	// Incomplete lists why the real traces are not a complete account of
	// the setup's requests (results.CheckTraces); GB-ms per request and
	// the comparison are not meaningful then.
	Incomplete []string
	// Grouped reports whether the emulated traces were grouped like the
	// prototype's (and RealGrouped whether the real ones show the quirk).
	Grouped, RealGrouped bool
	// Real and Emulated summarize the two traces alike (no client
	// responses: requests are root invocations).
	Real, Emulated results.Row
	// RealLatencyMs and EmulatedLatencyMs are the root invocations'
	// internalDuration, sorted.
	RealLatencyMs, EmulatedLatencyMs []float64
	// KS is the Kolmogorov-Smirnov distance between the two latency
	// samples (the largest gap between their ECDFs, 0..1).
	KS float64
	// Memory is the memory size per function, as results.Row.Memory.
	Memory string
}

// Validation is the comparison of a directory of real traces with its
// emulation.
type Validation struct {
	Dir      string
	Workload string
	// Setups are the compared setups, in the prototype's order.
	Setups []SetupResult
	// NoTraces lists the setups of the configuration metadata without
	// traces (not emulated).
	NoTraces []string
	// Fit is the application fit the setups were emulated with
	// (ValidateOptions.FitOn), nil without one.
	Fit *AppFit
}

// Validate re-creates every setup of dir (a directory in the prototype's
// layout) that has traces, runs it in the emulator under the inferred (or
// given) load and compares the emulated traces with the real ones.
func Validate(ctx context.Context, dir string, opt ValidateOptions) (*Validation, error) {
	d, err := trace.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	return ValidateDir(ctx, dir, d, opt)
}

// ValidateDir is Validate on a directory already read.
func ValidateDir(ctx context.Context, name string, d *trace.Dir, opt ValidateOptions) (*Validation, error) {
	if d.Configs == nil {
		return nil, fmt.Errorf("%s: %w: the setups are re-created from it", name, trace.ErrNoConfigs)
	}
	prof := opt.Profile
	if prof.Name == "" && prof.CPU.MBPerVCPU == 0 {
		prof = model.Default()
	}
	var w workloads.Workload
	var err error
	if opt.App != nil {
		w = *opt.App
	} else if w, err = PickWorkload(d); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	v := &Validation{Dir: name, Workload: w.Name()}
	var names []string
	for _, n := range d.Configs.Names() {
		if _, ok := d.Traces[n]; !ok {
			v.NoTraces = append(v.NoTraces, n)
			continue
		}
		if len(opt.Setups) > 0 && !slices.Contains(opt.Setups, n) {
			continue
		}
		names = append(names, n)
	}
	for _, s := range opt.Setups {
		if !slices.Contains(names, s) {
			return nil, fmt.Errorf("%s: setup %q has no traces or is not in the configuration metadata", name, s)
		}
	}
	for _, n := range d.Traces.Names() {
		if _, ok := d.Configs[n]; !ok {
			return nil, fmt.Errorf("%s: setup %q has traces but no rules in the configuration metadata", name, n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no setup has both traces and rules", name)
	}
	if opt.FitOn != "" {
		fitOn, err := FitSetup(d, opt.FitOn)
		if err != nil {
			return nil, fmt.Errorf("%s: --fit-on: %w", name, err)
		}
		ft, err := FitApp(ctx, w, namedSetup(d, fitOn), d.Traces[fitOn], AppFitOptions{Profile: prof, Seed: opt.Seed, Load: opt.Load, Grouping: opt.Grouping, FromCode: opt.FitFromCode})
		if err != nil {
			return nil, fmt.Errorf("%s: fitting on %s: %w", name, fitOn, err)
		}
		v.Fit = ft
		prof = ft.Profile
	}
	// The bodies of the kinds of request of the application's scenario.
	events, err := RequestEvents(ctx, w, prof, opt.Seed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	v.Setups = make([]SetupResult, len(names))
	par := opt.Parallel
	if par <= 0 {
		par = runtime.NumCPU()
	}
	errs := make([]error, len(names))
	var mu sync.Mutex
	done := 0
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			v.Setups[i], errs[i] = validateSetup(ctx, w, namedSetup(d, n), d.Traces[n], prof, opt, events)
			v.Setups[i].Fit = v.Fit != nil && v.Fit.Setup == n
			if opt.Progress != nil {
				mu.Lock()
				done++
				opt.Progress(done, len(names), n)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%s: setup %s: %w", name, names[i], err)
		}
	}
	return v, nil
}

// PickWorkload returns the workload the task names of d show
// (InferWorkload).
func PickWorkload(d *trace.Dir) (workloads.Workload, error) {
	return InferWorkload(TaskNames(d.Traces, d.Configs))
}

// SetupSeed is the seed of a setup's emulator: an FNV hash of seed and the
// setup name.
func SetupSeed(seed uint64, setup string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(setup))
	return h.Sum64()
}

func validateSetup(ctx context.Context, w workloads.Workload, setup *fusionsim.Setup, real []trace.Record, prof model.Profile, opt ValidateOptions, events map[string]fusionsim.Event) (SetupResult, error) {
	res := SetupResult{Setup: setup.Name()}
	es, err := prepareSetup(w, setup, real, opt.Load, events, opt.Seed, opt.Grouping)
	if err != nil {
		return res, err
	}
	res.Notes, res.Load, res.LoadWhy, res.Grouped, res.RealGrouped = es.notes, es.spec, es.why, es.grouped, es.realGrouped
	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = time.Duration(prof.Limits.TimeoutS * float64(time.Second))
	}
	res.Incomplete = results.CheckTraces(real, nil, timeout)
	recs, err := EmulateArrivals(ctx, w, es.setup, es.entry, es.arrivals, prof, es.seed, es.grouped)
	if err != nil {
		return res, err
	}
	pricing := prof.Pricing
	res.Real = results.Summarize(setup.Name(), real, nil, pricing)
	res.Emulated = results.Summarize(setup.Name(), recs, nil, pricing)
	res.Memory = res.Real.Memory
	res.RealLatencyMs = rootLatencies(real)
	res.EmulatedLatencyMs = rootLatencies(recs)
	res.KS = math.NaN()
	if len(res.RealLatencyMs) > 0 && len(res.EmulatedLatencyMs) > 0 {
		res.KS = stat.KolmogorovSmirnov(res.RealLatencyMs, nil, res.EmulatedLatencyMs, nil)
	}
	return res, nil
}

// Emulate runs setup of workload w under the load spec in a new emulator
// with the given profile and seed, the requests sent to entry (zero: the
// setup's entry route), and returns the traces extracted from its logs
// (grouped like the prototype's when group is set).
func Emulate(ctx context.Context, w workloads.Workload, setup *fusionsim.Setup, entry fusionsim.Route, spec load.Spec, prof model.Profile, seed uint64, group bool) ([]trace.Record, error) {
	arrivals, err := specArrivals(w, &spec)
	if err != nil {
		return nil, err
	}
	return EmulateArrivals(ctx, w, setup, entry, arrivals, prof, seed, group)
}

// specArrivals gives spec w's request body where it has none and returns
// its arrivals.
func specArrivals(w workloads.Workload, spec *load.Spec) ([]fusionsim.Arrival, error) {
	if spec.Event == nil && w.Event != nil {
		spec.Event = w.Event
	}
	return spec.Arrivals()
}

// EmulateArrivals is Emulate with the arrivals given (each to its own
// route when it has one, else to entry).
func EmulateArrivals(ctx context.Context, w workloads.Workload, setup *fusionsim.Setup, entry fusionsim.Route, arrivals []fusionsim.Arrival, prof model.Profile, seed uint64, group bool) ([]trace.Record, error) {
	// No text log: experiment.Run reads the emulator's records directly.
	em, err := emulator.New(emulator.Config{App: w.App, Profile: prof, Seed: seed})
	if err != nil {
		return nil, err
	}
	defer em.Close()
	res, err := experiment.Run(ctx, experiment.Config{
		Platform: em,
		App:      w.App,
		Planner:  experiment.Fixed{setup},
		Entry:    entry,
		Load:     func(*fusionsim.Setup) ([]fusionsim.Arrival, error) { return arrivals, nil },
		Pricing:  prof.Pricing,
		Trace:    trace.Options{GroupByFunction: group},
	})
	if err != nil {
		return nil, err
	}
	if len(res.Iterations) != 1 {
		return nil, errors.New("the emulator ran no iteration")
	}
	it := res.Iterations[0]
	if it.LogProblems > 0 {
		return nil, fmt.Errorf("%d problems in the emulated logs", it.LogProblems)
	}
	return it.Records, nil
}

func rootLatencies(recs []trace.Record) []float64 {
	var x []float64
	for _, r := range recs {
		if r.IsRootInvocation && r.InternalDuration >= 0 {
			x = append(x, float64(r.InternalDuration))
		}
	}
	slices.Sort(x)
	return x
}

// RelErr is the relative error of emulated against real, (emulated - real)
// / real; NaN when real is 0 or either is NaN.
func RelErr(real, emulated float64) float64 {
	if real == 0 || math.IsNaN(real) || math.IsNaN(emulated) {
		return math.NaN()
	}
	return (emulated - real) / real
}
