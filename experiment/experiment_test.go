package experiment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/progress"
	"github.com/fusionsim/fusionsim/results"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

type rig struct {
	em      *emulator.Emulator
	sink    *emulator.MemorySink
	records []*emulator.Record
}

func newRig(t *testing.T, w workloads.Workload, seed uint64) *rig {
	t.Helper()
	r := &rig{sink: emulator.NewMemorySink()}
	em, err := emulator.New(emulator.Config{App: w.App, Seed: seed, Log: r.sink, Record: func(rec *emulator.Record) { r.records = append(r.records, rec) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(em.Close)
	r.em = em
	return r
}

func constant(rps float64, d time.Duration) LoadFunc {
	return func(*fusionsim.Setup) ([]fusionsim.Arrival, error) { return load.Constant(rps, d) }
}

func workload(t *testing.T, name string) workloads.Workload {
	t.Helper()
	w, err := workloads.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func setups(t *testing.T, w workloads.Workload, specs ...string) []*fusionsim.Setup {
	t.Helper()
	s, err := Setups(w.App, specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFixedIoT(t *testing.T) {
	w := workload(t, "iot")
	r := newRig(t, w, 1)
	var lines int
	var released int
	res, err := Run(context.Background(), Config{
		Platform: r.em, App: w.App, Planner: Fixed(setups(t, w, "remote", "local")),
		Load:     constant(10, 10*time.Second),
		Records:  func(string, *fusionsim.LogRecord) { lines++ },
		LogsRead: func() { released++; r.sink.Reset() },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Iterations) != 2 || res.Iterations[0].Name != "remote" || res.Iterations[1].Name != "local" {
		t.Fatalf("iterations %+v", res.Iterations)
	}
	remote, local := res.Iterations[0], res.Iterations[1]
	if remote.Row.Requests != 100 || remote.Row.Invocations != 1100 {
		t.Errorf("remote: %d requests, %d invocations; want 100 and 1100 (11 per request)", remote.Row.Requests, remote.Row.Invocations)
	}
	if local.Row.Requests != 100 || local.Row.Invocations != 100 {
		t.Errorf("local: %d requests, %d invocations; want 100 and 100", local.Row.Requests, local.Row.Invocations)
	}
	if remote.Route.String() != "SYNC-I-128" {
		t.Errorf("route %s", remote.Route)
	}
	if remote.Row.Errors != 0 || local.Row.Errors != 0 || remote.LogProblems != 0 {
		t.Errorf("errors %d/%d, log problems %d", remote.Row.Errors, local.Row.Errors, remote.LogProblems)
	}
	if released != 2 || lines == 0 {
		t.Errorf("LogsRead called %d times, %d lines passed on", released, lines)
	}
	if got := res.Setups().Names(); !reflect.DeepEqual(got, []string{"local", "remote"}) {
		t.Errorf("setups %v", got)
	}

	// The same through the text round trip (a platform without records,
	// whose logs are read back with Logs): the same traces and rows.
	r2 := newRig(t, w, 1)
	textLines := 0
	res2, err := Run(context.Background(), Config{
		Platform: struct{ fusionsim.Platform }{r2.em}, Clock: r2.em.Now, App: w.App, Planner: Fixed(setups(t, w, "remote", "local")),
		Load:     constant(10, 10*time.Second),
		Logs:     func(string, fusionsim.LogLine) error { textLines++; return nil },
		LogsRead: r2.sink.Reset,
	})
	if err != nil {
		t.Fatal(err)
	}
	if textLines != lines {
		t.Errorf("%d text lines, %d records", textLines, lines)
	}
	for i := range res.Iterations {
		if a, b := res.Iterations[i], res2.Iterations[i]; !reflect.DeepEqual(a.Records, b.Records) || fmt.Sprint(a.Row) != fmt.Sprint(b.Row) {
			t.Errorf("%s: records and text give different traces or rows: %v vs %v", a.Name, a.Row, b.Row)
		}
	}

	// The traces come from the logs; they agree with the platform's own
	// account, invocation for invocation.
	if len(r.records) != 1200 {
		t.Fatalf("the platform counted %d invocations", len(r.records))
	}
	billed := map[string]int64{}
	for _, rec := range r.records {
		billed[rec.Setup] += rec.BilledMs
	}
	for _, it := range res.Iterations {
		var sum int64
		for _, rec := range it.Records {
			sum += rec.BilledDuration
		}
		if sum != billed[it.Name] {
			t.Errorf("%s: billed %d ms in the traces, %d by the platform", it.Name, sum, billed[it.Name])
		}
	}
}

// history planner: remote first, then local if remote's median is above
// 100 ms, then done.
type historyPlanner struct {
	app  *fusionsim.App
	seen []int
}

func (p *historyPlanner) Next(_ context.Context, h []Iteration) (*fusionsim.Setup, bool, string, error) {
	p.seen = append(p.seen, len(h))
	switch len(h) {
	case 0:
		s, err := workloads.Remote(p.app, "1675000000", 0)
		return s, false, "base setup", err
	case 1:
		if h[0].Row.MedianMs > 100 && len(h[0].Records) > 0 {
			s, err := workloads.Local(p.app, "1675000001")
			return s, true, "remote too slow", err
		}
		return nil, true, "remote is fine", nil
	}
	return nil, false, "", errors.New("asked again")
}

func TestPlannerSeesHistory(t *testing.T) {
	w := workload(t, "split")
	r := newRig(t, w, 2)
	p := &historyPlanner{app: w.App}
	res, err := Run(context.Background(), Config{Platform: r.em, App: w.App, Planner: p, Load: constant(5, 4*time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.seen, []int{0, 1}) {
		t.Errorf("planner asked with histories of %v", p.seen)
	}
	if len(res.Iterations) != 2 || res.Reason != "remote too slow" || res.Iterations[1].Reason != "remote too slow" {
		t.Errorf("iterations %d, reason %q", len(res.Iterations), res.Reason)
	}
	for _, it := range res.Iterations {
		for _, rec := range it.Records {
			if rec.FusionGroup.Name != it.Name || !rec.FusionGroup.Numeric {
				t.Fatalf("%s: record of %v", it.Name, rec.FusionGroup)
			}
		}
	}
}

type failingPlanner struct{}

func (failingPlanner) Next(context.Context, []Iteration) (*fusionsim.Setup, bool, string, error) {
	return nil, false, "", errors.New("no idea")
}

func TestErrors(t *testing.T) {
	w := workload(t, "split")
	r := newRig(t, w, 1)
	base := Config{Platform: r.em, App: w.App, Load: constant(1, time.Second)}

	cfg := base
	cfg.Planner = failingPlanner{}
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "planning iteration 1: no idea") {
		t.Errorf("planner error: %v", err)
	}

	cfg = base
	remote := setups(t, w, "remote")
	cfg.Planner = Fixed{remote[0], remote[0]}
	res, err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), `setup name "remote" is used twice`) || len(res.Iterations) != 1 {
		t.Errorf("duplicate names: %v (%d iterations kept)", err, len(res.Iterations))
	}

	cfg = base
	iot := workload(t, "iot")
	cfg.Planner = Fixed(setups(t, iot, "remote"))
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), `is not a task of split`) {
		t.Errorf("foreign setup: %v", err)
	}

	cfg = base
	cfg.Planner = Fixed(remote)
	cfg.Load = func(*fusionsim.Setup) ([]fusionsim.Arrival, error) { return nil, nil }
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "no requests") {
		t.Errorf("empty load: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg = base
	cfg.Planner = Fixed(remote)
	if _, err := Run(ctx, cfg); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestDeterministic(t *testing.T) {
	w := workload(t, "iot")
	run := func() ([]Iteration, string) {
		r := newRig(t, w, 42)
		var logs bytes.Buffer
		res, err := Run(context.Background(), Config{
			Platform: r.em, App: w.App, Planner: Fixed(setups(t, w, "remote", "I+CW+SE:128,CS+CSL+CSA:128,CA+DJ:128,CT:128,AS:1650")),
			Load: func(*fusionsim.Setup) ([]fusionsim.Arrival, error) { return load.Poisson(10, 5*time.Second, 42) },
			Logs: func(s string, l fusionsim.LogLine) error { fmt.Fprintln(&logs, s, l.Function, l.Text); return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		return res.Iterations, logs.String()
	}
	a, la := run()
	b, lb := run()
	if la != lb {
		t.Error("logs differ between two runs with the same seed")
	}
	for i := range a {
		if !reflect.DeepEqual(a[i].Records, b[i].Records) || fmt.Sprint(a[i].Row) != fmt.Sprint(b[i].Row) {
			t.Errorf("iteration %d differs", i)
		}
	}
}

func TestProgress(t *testing.T) {
	w := workload(t, "split")
	var buf bytes.Buffer
	bar := progress.New(&buf, progress.Options{Enabled: true})
	r := &rig{sink: emulator.NewMemorySink()}
	em, err := emulator.New(emulator.Config{App: w.App, Seed: 1, Log: r.sink, Progress: bar.Update})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	_, err = Run(context.Background(), Config{Platform: em, App: w.App, Planner: Fixed(setups(t, w, "remote")), Load: constant(10, 2*time.Second), Progress: bar})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "remote 0/20 0%") || !strings.Contains(out, "remote 20/20 100%") || !strings.Contains(out, "remote: 20 requests, 140 invocations, median") {
		t.Errorf("progress output:\n%s", out)
	}
}

func TestSetupsSpecs(t *testing.T) {
	w := workload(t, "split")
	s, err := Setups(w.App, []string{"remote", "local", "opt=A+B+D+E:128,C:1024,F:1536,G:1536", "A.B.D.E,C,F,G"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range s {
		names = append(names, x.Name())
	}
	if strings.Join(names, " ") != "remote local opt setup4" {
		t.Errorf("names %v", names)
	}
	s, err = Setups(w.App, []string{"A+B+D+E:128,C:1024,F:1536,G:1536"}, []string{"c_optimal"})
	if err != nil || s[0].Name() != "c_optimal" {
		t.Errorf("renamed: %v %v", s, err)
	}
	file := "../workloads/testdata/split-coldStarts-configurationMetadata.json.gz"
	s, err = Setups(w.App, []string{file}, nil)
	if err != nil || len(s) != 4 || s[0].Name() != "a_remote" || s[3].Name() != "d_optimal_small" {
		t.Fatalf("file: %v %v", s, err)
	}
	s, err = Setups(w.App, []string{file}, []string{"c_optimal", "b_local"})
	if err != nil || len(s) != 2 || s[0].Name() != "b_local" {
		t.Errorf("file selection: %v %v", s, err)
	}
	for _, tc := range []struct {
		specs, names []string
		want         string
	}{
		{[]string{file}, []string{"e_best"}, "holds none of the setups e_best"},
		{[]string{file}, []string{"c_optimal", "e_best"}, "no setup file holds e_best"},
		{[]string{"nosuch.json"}, nil, "nosuch.json"},
		{[]string{"fastest"}, nil, `"fastest" is no file, not remote or local`},
		{[]string{"A+B+X"}, nil, `"X" is not a task of split`},
		{[]string{"my-setup=A,B,C,D,E,F,G"}, nil, "not allowed"},
		{[]string{"remote", "remote"}, nil, `"remote" is used twice`},
		{[]string{"remote", "local"}, []string{"x"}, "here are 2 setups and 1 names"},
	} {
		_, err := Setups(w.App, tc.specs, tc.names)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: %v, want %q", tc.specs, tc.names, err, tc.want)
		}
	}
	sw, err := Sweep(w.App, []int{128, 1024})
	if err != nil || sw[1].Name() != "remote_1024" {
		t.Errorf("sweep: %v %v", sw, err)
	}
	if _, err := Sweep(w.App, []int{128, 64}); err == nil || !strings.Contains(err.Error(), "64 MB") {
		t.Errorf("bad sweep: %v", err)
	}
}

// TestLeanSameRows: a lean run (records and responses streamed, none
// kept) gives the rows of a run that keeps them, and its stream gets
// every record and response; records grouped the prototype's way (read
// after the load) give the same rows as Summarize of them.
func TestLeanSameRows(t *testing.T) {
	w := workload(t, "iot")
	var want []Iteration
	for _, lean := range []bool{false, true} {
		r := newRig(t, w, 3)
		streams := map[string]*countStream{}
		res, err := Run(context.Background(), Config{
			Platform: r.em, App: w.App, Planner: Fixed(setups(t, w, "remote", "local")),
			Load: constant(10, 10*time.Second), Lean: lean,
			Stream: func(name string) (IterationStream, error) {
				s := &countStream{}
				streams[name] = s
				return s, nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Iterations {
			s := streams[it.Name]
			if !s.closed || s.records != it.Row.Invocations || s.responses != it.Row.Requests {
				t.Errorf("lean %v, %s: stream got %d records and %d responses (closed %v), row %d and %d", lean, it.Name, s.records, s.responses, s.closed, it.Row.Invocations, it.Row.Requests)
			}
			if lean != (it.Records == nil && it.Responses == nil) {
				t.Errorf("lean %v: %d records and %d responses kept", lean, len(it.Records), len(it.Responses))
			}
		}
		if !lean {
			want = res.Iterations
			for _, it := range want {
				if got := results.Summarize(it.Name, it.Records, it.Responses, model.Default().Pricing); !reflect.DeepEqual(roundedRow(got), roundedRow(it.Row)) {
					t.Errorf("%s: row %+v, Summarize of its records %+v", it.Name, it.Row, got)
				}
			}
			continue
		}
		for i, it := range res.Iterations {
			if !reflect.DeepEqual(roundedRow(it.Row), roundedRow(want[i].Row)) {
				t.Errorf("%s: lean row %+v, want %+v", it.Name, it.Row, want[i].Row)
			}
		}
	}
}

// roundedRow is the row's CSV fields (NaN compares equal there).
func roundedRow(r results.Row) string {
	var b bytes.Buffer
	results.WriteFullCSV(&b, []results.Row{r})
	return b.String()
}

type countStream struct {
	records, responses int
	closed             bool
}

func (c *countStream) Record(*trace.KeyedRecord) error         { c.records++; return nil }
func (c *countStream) Response(int, *fusionsim.Response) error { c.responses++; return nil }
func (c *countStream) Close() error                            { c.closed = true; return nil }
func (c *countStream) Abort()                                  {}

// leanCounter is an emulator that counts the records it writes and the
// runs that asked for lean records.
type leanCounter struct {
	*emulator.Emulator
	records, leanRuns int
}

func (l *leanCounter) SetRecordSink(s fusionsim.RecordSink) {
	if s == nil {
		l.Emulator.SetRecordSink(nil)
		return
	}
	l.Emulator.SetRecordSink(fusionsim.RecordSinkFunc(func(r *fusionsim.LogRecord) {
		l.records++
		s.LogRecord(r)
	}))
}

func (l *leanCounter) SetLeanRecords(on bool) {
	if on {
		l.leanRuns++
	}
	l.Emulator.SetLeanRecords(on)
}

// TestLeanRecordsSameRows: a lean run whose records go nowhere but into
// its rows (as the exhaustive sweep runs) has the emulator write only the
// records a summary reads, fewer of them, and gets the rows of a run with
// every record, setup by setup, for each workload without request kinds.
func TestLeanRecordsSameRows(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration // 0: the profile's
	}{
		{"iot", 0}, {"split", 0}, {"splittest", 0}, {"sieve", 0},
		// Invocations killed at their timeout: rows with errors and
		// roots without an internal duration.
		{"iot", 150 * time.Millisecond},
	} {
		name := tc.name
		w := workload(t, name)
		var rows [2][]string
		var records [2]int
		for i, lean := range []bool{false, true} {
			em, err := emulator.New(emulator.Config{App: w.App, Seed: 7, Timeout: tc.timeout})
			if err != nil {
				t.Fatal(err)
			}
			p := &leanCounter{Emulator: em}
			res, err := Run(context.Background(), Config{
				Platform: p, App: w.App, Planner: Fixed(setups(t, w, "remote", "local")),
				Load: constant(10, 20*time.Second), Lean: lean,
			})
			em.Close()
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range res.Iterations {
				if it.LogProblems > 0 {
					t.Errorf("%s, lean %v, %s: %d problems in the records", name, lean, it.Name, it.LogProblems)
				}
				if tc.timeout > 0 && it.Row.Errors == 0 {
					t.Errorf("%s, lean %v, %s: no request failed at a %v timeout", name, lean, it.Name, tc.timeout)
				}
				rows[i] = append(rows[i], roundedRow(it.Row))
			}
			records[i] = p.records
			if want := map[bool]int{false: 0, true: len(res.Iterations)}[lean]; p.leanRuns != want {
				t.Errorf("%s, lean %v: %d iterations asked for lean records, want %d", name, lean, p.leanRuns, want)
			}
		}
		if !reflect.DeepEqual(rows[1], rows[0]) {
			t.Errorf("%s: lean records give rows\n%v\nevery record\n%v", name, rows[1], rows[0])
		}
		if records[1] >= records[0] {
			t.Errorf("%s: %d lean records, %d in all: lean writes fewer", name, records[1], records[0])
		}
	}
}
