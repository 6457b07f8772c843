package calibrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// Fit is a fitted profile with the account of every figure.
type Fit struct {
	Profile model.Profile
	// Params lists the fitted figures in the order they were fitted.
	Params []Param
	// Skipped lists figures kept from the base profile for lack of data.
	Skipped []string
}

// Param is one fitted figure.
type Param struct {
	// Field is the profile field, e.g. "remote.asyncAck.cpuMs".
	Field string
	// Value is the fitted value (for a distribution, its median).
	Value float64
	// Method says how it was fitted, from which observations.
	Method string
	// N is the number of observations used.
	N int
	// ByMemory are the per-memory-size medians of the observation or the
	// per-size estimates, MB -> value (nil when not by size).
	ByMemory map[int]float64
}

// ErrNoData is wrapped when a fit lacks the observations it needs.
var ErrNoData = errors.New("no data")

// Task names of the calibration workloads the fit reads (see the package
// documentation for what each observation isolates).
const (
	taskSplitA = "A" // split entry: async C, sync B; with B, D, E local it only sleeps
	taskSplitC = "C" // split: async F and G, then burns
	taskSplitF = "F" // split: two burn(7) workers, nothing else
	taskSplitG = "G" // split and splittest: two burn(8.8) workers, nothing else
	taskIoTI   = "I" // IoT entry
	taskIoTSE  = "SE"
	taskIoTCS  = "CS"
	taskIoTCSL = "CSL"
)

// plainTasks are split's tasks that only sleep or make one sync call and
// sleep: no CPU work of their own.
var plainTasks = map[string]bool{"B": true, "D": true, "E": true}

// burnOnly maps the tasks that only burn to their work descriptor.
var burnOnly = map[string]string{taskSplitF: workloads.WorkBurn2x7, taskSplitG: workloads.WorkBurn2x8p8}

// samplesFrom collects observations.
type fitter struct {
	ds  *Dataset
	p   model.Profile
	fit *Fit
	// haveOps: fitEntryOps fitted the period, the put and the ack.
	haveOps bool
}

func (f *fitter) note(p Param) { f.fit.Params = append(f.fit.Params, p) }

func (f *fitter) skip(field string, err error) {
	f.fit.Skipped = append(f.fit.Skipped, fmt.Sprintf("%s: %v", field, err))
}

// FitDirs reads directories of real traces in the prototype's layout and
// fits a profile on all of them (FitProfile), named "calibrated" with the
// directories in its description. The directories of emulated take part
// only in the figures fitted by emulating their setups (FitLocalCalls,
// FitMemoryPressure),
// not in the closed-form fits, whose observations are selected for the
// calibration workloads (IoT, split, splittest).
func FitDirs(dirs []string, base model.Profile, emulated ...string) (*Fit, error) {
	m := make(map[string]*trace.Dir, len(dirs))
	all := make(map[string]*trace.Dir, len(dirs)+len(emulated))
	var names, emulatedNames []string
	for i, d := range append(slices.Clone(dirs), emulated...) {
		td, err := trace.ReadDir(d)
		if err != nil {
			return nil, err
		}
		key := shortDir(d)
		if _, dup := all[key]; dup {
			return nil, fmt.Errorf("%s: directory %s given twice", d, key)
		}
		all[key] = td
		if i < len(dirs) {
			m[key] = td
			names = append(names, key)
		} else {
			emulatedNames = append(emulatedNames, key)
		}
	}
	ds, err := NewDataset(m)
	if err != nil {
		return nil, err
	}
	ft, err := fitClosedForm(ds, base)
	if err != nil {
		return nil, err
	}
	// The handler's demand per local call is fitted by emulating setups
	// (FitLocalCalls), with every other figure fitted; the closed-form fits
	// are then made again with it, until it no longer changes (at most
	// three times).
	// Its emulations run without memory pressure: the kinds it compares
	// have 46 MB free or more, beyond any headroom the traces show, and
	// without it the fit does not depend on the base's pressure, which
	// FitMemoryPressure fits anew below. (It depends on the base's demand
	// per local call, where the closed-form fits start: the emulated
	// medians are whole milliseconds, and make calibration run again on
	// its own output moves the demand by a step or two of the bisection,
	// 0.002 vCPU-ms, as it did before the pressure.)
	var local *Param
	for range 3 {
		noPressure := ft.Profile
		noPressure.CPU.MemoryPressureHeadroomMB, noPressure.CPU.MemoryPressureCPUPerMB = 0, 0
		p, err := FitLocalCalls(context.Background(), all, noPressure)
		if errors.Is(err, ErrNoData) {
			ft.Skipped = append(ft.Skipped, fmt.Sprintf("local calls: %v", err))
			break
		}
		if err != nil {
			return nil, fmt.Errorf("fitting local calls: %w", err)
		}
		local = &p
		if p.Value == base.Handler.LocalCallCPUMs {
			break
		}
		base.Handler.LocalCallCPUMs = p.Value
		if ft, err = fitClosedForm(ds, base); err != nil {
			return nil, err
		}
	}
	if local != nil {
		ft.Profile.Handler.LocalCallCPUMs = local.Value
		ft.Params = append(ft.Params, *local)
	}
	// The memory pressure, by emulating setups too, with every other
	// figure fitted. The closed-form fits and the local calls' need no
	// second round: their observations have 38 and 46 MB free or more,
	// beyond any headroom the traces show (FitMemoryPressure reports the
	// levels of free memory it compares).
	headroom, perMB, err := FitMemoryPressure(context.Background(), all, ft.Profile)
	switch {
	case errors.Is(err, ErrNoData):
		ft.Skipped = append(ft.Skipped, fmt.Sprintf("memory pressure: %v", err))
	case err != nil:
		return nil, fmt.Errorf("fitting the memory pressure: %w", err)
	default:
		ft.Profile.CPU.MemoryPressureHeadroomMB, ft.Profile.CPU.MemoryPressureCPUPerMB = headroom.Value, perMB.Value
		ft.Params = append(ft.Params, headroom, perMB)
	}
	slices.Sort(names)
	slices.Sort(emulatedNames)
	ft.Profile.Name = "calibrated"
	ft.Profile.Description = "Fitted by simulate calibrate on the real AWS Lambda traces of the Fusionize++ prototype (" +
		strings.Join(names, ", ") + ")"
	if len(emulatedNames) > 0 {
		ft.Profile.Description += ", the handler's demand per local call and the memory pressure by emulating the setups of " + strings.Join(emulatedNames, ", ") + " too"
	}
	ft.Profile.Description += "; the README's calibration section says how each figure was fitted."
	return ft, nil
}

// fitClosedForm is FitProfile until the variation of the I/O operations'
// CPU demand (cpu.ioVariationCPUMs), fitted after the demands, which the
// entry's operations fit with it (fitEntryOps), no longer changes: fit
// again from the base with the variation found (at most three times).
func fitClosedForm(ds *Dataset, base model.Profile) (*Fit, error) {
	ft, err := FitProfile(ds, base)
	if err != nil {
		return nil, err
	}
	for range 3 {
		if ft.Profile.CPU.IOVariationCPUMs == base.CPU.IOVariationCPUMs {
			break
		}
		base.CPU.IOVariationCPUMs = ft.Profile.CPU.IOVariationCPUMs
		if ft, err = FitProfile(ds, base); err != nil {
			return nil, err
		}
	}
	return ft, nil
}

// FitProfile fits the profile's parameters on the dataset, starting from
// base (whose figures stay where the data says nothing).
func FitProfile(ds *Dataset, base model.Profile) (*Fit, error) {
	f := &fitter{ds: ds, p: base, fit: &Fit{}}
	f.p.Work = make(map[string]model.WorkParams, len(base.Work))
	for k, v := range base.Work {
		f.p.Work[k] = v
	}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"entry operations (CPU quota, put, async ack)", f.fitEntryOps},
		{"first event", f.fitFirstEvent},
		{"burn work", f.fitBurn},
		{"async calls", f.fitAsync},
		{"I/O operations' CPU variation", f.fitIOVariation},
		{"first connection", f.fitFirstConnection},
		{"sync calls", f.fitSync},
		{"storage", f.fitStorage},
		{"cold starts", f.fitInit},
		{"burn cold start and tail", f.fitBurnColdAndTail},
		{"handler", f.fitHandler},
		{"timers", f.fitTimer},
		{"memory", f.fitMemory},
		{"client", f.fitClient},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			if errors.Is(err, ErrNoData) {
				f.skip(s.name, err)
				continue
			}
			return nil, fmt.Errorf("fitting %s: %w", s.name, err)
		}
	}
	if err := f.p.Validate(); err != nil {
		return nil, fmt.Errorf("fitted profile: %w", err)
	}
	f.fit.Profile = f.p
	return f.fit, nil
}

// ioOnlyA reports whether r is split's A with B, D and E local: its only
// remote call is the async call of C, and it does no CPU work.
func ioOnlyA(r *trace.Record) bool {
	if r.CurrentFunction != taskSplitA {
		return false
	}
	rc := RemoteCalls(r)
	return len(rc) == 1 && !rc[0].Sync && rc[0].Called == taskSplitC && len(LocalCalls(r)) > 0
}

// coldExcess returns, per memory size, the median internalDuration of cold
// records minus that of warm ones, of the records sel accepts (per setup,
// then the median over setups of a size).
func (f *fitter) coldExcess(sel func(r *trace.Record) bool) (Samples, int) {
	type key struct {
		setup *SetupData
		mb    int
	}
	cold, warm := map[key][]float64{}, map[key][]float64{}
	f.ds.Each(func(inv Inv) {
		if !sel(inv.Record) || inv.InternalDuration < 0 {
			return
		}
		k := key{inv.Setup, inv.MemoryMB}
		if inv.IsColdStart {
			cold[k] = append(cold[k], float64(inv.InternalDuration))
		} else {
			warm[k] = append(warm[k], float64(inv.InternalDuration))
		}
	})
	out := Samples{}
	n := 0
	for k, c := range cold {
		w := warm[k]
		if len(c) < 3 || len(w) < 10 {
			continue
		}
		out.Add(k.mb, Median(c)-Median(w))
		n += len(c)
	}
	return out, n
}

// fitFirstEvent fits coldStart.firstEvent.cpuMs from the cold invocations
// of the plain tasks (split's B, D, E: they sleep, B and D after one sync
// call): per setup and size, the cold-minus-warm median of internalDuration
// less the sync call's time is the first event's time, which the CPU model
// (full quota at the start) turns into a demand; the median over setups
// and sizes. Failing those, split's A with B, D and E local at one vCPU or
// more (its excess also holds its local calls' own cold overhead). When the
// entry operations gave no period, it is fitted here from A between 0.2
// and 1 vCPU.
func (f *fitter) fitFirstEvent() error {
	type key struct {
		setup *SetupData
		fn    string
		mb    int
	}
	cold, warm := map[key][]float64{}, map[key][]float64{}
	f.ds.Each(func(inv Inv) {
		if !plainTasks[inv.CurrentFunction] || len(LocalCalls(inv.Record)) > 0 || inv.InternalDuration < 0 {
			return
		}
		rc := RemoteCalls(inv.Record)
		v := float64(inv.InternalDuration)
		switch {
		case len(rc) == 1 && rc[0].Sync:
			v -= float64(rc[0].Time)
		case len(rc) > 0:
			return
		}
		k := key{inv.Setup, inv.CurrentFunction, inv.MemoryMB}
		if inv.IsColdStart {
			cold[k] = append(cold[k], v)
		} else {
			warm[k] = append(warm[k], v)
		}
	})
	est := Samples{}
	excess := Samples{}
	n := 0
	for k, c := range cold {
		w := warm[k]
		if len(c) < 3 || len(w) < 10 {
			continue
		}
		d := Median(c) - Median(w)
		excess.Add(k.mb, d)
		cpu := f.p.CPU
		est.Add(k.mb, solve(func(w float64) float64 { return CPUTime(cpu, w, k.mb, 1, cpu.Burst(k.mb)) }, d, 0, 1e4))
		n += len(c)
	}
	if est.Count() > 0 {
		w := round(Median(est.All()), 2)
		f.p.ColdStart.FirstEvent = model.Cost{CPUMs: w}
		f.note(Param{Field: "coldStart.firstEvent.cpuMs", Value: w, N: n, ByMemory: roundAll(excess.Medians(), 1),
			Method: "plain tasks (split's B, D, E): cold-minus-warm median of internalDuration less the sync call's time, per setup and size, as single-thread CPU with a full quota; the median (by memory: the excess, ms)"})
		if f.haveOps {
			return nil
		}
	}
	return f.fitFirstEventFromA(est.Count() == 0)
}

// fitFirstEventFromA fits the first event's demand (when setDemand) and the
// quota period from split's A with B, D, E local, which only sleeps.
func (f *fitter) fitFirstEventFromA(setDemand bool) error {
	ex, n := f.coldExcess(ioOnlyA)
	if len(ex) == 0 {
		return fmt.Errorf("%w: no cold and warm invocations of split's plain tasks or of A with B, D, E local", ErrNoData)
	}
	med := ex.Medians()
	var high []float64
	for mb, v := range med {
		if f.p.CPU.Share(mb) >= 1 {
			high = append(high, v)
		}
	}
	if len(high) == 0 {
		return fmt.Errorf("%w: no cold A at 1769 MB or more", ErrNoData)
	}
	w := Median(high)
	if setDemand {
		f.p.ColdStart.FirstEvent = model.Cost{CPUMs: round(w, 2)}
		f.note(Param{Field: "coldStart.firstEvent.cpuMs", Value: round(w, 2), N: n, ByMemory: roundAll(med, 1),
			Method: "median over sizes of 1769 MB and more (one vCPU: time = demand) of the cold-minus-warm median internalDuration of split's A with B, D, E local (it only sleeps)"})
	}
	if f.haveOps {
		return nil
	}
	var periods []float64
	byMB := map[int]float64{}
	for mb, v := range med {
		share := f.p.CPU.Share(mb)
		// Only sizes whose excess is between full speed and the share.
		if share >= 1 || share < 0.2 || v <= 1.02*w || v >= 0.98*w/share {
			continue
		}
		cpu := f.p.CPU
		per := solve(func(p float64) float64 {
			cpu.BurstPeriodMs = p
			return CPUTime(cpu, w, mb, 1, cpu.Burst(mb))
		}, v, 0, 1000)
		periods = append(periods, per)
		byMB[mb] = round(per, 2)
	}
	if len(periods) == 0 {
		return fmt.Errorf("%w: no cold A between 0.2 and 1 vCPU with a partial burst", ErrNoData)
	}
	f.p.CPU.BurstPeriodMs = round(Median(periods), 1)
	f.note(Param{Field: "cpu.burstPeriodMs", Value: f.p.CPU.BurstPeriodMs, N: n, ByMemory: byMB,
		Method: "median over sizes between 0.2 and 1 vCPU of the period that makes the first event's demand take split A's observed cold excess (full quota at the start)"})
	return nil
}

// fitBurn fits the CPU demand of the burn work descriptors. Per setup and
// memory size, the demand that makes a lone job on the work's threads take
// the median warm internalDuration of the tasks that only burn (split's F
// and G, splittest's G), with the quota the load leaves it (idleQuota).
// Where the share exceeds the threads, that is the threads' own demand
// (cpuMs: the median there); below, the process's other threads compete
// with them, and the median there less cpuMs is overheadCPUMs.
func (f *fitter) fitBurn() error {
	type key struct {
		setup *SetupData
		fn    string
		mb    int
	}
	warm := map[key][]float64{}
	f.ds.Each(func(inv Inv) {
		if _, ok := burnOnly[inv.CurrentFunction]; !ok || inv.IsColdStart || !OnlySelf(inv.Record) || inv.InternalDuration < 0 {
			return
		}
		k := key{inv.Setup, inv.CurrentFunction, inv.MemoryMB}
		warm[k] = append(warm[k], float64(inv.InternalDuration))
	})
	type est struct{ above, below, all Samples }
	per := map[string]*est{}
	counts := map[string]int{}
	var ratios []float64 // duration / median, below the threads' share
	for k, v := range warm {
		if len(v) < 10 {
			continue
		}
		if f.p.CPU.Share(k.mb) <= 2 {
			m := Median(v)
			for _, x := range v {
				ratios = append(ratios, x/m)
			}
		}
		name := burnOnly[k.fn]
		threads := 2
		if p, ok := f.p.Work[name]; ok && p.Threads > 0 {
			threads = p.Threads
		}
		t := Median(v)
		q := idleQuota(f.p.CPU, k.mb, t, k.setup.Records)
		c := solve(func(c float64) float64 { return CPUTime(f.p.CPU, c, k.mb, threads, q) }, t, 0, 1e6)
		e := per[name]
		if e == nil {
			e = &est{Samples{}, Samples{}, Samples{}}
			per[name] = e
		}
		e.all.Add(k.mb, c)
		if f.p.CPU.Share(k.mb) > float64(threads) {
			e.above.Add(k.mb, c)
		} else {
			e.below.Add(k.mb, c)
		}
		counts[name] += len(v)
	}
	if len(per) == 0 {
		return fmt.Errorf("%w: no warm invocations of split's F or G", ErrNoData)
	}
	if len(ratios) >= 100 {
		f.p.CPU.WorkJitter = empiricalRound(ratios, 0, 4)
		f.note(Param{Field: "cpu.workJitter", Value: round(Median(ratios), 4), N: len(ratios),
			Method: fmt.Sprintf("empirical distribution (40 quantiles) of the warm internalDuration of the tasks that only burn over its median in the same setup and size, at up to 2 vCPUs (quartiles %.3f, %.3f; 95th percentile %.3f)", quantileLin(sorted(ratios), 0.25), quantileLin(sorted(ratios), 0.75), quantileLin(sorted(ratios), 0.95))})
	}
	names := make([]string, 0, len(per))
	for n := range per {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		e := per[name]
		wp := f.p.Work[name]
		if wp.Threads == 0 {
			wp.Threads = 2
		}
		if e.above.Count() > 0 && e.below.Count() > 0 {
			wp.CPUMs = round(Median(e.above.All()), 1)
			wp.OverheadCPUMs = round(math.Max(0, Median(e.below.All())-wp.CPUMs), 1)
		} else {
			wp.CPUMs, wp.OverheadCPUMs = round(Median(e.all.All()), 1), 0
		}
		f.p.Work[name] = wp
		f.note(Param{Field: fmt.Sprintf("work[%q].cpuMs", name), Value: wp.CPUMs, N: counts[name], ByMemory: roundAll(e.all.Medians(), 1),
			Method: fmt.Sprintf("median over setups and sizes with a share above the %d threads of the demand that makes a lone job (CPU model incl. the quota refilled between requests, idleQuota) take the median warm internalDuration of the tasks that only burn (by memory: that demand)", wp.Threads)})
		f.note(Param{Field: fmt.Sprintf("work[%q].overheadCPUMs", name), Value: wp.OverheadCPUMs, N: counts[name],
			Method: "median of the same demand at the sizes with a share up to the threads, less cpuMs"})
	}
	return nil
}

// idleQuota estimates the quota a warm environment has when a request of a
// function taking durMs arrives under the setup's load: at a constant rate
// r, ceil(r x dur) environments take the requests in turn (the most
// recently used first), so each idles n/r - dur between two, refilling its
// quota at the share's rate.
func idleQuota(cpu model.CPU, mb int, durMs float64, recs []trace.Record) float64 {
	full := cpu.Burst(mb)
	rate, ok := openLoopRate(recs)
	if !ok {
		return full
	}
	perMs := rate / 1000
	n := math.Ceil(perMs * durMs)
	idle := math.Max(0, n/perMs-durMs)
	return math.Min(full, cpu.Share(mb)*idle)
}

// loneAck returns the warm ack times of split's A with B, D and E local,
// whose one remote call is the async call of C, made at the start of a task
// that does no CPU work, per memory size.
func (f *fitter) loneAck(cold bool) Samples {
	s := Samples{}
	f.ds.Each(func(inv Inv) {
		if inv.IsColdStart != cold || !ioOnlyA(inv.Record) {
			return
		}
		s.Add(inv.MemoryMB, float64(RemoteCalls(inv.Record)[0].Time))
	})
	return s
}

// splitLatencyCPU fits a cost of latency L and single-thread demand w from
// its median time at one vCPU or more (L + w) and at the smallest size below
// (L + CPU time of w with the given quota): the two equations fix both.
func (f *fitter) splitLatencyCPU(med map[int]float64, quota func(mb int) float64) (lat, cpu float64, err error) {
	var high []float64
	low := 0
	for mb, v := range med {
		if f.p.CPU.Share(mb) >= 1 {
			high = append(high, v)
		} else if low == 0 || mb < low {
			low = mb
		}
	}
	if len(high) == 0 || low == 0 {
		return 0, 0, fmt.Errorf("%w: need observations at 1769 MB or more and below", ErrNoData)
	}
	h := Median(high)
	d := med[low] - h // CPUTime(w, low) - w
	if d <= 0 {
		return h, 0, nil
	}
	w := solve(func(w float64) float64 { return CPUTime(f.p.CPU, w, low, 1, quota(low)) - w }, d, 0, h)
	return h - w, w, nil
}

// fitAsync fits remote.asyncAck and remote.asyncDispatch from split's A with
// B, D, E local (warm): its call of C is a lone async call made at once with
// a full quota. The ack's latency distribution is the empirical one of the
// acks at one vCPU or more, less the CPU demand. The dispatch is the time
// from the ack to the callee's start.
func (f *fitter) fitAsync() error {
	acks := f.loneAck(false)
	if acks.Count() == 0 {
		return fmt.Errorf("%w: no warm split A with B, D, E local", ErrNoData)
	}
	if !f.haveOps {
		med := acks.Medians()
		lat, w, err := f.splitLatencyCPU(med, func(mb int) float64 { return FullQuota(f.p.CPU, mb) })
		if err != nil {
			return err
		}
		high := highSamples(f.p.CPU, acks)
		f.p.Remote.AsyncAck = model.Cost{LatencyMs: empirical(high, w), CPUMs: round(w, 3)}
		f.note(Param{Field: "remote.asyncAck.cpuMs", Value: round(w, 3), N: acks.Count(), ByMemory: med,
			Method: "lone warm async call (split A with B, D, E local, call of C): median ack at the smallest size = latency + CPU time with a full quota, at 1769 MB or more = latency + demand"})
		f.note(Param{Field: "remote.asyncAck.latencyMs", Value: round(lat, 2), N: len(high),
			Method: "empirical distribution (40 quantiles) of those acks at 1769 MB or more, less the demand"})
	}
	// Dispatch: callee start - caller start - ack.
	var disp []float64
	f.ds.Each(func(inv Inv) {
		if inv.IsColdStart || !ioOnlyA(inv.Record) {
			return
		}
		c := RemoteCalls(inv.Record)[0]
		callee := inv.Request.Callee(c.Called)
		if callee == nil || callee.IsColdStart {
			return
		}
		disp = append(disp, float64(callee.StartTimestamp-inv.StartTimestamp-c.Time))
	})
	if len(disp) == 0 {
		return fmt.Errorf("%w: no warm callee of a lone async call", ErrNoData)
	}
	f.p.Remote.AsyncDispatch = model.Cost{LatencyMs: empirical(disp, 0)}
	f.note(Param{Field: "remote.asyncDispatch.latencyMs", Value: round(Median(disp), 2), N: len(disp),
		Method: "empirical distribution of callee start - caller start - ack of those calls (warm callee)"})
	return nil
}

// fitFirstConnection fits remote.firstConnection from the cold invocations
// of the same A: their one remote call is the environment's first; its ack
// minus the warm ack, per size. The first event drained the quota before
// (at the small sizes), so the CPU part runs at the share.
func (f *fitter) fitFirstConnection() error {
	cold, warm := f.loneAck(true), f.loneAck(false)
	wm := warm.Medians()
	ex := map[int]float64{}
	n := 0
	for mb, v := range cold {
		if w, ok := wm[mb]; ok && len(v) >= 3 {
			ex[mb] = Median(v) - w
			n += len(v)
		}
	}
	if len(ex) == 0 {
		return fmt.Errorf("%w: no cold split A with B, D, E local", ErrNoData)
	}
	lat, w, err := f.splitLatencyCPU(ex, func(int) float64 { return 0 })
	if err != nil {
		return err
	}
	f.p.Remote.FirstConnection = model.Cost{LatencyMs: model.Const(round(lat, 2)), CPUMs: round(w, 2)}
	f.note(Param{Field: "remote.firstConnection.cpuMs", Value: round(w, 2), N: n, ByMemory: roundAll(ex, 1),
		Method: "cold-minus-warm median ack of that lone call (the environment's first): at the smallest size latency + demand at the share (the first event spent the quota), at 1769 MB or more latency + demand"})
	f.note(Param{Field: "remote.firstConnection.latencyMs", Value: round(lat, 2), N: n, Method: "the same two equations"})
	return nil
}

// fitSync fits remote.syncRequest and remote.syncResponse from lone warm
// sync calls to a warm callee (an invocation whose only call is one sync
// remote call: split's B and D in the all-remote setups). The CPU demand is
// taken equal to the async call's (the same HTTP client); the request
// latency is what remains of the time from the caller's start to the
// callee's, the response latency what remains of the call time beyond the
// request and the callee's billed duration.
func (f *fitter) fitSync() error {
	over, req := Samples{}, Samples{}
	f.ds.Each(func(inv Inv) {
		if inv.IsColdStart || len(LocalCalls(inv.Record)) > 0 {
			return
		}
		rc := RemoteCalls(inv.Record)
		if len(rc) != 1 || !rc[0].Sync {
			return
		}
		callee := inv.Request.Callee(rc[0].Called)
		if callee == nil || callee.IsColdStart || callee.MemoryAvail != inv.Record.MemoryAvail {
			return
		}
		over.Add(inv.MemoryMB, float64(rc[0].Time-callee.BilledDuration))
		req.Add(inv.MemoryMB, float64(callee.StartTimestamp-inv.StartTimestamp))
	})
	if over.Count() == 0 {
		return fmt.Errorf("%w: no lone warm sync call to a warm callee", ErrNoData)
	}
	w := f.p.Remote.AsyncAck.CPUMs
	sizes := over.Sizes()
	mb := sizes[0]
	cpuT := CPUTime(f.p.CPU, w, mb, 1, FullQuota(f.p.CPU, mb))
	reqSamples := shift(req[mb], -cpuT)
	respSamples := make([]float64, 0, len(over[mb]))
	reqMed := Median(req[mb])
	for _, v := range over[mb] {
		respSamples = append(respSamples, v-reqMed)
	}
	f.p.Remote.SyncRequest = model.Cost{LatencyMs: empirical(reqSamples, 0), CPUMs: w}
	f.p.Remote.SyncResponse = model.Cost{LatencyMs: empirical(respSamples, 0)}
	f.note(Param{Field: "remote.syncRequest.latencyMs", Value: round(Median(reqSamples), 2), N: req.Count(), ByMemory: req.Medians(),
		Method: fmt.Sprintf("lone warm sync calls to a warm callee at %d MB: empirical distribution of callee start - caller start, less the CPU time of the async call's demand (cpuMs %.3g, the same client)", mb, w)})
	f.note(Param{Field: "remote.syncResponse.latencyMs", Value: round(Median(respSamples), 2), N: over.Count(), ByMemory: over.Medians(),
		Method: "empirical distribution of call time - callee billed duration - the median request time"})
	return nil
}

// fitStorage fits storage.put from IoT's put (SE, run locally by I or as
// its own function: one put), storage.query from CSL (two queries and a put,
// run locally by CS) and storage.firstConnection from SE's cold invocations
// (its own function).
func (f *fitter) fitStorage() error {
	put := Samples{}
	csl := Samples{}
	f.ds.Each(func(inv Inv) {
		if inv.IsColdStart {
			return
		}
		switch inv.CurrentFunction {
		case taskIoTI:
			for _, c := range inv.Calls {
				if c.Local && c.Sync && c.Called == taskIoTSE {
					put.Add(inv.MemoryMB, float64(c.Time))
				}
			}
		case taskIoTSE:
			if OnlySelf(inv.Record) && inv.InternalDuration >= 0 {
				put.Add(inv.MemoryMB, float64(inv.InternalDuration))
			}
		case taskIoTCS:
			for _, c := range inv.Calls {
				if c.Local && c.Sync && c.Called == taskIoTCSL {
					csl.Add(inv.MemoryMB, float64(c.Time))
				}
			}
		}
	})
	if put.Count() == 0 {
		return fmt.Errorf("%w: no IoT put (SE)", ErrNoData)
	}
	high := highSamples(f.p.CPU, put)
	w := f.p.Storage.Put.CPUMs
	if !f.haveOps {
		pm := put.Medians()
		lat, cpu, err := f.splitLatencyCPU(pm, func(mb int) float64 { return FullQuota(f.p.CPU, mb) })
		if err != nil {
			return err
		}
		w = cpu
		f.p.Storage.Put = model.Cost{LatencyMs: empirical(high, w), CPUMs: round(w, 3)}
		f.note(Param{Field: "storage.put.cpuMs", Value: round(w, 3), N: put.Count(), ByMemory: pm,
			Method: "IoT's SE (one put; run by I or alone): median time at the smallest size = latency + CPU time with a full quota, at 1769 MB or more = latency + demand"})
		f.note(Param{Field: "storage.put.latencyMs", Value: round(lat, 2), N: len(high), Method: "empirical distribution of those times at 1769 MB or more, less the demand"})
	}
	if csl.Count() > 0 && len(high) > 0 {
		// CSL: query, query, put. At 1769 MB or more: 2 (Lq + w) + put.
		var q []float64
		for _, v := range highSamples(f.p.CPU, csl) {
			q = append(q, (v-Median(high))/2)
		}
		if len(q) > 0 {
			f.p.Storage.Query = model.Cost{LatencyMs: empirical(q, w), CPUMs: round(w, 3)}
			f.p.Storage.Get = f.p.Storage.Query
			f.p.Storage.Delete = f.p.Storage.Put
			f.note(Param{Field: "storage.query.latencyMs", Value: round(Median(q)-w, 2), N: len(q), ByMemory: csl.Medians(),
				Method: "IoT's CSL (query, query, put) at 1769 MB or more: (time - median put) / 2, less the put's demand (the same SDK path); get is set equal to query and delete to put (the traces have neither)"})
		}
	}
	// First connection: SE cold - SE warm - first event.
	ex, n := f.coldExcess(func(r *trace.Record) bool { return r.CurrentFunction == taskIoTSE && OnlySelf(r) })
	if len(ex) > 0 {
		mb := ex.Sizes()[0]
		fe := CPUTime(f.p.CPU, f.p.ColdStart.FirstEvent.CPUMs, mb, 1, FullQuota(f.p.CPU, mb))
		d := Median(ex[mb]) - fe
		w := solve(func(w float64) float64 { return CPUTime(f.p.CPU, w, mb, 1, 0) }, d, 0, 1e4)
		f.p.Storage.FirstConnection = model.Cost{CPUMs: round(w, 2)}
		f.note(Param{Field: "storage.firstConnection.cpuMs", Value: round(w, 2), N: n, ByMemory: roundAll(ex.Medians(), 1),
			Method: fmt.Sprintf("IoT's SE alone at %d MB: cold-minus-warm median internalDuration less the first event's time, as CPU at the share (the first event spent the quota)", mb)})
	}
	return nil
}

// fitInit fits coldStart.runtimeInitMs. Preferred: lone sync calls (an
// invocation whose only call is one remote sync call) of cold callers: the
// call time less the callee's billed duration is longer by the Init
// Duration when the callee was cold too; per (directory, call, sizes) the
// median of the cold-caller warm-callee calls is the baseline. Failing
// that, async calls of warm callers: the callee starts later by the Init
// Duration when it was cold (which also holds the async queue's extra
// delay for a cold function: about 60 ms more in the calibration traces).
func (f *fitter) fitInit() error {
	type key struct {
		dir, call  string
		mb, calMB  int
		calleeCold bool
	}
	syncObs := map[key][]float64{}
	asyncObs := map[key][]float64{}
	f.ds.Each(func(inv Inv) {
		if len(inv.Request.ByFunc[inv.CurrentFunction]) != 1 {
			return
		}
		rc := RemoteCalls(inv.Record)
		if inv.IsColdStart && len(rc) == 1 && rc[0].Sync && len(LocalCalls(inv.Record)) == 0 {
			if callee := inv.Request.Callee(rc[0].Called); callee != nil {
				k := key{inv.Setup.Dir, rc[0].Caller + ">" + rc[0].Called, inv.MemoryMB, atoi(callee.MemoryAvail), callee.IsColdStart}
				syncObs[k] = append(syncObs[k], float64(rc[0].Time-callee.BilledDuration))
			}
		}
		if inv.IsColdStart {
			return
		}
		for _, c := range rc {
			if c.Sync {
				continue
			}
			callee := inv.Request.Callee(c.Called)
			if callee == nil {
				continue
			}
			k := key{inv.Setup.Dir, c.Caller + ">" + c.Called, inv.MemoryMB, atoi(callee.MemoryAvail), callee.IsColdStart}
			asyncObs[k] = append(asyncObs[k], float64(callee.StartTimestamp-inv.StartTimestamp))
		}
	})
	collect := func(obs map[key][]float64, minBase int) ([]float64, Samples) {
		var all []float64
		by := Samples{}
		for k, cold := range obs {
			if !k.calleeCold {
				continue
			}
			k.calleeCold = false
			warm := obs[k]
			if len(warm) < minBase {
				continue
			}
			base := Median(warm)
			for _, v := range cold {
				all = append(all, v-base)
				by.Add(k.calMB, v-base)
			}
		}
		return all, by
	}
	all, by := collect(syncObs, 5)
	method := "empirical distribution of the call time less the callee's billed duration of lone sync calls of cold callers to cold callees, over the median of the same calls to warm callees (per directory, call and sizes)"
	if len(all) < 10 {
		all, by = collect(asyncObs, 10)
		method = "empirical distribution of the delay of cold callees of async calls from warm callers over the warm median of the same call"
	}
	if len(all) < 10 {
		return fmt.Errorf("%w: fewer than 10 cold callees with a warm baseline", ErrNoData)
	}
	rt := f.p.ColdStart.Runtime
	f.p.ColdStart.RuntimeInitMs = map[string]model.Dist{rt: empirical(all, 0)}
	f.p.ColdStart.PackageMB, f.p.ColdStart.InitMsPerPackageMB, f.p.ColdStart.InitCPUMs = 0, 0, 0
	f.note(Param{Field: "coldStart.runtimeInitMs." + rt, Value: round(Median(all), 1), N: len(all), ByMemory: roundAll(by.Medians(), 1),
		Method: method + "; initCPUMs 0: the async-call estimates per size (128 to 6144 MB) are flat"})
	return nil
}

// fitBurnColdAndTail fits the burn descriptors' coldCPUMs (the cold-minus-
// warm excess of the burn-only tasks less the first event, as CPU on the
// work's threads after the first event spent the quota) and tailCPUMs (billed minus
// internal of their warm invocations beyond that of split's A, by least
// squares on the excess: the tail runs after the burn, at the share below
// one vCPU).
func (f *fitter) fitBurnColdAndTail() error {
	names := map[string][]string{}
	for task, w := range burnOnly {
		names[w] = append(names[w], task)
	}
	base := map[int][]float64{} // billed - internal of the I/O-only A
	f.ds.Each(func(inv Inv) {
		if !inv.IsColdStart && ioOnlyA(inv.Record) {
			base[inv.MemoryMB] = append(base[inv.MemoryMB], float64(inv.BilledDuration-inv.InternalDuration))
		}
	})
	all := []float64{}
	for _, v := range base {
		all = append(all, v...)
	}
	baseline := Median(all)
	if len(all) == 0 {
		// The handler's own billed time: as fitHandler has it, plus the
		// half millisecond of rounding up.
		baseline = f.p.Handler.AfterHandler.LatencyMs.Expected() + 0.5
	}
	ws := make([]string, 0, len(names))
	for w := range names {
		ws = append(ws, w)
	}
	sort.Strings(ws)
	for _, name := range ws {
		tasks := names[name]
		wp, ok := f.p.Work[name]
		if !ok {
			continue
		}
		sel := func(r *trace.Record) bool { return slices.Contains(tasks, r.CurrentFunction) && OnlySelf(r) }
		ex, n := f.coldExcess(sel)
		est := Samples{}
		for mb, v := range ex.Medians() {
			fe := CPUTime(f.p.CPU, f.p.ColdStart.FirstEvent.CPUMs, mb, 1, FullQuota(f.p.CPU, mb))
			d := v - fe
			if d <= 0 {
				continue
			}
			est.Add(mb, solve(func(w float64) float64 { return CPUTime(f.p.CPU, w, mb, wp.Threads, 0) }, d, 0, 1e4))
		}
		if est.Count() > 0 {
			wp.ColdCPUMs = round(Median(est.All()), 2)
			f.note(Param{Field: fmt.Sprintf("work[%q].coldCPUMs", name), Value: wp.ColdCPUMs, N: n, ByMemory: roundAll(est.Medians(), 2),
				Method: "median over sizes of the demand, on the work's threads, whose CPU time at the share (quota spent by the first event) is the cold-minus-warm median internalDuration of the tasks that only burn, less the first event's time"})
		}
		// Tail.
		exB := map[int][]float64{}
		durs := map[int][]float64{}
		f.ds.Each(func(inv Inv) {
			if inv.IsColdStart || !sel(inv.Record) {
				return
			}
			exB[inv.MemoryMB] = append(exB[inv.MemoryMB], float64(inv.BilledDuration-inv.InternalDuration)-baseline)
			durs[inv.MemoryMB] = append(durs[inv.MemoryMB], float64(inv.BilledDuration))
		})
		var num, den float64
		tm := map[int]float64{}
		for mb, v := range exB {
			e := Median(v)
			a := CPUTime(f.p.CPU, 1, mb, 1, 0) // ms per vCPU-ms after the burn
			num += a * e
			den += a * a
			tm[mb] = round(e, 1)
		}
		if den > 0 {
			wp.TailCPUMs = round(math.Max(0, num/den), 3)
			f.note(Param{Field: fmt.Sprintf("work[%q].tailCPUMs", name), Value: wp.TailCPUMs, N: len(exB), ByMemory: tm,
				Method: fmt.Sprintf("least squares over sizes of the median billed - internalDuration of the warm burn-only tasks beyond split A's %.1f ms, as single-thread CPU at the share after the burn (by memory: that excess, ms)", baseline)})
		}
		f.p.Work[name] = wp
	}
	return nil
}

// splitSleepMs is how long split's E sleeps (workloads: B, D and E sleep
// 500 ms each).
const splitSleepMs = 500

// fitTimer fits handler.timerLatencyMs: the warm internalDuration of
// split's E, which only sleeps 500 ms, less 500.
func (f *fitter) fitTimer() error {
	var d []float64
	f.ds.Each(func(inv Inv) {
		if inv.CurrentFunction == "E" && !inv.IsColdStart && OnlySelf(inv.Record) && inv.InternalDuration >= 0 {
			d = append(d, float64(inv.InternalDuration-splitSleepMs))
		}
	})
	if len(d) < 10 {
		return fmt.Errorf("%w: no warm split E", ErrNoData)
	}
	f.p.Handler.TimerLatencyMs = empirical(d, 0)
	f.note(Param{Field: "handler.timerLatencyMs", Value: round(Median(d), 2), N: len(d),
		Method: "empirical distribution of the warm internalDuration of split's E (a 500 ms sleep) less 500"})
	return nil
}

// fitHandler fits handler.afterHandler: the median billed - internal of the
// warm I/O-only A less the half millisecond that rounding up the billed
// duration adds on average.
func (f *fitter) fitHandler() error {
	var d, pre []float64
	f.ds.Each(func(inv Inv) {
		if inv.IsColdStart {
			return
		}
		if ioOnlyA(inv.Record) {
			d = append(d, float64(inv.BilledDuration-inv.InternalDuration))
		}
		for _, c := range inv.Calls {
			if c.Local && c.Caller == inv.CurrentFunction && c.Called == inv.CurrentFunction && inv.InternalDuration >= 0 {
				pre = append(pre, float64(inv.InternalDuration-c.Time))
				break
			}
		}
	})
	if len(d) == 0 {
		return fmt.Errorf("%w: no warm I/O-only A", ErrNoData)
	}
	after := math.Max(0, Mean(d)-0.5)
	f.p.Handler.AfterHandler = model.Cost{LatencyMs: model.Const(round(after, 2))}
	f.note(Param{Field: "handler.afterHandler.latencyMs", Value: round(after, 2), N: len(d),
		Method: "mean billed - internalDuration of warm split A with B, D, E local, less 0.5 ms (billing rounds up)"})
	ev := 0.0
	if len(pre) > 0 {
		ev = math.Max(0, Median(pre))
	}
	f.p.Handler.EventStartToInvokeLocal = model.Cost{}
	if ev > 0 {
		f.p.Handler.EventStartToInvokeLocal.LatencyMs = model.Const(ev)
	}
	f.note(Param{Field: "handler.eventStartToInvokeLocal.latencyMs", Value: ev, N: len(pre),
		Method: "median internalDuration - the entry task's own call time, every warm record"})
	return nil
}

// fitMemory fits the memory footprints: handler.runtimeMemoryMB is the
// median Max Memory Used of cold I/O-only A (a fresh environment),
// handler.invocationMemoryMB the growth to warm ones, and the burn
// descriptors' memoryMB the cold burn-only tasks' excess over the runtime.
func (f *fitter) fitMemory() error {
	var coldA, warmA []float64
	burn := map[string][]float64{}
	f.ds.Each(func(inv Inv) {
		if ioOnlyA(inv.Record) {
			if inv.IsColdStart {
				coldA = append(coldA, float64(inv.MaxMemoryUsed))
			} else {
				warmA = append(warmA, float64(inv.MaxMemoryUsed))
			}
		}
		if w, ok := burnOnly[inv.CurrentFunction]; ok && inv.IsColdStart && OnlySelf(inv.Record) {
			burn[w] = append(burn[w], float64(inv.MaxMemoryUsed))
		}
	})
	if len(coldA) == 0 {
		return fmt.Errorf("%w: no cold I/O-only A", ErrNoData)
	}
	rt := Median(coldA)
	inv := f.p.Handler.InvocationMemoryMB
	f.p.Handler.RuntimeMemoryMB = rt
	f.note(Param{Field: "handler.runtimeMemoryMB", Value: rt, N: len(coldA), Method: "median Max Memory Used of cold split A with B, D, E local"})
	if len(warmA) > 0 {
		inv = math.Max(0, Median(warmA)-rt)
		f.p.Handler.InvocationMemoryMB = inv
		f.note(Param{Field: "handler.invocationMemoryMB", Value: inv, N: len(warmA), Method: "median Max Memory Used of the warm ones, less the runtime's"})
	}
	for name, v := range burn {
		wp, ok := f.p.Work[name]
		if !ok {
			continue
		}
		wp.MemoryMB = math.Max(0, Median(v)-rt-inv)
		f.p.Work[name] = wp
		f.note(Param{Field: fmt.Sprintf("work[%q].memoryMB", name), Value: wp.MemoryMB, N: len(v), Method: "median Max Memory Used of the cold burn-only tasks, less the runtime's and one invocation's"})
	}
	return nil
}

// fitClient fits remote.clientRequest's spread from the gaps between the
// root invocations of the constant-rate setups: the load generator sent
// them evenly, so their jitter is that of the path to the entry function,
// twice (the gap of two requests). Its median is not observable (the traces
// have no client times) and is kept.
func (f *fitter) fitClient() error {
	var sds []float64
	for _, sd := range f.ds.Setups {
		if _, ok := openLoopRate(sd.Records); !ok {
			continue
		}
		var starts []float64
		for _, q := range sd.Requests {
			if q.Root != nil {
				starts = append(starts, float64(q.Root.StartTimestamp))
			}
		}
		slices.Sort(starts)
		var gaps []float64
		for i := 1; i < len(starts); i++ {
			gaps = append(gaps, starts[i]-starts[i-1])
		}
		if len(gaps) < 20 {
			continue
		}
		sds = append(sds, iqr(gaps)/1.349/math.Sqrt2)
	}
	if len(sds) == 0 {
		return fmt.Errorf("%w: no constant-rate setup", ErrNoData)
	}
	sd := round(Median(sds), 2)
	mean := f.p.Remote.ClientRequest.LatencyMs.Expected()
	if mean < 3*sd {
		mean = 3 * sd
	}
	f.p.Remote.ClientRequest.LatencyMs = model.Dist{Kind: model.KindNormal, Mean: round(mean, 2), Std: sd}
	f.note(Param{Field: "remote.clientRequest.latencyMs.std", Value: sd, N: len(sds),
		Method: "median over constant-rate setups of the interquartile range of the gaps between root starts / 1.349 / sqrt 2 (normal; the mean is not observable and kept)"})
	return nil
}

// highSamples returns the samples at sizes with one vCPU or more.
func highSamples(cpu model.CPU, s Samples) []float64 {
	var out []float64
	for _, mb := range s.Sizes() {
		if cpu.Share(mb) >= 1 {
			out = append(out, s[mb]...)
		}
	}
	return out
}

// empiricalQuantiles is the number of values of the fitted empirical
// distributions.
const empiricalQuantiles = 40

// empirical is the distribution of x less shift, as 40 quantiles (the
// midpoints of 40 equal-probability bins: the tails reach the 1.25th and
// 98.75th percentiles), clamped at 0 and rounded to 0.1.
func empirical(x []float64, shift float64) model.Dist { return empiricalRound(x, shift, 1) }

// empiricalRound is empirical with values rounded to the given decimals.
func empiricalRound(x []float64, shift float64, decimals int) model.Dist {
	s := slices.Clone(x)
	slices.Sort(s)
	const k = empiricalQuantiles
	vals := make([]float64, k)
	for i := range vals {
		q := (float64(i) + 0.5) / k
		v := quantileLin(s, q) - shift
		vals[i] = round(math.Max(0, v), decimals)
	}
	return model.Dist{Kind: model.KindEmpirical, Values: vals}
}

// quantileLin is the q-quantile of sorted s with linear interpolation.
func quantileLin(s []float64, q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	fr := pos - float64(i)
	return s[i]*(1-fr) + s[i+1]*fr
}

func sorted(x []float64) []float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s
}

func iqr(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return quantileLin(s, 0.75) - quantileLin(s, 0.25)
}

func shift(x []float64, d float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v + d
	}
	return out
}

// Mean is the arithmetic mean (NaN when x is empty).
func Mean(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

func roundAll(m map[int]float64, decimals int) map[int]float64 {
	out := make(map[int]float64, len(m))
	for k, v := range m {
		out[k] = round(v, decimals)
	}
	return out
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// PrintParams writes the fitted figures as a table.
func (ft *Fit) PrintParams(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "field\tvalue\tn\tby memory (MB: value)\tmethod")
	for _, p := range ft.Params {
		var by []string
		for _, mb := range sortedSizes(p.ByMemory) {
			by = append(by, fmt.Sprintf("%d:%g", mb, round(p.ByMemory[mb], 1)))
		}
		fmt.Fprintf(tw, "%s\t%g\t%d\t%s\t%s\n", p.Field, p.Value, p.N, strings.Join(by, " "), p.Method)
	}
	for _, s := range ft.Skipped {
		fmt.Fprintf(tw, "(kept from the base profile)\t\t\t\t%s\n", s)
	}
	return tw.Flush()
}

func sortedSizes(m map[int]float64) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
