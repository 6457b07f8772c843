package emulator

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
)

// A constant 2 iterations/s for 10 s with at most one virtual user, each
// iteration one sync request to a task that sleeps 1 s (the test profile
// adds only the first request's 100 ms cold start): k6 runs the iteration
// at 0 s (it ends at 1.1 s), drops those at 0.5 and 1 s, runs the one at
// 1.5 s (ends at 2.5 s), drops 2 and 2.5 s (the user comes back at that
// very instant), runs 3 s, ...: 0, 1.5, 3, 4.5, 6, 7.5 and 9 s run, the
// other 13 iterations are dropped, every time.
func TestScenarioDrops(t *testing.T) {
	app := newApp("A", taskMap{"A": sleepTask(time.Second)})
	h := newHarness(t, app, testProfile(), setupOf(app, "s"), nil)
	pool := &fusionsim.VUPool{PreAllocatedVUs: 1, MaxVUs: 1}
	var arr []fusionsim.Arrival
	for i := range 20 {
		arr = append(arr, fusionsim.Arrival{At: time.Duration(i) * 500 * time.Millisecond, VUs: pool})
	}
	start := h.em.Now()
	resps := h.run("SYNC-A-128", arr...)
	var ran []time.Duration
	dropped := 0
	for i, r := range resps {
		switch {
		case r.Dropped():
			dropped++
			if r.StatusCode != 0 || r.Sent != start.Add(arr[i].At) || r.Latency() != 0 {
				t.Errorf("dropped response %d: %+v", i, r)
			}
		case r.StatusCode == 200:
			ran = append(ran, r.Sent.Sub(start))
		default:
			t.Errorf("response %d: %+v", i, r)
		}
	}
	want := []time.Duration{0, ms(1500), ms(3000), ms(4500), ms(6000), ms(7500), ms(9000)}
	if len(ran) != len(want) || dropped != 13 {
		t.Fatalf("ran at %v (%d dropped), want %v (13 dropped)", ran, dropped, want)
	}
	for i := range want {
		if ran[i] != want[i] {
			t.Fatalf("ran at %v, want %v", ran, want)
		}
	}
	if n := len(h.recordsOf("A")); n != 7 {
		t.Errorf("%d invocations of A, want 7", n)
	}
}

// The requests of an iteration go out one after the other on one virtual
// user: each is sent its pause after the previous response, not after the
// async work the previous request started; the body is made with the
// user's number; the pool caps the users; the setup phase goes first and
// the iterations' clock starts at its last response.
func TestScenarioIterations(t *testing.T) {
	app := newApp("A", taskMap{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			ctx.Start("C", in, false) // async, not waited for by the client
			ctx.Sleep(ms(100))
			return fusionsim.Event{"user": in.Int("user", -1)}, nil
		},
		"B": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			ctx.Sleep(ms(200))
			return fusionsim.Event{"user": in.Int("user", -1)}, nil
		},
		"C": sleepTask(5 * time.Second),
	})
	run := func() ([]fusionsim.Response, *harness) {
		h := newHarness(t, app, testProfile(), setupOf(app, "s"), nil)
		pool := &fusionsim.VUPool{PreAllocatedVUs: 2, MaxVUs: 2}
		user := func(vu int) fusionsim.Event { return fusionsim.Event{"user": vu} }
		b := fusionsim.MustParseRoute("SYNC-B-128")
		arr := []fusionsim.Arrival{
			{Route: b, EventFor: user}, // setup: user 0
		}
		for k := range 3 { // iterations at 0, 10 and 20 ms after the setup
			arr = append(arr,
				fusionsim.Arrival{Follows: 1, At: time.Duration(k) * ms(10), VUs: pool, EventFor: user, Kind: "a"},
				fusionsim.Arrival{Follows: len(arr) + 1, At: ms(50), Route: b, EventFor: user, Kind: "b"})
		}
		return h.run("SYNC-A-128", arr...), h
	}
	resps, h := run()
	// The test profile: sync request 10 ms, response 5 ms, no client
	// latency, 100 ms cold starts. The setup request to B: cold, 300 ms.
	// Iteration 1 (user 1) at 300 ms: A cold, answered at 500 ms; B 50 ms
	// later at 550 ms, warm: answered at 750 ms. Iteration 2 (user 2) at
	// 310 ms: A cold (A's one environment is busy), answered at 510; B at
	// 560, B's environment busy with iteration 1: cold, answered at 860 ms.
	// Iteration 3 at 320 ms: both users busy: dropped.
	type want struct {
		sent, received time.Duration
		user           int
	}
	wants := []want{{0, ms(300), 0}, {ms(300), ms(500), 1}, {ms(550), ms(750), 1}, {ms(310), ms(510), 2}, {ms(560), ms(860), 2}}
	start := resps[0].Sent
	for i, w := range wants {
		r := resps[i]
		if r.StatusCode != 200 || r.Sent.Sub(start) != w.sent || r.Received.Sub(start) != w.received || r.Result.Int("user", -1) != w.user {
			t.Errorf("response %d: sent %v, received %v, user %v, status %d; want %v, %v, user %d",
				i, r.Sent.Sub(start), r.Received.Sub(start), r.Result["user"], r.StatusCode, w.sent, w.received, w.user)
		}
	}
	for _, i := range []int{5, 6} {
		if !resps[i].Dropped() || !errors.Is(resps[i].Err, fusionsim.ErrDropped) {
			t.Errorf("response %d of the third iteration: %+v, want dropped", i, resps[i])
		}
	}
	// Run returned only after C, started async by both A requests, ended.
	if n := len(h.recordsOf("C")); n != 2 {
		t.Errorf("%d invocations of C, want 2", n)
	}
	// The same seed: the same log, byte for byte.
	_, h2 := run()
	if a, b := logText(t, h), logText(t, h2); !bytes.Equal(a, b) || len(a) == 0 {
		t.Error("two runs of the same scenario wrote different logs")
	}
}

// Arrivals the Sequencer refuses fail the run before anything is sent.
func TestScenarioBadArrivals(t *testing.T) {
	app := newApp("A", taskMap{"A": sleepTask(ms(10))})
	h := newHarness(t, app, testProfile(), setupOf(app, "s"), nil)
	_, err := h.em.Run(context.Background(), fusionsim.MustParseRoute("SYNC-A"), []fusionsim.Arrival{{Follows: 2}, {}})
	if err == nil || len(h.records) != 0 {
		t.Errorf("Follows of a later arrival: %v, %d records", err, len(h.records))
	}
}

// logText is every line the harness's sink holds, function by function.
func logText(t *testing.T, h *harness) []byte {
	t.Helper()
	var b bytes.Buffer
	err := h.sink.ReadLines(time.Time{}, h.em.Now().Add(time.Hour), func(l fusionsim.LogLine) error {
		b.WriteString(l.Function + " " + l.Time.String() + " " + l.Text + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
