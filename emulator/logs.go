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

func (em *Emulator) emit(inv *invocation) {
	if em.cfg.Log != nil {
		em.cfg.Log.WriteLine(inv.fn.name, em.Now(), em.line)
	}
}

func (em *Emulator) logStart(inv *invocation) {
	if em.cfg.Log == nil {
		return
	}
	em.line = fusionsim.AppendStart(em.line[:0], inv.requestID())
	em.emit(inv)
}

func (em *Emulator) logEnd(inv *invocation) {
	if em.cfg.Log == nil {
		return
	}
	em.line = fusionsim.AppendEnd(em.line[:0], inv.requestID())
	em.emit(inv)
}

func (em *Emulator) logReport(inv *invocation, r fusionsim.Report) {
	if em.cfg.Log == nil {
		return
	}
	em.line = fusionsim.AppendReport(em.line[:0], r)
	em.emit(inv)
}

// head starts an FSMSG line of inv: the same bytes as
// fusionsim.AppendLinePrefix + AppendMessageHead, with the parts that do not
// change during an invocation formatted once.
func (em *Emulator) head(inv *invocation, typ string) {
	if inv.hdr == nil {
		// "\t<requestId>\tINFO\t" | `FSMSG{"traceId":"<id>","time":` | `,"sourceFunction":"<task>","type":`
		b := make([]byte, 0, 128+len(inv.traceID))
		b = append(b, '\t')
		b = append(b, inv.requestID()...)
		b = append(b, "\tINFO\t"...)
		inv.hdrA = len(b)
		b = append(b, fusionsim.MessageMarker...)
		b = append(b, `{"traceId":`...)
		b = fusionsim.AppendJSONString(b, inv.traceID)
		b = append(b, `,"time":`...)
		inv.hdrB = len(b)
		b = append(b, `,"sourceFunction":`...)
		b = fusionsim.AppendJSONString(b, inv.fn.id.Task)
		b = append(b, `,"type":`...)
		inv.hdr = b
	}
	b := em.appendNow(em.line[:0])
	b = append(b, inv.hdr[:inv.hdrB]...)
	b = strconv.AppendInt(b, em.msOf(em.k.now), 10)
	b = append(b, inv.hdr[inv.hdrB:]...)
	b = fusionsim.AppendJSONString(b, typ)
	em.line = append(b, `,"content":`...)
}

// appendNow appends the current time as fusionsim.AppendTimestamp does,
// formatting the date and time of day only when the second changes.
func (em *Emulator) appendNow(dst []byte) []byte {
	ns := em.epochNs + int64(em.k.now)
	sec := ns / 1e9
	if ns%1e9 < 0 {
		sec--
	}
	if sec != em.tsSec || len(em.tsBuf) == 0 {
		em.tsBuf = fusionsim.AppendTimestamp(em.tsBuf[:0], time.Unix(sec, 0))
		em.tsBuf = em.tsBuf[:len(em.tsBuf)-4] // drop "000Z", keep the '.'
		em.tsSec = sec
	}
	msec := (ns - sec*1e9) / 1e6
	dst = append(dst, em.tsBuf...)
	return append(dst, byte('0'+msec/100), byte('0'+msec/10%10), byte('0'+msec%10), 'Z')
}

func (em *Emulator) logInit(inv *invocation) {
	if em.cfg.Log == nil {
		return
	}
	em.head(inv, fusionsim.MsgInit)
	em.line = fusionsim.AppendInitContent(em.line, fusionsim.InitContent{
		IsRootInvocation: inv.root, IsColdStart: inv.cold, FusionGroup: inv.setup().Name(), MemoryAvail: itoa(inv.fn.memoryMB),
	})
	em.line = append(em.line, '}')
	em.emit(inv)
}

func (em *Emulator) logMs(inv *invocation, typ string, ms int64) {
	if em.cfg.Log == nil {
		return
	}
	em.head(inv, typ)
	em.line = fusionsim.AppendMsContent(em.line, ms)
	em.line = append(em.line, '}')
	em.emit(inv)
}

func (em *Emulator) logCall(inv *invocation, c fusionsim.Call) {
	if em.cfg.Log == nil {
		return
	}
	em.head(inv, fusionsim.MsgCall)
	em.line = fusionsim.AppendCall(em.line, c)
	em.line = append(em.line, '}')
	em.emit(inv)
}

// logInfo writes a line of the task's own output (console.log).
func (em *Emulator) logInfo(inv *invocation, msg string) {
	if em.cfg.Log == nil {
		return
	}
	em.line = fusionsim.AppendLinePrefix(em.line[:0], em.Now(), inv.requestID(), "INFO")
	em.line = append(em.line, msg...)
	em.emit(inv)
}

// logError writes the Node.js runtime's "Invoke Error" line.
func (em *Emulator) logError(inv *invocation, err error) {
	if em.cfg.Log == nil {
		return
	}
	typ := "Error"
	if fe := asFunctionError(inv, err); fe != nil {
		typ = fe.Type
	}
	b := fusionsim.AppendLinePrefix(em.line[:0], em.Now(), inv.requestID(), "ERROR")
	b = append(b, "Invoke Error \t{\"errorType\":"...)
	b = fusionsim.AppendJSONString(b, typ)
	b = append(b, ",\"errorMessage\":"...)
	b = fusionsim.AppendJSONString(b, err.Error())
	em.line = append(b, '}')
	em.emit(inv)
}

// logRaw writes "<time>\t<requestId>\t<msg>", the runtime's own messages.
func (em *Emulator) logRaw(inv *invocation, msg string) {
	if em.cfg.Log == nil {
		return
	}
	b := fusionsim.AppendTimestamp(em.line[:0], em.Now())
	b = append(b, '\t')
	b = append(b, inv.requestID()...)
	b = append(b, '\t')
	em.line = append(b, msg...)
	em.emit(inv)
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
