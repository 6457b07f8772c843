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
	out := make([]byte, rowLen)
	var prev []byte // the row above, RGBA (nil above the first: zeros)
	for y := 0; y < height; y++ {
		pix := rgba.Pix[rgba.PixOffset(b.Min.X, b.Min.Y+y):][:4*width]
		out[0] = 2 // up
		if prev == nil {
			for x, i := 0, 1; x < width; x, i = x+1, i+3 {
				out[i], out[i+1], out[i+2] = pix[4*x], pix[4*x+1], pix[4*x+2]
			}
		} else {
			upRow(out[1:], pix, prev)
		}
		writeRuns(z, out)
		prev = pix
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

// upRow writes the "up" filter of the RGB of row cur over row prev (both
// RGBA) into out: the differences, byte by byte. Pixels equal to the
// ones above, most of a figure, are found two at a time.
func upRow(out, cur, prev []byte) {
	width := len(cur) / 4
	x := 0
	for ; x+2 <= width; x += 2 {
		c, p := cur[4*x:4*x+8], prev[4*x:4*x+8]
		o := out[3*x : 3*x+6]
		if binary.LittleEndian.Uint64(c) == binary.LittleEndian.Uint64(p) {
			o[0], o[1], o[2], o[3], o[4], o[5] = 0, 0, 0, 0, 0, 0
			continue
		}
		o[0], o[1], o[2] = c[0]-p[0], c[1]-p[1], c[2]-p[2]
		o[3], o[4], o[5] = c[4]-p[4], c[5]-p[5], c[6]-p[6]
	}
	for ; x < width; x++ {
		out[3*x], out[3*x+1], out[3*x+2] = cur[4*x]-prev[4*x], cur[4*x+1]-prev[4*x+1], cur[4*x+2]-prev[4*x+2]
	}
}

// minRun is the length from which a run of zeros in a filtered row is
// written as a run (gzref's Repeat) rather than searched for matches.
const minRun = 32

// writeRuns compresses a filtered row: its runs of zeros (the pixels equal
// to those above) as runs, the rest with the matcher.
func writeRuns(z *gzref.Writer, row []byte) {
	start := 0 // row[start:i] is not written yet
	for i := 0; i < len(row); {
		if row[i] != 0 {
			i++
			continue
		}
		j := i + 1
		for j+8 <= len(row) && binary.LittleEndian.Uint64(row[j:]) == 0 {
			j += 8
		}
		for j < len(row) && row[j] == 0 {
			j++
		}
		if j-i < minRun {
			i = j
			continue
		}
		// row[i:j] is a run: what comes before it, one zero, then the
		// zero repeated.
		z.Write(row[start : i+1])
		z.Repeat(j - i - 1)
		start, i = j, j
	}
	if start < len(row) {
		z.Write(row[start:])
	}
}
