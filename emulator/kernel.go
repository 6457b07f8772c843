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
// run in the order they were scheduled. The heap holds pointer-free entries
// (time, sequence, slot); the actors and functions wait in slots, so that
// moving entries around the heap needs no GC write barriers.
type kernel struct {
	now   time.Duration
	seq   uint64
	queue []entry // binary min-heap
	slots []slot
	free  []int32 // unused slots
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

func (k *kernel) less(i, j int) bool {
	a, b := &k.queue[i], &k.queue[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (k *kernel) push(ev event) {
	if ev.at < k.now {
		ev.at = k.now
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
	k.seq++
	k.queue = append(k.queue, entry{at: ev.at, seq: k.seq, slot: i})
	j := len(k.queue) - 1
	for j > 0 {
		p := (j - 1) / 2
		if !k.less(j, p) {
			break
		}
		k.queue[j], k.queue[p] = k.queue[p], k.queue[j]
		j = p
	}
}

func (k *kernel) pop() event {
	q := k.queue
	top := q[0]
	n := len(q) - 1
	q[0] = q[n]
	k.queue = q[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && k.less(r, l) {
			m = r
		}
		if !k.less(m, i) {
			break
		}
		k.queue[i], k.queue[m] = k.queue[m], k.queue[i]
		i = m
	}
	sl := &k.slots[top.slot]
	ev := event{at: top.at, act: sl.act, arg: sl.arg, fn: sl.fn}
	*sl = slot{}
	k.free = append(k.free, top.slot)
	return ev
}

// at schedules fn at time t (never in the past).
func (k *kernel) at(t time.Duration, fn func()) { k.push(event{at: t, fn: fn}) }

// after schedules fn d from now.
func (k *kernel) after(d time.Duration, fn func()) { k.push(event{at: k.now + d, fn: fn}) }

// next returns the time of the earliest event.
func (k *kernel) next() (time.Duration, bool) {
	if len(k.queue) == 0 {
		return 0, false
	}
	return k.queue[0].at, true
}
