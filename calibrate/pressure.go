package calibrate

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
)

// Figures of FitMemoryPressure.
const (
	// pressureMinRecords is the number of records a function of a setup
	// needs (warm, or cold where it ran cold only) to take part.
	pressureMinRecords = 20
	// pressureProbe is the extra CPU time per vCPU-ms of work of the
	// probe emulation, which measures how much of each function's median
	// time the pressure stretches.
	pressureProbe = 0.2
	// pressureMinElasticity: a function takes part when the probe moves
	// its median by at least this share of the extra (most of its time is
	// CPU work that the pressure stretches).
	pressureMinElasticity = 0.5
	// pressureShown is the extra CPU time at which a level of free memory
	// counts as short of memory; pressureLevelsMB is how far apart (free
	// MB) two such levels must be for the headroom and the slope to be
	// told apart.
	pressureShown    = 0.05
	pressureLevelsMB = 4
	// pressureCountTolerance: a function whose emulated records are more
	// or fewer than its real ones by this share is left out (its
	// invocations are not the same mix).
	pressureCountTolerance = 0.25
	// pressureStepMB is the step of the headroom's grid, MB.
	pressureStepMB = 0.5
)

// pressureCase is a function of a setup whose median internalDuration is
// compared: warm, or cold where it ran (nearly) only cold.
type pressureCase struct {
	dir, setup, function string
	mb                   int
	cold                 bool
	n                    int     // real records
	real                 float64 // real median internalDuration, ms
	// Set by the emulations: the medians without pressure, under the
	// probe and at the fit; freeMB is the function's size less its
	// emulated median Max Memory Used without pressure.
	emu0, emuProbe, emu float64
	freeMB              float64
	// elasticity is log(emuProbe/emu0) / log(1 + pressureProbe); need is
	// the extra CPU time per vCPU-ms that would make the emulated median
	// the real one (to first order): (real/emu0)^(1/elasticity) - 1.
	elasticity, need float64
}

func (c *pressureCase) String() string {
	state := "warm"
	if c.cold {
		state = "cold"
	}
	return fmt.Sprintf("%s %s %s at %d MB (%s, %.0f MB free)", shortDir(c.dir), c.setup, c.function, c.mb, state, c.freeMB)
}

// pressureSetup is a setup with such functions, ready to emulate.
type pressureSetup struct {
	*emuSetup
	cases []*pressureCase
}

// FitMemoryPressure fits cpu.memoryPressureHeadroomMB and
// cpu.memoryPressureCPUPerMB (model.CPU.MemoryPressure) on the directories
// whose workload it can infer from their task names. Every function of
// every setup with 20 records or more (warm; cold where it ran only cold,
// as under the cold-start protocol; records that merge several
// invocations left out) is emulated as Validate emulates its setup, with
// prof's other figures and no pressure, to learn its median
// internalDuration and its free memory (its size less its median emulated
// Max Memory Used); then under a probe pressure (each vCPU-ms of work
// taking 1.2 vCPU-ms in every function), to learn how much of its median
// the pressure stretches. The functions whose median the probe moves by
// half its extra or more take part: from each, the extra CPU time that
// would make its emulated median the real one, to first order. The
// functions with the same free memory make a level, whose extra is their
// median (robust to a function off for another reason; each level counts
// once, however many setups repeat it). The headroom and the slope are
// the least-squares fit of the model (extra = slope x max(0, headroom -
// free MB)) to the levels (grid of the headroom in 0.5 MB steps, the
// slope in closed form): levels with much free memory whose functions
// run at their demand bound the headroom, levels short of memory give
// the slope. The two are told apart only by levels short of memory (a
// median of 5 % or more extra, from the least free memory up to the first
// level that is not: the extra grows as the free memory shrinks) at two
// amounts of free memory 4 MB apart or more; otherwise ErrNoData (the
// base's figures stay). The calibration traces have split's b_local
// (three burn tasks in one function at 128 MB, 22 MB free) and, among the
// runs emulated, the webshop's sieve at 128 MB (16 MB free).
func FitMemoryPressure(ctx context.Context, dirs map[string]*trace.Dir, prof model.Profile) (headroom, perMB Param, err error) {
	setups, cases, err := pressureSetups(ctx, dirs, prof)
	if err != nil {
		return Param{}, Param{}, err
	}
	if len(cases) == 0 {
		return Param{}, Param{}, fmt.Errorf("%w: no function with %d records", ErrNoData, pressureMinRecords)
	}
	off := prof
	off.CPU.MemoryPressureHeadroomMB, off.CPU.MemoryPressureCPUPerMB = 0, 0
	if err := emulatePressure(ctx, setups, off, func(c *pressureCase, emu, freeMB float64) { c.emu0, c.freeMB = emu, freeMB }); err != nil {
		return Param{}, Param{}, err
	}
	// A headroom beyond any size presses every function alike.
	probe := off
	probe.CPU.MemoryPressureHeadroomMB = 1e9
	probe.CPU.MemoryPressureCPUPerMB = pressureProbe / probe.CPU.MemoryPressureHeadroomMB
	if err := emulatePressure(ctx, setups, probe, func(c *pressureCase, emu, _ float64) { c.emuProbe = emu }); err != nil {
		return Param{}, Param{}, err
	}
	var shown []*pressureCase
	for _, c := range cases {
		if !(c.emu0 > 0) || !(c.emuProbe > 0) || !(c.real > 0) {
			continue
		}
		c.elasticity = math.Log(c.emuProbe/c.emu0) / math.Log(1+pressureProbe)
		if c.elasticity < pressureMinElasticity {
			continue
		}
		c.need = math.Pow(c.real/c.emu0, 1/c.elasticity) - 1
		shown = append(shown, c)
	}
	// The extra grows as the free memory shrinks: the levels short of
	// memory are those from the least free up to the first that is not.
	levels := pressureLevels(shown)
	var shortFree []float64
	for _, l := range levels {
		if l.need < pressureShown {
			break
		}
		shortFree = append(shortFree, l.freeMB)
	}
	if len(shortFree) == 0 || slices.Max(shortFree)-slices.Min(shortFree) < pressureLevelsMB {
		return Param{}, Param{}, fmt.Errorf("%w: the headroom and the slope need levels of free memory short of it (a median of %.0f %% or more extra CPU, from the least free memory up) at two amounts %d MB apart or more; the levels: %s",
			ErrNoData, 100*pressureShown, pressureLevelsMB, describeLevels(levels[:min(len(levels), 4)]))
	}
	h, slope := fitHinge(levels)
	fitted := off
	fitted.CPU.MemoryPressureHeadroomMB, fitted.CPU.MemoryPressureCPUPerMB = h, slope
	if err := emulatePressure(ctx, setups, fitted, func(c *pressureCase, emu, _ float64) { c.emu = emu }); err != nil {
		return Param{}, Param{}, err
	}
	var short, free []*pressureCase
	for _, c := range shown {
		if c.freeMB < h {
			short = append(short, c)
		} else {
			free = append(free, c)
		}
	}
	var near []pressureLevel
	for _, l := range levels {
		if l.freeMB < h+10 {
			near = append(near, l)
		}
	}
	headroom = Param{Field: "cpu.memoryPressureHeadroomMB", Value: h, N: len(shown),
		Method: fmt.Sprintf("least squares of extra = slope x max(0, headroom - free MB) over the levels of free memory (each once: the median of its functions) of the %d functions (of %d with %d records or more) whose emulated median the CPU time of their work decides (a probe pressure moves it by half its extra or more), each with the extra CPU time that makes its emulated median the real one; headroom on a %.1f MB grid. Levels up to 10 MB beyond the headroom (median extra, functions): %s. Short of memory at the fit (emulated against real): %s; with more free memory, the largest errors: %s",
			len(shown), len(cases), pressureMinRecords, pressureStepMB, describeLevels(near), caseErrors(short, len(short)), caseErrors(free, 3))}
	perMB = Param{Field: "cpu.memoryPressureCPUPerMB", Value: slope, N: len(short),
		Method: "the slope of the same fit, in closed form for the headroom: extra CPU time per vCPU-ms of work per MB of free memory short of the headroom"}
	return headroom, perMB, nil
}

// pressureLevel is the functions compared with the same free memory:
// their median need.
type pressureLevel struct {
	freeMB, need float64
	n            int
}

// pressureLevels groups the cases by their free memory (to 0.5 MB).
func pressureLevels(cases []*pressureCase) []pressureLevel {
	by := map[float64][]float64{}
	for _, c := range cases {
		f := math.Round(2*c.freeMB) / 2
		by[f] = append(by[f], c.need)
	}
	var out []pressureLevel
	for f, v := range by {
		out = append(out, pressureLevel{freeMB: f, need: Median(v), n: len(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].freeMB < out[j].freeMB })
	return out
}

// fitHinge fits need = slope x max(0, h - free) to the levels by least
// squares, each level once (however many setups show it): h on a grid,
// slope >= 0 in closed form for each.
func fitHinge(levels []pressureLevel) (h, slope float64) {
	hiFree := 0.0
	for _, l := range levels {
		hiFree = math.Max(hiFree, l.freeMB)
	}
	best := math.Inf(1)
	for g := pressureStepMB; g <= hiFree+pressureStepMB; g += pressureStepMB {
		var sx, ss float64
		for _, l := range levels {
			s := math.Max(0, g-l.freeMB)
			sx += s * l.need
			ss += s * s
		}
		if ss == 0 {
			continue
		}
		k := math.Max(0, sx/ss)
		sse := 0.0
		for _, l := range levels {
			d := l.need - k*math.Max(0, g-l.freeMB)
			sse += d * d
		}
		if sse < best-1e-12 {
			best, h, slope = sse, g, k
		}
	}
	return round(h, 1), round(slope, 4)
}

// describeLevels lists levels: free memory, median extra, functions.
func describeLevels(levels []pressureLevel) string {
	var s []string
	for _, l := range levels {
		s = append(s, fmt.Sprintf("%.1f MB free: %+.1f %% (%d)", l.freeMB, 100*l.need, l.n))
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, "; ")
}

// caseErrors lists the n cases with the largest errors at the fit.
func caseErrors(cases []*pressureCase, n int) string {
	cs := slices.Clone(cases)
	sort.SliceStable(cs, func(i, j int) bool {
		return math.Abs(math.Log(cs[i].emu/cs[i].real)) > math.Abs(math.Log(cs[j].emu/cs[j].real))
	})
	var s []string
	for _, c := range cs[:min(n, len(cs))] {
		s = append(s, fmt.Sprintf("%s %.0f ms against %.0f (%+.1f %%)", c, c.emu, c.real, 100*(c.emu/c.real-1)))
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, "; ")
}

// pressureKey is a function of a setup at a size, warm or cold.
type pressureKey struct {
	function string
	mb       int
	cold     bool
}

// pressureGroups collects the internalDuration and Max Memory Used of the
// records of recs by function, size and cold start. Records that merge
// several invocations (the prototype's grouping) are left out.
func pressureGroups(recs []trace.Record) map[pressureKey][][2]float64 {
	g := map[pressureKey][][2]float64{}
	for i := range recs {
		r := &recs[i]
		if r.InternalDuration < 0 || selfCalls(r) > 1 {
			continue
		}
		mb, err := strconv.Atoi(r.MemoryAvail)
		if err != nil {
			continue
		}
		k := pressureKey{r.CurrentFunction, mb, r.IsColdStart}
		g[k] = append(g[k], [2]float64{float64(r.InternalDuration), float64(r.MaxMemoryUsed)})
	}
	return g
}

// kindsServed counts the kinds of request (RequestKind of their root)
// each function served in recs, merged records included: those with
// pressureMinRecords records or more.
func kindsServed(recs []trace.Record) map[string]int {
	kinds := map[string]string{}
	for i := range recs {
		if r := &recs[i]; r.IsRootInvocation {
			kinds[r.TraceID] = RequestKind(r)
		}
	}
	n := map[[2]string]int{}
	for i := range recs {
		r := &recs[i]
		if k, ok := kinds[r.TraceID]; ok {
			n[[2]string{r.CurrentFunction, k}]++
		}
	}
	out := map[string]int{}
	for k, c := range n {
		if c >= pressureMinRecords {
			out[k[0]]++
		}
	}
	return out
}

func column(v [][2]float64, i int) []float64 {
	x := make([]float64, len(v))
	for j := range v {
		x[j] = v[j][i]
	}
	return x
}

// pressureSetups finds the functions to compare and makes the loads of
// their setups. A function that serves requests of several kinds (the
// webshop's cart: adds with a sieve, gets with a query) is left out: Max
// Memory Used is the environment's peak so far, that of its heaviest kind
// whatever kind an invocation served, so what its free memory was while
// each kind ran is unknown.
func pressureSetups(ctx context.Context, dirs map[string]*trace.Dir, prof model.Profile) ([]*pressureSetup, []*pressureCase, error) {
	var setups []*pressureSetup
	var cases, mine []*pressureCase
	err := realSetups(ctx, dirs, prof, func(dn, sn string, real []trace.Record) bool {
		groups := pressureGroups(real)
		kinds := kindsServed(real)
		mine = nil
		for k, v := range groups {
			if len(v) < pressureMinRecords || kinds[k.function] > 1 {
				continue
			}
			if k.cold && len(groups[pressureKey{k.function, k.mb, false}]) >= pressureMinRecords {
				continue // warm records of it tell more
			}
			mine = append(mine, &pressureCase{dir: dn, setup: sn, function: k.function, mb: k.mb, cold: k.cold, n: len(v), real: Median(column(v, 0))})
		}
		sort.Slice(mine, func(i, j int) bool {
			a, b := mine[i], mine[j]
			if a.function != b.function {
				return a.function < b.function
			}
			if a.mb != b.mb {
				return a.mb < b.mb
			}
			return !a.cold && b.cold
		})
		return len(mine) > 0
	}, func(es *emuSetup) {
		setups = append(setups, &pressureSetup{emuSetup: es, cases: mine})
		cases = append(cases, mine...)
	})
	return setups, cases, err
}

// emulatePressure runs every setup under prof and hands each case its
// emulated median internalDuration and free memory (NaN without enough
// emulated records, or with a count of records far from the real one).
func emulatePressure(ctx context.Context, setups []*pressureSetup, prof model.Profile, set func(c *pressureCase, emu, freeMB float64)) error {
	return forEachSetup(len(setups), func(i int) error {
		s := setups[i]
		recs, err := s.run(ctx, prof)
		if err != nil {
			return err
		}
		groups := pressureGroups(recs)
		for _, c := range s.cases {
			v := groups[pressureKey{c.function, c.mb, c.cold}]
			if n := float64(len(v)); n < pressureMinRecords/4 || math.Abs(n/float64(c.n)-1) > pressureCountTolerance {
				set(c, math.NaN(), math.NaN())
				continue
			}
			set(c, Median(column(v, 0)), float64(c.mb)-Median(column(v, 1)))
		}
		return nil
	})
}
