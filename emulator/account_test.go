package emulator

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim"
)

// Issue 15: a sync request whose function was throttled calling another
// one is a function error of the entry function: API Gateway answers 502,
// not 429 (429 is for the entry function itself being throttled).
func TestThrottledDownstreamIs502(t *testing.T) {
	app := newApp("A", taskMap{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			return ctx.Call("B", in, true)
		},
		"B": sleepTask(ms(500)),
	})
	app.Edges = []fusionsim.Edge{{Caller: "A", Called: "B", Sync: true}}
	h := newHarness(t, app, testProfile(), setupOf(app, "s"), func(c *Config) { c.ReservedConcurrency = map[string]int{"B-128": 1} })
	resps := h.run("SYNC-A-128", at(0), at(0))
	var fe *fusionsim.FunctionError
	if resps[0].StatusCode != http.StatusOK {
		t.Fatalf("first request: %+v", resps[0])
	}
	r := resps[1]
	if !errors.As(r.Err, &fe) || fe.Type != "TooManyRequestsException" || !errors.Is(r.Err, fusionsim.ErrThrottled) {
		t.Fatalf("second request: error %v, want A's function error caused by B's throttling", r.Err)
	}
	if r.StatusCode != http.StatusBadGateway {
		t.Errorf("second request: status %d, want 502 (A failed; A itself was not throttled)", r.StatusCode)
	}
	if StatusOf(fusionsim.ErrThrottled) != http.StatusTooManyRequests {
		t.Errorf("the entry throttled: %d", StatusOf(fusionsim.ErrThrottled))
	}
}

// Issue 15: a request in flight when another setup is deployed finishes
// under the setup it started with: its rules, its name in every trace id,
// log line and record.
func TestRedeployKeepsARequestsSetup(t *testing.T) {
	app := newApp("A", taskMap{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			ctx.Sleep(ms(50))
			return ctx.Call("B", in, true)
		},
		"B": sleepTask(ms(10)),
	})
	app.Edges = []fusionsim.Edge{{Caller: "A", Called: "B", Sync: true}}
	first := setupOf(app, "first")                 // A calls B remotely
	second := setupOf(app, "second", "A>B", "B>B") // A runs B in-process
	h := newHarness(t, app, testProfile(), first, nil)
	var got []fusionsim.Response
	done := 0
	h.em.Submit(fusionsim.MustParseRoute("SYNC-A-128"), nil, func(r fusionsim.Response) { got = append(got, r) }, func() { done++ })
	// A is cold: it starts after its 100 ms init; deploy during the init,
	// and again while A sleeps.
	if err := h.em.AdvanceTo(h.em.Epoch().Add(ms(20))); err != nil {
		t.Fatal(err)
	}
	if err := h.em.Deploy(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	if err := h.em.AdvanceTo(h.em.Epoch().Add(ms(130))); err != nil {
		t.Fatal(err)
	}
	if err := h.em.Deploy(context.Background(), setupOf(app, "third", "A>B", "B>B")); err != nil {
		t.Fatal(err)
	}
	// A request sent now runs under the third setup.
	h.em.Submit(fusionsim.MustParseRoute("SYNC-A-128"), nil, func(r fusionsim.Response) { got = append(got, r) }, func() { done++ })
	for done < 2 {
		next, ok := h.em.NextEvent()
		if !ok {
			t.Fatal("no event left")
		}
		if err := h.em.AdvanceTo(next); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 || got[0].Err != nil || got[1].Err != nil {
		t.Fatalf("responses %+v", got)
	}
	bySetup := map[string][]string{}
	for _, r := range h.records {
		bySetup[r.Setup] = append(bySetup[r.Setup], r.Function.Task)
		if !strings.HasPrefix(r.TraceID, r.Setup+"-") {
			t.Errorf("record of setup %s has trace id %s", r.Setup, r.TraceID)
		}
	}
	if strings.Join(bySetup["first"], ",") != "B,A" || strings.Join(bySetup["third"], ",") != "A" || len(bySetup) != 2 {
		t.Errorf("invocations by setup %v; want first: B and A (B remote under first), third: A alone (B local)", bySetup)
	}
	for _, fn := range []string{"fusion-function-A-128", "fusion-function-B-128"} {
		for _, l := range h.linesWith(fn, `"fusionGroup"`) {
			if strings.Contains(l, `"second"`) {
				t.Errorf("%s: %s", fn, l)
			}
		}
	}
	if n := len(h.linesWith("fusion-function-B-128", `"fusionGroup":"first"`)); n != 1 {
		t.Errorf("%d init lines of B under the first setup, want 1", n)
	}
}

// Issue 15: --reserved-concurrency NOPE-128=5 was accepted.
func TestReservedConcurrencyNamesATask(t *testing.T) {
	app := newApp("A", taskMap{"A": sleepTask(ms(1))})
	_, err := New(Config{App: app, Profile: testProfile(), ReservedConcurrency: map[string]int{"NOPE-128": 5}})
	if err == nil || !strings.Contains(err.Error(), `Config.ReservedConcurrency["NOPE-128"]: NOPE is not a task of test`) {
		t.Errorf("New: %v", err)
	}
}
