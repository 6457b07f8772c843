package calibrate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
)

// entryObs are the observations of IoT's entry I with CW and SE local (a
// put, then three concurrent async calls), warm, per memory size.
type entryObs struct {
	// ack is the last ack of the three of an invocation, ind every ack.
	put, ack, ind, total Samples
	// locals are the local calls of each invocation (CW's and SE's).
	locals []float64
	pairs  [][2]float64 // pairs of acks of one invocation, at one vCPU or more
}

// iotEntry reports whether r is IoT's I running SE locally and making
// exactly three async remote calls; it returns the put's time and the acks.
func iotEntry(r *trace.Record) (put float64, acks []float64, ok bool) {
	if r.CurrentFunction != taskIoTI || r.InternalDuration < 0 {
		return 0, nil, false
	}
	puts := 0
	for _, c := range r.Calls {
		switch {
		case c.Local && c.Sync && c.Called == taskIoTSE:
			put = float64(c.Time)
			puts++
		case !c.Local && !c.Sync:
			acks = append(acks, float64(c.Time))
		case !c.Local:
			return 0, nil, false
		}
	}
	return put, acks, puts == 1 && len(acks) == 3
}

func (f *fitter) entryObservations() entryObs {
	o := entryObs{put: Samples{}, ack: Samples{}, ind: Samples{}, total: Samples{}}
	f.ds.Each(func(inv Inv) {
		if inv.IsColdStart {
			return
		}
		put, acks, ok := iotEntry(inv.Record)
		if !ok {
			return
		}
		o.put.Add(inv.MemoryMB, put)
		o.ack.Add(inv.MemoryMB, slices.Max(acks))
		for _, a := range acks {
			o.ind.Add(inv.MemoryMB, a)
		}
		o.total.Add(inv.MemoryMB, float64(inv.InternalDuration))
		o.locals = append(o.locals, float64(len(LocalCalls(inv.Record))))
		if f.p.CPU.Share(inv.MemoryMB) >= 1 {
			o.pairs = append(o.pairs, [2]float64{acks[0], acks[1]}, [2]float64{acks[0], acks[2]}, [2]float64{acks[1], acks[2]})
		}
	})
	return o
}

// concurrentTime is the time k concurrent single-thread CPU jobs of w
// vCPU-ms each take together (processor sharing: they end together),
// starting with quota q: at min(k, cores) vCPUs until the quota is used,
// then at min(k, cores, share).
func concurrentTime(cpu model.CPU, w float64, k, mb int, q float64) float64 {
	total := w * float64(k)
	cores := float64(cpu.Cores(mb))
	fast := math.Min(float64(k), cores)
	slow := math.Min(fast, cpu.Share(mb))
	if q <= 0 || cpu.BurstPeriodMs <= 0 || fast <= slow {
		return total / slow
	}
	if q >= total {
		return total / fast
	}
	return q/fast + (total-q)/slow
}

// opsFit is the entry's operations fitted for one period.
type opsFit struct {
	period             float64
	putLat, putCPU     float64
	ackLat, ackCPU     float64
	rest               float64 // entry time beyond put and ack at one vCPU or more
	err                float64 // squared relative error of the entry time at the middle sizes
	predicted, entries map[int]float64
}

// fitEntryOps fits cpu.burstPeriodMs, storage.put, remote.asyncAck and
// remote.latencyCorrelation on IoT's entry I with CW and SE local: a put,
// then three concurrent async calls, the same code at every memory size.
//
// For each period of a grid (0 to 40 ms by 0.5), the put's latency and CPU
// demand follow from its median time at one vCPU or more (latency +
// demand) and at the smallest size (latency + CPU time with a full quota,
// less what the local calls before it spent: handler.localCallCPUMs);
// the acks' from the median of an invocation's last ack (the one the entry
// waits for) at one vCPU or more and at the smallest size (latency + CPU
// time of the three concurrent calls, with the quota left after the put and
// refilled during its latency; the median over the I/O operations' CPU
// variation, cpu.ioVariationCPUMs of the base profile, when it has one).
// The period is the one whose put + last ack
// + the entry's remaining time (measured at one vCPU or more) best predicts
// the entry's median time at the sizes in between (least squares of the
// relative error); the quota makes short work there as fast as at one
// vCPU, as the traces show. The correlation of the acks of one invocation
// is fitted on their ranks.
func (f *fitter) fitEntryOps() error {
	o := f.entryObservations()
	if o.total.Count() == 0 {
		return fmt.Errorf("%w: no warm IoT entry with SE local", ErrNoData)
	}
	cpu := f.p.CPU
	var high, mid []int
	low := 0
	for _, mb := range o.total.Sizes() {
		switch s := cpu.Share(mb); {
		case s >= 1:
			high = append(high, mb)
		case low == 0:
			low = mb
		default:
			mid = append(mid, mb)
		}
	}
	if len(high) == 0 || low == 0 {
		return fmt.Errorf("%w: the IoT entry needs sizes of 1769 MB or more and below", ErrNoData)
	}
	medAt := func(s Samples, sizes []int) float64 {
		var v []float64
		for _, mb := range sizes {
			v = append(v, s[mb]...)
		}
		return Median(v)
	}
	putH, ackH, totH := medAt(o.put, high), medAt(o.ack, high), medAt(o.total, high)
	jitter := newIOVariationDraws(f.p.CPU.IOVariationCPUMs, 3)
	putL, ackL := Median(o.put[low]), Median(o.ack[low])
	// The handler's demand per local call (handler.localCallCPUMs, fitted
	// by emulation when the base has it): the entry's local calls before
	// the put (CW's) spend it from the quota, and the put's own call (SE's)
	// holds it in its time.
	lc := f.p.Handler.LocalCallCPUMs
	before := math.Max(0, Median(o.locals)-1) * lc
	fitFor := func(period float64) opsFit {
		c := cpu
		c.BurstPeriodMs = period
		r := opsFit{period: period, predicted: map[int]float64{}, entries: map[int]float64{}}
		// Put: the recorded call holds the local call's own demand and the
		// put's (d = lc + w) after the other local calls spent theirs:
		// L + d = putH; L + T(d, low, full - before) = putL.
		quotaAtPut := func(mb int) float64 { return math.Max(0, c.Burst(mb)-before) }
		d := lc
		if diff := putL - putH; diff > 0 {
			d = solve(func(w float64) float64 { return CPUTime(c, w, low, 1, quotaAtPut(low)) - w }, diff, lc, putH)
		}
		r.putCPU = math.Max(0, d-lc)
		r.putLat = putH - d
		quotaAfterPut := func(mb int) float64 {
			q := c.Burst(mb)
			left := math.Max(0, quotaAtPut(mb)-d)
			return math.Min(q, left+c.Share(mb)*r.putLat)
		}
		ackT := func(w float64, mb int) float64 { return jitter.concurrentTime(c, w, 3, mb, quotaAfterPut(mb)) }
		hi := high[0]
		if d := ackL - ackH; d > 0 {
			r.ackCPU = solve(func(w float64) float64 { return ackT(w, low) - ackT(w, hi) }, d, 0, ackH)
		}
		r.ackLat = ackH - ackT(r.ackCPU, hi)
		putT := func(mb int) float64 { return r.putLat + CPUTime(c, d, mb, 1, quotaAtPut(mb)) }
		r.rest = totH - putH - ackH
		for _, mb := range mid {
			pred := putT(mb) + r.ackLat + ackT(r.ackCPU, mb) + r.rest
			obs := Median(o.total[mb])
			r.predicted[mb], r.entries[mb] = round(pred, 1), obs
			r.err += math.Pow((pred-obs)/obs, 2)
		}
		return r
	}
	best := fitFor(0)
	if len(mid) > 0 {
		for p := 0.5; p <= 40; p += 0.5 {
			if r := fitFor(p); r.err < best.err-1e-12 {
				best = r
			}
		}
	}
	f.p.CPU.BurstPeriodMs = best.period
	f.note(Param{Field: "cpu.burstPeriodMs", Value: best.period, N: o.total.Count(), ByMemory: best.predicted,
		Method: fmt.Sprintf("least squares (grid 0-40 ms) of the relative error of IoT's entry time (I with CW, SE local: put + three concurrent async calls) predicted at the sizes between %d MB and one vCPU; by memory: predicted entry time (observed %v)", low, fmtSizes(best.entries))})
	// Put.
	f.p.Storage.Put = model.Cost{LatencyMs: empirical(highSamples(cpu, o.put), best.putCPU), CPUMs: round(best.putCPU, 3)}
	// (the put's latency includes the handler's small own work before it)
	f.note(Param{Field: "storage.put.cpuMs", Value: round(best.putCPU, 3), N: o.put.Count(), ByMemory: roundAll(o.put.Medians(), 1),
		Method: "the entry's put (SE run locally): median time at the smallest size = latency + CPU time with a full quota, at 1769 MB or more = latency + demand"})
	f.note(Param{Field: "storage.put.latencyMs", Value: round(best.putLat, 2), N: len(highSamples(cpu, o.put)),
		Method: "empirical distribution (40 quantiles) of the put's times at 1769 MB or more, less the demand"})
	// Ack: the latency distribution is that of single acks at one vCPU or
	// more, less the three calls' CPU time there.
	c := cpu
	c.BurstPeriodMs = best.period
	hi := highSamples(cpu, o.ind)
	hiCPU := jitter.concurrentTime(c, best.ackCPU, 3, high[0], c.Burst(high[0]))
	f.p.Remote.AsyncAck = model.Cost{LatencyMs: empirical(hi, hiCPU), CPUMs: round(best.ackCPU, 3)}
	f.note(Param{Field: "remote.asyncAck.cpuMs", Value: round(best.ackCPU, 3), N: o.ack.Count(), ByMemory: roundAll(o.ack.Medians(), 1),
		Method: "the entry's three concurrent async calls: median of the last ack of an invocation at the smallest size and at 1769 MB or more, each = latency + CPU time of the three calls' demand with the quota left after the put (by memory: that median)"})
	f.note(Param{Field: "remote.asyncAck.latencyMs", Value: round(Median(hi)-hiCPU, 2), N: len(hi),
		Method: "empirical distribution (40 quantiles) of the single acks at 1769 MB or more, less the three calls' CPU time there"})
	// Correlation of the acks of one invocation (Gaussian copula): the one
	// whose median last-of-three ack matches the observed one at one vCPU
	// or more (Monte Carlo with a fixed seed).
	if maxHi := highSamples(cpu, o.ack); len(maxHi) >= 30 {
		target := Median(maxHi) - hiCPU
		rho, got := fitCorrelation(f.p.Remote.AsyncAck.LatencyMs, 3, target)
		f.p.Remote.LatencyCorrelation = rho
		f.note(Param{Field: "remote.latencyCorrelation", Value: rho, N: len(maxHi),
			Method: fmt.Sprintf("the Gaussian-copula correlation (grid by 0.05) whose median of the largest of three correlated ack latencies (Monte Carlo, %d draws) is nearest the observed median last ack at 1769 MB or more less the CPU time: %.1f ms against %.1f (rank correlation of the acks: %.3f)", mcDraws, got, target, spearman(o.pairs))})
	}
	f.haveOps = true
	return nil
}

// mcDraws is the number of Monte Carlo draws of fitCorrelation.
const mcDraws = 20000

// fitCorrelation returns the Gaussian-copula correlation (0 to 0.95 by
// 0.05) with which the median of the largest of k draws of d is nearest to
// target, and that median.
func fitCorrelation(d model.Dist, k int, target float64) (rho, median float64) {
	best, bestMed := 0.0, math.NaN()
	for i := 0; i <= 19; i++ {
		c := float64(i) * 0.05
		r := rand.New(rand.NewPCG(1, 2))
		mx := make([]float64, mcDraws)
		for j := range mx {
			zi := r.NormFloat64()
			m := math.Inf(-1)
			for range k {
				z := math.Sqrt(c)*zi + math.Sqrt(1-c)*r.NormFloat64()
				m = math.Max(m, d.Quantile(z))
			}
			mx[j] = m
		}
		med := Median(mx)
		if math.IsNaN(bestMed) || math.Abs(med-target) < math.Abs(bestMed-target) {
			best, bestMed = c, med
		}
	}
	return round(best, 2), bestMed
}

// spearman is the rank correlation of the pairs (average ranks for ties).
func spearman(pairs [][2]float64) float64 {
	n := len(pairs)
	rank := func(col int) []float64 {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return pairs[idx[a]][col] < pairs[idx[b]][col] })
		r := make([]float64, n)
		for i := 0; i < n; {
			j := i
			for j+1 < n && pairs[idx[j+1]][col] == pairs[idx[i]][col] {
				j++
			}
			avg := float64(i+j)/2 + 1
			for k := i; k <= j; k++ {
				r[idx[k]] = avg
			}
			i = j + 1
		}
		return r
	}
	a, b := rank(0), rank(1)
	ma, mb := Mean(a), Mean(b)
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	if saa == 0 || sbb == 0 {
		return 0
	}
	return sab / math.Sqrt(saa*sbb)
}

func fmtSizes(m map[int]float64) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%d:%g", k, round(m[k], 1))
	}
	return s
}

// ioVariationDraws are fixed draws of the I/O variation of k concurrent
// operations, to take the median CPU time of their varied demands.
type ioVariationDraws struct {
	k, n int
	sd   float64
	zs   []float64 // n draws of k standard normals
	buf  []float64
}

// newIOVariationDraws draws 1000 sets of k standard normals (seeded: the
// fit is deterministic); none when sd is 0 (no variation).
func newIOVariationDraws(sd float64, k int) *ioVariationDraws {
	j := &ioVariationDraws{k: k, sd: sd}
	if sd == 0 {
		return j
	}
	r := rand.New(rand.NewPCG(5, 6))
	j.n = 1000
	j.zs = make([]float64, j.n*k)
	for i := range j.zs {
		j.zs[i] = r.NormFloat64()
	}
	j.buf = make([]float64, j.n)
	return j
}

// concurrentTime is the median over the draws of concurrentTime with each
// draw's varied demands (the plain one without draws).
func (j *ioVariationDraws) concurrentTime(cpu model.CPU, w float64, k, mb int, q float64) float64 {
	if j.n == 0 {
		return concurrentTime(cpu, w, k, mb, q)
	}
	for i := range j.n {
		total := 0.0
		for _, z := range j.zs[i*j.k : (i+1)*j.k] {
			total += math.Max(0, w+j.sd*z)
		}
		j.buf[i] = concurrentTime(cpu, total/float64(j.k), k, mb, q)
	}
	slices.Sort(j.buf)
	return quantileLin(j.buf, 0.5)
}
