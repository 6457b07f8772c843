package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
)

// layoutOf runs setups of a workload with simulate (extra flags: the load,
// the profile) and copies their traces and configuration into a directory
// in the prototype's layout, as real traces come.
func layoutOf(t *testing.T, workload string, extra []string, setups ...string) string {
	t.Helper()
	run := filepath.Join(t.TempDir(), "run")
	args := append([]string{"--workload", workload, "--quiet", "--logs", "none", "--out", run}, extra...)
	for _, s := range setups {
		args = append(args, "--setup", s)
	}
	mustSimulate(t, args...)
	dir := filepath.Join(t.TempDir(), "exp")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(run, "traces"))); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "configuration"), os.DirFS(filepath.Join(run, "configuration"))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// loadColumn returns the load column of validate's CSV table, by setup.
func loadColumn(t *testing.T, out string) map[string]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("validate --format csv: %v\n%s", err, out)
	}
	col := -1
	for i, h := range rows[0] {
		if h == "load" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("no load column: %v", rows[0])
	}
	got := map[string]string{}
	for _, r := range rows[1:] {
		got[r[1]] = r[col]
	}
	return got
}

// TestValidateLoadFlags: validate says which load it inferred for each
// setup (the table's load column, the reason on stderr), and --load,
// --stages, --rps and --requests replace what they name; --load coldstart
// without --requests sends as many requests as the setup's root
// invocations.
func TestValidateLoadFlags(t *testing.T) {
	dir := layoutOf(t, "splittest", []string{"--requests", "60"}, "g=G:1024")
	for _, c := range []struct {
		args       []string
		load, why  string
		stderrNote string
	}{
		{nil, "10/s x60", "load constant 10/s x60 (evenly spaced starts): 60 requests over", ""},
		{[]string{"--load", "coldstart"}, "cold x60", "load coldstart x60", "given --load coldstart"},
		{[]string{"--load", "coldstart", "--requests", "7"}, "cold x7", "load coldstart x7", "--requests 7"},
		{[]string{"--stages", "5:2s,10:2s"}, "bursty 2 stages", "load bursty", "given --stages"},
		{[]string{"--load", "poisson", "--rps", "4"}, "poisson 4/s", "load poisson", "--rps 4"},
		{[]string{"--load", "constant", "--rps", "2", "--requests", "9"}, "2/s x9", "load constant 2/s x9", ""},
		{[]string{"--load", "replay"}, "replay of 60 requests", "load replay x60", "given --load replay"},
	} {
		var out, errOut bytes.Buffer
		args := append(append([]string{"validate", "--format", "csv"}, c.args...), dir)
		if err := Run(context.Background(), args, &out, &errOut); err != nil {
			t.Fatalf("simulate %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
		}
		if got := loadColumn(t, out.String())["g"]; !strings.HasPrefix(got, c.load) {
			t.Errorf("%v: load column %q, want %q", c.args, got, c.load)
		}
		if !strings.Contains(errOut.String(), c.why) || !strings.Contains(errOut.String(), c.stderrNote) {
			t.Errorf("%v: stderr lacks %q / %q:\n%s", c.args, c.why, c.stderrNote, errOut.String())
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--stages", "5:2s", "--load", "constant"}, "--stages"},
		{[]string{"--rps", "3"}, "--rps needs --load constant or --load poisson"},
		{[]string{"--pause", "1s"}, "--pause needs --load coldstart"},
		{[]string{"--load", "ramp"}, `--load: "ramp"`},
		{[]string{"--fit-from", "code"}, "--fit-from needs --fit-on"},
		{[]string{"--fit-on", "first", "--fit-from", "scratch"}, `--fit-from: "scratch"`},
	} {
		if _, err := simulate(t, append(append([]string{"validate"}, c.args...), dir)...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}

// medianOf returns the median_ms of the one row of a results directory's
// summary.csv.
func medianOf(t *testing.T, dir string) float64 {
	t.Helper()
	for _, row := range readSummary(t, dir) {
		return row.MedianMs
	}
	t.Fatalf("%s: no row", dir)
	return 0
}

// TestFitOverlayEverywhere: traces of code that burns twice what the
// profile says, fitted with calibrate --fit-on, give an overlay that run,
// validate and compare take with --profile and that reproduces the changed
// code's latency where the default profile is off by half.
func TestFitOverlayEverywhere(t *testing.T) {
	tmp := t.TempDir()
	// The "changed code": the default profile with burn2x8.8's demand
	// doubled, as a whole profile file.
	changed := model.Default()
	w := changed.Work["burn2x8.8"]
	w.CPUMs, w.OverheadCPUMs = 2*w.CPUMs, 2*w.OverheadCPUMs
	changed.Work["burn2x8.8"] = w
	b, err := changed.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	changedFile := filepath.Join(tmp, "changed.json")
	if err := os.WriteFile(changedFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := layoutOf(t, "splittest", []string{"--requests", "120", "--profile", changedFile}, "m128=G:128", "m1024=G:1024")
	overlay := filepath.Join(tmp, "fit.json")
	out, _ := simulateErr(t, "calibrate", "--fit-on", "m128", "--out", overlay, dir)
	for _, want := range []string{"fitted splittest on setup m128", `work["burn2x8.8"].cpuMs`, "records", "not identified from these traces", `work["burn2x8.8"].threads: not identifiable`, "functions, real / emulated"} {
		if !strings.Contains(out, want) {
			t.Errorf("calibrate output lacks %q:\n%s", want, out)
		}
	}
	p, err := model.Load(overlay)
	if err != nil {
		t.Fatal(err)
	}
	// From the code's figures instead of the profile's: the same demand.
	fromCode := filepath.Join(tmp, "fit-code.json")
	out, _ = simulateErr(t, "calibrate", "--fit-on", "m128", "--fit-from", "code", "--out", fromCode, dir)
	if !strings.Contains(out, `work["burn2x8.8"]: started from the code (--fit-from code): starts from the code's figures (cpuMs 170, 2 threads)`) {
		t.Errorf("calibrate --fit-from code does not say where it started:\n%s", out)
	}
	pc, err := model.Load(fromCode)
	if err != nil {
		t.Fatal(err)
	}
	a, c := p.Work["burn2x8.8"], pc.Work["burn2x8.8"]
	if ta, tc := a.CPUMs+a.OverheadCPUMs, c.CPUMs+c.OverheadCPUMs; tc < 0.95*ta || tc > 1.05*ta {
		t.Errorf("demand %.1f vCPU-ms from the code's figures, %.1f from the profile's", tc, ta)
	}
	got := p.Work["burn2x8.8"]
	if total := got.CPUMs + got.OverheadCPUMs; total < 1.8*(159+14.1) || total > 2.2*(159+14.1) {
		t.Errorf("fitted demand %.1f vCPU-ms, want about twice the default's 173", total)
	}

	// run: a setup the fit did not see, at 1024 MB.
	runAt := func(profile string) float64 {
		out := filepath.Join(tmp, "run-"+strconv.Itoa(len(profile)))
		args := []string{"--workload", "splittest", "--setup", "G:1024", "--requests", "120", "--quiet", "--logs", "none", "--out", out, "--force"}
		if profile != "" {
			args = append(args, "--profile", profile)
		}
		mustSimulate(t, args...)
		return medianOf(t, out)
	}
	truth, fitted, def := runAt(changedFile), runAt(overlay), runAt("")
	if fitted < 0.95*truth || fitted > 1.05*truth || def > 0.7*truth {
		t.Errorf("run G:1024: median %.0f ms with the overlay, %.0f with the changed code, %.0f with the default profile", fitted, truth, def)
	}
	// validate: every setup within 10 % with the overlay.
	if _, err := simulate(t, "validate", "--quiet", "--check", "--profile", overlay, dir); err != nil {
		t.Errorf("validate --profile overlay --check: %v", err)
	}
	if _, err := simulate(t, "validate", "--quiet", "--check", dir); err == nil {
		t.Errorf("validate --check with the default profile passes on code that burns twice as long")
	}
	// compare: the exhaustive sweep's figures come from the overlay.
	cmp := mustSimulate(t, "compare", "--workload", "splittest", "--optimizers", "exhaustive", "--memory-sizes", "1024", "--sweep-requests", "20", "--duration", "2s", "--quiet", "--profile", overlay)
	var median float64
	for _, line := range strings.Split(cmp, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == "exhaustive" {
			median, _ = strconv.ParseFloat(f[2], 64)
		}
	}
	if median < 0.9*truth || median > 1.1*truth {
		t.Errorf("compare --profile overlay: exhaustive median %.1f ms, want about %.0f:\n%s", median, truth, cmp)
	}
}

// TestValidateSkipUnknown: --skip-unknown skips, with a line on stderr, a
// directory whose workload simulate does not know and validates the
// others.
func TestValidateSkipUnknown(t *testing.T) {
	good := layoutOf(t, "splittest", []string{"--requests", "20"}, "g=G:1024")
	unknown := filepath.Join(t.TempDir(), "shop")
	cfgs, err := fusionsim.ParseConfigs([]byte(`{"s":{"traceName":"s","rules":{"basket":{}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	recs := []trace.Record{{TraceID: "s-basket-128-" + strings.Repeat("a", 32), FusionGroup: fusionsim.NewTraceName("s"), Source: "basket", CurrentFunction: "basket", CurrentTask: "basket",
		BilledDuration: 5, MemoryAvail: "128", MaxMemoryUsed: 80, IsRootInvocation: true, StartTimestamp: 1, EndTimestamp: 6, InternalDuration: 5, Calls: []fusionsim.Call{}}}
	if err := trace.WriteDir(unknown, &trace.Dir{Traces: trace.Traces{"s": recs}, Configs: cfgs}, trace.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := trace.WriteConfigs(unknown, cfgs); err != nil {
		t.Fatal(err)
	}
	if _, err := simulate(t, "validate", "--quiet", unknown, good); err == nil || !strings.Contains(err.Error(), "cannot infer the workload") {
		t.Errorf("without --skip-unknown: %v", err)
	}
	out, errOut := simulateErr(t, "validate", "--quiet", "--skip-unknown", "--format", "csv", unknown, good)
	if !strings.Contains(errOut, "shop: skipped: ") || !strings.Contains(out, "exp,g,G:1024") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
	if _, err := simulate(t, "validate", "--quiet", "--skip-unknown", unknown); err == nil || !strings.Contains(err.Error(), "every one was skipped") {
		t.Errorf("only unknown: %v", err)
	}
}
