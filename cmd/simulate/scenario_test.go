package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/results"
)

// splitScenario: a setup request to A, then 2 iterations/s for 4 s on one
// virtual user, each a sync request to A (which takes about 1.5 s) and an
// async event to C: most iterations find the user busy.
const splitScenario = `name: split-mix
executor: constant-arrival-rate
rate_per_s: 2
duration_s: 4
max_vus: 1
setup:
  - entry: A
    kind: warmup
iteration:
  - kind: tree
    entry: A
  - kind: burn
    entry: C
    sync: false
    pause_s: 0.1
    body: {n: {$int: [1, 9]}, user: {$user: string}}
`

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A scenario run: the table by kind on stdout and in summary-kinds.csv,
// whose mixture is summary.csv's row and whose dropped requests are the
// dropped iterations' (two requests each); "simulate summary --kinds"
// prints the same; the same seed gives the same files; --rps and
// --duration override the file and the manifest says so.
func TestScenarioRun(t *testing.T) {
	file := writeFile(t, "split-mix.yaml", splitScenario)
	dir := filepath.Join(t.TempDir(), "a")
	args := []string{"--workload", "split", "--setup", "remote", "--load-file", file, "--seed", "3", "--logs", "none"}
	out := mustSimulate(t, append(args, "--out", dir)...)
	if !strings.Contains(out, "by kind of request") || !strings.Contains(out, "dropped iterations (no free virtual user): remote ") || !strings.Contains(out, `scenario "split-mix"`) {
		t.Errorf("stdout:\n%s", out)
	}
	kb, err := os.ReadFile(filepath.Join(dir, results.SummaryKindsFile))
	if err != nil {
		t.Fatal(err)
	}
	kinds, err := results.ReadKindsCSV(strings.NewReader(string(kb)))
	if err != nil {
		t.Fatal(err)
	}
	if len(kinds) != 4 || kinds[0].Kind != "warmup" || kinds[1].Kind != "tree" || kinds[2].Kind != "burn" || kinds[3].Kind != load.AllKinds {
		t.Fatalf("kinds %+v", kinds)
	}
	var m results.Manifest
	mb, _ := os.ReadFile(filepath.Join(dir, results.ManifestFile))
	if err := json.Unmarshal(mb, &m); err != nil {
		t.Fatal(err)
	}
	row := readSummary(t, dir)["remote"]
	all, dropped := kinds[3], m.Setups[0].DroppedIterations
	if dropped == 0 || dropped == 8 || all.Dropped != 2*dropped || kinds[1].Dropped != dropped || kinds[2].Dropped != dropped ||
		all.Requests != row.Requests || all.Requests != 1+2*(8-dropped) || kinds[0].Requests != 1 || all.MedianMs != row.MedianMs {
		t.Errorf("%d dropped iterations; kinds %+v; row %+v", dropped, kinds, row)
	}
	if m.Flags["load"] != load.KindScenario || m.Flags["rps"] != "2" || m.Flags["duration"] != "4s" || m.Flags["max-vus"] != "1" || len(m.Extra["scenario"]) == 0 {
		t.Errorf("manifest flags %v, extra %s", m.Flags, m.Extra["scenario"])
	}
	if got := mustSimulate(t, "summary", "--kinds", "--csv", dir); got != string(kb) {
		t.Errorf("summary --kinds --csv:\n%s\nwant:\n%s", got, kb)
	}
	if got := mustSimulate(t, "summary", dir); !strings.Contains(got, "by kind of request") || !strings.Contains(got, "warmup") {
		t.Errorf("summary:\n%s", got)
	}
	// The same seed, the same files.
	dir2 := filepath.Join(t.TempDir(), "b")
	mustSimulate(t, append(args, "--out", dir2, "--quiet")...)
	for _, f := range []string{results.SummaryKindsFile, results.SummaryFile, "responses/remote.csv", "traces/remote.json.gz"} {
		a, _ := os.ReadFile(filepath.Join(dir, f))
		b, err := os.ReadFile(filepath.Join(dir2, f))
		if err != nil || string(a) != string(b) || len(a) == 0 {
			t.Errorf("%s differs between two runs of the same seed (%v)", f, err)
		}
	}
	// Flags override the file: 1 iteration/s for 3 s, up to 5 users.
	dir3 := filepath.Join(t.TempDir(), "c")
	mustSimulate(t, append(args, "--out", dir3, "--quiet", "--rps", "1", "--duration", "3s", "--max-vus", "5")...)
	d, err := results.Read(dir3, results.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(d.Responses["remote"]); n != 1+3*2 {
		t.Errorf("%d responses with --rps 1 --duration 3s, want 7", n)
	}
	var sc struct {
		MaxVUs   int     `json:"max_vus"`
		RatePerS float64 `json:"rate_per_s"`
	}
	if err := json.Unmarshal(d.Manifest.Extra["scenario"], &sc); err != nil || sc.MaxVUs != 5 || sc.RatePerS != 1 ||
		d.Manifest.Flags["rps"] != "1" || d.Manifest.Flags["duration"] != "3s" || d.Manifest.Flags["max-vus"] != "5" {
		t.Errorf("manifest after overrides: %v %s", d.Manifest.Flags, d.Manifest.Extra["scenario"])
	}
}

func TestScenarioFlagErrors(t *testing.T) {
	file := writeFile(t, "s.yaml", splitScenario)
	ramping := writeFile(t, "r.yaml", strings.NewReplacer("executor: constant-arrival-rate\n", "executor: ramping-arrival-rate\n", "rate_per_s: 2\n", "stages: [{target_per_s: 2, duration_s: 4}]\n", "duration_s: 4\n", "").Replace(splitScenario))
	bad := writeFile(t, "bad.yaml", "executor: constant-arrival-rate\nrate_per_s: 2\nduration_s: 4s\nmax_vus: 1\niteration: [{entry: A}]\n")
	iotTask := writeFile(t, "iot.yaml", strings.Replace(splitScenario, "entry: C", "entry: CT", 1))
	base := []string{"--workload", "split", "--setup", "remote", "--out", filepath.Join(t.TempDir(), "x")}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--load", "scenario"}, "--load scenario needs --load-file FILE"},
		{[]string{"--load-file", file, "--requests", "5"}, "--requests does not apply to --load scenario"},
		{[]string{"--load", "constant", "--load-file", file}, "--load-file does not apply to --load constant"},
		{[]string{"--load-file", file, "--event", "{}"}, "--event and --entry do not apply to --load-file"},
		{[]string{"--load-file", file, "--stages", "1:1s"}, "--stages does not apply to the constant-arrival-rate scenario"},
		{[]string{"--load-file", ramping, "--rps", "3"}, "--rps does not apply to the ramping-arrival-rate scenario"},
		{[]string{"--load-file", bad}, "bad.yaml:3: duration_s: \"4s\" is not a number"},
		{[]string{"--load-file", iotTask}, `iteration[1].entry: "CT" is not a task of split`},
		{[]string{"--load-file", file, "--max-vus", "0"}, "max_vus: 0 must be 1.."},
		{[]string{"--load-file", filepath.Join(t.TempDir(), "none.yaml")}, "no such file"},
	} {
		_, err := simulate(t, append(append([]string{}, base...), tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error with %q", tc.args, err, tc.want)
		}
	}
	// The per-kind AllKinds of load and results are one name.
	if load.AllKinds != results.AllKinds {
		t.Errorf("load.AllKinds %q, results.AllKinds %q", load.AllKinds, results.AllKinds)
	}
	if _, err := simulate(t, "summary", "--kinds", filepath.Join("..", "..", "results", "testdata", "split-coldStarts-derived")); err == nil || !strings.Contains(err.Error(), "no kinds of request") {
		t.Errorf("summary --kinds of traces without kinds: %v", err)
	}
}
