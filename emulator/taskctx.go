package emulator

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/fusionsim/fusionsim"
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
		rule, err := t.rule(task, sync)
		if err != nil {
			return nil, err
		}
		if rule.IsLocal() {
			em := t.inv.em
			t0 := em.k.now
			res, err := t.runLocal(task, in)
			em.logCall(t.inv, fusionsim.Call{Local: true, Sync: true, Caller: t.inv.fn.id.Task, Called: task, Time: em.msBetween(t0, em.k.now)})
			return res, err
		}
	}
	return t.Start(task, in, sync).Wait()
}

// rule finds the setup's rule for a call and checks the call depth.
func (t *taskCtx) rule(task string, sync bool) (fusionsim.Rule, error) {
	em := t.inv.em
	if t.depth+1 > em.profile.Limits.MaxCallDepth {
		return fusionsim.Rule{}, fmt.Errorf("%w: %s calling %s at depth %d (limit %d)", fusionsim.ErrCallDepth, t.task, task, t.depth+1, em.profile.Limits.MaxCallDepth)
	}
	entry := t.inv.fn.id.Task
	rule, ok := em.setup.Rule(entry, task, sync)
	if !ok {
		return fusionsim.Rule{}, fmt.Errorf("%w: setup %s has no %s rule for %s in function %s", fusionsim.ErrNoRule, em.setup.Name(), callType(sync), task, entry)
	}
	if _, ok := em.app.Tasks[task]; !ok {
		return fusionsim.Rule{}, fmt.Errorf("%w: task %q", fusionsim.ErrUnknownFunction, task)
	}
	return rule, nil
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
	rule, err := t.rule(task, sync)
	if err != nil {
		return &future{inv: t.inv, done: true, err: err}
	}
	if rule.IsLocal() {
		return t.startLocal(task, in, sync)
	}
	return t.startRemote(rule, task, in, sync)
}

// runLocal runs task in-process on the current coroutine. A panic of the
// task becomes its error, as a thrown exception rejects a promise.
func (t *taskCtx) runLocal(task string, in fusionsim.Event) (res fusionsim.Event, err error) {
	if in == nil {
		in = fusionsim.Event{}
	}
	child := &taskCtx{inv: t.inv, task: task, depth: t.depth + 1}
	defer func() {
		t.inv.releaseMemory(child.memMB)
		if r := recover(); r != nil {
			if _, ok := r.(killSignal); ok {
				panic(r)
			}
			res, err = nil, fmt.Errorf("task %s panicked: %v", task, r)
		}
	}()
	return t.inv.em.app.Tasks[task](child, in)
}

func (t *taskCtx) startLocal(task string, in fusionsim.Event, sync bool) fusionsim.Future {
	em, inv := t.inv.em, t.inv
	f := &future{inv: inv}
	caller := em.current
	handoff := caller.wakeToken()
	t0 := em.k.now
	entry := inv.fn.id.Task
	first := func() {
		em.wake(caller, handoff)
		if !sync {
			em.logCall(inv, fusionsim.Call{Local: true, Sync: false, Caller: entry, Called: task, Time: em.msBetween(t0, em.k.now)})
			f.complete(nil, nil)
		}
	}
	em.k.after(0, func() {
		if inv.dead {
			return
		}
		em.spawn(inv, func() {
			c := em.current
			c.firstAwait = first
			res, err := t.runLocal(task, in)
			if c.firstAwait != nil {
				c.firstAwait = nil
				first()
			}
			if sync {
				em.logCall(inv, fusionsim.Call{Local: true, Sync: true, Caller: entry, Called: task, Time: em.msBetween(t0, em.k.now)})
				f.complete(res, err)
			} else if err != nil && inv.asyncErr == nil {
				inv.asyncErr = err
			}
		})
	})
	caller.block()
	return f
}

func (t *taskCtx) startRemote(rule fusionsim.Rule, task string, in fusionsim.Event, sync bool) fusionsim.Future {
	em, inv := t.inv.em, t.inv
	route, err := rule.Route()
	if err != nil {
		return &future{inv: inv, done: true, err: err}
	}
	fn, err := em.function(route.Function())
	if err != nil {
		return &future{inv: inv, done: true, err: err}
	}
	if in == nil {
		in = fusionsim.Event{}
	}
	f := &future{inv: inv}
	inv.pending++
	t0 := em.k.now
	depth := t.depth + 1
	entry := inv.fn.id.Task
	remote := &em.profile.Remote
	complete := func(res fusionsim.Event, err error) {
		if !inv.dead && !inv.ended {
			em.logCall(inv, fusionsim.Call{Local: false, Sync: sync, Caller: entry, Called: task, Time: em.msBetween(t0, em.k.now)})
		}
		f.complete(res, err)
		inv.pending--
		inv.poke()
	}
	send := func() {
		if sync {
			lat := model.Ms(remote.SyncRequest.LatencyMs.Sample(em.rng))
			req := em.newRequest(fn, in, inv.traceID, depth, true, inv.req.tree)
			req.respond = func(res fusionsim.Event, err error, _ *invocation) {
				back := model.Ms(remote.SyncResponse.LatencyMs.Sample(em.rng))
				em.k.after(back, func() {
					if inv.dead || inv.ended {
						complete(res, err)
						return
					}
					inv.env.cpu.run(remote.SyncResponse.CPUMs, 1, func() { complete(res, err) })
				})
			}
			em.k.after(lat, func() { em.arrive(req) })
			return
		}
		ack := model.Ms(remote.AsyncAck.LatencyMs.Sample(em.rng))
		dispatch := model.Ms(remote.AsyncDispatch.LatencyMs.Sample(em.rng))
		req := em.newRequest(fn, in, inv.traceID, depth, false, inv.req.tree)
		em.k.after(ack, func() { complete(nil, nil) })
		em.k.after(ack+dispatch, func() { em.arrive(req) })
	}
	cpu := remote.AsyncAck.CPUMs
	if sync {
		cpu = remote.SyncRequest.CPUMs
	}
	inv.env.cpu.run(cpu, 1, send)
	return f
}

// Spend runs a work descriptor: its serial phase (synchronous, on the main
// thread), then its parallel phase (worker threads, awaited), then starts its
// tail, which the invocation waits for before it ends.
func (t *taskCtx) Spend(w fusionsim.Work) {
	em, inv := t.inv.em, t.inv
	w = em.applyProfile(w)
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
	if w.CPUMs > 0 {
		em.cpuWait(inv, w.CPUMs, w.Threads, w.Threads > 1)
	}
	if w.TailCPUMs > 0 {
		inv.tails++
		inv.env.cpu.run(w.TailCPUMs, 1, func() {
			inv.tails--
			inv.poke()
		})
	}
}

// applyProfile replaces a work descriptor's figures with the profile's.
func (em *Emulator) applyProfile(w fusionsim.Work) fusionsim.Work {
	if p, ok := em.profile.Work[w.Name]; ok {
		w.CPUMs, w.Threads, w.SerialCPUMs, w.TailCPUMs, w.MemoryMB = p.CPUMs, p.Threads, p.SerialCPUMs, p.TailCPUMs, p.MemoryMB
	}
	if w.Threads < 1 {
		w.Threads = 1
	}
	return w
}

func (t *taskCtx) Sleep(d time.Duration) {
	em := t.inv.em
	em.awaitPoint()
	em.sleep(d)
}

// spendCost runs a modeled cost: the CPU part synchronously, then the
// latency (an await).
func (t *taskCtx) spendCost(c model.Cost) {
	em := t.inv.em
	if c.CPUMs > 0 {
		em.cpuWait(t.inv, c.CPUMs, 1, false)
	}
	if !c.LatencyMs.IsZero() {
		em.awaitPoint()
		em.sleep(model.Ms(c.LatencyMs.Sample(em.rng)))
	}
}

func (t *taskCtx) Put(table string, item fusionsim.Item) error {
	t.spendCost(t.inv.em.profile.Storage.Put)
	t.inv.em.store.Put(table, item)
	return nil
}

func (t *taskCtx) Get(table string, key int64) (fusionsim.Item, bool, error) {
	t.spendCost(t.inv.em.profile.Storage.Get)
	it, ok := t.inv.em.store.Get(table, key)
	return it, ok, nil
}

func (t *taskCtx) Query(table string, key int64) ([]fusionsim.Item, error) {
	t.spendCost(t.inv.em.profile.Storage.Query)
	return t.inv.em.store.Query(table, key), nil
}

func (t *taskCtx) Delete(table string, key int64) error {
	t.spendCost(t.inv.em.profile.Storage.Delete)
	t.inv.em.store.Delete(table, key)
	return nil
}

// awaitPoint marks a JavaScript await in the running coroutine: the first
// one hands control back to a caller that started it with Start.
func (em *Emulator) awaitPoint() {
	c := em.current
	if f := c.firstAwait; f != nil {
		c.firstAwait = nil
		f()
	}
}

// sleep blocks the running coroutine for d.
func (em *Emulator) sleep(d time.Duration) {
	c := em.current
	tok := c.wakeToken()
	em.k.push(event{at: em.k.now + d, co: c, token: tok})
	c.block()
}

// cpuWait runs cpuMs of CPU on threads threads in inv's environment and
// blocks the running coroutine until it is done.
func (em *Emulator) cpuWait(inv *invocation, cpuMs float64, threads int, await bool) {
	if await {
		em.awaitPoint()
	}
	c := em.current
	tok := c.wakeToken()
	inv.env.cpu.run(cpuMs, threads, func() { em.wake(c, tok) })
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
	if f.waiter != nil {
		f.inv.em.wake(f.waiter, f.tok)
		f.waiter = nil
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
