package emulator

import (
	"strconv"
	"time"
	"unsafe"

	"github.com/fusionsim/fusionsim"
)

// msOf is the epoch milliseconds of virtual time t, floored, as JavaScript's
// Date.now() would read it.
func (em *Emulator) msOf(t time.Duration) int64 {
	ns := em.epochNs + int64(t)
	ms := ns / 1e6
	if ns%1e6 < 0 {
		ms--
	}
	return ms
}

// msBetween is the difference of two Date.now() readings, the way the
// prototype measured every duration it logged.
func (em *Emulator) msBetween(from, to time.Duration) int64 { return em.msOf(to) - em.msOf(from) }

// logging reports whether anything receives the log (records or lines).
func (em *Emulator) logging() bool { return em.cfg.Log != nil || em.cfg.Records != nil }

// SetLeanRecords makes the emulator write, from now on, only the records
// a run's summary reads (on) or every record (off, the default). Lean
// records lack the FSMSG call and overhead messages: the traces extracted
// from them have no calls and end at their last message written, while
// the figures of a summary row (results.SetupStats: billed durations,
// memory sizes, cold starts, roots and their internal durations) are the
// same. A sweep that reads nothing but the rows saves their cost. It
// applies only while no line sink (Config.Log) is set: text logs are
// always written whole.
func (em *Emulator) SetLeanRecords(on bool) { em.leanRecords = on }

// summaryOnly reports whether only the records a summary reads are
// written (SetLeanRecords).
func (em *Emulator) summaryOnly() bool { return em.leanRecords && em.cfg.Log == nil }

// record starts the log record of inv: em.rec with its kind and the
// invocation's fields; the caller sets the rest and calls emit.
func (em *Emulator) record(inv *invocation, kind fusionsim.LogKind) *fusionsim.LogRecord {
	r := &em.rec
	r.Kind = kind
	r.Function = inv.fn.name
	r.Time = em.epochNs + int64(em.k.now)
	r.RequestID = inv.requestID()
	return r
}

// emit hands em.rec to the record sink and, formatted as text, to the line
// sink.
func (em *Emulator) emit() {
	if em.cfg.Records != nil {
		em.cfg.Records.LogRecord(&em.rec)
	}
	if em.cfg.Log != nil {
		em.line = em.lines.Append(em.line[:0], &em.rec)
		em.cfg.Log.WriteLine(em.rec.Function, em.Now(), em.line)
	}
}

func (em *Emulator) logStart(inv *invocation) {
	if em.logging() {
		em.record(inv, fusionsim.LogStart)
		em.emit()
	}
}

func (em *Emulator) logEnd(inv *invocation) {
	if em.logging() {
		em.record(inv, fusionsim.LogEnd)
		em.emit()
	}
}

func (em *Emulator) logReport(inv *invocation, rep fusionsim.Report) {
	if em.logging() {
		r := em.record(inv, fusionsim.LogReport)
		r.Report = rep
		em.emit()
	}
}

// message starts an FSMSG record of inv.
func (em *Emulator) message(inv *invocation, typ string) *fusionsim.LogRecord {
	r := em.record(inv, fusionsim.LogMessage)
	r.TraceID, r.Source, r.Type = inv.traceID, inv.fn.id.Task, typ
	return r
}

func (em *Emulator) logInit(inv *invocation) {
	if em.logging() {
		r := em.message(inv, fusionsim.MsgInit)
		r.Init = fusionsim.InitContent{IsRootInvocation: inv.root, IsColdStart: inv.cold, FusionGroup: inv.setup().Name(), MemoryAvail: inv.fn.memoryText}
		em.emit()
	}
}

func (em *Emulator) logMs(inv *invocation, typ string, ms int64) {
	if em.logging() && (typ == fusionsim.MsgTimeBase || !em.summaryOnly()) {
		em.message(inv, typ).Ms = ms
		em.emit()
	}
}

func (em *Emulator) logCall(inv *invocation, c fusionsim.Call) {
	if em.logging() && !em.summaryOnly() {
		em.message(inv, fusionsim.MsgCall).Call = c
		em.emit()
	}
}

// logInfo writes a line of the task's own output (console.log).
func (em *Emulator) logInfo(inv *invocation, msg string) {
	if em.logging() {
		em.record(inv, fusionsim.LogInfo).Text = msg
		em.emit()
	}
}

// logError writes the Node.js runtime's "Invoke Error" line.
func (em *Emulator) logError(inv *invocation, err error) {
	if !em.logging() {
		return
	}
	typ := "Error"
	if fe := asFunctionError(inv, err); fe != nil {
		typ = fe.Type
	}
	r := em.record(inv, fusionsim.LogError)
	r.ErrorType, r.Text = typ, err.Error()
	em.emit()
}

// logRaw writes "<time>\t<requestId>\t<msg>", the runtime's own messages.
func (em *Emulator) logRaw(inv *invocation, msg string) {
	if em.logging() {
		em.record(inv, fusionsim.LogRuntime).Text = msg
		em.emit()
	}
}

const hexDigits = "0123456789abcdef"

// requestID is the invocation's Lambda request id, a version-4 UUID made
// from the two random words drawn when it started (formatted on first use).
func (inv *invocation) requestID() string {
	if inv.id == "" {
		inv.id = inv.em.formatUUID(inv.rid[0], inv.rid[1])
	}
	return inv.id
}

// formatUUID formats the request id of two random words (in the arena).
func (em *Emulator) formatUUID(x, y uint64) string {
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[i], b[8+i] = byte(x>>(8*i)), byte(y>>(8*i))
	}
	var s [36]byte
	return em.strs.string(fusionsim.AppendRequestID(s[:0], b))
}

// newTraceID draws the trace id of a root invocation of fn under setup:
// "<setup>-<task>-<MB>-<32 hex digits>".
func (em *Emulator) newTraceID(setup string, fn *function) string {
	var buf [128]byte
	s := append(buf[:0], setup...)
	s = append(s, '-')
	s = append(s, fn.id.Task...)
	s = append(s, '-')
	s = append(s, fn.memoryText...)
	s = append(s, '-')
	x, y := em.rng.Uint64(), em.rng.Uint64()
	for i := 0; i < 16; i++ {
		s = append(s, hexDigits[x>>(4*i)&0xf])
	}
	for i := 0; i < 16; i++ {
		s = append(s, hexDigits[y>>(4*i)&0xf])
	}
	return em.strs.string(s)
}

func itoa(v int) string { return strconv.Itoa(v) }

// stringArena makes strings out of large shared chunks, so that the ids of
// requests and traces cost no allocation each. The bytes of a string are
// never written again once it is made (the chunk only grows), which makes
// unsafe.String sound; a chunk lives as long as any of its strings.
type stringArena struct{ buf []byte }

const arenaChunk = 16 << 10

func (a *stringArena) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(a.buf)-len(a.buf) < len(b) {
		a.buf = make([]byte, 0, max(arenaChunk, len(b)))
	}
	n := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[n], len(b))
}
