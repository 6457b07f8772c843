package trace

import (
	"cmp"
	"context"
	"errors"
	"flag"
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
	"github.com/fusionsim/fusionsim/workloads"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testApp: A calls C async and B sync; B and C both call D async, so D runs
// twice per request (like IoT's AS); D sleeps past the timeout when the
// request's event says "slow".
func testApp() *fusionsim.App {
	return &fusionsim.App{Name: "tiny", Entry: "A", Tasks: map[string]fusionsim.Task{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			f := ctx.Start("C", in, false)
			if _, err := ctx.Call("B", in, true); err != nil {
				return nil, err
			}
			return nil, fusionsim.WaitAll(f)
		},
		"B": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			ctx.Spend(fusionsim.Work{Name: "b", CPUMs: 20, Threads: 1, MemoryMB: 5})
			ctx.Log("b done")
			_, err := ctx.Call("D", in, false)
			return fusionsim.Event{"ok": true}, err
		},
		"C": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			ctx.Sleep(30 * time.Millisecond)
			_, err := ctx.Call("D", fusionsim.Event{}, false)
			return nil, err
		},
		"D": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			d := 10 * time.Millisecond
			if in.Int("slow", 0) == 1 {
				d = 5 * time.Second
			}
			ctx.Sleep(d)
			return nil, nil
		},
	}, Edges: []fusionsim.Edge{{Caller: "A", Called: "B", Sync: true}, {Caller: "A", Called: "C"}, {Caller: "B", Called: "D"}, {Caller: "C", Called: "D"}}}
}

// testSetup builds a setup of testApp() from groups such as "A+B:512,C:128"
// (workloads.FromDescription: the first task of a group is its function's
// entry; its other tasks run locally).
func testSetup(t testing.TB, name, groups string) *fusionsim.Setup {
	t.Helper()
	s, err := workloads.FromDescription(testApp(), name, groups)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// emulatorRun runs two setups of testApp and returns the emulator's logs
// and its own account of every invocation.
func emulatorRun(t testing.TB) (*emulator.Emulator, []*emulator.Record) {
	t.Helper()
	var recs []*emulator.Record
	em, err := emulator.New(emulator.Config{App: testApp(), Seed: 7, Log: emulator.NewMemorySink(),
		Timeout: 4 * time.Second, Record: func(r *emulator.Record) { recs = append(recs, r) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(em.Close)
	ctx := context.Background()
	for _, run := range []struct {
		setup *fusionsim.Setup
		route string
	}{
		{testSetup(t, "1675000001", "A:128,B:128,C:128,D:128"), "SYNC-A-128"},
		{testSetup(t, "fused", "A+B:512,C:128,D:256"), "SYNC-A-512"},
	} {
		if err := em.Deploy(ctx, run.setup); err != nil {
			t.Fatal(err)
		}
		arrivals := make([]fusionsim.Arrival, 15)
		for i := range arrivals {
			arrivals[i] = fusionsim.Arrival{At: time.Duration(i) * 70 * time.Millisecond}
		}
		arrivals[3].Event = fusionsim.Event{"slow": 1}
		if _, err := em.Run(ctx, fusionsim.MustParseRoute(run.route), arrivals); err != nil {
			t.Fatal(err)
		}
	}
	return em, recs
}

// fromEmulator is what the extractor must find for an invocation the
// emulator accounted for (calls and currentTask are not in its account).
func fromEmulator(r *emulator.Record) Record {
	return Record{
		TraceID: r.TraceID, FusionGroup: fusionsim.NewTraceName(r.Setup), Source: SourceOf(r.TraceID),
		CurrentFunction: r.Function.Task, BilledDuration: r.BilledMs, MemoryAvail: strconv.Itoa(r.Function.MemoryMB),
		MaxMemoryUsed: r.MaxMemoryUsedMB, IsRootInvocation: r.Root, IsColdStart: r.Cold,
		StartTimestamp: r.Start.UnixMilli(), EndTimestamp: r.End.UnixMilli(), InternalDuration: r.InternalMs,
	}
}

func sortRecords(rs []Record) {
	slices.SortFunc(rs, func(a, b Record) int {
		return cmp.Or(cmp.Compare(a.StartTimestamp, b.StartTimestamp), strings.Compare(a.TraceID, b.TraceID),
			strings.Compare(a.CurrentFunction, b.CurrentFunction), cmp.Compare(a.EndTimestamp, b.EndTimestamp),
			cmp.Compare(a.BilledDuration, b.BilledDuration))
	})
}

// TestExtractEmulatorRun checks every extracted record against the
// emulator's own account of the invocation.
func TestExtractEmulatorRun(t *testing.T) {
	em, emRecs := emulatorRun(t)
	ext, err := Collect(context.Background(), em, time.Time{}, em.Now().Add(time.Millisecond), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ext.Err(); err != nil {
		t.Fatal(err)
	}
	if got := ext.Traces.Names(); !reflect.DeepEqual(got, []string{"1675000001", "fused"}) {
		t.Fatalf("setups %v", got)
	}
	if ext.Invocations != len(emRecs) {
		t.Errorf("%d invocations extracted, the emulator ran %d", ext.Invocations, len(emRecs))
	}
	var want, got []Record
	for _, r := range emRecs {
		want = append(want, fromEmulator(r))
	}
	killed := 0
	for _, name := range ext.Traces.Names() {
		recs := ext.Traces[name]
		if !slices.IsSortedFunc(recs, func(a, b Record) int { return cmp.Compare(a.StartTimestamp, b.StartTimestamp) }) {
			t.Errorf("%s: records not sorted by startTimestamp", name)
		}
		for _, r := range recs {
			if r.FusionGroup.Name != name {
				t.Errorf("record of %s filed under %s", r.FusionGroup.Name, name)
			}
			if len(r.Calls) == 0 && r.InternalDuration >= 0 {
				t.Errorf("record without calls: %+v", r)
			}
			for _, c := range r.Calls {
				if c.Caller != r.CurrentFunction {
					t.Errorf("call %+v in function %s: the caller is always the entry task", c, r.CurrentFunction)
				}
			}
			if r.InternalDuration < 0 {
				killed++
			}
			r.Calls, r.CurrentTask = nil, ""
			got = append(got, r)
		}
	}
	sortRecords(want)
	sortRecords(got)
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if killed != 6 {
		t.Errorf("%d killed invocations, want 6 (the slow D of each setup and its two async retries)", killed)
	}
}

// TestExtractGroupByFunction checks the prototype's grouping: D's two
// invocations of a request collapse into one record with both self-calls.
func TestExtractGroupByFunction(t *testing.T) {
	em, _ := emulatorRun(t)
	to := em.Now().Add(time.Millisecond)
	per, _ := Collect(context.Background(), em, time.Time{}, to, Options{})
	grp, _ := Collect(context.Background(), em, time.Time{}, to, Options{GroupByFunction: true})
	if grp.Invocations != per.Invocations {
		t.Errorf("grouping changed the invocation count: %d vs %d", grp.Invocations, per.Invocations)
	}
	recs := grp.Traces["1675000001"]
	perRecs := per.Traces["1675000001"]
	// 15 requests of 5 invocations, and two retries of the slow request's D.
	if len(recs) != 4*15 || len(perRecs) != 5*15+2 {
		t.Fatalf("remote setup: %d grouped records (want 60), %d per invocation (want 77)", len(recs), len(perRecs))
	}
	firstD := map[string]Record{}
	selfCalls := map[string]int{}
	for _, r := range perRecs {
		if r.CurrentFunction != "D" {
			continue
		}
		if f, ok := firstD[r.TraceID]; !ok || r.StartTimestamp < f.StartTimestamp {
			firstD[r.TraceID] = r
		}
		for _, c := range r.Calls {
			if c.Called == "D" {
				selfCalls[r.TraceID]++
			}
		}
	}
	for _, r := range recs {
		if r.CurrentFunction != "D" {
			continue
		}
		self := 0
		for _, c := range r.Calls {
			if c.Called == "D" {
				self++
			}
		}
		f := firstD[r.TraceID]
		if self != selfCalls[r.TraceID] || (r.TraceID != slowTrace(perRecs) && self != 2) {
			t.Errorf("grouped D record with %d self-calls, want those of all D invocations (%d): %+v", self, selfCalls[r.TraceID], r)
		}
		if r.BilledDuration != f.BilledDuration || r.StartTimestamp != f.StartTimestamp || r.InternalDuration != f.InternalDuration {
			t.Errorf("grouped D record %+v does not keep the first invocation %+v", r, f)
		}
	}
}

// slowTrace is the trace id of the request whose D timed out.
func slowTrace(recs []Record) string {
	for _, r := range recs {
		if r.InternalDuration < 0 {
			return r.TraceID
		}
	}
	return ""
}

func TestExtractCloudWatchExport(t *testing.T) {
	x := NewExtractor(Options{})
	files, _ := filepath.Glob("testdata/cloudwatch/*.log")
	if len(files) != 3 {
		t.Fatalf("fixture files: %v", files)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := x.AddReader(fh, f); err != nil {
			t.Fatal(err)
		}
		fh.Close()
	}
	ext := x.Finish()
	if ext.Lines != 55 || ext.Foreign != 4 || ext.Malformed != 2 || ext.Incomplete != 2 || ext.Inconsistent != 0 || ext.Invocations != 5 || ext.Partial != 0 {
		t.Errorf("counts: lines %d foreign %d malformed %d incomplete %d inconsistent %d invocations %d; want 55 4 2 2 0 5",
			ext.Lines, ext.Foreign, ext.Malformed, ext.Incomplete, ext.Inconsistent, ext.Invocations)
	}
	type where struct {
		file string
		line int
		id   string
		err  error
	}
	wantProblems := []where{
		{"testdata/cloudwatch/fusion-function-A-128.log", 22, "", ErrMalformed},
		{"testdata/cloudwatch/fusion-function-C-128.log", 14, "", ErrMalformed},
		{"testdata/cloudwatch/fusion-function-C-128.log", 11, "c0000000-0000-4000-8000-000000000002", ErrNoReport},
		{"testdata/cloudwatch/fusion-function-C-128.log", 15, "c0000000-0000-4000-8000-000000000003", ErrNoReport},
	}
	if len(ext.Problems) != len(wantProblems) {
		t.Fatalf("problems %v", ext.Problems)
	}
	for i, p := range ext.Problems {
		w := wantProblems[i]
		if p.Source != w.file || p.Line != w.line || p.RequestID != w.id || !errors.Is(p, w.err) {
			t.Errorf("problem %d: %v; want %s:%d %s %v", i, p, w.file, w.line, w.id, w.err)
		}
	}
	if ext.Err() == nil {
		t.Error("Err() is nil with problems")
	}
	recs := ext.Traces["1676026914"]
	if len(ext.Traces) != 1 || len(recs) != 5 {
		t.Fatalf("traces %v", ext.Traces.Names())
	}
	base := int64(1676019600000)
	tr1 := "1676026914-A-128-0123456789abcdef0123456789abcdef"
	tr2 := "1676026914-A-128-fedcba9876543210fedcba9876543210"
	// Order: startTimestamp.
	for i, w := range []struct {
		trace, fn          string
		billed, start, end int64
		internal           int64
		maxMem, calls      int
		root, cold         bool
	}{
		{tr1, "A", 414, base + 2, base + 416, 412, 81, 3, true, true},
		{tr1, "B", 391, base + 21, base + 411, 389, 79, 2, false, false},
		{tr1, "C", 1301, base + 91, base + 1392, 1299, 93, 2, false, true},
		{tr2, "A", 3042, base + 1001, base + 4041, 3040, 82, 3, true, false},
		{tr2, "B", 3000, base + 1026, base + 4026, -1, 80, 0, false, false}, // timed out: end from the END line
	} {
		r := recs[i]
		if r.TraceID != w.trace || r.CurrentFunction != w.fn || r.CurrentTask != w.fn || r.BilledDuration != w.billed ||
			r.StartTimestamp != w.start || r.EndTimestamp != w.end || r.InternalDuration != w.internal ||
			r.MaxMemoryUsed != w.maxMem || len(r.Calls) != w.calls || r.IsRootInvocation != w.root || r.IsColdStart != w.cold ||
			r.Source != "A" || r.MemoryAvail != "128" || r.FusionGroup != fusionsim.NewTraceName("1676026914") || !r.FusionGroup.Numeric {
			t.Errorf("record %d: %+v\nwant %+v", i, r, w)
		}
	}
	golden(t, "testdata/cloudwatch/expected-1676026914.json", recs)
}

// golden compares records with a golden file (-update rewrites it).
func golden(t *testing.T, path string, recs []Record) {
	t.Helper()
	got, err := MarshalRecords(recs)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("records differ from %s (go test -update rewrites it):\n got %s\nwant %s", path, got, want)
	}
}

func TestExtractInconsistent(t *testing.T) {
	id := "r1"
	lines := []string{
		"START RequestId: r1 Version: $LATEST",
		"2023-02-01T00:00:00.000Z\tr1\tINFO\tFSMSG" + `{"traceId":"s-A-128-1","time":1,"sourceFunction":"A","type":"init","content":{"isRootInvocation":true,"isColdStart":false,"fusionGroup":"s","memoryAvail":"128"}}`,
		"2023-02-01T00:00:00.000Z\tr1\tINFO\tFSMSG" + `{"traceId":"s-A-128-2","time":2,"sourceFunction":"A","type":"time-base","content":{"ms":1}}`,
		"2023-02-01T00:00:00.000Z\tr1\tINFO\tFSMSG" + `{"traceId":"s-A-128-1","time":3,"sourceFunction":"A","type":"time-base","content":{"ms":2}}`,
		"2023-02-01T00:00:00.000Z\tr1\tINFO\tFSMSG" + `{"traceId":"s-A-128-1","time":4,"sourceFunction":"A","type":"time-base","content":{"ms":3}}`,
		"REPORT RequestId: r1\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB",
		"REPORT RequestId: r1\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB",
		"REPORT RequestId: r2\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB",
		"START RequestId: r3 Version: $LATEST",
		"REPORT RequestId: r3\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB",
	}
	var ll []fusionsim.LogLine
	for _, l := range lines {
		ll = append(ll, fusionsim.LogLine{Function: "fusion-function-A-128", Text: l})
	}
	ext := Extract(ll, Options{})
	// r2 began before the lines read (partial); r3 has no init.
	if ext.Inconsistent != 3 || ext.Incomplete != 1 || ext.Partial != 1 || len(ext.Traces["s"]) != 1 {
		t.Fatalf("inconsistent %d incomplete %d partial %d records %d; problems %v", ext.Inconsistent, ext.Incomplete, ext.Partial, len(ext.Traces["s"]), ext.Problems)
	}
	if r := ext.Traces["s"][0]; r.InternalDuration != 2 || r.EndTimestamp != 3 || r.BilledDuration != 3 {
		t.Errorf("record %+v", r)
	}
	for i, line := range []int{3, 5, 7, 9} {
		if p := ext.Problems[i]; p.Line != line || p.Source != "fusion-function-A-128" {
			t.Errorf("problem %d: %v, want line %d", i, p, line)
		}
	}
	if !errors.Is(ext.Problems[3], ErrNoInit) || ext.Problems[0].RequestID != id {
		t.Errorf("problems %v", ext.Problems)
	}
}

func TestSourceOf(t *testing.T) {
	for in, want := range map[string]string{
		"1676020374-I-128-b6dc2f8847766b348e12745dcbc5d15f": "I",
		"a_remote-A-128-4c22":                               "A",
		"x":                                                 "",
		"x-":                                                "",
		"x-B":                                               "B",
	} {
		if got := SourceOf(in); got != want {
			t.Errorf("SourceOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// RootTraceIDs maps the request id of every root invocation, and only of
// those, to its trace id, as the emulator's account has them; with and
// without the prototype's grouping.
func TestRootTraceIDs(t *testing.T) {
	em, emRecs := emulatorRun(t)
	want := map[string]string{}
	for _, r := range emRecs {
		if r.Root {
			want[r.RequestID] = r.TraceID
		}
	}
	if len(want) != 30 {
		t.Fatalf("%d roots in the emulator's account, want 30", len(want))
	}
	for _, group := range []bool{false, true} {
		ext, err := Collect(context.Background(), em, time.Time{}, em.Now().Add(time.Millisecond), Options{RootTraceIDs: true, GroupByFunction: group})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ext.RootTraceIDs, want) {
			t.Errorf("grouping %v: %d root trace ids, want %d: %v", group, len(ext.RootTraceIDs), len(want), ext.RootTraceIDs)
		}
	}
	ext, _ := Collect(context.Background(), em, time.Time{}, em.Now().Add(time.Millisecond), Options{})
	if ext.RootTraceIDs != nil {
		t.Error("RootTraceIDs filled without the option")
	}
}
