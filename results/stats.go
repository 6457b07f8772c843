package results

import (
	"math"
	"slices"
	"strconv"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/internal/strtab"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
)

// SetupStats accumulates what a setup's summary row and figures are made
// of, from its invocation records and client responses added one at a
// time, in any order: a run need not hold its records and responses to
// summarize them. Its memory is bounded by the number of distinct values
// (latencies are whole milliseconds), not by the run's length, except for
// the end-to-end latencies (nanoseconds, nearly all distinct): those are
// kept exactly up to ValuesInMemory of them and spilled to a temporary
// file beyond, from which quantiles are still exact (Values). The zero
// value is not ready: use NewSetupStats.
type SetupStats struct {
	records      int   // invocation records
	mbms         int64 // billed MB-ms of all of them
	coldStarts   int
	roots        int
	killed       int // roots without internalDuration
	rootInternal Counts
	rootBilled   Counts
	functions    map[string]*FunctionStats
	// Functions of recent records and their statistics, direct-mapped by
	// the address of the name (records of one run share their strings).
	recent [8]struct {
		name  string
		stats *FunctionStats
	}

	responses int // client responses
	failed    int
	e2e       *Values // latency of the successful responses, ns
}

// FunctionStats are the figures of one function (currentFunction) of a
// setup.
type FunctionStats struct {
	// MemoryMB lists the memory sizes it ran at, in the order first seen.
	MemoryMB []int
	// Invocations counts its records; BilledMBMs their billed MB-ms.
	Invocations int
	BilledMBMs  int64
	// Internal counts its internalDurations (those >= 0), ms.
	Internal Counts
}

// NewSetupStats returns empty statistics.
func NewSetupStats() *SetupStats {
	return &SetupStats{functions: map[string]*FunctionStats{}, e2e: NewValues()}
}

// StatsOf accumulates recs and resps.
func StatsOf(recs []trace.Record, resps []fusionsim.Response) *SetupStats {
	s := NewSetupStats()
	for i := range recs {
		s.AddRecord(&recs[i])
	}
	for i := range resps {
		s.AddResponse(&resps[i])
	}
	return s
}

// AddRecord adds an invocation record.
func (s *SetupStats) AddRecord(r *trace.Record) {
	mb, _ := strconv.Atoi(r.MemoryAvail)
	s.records++
	s.mbms += r.BilledDuration * int64(mb)
	if r.IsColdStart {
		s.coldStarts++
	}
	c := &s.recent[strtab.Slot(r.CurrentFunction, len(s.recent))]
	f := c.stats
	if f == nil || c.name != r.CurrentFunction {
		if f = s.functions[r.CurrentFunction]; f == nil {
			f = &FunctionStats{}
			s.functions[r.CurrentFunction] = f
		}
		c.name, c.stats = r.CurrentFunction, f
	}
	if !slices.Contains(f.MemoryMB, mb) {
		f.MemoryMB = append(f.MemoryMB, mb)
	}
	f.Invocations++
	f.BilledMBMs += r.BilledDuration * int64(mb)
	if r.InternalDuration >= 0 {
		f.Internal.Add(r.InternalDuration)
	}
	if r.IsRootInvocation {
		s.roots++
		s.rootBilled.Add(r.BilledDuration)
		if r.InternalDuration >= 0 {
			s.rootInternal.Add(r.InternalDuration)
		} else {
			s.killed++
		}
	}
}

// AddResponse adds what the client saw of one request; a dropped iteration's
// request, never sent, is no request.
func (s *SetupStats) AddResponse(r *fusionsim.Response) {
	if r.Dropped() {
		return // never sent: a dropped iteration (SummarizeKinds counts them)
	}
	s.responses++
	if Failed(*r) {
		s.failed++
		return
	}
	s.e2e.Add(int64(r.Latency()))
}

// Invocations is the number of records added.
func (s *SetupStats) Invocations() int { return s.records }

// Responses is the number of responses added.
func (s *SetupStats) Responses() int { return s.responses }

// RootInternal counts the root invocations' internalDurations, ms.
func (s *SetupStats) RootInternal() *Counts { return &s.rootInternal }

// RootBilled counts the root invocations' billed durations, ms.
func (s *SetupStats) RootBilled() *Counts { return &s.rootBilled }

// E2E holds the end-to-end latencies of the successful responses, ns.
func (s *SetupStats) E2E() *Values { return s.e2e }

// Functions are the per-function figures, by currentFunction.
func (s *SetupStats) Functions() map[string]*FunctionStats { return s.functions }

// Memory is the memory size each function ran at (Row.Memory's map).
func (s *SetupStats) Memory() map[string][]int {
	m := make(map[string][]int, len(s.functions))
	for f, fs := range s.functions {
		m[f] = slices.Clone(fs.MemoryMB)
	}
	return m
}

// Row is the setup's summary row (see Summarize).
func (s *SetupStats) Row(setup string, pricing model.Pricing) Row {
	row := Row{Setup: setup, Invocations: s.records, ColdStarts: s.coldStarts}
	row.MedianMs, row.P95Ms, row.P99Ms = s.rootInternal.Quantiles3()
	row.E2EMedianMs, row.E2EP95Ms = math.NaN(), math.NaN()
	if s.responses > 0 {
		row.Requests, row.Errors = s.responses, s.failed
		row.E2EMedianMs, row.E2EP95Ms, _ = s.e2e.QuantilesMs3()
	} else {
		row.Requests, row.Errors = s.roots, s.killed
	}
	if row.Requests > 0 {
		n := float64(row.Requests)
		// Compute at the first price tier plus every invocation's request
		// fee (model.Pricing.InvocationUSD, summed).
		usd := pricing.ComputeUSD(s.mbms, 1) + float64(s.records)*pricing.RequestUSDPerMillion/1e6
		row.GBMsPerRequest = pricing.GBMs(s.mbms, 1) / n
		row.USDPerMillion = usd / n * 1e6
		row.InvocationsPerRequest = float64(row.Invocations) / n
	}
	if row.Invocations > 0 {
		row.ColdStartShare = float64(row.ColdStarts) / float64(row.Invocations)
	}
	row.Memory = memoryString(s.Memory())
	return row
}

// Counts is a multiset of whole numbers (latencies in ms), which gives
// exact order statistics in memory proportional to the distinct values:
// small non-negative values (below denseMax) are counted in an array
// indexed by the value, others in a map.
type Counts struct {
	n      int
	dense  []int32       // dense[v] counts v, 0 <= v < len(dense)
	counts map[int64]int // the other values
	sorted []int64       // the distinct values, sorted; nil when stale
}

// denseMax bounds the values Counts keeps in its array (65 s in ms).
const denseMax = 1 << 16

// Add adds v.
func (c *Counts) Add(v int64) { c.AddN(v, 1) }

// AddN adds v count times.
func (c *Counts) AddN(v int64, count int) {
	if count <= 0 {
		return
	}
	c.n += count
	if v >= 0 && v < denseMax && count <= math.MaxInt32 {
		if int(v) >= len(c.dense) {
			n := max(int(v)+1, min(2*len(c.dense), denseMax))
			c.dense = slices.Grow(c.dense, n-len(c.dense))[:n]
		}
		k := &c.dense[v]
		if *k == 0 {
			c.sorted = nil
		}
		if int64(*k)+int64(count) <= math.MaxInt32 {
			*k += int32(count)
			return
		}
		// Beyond the array's counts: the rest in the map.
		count -= int(math.MaxInt32 - *k)
		*k = math.MaxInt32
	}
	if c.counts == nil {
		c.counts = map[int64]int{}
	}
	if c.counts[v] == 0 {
		c.sorted = nil
	}
	c.counts[v] += count
}

// count is how many times v was added.
func (c *Counts) count(v int64) int {
	k := 0
	if v >= 0 && v < int64(len(c.dense)) {
		k = int(c.dense[v])
	}
	if c.counts != nil {
		k += c.counts[v]
	}
	return k
}

// Merge adds every value of o.
func (c *Counts) Merge(o *Counts) {
	for v, k := range o.dense {
		c.AddN(int64(v), int(k))
	}
	for v, k := range o.counts {
		c.AddN(v, k)
	}
}

// Len is the number of values added.
func (c *Counts) Len() int { return c.n }

// Distinct returns the distinct values, ascending, and calls fn for each
// with its count.
func (c *Counts) Distinct(fn func(v int64, count int)) {
	for _, v := range c.values() {
		fn(v, c.count(v))
	}
}

func (c *Counts) values() []int64 {
	if c.sorted == nil && c.n > 0 {
		c.sorted = make([]int64, 0, len(c.counts)+64)
		for v, k := range c.dense {
			if k > 0 {
				c.sorted = append(c.sorted, int64(v))
			}
		}
		for v := range c.counts {
			if v < 0 || v >= int64(len(c.dense)) || c.dense[v] == 0 {
				c.sorted = append(c.sorted, v)
			}
		}
		slices.Sort(c.sorted)
	}
	return c.sorted
}

// Nth returns the (k+1)-th smallest value (0 <= k < Len).
func (c *Counts) Nth(k int) int64 {
	for _, v := range c.values() {
		if k -= c.count(v); k < 0 {
			return v
		}
	}
	panic("results: Counts.Nth out of range")
}

// Quantiles3 returns the median, p95 and p99 the way Quantile computes
// them on the sorted values (NaN when empty).
func (c *Counts) Quantiles3() (median, p95, p99 float64) {
	return quantiles3(c.n, func(k int) float64 { return float64(c.Nth(k)) })
}

// Median is the sample median (NaN when empty).
func (c *Counts) Median() float64 {
	m, _, _ := c.Quantiles3()
	return m
}

// quantiles3 applies Quantile's rules to a sorted sample of n values whose
// (k+1)-th smallest is nth(k).
func quantiles3(n int, nth func(k int) float64) (median, p95, p99 float64) {
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	median = (nth((n-1)/2) + nth(n/2)) / 2
	p95 = nth(min(n*95/100, n-1))
	p99 = nth(min(n*99/100, n-1))
	return median, p95, p99
}
