package optimizer

import (
	"cmp"
	"math"
	"slices"
)

// FrontIndices returns the indices of the figures no other figures dominate
// in (median latency, cost per request), fastest first (then cheapest, then
// by index); figures with failed requests or without latencies are left out,
// equal figures all kept. It sorts once (n log n), so that it serves fronts
// of hundreds of thousands of setups.
func FrontIndices(ms []Metrics) []int {
	var idx []int
	for i, m := range ms {
		if (Point{Metrics: m}).valid() {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int {
		return cmp.Or(cmp.Compare(ms[a].MedianLatencyMs, ms[b].MedianLatencyMs),
			cmp.Compare(ms[a].CostPerRequestUSD, ms[b].CostPerRequestUSD), cmp.Compare(a, b))
	})
	// A point is dominated by a faster point that costs no more, or by an
	// equally fast one that costs less: on the front are the cheapest of each
	// latency, if cheaper than everything faster.
	var front []int
	cheapest := math.Inf(1) // the lowest cost of the latencies before this one
	for i := 0; i < len(idx); {
		j := i
		lat := ms[idx[i]].MedianLatencyMs
		for j < len(idx) && ms[idx[j]].MedianLatencyMs == lat {
			j++
		}
		low := ms[idx[i]].CostPerRequestUSD
		if low < cheapest {
			for k := i; k < j && ms[idx[k]].CostPerRequestUSD == low; k++ {
				front = append(front, idx[k])
			}
			cheapest = low
		}
		i = j
	}
	return front
}
