package gzref

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

var (
	lenBase  = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	dBase    = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	dExtra   = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

	// lenCode[l] is the length code (0-28) of match length l.
	lenCode = func() (t [maxMatch + 1]uint8) {
		c := 0
		for l := 3; l <= maxMatch; l++ {
			for c < 28 && l >= lenBase[c+1] {
				c++
			}
			t[l] = uint8(c)
		}
		return t
	}()

	// lenCode3[l-3] is lenCode[l].
	lenCode3 = func() (t [256]uint8) {
		copy(t[:], lenCode[3:])
		return t
	}()

	// distTable: the code of distance d-1 < 256 at [d-1], else at
	// 256+((d-1)>>7) (zlib's table).
	distTable = func() (t [512]uint8) {
		code := func(d int) uint8 {
			c := 0
			for c < 29 && d >= dBase[c+1] {
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

	// The order in which code length code lengths are sent.
	clOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

func distCode(d int) uint8 {
	if d <= 256 {
		return distTable[d-1]
	}
	return distTable[256+(d-1)>>7]
}

// huffman holds the codes of a block and the scratch to build them.
type huffman struct {
	litLen  [286]uint8
	litCode [286]uint16
	dLen    [30]uint8
	dCode   [30]uint16
	clLen   [19]uint8
	clCode  [19]uint16
	syms    []symFreq
	depth   []uint32
	plain   []uint8 // code lengths
	packed  []uint8 // code lengths, run-length coded: symbol, then extra value
}

type symFreq struct {
	freq uint32
	sym  uint16
}

// put appends the n (at most 32) low bits of v to the output, LSB first.
func (z *Writer) put(v uint64, n uint) {
	z.bits |= v << z.nbits
	z.nbits += n
	if z.nbits >= 32 {
		z.out = binary.LittleEndian.AppendUint32(z.out, uint32(z.bits))
		z.bits >>= 32
		z.nbits -= 32
	}
}

// writeBlock writes the tokens as one block with dynamic Huffman codes.
func (z *Writer) writeBlock(final bool) {
	h := &z.h
	z.litFreq[256]++ // the end of the block
	h.lengths(z.litFreq[:], h.litLen[:], 15)
	h.lengths(z.distFreq[:], h.dLen[:], 15)
	nlit := 286
	for nlit > 257 && h.litLen[nlit-1] == 0 {
		nlit--
	}
	ndist := 30
	for ndist > 1 && h.dLen[ndist-1] == 0 {
		ndist--
	}
	if h.dLen[0] == 0 && ndist == 1 {
		h.dLen[0] = 1 // no distance used: one code, as the format wants one
	}
	canonical(h.litLen[:nlit], h.litCode[:nlit])
	canonical(h.dLen[:ndist], h.dCode[:ndist])

	// The code lengths, run-length coded.
	var clFreq [19]uint32
	h.plain = append(append(h.plain[:0], h.litLen[:nlit]...), h.dLen[:ndist]...)
	h.runs(&clFreq)
	h.lengths(clFreq[:], h.clLen[:], 7)
	canonical(h.clLen[:], h.clCode[:])
	ncl := 19
	for ncl > 4 && h.clLen[clOrder[ncl-1]] == 0 {
		ncl--
	}

	fin := uint64(0)
	if final {
		fin = 1
	}
	z.put(fin, 1)
	z.put(2, 2) // dynamic Huffman codes
	z.put(uint64(nlit-257), 5)
	z.put(uint64(ndist-1), 5)
	z.put(uint64(ncl-4), 4)
	for _, s := range clOrder[:ncl] {
		z.put(uint64(h.clLen[s]), 3)
	}
	for i := 0; i < len(h.packed); i++ {
		s := h.packed[i]
		z.put(uint64(h.clCode[s]), uint(h.clLen[s]))
		switch s {
		case 16:
			i++
			z.put(uint64(h.packed[i]), 2)
		case 17:
			i++
			z.put(uint64(h.packed[i]), 3)
		case 18:
			i++
			z.put(uint64(h.packed[i]), 7)
		}
	}

	// The tokens, with the bit buffer in registers: at most 32 bits are
	// pending before a code of at most 28 bits is added. Codes and lengths
	// are packed in one table entry: code | length<<16.
	var lit [286]uint32
	for i := range lit {
		lit[i] = uint32(h.litCode[i]) | uint32(h.litLen[i])<<16
	}
	var dist [30]uint32
	for i := range dist {
		dist[i] = uint32(h.dCode[i]) | uint32(h.dLen[i])<<16
	}
	bitbuf, nbits := z.bits, z.nbits
	// The output buffer stays small: when fewer than room bytes are left
	// (at most 6 bytes per token, 2 per literal of a run), what it holds
	// goes to the underlying writer.
	const room = 2*runChunk + 16
	out := slices.Grow(z.out, room)
	o := len(out)
	out = out[:cap(out)]
	pos := z.blockn // hist[pos:] is the input of the tokens to come
	for _, t := range z.toks {
		if len(out)-o < room {
			o = z.drain(out[:o])
		}
		switch {
		case t&matchFlag != 0:
			l := t>>16&0xff + 3
			d := t&0x7fff + 1
			pos += int(l)
			lc := lenCode3[uint8(t>>16)]
			c := lit[257+uint(lc)%29]
			bitbuf |= uint64(c&0xffff) << (nbits & 63)
			nbits += uint(c >> 16)
			e := lenExtra[lc%29]
			bitbuf |= uint64(int(l)-lenBase[lc%29]) << (nbits & 63)
			nbits += e
			if nbits >= 32 {
				binary.LittleEndian.PutUint32(out[o:], uint32(bitbuf))
				o += 4
				bitbuf >>= 32
				nbits -= 32
			}
			dc := distCode(int(d)) % 30
			c = dist[dc]
			bitbuf |= uint64(c&0xffff) << (nbits & 63)
			nbits += uint(c >> 16)
			bitbuf |= uint64(int(d)-dBase[dc]) << (nbits & 63)
			nbits += dExtra[dc]
		case t&runFlag != 0:
			b := z.hist[pos : pos+int(t&^runFlag)]
			pos += len(b)
			for len(b) > 0 {
				chunk := b[:min(len(b), runChunk)]
				b = b[len(chunk):]
				if len(out)-o < room {
					o = z.drain(out[:o])
				}
				// Two literals (at most 15 bits each) between flushes.
				for ; len(chunk) >= 2; chunk = chunk[2:] {
					c0, c1 := lit[chunk[0]], lit[chunk[1]]
					bitbuf |= uint64(c0&0xffff) << (nbits & 63)
					nbits += uint(c0 >> 16)
					bitbuf |= uint64(c1&0xffff) << (nbits & 63)
					nbits += uint(c1 >> 16)
					if nbits >= 32 {
						binary.LittleEndian.PutUint32(out[o:], uint32(bitbuf))
						o += 4
						bitbuf >>= 32
						nbits -= 32
					}
				}
				if len(chunk) == 1 {
					c := lit[chunk[0]]
					bitbuf |= uint64(c&0xffff) << (nbits & 63)
					nbits += uint(c >> 16)
					if nbits >= 32 {
						binary.LittleEndian.PutUint32(out[o:], uint32(bitbuf))
						o += 4
						bitbuf >>= 32
						nbits -= 32
					}
				}
			}
		default:
			c := lit[uint8(t)]
			bitbuf |= uint64(c&0xffff) << (nbits & 63)
			nbits += uint(c >> 16)
			pos++
		}
		if nbits >= 32 {
			binary.LittleEndian.PutUint32(out[o:], uint32(bitbuf))
			o += 4
			bitbuf >>= 32
			nbits -= 32
		}
	}
	z.out, z.bits, z.nbits = out[:o], bitbuf, nbits
	z.put(uint64(h.litCode[256]), uint(h.litLen[256]))
}

// runChunk is how many literals of a run are coded between checks of
// the output buffer's room.
const runChunk = 4096

// drain writes out (the output buffer's complete bytes) to the underlying
// writer and returns the buffer's new length, 0.
func (z *Writer) drain(out []byte) int {
	if z.err == nil && len(out) > 0 {
		_, z.err = z.w.Write(out)
	}
	return 0
}

// runs run-length codes the code lengths in h.plain (RFC 1951 3.2.7; the
// literal and distance lengths are one sequence) into h.packed: a symbol,
// then the extra value of 16, 17 and 18. freq counts the symbols.
func (h *huffman) runs(freq *[19]uint32) {
	in := h.plain
	out := h.packed[:0]
	for i := 0; i < len(in); {
		l := in[i]
		j := i + 1
		for j < len(in) && in[j] == l {
			j++
		}
		run := j - i
		if l == 0 {
			for run > 0 {
				switch {
				case run < 3:
					out = append(out, 0)
					freq[0]++
					run--
				case run <= 10:
					out = append(out, 17, uint8(run-3))
					freq[17]++
					run = 0
				default:
					n := min(run, 138)
					out = append(out, 18, uint8(n-11))
					freq[18]++
					run -= n
				}
			}
		} else {
			out = append(out, l)
			freq[l]++
			run--
			for run > 0 {
				if run < 3 {
					out = append(out, l)
					freq[l]++
					run--
					continue
				}
				n := min(run, 6)
				out = append(out, 16, uint8(n-3))
				freq[16]++
				run -= n
			}
		}
		i = j
	}
	h.packed = out
}

// lengths computes length-limited Huffman code lengths for freq (0 for
// unused symbols): minimum-redundancy lengths (Moffat and Katajainen's
// in-place method), then limited to max bits the way miniz does.
func (h *huffman) lengths(freq []uint32, lens []uint8, max int) {
	clear(lens)
	syms := h.syms[:0]
	for s, f := range freq {
		if f > 0 {
			syms = append(syms, symFreq{f, uint16(s)})
		}
	}
	h.syms = syms
	n := len(syms)
	switch n {
	case 0:
		return
	case 1:
		lens[syms[0].sym] = 1
		return
	}
	slices.SortFunc(syms, func(a, b symFreq) int {
		if a.freq != b.freq {
			if a.freq < b.freq {
				return -1
			}
			return 1
		}
		return int(a.sym) - int(b.sym)
	})
	a := h.depth[:0]
	for _, s := range syms {
		a = append(a, s.freq)
	}
	h.depth = a
	a[0] += a[1]
	root, leaf := 0, 2
	for next := 1; next < n-1; next++ {
		if leaf >= n || a[root] < a[leaf] {
			a[next] = a[root]
			a[root] = uint32(next)
			root++
		} else {
			a[next] = a[leaf]
			leaf++
		}
		if leaf >= n || (root < next && a[root] < a[leaf]) {
			a[next] += a[root]
			a[root] = uint32(next)
			root++
		} else {
			a[next] += a[leaf]
			leaf++
		}
	}
	a[n-2] = 0
	for next := n - 3; next >= 0; next-- {
		a[next] = a[a[next]] + 1
	}
	avail, used, depth := 1, 0, 0
	root, next := n-2, n-1
	for avail > 0 {
		for root >= 0 && int(a[root]) == depth {
			used++
			root--
		}
		for avail > used {
			a[next] = uint32(depth)
			next--
			avail--
		}
		avail = 2 * used
		depth++
		used = 0
	}
	// a[i] is now the length of syms[i] (the rarest first). Count them and
	// limit the lengths to max, keeping the Kraft sum at one.
	var count [33]int
	for _, l := range a {
		count[min(int(l), 32)]++
	}
	for l := max + 1; l <= 32; l++ {
		count[max] += count[l]
		count[l] = 0
	}
	total := uint32(0)
	for l := max; l > 0; l-- {
		total += uint32(count[l]) << (max - l)
	}
	for total != 1<<max {
		count[max]--
		for l := max - 1; l > 0; l-- {
			if count[l] > 0 {
				count[l]--
				count[l+1] += 2
				break
			}
		}
		total--
	}
	j := n
	for l := 1; l <= max; l++ {
		for k := count[l]; k > 0; k-- {
			j--
			lens[syms[j].sym] = uint8(l)
		}
	}
}

// canonical assigns the canonical codes of lens, bit-reversed for the
// LSB-first output.
func canonical(lens []uint8, codes []uint16) {
	var count [16]uint16
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [16]uint16
	code := uint16(0)
	for l := 1; l < 16; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	for s, l := range lens {
		if l == 0 {
			codes[s] = 0
			continue
		}
		codes[s] = bits.Reverse16(next[l]) >> (16 - l)
		next[l]++
	}
}
