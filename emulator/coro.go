package emulator

import (
	"fmt"
	"iter"
	"runtime/debug"
	"sync"

	"github.com/fusionsim/fusionsim/internal/pool"
)

// A coro is a coroutine that runs task code sequentially on the virtual
// clock. The kernel resumes it; it runs until it blocks (waiting for CPU, a
// delay or a call) or finishes its job, and only then does the kernel go on.
// Exactly one coroutine or the kernel runs at any time, so the emulator needs
// no locks and stays deterministic. Coroutines are pooled and reused.
type coro struct {
	em       *Emulator
	next     func() (struct{}, bool)
	stop     func()
	yield    func(struct{}) bool
	job      *localCall  // the job: a local call, or nil for inv.handle
	inv      *invocation // the invocation the job belongs to
	token    uint64      // incremented at every block; wake-ups carry it
	finished bool        // the job has returned (then it is in em.pool)
	// starter, when set, is the local call whose caller goes on at the
	// job's first await (see taskCtx.concurrently).
	starter *localCall
}

// killSignal unwinds the stack of a coroutine whose invocation was ended by
// the platform (timeout, out of memory) or whose emulator was closed.
type killSignal struct{}

func (em *Emulator) newCoro() *coro {
	c := &coro{em: em}
	c.next, c.stop = iter.Pull(func(yield func(struct{}) bool) {
		c.yield = yield
		for {
			job := c.job
			c.job = nil
			c.runJob(job)
			c.finished = true
			if !yield(struct{}{}) {
				return
			}
		}
	})
	return c
}

func (c *coro) runJob(job *localCall) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(killSignal); ok {
				return
			}
			// A panic of the platform itself (task panics are recovered where
			// tasks are called): keep the stack for the report.
			c.em.fatal = fmt.Errorf("emulator: internal panic: %v\n%s", r, debug.Stack())
		}
	}()
	if job != nil {
		job.run(c)
	} else {
		c.inv.handle()
	}
}

// spawn starts job on a pooled coroutine for inv and runs it until it blocks
// or finishes; a nil job is the invocation's handler. It must be called
// from the kernel, not from a coroutine.
func (em *Emulator) spawn(inv *invocation, job *localCall) {
	c, ok := pool.Pop(&em.pool)
	if !ok {
		if c = idleCoros.get(); c != nil {
			c.em = em
		} else {
			c = em.newCoro()
		}
		em.all = append(em.all, c)
	}
	c.job, c.inv, c.finished, c.starter = job, inv, false, nil
	if inv != nil {
		inv.coros++
	}
	em.resume(c)
}

// resume runs c until it blocks or finishes.
func (em *Emulator) resume(c *coro) {
	prev := em.current
	em.current = c
	c.next()
	em.current = prev
	if c.finished {
		if inv := c.inv; inv != nil {
			gen := inv.gen
			inv.coros--
			inv.coroutineDone()
			if inv.gen == gen {
				inv.free()
			}
		}
		c.inv = nil
		em.pool = append(em.pool, c)
	}
}

// block suspends the running coroutine until a wake-up carrying token
// arrives. The caller takes token from c.wakeToken() and arranges the wake-up
// (em.wake) before blocking.
func (c *coro) block() {
	if c.em.current != c {
		panic("emulator: Context used outside its task's goroutine")
	}
	if !c.yield(struct{}{}) {
		panic(killSignal{})
	}
	if c.inv != nil && c.inv.dead {
		panic(killSignal{})
	}
}

// wakeToken returns the token of c's next block.
func (c *coro) wakeToken() uint64 {
	c.token++
	return c.token
}

// wake resumes c now, if it is still in the block of token: at once when the
// kernel calls it, else through an event. Coroutines are resumed only by the
// kernel, never from inside another coroutine.
func (em *Emulator) wake(c *coro, token uint64) {
	if em.current == nil {
		// Called by the kernel: no coroutine runs, resume at once.
		c.fire(em, token)
		return
	}
	em.k.push(event{at: em.k.now, act: c, arg: token})
}

// fire resumes c if it is still blocked on token.
func (c *coro) fire(em *Emulator, token uint64) {
	if c.token == token && !c.finished {
		em.resume(c)
	}
}

// startAtOnce runs the job of a local call started by the running
// coroutine (taskCtx.concurrently) without the two trips through the
// kernel that the call's event and the caller's wake-up take, when those
// would be the very next events anyway: nothing else is due now, so the
// call's event would run next, and once its coroutine has reached its
// first await (or blocked), the caller's wake-up is next in line. The job
// then starts here, with the emulator as the kernel would have it (no
// current coroutine), and the caller goes on without blocking; the
// events are counted as run. It reports whether the caller may go on;
// otherwise the caller must block as usual (its event was scheduled, or
// its wake-up comes later).
func (em *Emulator) startAtOnce(lc *localCall) bool {
	k := &em.k
	if !k.idleNow() {
		return false
	}
	c := lc.caller
	k.n++ // the call's event
	em.current = nil
	lc.fire(em, 0)
	em.current = c
	if !k.takeNext(c, lc.handoff) {
		c.block() // its wake-up is not next (or not yet scheduled)
		return true
	}
	// Resumed, as block returns.
	if c.inv != nil && c.inv.dead {
		panic(killSignal{})
	}
	return true
}

// idleCoros holds the idle coroutines of closed emulators, for the next
// emulators of the process (a sweep makes thousands, one after the
// other): a coroutine's goroutine and its grown stack are reused instead
// of made anew.
var idleCoros coroCache

// maxIdleCoros bounds the coroutines kept: beyond it they are stopped.
const maxIdleCoros = 4096

type coroCache struct {
	mu   sync.Mutex
	free []*coro
}

func (cc *coroCache) get() *coro {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	c, _ := pool.Pop(&cc.free)
	return c
}

// put keeps c, an idle coroutine (it has finished its job and waits for
// the next), and reports whether it did.
func (cc *coroCache) put(c *coro) bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.free) >= maxIdleCoros {
		return false
	}
	c.em, c.inv, c.job, c.starter = nil, nil, nil, nil
	cc.free = append(cc.free, c)
	return true
}
