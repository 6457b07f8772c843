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
	// Records are the setup's traces, extracted from the platform's logs.
	Records []trace.Record
	// Responses are what the client saw, one per arrival.
	Responses []fusionsim.Response
	// Row is the summary of the iteration.
	Row results.Row
	// Start and End bound the iteration on the platform's clock (End is
	// after its last log line).
	Start, End time.Time
	// LogProblems counts log lines and invocations the extractor could not
	// use (0 on a healthy platform).
	LogProblems int
	// DroppedIterations counts the scenario iterations that found no free
	// virtual user (their requests were never sent).
	DroppedIterations int
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
		it, err := runIteration(ctx, cfg, clock, pricing, setup, reason)
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

func runIteration(ctx context.Context, cfg Config, clock func() time.Time, pricing model.Pricing, setup *fusionsim.Setup, reason string) (Iteration, error) {
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
	topt := cfg.Trace
	kinds := false
	for _, a := range arrivals {
		if a.Kind != "" {
			kinds = true // join responses and traces to summarize by kind
			break
		}
	}
	topt.RootTraceIDs = topt.RootTraceIDs || kinds
	x := trace.NewExtractor(topt)
	rp, direct := cfg.Platform.(RecordPlatform)
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
	}
	resps, err := cfg.Platform.Run(ctx, route, arrivals)
	if err != nil {
		cfg.Progress.End("")
		return it, fmt.Errorf("run: %w", err)
	}
	it.Responses = resps
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
			cfg.Progress.End("")
			return it, fmt.Errorf("reading logs: %w", err)
		}
	}
	if cfg.LogsRead != nil {
		cfg.LogsRead()
	}
	ext := x.Finish()
	it.LogProblems = ext.Malformed + ext.Inconsistent + ext.Incomplete
	for name := range ext.Traces {
		if name != it.Name {
			cfg.Progress.End("")
			return it, fmt.Errorf("logs of the iteration hold traces of setup %q", name)
		}
	}
	it.Records = ext.Traces[it.Name]
	for i := range resps {
		resps[i].Kind = arrivals[i].Kind
		if ext.RootTraceIDs != nil && resps[i].RequestID != "" {
			resps[i].TraceID = ext.RootTraceIDs[resps[i].RequestID]
		}
		if arrivals[i].VUs != nil && resps[i].Dropped() {
			it.DroppedIterations++
		}
	}
	it.Row = results.Summarize(it.Name, it.Records, resps, pricing)
	dropped := ""
	if it.DroppedIterations > 0 {
		dropped = fmt.Sprintf(", %d dropped iterations (no free virtual user)", it.DroppedIterations)
	}
	cfg.Progress.End(fmt.Sprintf("%s: %d requests, %d invocations, median %s ms, p95 %s ms, %d errors%s",
		it.Name, it.Row.Requests, it.Row.Invocations, ms(it.Row.MedianMs), ms(it.Row.P95Ms), it.Row.Errors, dropped))
	return it, nil
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
			Records: it.Records, Responses: it.Responses, Row: &row, LogProblems: it.LogProblems,
			DroppedIterations: it.DroppedIterations,
		})
	}
	return run
}
