package calibrate

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/results"
	"github.com/fusionsim/fusionsim/trace"
)

// Description is what the traces of one experiment say about its
// application, setup by setup: the request kinds and their root latencies,
// each function's durations, memory and cold starts, and the calls with
// their fan-outs. It reads records only (no workload): it is how an
// application is read off real traces before it is written down as code or
// as a file (simulate describe).
type Description struct {
	Setups []SetupDescription
}

// SetupDescription describes the traces of one setup.
type SetupDescription struct {
	Name string
	// Records, Requests (trace ids with a root record), Orphans (trace
	// ids without one) and ColdStarts count the records.
	Records, Requests, Orphans, ColdStarts int
	// GBmsPerRequest is billed GB-ms (1 GB = 1024 MB) of every record per
	// request.
	GBmsPerRequest float64
	// MemoryMB are the sizes each function's records ran at (memoryAvail),
	// ascending; URLMemoryMB the sizes the setup's remote rules reach each
	// function at (a url without a size: the default size), nil without
	// configuration metadata.
	MemoryMB, URLMemoryMB map[string][]int
	Kinds                 []KindDescription
	Functions             []FunctionDescription
	Calls                 []CallDescription
}

// KindDescription describes the requests of one kind (RequestKind).
type KindDescription struct {
	Kind     string
	Requests int
	// RecordsPerRequest is the mean number of records of a request.
	RecordsPerRequest float64
	// Root internalDuration and billedDuration, ms.
	MedianMs, P95Ms, MedianBilledMs float64
	// ColdRoots counts the requests whose root record is a cold start.
	ColdRoots int
}

// FunctionDescription describes the records of one function (a record's
// currentFunction) at one memory size.
type FunctionDescription struct {
	Function string
	MemoryMB int
	Records  int
	Cold     int
	// PerKind is the mean number of its records per request of each kind.
	PerKind map[string]float64
	// Invocations is the distribution of the number of the entry task's
	// calls to itself per record (more than one: the prototype's grouping
	// merged several invocations of one request into the record), by
	// count, Doubled records counted once.
	Invocations map[int]int
	// Doubled counts the records whose calls are all logged twice
	// (Doubled).
	Doubled int
	// Internal durations (ms) of warm and cold records: median, p5, p95.
	Warm, ColdMs Spread
	// TailMs is the median billed - internal duration of warm records.
	TailMs float64
	// MaxMemoryWarmMB and MaxMemoryColdMB are medians of maxMemoryUsed.
	MaxMemoryWarmMB, MaxMemoryColdMB float64
	// SelfMs are the medians of the self-call times (each merged
	// invocation's handler time) by request kind and by position in the
	// record's calls (invocations in the order their call records came).
	SelfMs map[string][]float64
}

// Spread is a median with the 5th and 95th percentiles, ms; N values.
type Spread struct {
	N                int
	Median, P5, P95  float64
	MedianTimesShare float64 // median x min(1, MB/1769): vCPU-ms when CPU-bound
}

// CallDescription describes the calls of one (caller function, called
// task, sync, local) in the requests of one kind.
type CallDescription struct {
	Kind           string
	Caller, Called string
	Sync, Local    bool
	// PerRequest is the distribution of the number of such calls per
	// request of the kind (0 included), by count.
	PerRequest map[int]int
	// MedianMs is the median call time (as the caller logged it).
	MedianMs float64
	// Lone remote sync calls (see StartAfterMs): median
	// call time minus the callee's internalDuration, to a warm and to a
	// cold callee (the gateway, the response and, cold, the Init Duration
	// and first event); NaN without any.
	OverWarmMs, OverColdMs float64
	LoneWarm, LoneCold     int
	// StartAfterMs is the median time from the caller's start to the
	// callee's start (startTimestamps) of lone remote calls (the only
	// remote call to the task in the request, one callee record standing
	// for one invocation), sync or async; NaN without any.
	StartAfterMs float64
}

// RequestKind names the kind of request a root record belongs to: its
// source (the entry task), then ">" and the task of the first call it
// logged other than the entry task's own (calls are logged as they
// return, so for code that makes its calls one after the other, the
// first call it makes). Requests to one entry task that do different
// things (the webshop's frontend: "get" calls supportedcurrencies first,
// "checkout" calls checkout) get different kinds.
func RequestKind(root *trace.Record) string {
	for _, c := range root.Calls {
		if c.Called != root.CurrentFunction {
			return root.Source + ">" + c.Called
		}
	}
	return root.Source
}

// Describe describes every setup of d, in creation order.
func Describe(d *trace.Dir) *Description {
	out := &Description{}
	for _, name := range d.Traces.Names() {
		var setup *fusionsim.Setup
		if d.Configs != nil {
			setup = d.Configs[name]
		}
		out.Setups = append(out.Setups, describeSetup(name, setup, d.Traces[name]))
	}
	return out
}

func describeSetup(name string, setup *fusionsim.Setup, recs []trace.Record) SetupDescription {
	sd := SetupDescription{Name: name, Records: len(recs), MemoryMB: map[string][]int{}}
	byTrace := map[string][]*trace.Record{}
	var traces []string
	var gbms float64
	for i := range recs {
		r := &recs[i]
		if _, ok := byTrace[r.TraceID]; !ok {
			traces = append(traces, r.TraceID)
		}
		byTrace[r.TraceID] = append(byTrace[r.TraceID], r)
		mb := atoi(r.MemoryAvail)
		if !slices.Contains(sd.MemoryMB[r.CurrentFunction], mb) {
			sd.MemoryMB[r.CurrentFunction] = append(sd.MemoryMB[r.CurrentFunction], mb)
		}
		if r.IsColdStart {
			sd.ColdStarts++
		}
		gbms += float64(r.BilledDuration) * float64(mb) / 1024
	}
	for _, s := range sd.MemoryMB {
		slices.Sort(s)
	}
	if setup != nil {
		sd.URLMemoryMB = urlMemory(setup)
	}
	// Requests and their kinds.
	kindOf := map[string]string{}
	var kinds []string
	type kindAcc struct {
		n, records, cold int
		internal, billed []float64
	}
	acc := map[string]*kindAcc{}
	for _, id := range traces {
		var root *trace.Record
		for _, r := range byTrace[id] {
			if r.IsRootInvocation {
				root = r
				break
			}
		}
		if root == nil {
			sd.Orphans++
			continue
		}
		k := RequestKind(root)
		kindOf[id] = k
		a := acc[k]
		if a == nil {
			a = &kindAcc{}
			acc[k] = a
			kinds = append(kinds, k)
		}
		a.n++
		a.records += len(byTrace[id])
		a.internal = append(a.internal, float64(root.InternalDuration))
		a.billed = append(a.billed, float64(root.BilledDuration))
		if root.IsColdStart {
			a.cold++
		}
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		a := acc[k]
		med, p95, _ := results.Quantiles3(a.internal)
		sd.Kinds = append(sd.Kinds, KindDescription{Kind: k, Requests: a.n, RecordsPerRequest: float64(a.records) / float64(a.n),
			MedianMs: med, P95Ms: p95, MedianBilledMs: Median(a.billed), ColdRoots: a.cold})
		sd.Requests += a.n
	}
	if sd.Requests > 0 {
		sd.GBmsPerRequest = gbms / float64(sd.Requests)
	}
	requests := map[string]int{}
	for k, a := range acc {
		requests[k] = a.n
	}
	sd.Functions = describeFunctions(recs, kindOf, requests)
	sd.Calls = describeCalls(traces, byTrace, kindOf, requests)
	return sd
}

// urlMemory lists the sizes the remote rules of s reach each task's
// function at.
func urlMemory(s *fusionsim.Setup) map[string][]int {
	out := map[string][]int{}
	for _, row := range s.Rules {
		for _, p := range row {
			for _, r := range []fusionsim.Rule{p.Sync, p.Async} {
				if r.IsLocal() {
					continue
				}
				rt, err := r.Route()
				if err != nil {
					continue
				}
				fn := rt.Function()
				if !slices.Contains(out[fn.Task], fn.MemoryMB) {
					out[fn.Task] = append(out[fn.Task], fn.MemoryMB)
				}
			}
		}
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

func describeFunctions(recs []trace.Record, kindOf map[string]string, requests map[string]int) []FunctionDescription {
	type key struct {
		fn string
		mb int
	}
	type acc struct {
		fd               FunctionDescription
		warm, cold, tail []float64
		memWarm, memCold []float64
		perKind          map[string]int
		self             map[string][][]float64
	}
	accs := map[key]*acc{}
	for i := range recs {
		r := &recs[i]
		k := key{r.CurrentFunction, atoi(r.MemoryAvail)}
		a := accs[k]
		if a == nil {
			a = &acc{fd: FunctionDescription{Function: k.fn, MemoryMB: k.mb, Invocations: map[int]int{}}, perKind: map[string]int{}, self: map[string][][]float64{}}
			accs[k] = a
		}
		a.fd.Records++
		kind := kindOf[r.TraceID]
		a.perKind[kind]++
		if r.IsColdStart {
			a.fd.Cold++
			a.cold = append(a.cold, float64(r.InternalDuration))
			a.memCold = append(a.memCold, float64(r.MaxMemoryUsed))
		} else {
			a.warm = append(a.warm, float64(r.InternalDuration))
			a.tail = append(a.tail, float64(r.BilledDuration-r.InternalDuration))
			a.memWarm = append(a.memWarm, float64(r.MaxMemoryUsed))
		}
		if Doubled(r) {
			a.fd.Doubled++
		}
		self := 0
		for _, c := range callsOf(r) {
			if c.Called != r.CurrentFunction || !c.Local {
				continue
			}
			if len(a.self[kind]) <= self {
				a.self[kind] = append(a.self[kind], nil)
			}
			a.self[kind][self] = append(a.self[kind][self], float64(c.Time))
			self++
		}
		a.fd.Invocations[self]++
	}
	keys := slices.SortedFunc(maps.Keys(accs), func(a, b key) int {
		if a.fn != b.fn {
			return strings.Compare(a.fn, b.fn)
		}
		return a.mb - b.mb
	})
	var out []FunctionDescription
	for _, k := range keys {
		a := accs[k]
		fd := a.fd
		fd.Warm, fd.ColdMs = spread(a.warm, k.mb), spread(a.cold, k.mb)
		fd.TailMs = Median(a.tail)
		fd.MaxMemoryWarmMB, fd.MaxMemoryColdMB = Median(a.memWarm), Median(a.memCold)
		fd.PerKind = map[string]float64{}
		for kind, n := range a.perKind {
			if requests[kind] > 0 {
				fd.PerKind[kind] = float64(n) / float64(requests[kind])
			}
		}
		fd.SelfMs = map[string][]float64{}
		for kind, pos := range a.self {
			for _, v := range pos {
				fd.SelfMs[kind] = append(fd.SelfMs[kind], Median(v))
			}
		}
		out = append(out, fd)
	}
	return out
}

// Doubled reports whether every call of r is logged twice, the same call
// with the same time, as when the lines of an invocation's log were read
// twice (in the published webshop run up to 239 of 334 records of a
// function in a setup): the record stands for one invocation. A record
// whose calls are only self-calls of less than doubledMinMs each is not
// counted: two invocations of a task that takes (almost) no time, merged
// by the prototype's grouping, log the same.
func Doubled(r *trace.Record) bool {
	if len(r.Calls) < 2 || len(r.Calls)%2 == 1 {
		return false
	}
	count := map[fusionsim.Call]int{}
	telling := false
	for _, c := range r.Calls {
		count[c]++
		if c.Called != r.CurrentFunction || c.Time >= doubledMinMs {
			telling = true
		}
	}
	for _, n := range count {
		if n%2 == 1 {
			return false
		}
	}
	return telling
}

// doubledMinMs is the time from which two invocations are not expected to
// take the same whole number of milliseconds.
const doubledMinMs = 10

// callsOf returns r's calls, once each when the record is Doubled (the
// first half of each call's occurrences, in order).
func callsOf(r *trace.Record) []fusionsim.Call {
	if !Doubled(r) {
		return r.Calls
	}
	count := map[fusionsim.Call]int{}
	for _, c := range r.Calls {
		count[c]++
	}
	kept := map[fusionsim.Call]int{}
	out := make([]fusionsim.Call, 0, len(r.Calls)/2)
	for _, c := range r.Calls {
		if kept[c] < count[c]/2 {
			kept[c]++
			out = append(out, c)
		}
	}
	return out
}

// selfCalls counts the entry task's local calls to itself in r: the
// invocations the record stands for.
func selfCalls(r *trace.Record) int {
	n := 0
	for _, c := range callsOf(r) {
		if c.Called == r.CurrentFunction && c.Local {
			n++
		}
	}
	return n
}

func spread(x []float64, mb int) Spread {
	if len(x) == 0 {
		nan := math.NaN()
		return Spread{Median: nan, P5: nan, P95: nan, MedianTimesShare: nan}
	}
	s := sorted(x)
	med := results.Quantile(s, 50)
	return Spread{N: len(x), Median: med, P5: results.Quantile(s, 5), P95: results.Quantile(s, 95),
		MedianTimesShare: med * math.Min(1, float64(mb)/1769)}
}

func describeCalls(traces []string, byTrace map[string][]*trace.Record, kindOf map[string]string, requests map[string]int) []CallDescription {
	type key struct {
		kind, caller, called string
		sync, local          bool
	}
	type acc struct {
		perRequest         map[int]int
		times              []float64
		overWarm, overCold []float64
		startAfter         []float64
	}
	accs := map[key]*acc{}
	for _, id := range traces {
		kind, ok := kindOf[id]
		if !ok {
			continue
		}
		counts := map[key]int{}
		callees := map[string][]*trace.Record{}
		remote := map[string]int{} // remote calls per called task, by any caller
		for _, r := range byTrace[id] {
			callees[r.CurrentFunction] = append(callees[r.CurrentFunction], r)
		}
		for _, r := range byTrace[id] {
			for _, c := range callsOf(r) {
				if c.Called == r.CurrentFunction {
					continue
				}
				if !c.Local {
					remote[c.Called]++
				}
				k := key{kind, r.CurrentFunction, c.Called, c.Sync, c.Local}
				a := accs[k]
				if a == nil {
					a = &acc{perRequest: map[int]int{}}
					accs[k] = a
				}
				counts[k]++
				a.times = append(a.times, float64(c.Time))
			}
		}
		for k, n := range counts {
			a := accs[k]
			a.perRequest[n]++
			if n != 1 || k.local || remote[k.called] != 1 || len(callees[k.called]) != 1 || selfCalls(callees[k.called][0]) != 1 {
				continue
			}
			// The lone remote call, its caller's record and its callee's.
			var t int64 = -1
			var caller *trace.Record
			for _, r := range byTrace[id] {
				if r.CurrentFunction != k.caller {
					continue
				}
				for _, c := range callsOf(r) {
					if c.Called == k.called && c.Sync == k.sync && !c.Local {
						t, caller = c.Time, r
					}
				}
			}
			callee := callees[k.called][0]
			a.startAfter = append(a.startAfter, float64(callee.StartTimestamp-caller.StartTimestamp))
			if !k.sync {
				continue
			}
			over := float64(t - callee.InternalDuration)
			if callee.IsColdStart {
				a.overCold = append(a.overCold, over)
			} else {
				a.overWarm = append(a.overWarm, over)
			}
		}
	}
	keys := slices.SortedFunc(maps.Keys(accs), func(a, b key) int {
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
	var out []CallDescription
	for _, k := range keys {
		a := accs[k]
		// Requests of the kind without such a call.
		with := 0
		for _, n := range a.perRequest {
			with += n
		}
		if rest := requests[k.kind] - with; rest > 0 {
			a.perRequest[0] = rest
		}
		out = append(out, CallDescription{Kind: k.kind, Caller: k.caller, Called: k.called, Sync: k.sync, Local: k.local,
			PerRequest: a.perRequest, MedianMs: Median(a.times),
			OverWarmMs: Median(a.overWarm), OverColdMs: Median(a.overCold), LoneWarm: len(a.overWarm), LoneCold: len(a.overCold),
			StartAfterMs: Median(a.startAfter)})
	}
	return out
}

// PrintDescription writes the description as text tables, setup by setup.
func PrintDescription(w io.Writer, d *Description) error {
	for i, sd := range d.Setups {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := printSetupDescription(w, sd); err != nil {
			return err
		}
	}
	return nil
}

func printSetupDescription(w io.Writer, sd SetupDescription) error {
	fmt.Fprintf(w, "setup %s: %d records, %d requests, %d cold starts, %.1f GB-ms per request", sd.Name, sd.Records, sd.Requests, sd.ColdStarts, sd.GBmsPerRequest)
	if sd.Orphans > 0 {
		fmt.Fprintf(w, ", %d trace ids without a root record", sd.Orphans)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "memory MB (records): %s\n", sizesString(sd.MemoryMB))
	if sd.URLMemoryMB != nil {
		var diff []string
		for _, fn := range slices.Sorted(maps.Keys(sd.MemoryMB)) {
			if u := sd.URLMemoryMB[fn]; u != nil && !slices.Equal(u, sd.MemoryMB[fn]) {
				diff = append(diff, fmt.Sprintf("%s urls %s", fn, intsString(u)))
			}
		}
		if len(diff) == 0 {
			fmt.Fprintln(w, "memory MB (rule urls): the same for every function that ran")
		} else {
			fmt.Fprintf(w, "memory MB (rule urls) differ: %s\n", strings.Join(diff, "; "))
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "request kind\trequests\trecords/req\troot median ms\troot p95 ms\troot billed median ms\tcold roots\t")
	for _, k := range sd.Kinds {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%s\t%s\t%s\t%d\t\n", k.Kind, k.Requests, k.RecordsPerRequest, num(k.MedianMs), num(k.P95Ms), num(k.MedianBilledMs), k.ColdRoots)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	kinds := make([]string, len(sd.Kinds))
	for i, k := range sd.Kinds {
		kinds[i] = k.Kind
	}
	fmt.Fprintln(w, "functions (doubled: records whose every call is logged twice, counted once; per request: records per request of a kind;")
	fmt.Fprintln(w, "invocations/record: NxM = N self-calls in M records, N > 1 where the prototype's grouping merged invocations;")
	fmt.Fprintln(w, "internal ms of warm and cold records: median [p5, p95]; x share: warm")
	fmt.Fprintln(w, "median x min(1, MB/1769), vCPU-ms when CPU-bound; self-call ms: median handler time of each merged invocation, by kind):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "function\tMB\trecords\tcold\tdoubled\tper request\tinvocations/record\twarm\tx share\tcold\ttail ms\tmax MB warm/cold\tself-call ms by kind\t")
	for _, f := range sd.Functions {
		var per, self []string
		for _, k := range kinds {
			if v, ok := f.PerKind[k]; ok {
				per = append(per, fmt.Sprintf("%s %.2f", k, v))
			}
			if v := f.SelfMs[k]; len(v) > 1 || (len(v) == 1 && len(f.SelfMs) > 1) {
				self = append(self, fmt.Sprintf("%s %s", k, floatsString(v)))
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s/%s\t%s\t\n", f.Function, f.MemoryMB, f.Records, f.Cold, f.Doubled,
			strings.Join(per, " "), countsString(f.Invocations), spreadString(f.Warm), num(f.Warm.MedianTimesShare), spreadString(f.ColdMs),
			num(f.TailMs), num(f.MaxMemoryWarmMB), num(f.MaxMemoryColdMB), strings.Join(self, " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "calls (per request: NxM = N calls in M requests; lone remote calls, one per request: over = sync call time - callee internal,")
	fmt.Fprintln(w, "to a warm / cold callee (count); callee starts after = callee start - caller start):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "request kind\tcall\ttype\tper request\tmedian ms\tover warm ms\tover cold ms\tcallee starts after ms\t")
	for _, c := range sd.Calls {
		typ := "async"
		if c.Sync {
			typ = "sync"
		}
		if c.Local {
			typ += " local"
		} else {
			typ += " remote"
		}
		over := func(v float64, n int) string {
			if n == 0 {
				return "-"
			}
			return fmt.Sprintf("%s (%d)", num(v), n)
		}
		fmt.Fprintf(tw, "%s\t%s->%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", c.Kind, c.Caller, c.Called, typ, countsString(c.PerRequest), num(c.MedianMs),
			over(c.OverWarmMs, c.LoneWarm), over(c.OverColdMs, c.LoneCold), num(c.StartAfterMs))
	}
	return tw.Flush()
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

func sizesString(m map[string][]int) string {
	var parts []string
	for _, fn := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fn+":"+intsString(m[fn]))
	}
	return strings.Join(parts, " ")
}

func intsString(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, "/")
}

func floatsString(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = num(x)
	}
	return strings.Join(s, "/")
}

// countsString writes a distribution {value: count} as "1x122 2x212".
func countsString(m map[int]int) string {
	var parts []string
	for _, v := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%dx%d", v, m[v]))
	}
	return strings.Join(parts, " ")
}

func spreadString(s Spread) string {
	if s.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%s [%s, %s]", num(s.Median), num(s.P5), num(s.P95))
}
