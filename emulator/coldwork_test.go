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

// A work descriptor that no profile names brings its own cold extra,
// overhead and jitter scale (application files give them): the same
// durations as the profile's figures above; a profile entry with the
// descriptor's name replaces all of them.
func TestWorkDescriptorsOwnFigures(t *testing.T) {
	half := 0.5
	w := fusionsim.Work{Name: "own", CPUMs: 10, Threads: 1, ColdCPUMs: 5}
	app := newApp("A", taskMap{"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
		ctx.Spend(w)
		ctx.Spend(w)
		return nil, nil
	}})
	h := newHarness(t, app, testProfile(), setupOf(app, "s"), nil)
	h.run("SYNC-A-1769", at(0), at(ms(1000)))
	if a := h.recordsOf("A"); a[0].Duration != ms(30) || a[1].Duration != ms(20) {
		t.Errorf("cold extra from the descriptor: %v then %v, want 30ms then 20ms", a[0].Duration, a[1].Duration)
	}
	prof := testProfile()
	prof.Work = map[string]model.WorkParams{"own": {CPUMs: 10, Threads: 1}}
	h = newHarness(t, app, prof, setupOf(app, "s"), nil)
	h.run("SYNC-A-1769", at(0))
	if d := h.records[0].Duration; d != ms(20) {
		t.Errorf("a profile entry replaces the descriptor's cold extra: %v, want 20ms", d)
	}

	over := newApp("A", taskMap{"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
		ctx.Spend(fusionsim.Work{Name: "o", CPUMs: 100, Threads: 2, OverheadCPUMs: 20})
		return nil, nil
	}})
	for route, want := range map[string]int{"SYNC-A-3538": 60, "SYNC-A-4096": 50} {
		h := newHarness(t, over, testProfile(), setupOf(over, "s"), nil)
		h.run(route, at(0))
		if got := h.records[0].Duration; got != ms(want) {
			t.Errorf("overhead from the descriptor, %s: %v, want %d ms", route, got, want)
		}
	}

	jit := newApp("A", taskMap{"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
		ctx.Spend(fusionsim.Work{Name: "j", CPUMs: 20, Threads: 1, JitterScale: &half})
		return nil, nil
	}})
	prof = testProfile()
	prof.CPU.WorkJitter = model.Const(1.5)
	h = newHarness(t, jit, prof, setupOf(jit, "s"), nil)
	h.run("SYNC-A-1769", at(0))
	if got := h.records[0].Duration; got != ms(25) { // 20 x (1 + 0.5 x 0.5)
		t.Errorf("jitter scale from the descriptor: %v, want 25ms", got)
	}
}
