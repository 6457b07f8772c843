package emulator

import (
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
)

// model.Handler.TimerLatencyMs is added to every sleep: two sleeps of 100
// ms with 1.5 ms each take 203 ms.
func TestTimerLatency(t *testing.T) {
	app := newApp("A", taskMap{"A": nil})
	app.Tasks["A"] = func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
		ctx.Sleep(ms(100))
		ctx.Sleep(ms(100))
		return nil, nil
	}
	prof := testProfile()
	prof.Handler.TimerLatencyMs = model.Const(1.5)
	h := newHarness(t, app, prof, setupOf(app, "s"), nil)
	h.run("SYNC-A-128", at(0))
	if got := h.records[0].Duration; got != ms(203) {
		t.Errorf("duration %v, want 203ms", got)
	}
}
