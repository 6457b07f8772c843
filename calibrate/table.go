package calibrate

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fusionsim/fusionsim/results"
)

// Formats of PrintTable.
const (
	FormatText     = "text"
	FormatMarkdown = "markdown"
	FormatCSV      = "csv"
)

// Formats lists the table formats.
var Formats = []string{FormatText, FormatMarkdown, FormatCSV}

// Tolerance is the relative error the calibration aims at for the median
// root latency and the GB-ms per request of every setup.
const Tolerance = 0.10

// metric is one compared figure of a setup.
type metric struct {
	name     string
	decimals int
	get      func(r *SetupResult, emulated bool) float64
}

var metrics = []metric{
	{"median ms", 1, func(r *SetupResult, e bool) float64 { return pick(r, e).MedianMs }},
	{"p95 ms", 1, func(r *SetupResult, e bool) float64 { return pick(r, e).P95Ms }},
	{"GB-ms/req", 1, func(r *SetupResult, e bool) float64 { return pick(r, e).GBMsPerRequest }},
	{"cold starts", 0, func(r *SetupResult, e bool) float64 { return float64(pick(r, e).ColdStarts) }},
	{"inv/req", 2, func(r *SetupResult, e bool) float64 { return pick(r, e).InvocationsPerRequest }},
}

func pick(r *SetupResult, emulated bool) *results.Row {
	if emulated {
		return &r.Emulated
	}
	return &r.Real
}

// Within reports whether the setup's median root latency and GB-ms per
// request are within tol of the real figures.
func (r *SetupResult) Within(tol float64) bool {
	m := RelErr(r.Real.MedianMs, r.Emulated.MedianMs)
	c := RelErr(r.Real.GBMsPerRequest, r.Emulated.GBMsPerRequest)
	return math.Abs(m) <= tol && math.Abs(c) <= tol
}

// PrintTable writes the comparison of every setup of the validations: per
// setup the real and emulated figures and the relative error of each, the KS
// distance, and whether median and GB-ms are within Tolerance.
func PrintTable(w io.Writer, format string, vs ...*Validation) error {
	head := []string{"experiment", "setup", "memory MB", "load"}
	for _, m := range metrics {
		head = append(head, m.name+" real", m.name+" emu", "err")
	}
	head = append(head, "KS", "ok")
	var rows [][]string
	for _, v := range vs {
		for i := range v.Setups {
			r := &v.Setups[i]
			row := []string{shortDir(v.Dir), r.Setup, r.Memory, loadString(r)}
			for _, m := range metrics {
				re, em := m.get(r, false), m.get(r, true)
				row = append(row, fixed(re, m.decimals), fixed(em, m.decimals), percent(RelErr(re, em)))
			}
			ok := "yes"
			switch {
			case r.Fit:
				ok = "fit"
			case len(r.Incomplete) > 0:
				ok = "incomplete"
			case !r.Within(Tolerance):
				ok = "NO"
			}
			row = append(row, fixed(r.KS, 3), ok)
			rows = append(rows, row)
		}
	}
	return writeTable(w, format, head, rows)
}

// writeTable writes head and rows as an aligned text table, a markdown
// table or CSV.
func writeTable(w io.Writer, format string, head []string, rows [][]string) error {
	switch format {
	case FormatText, "":
		tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
		fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
		for _, r := range rows {
			fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
		}
		return tw.Flush()
	case FormatMarkdown:
		fmt.Fprintln(w, "| "+strings.Join(head, " | ")+" |")
		sep := make([]string, len(head))
		for i := range sep {
			sep[i] = "---"
		}
		fmt.Fprintln(w, "|"+strings.Join(sep, "|")+"|")
		for _, r := range rows {
			fmt.Fprintln(w, "| "+strings.Join(r, " | ")+" |")
		}
		return nil
	case FormatCSV:
		for _, r := range append([][]string{head}, rows...) {
			for i, f := range r {
				if strings.ContainsAny(f, ",\"\n") {
					r[i] = strconv.Quote(f)
				}
			}
			if _, err := fmt.Fprintln(w, strings.Join(r, ",")); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("table format %q is none of %s", format, strings.Join(Formats, ", "))
}

func shortDir(dir string) string {
	dir = strings.TrimRight(dir, "/")
	if i := strings.LastIndexByte(dir, '/'); i >= 0 {
		dir = dir[i+1:]
	}
	return dir
}

func loadString(r *SetupResult) string {
	s := r.Load
	switch s.Kind {
	case "constant":
		return fmt.Sprintf("%g/s x%d", s.RatePerS, s.Requests)
	case "coldstart":
		return fmt.Sprintf("cold x%d", s.Requests)
	case "poisson":
		return fmt.Sprintf("poisson %.3g/s %v", s.RatePerS, s.Duration.Round(time.Second))
	case "bursty":
		return fmt.Sprintf("bursty %d stages", len(s.Stages))
	case LoadScenario:
		return fmt.Sprintf("scenario x%d", s.Requests)
	}
	return s.String()
}

func fixed(v float64, decimals int) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

func percent(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%+.1f%%", 100*v)
}

// Transfer sums up the predicted setups of a validation with a fit
// (ValidateOptions.FitOn): how many are within Tolerance on median root
// latency and GB-ms per request, and the median and worst absolute
// relative error of each compared figure. Setups with incomplete real
// traces are left out and counted apart.
type Transfer struct {
	Dir, FitOn          string
	Predicted, Within   int
	Incomplete          int
	MedianErr, WorstErr []float64 // per metric (metrics' order), absolute
	WorstSetup          []string
}

// Transfers sums up each validation that has a fit.
func Transfers(vs ...*Validation) []Transfer {
	var out []Transfer
	for _, v := range vs {
		if v.Fit == nil {
			continue
		}
		t := Transfer{Dir: shortDir(v.Dir), FitOn: v.Fit.Setup, MedianErr: make([]float64, len(metrics)), WorstErr: make([]float64, len(metrics)), WorstSetup: make([]string, len(metrics))}
		errs := make([][]float64, len(metrics))
		for i := range v.Setups {
			r := &v.Setups[i]
			if r.Fit {
				continue
			}
			if len(r.Incomplete) > 0 {
				t.Incomplete++
				continue
			}
			t.Predicted++
			if r.Within(Tolerance) {
				t.Within++
			}
			for j, m := range metrics {
				e := math.Abs(RelErr(m.get(r, false), m.get(r, true)))
				if math.IsNaN(e) {
					continue
				}
				errs[j] = append(errs[j], e)
				if e > t.WorstErr[j] {
					t.WorstErr[j], t.WorstSetup[j] = e, r.Setup
				}
			}
		}
		for j := range metrics {
			t.MedianErr[j] = Median(errs[j])
		}
		out = append(out, t)
	}
	return out
}

// PrintTransfers writes the transfer summary of every validation with a
// fit, one line each (format as PrintTable's).
func PrintTransfers(w io.Writer, format string, vs ...*Validation) error {
	ts := Transfers(vs...)
	if len(ts) == 0 {
		return nil
	}
	head := []string{"experiment", "fit on", "predicted", "within 10 %"}
	for _, m := range metrics {
		head = append(head, m.name+" median err", m.name+" worst err")
	}
	var rows [][]string
	total, within := 0, 0
	for _, t := range ts {
		row := []string{t.Dir, t.FitOn, strconv.Itoa(t.Predicted), fmt.Sprintf("%d (%.0f %%)", t.Within, 100*float64(t.Within)/math.Max(float64(t.Predicted), 1))}
		if t.Incomplete > 0 {
			row[2] += fmt.Sprintf(" (+%d incomplete)", t.Incomplete)
		}
		for j := range metrics {
			row = append(row, percentAbs(t.MedianErr[j]), percentAbs(t.WorstErr[j])+" "+t.WorstSetup[j])
		}
		rows = append(rows, row)
		total += t.Predicted
		within += t.Within
	}
	if len(ts) > 1 {
		rows = append(rows, append([]string{"all", "", strconv.Itoa(total), fmt.Sprintf("%d (%.0f %%)", within, 100*float64(within)/math.Max(float64(total), 1))}, make([]string, 2*len(metrics))...))
	}
	return writeTable(w, format, head, rows)
}

func percentAbs(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}
