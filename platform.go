package fusionsim

import (
	"context"
	"errors"
	"time"
)

// Platform runs an application's functions under a fusion setup. The emulator
// (package emulator, virtual time) and the AWS backend (package aws, real
// Lambda) implement it; experiments are written against it only.
type Platform interface {
	// Deploy makes setup the configuration of every function. Like a
	// configuration update on Lambda it discards every execution environment,
	// so the next request of each function is a cold start.
	Deploy(ctx context.Context, setup *Setup) error

	// Run sends one request per arrival to route (or to the arrival's own
	// Route, when it has one) and waits until every invocation the requests
	// caused (async ones included) has finished. It returns one Response per
	// arrival, in order. Errors of single requests
	// (throttling, function errors, ErrDropped for the requests of a
	// scenario iteration that found no free virtual user) are in the
	// responses; Run's own error means the run could not be carried out
	// (CheckArrivals' errors included). Scenario iterations (Arrival.Follows,
	// Arrival.VUs) are run as a Sequencer decides.
	Run(ctx context.Context, route Route, arrivals []Arrival) ([]Response, error)

	// ForceCold discards every execution environment: idle ones at once, busy
	// ones when their invocation ends.
	ForceCold(ctx context.Context) error

	// Logs calls fn for every log line written in [from, to), function by
	// function in name order, each function's lines in time order.
	Logs(ctx context.Context, from, to time.Time, fn func(LogLine) error) error
}

// Arrival is one request of a load.
type Arrival struct {
	// At is the send time as an offset from the start of the run; with
	// AfterPrevious or Follows it is the pause after the response it waits
	// for.
	At time.Duration
	// AfterPrevious sends the request only once the previous one has been
	// answered and every invocation it caused has ended (a closed loop).
	AfterPrevious bool
	// ColdBefore discards every execution environment before sending (the
	// prototype's cold-start protocol).
	ColdBefore bool
	// Event is the request body; nil sends {}.
	Event Event
	// Route, when its Task is set, is the route this request is sent to
	// instead of the route given to Platform.Run (scenario loads send each
	// request of an iteration to its own entry route).
	Route Route
	// Kind names the kind of request for summaries that report each kind
	// separately (e.g. "addcartitem", "get", "checkout"); "" for loads of
	// one kind.
	Kind string

	// Follows, when > 0, is 1 + the index of an earlier arrival: this
	// request is sent At after the response to that one has arrived (the
	// response only, not the invocations that request caused, unlike
	// AfterPrevious). Scenario loads chain the requests of an iteration this
	// way, and start their iterations after the setup phase's last request.
	Follows int
	// VUs, when set, makes the request the first of a scenario iteration run
	// by a virtual user of the pool (k6's arrival-rate executors): when it is
	// due it takes a free virtual user, or, when none is free, the iteration
	// is dropped (see Sequencer). Arrivals that start iterations of one
	// scenario share one pool. A later arrival that Follows a request of an
	// iteration and has no VUs of its own continues that iteration on the
	// same virtual user; the user is free again when the response to the
	// iteration's last request has arrived.
	VUs *VUPool
	// EventFor, when set, makes the request body when the request is sent,
	// from the number of the virtual user that sends it (1, 2, ...; 0
	// outside an iteration); Event is then ignored. It must be a pure
	// function returning a new map on each call: platforms may call it from
	// several goroutines at once.
	EventFor func(vu int) Event
}

// VUPool is the pool of virtual users that the iterations of a scenario
// share, as in k6's constant- and ramping-arrival-rate executors.
type VUPool struct {
	// PreAllocatedVUs exist from the start of Run, free (0..MaxVUs).
	PreAllocatedVUs int
	// MaxVUs caps the virtual users (>= 1). An iteration that finds no free
	// user is dropped; if fewer than MaxVUs exist, one more is created then,
	// free for the iterations due after that instant (k6 initializes one
	// in the background; here that takes no time).
	MaxVUs int
}

// RouteOr is the arrival's own route, or def when it has none.
func (a Arrival) RouteOr(def Route) Route {
	if a.Route.Task != "" {
		return a.Route
	}
	return def
}

// Response is what the client saw of one request.
type Response struct {
	// Sent and Received are the client-side times of the request; their
	// difference is the end-to-end latency (gateway, cold start and handler).
	Sent, Received time.Time
	// StatusCode is the HTTP status the client got: 200 (sync), 202 (async),
	// 429 (throttled), 502 (function error through API Gateway), ...
	StatusCode int
	// RequestID is the Lambda request id of the entry invocation.
	RequestID string
	// Result is the entry task's result (sync requests).
	Result Event
	// Err is nil, ErrThrottled, ErrDropped (not sent: StatusCode 0, Sent =
	// Received = when it was due), or a *FunctionError.
	Err error

	// Kind is the arrival's Kind and TraceID the trace id of the request's
	// root invocation, when its traces hold one. Platforms leave them
	// empty; experiment.Run sets them, so that summaries can report each
	// kind of request of a scenario load separately.
	Kind, TraceID string
}

// Dropped reports whether the request was never sent: its scenario
// iteration found no free virtual user (ErrDropped).
func (r Response) Dropped() bool { return errors.Is(r.Err, ErrDropped) }

// Latency is the end-to-end latency.
func (r Response) Latency() time.Duration { return r.Received.Sub(r.Sent) }

// LogLine is one line of a function's log stream.
type LogLine struct {
	// Function is the function's name, e.g. "fusion-function-I-128" (the log
	// group /aws/lambda/<Function> on AWS).
	Function string
	// Time is when the line was written.
	Time time.Time
	// Text is the line as the runtime printed it, without the newline.
	Text string
}
