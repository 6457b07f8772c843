package results

import (
	"bufio"
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
)

const calibrationDir = "../../shared/calibration"

func near(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= tol
}

// TestSummarizeDerivedFixture: 40 requests per setup of split-coldStarts
// (640 records, committed); the expected figures were computed from the
// same records by an independent script (Python, statistics.median, the
// rank rule for p95/p99, 0.0000166667 USD per GB-s and 0.20 USD per million
// requests).
func TestSummarizeDerivedFixture(t *testing.T) {
	d, err := trace.ReadDir("testdata/split-coldStarts-derived")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		setup                 string
		requests, invocations int
		median, p95, p99      float64
		gbms, usd             float64
		cold                  int
		memory                string
	}{
		{"a_remote", 40, 280, 4761.0, 4939, 4941, 2584.168750, 44.469565, 280, "A:128 B:128 C:128 D:128 E:128 F:128 G:128"},
		{"b_local", 40, 40, 9509.5, 9979, 10383, 1192.743750, 20.079102, 40, "A:128"},
		{"c_optimal", 40, 160, 1723.0, 1761, 1763, 1334.762500, 23.046086, 160, "A:128 C:1024 F:1536 G:1536"},
		{"d_optimal_small", 40, 160, 1707.0, 1744, 1746, 1389.825000, 23.963796, 160, "A:128 C:128 F:128 G:128"},
	}
	names := d.Traces.Names()
	if len(names) != len(want) {
		t.Fatalf("setups %v", names)
	}
	for i, w := range want {
		r := Summarize(names[i], d.Traces[names[i]], nil, model.Default().Pricing)
		if r.Setup != w.setup || r.Requests != w.requests || r.Invocations != w.invocations ||
			r.MedianMs != w.median || r.P95Ms != w.p95 || r.P99Ms != w.p99 ||
			!near(r.GBMsPerRequest, w.gbms, 1e-6) || !near(r.USDPerMillion, w.usd, 1e-6) ||
			r.ColdStarts != w.cold || r.Errors != 0 || r.Memory != w.memory ||
			!math.IsNaN(r.E2EMedianMs) || !math.IsNaN(r.E2EP95Ms) ||
			r.InvocationsPerRequest != float64(w.invocations)/float64(w.requests) ||
			r.ColdStartShare != float64(w.cold)/float64(w.invocations) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, r, w)
		}
	}
}

// readmeRow is a line of the calibration README's table.
type readmeRow struct {
	experiment, setup     string
	invocations, requests int
	median                string
	p95, gbms, cold       int
	memory                string
}

func readREADME(t *testing.T) []readmeRow {
	t.Helper()
	f, err := os.Open(filepath.Join(calibrationDir, "README.md"))
	if err != nil {
		t.Skip("no ../shared/calibration")
	}
	defer f.Close()
	var rows []readmeRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "|")
		if len(c) != 11 {
			continue
		}
		for i := range c {
			c[i] = strings.TrimSpace(c[i])
		}
		inv, err := strconv.Atoi(c[3])
		if err != nil {
			continue
		}
		atoi := func(s string) int {
			v, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("README %q: %v", sc.Text(), err)
			}
			return v
		}
		rows = append(rows, readmeRow{c[1], c[2], inv, atoi(c[4]), c[5], atoi(c[6]), atoi(c[7]), atoi(c[8]), c[9]})
	}
	if len(rows) != 39 {
		t.Fatalf("README table: %d rows, want 39", len(rows))
	}
	return rows
}

// TestSummarizeCalibrationREADME reproduces every figure of the calibration
// README's table, to the rounding shown there.
func TestSummarizeCalibrationREADME(t *testing.T) {
	want := readREADME(t)
	dirs := map[string]*trace.Dir{}
	for _, w := range want {
		d := dirs[w.experiment]
		if d == nil {
			var err error
			if d, err = trace.ReadDir(filepath.Join(calibrationDir, w.experiment)); err != nil {
				t.Fatal(err)
			}
			dirs[w.experiment] = d
		}
		r := Summarize(w.setup, d.Traces[w.setup], nil, model.Default().Pricing)
		median, _ := strconv.ParseFloat(w.median, 64)
		if r.Invocations != w.invocations || r.Requests != w.requests || r.MedianMs != median ||
			r.P95Ms != float64(w.p95) || math.Round(r.GBMsPerRequest) != float64(w.gbms) ||
			r.ColdStarts != w.cold || r.Memory != w.memory {
			t.Errorf("%s %s:\n got %+v\nwant %+v", w.experiment, w.setup, r, w)
		}
	}
}

func TestQuantile(t *testing.T) {
	for _, tc := range []struct {
		x                []float64
		median, p95, p99 float64
	}{
		{[]float64{3}, 3, 3, 3},
		{[]float64{2, 1}, 1.5, 2, 2},
		{[]float64{5, 1, 3}, 3, 5, 5},
		// n = 20: p95 is the 20th value (floor(19)+1), p99 the 20th too.
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, 10.5, 20, 20},
		// n = 100: p95 is the 96th value, p99 the 100th.
		{seq(100), 50.5, 96, 100},
		{seq(101), 51, 96, 100},
	} {
		m, p95, p99 := Quantiles3(tc.x)
		if m != tc.median || p95 != tc.p95 || p99 != tc.p99 {
			t.Errorf("%v: %v %v %v, want %v %v %v", tc.x, m, p95, p99, tc.median, tc.p95, tc.p99)
		}
	}
	if m, _, _ := Quantiles3(nil); !math.IsNaN(m) {
		t.Errorf("empty sample: %v, want NaN", m)
	}
}

func seq(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = float64(n - i) // descending: Quantiles3 sorts
	}
	return s
}

func TestSummarizeResponses(t *testing.T) {
	t0 := time.Date(2023, 2, 1, 0, 0, 0, 0, time.UTC)
	resp := func(ms int, status int, err error) fusionsim.Response {
		return fusionsim.Response{Sent: t0, Received: t0.Add(time.Duration(ms) * time.Millisecond), StatusCode: status, Err: err}
	}
	resps := []fusionsim.Response{resp(100, 200, nil), resp(300, 200, nil), resp(5, 429, fusionsim.ErrThrottled), resp(200, 502, errors.New("x")), resp(250, 200, nil)}
	recs := []trace.Record{
		{CurrentFunction: "A", MemoryAvail: "1024", BilledDuration: 100, IsRootInvocation: true, IsColdStart: true, InternalDuration: 90},
		{CurrentFunction: "B", MemoryAvail: "512", BilledDuration: 50, InternalDuration: 40},
		{CurrentFunction: "A", MemoryAvail: "2048", BilledDuration: 10, IsRootInvocation: true, InternalDuration: -1},
	}
	p := model.Default().Pricing
	r := Summarize("s", recs, resps, p)
	wantGBMs := (100*1024 + 50*512 + 10*2048) / 1024.0 / 5
	wantUSD := ((100*1024+50*512+10*2048)/1024.0/1000*0.0000166667 + 3*0.2/1e6) / 5 * 1e6
	if r.Requests != 5 || r.Errors != 2 || r.Invocations != 3 || r.MedianMs != 90 || r.P95Ms != 90 ||
		r.E2EMedianMs != 250 || r.E2EP95Ms != 300 || !near(r.GBMsPerRequest, wantGBMs, 1e-9) ||
		!near(r.USDPerMillion, wantUSD, 1e-9) || r.ColdStarts != 1 || r.Memory != "A:1024/2048 B:512" ||
		r.InvocationsPerRequest != 0.6 || r.ColdStartShare != 1.0/3 {
		t.Errorf("got %+v", r)
	}
	// Without responses: requests are root invocations, errors the killed ones.
	r = Summarize("s", recs, nil, p)
	if r.Requests != 2 || r.Errors != 1 || !math.IsNaN(r.E2EMedianMs) {
		t.Errorf("without responses: %+v", r)
	}
	if r := Summarize("empty", nil, nil, p); r.Requests != 0 || !math.IsNaN(r.MedianMs) || r.GBMsPerRequest != 0 {
		t.Errorf("empty: %+v", r)
	}
}

func TestCSVRoundTrip(t *testing.T) {
	rows := []Row{
		{Setup: "a_remote", Requests: 200, Invocations: 1400, MedianMs: 4747, P95Ms: 4987, P99Ms: 5000.25, E2EMedianMs: math.NaN(), E2EP95Ms: math.NaN(),
			GBMsPerRequest: 2586.546875, USDPerMillion: 44.3, ColdStarts: 1400, InvocationsPerRequest: 7, ColdStartShare: 1, Memory: "A:128 B:128"},
		{Setup: "1676026914", Requests: 1001, Invocations: 5005, MedianMs: 156, P95Ms: 320, P99Ms: 400, E2EMedianMs: 181.123456789, E2EP95Ms: 350.5,
			GBMsPerRequest: 1012.7, USDPerMillion: 17.9, ColdStarts: 173, Errors: 3, InvocationsPerRequest: 5.0, ColdStartShare: 0.034565, Memory: "AS:1650 CA:128"},
	}
	// summary.csv has exactly the twelve columns of the workloads issue.
	var short bytes.Buffer
	if err := WriteCSV(&short, rows); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(short.String(), "\n"); first != "setup,requests,invocations,median_ms,p95_ms,p99_ms,e2e_median_ms,e2e_p95_ms,gbms_per_request,usd_per_million,cold_starts,errors" {
		t.Errorf("summary.csv header %q", first)
	}
	if !strings.Contains(short.String(), "\na_remote,200,1400,4747,4987,5000.25,,,2586.547,44.3,1400,0\n") {
		t.Errorf("summary.csv:\n%s", short.String())
	}
	// Read back, the extra figures are derived.
	if got, err := ReadCSV(bytes.NewReader(short.Bytes())); err != nil || got[1].InvocationsPerRequest != 5 || got[1].ColdStartShare != 173.0/5005 {
		t.Errorf("derived figures: %+v, %v", got, err)
	}
	var buf bytes.Buffer
	if err := WriteFullCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(buf.String(), "\n")
	if first != strings.Join(FullHeader, ",") {
		t.Errorf("header %q", first)
	}
	got, err := ReadCSV(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	rows[1].E2EMedianMs = 181.123     // rounded to the µs
	rows[0].GBMsPerRequest = 2586.547 // to 0.001
	for i := range rows {
		a, b := got[i], rows[i]
		if !near(a.E2EMedianMs, b.E2EMedianMs, 0) || !near(a.E2EP95Ms, b.E2EP95Ms, 0) {
			t.Errorf("row %d e2e: %v %v, want %v %v", i, a.E2EMedianMs, a.E2EP95Ms, b.E2EMedianMs, b.E2EP95Ms)
		}
		a.E2EMedianMs, a.E2EP95Ms, b.E2EMedianMs, b.E2EP95Ms = 0, 0, 0, 0
		if !reflect.DeepEqual(a, b) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, a, b)
		}
	}
	if !strings.Contains(buf.String(), "\na_remote,200,1400,4747,4987,5000.25,,,2586.547,44.3,1400,0,7,1,A:128 B:128\n") {
		t.Errorf("CSV:\n%s", buf.String())
	}
	for _, bad := range []string{"", "setup,requests\nx,1\n", strings.Join(Header, ",") + "\nx,one,1,1,1,1,,,1,1,1,1,1,1,A:1\n"} {
		if _, err := ReadCSV(strings.NewReader(bad)); !errors.Is(err, ErrBadCSV) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	var table bytes.Buffer
	PrintTable(&table, rows)
	if !strings.Contains(table.String(), "4747.0") || !strings.Contains(table.String(), "AS:1650 CA:128") {
		t.Errorf("table:\n%s", table.String())
	}
}

// TestQuantileBruteForce checks the gonum-based order statistics against
// plain indexing on random samples of every size up to 300.
func TestQuantileBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 300; n++ {
		s := make([]float64, n)
		for i := range s {
			s[i] = float64(r.IntN(1000))
		}
		sort.Float64s(s)
		for _, pct := range []int{1, 5, 25, 75, 90, 95, 99} {
			if got, want := Quantile(s, pct), s[min(n*pct/100, n-1)]; got != want {
				t.Fatalf("n=%d p%d: %v, want %v", n, pct, got, want)
			}
		}
		if got, want := Quantile(s, 50), (s[(n-1)/2]+s[n/2])/2; got != want {
			t.Fatalf("n=%d median: %v, want %v", n, got, want)
		}
	}
}
