package emulator

import (
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
)

// model.WorkParams.ColdCPUMs is added to the parallel phase of every work
// that runs in the first invocation of an environment: at 1769 MB (one
// vCPU) a cold request spends 2 x (10 + 5) ms on two works, the next one,
// in the same environment, 2 x 10 ms. Two threads at 3538 MB halve it.
func TestColdWorkInFirstInvocation(t *testing.T) {
	app := newApp("A", taskMap{"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
		ctx.Spend(fusionsim.Work{Name: "w", CPUMs: 1, Threads: 1})
		ctx.Spend(fusionsim.Work{Name: "w", CPUMs: 1, Threads: 1})
		return nil, nil
	}})
	for _, c := range []struct {
		route      string
		threads    int
		cold, warm int // ms
	}{
		{"SYNC-A-1769", 1, 30, 20},
		{"SYNC-A-3538", 2, 15, 10},
	} {
		prof := testProfile()
		prof.Work = map[string]model.WorkParams{"w": {CPUMs: 10, Threads: c.threads, ColdCPUMs: 5}}
		h := newHarness(t, app, prof, setupOf(app, "s"), nil)
		h.run(c.route, at(0), at(ms(1000)))
		a := h.recordsOf("A")
		if !a[0].Cold || a[1].Cold || a[0].Duration != ms(c.cold) || a[1].Duration != ms(c.warm) {
			t.Errorf("%s: durations %v (cold %v), %v (cold %v); want %d ms cold, %d ms warm", c.route, a[0].Duration, a[0].Cold, a[1].Duration, a[1].Cold, c.cold, c.warm)
		}
	}
}
