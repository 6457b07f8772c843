package results

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
)

// kindsFixture: two requests of kind a (traces t1 with two invocations, t2)
// and one throttled; one of kind b (t3); one dropped of each kind; one
// request without a kind (t4).
func kindsFixture() ([]trace.Record, []fusionsim.Response) {
	rec := func(id string, root bool, billed int64, mb string, internal int64) trace.Record {
		return trace.Record{TraceID: "s1-A-128-" + id, FusionGroup: fusionsim.NewTraceName("s1"), Source: "A",
			CurrentFunction: "A", CurrentTask: "A", StartTimestamp: 1675209600000, EndTimestamp: 1675209601000, IsRootInvocation: root,
			BilledDuration: billed, MemoryAvail: mb, InternalDuration: internal, Calls: []fusionsim.Call{}}
	}
	recs := []trace.Record{
		rec("t1", true, 100, "128", 90), rec("t1", false, 50, "256", 40),
		rec("t2", true, 200, "128", 190),
		rec("t3", true, 1000, "1024", 950),
		rec("t4", true, 10, "128", 10),
	}
	t0 := time.Unix(1675209600, 0).UTC()
	resp := func(kind, traceID string, status int, latencyMs int, err error) fusionsim.Response {
		r := fusionsim.Response{Sent: t0, Received: t0.Add(time.Duration(latencyMs) * time.Millisecond), StatusCode: status,
			RequestID: "r-" + traceID, Kind: kind, Err: err}
		if traceID != "" {
			r.TraceID = "s1-A-128-" + traceID
		}
		return r
	}
	resps := []fusionsim.Response{
		resp("a", "t1", 200, 120, nil),
		resp("a", "t2", 200, 220, nil),
		resp("a", "", 429, 5, fusionsim.ErrThrottled),
		resp("b", "t3", 200, 1000, nil),
		resp("b", "", 0, 0, fusionsim.ErrDropped),
		resp("a", "", 0, 0, fusionsim.ErrDropped),
		resp("", "t4", 200, 20, nil),
	}
	return recs, resps
}

// The figures of each kind, derived by hand (GB = 1024 MB):
//
//	a: 3 requests (1 throttled), 1 dropped; roots 90, 190 ms: median 140,
//	   p95 190; e2e 120, 220: median 170, p95 220; billed 100x128 + 50x256
//	   + 200x128 = 51,200 MB-ms = 50 GB-ms / 3 requests.
//	b: 1 request, 1 dropped; 950 ms; e2e 1000 ms; 1000 GB-ms.
//	all: 5 requests sent, 2 dropped, 1 error; roots 10, 90, 190, 950:
//	   median 140, p95 950; e2e 20, 120, 220, 1000: median 170, p95 1000;
//	   1,076,480 MB-ms = 1051.25 GB-ms / 5 = 210.25.
func TestSummarizeKinds(t *testing.T) {
	recs, resps := kindsFixture()
	rows := SummarizeKinds("s1", recs, resps, model.Default().Pricing)
	want := []KindRow{
		{"s1", "a", 3, 1, 140, 190, 170, 220, 50.0 / 3, 1},
		{"s1", "b", 1, 1, 950, 950, 1000, 1000, 1000, 0},
		{"s1", AllKinds, 5, 2, 140, 950, 170, 1000, 210.25, 1},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v", rows)
	}
	for i, w := range want {
		g := rows[i]
		if g.Setup != w.Setup || g.Kind != w.Kind || g.Requests != w.Requests || g.Dropped != w.Dropped || g.Errors != w.Errors ||
			g.MedianMs != w.MedianMs || g.P95Ms != w.P95Ms || g.E2EMedianMs != w.E2EMedianMs || g.E2EP95Ms != w.E2EP95Ms ||
			math.Abs(g.GBMsPerRequest-w.GBMsPerRequest) > 1e-9 {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	// The mixture is summary.csv's row: dropped requests are not requests.
	row := Summarize("s1", recs, resps, model.Default().Pricing)
	if row.Requests != 5 || row.Errors != 1 || row.MedianMs != 140 || math.Abs(row.GBMsPerRequest-210.25) > 1e-9 {
		t.Errorf("summary row %+v", row)
	}
	if SummarizeKinds("s1", recs, []fusionsim.Response{{StatusCode: 200}}, model.Pricing{}) != nil {
		t.Error("per-kind rows for responses without kinds")
	}
}

// A run with kinds writes summary-kinds.csv and the kind and trace id of
// each response; reading the directory gives them back (dropped requests
// still dropped), and recomputing gives the same rows. A run without
// kinds writes neither.
func TestWriteKinds(t *testing.T) {
	recs, resps := kindsFixture()
	dir := filepath.Join(t.TempDir(), "run")
	run := &Run{Manifest: Manifest{Command: "test"}, NoFigures: true,
		Setups: []SetupRun{{Name: "s1", Records: recs, Responses: resps, DroppedIterations: 1}}}
	if err := Write(dir, run); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, SummaryKindsFile))
	if err != nil {
		t.Fatal(err)
	}
	want := `setup,kind,requests,dropped,median_ms,p95_ms,e2e_median_ms,e2e_p95_ms,gbms_per_request,errors
s1,a,3,1,140,190,170,220,16.667,1
s1,b,1,1,950,950,1000,1000,1000,0
s1,all,5,2,140,950,170,1000,210.25,1
`
	if string(b) != want {
		t.Errorf("summary-kinds.csv:\n%s\nwant:\n%s", b, want)
	}
	rb, _ := os.ReadFile(filepath.Join(dir, ResponsesDir, "s1.csv"))
	lines := strings.Split(string(rb), "\n")
	if lines[0] != "sent_unix_ns,latency_ns,status,request_id,error,kind,trace_id" ||
		lines[5] != "1675209600000000000,0,0,r-,dropped iteration: no free virtual user,b," {
		t.Errorf("responses:\n%s", rb)
	}
	sb, _ := os.ReadFile(filepath.Join(dir, SummaryFile))
	if !strings.HasPrefix(strings.Split(string(sb), "\n")[1], "s1,5,5,") {
		t.Errorf("summary.csv: %s", sb)
	}
	mb, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	if !bytes.Contains(mb, []byte(`"droppedIterations": 1`)) {
		t.Errorf("manifest: %s", mb)
	}
	for _, recompute := range []bool{false, true} {
		d, err := Read(dir, ReadOptions{Recompute: recompute})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(d.Responses["s1"][4].Kind, "b") || !d.Responses["s1"][4].Dropped() || d.Responses["s1"][0].TraceID != "s1-A-128-t1" {
			t.Errorf("responses read back: %+v", d.Responses["s1"])
		}
		var buf bytes.Buffer
		if err := WriteKindsCSV(&buf, d.Kinds); err != nil || buf.String() != want {
			t.Errorf("recompute %v: kinds read back:\n%s (%v)", recompute, buf.String(), err)
		}
	}
	// Without kinds: the layout as before.
	plain := filepath.Join(t.TempDir(), "plain")
	for i := range resps {
		resps[i].Kind, resps[i].TraceID = "", ""
	}
	if err := Write(plain, &Run{NoFigures: true, Setups: []SetupRun{{Name: "s1", Records: recs, Responses: resps}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(plain, SummaryKindsFile)); !os.IsNotExist(err) {
		t.Errorf("summary-kinds.csv without kinds: %v", err)
	}
	rb, _ = os.ReadFile(filepath.Join(plain, ResponsesDir, "s1.csv"))
	if !strings.HasPrefix(string(rb), "sent_unix_ns,latency_ns,status,request_id,error\n") {
		t.Errorf("responses without kinds:\n%s", rb)
	}
	d, err := Read(plain, ReadOptions{})
	if err != nil || d.Kinds != nil {
		t.Errorf("read without kinds: %v, %+v", err, d.Kinds)
	}
	// A directory holding summary-kinds.csv is still one fusionsim wrote.
	if err := Write(dir, run); err != nil {
		t.Errorf("replacing a results directory with per-kind summaries: %v", err)
	}
}
