package calibrate

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/experiment"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// changedCode is the default profile with split's task code changed as a
// new campaign might: bigger burn workers (1.8 times the demand), a larger
// cold extra and tail.
func changedCode() model.Profile {
	p := model.Default()
	for _, name := range []string{workloads.WorkBurn2x7, workloads.WorkBurn2x8p8} {
		w := p.Work[name]
		w.CPUMs *= 1.8
		w.OverheadCPUMs *= 1.8
		w.ColdCPUMs = 60
		w.TailCPUMs = 8
		p.Work[name] = w
	}
	return p
}

// realTraces emulates setup under prof as the "real" traces of a campaign.
func realTraces(t *testing.T, w workloads.Workload, prof model.Profile, setup *fusionsim.Setup, spec load.Spec, seed uint64) []trace.Record {
	t.Helper()
	sink := emulator.NewMemorySink()
	em, err := emulator.New(emulator.Config{App: w.App, Profile: prof, Seed: seed, Log: sink})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	res, err := experiment.Run(context.Background(), experiment.Config{
		Platform: em, App: w.App, Planner: experiment.Fixed{setup},
		Load:     func(*fusionsim.Setup) ([]fusionsim.Arrival, error) { return spec.Arrivals() },
		LogsRead: sink.Reset,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Iterations[0].Records
}

func within(got, want, tol float64) bool { return math.Abs(got-want) <= tol*math.Abs(want) }

// TestFitAppRecoversChangedCode: traces of split's remote setup at 128 MB,
// made with changed work figures, fit them back from the default profile
// (demand, cold extra and tail within a few percent), and the fitted
// figures predict another setup (C, F, G at 1024 MB) of the changed code.
func TestFitAppRecoversChangedCode(t *testing.T) {
	t.Parallel()
	w := workloads.Split()
	truth := changedCode()
	spec := load.Spec{Kind: load.KindConstant, RatePerS: 10, Requests: 150}
	remote, err := workloads.Remote(w.App, "1", 0)
	if err != nil {
		t.Fatal(err)
	}
	real := realTraces(t, w, truth, remote, spec, 11)
	ft, err := FitApp(context.Background(), w, remote, real, AppFitOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{workloads.WorkBurn2x7, workloads.WorkBurn2x8p8} {
		got, want := ft.Work[name], truth.Work[name]
		total := func(p model.WorkParams) float64 { return p.CPUMs + p.OverheadCPUMs + p.SerialCPUMs }
		if !within(total(got), total(want), 0.03) {
			t.Errorf("%s: demand %.1f vCPU-ms, want %.1f", name, total(got), total(want))
		}
		if !within(got.TailCPUMs, want.TailCPUMs, 0.25) {
			t.Errorf("%s: tail %.2f, want %.2f", name, got.TailCPUMs, want.TailCPUMs)
		}
		if got.Threads != 2 {
			t.Errorf("%s: threads %d, want the declared 2", name, got.Threads)
		}
	}
	// The cold extra of burn2x7 shows in C and F's cold invocations only:
	// fewer of them, so a looser bound.
	if got := ft.Work[workloads.WorkBurn2x7].ColdCPUMs; !within(got, 60, 0.35) {
		t.Errorf("burn2x7 cold extra %.1f, want about 60", got)
	}
	var unident string
	for _, u := range ft.Unidentified {
		unident += u + "\n"
	}
	if !strings.Contains(unident, "threads: not identifiable") {
		t.Errorf("unidentified:\n%s", unident)
	}
	// Prediction of a setup the fit never saw.
	big, err := workloads.FromDescription(w.App, "2", "A+B+D+E:128,C:1024,F:1024,G:1024")
	if err != nil {
		t.Fatal(err)
	}
	realBig := realTraces(t, w, truth, big, spec, 12)
	emuBig := realTraces(t, w, ft.Profile, big, spec, 13)
	sumOf := func(recs []trace.Record) (float64, float64) {
		var gbms float64
		var lat []float64
		for _, r := range recs {
			mb := 0.0
			switch r.MemoryAvail {
			case "128":
				mb = 128
			case "1024":
				mb = 1024
			}
			gbms += float64(r.BilledDuration) * mb / 1024
			if r.IsRootInvocation {
				lat = append(lat, float64(r.InternalDuration))
			}
		}
		return Median(lat), gbms
	}
	rm, rc := sumOf(realBig)
	em, ec := sumOf(emuBig)
	if !within(em, rm, 0.05) || !within(ec, rc, 0.05) {
		t.Errorf("predicted setup: median %.0f ms (real %.0f), GB-ms %.0f (real %.0f)", em, rm, ec, rc)
	}
}

// TestFitAppThreadsFromSizes: when the fitted setup runs a descriptor at a
// size whose share exceeds one vCPU (F at 3008 MB beside C at 128 MB), the
// thread count is identified: the changed code runs one worker, not the
// declared two.
func TestFitAppThreadsFromSizes(t *testing.T) {
	t.Parallel()
	w := workloads.Split()
	truth := model.Default()
	p := truth.Work[workloads.WorkBurn2x7]
	p.Threads = 1
	truth.Work[workloads.WorkBurn2x7] = p
	setup, err := workloads.FromDescription(w.App, "1", "A:128,B:128,D:128,E:128,C:128,F:3008,G:128")
	if err != nil {
		t.Fatal(err)
	}
	spec := load.Spec{Kind: load.KindConstant, RatePerS: 10, Requests: 100}
	real := realTraces(t, w, truth, setup, spec, 21)
	ft, err := FitApp(context.Background(), w, setup, real, AppFitOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := ft.Work[workloads.WorkBurn2x7].Threads; got != 1 {
		t.Errorf("burn2x7 threads %d, want 1", got)
	}
	found := false
	for _, q := range ft.Params {
		found = found || q.Field == `work["burn2x7"].threads`
	}
	if !found {
		t.Errorf("no threads figure in %+v", ft.Params)
	}
}

// TestFitAppOverheadFromSizes: when the fitted setup runs a descriptor at
// sizes on both sides of its thread count's share (C at 128 MB, F at
// 4096 MB), the part of the demand the runtime's other threads take
// (overheadCPUMs, free above two vCPUs) is identified: the changed code's
// 30 % of the parallel demand, not the profile's 10 %; and the threads
// stay the code's two.
func TestFitAppOverheadFromSizes(t *testing.T) {
	t.Parallel()
	w := workloads.Split()
	truth := model.Default()
	p := truth.Work[workloads.WorkBurn2x7]
	total := p.CPUMs + p.OverheadCPUMs
	p.CPUMs, p.OverheadCPUMs = 0.7*total, 0.3*total
	truth.Work[workloads.WorkBurn2x7] = p
	setup, err := workloads.FromDescription(w.App, "1", "A+B+D+E:128,C:128,F:4096,G:128")
	if err != nil {
		t.Fatal(err)
	}
	spec := load.Spec{Kind: load.KindConstant, RatePerS: 10, Requests: 100}
	real := realTraces(t, w, truth, setup, spec, 31)
	ft, err := FitApp(context.Background(), w, setup, real, AppFitOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := ft.Work[workloads.WorkBurn2x7]
	if share := got.OverheadCPUMs / (got.CPUMs + got.OverheadCPUMs); share < 0.25 || share > 0.35 {
		t.Errorf("overhead share %.3f (cpuMs %.1f, overheadCPUMs %.1f), want about 0.3", share, got.CPUMs, got.OverheadCPUMs)
	}
	if got.Threads != 2 {
		t.Errorf("threads %d, want 2", got.Threads)
	}
	fields := ""
	for _, q := range ft.Params {
		fields += q.Field + " "
	}
	for _, f := range []string{`work["burn2x7"].threads`, `work["burn2x7"].overheadCPUMs`} {
		if !strings.Contains(fields, f) {
			t.Errorf("no %s among the fitted figures: %s", f, fields)
		}
	}
}
