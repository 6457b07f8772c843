package emulator

import (
	"math/bits"
	"time"

	"github.com/fusionsim/fusionsim/internal/pool"
)

// event is something to do at a time: call act.fire(arg) or, when act is
// nil, fn. Actors (coroutines, processors, calls in flight) avoid
// allocating a closure per event.
type event struct {
	at  time.Duration
	act actor
	arg uint64
	fn  func()
}

// actor is something the kernel calls back with an argument: a coroutine
// (resume if still blocked on token arg), a processor (complete if still at
// generation arg), a call in flight (advance to step arg).
type actor interface {
	fire(em *Emulator, arg uint64)
}

// kernel is the discrete-event scheduler: a virtual clock and a queue of
// events ordered by (time, sequence number), so that events at the same time
// run in the order they were scheduled. Events in the future wait in a
// 4-ary heap of pointer-free entries (time, sequence, slot); the actors and
// functions wait in slots, so that moving entries around the heap needs no
// GC write barriers. Events for now (a wake-up, a step without latency)
// skip the heap: they wait in a FIFO, which keeps their order, since they
// come after every heap event of the same time (those were scheduled
// earlier, when the clock was behind).
type kernel struct {
	now   time.Duration
	seq   uint64
	queue []entry // 4-ary min-heap
	slots []slot
	free  []int32 // unused slots
	fifo  []slot  // events for now, in order from head
	head  int
	n     uint64 // events run
}

type entry struct {
	at   time.Duration
	seq  uint64
	slot int32
}

type slot struct {
	act actor
	arg uint64
	fn  func()
}

// before orders entries by (time, sequence number): a 128-bit comparison
// of (at, seq) without branches (times in the heap are never negative).
func (a *entry) before(b *entry) bool { return beforeBit(a, b) != 0 }

// beforeBit is before as 1 or 0, for choosing without branching.
func beforeBit(a, b *entry) int {
	_, borrow := bits.Sub64(a.seq, b.seq, 0)
	_, borrow = bits.Sub64(uint64(a.at), uint64(b.at), borrow)
	return int(borrow)
}

func (k *kernel) push(ev event) {
	k.seq++
	if ev.at <= k.now {
		k.fifo = append(k.fifo, slot{act: ev.act, arg: ev.arg, fn: ev.fn})
		return
	}
	i, ok := pool.Pop(&k.free)
	if !ok {
		i = int32(len(k.slots))
		k.slots = append(k.slots, slot{})
	}
	k.slots[i] = slot{act: ev.act, arg: ev.arg, fn: ev.fn}
	// Sift up in a 4-ary heap, moving the hole rather than swapping.
	e := entry{at: ev.at, seq: k.seq, slot: i}
	k.queue = append(k.queue, e)
	q := k.queue
	j := len(q) - 1
	for j > 0 {
		p := (j - 1) / 4
		if !e.before(&q[p]) {
			break
		}
		q[j] = q[p]
		j = p
	}
	q[j] = e
}

// pop removes the next event and moves the clock to its time; the queue
// must not be empty.
func (k *kernel) pop() slot {
	k.n++
	if k.fifoNext() {
		sl := k.fifo[k.head]
		k.fifo[k.head] = slot{}
		if k.head++; k.head == len(k.fifo) {
			k.fifo, k.head = k.fifo[:0], 0
		}
		return sl
	}
	q := k.queue
	top := q[0]
	n := len(q) - 1
	last := q[n]
	q = q[:n]
	k.queue = q
	// Move the hole at the root down along the least children to a leaf
	// (the last entry, from the bottom, mostly belongs near one), then
	// sift the last entry up from there.
	if n > 0 {
		i := 0
		for {
			c := 4*i + 1
			if c+3 >= n {
				if c >= n {
					break
				}
				m := c
				for d := c + 1; d < n; d++ {
					if q[d].before(&q[m]) {
						m = d
					}
				}
				q[i] = q[m]
				i = m
				break
			}
			// The least of the four, chosen arithmetically: which of
			// them it is cannot be predicted, a branch would miss half
			// the time.
			m := c + beforeBit(&q[c+1], &q[c])
			m2 := c + 2 + beforeBit(&q[c+3], &q[c+2])
			m += (m2 - m) * beforeBit(&q[m2], &q[m])
			q[i] = q[m]
			i = m
		}
		for i > 0 {
			p := (i - 1) / 4
			if !last.before(&q[p]) {
				break
			}
			q[i] = q[p]
			i = p
		}
		q[i] = last
	}
	sl := &k.slots[top.slot]
	ev := *sl
	*sl = slot{}
	k.free = append(k.free, top.slot)
	k.now = top.at
	return ev
}

// heapLater reports whether no event in the heap is due now: events for
// now, in the FIFO, come first.
func (k *kernel) heapLater() bool { return len(k.queue) == 0 || k.queue[0].at > k.now }

// fifoNext reports whether the next event is the FIFO's head.
func (k *kernel) fifoNext() bool { return k.head < len(k.fifo) && k.heapLater() }

// idleNow reports whether no event is due now: an event pushed for now
// would be the next to run.
func (k *kernel) idleNow() bool { return k.head == len(k.fifo) && k.heapLater() }

// takeNext removes the next event if it is act's with arg, as if it ran,
// and reports whether it did.
func (k *kernel) takeNext(act actor, arg uint64) bool {
	if !k.fifoNext() {
		return false
	}
	if sl := &k.fifo[k.head]; sl.act != act || sl.arg != arg {
		return false
	}
	k.pop()
	return true
}

// empty reports whether no event is scheduled.
func (k *kernel) empty() bool { return len(k.queue) == 0 && k.head == len(k.fifo) }

// at schedules fn at time t (never in the past).
func (k *kernel) at(t time.Duration, fn func()) { k.push(event{at: t, fn: fn}) }

// after schedules fn d from now.
func (k *kernel) after(d time.Duration, fn func()) { k.push(event{at: k.now + d, fn: fn}) }

// next returns the time of the earliest event.
func (k *kernel) next() (time.Duration, bool) {
	if k.head < len(k.fifo) {
		return k.now, true
	}
	if len(k.queue) == 0 {
		return 0, false
	}
	return k.queue[0].at, true
}
