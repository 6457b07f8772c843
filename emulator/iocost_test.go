package emulator

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
)

// The CPU demand of each I/O operation varies by a normal amount of
// cpu.ioVariationCPUMs (a remote call's sending here): at one vCPU an async
// call of 2 vCPU-ms takes its 20 ms acknowledgement plus 2 ms exactly
// without the variation; with 1 vCPU-ms of variation the acks spread by
// about 1 ms around 22 ms, never below the latency alone, the same on
// the same seed.
func TestIOVariation(t *testing.T) {
	app := newApp("A", taskMap{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			_, err := ctx.Call("B", nil, false)
			return nil, err
		},
		"B": sleepTask(0),
	})
	checkIOVariation(t, app, 22, func(p *model.Profile) { p.Remote.AsyncAck.CPUMs = 2 })
}

// checkIOVariation runs 400 requests of app (entry A, one per second at
// one vCPU) with the profile set by tweak, without I/O variation and with
// 1 vCPU-ms of it: without, every A takes want ms; with, the same on the
// same seed, never below want-2 (the latency alone), about want on
// average with a spread of about 1 ms.
func checkIOVariation(t *testing.T, app *fusionsim.App, want float64, tweak func(*model.Profile)) {
	t.Helper()
	durations := func(sd float64) []float64 {
		p := testProfile()
		tweak(&p)
		p.CPU.IOVariationCPUMs = sd
		h := newHarness(t, app, p, setupOf(app, "s"), nil)
		var arr []fusionsim.Arrival
		for i := range 400 {
			arr = append(arr, at(time.Duration(i)*time.Second))
		}
		h.run("SYNC-A-1769", arr...)
		var out []float64
		for _, r := range h.recordsOf("A") {
			out = append(out, float64(r.Duration)/1e6)
		}
		return out
	}
	for _, d := range durations(0) {
		if math.Abs(d-want) > 1e-6 {
			t.Fatalf("without variation: %v ms, want %v", d, want)
		}
	}
	a, b := durations(1), durations(1)
	var sum, sq float64
	for i, d := range a {
		if d != b[i] {
			t.Fatalf("request %d: %v then %v ms on the same seed", i, d, b[i])
		}
		if d < want-2 {
			t.Errorf("request %d: %v ms, below the latency", i, d)
		}
		sum += d
		sq += (d - want) * (d - want)
	}
	mean, sd := sum/float64(len(a)), math.Sqrt(sq/float64(len(a)))
	if math.Abs(mean-want) > 0.2 || sd < 0.8 || sd > 1.2 {
		t.Errorf("with 1 vCPU-ms of variation: mean %.2f ms, sd %.2f ms; want about %v and 1", mean, sd, want)
	}
}

// Each local call costs the caller handler.localCallCPUMs before the
// callee runs, inside the call's recorded time: at one vCPU A's local sync
// call of B and its local async call of C, 5 vCPU-ms each, add 10 ms to A.
func TestLocalCallCPU(t *testing.T) {
	app := newApp("A", taskMap{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			if _, err := ctx.Call("B", nil, true); err != nil {
				return nil, err
			}
			return nil, fusionsim.WaitAll(ctx.Start("C", nil, false))
		},
		"B": sleepTask(10 * time.Millisecond),
		"C": sleepTask(10 * time.Millisecond),
	})
	run := func(c float64) (*Record, *harness) {
		p := testProfile()
		p.Handler.LocalCallCPUMs = c
		h := newHarness(t, app, p, setupOf(app, "s", "A>B", "A>C"), nil)
		h.run("SYNC-A-1769", at(0))
		return h.records[0], h
	}
	plain, _ := run(0)
	costly, h := run(5)
	if d := costly.Duration - plain.Duration; d != 10*time.Millisecond {
		t.Errorf("two local calls of 5 vCPU-ms at one vCPU add %v, want 10ms", d)
	}
	if calls := h.linesWith("fusion-function-A-1769", `"called":"B"`); len(calls) != 1 || !strings.Contains(calls[0], `"time":15`) {
		t.Errorf("B's call record %v, want 15 ms (5 of the handler's, 10 of B's sleep)", calls)
	}
	bad := model.Default()
	bad.Handler.LocalCallCPUMs = -1
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "handler.localCallCPUMs: -1") {
		t.Errorf("a negative handler.localCallCPUMs: %v", err)
	}
	bad = model.Default()
	bad.CPU.IOVariationCPUMs = math.NaN()
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "cpu.ioVariationCPUMs") {
		t.Errorf("a NaN cpu.ioVariationCPUMs: %v", err)
	}
}

// A storage operation's CPU demand varies like a call's (ioCPU) whichever
// way its cost runs: with a latency after its CPU part (one coroutine
// block, runWake with then) as without. At one vCPU a put of 2 vCPU-ms
// and 5 ms of latency takes 7 ms without variation, and varies by about
// 1 ms with 1 vCPU-ms of it (the variation was lost when the two parts
// became one block).
func TestIOVariationOfStorage(t *testing.T) {
	app := newApp("A", taskMap{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			return nil, ctx.Put("T", fusionsim.Item{Key: 1})
		},
	})
	checkIOVariation(t, app, 7, func(p *model.Profile) {
		p.Storage.FirstConnection = model.Cost{}
		p.Storage.Put = model.Cost{CPUMs: 2, LatencyMs: model.Const(5)}
	})
}
