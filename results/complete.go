package results

import (
	"fmt"
	"slices"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/trace"
)

// Thresholds of CheckTraces.
const (
	// missingShare is the share of requests without a root invocation from
	// which traces count as incomplete (a few are lost at the edges of a
	// window of logs).
	missingShare = 0.02
	// timeoutShare is the share of the function timeout from which a root
	// invocation counts as cut off by it.
	timeoutShare = 0.95
	// gapFactor: a pause in the root starts this many times the median gap
	// (and at least gapMinMs) in an otherwise steady stream of requests
	// means the logs of that stretch are missing.
	gapFactor = 20
	gapMinMs  = 2000
)

// CheckTraces says why a setup's traces are not a complete account of its
// requests, one reason each; nil when nothing is wrong. Where traces are
// incomplete the figures per request (GB-ms, cost, invocations) are not
// meaningful: the invocations of the missing requests are missing too, or
// the requests were cut off. It looks for
//
//   - requests without their root invocation: traces of non-root
//     invocations whose root record is missing, and, with client responses,
//     answered requests beyond the root invocations;
//   - root invocations that ran into the function timeout (billed at least
//     95 % of timeout; timeout <= 0 skips the check);
//   - a pause in the root starts of a steady stream of requests (twenty
//     times the median gap and at least 2 s) that the load does not explain:
//     logs missing for a stretch of the run. Sequential loads (each request
//     after the previous one) are not checked for pauses.
func CheckTraces(recs []trace.Record, resps []fusionsim.Response, timeout time.Duration) []string {
	var out []string
	roots := 0
	haveRoot := map[string]bool{}
	traces := map[string]bool{}
	var starts []int64
	cutOff := 0
	limitMs := int64(float64(timeout.Milliseconds()) * timeoutShare)
	for i := range recs {
		r := &recs[i]
		traces[r.TraceID] = true
		if !r.IsRootInvocation {
			continue
		}
		roots++
		haveRoot[r.TraceID] = true
		starts = append(starts, r.StartTimestamp)
		if timeout > 0 && r.BilledDuration >= limitMs {
			cutOff++
		}
	}
	orphans := 0
	for id := range traces {
		if !haveRoot[id] {
			orphans++
		}
	}
	requests := roots + orphans
	if orphans > 0 && float64(orphans) > missingShare*float64(requests) {
		out = append(out, fmt.Sprintf("%d of %d requests have invocations but no root invocation record", orphans, requests))
	}
	if len(resps) > 0 {
		answered := 0
		for _, r := range resps {
			if !Failed(r) {
				answered++
			}
		}
		if missing := answered - roots; missing > 0 && float64(missing) > missingShare*float64(answered) {
			out = append(out, fmt.Sprintf("%d answered requests but only %d root invocation records", answered, roots))
		}
	}
	if cutOff > 0 {
		out = append(out, fmt.Sprintf("%d of %d root invocations ran into the function timeout (billed >= %d ms of %v)", cutOff, roots, limitMs, timeout))
	}
	if gap, at, ok := longPause(recs, starts); ok {
		out = append(out, fmt.Sprintf("no request starts for %.1f s (from %s) in a steady stream of requests: logs of that stretch missing?",
			float64(gap)/1000, time.UnixMilli(at).UTC().Format(time.RFC3339)))
	}
	return out
}

// longPause finds the longest gap between root starts when it is gapFactor
// times the median gap and at least gapMinMs long, in a load whose requests
// overlap (open loop).
func longPause(recs []trace.Record, starts []int64) (gap, at int64, ok bool) {
	if len(starts) < 20 {
		return 0, 0, false
	}
	// Sequential requests pause as long as the protocol wants.
	ends := map[int64]int64{}
	for i := range recs {
		if r := &recs[i]; r.IsRootInvocation {
			ends[r.StartTimestamp] = max(ends[r.StartTimestamp], r.EndTimestamp)
		}
	}
	s := slices.Clone(starts)
	slices.Sort(s)
	gaps := make([]int64, len(s)-1)
	overlap := 0
	for i := 1; i < len(s); i++ {
		gaps[i-1] = s[i] - s[i-1]
		if s[i] < ends[s[i-1]] {
			overlap++
		}
		if gaps[i-1] > gap {
			gap, at = gaps[i-1], s[i-1]
		}
	}
	if overlap < len(gaps)/2 {
		return 0, 0, false
	}
	sorted := slices.Clone(gaps)
	slices.Sort(sorted)
	median := sorted[len(sorted)/2]
	return gap, at, gap >= gapMinMs && gap >= gapFactor*max(median, 1)
}
