package calibrate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/fusionsim/fusionsim/model"
)

// fitIOVariation fits cpu.ioVariationCPUMs, the variation of each I/O
// operation's CPU demand, from two operations at the smallest size below
// one vCPU, where their demand runs mostly at the share and its variation
// is magnified by 1/share: the lone warm async call of split's A (B, D, E
// local: one remote call at the start of a task without CPU work of its
// own; loneAck) and the put of IoT's entry (SE run locally by I, the first
// operation of a warm invocation). At 128 MB both spread three to five
// times as much as at one vCPU or more, where their latency alone spreads
// them, and by about the same CPU time though the put's demand is 1.6
// times the ack's: the variation is additive, not a factor. An operation of
// demand w takes max(0, w + sd z) with z standard normal; sd (grid by 0.05
// vCPU-ms) is the one whose Monte Carlo operations (the fitted latency
// distribution plus the CPU time of the varied demand with a full quota)
// have the observed distances of the quartiles from the median, both
// operations together (least squares). Their tails beyond the quartiles are
// longer than a normal variation gives (the ack's 90th percentile is 57 ms
// above its median at 128 MB, its 10th 16 below); they are not fitted.
func (f *fitter) fitIOVariation() error {
	type op struct {
		name string
		obs  []float64
		lat  model.Dist
		w    float64
		mb   int
	}
	var ops []op
	smallest := func(s Samples) int {
		for _, mb := range s.Sizes() {
			if f.p.CPU.Share(mb) < 1 && len(s[mb]) >= 100 {
				return mb
			}
		}
		return 0
	}
	if acks := f.loneAck(false); smallest(acks) > 0 {
		mb := smallest(acks)
		ops = append(ops, op{fmt.Sprintf("lone async call (split's A with B, D, E local) at %d MB", mb), sorted(acks[mb]), f.p.Remote.AsyncAck.LatencyMs, f.p.Remote.AsyncAck.CPUMs, mb})
	}
	if puts := f.entryObservations().put; smallest(puts) > 0 {
		mb := smallest(puts)
		ops = append(ops, op{fmt.Sprintf("put of IoT's entry (SE local) at %d MB", mb), sorted(puts[mb]), f.p.Storage.Put.LatencyMs, f.p.Storage.Put.CPUMs, mb})
	}
	if len(ops) == 0 {
		return fmt.Errorf("%w: no 100 warm lone async calls (split's A with B, D, E local) or IoT entry puts below one vCPU", ErrNoData)
	}
	cpu := f.p.CPU
	const n = 20000
	r := rand.New(rand.NewPCG(3, 4))
	type draws struct{ ls, zs []float64 }
	ds := make([]draws, len(ops))
	for i, o := range ops {
		ds[i] = draws{make([]float64, n), make([]float64, n)}
		for j := range n {
			ds[i].ls[j], ds[i].zs[j] = o.lat.Sample(r), r.NormFloat64()
		}
	}
	sim := make([]float64, n)
	simulate := func(i int, sd float64) []float64 {
		o := ops[i]
		q := FullQuota(cpu, o.mb)
		for j := range sim {
			sim[j] = ds[i].ls[j] + CPUTime(cpu, math.Max(0, o.w+sd*ds[i].zs[j]), o.mb, 1, q)
		}
		slices.Sort(sim)
		return quartileSpreads(sim)
	}
	best, bestErr := 0.0, math.Inf(1)
	for k := 0; k <= 80; k++ {
		sd := float64(k) * 0.05
		e := 0.0
		for i := range ops {
			got, want := simulate(i, sd), quartileSpreads(ops[i].obs)
			for m := range got {
				e += (got[m] - want[m]) * (got[m] - want[m])
			}
		}
		if e < bestErr-1e-9 {
			best, bestErr = sd, e
		}
	}
	best = round(best, 2)
	f.p.CPU.IOVariationCPUMs = best
	method := "the standard deviation of a normal variation added to each I/O operation's CPU demand whose Monte Carlo operations (latency distribution + CPU time of the varied demand, full quota) have the observed distances of the quartiles from the median (least squares); observed and simulated, ms:"
	by := map[int]float64{}
	nobs := 0
	for i, o := range ops {
		method += fmt.Sprintf(" %s (demand %.3g vCPU-ms) %v and %v;", o.name, o.w, roundList(quartileSpreads(o.obs), 1), roundList(simulate(i, best), 1))
		by[o.mb] = round(iqr(o.obs), 1)
		nobs += len(o.obs)
	}
	f.note(Param{Field: "cpu.ioVariationCPUMs", Value: best, N: nobs, ByMemory: by, Method: method + " by memory: the interquartile range"})
	return nil
}

// quartileSpreads are the distances of sorted x's quartiles from its median.
func quartileSpreads(x []float64) []float64 {
	med := quantileLin(x, 0.5)
	return []float64{quantileLin(x, 0.25) - med, quantileLin(x, 0.75) - med}
}

func roundList(x []float64, decimals int) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = round(v, decimals)
	}
	return out
}
