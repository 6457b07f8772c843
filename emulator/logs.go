package emulator

import (
	"strconv"
	"time"

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
	if em.logging() {
		em.message(inv, typ).Ms = ms
		em.emit()
	}
}

func (em *Emulator) logCall(inv *invocation, c fusionsim.Call) {
	if em.logging() {
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
		inv.id = formatUUID(inv.rid[0], inv.rid[1])
	}
	return inv.id
}

func formatUUID(x, y uint64) string {
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[i], b[8+i] = byte(x>>(8*i)), byte(y>>(8*i))
	}
	return fusionsim.FormatRequestID(b)
}

// newHex32 draws the 32 hex digits of a trace id.
func (em *Emulator) newHex32() string {
	var s [32]byte
	x, y := em.rng.Uint64(), em.rng.Uint64()
	for i := 0; i < 16; i++ {
		s[i], s[16+i] = hexDigits[x>>(4*i)&0xf], hexDigits[y>>(4*i)&0xf]
	}
	return string(s[:])
}

func itoa(v int) string { return strconv.Itoa(v) }
