package results

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/stat"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
)

// Row is one setup's line of summary.csv.
type Row struct {
	// Setup is the setup name.
	Setup string
	// Requests are the client requests sent (those of dropped scenario
	// iterations aside; without client responses, e.g. for real traces:
	// the root invocations).
	Requests int
	// Invocations are the invocation records (Lambda invocations; fewer
	// with the prototype's grouping).
	Invocations int
	// MedianMs, P95Ms and P99Ms are quantiles of the root invocations'
	// internalDuration (the prototype's latency), ms; NaN without any.
	MedianMs, P95Ms, P99Ms float64
	// E2EMedianMs and E2EP95Ms are quantiles of the client-side latency of
	// the successful requests (gateway, entry cold start and handler), ms;
	// NaN without client responses.
	E2EMedianMs, E2EP95Ms float64
	// GBMsPerRequest is the billed GB-ms (GB = Pricing.MBPerGB MB, 1024)
	// summed over all invocations, divided by Requests.
	GBMsPerRequest float64
	// USDPerMillion is the price of a million requests: compute at the
	// first price tier plus the request fee of every invocation, USD.
	USDPerMillion float64
	// ColdStarts counts invocations that were cold starts.
	ColdStarts int
	// Errors counts failed client requests (an error or an HTTP status of
	// 400 or more; dropped requests were never sent and do not count).
	// Without client responses: root invocations the platform killed
	// (internalDuration -1), the only failures traces show.
	Errors int

	// InvocationsPerRequest is Invocations / Requests.
	InvocationsPerRequest float64
	// ColdStartShare is ColdStarts / Invocations.
	ColdStartShare float64
	// Memory lists the memory size of each function, "A:128 C:1024" (sizes
	// joined by "/" when a function ran at several).
	Memory string
}

// Header is the first line of summary.csv, exactly the columns the
// workloads issue fixed.
var Header = []string{
	"setup", "requests", "invocations", "median_ms", "p95_ms", "p99_ms", "e2e_median_ms", "e2e_p95_ms",
	"gbms_per_request", "usd_per_million", "cold_starts", "errors",
}

// FullHeader is the first line of summary-full.csv: Header, then the extra
// figures of Row.
var FullHeader = append(slices.Clone(Header), "invocations_per_request", "cold_start_share", "memory_mb")

// Summarize computes a setup's row from its invocation records and, when
// there are any, the client's responses.
//
// Quantiles are computed one way everywhere (Quantile): the median is the
// ordinary sample median (the mean of the two middle values of an even
// sample); p95 and p99 are order statistics, the (floor(n*p)+1)-th smallest
// value. This reproduces every figure of the calibration README.
func Summarize(setup string, recs []trace.Record, resps []fusionsim.Response, pricing model.Pricing) Row {
	st := StatsOf(recs, resps)
	defer st.E2E().Close()
	return st.Row(setup, pricing)
}

// Failed reports whether a client request failed: an error, or an HTTP
// status of 400 or more.
func Failed(r fusionsim.Response) bool { return r.Err != nil || r.StatusCode >= 400 }

// Quantiles3 returns the median, p95 and p99 of x (any order; NaN when x is
// empty).
func Quantiles3(x []float64) (median, p95, p99 float64) {
	if len(x) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	s := slices.Clone(x)
	sort.Float64s(s)
	return Quantile(s, 50), Quantile(s, 95), Quantile(s, 99)
}

// Quantile returns the percent-th percentile of the sorted sample s: for 50
// the sample median (mean of the two middle values when len(s) is even), for
// any other percent the (floor(n*percent/100)+1)-th smallest value (at most
// the largest). The rule reproduces the calibration README: e.g. 1,000 root
// invocations of split 1675344670 give p95 = s[950] = 2473 ms, where gonum's
// stat.Quantile at p = 0.95 (Empirical or LinInterp) gives s[949] = 2279 ms.
func Quantile(s []float64, percent int) float64 {
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if percent == 50 {
		return (orderStat(s, (n-1)/2) + orderStat(s, n/2)) / 2
	}
	return orderStat(s, min(n*percent/100, n-1))
}

// orderStat returns the (k+1)-th smallest value of the sorted sample s:
// gonum's empirical quantile at (k+1/2)/n, which no rounding of the
// fraction can move to a neighbour.
func orderStat(s []float64, k int) float64 {
	return stat.Quantile((float64(k)+0.5)/float64(len(s)), stat.Empirical, s, nil)
}

func memoryString(mem map[string][]int) string {
	fns := make([]string, 0, len(mem))
	for f := range mem {
		fns = append(fns, f)
	}
	sort.Strings(fns)
	parts := make([]string, len(fns))
	for i, f := range fns {
		sizes := mem[f]
		slices.Sort(sizes)
		s := make([]string, len(sizes))
		for j, mb := range sizes {
			s[j] = strconv.Itoa(mb)
		}
		parts[i] = f + ":" + strings.Join(s, "/")
	}
	return strings.Join(parts, " ")
}

// MemoryOf parses Row.Memory: memory sizes by function.
func MemoryOf(s string) (map[string][]int, error) {
	m := map[string][]int{}
	for _, part := range strings.Fields(s) {
		fn, sizes, ok := strings.Cut(part, ":")
		if !ok || fn == "" {
			return nil, fmt.Errorf("memory %q: %q is not <function>:<MB>", s, part)
		}
		for _, v := range strings.Split(sizes, "/") {
			mb, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("memory %q: %q: %w", s, part, err)
			}
			m[fn] = append(m[fn], mb)
		}
	}
	return m, nil
}

// record is the row as CSV fields; floats are rounded (ms to the µs, GB-ms
// to 0.001, USD to 1e-6, shares to 1e-6) and NaN is empty.
func (r Row) record() []string {
	return []string{
		r.Setup, strconv.Itoa(r.Requests), strconv.Itoa(r.Invocations),
		ftoa(r.MedianMs, 3), ftoa(r.P95Ms, 3), ftoa(r.P99Ms, 3), ftoa(r.E2EMedianMs, 3), ftoa(r.E2EP95Ms, 3),
		ftoa(r.GBMsPerRequest, 3), ftoa(r.USDPerMillion, 6), strconv.Itoa(r.ColdStarts), strconv.Itoa(r.Errors),
		ftoa(r.InvocationsPerRequest, 6), ftoa(r.ColdStartShare, 6), r.Memory,
	}
}

// ratio is a/b, NaN when b is zero.
func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

func ftoa(v float64, decimals int) string {
	if math.IsNaN(v) {
		return ""
	}
	v = scalar.Round(v, decimals)
	if v == 0 {
		v = 0 // no "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// WriteCSV writes summary.csv: Header and one line per row.
func WriteCSV(w io.Writer, rows []Row) error { return writeCSV(w, rows, len(Header)) }

// WriteFullCSV writes summary-full.csv: FullHeader and one line per row.
func WriteFullCSV(w io.Writer, rows []Row) error { return writeCSV(w, rows, len(FullHeader)) }

func writeCSV(w io.Writer, rows []Row, columns int) error {
	cw := csv.NewWriter(w)
	cw.Write(FullHeader[:columns])
	for _, r := range rows {
		cw.Write(r.record()[:columns])
	}
	cw.Flush()
	return cw.Error()
}

// ErrBadCSV is wrapped by ReadCSV's errors.
var ErrBadCSV = errors.New("bad summary.csv")

// ReadCSV reads a summary written by WriteCSV or WriteFullCSV. Columns are
// found by name: those of Header are required, the extra ones optional
// (invocations per request and cold-start share are derived when missing),
// unknown ones ignored.
func ReadCSV(r io.Reader) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	lines, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCSV, err)
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrBadCSV)
	}
	col := map[string]int{}
	for i, h := range lines[0] {
		col[h] = i
	}
	for _, h := range Header {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("%w: no column %q", ErrBadCSV, h)
		}
	}
	rows := make([]Row, 0, len(lines)-1)
	for i, l := range lines[1:] {
		line := i + 2
		get := func(h string) string {
			if j, ok := col[h]; ok && j < len(l) {
				return l[j]
			}
			return ""
		}
		var errs []error
		num := func(h string) float64 {
			s := get(h)
			if s == "" {
				return math.NaN()
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %q: not a number", h, s))
			}
			return v
		}
		count := func(h string) int {
			v, err := strconv.Atoi(get(h))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %q: not an integer", h, get(h)))
			}
			return v
		}
		row := Row{
			Setup: get("setup"), Requests: count("requests"), Invocations: count("invocations"),
			MedianMs: num("median_ms"), P95Ms: num("p95_ms"), P99Ms: num("p99_ms"),
			E2EMedianMs: num("e2e_median_ms"), E2EP95Ms: num("e2e_p95_ms"),
			GBMsPerRequest: num("gbms_per_request"), USDPerMillion: num("usd_per_million"),
			ColdStarts: count("cold_starts"), Errors: count("errors"),
			InvocationsPerRequest: num("invocations_per_request"), ColdStartShare: num("cold_start_share"),
			Memory: get("memory_mb"),
		}
		if err := fusionsim.ValidateSetupName(row.Setup); err != nil {
			errs = append(errs, fmt.Errorf("setup: %w", err))
		}
		if _, ok := col["invocations_per_request"]; !ok {
			row.InvocationsPerRequest = ratio(row.Invocations, row.Requests)
		}
		if _, ok := col["cold_start_share"]; !ok {
			row.ColdStartShare = ratio(row.ColdStarts, row.Invocations)
		}
		if len(errs) > 0 {
			return nil, fmt.Errorf("%w: line %d: %w", ErrBadCSV, line, errors.Join(errs...))
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// PrintTable writes the rows as an aligned text table.
func PrintTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "setup\trequests\tinvocations\tmedian ms\tp95 ms\tp99 ms\te2e median ms\te2e p95 ms\tGB-ms/req\tUSD/1M req\tcold starts\terrors\tinv/req\tcold %\t  memory MB per function")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t  %s\n", r.Setup, r.Requests, r.Invocations,
			fixed(r.MedianMs, 1), fixed(r.P95Ms, 1), fixed(r.P99Ms, 1), fixed(r.E2EMedianMs, 1), fixed(r.E2EP95Ms, 1),
			fixed(r.GBMsPerRequest, 1), fixed(r.USDPerMillion, 2), r.ColdStarts, r.Errors,
			fixed(r.InvocationsPerRequest, 2), fixed(100*r.ColdStartShare, 1), r.Memory)
	}
	return tw.Flush()
}

func fixed(v float64, decimals int) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}
