package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompareSplit: a small comparison (split, two memory sizes, short loads)
// prints a row per optimizer, exhaustive on its own front, fusionize with the
// prototype's grouping; the CSVs do not depend on the number of workers.
func TestCompareSplit(t *testing.T) {
	base := t.TempDir()
	args := []string{"compare", "--workload", "split", "--memory-sizes", "128,1024", "--duration", "10s", "--sweep-requests", "20", "--quiet"}
	out := mustSimulate(t, append(args, "--out", filepath.Join(base, "a"), "--workers", "1")...)
	mustSimulate(t, append(args, "--out", filepath.Join(base, "b"), "--workers", "3")...)
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "optimizer") || len(lines) < 5 {
		t.Fatalf("stdout:\n%s", out)
	}
	rows := map[string]string{}
	for _, l := range lines[1:5] {
		rows[strings.Fields(l)[0]] = l
	}
	if f := strings.Fields(rows["fusionize"]); len(f) < 2 || !strings.HasPrefix(f[1], "A+B+D+E:") {
		t.Errorf("fusionize row: %q", rows["fusionize"])
	}
	if !strings.Contains(rows["exhaustive"], "(on the front)") {
		t.Errorf("exhaustive row: %q", rows["exhaustive"])
	}
	for _, n := range []string{"fusionize", "partitions", "exhaustive", "random"} {
		if rows[n] == "" {
			t.Errorf("no row for %s:\n%s", n, out)
		}
	}
	if !strings.Contains(out, "Pareto front of (median latency, cost per request)") {
		t.Errorf("no front in:\n%s", out)
	}
	for _, f := range []string{"compare.csv", "front.csv", "sweep.csv"} {
		a, errA := os.ReadFile(filepath.Join(base, "a", f))
		b, errB := os.ReadFile(filepath.Join(base, "b", f))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs with 1 and 3 workers (%v, %v)", f, errA, errB)
		}
	}
	sweep, _ := os.ReadFile(filepath.Join(base, "a", "sweep.csv"))
	if n := strings.Count(string(sweep), "\n"); n != 1+64*2 {
		t.Errorf("sweep.csv has %d lines, want 1 + 64 rule setups x 2 sizes", n)
	}
}

func TestCompareFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"compare"}, "--workload is required"},
		{[]string{"compare", "--workload", "iot", "--optimizers", "fusionize,annealing"}, `unknown optimizer "annealing"`},
		{[]string{"compare", "--workload", "iot", "--optimizers", "random,random"}, "random twice"},
		{[]string{"compare", "--workload", "iot", "--optimizers", ","}, "no optimizer"},
		{[]string{"compare", "--workload", "iot", "--sweep-requests", "0"}, "--sweep-requests 0"},
		{[]string{"compare", "--workload", "iot", "--rps", "-1"}, "--rps -1"},
		{[]string{"compare", "--workload", "iot", "--memory-sizes", "128,128"}, "listed twice"},
		{[]string{"compare", "--workload", "iot", "--optimizers", "exhaustive", "--per-function-memory"}, "more than 200000 setups"},
	} {
		_, err := simulate(t, append(tc.args, "--quiet")...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error with %q", tc.args, err, tc.want)
		}
	}
}
