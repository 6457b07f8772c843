package emulator

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
)

// DefaultEpoch is the wall time of virtual time zero when Config.Epoch is
// unset: a fixed instant, so that the same seed gives the same timestamps.
var DefaultEpoch = time.Date(2023, time.February, 1, 0, 0, 0, 0, time.UTC)

// Config configures an Emulator.
type Config struct {
	// App is the application whose tasks the functions run.
	App *fusionsim.App
	// Profile holds the platform's parameters (model.Default() if zero).
	Profile model.Profile
	// Seed seeds the one random source of the run.
	Seed uint64
	// Epoch is the wall time of virtual time zero (DefaultEpoch if zero).
	Epoch time.Time
	// Log receives every log line as Lambda-format text (nil: no text). A
	// sink that also implements LogReader makes Logs work.
	Log LogSink
	// Records receives every log line as a typed record, the emulator's
	// own form of its logs (nil: none); SetRecordSink changes it. Text is
	// formatted only for Log.
	Records fusionsim.RecordSink
	// Record receives the platform's own account of every invocation (nil:
	// none). It complements the logs; tests compare the two.
	Record func(*Record)
	// ExecuteWork runs the real computation of work descriptors (Work.Run)
	// besides modeling their time. Off by default.
	ExecuteWork bool
	// Timeout is every function's timeout (0: Profile.Limits.TimeoutS).
	Timeout time.Duration
	// ReservedConcurrency caps functions by name ("I-128" or
	// "fusion-function-I-128").
	ReservedConcurrency map[string]int
	// Progress, if set, is called as the requests of Run finish: done of total.
	Progress func(done, total int)
}

// Emulator is the emulated Lambda platform: functions, execution
// environments, the fusion handler, billing and logs, all on a virtual
// clock. It is single-threaded: call its methods from one goroutine.
type Emulator struct {
	cfg     Config
	profile model.Profile
	k       kernel
	rng     *rand.Rand
	epoch   time.Time
	epochNs int64 // epoch in Unix nanoseconds
	app     *fusionsim.App
	setup   *fusionsim.Setup
	funcs   map[fusionsim.FunctionID]*function
	order   []*function // in creation order, for deterministic iteration
	store   *Tables
	timeout time.Duration
	reserve map[fusionsim.FunctionID]int

	timeouts timeoutQueue

	jobs     []*cpuJob // free CPU jobs
	jobOrder []*cpuJob // scratch of processor.allocate
	routes   map[routeKey]*routeInfo
	// workCache holds the profile's work entries used (workParams).
	workCache [8]workEntry

	// Pools of the objects of requests and invocations (see
	// invocation.free).
	invPool    []*invocation
	reqPool    []*request
	clientPool []*clientReq
	ctxPool    []*taskCtx
	localPool  []*localCall
	callPool   []*remoteCall
	strs       stringArena // request and trace ids

	pool    []*coro
	all     []*coro
	current *coro
	nextEnv int

	// account-wide concurrency of functions without reserved concurrency.
	unreservedActive int
	reservedTotal    int

	// coldEpoch counts forced cold starts; an environment created in an
	// earlier epoch is reclaimed when its request ends.
	coldEpoch uint64

	stats       Stats
	leanRecords bool                    // SetLeanRecords
	rec         fusionsim.LogRecord     // the record being written (reused)
	lines       fusionsim.LineFormatter // formats records for Log
	line        []byte                  // scratch buffer for log lines
	fatal       error                   // an internal error; the run stops
}

// Stats counts what happened on the platform.
type Stats struct {
	Invocations   int // invocations started
	ColdStarts    int
	Throttles     int // requests refused for lack of concurrency (retries count again)
	DroppedEvents int // async events dropped after their retries or age ran out
	Timeouts      int
	OutOfMemory   int
	Errors        int // invocations that ended with a function error (any cause)
	Environments  int // environments created
}

var _ fusionsim.Platform = (*Emulator)(nil)

// New makes an emulator for cfg.App; nothing is deployed yet.
func New(cfg Config) (*Emulator, error) {
	if cfg.App == nil {
		return nil, errors.New("emulator: Config.App is nil")
	}
	if err := cfg.App.Validate(); err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	prof := cfg.Profile
	if prof.Name == "" && prof.CPU.MBPerVCPU == 0 {
		prof = model.Default()
	}
	if err := prof.Validate(); err != nil {
		return nil, fmt.Errorf("emulator: profile: %w", err)
	}
	em := &Emulator{
		cfg:     cfg,
		profile: prof,
		rng:     rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		epoch:   cfg.Epoch,
		app:     cfg.App,
		funcs:   make(map[fusionsim.FunctionID]*function),
		store:   NewTables(),
		timeout: cfg.Timeout,
		reserve: make(map[fusionsim.FunctionID]int),
	}
	if em.epoch.IsZero() {
		em.epoch = DefaultEpoch
	}
	em.timeouts.check = em.checkTimeouts
	em.epochNs = em.epoch.UnixNano()
	if em.timeout == 0 {
		em.timeout = time.Duration(prof.Limits.TimeoutS * float64(time.Second))
	}
	if em.timeout <= 0 {
		return nil, fmt.Errorf("emulator: Config.Timeout: %v must be > 0", cfg.Timeout)
	}
	for name, n := range cfg.ReservedConcurrency {
		id, err := fusionsim.ParseFunctionName(name)
		if err != nil {
			return nil, fmt.Errorf("emulator: Config.ReservedConcurrency: %w", err)
		}
		if _, ok := cfg.App.Tasks[id.Task]; !ok {
			return nil, fmt.Errorf("emulator: Config.ReservedConcurrency[%q]: %s is not a task of %s (tasks: %s)", name, id.Task, cfg.App.Name, strings.Join(cfg.App.TaskNames(), ", "))
		}
		if n < 1 {
			return nil, fmt.Errorf("emulator: Config.ReservedConcurrency[%q]: %d must be >= 1", name, n)
		}
		em.reserve[id] = n
		em.reservedTotal += n
	}
	if em.reservedTotal >= prof.Limits.AccountConcurrency {
		return nil, fmt.Errorf("emulator: Config.ReservedConcurrency: %d reserved of an account limit of %d leaves nothing unreserved", em.reservedTotal, prof.Limits.AccountConcurrency)
	}
	return em, nil
}

// Close stops the emulator's coroutines. The emulator is unusable after.
func (em *Emulator) Close() {
	for _, c := range em.all {
		// An idle coroutine (finished, so in em.pool) goes to the next
		// emulator of the process; one still in a job (a run that
		// failed) is stopped and unwinds.
		if !c.finished || !idleCoros.put(c) {
			c.stop()
		}
	}
	em.all, em.pool = nil, nil
}

// SetRecordSink makes s the receiver of every log record from now on (nil:
// none); see Config.Records.
func (em *Emulator) SetRecordSink(s fusionsim.RecordSink) { em.cfg.Records = s }

// Profile returns the profile the emulator runs on.
func (em *Emulator) Profile() model.Profile { return em.profile }

// Stats returns the counters so far.
func (em *Emulator) Stats() Stats { return em.stats }

// Tables returns the emulated table store.
func (em *Emulator) Tables() *Tables { return em.store }

// Now is the current virtual time as wall time.
func (em *Emulator) Now() time.Time { return em.epoch.Add(em.k.now) }

// Elapsed is the current virtual time since the epoch.
func (em *Emulator) Elapsed() time.Duration { return em.k.now }

// Epoch is the wall time of virtual time zero.
func (em *Emulator) Epoch() time.Time { return em.epoch }

// Setup returns the deployed setup (nil before Deploy).
func (em *Emulator) Setup() *fusionsim.Setup { return em.setup }

// Deploy validates setup against the application and makes it the
// configuration of every function; every environment is discarded.
func (em *Emulator) Deploy(ctx context.Context, setup *fusionsim.Setup) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := em.app.CheckSetup(setup); err != nil {
		return err
	}
	em.setup = setup
	em.forceCold()
	return nil
}

// ForceCold discards every execution environment: idle ones now, busy and
// initializing ones when their request ends.
func (em *Emulator) ForceCold(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	em.forceCold()
	return nil
}

func (em *Emulator) forceCold() {
	for _, f := range em.order {
		for _, env := range f.idle {
			em.reclaim(env)
		}
		clear(f.idle)
		f.idle = f.idle[:0]
	}
	// Environments in use are reclaimed when their request ends.
	em.coldEpoch++
}

// function returns the function id, creating it on first use.
func (em *Emulator) function(id fusionsim.FunctionID) (*function, error) {
	if f, ok := em.funcs[id]; ok {
		return f, nil
	}
	task, ok := em.app.Tasks[id.Task]
	if !ok {
		return nil, fmt.Errorf("%w: %s (%q is not a task of %s)", fusionsim.ErrUnknownFunction, id.Name(), id.Task, em.app.Name)
	}
	if id.MemoryMB < fusionsim.MinMemoryMB || id.MemoryMB > fusionsim.MaxMemoryMB {
		return nil, fmt.Errorf("%w: %s: memory %d MB outside %d..%d", fusionsim.ErrUnknownFunction, id.Name(), id.MemoryMB, fusionsim.MinMemoryMB, fusionsim.MaxMemoryMB)
	}
	f := &function{
		id:         id,
		name:       id.Name(),
		task:       task,
		memoryMB:   id.MemoryMB,
		memoryText: itoa(id.MemoryMB),
		share:      em.profile.CPU.Share(id.MemoryMB),
		cores:      em.profile.CPU.Cores(id.MemoryMB),
		burstMs:    em.profile.CPU.Burst(id.MemoryMB),
		timeout:    em.timeout,
		reserved:   em.reserve[id],
		tokens:     float64(em.profile.Limits.ScalingBurst),
		tokensAt:   em.k.now,
	}
	em.funcs[id] = f
	em.order = append(em.order, f)
	return f, nil
}

// Functions lists the functions used so far by name.
func (em *Emulator) Functions() []fusionsim.FunctionID {
	ids := make([]fusionsim.FunctionID, len(em.order))
	for i, f := range em.order {
		ids[i] = f.id
	}
	return ids
}

// HasFunction reports whether id names a task of the application at a valid
// memory size (the function exists or would be created on first use).
func (em *Emulator) HasFunction(id fusionsim.FunctionID) bool {
	_, ok := em.app.Tasks[id.Task]
	return ok && id.MemoryMB >= fusionsim.MinMemoryMB && id.MemoryMB <= fusionsim.MaxMemoryMB
}

// admit reports whether fn may run one more environment, taking a scaling
// token when a new one is needed.
func (em *Emulator) admit(fn *function, newEnv bool) bool {
	l := em.profile.Limits
	if fn.reserved > 0 {
		if fn.active >= fn.reserved {
			return false
		}
	} else if em.unreservedActive >= l.AccountConcurrency-em.reservedTotal {
		return false
	}
	if newEnv {
		rate := float64(l.ScalingBurst) / l.ScalingWindowS // environments per second
		fn.tokens = min(float64(l.ScalingBurst), fn.tokens+rate*(em.k.now-fn.tokensAt).Seconds())
		fn.tokensAt = em.k.now
		if fn.tokens < 1 {
			return false
		}
		fn.tokens--
	}
	fn.active++
	if fn.reserved == 0 {
		em.unreservedActive++
	}
	return true
}

func (em *Emulator) leave(fn *function) {
	fn.active--
	if fn.reserved == 0 {
		em.unreservedActive--
	}
}

// arrive delivers a request to its function: a warm environment if one is
// idle, else a new one (cold start), else the request is throttled.
func (em *Emulator) arrive(req *request) {
	fn := req.fn
	// Idle environments past their keep-alive are reclaimed here, when they
	// would be taken: with most-recently-used reuse this picks exactly the
	// environment an eager reclaim would leave on top.
	for len(fn.idle) > 0 && fn.idle[len(fn.idle)-1].idleUntil <= em.k.now {
		em.reclaim(fn.takeIdle())
	}
	if len(fn.idle) > 0 {
		if !em.admit(fn, false) {
			em.throttle(req)
			return
		}
		env := fn.takeIdle()
		em.must(env.to(Busy))
		em.startInvocation(env, req)
		return
	}
	if !em.admit(fn, true) {
		em.throttle(req)
		return
	}
	em.nextEnv++
	em.stats.Environments++
	env := &environment{id: em.nextEnv, fn: fn, state: Initializing, initStart: em.k.now}
	env.cpu.init(em, fn.share, fn.cores, fn.burstMs, fn.memoryMB)
	env.residentMB = em.profile.Handler.RuntimeMemoryMB
	env.cpu.setResident(env.residentMB)
	env.peakMB = env.residentMB
	env.coldEpoch = em.coldEpoch
	env.initDur = em.profile.ColdStart.InitDuration(em.rng, em.profile.CPU, fn.memoryMB)
	env.first = req
	em.k.push(event{at: em.k.now + env.initDur, act: env})
}

// throttle refuses a request for lack of concurrency: a sync caller gets
// ErrThrottled; an async event is retried with exponential backoff until it
// is older than the maximum event age.
func (em *Emulator) throttle(req *request) {
	em.stats.Throttles++
	if req.sync {
		req.caller.respond(em, nil, fmt.Errorf("%w: %s", fusionsim.ErrThrottled, req.fn.name), nil)
		em.requestDone(req)
		return
	}
	l := em.profile.Limits
	delay := l.ThrottleRetryMinS * math.Pow(2, float64(req.throttled))
	delay = min(delay, l.ThrottleRetryMaxS)
	d := time.Duration(delay * float64(time.Second))
	if (em.k.now + d - req.queued).Seconds() > l.MaxEventAgeS {
		em.stats.DroppedEvents++
		em.requestDone(req)
		return
	}
	req.throttled++
	em.k.push(event{at: em.k.now + d, act: req})
}

// release returns env after an invocation: idle until its keep-alive runs
// out, or reclaimed at once when it was forced cold or failed.
func (em *Emulator) release(env *environment, failed bool) {
	fn := env.fn
	em.leave(fn)
	if failed || env.coldEpoch != em.coldEpoch {
		em.reclaim(env)
		return
	}
	em.must(env.to(Idle))
	fn.idle = append(fn.idle, env)
	env.idleUntil = em.k.now + em.profile.ColdStart.KeepAlive(em.rng)
}

func (em *Emulator) reclaim(env *environment) {
	em.must(env.to(Reclaimed))
	env.cpu.reset()
}

// must turns an internal invariant violation into the run's fatal error.
func (em *Emulator) must(err error) {
	if err != nil && em.fatal == nil {
		em.fatal = fmt.Errorf("emulator: internal error: %w", err)
	}
}

// step runs the next event; false when the queue is empty.
func (em *Emulator) step() bool {
	if em.k.empty() {
		return false
	}
	ev := em.k.pop()
	if ev.act != nil {
		ev.act.fire(em, ev.arg)
	} else {
		ev.fn()
	}
	return true
}

// NextEvent is the time of the earliest scheduled event, for drivers that
// follow the wall clock.
func (em *Emulator) NextEvent() (time.Time, bool) {
	t, ok := em.k.next()
	return em.epoch.Add(t), ok
}

// AdvanceTo runs every event up to t and moves the clock to t (never back).
func (em *Emulator) AdvanceTo(t time.Time) error {
	target := t.Sub(em.epoch)
	for {
		next, ok := em.k.next()
		if !ok || next > target {
			break
		}
		em.step()
		if em.fatal != nil {
			return em.fatal
		}
	}
	if target > em.k.now {
		em.k.now = target
	}
	return nil
}
