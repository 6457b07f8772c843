package calibrate

import (
	"bytes"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/fusionsim/fusionsim/trace"
)

// FigureFormats are the formats DrawECDF writes.
var FigureFormats = []string{"png", "svg", "pdf"}

// DrawECDF draws, for every setup of v, the ECDF of the root invocations'
// internalDuration, real against emulated, with the KS distance and the
// medians in the title, into dir/<experiment>/<setup>-ecdf.<format>. It
// returns the files written.
func DrawECDF(v *Validation, dir string, formats []string) ([]string, error) {
	out := filepath.Join(dir, shortDir(v.Dir))
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for i := range v.Setups {
		r := &v.Setups[i]
		p, err := ecdfPlot(r)
		if err != nil {
			return files, fmt.Errorf("setup %s: %w", r.Setup, err)
		}
		for _, f := range formats {
			data, err := render(p, f)
			if err != nil {
				return files, fmt.Errorf("setup %s: %w", r.Setup, err)
			}
			path := filepath.Join(out, r.Setup+"-ecdf."+f)
			if err := trace.WriteFileAtomic(path, data); err != nil {
				return files, err
			}
			files = append(files, path)
		}
	}
	return files, nil
}

func ecdfPlot(r *SetupResult) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s (%s): median %s vs %s ms, KS %.3f", r.Setup, r.Memory, fixed(r.Real.MedianMs, 0), fixed(r.Emulated.MedianMs, 0), r.KS)
	p.Title.TextStyle.Font.Size = vg.Points(8)
	p.X.Label.Text = "latency (root invocation's internalDuration), ms"
	p.Y.Label.Text = "fraction of requests"
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top, p.Legend.Left = false, false
	p.Add(plotter.NewGrid())
	lo, hi := bounds(r.RealLatencyMs, r.EmulatedLatencyMs)
	if lo > 0 && hi/lo > 20 {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	for _, s := range []struct {
		name string
		x    []float64
		col  color.Color
		dash []vg.Length
	}{
		{"real (AWS)", r.RealLatencyMs, color.RGBA{0x00, 0x72, 0xB2, 0xff}, nil},
		{"emulated", r.EmulatedLatencyMs, color.RGBA{0xD5, 0x5E, 0x00, 0xff}, []vg.Length{vg.Points(3), vg.Points(1.5)}},
	} {
		if len(s.x) == 0 {
			continue
		}
		xys := make(plotter.XYs, 0, len(s.x)+1)
		for j, v := range s.x {
			if j == 0 {
				xys = append(xys, plotter.XY{X: v, Y: 0})
			}
			xys = append(xys, plotter.XY{X: v, Y: float64(j+1) / float64(len(s.x))})
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.StepStyle = plotter.PostStep
		l.Color, l.Dashes, l.Width = s.col, s.dash, vg.Points(1)
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	return p, nil
}

func bounds(xs ...[]float64) (lo, hi float64) {
	first := true
	for _, x := range xs {
		for _, v := range x {
			if first || v < lo {
				lo = v
			}
			if first || v > hi {
				hi = v
			}
			first = false
		}
	}
	return lo, hi
}

// render draws p as a 5 x 3.5 inch figure in format.
func render(p *plot.Plot, format string) ([]byte, error) {
	w, h := 5*vg.Inch, 3.5*vg.Inch
	var buf bytes.Buffer
	switch strings.ToLower(format) {
	case "png":
		cv := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(150))}
		p.Draw(draw.New(cv))
		if _, err := cv.WriteTo(&buf); err != nil {
			return nil, err
		}
	case "svg":
		cv := vgsvg.New(w, h)
		p.Draw(draw.New(cv))
		if _, err := cv.WriteTo(&buf); err != nil {
			return nil, err
		}
	case "pdf":
		cv := vgpdf.New(w, h)
		cv.EmbedFonts(true)
		p.Draw(draw.New(cv))
		if _, err := cv.WriteTo(&buf); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("figure format %q is none of %s", format, strings.Join(FigureFormats, ", "))
	}
	return buf.Bytes(), nil
}
