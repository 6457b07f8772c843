package main

import (
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
