package calibrate

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// LoadRequests is validate's load that replays the real requests
// (RequestArrivals): the default for traces of several request kinds
// whose bodies the workload knows (workloads.Workload.RequestEvents).
const LoadRequests = "requests"

// RequestArrivals replays the real requests of recs: one arrival per root
// record, in the order of their starts, at its start's offset from the
// first, to the sync route of its entry task at the size it ran at, with
// the body w gives its kind (RequestKind; w.RequestEvents, else w.Event)
// and Kind set to it. The requests keep the real times whatever the
// emulated latencies: an open-loop approximation of a load whose users
// send their requests one after the other.
func RequestArrivals(recs []trace.Record, w workloads.Workload) ([]fusionsim.Arrival, error) {
	var roots []*trace.Record
	for i := range recs {
		if recs[i].IsRootInvocation {
			roots = append(roots, &recs[i])
		}
	}
	if len(roots) == 0 {
		return nil, fmt.Errorf("%w the requests: no root invocations", ErrInfer)
	}
	slices.SortStableFunc(roots, func(a, b *trace.Record) int { return cmp.Compare(a.StartTimestamp, b.StartTimestamp) })
	first := roots[0].StartTimestamp
	out := make([]fusionsim.Arrival, len(roots))
	for i, r := range roots {
		mb, err := strconv.Atoi(r.MemoryAvail)
		if err != nil {
			return nil, fmt.Errorf("root record %s: memoryAvail %q: %w", r.TraceID, r.MemoryAvail, err)
		}
		if _, ok := w.App.Tasks[r.Source]; !ok {
			return nil, fmt.Errorf("root record %s: entry task %q is not a task of %s", r.TraceID, r.Source, w.Name())
		}
		kind := RequestKind(r)
		ev, ok := w.RequestEvents[kind]
		if !ok {
			ev = w.Event
		}
		out[i] = fusionsim.Arrival{
			At:    time.Duration(r.StartTimestamp-first) * time.Millisecond,
			Route: fusionsim.Route{Task: r.Source, MemoryMB: mb, Sync: true},
			Kind:  kind,
			Event: ev,
		}
	}
	return out, nil
}

// requestKinds lists the request kinds of recs' root records, sorted.
func requestKinds(recs []trace.Record) []string {
	var kinds []string
	for i := range recs {
		if recs[i].IsRootInvocation {
			if k := RequestKind(&recs[i]); !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	slices.Sort(kinds)
	return kinds
}

// hasEvents reports whether w has a body for every kind.
func hasEvents(w workloads.Workload, kinds []string) bool {
	for _, k := range kinds {
		if _, ok := w.RequestEvents[k]; !ok {
			return false
		}
	}
	return true
}
