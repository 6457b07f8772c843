package fusionsim

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// MessageMarker starts every structured log message of the fusion handler:
// "FSMSG" followed by a JSON Message.
const MessageMarker = "FSMSG"

// Types of FSMSG messages (fusionize-reference.md, section 4).
const (
	MsgInit                    = "init"
	MsgColdstartToEvent        = "overhead-coldstartToEvent"
	MsgEventStartToInvokeLocal = "overhead-eventStartToInvokeLocal"
	MsgCall                    = "call"
	MsgTimeBase                = "time-base"
	MsgOverheadEvent           = "overhead-event"
)

// Message is one FSMSG record.
type Message struct {
	TraceID        string          `json:"traceId"`
	Time           int64           `json:"time"` // ms since the Unix epoch
	SourceFunction string          `json:"sourceFunction"`
	Type           string          `json:"type"`
	Content        json.RawMessage `json:"content"`
}

// InitContent is the content of an init message.
type InitContent struct {
	IsRootInvocation bool   `json:"isRootInvocation"`
	IsColdStart      bool   `json:"isColdStart"`
	FusionGroup      string `json:"fusionGroup"`
	MemoryAvail      string `json:"memoryAvail"` // MB, a string as in the prototype
}

// Call is the content of a call message and an entry of a trace record's calls.
type Call struct {
	Local  bool   `json:"local"`
	Sync   bool   `json:"sync"`
	Caller string `json:"caller"`
	Called string `json:"called"`
	Time   int64  `json:"time"` // ms from the call to its return
}

// MsContent is the content of the time-base and overhead messages.
type MsContent struct {
	Ms int64 `json:"ms"`
}

// Report is the content of a REPORT control line.
type Report struct {
	RequestID       string
	Duration        time.Duration // printed in ms with two decimals
	BilledMs        int64
	MemoryMB        int
	MaxMemoryUsedMB int
	InitDuration    time.Duration // zero: no Init Duration field (warm start)
	// Status is "" on success, "timeout" or "error" when the runtime ended the
	// invocation; ErrorType names the error (e.g. "Runtime.OutOfMemory").
	Status    string
	ErrorType string
}

// AppendTimestamp appends t in the runtime's log format, UTC with
// milliseconds: 2022-02-14T11:06:40.698Z.
func AppendTimestamp(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	dst = appendInt(dst, year, 4)
	dst = append(dst, '-')
	dst = appendInt(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendInt(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendInt(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendInt(dst, min, 2)
	dst = append(dst, ':')
	dst = appendInt(dst, sec, 2)
	dst = append(dst, '.')
	dst = appendInt(dst, ms, 3)
	return append(dst, 'Z')
}

// TimestampLayout parses AppendTimestamp's output with time.Parse.
const TimestampLayout = "2006-01-02T15:04:05.000Z"

func appendInt(dst []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	buf[i] = byte('0' + v)
	return append(dst, buf[i:]...)
}

// AppendStart appends "START RequestId: <id> Version: $LATEST".
func AppendStart(dst []byte, requestID string) []byte {
	dst = append(dst, "START RequestId: "...)
	dst = append(dst, requestID...)
	return append(dst, " Version: $LATEST"...)
}

// AppendEnd appends "END RequestId: <id>".
func AppendEnd(dst []byte, requestID string) []byte {
	dst = append(dst, "END RequestId: "...)
	return append(dst, requestID...)
}

// AppendReport appends the REPORT line.
func AppendReport(dst []byte, r Report) []byte {
	dst = append(dst, "REPORT RequestId: "...)
	dst = append(dst, r.RequestID...)
	dst = append(dst, "\tDuration: "...)
	dst = AppendMs2(dst, r.Duration)
	dst = append(dst, " ms\tBilled Duration: "...)
	dst = strconv.AppendInt(dst, r.BilledMs, 10)
	dst = append(dst, " ms\tMemory Size: "...)
	dst = strconv.AppendInt(dst, int64(r.MemoryMB), 10)
	dst = append(dst, " MB\tMax Memory Used: "...)
	dst = strconv.AppendInt(dst, int64(r.MaxMemoryUsedMB), 10)
	dst = append(dst, " MB"...)
	if r.InitDuration > 0 {
		dst = append(dst, "\tInit Duration: "...)
		dst = AppendMs2(dst, r.InitDuration)
		dst = append(dst, " ms"...)
	}
	if r.Status != "" {
		dst = append(dst, "\tStatus: "...)
		dst = append(dst, r.Status...)
		if r.ErrorType != "" {
			dst = append(dst, "\tError Type: "...)
			dst = append(dst, r.ErrorType...)
		}
	}
	return dst
}

// AppendMs2 appends d (>= 0) in milliseconds with two decimals, rounded
// half up, as AppendReport prints durations.
func AppendMs2(dst []byte, d time.Duration) []byte {
	hundredths := (int64(d) + 5000) / 10000
	dst = strconv.AppendInt(dst, hundredths/100, 10)
	dst = append(dst, '.')
	return appendInt(dst, int(hundredths%100), 2)
}

// AppendLinePrefix appends "<timestamp>\t<requestId>\t<level>\t", the prefix
// the Node.js runtime puts before console output.
func AppendLinePrefix(dst []byte, t time.Time, requestID, level string) []byte {
	dst = AppendTimestamp(dst, t)
	dst = append(dst, '\t')
	dst = append(dst, requestID...)
	dst = append(dst, '\t')
	dst = append(dst, level...)
	return append(dst, '\t')
}

// AppendMessageHead appends `FSMSG{"traceId":...,"type":"<typ>","content":`;
// the caller appends the content object and a closing '}'.
func AppendMessageHead(dst []byte, traceID string, timeMs int64, source, typ string) []byte {
	dst = append(dst, MessageMarker...)
	dst = append(dst, `{"traceId":`...)
	dst = AppendJSONString(dst, traceID)
	dst = append(dst, `,"time":`...)
	dst = strconv.AppendInt(dst, timeMs, 10)
	dst = append(dst, `,"sourceFunction":`...)
	dst = AppendJSONString(dst, source)
	dst = append(dst, `,"type":`...)
	dst = AppendJSONString(dst, typ)
	return append(dst, `,"content":`...)
}

// AppendInitContent appends an init message's content.
func AppendInitContent(dst []byte, c InitContent) []byte {
	dst = append(dst, `{"isRootInvocation":`...)
	dst = strconv.AppendBool(dst, c.IsRootInvocation)
	dst = append(dst, `,"isColdStart":`...)
	dst = strconv.AppendBool(dst, c.IsColdStart)
	dst = append(dst, `,"fusionGroup":`...)
	dst = AppendJSONString(dst, c.FusionGroup)
	dst = append(dst, `,"memoryAvail":`...)
	dst = AppendJSONString(dst, c.MemoryAvail)
	return append(dst, '}')
}

// AppendCall appends a call object.
func AppendCall(dst []byte, c Call) []byte {
	dst = append(dst, `{"local":`...)
	dst = strconv.AppendBool(dst, c.Local)
	dst = append(dst, `,"sync":`...)
	dst = strconv.AppendBool(dst, c.Sync)
	dst = append(dst, `,"caller":`...)
	dst = AppendJSONString(dst, c.Caller)
	dst = append(dst, `,"called":`...)
	dst = AppendJSONString(dst, c.Called)
	dst = append(dst, `,"time":`...)
	dst = strconv.AppendInt(dst, c.Time, 10)
	return append(dst, '}')
}

// AppendMsContent appends {"ms":<ms>}.
func AppendMsContent(dst []byte, ms int64) []byte {
	dst = append(dst, `{"ms":`...)
	dst = strconv.AppendInt(dst, ms, 10)
	return append(dst, '}')
}

// AppendJSONString appends s as a JSON string, escaping as encoding/json does
// (without HTML escaping).
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	i := 0
	// Eight bytes at a time while none needs escaping (SWAR: no byte below
	// 0x20 or from 0x80, none a quote or a backslash).
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		const ones, highs = 0x0101010101010101, 0x8080808080808080
		q, b := w^(0x22*ones), w^(0x5c*ones)
		if (w-0x20*ones|w|(q-ones)&^q|(b-ones)&^b)&highs != 0 {
			break
		}
	}
	for i < len(s) && jsonSafe[s[i]] {
		i++
	}
	if i == len(s) {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigit(c>>4), hexDigit(c&0xf))
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigit(byte(r&0xf)))
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func hexDigit(b byte) byte { return "0123456789abcdef"[b] }

// jsonSafe marks the ASCII bytes that appear in a JSON string unescaped.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
