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

// model.WorkParams.OverheadCPUMs competes with a two-thread work below a
// share of two vCPUs (3538 MB is exactly 2: (100 + 20) / 2 = 60 ms) and
// runs beside it above (4096 MB: 100 / 2 = 50 ms).
func TestWorkOverheadBelowThreads(t *testing.T) {
	app := newApp("A", taskMap{"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
		ctx.Spend(fusionsim.Work{Name: "w", CPUMs: 1, Threads: 2})
		return nil, nil
	}})
	for route, want := range map[string]int{"SYNC-A-3538": 60, "SYNC-A-4096": 50} {
		prof := testProfile()
		prof.Work = map[string]model.WorkParams{"w": {CPUMs: 100, Threads: 2, OverheadCPUMs: 20}}
		h := newHarness(t, app, prof, setupOf(app, "s"), nil)
		h.run(route, at(0))
		if got := h.records[0].Duration; got != ms(want) {
			t.Errorf("%s: duration %v, want %d ms", route, got, want)
		}
	}
}

// model.CPU.WorkJitter multiplies the demand of every work of an
// invocation by one draw: a constant 1.5 makes 2 x 10 vCPU-ms at one vCPU
// take 30 ms.
func TestWorkJitter(t *testing.T) {
	app := newApp("A", taskMap{"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
		ctx.Spend(fusionsim.Work{CPUMs: 10, Threads: 1})
		ctx.Spend(fusionsim.Work{CPUMs: 10, Threads: 1})
		return nil, nil
	}})
	prof := testProfile()
	prof.CPU.WorkJitter = model.Const(1.5)
	h := newHarness(t, app, prof, setupOf(app, "s"), nil)
	h.run("SYNC-A-1769", at(0))
	if got := h.records[0].Duration; got != ms(30) {
		t.Errorf("duration %v, want 30ms", got)
	}
}
