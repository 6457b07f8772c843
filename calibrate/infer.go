package calibrate

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// ErrInfer is wrapped by the errors of the inference of a directory's
// workload or load.
var ErrInfer = errors.New("cannot infer")

// TaskNames returns every task a directory's traces and configuration
// metadata name: the functions of the records, the callers and called tasks
// of their calls, and the entry and called tasks of every rule table.
func TaskNames(traces trace.Traces, configs fusionsim.Configs) []string {
	seen := map[string]bool{}
	for _, recs := range traces {
		for _, r := range recs {
			seen[r.CurrentFunction] = true
			for _, c := range r.Calls {
				seen[c.Caller], seen[c.Called] = true, true
			}
		}
	}
	for _, s := range configs {
		for entry, m := range s.Rules {
			seen[entry] = true
			for called := range m {
				seen[called] = true
			}
		}
	}
	delete(seen, "")
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// InferWorkload returns the workload whose tasks are exactly the given task
// names; failing that, the smallest workload that has all of them (the
// splittest directory names only G, a task of split too: splittest, with one
// task, wins).
func InferWorkload(tasks []string) (workloads.Workload, error) {
	if len(tasks) == 0 {
		return workloads.Workload{}, fmt.Errorf("%w the workload: no task names in the traces", ErrInfer)
	}
	var best workloads.Workload
	found := false
	for _, w := range workloads.All() {
		have := w.App.TaskNames()
		if slices.Equal(have, tasks) {
			return w, nil
		}
		all := true
		for _, t := range tasks {
			if _, ok := w.App.Tasks[t]; !ok {
				all = false
				break
			}
		}
		if all && (!found || len(w.App.Tasks) < len(best.App.Tasks)) {
			best, found = w, true
		}
	}
	if !found {
		return workloads.Workload{}, fmt.Errorf("%w the workload: no workload has the tasks %s (workloads: %s)", ErrInfer, strings.Join(tasks, " "), strings.Join(workloads.Names(), ", "))
	}
	return best, nil
}

// Grouped reports whether records show the prototype's grouping quirk: a
// record holding more than one call of its entry task to itself, i.e. two
// Lambda invocations of one request in the same function merged into one
// record (fusionize-reference.md, section 4).
func Grouped(recs []trace.Record) bool {
	for _, r := range recs {
		n := 0
		for _, c := range r.Calls {
			if c.Local && c.Sync && c.Caller == r.CurrentFunction && c.Called == r.CurrentFunction {
				n++
			}
		}
		if n > 1 {
			return true
		}
	}
	return false
}

// coldShare is the share of cold starts from which InferLoad takes a
// sequential load for the cold-start protocol (the split c_optimal traces
// have one warm invocation in 800: forcing every function cold is not
// perfectly reliable on Lambda).
const coldShare = 0.95

// InferLoad infers the load that produced a setup's records from its root
// invocations:
//
//   - the cold-start protocol (load.KindColdstart) when at least 95 % of
//     the invocations were cold starts and every request began after every
//     invocation of the previous one had ended: as many requests as root
//     invocations,
//     with the median pause between one request's last invocation and the
//     next request's start;
//   - otherwise a constant arrival rate (load.KindConstant) of as many
//     requests as root invocations, at the rate of the root starts (their
//     number less one over the time from the first to the last; rounded to
//     a whole number of requests/s when within 5 % of one, else to 0.1).
func InferLoad(recs []trace.Record) (load.Spec, error) {
	type req struct{ start, end int64 }
	byTrace := map[string]*req{}
	var roots []int64
	cold := 0
	for _, r := range recs {
		if r.IsColdStart {
			cold++
		}
		q := byTrace[r.TraceID]
		if q == nil {
			q = &req{start: math.MaxInt64}
			byTrace[r.TraceID] = q
		}
		q.end = max(q.end, r.EndTimestamp)
		if r.IsRootInvocation {
			q.start = min(q.start, r.StartTimestamp)
			roots = append(roots, r.StartTimestamp)
		}
	}
	n := len(roots)
	if n == 0 {
		return load.Spec{}, fmt.Errorf("%w the load: no root invocations", ErrInfer)
	}
	if n == 1 {
		return load.Spec{Kind: load.KindConstant, RatePerS: 1, Requests: 1}, nil
	}
	reqs := make([]*req, 0, len(byTrace))
	for _, q := range byTrace {
		if q.start != math.MaxInt64 {
			reqs = append(reqs, q)
		}
	}
	slices.SortFunc(reqs, func(a, b *req) int { return cmpInt64(a.start, b.start) })
	sequential := true
	var pauses []float64
	for i := 1; i < len(reqs); i++ {
		p := reqs[i].start - reqs[i-1].end
		if p < 0 {
			sequential = false
			break
		}
		pauses = append(pauses, float64(p))
	}
	if float64(cold) >= coldShare*float64(len(recs)) && sequential {
		pause := time.Duration(Median(pauses) * float64(time.Millisecond))
		return load.Spec{Kind: load.KindColdstart, Requests: n, Pause: pause}, nil
	}
	slices.Sort(roots)
	span := float64(roots[n-1] - roots[0])
	if span <= 0 {
		return load.Spec{}, fmt.Errorf("%w the load: the %d root invocations start at the same time", ErrInfer, n)
	}
	rate := float64(n-1) * 1000 / span
	if r := math.Round(rate); r > 0 && math.Abs(rate-r) <= 0.05*r {
		rate = r
	} else {
		rate = math.Round(rate*10) / 10
	}
	return load.Spec{Kind: load.KindConstant, RatePerS: rate, Requests: n}, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Median is the sample median of x (mean of the two middle values of an
// even sample), NaN when x is empty. x is not modified.
func Median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := slices.Clone(x)
	slices.Sort(s)
	n := len(s)
	return (s[(n-1)/2] + s[n/2]) / 2
}
