// Package gzref writes gzip streams (RFC 1952; deflate, RFC 1951, with
// dynamic Huffman codes) whose matches the caller may point at. A writer
// of structured text knows where the same bytes were written before: the
// previous log line of the same kind, the line that first held a request
// id, the previous trace record of a function. Ref hands the writer such a
// reference; it compares the bytes with the earlier ones and makes matches
// of what is equal, instead of searching for them. That is several times
// faster than a general compressor and, the references being long and
// exact, compresses structured text about as well as gzip's default level.
// Write compresses arbitrary bytes with a greedy one-probe matcher (as LZ4
// does), for text without structure.
//
// The output is deterministic (no name, no time in the header) and any gzip
// reader reads it.
package gzref

import (
	"encoding/binary"
	"hash"
	"hash/adler32"
	"hash/crc32"
	"io"
	"math/bits"
)

const (
	window   = 32 << 10 // deflate's largest distance
	maxMatch = 258
	minMatch = 4 // a new match of fewer equal bytes costs more than literals

	blockTokens = 1 << 15   // tokens per deflate block
	blockBytes  = 128 << 10 // input bytes per deflate block

	hashBits = 14
)

// A token is a literal byte (< 256), a run of literals (runFlag | n: the
// next n bytes of the block's input), or a match: matchFlag |
// (length-3)<<16 | (distance-1).
const (
	matchFlag = 1 << 31
	runFlag   = 1 << 30
)

// Writer is a gzip stream being written. It is not safe for concurrent use.
type Writer struct {
	w   io.Writer
	err error

	// hist holds the window before the block (up to 32 KiB) and the block's
	// input; hist[0] is the stream's byte base.
	hist   []byte
	base   int64
	blockn int // hist[blockn:] is the current block's input
	toks   []uint32

	crc  uint32
	size uint32
	// zlib: a zlib stream (RFC 1950: an Adler-32 checksum) instead of gzip.
	zlib  bool
	adler hash.Hash32

	bits  uint64
	nbits uint
	out   []byte

	table  *[1 << hashBits]int64 // Write's matcher: stream offset+1 of a 4-byte hash (0: none)
	hashed int64                 // Write's matcher: bytes before this offset are in table

	litFreq  [286]uint32
	distFreq [30]uint32
	h        huffman
}

// NewWriter returns a writer of a gzip stream to w.
func NewWriter(w io.Writer) *Writer {
	z := &Writer{hist: make([]byte, 0, window+blockBytes+maxMatch), out: make([]byte, 0, 64<<10), toks: make([]uint32, 0, blockTokens)}
	z.Reset(w)
	return z
}

// NewZlibWriter returns a writer of a zlib stream (RFC 1950) to w, as PNG
// wants its image data.
func NewZlibWriter(w io.Writer) *Writer {
	z := &Writer{hist: make([]byte, 0, window+blockBytes+maxMatch), out: make([]byte, 0, 64<<10), toks: make([]uint32, 0, blockTokens), zlib: true, adler: adler32.New()}
	z.Reset(w)
	return z
}

// Reset makes z a new stream to w, keeping its buffers.
func (z *Writer) Reset(w io.Writer) {
	*z = Writer{w: w, hist: z.hist[:0], out: z.out[:0], toks: z.toks[:0], table: z.table, h: z.h, zlib: z.zlib, adler: z.adler}
	if z.table != nil {
		clear(z.table[:])
	}
	if z.zlib {
		z.adler.Reset()
		z.out = append(z.out, 0x78, 0x01) // deflate, 32 KiB window, fastest
		return
	}
	z.out = append(z.out, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff)
}

// Offset is the stream offset of the next byte written: what a later Ref
// to these bytes passes as at.
func (z *Writer) Offset() int64 { return z.base + int64(len(z.hist)) }

// Literal writes b without looking for matches (bytes that appear for
// the first time: a fresh request id).
func (z *Writer) Literal(b []byte) {
	for len(b) > 0 {
		n := z.room(len(b))
		start := len(z.hist)
		z.hist = append(z.hist, b[:n]...)
		z.run(z.hist[start:])
		b = b[n:]
	}
}

// LiteralString is Literal of a string.
func (z *Writer) LiteralString(s string) {
	for len(s) > 0 {
		n := z.room(len(s))
		start := len(z.hist)
		z.hist = append(z.hist, s[:n]...)
		z.run(z.hist[start:])
		s = s[n:]
	}
}

// Ref writes b, which probably equals (or shares runs with) the bytes
// written at stream offset at: the bytes are compared position by
// position, runs of equal bytes become matches, the others literals. A
// reference that is out of the window (or in the future) writes literals.
func (z *Writer) Ref(b []byte, at int64) {
	for len(b) > 0 {
		n := z.room(len(b))
		start := len(z.hist)
		z.hist = append(z.hist, b[:n]...)
		z.encodeRef(start, at)
		at += int64(n)
		b = b[n:]
	}
}

// RefString is Ref of a string.
func (z *Writer) RefString(s string, at int64) {
	for len(s) > 0 {
		n := z.room(len(s))
		start := len(z.hist)
		z.hist = append(z.hist, s[:n]...)
		z.encodeRef(start, at)
		at += int64(n)
		s = s[n:]
	}
}

// Copy writes the n bytes written at stream offset at again, as a match;
// the caller knows they repeat (Near(at) must hold). It neither formats
// nor compares them.
func (z *Writer) Copy(at int64, n int) {
	for n > 0 {
		k := z.room(n)
		src := int(at - z.base)
		d := len(z.hist) - src
		if d <= 0 || d > window || src < 0 {
			panic("gzref: Copy out of the window")
		}
		if src+k <= len(z.hist) {
			z.hist = append(z.hist, z.hist[src:src+k]...)
		} else {
			for i := 0; i < k; i++ {
				z.hist = append(z.hist, z.hist[src+i])
			}
		}
		if !z.extend(k, d) {
			if k >= 3 {
				z.match(k, d)
			} else {
				for _, c := range z.hist[len(z.hist)-k:] {
					z.lit(c)
				}
			}
		}
		at += int64(k)
		n -= k
	}
}

// Repeat writes the last byte written n more times, as a match at
// distance 1 (a run of one byte value costs a few tokens, not a search).
// A byte must have been written before.
func (z *Writer) Repeat(n int) {
	if z.Offset() == 0 {
		panic("gzref: Repeat before any byte")
	}
	// A Write after the run need not index the run's positions: its own
	// runs match at distance 1.
	indexed := z.hashed == z.Offset()
	for n > 0 {
		k := z.room(n)
		c := z.hist[len(z.hist)-1]
		start := len(z.hist)
		z.hist = z.hist[:start+k]
		if c == 0 {
			clear(z.hist[start:])
		} else {
			for i := range z.hist[start:] {
				z.hist[start+i] = c
			}
		}
		if !z.extend(k, 1) {
			if k >= 3 {
				z.match(k, 1)
			} else {
				for _, c := range z.hist[start:] {
					z.lit(c)
				}
			}
		}
		n -= k
	}
	if indexed {
		z.hashed = z.Offset()
	}
}

// room makes room in the block for up to n bytes and returns how many fit.
func (z *Writer) room(n int) int {
	if len(z.hist)-z.blockn >= blockBytes || len(z.toks) >= blockTokens-2*maxMatch {
		z.flushBlock(false)
	}
	return min(n, z.blockn+blockBytes-len(z.hist))
}

// encodeRef encodes hist[start:] against the bytes at stream offset at
// and after.
func (z *Writer) encodeRef(start int, at int64) {
	h := z.hist
	n := len(h)
	dist := z.base + int64(start) - at
	if dist <= 0 || dist > window || at < z.base {
		z.run(h[start:])
		return
	}
	toks := z.toks
	freq := &z.litFreq
	d := int(dist)
	// cur[j] is compared with ref[j]: the same bytes d before.
	cur, ref := h[start:n], h[start-d:n-d]
	j := 0
	for j < len(cur) {
		// The run of equal bytes at j.
		l := matchLen(cur[j:], ref[j:])
		if l > 0 {
			// A match at the same distance just before: lengthen it.
			if k := len(toks) - 1; k >= 0 && toks[k]&matchFlag != 0 && int(toks[k]&0x7fff)+1 == d {
				have := int(toks[k]>>16&0xff) + 3
				if add := min(l, maxMatch-have); add > 0 && (add == l || l-add >= 3) {
					freq[257+int(lenCode3[uint8(have-3)])]--
					freq[257+int(lenCode3[uint8(have+add-3)])]++
					toks[k] += uint32(add) << 16
					j += add
					l -= add
					if l == 0 {
						continue
					}
				}
			}
		}
		if l >= minMatch {
			for l > 0 {
				m := min(l, maxMatch)
				if l-m > 0 && l-m < 3 {
					m = l - 3 // leave a match of at least 3
				}
				toks = append(toks, matchFlag|uint32(m-3)<<16|uint32(d-1))
				freq[257+int(lenCode3[uint8(m-3)])]++
				z.distFreq[distCode(d)]++
				l -= m
				j += m
			}
			continue
		}
		// Literals up to the next run of minMatch equal bytes: one token.
		r := j
		freq[cur[j]]++
		j++
		for j < len(cur) {
			if j+4 <= len(cur) && binary.LittleEndian.Uint32(cur[j:]) == binary.LittleEndian.Uint32(ref[j:]) {
				break
			}
			freq[cur[j]]++
			j++
		}
		if j-r == 1 {
			toks = append(toks, uint32(cur[r]))
		} else {
			toks = append(toks, runFlag|uint32(j-r))
		}
	}
	z.toks = toks
}

// run adds the bytes b (the last of hist) as literals, one token.
func (z *Writer) run(b []byte) {
	switch len(b) {
	case 0:
		return
	case 1:
		z.lit(b[0])
		return
	}
	for _, c := range b {
		z.litFreq[c]++
	}
	z.toks = append(z.toks, runFlag|uint32(len(b)))
}

// matchLen is the length of the common prefix of a and b (len(b) >=
// len(a)).
func matchLen(a, b []byte) int {
	n := 0
	for len(a) >= 8 && len(b) >= 8 {
		if x := binary.LittleEndian.Uint64(a) ^ binary.LittleEndian.Uint64(b); x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		a, b = a[8:], b[8:]
		n += 8
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return n + i
		}
	}
	return n + min(len(a), len(b))
}

// extend lengthens the last token if it is a match at distance d (the
// bytes before continue it) and reports whether it took all l bytes.
func (z *Writer) extend(l, d int) bool {
	k := len(z.toks) - 1
	if k < 0 {
		return false
	}
	t := z.toks[k]
	if t&matchFlag == 0 || int(t&0x7fff)+1 != d {
		return false
	}
	have := int(t>>16&0xff) + 3
	if have+l > maxMatch {
		return false
	}
	z.lenFreqMove(have, have+l)
	z.toks[k] = matchFlag | uint32(have+l-3)<<16 | uint32(d-1)
	return true
}

func (z *Writer) lit(c byte) {
	z.toks = append(z.toks, uint32(c))
	z.litFreq[c]++
}

// match adds a match of length l (any length; long ones are split) at
// distance d.
func (z *Writer) match(l, d int) {
	for l > 0 {
		n := min(l, maxMatch)
		if l-n > 0 && l-n < 3 {
			n = l - 3 // leave a match of at least 3
		}
		z.toks = append(z.toks, matchFlag|uint32(n-3)<<16|uint32(d-1))
		z.litFreq[257+int(lenCode[n])]++
		z.distFreq[distCode(d)]++
		l -= n
	}
}

func (z *Writer) lenFreqMove(from, to int) {
	z.litFreq[257+int(lenCode[from])]--
	z.litFreq[257+int(lenCode[to])]++
}

func hash4(v uint32) uint32 { return (v * 2654435761) >> (32 - hashBits) }

// Write compresses p with a greedy matcher (one hash probe per position,
// longer steps through incompressible data). It implements io.Writer.
func (z *Writer) Write(p []byte) (int, error) {
	given := len(p)
	for len(p) > 0 {
		n := z.room(len(p))
		start := len(z.hist)
		z.hist = append(z.hist, p[:n]...)
		z.encodeSearch(start)
		p = p[n:]
	}
	return given, z.err
}

// encodeSearch encodes hist[start:] with the hash matcher.
func (z *Writer) encodeSearch(start int) {
	if z.table == nil {
		z.table = new([1 << hashBits]int64)
	}
	h := z.hist
	n := len(h)
	i := start
	// Hash the positions written by Literal and Ref since the last Write,
	// so that text after them finds them.
	for p := max(int(z.hashed-z.base), 0); p+4 <= start; p++ {
		z.table[hash4(binary.LittleEndian.Uint32(h[p:]))] = z.base + int64(p) + 1
	}
	misses := 0
	lits := i // h[lits:i] are literals not yet emitted
	for i+4 <= n {
		v := binary.LittleEndian.Uint32(h[i:])
		k := hash4(v)
		cand := int(z.table[k] - 1 - z.base)
		z.table[k] = z.base + int64(i) + 1
		if cand >= 0 && cand < i && i-cand <= window && binary.LittleEndian.Uint32(h[cand:]) == v {
			l := 4
			for i+l < n && l < maxMatch && h[cand+l] == h[i+l] {
				l++
			}
			z.run(h[lits:i])
			z.match(l, i-cand)
			i += l
			lits = i
			misses = 0
			continue
		}
		misses++
		i = min(i+1+misses>>4, n)
	}
	z.run(h[lits:n])
	z.hashed = z.base + int64(n)
}

// flushBlock writes the block's tokens and keeps the last window of input.
func (z *Writer) flushBlock(final bool) {
	if z.zlib {
		z.adler.Write(z.hist[z.blockn:])
	} else {
		z.crc = crc32.Update(z.crc, crc32.IEEETable, z.hist[z.blockn:])
	}
	z.size += uint32(len(z.hist) - z.blockn)
	z.writeBlock(final)
	z.toks = z.toks[:0]
	clear(z.litFreq[:])
	clear(z.distFreq[:])
	if drop := len(z.hist) - window; drop > 0 {
		copy(z.hist, z.hist[drop:])
		z.hist = z.hist[:window]
		z.base += int64(drop)
	}
	z.blockn = len(z.hist)
	if len(z.out) >= 32<<10 {
		z.flushOut()
	}
}

func (z *Writer) flushOut() {
	if z.err == nil && len(z.out) > 0 {
		_, z.err = z.w.Write(z.out)
	}
	z.out = z.out[:0]
}

// Close ends the stream (the last block and the gzip trailer); it does not
// close the underlying writer.
func (z *Writer) Close() error {
	z.flushBlock(true)
	for z.nbits > 0 {
		z.out = append(z.out, byte(z.bits))
		z.bits >>= 8
		z.nbits -= min(z.nbits, 8)
	}
	if z.zlib {
		z.out = binary.BigEndian.AppendUint32(z.out, z.adler.Sum32())
	} else {
		z.out = binary.LittleEndian.AppendUint32(z.out, z.crc)
		z.out = binary.LittleEndian.AppendUint32(z.out, z.size)
	}
	z.flushOut()
	return z.err
}

// Err is the first error of the underlying writer.
func (z *Writer) Err() error { return z.err }

// Near reports whether a Ref to offset at written now can make matches
// (at is within the window behind the next byte).
func (z *Writer) Near(at int64) bool {
	d := z.Offset() - at
	return at >= z.base && d > 0 && d <= window
}
