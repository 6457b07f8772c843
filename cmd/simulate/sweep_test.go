package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// manifestArgs reads deploy/kubernetes/sweep.yaml: the sweep Job's
// completions and container arguments, and the merge Job's.
func manifestArgs(t *testing.T) (completions int, sweepArgs, mergeArgs []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "kubernetes", "sweep.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc struct {
			Kind string
			Spec struct {
				CompletionMode string `yaml:"completionMode"`
				Completions    int
				Template       struct {
					Spec struct {
						Containers []struct{ Args []string }
					}
				}
			}
		}
		if err := dec.Decode(&doc); err != nil {
			break
		}
		if doc.Kind != "Job" {
			continue
		}
		args := doc.Spec.Template.Spec.Containers[0].Args
		if doc.Spec.CompletionMode == "Indexed" {
			completions, sweepArgs = doc.Spec.Completions, args
		} else {
			mergeArgs = args
		}
	}
	if completions == 0 || sweepArgs == nil || mergeArgs == nil {
		t.Fatalf("sweep.yaml: no Indexed Job and merge Job found")
	}
	return completions, sweepArgs, mergeArgs
}

// TestSweepKubernetesIndices runs the shard container of
// deploy/kubernetes/sweep.yaml as Kubernetes would, once per completion
// index with JOB_COMPLETION_INDEX set (on a smaller sweep: the workload and
// sizes are overridden), then its merge container: the merged directory
// equals the unsharded sweep's, byte for byte.
func TestSweepKubernetesIndices(t *testing.T) {
	base := t.TempDir()
	n, sweepArgs, mergeArgs := manifestArgs(t)
	out := flagOf(sweepArgs, "out")
	if out == "" || mergeArgs[len(mergeArgs)-1] != out {
		t.Fatalf("sweep --out %q, merge %v", out, mergeArgs)
	}
	dir := filepath.Join(base, "volume", filepath.Base(out))
	rewrite := func(args []string) []string {
		var r []string
		for _, a := range args {
			r = append(r, strings.ReplaceAll(a, out, dir))
		}
		return r
	}
	small := []string{"--workload=split", "--memory-sizes=128", "--requests=10", "--formats=svg", "--quiet"}
	for i := 0; i < n; i++ {
		t.Setenv("JOB_COMPLETION_INDEX", strconv.Itoa(i))
		mustSimulate(t, append(rewrite(sweepArgs), small...)...)
		if _, err := os.Stat(filepath.Join(dir, "shard-"+pad(i)+"-of-"+pad(n), "cells.csv")); err != nil {
			t.Fatalf("index %d: %v", i, err)
		}
	}
	os.Unsetenv("JOB_COMPLETION_INDEX")
	merge := rewrite(mergeArgs)
	mustSimulate(t, append(merge[:1], append([]string{"--formats=svg", "--quiet"}, merge[1:]...)...)...)
	whole := filepath.Join(base, "whole")
	var unsharded []string
	for _, a := range sweepArgs {
		if !strings.HasPrefix(a, "--shards") && !strings.HasPrefix(a, "--out") {
			unsharded = append(unsharded, a)
		}
	}
	mustSimulate(t, append(append(unsharded, small...), "--out", whole)...)
	for _, f := range []string{"manifest.json", "cells.csv", "summary.csv", "front.csv", "configuration/configurationMetadata.json", "figures/pareto.svg"} {
		a, errA := os.ReadFile(filepath.Join(whole, f))
		b, errB := os.ReadFile(filepath.Join(dir, "merged", f))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: merged differs from unsharded (%v, %v)", f, errA, errB)
		}
	}
}

func pad(i int) string { return strings.Repeat("0", max(0, 4-len(strconv.Itoa(i)))) + strconv.Itoa(i) }

func flagOf(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// TestSweepFileSpace: --space FILE of setup descriptions, with seeds and two
// loads; the summary has a row per cell and the front a section per load.
func TestSweepFileSpace(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "setups.txt")
	os.WriteFile(file, []byte("# two setups of split\nremote\nopt=A+B+D+E:128,C:1024,F:1536,G:1536\n"), 0o644)
	out := mustSimulate(t, "sweep", "--workload", "split", "--space", file, "--seeds", "1..2", "--load", "constant,coldstart",
		"--requests", "5", "--out", filepath.Join(base, "out"), "--formats", "png", "--quiet")
	if !strings.Contains(out, "2 setups of setups.txt") || strings.Count(out, "Pareto front") != 2 {
		t.Errorf("stdout:\n%s", out)
	}
	sum, err := os.ReadFile(filepath.Join(base, "out", "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(sum), "\n"); n != 1+2*2*2 {
		t.Errorf("summary.csv: %d lines, want 1 + 2 setups x 2 seeds x 2 loads", n)
	}
	for _, f := range []string{"pareto-constant-default.png", "pareto-coldstart-default.png"} {
		if _, err := os.Stat(filepath.Join(base, "out", "figures", f)); err != nil {
			t.Error(err)
		}
	}
	// A rerun finds everything done.
	mustSimulate(t, "sweep", "--workload", "split", "--space", file, "--seeds", "1..2", "--load", "constant,coldstart",
		"--requests", "5", "--out", filepath.Join(base, "out"), "--formats", "png", "--quiet")
	// Another sweep into the same directory is refused.
	_, err = simulate(t, "sweep", "--workload", "split", "--space", file, "--out", filepath.Join(base, "out"), "--quiet")
	if err == nil || !strings.Contains(err.Error(), "holds another sweep") {
		t.Errorf("another sweep into the same --out: %v", err)
	}
}

func TestSweepFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep"}, "--workload is required"},
		{[]string{"sweep", "--workload", "iot", "--space", "nope.txt"}, "no such file"},
		{[]string{"sweep", "--workload", "iot", "--connected"}, "--connected applies to --space partitions"},
		{[]string{"sweep", "--workload", "iot", "--seeds", "3..1"}, "--seeds"},
		{[]string{"sweep", "--workload", "iot", "--load", "constant,constant"}, "constant twice"},
		{[]string{"sweep", "--workload", "iot", "--load", "steady"}, `"steady" is not one of`},
		{[]string{"sweep", "--workload", "iot", "--shard", "4/4"}, "--shard"},
		{[]string{"sweep", "--workload", "iot", "--shards", "4"}, "without a shard index"},
		{[]string{"sweep", "--workload", "iot", "--memory-sizes", ""}, "no memory size"},
		{[]string{"sweep", "--workload", "iot", "--per-function-memory"}, "needs --memory-sizes"},
		{[]string{"sweep", "--workload", "iot", "--formats", "gif"}, "gif"},
		{[]string{"merge"}, "needs the shard directories"},
	} {
		_, err := simulate(t, append(tc.args, "--quiet")...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error with %q", tc.args, err, tc.want)
		}
	}
}
