package emulator

import (
	"context"
	"fmt"
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
// wall time.
func benchInvocations(b *testing.B, app *fusionsim.App, route string, perRequest int, withLogs bool) {
	benchWith(b, app, route, perRequest, withLogs, false)
}

func benchWith(b *testing.B, app *fusionsim.App, route string, perRequest int, withLogs, withRecords bool) {
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
	// Warm up: create the environments.
	if _, err := em.Run(context.Background(), rt, make([]fusionsim.Arrival, 20)); err != nil {
		b.Fatal(err)
	}
	arrivals := make([]fusionsim.Arrival, b.N)
	ev := fusionsim.Event{"n": 1} // one body for every request, as loads send it
	for i := range arrivals {
		arrivals[i].At = time.Duration(i) * 50 * time.Millisecond
		arrivals[i].Event = ev
	}
	before := em.Stats().Invocations
	b.ReportAllocs()
	b.ResetTimer()
	resps, err := em.Run(context.Background(), rt, arrivals)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range resps {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	inv := em.Stats().Invocations - before
	if inv != b.N*perRequest {
		b.Fatalf("%d invocations for %d requests, want %d each", inv, b.N, perRequest)
	}
	b.ReportMetric(float64(inv)/b.Elapsed().Seconds(), "invocations/s")
	if sink != nil {
		b.ReportMetric(float64(sink.lines)/float64(inv), "lines/invocation")
	}
	if recs != nil {
		b.ReportMetric(float64(recs.n)/float64(inv), "records/invocation")
	}
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
