package results

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"testing"
)

// TestEncodePNG: image/png decodes what encodePNG writes to the same
// pixels, opaque or not, for a sub-image too.
func TestEncodePNG(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, opaque := range []bool{true, false} {
		img := image.NewRGBA(image.Rect(0, 0, 301, 97))
		for y := 0; y < 97; y++ {
			for x := 0; x < 301; x++ {
				c := color.RGBA{255, 255, 255, 255}
				if rng.IntN(7) == 0 || x == y {
					c = color.RGBA{uint8(rng.IntN(256)), uint8(x), uint8(y), 255}
				}
				if !opaque && x%5 == 0 {
					c.A = uint8(rng.IntN(256))
					c.R, c.G, c.B = min(c.R, c.A), min(c.G, c.A), min(c.B, c.A)
				}
				img.SetRGBA(x, y, c)
			}
		}
		for _, im := range []*image.RGBA{img, img.SubImage(image.Rect(13, 7, 200, 90)).(*image.RGBA)} {
			var buf bytes.Buffer
			if err := encodePNG(&buf, im); err != nil {
				t.Fatal(err)
			}
			got, err := png.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			b := im.Bounds()
			if got.Bounds().Dx() != b.Dx() || got.Bounds().Dy() != b.Dy() {
				t.Fatalf("size %v, want %v", got.Bounds(), b)
			}
			for y := 0; y < b.Dy(); y++ {
				for x := 0; x < b.Dx(); x++ {
					want := color.NRGBAModel.Convert(im.At(b.Min.X+x, b.Min.Y+y))
					have := color.NRGBAModel.Convert(got.At(got.Bounds().Min.X+x, got.Bounds().Min.Y+y))
					if want != have {
						t.Fatalf("opaque %v: pixel (%d,%d) = %v, want %v", opaque, x, y, have, want)
					}
				}
			}
		}
	}
}
