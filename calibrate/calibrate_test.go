package calibrate

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
)

var update = flag.Bool("update", false, "rewrite testdata/fixture-profile.json")

// The fit on the committed fixture (a sample of the calibration traces, see
// fixture_test.go) is pinned: testdata/fixture-profile.json holds the
// profile it gives, so that any change of the fitting method shows up as a
// diff (regenerate with go test ./calibrate -run TestFitFixture -update and
// review it). A few figures are also checked against what the traces say
// outright.
func TestFitFixture(t *testing.T) {
	ft, err := FitDirs(fixtureDirs(t), placeholderProfile(t))
	if err != nil {
		t.Fatal(err)
	}
	// The handler's demand per local call shows only in traces of an
	// application with many local calls (the webshop's, make
	// calibration): the fixture of the platform runs has none. Nor has it
	// work short of memory (b_local; the webshop's sieve).
	if len(ft.Skipped) != 2 || !strings.HasPrefix(ft.Skipped[0], "local calls: ") || !strings.HasPrefix(ft.Skipped[1], "memory pressure: ") {
		t.Errorf("figures not fitted on the fixture: %v", ft.Skipped)
	}
	got, err := ft.Profile.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "fixture-profile.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the fit on the fixture changed (run with -update and review the diff):\n%s", lineDiff(got, want))
	}
	p := ft.Profile
	burn := p.Work["burn2x8.8"]
	for _, c := range []struct {
		name      string
		v, lo, hi float64
	}{
		// splittest G at 4096 MB: 78 ms on two threads, about 157 vCPU-ms.
		{"work[burn2x8.8].cpuMs", burn.CPUMs, 150, 165},
		// Below two vCPUs the same task needs about 172 vCPU-ms.
		{"work[burn2x8.8] cpuMs + overheadCPUMs", burn.CPUMs + burn.OverheadCPUMs, 168, 180},
		// Cold callees of sync calls start about half a second later.
		{"coldStart.runtimeInitMs median", median(p.ColdStart.RuntimeInitMs[p.ColdStart.Runtime]), 450, 600},
		// A put takes about 17 ms at one vCPU or more.
		{"storage.put latency + cpu", median(p.Storage.Put.LatencyMs) + p.Storage.Put.CPUMs, 15, 20},
		// The async ack: about 24 ms at one vCPU or more.
		{"remote.asyncAck latency", median(p.Remote.AsyncAck.LatencyMs), 18, 26},
		{"cpu.burstPeriodMs", p.CPU.BurstPeriodMs, 5, 30},
		// E sleeps 500 ms and takes 501.
		{"handler.timerLatencyMs median", median(p.Handler.TimerLatencyMs), 0.5, 2},
	} {
		if !(c.v >= c.lo && c.v <= c.hi) {
			t.Errorf("%s = %v, want within [%v, %v]", c.name, c.v, c.lo, c.hi)
		}
	}
}

// median is the median of an empirical distribution, else its quantile at 0.
func median(d model.Dist) float64 { return d.Quantile(0) }

// placeholderProfile is a fixed base for the fixture's fit, so that the
// golden file does not move with the embedded default profile.
func placeholderProfile(t *testing.T) model.Profile {
	t.Helper()
	p, err := model.Load(filepath.Join("testdata", "base-profile.json"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func lineDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d\n got: %s\nwant: %s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(la), len(lb))
}

// PlatformDirs are the directories of ../shared/calibration the platform
// profile is fitted on: the experiments of the workloads whose records the
// fit's selectors read (make calibration lists the same).
var platformDirs = []string{
	"IoT-generateConfigurations-dualcore-I-100x10x11",
	"split-coldStarts-dualcore-4",
	"split-generateConfigurations-dualcore-A-13-x-100-x-10",
	"splittest-generateConfigurations-twocores-G-12-x-100-x-10",
}

// The embedded default profile is the one fitted on the platform
// directories of ../shared/calibration (when the data is there): make
// calibration. The handler's demand per local call, which make calibration
// fits by emulating the webshop run's setups (about a minute), is taken
// from the default profile itself, and every other figure must follow from
// it and the traces; the description names the emulated run too.
func TestDefaultProfileIsFittedOnCalibration(t *testing.T) {
	if _, err := os.Stat(calibrationDir); err != nil {
		t.Skipf("no calibration data: %v", err)
	}
	var dirs []string
	for _, d := range platformDirs {
		dirs = append(dirs, filepath.Join(calibrationDir, d))
	}
	ft, err := FitDirs(dirs, model.Default())
	if err != nil {
		t.Fatal(err)
	}
	if d := model.Default().Description; !strings.Contains(d, "by emulating the setups of webshop-") || !strings.HasPrefix(d, ft.Profile.Description[:strings.Index(ft.Profile.Description, ")")]) {
		t.Errorf("the default profile's description %q", d)
	}
	ft.Profile.Description = model.Default().Description
	got, err := ft.Profile.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := model.DefaultJSON()
	if !bytes.Equal(got, want) {
		t.Errorf("model/default_profile.json is not the fit on %v (refit it with make calibration):\n%s", platformDirs, lineDiff(got, want))
	}
}

// CPUTime is the emulator's processor model in closed form: a lone job of
// the same demand takes the same time in the emulator, with and without
// the quota.
func TestCPUTimeMatchesEmulator(t *testing.T) {
	for _, c := range []struct {
		mb, threads int
		cpuMs       float64
		burst       float64
	}{
		{128, 1, 3, 15}, {128, 2, 170, 15}, {768, 1, 12, 15}, {768, 2, 170, 15},
		{1536, 2, 170, 15}, {3008, 2, 170, 15}, {4096, 2, 157, 15}, {128, 1, 3, 0}, {1024, 2, 100, 0},
	} {
		prof := quietProfile(t)
		prof.CPU.BurstPeriodMs = c.burst
		prof.Work = map[string]model.WorkParams{"w": {CPUMs: c.cpuMs, Threads: c.threads}}
		app := &fusionsim.App{Name: "one", Entry: "A", Tasks: map[string]fusionsim.Task{
			"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				ctx.Spend(fusionsim.Work{Name: "w", CPUMs: 1, Threads: 1})
				return nil, nil
			}}}
		var rec *emulator.Record
		em, err := emulator.New(emulator.Config{App: app, Profile: prof, Seed: 1, Record: func(r *emulator.Record) { rec = r }})
		if err != nil {
			t.Fatal(err)
		}
		setup := &fusionsim.Setup{TraceName: fusionsim.NewTraceName("s"), Rules: fusionsim.Rules{"A": {}}}
		if err := em.Deploy(context.Background(), setup); err != nil {
			t.Fatal(err)
		}
		if _, err := em.Run(context.Background(), fusionsim.Route{Task: "A", MemoryMB: c.mb, Sync: true}, []fusionsim.Arrival{{}}); err != nil {
			t.Fatal(err)
		}
		em.Close()
		want := CPUTime(prof.CPU, c.cpuMs, c.mb, c.threads, FullQuota(prof.CPU, c.mb))
		if got := float64(rec.Duration) / 1e6; math.Abs(got-want) > 0.001 {
			t.Errorf("%d MB, %d threads, %v vCPU-ms, period %v: emulator %.4f ms, CPUTime %.4f ms", c.mb, c.threads, c.cpuMs, c.burst, got, want)
		}
	}
}

// quietProfile is the default profile without any cost but the CPU.
func quietProfile(t *testing.T) model.Profile {
	t.Helper()
	p := model.Default()
	p.ColdStart.RuntimeInitMs = map[string]model.Dist{p.ColdStart.Runtime: model.Const(0)}
	p.ColdStart.FirstEvent = model.Cost{}
	p.CPU.WorkJitter = model.Dist{}
	p.Handler = model.Handler{RuntimeMemoryMB: 50}
	p.Remote = model.Remote{}
	return p
}

func TestConcurrentTime(t *testing.T) {
	cpu := model.Default().CPU
	cpu.BurstPeriodMs = 0
	// Three jobs of 1 vCPU-ms at 128 MB share 0.0724 vCPU: 3 / 0.0724.
	if got, want := concurrentTime(cpu, 1, 3, 128, 0), 3/cpu.Share(128); math.Abs(got-want) > 1e-9 {
		t.Errorf("128 MB: %v, want %v", got, want)
	}
	// At 4096 MB (3 cores, 2.3 vCPUs) three single-thread jobs run at 2.3.
	if got, want := concurrentTime(cpu, 1, 3, 4096, 0), 3/cpu.Share(4096); math.Abs(got-want) > 1e-9 {
		t.Errorf("4096 MB: %v, want %v", got, want)
	}
	cpu.BurstPeriodMs = 20
	// With quota for all of it, the two cores of 768 MB run them: 1.5 ms.
	if got := concurrentTime(cpu, 1, 3, 768, cpu.Burst(768)); math.Abs(got-1.5) > 1e-9 {
		t.Errorf("768 MB with quota: %v, want 1.5", got)
	}
}

func TestInferLoad(t *testing.T) {
	var constant, cold []trace.Record
	for i := 0; i < 100; i++ {
		id := fmt.Sprintf("s-A-128-%032d", i)
		start := int64(1_000_000 + 100*i + (i%2)*6) // 10 requests/s with jitter
		constant = append(constant, trace.Record{TraceID: id, IsRootInvocation: true, IsColdStart: i < 5, StartTimestamp: start, EndTimestamp: start + 450})
		cs := int64(1_000_000 + 14_000*i)
		cold = append(cold,
			trace.Record{TraceID: id, IsRootInvocation: true, IsColdStart: true, StartTimestamp: cs, EndTimestamp: cs + 4000},
			trace.Record{TraceID: id, IsColdStart: i != 7, StartTimestamp: cs + 1000, EndTimestamp: cs + 5000})
	}
	got, _, err := InferLoad(constant)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != load.KindConstant || got.RatePerS != 10 || got.Requests != 100 {
		t.Errorf("constant: %+v, want 10 requests/s, 100 requests", got)
	}
	got, _, err = InferLoad(cold)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != load.KindColdstart || got.Requests != 100 || got.Pause != 9*time.Second {
		t.Errorf("cold starts: %+v, want 100 sequential cold requests 9 s apart", got)
	}
	if _, _, err := InferLoad(nil); err == nil {
		t.Error("no records: no error")
	}
}

func TestInferWorkload(t *testing.T) {
	for tasks, want := range map[string]string{
		"G":                              "splittest",
		"A B C D E F G":                  "split",
		"AS CA CS CSA CSL CT CW DJ I SE": "iot",
		"A C F G":                        "split",
	} {
		w, err := InferWorkload(strings.Fields(tasks))
		if err != nil || w.Name() != want {
			t.Errorf("%s: %v, %v; want %s", tasks, w.Name(), err, want)
		}
	}
	if _, err := InferWorkload([]string{"X", "Y"}); err == nil {
		t.Error("unknown tasks: no error")
	}
}

func TestGrouped(t *testing.T) {
	self := fusionsim.Call{Local: true, Sync: true, Caller: "AS", Called: "AS", Time: 10}
	one := trace.Record{CurrentFunction: "AS", Calls: []fusionsim.Call{self}}
	two := trace.Record{CurrentFunction: "AS", Calls: []fusionsim.Call{self, self}}
	if Grouped([]trace.Record{one}) || !Grouped([]trace.Record{one, two}) {
		t.Error("Grouped: want true only with a record of two self-calls")
	}
}

func TestSpearmanAndEmpirical(t *testing.T) {
	pairs := [][2]float64{{1, 10}, {2, 20}, {3, 30}, {4, 40}}
	if r := spearman(pairs); math.Abs(r-1) > 1e-12 {
		t.Errorf("monotone pairs: %v, want 1", r)
	}
	rev := [][2]float64{{1, 4}, {2, 3}, {3, 2}, {4, 1}}
	if r := spearman(rev); math.Abs(r+1) > 1e-12 {
		t.Errorf("reversed pairs: %v, want -1", r)
	}
	var x []float64
	for i := 1; i <= 1000; i++ {
		x = append(x, float64(i))
	}
	d := empirical(x, 100)
	if len(d.Values) != empiricalQuantiles || d.Values[0] != 0 || math.Abs(median(d)-400.5) > 13 {
		t.Errorf("empirical of 1..1000 less 100: %v", d.Values)
	}
	if err := d.Validate("d"); err != nil {
		t.Error(err)
	}
}

// Validate on the fixture's splittest traces: every setup is compared, the
// table lists them all in each format. The fixture keeps every cold request
// and every eighth other one, so its root starts are not the constant
// 10 requests/s of the real run (the cold ones come first): the load is
// given as constant, its rate and number of requests inferred.
func TestValidateFixture(t *testing.T) {
	dir := filepath.Join("testdata", "calibration", "splittest-generateConfigurations-twocores-G-12-x-100-x-10")
	v, err := Validate(context.Background(), dir, ValidateOptions{Seed: 1, Load: LoadOverride{Kind: load.KindConstant}})
	if err != nil {
		t.Fatal(err)
	}
	if v.Workload != "splittest" || len(v.Setups) != len(fixtureSetups[filepath.Base(dir)]) {
		t.Fatalf("workload %s, %d setups", v.Workload, len(v.Setups))
	}
	for _, r := range v.Setups {
		if r.Load.Kind != load.KindConstant || r.Load.Requests != r.Real.Requests || r.Grouped {
			t.Errorf("%s: load %+v, grouped %v", r.Setup, r.Load, r.Grouped)
		}
		if r.Emulated.Requests != r.Real.Requests || !(r.KS >= 0 && r.KS <= 1) {
			t.Errorf("%s: %d emulated requests of %d, KS %v", r.Setup, r.Emulated.Requests, r.Real.Requests, r.KS)
		}
		// One task: the median is the burn, which the profile fits within 10 %.
		if e := RelErr(r.Real.MedianMs, r.Emulated.MedianMs); math.Abs(e) > Tolerance {
			t.Errorf("%s: median %v ms, emulated %v ms", r.Setup, r.Real.MedianMs, r.Emulated.MedianMs)
		}
	}
	for _, f := range Formats {
		var buf bytes.Buffer
		if err := PrintTable(&buf, f, v); err != nil {
			t.Fatal(err)
		}
		for _, r := range v.Setups {
			if !strings.Contains(buf.String(), r.Setup) {
				t.Errorf("%s table lacks setup %s:\n%s", f, r.Setup, buf.String())
			}
		}
	}
	if err := PrintTable(&bytes.Buffer{}, "html", v); err == nil {
		t.Error("unknown table format accepted")
	}
	files, err := DrawECDF(v, t.TempDir(), []string{"svg"})
	if err != nil || len(files) != len(v.Setups) {
		t.Fatalf("figures %v, %v", files, err)
	}
}

// The IoT fixture shows the prototype's grouping quirk; its emulation is
// grouped the same way (one AS record per request).
func TestValidateGroupsLikeThePrototype(t *testing.T) {
	dir := filepath.Join("testdata", "calibration", "IoT-generateConfigurations-dualcore-I-100x10x11")
	v, err := Validate(context.Background(), dir, ValidateOptions{Seed: 1, Setups: []string{"1676026378"}, Load: LoadOverride{Requests: 100}})
	if err != nil {
		t.Fatal(err)
	}
	r := v.Setups[0]
	if !r.RealGrouped || !r.Grouped || r.Emulated.InvocationsPerRequest != 5 {
		t.Errorf("real grouped %v, emulated grouped %v, %v records per request (want 5: I, CS, CT, CA, AS)", r.RealGrouped, r.Grouped, r.Emulated.InvocationsPerRequest)
	}
	if _, err := Validate(context.Background(), dir, ValidateOptions{Setups: []string{"nope"}}); err == nil {
		t.Error("unknown setup: no error")
	}
}

// The fixture's profile is valid JSON for model.Parse (unknown fields are
// errors there).
func TestFixtureProfileParses(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "fixture-profile.json"))
	if err != nil {
		t.Skip(err)
	}
	if _, err := model.Parse(b); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
}

// Each fixture directory alone fits a valid profile (figures without data
// are kept from the base profile).
func TestFitEachDirectoryAlone(t *testing.T) {
	for _, d := range fixtureDirs(t) {
		ft, err := FitDirs([]string{d}, placeholderProfile(t))
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(d), err)
			continue
		}
		if len(ft.Params) == 0 {
			t.Errorf("%s: nothing fitted", filepath.Base(d))
		}
	}
}
