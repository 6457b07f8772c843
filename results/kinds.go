package results

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
)

// SummaryKindsFile holds the per-kind summary of runs whose requests have
// kinds (scenario loads): KindsHeader and one line per kind of every setup,
// then the setup's mixture (kind AllKinds).
const SummaryKindsFile = "summary-kinds.csv"

// AllKinds is the kind of the row of the mixture of all kinds.
const AllKinds = "all"

// KindRow is one kind of request of a setup: summary.csv's figures for the
// requests of that kind alone.
type KindRow struct {
	Setup, Kind string
	// Requests are the requests of the kind that were sent; Dropped those
	// of dropped iterations, never sent (not in Requests).
	Requests, Dropped int
	// MedianMs and P95Ms are quantiles of the root invocations' internal
	// duration of the kind's requests (as Row's); NaN without any.
	MedianMs, P95Ms float64
	// E2EMedianMs and E2EP95Ms are quantiles of the client-side latency of
	// the kind's successful requests.
	E2EMedianMs, E2EP95Ms float64
	// GBMsPerRequest is the billed GB-ms of every invocation of the kind's
	// requests (all the invocations of their traces), per request.
	GBMsPerRequest float64
	// Errors counts the kind's failed requests (dropped ones aside).
	Errors int
}

// KindsHeader is the first line of summary-kinds.csv.
var KindsHeader = []string{"setup", "kind", "requests", "dropped", "median_ms", "p95_ms", "e2e_median_ms", "e2e_p95_ms", "gbms_per_request", "errors"}

// HasKinds reports whether any response names its kind of request.
func HasKinds(resps []fusionsim.Response) bool {
	for _, r := range resps {
		if r.Kind != "" {
			return true
		}
	}
	return false
}

// SummarizeKinds computes a setup's per-kind rows: one per kind, in the
// order the kinds first appear in resps, then the mixture (AllKinds: the
// figures of Summarize, and every dropped request). A request's
// invocations are those of its trace: the response's TraceID joins it to
// the records (a request without one, e.g. throttled, has none). Nil when
// no response has a kind.
func SummarizeKinds(setup string, recs []trace.Record, resps []fusionsim.Response, pricing model.Pricing) []KindRow {
	if !HasKinds(resps) {
		return nil
	}
	if pricing.MBPerGB == 0 {
		pricing = model.Default().Pricing
	}
	type acc struct {
		row      KindRow
		lat, e2e []float64
		mbms     int64
	}
	var order []string
	kinds := map[string]*acc{}
	ofTrace := map[string]*acc{}
	dropped := 0
	for _, r := range resps {
		if r.Dropped() {
			dropped++
		}
		if r.Kind == "" {
			continue
		}
		a := kinds[r.Kind]
		if a == nil {
			a = &acc{row: KindRow{Setup: setup, Kind: r.Kind}}
			kinds[r.Kind] = a
			order = append(order, r.Kind)
		}
		switch {
		case r.Dropped():
			a.row.Dropped++
			continue
		case Failed(r):
			a.row.Errors++
		default:
			a.e2e = append(a.e2e, float64(r.Latency())/1e6)
		}
		a.row.Requests++
		if r.TraceID != "" {
			ofTrace[r.TraceID] = a
		}
	}
	for i := range recs {
		rec := &recs[i]
		a := ofTrace[rec.TraceID]
		if a == nil {
			continue
		}
		mb, _ := strconv.Atoi(rec.MemoryAvail)
		a.mbms += rec.BilledDuration * int64(mb)
		if rec.IsRootInvocation && rec.InternalDuration >= 0 {
			a.lat = append(a.lat, float64(rec.InternalDuration))
		}
	}
	out := make([]KindRow, 0, len(order)+1)
	for _, k := range order {
		a := kinds[k]
		a.row.MedianMs, a.row.P95Ms, _ = Quantiles3(a.lat)
		a.row.E2EMedianMs, a.row.E2EP95Ms, _ = Quantiles3(a.e2e)
		a.row.GBMsPerRequest = math.NaN()
		if a.row.Requests > 0 {
			a.row.GBMsPerRequest = pricing.GBMs(a.mbms, 1) / float64(a.row.Requests)
		}
		out = append(out, a.row)
	}
	all := Summarize(setup, recs, resps, pricing)
	gbms := math.NaN()
	if all.Requests > 0 {
		gbms = all.GBMsPerRequest
	}
	out = append(out, KindRow{Setup: setup, Kind: AllKinds, Requests: all.Requests, Dropped: dropped,
		MedianMs: all.MedianMs, P95Ms: all.P95Ms, E2EMedianMs: all.E2EMedianMs, E2EP95Ms: all.E2EP95Ms,
		GBMsPerRequest: gbms, Errors: all.Errors})
	return out
}

func (r KindRow) record() []string {
	return []string{r.Setup, r.Kind, strconv.Itoa(r.Requests), strconv.Itoa(r.Dropped),
		ftoa(r.MedianMs, 3), ftoa(r.P95Ms, 3), ftoa(r.E2EMedianMs, 3), ftoa(r.E2EP95Ms, 3),
		ftoa(r.GBMsPerRequest, 3), strconv.Itoa(r.Errors)}
}

// WriteKindsCSV writes summary-kinds.csv: KindsHeader and one line per row.
func WriteKindsCSV(w io.Writer, rows []KindRow) error {
	cw := csv.NewWriter(w)
	cw.Write(KindsHeader)
	for _, r := range rows {
		cw.Write(r.record())
	}
	cw.Flush()
	return cw.Error()
}

// ReadKindsCSV reads what WriteKindsCSV wrote (columns found by name, all
// of KindsHeader required).
func ReadKindsCSV(r io.Reader) ([]KindRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	lines, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadCSV, SummaryKindsFile, err)
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%w: %s: empty", ErrBadCSV, SummaryKindsFile)
	}
	col := map[string]int{}
	for i, h := range lines[0] {
		col[h] = i
	}
	for _, h := range KindsHeader {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("%w: %s: no column %q", ErrBadCSV, SummaryKindsFile, h)
		}
	}
	var out []KindRow
	for i, l := range lines[1:] {
		get := func(h string) string {
			if j := col[h]; j < len(l) {
				return l[j]
			}
			return ""
		}
		var bad error
		num := func(h string) float64 {
			s := get(h)
			if s == "" {
				return math.NaN()
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil && bad == nil {
				bad = fmt.Errorf("%s %q: not a number", h, s)
			}
			return v
		}
		count := func(h string) int {
			v, err := strconv.Atoi(get(h))
			if (err != nil || v < 0) && bad == nil {
				bad = fmt.Errorf("%s %q: not a count", h, get(h))
			}
			return v
		}
		row := KindRow{Setup: get("setup"), Kind: get("kind"), Requests: count("requests"), Dropped: count("dropped"),
			MedianMs: num("median_ms"), P95Ms: num("p95_ms"), E2EMedianMs: num("e2e_median_ms"), E2EP95Ms: num("e2e_p95_ms"),
			GBMsPerRequest: num("gbms_per_request"), Errors: count("errors")}
		if err := fusionsim.ValidateSetupName(row.Setup); err != nil && bad == nil {
			bad = fmt.Errorf("setup: %w", err)
		}
		if row.Kind == "" && bad == nil {
			bad = fmt.Errorf("empty kind")
		}
		if bad != nil {
			return nil, fmt.Errorf("%w: %s: line %d: %w", ErrBadCSV, SummaryKindsFile, i+2, bad)
		}
		out = append(out, row)
	}
	return out, nil
}

// PrintKindsTable writes per-kind rows as an aligned text table.
func PrintKindsTable(w io.Writer, rows []KindRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "setup\tkind\trequests\tdropped\tmedian ms\tp95 ms\te2e median ms\te2e p95 ms\tGB-ms/req\terrors\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t\n", r.Setup, r.Kind, r.Requests, r.Dropped,
			fixed(r.MedianMs, 1), fixed(r.P95Ms, 1), fixed(r.E2EMedianMs, 1), fixed(r.E2EP95Ms, 1), fixed(r.GBMsPerRequest, 1), r.Errors)
	}
	return tw.Flush()
}
