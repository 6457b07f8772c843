package trace

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/fusionsim/fusionsim"
)

// RecordsInMemory is how many records a Sorter holds before it sorts them
// and spills them to a temporary file as one sorted run (a record takes
// about 300-500 bytes in memory with its calls).
var RecordsInMemory = 1 << 16

// Sorter puts keyed records into the order of an Extraction's
// (SortKeyed) in bounded memory: up to RecordsInMemory in memory, beyond
// that in sorted runs on disk, merged when they are read back (Each). A
// run of normal length never touches the disk.
type Sorter struct {
	mem  []KeyedRecord
	runs []*os.File
	n    int
	buf  []byte
	err  error
}

// Add adds a copy of k (its strings and calls are kept, not copied).
func (s *Sorter) Add(k *KeyedRecord) error {
	if s.err != nil {
		return s.err
	}
	s.n++
	if s.mem == nil {
		if b, ok := sorterBufs.Get().(*[]KeyedRecord); ok {
			s.mem = (*b)[:0]
		}
	}
	s.mem = append(s.mem, *k)
	if len(s.mem) >= RecordsInMemory {
		s.err = s.spill()
	}
	return s.err
}

// Len is the number of records added.
func (s *Sorter) Len() int { return s.n }

// spill writes the records in memory to a temporary file, sorted.
func (s *Sorter) spill() error {
	SortKeyed(s.mem)
	f, err := os.CreateTemp("", "fusionsim-records-*")
	if err != nil {
		return fmt.Errorf("spilling records: %w", err)
	}
	os.Remove(f.Name()) // gone once closed
	w := bufio.NewWriterSize(f, 256<<10)
	for i := range s.mem {
		s.buf = appendKeyed(s.buf[:0], &s.mem[i])
		if _, err := w.Write(s.buf); err != nil {
			f.Close()
			return fmt.Errorf("spilling records: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("spilling records: %w", err)
	}
	s.runs = append(s.runs, f)
	clear(s.mem)
	s.mem = s.mem[:0]
	return nil
}

// Each calls fn for every record in order (k is valid only during the
// call) and releases the sorter's memory and files; the sorter is empty
// afterwards.
func (s *Sorter) Each(fn func(k *KeyedRecord) error) error {
	defer s.Close()
	if s.err != nil {
		return s.err
	}
	SortKeyed(s.mem)
	if len(s.runs) == 0 {
		for i := range s.mem {
			if err := fn(&s.mem[i]); err != nil {
				return err
			}
		}
		return nil
	}
	// Merge the runs on disk and the one in memory.
	var m mergeHeap
	for _, f := range s.runs {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		r := &runReader{r: bufio.NewReaderSize(f, 64<<10), strs: map[string]string{}}
		if ok, err := r.next(); err != nil {
			return err
		} else if ok {
			m = append(m, r)
		}
	}
	if len(s.mem) > 0 {
		r := &runReader{mem: s.mem}
		r.next()
		m = append(m, r)
	}
	heap.Init(&m)
	for len(m) > 0 {
		r := m[0]
		if err := fn(&r.cur); err != nil {
			return err
		}
		ok, err := r.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&m, 0)
		} else {
			heap.Pop(&m)
		}
	}
	return nil
}

// Close drops the records and removes the temporary files.
func (s *Sorter) Close() {
	for _, f := range s.runs {
		f.Close()
	}
	if s.mem != nil {
		// The next sorter (the next setup's) fills the same array.
		clear(s.mem) // beyond its length the array is clear already
		mem := s.mem[:0]
		sorterBufs.Put(&mem)
	}
	s.runs, s.mem, s.n = nil, nil, 0
}

// sorterBufs holds the arrays of closed sorters.
var sorterBufs sync.Pool

func compareKeyed(a, b *KeyedRecord) int {
	return compareKeys(&a.Record, a.RequestID, &b.Record, b.RequestID)
}

// compareKeys orders records by (startTimestamp, traceId,
// currentFunction, request id).
func compareKeys(a *Record, aID string, b *Record, bID string) int {
	switch {
	case a.StartTimestamp < b.StartTimestamp:
		return -1
	case a.StartTimestamp > b.StartTimestamp:
		return 1
	}
	if c := strings.Compare(a.TraceID, b.TraceID); c != 0 {
		return c
	}
	if c := strings.Compare(a.CurrentFunction, b.CurrentFunction); c != 0 {
		return c
	}
	return strings.Compare(aID, bID)
}

// runReader reads a sorted run back, record by record.
type runReader struct {
	r    *bufio.Reader
	mem  []KeyedRecord // a run in memory instead
	cur  KeyedRecord
	strs map[string]string // the strings of few values, shared
	buf  []byte
}

func (r *runReader) next() (bool, error) {
	if r.r == nil {
		if len(r.mem) == 0 {
			return false, nil
		}
		r.cur, r.mem = r.mem[0], r.mem[1:]
		return true, nil
	}
	err := r.read(&r.cur)
	if err == io.EOF {
		return false, nil
	}
	return err == nil, err
}

type mergeHeap []*runReader

func (h mergeHeap) Len() int           { return len(h) }
func (h mergeHeap) Less(i, j int) bool { return compareKeyed(&h[i].cur, &h[j].cur) < 0 }
func (h mergeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// The binary form of a keyed record in a run: strings as a length and
// bytes, numbers as varints, the booleans in one byte.
func appendKeyed(b []byte, k *KeyedRecord) []byte {
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	str(k.TraceID)
	var flags byte
	if k.FusionGroup.Numeric {
		flags |= 1
	}
	if k.IsRootInvocation {
		flags |= 2
	}
	if k.IsColdStart {
		flags |= 4
	}
	if k.Calls == nil {
		flags |= 8
	}
	b = append(b, flags)
	str(k.FusionGroup.Name)
	str(k.Source)
	str(k.CurrentFunction)
	str(k.CurrentTask)
	b = binary.AppendVarint(b, k.BilledDuration)
	str(k.MemoryAvail)
	b = binary.AppendVarint(b, int64(k.MaxMemoryUsed))
	b = binary.AppendVarint(b, k.StartTimestamp)
	b = binary.AppendVarint(b, k.EndTimestamp)
	b = binary.AppendVarint(b, k.InternalDuration)
	b = binary.AppendUvarint(b, uint64(len(k.Calls)))
	for _, c := range k.Calls {
		var cf byte
		if c.Local {
			cf |= 1
		}
		if c.Sync {
			cf |= 2
		}
		b = append(b, cf)
		str(c.Caller)
		str(c.Called)
		b = binary.AppendVarint(b, c.Time)
	}
	str(k.RequestID)
	return b
}

var errBadRun = errors.New("trace: corrupt spilled records")

// read reads the next record of the run into k (io.EOF at the end).
func (r *runReader) read(k *KeyedRecord) error {
	d := fieldReader{run: r}
	if k.TraceID = d.unique(); d.err != nil {
		return d.err // io.EOF at a record's start: the end of the run
	}
	flags := d.byte()
	*k = KeyedRecord{Record: Record{TraceID: k.TraceID}}
	k.FusionGroup = fusionsim.TraceName{Name: d.shared(), Numeric: flags&1 != 0}
	k.IsRootInvocation, k.IsColdStart = flags&2 != 0, flags&4 != 0
	k.Source = d.shared()
	k.CurrentFunction = d.shared()
	k.CurrentTask = d.shared()
	k.BilledDuration = d.varint()
	k.MemoryAvail = d.shared()
	k.MaxMemoryUsed = int(d.varint())
	k.StartTimestamp = d.varint()
	k.EndTimestamp = d.varint()
	k.InternalDuration = d.varint()
	n := d.uvarint()
	if d.err != nil {
		return fmt.Errorf("%w: %v", errBadRun, d.err)
	}
	if n > 1<<20 {
		return errBadRun
	}
	if flags&8 == 0 {
		k.Calls = make([]fusionsim.Call, n)
		for i := range k.Calls {
			c := &k.Calls[i]
			cf := d.byte()
			c.Local, c.Sync = cf&1 != 0, cf&2 != 0
			c.Caller = d.shared()
			c.Called = d.shared()
			c.Time = d.varint()
		}
	}
	k.RequestID = d.unique()
	if d.err != nil {
		return fmt.Errorf("%w: %v", errBadRun, d.err)
	}
	return nil
}

// fieldReader reads the fields of a record of a run (appendKeyed's form)
// and keeps the first error: after it, it reads nothing and gives zero
// values.
type fieldReader struct {
	run *runReader
	err error
}

func (d *fieldReader) byte() byte {
	if d.err != nil {
		return 0
	}
	b, err := d.run.r.ReadByte()
	d.err = err
	return b
}

func (d *fieldReader) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadVarint(d.run.r)
	d.err = err
	return v
}

func (d *fieldReader) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(d.run.r)
	d.err = err
	return v
}

// bytes reads a string's bytes into the run's buffer.
func (d *fieldReader) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > 1<<30 {
		d.err = errBadRun
		return nil
	}
	r := d.run
	r.buf = slices.Grow(r.buf[:0], int(n))[:n]
	if _, err := io.ReadFull(r.r, r.buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the bytes cut off after their length
		}
		d.err = err
		return nil
	}
	return r.buf
}

// unique reads a string of many values.
func (d *fieldReader) unique() string { return string(d.bytes()) }

// shared reads a string of few values, shared with the run's others.
func (d *fieldReader) shared() string {
	b := d.bytes()
	if d.err != nil {
		return ""
	}
	if s, ok := d.run.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.run.strs) < 1<<12 {
		d.run.strs[s] = s
	}
	return s
}
