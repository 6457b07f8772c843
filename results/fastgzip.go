package results

import (
	"encoding/binary"
	"hash/crc32"
	"io"
	"math/bits"
)

// fastGzip writes a gzip stream (RFC 1952) whose deflate data (RFC 1951) is
// one block of the fixed Huffman code, made by a greedy LZ77 matcher with one
// hash probe per position, as LZ4 does. It trades about a third more bytes
// than compress/flate's fastest level for several times its speed, which
// matters for logs: a default IoT run writes 170 MB of them. Any gzip reader
// reads the output; it is deterministic (no name, no time in the header).
type fastGzip struct {
	w     io.Writer
	crc   uint32
	size  uint32
	bits  uint64
	nbits uint
	out   []byte
	hist  []byte // the last window of input, then the data being encoded
	base  int    // stream offset of hist[0]
	table [1 << fgHashBits]int32
	err   error
}

const (
	fgHashBits = 14
	fgWindow   = 32 << 10
	fgMaxMatch = 258
)

func newFastGzip(w io.Writer) *fastGzip {
	z := &fastGzip{w: w, out: make([]byte, 0, 64<<10), hist: make([]byte, 0, 3*fgWindow)}
	for i := range z.table {
		z.table[i] = -1 << 30
	}
	z.out = append(z.out, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff)
	z.put(2, 3) // BFINAL 0, BTYPE 01 (fixed Huffman)
	return z
}

// Fixed Huffman codes, bit-reversed for LSB-first output: code and length
// of each literal/length symbol (0-287) and of each distance code (0-29).
var fgLit, fgLitLen = func() (code [288]uint16, n [288]uint8) {
	for s := 0; s < 288; s++ {
		var c, l int
		switch {
		case s < 144:
			c, l = 0x30+s, 8
		case s < 256:
			c, l = 0x190+s-144, 9
		case s < 280:
			c, l = s-256, 7
		default:
			c, l = 0xc0+s-280, 8
		}
		code[s], n[s] = uint16(bits.Reverse16(uint16(c))>>(16-l)), uint8(l)
	}
	return code, n
}()

var (
	fgLenBase  = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	fgLenExtra = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	fgDBase    = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	fgDExtra   = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// fgLenCode[l] is the length code (0-28) of match length l.
	fgLenCode = func() (t [fgMaxMatch + 1]uint8) {
		c := 0
		for l := 3; l <= fgMaxMatch; l++ {
			for c < 28 && l >= fgLenBase[c+1] {
				c++
			}
			t[l] = uint8(c)
		}
		return t
	}()
	// fgDistCode: distance d-1 < 256 at [d-1], else at 256+((d-1)>>7)
	// (zlib's table).
	fgDistCode = func() (t [512]uint8) {
		code := func(d int) uint8 {
			c := 0
			for c < 29 && d >= fgDBase[c+1] {
				c++
			}
			return uint8(c)
		}
		for i := 0; i < 256; i++ {
			t[i] = code(i + 1)
		}
		for i := 256; i < 512; i++ {
			t[i] = code((i-256)<<7 + 1)
		}
		return t
	}()
)

func (z *fastGzip) put(v uint64, n uint) {
	z.bits |= v << z.nbits
	z.nbits += n
	if z.nbits >= 48 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], z.bits)
		z.out = append(z.out, b[:6]...)
		z.bits >>= 48
		z.nbits -= 48
	}
}

func (z *fastGzip) literal(c byte) { z.put(uint64(fgLit[c]), uint(fgLitLen[c])) }

func (z *fastGzip) match(length, dist int) {
	lc := fgLenCode[length]
	s := 257 + int(lc)
	z.put(uint64(fgLit[s]), uint(fgLitLen[s]))
	if e := fgLenExtra[lc]; e > 0 {
		z.put(uint64(length-fgLenBase[lc]), e)
	}
	var dc uint8
	if dist <= 256 {
		dc = fgDistCode[dist-1]
	} else {
		dc = fgDistCode[256+(dist-1)>>7]
	}
	z.put(uint64(bits.Reverse8(dc)>>3), 5)
	if e := fgDExtra[dc]; e > 0 {
		z.put(uint64(dist-fgDBase[dc]), e)
	}
}

func fgHash(v uint32) uint32 { return (v * 2654435761) >> (32 - fgHashBits) }

func (z *fastGzip) Write(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	given := len(p)
	z.crc = crc32.Update(z.crc, crc32.IEEETable, p)
	z.size += uint32(len(p))
	for len(p) > 0 {
		if len(z.hist) >= 2*fgWindow {
			// Keep the last window; positions in the table move with it.
			drop := len(z.hist) - fgWindow
			copy(z.hist, z.hist[drop:])
			z.hist = z.hist[:fgWindow]
			z.base += drop
		}
		n := min(len(p), cap(z.hist)-len(z.hist))
		start := len(z.hist)
		z.hist = append(z.hist, p[:n]...)
		p = p[n:]
		z.encode(start)
	}
	if len(z.out) >= 32<<10 {
		z.flushOut()
	}
	return given, z.err
}

// encode encodes hist[start:].
func (z *fastGzip) encode(start int) {
	h := z.hist
	n := len(h)
	i := start
	misses := 0 // positions since the last match: the longer, the bigger the steps (LZ4's acceleration)
	for i+4 <= n {
		v := binary.LittleEndian.Uint32(h[i:])
		k := fgHash(v)
		cand := int(z.table[k]) - z.base
		z.table[k] = int32(z.base + i)
		if cand >= 0 && i-cand <= fgWindow && binary.LittleEndian.Uint32(h[cand:]) == v {
			l := 4
			for i+l < n && l < fgMaxMatch && h[cand+l] == h[i+l] {
				l++
			}
			z.match(l, i-cand)
			i += l
			misses = 0
			continue
		}
		misses++
		end := min(i+1+misses>>4, n)
		for ; i < end; i++ {
			z.literal(h[i])
		}
	}
	for ; i < n; i++ {
		z.literal(h[i])
	}
}

func (z *fastGzip) flushOut() {
	if z.err == nil && len(z.out) > 0 {
		_, z.err = z.w.Write(z.out)
	}
	z.out = z.out[:0]
}

// Close ends the deflate stream and writes the gzip trailer; it does not
// close the underlying writer.
func (z *fastGzip) Close() error {
	z.put(uint64(fgLit[256]), uint(fgLitLen[256])) // end of the block
	z.put(3, 3)                                    // BFINAL 1, BTYPE 01
	z.put(uint64(fgLit[256]), uint(fgLitLen[256])) // an empty final block
	for z.nbits > 0 {
		z.out = append(z.out, byte(z.bits))
		z.bits >>= 8
		z.nbits -= min(z.nbits, 8)
	}
	z.out = binary.LittleEndian.AppendUint32(z.out, z.crc)
	z.out = binary.LittleEndian.AppendUint32(z.out, z.size)
	z.flushOut()
	return z.err
}
