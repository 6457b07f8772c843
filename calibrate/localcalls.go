package calibrate

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// minLocalCalls is the number of local calls a kind of request's root
// invocations make at least (median) for fitLocalCalls to compare it.
const minLocalCalls = 3

// localCallMax is the largest demand per local call FitLocalCalls tries,
// vCPU-ms.
const localCallMax = 0.5

// localCallCase is a kind of request of a setup whose root invocations
// make local calls: its real median warm root internalDuration.
type localCallCase struct {
	dir, setup, kind string
	calls            int // median local calls of its roots
	real             float64
	// emu is the emulated median, set by emulateLocalCalls (each case by
	// the one goroutine that emulates its setup).
	emu float64
}

// emuSetup is a setup of real traces ready to emulate as Validate does:
// at the sizes its traces show (notes: where they depart from the
// configuration), under the load they show or the options give (spec, and
// why), with the seed Validate gives it, grouped as asked (realGrouped:
// whether the traces show the quirk).
type emuSetup struct {
	w                    workloads.Workload
	setup                *fusionsim.Setup
	entry                fusionsim.Route
	notes                []string
	spec                 load.Spec
	why                  string
	arrivals             []fusionsim.Arrival
	seed                 uint64
	grouped, realGrouped bool
}

// prepareSetup makes setup of w, whose real traces are real, ready to
// emulate: at the sizes the traces show (WithTracedMemory), under the load
// they show or o gives (SetupLoad; events: the bodies of the kinds of
// request, RequestEvents), its emulator seeded with SetupSeed(seed, its
// name), grouped as g says.
func prepareSetup(w workloads.Workload, setup *fusionsim.Setup, real []trace.Record, o LoadOverride, events map[string]fusionsim.Event, seed uint64, g Grouping) (*emuSetup, error) {
	es := &emuSetup{w: w, seed: SetupSeed(seed, setup.Name()), realGrouped: Grouped(real)}
	var err error
	if es.setup, es.entry, es.notes, err = WithTracedMemory(w.App, setup, real); err != nil {
		return nil, err
	}
	if es.spec, es.arrivals, es.why, err = SetupLoad(w, es.setup, real, o, events, es.seed); err != nil {
		return nil, err
	}
	es.grouped = g == GroupingOn || g == GroupingAuto && es.realGrouped
	return es, nil
}

// namedSetup is setup sn of d's configuration, named as its traces are.
func namedSetup(d *trace.Dir, sn string) *fusionsim.Setup {
	setup := d.Configs[sn]
	if setup.Name() != sn {
		setup = setup.Clone(fusionsim.NewTraceName(sn))
	}
	return setup
}

// run emulates the setup under prof.
func (s *emuSetup) run(ctx context.Context, prof model.Profile) ([]trace.Record, error) {
	recs, err := EmulateArrivals(ctx, s.w, s.setup, s.entry, s.arrivals, prof, s.seed, s.grouped)
	if err != nil {
		return nil, fmt.Errorf("setup %s: %w", s.setup.Name(), err)
	}
	return recs, nil
}

// forEachSetup runs fn for every setup at once, at most runtime.NumCPU()
// at a time, and returns the first error.
func forEachSetup(n int, fn func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// localCallSetup is a setup with such kinds, ready to emulate.
type localCallSetup struct {
	*emuSetup
	cases []*localCallCase
}

// FitLocalCalls fits handler.localCallCPUMs, the fusion handler's CPU
// demand per local call, on the directories whose workload it can infer
// from their task names (InferWorkload; the others are left out): the
// demand whose emulation of every setup with kinds of request whose root
// invocations make at least three local calls (the median), under the
// setup's inferred load as Validate runs it, best predicts their median
// warm root internalDuration (the median of the log ratios emulated over
// real is zero: bisection between 0 and 0.5 vCPU-ms). Only the kinds whose emulated
// median shows the demand take part: those it moves by 5 % or more
// between 0 and 0.5 vCPU-ms (at one vCPU or more, or behind long sleeps,
// it hides, and whatever else differs there would decide it). The traces show it where one
// function runs many tasks in-process at a small size: the webshop's
// frontend with its 16 local calls takes 70 ms at 128 MB against 18 at
// 1536, of which its cart query alone takes 60 and 16, and 44 when it runs
// in a function of its own at 128 MB (its quota is spent by the calls
// before it). The other figures of prof stay.
func FitLocalCalls(ctx context.Context, dirs map[string]*trace.Dir, prof model.Profile) (Param, error) {
	setups, cases, err := localCallSetups(ctx, dirs, prof)
	if err != nil {
		return Param{}, err
	}
	if len(cases) == 0 {
		return Param{}, fmt.Errorf("%w: no kind of request whose roots make %d local calls or more", ErrNoData, minLocalCalls)
	}
	// Only the cases where the demand shows: those whose emulated median
	// moves by 5 % or more between no demand and the most the search
	// tries (at one vCPU or more, or behind a long sleep, it hides; there
	// other differences would decide it).
	emulate := func(c float64) error {
		p := prof
		p.Handler.LocalCallCPUMs = c
		return emulateLocalCalls(ctx, setups, p)
	}
	if err := emulate(0); err != nil {
		return Param{}, err
	}
	at0 := make([]float64, len(cases))
	for i, k := range cases {
		at0[i] = k.emu
	}
	if err := emulate(localCallMax); err != nil {
		return Param{}, err
	}
	all := len(cases)
	var shown []*localCallCase
	for i, k := range cases {
		if at0[i] > 0 && k.emu > 0 && math.Log(k.emu/at0[i]) >= 0.05 {
			shown = append(shown, k)
		}
	}
	cases = shown
	if len(cases) == 0 {
		return Param{}, fmt.Errorf("%w: no kind of request whose roots make %d local calls or more and whose time shows their demand", ErrNoData, minLocalCalls)
	}
	// The median of the log ratios grows with the demand: bisection to 0.
	// (The median, not the sum of squares: a few kinds off for another
	// reason, such as a latency the run had at its large sizes, do not
	// move it.)
	medianResidual := func(c float64) (float64, error) {
		if err := emulate(c); err != nil {
			return 0, err
		}
		r := make([]float64, len(cases))
		for i, k := range cases {
			r[i] = k.residual()
		}
		return Median(r), nil
	}
	lo, hi := 0.0, localCallMax
	for hi-lo > 0.002 {
		mid := (lo + hi) / 2
		m, err := medianResidual(mid)
		if err != nil {
			return Param{}, err
		}
		if m < 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	best := round((lo+hi)/2, 3)
	if err := emulate(best); err != nil {
		return Param{}, err
	}
	var worst []string
	sort.Slice(cases, func(i, j int) bool { return math.Abs(cases[i].residual()) > math.Abs(cases[j].residual()) })
	for _, k := range cases[:min(3, len(cases))] {
		worst = append(worst, fmt.Sprintf("%s %s %s %.0f ms emulated against %.0f", shortDir(k.dir), k.setup, k.kind, k.emu, k.real))
	}
	return Param{Field: "handler.localCallCPUMs", Value: best, N: len(cases),
		Method: fmt.Sprintf("the demand per local call whose emulation makes the median of the log ratios (emulated over real) of the median warm root internalDuration of the %d kinds of request whose roots make %d local calls or more and whose emulated median moves by 5 %% or more between 0 and %g vCPU-ms (%d such kinds in %d setups) zero (bisection), each setup under its inferred load; largest errors: %s",
			len(cases), minLocalCalls, localCallMax, all, len(setups), strings.Join(worst, "; ")),
	}, nil
}

// residual is log(emulated / real) (0 without both).
func (k *localCallCase) residual() float64 {
	e := k.emu
	if !(e > 0) || !(k.real > 0) {
		return 0
	}
	return math.Log(e / k.real)
}

// localCallSetups finds the kinds of request with local calls and makes the
// loads of their setups.
func localCallSetups(ctx context.Context, dirs map[string]*trace.Dir, prof model.Profile) ([]*localCallSetup, []*localCallCase, error) {
	var setups []*localCallSetup
	var cases, mine []*localCallCase
	err := realSetups(ctx, dirs, prof, func(dn, sn string, real []trace.Record) bool {
		roots := warmRootsByKind(real)
		mine = nil
		for _, k := range sortedKeys(roots) {
			var calls []float64
			for _, r := range roots[k] {
				calls = append(calls, float64(len(LocalCalls(r))))
			}
			if n := Median(calls); n >= minLocalCalls && len(roots[k]) >= 20 {
				mine = append(mine, &localCallCase{dir: dn, setup: sn, kind: k, calls: int(n), real: medianInternal(roots[k])})
			}
		}
		return len(mine) > 0
	}, func(es *emuSetup) {
		setups = append(setups, &localCallSetup{emuSetup: es, cases: mine})
		cases = append(cases, mine...)
	})
	return setups, cases, err
}

// realSetups walks the setups with traces of every directory whose
// workload is known, in order (directories by name, setups as their
// configuration lists them): where cases (which keeps what it found)
// reports that a setup has some, the setup is made ready to emulate and
// handed to add.
func realSetups(ctx context.Context, dirs map[string]*trace.Dir, prof model.Profile, cases func(dir, setup string, real []trace.Record) bool, add func(*emuSetup)) error {
	for _, dn := range sortedKeys(dirs) {
		d := dirs[dn]
		if d.Configs == nil {
			continue
		}
		w, err := PickWorkload(d)
		if err != nil {
			continue
		}
		events, err := RequestEvents(ctx, w, prof, 1)
		if err != nil {
			return fmt.Errorf("%s: %w", dn, err)
		}
		for _, sn := range d.Configs.Names() {
			real := d.Traces[sn]
			if real == nil || !cases(dn, sn, real) {
				continue
			}
			es, err := prepareSetup(w, namedSetup(d, sn), real, LoadOverride{}, events, 1, GroupingAuto)
			if err != nil {
				return fmt.Errorf("%s: setup %s: %w", dn, sn, err)
			}
			add(es)
		}
	}
	return nil
}

// emulateLocalCalls runs every setup under prof and sets its cases'
// emulated medians.
func emulateLocalCalls(ctx context.Context, setups []*localCallSetup, prof model.Profile) error {
	return forEachSetup(len(setups), func(i int) error {
		s := setups[i]
		recs, err := s.run(ctx, prof)
		if err != nil {
			return err
		}
		roots := warmRootsByKind(recs)
		for _, k := range s.cases {
			k.emu = medianInternal(roots[k.kind])
		}
		return nil
	})
}

// warmRootsByKind groups the warm root records of recs that have an
// internalDuration by their RequestKind.
func warmRootsByKind(recs []trace.Record) map[string][]*trace.Record {
	out := map[string][]*trace.Record{}
	for i := range recs {
		if r := &recs[i]; r.IsRootInvocation && !r.IsColdStart && r.InternalDuration >= 0 {
			k := RequestKind(r)
			out[k] = append(out[k], r)
		}
	}
	return out
}

// medianInternal is the median internalDuration of recs, ms.
func medianInternal(recs []*trace.Record) float64 {
	durs := make([]float64, len(recs))
	for i, r := range recs {
		durs[i] = float64(r.InternalDuration)
	}
	return Median(durs)
}
