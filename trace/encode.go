package trace

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/internal/gzref"
	"github.com/fusionsim/fusionsim/internal/pool"
)

// AppendRecordJSON appends r as MarshalRecords writes each record (the
// compact JSON of encoding/json without HTML escaping, fields in Record's
// order), without reflection.
func AppendRecordJSON(dst []byte, r *Record) ([]byte, error) {
	var err error
	dst = append(dst, `{"traceId":`...)
	dst = appendString(dst, r.TraceID)
	if dst, err = appendFixedPart(dst, r); err != nil {
		return dst, err
	}
	dst = appendBilledPart(dst, r)
	dst = appendMemPart(dst, r)
	dst = appendStartPart(dst, r)
	dst = strconv.AppendInt(dst, r.EndTimestamp, 10)
	dst = appendInternalPart(dst, r)
	if r.Calls == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, c := range r.Calls {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendCall(dst, c)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}'), nil
}

// The parts of a record's JSON between its trace id and its calls, cut
// where its numbers start (RecordWriter compares each with the previous
// record's, aligned).

// appendFixedPart appends `,"fusionGroup":…,"billedDuration":`: the
// fields that stay the same from one record of a function to the next.
func appendFixedPart(dst []byte, r *Record) ([]byte, error) {
	var err error
	dst = append(dst, `,"fusionGroup":`...)
	if dst, err = appendTraceName(dst, r.FusionGroup); err != nil {
		return dst, err
	}
	dst = append(dst, `,"source":`...)
	dst = appendString(dst, r.Source)
	dst = append(dst, `,"currentFunction":`...)
	dst = appendString(dst, r.CurrentFunction)
	dst = append(dst, `,"currentTask":`...)
	dst = appendString(dst, r.CurrentTask)
	return append(dst, `,"billedDuration":`...), nil
}

// appendBilledPart appends `<billedDuration>,"memoryAvail":…,"maxMemoryUsed":`.
func appendBilledPart(dst []byte, r *Record) []byte {
	dst = strconv.AppendInt(dst, r.BilledDuration, 10)
	dst = append(dst, `,"memoryAvail":`...)
	dst = appendString(dst, r.MemoryAvail)
	return append(dst, `,"maxMemoryUsed":`...)
}

// appendMemPart appends `<maxMemoryUsed>,"isRootInvocation":…,"startTimestamp":`.
func appendMemPart(dst []byte, r *Record) []byte {
	dst = strconv.AppendInt(dst, int64(r.MaxMemoryUsed), 10)
	dst = append(dst, `,"isRootInvocation":`...)
	dst = strconv.AppendBool(dst, r.IsRootInvocation)
	dst = append(dst, `,"isColdStart":`...)
	dst = strconv.AppendBool(dst, r.IsColdStart)
	return append(dst, `,"startTimestamp":`...)
}

// appendStartPart appends `<startTimestamp>,"endTimestamp":`.
func appendStartPart(dst []byte, r *Record) []byte {
	dst = strconv.AppendInt(dst, r.StartTimestamp, 10)
	return append(dst, `,"endTimestamp":`...)
}

// appendInternalPart appends `,"internalDuration":<n>,"calls":`.
func appendInternalPart(dst []byte, r *Record) []byte {
	dst = append(dst, `,"internalDuration":`...)
	dst = strconv.AppendInt(dst, r.InternalDuration, 10)
	return append(dst, `,"calls":`...)
}

// appendTraceName appends n as its MarshalJSON writes it: a number, or a
// string escaped as json.Marshal escapes it (HTML characters included).
func appendTraceName(dst []byte, n fusionsim.TraceName) ([]byte, error) {
	if n.Numeric || !plainJSON(n.Name) {
		b, err := n.MarshalJSON()
		if err != nil {
			return dst, fmt.Errorf("json: error calling MarshalJSON for type fusionsim.TraceName: %w", err)
		}
		return append(dst, b...), nil
	}
	return appendString(dst, n.Name), nil
}

// plainJSON reports whether s is written the same with and without HTML
// escaping: printable ASCII without <, > and &.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// RecordWriter writes a trace file (a JSON array of records, exactly
// MarshalRecords' bytes) one record at a time, plain or gzip-compressed.
// Compressed, every part of a record points the compressor at the same
// part of the previous record of the same function (gzref), which is
// several times faster than compress/flate and compresses better.
type RecordWriter struct {
	w    io.Writer
	z    *gzref.Writer // nil: plain
	buf  []byte
	n    int
	err  error
	prev map[string]*recordRefs // by currentFunction
	last recordRefs             // the previous record's
	ids  map[string]int64       // offset of the latest copy of a trace id's hex part
	free []*recordRefs
}

// recordRefs are the stream offsets of the parts of a written record.
type recordRefs struct {
	head, fixed, billed, mem, start, end, internal int64
	calls                                          []int64
	// The fields of the fixed part (fusionGroup to currentTask) and its
	// length: a record with the same ones copies it.
	fixedOf  [4]string
	fixedNum bool
	fixedLen int
}

// NewRecordWriter starts a trace file on w (gzip-compressed with gz).
func NewRecordWriter(w io.Writer, gz bool) *RecordWriter {
	rw := &RecordWriter{w: w}
	if gz {
		if z, ok := gzWriters.Get().(*gzref.Writer); ok {
			z.Reset(w)
			rw.z = z
		} else {
			rw.z = gzref.NewWriter(w)
		}
		rw.prev = map[string]*recordRefs{}
		rw.ids = map[string]int64{}
		rw.last = recordRefs{head: -1, fixed: -1, billed: -1, mem: -1, start: -1, end: -1, internal: -1}
	}
	return rw
}

// Write appends r to the array.
func (rw *RecordWriter) Write(r *Record) error {
	if rw.err != nil {
		return rw.err
	}
	sep := byte(',')
	if rw.n == 0 {
		sep = '['
	}
	rw.n++
	if rw.z == nil {
		rw.buf = append(rw.buf[:0], sep)
		if rw.buf, rw.err = AppendRecordJSON(rw.buf, r); rw.err != nil {
			return rw.err
		}
		_, rw.err = rw.w.Write(rw.buf)
		return rw.err
	}
	rw.err = rw.writeRefs(sep, r)
	return rw.err
}

// writeRefs writes r compressed, part by part (the parts are
// AppendRecordJSON's bytes cut where numbers start).
func (rw *RecordWriter) writeRefs(sep byte, r *Record) error {
	z := rw.z
	p := rw.prev[r.CurrentFunction]
	if p == nil {
		p = pool.Take(&rw.free)
		*p = rw.last
		p.calls = p.calls[:0]
		rw.prev[r.CurrentFunction] = p
	}
	var cur recordRefs
	part := func(at int64) int64 {
		off := z.Offset()
		z.Ref(rw.buf, at)
		return off
	}
	// The trace id: its hex part from its latest copy when near.
	b := append(rw.buf[:0], sep)
	b = append(b, `{"traceId":`...)
	b = appendString(b, r.TraceID)
	rw.buf = b
	if at, ok := rw.ids[r.TraceID]; ok && z.Near(at) && len(r.TraceID) > 32 {
		// The prefix from the previous record, the rest from the copy.
		k := len(b) - 1 - 32
		cur.head = z.Offset()
		z.Ref(b[:k], p.head)
		rw.ids[r.TraceID] = z.Offset()
		z.Ref(b[k:], at)
	} else {
		cur.head = part(p.head)
		if len(r.TraceID) > 32 {
			rw.ids[r.TraceID] = cur.head + int64(len(b)-1-32)
		}
	}
	fixedOf := [4]string{r.FusionGroup.Name, r.Source, r.CurrentFunction, r.CurrentTask}
	if p.fixedLen > 0 && p.fixedOf == fixedOf && p.fixedNum == r.FusionGroup.Numeric && z.Near(p.fixed) {
		// The same fields as the function's previous record: its bytes.
		cur.fixed = z.Offset()
		z.Copy(p.fixed, p.fixedLen)
		cur.fixedLen = p.fixedLen
	} else {
		var err error
		if b, err = appendFixedPart(b[:0], r); err != nil {
			return err
		}
		rw.buf = b
		cur.fixed = part(p.fixed)
		cur.fixedLen = len(b)
	}
	cur.fixedOf, cur.fixedNum = fixedOf, r.FusionGroup.Numeric
	b = appendBilledPart(b[:0], r)
	rw.buf = b
	cur.billed = part(p.billed)
	b = appendMemPart(b[:0], r)
	rw.buf = b
	cur.mem = part(p.mem)
	// Timestamps: the start from the previous record's (records are in
	// start order), the end from this record's start.
	b = appendStartPart(b[:0], r)
	rw.buf = b
	cur.start = part(rw.last.start)
	b = strconv.AppendInt(b[:0], r.EndTimestamp, 10)
	rw.buf = b
	cur.end = part(cur.start)
	b = appendInternalPart(b[:0], r)
	if r.Calls == nil {
		b = append(b, "null}"...)
		rw.buf = b
		cur.internal = part(p.internal)
	} else {
		b = append(b, '[')
		rw.buf = b
		cur.internal = part(p.internal)
		cur.calls = p.calls[len(p.calls):] // reuse p's array past its calls
		for i, c := range r.Calls {
			b = b[:0]
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCall(b, c)
			if i == len(r.Calls)-1 {
				b = append(b, ']', '}')
			}
			rw.buf = b
			at := int64(-1)
			switch {
			case i < len(p.calls):
				at = p.calls[i]
			case i > 0:
				at = cur.calls[i-1]
			}
			cur.calls = append(cur.calls, part(at))
		}
		if len(r.Calls) == 0 {
			rw.buf = append(b[:0], ']', '}')
			part(p.fixed) // a short literal
		}
	}
	// cur becomes the function's previous record (p's storage reused).
	calls := append(p.calls[:0], cur.calls...)
	*p = cur
	p.calls = calls
	rw.last = cur
	rw.last.calls = nil
	if len(rw.ids) > 1<<16 {
		clear(rw.ids) // keep it bounded: old ids are out of the window anyway
	}
	return z.Err()
}

// Close ends the array (and the gzip stream); it does not close the
// underlying writer.
func (rw *RecordWriter) Close() error {
	if rw.err != nil {
		return rw.err
	}
	end := "]"
	if rw.n == 0 {
		end = "[]"
	}
	if rw.z == nil {
		_, rw.err = io.WriteString(rw.w, end)
		return rw.err
	}
	rw.z.LiteralString(end)
	rw.err = rw.z.Close()
	if rw.err == nil {
		// The next trace file (the next setup's) reuses its buffers.
		gzWriters.Put(rw.z)
		rw.z = nil
		rw.err = errClosed
		return nil
	}
	return rw.err
}

// errClosed is the error of a RecordWriter used after Close.
var errClosed = errors.New("trace: RecordWriter closed")

// gzWriters holds the compressors of closed RecordWriters.
var gzWriters sync.Pool

// appendString appends s as encoding/json writes a string without HTML
// escaping (\b and \f included, which fusionsim.AppendJSONString, made
// for log lines, writes as \u0008 and \u000c).
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\b' || c == '\f' {
			return appendStringSlow(dst, s)
		}
	}
	return fusionsim.AppendJSONString(dst, s)
}

func appendStringSlow(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '\b':
			esc = `\b`
		case '\f':
			esc = `\f`
		default:
			continue
		}
		// The text between, as AppendJSONString escapes it (without its
		// quotes).
		if start < i {
			q := fusionsim.AppendJSONString(nil, s[start:i])
			dst = append(dst, q[1:len(q)-1]...)
		}
		dst = append(dst, esc...)
		start = i + 1
	}
	if start < len(s) {
		q := fusionsim.AppendJSONString(nil, s[start:])
		dst = append(dst, q[1:len(q)-1]...)
	}
	return append(dst, '"')
}

// appendCall appends a call object as encoding/json writes it.
func appendCall(dst []byte, c fusionsim.Call) []byte {
	dst = append(dst, `{"local":`...)
	dst = strconv.AppendBool(dst, c.Local)
	dst = append(dst, `,"sync":`...)
	dst = strconv.AppendBool(dst, c.Sync)
	dst = append(dst, `,"caller":`...)
	dst = appendString(dst, c.Caller)
	dst = append(dst, `,"called":`...)
	dst = appendString(dst, c.Called)
	dst = append(dst, `,"time":`...)
	dst = strconv.AppendInt(dst, c.Time, 10)
	return append(dst, '}')
}
