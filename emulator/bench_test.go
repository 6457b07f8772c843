package emulator

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
)

// countingSink formats nothing further and keeps nothing: it counts the
// bytes of the lines the emulator formatted, so the benchmark pays for
// writing every log line but not for storing it.
type countingSink struct{ bytes, lines int }

func (s *countingSink) WriteLine(_ string, _ time.Time, line []byte) {
	s.bytes += len(line)
	s.lines++
}

// countingRecords counts the log records the emulator wrote, formatting
// nothing: the cost of the record path (what the closed loop pays before the
// extractor).
type countingRecords struct{ n int }

func (s *countingRecords) LogRecord(*fusionsim.LogRecord) { s.n++ }

// chainApp: T0 -> T1 -> ... -> Tn, each a sync call.
func chainApp(n int) *fusionsim.App {
	tasks := taskMap{}
	for i := 0; i <= n; i++ {
		next := fmt.Sprintf("T%d", i+1)
		last := i == n
		tasks[fmt.Sprintf("T%d", i)] = func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			if last {
				return in, nil
			}
			return ctx.Call(next, in, true)
		}
	}
	return newApp("T0", tasks)
}

// fanOutApp: F starts n async calls of W and waits for the acknowledgements.
func fanOutApp(n int) *fusionsim.App {
	return newApp("F", taskMap{
		"F": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			fs := make([]fusionsim.Future, n)
			for i := range fs {
				fs[i] = ctx.Start("W", in, false)
			}
			return nil, fusionsim.WaitAll(fs...)
		},
		"W": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) { return nil, nil },
	})
}

// benchInvocations sends b.N requests, 50 ms apart on the virtual clock (so
// environments stay warm), and reports emulated invocations per second of
// wall time and of CPU time (the process's user+sys time: steadier than
// wall time on a shared machine), the kernel's events and the allocations
// per invocation.
func benchInvocations(b *testing.B, app *fusionsim.App, route string, perRequest int, withLogs bool) {
	benchWith(b, app, route, perRequest, withLogs, false)
}

func benchWith(b *testing.B, app *fusionsim.App, route string, perRequest int, withLogs, withRecords bool) {
	r := runBench(b, app, route, perRequest, withLogs, withRecords)
	b.ReportMetric(float64(r.invocations)/b.Elapsed().Seconds(), "invocations/s")
	b.ReportMetric(float64(r.invocations)/r.cpu.Seconds(), "invocations/cpu-s")
	b.ReportMetric(float64(r.events)/float64(r.invocations), "events/invocation")
	b.ReportMetric(float64(r.allocs)/float64(r.invocations), "allocs/invocation")
	if r.lines > 0 {
		b.ReportMetric(float64(r.lines)/float64(r.invocations), "lines/invocation")
	}
	if r.records > 0 {
		b.ReportMetric(float64(r.records)/float64(r.invocations), "records/invocation")
	}
}

// benchRun is what runBench measured.
type benchRun struct {
	invocations, events int
	allocs              uint64
	lines, records      int
	cpu                 time.Duration // process CPU time (user+sys)
}

// runBench runs b.N requests of the benchmark (warm environments) on the
// emulator, with text logs, records or neither.
func runBench(b *testing.B, app *fusionsim.App, route string, perRequest int, withLogs, withRecords bool) benchRun {
	prof := model.Default()
	var sink *countingSink
	cfg := Config{App: app, Profile: prof, Seed: 1}
	if withLogs {
		sink = &countingSink{}
		cfg.Log = sink
	}
	var recs *countingRecords
	if withRecords {
		recs = &countingRecords{}
		cfg.Records = recs
	}
	em, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer em.Close()
	if err := em.Deploy(context.Background(), setupOf(app, "bench")); err != nil {
		b.Fatal(err)
	}
	rt := fusionsim.MustParseRoute(route)
	// Warm up: create the environments and fill the pools.
	if _, err := em.Run(context.Background(), rt, make([]fusionsim.Arrival, 20)); err != nil {
		b.Fatal(err)
	}
	arrivals := make([]fusionsim.Arrival, b.N)
	ev := fusionsim.Event{"n": 1} // one body for every request, as loads send it
	for i := range arrivals {
		arrivals[i].At = time.Duration(i) * 50 * time.Millisecond
		arrivals[i].Event = ev
	}
	before, events := em.Stats().Invocations, em.k.n
	failed := 0
	b.ReportAllocs()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	b.ResetTimer()
	cpu0 := cpuTime()
	err = em.RunEach(context.Background(), rt, arrivals, func(_ int, r *fusionsim.Response) {
		if r.Err != nil {
			failed++
		}
	})
	cpu := cpuTime() - cpu0
	b.StopTimer()
	runtime.ReadMemStats(&ms)
	if err != nil {
		b.Fatal(err)
	}
	if failed > 0 {
		b.Fatalf("%d requests failed", failed)
	}
	r := benchRun{invocations: em.Stats().Invocations - before, events: int(em.k.n - events), allocs: ms.Mallocs - mallocs, cpu: cpu}
	if r.invocations != b.N*perRequest {
		b.Fatalf("%d invocations for %d requests, want %d each", r.invocations, b.N, perRequest)
	}
	if sink != nil {
		r.lines = sink.lines
	}
	if recs != nil {
		r.records = recs.n
	}
	return r
}

// cpuTime is the process's CPU time so far (user+sys).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkChain5Sync: a chain of 5 warm sync remote calls (6 invocations
// per request), every log line formatted.
func BenchmarkChain5Sync(b *testing.B) {
	benchInvocations(b, chainApp(5), "SYNC-T0-1024", 6, true)
}

// BenchmarkFanOut10Async: a fan-out of 10 async calls (11 invocations per
// request), every log line formatted.
func BenchmarkFanOut10Async(b *testing.B) {
	benchInvocations(b, fanOutApp(10), "SYNC-F-1024", 11, true)
}

// The same without logs: the cost of the platform alone.
func BenchmarkChain5SyncNoLogs(b *testing.B) {
	benchInvocations(b, chainApp(5), "SYNC-T0-1024", 6, false)
}

func BenchmarkFanOut10AsyncNoLogs(b *testing.B) {
	benchInvocations(b, fanOutApp(10), "SYNC-F-1024", 11, false)
}

// With log records instead of text (the closed loop's path).
func BenchmarkChain5SyncRecords(b *testing.B) {
	benchWith(b, chainApp(5), "SYNC-T0-1024", 6, false, true)
}

func BenchmarkFanOut10AsyncRecords(b *testing.B) {
	benchWith(b, fanOutApp(10), "SYNC-F-1024", 11, false, true)
}
