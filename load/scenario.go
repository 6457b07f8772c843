package load

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
)

// Executors of a scenario: how its iterations start (k6's names).
const (
	// ExecutorConstant starts RatePerS iterations per second for Duration:
	// iteration k at k/RatePerS (as Constant).
	ExecutorConstant = "constant-arrival-rate"
	// ExecutorRamping starts iterations at a rate that goes linearly from
	// stage to stage (as Ramping), from StartRatePerS.
	ExecutorRamping = "ramping-arrival-rate"
)

// KindScenario names scenario loads in the command line and the results
// (--load scenario, --load-file).
const KindScenario = "scenario"

// AllKinds is the reserved kind name of the mixture of every kind of
// request in per-kind summaries; no request kind may take it.
const AllKinds = "all"

// Scenario is a load as k6 users write it: iterations, each a sequence of
// requests sent one after the other by a virtual user (each request waits
// for the previous one's response, not for the async work it started), that
// start at a constant or ramping arrival rate with a cap on the virtual
// users, after a setup phase whose requests are sent once, in order, before
// the iterations' clock starts. Bodies are templates (Template) rendered
// from the run's seed. Read one with ReadScenarioFile or DecodeScenario;
// Arrivals makes its arrivals for a setup.
type Scenario struct {
	// Name describes the scenario ("" if none); File is where it was read
	// from ("" when built in code): errors name it.
	Name, File string
	// Executor is ExecutorConstant or ExecutorRamping.
	Executor string
	// RatePerS is the constant executor's rate, iterations started per
	// second, for Duration.
	RatePerS float64
	Duration time.Duration
	// StartRatePerS and Stages are the ramping executor's rates, iterations
	// per second (Stage.TargetPerS).
	StartRatePerS float64
	Stages        []Stage
	// PreAllocatedVUs and MaxVUs size the pool of virtual users
	// (fusionsim.VUPool): an iteration that finds no free user is dropped.
	// PreAllocatedVUs < 0 (a file without pre_allocated_vus) is MaxVUs.
	PreAllocatedVUs, MaxVUs int
	// Setup are the requests of the setup phase, Iteration those of every
	// iteration, in order.
	Setup, Iteration []Request
}

// Request is one request of a scenario's setup phase or iteration.
type Request struct {
	// Kind names the kind of request in per-kind summaries (default: the
	// entry task).
	Kind string
	// Entry is the entry task: the request goes to its function's route,
	// sync or async, at the memory size the setup gives it.
	Entry string
	Sync  bool
	// Pause is the wait after the previous request's response (for the
	// setup phase's first request: after the start of the run).
	Pause time.Duration
	// Repeat sends the request this many times in a row (>= 1), each with
	// its own rendering of Body.
	Repeat int
	// Body is the request body's template (nil: {}).
	Body *Template
	// Line is the request's line in File (0 when built in code).
	Line int
}

// CountRequests counts the arrivals of a list of requests, repeats
// included.
func CountRequests(rs []Request) int {
	n := 0
	for _, r := range rs {
		n += r.Repeat
	}
	return n
}

// Validate checks the scenario's figures and names; errors name the field
// (and the file and line, for requests read from a file).
func (s *Scenario) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &fieldError{file: s.File, field: field, msg: fmt.Sprintf(format, args...)}
	}
	switch s.Executor {
	case ExecutorConstant:
		if !(s.RatePerS > 0) || math.IsInf(s.RatePerS, 0) {
			return bad("rate_per_s", "%v must be a finite number > 0 (iterations started per second)", s.RatePerS)
		}
		if s.Duration <= 0 || s.Duration > maxOffset {
			return bad("duration_s", "%v must be > 0 and at most %v", s.Duration.Seconds(), maxOffset.Seconds())
		}
		if s.Stages != nil || s.StartRatePerS != 0 {
			return bad("stages", "a %s scenario has rate_per_s and duration_s, no stages or start_rate_per_s", s.Executor)
		}
	case ExecutorRamping:
		if !(s.StartRatePerS >= 0) || math.IsInf(s.StartRatePerS, 0) {
			return bad("start_rate_per_s", "%v must be a finite number >= 0", s.StartRatePerS)
		}
		if len(s.Stages) == 0 {
			return bad("stages", "a %s scenario needs at least one stage", s.Executor)
		}
		var total time.Duration
		for i, st := range s.Stages {
			if !(st.TargetPerS >= 0) || math.IsInf(st.TargetPerS, 0) {
				return bad(fmt.Sprintf("stages[%d].target_per_s", i), "%v must be a finite number >= 0 (iterations per second)", st.TargetPerS)
			}
			if st.Duration <= 0 {
				return bad(fmt.Sprintf("stages[%d].duration_s", i), "%v must be > 0", st.Duration.Seconds())
			}
			if total += st.Duration; total > maxOffset || total < 0 {
				return bad(fmt.Sprintf("stages[%d].duration_s", i), "the stages last longer than %v s", maxOffset.Seconds())
			}
		}
		if s.RatePerS != 0 || s.Duration != 0 {
			return bad("rate_per_s", "a %s scenario has stages (and start_rate_per_s), no rate_per_s or duration_s", s.Executor)
		}
	default:
		return bad("executor", "%q is neither %s nor %s", s.Executor, ExecutorConstant, ExecutorRamping)
	}
	if s.MaxVUs < 1 || s.MaxVUs > maxVUs {
		return bad("max_vus", "%d must be 1..%d", s.MaxVUs, maxVUs)
	}
	if s.PreAllocatedVUs > s.MaxVUs {
		return bad("pre_allocated_vus", "%d must be 0..max_vus (%d)", s.PreAllocatedVUs, s.MaxVUs)
	}
	if len(s.Iteration) == 0 {
		return bad("iteration", "no request: an iteration needs at least one")
	}
	for _, part := range []struct {
		name string
		rs   []Request
	}{{"setup", s.Setup}, {"iteration", s.Iteration}} {
		for i, r := range part.rs {
			field := fmt.Sprintf("%s[%d]", part.name, i)
			where := func(sub string) string { return field + sub }
			bad := func(field, format string, args ...any) error {
				return &fieldError{file: s.File, field: field, msg: fmt.Sprintf(format, args...), line: r.Line}
			}
			if err := fusionsim.ValidateTaskName(r.Entry); err != nil {
				return bad(where(".entry"), "%v", err)
			}
			if err := ValidateKind(r.Kind); err != nil {
				return bad(where(".kind"), "%v", err)
			}
			if r.Pause < 0 || r.Pause > maxOffset {
				return bad(where(".pause_s"), "%v must be >= 0", r.Pause.Seconds())
			}
			if part.name == "iteration" && i == 0 && r.Pause != 0 {
				return bad(where(".pause_s"), "the first request of an iteration is sent when the iteration starts; pause_s applies to the requests after it")
			}
			if r.Repeat < 1 || r.Repeat > maxRepeat {
				return bad(where(".repeat"), "%d must be 1..%d", r.Repeat, maxRepeat)
			}
			if r.Body != nil && part.name == "setup" && r.Body.usesIteration() {
				return bad(where(".body"), "$iteration: the setup phase has no iteration number")
			}
		}
	}
	return nil
}

// fieldError is an error of Validate: the field and what is wrong with it.
type fieldError struct {
	file, field, msg string
	line             int // 0: unknown
}

func (e *fieldError) Error() string {
	where := ""
	if e.file != "" {
		where = e.file + ": "
		if e.line > 0 {
			where = e.file + ":" + strconv.Itoa(e.line) + ": "
		}
	}
	return fmt.Sprintf("%v: %s%s: %s", ErrBadLoad, where, e.field, e.msg)
}

func (e *fieldError) Unwrap() error { return ErrBadLoad }

// Bounds of a scenario's figures.
const (
	maxVUs    = 1_000_000
	maxRepeat = 100_000
)

// ValidateKind checks a request kind: 1 to 64 letters, digits, '_', '-' or
// '.', and not AllKinds.
func ValidateKind(kind string) error {
	if kind == "" || len(kind) > 64 {
		return fmt.Errorf("kind %q: 1 to 64 characters", kind)
	}
	if kind == AllKinds {
		return fmt.Errorf("kind %q is reserved for the mixture of all kinds", kind)
	}
	for _, c := range kind {
		if !(c == '_' || c == '-' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return fmt.Errorf("kind %q: character %q not allowed (letters, digits, _, -, .)", kind, c)
		}
	}
	return nil
}

// CheckApp checks that every request's entry task is a task of app; the
// error names the request (file and line when read from a file).
func (s *Scenario) CheckApp(app *fusionsim.App) error {
	for _, part := range []struct {
		name string
		rs   []Request
	}{{"setup", s.Setup}, {"iteration", s.Iteration}} {
		for i, r := range part.rs {
			if _, ok := app.Tasks[r.Entry]; ok {
				continue
			}
			where := ""
			if s.File != "" {
				where = s.File + ":"
				if r.Line > 0 {
					where += strconv.Itoa(r.Line) + ":"
				}
				where += " "
			}
			return fmt.Errorf("%w: %s%s[%d].entry: %q is not a task of %s (tasks: %s)", ErrBadLoad, where, part.name, i, r.Entry, app.Name, strings.Join(app.TaskNames(), ", "))
		}
	}
	return nil
}

// Starts returns the start times of the iterations, offsets from the end of
// the setup phase: k/RatePerS for the constant executor, the ramping
// schedule of the stages for the other (see Constant and Ramping).
func (s *Scenario) Starts() ([]time.Duration, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var arr []fusionsim.Arrival
	var err error
	if s.Executor == ExecutorConstant {
		arr, err = Constant(s.RatePerS, s.Duration)
	} else {
		arr, err = Ramping(s.StartRatePerS, s.Stages)
	}
	if err != nil {
		return nil, err
	}
	out := make([]time.Duration, len(arr))
	for i, a := range arr {
		out[i] = a.At
	}
	return out, nil
}

// Requests counts the scenario's arrivals: the setup phase's requests and
// every iteration's; the error is Starts'.
func (s *Scenario) Requests() (int, error) {
	starts, err := s.Starts()
	if err != nil {
		return 0, err
	}
	return CountRequests(s.Setup) + len(starts)*CountRequests(s.Iteration), nil
}

// RouteFunc gives the route of a request to an entry task, sync or async:
// the setup decides its function's memory size.
type RouteFunc func(task string, sync bool) (fusionsim.Route, error)

// Arrivals makes the scenario's arrivals for one run: the setup phase's
// requests, each following the previous one's response (the first at its
// pause after the start), then every iteration, its first request At its
// start after the setup phase's last response (after the start of the run
// without a setup phase) and drawing a virtual user from one pool
// (fusionsim.VUPool), its other requests following the previous one. Every
// random figure of the bodies is drawn from a source seeded with seed, in
// order (setup, then iteration by iteration, request by request, the body
// in document order), so the same seed gives the same bodies whatever the
// platform; only the virtual user's number ($user) is filled in when a
// request is sent. route gives each request's route.
func (s *Scenario) Arrivals(seed uint64, route RouteFunc) ([]fusionsim.Arrival, error) {
	starts, err := s.Starts()
	if err != nil {
		return nil, err
	}
	perIter := CountRequests(s.Iteration)
	total := float64(CountRequests(s.Setup)) + float64(len(starts))*float64(perIter)
	if err := checkCount(total); err != nil {
		return nil, fmt.Errorf("%w (%d iterations of %d requests)", err, len(starts), perIter)
	}
	type entry struct {
		task string
		sync bool
	}
	routes := map[entry]fusionsim.Route{}
	routeOf := func(r Request) (fusionsim.Route, error) {
		key := entry{r.Entry, r.Sync}
		if rt, ok := routes[key]; ok {
			return rt, nil
		}
		rt, err := route(r.Entry, r.Sync)
		if err != nil {
			return rt, fmt.Errorf("%w: entry %s: %v", ErrBadLoad, r.Entry, err)
		}
		routes[key] = rt
		return rt, nil
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x7363656e6172696f)) // "scenario"
	out := make([]fusionsim.Arrival, 0, int(total))
	add := func(r Request, follows int, at time.Duration, iteration int) error {
		rt, err := routeOf(r)
		if err != nil {
			return err
		}
		a := fusionsim.Arrival{Route: rt, Kind: r.Kind, Follows: follows, At: at}
		ev, withUser := r.Body.draw(rng, iteration)
		if withUser {
			a.EventFor = func(vu int) fusionsim.Event { return fusionsim.Event(fillUser(ev, vu).(map[string]any)) }
		} else {
			a.Event = fusionsim.Event(ev.(map[string]any))
		}
		out = append(out, a)
		return nil
	}
	for _, r := range s.Setup {
		for range r.Repeat {
			if err := add(r, len(out), r.Pause, -1); err != nil {
				return nil, err
			}
		}
	}
	afterSetup := len(out) // 1 + the index of the setup's last request, or 0
	pool := &fusionsim.VUPool{PreAllocatedVUs: s.preAllocated(), MaxVUs: s.MaxVUs}
	for k, start := range starts {
		first := true
		for _, r := range s.Iteration {
			for range r.Repeat {
				var err error
				if first {
					err = add(r, afterSetup, start, k)
					out[len(out)-1].VUs = pool
					first = false
				} else {
					err = add(r, len(out), r.Pause, k)
				}
				if err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// preAllocated is PreAllocatedVUs, MaxVUs when it is negative.
func (s *Scenario) preAllocated() int {
	if s.PreAllocatedVUs < 0 {
		return s.MaxVUs
	}
	return s.PreAllocatedVUs
}

// Kinds lists the kinds of the scenario's requests in their first order of
// appearance (setup phase first).
func (s *Scenario) Kinds() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range append(append([]Request(nil), s.Setup...), s.Iteration...) {
		if !seen[r.Kind] {
			seen[r.Kind] = true
			out = append(out, r.Kind)
		}
	}
	return out
}

// String describes the scenario in one line, for logs and reports.
func (s *Scenario) String() string {
	var b strings.Builder
	b.WriteString("scenario")
	if s.Name != "" {
		b.WriteString(" " + strconv.Quote(s.Name))
	}
	if s.File != "" {
		b.WriteString(" (" + s.File + ")")
	}
	b.WriteString(": ")
	if s.Executor == ExecutorConstant {
		fmt.Fprintf(&b, "%s iterations/s for %v", strconv.FormatFloat(s.RatePerS, 'g', -1, 64), s.Duration.Round(time.Millisecond))
	} else {
		fmt.Fprintf(&b, "ramping from %s iterations/s: %s", strconv.FormatFloat(s.StartRatePerS, 'g', -1, 64), FormatStages(s.Stages))
	}
	fmt.Fprintf(&b, " (%s), at most %d virtual users (%d pre-allocated); iteration:", s.Executor, s.MaxVUs, s.preAllocated())
	b.WriteString(describe(s.Iteration))
	if len(s.Setup) > 0 {
		b.WriteString("; setup:" + describe(s.Setup))
	}
	return b.String()
}

func describe(rs []Request) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(" " + r.Kind)
		if r.Kind != r.Entry {
			b.WriteString(" (" + r.Entry + ")")
		}
		if r.Repeat > 1 {
			fmt.Fprintf(&b, " x%d", r.Repeat)
		}
	}
	return b.String()
}
