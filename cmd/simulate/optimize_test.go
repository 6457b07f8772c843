package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/trace"
)

// splitRun is the published split optimizer run: the reduced fixture of the
// optimizer package, or the calibration traces when they are there.
func splitRun(t *testing.T) string {
	const name = "split-generateConfigurations-dualcore-A-13-x-100-x-10"
	if real := filepath.Join("../../../shared/calibration", name); fileExists(real) {
		return real
	}
	return filepath.Join("../../optimizer/testdata", name)
}

// TestOptimizeSplitMemoryChoice: given the split traces of every setup before
// 1675351296, the optimizer proposes exactly the prototype's 1675351296
// (A:128, C:1024, F:1536, G:1536), and after it, that it is done.
func TestOptimizeSplitMemoryChoice(t *testing.T) {
	dir := splitRun(t)
	out := mustSimulate(t, "optimize", "--traces", dir, "--until", "1675350785", "--now", "1675351296", "--only-new")
	got, err := fusionsim.ParseConfigs([]byte(out))
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	want, err := trace.ReadConfigs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || mustMarshal(t, got["1675351296"]) != mustMarshal(t, want["1675351296"]) {
		t.Errorf("proposed %s\nwant %s", out, mustMarshal(t, want["1675351296"]))
	}
	// Without --only-new: the history plus the new key.
	out = mustSimulate(t, "optimize", "--traces", dir, "--until", "1675350785", "--now", "1675351296")
	all, err := fusionsim.ParseConfigs([]byte(out))
	if err != nil || len(all) != 13 || all.Latest() != "1675351296" {
		t.Errorf("%d setups, latest %s, %v", len(all), all.Latest(), err)
	}
	out = mustSimulate(t, "optimize", "--traces", dir, "--until", "1675351296", "--now", "1675351811")
	if !strings.HasPrefix(out, "done: ") || !strings.Contains(out, "1675346654") || !strings.Contains(out, "as setup 1675351811") {
		t.Errorf("after 1675351296: %q", out)
	}
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRunOptimizerAndOptimizeOffline: "simulate run" without --setup runs
// Fusionize++ (here on split, 20 s per iteration): names increase, one row
// per iteration, the per-iteration figure, the prototype's grouping at the
// end. "simulate optimize" on the first iterations of that run proposes the
// setup the run deployed next.
func TestRunOptimizerAndOptimizeOffline(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "split")
	out := mustSimulate(t, "--workload", "split", "--duration", "20s", "--out", dir)
	if !strings.Contains(out, "optimizer: optimum found") {
		t.Errorf("stdout:\n%s", out)
	}
	cfgs, err := trace.ReadConfigs(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := cfgs.Names()
	rows := readSummary(t, dir)
	if len(rows) != len(names) || len(names) < 10 {
		t.Fatalf("%d rows, %d setups", len(rows), len(names))
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("setup names %v", names)
	}
	for _, f := range []string{"figures/iterations.png", "traces/" + names[0] + ".json.gz"} {
		if !fileExists(filepath.Join(dir, f)) {
			t.Errorf("no %s", f)
		}
	}
	last := cfgs[names[len(names)-1]]
	if a := last.Rules["A"]; !a["B"].Sync.IsLocal() || !a["D"].Sync.IsLocal() || !a["E"].Sync.IsLocal() || a["C"].Async.IsLocal() {
		t.Errorf("final setup's rules of A: %s", mustMarshal(t, a))
	}
	// Offline, from the run's first three iterations.
	out = mustSimulate(t, "optimize", "--traces", dir, "--until", names[2], "--now", names[3], "--only-new")
	got, err := fusionsim.ParseConfigs([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if mustMarshal(t, got[names[3]]) != mustMarshal(t, cfgs[names[3]]) {
		t.Errorf("offline proposal %s\nthe run deployed %s", out, mustMarshal(t, cfgs[names[3]]))
	}
}

func TestOptimizeAndOptimizerFlagErrors(t *testing.T) {
	base := t.TempDir()
	split := splitRun(t)
	empty := filepath.Join(base, "empty")
	os.MkdirAll(empty, 0o755)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"optimize"}, "--traces DIR is required"},
		{[]string{"optimize", "--traces", empty}, `--traces "` + empty + `"`},
		{[]string{"optimize", "--traces", split, "--until", "42"}, `--until "42": setup "42" is not in the configuration metadata`},
		{[]string{"optimize", "--traces", split, "--optimizer", "annealing"}, `unknown optimizer "annealing"`},
		{[]string{"optimize", "--traces", split, "--optimizer", "partitions"}, "give --workload"},
		{[]string{"optimize", "--traces", split, "--memory-sizes", "128,100"}, "100 MB is outside"},
		{[]string{"optimize", "--traces", split, "extra"}, `unexpected argument "extra"`},
		{[]string{"--workload", "iot", "--optimizer", "annealing"}, `--optimizer "annealing": `},
		{[]string{"--workload", "iot", "--optimizer", "fusionize", "--setup", "remote"}, "cannot be combined with --setup"},
		{[]string{"--workload", "iot", "--max-iterations", "-1"}, "--max-iterations -1: must be >= 0"},
	} {
		_, err := simulate(t, append(tc.args, "--out", filepath.Join(base, "x"))...)
		if tc.args[0] == "optimize" {
			_, err = simulate(t, tc.args...)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
			continue
		}
		if !errors.Is(err, errUsage) {
			t.Errorf("%v: %v is not a usage error", tc.args, err)
		}
	}
	// The last setup of the published run is the final redeploy: done.
	out, err := simulate(t, "optimize", "--traces", split)
	if err != nil || !strings.HasPrefix(out, "done: already done: setup 1675351811 is the final redeploy") {
		t.Errorf("the whole published run: %q, %v", out, err)
	}
	// Without the traces of the last two setups: a plain error that says
	// what to do.
	cut := filepath.Join(base, "cut")
	copyTree(t, split, cut)
	os.Remove(filepath.Join(cut, "1675351296.json.gz"))
	os.Remove(filepath.Join(cut, "1675351296.json"))
	_, err = simulate(t, "optimize", "--traces", cut)
	if err == nil || !strings.Contains(err.Error(), "--until NAME") {
		t.Errorf("no traces of the last setup: %v", err)
	}
}

// copyTree copies the files of dir (and its configuration/) into to.
func copyTree(t *testing.T, dir, to string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		os.MkdirAll(filepath.Dir(filepath.Join(to, rel)), 0o755)
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOptimizeReplaysTheRunsMemoryList: a Fusionize++ run with its own
// memory list (128, 256, 512 MB, not the published IoT list) is replayed
// offline step by step: from the traces of the setups up to each iteration,
// "simulate optimize" proposes exactly the setup the run deployed next, the
// memory phase included, because it takes the sizes the run tried from the
// configuration metadata.
func TestOptimizeReplaysTheRunsMemoryList(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "split")
	mustSimulate(t, "--workload", "split", "--optimizer", "fusionize", "--memory-sizes", "128,256,512", "--duration", "10s", "--quiet", "--out", dir)
	cfgs, err := trace.ReadConfigs(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := cfgs.Names()
	sawMemory := false
	for i := 1; i < len(names); i++ {
		out, errOut := simulateErr(t, "optimize", "--traces", dir, "--until", names[i-1], "--now", names[i], "--only-new")
		if i == len(names)-1 {
			// The run's last iteration redeploys its best setup: offline,
			// the optimizer is done.
			if !strings.HasPrefix(out, "done: ") {
				t.Errorf("after %s: %q, want done", names[i-1], out)
			}
			continue
		}
		got, err := fusionsim.ParseConfigs([]byte(out))
		if err != nil {
			t.Fatalf("after %s: %v\n%s", names[i-1], err, out)
		}
		if mustMarshal(t, got[names[i]]) != mustMarshal(t, cfgs[names[i]]) {
			t.Errorf("after %s: proposed %s\nthe run deployed %s", names[i-1], out, mustMarshal(t, cfgs[names[i]]))
		}
		if !strings.Contains(errOut, "memory sizes tried by the run, in order: 128,256,512 MB") {
			t.Errorf("stderr %q does not name the run's list", errOut)
		}
		sawMemory = sawMemory || strings.Contains(mustMarshal(t, cfgs[names[i]]), "-256")
	}
	if !sawMemory {
		t.Errorf("the run never deployed 256 MB: the test did not reach the memory phase (%d setups)", len(names))
	}
}

// TestOptimizeUntilASetupWithoutTraces: --until a setup whose traces are
// missing decides from the last setup before it that has them, and says so.
func TestOptimizeUntilASetupWithoutTraces(t *testing.T) {
	src := splitRun(t)
	dir := filepath.Join(t.TempDir(), "split")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "1675351296.json.gz")); err != nil {
		t.Fatal(err)
	}
	out, errOut := simulateErr(t, "optimize", "--traces", dir, "--until", "1675351296", "--now", "1675351296", "--only-new")
	if !strings.Contains(errOut, "setup 1675351296 has no traces: deciding from 1675350785") {
		t.Errorf("stderr %q", errOut)
	}
	got, err := fusionsim.ParseConfigs([]byte(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want, _ := trace.ReadConfigs(src)
	if mustMarshal(t, got["1675351296"]) != mustMarshal(t, want["1675351296"]) {
		t.Errorf("proposed %s\nwant the prototype's %s", out, mustMarshal(t, want["1675351296"]))
	}
}

// simulateErr runs the command line, fails the test on an error, and returns
// stdout and stderr.
func simulateErr(t *testing.T, args ...string) (string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := Run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("simulate %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), errOut.String()
}

// prototypeLayout is layoutOf for 200 requests of split.
func prototypeLayout(t *testing.T, setups ...string) string {
	t.Helper()
	return layoutOf(t, "split", []string{"--requests", "200"}, setups...)
}

// TestCalibrateFitOnAndValidateTransfer: "calibrate --fit-on" writes an
// overlay of the application's work figures that --profile takes;
// "validate --fit-on first" fits on the first setup and prints the transfer
// summary of the others.
func TestCalibrateFitOnAndValidateTransfer(t *testing.T) {
	dir := prototypeLayout(t, "1=A:128,B:128,C:128,D:128,E:128,F:128,G:128", "2=A+B+D+E:128,C:1024,F:1536,G:1536")
	overlay := filepath.Join(t.TempDir(), "fit.json")
	out, errOut := simulateErr(t, "calibrate", "--fit-on", "first", "--out", overlay, dir)
	for _, want := range []string{"fitted split on setup 1", `work["burn2x7"].cpuMs`, "not identified from these traces", "threads: not identifiable"} {
		if !strings.Contains(out, want) {
			t.Errorf("calibrate output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "wrote "+overlay) {
		t.Errorf("stderr %q", errOut)
	}
	b, err := os.ReadFile(overlay)
	if err != nil || !strings.Contains(string(b), `"overlay": "work"`) || !strings.Contains(string(b), `"burn2x8.8"`) {
		t.Fatalf("overlay %s: %v", b, err)
	}
	out, _ = simulateErr(t, "validate", "--profile", overlay, "--setup", "2", dir)
	if !strings.Contains(out, "A:128 C:1024 F:1536 G:1536") {
		t.Errorf("validate --profile overlay:\n%s", out)
	}
	out, errOut = simulateErr(t, "validate", "--fit-on", "first", "--format", "csv", dir)
	if !strings.Contains(out, "experiment,fit on,predicted,within 10 %") || !strings.Contains(out, "exp,1,1,") {
		t.Errorf("transfer summary missing:\n%s", out)
	}
	if !strings.Contains(out, ",fit\n") && !strings.Contains(out, ",fit\r\n") {
		t.Errorf("the fit setup is not marked fit:\n%s", out)
	}
	if !strings.Contains(errOut, "fitted on 1") || !strings.Contains(errOut, "load constant 10/s x200") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if _, err := simulate(t, "calibrate", "--fit-on", "nope", "--out", overlay, dir); err == nil || !strings.Contains(err.Error(), `--fit-on "nope"`) {
		t.Errorf("unknown setup: %v", err)
	}
}
