package calibrate

import (
	"context"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/experiment"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// emulateArrivals runs setup of w under arrivals in a fresh emulator and
// returns its traces (the way real traces of that load would look).
func emulateArrivals(t *testing.T, w workloads.Workload, setup *fusionsim.Setup, arrivals []fusionsim.Arrival, seed uint64) []trace.Record {
	t.Helper()
	sink := emulator.NewMemorySink()
	em, err := emulator.New(emulator.Config{App: w.App, Profile: model.Default(), Seed: seed, Log: sink})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	res, err := experiment.Run(context.Background(), experiment.Config{
		Platform: em, App: w.App, Planner: experiment.Fixed{setup},
		Load:     func(*fusionsim.Setup) ([]fusionsim.Arrival, error) { return arrivals, nil },
		LogsRead: sink.Reset,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Iterations[0].Records
}

func mustArrivals(t *testing.T, s load.Spec) []fusionsim.Arrival {
	t.Helper()
	a, err := s.Arrivals()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// writeTraceDir writes recs as the traces of setup in the prototype's
// layout and returns the directory.
func writeTraceDir(t *testing.T, setup *fusionsim.Setup, recs []trace.Record) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "exp")
	d := &trace.Dir{Traces: trace.Traces{setup.Name(): recs}, Configs: fusionsim.Configs{setup.Name(): setup}}
	if err := trace.WriteDir(dir, d, trace.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := trace.WriteConfigs(dir, d.Configs); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestInferLoadKinds builds trace directories of each kind of load with the
// emulator (split's remote setup: async tails that outlive the root) and
// checks that validation infers the kind and its parameters, and says why.
func TestInferLoadKinds(t *testing.T) {
	t.Parallel()
	w := workloads.Split()
	setup, err := workloads.Remote(w.App, "s", 0)
	if err != nil {
		t.Fatal(err)
	}
	// The cold-start protocol as the prototype ran it: every function cold
	// before each request, the next request sent 6 s after the previous
	// one, once its response was in (A takes about 4.7 s cold) but while
	// its async invocations (C, F, G) still run.
	cold := make([]fusionsim.Arrival, 40)
	for i := range cold {
		cold[i] = fusionsim.Arrival{At: time.Duration(i) * 6 * time.Second, ColdBefore: true}
	}
	for _, tc := range []struct {
		name     string
		arrivals []fusionsim.Arrival
		check    func(t *testing.T, s load.Spec)
	}{
		{"constant", mustArrivals(t, load.Spec{Kind: load.KindConstant, RatePerS: 10, Requests: 300}), func(t *testing.T, s load.Spec) {
			if s.Kind != load.KindConstant || s.RatePerS != 10 || s.Requests != 300 {
				t.Errorf("%+v, want constant 10/s x300", s)
			}
		}},
		{"poisson", mustArrivals(t, load.Spec{Kind: load.KindPoisson, RatePerS: 10, Duration: 60 * time.Second, Seed: 3}), func(t *testing.T, s load.Spec) {
			if s.Kind != load.KindPoisson || math.Abs(s.RatePerS-10) > 1.5 || math.Abs(s.Duration.Seconds()-60) > 6 {
				t.Errorf("%+v, want poisson about 10/s for about 60 s", s)
			}
		}},
		{"bursty", mustArrivals(t, load.Spec{Kind: load.KindBursty}), func(t *testing.T, s load.Spec) {
			if s.Kind != load.KindBursty || len(s.Stages) < 8 {
				t.Fatalf("%+v, want bursty with the preset's steps", s)
			}
			a, err := s.Arrivals()
			if err != nil {
				t.Fatal(err)
			}
			// The preset: 376 requests in 16.8 s, rising from 5 to 40/s.
			if n := len(a); n < 340 || n > 410 {
				t.Errorf("the inferred stages send %d requests, want about 376", n)
			}
			first, last := s.Stages[0].TargetPerS, s.Stages[len(s.Stages)-1].TargetPerS
			if first > 10 || last < 30 {
				t.Errorf("stages from %g/s to %g/s, want about 5 to 40", first, last)
			}
		}},
		{"coldstart with overlapping async tails", cold, func(t *testing.T, s load.Spec) {
			if s.Kind != load.KindColdstart || s.Requests != 40 {
				t.Errorf("%+v, want coldstart x40", s)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := emulateArrivals(t, w, setup, tc.arrivals, 7)
			dir := writeTraceDir(t, setup, recs)
			v, err := Validate(context.Background(), dir, ValidateOptions{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			r := v.Setups[0]
			tc.check(t, r.Load)
			if !strings.HasPrefix(r.LoadWhy, r.Load.Kind) {
				t.Errorf("reason %q does not start with the kind %s", r.LoadWhy, r.Load.Kind)
			}
			if len(r.Incomplete) > 0 {
				t.Errorf("complete traces flagged: %v", r.Incomplete)
			}
		})
	}
}

// TestLoadOverride: --load coldstart without --requests takes the root
// invocations' number; given parameters replace inferred ones and the
// reason says what was given.
func TestLoadOverride(t *testing.T) {
	var recs []trace.Record
	for i := 0; i < 50; i++ {
		start := int64(1_000_000 + 100*i)
		recs = append(recs, trace.Record{TraceID: "s-A-128-" + strings.Repeat("0", 31) + string(rune('a'+i%26)) + string(rune('a'+i/26)),
			IsRootInvocation: true, StartTimestamp: start, EndTimestamp: start + 50})
	}
	s, why, err := LoadFor(recs, LoadOverride{Kind: load.KindColdstart})
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != load.KindColdstart || s.Requests != 50 {
		t.Errorf("%+v, want coldstart x50", s)
	}
	if !strings.Contains(why, "given --load coldstart") {
		t.Errorf("reason %q", why)
	}
	s, why, err = LoadFor(recs, LoadOverride{Kind: load.KindConstant, RatePerS: 4, Requests: 20})
	if err != nil || s.RatePerS != 4 || s.Requests != 20 || !strings.Contains(why, "--rps 4 --requests 20") {
		t.Errorf("%+v %q %v", s, why, err)
	}
	if s, _, err := LoadFor(recs, LoadOverride{Stages: load.Bursty()}); err != nil || s.Kind != load.KindBursty || len(s.Stages) != 16 {
		t.Errorf("--stages alone: %+v %v, want the given bursty stages", s, err)
	}
}

// TestMemoryFromReportLines: a setup whose urls carry no size is emulated
// at the size its REPORT lines show (256 MB), not at the 128 MB the urls
// mean, and the validation says so.
func TestMemoryFromReportLines(t *testing.T) {
	w := workloads.Split()
	real, err := workloads.Remote(w.App, "s", 256)
	if err != nil {
		t.Fatal(err)
	}
	recs := emulateArrivals(t, w, real, mustArrivals(t, load.Spec{Kind: load.KindConstant, RatePerS: 10, Requests: 200}), 5)
	// The configuration as a user might have written it: no sizes.
	sizeless, err := workloads.Remote(w.App, "s", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range sizeless.Rules {
		for _, p := range row {
			if strings.Contains(p.Sync.URL+p.Async.URL, "-128") || strings.Contains(p.Sync.URL+p.Async.URL, "-256") {
				t.Fatalf("sizeless setup has sized urls: %+v", p)
			}
		}
	}
	dir := writeTraceDir(t, sizeless, recs)
	v, err := Validate(context.Background(), dir, ValidateOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	r := v.Setups[0]
	if want := "A:256 B:256 C:256 D:256 E:256 F:256 G:256"; r.Emulated.Memory != want {
		t.Errorf("emulated at %s, want %s", r.Emulated.Memory, want)
	}
	if e := RelErr(r.Real.GBMsPerRequest, r.Emulated.GBMsPerRequest); math.Abs(e) > 0.05 {
		t.Errorf("GB-ms per request real %.1f, emulated %.1f", r.Real.GBMsPerRequest, r.Emulated.GBMsPerRequest)
	}
	notes := strings.Join(r.Notes, "\n")
	if !strings.Contains(notes, "entry A: the configuration means 128 MB") || !strings.Contains(notes, "function G: the configuration means 128 MB, its REPORT lines show 256 MB") {
		t.Errorf("notes:\n%s", notes)
	}
}

// TestMemoryFromReportLinesAllLocal: an all-local setup names no size at
// all (its one function is reached by the client's route); its REPORT
// lines show 512 MB, and it is emulated at 512 MB, not at the 128 MB of
// the default route, and the validation says so.
func TestMemoryFromReportLinesAllLocal(t *testing.T) {
	w := workloads.Split()
	local, err := workloads.Local(w.App, "l")
	if err != nil {
		t.Fatal(err)
	}
	spec := load.Spec{Kind: load.KindConstant, RatePerS: 2, Requests: 40}
	recs, err := Emulate(context.Background(), w, local, fusionsim.Route{Task: "A", MemoryMB: 512, Sync: true}, spec, model.Default(), 5, false)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Validate(context.Background(), writeTraceDir(t, local, recs), ValidateOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	r := v.Setups[0]
	if r.Emulated.Memory != "A:512" || r.Real.Memory != "A:512" {
		t.Errorf("real at %s, emulated at %s, want A:512", r.Real.Memory, r.Emulated.Memory)
	}
	if e := RelErr(r.Real.GBMsPerRequest, r.Emulated.GBMsPerRequest); math.Abs(e) > 0.05 {
		t.Errorf("GB-ms per request real %.1f, emulated %.1f", r.Real.GBMsPerRequest, r.Emulated.GBMsPerRequest)
	}
	if notes := strings.Join(r.Notes, "\n"); !strings.Contains(notes, "entry A: the configuration means 128 MB (route SYNC-A-128), the root invocations' REPORT lines show 512 MB") {
		t.Errorf("notes:\n%s", notes)
	}
}

// TestIncompleteTracesFlagged: traces missing root invocations, or whose
// roots ran into the timeout, are flagged in the validation.
func TestIncompleteTracesFlagged(t *testing.T) {
	w := workloads.Split()
	setup, err := workloads.Remote(w.App, "s", 0)
	if err != nil {
		t.Fatal(err)
	}
	recs := emulateArrivals(t, w, setup, mustArrivals(t, load.Spec{Kind: load.KindConstant, RatePerS: 10, Requests: 200}), 5)
	var cut []trace.Record
	dropped := 0
	for i, r := range recs {
		if r.IsRootInvocation && i%5 == 0 {
			dropped++
			continue // a lost root record
		}
		cut = append(cut, r)
	}
	v, err := Validate(context.Background(), writeTraceDir(t, setup, cut), ValidateOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(v.Setups[0].Incomplete, "; "); !strings.Contains(got, "have invocations but no root invocation record") {
		t.Errorf("%d roots dropped: incomplete = %q", dropped, got)
	}
	// The same traces under a 1 s timeout: the roots (about 1.6 s) ran into it.
	v, err = Validate(context.Background(), writeTraceDir(t, setup, recs), ValidateOptions{Seed: 1, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(v.Setups[0].Incomplete, "; "); !strings.Contains(got, "ran into the function timeout") {
		t.Errorf("1 s timeout: incomplete = %q", got)
	}
}

// twoEntryApp is an application reached through two entry tasks (as the
// prototype's webshop: addcartitem and frontend): front, whose "checkout"
// requests call pay before they store, and cart, which stores
// asynchronously. With a scenario, its kinds of request have their
// bodies (RequestEvents); the scenario is shorter than the runs below, so
// that they are replayed, not run as the scenario.
func twoEntryApp(withScenario bool) workloads.Workload {
	spend := func(ms float64) func(fusionsim.Context, fusionsim.Event) (fusionsim.Event, error) {
		return func(ctx fusionsim.Context, _ fusionsim.Event) (fusionsim.Event, error) {
			ctx.Spend(fusionsim.Work{Name: "w" + strconv.Itoa(int(ms)), CPUMs: ms, Threads: 1})
			return fusionsim.Event{}, nil
		}
	}
	app := &fusionsim.App{
		Name: "twoentries", Entry: "front", Entries: []string{"front", "cart"},
		Tasks: map[string]fusionsim.Task{
			"front": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				if in["op"] == "checkout" {
					if _, err := ctx.Call("pay", in, true); err != nil {
						return nil, err
					}
				}
				return ctx.Call("store", in, true)
			},
			"cart": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				return ctx.Call("store", in, false)
			},
			"store": spend(3),
			"pay":   spend(40),
		},
		Edges: []fusionsim.Edge{{Caller: "front", Called: "pay", Sync: true}, {Caller: "front", Called: "store", Sync: true}, {Caller: "cart", Called: "store", Sync: false}},
	}
	w := workloads.Workload{App: app}
	if withScenario {
		sc, err := load.ReadScenario(strings.NewReader(twoEntryScenario), "two.yaml")
		if err != nil {
			panic(err)
		}
		w.Scenario = sc
	}
	return w
}

const twoEntryScenario = `
name: two
executor: constant-arrival-rate
rate_per_s: 1
duration_s: 10
max_vus: 5
iteration:
  - {kind: cart, entry: cart}
  - {kind: get, entry: front, body: {op: get}}
  - {kind: checkout, entry: front, body: {op: checkout}}
`

// TestReplayOfSeveralEntries: traces whose requests went to two entry
// functions (a scenario: each iteration adds to the cart, then gets and
// checks out at the front) are replayed request by request, each to its
// root's function at the size it ran at (cart at 256 MB), with the body
// of its kind (its entry and first call: the scenario's requests show
// which is which); the validation says so, and a fit on the remote setup
// predicts the fused one within the project's tolerance (10 %; the toy
// app's 30 ms medians move by a millisecond, 3 %, with a refit profile).
func TestReplayOfSeveralEntries(t *testing.T) {
	w := twoEntryApp(true)
	var arr []fusionsim.Arrival
	for i := 0; i < 60; i++ {
		at := time.Duration(i) * 400 * time.Millisecond
		arr = append(arr,
			fusionsim.Arrival{At: at, Route: fusionsim.Route{Task: "cart", MemoryMB: 256, Sync: true}, Kind: "cart"},
			fusionsim.Arrival{At: at + 100*time.Millisecond, Route: fusionsim.Route{Task: "front", MemoryMB: 128, Sync: true}, Event: fusionsim.Event{"op": "get"}, Kind: "get"},
			fusionsim.Arrival{At: at + 200*time.Millisecond, Route: fusionsim.Route{Task: "front", MemoryMB: 128, Sync: true}, Event: fusionsim.Event{"op": "checkout"}, Kind: "checkout"})
	}
	d := &trace.Dir{Traces: trace.Traces{}, Configs: fusionsim.Configs{}}
	for i, desc := range []string{"front:128,store:128,pay:128,cart:256", "front+store+pay:128,cart+store:256"} {
		name := strconv.Itoa(i + 1)
		s, err := workloads.FromDescription(w.App, name, desc)
		if err != nil {
			t.Fatal(err)
		}
		d.Configs[name] = s
		d.Traces[name] = emulateArrivals(t, w, s, arr, uint64(40+i))
	}
	v, err := ValidateDir(context.Background(), "two", d, ValidateOptions{Seed: 1, App: &w, FitOn: "first"})
	if err != nil {
		t.Fatal(err)
	}

	for _, r := range v.Setups {
		if r.Load.Kind != load.KindReplay || len(r.Load.Replayed) != 180 {
			t.Errorf("%s: load %s, want a replay of 180 requests", r.Setup, r.Load)
		}
		for _, want := range []string{"roots in 2 entry functions: cart 60, front 120", "each request with the body of its kind"} {
			if !strings.Contains(r.LoadWhy, want) {
				t.Errorf("%s: reason %q lacks %q", r.Setup, r.LoadWhy, want)
			}
		}
		if notes := strings.Join(r.Notes, "\n"); !strings.Contains(notes, "root invocations in several functions (cart-256 front-128)") {
			t.Errorf("%s: notes %q", r.Setup, notes)
		}
		if r.Real.InvocationsPerRequest != r.Emulated.InvocationsPerRequest || r.Real.Requests != r.Emulated.Requests {
			t.Errorf("%s: %d requests, %.2f invocations each; emulated %d, %.2f", r.Setup, r.Real.Requests, r.Real.InvocationsPerRequest, r.Emulated.Requests, r.Emulated.InvocationsPerRequest)
		}
		if !r.Fit && !r.Within(Tolerance) {
			t.Errorf("%s (%s): median %.1f ms predicted %.1f, GB-ms %.1f predicted %.1f", r.Setup, r.Memory, r.Real.MedianMs, r.Emulated.MedianMs, r.Real.GBMsPerRequest, r.Emulated.GBMsPerRequest)
		}
	}
	// Without a scenario every request gets the default body, and the
	// reason says so.
	plain := twoEntryApp(false)
	v, err = ValidateDir(context.Background(), "two", d, ValidateOptions{Seed: 1, App: &plain, Setups: []string{"1"}})
	if err != nil {
		t.Fatal(err)
	}
	if why := v.Setups[0].LoadWhy; !strings.Contains(why, "every request with the default body") {
		t.Errorf("reason %q", why)
	}
}

// TestRampStages: binary segmentation finds a staircase rising through
// steps each about the counting noise of a window (here the steps of two
// windows pair up: within the noise of so few requests they are one), and
// keeps a steady run of windows one step.
func TestRampStages(t *testing.T) {
	// Windows of 1 s: 5, 10, 15 ... 40 requests/s for 2 s each, with
	// Poisson-like noise; then a steady 20/s.
	stair := []int{4, 6, 11, 9, 14, 16, 21, 19, 26, 24, 31, 29, 33, 37, 41, 39}
	st := rampStages(stair, 1000)
	if len(st) < 2*4 || st[0].TargetPerS > 8 || st[len(st)-1].TargetPerS < 35 {
		t.Errorf("staircase: %d stages %s", len(st), load.FormatStages(st))
	}
	for i := 2; i < len(st); i += 2 {
		if st[i].TargetPerS <= st[i-2].TargetPerS {
			t.Errorf("staircase: step %d at %g after %g", i/2, st[i].TargetPerS, st[i-2].TargetPerS)
		}
	}
	steady := []int{20, 22, 18, 21, 19, 23, 17, 20, 20, 21}
	if st := rampStages(steady, 1000); len(st) != 2 || st[0].TargetPerS != 20.1 {
		t.Errorf("steady: %s", load.FormatStages(st))
	}
}
