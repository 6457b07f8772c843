package emulator

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
)

// testProfile has constant figures so that tests can derive every expected
// time by hand:
//
//	init 100 ms, keep-alive 600 s,
//	sync request 10 ms, sync response 5 ms, async ack 20 ms, async dispatch 30 ms,
//	storage operations 8 ms, no client latency, no handler overheads,
//	runtime memory 50 MB, no memory pressure.
func testProfile() model.Profile {
	p := model.Default()
	p.Name = "test"
	p.CPU.BurstPeriodMs = 0         // pure processor sharing (burst_test.go sets it)
	p.CPU.WorkJitter = model.Dist{} // exact demands
	p.CPU.IOVariationCPUMs = 0
	p.CPU.MemoryPressureHeadroomMB, p.CPU.MemoryPressureCPUPerMB = 0, 0 // mempressure_test.go sets them
	p.ColdStart = model.ColdStart{
		Runtime:       "test",
		RuntimeInitMs: map[string]model.Dist{"test": model.Const(100)},
		InitMinVCPU:   1,
		KeepAliveS:    model.Const(600),
	}
	ms := func(v float64) model.Cost { return model.Cost{LatencyMs: model.Const(v)} }
	p.Remote = model.Remote{SyncRequest: ms(10), SyncResponse: ms(5), AsyncAck: ms(20), AsyncDispatch: ms(30)}
	p.Storage = model.Storage{Put: ms(8), Get: ms(8), Query: ms(8), Delete: ms(8)}
	p.Handler = model.Handler{RuntimeMemoryMB: 50}
	return p
}

type taskMap map[string]fusionsim.Task

func newApp(entry string, tasks taskMap) *fusionsim.App {
	return &fusionsim.App{Name: "test", Entry: entry, Tasks: tasks}
}

// setupOf makes a setup in which every call is remote to the default memory
// size, except the (entry, called) pairs listed in local ("A>B").
func setupOf(app *fusionsim.App, name string, local ...string) *fusionsim.Setup {
	isLocal := map[string]bool{}
	for _, l := range local {
		isLocal[l] = true
	}
	rules := fusionsim.Rules{}
	for _, e := range app.TaskNames() {
		rules[e] = map[string]fusionsim.RulePair{}
		for _, c := range app.TaskNames() {
			p := fusionsim.RulePair{
				Sync:  fusionsim.Rule{Strategy: fusionsim.Remote, URL: "SYNC-" + c},
				Async: fusionsim.Rule{Strategy: fusionsim.Remote, URL: c},
			}
			if isLocal[e+">"+c] {
				p.Sync.Strategy, p.Async.Strategy = fusionsim.Local, fusionsim.Local
			}
			rules[e][c] = p
		}
	}
	return &fusionsim.Setup{Rules: rules, TraceName: fusionsim.NewTraceName(name)}
}

// harness is an emulator with a memory sink and the records it wrote.
type harness struct {
	t       *testing.T
	em      *Emulator
	sink    *MemorySink
	records []*Record
}

func newHarness(t *testing.T, app *fusionsim.App, prof model.Profile, setup *fusionsim.Setup, tweak func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, sink: NewMemorySink()}
	cfg := Config{App: app, Profile: prof, Seed: 1, Log: h.sink, Record: func(r *Record) { h.records = append(h.records, r) }}
	if tweak != nil {
		tweak(&cfg)
	}
	em, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(em.Close)
	if err := em.Deploy(context.Background(), setup); err != nil {
		t.Fatal(err)
	}
	h.em = em
	return h
}

func (h *harness) run(route string, arrivals ...fusionsim.Arrival) []fusionsim.Response {
	h.t.Helper()
	resps, err := h.em.Run(context.Background(), fusionsim.MustParseRoute(route), arrivals)
	if err != nil {
		h.t.Fatal(err)
	}
	return resps
}

// at is an open-loop arrival at offset d.
func at(d time.Duration) fusionsim.Arrival { return fusionsim.Arrival{At: d} }

// recordsOf returns the records of task's function, in order.
func (h *harness) recordsOf(task string) []*Record {
	var out []*Record
	for _, r := range h.records {
		if r.Function.Task == task {
			out = append(out, r)
		}
	}
	return out
}

// lines returns every log line of function name.
func (h *harness) lines(function string) []string {
	var out []string
	h.sink.ReadLines(time.Time{}, h.em.Now().Add(time.Hour), func(l fusionsim.LogLine) error {
		if l.Function == function {
			out = append(out, l.Text)
		}
		return nil
	})
	return out
}

func (h *harness) linesWith(function, substr string) []string {
	var out []string
	for _, l := range h.lines(function) {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

func ms(v int) time.Duration { return time.Duration(v) * time.Millisecond }

func sleepTask(d time.Duration) fusionsim.Task {
	return func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
		ctx.Sleep(d)
		return fusionsim.Event{"slept": d.String()}, nil
	}
}
