package results

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// CostLatency is one setup's place in a cost-latency figure.
type CostLatency struct {
	USDPerMillion, MedianMs float64
	// Label is written beside front points.
	Label string
}

// cloudBins bounds the points a cloud draws: points closer than about a
// tenth of a millimetre at the figure's size are drawn once.
const cloudBins = 1000

// DrawFrontCloud draws the figure of a sweep: every setup's median latency
// against its cost per request (a cloud of small points; of points that
// would land on the same spot only the first is drawn, so that hundreds of
// thousands of setups make a figure of a few thousand marks) and the given
// Pareto front as a labelled staircase. It writes dir/name.<format> for each
// of opt's formats and returns the files.
func DrawFrontCloud(dir, name string, cloud, front []CostLatency, opt PlotOptions) ([]string, error) {
	opt = opt.withDefaults(&Data{})
	if len(cloud) == 0 {
		return nil, fmt.Errorf("no setup with latencies")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := newPlot("cost, USD per 1M requests", "median latency, ms")
	raw := func(qs []CostLatency) plotter.XYs {
		out := make(plotter.XYs, len(qs))
		for i, q := range qs {
			out[i] = plotter.XY{X: q.USDPerMillion, Y: q.MedianMs}
		}
		return out
	}
	sx, sy := costLatencyAxes(p, append(raw(cloud), raw(front)...))
	xy := func(qs []CostLatency) plotter.XYs {
		out := raw(qs)
		for i := range out {
			out[i].Y = math.Max(out[i].Y, 1)
		}
		return scaled(out, sx, sy)
	}
	all := xy(cloud)
	// Thin the cloud on a grid over the scaled data range.
	lx, hx, ly, hy := p.X.Min, p.X.Max, p.Y.Min, p.Y.Max // in axis units
	seen := map[[2]int]bool{}
	var pts plotter.XYs
	for _, q := range all {
		b := [2]int{int((q.X - lx) / (hx - lx + 1e-300) * cloudBins), int((q.Y - ly) / (hy - ly + 1e-300) * cloudBins)}
		if seen[b] {
			continue
		}
		seen[b] = true
		pts = append(pts, q)
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	sc.Color, sc.Shape, sc.Radius = color.Gray{0x90}, draw.CircleGlyph{}, vg.Points(0.8)
	p.Add(sc)
	fxy := xy(front)
	labels := make([]string, len(front))
	var fl *plotter.Line
	if len(fxy) > 0 {
		for i, f := range front {
			labels[i] = f.Label
		}
		stair := slices.Clone(fxy)
		slices.SortStableFunc(stair, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		if fl, err = addStaircase(p, stair); err != nil {
			return nil, err
		}
		fs, err := plotter.NewScatter(fxy)
		if err != nil {
			return nil, err
		}
		fs.Color, fs.Shape, fs.Radius = palette[1], draw.RingGlyph{}, vg.Points(2.5)
		p.Add(fs)
		ts := text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, noteSize), Handler: p.X.Label.TextStyle.Handler}
		p.Add(&pointLabels{xys: fxy, labels: labels, style: ts, radius: vg.Points(2.5)})
		p.Legend.Add(fmt.Sprintf("deployments (%d)", len(cloud)), sc)
		if fl != nil {
			p.Legend.Add(fmt.Sprintf("Pareto front (%d)", len(front)), fl, fs)
		} else {
			p.Legend.Add(fmt.Sprintf("Pareto front (%d)", len(front)), fs)
		}
	}
	f := &fig{panels: []*plot.Plot{p}, w: inch(opt.WidthIn), h: inch(0.75 * opt.WidthIn)}
	l := p.Legend
	f.legend = &l
	p.Legend = plot.NewLegend()
	return f.save(dir, name, opt)
}

// costLatencyAxes sets the axes of a cost (x) against latency (y) figure to
// the points' range: a log scale where they span a factor of 5 (cost) or 10
// (latency), else linear with a margin. Latencies below 1 ms count as 1.
func costLatencyAxes(p *plot.Plot, pts plotter.XYs) (sx, sy logScale) {
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, q := range pts {
		xlo, xhi = math.Min(xlo, q.X), math.Max(xhi, q.X)
		ylo, yhi = math.Min(ylo, math.Max(q.Y, 1)), math.Max(yhi, q.Y)
	}
	sx = setScale(&p.X, xlo, xhi, 5)
	if !sx {
		span := math.Max(xhi-xlo, 0.1*xhi)
		p.X.Min, p.X.Max = math.Max(0, xlo-0.1*span), xhi+0.1*span
	}
	sy = setScale(&p.Y, ylo, yhi, 10)
	if !sy {
		span := math.Max(yhi-ylo, 0.05*yhi)
		p.Y.Min, p.Y.Max = math.Max(0, ylo-0.15*span), yhi+0.15*span
	}
	return sx, sy
}

// addStaircase draws a Pareto front (points by increasing cost) as a dashed
// staircase; nil for fewer than two points.
func addStaircase(p *plot.Plot, front plotter.XYs) (*plotter.Line, error) {
	if len(front) < 2 {
		return nil, nil
	}
	fl, err := plotter.NewLine(front)
	if err != nil {
		return nil, err
	}
	fl.StepStyle = plotter.PostStep
	fl.Color, fl.Width, fl.Dashes = palette[1], vg.Points(0.8), dashes[1]
	p.Add(fl)
	return fl, nil
}
