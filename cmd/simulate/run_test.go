package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim/results"
)

// simulate runs the command line and returns stdout.
func simulate(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), args, &out, &errOut)
	return out.String(), err
}

func mustSimulate(t *testing.T, args ...string) string {
	t.Helper()
	out, err := simulate(t, args...)
	if err != nil {
		t.Fatalf("simulate %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func readSummary(t *testing.T, dir string) map[string]results.Row {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "summary-full.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := results.ReadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]results.Row{}
	for _, r := range rows {
		m[r.Setup] = r
	}
	return m
}

func TestIoTConstantLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "iot")
	out := mustSimulate(t, "--workload", "iot", "--optimizer", "none", "--load", "constant", "--rps", "10", "--duration", "100s", "--seed", "1", "--out", dir)
	rows := readSummary(t, dir)
	r, ok := rows["remote"]
	if !ok || len(rows) != 1 {
		t.Fatalf("rows %v", rows)
	}
	if r.Requests != 1000 || r.Invocations != 11000 || r.Errors != 0 {
		t.Errorf("%d requests, %d invocations, %d errors; want 1000, 11000 (11 per request: AS twice), 0", r.Requests, r.Invocations, r.Errors)
	}
	if !strings.Contains(out, "remote") || !strings.Contains(out, "results in "+dir) {
		t.Errorf("stdout:\n%s", out)
	}
	for _, f := range []string{"manifest.json", "configuration/configurationMetadata.json", "traces/remote.json.gz", "logs/fusion-function-AS-128.log.gz"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("results lack %s: %v", f, err)
		}
	}
}

func TestSplitColdStartsFile(t *testing.T) {
	// A copy of ../shared/calibration/split-coldStarts-dualcore-4/configuration/configurationMetadata.json.gz.
	file := "../../workloads/testdata/split-coldStarts-configurationMetadata.json.gz"
	if real := "../../../shared/calibration/split-coldStarts-dualcore-4/configuration/configurationMetadata.json.gz"; fileExists(real) {
		file = real
	}
	dir := filepath.Join(t.TempDir(), "cold")
	mustSimulate(t, "--workload", "split", "--setup", file, "--load", "coldstart", "--requests", "200", "--out", dir, "--quiet")
	rows := readSummary(t, dir)
	// Every function is cold before every request: one cold start per
	// invocation; a_remote runs 7 functions per request, b_local 1,
	// c_optimal and d_optimal_small 4 (A{B,D,E}, C, F, G).
	want := map[string]int{"a_remote": 7, "b_local": 1, "c_optimal": 4, "d_optimal_small": 4}
	if len(rows) != 4 {
		t.Fatalf("rows %v", rows)
	}
	for name, per := range want {
		r := rows[name]
		if r.Requests != 200 || r.Invocations != 200*per || r.ColdStarts != 200*per || r.Errors != 0 {
			t.Errorf("%s: %d requests, %d invocations, %d cold starts, %d errors; want 200, %d, %d, 0",
				name, r.Requests, r.Invocations, r.ColdStarts, r.Errors, 200*per, 200*per)
		}
	}
	if m := rows["c_optimal"].Memory; m != "A:128 C:1024 F:1536 G:1536" {
		t.Errorf("c_optimal memory %q", m)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func TestSieveMemorySweep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sieve")
	mustSimulate(t, "--workload", "sieve", "--memory-sizes", "128,256,512,1024,1769,3538", "--duration", "10s", "--out", dir, "--quiet")
	rows := readSummary(t, dir)
	if r := rows["remote_128"]; r.Errors != r.Requests || r.Requests != 100 {
		t.Errorf("128 MB: %d errors of %d requests, want all out of memory", r.Errors, r.Requests)
	}
	med := func(mb string) float64 {
		r := rows["remote_"+mb]
		if r.Errors != 0 {
			t.Errorf("%s MB: %d errors", mb, r.Errors)
		}
		return r.MedianMs
	}
	// Proportional to memory up to one vCPU (1769 MB), flat beyond.
	for _, pair := range [][2]string{{"256", "512"}, {"512", "1024"}} {
		if q := med(pair[0]) / med(pair[1]); q < 1.9 || q > 2.1 {
			t.Errorf("%s MB / %s MB median latency: %.2f, want 2", pair[0], pair[1], q)
		}
	}
	if q := med("1024") / med("1769"); q < 1.65 || q > 1.8 {
		t.Errorf("1024 / 1769 MB: %.2f, want 1769/1024 = 1.73", q)
	}
	// Within 3 %: the profile's work jitter (cpu.workJitter) varies the durations.
	if a, b := med("1769"), med("3538"); math.Abs(a-b) > 0.03*a {
		t.Errorf("1769 MB %.1f ms vs 3538 MB %.1f ms: a single thread gains nothing beyond one vCPU", a, b)
	}
}

// readTree reads every file under dir except manifest.json (it holds the
// --out flag) by relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "manifest.json" {
			return nil
		}
		b, err := os.ReadFile(p)
		files[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestSameSeedSameBytes(t *testing.T) {
	base := t.TempDir()
	args := []string{"--workload", "iot", "--setup", "remote", "--setup", "I+CW+SE:128,CS+CSL+CSA:128,CA+DJ:128,CT:128,AS:1650", "--load", "poisson", "--duration", "20s", "--seed", "7", "--quiet"}
	mustSimulate(t, append(args, "--out", filepath.Join(base, "a"))...)
	mustSimulate(t, append(args, "--out", filepath.Join(base, "b"))...)
	a, b := readTree(t, filepath.Join(base, "a")), readTree(t, filepath.Join(base, "b"))
	if len(a) != len(b) {
		t.Fatalf("%d files vs %d", len(a), len(b))
	}
	logs := 0
	for name, data := range a {
		if !bytes.Equal(data, b[name]) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
		if strings.HasPrefix(name, "logs/") {
			logs++
		}
	}
	if logs == 0 || a["summary.csv"] == nil {
		t.Errorf("no logs or summary compared: %v", len(a))
	}
	// Another seed gives other logs.
	mustSimulate(t, "--workload", "iot", "--setup", "remote", "--load", "poisson", "--duration", "20s", "--seed", "8", "--quiet", "--out", filepath.Join(base, "c"))
	c := readTree(t, filepath.Join(base, "c"))
	if bytes.Equal(a["logs/fusion-function-I-128.log.gz"], c["logs/fusion-function-I-128.log.gz"]) || a["logs/fusion-function-I-128.log.gz"] == nil {
		t.Error("seeds 7 and 8 gave the same logs")
	}
	// --logs plain --traces plain writes the same lines and records,
	// uncompressed.
	mustSimulate(t, append(args, "--logs", "plain", "--traces", "plain", "--out", filepath.Join(base, "d"))...)
	d := readTree(t, filepath.Join(base, "d"))
	compared := 0
	for name, data := range a {
		if !strings.HasSuffix(name, ".gz") {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(name, err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(name, err)
		}
		if want, ok := d[strings.TrimSuffix(name, ".gz")]; !ok || !bytes.Equal(plain, want) {
			t.Errorf("%s decompressed differs from the plain file (%d vs %d bytes)", name, len(plain), len(want))
		}
		compared++
	}
	if compared == 0 || !bytes.Equal(a["summary.csv"], d["summary.csv"]) {
		t.Errorf("%d compressed files compared; summary.csv equal: %v", compared, bytes.Equal(a["summary.csv"], d["summary.csv"]))
	}
}

func TestOtherLoads(t *testing.T) {
	base := t.TempDir()
	replay := filepath.Join(base, "arrivals.csv")
	os.WriteFile(replay, []byte("offset_s\n0\n0.5\n1\n"), 0o644)
	mustSimulate(t, "--workload", "split", "--optimizer", "none", "--replay", replay, "--out", filepath.Join(base, "r"), "--quiet")
	if r := readSummary(t, filepath.Join(base, "r"))["remote"]; r.Requests != 3 {
		t.Errorf("replay: %d requests, want 3", r.Requests)
	}
	mustSimulate(t, "--workload", "iot", "--optimizer", "none", "--load", "bursty", "--out", filepath.Join(base, "b"), "--quiet")
	if r := readSummary(t, filepath.Join(base, "b"))["remote"]; r.Requests != 376 {
		t.Errorf("bursty: %d requests, want 376", r.Requests)
	}
	mustSimulate(t, "--workload", "split", "--stages", "0:1s,10:1s", "--setup", "local", "--setup-name", "all_in_A", "--out", filepath.Join(base, "s"), "--quiet")
	if r := readSummary(t, filepath.Join(base, "s"))["all_in_A"]; r.Requests != 5 || r.Invocations != 5 {
		t.Errorf("stages: %d requests, %d invocations; want 5 and 5", r.Requests, r.Invocations)
	}
	mustSimulate(t, "--workload", "sieve", "--setup", "sieve:1024", "--event", `{"n":1000000,"algorithm":"bitpacked"}`, "--requests", "3", "--entry", "sieve-1024", "--out", filepath.Join(base, "e"), "--quiet")
	if r := readSummary(t, filepath.Join(base, "e"))["setup1"]; r.Requests != 3 || r.Memory != "sieve:1024" || r.Errors != 0 {
		t.Errorf("sieve: %+v", r)
	}
}

func TestFlagErrors(t *testing.T) {
	base := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--workload is required"},
		{[]string{"--workload", "bookshop"}, `--workload "bookshop": unknown workload "bookshop"`},
		{[]string{"--workload", "iot", "--rps", "0"}, "--rps 0: must be a number > 0"},
		{[]string{"--workload", "iot", "--rps", "fast"}, `invalid value "fast" for flag -rps`},
		{[]string{"--workload", "iot", "--duration", "-1s"}, "--duration -1s: must be > 0"},
		{[]string{"--workload", "iot", "--load", "spiky"}, `--load "spiky": not one of constant`},
		{[]string{"--workload", "iot", "--load", "coldstart", "--rps", "5"}, "--rps does not apply to --load coldstart"},
		{[]string{"--workload", "iot", "--requests", "0"}, "--requests 0: must be >= 1"},
		{[]string{"--workload", "iot", "--requests", "10", "--duration", "5s"}, "give one of them"},
		{[]string{"--workload", "iot", "--stages", "5:2s,10"}, `--stages "5:2s,10": bad load: stage 2 "10"`},
		{[]string{"--workload", "iot", "--load", "replay"}, "--load replay needs --replay FILE"},
		{[]string{"--workload", "iot", "--replay", "/nonexistent.csv"}, "/nonexistent.csv"},
		{[]string{"--workload", "iot", "--setup", "I+CW+XX:128"}, `"XX" is not a task of iot`},
		{[]string{"--workload", "iot", "--setup", "nosuch.json.gz"}, "nosuch.json.gz"},
		{[]string{"--workload", "split", "--setup", "../../workloads/testdata/iot-optimizer-configurationMetadata.json.gz"}, `setup "1676018871": rules["AS"]: "AS" is not a task of split`},
		{[]string{"--workload", "iot", "--setup-name", "a"}, `--setup-name "a" needs --setup`},
		{[]string{"--workload", "iot", "--memory-sizes", "128,64"}, `--memory-sizes "128,64": "64" is not a memory size`},
		{[]string{"--workload", "iot", "--memory-sizes", "128", "--setup", "remote"}, "cannot be combined with --setup"},
		{[]string{"--workload", "iot", "--entry", "X-128"}, `--entry "X-128": X is not a task of iot`},
		{[]string{"--workload", "iot", "--entry", "I-64"}, `--entry "I-64"`},
		{[]string{"--workload", "iot", "--event", "[1]"}, `--event "[1]": not a JSON object`},
		{[]string{"--workload", "iot", "--profile", "/nonexistent.json"}, `--profile "/nonexistent.json"`},
		{[]string{"--workload", "iot", "extra"}, `unexpected argument "extra"`},
	} {
		_, err := simulate(t, append(tc.args, "--out", filepath.Join(base, "x"))...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
			continue
		}
		if !errors.Is(err, errUsage) && !strings.Contains(tc.want, "invalid value") {
			t.Errorf("%v: %v is not a usage error", tc.args, err)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "x")); err == nil {
		t.Error("a failed command left a results directory")
	}
}

func TestHelpDocumentsEveryFlag(t *testing.T) {
	var out, errOut bytes.Buffer
	err := Run(context.Background(), []string{"run", "-h"}, &out, &errOut)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatal(err)
	}
	help := errOut.String()
	for _, f := range []string{"workload", "app", "setup", "setup-name", "load", "rps", "duration", "requests", "stages", "start-rps", "replay", "pause", "entry", "memory-sizes", "event", "seed", "profile", "out", "execute-work", "prototype-grouping", "quiet", "progress"} {
		if !strings.Contains(help, "  -"+f+" ") && !strings.Contains(help, "  -"+f+"\n") {
			t.Errorf("-h does not document --%s", f)
		}
	}
	out.Reset()
	if err := Run(context.Background(), []string{"workloads"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"iot:", "split:", "sieve:", "-> CW (sync), SE (sync), CT (async), CS (async), CA (async)"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("workloads lacks %q", s)
		}
	}
}
