package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sameFiles compares two directories' files, byte for byte, except those
// named in skip.
func sameFiles(t *testing.T, a, b string, skip ...string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		for _, s := range skip {
			if rel == s {
				return nil
			}
		}
		x, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs", rel)
		}
		n++
		return nil
	})
	if err != nil || n < 3 {
		t.Fatalf("compared %d files: %v", n, err)
	}
}

// TestAppFileRunsLikeTheWorkload: "simulate --app workloads/iot.yaml"
// writes the results "--workload iot" writes, byte for byte (traces,
// summaries, logs, responses, configuration, figures); only the manifest
// differs, by the flags.
func TestAppFileRunsLikeTheWorkload(t *testing.T) {
	base := t.TempDir()
	common := []string{"--requests", "40", "--seed", "5", "--quiet", "--setup", "remote", "--setup", "g=I+CW+SE,CS+CSL+CSA:1024,CA+DJ,CT,AS:1650"}
	mustSimulate(t, append([]string{"--workload", "iot", "--out", filepath.Join(base, "go")}, common...)...)
	mustSimulate(t, append([]string{"--app", "../../workloads/iot.yaml", "--out", filepath.Join(base, "file")}, common...)...)
	sameFiles(t, filepath.Join(base, "go"), filepath.Join(base, "file"), "manifest.json")
	m, err := os.ReadFile(filepath.Join(base, "file", "manifest.json"))
	if err != nil || !strings.Contains(string(m), `"app": "../../workloads/iot.yaml"`) {
		t.Errorf("the manifest does not record --app: %v\n%.400s", err, m)
	}
}

// TestWebshopRuns: "simulate --workload webshop" and "--app
// workloads/webshop.yaml" run the same file: the Fusionize++ loop under
// the file's scenario (here for 10 s per iteration and three iterations),
// the same results but the manifest, and per-kind summaries.
func TestWebshopRuns(t *testing.T) {
	base := t.TempDir()
	common := []string{"--duration", "10s", "--max-iterations", "3", "--seed", "2", "--logs", "none"}
	out := mustSimulate(t, append([]string{"--workload", "webshop", "--out", filepath.Join(base, "name")}, common...)...)
	mustSimulate(t, append([]string{"--app", "../../workloads/webshop.yaml", "--out", filepath.Join(base, "file"), "--quiet"}, common...)...)
	sameFiles(t, filepath.Join(base, "name"), filepath.Join(base, "file"), "manifest.json")
	for _, want := range []string{"by kind of request (summary-kinds.csv)", `webshop: scenario "webshop" (workloads/webshop.yaml): 3 iterations/s for 10s`, "3 setups", "addcartitem", "checkout"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	if rows := readSummary(t, filepath.Join(base, "name")); len(rows) != 3 {
		t.Errorf("%d setups", len(rows))
	}
}

// TestAppFileCommands: --app works where --workload does, and the errors
// of a bad file reach the command line with file, line and field.
func TestAppFileCommands(t *testing.T) {
	shop := "../../appfile/testdata/minishop.yaml"
	out := mustSimulate(t, "workloads", "--app", shop)
	for _, want := range []string{
		"minishop: webshop-like test application",
		"entries frontend, addcartitem (default frontend), 9 tasks, 11 calls",
		`default load (load:, line 13), sent when no load flag is given: 3 iterations/s for 5s (constant-arrival-rate), at most 10 virtual users (10 pre-allocated); iteration: add (addcartitem), get (frontend), checkout (frontend)`,
		"-> getcart (sync), currency (sync), email (async), emptycart (async)",
		"call currency (sync) event {product: products.items[index], currency: event.currency} [fan-out: len(products.items) copies]",
		"delete Cart key event.userId [fan-out: len(items) copies]",
		"work checkout (100 vCPU-ms, 2 threads, 12 MB, 20 vCPU-ms cold)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("workloads --app lacks %q:\n%s", want, out)
		}
	}
	out = mustSimulate(t, "workloads", "iot")
	if !strings.Contains(out, "the same as a file: workloads/iot.yaml") {
		t.Errorf("workloads iot:\n%s", out)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("name: b\nentry: A\ntasks:\n  A:\n    - work: {cpu: 10}\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--app", bad}, "--app " + bad + ": " + bad + ":5:14: tasks.A.steps[0].work.cpu: a figure needs its unit in its name: write vcpu_ms"},
		{[]string{"--workload", "iot", "--app", shop}, `--workload "iot" and --app "` + shop + `": give one of them`},
		{[]string{"--app", "/no/such.yaml"}, "open /no/such.yaml"},
		{[]string{"compare", "--app", bad}, "write vcpu_ms"},
		{[]string{"sweep", "--app", bad}, "write vcpu_ms"},
		{[]string{"validate", "--app", bad, "."}, "write vcpu_ms"},
		{[]string{"workloads", "--app", bad}, "write vcpu_ms"},
		{[]string{"aws-standin", "--app", bad}, "write vcpu_ms"},
	} {
		_, err := simulate(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
	var stderr bytes.Buffer
	Run(context.Background(), []string{"run", "-h"}, &bytes.Buffer{}, &stderr)
	if !strings.Contains(stderr.String(), "-app FILE") {
		t.Errorf("run -h does not document --app")
	}

	// The file's load is the default load: its kinds of request are
	// summarized; a flag that names another load replaces it, and flags
	// that only a constant load takes say so.
	dir := filepath.Join(t.TempDir(), "shop")
	out = mustSimulate(t, "--app", shop, "--optimizer", "none", "--logs", "none", "--out", dir)
	if !strings.Contains(out, "by kind of request") || !strings.Contains(out, `minishop: scenario (testdata/minishop.yaml): 3 iterations/s for 5s`) && !strings.Contains(out, "minishop.yaml): 3 iterations/s for 5s") {
		t.Errorf("the file's scenario is not the default load:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "summary-kinds.csv")); err != nil {
		t.Error(err)
	}
	out = mustSimulate(t, "--app", shop, "--optimizer", "none", "--logs", "none", "--out", dir, "--rps", "1", "--duration", "2s")
	if !strings.Contains(out, "1 iterations/s for 2s") {
		t.Errorf("--rps and --duration do not override the file's scenario:\n%s", out)
	}
	out = mustSimulate(t, "--app", shop, "--optimizer", "none", "--logs", "none", "--out", dir, "--load", "constant", "--requests", "5")
	if strings.Contains(out, "by kind of request") {
		t.Errorf("--load constant still sends the scenario:\n%s", out)
	}
	if _, err := simulate(t, "--app", shop, "--requests", "5"); err == nil || !strings.Contains(err.Error(), "--requests does not apply to minishop's scenario, its default load") {
		t.Errorf("--requests with the default scenario: %v", err)
	}
	out = mustSimulate(t, "compare", "--app", shop, "--optimizers", "fusionize", "--memory-sizes", "128,1024", "--duration", "2s", "--sweep-requests", "9", "--quiet")
	if !strings.Contains(out, "Closed loops: 18 requests of") || !strings.Contains(out, "Figures of every row: 9 requests of") {
		t.Errorf("compare --app does not send the file's scenario:\n%s", out)
	}

	// compare on a small file: every optimizer runs.
	tiny := filepath.Join(t.TempDir(), "tiny.yaml")
	os.WriteFile(tiny, []byte("name: tiny\nentry: A\ntasks:\n  A:\n    - {call: B, sync: true}\n    - {work: {vcpu_ms: 20}}\n  B:\n    - sleep_ms: 30\n"), 0o644)
	out = mustSimulate(t, "compare", "--app", tiny, "--memory-sizes", "128,1024", "--duration", "5s", "--sweep-requests", "10", "--quiet")
	for _, o := range []string{"fusionize", "partitions", "exhaustive", "random"} {
		if !strings.Contains(out, o) {
			t.Errorf("compare --app lacks %s:\n%s", o, out)
		}
	}
}

// TestAppFileValidateOptimize: validate, calibrate --fit-on and optimize
// give with --app the built-in file what they give with --workload.
func TestAppFileValidateOptimize(t *testing.T) {
	dir := prototypeLayout(t, "1=A:128,B:128,C:128,D:128,E:128,F:128,G:128", "2=A+B+D+E:128,C:1024,F:1536,G:1536")
	for _, args := range [][]string{
		{"validate", "--format", "csv", "--quiet"},
		{"optimize", "--traces", dir, "--optimizer", "partitions", "--now", "1675351296", "--only-new"},
	} {
		tail := func(a ...string) []string {
			if args[0] == "validate" {
				a = append(a, dir)
			}
			return append(append([]string(nil), args...), a...)
		}
		a, _ := simulateErr(t, tail("--workload", "split")...)
		b, _ := simulateErr(t, tail("--app", "../../workloads/split.yaml")...)
		if a != b || a == "" {
			t.Errorf("%s: --workload split\n%s\n--app workloads/split.yaml\n%s", args[0], a, b)
		}
	}
	overlay := filepath.Join(t.TempDir(), "fit.json")
	out, _ := simulateErr(t, "calibrate", "--fit-on", "first", "--app", "../../workloads/split.yaml", "--out", overlay, dir)
	if !strings.Contains(out, "fitted split on setup 1") {
		t.Errorf("calibrate --fit-on --app:\n%s", out)
	}
}

// TestAppFileSweepMerge: a sweep of an application file, in two shards,
// merges into the whole sweep; a file changed since refuses to merge.
func TestAppFileSweepMerge(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "chain.yaml")
	os.WriteFile(file, []byte("name: chain\nentry: A\ntasks:\n  A: [{call: B, sync: true}, {sleep_ms: 10}]\n  B: [{call: C, sync: false}, {work: {vcpu_ms: 15}}]\n  C: [{sleep_ms: 5}]\n"), 0o644)
	args := []string{"sweep", "--app", file, "--space", "partitions", "--requests", "5", "--formats", "png", "--quiet"}
	whole := filepath.Join(base, "whole")
	mustSimulate(t, append(args, "--out", whole)...)
	sharded := filepath.Join(base, "sharded")
	mustSimulate(t, append(args, "--out", sharded, "--shard", "0/2")...)
	mustSimulate(t, append(args, "--out", sharded, "--shard", "1/2")...)
	mustSimulate(t, "merge", "--quiet", sharded)
	sameFiles(t, whole, filepath.Join(sharded, "merged"))
	m, _ := os.ReadFile(filepath.Join(whole, "manifest.json"))
	if !strings.Contains(string(m), `"appFile": "`+file+`"`) || !strings.Contains(string(m), `"appDigest"`) {
		t.Errorf("the sweep's manifest does not name the file:\n%.600s", m)
	}
	os.WriteFile(file, []byte("name: chain\nentry: A\ntasks:\n  A: [{call: B, sync: true}, {sleep_ms: 11}]\n  B: [{call: C, sync: false}, {work: {vcpu_ms: 15}}]\n  C: [{sleep_ms: 5}]\n"), 0o644)
	if _, err := simulate(t, "merge", "--quiet", "--out", filepath.Join(base, "again"), sharded+"/shard-0000-of-0002", sharded+"/shard-0001-of-0002"); err == nil || !strings.Contains(err.Error(), "changed since the sweep") {
		t.Errorf("merge with a changed file: %v", err)
	}
}
