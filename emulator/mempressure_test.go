package emulator

import (
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
)

// model.CPU.MemoryPressure: with 30 MB of headroom at 0.02 per MB, work in
// an environment of 1769 MB (one vCPU) holding all but 10 MB takes 1.4 ms
// per vCPU-ms; the pressure follows the memory the environment holds from
// moment to moment. A closure holds 1709 MB beside the runtime's 50 for
// its first 60 ms: 100 vCPU-ms of work started at once progresses 60 / 1.4
// vCPU-ms meanwhile, the rest at one vCPU-ms per ms: 117.14 ms. Off, or
// without the closure's memory, it takes 100 ms; the Max Memory Used is
// the same either way.
func TestMemoryPressure(t *testing.T) {
	const heldMB = 1769 - 50 - 10
	app := func(hold float64) *fusionsim.App {
		return newApp("A", taskMap{"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			f := ctx.Go(func(c fusionsim.Context) (fusionsim.Event, error) {
				c.UseMemory(hold)
				c.Sleep(60 * time.Millisecond)
				return nil, nil
			})
			ctx.Spend(fusionsim.Work{CPUMs: 100, Threads: 1})
			_, err := f.Wait()
			return nil, err
		}})
	}
	for _, c := range []struct {
		name     string
		headroom float64
		hold     float64
		want     time.Duration
	}{
		{"pressure", 30, heldMB, 117142857},
		{"off", 0, heldMB, 100 * time.Millisecond},
		{"free memory", 30, 0, 100 * time.Millisecond},
	} {
		prof := testProfile()
		prof.CPU.MemoryPressureHeadroomMB, prof.CPU.MemoryPressureCPUPerMB = c.headroom, 0.02
		a := app(c.hold)
		h := newHarness(t, a, prof, setupOf(a, "s"), nil)
		h.run("SYNC-A-1769", at(0))
		r := h.records[0]
		if d := r.Duration - c.want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("%s: duration %v, want %v", c.name, r.Duration, c.want)
		}
		if want := 50 + int(c.hold); r.MaxMemoryUsedMB != want {
			t.Errorf("%s: Max Memory Used %d MB, want %d", c.name, r.MaxMemoryUsedMB, want)
		}
	}
}

// Under pressure the quota drains by the CPU time the work takes, not by
// its demand: at 128 MB with a 100 ms period (quota 7.24 vCPU-ms at the
// two cores) and 1.5 ms per vCPU-ms, 4 vCPU-ms take 6 vCPU-ms of quota,
// at two cores: 3 ms (6 without pressure would take 2 ms).
func TestMemoryPressureSpendsQuota(t *testing.T) {
	app := newApp("A", taskMap{"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
		ctx.UseMemory(128 - 50 - 5) // 5 MB free: 25 short
		ctx.Spend(fusionsim.Work{CPUMs: 4, Threads: 2})
		return nil, nil
	}})
	for _, c := range []struct {
		perMB float64
		want  time.Duration
	}{{0.02, 3 * time.Millisecond}, {0, 2 * time.Millisecond}} {
		prof := testProfile()
		prof.CPU.BurstPeriodMs = 100
		prof.CPU.MemoryPressureHeadroomMB, prof.CPU.MemoryPressureCPUPerMB = 30, c.perMB
		h := newHarness(t, app, prof, setupOf(app, "s"), nil)
		h.run("SYNC-A-128", at(0))
		if d := h.records[0].Duration - c.want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("%v per MB: duration %v, want %v", c.perMB, h.records[0].Duration, c.want)
		}
	}
}
