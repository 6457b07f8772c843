package optimizer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/experiment"
	"github.com/fusionsim/fusionsim/load"
)

// closedLoop runs opt on workload name in the emulator: rps requests/s for
// d per iteration.
func closedLoop(t testing.TB, name string, mk func(app *fusionsim.App, clock Clock) Optimizer, rps float64, d time.Duration) *experiment.Result {
	t.Helper()
	w := workload(t, name)
	sink := emulator.NewMemorySink()
	em, err := emulator.New(emulator.Config{App: w.App, Seed: 1, Log: sink})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	arr, err := load.Constant(rps, d)
	if err != nil {
		t.Fatal(err)
	}
	load.WithEvent(arr, w.Event)
	res, err := experiment.Run(context.Background(), experiment.Config{
		Platform: em, App: w.App,
		Planner:  &Planner{Optimizer: mk(w.App, em.Now), MaxIterations: 40},
		Load:     func(*fusionsim.Setup) ([]fusionsim.Arrival, error) { return arr, nil },
		LogsRead: sink.Reset,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func fusionizeFor(sizes []int) func(app *fusionsim.App, clock Clock) Optimizer {
	return func(app *fusionsim.App, clock Clock) Optimizer {
		return &Fusionize{Tasks: app.TaskNames(), MemorySizesMB: sizes, Clock: clock}
	}
}

// TestFusionizeClosedLoop: in the emulator, through logs and extracted
// traces, Fusionize++ converges to the prototype's groupings, runs the memory
// phase and stops; names increase; the median latency falls. (30 s of load
// per iteration instead of the published 100 s, to keep the test fast.)
func TestFusionizeClosedLoop(t *testing.T) {
	for _, tc := range []struct {
		workload string
		sizes    []int
		groups   string
	}{
		{"iot", IoTMemorySizesMB, "I+CW+SE,CT,CS+CSL+CSA,CA+DJ,AS"},
		{"split", SplitMemorySizesMB, "A+B+D+E,C,F,G"},
	} {
		start := time.Now()
		res := closedLoop(t, tc.workload, fusionizeFor(tc.sizes), 10, 30*time.Second)
		app := workload(t, tc.workload).App
		for i, it := range res.Iterations {
			t.Logf("%s %s %-45s median %6.1f ms p95 %6.1f cost %.3g $/req  %s", tc.workload, it.Name, Describe(app, it.Setup), it.Row.MedianMs, it.Row.P95Ms, it.Row.USDPerMillion/1e6, it.Reason)
			if i > 0 && it.Name <= res.Iterations[i-1].Name {
				t.Errorf("name %s after %s", it.Name, res.Iterations[i-1].Name)
			}
		}
		t.Logf("%s: %s (%d iterations in %v)", tc.workload, res.Reason, len(res.Iterations), time.Since(start))
		first, last := res.Iterations[0], res.Iterations[len(res.Iterations)-1]
		if got := groupsOnly(Describe(app, last.Setup)); got != tc.groups {
			t.Errorf("%s: final grouping %s, want %s", tc.workload, got, tc.groups)
		}
		memory := 0
		for _, it := range res.Iterations {
			if strings.HasPrefix(it.Reason, "memory:") {
				memory++
			}
		}
		if memory < len(tc.sizes)-1 || !strings.HasPrefix(res.Reason, "optimum found") {
			t.Errorf("%s: %d memory iterations, last word %q", tc.workload, memory, res.Reason)
		}
		if !(last.Row.MedianMs < first.Row.MedianMs) {
			t.Errorf("%s: median %v ms at the end, %v ms at the start", tc.workload, last.Row.MedianMs, first.Row.MedianMs)
		}
		if tc.workload == "iot" && !(last.Row.USDPerMillion < first.Row.USDPerMillion) {
			t.Errorf("iot: %v $ per million requests at the end, %v at the start", last.Row.USDPerMillion, first.Row.USDPerMillion)
		}
	}
}

// groupsOnly drops the memory sizes of a description.
func groupsOnly(desc string) string {
	out := []byte{}
	skip := false
	for i := 0; i < len(desc); i++ {
		switch c := desc[i]; {
		case c == ':':
			skip = true
		case c == ',':
			skip = false
			out = append(out, c)
		case !skip:
			out = append(out, c)
		}
	}
	return string(out)
}
