package emulator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/internal/pool"
	"github.com/fusionsim/fusionsim/internal/strtab"
	"github.com/fusionsim/fusionsim/model"
)

// taskCtx is the fusionsim.Context of one running task.
type taskCtx struct {
	inv   *invocation
	task  string
	depth int     // calls between the client and this task
	memMB float64 // memory declared with UseMemory, released at return
}

var _ fusionsim.Context = (*taskCtx)(nil)

func (t *taskCtx) Task() string { return t.task }

func (t *taskCtx) Rand() *rand.Rand { return t.inv.em.rng }

func (t *taskCtx) Now() time.Time { return t.inv.em.Now() }

func (t *taskCtx) Log(msg string) { t.inv.em.logInfo(t.inv, msg) }

func (t *taskCtx) UseMemory(mb float64) {
	t.memMB += mb
	t.inv.useMemory(mb)
}

// Call runs a local sync call inline on the caller's coroutine; every other
// call is Start followed by Wait.
func (t *taskCtx) Call(task string, in fusionsim.Event, sync bool) (fusionsim.Event, error) {
	if sync {
		ri, err := t.rule(task, sync)
		if err != nil {
			return nil, err
		}
		if ri.local {
			em := t.inv.em
			t0 := em.k.now
			t.localCallCPU()
			res, err := t.runLocal(task, ri.code, in)
			em.logCall(t.inv, fusionsim.Call{Local: true, Sync: true, Caller: t.inv.fn.id.Task, Called: task, Time: em.msBetween(t0, em.k.now)})
			return res, err
		}
	}
	return t.Start(task, in, sync).Wait()
}

// rule finds the setup's rule for a call and checks the call depth; for
// a remote rule it also finds the function it calls.
func (t *taskCtx) rule(task string, sync bool) (*routeInfo, error) {
	em := t.inv.em
	if t.depth+1 > em.profile.Limits.MaxCallDepth {
		return nil, fmt.Errorf("%w: %s calling %s at depth %d (limit %d)", fusionsim.ErrCallDepth, t.task, task, t.depth+1, em.profile.Limits.MaxCallDepth)
	}
	fn := t.inv.fn
	setup := t.inv.setup()
	if ri := fn.cachedRoute(setup, task, sync); ri != nil {
		return ri, nil
	}
	entry := fn.id.Task
	key := routeKey{setup, entry, task, sync}
	if ri, ok := em.routes[key]; ok {
		fn.cacheRoute(setup, task, sync, ri)
		return ri, nil
	}
	rule, ok := setup.Rule(entry, task, sync)
	if !ok {
		return nil, fmt.Errorf("%w: setup %s has no %s rule for %s in function %s", fusionsim.ErrNoRule, setup.Name(), callType(sync), task, entry)
	}
	code, ok := em.app.Tasks[task]
	if !ok {
		return nil, fmt.Errorf("%w: task %q", fusionsim.ErrUnknownFunction, task)
	}
	ri := &routeInfo{local: rule.IsLocal()}
	if ri.local {
		ri.code = code
	}
	if !ri.local {
		route, err := rule.Route()
		if err != nil {
			return nil, err
		}
		if ri.fn, err = em.function(route.Function()); err != nil {
			return nil, err
		}
	}
	if em.routes == nil {
		em.routes = map[routeKey]*routeInfo{}
	}
	em.routes[key] = ri
	fn.cacheRoute(setup, task, sync, ri)
	return ri, nil
}

// routeKey is a call as the setup's rules see it.
type routeKey struct {
	setup         *fusionsim.Setup
	entry, called string
	sync          bool
}

// routeInfo is how a call runs: locally (code), or as a request to fn.
type routeInfo struct {
	local bool
	code  fusionsim.Task
	fn    *function
}

func callType(sync bool) string {
	if sync {
		return "sync"
	}
	return "async"
}

// Start starts a call. A local call runs on a new coroutine: the caller waits
// until the callee first awaits something (the synchronous prefix of a
// JavaScript async function), then goes on. A remote call sends a request.
func (t *taskCtx) Start(task string, in fusionsim.Event, sync bool) fusionsim.Future {
	ri, err := t.rule(task, sync)
	if err != nil {
		return &future{inv: t.inv, done: true, err: err}
	}
	if ri.local {
		return t.startLocal(task, ri.code, in, sync)
	}
	return t.startRemote(ri.fn, task, in, sync)
}

// runLocal runs task (its code) in-process on the current coroutine. A
// panic of the task becomes its error, as a thrown exception rejects a
// promise.
func (t *taskCtx) runLocal(task string, code fusionsim.Task, in fusionsim.Event) (res fusionsim.Event, err error) {
	return t.runTask(t.inv.newCtx(task, t.depth+1), code, in)
}

// newCtx makes the context of a task the invocation runs (pooled with it).
func (inv *invocation) newCtx(task string, depth int) *taskCtx {
	em := inv.em
	c := pool.Take(&em.ctxPool)
	*c = taskCtx{inv: inv, task: task, depth: depth}
	inv.ctxs = append(inv.ctxs, c)
	return c
}

// runTask runs child.task, whose code is code (nil: found by name), with
// the context child.
func (t *taskCtx) runTask(child *taskCtx, code fusionsim.Task, in fusionsim.Event) (res fusionsim.Event, err error) {
	if in == nil {
		in = fusionsim.Event{}
	}
	if code == nil {
		code = t.inv.fn.task // the function's entry task, found when it was made
		if child.task != t.inv.fn.id.Task {
			code = t.inv.em.app.Tasks[child.task]
		}
	}
	return child.protect(code, nil, in)
}

// protect runs the task (or, when task is nil, the closure fn) as code of
// t's task: a panic becomes its error, and the memory the task declared is
// released when it returns.
func (t *taskCtx) protect(task fusionsim.Task, fn func(fusionsim.Context) (fusionsim.Event, error), in fusionsim.Event) (res fusionsim.Event, err error) {
	defer func() {
		t.inv.releaseMemory(t.memMB)
		if r := recover(); r != nil {
			if _, ok := r.(killSignal); ok {
				panic(r)
			}
			res, err = nil, fmt.Errorf("task %s panicked: %v", t.task, r)
		}
	}()
	if task != nil {
		return task(t, in)
	}
	return fn(t)
}

// localCall is a task started on a coroutine of its own: a local call
// (Start of a local rule) or a closure (Go). It is the kernel actor that
// spawns the coroutine, the coroutine's job, and the future of the call;
// it is pooled with its invocation.
type localCall struct {
	future
	child   *taskCtx        // the callee's context
	in      fusionsim.Event // the callee's event (local calls)
	code    fusionsim.Task  // the callee's code (local calls)
	fn      func(fusionsim.Context) (fusionsim.Event, error)
	call    bool // a local call of child.task (else the closure fn)
	sync    bool
	t0      time.Duration
	entry   string // the caller's function's entry task
	caller  *coro  // the caller, blocked until the job's first await
	handoff uint64
}

func (inv *invocation) newLocalCall() *localCall {
	em := inv.em
	lc := pool.Take(&em.localPool)
	lc.inv = inv
	inv.local = append(inv.local, lc)
	return lc
}

// localCallCPU spends the handler's demand of a local call
// (Handler.LocalCallCPUMs) on the caller's coroutine.
func (t *taskCtx) localCallCPU() {
	em := t.inv.em
	if c := em.profile.Handler.LocalCallCPUMs; c > 0 {
		em.cpuWait(t.inv, c, 1, false)
	}
}

func (t *taskCtx) startLocal(task string, code fusionsim.Task, in fusionsim.Event, sync bool) fusionsim.Future {
	em, inv := t.inv.em, t.inv
	t0 := em.k.now
	t.localCallCPU()
	lc := inv.newLocalCall()
	lc.child, lc.in, lc.code, lc.call, lc.sync = inv.newCtx(task, t.depth+1), in, code, true, sync
	lc.t0, lc.entry = t0, inv.fn.id.Task
	t.concurrently(lc)
	return &lc.future
}

// Go runs fn on a coroutine of its own, as a local call does, with a
// context of the same task.
func (t *taskCtx) Go(fn func(fusionsim.Context) (fusionsim.Event, error)) fusionsim.Future {
	inv := t.inv
	lc := inv.newLocalCall()
	lc.child, lc.fn = inv.newCtx(t.task, t.depth), fn
	t.concurrently(lc)
	return &lc.future
}

// concurrently runs lc on a new coroutine of the invocation. Like a
// JavaScript async function, the caller waits until the job first awaits
// something (lc.first) and goes on from there.
func (t *taskCtx) concurrently(lc *localCall) {
	em, inv := t.inv.em, t.inv
	lc.caller = em.current
	lc.handoff = lc.caller.wakeToken()
	inv.refs++
	if em.startAtOnce(lc) {
		return
	}
	em.k.push(event{at: em.k.now, act: lc})
	lc.caller.block()
}

// fire spawns the job's coroutine (the kernel event of concurrently).
func (lc *localCall) fire(em *Emulator, _ uint64) {
	inv := lc.inv
	inv.refs--
	if inv.dead {
		inv.free()
		return
	}
	em.spawn(inv, lc)
}

// run is the job, on its coroutine.
func (lc *localCall) run(c *coro) {
	c.starter = lc
	if lc.call {
		em, inv := lc.inv.em, lc.inv
		res, err := lc.child.runTask(lc.child, lc.code, lc.in)
		if lc.sync {
			em.logCall(inv, fusionsim.Call{Local: true, Sync: true, Caller: lc.entry, Called: lc.child.task, Time: em.msBetween(lc.t0, em.k.now)})
			lc.complete(res, err)
		} else if err != nil && inv.asyncErr == nil {
			inv.asyncErr = err
		}
	} else {
		lc.complete(lc.child.protect(nil, lc.fn, nil))
	}
	if c.starter != nil {
		c.starter = nil
		lc.first()
	}
}

// first runs at the job's first await (or its end): the caller goes on; an
// async local call counts as returned there.
func (lc *localCall) first() {
	em, inv := lc.inv.em, lc.inv
	em.wake(lc.caller, lc.handoff)
	if lc.call && !lc.sync {
		em.logCall(inv, fusionsim.Call{Local: true, Sync: false, Caller: lc.entry, Called: lc.child.task, Time: em.msBetween(lc.t0, em.k.now)})
		lc.complete(nil, nil)
	}
}

func (t *taskCtx) startRemote(fn *function, task string, in fusionsim.Event, sync bool) fusionsim.Future {
	em, inv := t.inv.em, t.inv
	if in == nil {
		in = fusionsim.Event{}
	}
	rc := pool.Take(&em.callPool)
	*rc = remoteCall{
		future: future{inv: inv}, fn: fn, in: in, task: task, sync: sync,
		t0: em.k.now, depth: t.depth + 1,
	}
	inv.calls = append(inv.calls, rc)
	inv.pending++
	cpu := em.profile.Remote.AsyncAck.CPUMs
	if sync {
		cpu = em.profile.Remote.SyncRequest.CPUMs
	}
	env := inv.env
	fc := &em.profile.Remote.FirstConnection
	switch {
	case env.connected:
	case fc.CPUMs == 0 && fc.LatencyMs.IsZero():
		env.connected = true // nothing to set up
	case env.connecting:
		// The first connection is being set up: send once it is up.
		rc.cpu = cpu
		env.waiting = append(env.waiting, rc)
		return &rc.future
	default:
		env.connecting = true
		rc.firstConn = true
		cpu += fc.CPUMs
	}
	env.cpu.runThen(em.ioCPU(cpu), 1, rc, rcSend)
	return &rc.future
}

// ioCPU is the CPU demand of one I/O operation (a remote call's sending or
// reading, a storage operation) of nominal demand cpuMs: varied by the
// profile's cpu.ioVariationCPUMs (a normal draw, none when 0).
func (em *Emulator) ioCPU(cpuMs float64) float64 {
	sd := em.profile.CPU.IOVariationCPUMs
	if cpuMs <= 0 || sd == 0 {
		return cpuMs
	}
	return max(0, cpuMs+sd*em.rng.NormFloat64())
}

// remoteCall is a remote call in flight, advanced by the kernel step by step
// (see fire): the caller's CPU to send it, the request's latency, the
// callee's invocation, the response's latency and the caller's CPU to read
// it (sync); or the acknowledgement and the dispatch (async).
type remoteCall struct {
	future
	fn    *function
	in    fusionsim.Event
	task  string
	sync  bool
	t0    time.Duration
	depth int
	req   *request
	res   fusionsim.Event
	err   error
	// firstConn: the environment's first remote call, which pays
	// Remote.FirstConnection. The environment counts as connected once its
	// request has gone through (sync: it reached the callee; async: it was
	// acknowledged); calls started before wait for that (the client
	// library's set-up, which they share), then go as usual.
	firstConn bool
	// cpu is the caller's CPU demand to send a call that waits for the
	// first connection.
	cpu float64
}

// connected marks the caller's environment as connected after the first
// connection's call went through, and sends the calls that waited for it.
func (rc *remoteCall) connected() {
	if !rc.firstConn {
		return
	}
	env := rc.inv.env
	env.connected, env.connecting = true, false
	for _, w := range env.waiting {
		if !w.inv.dead && !w.inv.ended {
			env.cpu.runThen(rc.inv.em.ioCPU(w.cpu), 1, w, rcSend)
		}
	}
	clear(env.waiting)
	env.waiting = env.waiting[:0]
}

// sendLatency draws the latency to the callee (or to the acknowledgement),
// correlated with the invocation's other calls when the profile says so.
func (rc *remoteCall) sendLatency(em *Emulator, c *model.Cost) time.Duration {
	var d time.Duration
	if corr := em.profile.Remote.LatencyCorrelation; corr > 0 {
		inv := rc.inv
		if !inv.haveNetZ {
			inv.netZ, inv.haveNetZ = em.rng.NormFloat64(), true
		}
		z := math.Sqrt(corr)*inv.netZ + math.Sqrt(1-corr)*em.rng.NormFloat64()
		d = model.Ms(c.LatencyMs.Quantile(z))
	} else {
		d = model.Ms(c.LatencyMs.Sample(em.rng))
	}
	if rc.firstConn {
		d += model.Ms(em.profile.Remote.FirstConnection.LatencyMs.Sample(em.rng))
	}
	return d
}

// Steps of a remote call.
const (
	rcSend     = iota // the caller's CPU part is done: send
	rcArrive          // the request reaches the callee's function
	rcResponse        // the response reaches the caller's environment
	rcComplete        // the caller has read the response
	rcAck             // the async call is acknowledged
)

func (rc *remoteCall) fire(em *Emulator, step uint64) {
	inv := rc.inv
	remote := &em.profile.Remote
	switch step {
	case rcSend:
		if inv.dead || inv.ended {
			// The caller was killed before the call left: nothing is sent.
			rc.complete(em)
			return
		}
		if rc.sync {
			rc.req = em.newRequest(rc.fn, rc.in, inv.traceID, rc.depth, true, inv.tree)
			rc.req.caller = rc
			em.k.push(event{at: em.k.now + rc.sendLatency(em, &remote.SyncRequest), act: rc, arg: rcArrive})
			return
		}
		ack := rc.sendLatency(em, &remote.AsyncAck)
		dispatch := model.Ms(remote.AsyncDispatch.LatencyMs.Sample(em.rng))
		req := em.newRequest(rc.fn, rc.in, inv.traceID, rc.depth, false, inv.tree)
		em.k.push(event{at: em.k.now + ack, act: rc, arg: rcAck})
		// The event travels on its own: the call is done at its
		// acknowledgement.
		em.k.push(event{at: em.k.now + ack + dispatch, act: req})
	case rcArrive:
		rc.connected()
		req := rc.req
		rc.req = nil
		em.arrive(req)
	case rcResponse:
		if inv.dead || inv.ended {
			rc.complete(em)
			return
		}
		inv.env.cpu.runThen(em.ioCPU(remote.SyncResponse.CPUMs), 1, rc, rcComplete)
	case rcAck:
		rc.connected()
		rc.complete(em)
	case rcComplete:
		rc.complete(em)
	}
}

// respond receives the callee's result (request.caller).
func (rc *remoteCall) respond(em *Emulator, res fusionsim.Event, err error, _ *invocation) {
	rc.res, rc.err = res, err
	em.k.push(event{at: em.k.now + model.Ms(em.profile.Remote.SyncResponse.LatencyMs.Sample(em.rng)), act: rc, arg: rcResponse})
}

// complete logs the call record and completes the future.
func (rc *remoteCall) complete(em *Emulator) {
	inv := rc.inv
	if !inv.dead && !inv.ended {
		em.logCall(inv, fusionsim.Call{Local: false, Sync: rc.sync, Caller: inv.fn.id.Task, Called: rc.task, Time: em.msBetween(rc.t0, em.k.now)})
	}
	rc.future.complete(rc.res, rc.err)
	inv.pending--
	inv.poke()
	inv.free()
}

// Spend runs a work descriptor: its serial phase (synchronous, on the main
// thread), then its parallel phase (worker threads, awaited), then starts its
// tail, which the invocation waits for before it ends.
func (t *taskCtx) Spend(w fusionsim.Work) {
	em, inv := t.inv.em, t.inv
	p, ok := em.workParams(w.Name)
	w = em.applyProfile(w, p, ok)
	extra := em.extraWork(inv, w)
	if j := &em.profile.CPU.WorkJitter; !j.IsZero() {
		if !inv.haveJitter {
			inv.jitter, inv.haveJitter = j.Sample(em.rng), true
		}
		f := inv.jitter
		if w.JitterScale != nil {
			f = max(1+*w.JitterScale*(f-1), 0.05)
		}
		w.SerialCPUMs *= f
		w.CPUMs *= f
		w.TailCPUMs *= f
		extra *= f
	}
	if em.cfg.ExecuteWork && w.Run != nil {
		w.Run()
	}
	if w.MemoryMB > 0 {
		inv.useMemory(w.MemoryMB)
		defer inv.releaseMemory(w.MemoryMB)
	}
	if w.SerialCPUMs > 0 {
		em.cpuWait(inv, w.SerialCPUMs, 1, false)
	}
	if w.CPUMs+extra > 0 {
		em.cpuWait(inv, w.CPUMs+extra, w.Threads, w.Threads > 1)
	}
	if w.TailCPUMs > 0 {
		inv.tails++
		inv.env.cpu.runThen(w.TailCPUMs, 1, inv, inv.arg(invTail))
	}
}

// workParams is the profile's entry for the work descriptor name
// (model.Profile.Work), through a cache direct-mapped by the name's
// address (task code passes the same string each time).
func (em *Emulator) workParams(name string) (*model.WorkParams, bool) {
	e := &em.workCache[strtab.Slot(name, len(em.workCache))]
	if !e.set || e.name != name {
		p, ok := em.profile.Work[name]
		*e = workEntry{name: name, p: p, ok: ok, set: true}
	}
	return &e.p, e.ok
}

// workEntry is an entry of Emulator.workCache.
type workEntry struct {
	name    string
	p       model.WorkParams
	ok, set bool
}

// extraWork returns the demand added to the parallel phase of the work
// descriptor w (its figures after applyProfile): its ColdCPUMs in the first
// invocation of an environment (a cold start), and its OverheadCPUMs unless
// the function's share exceeds the work's threads.
func (em *Emulator) extraWork(inv *invocation, w fusionsim.Work) float64 {
	var extra float64
	if inv.cold {
		extra += w.ColdCPUMs
	}
	if w.OverheadCPUMs != 0 && inv.fn.share <= float64(max(w.Threads, 1)) {
		extra += w.OverheadCPUMs
	}
	return extra
}

// applyProfile replaces a work descriptor's figures with the profile's
// entry p for it, when the profile has one (ok; model.Profile.Work).
func (em *Emulator) applyProfile(w fusionsim.Work, p *model.WorkParams, ok bool) fusionsim.Work {
	if ok {
		w.CPUMs, w.Threads, w.SerialCPUMs, w.TailCPUMs, w.MemoryMB = p.CPUMs, p.Threads, p.SerialCPUMs, p.TailCPUMs, p.MemoryMB
		w.ColdCPUMs, w.OverheadCPUMs, w.JitterScale = p.ColdCPUMs, p.OverheadCPUMs, p.JitterScale
	}
	if w.Threads < 1 {
		w.Threads = 1
	}
	return w
}

func (t *taskCtx) Sleep(d time.Duration) {
	em := t.inv.em
	em.awaitPoint()
	if tl := &em.profile.Handler.TimerLatencyMs; !tl.IsZero() {
		d += model.Ms(tl.Sample(em.rng))
	}
	em.sleep(d)
}

// spendCost runs a modeled cost: the CPU part synchronously, then the
// latency (an await).
func (t *taskCtx) spendCost(c *model.Cost) {
	em := t.inv.em
	if c.CPUMs > 0 {
		// The demand varies as every I/O operation's does (ioCPU), drawn
		// before the job starts, whichever way it runs.
		cpuMs := em.ioCPU(c.CPUMs)
		if cpuMs > 0 && !c.LatencyMs.IsZero() {
			// One block for both parts (runWake with then).
			co := em.current
			t.inv.env.cpu.runWake(cpuMs, 1, co, co.wakeToken(), c)
			co.block()
			return
		}
		em.cpuWait(t.inv, cpuMs, 1, false)
	}
	if !c.LatencyMs.IsZero() {
		co := em.current
		em.startLatency(co, c)
		co.block()
	}
}

// startLatency starts the latency part of co's cost c, co being the
// running coroutine: its await, the latency's draw and the wake-up at its
// end, which co (blocked or about to block) waits for.
func (em *Emulator) startLatency(co *coro, c *model.Cost) {
	em.awaitPoint()
	d := model.Ms(c.LatencyMs.Sample(em.rng))
	em.k.push(event{at: em.k.now + d, act: co, arg: co.wakeToken()})
}

// storageCost spends the cost of a storage operation, and of the
// environment's first connection to the store before its first one.
func (t *taskCtx) storageCost(c *model.Cost) {
	if env := t.inv.env; !env.storageConnected {
		env.storageConnected = true
		t.spendCost(&t.inv.em.profile.Storage.FirstConnection)
	}
	t.spendCost(c)
}

func (t *taskCtx) Put(table string, item fusionsim.Item) error {
	t.storageCost(&t.inv.em.profile.Storage.Put)
	t.inv.em.store.Put(table, item)
	return nil
}

func (t *taskCtx) Get(table string, key int64) (fusionsim.Item, bool, error) {
	t.storageCost(&t.inv.em.profile.Storage.Get)
	it, ok := t.inv.em.store.Get(table, key)
	return it, ok, nil
}

func (t *taskCtx) Query(table string, key int64) ([]fusionsim.Item, error) {
	t.storageCost(&t.inv.em.profile.Storage.Query)
	return t.inv.em.store.Query(table, key), nil
}

func (t *taskCtx) Delete(table string, key int64) error {
	t.storageCost(&t.inv.em.profile.Storage.Delete)
	t.inv.em.store.Delete(table, key)
	return nil
}

// awaitPoint marks a JavaScript await in the running coroutine: the first
// one hands control back to a caller that started it with Start.
func (em *Emulator) awaitPoint() {
	c := em.current
	if lc := c.starter; lc != nil {
		c.starter = nil
		lc.first()
	}
}

// sleep blocks the running coroutine for d.
func (em *Emulator) sleep(d time.Duration) {
	c := em.current
	em.k.push(event{at: em.k.now + d, act: c, arg: c.wakeToken()})
	c.block()
}

// cpuWait runs cpuMs of CPU on threads threads in inv's environment and
// blocks the running coroutine until it is done.
func (em *Emulator) cpuWait(inv *invocation, cpuMs float64, threads int, await bool) {
	if await {
		em.awaitPoint()
	}
	c := em.current
	inv.env.cpu.runWake(cpuMs, threads, c, c.wakeToken(), nil)
	c.block()
}

// future is a call in flight.
type future struct {
	inv    *invocation
	done   bool
	res    fusionsim.Event
	err    error
	waiter *coro
	tok    uint64
}

func (f *future) complete(res fusionsim.Event, err error) {
	if f.done {
		return
	}
	f.done, f.res, f.err = true, res, err
	if w := f.waiter; w != nil {
		f.waiter = nil // before the wake, which may resume w at once
		f.inv.em.wake(w, f.tok)
	}
}

// Wait blocks the calling task until the call returns.
func (f *future) Wait() (fusionsim.Event, error) {
	em := f.inv.em
	em.awaitPoint()
	for !f.done {
		c := em.current
		f.waiter, f.tok = c, c.wakeToken()
		c.block()
	}
	return f.res, f.err
}
