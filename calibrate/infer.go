package calibrate

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/appfile"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// ErrInfer is wrapped by the errors of the inference of a directory's
// workload or load.
var ErrInfer = errors.New("cannot infer")

// ErrInferWorkload, which wraps ErrInfer, is wrapped by the errors of the
// inference of a directory's workload (InferWorkload).
var ErrInferWorkload = fmt.Errorf("%w the workload", ErrInfer)

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

// InferWorkload returns the workload (Go code or a built-in application
// file, appfile.All) whose tasks are exactly the given task names; failing
// that, the smallest workload that has all of them (the
// splittest directory names only G, a task of split too: splittest, with one
// task, wins).
func InferWorkload(tasks []string) (workloads.Workload, error) {
	if len(tasks) == 0 {
		return workloads.Workload{}, fmt.Errorf("%w: no task names in the traces", ErrInferWorkload)
	}
	var best workloads.Workload
	found := false
	for _, w := range appfile.All() {
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
		return workloads.Workload{}, fmt.Errorf("%w: no workload has the tasks %s (workloads: %s)", ErrInferWorkload, strings.Join(tasks, " "), strings.Join(appfile.Names(), ", "))
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

// coldShare is the share of cold starts from which InferLoad takes
// sequential requests for the cold-start protocol (the split c_optimal
// traces have one warm invocation in 800: forcing every function cold is
// not perfectly reliable on Lambda).
const coldShare = 0.95

// Thresholds of InferLoad's open-loop kinds. The published constant-rate
// runs (k6 constant-arrival-rate at 10 requests/s) show gap coefficients of
// variation of 0.19-0.29 (the client's jitter) and windowed-rate dispersion
// indexes of 0.03-0.05; a Poisson process has both near 1; a ramp far above
// 1, because its rate changes by more than the counting noise.
const (
	rampDispersion = 3.0 // dispersion index above which the rate changes (ramping)
	poissonGapCV   = 0.6 // gap coefficient of variation above which arrivals are random (poisson)
)

// root is a request as its traces show it: its root invocation's start
// and end, the end of its last invocation, and whether the root was a cold
// start (its start then comes an Init Duration after the request's).
type root struct {
	start, end, treeEnd int64
	cold                bool
	// fn and mb are the root's function and memory size; kind its
	// RequestKind.
	fn, kind string
	mb       int
}

// requestsOf returns the requests of recs (the traces with a root
// invocation) in order of their root's start, and the share of cold
// invocations of all records.
func requestsOf(recs []trace.Record) ([]root, float64) {
	byTrace := map[string]*root{}
	var order []string
	cold := 0
	for _, r := range recs {
		if r.IsColdStart {
			cold++
		}
		q := byTrace[r.TraceID]
		if q == nil {
			q = &root{start: math.MaxInt64}
			byTrace[r.TraceID] = q
			order = append(order, r.TraceID)
		}
		q.treeEnd = max(q.treeEnd, r.EndTimestamp)
		if r.IsRootInvocation && r.StartTimestamp < q.start {
			q.start, q.end, q.cold = r.StartTimestamp, r.EndTimestamp, r.IsColdStart
			q.fn, q.kind = r.CurrentFunction, RequestKind(&r)
			q.mb, _ = strconv.Atoi(r.MemoryAvail)
		}
	}
	var out []root
	for _, id := range order {
		if q := byTrace[id]; q.start != math.MaxInt64 {
			out = append(out, *q)
		}
	}
	slices.SortStableFunc(out, func(a, b root) int { return cmpInt64(a.start, b.start) })
	share := 0.0
	if len(recs) > 0 {
		share = float64(cold) / float64(len(recs))
	}
	return out, share
}

// evidence is what InferLoad reads off a setup's requests.
type evidence struct {
	n          int
	cold       float64 // share of cold invocations
	sequential bool    // every root starts after the previous root ended
	pause      time.Duration
	span       float64 // ms from the first root start to the last
	rate       float64 // (n-1)/span, requests/s
	warmRate   float64 // 1000 / the median gap between consecutive warm roots (0: fewer than 10)
	cv, disp   float64 // gap coefficient of variation, windowed-rate dispersion index
	counts     []int   // root starts per window
	width      float64 // window length, ms
	// entries counts the requests by their root's function: more than one
	// is a mix of kinds of request (a scenario such as the webshop's).
	entries map[string]int
	reqs    []root
}

func gather(recs []trace.Record) (evidence, error) {
	reqs, cold := requestsOf(recs)
	e := evidence{n: len(reqs), cold: cold, sequential: true, entries: map[string]int{}, reqs: reqs}
	if e.n == 0 {
		return e, fmt.Errorf("%w the load: no root invocations", ErrInfer)
	}
	for _, q := range reqs {
		e.entries[q.fn]++
	}
	var pauses []float64
	for i := 1; i < e.n; i++ {
		if reqs[i].start < reqs[i-1].end {
			e.sequential = false
		}
		pauses = append(pauses, math.Max(0, float64(reqs[i].start-reqs[i-1].treeEnd)))
	}
	if len(pauses) > 0 {
		e.pause = time.Duration(Median(pauses) * float64(time.Millisecond))
	}
	if e.n == 1 {
		e.rate = 1
		return e, nil
	}
	e.span = float64(reqs[e.n-1].start - reqs[0].start)
	if e.span <= 0 {
		return e, fmt.Errorf("%w the load: the %d root invocations start at the same time", ErrInfer, e.n)
	}
	e.rate = float64(e.n-1) * 1000 / e.span
	// A cold root starts an Init Duration (about half a second) after its
	// request was sent, so the first requests of a run, all cold, shorten
	// the span. Consecutive warm roots keep the requests' spacing: their
	// median gap is a constant rate's period.
	var warmGaps []float64
	for i := 1; i < e.n; i++ {
		if !reqs[i].cold && !reqs[i-1].cold {
			warmGaps = append(warmGaps, float64(reqs[i].start-reqs[i-1].start))
		}
	}
	if len(warmGaps) >= 10 {
		if g := Median(warmGaps); g > 0 {
			e.warmRate = 1000 / g
		}
	}
	gaps := make([]float64, e.n-1)
	for i := 1; i < e.n; i++ {
		gaps[i-1] = float64(reqs[i].start - reqs[i-1].start)
	}
	e.cv = stddev(gaps) / mean(gaps)
	e.counts, e.width = windowCounts(reqs, e.span)
	e.disp = dispersion(e.counts)
	return e, nil
}

// openLoopRate is the mean rate of the root starts, requests/s (rounded as
// a constant load's), of a setup
// whose requests overlap (an open loop, the optimizer runs' constant rate);
// ok is false for the cold-start protocol's sequential requests or without
// two roots. The fit reads it on samples of the calibration traces (every
// cold request and every eighth other one), whose windowed rate is not
// steady, so it does not tell the kinds of open loops apart as InferLoad
// does.
func openLoopRate(recs []trace.Record) (float64, bool) {
	e, err := gather(recs)
	if err != nil || e.n < 2 || (e.sequential && e.cold >= coldShare) {
		return 0, false
	}
	return e.spec(load.KindConstant).RatePerS, true
}

// kind is the kind of load the evidence shows (see InferLoad).
func (e evidence) kind() string {
	switch {
	case len(e.entries) > 1:
		return load.KindReplay
	case e.n == 1:
		return load.KindConstant
	case e.sequential && e.cold >= coldShare:
		return load.KindColdstart
	case !e.sequential && e.disp > rampDispersion:
		return load.KindBursty
	case !e.sequential && e.cv > poissonGapCV:
		return load.KindPoisson
	}
	return load.KindConstant
}

// spec is the load of the given kind with the evidence's parameters.
func (e evidence) spec(kind string) load.Spec {
	switch kind {
	case load.KindReplay:
		// Each request sent again when its root started, to its root's
		// function at the size it ran at.
		arr := make([]fusionsim.Arrival, len(e.reqs))
		for i, q := range e.reqs {
			arr[i] = fusionsim.Arrival{At: time.Duration(q.start-e.reqs[0].start) * time.Millisecond,
				Route: fusionsim.Route{Task: q.fn, MemoryMB: q.mb, Sync: true}, Kind: q.kind}
		}
		return load.Spec{Kind: kind, Replayed: arr}
	case load.KindColdstart:
		return load.Spec{Kind: kind, Requests: e.n, Pause: e.pause}
	case load.KindBursty:
		if len(e.counts) == 0 {
			return load.Spec{Kind: kind, Stages: []load.Stage{{TargetPerS: 1, Duration: time.Second}}}
		}
		return load.Spec{Kind: kind, Stages: rampStages(e.counts, e.width)}
	case load.KindPoisson:
		return load.Spec{Kind: kind, RatePerS: e.rate, Duration: time.Duration((e.span + 1000/e.rate) * float64(time.Millisecond))}
	}
	rate := e.rate
	if e.warmRate > 0 {
		rate = e.warmRate
	}
	if r := math.Round(rate); r > 0 && math.Abs(rate-r) <= 0.05*r {
		rate = r
	} else {
		rate = math.Round(rate*10) / 10
	}
	return load.Spec{Kind: load.KindConstant, RatePerS: rate, Requests: e.n}
}

// why says in one line what the evidence shows and why it means kind.
func (e evidence) why(kind string, s load.Spec) string {
	if e.n == 1 {
		return "one request"
	}
	stats := e.stats()
	switch kind {
	case load.KindReplay:
		var mix []string
		for _, fn := range sortedKeys(e.entries) {
			mix = append(mix, fmt.Sprintf("%s %d", fn, e.entries[fn]))
		}
		why := fmt.Sprintf("replay of the %d requests as their roots started, each to its root's function at its size", e.n)
		if len(e.entries) > 1 {
			why += fmt.Sprintf(" (roots in %d entry functions: %s: requests of several kinds, a scenario's)", len(e.entries), strings.Join(mix, ", "))
		}
		return why + ": " + stats
	case load.KindColdstart:
		return fmt.Sprintf("coldstart x%d (sequential requests, (nearly) every invocation cold: the cold-start protocol; median pause %v after a request's last invocation): %s",
			s.Requests, s.Pause.Round(time.Millisecond), stats)
	case load.KindBursty:
		return fmt.Sprintf("bursty, %d stages (the rate changes: dispersion > %.0f): %s", len(s.Stages), rampDispersion, stats)
	case load.KindPoisson:
		return fmt.Sprintf("poisson %.3g/s for %v (random gaps at a steady rate: gap CV > %.1f): %s", s.RatePerS, s.Duration.Round(time.Millisecond), poissonGapCV, stats)
	}
	if e.sequential {
		return fmt.Sprintf("constant %g/s x%d (sequential but mostly warm: a closed loop, taken as a constant rate): %s", s.RatePerS, s.Requests, stats)
	}
	return fmt.Sprintf("constant %g/s x%d (evenly spaced starts): %s", s.RatePerS, s.Requests, stats)
}

// stats sums up the evidence in one line.
func (e evidence) stats() string {
	if e.n == 1 {
		return "one request"
	}
	stats := fmt.Sprintf("%d requests over %.1f s, gap CV %.2f, windowed-rate dispersion %.2f, %.0f %% of invocations cold",
		e.n, e.span/1000, e.cv, e.disp, 100*e.cold)
	if e.sequential {
		stats += ", each root after the previous one ended"
	}
	return stats
}

// specSummary names a load and its parameters in a few words.
func specSummary(s load.Spec) string {
	switch s.Kind {
	case load.KindColdstart:
		return fmt.Sprintf("coldstart x%d (pause %v)", s.Requests, s.Pause.Round(time.Millisecond))
	case load.KindBursty:
		return fmt.Sprintf("bursty, %d stages", len(s.Stages))
	case load.KindPoisson:
		return fmt.Sprintf("poisson %.3g/s for %v", s.RatePerS, s.Duration.Round(time.Millisecond))
	case load.KindConstant:
		return fmt.Sprintf("constant %g/s x%d", s.RatePerS, s.Requests)
	case load.KindReplay:
		return fmt.Sprintf("replay x%d", len(s.Replayed))
	}
	return s.String()
}

// InferLoad infers the load that produced a setup's records from the start
// and end times of its requests' root invocations, and says why in one
// line:
//
//   - the cold-start protocol (load.KindColdstart) when every request's
//     root began after the previous root had ended (one client waiting for
//     each response; async invocations of a request may still run) and at
//     least 95 % of the invocations were cold starts: as many requests as
//     roots, with the median pause between a request's last invocation and
//     the next request (0 when they overlap);
//   - otherwise an open loop, told apart by the root starts: with n roots
//     over the span from the first to the last, counted in windows of equal
//     length, a dispersion index (variance over mean of the window counts)
//     above 3 is a rate that changes (load.KindBursty: k6
//     ramping-arrival-rate, with the stages of the windows' rates, runs of
//     equal rates merged); else gaps between starts with a coefficient of
//     variation above 0.6 are a Poisson process (load.KindPoisson at
//     (n-1)/span, for the span and one mean gap); else a constant rate
//     (load.KindConstant: n requests at the rate of the median gap between
//     consecutive warm roots, or at (n-1)/span with fewer than 10 such
//     gaps, rounded to a whole number of requests/s when within 5 % of
//     one, else to 0.1: a cold root starts an Init Duration after its
//     request, so the span of a short run with many cold starts is short).
//
// Sequential requests that are mostly warm (a closed loop without the cold
// protocol) are taken as a constant rate, and the reason says so.
func InferLoad(recs []trace.Record) (load.Spec, string, error) {
	return LoadFor(recs, LoadOverride{})
}

// LoadOverride replaces what InferLoad would infer: Kind the kind, and,
// where set, its parameters; everything left zero is inferred from the
// traces for that kind (a coldstart load without Requests has as many
// requests as root invocations).
type LoadOverride struct {
	Kind     string
	RatePerS float64
	Requests int
	Pause    time.Duration
	HasPause bool // Pause was given (0 is a pause too)
	Stages   []load.Stage
}

// IsZero reports whether o overrides nothing.
func (o LoadOverride) IsZero() bool {
	return o.Kind == "" && o.RatePerS == 0 && o.Requests == 0 && !o.HasPause && o.Stages == nil
}

// LoadFor is the load of a setup's records: InferLoad's, with what o gives
// in its place. The reason says what was inferred and what was given.
func LoadFor(recs []trace.Record, o LoadOverride) (load.Spec, string, error) {
	return loadFor(recs, o, nil)
}

// loadFor is LoadFor with the bodies of the kinds of request (events, by
// RequestKind; nil: none known): a replay's requests get their kind's.
func loadFor(recs []trace.Record, o LoadOverride, events map[string]fusionsim.Event) (load.Spec, string, error) {
	e, err := gather(recs)
	if err != nil && o.Kind == "" {
		return load.Spec{}, "", err
	}
	kind := o.Kind
	if kind == "" {
		if o.Stages != nil {
			kind = load.KindBursty
		} else {
			kind = e.kind()
		}
	}
	s := e.spec(kind)
	why := e.why(kind, s)
	var given []string
	if o.Kind != "" {
		given = append(given, "--load "+o.Kind)
	}
	if o.RatePerS > 0 {
		s.RatePerS = o.RatePerS
		if kind == load.KindPoisson && e.n > 0 {
			s.Duration = time.Duration(float64(e.n) / o.RatePerS * float64(time.Second))
		}
		given = append(given, fmt.Sprintf("--rps %g", o.RatePerS))
	}
	if o.Requests > 0 {
		s.Requests = o.Requests
		if kind == load.KindPoisson {
			s.Duration = time.Duration(float64(o.Requests) / s.RatePerS * float64(time.Second))
		}
		given = append(given, fmt.Sprintf("--requests %d", o.Requests))
	}
	if o.HasPause {
		s.Pause = o.Pause
		given = append(given, fmt.Sprintf("--pause %v", o.Pause))
	}
	if o.Stages != nil {
		s.Stages = o.Stages
		given = append(given, "--stages "+load.FormatStages(o.Stages))
	}
	if len(given) > 0 {
		// What runs, what was given, and what the traces show (and would
		// have meant without the flags).
		inferred := e.kind()
		why = fmt.Sprintf("%s (given %s; the other parameters inferred from the traces: %s; without the flags: %s)",
			specSummary(s), strings.Join(given, " "), e.stats(), specSummary(e.spec(inferred)))
	}
	if err != nil {
		// Nothing to infer from, but the kind was given.
		why = fmt.Sprintf("%s (given %s; %v)", specSummary(s), strings.Join(given, " "), err)
	}
	if s.Kind == load.KindReplay && s.Replayed != nil {
		known := 0
		for i := range s.Replayed {
			if ev, ok := events[s.Replayed[i].Kind]; ok {
				s.Replayed[i].Event = ev
				known++
			}
		}
		switch {
		case known == len(s.Replayed):
			why += "; each request with the body of its kind (what its root called: the application's scenario's requests)"
		case known > 0:
			why += fmt.Sprintf("; %d of %d requests with the body of their kind, the others with the default body (kinds the application's scenario does not send)", known, len(s.Replayed))
		default:
			why += "; every request with the default body (no scenario tells the kinds of request apart)"
		}
	}
	if s.Kind == load.KindColdstart && s.Requests < 1 {
		return load.Spec{}, "", fmt.Errorf("%w the load: coldstart needs --requests (no root invocations)", ErrInfer)
	}
	return s, why, nil
}

// windowCounts counts the root starts in windows of equal length over span
// ms: about 20 requests a window, at least 5 and at most 100 windows, none
// shorter than 100 ms. It returns the counts and the window's length in ms.
func windowCounts(reqs []root, span float64) ([]int, float64) {
	k := len(reqs) / 20
	k = min(max(k, 5), 100)
	if maxK := int(span / 100); k > maxK {
		k = max(maxK, 1)
	}
	width := span / float64(k)
	counts := make([]int, k)
	for _, q := range reqs {
		j := int(float64(q.start-reqs[0].start) / width)
		counts[min(j, k-1)]++
	}
	return counts, width
}

// dispersion is the variance over the mean of counts (1 for Poisson
// counts, near 0 for a constant rate).
func dispersion(counts []int) float64 {
	x := make([]float64, len(counts))
	for i, c := range counts {
		x[i] = float64(c)
	}
	m := mean(x)
	if m == 0 {
		return 0
	}
	s := stddev(x)
	return s * s / m
}

// rampStages turns window counts into k6 stages by binary segmentation: a
// run of windows is split where the mean counts on either side differ the
// most, when they differ by more than 1.5 standard deviations of the
// difference of Poisson means, and each part again, down to runs of one
// window; each run is a step reached by a 0.1 s ramp and held for the rest
// of it. (Comparing each window with the running mean instead lets a
// staircase of small steps drift into one step. At 1.5 standard
// deviations the bursty preset, emulated on twelve seeds, shows four to six
// of its eight steps: the others are within the counting noise of its
// windows of about 20 requests.)
func rampStages(counts []int, widthMs float64) []load.Stage {
	type step struct {
		sum, windows int
	}
	var steps []step
	var split func(lo, hi int)
	split = func(lo, hi int) {
		total := 0
		for _, c := range counts[lo:hi] {
			total += c
		}
		best, bestZ := -1, 1.5
		left := 0
		for k := lo + 1; k < hi; k++ {
			left += counts[k-1]
			n1, n2 := float64(k-lo), float64(hi-k)
			m1, m2 := float64(left)/n1, float64(total-left)/n2
			se := math.Sqrt(math.Max(m1, 1)/n1 + math.Max(m2, 1)/n2)
			if z := math.Abs(m1-m2) / se; z > bestZ {
				best, bestZ = k, z
			}
		}
		if best < 0 {
			steps = append(steps, step{total, hi - lo})
			return
		}
		split(lo, best)
		split(best, hi)
	}
	if len(counts) > 0 {
		split(0, len(counts))
	}
	const ramp = 100 * time.Millisecond
	var out []load.Stage
	for _, s := range steps {
		d := time.Duration(float64(s.windows) * widthMs * float64(time.Millisecond))
		rate := float64(s.sum) / (float64(s.windows) * widthMs / 1000)
		rate = math.Round(rate*100) / 100
		if d > 2*ramp {
			out = append(out, load.Stage{TargetPerS: rate, Duration: ramp}, load.Stage{TargetPerS: rate, Duration: d - ramp})
		} else {
			out = append(out, load.Stage{TargetPerS: rate, Duration: d})
		}
	}
	return out
}

func mean(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func stddev(x []float64) float64 {
	m := mean(x)
	s := 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)))
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
