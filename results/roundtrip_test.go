package results

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// shopApp is a small application for whole runs: checkout (entry) calls
// cart sync and mail async; cart queries storage and, for large carts,
// calls audit async; mail burns CPU with two threads; audit sleeps, and
// times out when the request says so.
func shopApp() *fusionsim.App {
	return &fusionsim.App{Name: "shop", Entry: "checkout", Tasks: map[string]fusionsim.Task{
		"checkout": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			mail := ctx.Start("mail", nil, false)
			res, err := ctx.Call("cart", in, true)
			if err != nil {
				return nil, err
			}
			ctx.Log("checked out")
			_, err = mail.Wait()
			return res, err
		},
		"cart": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			key := int64(ctx.Rand().IntN(50))
			if err := ctx.Put("carts", fusionsim.Item{Key: key, Message: "x"}); err != nil {
				return nil, err
			}
			items, err := ctx.Query("carts", key)
			if err != nil {
				return nil, err
			}
			if in.Int("fail", 0) == 1 {
				return nil, errors.New("cart: payment declined")
			}
			if ctx.Rand().IntN(3) == 0 {
				if _, err := ctx.Call("audit", in, false); err != nil {
					return nil, err
				}
			}
			return fusionsim.Event{"items": len(items)}, nil
		},
		"mail": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			ctx.Spend(fusionsim.Work{Name: "mail", CPUMs: 40, Threads: 2, MemoryMB: 10})
			return nil, nil
		},
		"audit": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			d := 20 * time.Millisecond
			if in.Int("slow", 0) == 1 {
				d = time.Minute
			}
			ctx.Sleep(d)
			return nil, nil
		},
	}, Edges: []fusionsim.Edge{{Caller: "checkout", Called: "cart", Sync: true}, {Caller: "checkout", Called: "mail"}, {Caller: "cart", Called: "audit"}}}
}

// shopSetup builds a setup of shopApp() from groups such as "A+B:512,C:128"
// (workloads.FromDescription: the first task of a group is its function's
// entry; its other tasks run locally).
func shopSetup(t testing.TB, name, groups string) *fusionsim.Setup {
	t.Helper()
	s, err := workloads.FromDescription(shopApp(), name, groups)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type shopRun struct {
	name    string
	route   string
	setup   *fusionsim.Setup
	resps   []fusionsim.Response
	emRecs  []*emulator.Record
	extRecs []trace.Record
	ext     *trace.Extraction
}

// runShop runs three setups of shopApp, 60 requests each at 20 requests/s
// (one of them with an audit that times out), and extracts each setup's
// traces from the emulator's logs.
func runShop(t testing.TB) (*emulator.Emulator, *emulator.MemorySink, []*shopRun) {
	t.Helper()
	var cur *shopRun
	sink := emulator.NewMemorySink()
	em, err := emulator.New(emulator.Config{App: shopApp(), Seed: 42, Log: sink, Timeout: 10 * time.Second,
		Record: func(r *emulator.Record) { cur.emRecs = append(cur.emRecs, r) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(em.Close)
	ctx := context.Background()
	runs := []*shopRun{
		{name: "1675000001", route: "SYNC-checkout-128", setup: shopSetup(t, "1675000001", "checkout:128,cart:128,mail:128,audit:128")},
		{name: "1675000002", route: "SYNC-checkout-512", setup: shopSetup(t, "1675000002", "checkout+cart:512,mail:1024,audit:128")},
		{name: "1675000003", route: "SYNC-checkout-1024", setup: shopSetup(t, "1675000003", "checkout+cart:1024,mail:1024,audit:128")},
	}
	// Each setup's logs are the lines of [from, to); the next window starts
	// where the previous one ended, so that no line is read twice.
	from := em.Now()
	for _, r := range runs {
		cur = r
		if err := em.Deploy(ctx, r.setup); err != nil {
			t.Fatal(err)
		}
		arrivals := make([]fusionsim.Arrival, 60)
		for i := range arrivals {
			arrivals[i] = fusionsim.Arrival{At: time.Duration(i) * 50 * time.Millisecond}
		}
		arrivals[7].Event = fusionsim.Event{"slow": 1}
		arrivals[11].Event = fusionsim.Event{"fail": 1}
		if r.resps, err = em.Run(ctx, fusionsim.MustParseRoute(r.route), arrivals); err != nil {
			t.Fatal(err)
		}
		to := em.Now().Add(time.Nanosecond)
		if r.ext, err = trace.Collect(ctx, em, from, to, trace.Options{}); err != nil {
			t.Fatal(err)
		}
		from = to
		if err := r.ext.Err(); err != nil || r.ext.Partial != 0 {
			t.Fatalf("%v; %d partial invocations", err, r.ext.Partial)
		}
		if len(r.ext.Traces) != 1 {
			t.Fatalf("setup %s: traces of %v", r.name, r.ext.Traces.Names())
		}
		r.extRecs = r.ext.Traces[r.name]
	}
	return em, sink, runs
}

// fromEmulator is the record of an invocation as the emulator accounted for
// it (calls are not part of its account).
func fromEmulator(r *emulator.Record) trace.Record {
	return trace.Record{
		TraceID: r.TraceID, FusionGroup: fusionsim.NewTraceName(r.Setup), Source: trace.SourceOf(r.TraceID),
		CurrentFunction: r.Function.Task, BilledDuration: r.BilledMs, MemoryAvail: strconv.Itoa(r.Function.MemoryMB),
		MaxMemoryUsed: r.MaxMemoryUsedMB, IsRootInvocation: r.Root, IsColdStart: r.Cold,
		StartTimestamp: r.Start.UnixMilli(), EndTimestamp: r.End.UnixMilli(), InternalDuration: r.InternalMs,
	}
}

func sameRow(a, b Row) bool {
	fa, fb := []float64{a.MedianMs, a.P95Ms, a.P99Ms, a.E2EMedianMs, a.E2EP95Ms}, []float64{b.MedianMs, b.P95Ms, b.P99Ms, b.E2EMedianMs, b.E2EP95Ms}
	for i := range fa {
		if !near(fa[i], fb[i], 0) {
			return false
		}
	}
	a.MedianMs, a.P95Ms, a.P99Ms, a.E2EMedianMs, a.E2EP95Ms = 0, 0, 0, 0, 0
	b.MedianMs, b.P95Ms, b.P99Ms, b.E2EMedianMs, b.E2EP95Ms = 0, 0, 0, 0, 0
	return a == b
}

// TestRoundTripEmulator: emulator logs -> extractor -> traces -> summary
// equals the summary of the emulator's own accounting, for every setup of a
// whole run; and the results directory written from it reads back to the
// same rows, recomputed from its traces and responses too.
func TestRoundTripEmulator(t *testing.T) {
	_, sink, runs := runShop(t)
	pricing := model.Default().Pricing
	run := &Run{Manifest: Manifest{Command: "test", Workload: "shop", Seed: 42}, Pricing: pricing, NoFigures: true}
	for _, r := range runs {
		var own []trace.Record
		for _, e := range r.emRecs {
			own = append(own, fromEmulator(e))
		}
		want := Summarize(r.name, own, r.resps, pricing)
		got := Summarize(r.name, r.extRecs, r.resps, pricing)
		if !sameRow(got, want) {
			t.Errorf("setup %s:\nfrom the logs      %+v\nfrom the emulator  %+v", r.name, got, want)
		}
		if got.Requests != 60 || got.Invocations < 2*60 || got.Errors != 1 || got.ColdStarts == 0 || math.IsNaN(got.E2EMedianMs) || !(got.E2EMedianMs > got.MedianMs) {
			t.Errorf("setup %s: implausible row %+v", r.name, got)
		}
		run.Setups = append(run.Setups, SetupRun{Name: r.name, Setup: r.setup, Route: r.route, Records: r.extRecs, Responses: r.resps})
	}
	run.Logs = func(yield func(fusionsim.LogLine) error) error {
		return sink.ReadLines(time.Time{}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), yield)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := Write(dir, run); err != nil {
		t.Fatal(err)
	}
	for _, recompute := range []bool{false, true} {
		d, err := Read(dir, ReadOptions{Recompute: recompute})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Rows) != len(runs) {
			t.Fatalf("%d rows", len(d.Rows))
		}
		for i, r := range runs {
			want := Summarize(r.name, r.extRecs, r.resps, pricing)
			got := d.Rows[i]
			if !recompute {
				// summary.csv rounds to the µs and 1e-6.
				want = roundRow(want)
			}
			if !sameRow(got, want) {
				t.Errorf("recompute %v, setup %s: read back\n%+v\nwant\n%+v", recompute, r.name, got, want)
			}
			if !reflect.DeepEqual(d.Traces[r.name], r.extRecs) {
				t.Errorf("setup %s: traces differ after the round trip", r.name)
			}
		}
	}
	// The logs directory holds every line, one file per function.
	logs, _ := filepath.Glob(filepath.Join(dir, LogsDir, "*.log"))
	lines := 0
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		lines += strings.Count(string(b), "\n")
	}
	if lines != sink.Len() || len(logs) != len(sink.Functions()) {
		t.Errorf("logs/: %d files with %d lines, the run wrote %d lines of %d functions", len(logs), lines, sink.Len(), len(sink.Functions()))
	}
	// And the logs re-extract to the same traces.
	x := trace.NewExtractor(trace.Options{})
	for _, l := range logs {
		f, _ := os.Open(l)
		x.AddReader(f, l)
		f.Close()
	}
	ext := x.Finish()
	for _, r := range runs {
		// The files have no time on END lines: an invocation killed before
		// its time-base ends at its last FSMSG line instead.
		want := slices.Clone(r.extRecs)
		got := ext.Traces[r.name]
		for i := range want {
			if want[i].InternalDuration < 0 && i < len(got) {
				want[i].EndTimestamp = got[i].EndTimestamp
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("setup %s: traces from logs/ differ", r.name)
		}
	}
}

func roundRow(r Row) Row {
	rec := r.record()
	rows, err := ReadCSV(strings.NewReader(strings.Join(FullHeader, ",") + "\n" + csvLine(rec)))
	if err != nil {
		panic(err)
	}
	return rows[0]
}

func csvLine(fields []string) string {
	for i, f := range fields {
		if strings.ContainsAny(f, ",\"\n") {
			fields[i] = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
		}
	}
	return strings.Join(fields, ",") + "\n"
}

// TestWriteDeterministic: the same run written twice gives the same bytes
// in every file, figures included.
func TestWriteDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("draws figures")
	}
	var dirs []string
	for i := 0; i < 2; i++ {
		_, sink, runs := runShop(t)
		run := &Run{Manifest: Manifest{Seed: 42, Flags: map[string]string{"rps": "20", "seed": "42"}}}
		for _, r := range runs {
			run.Setups = append(run.Setups, SetupRun{Name: r.name, Setup: r.setup, Records: r.extRecs, Responses: r.resps})
		}
		run.Logs = func(yield func(fusionsim.LogLine) error) error {
			return sink.ReadLines(time.Time{}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), yield)
		}
		dir := filepath.Join(t.TempDir(), "run")
		if err := Write(dir, run); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	a, b := tree(t, dirs[0]), tree(t, dirs[1])
	if len(a) < 10 {
		t.Fatalf("only %d files", len(a))
	}
	for name, data := range a {
		if string(b[name]) != string(data) {
			t.Errorf("%s differs between two writes of the same run", name)
		}
	}
	if len(a) != len(b) {
		t.Errorf("%d vs %d files", len(a), len(b))
	}
}

// tree reads every file under dir by relative path.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		m[rel], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
