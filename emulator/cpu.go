package emulator

import (
	"math"
	"slices"
	"time"

	"github.com/fusionsim/fusionsim/internal/pool"
	"github.com/fusionsim/fusionsim/model"
)

// cpuJob is a piece of CPU work running in an execution environment. When
// it completes, the kernel wakes co (blocked on tok) or calls act.fire(arg).
type cpuJob struct {
	remaining float64 // vCPU-nanoseconds of demand still to run
	cap       float64 // most vCPUs it can use: min(threads, cores)
	rate      float64 // vCPUs it gets now
	co        *coro
	tok       uint64
	act       actor
	arg       uint64
	// then, with co, is a cost whose latency follows the job: when the
	// job completes, the coroutine sleeps on without being resumed
	// (runWake, sleepAfterCPU).
	then *model.Cost
}

// processor shares an execution environment's CPU among the jobs running in
// it (processor sharing, max-min fair): each job gets an equal part of the
// share, never more than its thread count allows, and what a job cannot use
// goes to the others. With one job, the job simply runs at
// min(threads, cores, share).
//
// Under memory pressure (model.CPU.MemoryPressure) a vCPU-ms of demand
// takes slow vCPU-ms of CPU time: the jobs get the same rates and progress
// slow times slower.
//
// With CPU bursts (model.CPU.BurstPeriodMs) the processor also keeps a
// quota of vCPU-ns that refills at the share's rate while no job runs, up to
// burstCap: while quota is left the jobs share the cores, not the share,
// and the quota drains by all they use; once it is spent they share the
// share until the environment is idle again.
type processor struct {
	em       *Emulator
	capacity float64 // vCPUs: min(share, cores)
	jobs     []*cpuJob
	done     []*cpuJob     // scratch of complete
	last     time.Duration // time of the last advance
	gen      uint64        // invalidates scheduled completions
	cores    float64
	share    float64
	burstCap float64 // quota bucket size, vCPU-ns (0: no bursts)
	tokens   float64 // quota left, vCPU-ns
	memoryMB int     // the function's memory size
	slow     float64 // CPU time per unit of demand (1: no memory pressure)
}

func (p *processor) init(em *Emulator, share float64, cores int, burstMs float64, memoryMB int) {
	p.em = em
	p.memoryMB = memoryMB
	p.slow = 1
	p.cores = float64(cores)
	p.share = share
	p.capacity = min(share, p.cores)
	p.burstCap = burstMs * 1e6
	p.tokens = p.burstCap
	p.last = em.k.now
}

// setResident tells the processor the memory its environment holds now,
// MB: under memory pressure its jobs progress more slowly from now on.
func (p *processor) setResident(residentMB float64) {
	slow := p.em.profile.CPU.MemoryPressure(p.memoryMB, residentMB)
	if slow == p.slow {
		return
	}
	p.advance()
	p.slow = slow
	if len(p.jobs) > 0 {
		p.schedule()
	}
}

// minTokens is the quota below which the bucket counts as empty, vCPU-ns
// (rounding to whole nanoseconds leaves crumbs).
const minTokens = 1.0

// bursting reports whether the jobs may use the cores instead of the share.
func (p *processor) bursting() bool { return p.burstCap > 0 && p.tokens >= minTokens }

// runWake starts a job of cpuMs vCPU-ms on threads threads and wakes co
// (blocked on tok) when it completes. With then (a cost whose latency
// follows the CPU, cpuMs > 0), co is not resumed in between: when the job
// completes, the kernel starts the latency as co would (sleepAfterCPU),
// so that co blocks once instead of twice.
func (p *processor) runWake(cpuMs float64, threads int, co *coro, tok uint64, then *model.Cost) {
	if cpuMs <= 0 {
		p.em.wake(co, tok)
		return
	}
	j := p.em.newJob(cpuMs, threads, p.cores)
	j.co, j.tok, j.then = co, tok, then
	p.add(j)
}

// runThen starts a job and calls act.fire(arg) when it completes (at once,
// from the kernel, when there is no work).
func (p *processor) runThen(cpuMs float64, threads int, act actor, arg uint64) {
	if cpuMs <= 0 {
		p.em.k.push(event{at: p.em.k.now, act: act, arg: arg})
		return
	}
	j := p.em.newJob(cpuMs, threads, p.cores)
	j.act, j.arg = act, arg
	p.add(j)
}

func (em *Emulator) newJob(cpuMs float64, threads int, cores float64) *cpuJob {
	if threads < 1 {
		threads = 1
	}
	j := pool.Take(&em.jobs)
	*j = cpuJob{remaining: cpuMs * 1e6, cap: min(float64(threads), cores)}
	return j
}

func (p *processor) add(j *cpuJob) {
	p.advance()
	p.jobs = append(p.jobs, j)
	p.allocate()
	p.schedule()
}

// advance charges the time since the last advance to every job.
func (p *processor) advance() {
	now := p.em.k.now
	if dt := float64(now - p.last); dt > 0 {
		used := 0.0
		for _, j := range p.jobs {
			j.remaining -= j.rate * dt / p.slow
			used += j.rate
		}
		if p.burstCap > 0 {
			switch {
			case len(p.jobs) == 0:
				p.tokens = min(p.burstCap, p.tokens+p.share*dt)
			case p.tokens > 0:
				p.tokens = max(0, p.tokens-used*dt)
			}
		}
	}
	p.last = now
}

// allocate shares the capacity max-min fairly (water-filling).
func (p *processor) allocate() {
	switch len(p.jobs) {
	case 0:
		return
	case 1:
		j := p.jobs[0]
		j.rate = min(j.cap, p.available())
		return
	}
	order := append(p.em.jobOrder[:0], p.jobs...)
	defer func() { clear(order); p.em.jobOrder = order[:0] }()
	slices.SortStableFunc(order, func(a, b *cpuJob) int {
		switch {
		case a.cap < b.cap:
			return -1
		case a.cap > b.cap:
			return 1
		}
		return 0
	})
	left, n := p.available(), float64(len(order))
	for _, j := range order {
		fair := left / n
		if j.cap <= fair {
			j.rate = j.cap
		} else {
			j.rate = fair
		}
		left -= j.rate
		n--
	}
}

// available is the vCPUs the jobs share now: the cores while bursting,
// else min(share, cores).
func (p *processor) available() float64 {
	if p.bursting() {
		return p.cores
	}
	return p.capacity
}

// schedule puts the next completion, or the moment the quota runs out, on
// the kernel's queue.
func (p *processor) schedule() {
	p.gen++
	if len(p.jobs) == 0 {
		return
	}
	soonest := math.Inf(1)
	used := 0.0
	for _, j := range p.jobs {
		if t := j.remaining * p.slow / j.rate; t < soonest {
			soonest = t
		}
		used += j.rate
	}
	if p.bursting() && used > 0 {
		if t := p.tokens / used; t < soonest {
			soonest = t
		}
	}
	if soonest < 0 {
		soonest = 0
	}
	p.em.k.push(event{at: p.em.k.now + time.Duration(math.Ceil(soonest)), act: p, arg: p.gen})
}

// fire completes jobs if the event is still the current generation's.
func (p *processor) fire(_ *Emulator, gen uint64) {
	if p.gen == gen {
		p.complete()
	}
}

// complete runs when the scheduled completion fires: it retires every job
// that has finished (within a nanosecond's progress) and notifies them in the order the
// jobs were started. When the quota ran out, no job may have finished: the
// others are re-shared at the share.
func (p *processor) complete() {
	p.advance()
	done := p.done[:0]
	keep := p.jobs[:0]
	for _, j := range p.jobs {
		if j.remaining <= j.rate/p.slow {
			done = append(done, j)
		} else {
			keep = append(keep, j)
		}
	}
	for i := len(keep); i < len(p.jobs); i++ {
		p.jobs[i] = nil // a loop: clear costs more for the few jobs there are
	}
	p.jobs = keep
	p.allocate()
	p.schedule()
	em := p.em
	for _, j := range done {
		co, tok, act, arg, then := j.co, j.tok, j.act, j.arg, j.then
		*j = cpuJob{}
		em.jobs = append(em.jobs, j)
		switch {
		case then != nil:
			em.sleepAfterCPU(co, tok, then)
		case co != nil:
			em.wake(co, tok)
		default:
			act.fire(em, arg)
		}
	}
	for i := range done {
		done[i] = nil
	}
	p.done = done[:0]
}

// reset drops every job (the environment is discarded).
func (p *processor) reset() {
	clear(p.jobs)
	p.jobs = p.jobs[:0]
	p.gen++
}

// sleepAfterCPU runs, in the kernel, what co would do after the CPU part
// of its cost c (runWake with then): it starts the latency (startLatency).
// Events are scheduled and random figures drawn in the same order as if co
// had been resumed, so that runs stay the same.
func (em *Emulator) sleepAfterCPU(co *coro, tok uint64, c *model.Cost) {
	if co.token != tok || co.finished {
		return
	}
	if co.inv != nil && co.inv.dead {
		em.resume(co) // it unwinds
		return
	}
	prev := em.current
	em.current = co
	em.startLatency(co, c)
	em.current = prev
}
