package calibrate

import (
	"context"
	"math"
	"path/filepath"
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
