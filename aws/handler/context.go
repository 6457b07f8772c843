package handler

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	crand "crypto/rand"
	"encoding/binary"

	"github.com/fusionsim/fusionsim"
)

// taskCtx is the real-time fusionsim.Context of one running task.
type taskCtx struct {
	inv   *invocation
	task  string
	depth int // calls between the client and this task
	rng   *rand.Rand
}

var _ fusionsim.Context = (*taskCtx)(nil)

// newRand makes a random source seeded from the operating system.
func newRand() *rand.Rand {
	var b [16]byte
	crand.Read(b[:])
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])))
}

func (t *taskCtx) Task() string     { return t.task }
func (t *taskCtx) Rand() *rand.Rand { return t.rng }
func (t *taskCtx) Now() time.Time   { return t.inv.h.now() }
func (t *taskCtx) Log(msg string)   { t.inv.logInfo(msg) }

// UseMemory only records the declaration: a real function's memory is what
// Lambda measures (Max Memory Used).
func (t *taskCtx) UseMemory(float64) {}

// child is the context of a task t calls locally.
func (t *taskCtx) child(task string) *taskCtx {
	return &taskCtx{inv: t.inv, task: task, depth: t.depth + 1, rng: rand.New(rand.NewPCG(t.rng.Uint64(), t.rng.Uint64()))}
}

// run runs task with this context; a panic becomes the task's error, as a
// thrown exception rejects a promise.
func (t *taskCtx) run(task string, in fusionsim.Event) (res fusionsim.Event, err error) {
	if in == nil {
		in = fusionsim.Event{}
	}
	return t.protect(func() (fusionsim.Event, error) { return t.inv.h.cfg.App.Tasks[task](t, in) })
}

// protect runs body as code of t's task: a panic becomes its error.
func (t *taskCtx) protect(body func() (fusionsim.Event, error)) (res fusionsim.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("task %s %w: %v", t.task, errPanic, r)
		}
	}()
	return body()
}

// rule finds the rule of a call and checks the call depth.
func (t *taskCtx) rule(task string, sync bool) (fusionsim.Rule, error) {
	cfg := &t.inv.h.cfg
	if t.depth+1 > cfg.MaxCallDepth {
		return fusionsim.Rule{}, fmt.Errorf("%w: %s calling %s at depth %d (limit %d)", fusionsim.ErrCallDepth, t.task, task, t.depth+1, cfg.MaxCallDepth)
	}
	p, ok := cfg.Rules[task]
	if !ok {
		return fusionsim.Rule{}, fmt.Errorf("%w: setup %s has no %s rule for %s in function %s", fusionsim.ErrNoRule, cfg.Setup, callType(sync), task, cfg.Entry)
	}
	if _, ok := cfg.App.Tasks[task]; !ok {
		return fusionsim.Rule{}, fmt.Errorf("%w: task %q", fusionsim.ErrUnknownFunction, task)
	}
	return p.For(sync), nil
}

func callType(sync bool) string {
	if sync {
		return "sync"
	}
	return "async"
}

// Call runs a local sync call inline; every other call is Start and Wait.
func (t *taskCtx) Call(task string, in fusionsim.Event, sync bool) (fusionsim.Event, error) {
	if sync {
		rule, err := t.rule(task, true)
		if err != nil {
			return nil, err
		}
		if rule.IsLocal() {
			t0 := t.inv.h.now()
			res, err := t.child(task).run(task, in)
			t.inv.logCall(fusionsim.Call{Local: true, Sync: true, Caller: t.inv.h.cfg.Entry, Called: task, Time: msBetween(t0, t.inv.h.now())})
			return res, err
		}
	}
	return t.Start(task, in, sync).Wait()
}

// Start starts a call: a local one on a goroutine, a remote one through the
// Lambda Invoke API.
func (t *taskCtx) Start(task string, in fusionsim.Event, sync bool) fusionsim.Future {
	rule, err := t.rule(task, sync)
	if err != nil {
		return done(nil, err)
	}
	if rule.IsLocal() {
		return t.startLocal(task, in, sync)
	}
	return t.startRemote(rule, task, in, sync)
}

func (t *taskCtx) startLocal(task string, in fusionsim.Event, sync bool) fusionsim.Future {
	inv := t.inv
	entry := inv.h.cfg.Entry
	f := newFuture()
	child := t.child(task)
	t0 := inv.h.now()
	inv.calls.Add(1)
	go func() {
		defer inv.calls.Done()
		res, err := child.run(task, in)
		if sync {
			inv.logCall(fusionsim.Call{Local: true, Sync: true, Caller: entry, Called: task, Time: msBetween(t0, inv.h.now())})
		} else if err != nil {
			inv.setAsyncError(err)
		}
		f.complete(res, err)
	}()
	if !sync {
		// The caller of a local async call goes on at once (the synchronous
		// prefix of a JavaScript async function takes no time here).
		inv.logCall(fusionsim.Call{Local: true, Sync: false, Caller: entry, Called: task, Time: msBetween(t0, inv.h.now())})
	}
	return f
}

// Go runs fn on a goroutine with a context of the same task; the invocation
// waits for it before it ends.
func (t *taskCtx) Go(fn func(fusionsim.Context) (fusionsim.Event, error)) fusionsim.Future {
	inv := t.inv
	f := newFuture()
	sib := &taskCtx{inv: inv, task: t.task, depth: t.depth, rng: rand.New(rand.NewPCG(t.rng.Uint64(), t.rng.Uint64()))}
	inv.calls.Add(1)
	go func() {
		defer inv.calls.Done()
		f.complete(sib.protect(func() (fusionsim.Event, error) { return fn(sib) }))
	}()
	return f
}

func (t *taskCtx) startRemote(rule fusionsim.Rule, task string, in fusionsim.Event, sync bool) fusionsim.Future {
	inv := t.inv
	cfg := &inv.h.cfg
	route, err := rule.Route()
	if err != nil {
		return done(nil, err)
	}
	if in == nil {
		in = fusionsim.Event{}
	}
	payload, err := json.Marshal(Envelope{Fusion: CallInfo{TraceID: inv.traceID, Depth: t.depth + 1}, Event: in})
	if err != nil {
		return done(nil, fmt.Errorf("event of %s: %w", task, err))
	}
	function := FunctionName(cfg.Prefix, route.Function())
	f := newFuture()
	t0 := inv.h.now()
	inv.calls.Add(1)
	go func() {
		defer inv.calls.Done()
		r := Invoke(inv.ctx, inv.h.invoker, function, sync, nil, payload)
		inv.logCall(fusionsim.Call{Local: false, Sync: sync, Caller: cfg.Entry, Called: task, Time: msBetween(t0, inv.h.now())})
		f.complete(r.Result, r.Err)
	}()
	return f
}

// Spend runs a work descriptor for real: its Run function, or, without one,
// a spin for its CPU demand. Tail work goes on after the task returns; the
// invocation waits for it before it ends.
func (t *taskCtx) Spend(w fusionsim.Work) {
	if w.Threads < 1 {
		w.Threads = 1
	}
	if w.Run != nil {
		w.Run()
	} else {
		spinCPU(w.SerialCPUMs, 1)
		spinCPU(w.CPUMs, w.Threads)
	}
	if w.TailCPUMs > 0 {
		t.inv.tails.Add(1)
		go func() {
			defer t.inv.tails.Done()
			spinCPU(w.TailCPUMs, 1)
		}()
	}
}

// Sleep waits for d, or until the invocation's deadline.
func (t *taskCtx) Sleep(d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-t.inv.ctx.Done():
	}
}

func (t *taskCtx) Put(table string, item fusionsim.Item) error {
	return t.inv.h.tables.Put(t.inv.ctx, table, item)
}

func (t *taskCtx) Get(table string, key int64) (fusionsim.Item, bool, error) {
	return t.inv.h.tables.Get(t.inv.ctx, table, key)
}

func (t *taskCtx) Query(table string, key int64) ([]fusionsim.Item, error) {
	return t.inv.h.tables.Query(t.inv.ctx, table, key)
}

func (t *taskCtx) Delete(table string, key int64) error {
	return t.inv.h.tables.Delete(t.inv.ctx, table, key)
}

// future is a call in flight.
type future struct {
	done chan struct{}
	once sync.Once
	res  fusionsim.Event
	err  error
}

func newFuture() *future { return &future{done: make(chan struct{})} }

func done(res fusionsim.Event, err error) *future {
	f := newFuture()
	f.complete(res, err)
	return f
}

func (f *future) complete(res fusionsim.Event, err error) {
	f.once.Do(func() {
		f.res, f.err = res, err
		close(f.done)
	})
}

// Wait blocks until the call has returned: a sync call's result, an async
// remote call's acknowledgement, a local async call's end.
func (f *future) Wait() (fusionsim.Event, error) {
	<-f.done
	return f.res, f.err
}
