package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/optimizer"
	"github.com/fusionsim/fusionsim/workloads"
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

// TestSweepRowsEqualSingleRuns: a sample of the exhaustive sweep's setups,
// evaluated as compare evaluates them, have the figures of "simulate run"
// on the same setup, load and seed: the sweep reads the same traces the
// same way.
func TestSweepRowsEqualSingleRuns(t *testing.T) {
	w, err := workloads.Get("iot")
	if err != nil {
		t.Fatal(err)
	}
	sw := &optimizer.Sweep{App: w.App, MemorySizesMB: []int{128, 1024}}
	setups, _, _, err := sw.Setups()
	if err != nil {
		t.Fatal(err)
	}
	arrivals, err := load.Constant(10, 6*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	load.WithEvent(arrivals, w.Event)
	eval := &optimizer.EmulatorEvaluator{App: w.App, Arrivals: arrivals}
	for _, i := range []int{0, 1, 301, 777, len(setups) - 1} {
		s := setups[i]
		seed := optimizer.SeedFor(1, s)
		m, err := eval.Evaluate(context.Background(), s, seed)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		data, err := fusionsim.Configs{s.Name(): s}.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "setup.json")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		mustSimulate(t, "run", "--workload", "iot", "--setup", file, "--load", "constant", "--rps", "10", "--requests", strconv.Itoa(len(arrivals)),
			"--seed", strconv.FormatUint(seed, 10), "--logs", "none", "--quiet", "--out", filepath.Join(dir, "r"))
		row := readSummary(t, filepath.Join(dir, "r"))[s.Name()]
		got := optimizer.Metrics{Requests: row.Requests, Errors: row.Errors, Invocations: row.Invocations,
			MedianLatencyMs: row.MedianMs, P95LatencyMs: row.P95Ms, MedianE2EMs: row.E2EMedianMs}
		want := m
		want.CostPerRequestUSD, want.MedianRootBilledMs = 0, 0
		if !reflect.DeepEqual(got, roundMetrics(want)) {
			t.Errorf("setup %d (%s): simulate run %+v, sweep %+v", i, optimizer.Describe(w.App, s), got, roundMetrics(want))
		}
		if usd := m.CostPerRequestUSD * 1e6; math.Abs(usd-row.USDPerMillion) > 5e-7 {
			t.Errorf("setup %d: %v USD per million requests in the run, %v in the sweep", i, row.USDPerMillion, usd)
		}
	}
}

// roundMetrics rounds latencies as summary.csv does (to the µs).
func roundMetrics(m optimizer.Metrics) optimizer.Metrics {
	r := func(v float64) float64 { return math.Round(v*1000) / 1000 }
	m.MedianLatencyMs, m.P95LatencyMs, m.MedianE2EMs = r(m.MedianLatencyMs), r(m.P95LatencyMs), r(m.MedianE2EMs)
	return m
}
