package emulator

import (
	"regexp"
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
)

// With model.Remote.LatencyCorrelation 1 the concurrent async calls of one
// invocation draw the same ack latency; with 0 they draw independently.
func TestLatencyCorrelation(t *testing.T) {
	app := newApp("A", taskMap{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			return nil, fusionsim.WaitAll(ctx.Start("C", nil, false), ctx.Start("C", nil, false), ctx.Start("C", nil, false))
		},
		"C": sleepTask(0),
	})
	times := regexp.MustCompile(`"time":(\d+)}`)
	for _, c := range []struct {
		corr float64
		same bool
	}{{1, true}, {0, false}} {
		prof := testProfile()
		prof.Remote.AsyncAck.LatencyMs = model.LogNormal(0, 100, 0.5)
		prof.Remote.LatencyCorrelation = c.corr
		h := newHarness(t, app, prof, setupOf(app, "s"), nil)
		h.run("SYNC-A-1769", at(0))
		var got []string
		for _, l := range h.linesWith("fusion-function-A-1769", `"called":"C"`) {
			got = append(got, times.FindStringSubmatch(l)[1])
		}
		same := got[0] == got[1] && got[1] == got[2]
		if same != c.same {
			t.Errorf("correlation %v: ack times %v", c.corr, got)
		}
	}
}
