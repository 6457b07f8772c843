package emulator

import "time"

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

// before orders entries by (time, sequence number).
func (a *entry) before(b *entry) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func (k *kernel) push(ev event) {
	k.seq++
	if ev.at <= k.now {
		k.fifo = append(k.fifo, slot{act: ev.act, arg: ev.arg, fn: ev.fn})
		return
	}
	var i int32
	if n := len(k.free); n > 0 {
		i = k.free[n-1]
		k.free = k.free[:n-1]
	} else {
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
	if k.head < len(k.fifo) && (len(k.queue) == 0 || k.queue[0].at > k.now) {
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
	// Sift the last entry down from the root of the 4-ary heap.
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		for d := c + 1; d < c+4 && d < n; d++ {
			if q[d].before(&q[m]) {
				m = d
			}
		}
		if !q[m].before(&last) {
			break
		}
		q[i] = q[m]
		i = m
	}
	if n > 0 {
		q[i] = last
	}
	sl := &k.slots[top.slot]
	ev := *sl
	*sl = slot{}
	k.free = append(k.free, top.slot)
	k.now = top.at
	return ev
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
