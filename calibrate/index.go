package calibrate

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/trace"
)

// Dataset is the traces the fit reads: every setup of every directory, its
// rules and its records grouped by request.
type Dataset struct {
	Setups []*SetupData
}

// SetupData is one setup's traces.
type SetupData struct {
	Dir, Name string
	Setup     *fusionsim.Setup // nil without configuration metadata
	Records   []trace.Record
	// Requests groups the records by trace id, in order of the root's start.
	Requests []*Request
	// Grouped reports the prototype's grouping quirk (see Grouped).
	Grouped bool
}

// Request is the records of one trace id, by function (entry task).
type Request struct {
	TraceID string
	Root    *trace.Record
	ByFunc  map[string][]*trace.Record
}

// Inv is an invocation record with what the fit derives from it.
type Inv struct {
	*trace.Record
	Setup    *SetupData
	Request  *Request
	MemoryMB int
}

// NewDataset indexes directories read with trace.ReadDir, by name.
func NewDataset(dirs map[string]*trace.Dir) (*Dataset, error) {
	ds := &Dataset{}
	names := make([]string, 0, len(dirs))
	for n := range dirs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, dn := range names {
		d := dirs[dn]
		for _, sn := range d.Traces.Names() {
			sd := &SetupData{Dir: dn, Name: sn, Records: d.Traces[sn]}
			if d.Configs != nil {
				sd.Setup = d.Configs[sn]
			}
			sd.Grouped = Grouped(sd.Records)
			byID := map[string]*Request{}
			for i := range sd.Records {
				r := &sd.Records[i]
				if _, err := strconv.Atoi(r.MemoryAvail); err != nil {
					return nil, fmt.Errorf("%s: setup %s: record of %s: memoryAvail %q: %w", dn, sn, r.CurrentFunction, r.MemoryAvail, err)
				}
				q := byID[r.TraceID]
				if q == nil {
					q = &Request{TraceID: r.TraceID, ByFunc: map[string][]*trace.Record{}}
					byID[r.TraceID] = q
					sd.Requests = append(sd.Requests, q)
				}
				q.ByFunc[r.CurrentFunction] = append(q.ByFunc[r.CurrentFunction], r)
				if r.IsRootInvocation {
					q.Root = r
				}
			}
			slices.SortStableFunc(sd.Requests, func(a, b *Request) int {
				return cmpInt64(startOf(a), startOf(b))
			})
			ds.Setups = append(ds.Setups, sd)
		}
	}
	return ds, nil
}

func startOf(q *Request) int64 {
	if q.Root != nil {
		return q.Root.StartTimestamp
	}
	return math.MaxInt64
}

// Each calls fn for every record of every setup.
func (ds *Dataset) Each(fn func(inv Inv)) {
	for _, sd := range ds.Setups {
		for _, q := range sd.Requests {
			for _, recs := range q.ByFunc {
				for _, r := range recs {
					mb, _ := strconv.Atoi(r.MemoryAvail)
					fn(Inv{Record: r, Setup: sd, Request: q, MemoryMB: mb})
				}
			}
		}
	}
}

// RemoteCalls returns the calls of r that went to another function.
func RemoteCalls(r *trace.Record) []fusionsim.Call {
	var out []fusionsim.Call
	for _, c := range r.Calls {
		if !c.Local {
			out = append(out, c)
		}
	}
	return out
}

// LocalCalls returns the in-process calls of r other than the entry task's
// call to itself.
func LocalCalls(r *trace.Record) []fusionsim.Call {
	var out []fusionsim.Call
	for _, c := range r.Calls {
		if c.Local && !(c.Caller == r.CurrentFunction && c.Called == r.CurrentFunction) {
			out = append(out, c)
		}
	}
	return out
}

// OnlySelf reports whether r made no call but its entry task's own.
func OnlySelf(r *trace.Record) bool {
	for _, c := range r.Calls {
		if !(c.Local && c.Caller == r.CurrentFunction && c.Called == r.CurrentFunction) {
			return false
		}
	}
	return true
}

// Callee returns the record of the function that served a remote call of
// task called in the same request, when there is exactly one.
func (q *Request) Callee(called string) *trace.Record {
	recs := q.ByFunc[called]
	if len(recs) != 1 {
		return nil
	}
	return recs[0]
}

// Samples are observations by memory size (MB).
type Samples map[int][]float64

// Add adds v at memory size mb.
func (s Samples) Add(mb int, v float64) { s[mb] = append(s[mb], v) }

// Sizes returns the memory sizes, ascending.
func (s Samples) Sizes() []int {
	out := make([]int, 0, len(s))
	for mb := range s {
		out = append(out, mb)
	}
	slices.Sort(out)
	return out
}

// All returns every sample.
func (s Samples) All() []float64 {
	var out []float64
	for _, mb := range s.Sizes() {
		out = append(out, s[mb]...)
	}
	return out
}

// Medians returns the median per memory size.
func (s Samples) Medians() map[int]float64 {
	m := make(map[int]float64, len(s))
	for mb, v := range s {
		m[mb] = Median(v)
	}
	return m
}

// Count is the number of samples.
func (s Samples) Count() int {
	n := 0
	for _, v := range s {
		n += len(v)
	}
	return n
}
