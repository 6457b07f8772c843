package fusionsim

import (
	"strconv"
	"time"
	"unsafe"
)

// LogKind says what a log record is.
type LogKind uint8

// Kinds of log records: one per form of line a Lambda function's log holds.
const (
	// LogStart is "START RequestId: <id> Version: $LATEST".
	LogStart LogKind = iota + 1
	// LogEnd is "END RequestId: <id>".
	LogEnd
	// LogReport is the REPORT line (LogRecord.Report).
	LogReport
	// LogMessage is an FSMSG line of the fusion handler:
	// "<time>\t<id>\tINFO\tFSMSG{...}" with TraceID, Source, Type and the
	// content of Type (Init, Call or Ms).
	LogMessage
	// LogInfo is the task's own output, "<time>\t<id>\tINFO\t<Text>".
	LogInfo
	// LogError is the runtime's "Invoke Error" line of a failed invocation:
	// ErrorType and the message in Text.
	LogError
	// LogRuntime is a message of the runtime itself, "<time>\t<id>\t<Text>"
	// ("Task timed out after 3.00 seconds").
	LogRuntime
)

// LogRecord is one line of a function's log as typed fields, the form in
// which the emulator writes its logs. Lambda-format text is made from it only
// where text is wanted (AppendLine); the trace extractor reads the fields
// directly. Records handed to a RecordSink are valid only during the call
// (the emulator reuses one).
type LogRecord struct {
	Kind LogKind
	// Function is the function's name, e.g. "fusion-function-I-128" (the
	// log stream).
	Function string
	// Time is when the line was written, Unix nanoseconds (virtual time in
	// the emulator).
	Time int64
	// RequestID is the invocation's Lambda request id.
	RequestID string
	// TraceID, Source (the sourceFunction: the function's entry task) and
	// Type are the head of an FSMSG message; its "time" field is Time in
	// ms, floored (MessageMs).
	TraceID, Source, Type string
	// Init is the content of an init message; Call of a call message; Ms of
	// a time-base or overhead-* message.
	Init InitContent
	Call Call
	Ms   int64
	// Report holds the fields of a REPORT record.
	Report Report
	// Text is the output of LogInfo and LogRuntime, the error message of
	// LogError; ErrorType the error type of LogError.
	Text, ErrorType string
}

// RecordSink receives log records as they are written.
type RecordSink interface {
	// LogRecord receives one record; r is valid only during the call.
	LogRecord(r *LogRecord)
}

// RecordSinkFunc makes a function a RecordSink.
type RecordSinkFunc func(r *LogRecord)

// LogRecord calls f(r).
func (f RecordSinkFunc) LogRecord(r *LogRecord) { f(r) }

// At is the record's time.
func (r *LogRecord) At() time.Time { return time.Unix(0, r.Time).UTC() }

// MessageMs is the "time" field of an FSMSG message: Time in ms since the
// Unix epoch, floored (as JavaScript's Date.now() reads it).
func (r *LogRecord) MessageMs() int64 {
	ms := r.Time / 1e6
	if r.Time%1e6 < 0 {
		ms--
	}
	return ms
}

// AppendLine appends the record as the line Lambda's runtime prints (no
// newline); see LineFormatter for many records.
func (r *LogRecord) AppendLine(dst []byte) []byte {
	var f LineFormatter
	return f.Append(dst, r)
}

// LineFormatter formats log records as lines. It keeps the date and time of
// day of the last second formatted, so that lines written in the same second
// reuse them. The zero value is ready to use; it is not safe for concurrent
// use.
type LineFormatter struct {
	sec int64  // the second of ts
	ts  []byte // "2023-02-01T00:00:05." of second sec
	// msSec and msDigits: the decimal digits of an FSMSG time field's
	// second (the field without its last three digits).
	msSec    int64
	msDigits []byte
	json     JSONStrings // strings known to need no escaping
}

// JSONStrings remembers strings that need no escaping in JSON (by the
// address and length of their bytes, which it keeps alive), so that they
// are appended without being scanned again: the fields of a log's lines
// are mostly the same few strings (a trace id, task names, message
// types). The zero value is ready to use; it is not safe for concurrent
// use.
type JSONStrings struct {
	safe [64]struct {
		p *byte
		n int
	}
}

// Append appends s as a JSON string (AppendJSONString).
func (j *JSONStrings) Append(dst []byte, s string) []byte {
	p := unsafe.StringData(s)
	e := &j.safe[(uintptr(unsafe.Pointer(p))>>3^uintptr(len(s)))&63]
	if e.p == p && e.n == len(s) && p != nil {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	n := len(dst)
	dst = AppendJSONString(dst, s)
	if len(dst)-n == len(s)+2 {
		e.p, e.n = p, len(s)
	}
	return dst
}

// Append appends r's line to dst.
func (f *LineFormatter) Append(dst []byte, r *LogRecord) []byte {
	switch r.Kind {
	case LogStart:
		return AppendStart(dst, r.RequestID)
	case LogEnd:
		return AppendEnd(dst, r.RequestID)
	case LogReport:
		return AppendReport(dst, r.Report)
	case LogMessage:
		dst = f.prefix(dst, r, "INFO")
		// AppendMessageHead, with the strings remembered and the time's
		// second formatted once.
		dst = append(dst, MessageMarker...)
		dst = append(dst, `{"traceId":`...)
		dst = f.json.Append(dst, r.TraceID)
		dst = append(dst, `,"time":`...)
		dst = f.AppendMs(dst, r.MessageMs())
		dst = append(dst, `,"sourceFunction":`...)
		dst = f.json.Append(dst, r.Source)
		dst = append(dst, `,"type":`...)
		dst = f.json.Append(dst, r.Type)
		dst = append(dst, `,"content":`...)
		switch r.Type {
		case MsgInit:
			dst = AppendInitContent(dst, r.Init)
		case MsgCall:
			dst = AppendCall(dst, r.Call)
		default:
			dst = AppendMsContent(dst, r.Ms)
		}
		return append(dst, '}')
	case LogInfo:
		return append(f.prefix(dst, r, "INFO"), r.Text...)
	case LogError:
		dst = f.prefix(dst, r, "ERROR")
		dst = append(dst, "Invoke Error \t{\"errorType\":"...)
		dst = AppendJSONString(dst, r.ErrorType)
		dst = append(dst, ",\"errorMessage\":"...)
		dst = AppendJSONString(dst, r.Text)
		return append(dst, '}')
	case LogRuntime:
		dst = f.timestamp(dst, r.Time)
		dst = append(dst, '\t')
		dst = append(dst, r.RequestID...)
		dst = append(dst, '\t')
		return append(dst, r.Text...)
	}
	return dst
}

// prefix appends "<timestamp>\t<requestId>\t<level>\t" (AppendLinePrefix).
func (f *LineFormatter) prefix(dst []byte, r *LogRecord, level string) []byte {
	dst = f.timestamp(dst, r.Time)
	dst = append(dst, '\t')
	dst = append(dst, r.RequestID...)
	dst = append(dst, '\t')
	dst = append(dst, level...)
	return append(dst, '\t')
}

// AppendMs appends ms (an FSMSG time field: ms since the epoch) in
// decimal, formatting its second only when it changes.
func (f *LineFormatter) AppendMs(dst []byte, ms int64) []byte {
	if ms < 1000 {
		return strconv.AppendInt(dst, ms, 10)
	}
	sec := ms / 1000
	if sec != f.msSec || len(f.msDigits) == 0 {
		f.msDigits = strconv.AppendInt(f.msDigits[:0], sec, 10)
		f.msSec = sec
	}
	r := ms - sec*1000
	dst = append(dst, f.msDigits...)
	return append(dst, byte('0'+r/100), byte('0'+r/10%10), byte('0'+r%10))
}

// timestamp appends AppendTimestamp(time.Unix(0, ns)), formatting the date
// and time of day only when the second changes.
func (f *LineFormatter) timestamp(dst []byte, ns int64) []byte {
	sec := ns / 1e9
	if ns%1e9 < 0 {
		sec--
	}
	if sec != f.sec || len(f.ts) == 0 {
		f.ts = AppendTimestamp(f.ts[:0], time.Unix(sec, 0))
		f.ts = f.ts[:len(f.ts)-4] // drop "000Z", keep the '.'
		f.sec = sec
	}
	msec := (ns - sec*1e9) / 1e6
	dst = append(dst, f.ts...)
	return append(dst, byte('0'+msec/100), byte('0'+msec/10%10), byte('0'+msec%10), 'Z')
}
