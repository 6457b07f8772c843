package emulator

import (
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
)

// model.WorkParams.ColdCPUMs is paid the first time a work descriptor runs
// in an environment: at 1769 MB (one vCPU) the first request spends 5 + 10
// ms, the second, in the same environment, 10 ms; another descriptor pays
// its own.
func TestColdWorkOncePerEnvironment(t *testing.T) {
	app := newApp("A", taskMap{"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
		ctx.Spend(fusionsim.Work{Name: in.String("work"), CPUMs: 1, Threads: 1})
		return nil, nil
	}})
	prof := testProfile()
	prof.Work = map[string]model.WorkParams{
		"w": {CPUMs: 10, Threads: 1, ColdCPUMs: 5},
		"v": {CPUMs: 10, Threads: 1, ColdCPUMs: 3},
	}
	h := newHarness(t, app, prof, setupOf(app, "s"), nil)
	ev := func(w string) fusionsim.Event { return fusionsim.Event{"work": w} }
	h.run("SYNC-A-1769",
		fusionsim.Arrival{Event: ev("w")},
		fusionsim.Arrival{At: ms(1000), Event: ev("w")},
		fusionsim.Arrival{At: ms(2000), Event: ev("v")},
		fusionsim.Arrival{At: ms(3000), Event: ev("v")},
	)
	want := []int{15, 10, 13, 10}
	for i, r := range h.recordsOf("A") {
		if r.Duration != ms(want[i]) {
			t.Errorf("request %d: duration %v, want %d ms", i, r.Duration, want[i])
		}
	}
}
