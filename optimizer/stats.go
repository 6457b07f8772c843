package optimizer

import (
	"math"
	"sort"
	"strconv"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/trace"
)

// median of xs (the mean of the two middle values for an even count); NaN
// for none. xs is sorted in place.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// medianRootBilledMs is the prototype's measure of a setup: the median billed
// duration of the root invocations, in ms; ok is false without roots.
func medianRootBilledMs(recs []trace.Record) (ms float64, ok bool) {
	var xs []float64
	for i := range recs {
		if recs[i].IsRootInvocation {
			xs = append(xs, float64(recs[i].BilledDuration))
		}
	}
	if len(xs) == 0 {
		return 0, false
	}
	return median(xs), true
}

// Best returns the index of the trial with the lowest median root billed
// duration, the prototype's best setup, and that median in ms; the earliest
// trial wins ties (the published runs redeployed the first of several setups
// with equal medians). -1 when no trial has root invocations.
func Best(history []Trial) (int, float64) {
	bi, bm := -1, 0.0
	for i, t := range history {
		m, ok := medianRootBilledMs(t.Records)
		if ok && (bi < 0 || m < bm) {
			bi, bm = i, m
		}
	}
	return bi, bm
}

// memoryOf parses a record's memoryAvail; the default size when it does not
// parse.
func memoryOf(r *trace.Record) int {
	mb, err := strconv.Atoi(r.MemoryAvail)
	if err != nil || mb <= 0 {
		return fusionsim.DefaultMemoryMB
	}
	return mb
}
