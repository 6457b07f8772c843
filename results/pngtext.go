package results

import (
	"image"
	"image/color"
	"io"
	"math"

	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	fix "golang.org/x/image/math/fixed"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgimg"
)

// pngCanvas is the PNG figures' canvas: vgimg's, with text drawn faster.
// vgimg draws each string through gg, which makes a new font face per
// string and composites each glyph through a general affine transform
// with a bilinear kernel. For text without rotation the transform is a
// translation by whole pixels, under which that kernel takes each pixel
// from exactly one source pixel with weight 1: FillString composites the
// glyphs directly with the same arithmetic (the same pixels), from one
// face per font. Rotated text and anything else goes to vgimg.
type pngCanvas struct {
	*vgimg.Canvas
	img   *image.RGBA
	state []textState // the top is the current one (Push, Pop)
	faces map[faceKey]xfont.Face
}

// textState is what pngCanvas follows of the canvas' graphics state.
type textState struct {
	color       color.Color // nil: not known
	transformed bool        // a rotation, translation or scaling applies
}

type faceKey struct {
	face *opentype.Font
	size vg.Length
}

func newPNGCanvas(c *vgimg.Canvas) *pngCanvas {
	img, _ := c.Image().(*image.RGBA)
	return &pngCanvas{Canvas: c, img: img, state: []textState{{}}, faces: map[faceKey]xfont.Face{}}
}

// WriteTo is vgimg.PngCanvas's (render encodes the image itself).
func (c *pngCanvas) WriteTo(w io.Writer) (int64, error) {
	return vgimg.PngCanvas{Canvas: c.Canvas}.WriteTo(w)
}

func (c *pngCanvas) top() *textState { return &c.state[len(c.state)-1] }

func (c *pngCanvas) SetColor(clr color.Color) {
	c.Canvas.SetColor(clr)
	if clr == nil {
		clr = color.Black
	}
	c.top().color = clr
}

func (c *pngCanvas) Rotate(t float64) {
	c.Canvas.Rotate(t)
	c.top().transformed = true
}

func (c *pngCanvas) Translate(pt vg.Point) {
	c.Canvas.Translate(pt)
	c.top().transformed = true
}

func (c *pngCanvas) Scale(x, y float64) {
	c.Canvas.Scale(x, y)
	c.top().transformed = true
}

func (c *pngCanvas) Push() {
	c.Canvas.Push()
	c.state = append(c.state, *c.top())
}

func (c *pngCanvas) Pop() {
	c.Canvas.Pop()
	c.state = c.state[:len(c.state)-1]
}

// FillString draws str as vgimg.Canvas.FillString does.
func (c *pngCanvas) FillString(f font.Face, pt vg.Point, str string) {
	st := c.top()
	if st.transformed || st.color == nil || c.img == nil || f.Face == nil {
		c.Canvas.FillString(f, pt, str)
		return
	}
	if f.Font.Size == 0 {
		return
	}
	key := faceKey{f.Face, f.Font.Size}
	face := c.faces[key]
	if face == nil {
		ff := f
		face = ff.FontFace(c.DPI())
		c.faces[key] = face
	}
	// vgimg: the point in dots, y from the top; gg: the dot in 26.6
	// fixed point, rounded.
	_, h := c.Size()
	x := pt.X.Dots(c.DPI())
	y := h.Dots(c.DPI()) - pt.Y.Dots(c.DPI())
	dot := fix.Point26_6{X: fix.Int26_6(math.Round(x * 64)), Y: fix.Int26_6(math.Round(y * 64))}
	cr, cg, cb, ca := st.color.RGBA()
	prevC := rune(-1)
	for _, r := range str {
		if prevC >= 0 {
			dot.X += face.Kern(prevC, r)
		}
		dr, mask, maskp, advance, ok := face.Glyph(dot, r)
		if !ok {
			continue
		}
		c.glyph(dr, mask, maskp, cr, cg, cb, ca)
		dot.X += advance
		prevC = r
	}
}

// glyph composites a glyph's mask at dr in the color (cr, cg, cb, ca),
// premultiplied 16-bit: x/image/draw's Kernel.Transform with Over, a
// uniform source and a source mask, for a translation by whole pixels.
func (c *pngCanvas) glyph(dr image.Rectangle, mask image.Image, maskp image.Point, cr, cg, cb, ca uint32) {
	dst := c.img
	adr := dst.Bounds().Intersect(dr)
	alpha, _ := mask.(*image.Alpha)
	for y := adr.Min.Y; y < adr.Max.Y; y++ {
		for x := adr.Min.X; x < adr.Max.X; x++ {
			kx, ky := x-dr.Min.X, y-dr.Min.Y
			var ma uint32
			if alpha != nil {
				ma = uint32(alpha.AlphaAt(maskp.X+kx, maskp.Y+ky).A) * 0x101
			} else {
				_, _, _, ma = mask.At(maskp.X+kx, maskp.Y+ky).RGBA()
			}
			if ma == 0 {
				continue // the destination stays as it is
			}
			pr, pg, pb, pa := cr*ma/0xffff, cg*ma/0xffff, cb*ma/0xffff, ca*ma/0xffff
			pr, pg, pb = min(pr, pa), min(pg, pa), min(pb, pa)
			i := dst.PixOffset(x, y)
			p := dst.Pix[i : i+4 : i+4]
			qr, qg, qb, qa := uint32(p[0])*0x101, uint32(p[1])*0x101, uint32(p[2])*0x101, uint32(p[3])*0x101
			pa1 := 0xffff - pa
			p[0] = uint8(uint16(qr*pa1/0xffff+pr) >> 8)
			p[1] = uint8(uint16(qg*pa1/0xffff+pg) >> 8)
			p[2] = uint8(uint16(qb*pa1/0xffff+pb) >> 8)
			p[3] = uint8(uint16(qa*pa1/0xffff+pa) >> 8)
		}
	}
}
