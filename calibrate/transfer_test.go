package calibrate

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// The transfer from one measured setup to the others, on code that changed
// since the platform profile was fitted: the "real" traces of each setup
// are emulated with changed work figures (the truth), the fit starts from
// the default profile's figures (the old code's) and sees only the first
// setup, and the other setups are predicted. The emulator is exact for its
// own model, so this checks that the fit identifies what the traces of one
// setup tell and takes the rest from the code and the platform; the real
// traces (make transfer) check the model itself.
var transferScenarios = flag.Bool("transfer-scenarios", false, "print the transfer of every code-change scenario on every directory of ../shared/calibration (make transfer)")

// codeChange is a change of an application's task code between the
// campaign the profile was fitted on and the one being predicted.
type codeChange struct {
	name string
	// work changes the figures the platform runs (the truth) of every burn
	// descriptor.
	work func(p model.WorkParams) model.WorkParams
	// declared changes what the code declares to Spend (nil: unchanged):
	// a thread count is part of the code, and the code is what the
	// researcher hands the fit.
	declared func(w fusionsim.Work) fusionsim.Work
	// rename, when set, is appended to the name of every work descriptor
	// the code spends: new code the profile has no figures for.
	rename string
}

var codeChanges = []codeChange{
	{name: "bigger workers (2.5x demand, 2x cold extra and tail)", work: func(p model.WorkParams) model.WorkParams {
		p.CPUMs, p.OverheadCPUMs, p.ColdCPUMs, p.TailCPUMs, p.MemoryMB = 2.5*p.CPUMs, 2.5*p.OverheadCPUMs, 2*p.ColdCPUMs, 2*p.TailCPUMs, p.MemoryMB+5
		return p
	}},
	{name: "lighter code (0.4x demand, no cold extra)", work: func(p model.WorkParams) model.WorkParams {
		p.CPUMs, p.OverheadCPUMs, p.ColdCPUMs, p.TailCPUMs = 0.4*p.CPUMs, 0.4*p.OverheadCPUMs, 0, 0.5*p.TailCPUMs
		return p
	}},
	{name: "one worker thread (the code declares it), same demand", work: func(p model.WorkParams) model.WorkParams {
		p.Threads = 1
		return p
	}, declared: func(w fusionsim.Work) fusionsim.Work {
		w.Threads = 1
		return w
	}},
	{name: "new work descriptors the profile has no figures for (1.5x demand)", work: func(p model.WorkParams) model.WorkParams {
		p.CPUMs, p.OverheadCPUMs = 1.5*p.CPUMs, 1.5*p.OverheadCPUMs
		return p
	}, rename: "-v2"},
}

// truthProfile is the default profile with c applied to every burn
// descriptor.
func (c codeChange) truthProfile() model.Profile {
	p := model.Default()
	p.Work = map[string]model.WorkParams{}
	for name, wp := range model.Default().Work {
		p.Work[name+c.rename] = c.work(wp)
	}
	return p
}

// code is w with the change's declarations.
func (c codeChange) code(w workloads.Workload) workloads.Workload {
	if c.declared == nil && c.rename == "" {
		return w
	}
	change := func(w fusionsim.Work) fusionsim.Work {
		if c.declared != nil {
			w = c.declared(w)
		}
		w.Name += c.rename
		return w
	}
	app := *w.App
	app.Tasks = make(map[string]fusionsim.Task, len(w.App.Tasks))
	for name, t := range w.App.Tasks {
		app.Tasks[name] = func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			return t(declaring{Context: ctx, change: change}, in)
		}
	}
	w.App = &app
	return w
}

// declaring changes the work a task declares.
type declaring struct {
	fusionsim.Context
	change func(fusionsim.Work) fusionsim.Work
}

func (d declaring) Spend(w fusionsim.Work) { d.Context.Spend(d.change(w)) }

func (d declaring) Go(fn func(fusionsim.Context) (fusionsim.Event, error)) fusionsim.Future {
	return d.Context.Go(func(c fusionsim.Context) (fusionsim.Event, error) {
		return fn(declaring{Context: c, change: d.change})
	})
}

// synthesize emulates every setup of d with traces under the truth
// profile, each under the load and at the memory sizes its real traces
// show: the traces the changed code would have given.
func synthesize(t testing.TB, w workloads.Workload, truth model.Profile, d *trace.Dir, seed uint64) *trace.Dir {
	t.Helper()
	out := &trace.Dir{Traces: trace.Traces{}, Configs: fusionsim.Configs{}}
	for _, name := range d.Configs.Names() {
		real, ok := d.Traces[name]
		if !ok {
			continue
		}
		setup := d.Configs[name]
		if setup.Name() != name {
			setup = setup.Clone(fusionsim.NewTraceName(name))
		}
		spec, _, err := LoadFor(real, LoadOverride{})
		if err != nil {
			t.Fatal(err)
		}
		spec.Seed = SetupSeed(seed, name)
		emulated, entry, _, err := WithTracedMemory(w.App, setup, real)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := Emulate(context.Background(), w, emulated, entry, spec, truth, SetupSeed(seed, name), Grouped(real))
		if err != nil {
			t.Fatal(err)
		}
		out.Traces[name] = recs
		out.Configs[name] = d.Configs[name]
	}
	return out
}

// transferOf fits on the first setup of d (from the default profile, or
// from the code's figures, the code being w) and predicts the others.
func transferOf(t testing.TB, name string, d *trace.Dir, w workloads.Workload, fromCode bool) *Validation {
	t.Helper()
	v, err := ValidateDir(context.Background(), name, d, ValidateOptions{Seed: 1, FitOn: "first", FitFromCode: fromCode, App: &w, Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// syntheticDir is a trace directory of setups of w under a constant load,
// made with prof: the first setup is the one the fit sees.
func syntheticDir(t testing.TB, w workloads.Workload, prof model.Profile, requests int, setups ...string) *trace.Dir {
	t.Helper()
	return emulatedDir(t, w, prof, load.Spec{Kind: load.KindConstant, RatePerS: 10, Requests: requests}, setups...)
}

// emulatedDir is a trace directory of the setups of w (descriptions),
// named 1000, 1001, ..., each emulated under spec with its own seeds.
func emulatedDir(t testing.TB, w workloads.Workload, prof model.Profile, spec load.Spec, setups ...string) *trace.Dir {
	t.Helper()
	d := &trace.Dir{Traces: trace.Traces{}, Configs: fusionsim.Configs{}}
	for i, desc := range setups {
		name := fmt.Sprintf("%d", 1000+i)
		s, err := workloads.FromDescription(w.App, name, desc)
		if err != nil {
			t.Fatal(err)
		}
		spec.Seed = uint64(i + 1)
		recs, err := Emulate(context.Background(), w, s, fusionsim.Route{}, spec, prof, uint64(100+i), false)
		if err != nil {
			t.Fatal(err)
		}
		d.Traces[name], d.Configs[name] = recs, s
	}
	return d
}

// TestTransferAfterCodeChanges: for the code changes whose figures one
// size cannot tell (a thread count the code declares; new work descriptors
// the profile has no figures for, whose runtime overhead comes from the
// profile's other descriptors), traces of split's and splittest's setups
// at 128 MB to 10240 MB are made with the changed figures; fitted on the
// setup at 128 MB alone (from the old code's figures), the fit predicts
// every other setup's median root latency and GB-ms per request within
// 5 % (the truth is the emulator's own model: what is left is noise).
// Bigger and lighter workers: TestFitAppRecoversChangedCode; every change
// on every calibration directory: make transfer.
func TestTransferAfterCodeChanges(t *testing.T) {
	t.Parallel()
	apps := []struct {
		w      workloads.Workload
		setups []string
	}{
		{workloads.Split(), []string{"A:128,B:128,C:128,D:128,E:128,F:128,G:128", "A+B+D+E:128,C:1024,F:1536,G:1536", "A+B+D+E:1024,C:2048,F:4096,G:6144"}},
		{workloads.SplitTest(), []string{"G:128", "G:1536", "G:4096", "G:10240"}},
	}
	type run struct {
		name     string
		c        codeChange
		app      int
		fromCode bool
	}
	var runs []run
	for _, c := range codeChanges {
		if c.declared != nil || c.rename != "" {
			for i, a := range apps {
				runs = append(runs, run{strings.Fields(c.name)[0] + "/" + a.w.Name(), c, i, false})
			}
		}
	}
	// Bigger workers, fitted from the code's figures (--fit-from code):
	// the cold extra, tail and memory the code does not declare are fitted
	// too; and
	// one worker from the code: the runtime overhead's share comes from
	// the profile's two-thread descriptors.
	runs = append(runs, run{"bigger/splittest/from-code", codeChanges[0], 1, true}, run{"one/splittest/from-code", codeChanges[2], 1, true})
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			a := apps[r.app]
			w := r.c.code(a.w)
			d := syntheticDir(t, w, r.c.truthProfile(), 100, a.setups...)
			v := transferOf(t, a.w.Name(), d, w, r.fromCode)
			for _, s := range v.Setups {
				if s.Fit {
					continue
				}
				m, g := RelErr(s.Real.MedianMs, s.Emulated.MedianMs), RelErr(s.Real.GBMsPerRequest, s.Emulated.GBMsPerRequest)
				if !s.Within(0.05) {
					t.Errorf("%s (%s): median %.0f ms predicted %.0f (%+.1f %%), GB-ms %.0f predicted %.0f (%+.1f %%)",
						s.Setup, s.Memory, s.Real.MedianMs, s.Emulated.MedianMs, 100*m, s.Real.GBMsPerRequest, s.Emulated.GBMsPerRequest, 100*g)
				}
			}
		})
	}
}

// TestTransferScenarios prints, for every code change and every directory
// of ../shared/calibration with a workload, the transfer summary of a fit
// on its first setup (run by make transfer).
func TestTransferScenarios(t *testing.T) {
	if !*transferScenarios {
		t.Skip("run with -transfer-scenarios (make transfer)")
	}
	entries, err := os.ReadDir(calibrationDir)
	if err != nil {
		t.Skipf("%v", err)
	}
	for _, fromCode := range []bool{false, true} {
		for _, c := range codeChanges {
			var vs []*Validation
			for _, e := range entries {
				dir := filepath.Join(calibrationDir, e.Name())
				d, err := trace.ReadDir(dir)
				if err != nil || d.Configs == nil {
					continue
				}
				w, err := PickWorkload(d)
				if err != nil {
					if !fromCode && c.name == codeChanges[0].name {
						fmt.Printf("%s: skipped: %v\n", e.Name(), err)
					}
					continue
				}
				w = c.code(w)
				synth := synthesize(t, w, c.truthProfile(), d, 7)
				vs = append(vs, transferOf(t, dir, synth, w, fromCode))
			}
			from := "the profile's figures"
			if fromCode {
				from = "the code's figures (--fit-from code)"
			}
			fmt.Printf("\n%s; the fit starts from %s:\n\n", c.name, from)
			if err := PrintTransfers(os.Stdout, FormatMarkdown, vs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vs {
				for _, r := range v.Setups {
					if !r.Fit && !r.Within(Tolerance) {
						fmt.Printf("  outside 10 %%: %s %s (%s): median %+.1f %%, GB-ms %+.1f %%\n", shortDir(v.Dir), r.Setup, r.Memory,
							100*RelErr(r.Real.MedianMs, r.Emulated.MedianMs), 100*RelErr(r.Real.GBMsPerRequest, r.Emulated.GBMsPerRequest))
					}
				}
			}
		}
	}
}
