package trace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
)

// ErrMalformed is wrapped by every error of ParseLine: the line looks like a
// control line (START, END, REPORT) or a structured FSMSG line but does not
// parse as one.
var ErrMalformed = errors.New("malformed log line")

// Kind says what a log line is.
type Kind uint8

// Kinds of log lines.
const (
	// Foreign is any line that is neither a control line nor an FSMSG line:
	// the application's own output, the runtime's messages ("Task timed out
	// after ..."), continuation lines of multi-line output.
	Foreign Kind = iota
	// Start is "START RequestId: <id> Version: $LATEST".
	Start
	// End is "END RequestId: <id>".
	End
	// Report is the REPORT line with durations and memory.
	Report
	// Message is "<time>\t<id>\t<LEVEL>\tFSMSG{...}", a structured record of
	// the fusion handler.
	Message
)

var kindNames = [...]string{"foreign", "START", "END", "REPORT", "FSMSG"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Line is one parsed log line.
type Line struct {
	Kind Kind
	// RequestID is the Lambda request id; Foreign lines have one when they
	// carry the runtime's "<time>\t<id>\t" prefix.
	RequestID string
	// Time is the line's own timestamp: the runtime prefix of FSMSG and
	// application lines, else the export prefix; zero when the line carries
	// none (bare START, END and REPORT lines).
	Time time.Time
	// Level is the log level of prefixed lines ("INFO", "ERROR", ...).
	Level string
	// Report holds the fields of a REPORT line.
	Report fusionsim.Report
	// Msg is the FSMSG record of a Message line; Msg.Content is the raw JSON
	// content, decoded into Init, Call or Ms by type.
	Msg fusionsim.Message
	// Init is the content of an init message.
	Init fusionsim.InitContent
	// Call is the content of a call message.
	Call fusionsim.Call
	// Ms is the content of a time-base or overhead-* message.
	Ms int64
	// Text is the line without its export prefix and trailing white space;
	// for Foreign lines with a runtime prefix, the text after the prefix.
	Text string
}

// ParseLine parses one log line of a Lambda function as the emulator writes
// it and as CloudWatch exports it.
//
// Accepted forms (fields separated by one tab unless said otherwise):
//
//	START RequestId: <id>[ Version: <version>]
//	END RequestId: <id>
//	REPORT RequestId: <id>\tDuration: <ms> ms\tBilled Duration: <ms> ms\tMemory Size: <MB> MB\tMax Memory Used: <MB> MB[\tInit Duration: <ms> ms][\tStatus: <status>[\tError Type: <type>]]
//	<RFC 3339 time>\t<id>\t<LEVEL>\tFSMSG{"traceId":...,"time":...,"sourceFunction":...,"type":...,"content":{...}}
//
// REPORT fields may come in any order; unknown fields (XRAY TraceId, Restore
// Duration, ...) and trailing white space (real REPORT lines end with a tab)
// are ignored. Every line may carry an export prefix: an RFC 3339 timestamp
// followed by one space or tab (CloudWatch's export to S3, "aws logs
// filter-log-events --output text" after its columns are cut), optionally
// followed by a log stream name "YYYY/MM/DD/[<version>]<hex>" and one space
// ("aws logs tail"). The export prefix is taken only when what follows is a
// control line or another timestamp, so application lines that happen to
// start with a date stay Foreign.
//
// Anything else is a Foreign line and no error. A line that starts like a
// control line or carries the FSMSG marker after a runtime prefix but does not
// parse returns an error wrapping ErrMalformed.
func ParseLine(text string) (Line, error) {
	s := strings.TrimRight(text, " \t\r\n")
	var l Line
	if t, rest, ok := cutExportPrefix(s); ok {
		l.Time, s = t, rest
	}
	l.Text = s
	var err error
	switch {
	case strings.HasPrefix(s, "START "):
		l.Kind = Start
		err = parseStart(&l, s)
	case strings.HasPrefix(s, "END "):
		l.Kind = End
		err = parseEnd(&l, s)
	case strings.HasPrefix(s, "REPORT "):
		l.Kind = Report
		err = parseReport(&l, s)
	default:
		err = parsePrefixed(&l, s)
	}
	if err != nil {
		return Line{Kind: l.Kind, Text: l.Text}, fmt.Errorf("%w: %s: %v", ErrMalformed, l.Kind, err)
	}
	return l, nil
}

// cutExportPrefix strips "<time> " (and an "aws logs tail" stream name) when
// a control line or a timestamped runtime line follows.
func cutExportPrefix(s string) (time.Time, string, bool) {
	t, rest, ok := cutTimestamp(s)
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		return time.Time{}, "", false
	}
	after := rest[1:]
	if rest[0] == ' ' {
		if sp := strings.IndexByte(after, ' '); sp > 0 && isStreamName(after[:sp]) {
			after = after[sp+1:]
		}
	}
	if isControl(after) {
		return t, after, true
	}
	if _, r, ok := cutTimestamp(after); ok && r != "" && r[0] == '\t' {
		return t, after, true
	}
	return time.Time{}, "", false
}

func isControl(s string) bool {
	return strings.HasPrefix(s, "START RequestId:") || strings.HasPrefix(s, "END RequestId:") ||
		strings.HasPrefix(s, "REPORT RequestId:")
}

// isStreamName reports whether s looks like a Lambda log stream name,
// "2023/02/10/[$LATEST]0123abcd...".
func isStreamName(s string) bool {
	if len(s) < 13 || s[4] != '/' || s[7] != '/' || s[10] != '/' || s[11] != '[' {
		return false
	}
	for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9} {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return strings.IndexByte(s[12:], ']') >= 0
}

// cutTimestamp parses an RFC 3339 timestamp at the start of s, ending at the
// first space or tab (or the end of s).
func cutTimestamp(s string) (time.Time, string, bool) {
	if len(s) < 20 || s[0] < '0' || s[0] > '9' || s[4] != '-' || s[10] != 'T' {
		return time.Time{}, "", false
	}
	end := strings.IndexAny(s, " \t")
	if end < 0 {
		end = len(s)
	}
	t, err := time.Parse(time.RFC3339Nano, s[:end])
	if err != nil {
		return time.Time{}, "", false
	}
	return t, s[end:], true
}

// validID checks a request id: not empty, no white space or control
// characters.
func validID(id string) error {
	if id == "" {
		return errors.New("empty request id")
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] == 0x7f {
			return fmt.Errorf("request id %q contains white space or a control character", id)
		}
	}
	return nil
}

func parseStart(l *Line, s string) error {
	rest, ok := strings.CutPrefix(s, "START RequestId: ")
	if !ok {
		return errors.New(`want "START RequestId: <id>"`)
	}
	id, version, _ := strings.Cut(rest, " ")
	if err := validID(id); err != nil {
		return err
	}
	if version != "" && !strings.HasPrefix(version, "Version: ") {
		return fmt.Errorf("unexpected %q after the request id", version)
	}
	l.RequestID = id
	return nil
}

func parseEnd(l *Line, s string) error {
	id, ok := strings.CutPrefix(s, "END RequestId: ")
	if !ok {
		return errors.New(`want "END RequestId: <id>"`)
	}
	if err := validID(id); err != nil {
		return err
	}
	l.RequestID = id
	return nil
}

func parseReport(l *Line, s string) error {
	fields := strings.Split(s, "\t")
	id, ok := strings.CutPrefix(fields[0], "REPORT RequestId: ")
	if !ok {
		return errors.New(`want "REPORT RequestId: <id>"`)
	}
	if err := validID(id); err != nil {
		return err
	}
	r := fusionsim.Report{RequestID: id}
	const (
		haveDuration = 1 << iota
		haveBilled
		haveMemory
		haveMaxMemory
	)
	have := 0
	for _, f := range fields[1:] {
		key, val, ok := strings.Cut(f, ": ")
		if !ok {
			if strings.TrimSpace(f) == "" {
				continue
			}
			return fmt.Errorf("field %q is not \"<name>: <value>\"", f)
		}
		var err error
		switch key {
		case "Duration":
			r.Duration, err = parseMs(val)
			have |= haveDuration
		case "Billed Duration":
			r.BilledMs, err = parseUnit(val, " ms")
			have |= haveBilled
		case "Memory Size":
			var v int64
			v, err = parseUnit(val, " MB")
			r.MemoryMB = int(v)
			have |= haveMemory
		case "Max Memory Used":
			var v int64
			v, err = parseUnit(val, " MB")
			r.MaxMemoryUsedMB = int(v)
			have |= haveMaxMemory
		case "Init Duration":
			r.InitDuration, err = parseMs(val)
		case "Status":
			r.Status, err = parseWord(val)
		case "Error Type":
			r.ErrorType, err = parseWord(val)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	for _, m := range []struct {
		bit  int
		name string
	}{{haveDuration, "Duration"}, {haveBilled, "Billed Duration"}, {haveMemory, "Memory Size"}, {haveMaxMemory, "Max Memory Used"}} {
		if have&m.bit == 0 {
			return fmt.Errorf("no %s field", m.name)
		}
	}
	if r.ErrorType != "" && r.Status == "" {
		return errors.New("Error Type without Status")
	}
	l.RequestID, l.Report = id, r
	return nil
}

// maxMs bounds parsed durations so that they fit a time.Duration (about 106
// days).
const maxMs = 9e12

// parseMs parses "48.73 ms" into a duration, rounded to the nanosecond.
func parseMs(val string) (time.Duration, error) {
	num, ok := strings.CutSuffix(val, " ms")
	if !ok {
		return 0, fmt.Errorf("%q: want \"<number> ms\"", val)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || !(f >= 0 && f < maxMs) || !isDecimal(num) {
		return 0, fmt.Errorf("%q: not a non-negative decimal number of ms", val)
	}
	return time.Duration(math.Round(f * 1e6)), nil
}

// isDecimal accepts digits with at most one '.', the form Lambda prints
// (ParseFloat also takes "Inf", "0x1p3", "1e3", "_").
func isDecimal(s string) bool {
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return s != "" && s[len(s)-1] != '.'
}

// parseUnit parses "<integer><unit>".
func parseUnit(val, unit string) (int64, error) {
	num, ok := strings.CutSuffix(val, unit)
	if !ok {
		return 0, fmt.Errorf("%q: want \"<integer>%s\"", val, unit)
	}
	v, err := strconv.ParseInt(num, 10, 32)
	if err != nil || v < 0 || !isDecimal(num) || strings.Contains(num, ".") {
		return 0, fmt.Errorf("%q: not a non-negative integer", val)
	}
	return v, nil
}

func parseWord(val string) (string, error) {
	if val == "" || strings.ContainsAny(val, " \t\r\n") {
		return "", fmt.Errorf("%q: want one word", val)
	}
	return val, nil
}

// parsePrefixed parses "<time>\t<id>\t<LEVEL>\t<message>" and
// "<time>\t<id>\t<message>"; anything else is Foreign.
func parsePrefixed(l *Line, s string) error {
	t, rest, ok := cutTimestamp(s)
	if !ok || rest == "" || rest[0] != '\t' {
		return nil // Foreign, without a request id
	}
	id, msg, ok := strings.Cut(rest[1:], "\t")
	if !ok || validID(id) != nil {
		return nil
	}
	l.Time, l.RequestID, l.Text = t, id, msg
	level, body, ok := strings.Cut(msg, "\t")
	if !ok || !isLevel(level) {
		return nil // a runtime message such as "Task timed out after 3.00 seconds"
	}
	l.Level, l.Text = level, body
	payload, ok := strings.CutPrefix(body, fusionsim.MessageMarker)
	if !ok {
		return nil
	}
	l.Kind = Message
	if !parseCanonical(l, payload) {
		if err := parseMessage(l, payload); err != nil {
			return err
		}
	}
	if l.Msg.Type == fusionsim.MsgInit {
		// The fusion group is a setup name: it names trace files.
		if err := fusionsim.ValidateSetupName(l.Init.FusionGroup); err != nil {
			return fmt.Errorf("FSMSG init fusionGroup: %w", err)
		}
	}
	return nil
}

func isLevel(s string) bool {
	switch s {
	case "INFO", "WARN", "ERROR", "DEBUG", "TRACE", "FATAL":
		return true
	}
	return false
}

// parseMessage decodes the JSON of an FSMSG line and its content by type.
// Unknown types are kept with their raw content.
func parseMessage(l *Line, payload string) error {
	// Every field but sourceFunction must be there (encoding/json would
	// leave a missing one at its zero value).
	var raw struct {
		TraceID        *string         `json:"traceId"`
		Time           *int64          `json:"time"`
		SourceFunction string          `json:"sourceFunction"`
		Type           *string         `json:"type"`
		Content        json.RawMessage `json:"content"`
	}
	if err := decodeStrict(payload, &raw); err != nil {
		return fmt.Errorf("FSMSG JSON: %w", err)
	}
	switch {
	case raw.TraceID == nil || *raw.TraceID == "":
		return errors.New("FSMSG without traceId")
	case raw.Type == nil || *raw.Type == "":
		return errors.New("FSMSG without type")
	case raw.Time == nil:
		return errors.New("FSMSG without time")
	case len(raw.Content) == 0 || string(raw.Content) == "null":
		return errors.New("FSMSG without content")
	}
	m := fusionsim.Message{TraceID: *raw.TraceID, Time: *raw.Time, SourceFunction: raw.SourceFunction, Type: *raw.Type, Content: raw.Content}
	if m.Time < 0 || m.Time > maxUnixMs {
		return fmt.Errorf("FSMSG time %d ms is outside the years 1970..9999", m.Time)
	}
	var err error
	switch m.Type {
	case fusionsim.MsgInit:
		var c initJSON
		err = decodeContent(m.Content, &c)
		if err == nil && c.FusionGroup.Name == "" {
			err = errors.New("init without fusionGroup")
		}
		l.Init = fusionsim.InitContent{IsRootInvocation: c.IsRootInvocation, IsColdStart: c.IsColdStart,
			FusionGroup: c.FusionGroup.Name, MemoryAvail: string(c.MemoryAvail)}
	case fusionsim.MsgCall:
		err = decodeContent(m.Content, &l.Call)
		if err == nil && (l.Call.Caller == "" || l.Call.Called == "") {
			err = errors.New("call without caller or called task")
		}
	case fusionsim.MsgTimeBase, fusionsim.MsgColdstartToEvent, fusionsim.MsgEventStartToInvokeLocal, fusionsim.MsgOverheadEvent:
		var c struct {
			Ms *float64 `json:"ms"`
		}
		err = decodeContent(m.Content, &c)
		if err == nil && c.Ms == nil {
			err = errors.New("no ms field")
		}
		if err == nil {
			// The prototype's figures are integers (Date.now differences);
			// round anything else to the millisecond.
			if !(math.Abs(*c.Ms) < maxMs) {
				err = fmt.Errorf("ms %v out of range", *c.Ms)
			} else {
				l.Ms = int64(math.Round(*c.Ms))
			}
		}
	}
	if err != nil {
		return fmt.Errorf("FSMSG %s content: %w", m.Type, err)
	}
	l.Msg = m
	return nil
}

// maxUnixMs is 9999-12-31T23:59:59.999Z in ms.
const maxUnixMs = 253402300799999

// decodeStrict decodes one JSON value; trailing data is an error.
func decodeStrict(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// initJSON is the init content as the prototype may have written it: the
// fusion group as a JSON number (the optimizer's setup names) or a string,
// the memory as a string (the Lambda environment variable) or a number.
type initJSON struct {
	IsRootInvocation bool                `json:"isRootInvocation"`
	IsColdStart      bool                `json:"isColdStart"`
	FusionGroup      fusionsim.TraceName `json:"fusionGroup"`
	MemoryAvail      flexString          `json:"memoryAvail"`
}

// flexString accepts a JSON string or number.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var n fusionsim.TraceName
	if err := n.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("%s is neither a string nor a number", b)
	}
	*f = flexString(n.Name)
	return nil
}

func decodeContent(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return errors.New("content is not a JSON object")
	}
	return json.Unmarshal(raw, v)
}
