package results

import (
	"strconv"
	"time"
	"unsafe"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/internal/gzref"
	"github.com/fusionsim/fusionsim/internal/pool"
	"github.com/fusionsim/fusionsim/internal/strtab"
)

// logEncoder writes one function's log records as gzip-compressed Lambda
// log lines (exactly fusionsim.LineFormatter's lines, newline-ended),
// pointing the compressor at the earlier text each part of a line
// repeats: the previous line of the same kind, the line that first held
// the request id, the previous message of the same invocation. A line
// then costs a few matches and the digits that changed.
type logEncoder struct {
	z   *gzref.Writer
	seg []byte

	sec int64  // the second of ts
	ts  []byte // "2023-02-01T00:00:05." of second sec

	lastTS int64 // stream offset of the last timestamp
	start  [2]int64
	end    int64
	report [5]int64
	msg    msgRefs                // the last message line's parts
	shapes []shapeRef             // the type part of the last message of each shape
	invs   strtab.Table[*invRefs] // open invocations by request id
	recent [1024]*invRefs         // recent ones by the address of the id's bytes (direct-mapped)
	free   []*invRefs
	lines  fusionsim.LineFormatter // other lines, and FSMSG time fields
	json   fusionsim.JSONStrings   // strings known to need no escaping
}

// msgRefs are the stream offsets of the parts of a message line.
type msgRefs struct {
	head, rest, time int64 // "\t<id>\tINFO\tFSMSG{...", the part after the id, the time's digits
	headLen          int
}

type shapeRef struct {
	msgShape
	at int64
}

// msgShape tells messages whose type and content look alike.
type msgShape struct {
	typ, called string
	local, sync bool
}

// invRefs is what the encoder knows of an open invocation.
type invRefs struct {
	key    string // its request id as first given
	id     int64  // offset of its request id's latest copy
	msg    msgRefs
	trace  string // the trace id of msg
	hasMsg bool
}

func newLogEncoder(z *gzref.Writer) *logEncoder {
	return &logEncoder{z: z, lastTS: -1, start: [2]int64{-1, -1}, end: -1, report: [5]int64{-1, -1, -1, -1, -1},
		msg: msgRefs{head: -1, rest: -1, time: -1}}
}

// ref writes e.seg as a part that repeats the bytes at offset at, and
// returns the part's own offset.
func (e *logEncoder) ref(at int64) int64 {
	off := e.z.Offset()
	e.z.Ref(e.seg, at)
	return off
}

func (e *logEncoder) inv(id string) *invRefs {
	// The emulator's records of one invocation share their request id's
	// bytes: look for those first, then for the text.
	p := unsafe.StringData(id)
	slot := &e.recent[strtab.Slot(id, len(e.recent))]
	if iv := *slot; iv != nil && unsafe.StringData(iv.key) == p && len(iv.key) == len(id) {
		return iv
	}
	iv, _ := e.invs.Get(id)
	if iv == nil {
		iv = pool.Take(&e.free)
		*iv = invRefs{id: -1, key: id}
		e.invs.Set(id, iv)
	}
	if p != nil {
		*slot = iv
	}
	return iv
}

func (e *logEncoder) done(id string, iv *invRefs) {
	e.invs.Delete(iv.key)
	if p := unsafe.StringData(iv.key); p != nil {
		if slot := &e.recent[strtab.Slot(iv.key, len(e.recent))]; *slot == iv {
			*slot = nil
		}
	}
	e.free = append(e.free, iv)
}

// write writes r's line.
func (e *logEncoder) write(r *fusionsim.LogRecord) {
	switch r.Kind {
	case fusionsim.LogStart:
		iv := e.inv(r.RequestID)
		e.seg = append(e.seg[:0], "START RequestId: "...)
		e.start[0] = e.ref(e.start[0])
		iv.id = e.z.Offset()
		e.z.LiteralString(r.RequestID)
		e.seg = append(e.seg[:0], " Version: $LATEST\n"...)
		e.start[1] = e.ref(e.start[1])
	case fusionsim.LogEnd:
		iv := e.inv(r.RequestID)
		e.seg = append(e.seg[:0], "END RequestId: "...)
		e.end = e.ref(e.end)
		e.id(iv, r.RequestID)
		e.z.LiteralString("\n")
	case fusionsim.LogReport:
		iv := e.inv(r.RequestID)
		rep := &r.Report
		e.seg = append(e.seg[:0], "REPORT RequestId: "...)
		e.report[0] = e.ref(e.report[0])
		if rep.RequestID == r.RequestID {
			e.id(iv, rep.RequestID)
		} else {
			e.z.LiteralString(rep.RequestID)
		}
		// The rest of fusionsim.AppendReport, in parts that start where
		// the numbers start, so that each is compared aligned.
		e.seg = append(e.seg[:0], "\tDuration: "...)
		e.seg = fusionsim.AppendMs2(e.seg, rep.Duration)
		e.report[1] = e.ref(e.report[1])
		e.seg = append(e.seg[:0], " ms\tBilled Duration: "...)
		e.seg = strconv.AppendInt(e.seg, rep.BilledMs, 10)
		e.report[2] = e.ref(e.report[2])
		e.seg = append(e.seg[:0], " ms\tMemory Size: "...)
		e.seg = strconv.AppendInt(e.seg, int64(rep.MemoryMB), 10)
		e.seg = append(e.seg, " MB\tMax Memory Used: "...)
		e.seg = strconv.AppendInt(e.seg, int64(rep.MaxMemoryUsedMB), 10)
		e.report[3] = e.ref(e.report[3])
		e.seg = append(e.seg[:0], " MB"...)
		if rep.InitDuration > 0 {
			e.seg = append(e.seg, "\tInit Duration: "...)
			e.seg = fusionsim.AppendMs2(e.seg, rep.InitDuration)
			e.seg = append(e.seg, " ms"...)
		}
		if rep.Status != "" {
			e.seg = append(e.seg, "\tStatus: "...)
			e.seg = append(e.seg, rep.Status...)
			if rep.ErrorType != "" {
				e.seg = append(e.seg, "\tError Type: "...)
				e.seg = append(e.seg, rep.ErrorType...)
			}
		}
		e.seg = append(e.seg, '\n')
		e.report[4] = e.ref(e.report[4])
		e.done(r.RequestID, iv)
	case fusionsim.LogMessage:
		e.message(r)
	default:
		e.seg = append(e.lines.Append(e.seg[:0], r), '\n')
		e.z.Write(e.seg)
	}
}

// id writes the request id of iv, pointing at its latest copy.
func (e *logEncoder) id(iv *invRefs, id string) {
	at := iv.id
	iv.id = e.z.Offset()
	e.z.RefString(id, at)
}

// message writes an FSMSG line: "<time>\t<id>\tINFO\tFSMSG{"traceId":...,
// "time":<ms>,"sourceFunction":...,"type":<type>,"content":<content>}".
func (e *logEncoder) message(r *fusionsim.LogRecord) {
	iv := e.inv(r.RequestID)
	e.seg = e.timestamp(e.seg[:0], r.Time)
	e.lastTS = e.ref(e.lastTS)

	// The head, "\t<id>\tINFO\tFSMSG{"traceId":<trace>,"time":, the same
	// in every message of the invocation: a copy of its last message's,
	// when that is near.
	var m msgRefs
	near := iv.hasMsg && iv.trace == r.TraceID && e.z.Near(iv.msg.head)
	if near {
		m.head, m.headLen = e.z.Offset(), iv.msg.headLen
		e.z.Copy(iv.msg.head, m.headLen)
		m.rest = m.head + 1 + int64(len(r.RequestID))
		iv.id = m.head + 1
	} else {
		// The first message of the invocation (or the last is out of
		// reach): its id from its latest copy, the rest from the last
		// message of the file.
		e.seg = append(e.seg[:0], '\t')
		e.seg = append(e.seg, r.RequestID...)
		idLen := len(r.RequestID)
		e.seg = append(e.seg, "\tINFO\t"...)
		e.seg = append(e.seg, fusionsim.MessageMarker...)
		e.seg = append(e.seg, `{"traceId":`...)
		e.seg = e.json.Append(e.seg, r.TraceID)
		e.seg = append(e.seg, `,"time":`...)
		m.head, m.headLen = e.z.Offset(), len(e.seg)
		e.z.Ref(e.seg[:1], e.msg.head)
		at := iv.id
		iv.id = e.z.Offset()
		e.z.Ref(e.seg[1:1+idLen], at)
		m.rest = e.z.Offset()
		e.z.Ref(e.seg[1+idLen:], e.msg.rest)
	}

	// The time and the source: from the invocation's last message (the
	// same source, often the same first digits), else the file's.
	e.seg = e.lines.AppendMs(e.seg[:0], r.MessageMs())
	e.seg = append(e.seg, `,"sourceFunction":`...)
	e.seg = e.json.Append(e.seg, r.Source)
	e.seg = append(e.seg, `,"type":`...)
	if near {
		m.time = e.ref(iv.msg.time)
	} else {
		m.time = e.ref(e.msg.time)
	}

	// The type and its content: from the last message of the same shape.
	e.seg = e.json.Append(e.seg[:0], r.Type)
	e.seg = append(e.seg, `,"content":`...)
	shape := msgShape{typ: r.Type}
	switch r.Type {
	case fusionsim.MsgInit:
		e.seg = fusionsim.AppendInitContent(e.seg, r.Init)
	case fusionsim.MsgCall:
		e.seg = fusionsim.AppendCall(e.seg, r.Call)
		shape.called, shape.local, shape.sync = r.Call.Called, r.Call.Local, r.Call.Sync
	default:
		e.seg = fusionsim.AppendMsContent(e.seg, r.Ms)
	}
	e.seg = append(e.seg, '}', '\n')
	var sr *shapeRef
	for i := range e.shapes {
		if e.shapes[i].msgShape == shape {
			sr = &e.shapes[i]
			break
		}
	}
	if sr == nil {
		e.shapes = append(e.shapes, shapeRef{shape, -1})
		sr = &e.shapes[len(e.shapes)-1]
	}
	sr.at = e.ref(sr.at)

	iv.msg, iv.trace, iv.hasMsg = m, r.TraceID, true
	e.msg = m
}

// timestamp appends the line timestamp of ns (fusionsim.AppendTimestamp),
// formatting the date and time of day only when the second changes.
func (e *logEncoder) timestamp(dst []byte, ns int64) []byte {
	sec := ns / 1e9
	if ns%1e9 < 0 {
		sec--
	}
	if sec != e.sec || len(e.ts) == 0 {
		e.ts = fusionsim.AppendTimestamp(e.ts[:0], time.Unix(sec, 0))
		e.ts = e.ts[:len(e.ts)-4] // drop "000Z", keep the '.'
		e.sec = sec
	}
	msec := (ns - sec*1e9) / 1e6
	dst = append(dst, e.ts...)
	return append(dst, byte('0'+msec/100), byte('0'+msec/10%10), byte('0'+msec%10), 'Z')
}
