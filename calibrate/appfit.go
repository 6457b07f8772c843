package calibrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"

	"gonum.org/v1/gonum/mat"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// AppFitOptions configure FitApp.
type AppFitOptions struct {
	// Profile is the platform profile, kept as it is but for the work
	// descriptors the application spends (model.Default() if zero). Its
	// Work entries for them are where the fit starts; the code's declared
	// figures where it has none.
	Profile model.Profile
	// Seed seeds every emulation of the fit (one seed for all, so that the
	// emulations differ only in the figures being fitted).
	Seed uint64
	// Load replaces the load inferred from the traces (LoadFor).
	Load LoadOverride
	// Grouping of the emulated traces (GroupingAuto: like the real ones).
	Grouping Grouping
	// FromCode starts every descriptor from the figures its code declares
	// (with the runtime overhead share of the profile's descriptors),
	// ignoring the profile's figures for it: for code that changed beyond
	// what the old figures say.
	FromCode bool
	// Progress, if set, is told each step of the fit.
	Progress func(step string)
}

// AppFit is an application's work figures fitted on the traces of one
// setup, with the account of each.
type AppFit struct {
	// Workload and Setup name what was fitted on what.
	Workload, Setup string
	// Load is the load the emulations ran (and LoadWhy why).
	Load    load.Spec
	LoadWhy string
	// Work are the fitted work descriptors, by name: the overlay that,
	// applied to the platform profile, is Profile.
	Work map[string]model.WorkParams
	// Profile is the platform profile with Work in place.
	Profile model.Profile
	// Params lists every fitted figure: field, value, method, records.
	Params []Param
	// Unidentified lists what the traces cannot tell, and what was kept
	// instead.
	Unidentified []string
	// Functions compare the setup's functions, real against emulated with
	// the fitted figures.
	Functions []FunctionFit
	// Emulations counts the emulator runs the fit took.
	Emulations int
}

// FunctionFit compares one function of the fitted setup, real against
// emulated (medians of internalDuration, warm and cold, and of billed minus
// internal; ms).
type FunctionFit struct {
	Function                  string
	MemoryMB                  int
	Warm, Cold                int // real records
	RealWarmMs, EmuWarmMs     float64
	RealColdMs, EmuColdMs     float64
	RealTailMs, EmuTailMs     float64
	RealMemoryMB, EmuMemoryMB float64
	// Work names the work descriptors its time depends on.
	Work []string
}

// workUse is a work descriptor the application spends.
type workUse struct {
	name     string
	declared fusionsim.Work // as the code passes it to Spend
	tasks    []string       // the tasks that spend it
}

// spyContext passes every call on to the platform's Context and notes the
// work its task spends.
type spyContext struct {
	fusionsim.Context
	task string
	note func(task string, w fusionsim.Work)
}

func (s spyContext) Spend(w fusionsim.Work) {
	s.note(s.task, w)
	s.Context.Spend(w)
}

func (s spyContext) Go(fn func(fusionsim.Context) (fusionsim.Event, error)) fusionsim.Future {
	return s.Context.Go(func(c fusionsim.Context) (fusionsim.Event, error) {
		return fn(spyContext{Context: c, task: s.task, note: s.note})
	})
}

// spyApp returns a copy of app whose tasks note the work they spend.
func spyApp(app *fusionsim.App, note func(task string, w fusionsim.Work)) *fusionsim.App {
	c := *app
	c.Tasks = make(map[string]fusionsim.Task, len(app.Tasks))
	for name, t := range app.Tasks {
		c.Tasks[name] = func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			return t(spyContext{Context: ctx, task: name, note: note}, in)
		}
	}
	return &c
}

// obs are the figures of one function the fit matches (NaN where there are
// too few records).
type obs struct {
	warm, cold, tail, mem float64
	// spread is the interquartile range over the median of the warm
	// internal durations (of the cold ones for a function with fewer than
	// minSpread warm ones; NaN with fewer than minSpread of either).
	spread       float64
	nWarm, nCold int
}

// Minimum records for a median the fit matches.
const (
	minWarm   = 10
	minCold   = 3
	minSpread = 100
)

// pathKey names what a record's invocation did: its function and, after
// ">", the tasks it called, sorted and joined by "+" (a function whose
// invocations call different tasks, such as a frontend serving two kinds
// of request, runs different code paths: their durations are apart, and
// a median over both lands between them).
func pathKey(r *trace.Record) string {
	var called []string
	for _, c := range r.Calls {
		if c.Called != r.CurrentFunction && !slices.Contains(called, c.Called) {
			called = append(called, c.Called)
		}
	}
	if len(called) == 0 {
		return r.CurrentFunction
	}
	slices.Sort(called)
	return r.CurrentFunction + ">" + strings.Join(called, "+")
}

// fnOf is the function of a pathKey.
func fnOf(key string) string {
	fn, _, _ := strings.Cut(key, ">")
	return fn
}

// observe computes the figures of each function's code paths (pathKey)
// from records.
func observe(recs []trace.Record) map[string]obs {
	type acc struct{ warm, cold, tail, mem, coldTail, coldMem []float64 }
	by := map[string]*acc{}
	for i := range recs {
		r := &recs[i]
		if r.InternalDuration < 0 {
			continue
		}
		key := pathKey(r)
		a := by[key]
		if a == nil {
			a = &acc{}
			by[key] = a
		}
		if r.IsColdStart {
			a.cold = append(a.cold, float64(r.InternalDuration))
			a.coldTail = append(a.coldTail, float64(r.BilledDuration-r.InternalDuration))
			a.coldMem = append(a.coldMem, float64(r.MaxMemoryUsed))
			continue
		}
		a.warm = append(a.warm, float64(r.InternalDuration))
		a.tail = append(a.tail, float64(r.BilledDuration-r.InternalDuration))
		a.mem = append(a.mem, float64(r.MaxMemoryUsed))
	}
	out := map[string]obs{}
	for fn, a := range by {
		o := obs{warm: math.NaN(), cold: math.NaN(), tail: math.NaN(), mem: math.NaN(), spread: math.NaN(), nWarm: len(a.warm), nCold: len(a.cold)}
		if len(a.warm) >= minWarm {
			o.warm, o.tail, o.mem = Median(a.warm), Median(a.tail), Median(a.mem)
		} else if len(a.cold) >= minCold {
			// Only cold invocations (the cold-start protocol): the tail
			// and the memory of those.
			o.tail, o.mem = Median(a.coldTail), Median(a.coldMem)
		}
		// The spread of the warm durations, or of the cold ones where a
		// function ran only cold (the cold-start protocol).
		spreadOver := a.warm
		if len(a.warm) < minSpread {
			spreadOver = a.cold
		}
		if len(spreadOver) >= minSpread {
			s := slices.Clone(spreadOver)
			slices.Sort(s)
			if m := Median(s); m > 0 {
				o.spread = (s[len(s)*3/4] - s[len(s)/4]) / m
			}
		}
		if len(a.cold) >= minCold {
			o.cold = Median(a.cold)
		}
		out[fn] = o
	}
	return out
}

// appFitter holds the state of one FitApp.
type appFitter struct {
	ctx      context.Context
	w        workloads.Workload
	setup    *fusionsim.Setup
	entry    fusionsim.Route
	arrivals []fusionsim.Arrival
	base     model.Profile
	seed     uint64
	group    bool
	real     map[string]obs
	sizes    map[string][]int // the sizes each function ran at (REPORT lines)
	fns      []string         // functions with records, sorted
	works    []*workUse
	params   map[string]model.WorkParams
	fit      *AppFit
	progess  func(string)
	fromCode bool
	deps     map[string][]string // work -> the functions whose warm time depends on it
}

// FitApp fits the figures of the work descriptors w spends on the real
// traces recs of one setup, keeping every platform figure of the profile:
// each descriptor's demand (cpuMs, with its serial and overhead parts in
// their proportions), its cold extra (coldCPUMs), the demand that runs on
// after the task returned (tailCPUMs), its memory, and its threads where
// the traces can tell them. Each figure is fitted by emulation: the setup
// runs in the emulator under the traces' load (InferLoad) with candidate
// figures, and Gauss-Newton steps on finite differences move the figures
// until every function's median matches the real one (warm internal
// duration for the demand, cold for the cold extra, billed minus internal
// for the tail). The emulations share one seed, so they differ only in the
// figures.
func FitApp(ctx context.Context, w workloads.Workload, setup *fusionsim.Setup, recs []trace.Record, opt AppFitOptions) (*AppFit, error) {
	prof := opt.Profile
	if prof.Name == "" && prof.CPU.MBPerVCPU == 0 {
		prof = model.Default()
	}
	seed := SetupSeed(opt.Seed, setup.Name())
	emulated, entry, notes, err := WithTracedMemory(w.App, setup, recs)
	if err != nil {
		return nil, err
	}
	events, err := RequestEvents(ctx, w, prof, opt.Seed)
	if err != nil {
		return nil, err
	}
	spec, arrivals, why, err := SetupLoad(w, emulated, recs, opt.Load, events, seed)
	if err != nil {
		return nil, err
	}
	f := &appFitter{
		ctx: ctx, w: w, setup: emulated, entry: entry, arrivals: arrivals, base: prof, seed: seed,
		real: observe(recs), params: map[string]model.WorkParams{}, progess: opt.Progress, fromCode: opt.FromCode,
		fit: &AppFit{Workload: w.Name(), Setup: setup.Name(), Load: spec, LoadWhy: why},
	}
	f.fit.Unidentified = append(f.fit.Unidentified, notes...)
	if f.sizes, _, err = TracedMemory(recs); err != nil {
		return nil, err
	}
	switch opt.Grouping {
	case GroupingOn:
		f.group = true
	case GroupingAuto:
		f.group = Grouped(recs)
	}
	f.fns = sortedKeys(f.real)
	if err := f.discover(); err != nil {
		return nil, err
	}
	if len(f.works) == 0 {
		return nil, fmt.Errorf("setup %s: the tasks of %s spend no work under this load: nothing to fit", setup.Name(), w.Name())
	}
	for _, u := range f.works {
		f.params[u.name] = f.start(u)
	}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"demand and threads", f.fitDemand},
		{"jitter", f.fitJitter},
		{"cold extra", f.fitCold},
		{"tail", f.fitTail},
		{"memory", f.fitMemory},
		{"demand under memory pressure", f.refineDemand},
	}
	for _, s := range steps {
		f.say(s.name)
		if err := s.fn(); err != nil {
			return nil, fmt.Errorf("fitting %s: %w", s.name, err)
		}
	}
	final, err := f.emulate(f.params)
	if err != nil {
		return nil, err
	}
	f.finalValues()
	f.fit.Work = f.params
	f.fit.Profile = f.profile(f.params)
	if err := f.fit.Profile.Validate(); err != nil {
		return nil, fmt.Errorf("fitted profile: %w", err)
	}
	deps := f.dependence()
	var off []string
	for _, fn := range f.fns {
		r, e := f.real[fn], final[fn]
		if len(deps[fn]) == 0 && !math.IsNaN(r.warm) && !math.IsNaN(e.warm) && math.Abs(e.warm-r.warm) > math.Max(0.1*r.warm, 2) {
			off = append(off, fmt.Sprintf("%s %+.0f %%", fn, 100*(e.warm-r.warm)/math.Max(r.warm, 1)))
		}
	}
	if len(off) > 0 {
		f.fit.Unidentified = append(f.fit.Unidentified, "functions without work whose warm median the emulation misses by more than 10 % (their time is calls, storage and the handler: platform figures, kept): "+strings.Join(off, ", "))
	}
	for _, fn := range f.fns {
		r, e := f.real[fn], final[fn]
		f.fit.Functions = append(f.fit.Functions, FunctionFit{
			Function: fn, MemoryMB: f.memoryOf(recs, fnOf(fn)), Warm: r.nWarm, Cold: r.nCold,
			RealWarmMs: r.warm, EmuWarmMs: e.warm, RealColdMs: r.cold, EmuColdMs: e.cold,
			RealTailMs: r.tail, EmuTailMs: e.tail, RealMemoryMB: r.mem, EmuMemoryMB: e.mem, Work: deps[fn],
		})
	}
	return f.fit, nil
}

// finalValues sets the value of every fitted work figure to the one the
// fit ended with (a later step moves figures an earlier one fitted: the
// jitter's fit moves the demand with it).
func (f *appFitter) finalValues() {
	for i := range f.fit.Params {
		q := &f.fit.Params[i]
		var name, field string
		if _, err := fmt.Sscanf(strings.Replace(q.Field, "].", "] ", 1), "work[%q] %s", &name, &field); err != nil {
			continue
		}
		p, ok := f.params[name]
		if !ok {
			continue
		}
		switch field {
		case "cpuMs":
			q.Value = p.CPUMs
		case "threads":
			q.Value = float64(p.Threads)
		case "overheadCPUMs":
			q.Value = p.OverheadCPUMs
		case "coldCPUMs":
			q.Value = p.ColdCPUMs
		case "tailCPUMs":
			q.Value = p.TailCPUMs
		case "memoryMB":
			q.Value = p.MemoryMB
		case "jitterScale":
			q.Value = jitterKnob(name).get(p)
		}
	}
}

func (f *appFitter) say(step string) {
	if f.progess != nil {
		f.progess(step)
	}
}

func (f *appFitter) memoryOf(recs []trace.Record, fn string) int {
	for i := range recs {
		if recs[i].CurrentFunction == fn {
			mb, _ := strconv.Atoi(recs[i].MemoryAvail)
			return mb
		}
	}
	return 0
}

// discover runs the setup's load once with every task spied on and notes
// the work descriptors spent, by name.
func (f *appFitter) discover() error {
	var mu sync.Mutex
	byName := map[string]*workUse{}
	note := func(task string, w fusionsim.Work) {
		mu.Lock()
		defer mu.Unlock()
		u := byName[w.Name]
		if u == nil {
			u = &workUse{name: w.Name, declared: w}
			byName[w.Name] = u
		}
		if !slices.Contains(u.tasks, task) {
			u.tasks = append(u.tasks, task)
		}
	}
	spied := f.w
	spied.App = spyApp(f.w.App, note)
	if _, err := EmulateArrivals(f.ctx, spied, f.setup, f.entry, f.arrivals, f.profile(nil), f.seed, f.group); err != nil {
		return err
	}
	f.fit.Emulations++
	for _, n := range sortedKeys(byName) {
		u := byName[n]
		if n == "" {
			f.fit.Unidentified = append(f.fit.Unidentified, fmt.Sprintf("work without a name spent by %s: not fitted (a profile cannot address it)", strings.Join(u.tasks, ", ")))
			continue
		}
		sort.Strings(u.tasks)
		f.works = append(f.works, u)
	}
	return nil
}

// start is the figures the fit starts from: the profile's, else the
// code's, with the share of the runtime's other threads (overheadCPUMs)
// that the profile's descriptors show: the code declares its own demand,
// not what the runtime's threads add to it.
func (f *appFitter) start(u *workUse) model.WorkParams {
	if p, ok := f.base.Work[u.name]; ok && !f.fromCode {
		return p
	}
	d := u.declared
	p := model.WorkParams{CPUMs: d.CPUMs, Threads: max(d.Threads, 1), SerialCPUMs: d.SerialCPUMs, TailCPUMs: d.TailCPUMs, MemoryMB: d.MemoryMB}
	if share, from := runtimeOverhead(f.base); share > 0 {
		p.OverheadCPUMs = share * p.CPUMs / (1 - share)
		why := "no figures in the profile"
		if f.fromCode {
			why = "started from the code (--fit-from code)"
		}
		f.fit.Unidentified = append(f.fit.Unidentified, fmt.Sprintf("work[%q]: %s: starts from the code's figures (cpuMs %.4g, %d threads), with %.1f %% of the parallel demand taken by the runtime's other threads (overheadCPUMs), as the profile's descriptors show it (%s)",
			u.name, why, p.CPUMs, p.Threads, 100*share, strings.Join(from, ", ")))
	}
	return p
}

// runtimeOverhead is the median share of the parallel demand that the
// runtime's other threads take (overheadCPUMs over cpuMs + overheadCPUMs)
// over the profile's work descriptors, and their names: the runtime's
// compiler and garbage collector work for the work's code, whatever its
// thread count.
func runtimeOverhead(prof model.Profile) (float64, []string) {
	var shares []float64
	var from []string
	for _, name := range sortedKeys(prof.Work) {
		p := prof.Work[name]
		if p.CPUMs+p.OverheadCPUMs <= 0 {
			continue
		}
		sh := p.OverheadCPUMs / (p.CPUMs + p.OverheadCPUMs)
		shares = append(shares, sh)
		from = append(from, fmt.Sprintf("%s %.1f %%", name, 100*sh))
	}
	if len(shares) == 0 {
		return 0, nil
	}
	return Median(shares), from
}

// profile is the base profile with params for the work descriptors.
func (f *appFitter) profile(params map[string]model.WorkParams) model.Profile {
	p := f.base
	p.Work = make(map[string]model.WorkParams, len(f.base.Work)+len(params))
	for k, v := range f.base.Work {
		p.Work[k] = v
	}
	for k, v := range params {
		p.Work[k] = v
	}
	return p
}

// emulate runs the setup with params and observes its functions.
func (f *appFitter) emulate(params map[string]model.WorkParams) (map[string]obs, error) {
	if err := f.ctx.Err(); err != nil {
		return nil, err
	}
	recs, err := EmulateArrivals(f.ctx, f.w, f.setup, f.entry, f.arrivals, f.profile(params), f.seed, f.group)
	if err != nil {
		return nil, err
	}
	f.fit.Emulations++
	return observe(recs), nil
}

func clone(params map[string]model.WorkParams) map[string]model.WorkParams {
	c := make(map[string]model.WorkParams, len(params))
	for k, v := range params {
		c[k] = v
	}
	return c
}

// figure selects one figure of a function's observation (NaN: none).
type figure func(fn string, o obs) float64

// timeOf is the warm median, or the cold one for a function that ran only
// cold (the cold-start protocol).
func timeOf(_ string, o obs) float64 {
	if math.IsNaN(o.warm) {
		return o.cold
	}
	return o.warm
}

func coldOf(_ string, o obs) float64 { return o.cold }
func tailOf(_ string, o obs) float64 { return o.tail }

// spreadOf is the spread of the functions fns only.
func spreadOf(fns []string) figure {
	return func(fn string, o obs) float64 {
		if !slices.Contains(fns, fn) {
			return math.NaN()
		}
		return o.spread
	}
}

// knob is one fitted parameter of a work descriptor: how to read it and
// set it.
type knob struct {
	work string
	get  func(p model.WorkParams) float64
	set  func(p *model.WorkParams, v float64)
	// step is the finite difference for a value v; min the smallest value.
	step func(v float64) float64
	min  float64
}

// scaleDemand scales a descriptor's demand: its parallel, serial and
// overhead parts together (their proportions are kept: at one memory size
// they cannot be told apart).
func demandKnob(work string) knob {
	return knob{
		work: work,
		get:  func(p model.WorkParams) float64 { return p.CPUMs + p.SerialCPUMs + p.OverheadCPUMs },
		set: func(p *model.WorkParams, v float64) {
			total := p.CPUMs + p.SerialCPUMs + p.OverheadCPUMs
			if total <= 0 {
				p.CPUMs = v
				return
			}
			k := v / total
			p.CPUMs, p.SerialCPUMs, p.OverheadCPUMs = p.CPUMs*k, p.SerialCPUMs*k, p.OverheadCPUMs*k
		},
		step: func(v float64) float64 { return math.Max(0.2*v, 2) },
		min:  0.01,
	}
}

// overheadKnob moves the share of a descriptor's parallel demand that the
// runtime's other threads take (overheadCPUMs over cpuMs + overheadCPUMs),
// keeping their sum.
func overheadKnob(work string) knob {
	return knob{
		work: work,
		get: func(p model.WorkParams) float64 {
			if t := p.CPUMs + p.OverheadCPUMs; t > 0 {
				return p.OverheadCPUMs / t
			}
			return 0
		},
		set: func(p *model.WorkParams, v float64) {
			v = math.Min(math.Max(v, 0), 0.8)
			t := p.CPUMs + p.OverheadCPUMs
			p.OverheadCPUMs, p.CPUMs = v*t, (1-v)*t
		},
		step: func(v float64) float64 { return 0.05 },
	}
}

func coldKnob(work string, scale float64) knob {
	return knob{
		work: work,
		get:  func(p model.WorkParams) float64 { return p.ColdCPUMs },
		set:  func(p *model.WorkParams, v float64) { p.ColdCPUMs = v },
		step: func(v float64) float64 { return math.Max(0.2*v, math.Max(2, 0.1*scale)) },
	}
}

func jitterKnob(work string) knob {
	return knob{
		work: work,
		get: func(p model.WorkParams) float64 {
			if p.JitterScale == nil {
				return 1
			}
			return *p.JitterScale
		},
		set:  func(p *model.WorkParams, v float64) { p.JitterScale = &v },
		step: func(v float64) float64 { return math.Max(0.3*v, 0.2) },
	}
}

func tailKnob(work string) knob {
	return knob{
		work: work,
		get:  func(p model.WorkParams) float64 { return p.TailCPUMs },
		set:  func(p *model.WorkParams, v float64) { p.TailCPUMs = v },
		step: func(v float64) float64 { return math.Max(0.2*v, 0.5) },
	}
}

// residuals are emulated minus real figures, relative to the real one, of
// every function where both are known: for each figure of figs in turn,
// one per function (f.fns's order).
func (f *appFitter) residuals(emu map[string]obs, figs ...figure) []float64 {
	r := make([]float64, len(figs)*len(f.fns))
	for k, fig := range figs {
		for i, fn := range f.fns {
			re, em := fig(fn, f.real[fn]), fig(fn, emu[fn])
			if math.IsNaN(re) || math.IsNaN(em) {
				continue
			}
			r[k*len(f.fns)+i] = (em - re) / math.Max(math.Abs(re), 1)
		}
	}
	return r
}

// gaussNewton moves the knobs until the emulated figures figs of the
// functions match the real ones: at most iterations steps, each from the
// Jacobian of finite differences, and it keeps the figures of the step
// that matched best (the emulations are noisy: a step need not improve).
// It returns the knobs' rows in use (the functions whose first figure
// depends on each knob) and the residuals of the figures kept.
func (f *appFitter) gaussNewton(knobs []knob, figs []figure, iterations int) (map[string][]bool, []float64, error) {
	n, m := len(knobs), len(figs)*len(f.fns)
	used := map[string][]bool{}
	best, bestSSE := clone(f.params), math.Inf(1)
	var bestR []float64
	for it := 0; ; it++ {
		base, err := f.emulate(f.params)
		if err != nil {
			return nil, nil, err
		}
		r0 := f.residuals(base, figs...)
		if sse := dot(r0, r0); sse < bestSSE {
			best, bestSSE, bestR = clone(f.params), sse, r0
		}
		if it == iterations {
			break
		}
		J := mat.NewDense(m, n, nil)
		for j, k := range knobs {
			p := clone(f.params)
			wp := p[k.work]
			v := k.get(wp)
			h := k.step(v)
			k.set(&wp, v+h)
			p[k.work] = wp
			emu, err := f.emulate(p)
			if err != nil {
				return nil, nil, err
			}
			r1 := f.residuals(emu, figs...)
			rows := make([]bool, len(f.fns))
			for i := range r1 {
				J.Set(i, j, (r1[i]-r0[i])/h)
				// A function's figure depends on the knob when the step
				// (20 % of a demand) moves it by more than 5 % (below, the
				// emulations' noise: other durations change which random
				// draws go where; and a time that a fifth of the step
				// does not reach is not the work's).
				if i < len(f.fns) {
					rows[i] = math.Abs(r1[i]-r0[i]) > 0.05
				}
			}
			used[k.work] = rows
		}
		// (J^T J + lambda I) delta = -J^T r
		var jtj mat.Dense
		jtj.Mul(J.T(), J)
		for j := 0; j < n; j++ {
			jtj.Set(j, j, jtj.At(j, j)*(1+1e-3)+1e-12)
		}
		var jtr mat.VecDense
		jtr.MulVec(J.T(), mat.NewVecDense(m, r0))
		var delta mat.VecDense
		if err := delta.SolveVec(&jtj, &jtr); err != nil {
			break // no knob moves a figure
		}
		moved := false
		for j, k := range knobs {
			wp := f.params[k.work]
			v := k.get(wp)
			d := -delta.AtVec(j)
			// At most a factor of 4 either way per step.
			d = math.Max(math.Min(d, 3*math.Max(v, k.step(v))), -0.75*v)
			nv := math.Max(v+d, k.min)
			if math.Abs(nv-v) > 0.005*math.Max(math.Abs(v), 1) {
				moved = true
			}
			k.set(&wp, nv)
			f.params[k.work] = wp
		}
		if !moved {
			break
		}
	}
	f.params = best
	return used, bestR, nil
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// dependsOn returns the functions whose rows are in use.
func (f *appFitter) dependsOn(rows []bool) []string {
	var out []string
	for i, u := range rows {
		if u {
			out = append(out, f.fns[i])
		}
	}
	return out
}

// records counts the real records of functions fns: the cold ones, or
// those their medians are of (warm ones, cold ones for a function that ran
// only cold).
func (f *appFitter) records(fns []string, cold bool) int {
	n := 0
	for _, fn := range fns {
		o := f.real[fn]
		if cold || o.nWarm < minWarm {
			n += o.nCold
		} else {
			n += o.nWarm
		}
	}
	return n
}

// dependence maps each function to the work descriptors whose demand moves
// its warm time (found by the demand fit).
func (f *appFitter) dependence() map[string][]string {
	out := map[string][]string{}
	for _, u := range f.works {
		for _, fn := range f.deps[u.name] {
			out[fn] = append(out[fn], u.name)
		}
	}
	return out
}

// fitDemand fits every descriptor's demand on the warm medians (cold ones
// where a function ran only cold), then its threads:
//
//   - where the sizes its functions ran at tell thread counts apart (the
//     rates min(threads, cores, share) of two counts are not in the same
//     ratio at every size: sizes on both sides of one vCPU, or two sizes
//     above it), each count's fitted demand is tried and the one that
//     matches the medians best is kept (the code's count unless another
//     matches clearly better); where the sizes also lie on both sides of
//     the thread count, the share of the demand the runtime's other
//     threads take (overheadCPUMs, free once the share exceeds the
//     threads) is fitted with it;
//   - elsewhere (one size, or every size below one vCPU, where every thread
//     count runs at the share) the timings cannot tell, and the count the
//     code declares is kept, with the split of the demand into its
//     parallel, serial and overhead parts as the start has it.
func (f *appFitter) fitDemand() error {
	knobs := make([]knob, len(f.works))
	for i, u := range f.works {
		knobs[i] = demandKnob(u.name)
	}
	// The code declares the thread count: where the profile's figures
	// (the start) say another, the code's count is the start, as far as
	// the sizes cannot tell.
	var switched []string
	for _, u := range f.works {
		p := f.params[u.name]
		if d := max(u.declared.Threads, 1); p.Threads != d {
			switched = append(switched, fmt.Sprintf("%s: %d -> %d", u.name, p.Threads, d))
			p.Threads = d
			f.params[u.name] = p
		}
	}
	used, _, err := f.gaussNewton(knobs, []figure{timeOf}, 5)
	if err != nil {
		return err
	}
	f.deps = map[string][]string{}
	for _, u := range f.works {
		f.deps[u.name] = f.dependsOn(used[u.name])
	}
	if len(switched) > 0 {
		f.fit.Unidentified = append(f.fit.Unidentified, "threads of the start profile replaced by the count the code declares ("+strings.Join(switched, ", ")+")")
	}
	for _, u := range f.works {
		fns := f.deps[u.name]
		declared := max(u.declared.Threads, 1)
		if len(fns) == 0 {
			f.fit.Unidentified = append(f.fit.Unidentified, fmt.Sprintf("work[%q]: no function's time depends on it (too few records of %s): figures kept", u.name, strings.Join(u.tasks, ", ")))
			continue
		}
		sizes := f.sizesOf(fns)
		cands := threadCandidates(declared)
		if !f.threadsTell(sizes, cands) {
			f.fit.Unidentified = append(f.fit.Unidentified, fmt.Sprintf("work[%q].threads: not identifiable: its functions ran at %s, where thread counts differ in no ratio of their rates (below one vCPU every count runs at the share; at one size the demand absorbs the count): the %d the code declares is kept",
				u.name, f.sizeList(fns), declared))
			if p := f.params[u.name]; p.OverheadCPUMs > 0 || p.SerialCPUMs > 0 {
				f.fit.Unidentified = append(f.fit.Unidentified, fmt.Sprintf("work[%q]: the split of the demand into parallel (cpuMs), serial (serialCPUMs) and the runtime's other threads (overheadCPUMs) is not identifiable at these sizes: kept in the start's proportions", u.name))
			}
			continue
		}
		type trial struct {
			threads int
			rms     float64 // root mean square relative error of the medians of fns
			params  map[string]model.WorkParams
			split   bool
		}
		saved := clone(f.params)
		var trials []trial
		for _, th := range cands {
			f.params = clone(saved)
			p := f.params[u.name]
			p.Threads = th
			f.params[u.name] = p
			ks := slices.Clone(knobs)
			split := f.spans(sizes, th)
			if split {
				ks = append(ks, overheadKnob(u.name))
			}
			_, r, err := f.gaussNewton(ks, []figure{timeOf}, 3)
			if err != nil {
				return err
			}
			trials = append(trials, trial{th, f.rmsOf(r, fns), clone(f.params), split})
		}
		// The code's count unless it matches clearly worse than another:
		// by more than 2 % root mean square on the medians (two sizes fit
		// any count exactly once the overhead's share is free, and the
		// medians' noise is about 1 %).
		best := 0
		for i, tr := range trials {
			if tr.rms < trials[best].rms {
				best = i
			}
		}
		for i, tr := range trials {
			if tr.threads == declared && tr.rms <= trials[best].rms+0.02 {
				best = i
			}
		}
		f.params = trials[best].params
		var tried []string
		for _, tr := range trials {
			tried = append(tried, fmt.Sprintf("%d: %.1f %%", tr.threads, 100*tr.rms))
		}
		f.fit.Params = append(f.fit.Params, Param{Field: fmt.Sprintf("work[%q].threads", u.name), Value: float64(trials[best].threads),
			Method: fmt.Sprintf("the code's %d threads unless another count's fitted demand matches the medians of %s clearly better (at %s; RMS relative error by count %s)",
				declared, strings.Join(fns, ", "), f.sizeList(fns), strings.Join(tried, ", ")),
			N: f.records(fns, false)})
		if trials[best].split {
			p := f.params[u.name]
			f.fit.Params = append(f.fit.Params, Param{Field: fmt.Sprintf("work[%q].overheadCPUMs", u.name), Value: p.OverheadCPUMs,
				Method: fmt.Sprintf("the share of the demand (%.1f %%) that stops counting once the share exceeds the %d threads, fitted with the demand on %s at sizes on both sides of it",
					100*overheadKnob(u.name).get(p), p.Threads, strings.Join(fns, ", ")),
				N: f.records(fns, false)})
		}
	}
	for _, u := range f.works {
		fns := f.deps[u.name]
		if len(fns) == 0 {
			continue
		}
		p := f.params[u.name]
		which, cold := "warm", false
		if f.allCold(fns) {
			which, cold = "cold (only cold invocations: the cold extra kept at the start's)", true
		}
		f.fit.Params = append(f.fit.Params, Param{Field: fmt.Sprintf("work[%q].cpuMs", u.name), Value: p.CPUMs,
			Method: fmt.Sprintf("demand (with serialCPUMs %.3g and overheadCPUMs %.3g) whose emulation matches the %s median internalDuration of %s",
				p.SerialCPUMs, p.OverheadCPUMs, which, strings.Join(fns, ", ")),
			N: f.records(fns, cold)})
	}
	return nil
}

// refineDemand fits the demands again, on the same medians, once the
// memory is fitted, where the profile has memory pressure
// (model.CPU.MemoryPressure): the memory of a work decides how fast the
// work of a function short of memory runs, so the demands fitted with the
// start's memory figures need not match with the fitted ones. Without
// pressure the memory does not move a time: nothing to do.
func (f *appFitter) refineDemand() error {
	cpu := f.base.CPU
	if cpu.MemoryPressureHeadroomMB <= 0 || cpu.MemoryPressureCPUPerMB <= 0 {
		return nil
	}
	knobs := make([]knob, len(f.works))
	for i, u := range f.works {
		knobs[i] = demandKnob(u.name)
	}
	_, _, err := f.gaussNewton(knobs, []figure{timeOf}, 3)
	return err
}

// rmsOf is the root mean square of the residuals r (of the first figure)
// of the functions fns.
func (f *appFitter) rmsOf(r []float64, fns []string) float64 {
	var ss float64
	n := 0
	for i, fn := range f.fns {
		if slices.Contains(fns, fn) {
			ss += r[i] * r[i]
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return math.Sqrt(ss / float64(n))
}

// threadCandidates are the thread counts tried where the sizes tell them
// apart: 1, 2 and 4, and the code's count.
func threadCandidates(declared int) []int {
	c := []int{1, 2, 4}
	if !slices.Contains(c, declared) {
		c = append(c, declared)
		slices.Sort(c)
	}
	return c
}

// threadsTell reports whether work run at sizes (MB) tells some of the
// thread counts apart: their rates, min(threads, cores, share), are not in
// one ratio at every size (at one size any ratio is absorbed by the
// demand).
func (f *appFitter) threadsTell(sizes []int, cands []int) bool {
	cpu := f.base.CPU
	for i, a := range cands {
		for _, b := range cands[i+1:] {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, mb := range sizes {
				r := cpu.Rate(mb, a) / cpu.Rate(mb, b)
				lo, hi = math.Min(lo, r), math.Max(hi, r)
			}
			if hi > 1.05*lo {
				return true
			}
		}
	}
	return false
}

// spans reports whether sizes lie on both sides of the share where the
// runtime's other threads stop competing with threads work threads.
func (f *appFitter) spans(sizes []int, threads int) bool {
	below, above := false, false
	for _, mb := range sizes {
		if f.base.CPU.Share(mb) > float64(threads) {
			above = true
		} else {
			below = true
		}
	}
	return below && above
}

// sizesOf returns the memory sizes the functions fns ran at, as their
// records show them, ascending.
func (f *appFitter) sizesOf(fns []string) []int {
	var out []int
	for _, fn := range fns {
		for _, mb := range f.sizes[fnOf(fn)] {
			if !slices.Contains(out, mb) {
				out = append(out, mb)
			}
		}
	}
	slices.Sort(out)
	return out
}

// sizeList says at which sizes the functions ran: "F:128 G:1536".
func (f *appFitter) sizeList(fns []string) string {
	var parts []string
	for _, fn := range fns {
		parts = append(parts, fn+":"+intsString(f.sizes[fnOf(fn)]))
	}
	return strings.Join(parts, " ")
}

// kindOf says which invocations of fn its medians are of.
func (f *appFitter) kindOf(fn string) string {
	if f.real[fn].nWarm >= minWarm {
		return "warm"
	}
	return "cold"
}

// allCold reports whether none of fns has enough warm records (the demand
// was fitted on cold ones).
func (f *appFitter) allCold(fns []string) bool {
	for _, fn := range fns {
		if !math.IsNaN(f.real[fn].warm) {
			return false
		}
	}
	return len(fns) > 0
}

// fitJitter fits each descriptor's share of the invocations' jitter on the
// spread (interquartile range over median) of the warm internal durations
// of the functions whose time depends on it, with its demand on their
// medians.
func (f *appFitter) fitJitter() error {
	if f.base.CPU.WorkJitter.IsZero() {
		f.fit.Unidentified = append(f.fit.Unidentified, "jitterScale: the platform profile has no cpu.workJitter to scale")
		return nil
	}
	// The spread tells a descriptor's jitter in the functions whose time
	// depends on it alone (elsewhere other work, or requests of other
	// kinds, spread the durations too).
	deps := f.dependence()
	var knobs []knob
	var fitted []*workUse
	var pure []string
	pureOf := map[string][]string{}
	for _, u := range f.works {
		for _, fn := range f.deps[u.name] {
			if len(deps[fn]) == 1 && !math.IsNaN(f.real[fn].spread) {
				pureOf[u.name] = append(pureOf[u.name], fn)
			}
		}
		if len(pureOf[u.name]) == 0 {
			if len(f.deps[u.name]) > 0 {
				f.fit.Unidentified = append(f.fit.Unidentified, fmt.Sprintf("work[%q].jitterScale: no function whose time depends on it alone has %d warm (or, where it ran only cold, cold) records (of %s); kept at %.3g",
					u.name, minSpread, strings.Join(f.deps[u.name], ", "), jitterKnob(u.name).get(f.params[u.name])))
			}
			continue
		}
		knobs = append(knobs, jitterKnob(u.name))
		fitted = append(fitted, u)
		pure = append(pure, pureOf[u.name]...)
	}
	if len(knobs) == 0 {
		return nil
	}
	// With the demand of the same descriptors: a wider or narrower spread
	// of a skewed jitter moves the medians too, which the demand keeps.
	for _, u := range fitted {
		knobs = append(knobs, demandKnob(u.name))
	}
	spread := spreadOf(pure)
	start := clone(f.params)
	_, r, err := f.gaussNewton(knobs, []figure{timeOf, spread}, 3)
	if err != nil {
		return err
	}
	// A jitter that does not explain the spread is not the spread's cause:
	// kept only when it halves the spread's squared error, else back to
	// the start (where the start already matches, nothing is lost).
	startR, err := f.emulate(start)
	if err != nil {
		return err
	}
	r0 := f.residuals(startR, spread)
	r1 := r[len(f.fns):]
	if dot(r1, r1) > 0.5*dot(r0, r0) {
		f.params = start
		for _, u := range fitted {
			f.fit.Unidentified = append(f.fit.Unidentified, fmt.Sprintf("work[%q].jitterScale: scaling the platform's jitter does not explain the spread (IQR / median) of %s (RMS relative error %.0f %% at the start, %.0f %% at best): kept at %.3g",
				u.name, strings.Join(pureOf[u.name], ", "), 100*math.Sqrt(dot(r0, r0)/float64(len(pure))), 100*math.Sqrt(dot(r1, r1)/float64(len(pure))), jitterKnob(u.name).get(f.params[u.name])))
		}
		return nil
	}
	for _, u := range fitted {
		fns := pureOf[u.name]
		f.fit.Params = append(f.fit.Params, Param{Field: fmt.Sprintf("work[%q].jitterScale", u.name), Value: jitterKnob(u.name).get(f.params[u.name]),
			Method: fmt.Sprintf("scale of cpu.workJitter whose emulation matches the spread (IQR / median) of the internalDuration of %s (warm; cold where only cold), with the demand on the medians", strings.Join(fns, ", ")),
			N:      f.records(fns, false)})
	}
	return nil
}

// fitCold fits the cold extra of each descriptor on the cold medians of the
// functions that depend on it.
func (f *appFitter) fitCold() error {
	var knobs []knob
	var fitted []*workUse
	for _, u := range f.works {
		fns := f.deps[u.name]
		n := 0
		for _, fn := range fns {
			if !math.IsNaN(f.real[fn].cold) {
				n++
			}
		}
		if n == 0 || f.allCold(fns) {
			f.fit.Unidentified = append(f.fit.Unidentified, fmt.Sprintf("work[%q].coldCPUMs: needs cold and warm invocations (at least %d and %d of a function) of %s; kept at %.3g",
				u.name, minCold, minWarm, strings.Join(fns, ", "), f.params[u.name].ColdCPUMs))
			continue
		}
		knobs = append(knobs, coldKnob(u.name, f.params[u.name].CPUMs))
		fitted = append(fitted, u)
	}
	if len(knobs) == 0 {
		return nil
	}
	if _, _, err := f.gaussNewton(knobs, []figure{coldOf}, 4); err != nil {
		return err
	}
	for _, u := range fitted {
		fns := f.deps[u.name]
		f.fit.Params = append(f.fit.Params, Param{Field: fmt.Sprintf("work[%q].coldCPUMs", u.name), Value: f.params[u.name].ColdCPUMs,
			Method: fmt.Sprintf("extra demand of a cold start whose emulation matches the cold median internalDuration of %s (platform cold-start figures kept)", strings.Join(fns, ", ")),
			N:      f.records(fns, true)})
	}
	return nil
}

// fitTail fits each descriptor's tail on the median billed minus internal
// duration of the warm invocations of the functions that depend on it.
func (f *appFitter) fitTail() error {
	var knobs []knob
	var fitted []*workUse
	for _, u := range f.works {
		if len(f.deps[u.name]) == 0 {
			continue
		}
		knobs = append(knobs, tailKnob(u.name))
		fitted = append(fitted, u)
	}
	if len(knobs) == 0 {
		return nil
	}
	if _, _, err := f.gaussNewton(knobs, []figure{tailOf}, 3); err != nil {
		return err
	}
	for _, u := range fitted {
		fns := f.deps[u.name]
		f.fit.Params = append(f.fit.Params, Param{Field: fmt.Sprintf("work[%q].tailCPUMs", u.name), Value: f.params[u.name].TailCPUMs,
			Method: fmt.Sprintf("demand after the task returned whose emulation matches the median billed - internal duration of %s", strings.Join(fns, ", ")),
			N:      f.records(fns, false)})
	}
	return nil
}

// fitMemory moves each descriptor's memory by the difference of the median
// Max Memory Used of the warm invocations of its busiest function.
func (f *appFitter) fitMemory() error {
	emu, err := f.emulate(f.params)
	if err != nil {
		return err
	}
	for _, u := range f.works {
		fns := f.deps[u.name]
		// The function with the most records of the kind its median
		// memory is of (warm ones, or cold ones where it ran only cold).
		best, n := "", 0
		for _, fn := range fns {
			o := f.real[fn]
			k := o.nWarm
			if o.nWarm < minWarm {
				k = o.nCold
			}
			if k > n && !math.IsNaN(o.mem) && !math.IsNaN(emu[fn].mem) {
				best, n = fn, k
			}
		}
		if best == "" {
			continue
		}
		p := f.params[u.name]
		p.MemoryMB = math.Max(0, p.MemoryMB+f.real[best].mem-emu[best].mem)
		f.params[u.name] = p
		f.fit.Params = append(f.fit.Params, Param{Field: fmt.Sprintf("work[%q].memoryMB", u.name), Value: p.MemoryMB,
			Method: fmt.Sprintf("moved by the real minus emulated median Max Memory Used of %s's %s invocations", best, f.kindOf(best)), N: n})
	}
	return nil
}

// ErrNoSetup is wrapped when the setup to fit on is not in the directory.
var ErrNoSetup = errors.New("no such setup")

// FitSetup picks the setup to fit on in d: its name, or "first" for the
// first setup (in creation order) that has traces and rules.
func FitSetup(d *trace.Dir, name string) (string, error) {
	if d.Configs == nil {
		return "", trace.ErrNoConfigs
	}
	var have []string
	for _, n := range d.Configs.Names() {
		if _, ok := d.Traces[n]; ok {
			have = append(have, n)
		}
	}
	if len(have) == 0 {
		return "", fmt.Errorf("%w: no setup has both traces and rules", ErrNoSetup)
	}
	if name == "first" {
		return have[0], nil
	}
	if !slices.Contains(have, name) {
		return "", fmt.Errorf("%w %q with traces and rules (setups: %s)", ErrNoSetup, name, strings.Join(have, " "))
	}
	return name, nil
}

// PrintAppFit writes what the fit did: the load, every fitted figure with
// its method and records, what it could not identify, and each function
// real against emulated.
func PrintAppFit(w io.Writer, ft *AppFit) error {
	fmt.Fprintf(w, "fitted %s on setup %s (%d emulations)\n", ft.Workload, ft.Setup, ft.Emulations)
	fmt.Fprintf(w, "load: %s\n\n", ft.LoadWhy)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tvalue\trecords\tmethod")
	for _, p := range ft.Params {
		fmt.Fprintf(tw, "%s\t%.4g\t%d\t%s\n", p.Field, p.Value, p.N, p.Method)
	}
	tw.Flush()
	if len(ft.Unidentified) > 0 {
		fmt.Fprintln(w, "\nnot identified from these traces (kept):")
		for _, u := range ft.Unidentified {
			fmt.Fprintln(w, "  - "+u)
		}
	}
	fmt.Fprintln(w, "\nfunctions, real / emulated with the fitted figures (medians, ms):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "function\tMB\twarm\tcold\twarm real\twarm emu\tcold real\tcold emu\ttail real\ttail emu\tmax mem real\tmax mem emu\t  work")
	for _, fn := range ft.Functions {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t  %s\n", fn.Function, fn.MemoryMB, fn.Warm, fn.Cold,
			fixed(fn.RealWarmMs, 1), fixed(fn.EmuWarmMs, 1), fixed(fn.RealColdMs, 1), fixed(fn.EmuColdMs, 1),
			fixed(fn.RealTailMs, 1), fixed(fn.EmuTailMs, 1), fixed(fn.RealMemoryMB, 0), fixed(fn.EmuMemoryMB, 0), strings.Join(fn.Work, " "))
	}
	return tw.Flush()
}

// Overlay is the fit as a profile overlay (model.Overlay) of the fitted
// work descriptors, described with the traces it was fitted on.
func (ft *AppFit) Overlay(dir string) model.Overlay {
	return model.Overlay{
		Overlay: model.OverlayKind,
		Name:    ft.Workload + "-fit-" + ft.Setup,
		Description: fmt.Sprintf("Work figures of %s fitted by simulate calibrate --fit-on %s on %s, over the platform profile %q (kept as it is).",
			ft.Workload, ft.Setup, shortDir(dir), ft.Profile.Name),
		Work: ft.Work,
	}
}
