package experiment

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/progress"
	"github.com/fusionsim/fusionsim/results"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// Iteration is one deployed setup and what its load produced.
type Iteration struct {
	// Name is the setup's name.
	Name string
	// Setup is the deployed setup.
	Setup *fusionsim.Setup
	// Reason is why the planner chose it.
	Reason string
	// Route is the entry route the load was sent to.
	Route fusionsim.Route
	// Records are the setup's traces, extracted from the platform's logs
	// (nil with Config.Lean).
	Records []trace.Record
	// Responses are what the client saw, one per arrival (nil with
	// Config.Lean).
	Responses []fusionsim.Response
	// Row is the summary of the iteration.
	Row results.Row
	// Stats are the iteration's statistics, what Row and the figures are
	// made of (results.SetupStats).
	Stats *results.SetupStats
	// Start and End bound the iteration on the platform's clock (End is
	// after its last log line).
	Start, End time.Time
	// LogProblems counts log lines and invocations the extractor could not
	// use (0 on a healthy platform).
	LogProblems int
	// DroppedIterations counts the scenario iterations that found no free
	// virtual user (their requests were never sent).
	DroppedIterations int
	// Kinds are the per-kind rows of a load with kinds of request (nil
	// otherwise).
	Kinds []results.KindRow
}

// Planner chooses the setup of each iteration. A fixed list of setups is one
// Planner, an optimizer another.
type Planner interface {
	// Next returns the setup to deploy after history (oldest first; empty
	// for the first). done reports that planning has finished: with a
	// setup, that setup is the last iteration (an optimizer redeploying its
	// best setup); without one, the experiment ends. reason says why in one
	// line.
	Next(ctx context.Context, history []Iteration) (next *fusionsim.Setup, done bool, reason string, err error)
}

// Fixed is the planner of a fixed list of setups, run in order.
type Fixed []*fusionsim.Setup

// Next returns the setup after those already run.
func (f Fixed) Next(_ context.Context, history []Iteration) (*fusionsim.Setup, bool, string, error) {
	i := len(history)
	if i >= len(f) {
		return nil, true, "every given setup has run", nil
	}
	return f[i], i == len(f)-1, fmt.Sprintf("setup %d of %d", i+1, len(f)), nil
}

// LoadFunc makes the arrivals of an iteration (the same load each time, or
// one that depends on the setup).
type LoadFunc func(setup *fusionsim.Setup) ([]fusionsim.Arrival, error)

// Config configures Run.
type Config struct {
	// Platform runs the setups: the emulator, or AWS Lambda.
	Platform fusionsim.Platform
	// App is the application, to validate setups and find entry routes.
	App *fusionsim.App
	// Planner chooses the setups.
	Planner Planner
	// Load makes each iteration's arrivals.
	Load LoadFunc
	// Entry, when its Task is set, is the route of every request; otherwise
	// each setup's entry route (workloads.EntryRoute).
	Entry fusionsim.Route
	// Clock is the platform's clock, which bounds each iteration's logs.
	// nil: the platform's own Now method (the emulator has one).
	Clock func() time.Time
	// Pricing prices the invocations (model.Default().Pricing if zero).
	Pricing model.Pricing
	// Trace configures the extraction (e.g. the prototype's grouping).
	Trace trace.Options
	// Logs, when set, receives every log line of every iteration as it is
	// read, with the iteration's setup name (to write the logs into the
	// results).
	Logs func(setup string, line fusionsim.LogLine) error
	// Records, when set, receives every log record of every iteration as it
	// is written, with the iteration's setup name, on platforms that write
	// records (RecordPlatform; the emulator): the results' logs are
	// formatted from them. Other platforms' lines go to Logs.
	Records func(setup string, r *fusionsim.LogRecord)
	// LogsRead, when set, runs after an iteration's logs have been read, so
	// that the platform may drop them (emulator.MemorySink.Reset).
	LogsRead func()
	// Progress shows the iterations (nil: nothing). Wire the platform's
	// per-request progress to Progress.Update.
	Progress *progress.Bar
	// MaxIterations bounds the experiment (0: 1000).
	MaxIterations int
	// Stream, when set, is called as each iteration starts and receives
	// its records and responses as they are produced (on a platform that
	// writes records, as invocations complete), e.g. a results.Stage's
	// SetupWriter, so that they are written while the run goes on.
	Stream func(setup string) (IterationStream, error)
	// Lean keeps neither records nor responses in the Iterations (their
	// Row and Stats say what they were): a long run then holds no more
	// than what its invocations in flight need. Only for planners that
	// read no records (Fixed does not; an optimizer does).
	Lean bool
}

// IterationStream receives one iteration's records and responses as they
// are produced (Config.Stream). Record's k and Response's r are valid only
// during the call.
type IterationStream interface {
	// Record receives an invocation record, keyed with its request id.
	Record(k *trace.KeyedRecord) error
	// Response receives what the client saw of arrival i.
	Response(i int, r *fusionsim.Response) error
	// Close ends the iteration's stream.
	Close() error
	// Abort ends the stream of an iteration that failed: nothing of it is
	// kept.
	Abort()
}

// ResponseStreamer is a platform that hands each response over as the
// client receives it instead of returning them all (the emulator):
// RunEach is Run with fn in place of the returned slice.
type ResponseStreamer interface {
	RunEach(ctx context.Context, route fusionsim.Route, arrivals []fusionsim.Arrival, fn func(i int, r *fusionsim.Response)) error
}

// RecordPlatform is a platform that writes its logs as typed records (the
// emulator): Run feeds the extractor from them instead of reading text back
// with Logs.
type RecordPlatform interface {
	fusionsim.Platform
	// SetRecordSink makes s the receiver of every log record from now on
	// (nil: none).
	SetRecordSink(s fusionsim.RecordSink)
}

// LeanRecorder is a RecordPlatform that can write only the records a
// summary row reads (emulator.Emulator.SetLeanRecords): a lean run whose
// records go nowhere but into its rows asks for those alone.
type LeanRecorder interface {
	SetLeanRecords(on bool)
}

// ErrNoClock is returned when neither Config.Clock nor the platform tells
// the time.
var ErrNoClock = errors.New("experiment: no clock: set Config.Clock or use a platform with a Now method")

// Result is what Run produced.
type Result struct {
	Iterations []Iteration
	// Reason is the planner's last word (why it finished).
	Reason string
}

// Setups returns the configuration metadata of the iterations.
func (r *Result) Setups() fusionsim.Configs {
	c := fusionsim.Configs{}
	for _, it := range r.Iterations {
		c[it.Name] = it.Setup
	}
	return c
}

// Rows returns the iterations' summary rows, in order.
func (r *Result) Rows() []results.Row {
	rows := make([]results.Row, len(r.Iterations))
	for i, it := range r.Iterations {
		rows[i] = it.Row
	}
	return rows
}

// Run runs the experiment: until the planner is done, deploy its next setup,
// send the load to the setup's entry route, wait until every invocation has
// ended, read the logs the iteration wrote, extract its traces and
// summarize them. Iterations finished before an error are returned with it.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Platform == nil || cfg.App == nil || cfg.Planner == nil || cfg.Load == nil {
		return nil, errors.New("experiment: Config needs Platform, App, Planner and Load")
	}
	clock := cfg.Clock
	if clock == nil {
		c, ok := cfg.Platform.(interface{ Now() time.Time })
		if !ok {
			return nil, ErrNoClock
		}
		clock = c.Now
	}
	pricing := cfg.Pricing
	if pricing.MBPerGB == 0 {
		pricing = model.Default().Pricing
	}
	maxIter := cfg.MaxIterations
	if maxIter <= 0 {
		maxIter = 1000
	}
	res := &Result{}
	names := map[string]bool{}
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		setup, done, reason, err := cfg.Planner.Next(ctx, res.Iterations)
		if err != nil {
			return res, fmt.Errorf("planning iteration %d: %w", len(res.Iterations)+1, err)
		}
		if setup == nil {
			if !done {
				return res, fmt.Errorf("planning iteration %d: the planner gave no setup and is not done", len(res.Iterations)+1)
			}
			res.Reason = reason
			return res, nil
		}
		if len(res.Iterations) >= maxIter {
			return res, fmt.Errorf("experiment: more than %d iterations", maxIter)
		}
		if names[setup.Name()] {
			return res, fmt.Errorf("iteration %d: setup name %q is used twice", len(res.Iterations)+1, setup.Name())
		}
		names[setup.Name()] = true
		hint := 0 // the records of the iteration before: about as many
		if n := len(res.Iterations); n > 0 && res.Iterations[n-1].Stats != nil {
			hint = res.Iterations[n-1].Stats.Invocations()
		}
		it, err := runIteration(ctx, cfg, clock, pricing, setup, reason, hint)
		if err != nil {
			return res, fmt.Errorf("setup %s: %w", setup.Name(), err)
		}
		res.Iterations = append(res.Iterations, it)
		if done {
			res.Reason = reason
			return res, nil
		}
	}
}

func runIteration(ctx context.Context, cfg Config, clock func() time.Time, pricing model.Pricing, setup *fusionsim.Setup, reason string, hint int) (Iteration, error) {
	it := Iteration{Name: setup.Name(), Setup: setup, Reason: reason}
	if err := cfg.App.CheckSetup(setup); err != nil {
		return it, err
	}
	route := cfg.Entry
	if route.Task == "" {
		r, err := workloads.EntryRoute(cfg.App, setup)
		if err != nil {
			return it, err
		}
		route = r
	}
	it.Route = route
	arrivals, err := cfg.Load(setup)
	if err != nil {
		return it, fmt.Errorf("load: %w", err)
	}
	if len(arrivals) == 0 {
		return it, errors.New("load: no requests")
	}
	if err := cfg.Platform.Deploy(ctx, setup); err != nil {
		return it, fmt.Errorf("deploy: %w", err)
	}
	cfg.Progress.Begin(it.Name, len(arrivals))
	it.Start = clock()
	var stream IterationStream
	if cfg.Stream != nil {
		if stream, err = cfg.Stream(it.Name); err != nil {
			cfg.Progress.End("")
			return it, err
		}
	}
	it, err = collect(ctx, cfg, clock, pricing, route, arrivals, it, stream, hint)
	if stream != nil {
		if err != nil {
			stream.Abort()
		} else if cerr := stream.Close(); cerr != nil {
			err = fmt.Errorf("writing the iteration's traces and responses: %w", cerr)
		}
	}
	if err != nil {
		cfg.Progress.End("")
		return it, err
	}
	it.Row = it.Stats.Row(it.Name, pricing)
	dropped := ""
	if it.DroppedIterations > 0 {
		dropped = fmt.Sprintf(", %d dropped iterations (no free virtual user)", it.DroppedIterations)
	}
	cfg.Progress.End(fmt.Sprintf("%s: %d requests, %d invocations, median %s ms, p95 %s ms, %d errors%s",
		it.Name, it.Row.Requests, it.Row.Invocations, ms(it.Row.MedianMs), ms(it.Row.P95Ms), it.Row.Errors, dropped))
	return it, nil
}

// collect runs the iteration's load and gathers its records and
// responses into it.Stats (and the stream, and, unless cfg.Lean, into
// it.Records and it.Responses). On a platform that writes records (and
// without the prototype's grouping) the records come as invocations
// complete; otherwise from the logs read once the load is over. hint is
// about how many records to expect.
func collect(ctx context.Context, cfg Config, clock func() time.Time, pricing model.Pricing, route fusionsim.Route, arrivals []fusionsim.Arrival, it Iteration, stream IterationStream, hint int) (Iteration, error) {
	st := results.NewSetupStats()
	it.Stats = st
	var streamErr error
	keep := func(err error) {
		if streamErr == nil && err != nil {
			streamErr = err
		}
	}
	addResponse := func(i int, r *fusionsim.Response) {
		if arrivals[i].VUs != nil && r.Dropped() {
			it.DroppedIterations++
		}
		st.AddResponse(r)
		if stream != nil {
			keep(stream.Response(i, r))
		}
	}
	// A load with kinds of request is summarized by kind too: each
	// response is joined to its root's trace by the root's request id, so
	// its responses and records are kept until the traces are extracted.
	kinds := false
	for i := range arrivals {
		if arrivals[i].Kind != "" {
			kinds = true
			break
		}
	}
	var held []fusionsim.Response
	if kinds {
		held = make([]fusionsim.Response, len(arrivals))
	}
	lean := cfg.Lean && !kinds
	topt := cfg.Trace
	topt.RootTraceIDs = topt.RootTraceIDs || kinds
	x := trace.NewExtractor(topt)
	// The records kept (unless lean) and their request ids, their sort
	// key's last part.
	var kept []trace.Record
	var keptIDs []string
	if !lean && hint > 0 {
		kept = make([]trace.Record, 0, hint+hint/8)
		keptIDs = make([]string, 0, hint+hint/8)
	}
	foreign := ""
	rp, direct := cfg.Platform.(RecordPlatform)
	streamed := direct && !cfg.Trace.GroupByFunction
	if streamed {
		x.Stream(func(k *trace.KeyedRecord) {
			if k.FusionGroup.Name != it.Name {
				foreign = k.FusionGroup.Name
				return
			}
			st.AddRecord(&k.Record)
			if stream != nil {
				keep(stream.Record(k))
			}
			if !lean {
				kept = append(kept, k.Record)
				keptIDs = append(keptIDs, k.RequestID)
			}
		})
	}
	if direct {
		// The platform's records go straight to the extractor (and the
		// results' logs) as they are written: no text round trip.
		rp.SetRecordSink(fusionsim.RecordSinkFunc(func(r *fusionsim.LogRecord) {
			x.AddRecord(r)
			if cfg.Records != nil {
				cfg.Records(it.Name, r)
			}
		}))
		defer rp.SetRecordSink(nil)
		if lr, ok := cfg.Platform.(LeanRecorder); ok && lean && streamed && stream == nil && cfg.Records == nil {
			// Nothing but the rows reads the records.
			lr.SetLeanRecords(true)
			defer lr.SetLeanRecords(false)
		}
	}
	var err error
	if rs, ok := cfg.Platform.(ResponseStreamer); ok {
		if !lean && !kinds {
			it.Responses = make([]fusionsim.Response, len(arrivals))
		}
		err = rs.RunEach(ctx, route, arrivals, func(i int, r *fusionsim.Response) {
			switch {
			case kinds:
				held[i] = *r
			case !lean:
				addResponse(i, r)
				it.Responses[i] = *r
			default:
				addResponse(i, r)
			}
		})
	} else {
		var resps []fusionsim.Response
		resps, err = cfg.Platform.Run(ctx, route, arrivals)
		if err == nil {
			if kinds {
				held = resps
			} else {
				for i := range resps {
					addResponse(i, &resps[i])
				}
				if !lean {
					it.Responses = resps
				}
			}
		}
	}
	if err != nil {
		return it, fmt.Errorf("run: %w", err)
	}
	// Every invocation has ended: the logs of the iteration are the lines
	// in [Start, now], read up to just after now.
	it.End = clock().Add(time.Nanosecond)
	if !direct {
		err = cfg.Platform.Logs(ctx, it.Start, it.End, func(l fusionsim.LogLine) error {
			x.AddLogLine(l)
			if cfg.Logs != nil {
				return cfg.Logs(it.Name, l)
			}
			return nil
		})
		if err != nil {
			return it, fmt.Errorf("reading logs: %w", err)
		}
	}
	if cfg.LogsRead != nil {
		cfg.LogsRead()
	}
	ext := x.Finish()
	it.LogProblems = ext.Malformed + ext.Inconsistent + ext.Incomplete
	if foreign != "" {
		return it, fmt.Errorf("logs of the iteration hold traces of setup %q", foreign)
	}
	for name := range ext.Traces {
		if name != it.Name {
			return it, fmt.Errorf("logs of the iteration hold traces of setup %q", name)
		}
	}
	if kinds {
		for i := range held {
			held[i].Kind = arrivals[i].Kind
			if ext.RootTraceIDs != nil && held[i].RequestID != "" {
				held[i].TraceID = ext.RootTraceIDs[held[i].RequestID]
			}
			addResponse(i, &held[i])
		}
		it.Responses = held
	}
	if streamed {
		if !lean {
			trace.SortByKey(kept, keptIDs)
			if kept == nil {
				kept = []trace.Record{}
			}
			it.Records = kept
		}
	} else {
		recs := ext.Traces[it.Name]
		for i := range recs {
			st.AddRecord(&recs[i])
		}
		if stream != nil {
			for i := range recs {
				// The records are in order already; their rank as the key
				// keeps the order of ties.
				keep(stream.Record(&trace.KeyedRecord{Record: recs[i], RequestID: fmt.Sprintf("%012d", i)}))
			}
		}
		if !lean {
			it.Records = recs
		}
	}
	if kinds {
		it.Kinds = results.SummarizeKinds(it.Name, it.Records, it.Responses, pricing)
		if cfg.Lean {
			it.Records, it.Responses = nil, nil
		}
	}
	return it, streamErr
}

func ms(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// Results makes the content of a results directory (results.Write) from the
// experiment: every iteration with its row, records, responses and setup,
// under manifest (whose Reason defaults to the planner's last word).
func (r *Result) Results(manifest results.Manifest, pricing model.Pricing) *results.Run {
	if manifest.Reason == "" {
		manifest.Reason = r.Reason
	}
	run := &results.Run{Manifest: manifest, Pricing: pricing}
	for _, it := range r.Iterations {
		row := it.Row
		run.Setups = append(run.Setups, results.SetupRun{
			Name: it.Name, Setup: it.Setup, Route: it.Route.String(), Reason: it.Reason,
			Records: it.Records, Responses: it.Responses, Row: &row, Stats: it.Stats, LogProblems: it.LogProblems,
			DroppedIterations: it.DroppedIterations, Kinds: it.Kinds,
		})
	}
	return run
}
