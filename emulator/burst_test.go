package emulator

import (
	"math"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
)

// CPU bursts (model.CPU.BurstPeriodMs = 20): at 128 MB the share is
// 128/1769 = 0.0724 vCPU and the quota 0.0724 x 20 = 1.447 vCPU-ms. Work
// that the quota covers runs at full core speed; longer work runs at full
// speed until the quota is spent, then at the share; a pause refills it
// (at the share's rate: 30 ms refill 2.2 vCPU-ms, more than the quota).
func TestCPUBursts(t *testing.T) {
	share := 128.0 / 1769
	quota := share * 20 // vCPU-ms
	full := quota       // ms of full speed on one thread: it spends the quota 1:1
	msf := func(v float64) time.Duration { return time.Duration(math.Ceil(v * 1e6)) }
	for _, c := range []struct {
		name  string
		work  []fusionsim.Work // spent in order, 30 ms sleep between
		burst float64
		want  time.Duration
	}{
		{"short work at full speed", []fusionsim.Work{{CPUMs: 1, Threads: 1}}, 20, ms(1)},
		{"no bursts", []fusionsim.Work{{CPUMs: 1, Threads: 1}}, 0, msf(1 / share)},
		{"two threads on two cores", []fusionsim.Work{{CPUMs: 1, Threads: 2}}, 20, msf(0.5)},
		{"long work: quota, then the share", []fusionsim.Work{{CPUMs: 10, Threads: 1}}, 20, msf(full + (10-full)/share)},
		{"a pause refills the quota", []fusionsim.Work{{CPUMs: 10, Threads: 1}, {CPUMs: 1, Threads: 1}}, 20, msf(full+(10-full)/share) + ms(30) + ms(1)},
	} {
		app := newApp("A", taskMap{"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			for i, w := range c.work {
				if i > 0 {
					ctx.Sleep(ms(30))
				}
				ctx.Spend(w)
			}
			return nil, nil
		}})
		prof := testProfile()
		prof.CPU.BurstPeriodMs = c.burst
		h := newHarness(t, app, prof, setupOf(app, "s"), nil)
		h.run("SYNC-A-128", at(0))
		if got := h.records[0].Duration; got < c.want-100 || got > c.want+100 { // within 0.1 µs of rounding
			t.Errorf("%s: duration %v, want %v", c.name, got, c.want)
		}
	}
	prof := testProfile()
	if b := prof.CPU.Burst(128); b != 0 {
		t.Errorf("Burst(128) without a period = %v, want 0", b)
	}
	prof.CPU.BurstPeriodMs = 20
	if b := prof.CPU.Burst(128); math.Abs(b-quota) > 1e-9 {
		t.Errorf("Burst(128) = %v, want %v", b, quota)
	}
}
