package emulator

import (
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
)

// Remote calls started while the environment's first connection is still
// being set up wait for it (the calibration traces: split's cold A sends C
// async and B sync at once; the call of C is as fast as the lone first call
// of a cold A, the call of B as slow as a lone first sync call). The first
// of two concurrent calls takes 20 + 50 ms, the second waits for it and
// takes 20 more; a call after them 20.
func TestConcurrentFirstCallsEachConnect(t *testing.T) {
	app := newApp("A", taskMap{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			if err := fusionsim.WaitAll(ctx.Start("C", nil, false), ctx.Start("C", nil, false)); err != nil {
				return nil, err
			}
			_, err := ctx.Call("C", nil, false)
			return nil, err
		},
		"C": sleepTask(0),
	})
	prof := testProfile()
	prof.Remote.FirstConnection.LatencyMs = model.Const(50)
	h := newHarness(t, app, prof, setupOf(app, "s"), nil)
	h.run("SYNC-A-128", at(0))
	calls := h.linesWith("fusion-function-A-128", `"called":"C"`)
	if len(calls) != 3 || !strings.Contains(calls[0], `"time":70`) || !strings.Contains(calls[1], `"time":90`) || !strings.Contains(calls[2], `"time":20`) {
		t.Fatalf("call records %v", calls)
	}
}
