package trace

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/internal/pool"
	"github.com/fusionsim/fusionsim/internal/strtab"
)

// Errors of incomplete invocations, wrapped in Problem.Err.
var (
	// ErrNoReport: the invocation's log has no REPORT line (the log was cut
	// off, or the invocation had not ended when the logs were read).
	ErrNoReport = errors.New("invocation without REPORT line")
	// ErrNoInit: the invocation wrote no FSMSG init message (not a fusion
	// handler, or its first lines are missing).
	ErrNoInit = errors.New("invocation without FSMSG init message")
	// ErrInconsistent: a line contradicts earlier lines of its invocation
	// (another trace id, a second REPORT, init or time-base).
	ErrInconsistent = errors.New("inconsistent invocation")
)

// DefaultMaxProblems is how many problems an Extraction keeps when
// Options.MaxProblems is 0; all of them are counted.
const DefaultMaxProblems = 1000

// Options configure an extraction.
type Options struct {
	// GroupByFunction reproduces the prototype's extractor, which grouped log
	// lines by (traceId, function): invocations of one request in the same
	// function collapse into one record whose calls are those of all of
	// them (in the order they returned) and whose other fields, billed
	// duration included, are those of the invocation that started first.
	// Use it only to compare with the published traces; by default every
	// Lambda invocation is its own record.
	GroupByFunction bool
	// MaxProblems caps the problems kept in Extraction.Problems
	// (0: DefaultMaxProblems); every problem is counted in its counters.
	MaxProblems int
	// RootTraceIDs fills Extraction.RootTraceIDs, which joins a client's
	// responses (their request ids) to the traces (per-kind summaries).
	RootTraceIDs bool
}

// Problem is a log line or an invocation the extractor could not use.
type Problem struct {
	// Source is where the line came from: a file path, or the function name
	// of lines read from a platform.
	Source string
	// Line is the 1-based line number in Source (for an incomplete
	// invocation, its first line).
	Line int
	// RequestID is the invocation's request id, when known.
	RequestID string
	// Err says what is wrong; it wraps ErrMalformed, ErrNoReport, ErrNoInit
	// or ErrInconsistent.
	Err error
}

func (p Problem) Error() string {
	s := p.Source + ":" + strconv.Itoa(p.Line) + ": "
	if p.RequestID != "" {
		s += "request " + p.RequestID + ": "
	}
	return s + p.Err.Error()
}

func (p Problem) Unwrap() error { return p.Err }

// Extraction is the result of extracting traces from logs.
type Extraction struct {
	// Traces are the records per setup (fusionGroup), each sorted by
	// (startTimestamp, traceId, currentFunction, request id).
	Traces Traces
	// Problems are the first Options.MaxProblems problems, in input order.
	Problems []Problem
	// Lines counts every line read; Foreign the lines that are neither
	// control nor FSMSG lines (application output, runtime messages).
	Lines, Foreign int
	// Malformed counts lines that failed to parse; Inconsistent lines that
	// contradict their invocation; Incomplete invocations without REPORT or
	// init. None of them is in Traces.
	Malformed, Inconsistent, Incomplete int
	// Partial counts invocations that began before the first line read:
	// neither START nor init, only later lines (a time window of logs that
	// starts while an invocation runs). They are not in Traces and, being
	// expected at a window's edge, not problems either.
	Partial int
	// Invocations counts the complete Lambda invocations extracted (with
	// GroupByFunction there may be fewer records).
	Invocations int
	// RootTraceIDs maps the Lambda request id of every root invocation to
	// its trace id (with Options.RootTraceIDs; nil otherwise). A client's
	// response names the request id of the request's root invocation.
	RootTraceIDs map[string]string
}

// Err summarizes the problems as one error (nil when there are none).
func (e *Extraction) Err() error {
	n := e.Malformed + e.Inconsistent + e.Incomplete
	if n == 0 {
		return nil
	}
	msg := fmt.Sprintf("%d problem(s) in the logs: %d malformed line(s), %d inconsistent line(s), %d incomplete invocation(s)",
		n, e.Malformed, e.Inconsistent, e.Incomplete)
	if len(e.Problems) > 0 {
		msg += "; first: " + e.Problems[0].Error()
	}
	return errors.New(msg)
}

// Extract extracts the traces of lines as a platform returns them
// (fusionsim.Platform.Logs): LogLine.Function names the log stream, and the
// line numbers of problems count within each function.
func Extract(lines []fusionsim.LogLine, opt Options) *Extraction {
	x := NewExtractor(opt)
	for _, l := range lines {
		x.AddLogLine(l)
	}
	return x.Finish()
}

// Collect reads the lines of p written in [from, to) (to is exclusive: pass a
// time after the last line) and extracts their traces. Its error is the
// platform's or the context's, not the logs' problems (see Extraction.Err).
func Collect(ctx context.Context, p fusionsim.Platform, from, to time.Time, opt Options) (*Extraction, error) {
	x := NewExtractor(opt)
	err := p.Logs(ctx, from, to, func(l fusionsim.LogLine) error {
		x.AddLogLine(l)
		if x.ext.Lines&1023 == 0 {
			return ctx.Err()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading logs: %w", err)
	}
	return x.Finish(), nil
}

// Extractor extracts traces from log lines fed to it one at a time, so that
// logs need not be held in memory. Lines of one invocation must come in the
// order they were written; invocations may interleave.
type Extractor struct {
	opt     Options
	invs    strtab.Table[*invocation] // by request id; invocation.same chains other sources
	order   []orderEntry              // the invocations in the order of their first lines
	lineNos map[string]*int
	ext     Extraction

	// Shortcuts for records whose strings are the very strings of earlier
	// records (the emulator's are): recent invocations by the address of
	// their request id's bytes (direct-mapped), and the line counters of
	// recent sources.
	recentI [1024]*invocation
	recent  [64]sourceCount

	// Streaming (Stream): the function records go to, the invocations in
	// order that have completed since order was last compacted, pooled
	// invocations, and the calls of records to come.
	stream  func(*KeyedRecord)
	k       KeyedRecord // the record being streamed
	gone    int
	free    []*invocation
	callBuf []fusionsim.Call
}

// invocation is what the extractor has gathered of one Lambda invocation.
type invocation struct {
	source    string
	function  string // log stream's function name
	requestID string
	firstLine int
	sawStart  bool
	traceID   string
	haveInit  bool
	init      fusionsim.InitContent
	task      string // sourceFunction of the messages
	startMs   int64
	lastMs    int64
	calls     []fusionsim.Call
	callMs    []int64 // the time of each call line
	timeBase  int64
	haveBase  bool
	report    *fusionsim.Report
	endTime   time.Time
	rep       fusionsim.Report // report points here
	same      *invocation      // the next invocation with the same request id (another source)
	gen       uint32           // counts its uses (invocations are pooled when streamed)
}

// sourceCount is a line counter by the address of its source's name.
type sourceCount struct {
	p   *byte
	n   int
	cnt *int
}

// orderEntry is an invocation in Extractor.order: it has gone (streamed)
// once the invocation's gen has moved on.
type orderEntry struct {
	inv *invocation
	gen uint32
}

func (e orderEntry) live() bool { return e.inv.gen == e.gen }

// NewExtractor returns an empty extractor.
func NewExtractor(opt Options) *Extractor {
	if opt.MaxProblems <= 0 {
		opt.MaxProblems = DefaultMaxProblems
	}
	return &Extractor{opt: opt, lineNos: make(map[string]*int)}
}

// AddLogLine adds a line read from a platform; its source is its function.
func (x *Extractor) AddLogLine(l fusionsim.LogLine) {
	x.Add(l.Function, l.Function, x.lineNo(l.Function), l.Time, l.Text)
}

// AddReader adds every line of r, a log file of one function (a CloudWatch
// export or a file the emulator's DirSink wrote); source names it in
// problems. The function name is the file's base name without ".gz",
// ".log" or ".txt"; gzip-compressed input is detected by its content.
func (x *Extractor) AddReader(r io.Reader, source string) error {
	function := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(filepath.Base(source), ".gz"), ".log"), ".txt")
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(2); IsGzip(head) {
		// A compressed log (logs/<function>.log.gz of a results directory).
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: %w", source, err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		x.Add(source, function, n, time.Time{}, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", source, n+1, err)
	}
	return nil
}

func (x *Extractor) problem(source string, line int, id string, err error) {
	if len(x.ext.Problems) < x.opt.MaxProblems {
		x.ext.Problems = append(x.ext.Problems, Problem{Source: source, Line: line, RequestID: id, Err: err})
	}
}

func (x *Extractor) inconsistent(inv *invocation, line int, format string, args ...any) {
	x.ext.Inconsistent++
	x.problem(inv.source, line, inv.requestID, fmt.Errorf("%w: %s", ErrInconsistent, fmt.Sprintf(format, args...)))
}

// Add adds one line: source and line locate it for problems, function is
// the name of the log stream's function, at the time the platform gives for
// the line (zero if unknown).
func (x *Extractor) Add(source, function string, line int, at time.Time, text string) {
	x.ext.Lines++
	l, err := ParseLine(text)
	if err != nil {
		x.ext.Malformed++
		x.problem(source, line, "", err)
		return
	}
	if l.Kind == Foreign {
		x.ext.Foreign++
		return
	}
	if l.Time.IsZero() {
		l.Time = at
	}
	x.add(source, function, line, &l)
}

// lineNo counts a line of source and returns its number.
func (x *Extractor) lineNo(source string) int {
	p := unsafe.StringData(source)
	c := &x.recent[strtab.Slot(source, len(x.recent))]
	if c.p == p && c.n == len(source) && p != nil {
		*c.cnt++
		return *c.cnt
	}
	n := x.lineNos[source]
	if n == nil {
		n = new(int)
		x.lineNos[source] = n
	}
	*c = sourceCount{p, len(source), n}
	*n++
	return *n
}

// AddRecord adds one log record (the emulator's typed form of a line): the
// same as adding its line (LogRecord.AppendLine) with Add, source and
// function being the record's function, without formatting or parsing text.
func (x *Extractor) AddRecord(r *fusionsim.LogRecord) {
	n := x.lineNo(r.Function)
	var kind Kind
	switch r.Kind {
	case fusionsim.LogStart:
		kind = Start
	case fusionsim.LogEnd:
		kind = End
	case fusionsim.LogReport:
		kind = Report
	case fusionsim.LogMessage:
		kind = Message
	default:
		if r.Kind == fusionsim.LogInfo && strings.HasPrefix(r.Text, fusionsim.MessageMarker) {
			// Task output that reads like an FSMSG line: as the text parser
			// sees it.
			x.Add(r.Function, r.Function, n, r.At(), string(r.AppendLine(nil)))
			return
		}
		x.ext.Lines++
		x.ext.Foreign++
		return
	}
	x.ext.Lines++
	inv := x.lineInvocation(r.Function, r.Function, n, r.RequestID, kind)
	if inv == nil {
		return
	}
	switch kind {
	case Start:
		inv.sawStart = true
	case End:
		inv.endTime = time.Unix(0, r.Time)
	case Report:
		inv.rep = r.Report
		// As printed and parsed: to the hundredth of a ms.
		inv.rep.Duration, inv.rep.InitDuration = hundredths(r.Report.Duration), hundredths(r.Report.InitDuration)
		x.reported(inv)
	case Message:
		x.addMessage(inv, n, r.TraceID, r.MessageMs(), r.Source, r.Type, &r.Init, &r.Call, r.Ms)
	}
}

// hundredths rounds d half up to 10 µs, as a REPORT line prints it.
func hundredths(d time.Duration) time.Duration { return (d + 5000) / 10000 * 10000 }

// invocation returns the invocation of (source, requestID), new at its
// first line.
func (x *Extractor) invocation(source, function string, line int, requestID string) *invocation {
	p := unsafe.StringData(requestID)
	slot := &x.recentI[strtab.Slot(requestID, len(x.recentI))]
	if inv := *slot; inv != nil && unsafe.StringData(inv.requestID) == p && len(inv.requestID) == len(requestID) && inv.source == source {
		return inv
	}
	first, _ := x.invs.Get(requestID)
	for inv := first; inv != nil; inv = inv.same {
		if inv.source == source {
			if p != nil {
				*slot = inv
			}
			return inv
		}
	}
	inv := x.newInvocation()
	inv.source, inv.function, inv.requestID, inv.firstLine = source, function, requestID, line
	inv.same = first
	x.invs.Set(requestID, inv)
	if p != nil {
		*slot = inv
	}
	x.order = append(x.order, orderEntry{inv, inv.gen})
	return inv
}

// forget removes inv from the invocations by request id.
func (x *Extractor) forget(inv *invocation) {
	if p := unsafe.StringData(inv.requestID); p != nil {
		if slot := &x.recentI[strtab.Slot(inv.requestID, len(x.recentI))]; *slot == inv {
			*slot = nil
		}
	}
	p, _ := x.invs.Get(inv.requestID)
	if p == inv {
		if inv.same == nil {
			x.invs.Delete(inv.requestID)
		} else {
			x.invs.Set(inv.requestID, inv.same)
		}
		return
	}
	for ; p != nil; p = p.same {
		if p.same == inv {
			p.same = inv.same
			return
		}
	}
}

// add adds a parsed control or FSMSG line.
func (x *Extractor) add(source, function string, line int, l *Line) {
	inv := x.lineInvocation(source, function, line, l.RequestID, l.Kind)
	if inv == nil {
		return
	}
	switch l.Kind {
	case Start:
		inv.sawStart = true
	case End:
		inv.endTime = l.Time
	case Report:
		inv.rep = l.Report
		x.reported(inv)
	case Message:
		m := &l.Msg
		x.addMessage(inv, line, m.TraceID, m.Time, m.SourceFunction, m.Type, &l.Init, &l.Call, l.Ms)
	}
}

// lineInvocation returns the invocation of a control or FSMSG line of
// kind (add, AddRecord), or nil, the line being inconsistent, when it
// comes after the invocation's REPORT line (only an END line may).
func (x *Extractor) lineInvocation(source, function string, line int, requestID string, kind Kind) *invocation {
	inv := x.invocation(source, function, line, requestID)
	if inv.report != nil && kind != End {
		x.inconsistent(inv, line, "%s line after the REPORT line", kind)
		return nil
	}
	return inv
}

// reported marks inv as reported (its REPORT figures are in inv.rep) and
// streams its record if its init message came (Stream).
func (x *Extractor) reported(inv *invocation) {
	inv.report = &inv.rep
	if x.stream != nil && inv.haveInit {
		x.complete(inv)
	}
}

func (x *Extractor) addMessage(inv *invocation, line int, traceID string, timeMs int64, source, typ string, init *fusionsim.InitContent, call *fusionsim.Call, ms int64) {
	if inv.traceID == "" {
		inv.traceID = traceID
	} else if traceID != inv.traceID {
		x.inconsistent(inv, line, "trace id %q after %q", traceID, inv.traceID)
		return
	}
	if inv.task == "" {
		inv.task = source
	}
	switch typ {
	case fusionsim.MsgInit:
		if inv.haveInit {
			x.inconsistent(inv, line, "second init message")
			return
		}
		inv.haveInit, inv.init, inv.startMs = true, *init, timeMs
	case fusionsim.MsgCall:
		inv.calls = append(inv.calls, *call)
		inv.callMs = append(inv.callMs, timeMs)
	case fusionsim.MsgTimeBase:
		if inv.haveBase {
			x.inconsistent(inv, line, "second time-base message")
			return
		}
		inv.haveBase, inv.timeBase = true, ms
	}
	if timeMs > inv.lastMs {
		inv.lastMs = timeMs
	}
}

// Stream makes the extractor hand every invocation's record to fn as soon
// as the invocation is complete (its REPORT line is added after its init
// message) instead of holding it until Finish, so that a long run's
// records need not be held. The record (valid ones only: invalid ones
// are counted and reported as Finish does) is valid only during the call
// (copy it to keep it); its Calls are fn's to keep. Finish then reports the invocations never completed, and its
// Traces are empty. Not with Options.GroupByFunction, whose records merge
// invocations (Stream returns an error).
func (x *Extractor) Stream(fn func(*KeyedRecord)) error {
	if x.opt.GroupByFunction {
		return errors.New("trace: Extractor.Stream with GroupByFunction: records of a (trace, function) group need all of its invocations")
	}
	x.stream = fn
	return nil
}

// complete streams the record of a complete invocation and forgets it.
func (x *Extractor) complete(inv *invocation) {
	k := &x.k
	k.RequestID = inv.requestID
	if x.validRecord(inv, &k.Record) {
		x.ext.Invocations++
		// The calls move to a slab shared by many records, which fn may
		// keep: one allocation for many records, not one each.
		if n := len(k.Calls); n > 0 {
			if cap(x.callBuf)-len(x.callBuf) < n {
				// Slabs grow from small ones: a short extraction (a
				// sweep's setup) allocates little.
				x.callBuf = make([]fusionsim.Call, 0, max(min(2*cap(x.callBuf), 4096), 64, n))
			}
			start := len(x.callBuf)
			x.callBuf = append(x.callBuf, k.Calls...)
			k.Calls = x.callBuf[start : start+n : start+n]
		}
		x.noteRoot(k)
		x.stream(k)
	}
	*k = KeyedRecord{}
	x.forget(inv)
	x.recycle(inv)
	x.gone++
	if x.gone > 1024 && x.gone > len(x.order)/2 {
		open := x.order[:0]
		for _, e := range x.order {
			if e.live() {
				open = append(open, e)
			}
		}
		clear(x.order[len(open):])
		x.order, x.gone = open, 0
	}
}

func (x *Extractor) newInvocation() *invocation { return pool.Take(&x.free) }

// recycle pools a streamed invocation (its calls' array is reused).
func (x *Extractor) recycle(inv *invocation) {
	calls, callMs, gen := inv.calls[:0], inv.callMs[:0], inv.gen+1
	*inv = invocation{calls: calls, callMs: callMs, gen: gen}
	x.free = append(x.free, inv)
}

// Finish ends the extraction: it builds the records of every complete
// invocation and reports the incomplete ones. The Extractor must not be used
// afterwards.
func (x *Extractor) Finish() *Extraction {
	var done []*invocation
	for _, e := range x.order {
		if !e.live() {
			continue
		}
		inv := e.inv
		switch {
		case !inv.sawStart && !inv.haveInit:
			x.ext.Partial++
		case inv.report == nil:
			x.ext.Incomplete++
			x.problem(inv.source, inv.firstLine, inv.requestID, ErrNoReport)
		case !inv.haveInit:
			x.ext.Incomplete++
			x.problem(inv.source, inv.firstLine, inv.requestID, ErrNoInit)
		default:
			done = append(done, inv)
		}
	}
	var keyed []KeyedRecord
	done, keyed = x.valid(done)
	x.ext.Invocations += len(done)
	if x.opt.GroupByFunction {
		done = groupByFunction(done)
		keyed = keyed[:0]
		for _, inv := range done {
			keyed = append(keyed, KeyedRecord{inv.record(), inv.requestID})
		}
	}
	if x.opt.RootTraceIDs {
		if x.ext.RootTraceIDs == nil {
			x.ext.RootTraceIDs = map[string]string{}
		}
		for i := range keyed {
			x.noteRoot(&keyed[i])
		}
	}
	bySetup := make(map[string][]KeyedRecord)
	for _, k := range keyed {
		bySetup[k.FusionGroup.Name] = append(bySetup[k.FusionGroup.Name], k)
	}
	x.ext.Traces = make(Traces, len(bySetup))
	for setup, ks := range bySetup {
		SortKeyed(ks)
		recs := make([]Record, len(ks))
		for i, k := range ks {
			recs[i] = k.Record
		}
		x.ext.Traces[setup] = recs
	}
	x.invs, x.order = strtab.Table[*invocation]{}, nil
	return &x.ext
}

// noteRoot maps a root invocation's request id to its trace id
// (Options.RootTraceIDs), the first one's where an id repeats.
func (x *Extractor) noteRoot(k *KeyedRecord) {
	if !x.opt.RootTraceIDs || !k.IsRootInvocation {
		return
	}
	if x.ext.RootTraceIDs == nil {
		x.ext.RootTraceIDs = map[string]string{}
	}
	if _, dup := x.ext.RootTraceIDs[k.RequestID]; !dup {
		x.ext.RootTraceIDs[k.RequestID] = k.TraceID
	}
}

// valid builds the records of complete invocations and keeps those that
// make valid records (validRecord).
func (x *Extractor) valid(invs []*invocation) ([]*invocation, []KeyedRecord) {
	ok := invs[:0]
	keyed := make([]KeyedRecord, 0, len(invs))
	for _, inv := range invs {
		var r Record
		if !x.validRecord(inv, &r) {
			continue
		}
		ok = append(ok, inv)
		keyed = append(keyed, KeyedRecord{r, inv.requestID})
	}
	return ok, keyed
}

// validRecord builds the record of a complete invocation into r and
// reports whether it is valid (ValidateRecord: what a trace file may
// hold); an invalid one (e.g. of a REPORT line of 0 MB, a negative
// time-base) is counted as inconsistent.
func (x *Extractor) validRecord(inv *invocation, r *Record) bool {
	inv.fill(r)
	if err := ValidateRecord(r); err != nil {
		x.ext.Inconsistent++
		x.problem(inv.source, inv.firstLine, inv.requestID, fmt.Errorf("%w: its record is invalid: %v", ErrInconsistent, err))
		return false
	}
	return true
}

// KeyedRecord is a record with the request id of its invocation, the last
// part of the records' order.
type KeyedRecord struct {
	Record
	RequestID string
}

// SortKeyed sorts records the way an Extraction's are: by
// (startTimestamp, traceId, currentFunction, request id), ties kept in
// their order. It sorts indices and then moves each record once: records
// are large to swap.
func SortKeyed(ks []KeyedRecord) {
	if len(ks) < 2 {
		return
	}
	permute(ks, sortedIndices(len(ks), func(a, b int32) int { return compareKeyed(&ks[a], &ks[b]) }))
}

// SortByKey sorts records and their request ids (ids[i] is recs[i]'s) as
// SortKeyed sorts keyed records, for a caller that keeps the records
// without their keys.
func SortByKey(recs []Record, ids []string) {
	if len(recs) < 2 {
		return
	}
	idx := sortedIndices(len(recs), func(a, b int32) int {
		return compareKeys(&recs[a], ids[a], &recs[b], ids[b])
	})
	permute(recs, idx)
	permute(ids, idx)
}

// sortedIndices returns the indices 0, ..., n-1 stably sorted by cmp.
func sortedIndices(n int, cmp func(a, b int32) int) []int32 {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, cmp)
	return idx
}

// permute makes s[i] the element at s[idx[i]], moving each element once:
// it follows each cycle of the permutation once, marking the indices it
// has moved (complemented), and leaves idx as it was.
func permute[T any](s []T, idx []int32) {
	for i := range idx {
		if idx[i] < 0 {
			continue
		}
		tmp := s[i]
		j := i
		for {
			k := int(idx[j])
			idx[j] = ^idx[j]
			if k == i {
				s[j] = tmp
				break
			}
			s[j] = s[k]
			j = k
		}
	}
	for i := range idx {
		idx[i] = ^idx[i]
	}
}

// record builds the invocation record.
func (inv *invocation) record() Record {
	var r Record
	inv.fill(&r)
	return r
}

// fill sets *r to inv's record, in place (a record is large to copy).
func (inv *invocation) fill(r *Record) {
	fn := inv.task
	if fn == "" {
		if id, err := fusionsim.ParseFunctionName(inv.function); err == nil {
			fn = id.Task
		}
	}
	*r = Record{
		TraceID:          inv.traceID,
		FusionGroup:      fusionsim.NewTraceName(inv.init.FusionGroup),
		Source:           SourceOf(inv.traceID),
		CurrentFunction:  fn,
		CurrentTask:      fn,
		BilledDuration:   inv.report.BilledMs,
		MemoryAvail:      inv.init.MemoryAvail,
		MaxMemoryUsed:    inv.report.MaxMemoryUsedMB,
		IsRootInvocation: inv.init.IsRootInvocation,
		IsColdStart:      inv.init.IsColdStart,
		StartTimestamp:   inv.startMs,
		EndTimestamp:     inv.lastMs,
		InternalDuration: -1,
		Calls:            inv.calls,
	}
	if r.MemoryAvail == "" {
		r.MemoryAvail = strconv.Itoa(inv.report.MemoryMB)
	}
	if len(inv.calls) > 0 {
		r.CurrentTask = inv.calls[0].Caller
	}
	if r.Calls == nil {
		r.Calls = []fusionsim.Call{}
	}
	if inv.haveBase {
		r.InternalDuration = inv.timeBase
	} else if !inv.endTime.IsZero() && inv.endTime.UnixMilli() > r.EndTimestamp {
		// Killed before the time-base: the END line marks the end.
		r.EndTimestamp = inv.endTime.UnixMilli()
	}
}

// groupByFunction merges the invocations of one (trace id, function) into
// the one that started first, the way the prototype's extractor did.
func groupByFunction(invs []*invocation) []*invocation {
	type key struct{ trace, task string }
	groups := make(map[key][]*invocation)
	var keys []key
	for _, inv := range invs {
		k := key{inv.traceID, inv.task}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], inv)
	}
	out := make([]*invocation, 0, len(keys))
	for _, k := range keys {
		g := groups[k]
		if len(g) == 1 {
			out = append(out, g[0])
			continue
		}
		slices.SortStableFunc(g, func(a, b *invocation) int { return cmp.Compare(a.startMs, b.startMs) })
		merged := *g[0]
		type call struct {
			c  fusionsim.Call
			ms int64
		}
		var calls []call
		for _, inv := range g {
			for i, c := range inv.calls {
				calls = append(calls, call{c, inv.callMs[i]})
			}
			merged.lastMs = max(merged.lastMs, inv.lastMs)
		}
		slices.SortStableFunc(calls, func(a, b call) int { return cmp.Compare(a.ms, b.ms) })
		merged.calls, merged.callMs = make([]fusionsim.Call, len(calls)), nil
		for i, c := range calls {
			merged.calls[i] = c.c
		}
		out = append(out, &merged)
	}
	return out
}

// SourceOf returns the entry task of a request from its trace id
// "<traceName>-<entryTask>-<MB>-<hex>": the second part ("" if there is
// none).
func SourceOf(traceID string) string {
	_, rest, ok := strings.Cut(traceID, "-")
	if !ok {
		return ""
	}
	task, _, _ := strings.Cut(rest, "-")
	return task
}
