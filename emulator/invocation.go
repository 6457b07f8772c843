package emulator

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
)

// request is one invocation request on its way to a function.
type request struct {
	fn      *function
	event   fusionsim.Event
	traceID string // "" on a client request: its entry invocation makes one
	depth   int    // call depth of the invocation it starts
	sync    bool
	tree    *tree
	queued  time.Duration // when the event was first sent (async event age)
	// throttled and failed count the retries of an async event.
	throttled, failed int
	// rid, when set, is the request id of an async client request, drawn when
	// it was accepted (Lambda answers the 202 with it). Retries after a
	// function error get new ids, so that every invocation in the logs has
	// its own.
	rid *[2]uint64
	// caller receives a sync request's result when the invocation ends (or
	// at once when it is throttled). nil for async requests.
	caller responder
}

// responder is the caller of a sync request: a remote call or a client.
type responder interface {
	respond(em *Emulator, res fusionsim.Event, err error, inv *invocation)
}

// tree counts the requests one client request caused that have not ended.
// setup is the setup deployed when the client request came: every
// invocation of the tree runs under it, even after a redeploy (a request
// finishes under the setup it started with).
type tree struct {
	open   int
	onDone func()
	setup  *fusionsim.Setup
}

func (em *Emulator) newRequest(fn *function, ev fusionsim.Event, traceID string, depth int, sync bool, t *tree) *request {
	t.open++
	return &request{fn: fn, event: ev, traceID: traceID, depth: depth, sync: sync, tree: t, queued: em.k.now}
}

// requestDone ends a request for good (no more retries).
func (em *Emulator) requestDone(req *request) {
	req.tree.open--
	if req.tree.open == 0 && req.tree.onDone != nil {
		req.tree.onDone()
	}
}

// invocation is one Lambda invocation: the fusion handler running the
// function's entry task for one request in one environment.
type invocation struct {
	em       *Emulator
	req      *request
	env      *environment
	fn       *function
	rid      [2]uint64 // random words of the Lambda request id
	id       string    // the request id, formatted on first use
	traceID  string
	root     bool
	cold     bool
	start    time.Duration // start of the event (after INIT on a cold start)
	deadline time.Duration // start + timeout

	coros   int   // coroutines running for it
	pending int   // remote calls not yet returned
	tails   int   // tail CPU work still running
	waiter  *coro // the handler, waiting for the above to drain
	waitTok uint64

	hctx, ectx taskCtx // the handler's and the entry task's contexts

	t0       time.Duration   // start of the event, as the handler measured it
	timeBase int64           // the handler's time-base, ms
	res      fusionsim.Event // the entry task's result and error
	err      error
	handled  bool // the entry task and all it started have finished

	// netZ is the invocation's normal draw that correlates its remote
	// calls' latencies (model.Remote.LatencyCorrelation).
	netZ     float64
	haveNetZ bool
	// jitter multiplies the demand of its work (model.CPU.WorkJitter).
	jitter     float64
	haveJitter bool

	asyncErr error // first error of a local async call, raised at the end
	dead     bool  // killed by the platform (timeout, out of memory)
	reason   error // why it was killed
	ended    bool
}

// setup is the setup the invocation's client request runs under.
func (inv *invocation) setup() *fusionsim.Setup { return inv.req.tree.setup }

// startInvocation runs req in env (Busy). It is called from the kernel.
func (em *Emulator) startInvocation(env *environment, req *request) {
	fn := env.fn
	inv := &invocation{em: em, req: req, env: env, fn: fn, cold: env.served == 0, start: em.k.now}
	env.served++
	em.stats.Invocations++
	if inv.cold {
		em.stats.ColdStarts++
	}
	if req.rid != nil && req.failed == 0 {
		inv.rid = *req.rid // announced to the client with the 202
	} else {
		inv.rid = [2]uint64{em.rng.Uint64(), em.rng.Uint64()}
	}
	inv.traceID = req.traceID
	if inv.traceID == "" {
		inv.root = true
		inv.traceID = inv.setup().Name() + "-" + fn.id.Task + "-" + itoa(fn.memoryMB) + "-" + em.newHex32()
	}
	em.watchTimeout(inv)
	inv.begin()
}

// timeoutQueue holds running invocations in start order. Every function has
// the same timeout, so deadlines come in the same order and one kernel event
// at a time, at the earliest deadline still running, is enough.
type timeoutQueue struct {
	q     []*invocation
	head  int
	armed bool
	check func()
}

func (em *Emulator) watchTimeout(inv *invocation) {
	t := &em.timeouts
	inv.deadline = em.k.now + inv.fn.timeout
	t.q = append(t.q, inv)
	if !t.armed {
		t.armed = true
		em.k.at(inv.deadline, t.check)
	}
}

// checkTimeouts kills the invocations past their deadline and arms the next.
func (em *Emulator) checkTimeouts() {
	t := &em.timeouts
	for t.head < len(t.q) {
		inv := t.q[t.head]
		if !inv.ended && inv.deadline > em.k.now {
			if t.head > 1024 && t.head > len(t.q)/2 {
				n := copy(t.q, t.q[t.head:])
				clear(t.q[n:])
				t.q, t.head = t.q[:n], 0
			}
			em.k.at(inv.deadline, t.check)
			return
		}
		t.q[t.head] = nil
		t.head++
		if !inv.ended {
			em.stats.Timeouts++
			inv.kill(fusionsim.ErrTimeout)
		}
	}
	t.q, t.head, t.armed = t.q[:0], 0, false
}

// The fusion handler of an invocation runs in three phases. Its own
// overheads before and after the entry task (Handler.EventStartToInvokeLocal,
// ColdStart.FirstEvent, Handler.AfterHandler) run as kernel steps (see fire),
// which keeps coroutine switches off the hot path; the entry task and
// everything it calls run on a coroutine (handle).
const (
	invTail         = iota // a tail CPU job of the invocation completed
	invStartCPU            // CPU part of EventStartToInvokeLocal done
	invStartLatency        // its latency done
	invFirstCPU            // CPU part of FirstEvent done (cold starts)
	invFirstLatency        // its latency done
	invAfterCPU            // CPU part of AfterHandler done
	invAfterLatency        // its latency done: the invocation ends
)

// begin starts the handler (from the kernel, when the event arrives in env).
func (inv *invocation) begin() {
	em := inv.em
	em.logStart(inv)
	em.logInit(inv)
	inv.t0 = em.k.now
	if inv.cold {
		em.logMs(inv, fusionsim.MsgColdstartToEvent, em.msBetween(inv.env.initStart, inv.t0))
	}
	if !inv.addMemory(em.profile.Handler.InvocationMemoryMB) {
		inv.kill(fusionsim.ErrOutOfMemory)
		return
	}
	inv.cost(&em.profile.Handler.EventStartToInvokeLocal, invStartCPU)
}

// cost runs the CPU part of c in the environment, then fires cpuStep, whose
// handler waits for the latency part and fires cpuStep+1.
func (inv *invocation) cost(c *model.Cost, cpuStep uint64) {
	if c.CPUMs > 0 {
		inv.env.cpu.runThen(c.CPUMs, 1, inv, cpuStep)
		return
	}
	inv.fire(inv.em, cpuStep)
}

// latency waits for the latency part of c, then fires step.
func (inv *invocation) latency(c *model.Cost, step uint64) {
	em := inv.em
	if c.LatencyMs.IsZero() {
		inv.fire(em, step)
		return
	}
	em.k.push(event{at: em.k.now + model.Ms(c.LatencyMs.Sample(em.rng)), act: inv, arg: step})
}

// fire advances the invocation's kernel steps.
func (inv *invocation) fire(em *Emulator, step uint64) {
	if step == invTail {
		inv.tails--
		inv.poke()
		return
	}
	if inv.dead || inv.ended {
		return
	}
	p := &em.profile
	switch step {
	case invStartCPU:
		inv.latency(&p.Handler.EventStartToInvokeLocal, invStartLatency)
	case invStartLatency:
		if inv.cold {
			inv.cost(&p.ColdStart.FirstEvent, invFirstCPU)
			return
		}
		inv.startTask()
	case invFirstCPU:
		inv.latency(&p.ColdStart.FirstEvent, invFirstLatency)
	case invFirstLatency:
		inv.startTask()
	case invAfterCPU:
		inv.latency(&p.Handler.AfterHandler, invAfterLatency)
	case invAfterLatency:
		em.logMs(inv, fusionsim.MsgOverheadEvent, em.msBetween(inv.t0, em.k.now)-inv.timeBase)
		inv.releaseMemory(p.Handler.InvocationMemoryMB)
		if inv.err != nil {
			em.logError(inv, inv.err)
		}
		inv.end(inv.res, inv.err, inv.timeBase)
	}
}

// startTask logs the handler's start-up overhead and runs the entry task on
// a coroutine.
func (inv *invocation) startTask() {
	em := inv.em
	em.logMs(inv, fusionsim.MsgEventStartToInvokeLocal, em.msBetween(inv.t0, em.k.now))
	em.spawn(inv, nil) // nil: the job is inv.handle
}

// handle runs the entry task (on a coroutine), waits for everything it
// started, and logs the handler's time; AfterHandler follows as kernel steps
// once the coroutine has finished (coroutineDone).
func (inv *invocation) handle() {
	em := inv.em
	entry := inv.fn.id.Task
	// The handler's context sits one call above the entry task, so that the
	// entry task runs at the request's depth.
	inv.hctx = taskCtx{inv: inv, task: entry, depth: inv.req.depth - 1}
	inv.ectx = taskCtx{inv: inv, task: entry, depth: inv.req.depth}
	t1 := em.k.now
	res, err := inv.hctx.runTask(&inv.ectx, inv.req.event)
	em.logCall(inv, fusionsim.Call{Local: true, Sync: true, Caller: entry, Called: entry, Time: em.msBetween(t1, em.k.now)})
	inv.drain(false) // the prototype awaited every promise before returning
	if err == nil {
		err = inv.asyncErr
	}
	inv.timeBase = em.msBetween(inv.t0, em.k.now)
	em.logMs(inv, fusionsim.MsgTimeBase, inv.timeBase)
	inv.drain(true)
	inv.res, inv.err, inv.handled = res, err, true
}

// drain blocks the handler until no other coroutine of the invocation runs
// and every remote call has returned (and, with tails, until tail CPU work
// has finished too).
func (inv *invocation) drain(tails bool) {
	em := inv.em
	for inv.coros > 1 || inv.pending > 0 || (tails && inv.tails > 0) {
		c := em.current
		inv.waiter, inv.waitTok = c, c.wakeToken()
		c.block()
	}
}

// poke wakes the draining handler so that it checks again.
func (inv *invocation) poke() {
	// Clear the waiter before waking it: a wake from the kernel resumes the
	// handler at once, and it may register again before wake returns.
	if w := inv.waiter; w != nil {
		inv.waiter = nil
		inv.em.wake(w, inv.waitTok)
	}
}

// coroutineDone runs (in the kernel) when one of its coroutines finished.
func (inv *invocation) coroutineDone() {
	if inv.dead {
		if inv.coros == 0 && !inv.ended {
			inv.endKilled()
		}
		return
	}
	if inv.handled && inv.coros == 0 {
		inv.cost(&inv.em.profile.Handler.AfterHandler, invAfterCPU)
		return
	}
	inv.poke()
}

// end finishes a normal invocation: END and REPORT, billing, the
// environment back to idle, the response to the caller.
func (inv *invocation) end(res fusionsim.Event, err error, timeBase int64) {
	em := inv.em
	inv.ended = true
	dur := em.k.now - inv.start
	fe := asFunctionError(inv, err)
	recErr := ""
	if fe != nil {
		recErr = fe.Type
	}
	em.finish(inv, dur, timeBase, "", "", recErr)
	em.release(inv.env, false)
	em.respond(inv, res, fe)
}

// endKilled finishes an invocation the platform killed, once every one of its
// coroutines has unwound.
func (inv *invocation) endKilled() {
	em := inv.em
	inv.ended = true
	dur := em.k.now - inv.start
	var fe *fusionsim.FunctionError
	var status, errType string
	if errors.Is(inv.reason, fusionsim.ErrTimeout) {
		secs := fmt.Sprintf("%.2f", inv.fn.timeout.Seconds())
		em.logRaw(inv, "Task timed out after "+secs+" seconds")
		fe = fusionsim.NewFunctionError(inv.fn.name, "Sandbox.Timedout", "RequestId: "+inv.requestID()+" Error: Task timed out after "+secs+" seconds", fusionsim.ErrTimeout)
		status = "timeout"
	} else {
		em.logRaw(inv, "RequestId: "+inv.requestID()+" Error: Runtime exited with error: signal: killed")
		fe = fusionsim.NewFunctionError(inv.fn.name, "Runtime.OutOfMemory", "RequestId: "+inv.requestID()+" Error: Runtime exited with error: signal: killed", fusionsim.ErrOutOfMemory)
		status, errType = "error", "Runtime.OutOfMemory"
		inv.env.peakMB = math.Max(inv.env.peakMB, float64(inv.fn.memoryMB))
	}
	recErr := errType
	if status == "timeout" {
		recErr = "Sandbox.Timedout"
	}
	em.finish(inv, dur, -1, status, errType, recErr)
	em.release(inv.env, true)
	em.respond(inv, nil, fe)
}

// kill ends the invocation from the platform's side: its CPU work stops and
// every coroutine is woken to unwind. endKilled runs when the last is gone.
func (inv *invocation) kill(reason error) {
	if inv.dead || inv.ended {
		return
	}
	inv.dead, inv.reason = true, reason
	inv.env.cpu.reset()
	for _, c := range inv.em.all {
		if c.inv == inv && !c.finished {
			inv.em.k.push(event{at: inv.em.k.now, act: c, arg: c.token})
		}
	}
	if inv.coros == 0 {
		// Killed between the handler's phases: nothing to unwind.
		inv.endKilled()
	}
}

// useMemory adds mb to the environment's resident memory; beyond the
// function's memory size the invocation is killed (Runtime.OutOfMemory).
// It runs on the invocation's coroutine.
func (inv *invocation) useMemory(mb float64) {
	if !inv.addMemory(mb) {
		inv.kill(fusionsim.ErrOutOfMemory)
		panic(killSignal{})
	}
}

// addMemory adds mb to the environment's resident memory and reports whether
// it still fits in the function's memory size (if not, it counts an
// out-of-memory error; the caller kills the invocation).
func (inv *invocation) addMemory(mb float64) bool {
	env := inv.env
	env.residentMB += mb
	if env.residentMB > env.peakMB {
		env.peakMB = env.residentMB
	}
	if env.residentMB > float64(inv.fn.memoryMB) {
		inv.em.stats.OutOfMemory++
		return false
	}
	return true
}

func (inv *invocation) releaseMemory(mb float64) { inv.env.residentMB -= mb }

// finish writes END and REPORT and accounts for the invocation. timeBase is
// -1 when the handler did not get to measure it; status and errType go on the
// REPORT line, recErr into the Record.
func (em *Emulator) finish(inv *invocation, dur time.Duration, timeBase int64, status, errType, recErr string) {
	initDur := time.Duration(0)
	if inv.cold {
		initDur = inv.env.initDur
	}
	billed := em.profile.Pricing.BilledMs(dur, initDur)
	maxMem := int(math.Ceil(inv.env.peakMB))
	if maxMem > inv.fn.memoryMB {
		maxMem = inv.fn.memoryMB
	}
	if em.logging() {
		em.logEnd(inv)
		em.logReport(inv, fusionsim.Report{
			RequestID: inv.requestID(), Duration: dur, BilledMs: billed, MemoryMB: inv.fn.memoryMB,
			MaxMemoryUsedMB: maxMem, InitDuration: initDur, Status: status, ErrorType: errType,
		})
	}
	if em.cfg.Record != nil {
		r := &Record{
			RequestID: inv.requestID(), TraceID: inv.traceID, Function: inv.fn.id, Setup: inv.setup().Name(),
			Root: inv.root, Cold: inv.cold, Start: em.epoch.Add(inv.start), End: em.Now(),
			InitDuration: initDur, Duration: dur, BilledMs: billed, InternalMs: timeBase,
			MaxMemoryUsedMB: maxMem, Error: recErr,
		}
		em.cfg.Record(r)
	}
}

// respond hands the result to the caller, or retries a failed async event.
func (em *Emulator) respond(inv *invocation, res fusionsim.Event, fe *fusionsim.FunctionError) {
	req := inv.req
	if fe != nil {
		em.stats.Errors++
	}
	if req.sync {
		if fe != nil {
			req.caller.respond(em, nil, fe, inv)
		} else {
			req.caller.respond(em, res, nil, inv)
		}
		em.requestDone(req)
		return
	}
	delays := em.profile.Limits.AsyncRetryDelaysS
	if fe != nil && req.failed < len(delays) {
		d := time.Duration(delays[req.failed] * float64(time.Second))
		req.failed++
		em.k.after(d, func() { em.arrive(req) })
		return
	}
	em.requestDone(req)
}

func asFunctionError(inv *invocation, err error) *fusionsim.FunctionError {
	if err == nil {
		return nil
	}
	var fe *fusionsim.FunctionError
	if errors.As(err, &fe) {
		// An error from a remote call propagated through this task: it fails
		// this function too, with the same type.
		return fusionsim.NewFunctionError(inv.fn.name, fe.Type, fe.Message, err)
	}
	typ := "Error"
	switch {
	case errors.Is(err, fusionsim.ErrCallDepth):
		typ = "CallDepthExceeded"
	case errors.Is(err, fusionsim.ErrNoRule):
		typ = "NoRule"
	case errors.Is(err, fusionsim.ErrThrottled):
		typ = "TooManyRequestsException"
	case errors.Is(err, fusionsim.ErrUnknownFunction):
		typ = "ResourceNotFoundException"
	}
	return fusionsim.NewFunctionError(inv.fn.name, typ, err.Error(), err)
}

// Record is the platform's own account of one invocation.
type Record struct {
	RequestID       string
	TraceID         string
	Function        fusionsim.FunctionID
	Setup           string
	Root            bool
	Cold            bool
	Start, End      time.Time // the event's start and end (INIT excluded)
	InitDuration    time.Duration
	Duration        time.Duration // REPORT Duration
	BilledMs        int64
	InternalMs      int64 // time-base; -1 when the platform killed it first
	MaxMemoryUsedMB int
	Error           string // "" or the error type (Error, Sandbox.Timedout, Runtime.OutOfMemory, ...)
}
