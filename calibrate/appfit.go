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
	// internal durations (NaN with fewer than minSpread).
	spread       float64
	nWarm, nCold int
}

// Minimum records for a median the fit matches.
const (
	minWarm   = 10
	minCold   = 3
	minSpread = 50
)

// observe computes each function's figures from records.
func observe(recs []trace.Record) map[string]obs {
	type acc struct{ warm, cold, tail, mem, coldTail, coldMem []float64 }
	by := map[string]*acc{}
	for i := range recs {
		r := &recs[i]
		if r.InternalDuration < 0 {
			continue
		}
		a := by[r.CurrentFunction]
		if a == nil {
			a = &acc{}
			by[r.CurrentFunction] = a
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
		if len(a.warm) >= minSpread {
			s := slices.Clone(a.warm)
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
	ctx     context.Context
	w       workloads.Workload
	setup   *fusionsim.Setup
	entry   fusionsim.Route
	spec    load.Spec
	base    model.Profile
	seed    uint64
	group   bool
	real    map[string]obs
	fns     []string // functions with records, sorted
	works   []*workUse
	params  map[string]model.WorkParams
	fit     *AppFit
	progess func(string)
	deps    map[string][]string // work -> the functions whose warm time depends on it
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
	spec, why, err := LoadFor(recs, opt.Load)
	if err != nil {
		return nil, err
	}
	seed := SetupSeed(opt.Seed, setup.Name())
	spec.Seed = seed
	emulated, entry, notes, err := WithTracedMemory(w.App, setup, recs)
	if err != nil {
		return nil, err
	}
	f := &appFitter{
		ctx: ctx, w: w, setup: emulated, entry: entry, spec: spec, base: prof, seed: seed,
		real: observe(recs), params: map[string]model.WorkParams{}, progess: opt.Progress,
		fit: &AppFit{Workload: w.Name(), Setup: setup.Name(), Load: spec, LoadWhy: why},
	}
	f.fit.Unidentified = append(f.fit.Unidentified, notes...)
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
			Function: fn, MemoryMB: f.memoryOf(recs, fn), Warm: r.nWarm, Cold: r.nCold,
			RealWarmMs: r.warm, EmuWarmMs: e.warm, RealColdMs: r.cold, EmuColdMs: e.cold,
			RealTailMs: r.tail, EmuTailMs: e.tail, RealMemoryMB: r.mem, EmuMemoryMB: e.mem, Work: deps[fn],
		})
	}
	return f.fit, nil
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
	if _, err := Emulate(f.ctx, spied, f.setup, f.entry, f.spec, f.profile(nil), f.seed, f.group); err != nil {
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
// code's.
func (f *appFitter) start(u *workUse) model.WorkParams {
	if p, ok := f.base.Work[u.name]; ok {
		return p
	}
	d := u.declared
	return model.WorkParams{CPUMs: d.CPUMs, Threads: max(d.Threads, 1), SerialCPUMs: d.SerialCPUMs, TailCPUMs: d.TailCPUMs, MemoryMB: d.MemoryMB}
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
	recs, err := Emulate(f.ctx, f.w, f.setup, f.entry, f.spec, f.profile(params), f.seed, f.group)
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

// figure selects one figure of a function's observation.
type figure func(o obs) float64

func warmOf(o obs) float64 { return o.warm }

// timeOf is the warm median, or the cold one for a function that ran only
// cold (the cold-start protocol).
func timeOf(o obs) float64 {
	if math.IsNaN(o.warm) {
		return o.cold
	}
	return o.warm
}

func spreadOf(o obs) float64 { return o.spread }
func coldOf(o obs) float64   { return o.cold }
func tailOf(o obs) float64   { return o.tail }

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
// every function where both are known.
func (f *appFitter) residuals(emu map[string]obs, fig figure) []float64 {
	r := make([]float64, len(f.fns))
	for i, fn := range f.fns {
		re, em := fig(f.real[fn]), fig(emu[fn])
		if math.IsNaN(re) || math.IsNaN(em) {
			continue
		}
		r[i] = (em - re) / math.Max(math.Abs(re), 1)
	}
	return r
}

// gaussNewton moves the knobs until the emulated figures fig of the
// functions match the real ones: at most iterations steps, each from the
// Jacobian of finite differences. It returns the knobs' rows in use (the
// functions whose figure depends on each knob) and the squared error.
func (f *appFitter) gaussNewton(knobs []knob, fig figure, iterations int) (map[string][]bool, float64, error) {
	n, m := len(knobs), len(f.fns)
	used := map[string][]bool{}
	var sse float64
	for it := 0; it < iterations; it++ {
		base, err := f.emulate(f.params)
		if err != nil {
			return nil, 0, err
		}
		r0 := f.residuals(base, fig)
		sse = dot(r0, r0)
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
				return nil, 0, err
			}
			r1 := f.residuals(emu, fig)
			rows := make([]bool, m)
			for i := range r1 {
				J.Set(i, j, (r1[i]-r0[i])/h)
				// A figure depends on the knob when the step moves it by
				// more than 3 % (below, the emulations' noise: other
				// durations change which random draws go where).
				rows[i] = math.Abs(r1[i]-r0[i]) > 0.03
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
	return used, sse, nil
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

// records counts the real records of functions with the figure known.
func (f *appFitter) records(fns []string, cold bool) int {
	n := 0
	for _, fn := range fns {
		if cold {
			n += f.real[fn].nCold
		} else {
			n += f.real[fn].nWarm
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

// fitDemand fits every descriptor's demand on the warm medians, and its
// threads where the functions that spend it ran at sizes that tell thread
// counts apart (a share above one vCPU: below it every thread count runs
// at the share).
func (f *appFitter) fitDemand() error {
	knobs := make([]knob, len(f.works))
	for i, u := range f.works {
		knobs[i] = demandKnob(u.name)
	}
	used, sse, err := f.gaussNewton(knobs, timeOf, 5)
	if err != nil {
		return err
	}
	f.deps = map[string][]string{}
	for _, u := range f.works {
		f.deps[u.name] = f.dependsOn(used[u.name])
	}
	// Threads: try the other counts where the sizes can tell.
	for _, u := range f.works {
		fns := f.deps[u.name]
		maxShare := 0.0
		for _, fn := range fns {
			maxShare = math.Max(maxShare, f.base.CPU.Share(f.sizeOf(fn)))
		}
		declared := f.params[u.name].Threads
		if len(fns) == 0 {
			f.fit.Unidentified = append(f.fit.Unidentified, fmt.Sprintf("work[%q]: no function's time depends on it (too few records of %s): figures kept", u.name, strings.Join(u.tasks, ", ")))
			continue
		}
		if maxShare <= 1 {
			f.fit.Unidentified = append(f.fit.Unidentified, fmt.Sprintf("work[%q].threads: not identifiable: its functions (%s) run at %.2f vCPU at most, where every thread count runs at the share; kept at %d",
				u.name, strings.Join(fns, ", "), maxShare, declared))
			continue
		}
		best, bestSSE := declared, sse
		saved := clone(f.params)
		for _, th := range []int{1, 2, 4} {
			if th == declared {
				continue
			}
			p := f.params[u.name]
			p.Threads = th
			f.params[u.name] = p
			_, s, err := f.gaussNewton(knobs, timeOf, 4)
			if err != nil {
				return err
			}
			if s < bestSSE*0.9 {
				best, bestSSE, saved = th, s, clone(f.params)
			}
			f.params = clone(saved)
		}
		f.params = saved
		f.fit.Params = append(f.fit.Params, Param{Field: fmt.Sprintf("work[%q].threads", u.name), Value: float64(best),
			Method: fmt.Sprintf("the thread count (1, 2, 4) whose fitted demand best matches the warm medians of %s (up to %.2f vCPU)", strings.Join(fns, ", "), maxShare),
			N:      f.records(fns, false)})
	}
	for _, u := range f.works {
		fns := f.deps[u.name]
		if len(fns) == 0 {
			continue
		}
		p := f.params[u.name]
		which, cold := "warm", false
		if f.allCold(fns) {
			which, cold = "cold (only cold invocations: the cold extra kept at the base's)", true
		}
		f.fit.Params = append(f.fit.Params, Param{Field: fmt.Sprintf("work[%q].cpuMs", u.name), Value: p.CPUMs,
			Method: fmt.Sprintf("demand (with serialCPUMs %.3g and overheadCPUMs %.3g in the base's proportions) whose emulation matches the %s median internalDuration of %s",
				p.SerialCPUMs, p.OverheadCPUMs, which, strings.Join(fns, ", ")),
			N: f.records(fns, cold)})
	}
	return nil
}

func (f *appFitter) sizeOf(fn string) int {
	for _, id := range f.functions() {
		if id.Task == fn {
			return id.MemoryMB
		}
	}
	return fusionsim.DefaultMemoryMB
}

func (f *appFitter) functions() []fusionsim.FunctionID {
	ids, err := workloads.Functions(f.w.App, f.setup, f.entry.Function())
	if err != nil {
		return []fusionsim.FunctionID{f.entry.Function()}
	}
	return ids
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
// of the functions whose time depends on it.
func (f *appFitter) fitJitter() error {
	if f.base.CPU.WorkJitter.IsZero() {
		f.fit.Unidentified = append(f.fit.Unidentified, "jitterScale: the platform profile has no cpu.workJitter to scale")
		return nil
	}
	var knobs []knob
	var fitted []*workUse
	for _, u := range f.works {
		fns := f.deps[u.name]
		n := 0
		for _, fn := range fns {
			if !math.IsNaN(f.real[fn].spread) {
				n++
			}
		}
		if n == 0 {
			if len(fns) > 0 {
				f.fit.Unidentified = append(f.fit.Unidentified, fmt.Sprintf("work[%q].jitterScale: fewer than %d warm records of %s; kept at the platform's jitter", u.name, minSpread, strings.Join(fns, ", ")))
			}
			continue
		}
		knobs = append(knobs, jitterKnob(u.name))
		fitted = append(fitted, u)
	}
	if len(knobs) == 0 {
		return nil
	}
	if _, _, err := f.gaussNewton(knobs, spreadOf, 3); err != nil {
		return err
	}
	for _, u := range fitted {
		fns := f.deps[u.name]
		f.fit.Params = append(f.fit.Params, Param{Field: fmt.Sprintf("work[%q].jitterScale", u.name), Value: jitterKnob(u.name).get(f.params[u.name]),
			Method: fmt.Sprintf("scale of cpu.workJitter whose emulation matches the spread (IQR / median) of the warm internalDuration of %s", strings.Join(fns, ", ")),
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
	if _, _, err := f.gaussNewton(knobs, coldOf, 4); err != nil {
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
	if _, _, err := f.gaussNewton(knobs, tailOf, 3); err != nil {
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
		best, n := "", 0
		for _, fn := range fns {
			if o := f.real[fn]; o.nWarm > n && !math.IsNaN(o.mem) && !math.IsNaN(emu[fn].mem) {
				best, n = fn, o.nWarm
			}
		}
		if best == "" {
			continue
		}
		p := f.params[u.name]
		p.MemoryMB = math.Max(0, p.MemoryMB+f.real[best].mem-emu[best].mem)
		f.params[u.name] = p
		f.fit.Params = append(f.fit.Params, Param{Field: fmt.Sprintf("work[%q].memoryMB", u.name), Value: p.MemoryMB,
			Method: fmt.Sprintf("moved by the real minus emulated median Max Memory Used of %s's warm invocations", best), N: n})
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
