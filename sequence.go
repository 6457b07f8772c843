package fusionsim

import (
	"fmt"
	"math"
	"time"
)

// CheckArrivals checks the order of a load's arrivals (not their routes):
// Follows names an earlier arrival, with a pause (At) >= 0, and is not
// combined with AfterPrevious;
// a pool has 1..MaxVUs users of which 0..MaxVUs are pre-allocated; at most
// one arrival continues each request of an iteration (a virtual user sends
// one request at a time). Errors name the arrival by index.
func CheckArrivals(arrivals []Arrival) error {
	var inIter []bool
	var continued []bool
	for i, a := range arrivals {
		if a.Follows == 0 && a.VUs == nil {
			continue
		}
		if inIter == nil {
			inIter = make([]bool, len(arrivals))
			continued = make([]bool, len(arrivals))
		}
		if a.AfterPrevious {
			return fmt.Errorf("arrivals[%d]: AfterPrevious cannot be combined with Follows or VUs", i)
		}
		if a.Follows < 0 || a.Follows > i {
			return fmt.Errorf("arrivals[%d]: Follows %d names no earlier arrival (1..%d)", i, a.Follows, i)
		}
		if a.Follows > 0 && a.At < 0 {
			return fmt.Errorf("arrivals[%d]: At %v: the pause after the response it follows must be >= 0", i, a.At)
		}
		if p := a.VUs; p != nil {
			if p.MaxVUs < 1 || p.MaxVUs > math.MaxInt32 {
				return fmt.Errorf("arrivals[%d]: VUs.MaxVUs %d must be 1..%d", i, p.MaxVUs, math.MaxInt32)
			}
			if p.PreAllocatedVUs < 0 || p.PreAllocatedVUs > p.MaxVUs {
				return fmt.Errorf("arrivals[%d]: VUs.PreAllocatedVUs %d must be 0..MaxVUs (%d)", i, p.PreAllocatedVUs, p.MaxVUs)
			}
			inIter[i] = true
			continue
		}
		if j := a.Follows - 1; inIter[j] {
			if continued[j] {
				return fmt.Errorf("arrivals[%d]: a second request continues the iteration of arrivals[%d] (a virtual user sends one request at a time)", i, j)
			}
			continued[j], inIter[i] = true, true
		}
	}
	return nil
}

// Sequencer decides, for one Platform.Run, which virtual user sends each
// request of a scenario's iterations, and which iterations are dropped, with
// k6's rules for arrival-rate executors:
//
//   - the pre-allocated users of a pool exist from the start, free;
//   - an iteration that is due takes the user that became free first (the
//     pre-allocated ones in number order), among those freed strictly before
//     that instant: a user whose last response arrives at the very instant an
//     iteration is due is not free for it (k6's user comes back a moment
//     after its response);
//   - an iteration that finds no free user is dropped: all its requests are
//     answered ErrDropped without being sent; if the pool has fewer than
//     MaxVUs users, one more is created then;
//   - a request that continues an iteration is sent by the iteration's
//     user, and the user is free again when the response to the
//     iteration's last request has arrived.
//
// Users are numbered 1, 2, ... in the order they are created, the
// pre-allocated users of each pool first (pools in the order their first
// arrival comes). Platforms call Begin when an arrival is due and Answered
// when its response has arrived (or it was dropped); then they schedule its
// Followers. Given the same calls it gives the same answers, so a platform
// on a virtual clock stays deterministic. It is not safe for concurrent
// use.
type Sequencer struct {
	arrivals []Arrival
	scenario bool
	// By arrival (only for scenario loads): the first follower and the next
	// follower of the same arrival (-1: none), the continuation of the
	// iteration (-1: none), the user that sent it (0: none), whether it is a
	// request of an iteration and whether it was dropped.
	head, sib, cont []int32
	vu              []int32
	inIter, dropped []bool

	pools   map[*VUPool]*vuPool
	poolOf  []*vuPool // by user number
	dropIts int
}

type vuPool struct {
	max, n int // MaxVUs, users created
	free   []freeVU
	first  int // index of the first free user in free
}

type freeVU struct {
	vu int32
	at time.Duration // when it became free
}

// NewSequencer checks the arrivals (CheckArrivals) and prepares their run.
func NewSequencer(arrivals []Arrival) (*Sequencer, error) {
	if err := CheckArrivals(arrivals); err != nil {
		return nil, err
	}
	s := &Sequencer{arrivals: arrivals}
	for _, a := range arrivals {
		if a.Follows > 0 || a.VUs != nil {
			s.scenario = true
			break
		}
	}
	if !s.scenario {
		return s, nil
	}
	n := len(arrivals)
	s.head, s.sib, s.cont, s.vu = make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n)
	s.inIter, s.dropped = make([]bool, n), make([]bool, n)
	s.pools = map[*VUPool]*vuPool{}
	s.poolOf = []*vuPool{nil} // user 0 is nobody
	for i := range s.head {
		s.head[i], s.sib[i], s.cont[i] = -1, -1, -1
	}
	for i := n - 1; i >= 0; i-- {
		if j := arrivals[i].Follows - 1; j >= 0 {
			s.sib[i], s.head[j] = s.head[j], int32(i)
		}
	}
	for i, a := range arrivals {
		switch {
		case a.VUs != nil:
			s.inIter[i] = true
			if s.pools[a.VUs] == nil {
				p := &vuPool{max: a.VUs.MaxVUs}
				s.pools[a.VUs] = p
				for range a.VUs.PreAllocatedVUs {
					s.create(p, math.MinInt64)
				}
			}
		case a.Follows > 0 && s.inIter[a.Follows-1]:
			s.inIter[i] = true
			s.cont[a.Follows-1] = int32(i)
		}
	}
	return s, nil
}

// create adds a new user to p, free since at.
func (s *Sequencer) create(p *vuPool, at time.Duration) {
	p.n++
	vu := int32(len(s.poolOf))
	s.poolOf = append(s.poolOf, p)
	p.free = append(p.free, freeVU{vu, at})
}

// Scenario reports whether any arrival Follows another or starts an
// iteration; without, Begin always sends and nothing follows anything.
func (s *Sequencer) Scenario() bool { return s.scenario }

// Open reports whether arrival i is sent on the run's schedule, At after the
// start of the run: it neither Follows another nor comes AfterPrevious.
func (s *Sequencer) Open(i int) bool {
	a := &s.arrivals[i]
	return a.Follows == 0 && (i == 0 || !a.AfterPrevious)
}

// Followers returns the arrivals that Follow arrival i, in order: each is
// due At after the response to i.
func (s *Sequencer) Followers(i int) []int {
	if !s.scenario {
		return nil
	}
	var out []int
	for k := s.head[i]; k >= 0; k = s.sib[k] {
		out = append(out, int(k))
	}
	return out
}

// Begin decides, at now (any clock, as long as it never goes back), whether
// arrival i, now due, is sent and by which user (0: outside an iteration).
// A request that is not sent is answered ErrDropped.
func (s *Sequencer) Begin(i int, now time.Duration) (vu int, send bool) {
	if !s.scenario || !s.inIter[i] {
		return 0, true
	}
	a := &s.arrivals[i]
	if a.VUs == nil { // continues the iteration of the arrival it follows
		j := a.Follows - 1
		if s.dropped[j] {
			s.dropped[i] = true
			return 0, false
		}
		s.vu[i] = s.vu[j]
		return int(s.vu[i]), true
	}
	p := s.pools[a.VUs]
	if p.first < len(p.free) && p.free[p.first].at < now {
		s.vu[i] = p.free[p.first].vu
		p.first++
		if p.first > 64 && p.first*2 > len(p.free) {
			p.free = append(p.free[:0], p.free[p.first:]...)
			p.first = 0
		}
		return int(s.vu[i]), true
	}
	s.dropped[i] = true
	s.dropIts++
	if p.n < p.max {
		s.create(p, now)
	}
	return 0, false
}

// Answered records, at now, that the response to arrival i has arrived (or
// that it was dropped): the user that sent the last request of an iteration
// is free again.
func (s *Sequencer) Answered(i int, now time.Duration) {
	if !s.scenario || s.vu[i] == 0 || s.cont[i] >= 0 {
		return
	}
	vu := s.vu[i]
	p := s.poolOf[vu]
	p.free = append(p.free, freeVU{vu, now})
}

// Event is the body of arrival i sent by user vu (Arrival.EventFor or
// Event).
func (s *Sequencer) Event(i, vu int) Event {
	if f := s.arrivals[i].EventFor; f != nil {
		return f(vu)
	}
	return s.arrivals[i].Event
}

// DroppedIterations counts the iterations dropped so far.
func (s *Sequencer) DroppedIterations() int { return s.dropIts }

// VUsCreated counts the virtual users created so far, over all pools.
func (s *Sequencer) VUsCreated() int { return max(len(s.poolOf)-1, 0) }
