package results

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
)

// QuantileMethod names how summaries compute quantiles, for manifests.
const QuantileMethod = "exact: order statistics of every value (latencies in whole ms counted by value; end-to-end latencies in ns kept in memory, beyond ValuesInMemory spilled to a temporary file and selected in passes over it)"

// ValuesInMemory is how many values a Values keeps in memory (8 bytes
// each) before it spills them to a temporary file: 4 Mi values, 32 MiB.
var ValuesInMemory = 4 << 20

// Values is a multiset of int64 values (latencies in ns) with exact order
// statistics. Up to ValuesInMemory values stay in memory; beyond, every
// value goes to a temporary file, and an order statistic is found in a
// few passes over it (a histogram of value ranges narrows down the range
// that holds it until that range fits in memory), so that memory stays
// bounded however many values there are, and the figures exact.
type Values struct {
	n        int
	mem      []int64
	sorted   bool
	spill    *os.File
	w        *bufio.Writer
	min, max int64
	err      error
}

// NewValues returns an empty multiset.
func NewValues() *Values { return &Values{min: math.MaxInt64, max: math.MinInt64} }

// Add adds v.
func (s *Values) Add(v int64) {
	s.n++
	s.min, s.max = min(s.min, v), max(s.max, v)
	if s.spill == nil && len(s.mem) < ValuesInMemory {
		s.mem = append(s.mem, v)
		s.sorted = false
		return
	}
	if s.err != nil {
		return
	}
	if s.spill == nil {
		f, err := os.CreateTemp("", "fusionsim-values-*")
		if err != nil {
			s.err = fmt.Errorf("spilling values: %w", err)
			return
		}
		os.Remove(f.Name()) // gone when closed
		s.spill, s.w = f, bufio.NewWriterSize(f, 256<<10)
		for _, m := range s.mem {
			s.write(m)
		}
		s.mem = nil
	}
	s.write(v)
}

func (s *Values) write(v int64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(v))
	if _, err := s.w.Write(b[:]); err != nil && s.err == nil {
		s.err = fmt.Errorf("spilling values: %w", err)
	}
}

// Len is the number of values added.
func (s *Values) Len() int { return s.n }

// Spilled reports whether the values went to a temporary file.
func (s *Values) Spilled() bool { return s.spill != nil }

// Err is the error of the spill file, if any (order statistics are then
// NaN).
func (s *Values) Err() error { return s.err }

// Close removes the spill file.
func (s *Values) Close() {
	if s.spill != nil {
		s.spill.Close()
		s.spill, s.w = nil, nil
	}
}

// Sorted returns the values in ascending order when they are in memory
// (nil when spilled).
func (s *Values) Sorted() []int64 {
	if s.spill != nil {
		return nil
	}
	if !s.sorted {
		slices.Sort(s.mem)
		s.sorted = true
	}
	return s.mem
}

// Nth returns the (k+1)-th smallest value (0 <= k < Len).
func (s *Values) Nth(k int) (int64, error) {
	if k < 0 || k >= s.n {
		return 0, fmt.Errorf("results: Values.Nth(%d) of %d values", k, s.n)
	}
	if s.spill == nil {
		return s.Sorted()[k], nil
	}
	if s.err != nil {
		return 0, s.err
	}
	if err := s.w.Flush(); err != nil {
		return 0, err
	}
	// Narrow [lo, hi] down to a range that holds the value and fits in
	// memory: each pass counts the values in 4096 equal parts of it.
	lo, hi := s.min, s.max
	below := 0     // values < lo
	inRange := s.n // values in [lo, hi]
	for {
		if inRange <= ValuesInMemory || lo == hi {
			var in []int64
			if err := s.scan(func(v int64) {
				if v >= lo && v <= hi && len(in) < ValuesInMemory {
					in = append(in, v)
				}
			}); err != nil {
				return 0, err
			}
			if len(in) < inRange { // all equal (lo == hi), more than fit
				return lo, nil
			}
			slices.Sort(in)
			return in[k-below], nil
		}
		const parts = 4096
		width := uint64(hi-lo)/parts + 1
		var counts [parts]int
		if err := s.scan(func(v int64) {
			if v >= lo && v <= hi {
				counts[uint64(v-lo)/width]++
			}
		}); err != nil {
			return 0, err
		}
		for i, c := range counts {
			if k-below < c {
				lo = lo + int64(uint64(i)*width)
				hi = min(hi, lo+int64(width)-1)
				inRange = c
				break
			}
			below += c
		}
	}
}

// scan calls fn for every value of the spill file.
func (s *Values) scan(fn func(v int64)) error {
	if _, err := s.spill.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReaderSize(io.LimitReader(s.spill, int64(s.n)*8), 256<<10)
	var b [8]byte
	for i := 0; i < s.n; i++ {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return fmt.Errorf("reading spilled values: %w", err)
		}
		fn(int64(binary.LittleEndian.Uint64(b[:])))
	}
	_, err := s.spill.Seek(0, io.SeekEnd)
	return err
}

// QuantilesMs3 returns the median, p95 and p99 of the values as
// milliseconds (each value / 1e6) the way Quantile computes them (NaN
// when empty or when the spill file failed).
func (s *Values) QuantilesMs3() (median, p95, p99 float64) {
	var err error
	m, p, q := quantiles3(s.n, func(k int) float64 {
		v, e := s.Nth(k)
		if e != nil {
			err = e
		}
		return float64(v) / 1e6
	})
	if err != nil {
		return math.NaN(), math.NaN(), math.NaN()
	}
	return m, p, q
}
