package results

import (
	"image"
	"image/color"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// TestPNGCanvasText: a plot with text of several sizes and colours, at
// odd positions, rotated and not, drawn through pngCanvas has exactly
// the pixels of vgimg's canvas.
func TestPNGCanvasText(t *testing.T) {
	draw1 := func(wrap bool) *image.RGBA {
		p := plot.New()
		p.Title.Text = "Latency ECDF — fusionsim Ω"
		p.X.Label.Text = "internalDuration (ms)"
		p.Y.Label.Text = "share of requests"
		p.Title.TextStyle.Color = color.RGBA{0xD5, 0x5E, 0x00, 0xff}
		l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 13.7, Y: 0.4}, {X: 271, Y: 1}})
		if err != nil {
			t.Fatal(err)
		}
		p.Add(l)
		p.Legend.Add("setup 1675209600", l)
		c := vgimg.NewWith(vgimg.UseWH(3.37*vg.Inch, 2.21*vg.Inch), vgimg.UseDPI(300), vgimg.UseBackgroundColor(color.White))
		var vc vg.CanvasSizer = vgimg.PngCanvas{Canvas: c}
		if wrap {
			vc = newPNGCanvas(c)
		}
		dc := draw.New(vc)
		p.Draw(dc)
		dc.FillText(draw.TextStyle{Color: color.Gray{0x40}, Font: p.X.Label.TextStyle.Font, Handler: p.X.Label.TextStyle.Handler}, vg.Point{X: 17.3, Y: 41.9}, "note 0.5 µs")
		return c.Image().(*image.RGBA)
	}
	want, got := draw1(false), draw1(true)
	if want.Bounds() != got.Bounds() {
		t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
	}
	n := 0
	for i := range want.Pix {
		if want.Pix[i] != got.Pix[i] {
			n++
		}
	}
	if n > 0 {
		t.Fatalf("%d of %d bytes differ", n, len(want.Pix))
	}
}
