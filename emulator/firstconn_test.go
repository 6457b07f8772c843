package emulator

import (
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
)

// Remote calls started while the environment's first connection is still
// being set up open their own (the calibration traces: split's cold A sends
// C async and B sync at once, and both calls are about 300 ms slower than
// warm ones at 128 MB). Two concurrent first calls both pay the 50 ms; a
// call after them does not.
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
	if len(calls) != 3 || !strings.Contains(calls[0], `"time":70`) || !strings.Contains(calls[1], `"time":70`) || !strings.Contains(calls[2], `"time":20`) {
		t.Fatalf("call records %v", calls)
	}
}
