package results

import (
	"bufio"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"io"

	"github.com/fusionsim/fusionsim/internal/gzref"
)

// encodePNG writes img as a PNG file. The figures' images (opaque
// *image.RGBA, mostly background) are written with one filter for every row ("up":
// rows repeat their neighbours, which leaves runs of zeros) and compressed
// by gzref, instead of image/png trying all five filters on every row and
// compressing with compress/flate, which cost more than drawing the
// figure. Other images go to image/png.
func encodePNG(w io.Writer, img image.Image) error {
	rgba, ok := img.(*image.RGBA)
	if !ok || !rgba.Opaque() {
		// (image.RGBA is premultiplied, PNG's RGBA is not.)
		return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, img)
	}
	b := rgba.Bounds()
	width, height := b.Dx(), b.Dy()
	const bpp = 3 // RGB: the alpha channel is all 255
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8] = 8 // bits per channel
	ihdr[9] = 2 // RGB
	writeChunk(bw, "IHDR", ihdr[:])

	idat := &chunkWriter{w: bw, typ: "IDAT"}
	z := gzref.NewZlibWriter(idat)
	rowLen := 1 + bpp*width
	prev := make([]byte, rowLen)
	cur := make([]byte, rowLen)
	out := make([]byte, rowLen)
	for y := 0; y < height; y++ {
		pix := rgba.Pix[rgba.PixOffset(b.Min.X, b.Min.Y+y):]
		for x, i := 0, 1; x < width; x, i = x+1, i+3 {
			p := pix[4*x : 4*x+3]
			cur[i], cur[i+1], cur[i+2] = p[0], p[1], p[2]
		}
		out[0] = 2 // up
		for i := 1; i < rowLen; i++ {
			out[i] = cur[i] - prev[i]
		}
		z.Write(out)
		prev, cur = cur, prev
	}
	if err := z.Close(); err != nil {
		return err
	}
	if err := idat.flush(); err != nil {
		return err
	}
	writeChunk(bw, "IEND", nil)
	return bw.Flush()
}

// writeChunk writes a PNG chunk: length, type, data, CRC of type and data.
func writeChunk(w *bufio.Writer, typ string, data []byte) {
	var head [8]byte
	binary.BigEndian.PutUint32(head[:4], uint32(len(data)))
	copy(head[4:], typ)
	w.Write(head[:])
	w.Write(data)
	crc := crc32.Update(crc32.ChecksumIEEE(head[4:]), crc32.IEEETable, data)
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], crc)
	w.Write(tail[:])
}

// chunkWriter cuts what is written to it into chunks of one type.
type chunkWriter struct {
	w   *bufio.Writer
	typ string
	buf []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	if len(c.buf) >= 256<<10 {
		return len(p), c.flush()
	}
	return len(p), nil
}

func (c *chunkWriter) flush() error {
	if len(c.buf) > 0 {
		writeChunk(c.w, c.typ, c.buf)
		c.buf = c.buf[:0]
	}
	return nil
}
