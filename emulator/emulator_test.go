package emulator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
)

// A 1-thread task at 128, 1769 and 3538 MB and a 2-thread task at 3538 MB,
// each of 100 vCPU-ms: 1382.03 ms, 100 ms, 100 ms and 50 ms of handler time.
func TestCPUScalingInInvocations(t *testing.T) {
	for _, c := range []struct {
		route   string
		threads int
		want    time.Duration
	}{
		{"SYNC-A-128", 1, 1382031250},
		{"SYNC-A-1769", 1, ms(100)},
		{"SYNC-A-3538", 1, ms(100)},
		{"SYNC-A-3538", 2, ms(50)},
	} {
		app := newApp("A", taskMap{"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			ctx.Spend(fusionsim.Work{CPUMs: 100, Threads: c.threads})
			return nil, nil
		}})
		h := newHarness(t, app, testProfile(), setupOf(app, "s"), nil)
		h.run(c.route, at(0))
		r := h.records[0]
		if r.Duration != c.want {
			t.Errorf("%s, %d threads: duration %v, want %v", c.route, c.threads, r.Duration, c.want)
		}
		if want := int64((c.want + time.Millisecond - 1) / time.Millisecond); r.BilledMs != want {
			t.Errorf("%s: billed %d ms, want %d", c.route, r.BilledMs, want)
		}
	}
}

// Two parallel local tasks share one vCPU (1769 MB): each needs 100 vCPU-ms,
// both end at 200 ms. At 3538 MB they get a vCPU each and end at 100 ms.
func TestCPUSharedByParallelLocalTasks(t *testing.T) {
	burn := func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
		ctx.Spend(fusionsim.Work{CPUMs: 100, Threads: 2}) // parallel phase: an await
		return nil, nil
	}
	app := newApp("A", taskMap{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			return nil, fusionsim.WaitAll(ctx.Start("B", nil, true), ctx.Start("C", nil, true))
		},
		"B": burn, "C": burn,
	})
	for route, want := range map[string]time.Duration{"SYNC-A-1769": ms(200), "SYNC-A-3538": ms(100)} {
		h := newHarness(t, app, testProfile(), setupOf(app, "s", "A>B", "A>C"), nil)
		h.run(route, at(0))
		if got := h.records[0].Duration; got != want {
			t.Errorf("%s: duration %v, want %v", route, got, want)
		}
	}
}

// A sync remote call bills the caller while it waits: A (cold) waits 10 ms
// request + 100 ms B init + 100 ms B + 5 ms response = 215 ms; B bills 100 ms.
// Warm: 10 + 100 + 5 = 115 ms.
func TestDoubleBillingOfSyncRemoteCall(t *testing.T) {
	app := newApp("A", taskMap{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			return ctx.Call("B", in, true)
		},
		"B": sleepTask(ms(100)),
	})
	h := newHarness(t, app, testProfile(), setupOf(app, "s"), nil)
	resps := h.run("SYNC-A-128", at(0), at(time.Second))
	for _, r := range resps {
		if r.Err != nil || r.Result["slept"] != "100ms" {
			t.Fatalf("response %+v", r)
		}
	}
	a, b := h.recordsOf("A"), h.recordsOf("B")
	if len(a) != 2 || len(b) != 2 {
		t.Fatalf("records: %d A, %d B", len(a), len(b))
	}
	want := []struct{ a, b int64 }{{215, 100}, {115, 100}}
	for i, w := range want {
		if a[i].BilledMs != w.a || b[i].BilledMs != w.b {
			t.Errorf("request %d: billed A %d ms, B %d ms; want %d and %d", i, a[i].BilledMs, b[i].BilledMs, w.a, w.b)
		}
	}
	// The caller's call record holds the whole round trip.
	if l := h.linesWith("fusion-function-A-128", `"called":"B","time":215`); len(l) != 1 {
		t.Errorf("call record of the cold round trip: %v", h.linesWith("fusion-function-A-128", `"type":"call"`))
	}
	// Init Duration is reported on cold starts only.
	if l := h.linesWith("fusion-function-B-128", "Init Duration: 100.00 ms"); len(l) != 1 {
		t.Errorf("REPORT lines with Init Duration: %v", l)
	}
}

// An async remote call returns after the 20 ms acknowledgement; the callee
// starts 30 ms later (plus its cold start) and runs on its own.
func TestAsyncRemoteReturnsAfterAck(t *testing.T) {
	app := newApp("A", taskMap{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			_, err := ctx.Call("C", nil, false)
			return nil, err
		},
		"C": sleepTask(ms(100)),
	})
	h := newHarness(t, app, testProfile(), setupOf(app, "s"), nil)
	h.run("SYNC-A-128", at(0))
	a, c := h.recordsOf("A")[0], h.recordsOf("C")[0]
	if a.Duration != ms(20) {
		t.Errorf("A duration %v, want 20ms (the ack)", a.Duration)
	}
	// A starts at 100 (init); C is dispatched at 100+20+30 = 150, starts at 250.
	if got := c.Start.Sub(h.em.Epoch()); got != ms(250) {
		t.Errorf("C starts at %v, want 250ms", got)
	}
	if c.Duration != ms(100) || a.End.After(c.Start) {
		t.Errorf("C %+v ran inside A", c)
	}
	if l := h.linesWith("fusion-function-A-128", `"local":false,"sync":false,"caller":"A","called":"C","time":20`); len(l) != 1 {
		t.Errorf("async call record: %v", h.linesWith("fusion-function-A-128", `"type":"call"`))
	}
}

// A local async call runs in-process; the caller goes on after the callee's
// synchronous prefix (50 ms of CPU on one vCPU) and the invocation ends only
// when the callee has finished (prefix + 100 ms sleep), as the prototype
// awaited every promise.
func TestLocalAsyncIsAwaited(t *testing.T) {
	app := newApp("A", taskMap{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			ctx.Start("C", nil, false) // not waited for by the task
			return nil, nil
		},
		"C": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			ctx.Spend(fusionsim.Work{CPUMs: 50, Threads: 1}) // synchronous
			ctx.Sleep(ms(100))
			return nil, nil
		},
	})
	h := newHarness(t, app, testProfile(), setupOf(app, "s", "A>C"), nil)
	h.run("SYNC-A-1769", at(0))
	if len(h.records) != 1 {
		t.Fatalf("%d invocations, want 1 (C is local)", len(h.records))
	}
	if r := h.records[0]; r.Duration != ms(150) || r.InternalMs != 150 {
		t.Errorf("duration %v, time-base %d ms; want 150 ms", r.Duration, r.InternalMs)
	}
	fn := "fusion-function-A-1769"
	if l := h.linesWith(fn, `"local":true,"sync":false,"caller":"A","called":"C","time":50`); len(l) != 1 {
		t.Errorf("local async call record: %v", h.linesWith(fn, `"type":"call"`))
	}
	if l := h.linesWith(fn, `"called":"A","time":50`); len(l) != 1 {
		t.Errorf("entry task's own call: %v", h.linesWith(fn, `"type":"call"`))
	}
}

// The first request and concurrent requests start new environments; a later
// one reuses an idle environment.
func TestColdStartsAndWarmReuse(t *testing.T) {
	app := newApp("A", taskMap{"A": sleepTask(ms(100))})
	h := newHarness(t, app, testProfile(), setupOf(app, "s"), nil)
	h.run("SYNC-A-128", at(0), at(0), at(time.Second))
	st := h.em.Stats()
	if st.ColdStarts != 2 || st.Environments != 2 || st.Invocations != 3 {
		t.Fatalf("stats %+v, want 2 cold starts of 3 invocations", st)
	}
	if h.records[2].Cold {
		t.Errorf("the third request was cold")
	}
	if d := h.records[0].InitDuration; d != ms(100) {
		t.Errorf("init %v", d)
	}
}

// An idle environment is reclaimed after its keep-alive (600 s).
func TestReclaimAfterKeepAlive(t *testing.T) {
	app := newApp("A", taskMap{"A": sleepTask(ms(100))})
	h := newHarness(t, app, testProfile(), setupOf(app, "s"), nil)
	// idle from 0.2 s; 599 s is within the keep-alive; idle again from
	// 599.1 s, so 1300 s is after it.
	h.run("SYNC-A-128", at(0), at(599*time.Second), at(1300*time.Second))
	cold := [3]bool{h.records[0].Cold, h.records[1].Cold, h.records[2].Cold}
	if cold != [3]bool{true, false, true} {
		t.Fatalf("cold starts %v, want [true false true]", cold)
	}
}

// ForceCold (and ColdBefore) discard every environment.
func TestForcedCold(t *testing.T) {
	app := newApp("A", taskMap{"A": sleepTask(ms(100))})
	h := newHarness(t, app, testProfile(), setupOf(app, "s"), nil)
	h.run("SYNC-A-128", at(0), fusionsim.Arrival{At: time.Second, ColdBefore: true})
	if !h.records[1].Cold {
		t.Errorf("ColdBefore did not force a cold start")
	}
	h.run("SYNC-A-128", at(0))
	if h.records[2].Cold {
		t.Errorf("warm request after the forced one was cold")
	}
	if err := h.em.ForceCold(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.run("SYNC-A-128", at(0))
	if !h.records[3].Cold {
		t.Errorf("ForceCold did not force a cold start")
	}
	// Sequential requests with ColdBefore: every one cold (the prototype's protocol).
	seq := []fusionsim.Arrival{}
	for i := 0; i < 5; i++ {
		seq = append(seq, fusionsim.Arrival{AfterPrevious: true, ColdBefore: true})
	}
	h.run("SYNC-A-128", seq...)
	for _, r := range h.records[4:] {
		if !r.Cold {
			t.Fatalf("sequential forced-cold request was warm")
		}
	}
	// Sequential: each starts after the previous ended (100 ms + 100 ms init).
	for i := 5; i < 9; i++ {
		if gap := h.records[i].Start.Sub(h.records[i-1].End); gap != ms(100) {
			t.Errorf("request %d starts %v after the previous end, want the 100 ms init", i, gap)
		}
	}
}

// A task that runs past the timeout is ended after exactly the timeout; the
// environment is discarded; the platform keeps serving.
func TestTimeout(t *testing.T) {
	app := newApp("A", taskMap{"A": sleepTask(10 * time.Second)})
	h := newHarness(t, app, testProfile(), setupOf(app, "s"), func(c *Config) { c.Timeout = time.Second })
	resps := h.run("SYNC-A-128", at(0), at(20*time.Second))
	var fe *fusionsim.FunctionError
	if !errors.As(resps[0].Err, &fe) || fe.Type != "Sandbox.Timedout" || !errors.Is(resps[0].Err, fusionsim.ErrTimeout) {
		t.Fatalf("response error %v, want a Sandbox.Timedout function error", resps[0].Err)
	}
	if resps[0].StatusCode != 502 {
		t.Errorf("status %d, want 502", resps[0].StatusCode)
	}
	fn := "fusion-function-A-128"
	if l := h.linesWith(fn, "Task timed out after 1.00 seconds"); len(l) != 2 {
		t.Errorf("timeout lines: %v", l)
	}
	if l := h.linesWith(fn, "Duration: 1000.00 ms\tBilled Duration: 1000 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\tInit Duration: 100.00 ms\tStatus: timeout"); len(l) != 2 {
		t.Errorf("REPORT lines: %v", h.linesWith(fn, "REPORT"))
	}
	if !h.records[1].Cold || h.em.Stats().Timeouts != 2 {
		t.Errorf("environment was not discarded after the timeout: %+v", h.em.Stats())
	}
}

// Using more memory than the function has ends the invocation with
// Runtime.OutOfMemory and discards the environment.
func TestOutOfMemory(t *testing.T) {
	app := newApp("A", taskMap{"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
		if in.Int("mb", 0) > 0 {
			ctx.UseMemory(float64(in.Int("mb", 0)))
		}
		return nil, nil
	}})
	h := newHarness(t, app, testProfile(), setupOf(app, "s"), nil)
	resps := h.run("SYNC-A-128",
		fusionsim.Arrival{Event: fusionsim.Event{"mb": 100}},                 // 50 + 100 > 128
		fusionsim.Arrival{At: time.Second, Event: fusionsim.Event{"mb": 60}}, // 110: fits
	)
	if !errors.Is(resps[0].Err, fusionsim.ErrOutOfMemory) || resps[1].Err != nil {
		t.Fatalf("errors %v / %v", resps[0].Err, resps[1].Err)
	}
	if l := h.linesWith("fusion-function-A-128", "Max Memory Used: 128 MB\tInit Duration: 100.00 ms\tStatus: error\tError Type: Runtime.OutOfMemory"); len(l) != 1 {
		t.Errorf("REPORT: %v", h.linesWith("fusion-function-A-128", "REPORT"))
	}
	if !h.records[1].Cold || h.records[1].MaxMemoryUsedMB != 110 {
		t.Errorf("second request %+v: want a new environment with 110 MB used", h.records[1])
	}
}

// A panicking task is a function error; the platform and the environment go on.
func TestTaskPanic(t *testing.T) {
	app := newApp("A", taskMap{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			if in.Int("boom", 0) == 1 {
				var m map[string]int
				m["x"] = 1 // nil map write
			}
			return fusionsim.Event{"ok": true}, nil
		},
	})
	h := newHarness(t, app, testProfile(), setupOf(app, "s"), nil)
	resps := h.run("SYNC-A-128", fusionsim.Arrival{Event: fusionsim.Event{"boom": 1}}, at(time.Second))
	var fe *fusionsim.FunctionError
	if !errors.As(resps[0].Err, &fe) || !strings.Contains(fe.Message, "panicked") {
		t.Fatalf("error %v", resps[0].Err)
	}
	if resps[1].Err != nil || resps[1].Result["ok"] != true || h.records[1].Cold {
		t.Fatalf("after the panic: %+v, cold %v", resps[1], h.records[1].Cold)
	}
	if l := h.linesWith("fusion-function-A-128", "ERROR\tInvoke Error"); len(l) != 1 {
		t.Errorf("error line: %v", l)
	}
}

// Without concurrency left, a sync request gets 429 and an async event is
// retried until it runs.
func TestThrottling(t *testing.T) {
	app := newApp("A", taskMap{"A": sleepTask(ms(500))})
	prof := testProfile()
	prof.Limits.AccountConcurrency = 2
	h := newHarness(t, app, prof, setupOf(app, "s"), nil)
	resps := h.run("SYNC-A-128", at(0), at(0), at(0))
	throttled := 0
	for _, r := range resps {
		if errors.Is(r.Err, fusionsim.ErrThrottled) {
			throttled++
			if r.StatusCode != 429 {
				t.Errorf("status %d", r.StatusCode)
			}
		}
	}
	if throttled != 1 || len(h.records) != 2 {
		t.Fatalf("%d throttled, %d invocations; want 1 and 2", throttled, len(h.records))
	}
	// Async: the third event waits and runs once an environment is free.
	resps = h.run("A-128", at(0), at(0), at(0))
	for _, r := range resps {
		if r.StatusCode != 202 {
			t.Errorf("async status %d", r.StatusCode)
		}
	}
	if len(h.records) != 5 || h.em.Stats().Throttles != 2 {
		t.Fatalf("%d invocations, stats %+v", len(h.records), h.em.Stats())
	}
	// Reserved concurrency caps one function.
	h2 := newHarness(t, app, testProfile(), setupOf(app, "s"), func(c *Config) { c.ReservedConcurrency = map[string]int{"A-128": 1} })
	resps = h2.run("SYNC-A-128", at(0), at(0))
	if !errors.Is(resps[1].Err, fusionsim.ErrThrottled) {
		t.Errorf("reserved concurrency 1: second request %v", resps[1].Err)
	}
}

// Unbounded recursion stops at the call-depth limit with an error.
func TestCallDepthLimit(t *testing.T) {
	app := newApp("A", taskMap{"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
		return ctx.Call("A", in, true)
	}})
	for _, local := range []bool{false, true} {
		setup := setupOf(app, "s")
		if local {
			setup = setupOf(app, "s", "A>A")
		}
		h := newHarness(t, app, testProfile(), setup, nil)
		resps := h.run("SYNC-A-128", at(0))
		if !errors.Is(resps[0].Err, fusionsim.ErrCallDepth) {
			t.Fatalf("local=%v: error %v, want ErrCallDepth", local, resps[0].Err)
		}
		want := 33 // the root plus 32 nested remote calls (MaxCallDepth), each its own invocation
		if local {
			want = 1
		}
		if len(h.records) != want {
			t.Errorf("local=%v: %d invocations, want %d", local, len(h.records), want)
		}
	}
}

func TestDeployRejectsUnknownTasks(t *testing.T) {
	app := newApp("A", taskMap{"A": sleepTask(0)})
	em, err := New(Config{App: app})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	bad := setupOf(newApp("A", taskMap{"A": sleepTask(0), "Z": sleepTask(0)}), "s")
	if err := em.Deploy(context.Background(), bad); err == nil || !strings.Contains(err.Error(), `"Z" is not a task`) {
		t.Fatalf("Deploy = %v", err)
	}
	if _, err := em.Run(context.Background(), fusionsim.MustParseRoute("SYNC-A"), nil); !errors.Is(err, fusionsim.ErrNotDeployed) {
		t.Fatalf("Run before Deploy = %v", err)
	}
}

func TestLifecycleIsADefaultDenyStateMachine(t *testing.T) {
	legal := map[[2]EnvState]bool{
		{Initializing, Busy}: true, {Initializing, Reclaimed}: true,
		{Idle, Busy}: true, {Idle, Reclaimed}: true,
		{Busy, Idle}: true, {Busy, Reclaimed}: true,
	}
	for from := Initializing; from <= Reclaimed; from++ {
		for to := Initializing; to <= Reclaimed; to++ {
			env := &environment{state: from}
			err := env.to(to)
			if legal[[2]EnvState{from, to}] != (err == nil) {
				t.Errorf("%s -> %s: %v", from, to, err)
			}
			var te *TransitionError
			if err != nil && !errors.As(err, &te) {
				t.Errorf("error type %T", err)
			}
		}
	}
}

// The first remote call and the first storage operation of an environment pay
// the first-connection costs (50 ms and 40 ms here), later ones do not.
func TestFirstConnection(t *testing.T) {
	app := newApp("A", taskMap{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			for i := 0; i < 2; i++ {
				if _, err := ctx.Call("C", nil, false); err != nil {
					return nil, err
				}
				if err := ctx.Put("T", fusionsim.Item{Key: 1}); err != nil {
					return nil, err
				}
			}
			return nil, nil
		},
		"C": sleepTask(0),
	})
	prof := testProfile()
	prof.Remote.FirstConnection.LatencyMs = model.Const(50)
	prof.Storage.FirstConnection.LatencyMs = model.Const(40)
	h := newHarness(t, app, prof, setupOf(app, "s"), nil)
	h.run("SYNC-A-128", at(0), at(time.Second))
	calls := h.linesWith("fusion-function-A-128", `"called":"C"`)
	if len(calls) != 4 || !strings.Contains(calls[0], `"time":70`) || !strings.Contains(calls[1], `"time":20`) || !strings.Contains(calls[2], `"time":20`) {
		t.Fatalf("call records %v", calls)
	}
	// A: (20+50) + (40+8) + 20 + 8 = 146 ms cold; warm environment: 2*(20+8) = 56 ms.
	if a := h.recordsOf("A"); a[0].Duration != ms(146) || a[1].Duration != ms(56) {
		t.Fatalf("durations %v, %v; want 146ms and 56ms", a[0].Duration, a[1].Duration)
	}
}

// A local async call that itself starts a local async call (split's b_local:
// A -> C -> F, G). Regression: a wake-up from the kernel resumed the handler
// before its waiter was cleared, and the end of the nested call was lost
// until the timeout.
func TestNestedLocalAsync(t *testing.T) {
	app := newApp("A", taskMap{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			c := ctx.Start("C", nil, false)
			_, err := ctx.Call("B", nil, true)
			c.Wait()
			return nil, err
		},
		"B": sleepTask(ms(500)),
		"C": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			f, g := ctx.Start("F", nil, false), ctx.Start("G", nil, false)
			ctx.Spend(fusionsim.Work{CPUMs: 100, Threads: 2})
			return nil, fusionsim.WaitAll(f, g)
		},
		"F": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			ctx.Spend(fusionsim.Work{CPUMs: 100, Threads: 2})
			return nil, nil
		},
		"G": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			ctx.Spend(fusionsim.Work{CPUMs: 100, Threads: 2})
			return nil, nil
		},
	})
	local := []string{}
	for _, c := range []string{"B", "C", "F", "G"} {
		local = append(local, "A>"+c)
	}
	h := newHarness(t, app, testProfile(), setupOf(app, "s", local...), func(c *Config) { c.Timeout = 10 * time.Second })
	resps := h.run("SYNC-A-1769", at(0))
	if resps[0].Err != nil {
		t.Fatal(resps[0].Err)
	}
	// Three 100 vCPU-ms jobs share one vCPU: 300 ms, hidden behind B's 500 ms.
	if d := h.records[0].Duration; d != ms(500) {
		t.Fatalf("duration %v, want 500ms", d)
	}
}

// The 202 of an async client request carries the request id the invocation
// logs under.
func TestAsyncRequestID(t *testing.T) {
	app := newApp("A", taskMap{"A": sleepTask(ms(10))})
	h := newHarness(t, app, testProfile(), setupOf(app, "s"), nil)
	resps := h.run("A-128", at(0))
	if resps[0].StatusCode != 202 || resps[0].RequestID == "" || resps[0].RequestID != h.records[0].RequestID {
		t.Fatalf("202 request id %q, invocation %q", resps[0].RequestID, h.records[0].RequestID)
	}
	if l := h.linesWith("fusion-function-A-128", "START RequestId: "+resps[0].RequestID); len(l) != 1 {
		t.Fatalf("START line: %v", h.lines("fusion-function-A-128"))
	}
}

// Go runs a closure concurrently with the task: three 8 ms puts started with
// Go overlap the 100 ms parallel burn (two threads, at 3538 MB), so the task
// takes the burn's time; the invocation waits for a closure nobody waits
// for; a panic in a closure is its error.
func TestGo(t *testing.T) {
	app := newApp("A", taskMap{"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
		var fs []fusionsim.Future
		for i := 0; i < 3; i++ {
			fs = append(fs, ctx.Go(func(c fusionsim.Context) (fusionsim.Event, error) {
				return nil, c.Put("T", fusionsim.Item{Key: int64(i)})
			}))
		}
		ctx.Go(func(c fusionsim.Context) (fusionsim.Event, error) { c.Sleep(ms(300)); return nil, nil }) // not waited for
		boom := ctx.Go(func(c fusionsim.Context) (fusionsim.Event, error) { panic("boom") })
		ctx.Spend(fusionsim.Work{CPUMs: 200, Threads: 2})
		if _, err := boom.Wait(); err == nil || !strings.Contains(err.Error(), "boom") {
			return nil, fmt.Errorf("panic in a closure: %v", err)
		}
		return nil, fusionsim.WaitAll(fs...)
	}})
	h := newHarness(t, app, testProfile(), setupOf(app, "s"), nil)
	resps := h.run("SYNC-A-3538", at(0))
	if resps[0].Err != nil {
		t.Fatal(resps[0].Err)
	}
	r := h.records[0]
	if r.InternalMs != 300 || r.Duration != ms(300) {
		t.Fatalf("time-base %d ms, duration %v: want 300 ms (the unwaited sleep)", r.InternalMs, r.Duration)
	}
	if l := h.linesWith("fusion-function-A-3538", `"called":"A","time":100`); len(l) != 1 {
		t.Fatalf("the task's own time: %v", h.linesWith("fusion-function-A-3538", `"type":"call"`))
	}
	if n := h.em.Tables().Len("T"); n != 3 {
		t.Fatalf("%d items stored, want 3", n)
	}
}

// An arrival with its own Route goes there, not to the run's route; one
// whose route reaches no task fails the run before anything is sent.
func TestArrivalRoute(t *testing.T) {
	app := newApp("A", taskMap{"A": sleepTask(ms(100)), "B": sleepTask(ms(50))})
	h := newHarness(t, app, testProfile(), setupOf(app, "s"), nil)
	b := fusionsim.Arrival{At: ms(10), Route: fusionsim.MustParseRoute("SYNC-B-256"), Kind: "b"}
	resps := h.run("SYNC-A-128", at(0), b, fusionsim.Arrival{AfterPrevious: true, Route: fusionsim.MustParseRoute("B")})
	if len(h.recordsOf("A")) != 1 || len(h.recordsOf("B")) != 2 {
		t.Fatalf("records: %d of A, %d of B; want 1 and 2", len(h.recordsOf("A")), len(h.recordsOf("B")))
	}
	if mb := h.recordsOf("B")[0].Function.MemoryMB; mb != 256 {
		t.Errorf("B ran at %d MB, want the arrival's 256", mb)
	}
	if resps[1].StatusCode != 200 || resps[2].StatusCode != 202 {
		t.Errorf("statuses %d, %d; want 200 (sync route) and 202 (async route)", resps[1].StatusCode, resps[2].StatusCode)
	}
	_, err := h.em.Run(context.Background(), fusionsim.MustParseRoute("SYNC-A"), []fusionsim.Arrival{{Route: fusionsim.MustParseRoute("SYNC-Z")}})
	if !errors.Is(err, fusionsim.ErrUnknownFunction) || !strings.Contains(err.Error(), "arrivals[0]") {
		t.Errorf("unknown arrival route: %v, want ErrUnknownFunction naming arrivals[0]", err)
	}
}
