package results

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/internal/gzref"
	"github.com/fusionsim/fusionsim/internal/strtab"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
)

// Files and directories of a results directory.
const (
	ManifestFile = "manifest.json"
	SummaryFile  = "summary.csv" // exactly the columns of Header
	// SummaryFullFile adds the extra figures (FullHeader).
	SummaryFullFile = "summary-full.csv"
	TracesDir       = "traces"    // <setup>.json in the prototype's layout
	ResponsesDir    = "responses" // <setup>.csv, what the client saw
	LogsDir         = "logs"      // <function>.log or <function>.log.gz
	FiguresDir      = "figures"   // <figure>.pdf, .svg, .png
)

// FormatVersion is the version of the results directory layout (2: the
// manifest's format names fusionsim, complete and INCOMPLETE mark
// interrupted runs).
const FormatVersion = 2

// Manifest describes a run: what was run, how, and in what order. It holds
// no wall-clock time, so that the same flags and seed give the same bytes.
type Manifest struct {
	// Format names the layout and its version, "fusionsim-results/2"
	// (CurrentFormat; Write sets it). Only a directory whose manifest names
	// fusionsim is ever replaced.
	Format Format `json:"format"`
	// Complete is false for a run that was interrupted or stopped by an
	// error (Run.Incomplete); the directory then also holds an INCOMPLETE
	// file. Write sets it.
	Complete bool `json:"complete"`
	// Version is the fusionsim version that wrote it (Write fills in the
	// module version from the build info when empty).
	Version string `json:"version"`
	// Command is the command line's subcommand, e.g. "simulate run".
	Command string `json:"command,omitempty"`
	// Workload is the application's name.
	Workload string `json:"workload,omitempty"`
	// Seed seeds the run's one random source.
	Seed uint64 `json:"seed"`
	// Flags are the resolved flags, by name (defaults included).
	Flags map[string]string `json:"flags,omitempty"`
	// Profile is the platform profile the run used.
	Profile *model.Profile `json:"profile,omitempty"`
	// GroupByFunction says the traces were extracted with the prototype's
	// (traceId, function) grouping.
	GroupByFunction bool `json:"groupByFunction,omitempty"`
	// Setups lists the setups in order (the rows of summary.csv); Write
	// fills it from Run.Setups.
	Setups []SetupInfo `json:"setups"`
	// Reason is the planner's last word, e.g. why an optimizer stopped.
	Reason string `json:"reason,omitempty"`
	// Quantiles names how the summary's quantiles were computed (Write sets
	// it): exact order statistics, in memory or from values spilled to
	// disk (QuantileMethod).
	Quantiles string `json:"quantiles,omitempty"`
	// Extra holds what other tools want to keep (optimizer state, ...).
	Extra map[string]json.RawMessage `json:"extra,omitempty"`
}

// SetupInfo is one setup of a run in the manifest.
type SetupInfo struct {
	Name string `json:"name"`
	// Route is the entry route the load was sent to, e.g. "SYNC-I-128".
	Route string `json:"route,omitempty"`
	// Reason is why the setup was chosen (the optimizer's decision).
	Reason      string `json:"reason,omitempty"`
	Requests    int    `json:"requests"`
	Invocations int    `json:"invocations"`
	// LogProblems counts log lines and invocations the extractor could not
	// use.
	LogProblems int `json:"logProblems,omitempty"`
	// DroppedIterations counts the iterations of a scenario load that found
	// no free virtual user (never sent).
	DroppedIterations int `json:"droppedIterations,omitempty"`
}

// SetupRun is one setup of a run (an iteration of an optimizer run).
type SetupRun struct {
	Name string
	// Setup, when set, goes into the configuration metadata (unless
	// Run.Configs is given).
	Setup  *fusionsim.Setup
	Route  string
	Reason string
	// Records are the setup's traces; Responses what the client saw.
	Records   []trace.Record
	Responses []fusionsim.Response
	// Row is the summary row; nil: from Stats with Run.Pricing.
	Row *Row
	// Stats are the setup's statistics (its figures' data); nil: from
	// Records and Responses. A setup whose traces and responses went to
	// the stage while it ran (Stage.Setup) has only Stats and Row.
	Stats       *SetupStats
	LogProblems int
	// DroppedIterations counts the scenario iterations that were dropped.
	DroppedIterations int
	// Kinds are the per-kind rows of a load with kinds of request; nil:
	// from Records and Responses (SummarizeKinds).
	Kinds []KindRow
}

// Run is everything a results directory holds.
type Run struct {
	Manifest Manifest
	// Setups in order: the rows of summary.csv.
	Setups []SetupRun
	// Configs is the configuration metadata to write (it may hold setups
	// that did not run); nil: the Setup of every SetupRun that has one.
	Configs fusionsim.Configs
	// Pricing summarizes setups without a Row (model.Default().Pricing if
	// zero).
	Pricing model.Pricing
	// Logs, when set, streams the log lines to write into logs/ (the shape
	// of fusionsim.Platform.Logs with its context and time range bound).
	// Lines written through Stage.LogFiles are kept as well.
	Logs func(yield func(fusionsim.LogLine) error) error
	// GzipTraces writes traces/<setup>.json.gz instead of .json.
	GzipTraces bool
	// NoFigures skips drawing figures/.
	NoFigures bool
	// Plot configures the figures.
	Plot PlotOptions
	// Incomplete, when not "", says why the run did not finish (interrupted,
	// stopped by an error): the directory is written with
	// manifest.complete false and an INCOMPLETE file holding the reason.
	Incomplete string
}

// ErrNotResults is returned when a directory to be replaced exists and is
// not a results directory fusionsim wrote, or when a directory to read is
// neither a results directory nor in the prototype's layout.
var ErrNotResults = errors.New("not a results directory")

// Write writes run into dir atomically: everything goes into a temporary
// directory beside dir, which is renamed to dir at the end. An existing
// results directory fusionsim wrote at dir is replaced (its manifest's
// format names fusionsim and nothing else is in it); an empty directory
// too; anything else there is an error (see StageOptions.Force). An
// interrupted Write leaves only a hidden ".<name>.tmp-*" directory without
// manifest.json.
func Write(dir string, run *Run) error {
	st, err := NewStage(dir)
	if err != nil {
		return err
	}
	return st.Commit(run)
}

// Stage is a results directory being written: lines can be logged into it
// while the run goes on (LogFiles), and Commit finishes it.
type Stage struct {
	dir, tmp string
	logs     *LogFiles
	force    bool
	written  map[string]bool // setups whose traces and responses Setup wrote
}

// StageOptions configure NewStageWith.
type StageOptions struct {
	// Force replaces whatever is at the target directory, not only a
	// results directory fusionsim wrote (--force).
	Force bool
}

// NewStage creates the temporary directory beside dir. Call Commit or Abort.
func NewStage(dir string) (*Stage, error) { return NewStageWith(dir, StageOptions{}) }

// NewStageWith is NewStage with options.
func NewStageWith(dir string, opt StageOptions) (*Stage, error) {
	dir = filepath.Clean(dir)
	if err := checkReplaceable(dir, opt.Force); err != nil {
		return nil, err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	return &Stage{dir: dir, tmp: tmp, force: opt.Force}, nil
}

// Dir is the temporary directory being written.
func (s *Stage) Dir() string { return s.tmp }

// LogFiles returns the writer of logs/ inside the stage (opened on first
// use, plain text). Its Write method fits experiment.Config.Logs.
func (s *Stage) LogFiles() (*LogFiles, error) { return s.LogFilesGzip(false) }

// LogFilesGzip is LogFiles with the files gzip-compressed when gz is set
// (the first call decides).
func (s *Stage) LogFilesGzip(gz bool) (*LogFiles, error) {
	if s.logs == nil {
		lf, err := NewLogFilesGzip(filepath.Join(s.tmp, LogsDir), gz)
		if err != nil {
			return nil, err
		}
		s.logs = lf
	}
	return s.logs, nil
}

// Abort removes the temporary directory.
func (s *Stage) Abort() error {
	if s.logs != nil {
		s.logs.Close()
	}
	return os.RemoveAll(s.tmp)
}

// Commit writes run into the stage, manifest.json last, and renames it to
// the target directory. Figures that fail to draw do not stop the commit:
// the directory is written and the error returned.
func (s *Stage) Commit(run *Run) (err error) {
	defer func() {
		if err != nil && s.tmp != "" {
			s.Abort()
		}
	}()
	pricing := run.Pricing
	if pricing.MBPerGB == 0 {
		pricing = model.Default().Pricing
	}
	if err := checkNames(run.Setups); err != nil {
		return err
	}
	m := run.Manifest
	m.Format = CurrentFormat
	m.Complete = run.Incomplete == ""
	m.Quantiles = QuantileMethod
	if m.Version == "" {
		m.Version = moduleVersion()
	}
	m.Setups = nil
	data := &Data{Dir: s.dir, Traces: trace.Traces{}, Responses: map[string][]fusionsim.Response{}, Configs: run.Configs, Stats: map[string]*SetupStats{}}
	toWrite := trace.Traces{}
	for _, sr := range run.Setups {
		st := sr.Stats
		if st == nil {
			st = StatsOf(sr.Records, sr.Responses)
			defer st.E2E().Close()
		}
		var row Row
		if sr.Row != nil {
			row = *sr.Row
		} else {
			row = st.Row(sr.Name, pricing)
		}
		data.Names = append(data.Names, sr.Name)
		data.Rows = append(data.Rows, row)
		data.Stats[sr.Name] = st
		data.Traces[sr.Name] = sr.Records
		if len(sr.Responses) > 0 {
			data.Responses[sr.Name] = sr.Responses
		}
		if !s.written[sr.Name] {
			toWrite[sr.Name] = sr.Records
		}
		m.Setups = append(m.Setups, SetupInfo{Name: sr.Name, Route: sr.Route, Reason: sr.Reason,
			Requests: row.Requests, Invocations: st.Invocations(), LogProblems: sr.LogProblems, DroppedIterations: sr.DroppedIterations})
		if sr.Kinds != nil {
			data.Kinds = append(data.Kinds, sr.Kinds...)
		} else {
			data.Kinds = append(data.Kinds, SummarizeKinds(sr.Name, sr.Records, sr.Responses, pricing)...)
		}
		if run.Configs == nil && sr.Setup != nil {
			if data.Configs == nil {
				data.Configs = fusionsim.Configs{}
			}
			data.Configs[sr.Name] = sr.Setup
		}
	}
	for name := range s.written {
		if _, ok := data.Stats[name]; !ok {
			return fmt.Errorf("setup %q was written (Stage.Setup) but is not among the run's setups", name)
		}
	}
	data.Manifest = &m
	if len(toWrite) > 0 {
		if err := trace.WriteDir(filepath.Join(s.tmp, TracesDir), &trace.Dir{Traces: toWrite}, trace.WriteOptions{Gzip: run.GzipTraces}); err != nil {
			return err
		}
	}
	for _, name := range data.Names {
		if resps := data.Responses[name]; len(resps) > 0 && !s.written[name] {
			if err := writeResponses(filepath.Join(s.tmp, ResponsesDir, name+".csv"), resps); err != nil {
				return err
			}
		}
	}
	if data.Configs != nil {
		if err := trace.WriteConfigs(s.tmp, data.Configs); err != nil {
			return err
		}
	}
	if run.Logs != nil {
		lf, err := s.LogFiles()
		if err != nil {
			return err
		}
		if err := run.Logs(lf.Write); err != nil {
			return fmt.Errorf("writing logs: %w", err)
		}
	}
	if s.logs != nil {
		if err := s.logs.Close(); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		file  string
		write func(io.Writer, []Row) error
	}{{SummaryFile, WriteCSV}, {SummaryFullFile, WriteFullCSV}} {
		file := f.file
		var buf bytes.Buffer
		if err := f.write(&buf, data.Rows); err != nil {
			return err
		}
		if err := trace.WriteFileAtomic(filepath.Join(s.tmp, file), buf.Bytes()); err != nil {
			return err
		}
	}
	if len(data.Kinds) > 0 {
		var buf bytes.Buffer
		if err := WriteKindsCSV(&buf, data.Kinds); err != nil {
			return err
		}
		if err := trace.WriteFileAtomic(filepath.Join(s.tmp, SummaryKindsFile), buf.Bytes()); err != nil {
			return err
		}
	}
	var figErr error
	if !run.NoFigures && len(data.Names) > 0 {
		if _, err := DrawFigures(data, filepath.Join(s.tmp, FiguresDir), run.Plot); err != nil {
			figErr = fmt.Errorf("figures: %w", err)
		}
	}
	if !m.Complete {
		if err := trace.WriteFileAtomic(filepath.Join(s.tmp, IncompleteFile), incompleteNote(run.Incomplete, len(run.Setups))); err != nil {
			return err
		}
	}
	mb, err := json.MarshalIndent(&m, "", "  ")
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if err := trace.WriteFileAtomic(filepath.Join(s.tmp, ManifestFile), append(mb, '\n')); err != nil {
		return err
	}
	if err := s.rename(); err != nil {
		return err
	}
	return figErr
}

// rename moves the stage into place, replacing an existing results
// directory (moved aside first, removed after).
func (s *Stage) rename() error {
	if err := checkReplaceable(s.dir, s.force); err != nil {
		return err
	}
	var old string
	if _, err := os.Stat(s.dir); err == nil {
		tmp, err := os.MkdirTemp(filepath.Dir(s.dir), "."+filepath.Base(s.dir)+".old-")
		if err != nil {
			return err
		}
		old = filepath.Join(tmp, "old")
		if err := os.Rename(s.dir, old); err != nil {
			os.Remove(tmp)
			return err
		}
		defer os.RemoveAll(tmp)
	}
	if err := os.Rename(s.tmp, s.dir); err != nil {
		if old != "" {
			os.Rename(old, s.dir)
		}
		return err
	}
	s.tmp = ""
	if d, err := os.Open(filepath.Dir(s.dir)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func checkNames(setups []SetupRun) error {
	seen := map[string]bool{}
	for i, sr := range setups {
		if err := fusionsim.ValidateSetupName(sr.Name); err != nil {
			return fmt.Errorf("setups[%d]: %w", i, err)
		}
		if seen[sr.Name] {
			return fmt.Errorf("setups[%d]: setup %q appears twice", i, sr.Name)
		}
		seen[sr.Name] = true
	}
	return nil
}

func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// LogFiles writes log lines into one file per function, <dir>/<function>.log
// (or .log.gz), in the order it receives them (the emulator's DirSink
// layout).
type LogFiles struct {
	dir    string
	gz     bool
	files  map[string]*logFile
	recent [32]recentFile // files by the address of their functions' names
	err    error
	lines  fusionsim.LineFormatter
	buf    []byte
}

type recentFile struct {
	p  *byte
	n  int
	lf *logFile
}

type logFile struct {
	f   *os.File
	w   *bufio.Writer
	zw  *gzref.Writer // nil: plain text
	enc *logEncoder   // records into zw
}

// NewLogFiles creates dir; the files are plain text.
func NewLogFiles(dir string) (*LogFiles, error) { return NewLogFilesGzip(dir, false) }

// NewLogFilesGzip creates dir; with gz the files are <function>.log.gz,
// gzip-compressed by logEncoder (the same lines once decompressed; no name or
// time in the headers, so the bytes are reproducible).
func NewLogFilesGzip(dir string, gz bool) (*LogFiles, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &LogFiles{dir: dir, gz: gz, files: map[string]*logFile{}}, nil
}

// Write appends l.Text and a newline to the file of l.Function.
func (w *LogFiles) Write(l fusionsim.LogLine) error {
	lf := w.file(l.Function)
	if lf == nil {
		return w.err
	}
	w.buf = append(append(w.buf[:0], l.Text...), '\n')
	return w.writeLine(lf, l.Function, w.buf)
}

// WriteRecord appends r's line (fusionsim.LineFormatter) and a newline to
// the file of r.Function. It fits experiment.Config.Records.
func (w *LogFiles) WriteRecord(r *fusionsim.LogRecord) error {
	lf := w.file(r.Function)
	if lf == nil {
		return w.err
	}
	if lf.enc != nil {
		lf.enc.write(r)
		if err := lf.zw.Err(); err != nil {
			w.err = fmt.Errorf("log %s: %w", r.Function, err)
		}
		return w.err
	}
	w.buf = append(w.lines.Append(w.buf[:0], r), '\n')
	return w.writeLine(lf, r.Function, w.buf)
}

// file returns the file of function, created on first use (nil after an
// error).
func (w *LogFiles) file(function string) *logFile {
	if w.err != nil {
		return nil
	}
	// The emulator's records of a function share its name's bytes.
	p := unsafe.StringData(function)
	c := &w.recent[strtab.Slot(function, len(w.recent))]
	if c.p == p && c.n == len(function) && p != nil {
		return c.lf
	}
	lf, ok := w.files[function]
	defer func() {
		if lf != nil {
			*c = recentFile{p, len(function), lf}
		}
	}()
	if !ok {
		name := function
		if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
			w.err = fmt.Errorf("log of function %q: not a file name", name)
			return nil
		}
		file := name + ".log"
		if w.gz {
			file += ".gz"
		}
		f, err := os.Create(filepath.Join(w.dir, file))
		if err != nil {
			w.err = err
			return nil
		}
		lf = &logFile{f: f, w: bufio.NewWriterSize(f, 64<<10)}
		if w.gz {
			lf.zw = gzref.NewWriter(lf.w)
			lf.enc = newLogEncoder(lf.zw)
		}
		w.files[function] = lf
	}
	return lf
}

func (w *LogFiles) writeLine(lf *logFile, function string, line []byte) error {
	var err error
	if lf.zw != nil {
		_, err = lf.zw.Write(line)
	} else {
		_, err = lf.w.Write(line)
	}
	if err != nil {
		w.err = fmt.Errorf("log %s: %w", function, err)
	}
	return w.err
}

// Close flushes and closes every file.
func (w *LogFiles) Close() error {
	names := make([]string, 0, len(w.files))
	for n := range w.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		lf := w.files[n]
		if lf.zw != nil {
			if err := lf.zw.Close(); err != nil && w.err == nil {
				w.err = err
			}
		}
		if err := lf.w.Flush(); err != nil && w.err == nil {
			w.err = err
		}
		if err := lf.f.Close(); err != nil && w.err == nil {
			w.err = err
		}
	}
	w.files = map[string]*logFile{}
	w.recent = [32]recentFile{}
	return w.err
}

var responsesHeader = []string{"sent_unix_ns", "latency_ns", "status", "request_id", "error"}

// kindsHeader is responsesHeader with the kind of each request and the
// trace id of its root invocation, the form for loads with kinds of
// requests (scenario loads).
var kindsHeader = append(slices.Clone(responsesHeader), "kind", "trace_id")

// writeResponses writes responses/<setup>.csv: the send time, the
// end-to-end latency (both in ns, exact), the HTTP status, the entry
// invocation's request id and the error message; when the requests have
// kinds, also the kind and the root invocation's trace id (which joins the
// request to its traces).
func writeResponses(path string, resps []fusionsim.Response) error {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	kinds := HasKinds(resps)
	if kinds {
		cw.Write(kindsHeader)
	} else {
		cw.Write(responsesHeader)
	}
	for _, r := range resps {
		msg := ""
		if r.Err != nil {
			msg = r.Err.Error()
		}
		rec := []string{strconv.FormatInt(r.Sent.UnixNano(), 10), strconv.FormatInt(int64(r.Latency()), 10),
			strconv.Itoa(r.StatusCode), r.RequestID, msg}
		if kinds {
			rec = append(rec, r.Kind, r.TraceID)
		}
		cw.Write(rec)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return trace.WriteFileAtomic(path, buf.Bytes())
}

// readResponses reads what writeResponses wrote; errors become plain errors
// with the message.
func readResponses(path string) ([]fusionsim.Response, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseResponses(f, path)
}

// parseResponses reads responses/<setup>.csv from r; path names it in
// errors.
func parseResponses(r io.Reader, path string) ([]fusionsim.Response, error) {
	cr := csv.NewReader(r)
	head, err := cr.Read()
	kinds := err == nil && strings.Join(head, ",") == strings.Join(kindsHeader, ",")
	if err != nil || (!kinds && strings.Join(head, ",") != strings.Join(responsesHeader, ",")) {
		return nil, fmt.Errorf("%s: header %v, want %v (or with %v)", path, head, responsesHeader, kindsHeader[len(responsesHeader):])
	}
	cr.FieldsPerRecord = len(head)
	var out []fusionsim.Response
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		sent, err1 := strconv.ParseInt(rec[0], 10, 64)
		lat, err2 := strconv.ParseInt(rec[1], 10, 64)
		status, err3 := strconv.Atoi(rec[2])
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		r := fusionsim.Response{Sent: time.Unix(0, sent).UTC(), StatusCode: status, RequestID: rec[3]}
		r.Received = r.Sent.Add(time.Duration(lat))
		switch rec[4] {
		case "":
		case fusionsim.ErrDropped.Error():
			r.Err = fusionsim.ErrDropped
		default:
			r.Err = errors.New(rec[4])
		}
		if kinds {
			r.Kind, r.TraceID = rec[5], rec[6]
		}
		out = append(out, r)
	}
}

// Data is what a results directory, or a directory of traces in the
// prototype's layout, holds.
type Data struct {
	// Dir is where it was read from (or is being written to).
	Dir string
	// Manifest is nil for a directory in the prototype's layout.
	Manifest *Manifest
	// Names are the setups in order: the manifest's order, else the
	// prototype's (numeric names by value, then the others by name).
	Names []string
	// Traces, Responses (nil or empty without client responses) and
	// Configs (nil without configuration metadata) by setup.
	Traces    trace.Traces
	Responses map[string][]fusionsim.Response
	Configs   fusionsim.Configs
	// Rows are summary.csv's rows, or computed from the traces.
	Rows []Row
	// Kinds are summary-kinds.csv's rows, or computed from the traces and
	// the responses; nil when the requests have no kinds.
	Kinds []KindRow
	// Stats are the setups' statistics (the figures' data): accumulated
	// while a run went (Commit), or from Traces and Responses (StatsOf).
	Stats map[string]*SetupStats
}

// StatsOf returns the statistics of setup name, accumulating them from its
// traces and responses the first time when they were not given.
func (d *Data) StatsOf(name string) *SetupStats {
	if st := d.Stats[name]; st != nil {
		return st
	}
	if d.Stats == nil {
		d.Stats = map[string]*SetupStats{}
	}
	st := StatsOf(d.Traces[name], d.Responses[name])
	d.Stats[name] = st
	return st
}

// ReadOptions configure Read.
type ReadOptions struct {
	// Pricing summarizes directories without summary.csv (the manifest's
	// profile's pricing, else model.Default().Pricing, if zero).
	Pricing model.Pricing
	// Recompute ignores summary.csv and summarizes the traces and
	// responses again.
	Recompute bool
}

// Read reads a results directory (it has manifest.json) or a directory of
// traces in the prototype's layout (<dir>/<setup>.json[.gz] and
// configuration/), such as ../shared/calibration/*.
func Read(dir string, opt ReadOptions) (*Data, error) {
	mpath := filepath.Join(dir, ManifestFile)
	mb, err := os.ReadFile(mpath)
	if errors.Is(err, os.ErrNotExist) {
		return readPrototype(dir, opt)
	}
	if err != nil {
		return nil, err
	}
	d := &Data{Dir: dir, Manifest: &Manifest{}, Responses: map[string][]fusionsim.Response{}}
	if err := json.Unmarshal(mb, d.Manifest); err != nil {
		return nil, fmt.Errorf("%s: %w", mpath, err)
	}
	switch version, ours := d.Manifest.Format.Version(); {
	case version == 1:
		// Layout 1 had no complete field; its interrupted runs said so in
		// the reason.
		d.Manifest.Complete = !strings.HasPrefix(d.Manifest.Reason, "stopped by an error")
	case !ours:
		return nil, fmt.Errorf("%s: %w: its format %q does not name %s", mpath, ErrNotResults, d.Manifest.Format, FormatName)
	case version > FormatVersion:
		return nil, fmt.Errorf("%s: format %q is newer than this program's %q", mpath, d.Manifest.Format, CurrentFormat)
	}
	for _, s := range d.Manifest.Setups {
		d.Names = append(d.Names, s.Name)
	}
	d.Traces = trace.Traces{}
	if len(d.Names) > 0 {
		if d.Traces, err = trace.ReadTraces(filepath.Join(dir, TracesDir)); err != nil {
			return nil, err
		}
	}
	for _, n := range d.Names {
		if _, ok := d.Traces[n]; !ok {
			return nil, fmt.Errorf("%s: setup %q of the manifest has no traces", dir, n)
		}
		p := filepath.Join(dir, ResponsesDir, n+".csv")
		if _, err := os.Stat(p); err == nil {
			if d.Responses[n], err = readResponses(p); err != nil {
				return nil, err
			}
		}
	}
	if d.Configs, err = trace.ReadConfigs(dir); err != nil && !errors.Is(err, trace.ErrNoConfigs) {
		return nil, err
	}
	if opt.Pricing.MBPerGB == 0 && d.Manifest.Profile != nil {
		opt.Pricing = d.Manifest.Profile.Pricing
	}
	if err := d.readKinds(opt); err != nil {
		return nil, err
	}
	spath := filepath.Join(dir, SummaryFullFile)
	if _, err := os.Stat(spath); err != nil {
		spath = filepath.Join(dir, SummaryFile)
	}
	if f, err := os.Open(spath); err == nil && !opt.Recompute {
		defer f.Close()
		if d.Rows, err = ReadCSV(f); err != nil {
			return nil, fmt.Errorf("%s: %w", spath, err)
		}
		if len(d.Rows) != len(d.Names) {
			return nil, fmt.Errorf("%s: %d rows for %d setups in the manifest", spath, len(d.Rows), len(d.Names))
		}
		return d, nil
	}
	d.summarize(opt.Pricing)
	return d, nil
}

// readKinds reads summary-kinds.csv, or (when it is missing or
// opt.Recompute) summarizes each setup's responses by kind.
func (d *Data) readKinds(opt ReadOptions) error {
	path := filepath.Join(d.Dir, SummaryKindsFile)
	if f, err := os.Open(path); err == nil && !opt.Recompute {
		defer f.Close()
		rows, err := ReadKindsCSV(f)
		if err != nil {
			return fmt.Errorf("%s: %w", d.Dir, err)
		}
		d.Kinds = rows
		return nil
	}
	p := opt.Pricing
	if p.MBPerGB == 0 {
		p = model.Default().Pricing
	}
	for _, n := range d.Names {
		d.Kinds = append(d.Kinds, SummarizeKinds(n, d.Traces[n], d.Responses[n], p)...)
	}
	return nil
}

func readPrototype(dir string, opt ReadOptions) (*Data, error) {
	td, err := trace.ReadDir(dir)
	if err != nil {
		if _, serr := os.Stat(filepath.Join(dir, TracesDir)); serr == nil {
			return nil, fmt.Errorf("%s: %w: it has %s/ but no %s (an interrupted run?)", dir, ErrNotResults, TracesDir, ManifestFile)
		}
		return nil, fmt.Errorf("%s: %w and not in the prototype's layout: %v", dir, ErrNotResults, err)
	}
	d := &Data{Dir: dir, Names: td.Traces.Names(), Traces: td.Traces, Configs: td.Configs}
	d.summarize(opt.Pricing)
	return d, nil
}

// summarize computes the rows from each setup's statistics, which
// d.StatsOf keeps for the figures.
func (d *Data) summarize(p model.Pricing) {
	if p.MBPerGB == 0 {
		p = model.Default().Pricing
	}
	d.Rows = make([]Row, len(d.Names))
	for i, n := range d.Names {
		d.Rows[i] = d.StatsOf(n).Row(n, p)
	}
}
