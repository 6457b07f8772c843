package emulator

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/internal/pool"
	"github.com/fusionsim/fusionsim/model"
)

// request is one invocation request on its way to a function. It is the
// kernel actor of its arrival (and of an async event's retries), and is
// pooled: reused once it has ended for good (requestDone).
type request struct {
	fn      *function
	event   fusionsim.Event
	traceID string // "" on a client request: its entry invocation makes one
	depth   int    // call depth of the invocation it starts
	sync    bool
	tree    *clientReq
	queued  time.Duration // when the event was first sent (async event age)
	// throttled and failed count the retries of an async event.
	throttled, failed int
	// rid, when hasRid, is the request id of an async client request, drawn
	// when it was accepted (Lambda answers the 202 with it). Retries after a
	// function error get new ids, so that every invocation in the logs has
	// its own.
	rid    [2]uint64
	hasRid bool
	// caller receives a sync request's result when the invocation ends (or
	// at once when it is throttled). nil for async requests.
	caller responder
}

// fire delivers the request to its function (its arrival, or a retry).
func (req *request) fire(em *Emulator, _ uint64) { em.arrive(req) }

// responder is the caller of a sync request: a remote call or a client.
type responder interface {
	respond(em *Emulator, res fusionsim.Event, err error, inv *invocation)
}

func (em *Emulator) newRequest(fn *function, ev fusionsim.Event, traceID string, depth int, sync bool, t *clientReq) *request {
	t.open++
	req := pool.Take(&em.reqPool)
	*req = request{fn: fn, event: ev, traceID: traceID, depth: depth, sync: sync, tree: t, queued: em.k.now}
	return req
}

// requestDone ends a request for good (no more retries) and pools it.
func (em *Emulator) requestDone(req *request) {
	t := req.tree
	*req = request{}
	em.reqPool = append(em.reqPool, req)
	t.open--
	if t.open == 0 {
		t.treeDone(em)
	}
}

// invocation is one Lambda invocation: the fusion handler running the
// function's entry task for one request in one environment. Invocations
// are pooled: one is reused once it has ended and nothing refers to it
// any more (free); gen tells its kernel events from those of an earlier
// use.
type invocation struct {
	em       *Emulator
	gen      uint32
	req      *request // nil once the invocation has ended
	tree     *clientReq
	setupOf  *fusionsim.Setup
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
	refs    int   // local calls whose coroutine is yet to start
	waiter  *coro // the handler, waiting for the above to drain
	waitTok uint64
	// waitTails: the waiter waits for the tails too (drain(true)).
	waitTails bool

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

	// What its task code was handed, pooled with it: the contexts of local
	// calls, the local and remote calls (their futures).
	ctxs  []*taskCtx
	local []*localCall
	calls []*remoteCall
}

// setup is the setup the invocation's client request runs under.
func (inv *invocation) setup() *fusionsim.Setup { return inv.setupOf }

// arg is the argument of a kernel event of the invocation's step.
func (inv *invocation) arg(step uint64) uint64 { return uint64(inv.gen)<<8 | step }

// startInvocation runs req in env (Busy). It is called from the kernel.
func (em *Emulator) startInvocation(env *environment, req *request) {
	fn := env.fn
	inv := em.newInvocation()
	inv.req, inv.tree, inv.setupOf, inv.env, inv.fn, inv.cold, inv.start = req, req.tree, req.tree.setup, env, fn, env.served == 0, em.k.now
	env.served++
	em.stats.Invocations++
	if inv.cold {
		em.stats.ColdStarts++
	}
	if req.hasRid && req.failed == 0 {
		inv.rid = req.rid // announced to the client with the 202
	} else {
		inv.rid = [2]uint64{em.rng.Uint64(), em.rng.Uint64()}
	}
	inv.traceID = req.traceID
	if inv.traceID == "" {
		inv.root = true
		inv.traceID = em.newTraceID(inv.setup().Name(), fn)
	}
	em.watchTimeout(inv)
	inv.begin()
}

func (em *Emulator) newInvocation() *invocation {
	if inv, ok := pool.Pop(&em.invPool); ok {
		return inv
	}
	return &invocation{em: em}
}

// free pools the invocation once it has ended and nothing refers to it:
// no coroutine runs for it, no remote call or local call is in flight.
// Its contexts, local and remote calls go back to their pools with it.
func (inv *invocation) free() {
	if !inv.ended || inv.coros > 0 || inv.pending > 0 || inv.refs > 0 {
		return
	}
	em := inv.em
	for _, t := range inv.ctxs {
		*t = taskCtx{}
		em.ctxPool = append(em.ctxPool, t)
	}
	for _, lc := range inv.local {
		*lc = localCall{}
		em.localPool = append(em.localPool, lc)
	}
	for _, rc := range inv.calls {
		*rc = remoteCall{}
		em.callPool = append(em.callPool, rc)
	}
	clear(inv.ctxs)
	clear(inv.local)
	clear(inv.calls)
	*inv = invocation{em: em, gen: inv.gen + 1, ctxs: inv.ctxs[:0], local: inv.local[:0], calls: inv.calls[:0]}
	em.invPool = append(em.invPool, inv)
}

// timeoutQueue holds running invocations in start order. Every function has
// the same timeout, so deadlines come in the same order and one kernel event
// at a time, at the earliest deadline still running, is enough. Entries
// carry the invocation's gen: an entry of an invocation pooled since has
// ended.
type timeoutQueue struct {
	q     []timeoutEntry
	head  int
	armed bool
	check func()
}

type timeoutEntry struct {
	inv      *invocation
	gen      uint32
	deadline time.Duration
}

// running reports whether the entry's invocation has not ended.
func (e *timeoutEntry) running() bool { return e.inv.gen == e.gen && !e.inv.ended }

func (em *Emulator) watchTimeout(inv *invocation) {
	t := &em.timeouts
	inv.deadline = em.k.now + inv.fn.timeout
	t.q = append(t.q, timeoutEntry{inv, inv.gen, inv.deadline})
	if !t.armed {
		t.armed = true
		em.k.at(inv.deadline, t.check)
	}
}

// checkTimeouts kills the invocations past their deadline and arms the next.
func (em *Emulator) checkTimeouts() {
	t := &em.timeouts
	for t.head < len(t.q) {
		e := t.q[t.head]
		if e.running() && e.deadline > em.k.now {
			if t.head > 1024 && t.head > len(t.q)/2 {
				n := copy(t.q, t.q[t.head:])
				clear(t.q[n:])
				t.q, t.head = t.q[:n], 0
			}
			em.k.at(e.deadline, t.check)
			return
		}
		t.q[t.head] = timeoutEntry{}
		t.head++
		if e.running() {
			em.stats.Timeouts++
			e.inv.kill(fusionsim.ErrTimeout)
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
		inv.env.cpu.runThen(c.CPUMs, 1, inv, inv.arg(cpuStep))
		return
	}
	inv.step(cpuStep)
}

// latency waits for the latency part of c, then fires step.
func (inv *invocation) latency(c *model.Cost, step uint64) {
	em := inv.em
	if c.LatencyMs.IsZero() {
		inv.step(step)
		return
	}
	em.k.push(event{at: em.k.now + model.Ms(c.LatencyMs.Sample(em.rng)), act: inv, arg: inv.arg(step)})
}

// fire advances the invocation's kernel steps (arg: inv.arg(step)); events
// of an earlier use of the pooled invocation are ignored.
func (inv *invocation) fire(_ *Emulator, arg uint64) {
	if uint32(arg>>8) != inv.gen {
		return
	}
	inv.step(arg & 0xff)
}

func (inv *invocation) step(step uint64) {
	em := inv.em
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
	res, err := inv.hctx.runTask(&inv.ectx, nil, inv.req.event)
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
	for inv.draining(tails) {
		c := em.current
		inv.waiter, inv.waitTok, inv.waitTails = c, c.wakeToken(), tails
		c.block()
	}
}

// draining reports whether the handler, draining (with the tails or
// not), has anything left to wait for.
func (inv *invocation) draining(tails bool) bool {
	return inv.coros > 1 || inv.pending > 0 || (tails && inv.tails > 0)
}

// poke wakes the draining handler so that it checks again.
func (inv *invocation) poke() {
	w := inv.waiter
	if w == nil {
		return
	}
	if inv.em.current == nil && !inv.dead && inv.draining(inv.waitTails) {
		// From the kernel the handler would be resumed at once, find
		// something left to wait for, register again and block, with
		// nothing else happening in between: it stays blocked instead,
		// registered with the same token (two coroutine switches saved).
		return
	}
	// Clear the waiter before waking it: a wake from the kernel resumes the
	// handler at once, and it may register again before wake returns.
	inv.waiter = nil
	inv.em.wake(w, inv.waitTok)
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
	inv.free()
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
		inv.env.peakMB = max(inv.env.peakMB, float64(inv.fn.memoryMB))
	}
	recErr := errType
	if status == "timeout" {
		recErr = "Sandbox.Timedout"
	}
	em.finish(inv, dur, -1, status, errType, recErr)
	em.release(inv.env, true)
	em.respond(inv, nil, fe)
	inv.free()
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
	env.cpu.setResident(env.residentMB)
	if env.residentMB > env.peakMB {
		env.peakMB = env.residentMB
	}
	if env.residentMB > float64(inv.fn.memoryMB) {
		inv.em.stats.OutOfMemory++
		return false
	}
	return true
}

// releaseMemory takes mb from the environment's resident memory (every
// task's return: mostly nothing to release).
func (inv *invocation) releaseMemory(mb float64) {
	if mb == 0 {
		return
	}
	env := inv.env
	env.residentMB -= mb
	env.cpu.setResident(env.residentMB)
}

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
	inv.req = nil
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
		em.k.push(event{at: em.k.now + d, act: req})
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
