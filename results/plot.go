package results

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/fusionsim/fusionsim/internal/vgpdf"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
)

func init() {
	// PDFs carry a creation date; a fixed one keeps figures byte-identical
	// from run to run (fpdf offers only process-wide defaults).
	fixed := time.Date(2023, time.February, 1, 0, 0, 0, 0, time.UTC)
	fpdf.SetDefaultCreationDate(fixed)
	fpdf.SetDefaultModificationDate(fixed)
	fpdf.SetDefaultCatalogSort(true)
}

// PlotOptions configure the figures.
type PlotOptions struct {
	// E2E also draws the ECDF of the client-side end-to-end latency (when
	// there are client responses).
	E2E bool
	// WidthIn is the figures' width in inches (3.5: one column of a
	// two-column paper); heights follow from it.
	WidthIn float64
	// Formats to write: "pdf" (fonts embedded), "svg", "png" (all three if
	// empty).
	Formats []string
	// PNGDPI is the resolution of PNG files (300 if 0).
	PNGDPI int
	// Pricing prices the memory sweep's per-function cost (the manifest's
	// profile's pricing, else model.Default().Pricing, if zero).
	Pricing model.Pricing
}

// Figure names (file names without extension).
const (
	FigLatencyECDF = "latency-ecdf"
	FigE2EECDF     = "latency-e2e-ecdf"
	FigIterations  = "iterations"
	FigMemorySweep = "memory-sweep" // one per grouping: memory-sweep-<functions>
	FigPareto      = "pareto"
)

// Applicable lists the figures that apply to d, in drawing order: always the
// latency ECDF; the end-to-end ECDF with opt.E2E and client responses; the
// per-iteration chart when there are several setups and their names are
// numeric and increasing (the optimizer's Unix-time names, in run order); a
// memory sweep for every grouping of functions run at three or more memory
// configurations; the cost-latency scatter with its Pareto front when there
// are several setups.
func Applicable(d *Data, opt PlotOptions) []string {
	figs := []string{FigLatencyECDF}
	if opt.E2E && hasResponses(d) {
		figs = append(figs, FigE2EECDF)
	}
	if len(d.Names) > 1 && numericIncreasing(d.Names) {
		figs = append(figs, FigIterations)
	}
	for _, g := range sweepGroups(d) {
		figs = append(figs, FigMemorySweep+"-"+strings.Join(g.functions, "-"))
	}
	if len(d.Names) > 1 {
		figs = append(figs, FigPareto)
	}
	return figs
}

func hasResponses(d *Data) bool {
	for _, n := range d.Names {
		if d.StatsOf(n).Responses() > 0 {
			return true
		}
	}
	return false
}

func numericIncreasing(names []string) bool {
	prev := uint64(0)
	for i, n := range names {
		v, err := strconv.ParseUint(n, 10, 64)
		if err != nil || (i > 0 && v <= prev) {
			return false
		}
		prev = v
	}
	return true
}

// DrawFigures draws every figure that applies to d (see Applicable) into dir
// in each format and returns the files written.
func DrawFigures(d *Data, dir string, opt PlotOptions) ([]string, error) {
	opt = opt.withDefaults(d)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, name := range Applicable(d, opt) {
		fig, err := figure(d, name, opt)
		if err != nil {
			return files, fmt.Errorf("%s: %w", name, err)
		}
		fs, err := fig.save(dir, name, opt)
		files = append(files, fs...)
		if err != nil {
			return files, fmt.Errorf("%s: %w", name, err)
		}
	}
	return files, nil
}

func (o PlotOptions) withDefaults(d *Data) PlotOptions {
	if o.WidthIn <= 0 {
		o.WidthIn = 3.5
	}
	if len(o.Formats) == 0 {
		o.Formats = []string{"pdf", "svg", "png"}
	}
	if o.PNGDPI <= 0 {
		o.PNGDPI = 300
	}
	if o.Pricing.MBPerGB == 0 {
		o.Pricing = model.Default().Pricing
		if d.Manifest != nil && d.Manifest.Profile != nil && d.Manifest.Profile.Pricing.MBPerGB > 0 {
			o.Pricing = d.Manifest.Profile.Pricing
		}
	}
	return o
}

func figure(d *Data, name string, opt PlotOptions) (*fig, error) {
	switch {
	case name == FigLatencyECDF:
		return ecdfFigure(d, false, opt)
	case name == FigE2EECDF:
		return ecdfFigure(d, true, opt)
	case name == FigIterations:
		return iterationsFigure(d, opt)
	case name == FigPareto:
		return paretoFigure(d, opt)
	case strings.HasPrefix(name, FigMemorySweep+"-"):
		for _, g := range sweepGroups(d) {
			if name == FigMemorySweep+"-"+strings.Join(g.functions, "-") {
				return sweepFigure(d, g, opt)
			}
		}
	}
	return nil, fmt.Errorf("unknown figure %q", name)
}

// fig is a figure: one plot, or panels stacked vertically sharing the x
// axis.
type fig struct {
	panels []*plot.Plot
	// legend, if set, is drawn in a strip right of the panels.
	legend *plot.Legend
	w, h   vg.Length
}

// Text sizes for a 3.5 in figure printed at full size.
var (
	labelSize  = vg.Points(8)
	tickSize   = vg.Points(7)
	legendSize = vg.Points(6.5)
	noteSize   = vg.Points(5.5)
)

// palette: the Okabe-Ito colours (distinguishable with colour-blindness),
// without yellow, then black.
var palette = []color.Color{
	color.RGBA{0x00, 0x72, 0xB2, 0xff}, color.RGBA{0xD5, 0x5E, 0x00, 0xff}, color.RGBA{0x00, 0x9E, 0x73, 0xff},
	color.RGBA{0xCC, 0x79, 0xA7, 0xff}, color.RGBA{0xE6, 0x9F, 0x00, 0xff}, color.RGBA{0x56, 0xB4, 0xE9, 0xff},
	color.RGBA{0x00, 0x00, 0x00, 0xff},
}

var dashes = [][]vg.Length{nil, {vg.Points(3), vg.Points(1.5)}, {vg.Points(1), vg.Points(1.2)}, {vg.Points(4), vg.Points(1.2), vg.Points(1), vg.Points(1.2)}}

// style returns the colour and dashes of series i.
func style(i int) (color.Color, []vg.Length) {
	return palette[i%len(palette)], dashes[(i/len(palette))%len(dashes)]
}

func newPlot(xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Tick.Marker = niceTicks{}
		a.Label.TextStyle.Font.Size = labelSize
		a.Tick.Label.Font.Size = tickSize
		a.Padding = vg.Points(2)
	}
	p.Legend.TextStyle.Font.Size = legendSize
	p.Legend.ThumbnailWidth = vg.Points(14)
	p.Legend.Padding = vg.Points(0.5)
	g := plotter.NewGrid()
	g.Vertical, g.Horizontal = gridStyle, gridStyle
	p.Add(g)
	return p
}

// niceTicks labels about five round values (1, 2 or 5 times a power of
// ten apart) with minor ticks between, and prints no needless decimals.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 6, 64)}}
	}
	mag := math.Pow(10, math.Floor(math.Log10(span/5)))
	step, minor := mag, mag/5
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= span/5.5 {
			step = m * mag
			minor = step / 5
			if m == 2 {
				minor = step / 4
			}
			break
		}
	}
	decimals := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	var ticks []plot.Tick
	for i := math.Ceil(lo/minor - 1e-9); i*minor <= hi+1e-9*span; i++ {
		v := i * minor
		t := plot.Tick{Value: v}
		if r := v / step; math.Abs(r-math.Round(r)) < 1e-6 {
			val := math.Round(r) * step
			if val == 0 {
				val = 0 // not "-0"
			}
			t.Label = strconv.FormatFloat(val, 'f', decimals, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// logScale maps data to a log10 axis. gonum's own plot.LogScale places
// the axis label's glyph box at the arithmetic mean of the range, which
// shrinks the data area; plotting log10 of the data on a linear axis with
// ticks labelled in data units avoids that.
type logScale bool

// f maps a data value to the axis.
func (l logScale) f(v float64) float64 {
	if l {
		return math.Log10(v)
	}
	return v
}

// setScale puts axis a on a log scale when the data (all > 0) span a factor
// of at least ratio, and returns the scale.
func setScale(a *plot.Axis, min, max, ratio float64) logScale {
	if !(min > 0) || max/min < ratio {
		return false
	}
	a.Min, a.Max = math.Log10(min/1.15), math.Log10(max*1.15)
	a.Tick.Marker = log10Ticks{}
	return true
}

// log10Ticks labels 1, 2 and 5 times the powers of ten (with minor ticks
// between) on an axis of log10 values.
type log10Ticks struct{}

func (log10Ticks) Ticks(lmin, lmax float64) []plot.Tick {
	min, max := math.Pow(10, lmin), math.Pow(10, lmax)
	var ticks []plot.Tick
	for e := math.Floor(lmin); e <= math.Ceil(lmax); e++ {
		base := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			v := float64(m) * base
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: math.Log10(v)}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'f', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// scaled maps points to the axes.
func scaled(xys plotter.XYs, sx, sy logScale) plotter.XYs {
	out := make(plotter.XYs, len(xys))
	for i, p := range xys {
		out[i] = plotter.XY{X: sx.f(p.X), Y: sy.f(p.Y)}
	}
	return out
}

// xGrid draws vertical grid lines at the labelled ticks of marker (a panel
// whose own tick labels are blank gets the grid of the panel below).
type xGrid struct {
	marker plot.Ticker
	style  draw.LineStyle
}

func (g xGrid) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	for _, t := range g.marker.Ticks(plt.X.Min, plt.X.Max) {
		if t.IsMinor() || t.Value < plt.X.Min || t.Value > plt.X.Max {
			continue
		}
		x := trX(t.Value)
		c.StrokeLine2(g.style, x, c.Min.Y, x, c.Max.Y)
	}
}

var gridStyle = draw.LineStyle{Color: color.Gray{0xe4}, Width: vg.Points(0.4)}

func addLine(p *plot.Plot, i int, name string, xys plotter.XYs, step plotter.StepKind, points bool) error {
	c, dash := style(i)
	l, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	l.StepStyle = step
	l.Color, l.Dashes, l.Width = c, dash, vg.Points(1)
	var thumbs []plot.Thumbnailer
	thumbs = append(thumbs, l)
	p.Add(l)
	if points {
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return err
		}
		s.Color, s.Shape, s.Radius = c, markers[i%len(markers)], vg.Points(1.8)
		p.Add(s)
		thumbs = append(thumbs, s)
	}
	if name != "" {
		p.Legend.Add(name, thumbs...)
	}
	return nil
}

var markers = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}, draw.TriangleGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{}, draw.SquareGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}}

// ecdfPoints are the steps of the empirical CDF of a setup's latencies:
// one point per distinct value, at the fraction of values at or below it;
// ms are the values in ms, ascending.
type ecdfPoints struct {
	ms, frac []float64
}

// rootECDF is the ECDF of a setup's root internalDurations.
func rootECDF(st *SetupStats) ecdfPoints {
	var e ecdfPoints
	c := st.RootInternal()
	n, seen := c.Len(), 0
	c.Distinct(func(v int64, count int) {
		seen += count
		e.ms = append(e.ms, float64(v))
		e.frac = append(e.frac, float64(seen)/float64(n))
	})
	return e
}

// e2eECDF is the ECDF of a setup's end-to-end latencies (exact while they
// are in memory; from 1,000 exact quantiles when they were spilled).
func e2eECDF(st *SetupStats) ecdfPoints {
	var e ecdfPoints
	v := st.E2E()
	n := v.Len()
	if sorted := v.Sorted(); sorted != nil || n == 0 {
		for j, x := range sorted {
			if j+1 < n && sorted[j+1] == x {
				continue // the step at x is drawn once, to its last value
			}
			e.ms = append(e.ms, float64(x)/1e6)
			e.frac = append(e.frac, float64(j+1)/float64(n))
		}
		return e
	}
	for q := 1; q <= 1000; q++ {
		k := (n*q+999)/1000 - 1
		x, err := v.Nth(k)
		if err != nil {
			break
		}
		e.ms = append(e.ms, float64(x)/1e6)
		e.frac = append(e.frac, float64(k+1)/float64(n))
	}
	return e
}

func ecdfFigure(d *Data, e2e bool, opt PlotOptions) (*fig, error) {
	xlabel := "latency (root invocation's internalDuration), ms"
	if e2e {
		xlabel = "end-to-end latency (client), ms"
	}
	p := newPlot(xlabel, "fraction of requests")
	lo, hi := math.Inf(1), math.Inf(-1)
	curves := make([]ecdfPoints, len(d.Names))
	for i, n := range d.Names {
		e := rootECDF(d.StatsOf(n))
		if e2e {
			e = e2eECDF(d.StatsOf(n))
		}
		curves[i] = e
		if len(e.ms) > 0 {
			lo, hi = math.Min(lo, math.Max(e.ms[0], 1)), math.Max(hi, e.ms[len(e.ms)-1])
		}
	}
	if math.IsInf(lo, 1) {
		return nil, fmt.Errorf("no latencies to draw")
	}
	sx := setScale(&p.X, lo, hi, 5)
	for i, n := range d.Names {
		e := curves[i]
		if len(e.ms) == 0 {
			continue
		}
		xys := make(plotter.XYs, 0, len(e.ms)+1)
		xys = append(xys, plotter.XY{X: math.Max(e.ms[0], lo), Y: 0})
		for j, v := range e.ms {
			xys = append(xys, plotter.XY{X: math.Max(v, lo), Y: e.frac[j]})
		}
		if err := addLine(p, i, n, scaled(xys, sx, false), plotter.PostStep, false); err != nil {
			return nil, err
		}
	}
	p.Y.Min, p.Y.Max = 0, 1
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 0.25}, {Value: 0.5, Label: "0.5"}, {Value: 0.75}, {Value: 1, Label: "1"}}
	h := 0.7 * opt.WidthIn
	if k := len(d.Names); k > 10 {
		h += 0.1 * float64(k-10)
	}
	f := &fig{panels: []*plot.Plot{p}, w: inch(opt.WidthIn), h: inch(h)}
	// Curves may cross any corner: the legend goes beside the plot.
	l := p.Legend
	f.legend = &l
	p.Legend = plot.NewLegend()
	return f, nil
}

func inch(v float64) vg.Length { return vg.Length(v) * vg.Inch }

// iterationsFigure: median and p95 latency (top) and cost per request
// (bottom) of each setup in run order, the setup's name under each.
func iterationsFigure(d *Data, opt PlotOptions) (*fig, error) {
	top := newPlot("", "latency, ms")
	bottom := newPlot("setup (in run order)", "cost, USD per 1M requests")
	var med, p95, cost plotter.XYs
	var ticks []plot.Tick
	minLat, maxLat, maxCost := math.Inf(1), 0.0, 0.0
	for i, r := range d.Rows {
		x := float64(i + 1)
		if !math.IsNaN(r.MedianMs) {
			med = append(med, plotter.XY{X: x, Y: math.Max(r.MedianMs, 1)})
			p95 = append(p95, plotter.XY{X: x, Y: math.Max(r.P95Ms, 1)})
			minLat, maxLat = math.Min(minLat, math.Max(r.MedianMs, 1)), math.Max(maxLat, r.P95Ms)
		}
		cost = append(cost, plotter.XY{X: x, Y: r.USDPerMillion})
		maxCost = math.Max(maxCost, r.USDPerMillion)
		ticks = append(ticks, plot.Tick{Value: x, Label: strconv.Itoa(i+1) + ": " + r.Setup})
	}
	// Room above the lines for the legend.
	sy := setScale(&top.Y, minLat, maxLat, 10)
	if sy {
		top.Y.Max = math.Log10(maxLat * 2.2)
	} else {
		top.Y.Min, top.Y.Max = 0, 1.3*maxLat
	}
	if len(med) > 0 {
		if err := addLine(top, 0, "median", scaled(med, false, sy), plotter.NoStep, true); err != nil {
			return nil, err
		}
		if err := addLine(top, 1, "p95", scaled(p95, false, sy), plotter.NoStep, true); err != nil {
			return nil, err
		}
	}
	if err := addLine(bottom, 2, "", cost, plotter.NoStep, true); err != nil {
		return nil, err
	}
	bottom.Y.Min, bottom.Y.Max = 0, 1.1*maxCost
	top.Legend.Top = true
	for _, p := range []*plot.Plot{top, bottom} {
		p.X.Min, p.X.Max = 0.5, float64(len(d.Rows))+0.5
	}
	bottom.X.Tick.Marker = plot.ConstantTicks(ticks)
	bottom.X.Tick.Label.Rotation = math.Pi / 2
	bottom.X.Tick.Label.XAlign = draw.XRight
	bottom.X.Tick.Label.YAlign = draw.YCenter
	bottom.X.Tick.Label.Font.Size = noteSize
	blankTicks(top, bottom)
	return &fig{panels: []*plot.Plot{top, bottom}, w: inch(opt.WidthIn), h: inch(1.15 * opt.WidthIn)}, nil
}

// sweepGroup is a set of setups that run the same functions with the same
// local/remote rules, differing in memory only.
type sweepGroup struct {
	functions []string
	setups    []string
}

// sweepGroups finds the groupings run at three or more memory
// configurations.
func sweepGroups(d *Data) []sweepGroup {
	byKey := map[string]*sweepGroup{}
	var keys []string
	configs := map[string]map[string]bool{}
	for _, n := range d.Names {
		mem := d.StatsOf(n).Memory()
		if len(mem) == 0 {
			continue
		}
		fns := make([]string, 0, len(mem))
		for f := range mem {
			fns = append(fns, f)
		}
		sort.Strings(fns)
		key := strings.Join(fns, ",") + "|" + strategies(d.Configs[n])
		g := byKey[key]
		if g == nil {
			g = &sweepGroup{functions: fns}
			byKey[key] = g
			keys = append(keys, key)
			configs[key] = map[string]bool{}
		}
		g.setups = append(g.setups, n)
		configs[key][memoryString(mem)] = true
	}
	var out []sweepGroup
	for _, k := range keys {
		if len(configs[k]) >= 3 {
			out = append(out, *byKey[k])
		}
	}
	return out
}

// strategies is a setup's rule table without URLs (memory sizes): two
// setups with equal strategies differ in memory only.
func strategies(s *fusionsim.Setup) string {
	if s == nil {
		return ""
	}
	var b strings.Builder
	entries := make([]string, 0, len(s.Rules))
	for e := range s.Rules {
		entries = append(entries, e)
	}
	sort.Strings(entries)
	for _, e := range entries {
		called := make([]string, 0, len(s.Rules[e]))
		for c := range s.Rules[e] {
			called = append(called, c)
		}
		sort.Strings(called)
		for _, c := range called {
			p := s.Rules[e][c]
			fmt.Fprintf(&b, "%s>%s:%s/%s;", e, c, p.Sync.Strategy, p.Async.Strategy)
		}
	}
	return b.String()
}

// sweepFigure: per function, the median internalDuration (top) and the cost
// per request of its invocations (bottom) against its memory size; with
// several functions also the request's (root latency, total cost).
func sweepFigure(d *Data, g sweepGroup, opt PlotOptions) (*fig, error) {
	type acc struct {
		lat      Counts
		mbms     int64
		n        int // invocations
		usd      float64
		requests int
	}
	per := map[string]map[int]*acc{} // function -> MB -> accumulated
	req := map[string]*acc{}         // memory configuration -> request figures
	var reqOrder []string
	reqX := map[string]float64{}
	for _, n := range g.setups {
		st := d.StatsOf(n)
		row := st.Row(n, opt.Pricing)
		mem := st.Memory()
		for f, sizes := range mem {
			if len(sizes) != 1 {
				continue // a function at several sizes in one setup is no sweep point
			}
			if per[f] == nil {
				per[f] = map[int]*acc{}
			}
			a := per[f][sizes[0]]
			if a == nil {
				a = &acc{}
				per[f][sizes[0]] = a
			}
			a.requests += row.Requests
			fs := st.Functions()[f]
			a.lat.Merge(&fs.Internal)
			a.mbms += fs.BilledMBMs
			a.n += fs.Invocations
		}
		// The request's figures at a uniform memory size.
		if u, ok := uniformMemory(mem); ok && len(g.functions) > 1 {
			key := strconv.Itoa(u)
			if req[key] == nil {
				req[key] = &acc{}
				reqOrder = append(reqOrder, key)
				reqX[key] = float64(u)
			}
			a := req[key]
			a.lat.Merge(st.RootInternal())
			a.usd += row.USDPerMillion * float64(row.Requests) / 1e6
			a.requests += row.Requests
		}
	}
	for _, m := range per {
		for _, a := range m {
			// Billed MB-ms summed as integers, priced once: exact and
			// independent of the records' order.
			a.usd = opt.Pricing.ComputeUSD(a.mbms, 1) + float64(a.n)*opt.Pricing.RequestUSDPerMillion/1e6
		}
	}
	top := newPlot("", "median latency, ms")
	bottom := newPlot("memory size, MB", "cost, USD per 1M requests")
	type series struct {
		name      string
		lat, cost plotter.XYs
	}
	var all []series
	for _, f := range g.functions {
		var s series
		s.name = f
		sizes := make([]int, 0, len(per[f]))
		for mb := range per[f] {
			sizes = append(sizes, mb)
		}
		slices.Sort(sizes)
		for _, mb := range sizes {
			a := per[f][mb]
			if a.lat.Len() > 0 {
				s.lat = append(s.lat, plotter.XY{X: float64(mb), Y: a.lat.Median()})
			}
			if a.requests > 0 {
				s.cost = append(s.cost, plotter.XY{X: float64(mb), Y: a.usd / float64(a.requests) * 1e6})
			}
		}
		all = append(all, s)
	}
	if len(reqOrder) >= 2 {
		s := series{name: "request"}
		slices.SortFunc(reqOrder, func(a, b string) int { return cmp.Compare(reqX[a], reqX[b]) })
		for _, k := range reqOrder {
			a := req[k]
			if a.lat.Len() > 0 {
				s.lat = append(s.lat, plotter.XY{X: reqX[k], Y: a.lat.Median()})
			}
			if a.requests > 0 {
				s.cost = append(s.cost, plotter.XY{X: reqX[k], Y: a.usd / float64(a.requests) * 1e6})
			}
		}
		all = append(all, s)
	}
	xlo, xhi := math.Inf(1), math.Inf(-1)
	ylo, yhi := math.Inf(1), math.Inf(-1)
	clo, chi := math.Inf(1), math.Inf(-1)
	for i, s := range all {
		for j, p := range s.lat {
			xlo, xhi = math.Min(xlo, p.X), math.Max(xhi, p.X)
			all[i].lat[j].Y = math.Max(p.Y, 1) // a log axis needs > 0; 0 ms is drawn at 1 ms
			ylo, yhi = math.Min(ylo, all[i].lat[j].Y), math.Max(yhi, p.Y)
		}
		for _, p := range s.cost {
			clo, chi = math.Min(clo, p.Y), math.Max(chi, p.Y)
		}
	}
	if math.IsInf(xlo, 1) {
		return nil, fmt.Errorf("no latencies to draw")
	}
	var sx logScale
	for _, p := range []*plot.Plot{top, bottom} {
		if sx = setScale(&p.X, xlo, xhi, 10); !sx {
			p.X.Min, p.X.Max = 0, xhi*1.05
		}
	}
	sy := setScale(&top.Y, ylo, yhi, 10)
	if !sy {
		top.Y.Min, top.Y.Max = 0, yhi*1.05
	}
	sc := setScale(&bottom.Y, clo, chi, 10)
	if !sc {
		bottom.Y.Min, bottom.Y.Max = 0, chi*1.05
	}
	for i, s := range all {
		name := s.name
		if len(all) == 1 {
			name = "" // one function: no legend
		}
		if len(s.lat) > 0 {
			if err := addLine(top, i, name, scaled(s.lat, sx, sy), plotter.NoStep, true); err != nil {
				return nil, err
			}
		}
		if len(s.cost) > 0 {
			if err := addLine(bottom, i, "", scaled(s.cost, sx, sc), plotter.NoStep, true); err != nil {
				return nil, err
			}
		}
	}
	blankTicks(top, bottom)
	f := &fig{panels: []*plot.Plot{top, bottom}, w: inch(opt.WidthIn), h: inch(1.05 * opt.WidthIn)}
	if len(all) > 1 {
		// Lines cross the whole panel: the legend goes beside it.
		l := top.Legend
		f.legend = &l
		top.Legend = plot.NewLegend()
	}
	return f, nil
}

// blankTicks gives top the x ticks and grid of bottom, without labels.
func blankTicks(top, bottom *plot.Plot) {
	marker := bottom.X.Tick.Marker
	top.X.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
		ts := slices.Clone(marker.Ticks(min, max))
		for i := range ts {
			ts[i].Label = ""
		}
		return ts
	})
	top.Add(xGrid{marker: marker, style: gridStyle})
}

func uniformMemory(mem map[string][]int) (int, bool) {
	u := -1
	for _, sizes := range mem {
		if len(sizes) != 1 || (u >= 0 && sizes[0] != u) {
			return 0, false
		}
		u = sizes[0]
	}
	return u, u > 0
}

// paretoFigure: every setup's median latency against its cost per request,
// labelled, with the Pareto front (no other setup is both cheaper and
// faster) drawn as a staircase.
func paretoFigure(d *Data, opt PlotOptions) (*fig, error) {
	p := newPlot("cost, USD per 1M requests", "median latency, ms")
	var pts plotter.XYs
	var labels []string
	byIndex := numericIncreasing(d.Names)
	for i, r := range d.Rows {
		if math.IsNaN(r.MedianMs) || !(r.USDPerMillion > 0) {
			continue
		}
		pts = append(pts, plotter.XY{X: r.USDPerMillion, Y: r.MedianMs})
		if byIndex {
			labels = append(labels, strconv.Itoa(i+1))
		} else {
			labels = append(labels, r.Setup)
		}
	}
	if len(pts) == 0 {
		return nil, fmt.Errorf("no setup with latencies")
	}
	sx, sy := costLatencyAxes(p, pts)
	for i := range pts {
		pts[i].Y = math.Max(pts[i].Y, 1)
	}
	front := scaled(paretoFront(pts), sx, sy)
	spts := scaled(pts, sx, sy)
	fl, err := addStaircase(p, front)
	if err != nil {
		return nil, err
	}
	sc, err := plotter.NewScatter(spts)
	if err != nil {
		return nil, err
	}
	sc.Color, sc.Shape, sc.Radius = palette[0], draw.CircleGlyph{}, vg.Points(2)
	p.Add(sc)
	fs, err := plotter.NewScatter(front)
	if err != nil {
		return nil, err
	}
	fs.Color, fs.Shape, fs.Radius = palette[1], draw.RingGlyph{}, vg.Points(3.5)
	p.Add(fs)
	ts := text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, noteSize), Handler: p.X.Label.TextStyle.Handler}
	p.Add(&pointLabels{xys: spts, labels: labels, style: ts, radius: vg.Points(3.5)})
	name := "setup"
	if byIndex {
		name = "setup (run order)"
	}
	p.Legend.Add(name, sc)
	if fl != nil {
		p.Legend.Add("Pareto front", fl, fs)
	} else {
		p.Legend.Add("Pareto front", fs)
	}
	f := &fig{panels: []*plot.Plot{p}, w: inch(opt.WidthIn), h: inch(0.75 * opt.WidthIn)}
	l := p.Legend
	f.legend = &l
	p.Legend = plot.NewLegend()
	return f, nil
}

// pointLabels writes a label beside each point, choosing for each the first
// of a few positions around it that overlaps no point and no label placed
// before (or, if every position does, the one that overlaps least).
type pointLabels struct {
	xys    plotter.XYs
	labels []string
	style  text.Style
	radius vg.Length // of the points' glyphs
}

func (pl *pointLabels) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	r := pl.radius
	var taken []vg.Rectangle
	for _, q := range pl.xys {
		x, y := trX(q.X), trY(q.Y)
		taken = append(taken, vg.Rectangle{Min: vg.Point{X: x - r, Y: y - r}, Max: vg.Point{X: x + r, Y: y + r}})
	}
	sty := pl.style
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YBottom
	for i, q := range pl.xys {
		x, y := trX(q.X), trY(q.Y)
		w, h := sty.Width(pl.labels[i]), sty.Height(pl.labels[i])
		pad := vg.Points(1)
		cands := []vg.Point{
			{X: x + r + pad, Y: y + pad}, {X: x + r + pad, Y: y - h - pad},
			{X: x - r - pad - w, Y: y + pad}, {X: x - r - pad - w, Y: y - h - pad},
			{X: x - w/2, Y: y + r + pad}, {X: x - w/2, Y: y - r - pad - h},
		}
		best, bestCost := cands[0], vg.Length(math.Inf(1))
		for _, cd := range cands {
			rect := vg.Rectangle{Min: cd, Max: vg.Point{X: cd.X + w, Y: cd.Y + h}}
			cost := vg.Length(0)
			for _, t := range taken {
				cost += overlap(rect, t)
			}
			if rect.Min.X < c.Min.X || rect.Max.X > c.Max.X || rect.Min.Y < c.Min.Y || rect.Max.Y > c.Max.Y {
				cost += w * h // outside the data area
			}
			if cost < bestCost {
				best, bestCost = cd, cost
			}
			if cost == 0 {
				break
			}
		}
		c.FillText(sty, best, pl.labels[i])
		taken = append(taken, vg.Rectangle{Min: best, Max: vg.Point{X: best.X + w, Y: best.Y + h}})
	}
}

// overlap is the area two rectangles share.
func overlap(a, b vg.Rectangle) vg.Length {
	w := min(a.Max.X, b.Max.X) - max(a.Min.X, b.Min.X)
	h := min(a.Max.Y, b.Max.Y) - max(a.Min.Y, b.Min.Y)
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

// paretoFront returns the points no other point dominates (lower or equal
// cost and latency, one of them lower), by increasing cost.
func paretoFront(pts plotter.XYs) plotter.XYs {
	s := slices.Clone(pts)
	slices.SortFunc(s, func(a, b plotter.XY) int { return cmp.Or(cmp.Compare(a.X, b.X), cmp.Compare(a.Y, b.Y)) })
	var front plotter.XYs
	for _, q := range s {
		if len(front) == 0 || q.Y < front[len(front)-1].Y {
			front = append(front, q)
		}
	}
	return front
}

// save writes the figure in every format; every file is written atomically.
func (f *fig) save(dir, name string, opt PlotOptions) ([]string, error) {
	var files []string
	for _, format := range opt.Formats {
		data, err := f.render(format, opt)
		if err != nil {
			return files, err
		}
		path := filepath.Join(dir, name+"."+format)
		if err := trace.WriteFileAtomic(path, data); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	return files, nil
}

func (f *fig) render(format string, opt PlotOptions) ([]byte, error) {
	var canvas vg.CanvasWriterTo
	var img *vgimg.Canvas // PNG: encoded at the fastest zlib level below
	switch format {
	case "pdf":
		c := vgpdf.New(f.w, f.h)
		c.EmbedFonts(true)
		canvas = c
	case "svg":
		canvas = vgsvg.New(f.w, f.h)
	case "png":
		img = vgimg.NewWith(vgimg.UseWH(f.w, f.h), vgimg.UseDPI(opt.PNGDPI), vgimg.UseBackgroundColor(color.White))
		canvas = newPNGCanvas(img)
	default:
		return nil, fmt.Errorf("unknown format %q (pdf, svg, png)", format)
	}
	dc := draw.New(canvas)
	if f.legend != nil {
		r := f.legend.Rectangle(dc)
		strip := r.Size().X + vg.Points(8)
		lc := draw.Crop(dc, dc.Size().X-strip+vg.Points(6), 0, 0, -vg.Points(4))
		f.legend.Top, f.legend.Left = true, true
		f.legend.Draw(lc)
		dc = draw.Crop(dc, 0, -strip, 0, 0)
	}
	if img != nil {
		// The image starts white: the panels' white backgrounds would
		// paint every pixel again, as much as the rest of the figure,
		// and change none.
		for _, p := range f.panels {
			if p.BackgroundColor == color.White {
				p.BackgroundColor = nil
				defer func() { p.BackgroundColor = color.White }()
			}
		}
	}
	if len(f.panels) == 1 {
		f.panels[0].Draw(dc)
	} else {
		rows := make([][]*plot.Plot, len(f.panels))
		for i, p := range f.panels {
			rows[i] = []*plot.Plot{p}
		}
		tiles := draw.Tiles{Rows: len(f.panels), Cols: 1, PadY: vg.Points(4), PadTop: vg.Points(2), PadRight: vg.Points(4)}
		cs := plot.Align(rows, tiles, dc)
		for i, p := range f.panels {
			p.Draw(cs[i][0])
		}
	}
	var buf bytes.Buffer
	if img != nil {
		// vgimg's PngCanvas compresses at zlib's default level, which
		// costs several times the drawing.
		if err := encodePNG(&buf, img.Image()); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	if _, err := canvas.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
