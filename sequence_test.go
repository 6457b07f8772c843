package fusionsim

import (
	"strings"
	"testing"
	"time"
)

const sec = time.Second

// iterations makes n iterations of the given number of requests each, the
// first of each due at k*gap, drawing on pool.
func iterations(pool *VUPool, n, requests int, gap time.Duration) []Arrival {
	var out []Arrival
	for k := range n {
		out = append(out, Arrival{At: time.Duration(k) * gap, VUs: pool})
		for range requests - 1 {
			out = append(out, Arrival{Follows: len(out)})
		}
	}
	return out
}

// A constant 2 iterations/s for 10 s, one virtual user, iterations of
// exactly 1 s: k6 runs the iteration at 0 s; those at 0.5 and 1 s find the
// user busy (it comes back just after 1 s), the one at 1.5 s runs; and so
// on: 0, 1.5, 3, 4.5, 6, 7.5, 9 s run, the other 13 are dropped.
func TestSequencerOneUser(t *testing.T) {
	arr := iterations(&VUPool{PreAllocatedVUs: 1, MaxVUs: 1}, 20, 1, sec/2)
	sq, err := NewSequencer(arr)
	if err != nil {
		t.Fatal(err)
	}
	var ran []time.Duration
	running, until := -1, time.Duration(0) // the iteration in flight and its end
	for i, a := range arr {
		if running >= 0 && until <= a.At { // its response comes first
			sq.Answered(running, until)
			running = -1
		}
		vu, ok := sq.Begin(i, a.At)
		if !ok {
			sq.Answered(i, a.At)
			continue
		}
		if vu != 1 {
			t.Fatalf("iteration at %v ran on user %d, want 1", a.At, vu)
		}
		ran = append(ran, a.At)
		running, until = i, a.At+sec
	}
	want := []time.Duration{0, 1500 * time.Millisecond, 3 * sec, 4500 * time.Millisecond, 6 * sec, 7500 * time.Millisecond, 9 * sec}
	if len(ran) != len(want) {
		t.Fatalf("ran at %v, want %v", ran, want)
	}
	for i := range want {
		if ran[i] != want[i] {
			t.Fatalf("ran at %v, want %v", ran, want)
		}
	}
	if d := sq.DroppedIterations(); d != 13 {
		t.Errorf("%d dropped iterations, want 13", d)
	}
	if n := sq.VUsCreated(); n != 1 {
		t.Errorf("%d users created, want 1", n)
	}
}

// Without pre-allocated users the first iteration is dropped and a user is
// created; the pool grows by one per drop up to MaxVUs; the user free first
// (and strictly before the instant) runs the next iteration.
func TestSequencerGrows(t *testing.T) {
	arr := iterations(&VUPool{PreAllocatedVUs: 0, MaxVUs: 2}, 6, 1, sec)
	sq, err := NewSequencer(arr)
	if err != nil {
		t.Fatal(err)
	}
	begin := func(i int, at time.Duration, wantVU int, wantSent bool) {
		t.Helper()
		vu, ok := sq.Begin(i, at)
		if vu != wantVU || ok != wantSent {
			t.Fatalf("arrival %d at %v: user %d, sent %v; want %d, %v", i, at, vu, ok, wantVU, wantSent)
		}
	}
	begin(0, 0, 0, false)     // no user: dropped, user 1 created at 0 s
	begin(1, sec, 1, true)    // user 1
	begin(2, 2*sec, 0, false) // dropped, user 2 created
	begin(3, 3*sec, 2, true)  // user 2
	// User 2 answers at 3.5 s, user 1 at 4 s: at 4 s user 2 runs (free first
	// and before 4 s; user 1 is free only at that instant).
	sq.Answered(3, 3500*time.Millisecond)
	sq.Answered(1, 4*sec)
	begin(4, 4*sec, 2, true)
	begin(5, 5*sec, 1, true)
	if d, n := sq.DroppedIterations(), sq.VUsCreated(); d != 2 || n != 2 {
		t.Errorf("%d dropped, %d users; want 2 and 2 (MaxVUs)", d, n)
	}
}

// The requests of an iteration go out on its user, which is free again
// only after the last response; free users are taken in the order they
// became free; a dropped iteration drops all its requests; a request that
// follows a request outside iterations (the setup phase) has no user.
func TestSequencerIterations(t *testing.T) {
	pool := &VUPool{PreAllocatedVUs: 3, MaxVUs: 3}
	arr := []Arrival{
		{Kind: "setup"},                          // 0
		{Follows: 1, Kind: "setup"},              // 1
		{Follows: 2, At: 0, VUs: pool},           // 2: iteration A
		{Follows: 3},                             // 3
		{Follows: 2, At: sec, VUs: pool},         // 4: iteration B
		{Follows: 5},                             // 5
		{Follows: 2, At: 2 * sec, VUs: pool},     // 6: iteration C
		{Follows: 2, At: 3 * sec, VUs: pool},     // 7: iteration D (one request)
		{Follows: 2, At: 4 * sec, VUs: pool},     // 8: iteration E
		{Follows: 9, At: 100 * time.Millisecond}, // 9
	}
	sq, err := NewSequencer(arr)
	if err != nil {
		t.Fatal(err)
	}
	if !sq.Open(0) || sq.Open(1) || sq.Open(2) {
		t.Errorf("open: %v %v %v; want only arrival 0", sq.Open(0), sq.Open(1), sq.Open(2))
	}
	if f := sq.Followers(1); len(f) != 5 || f[0] != 2 || f[4] != 8 {
		t.Errorf("followers of the setup's last request: %v", f)
	}
	if f := sq.Followers(8); len(f) != 1 || f[0] != 9 {
		t.Errorf("followers of 8: %v", f)
	}
	check := func(i int, at time.Duration, wantVU int, wantSent bool) {
		t.Helper()
		vu, ok := sq.Begin(i, at)
		if vu != wantVU || ok != wantSent {
			t.Fatalf("arrival %d at %v: user %d, sent %v; want %d, %v", i, at, vu, ok, wantVU, wantSent)
		}
	}
	check(0, 0, 0, true)
	sq.Answered(0, 10)
	check(1, 10, 0, true)
	sq.Answered(1, 20)
	check(2, 20, 1, true) // A on user 1
	sq.Answered(2, 30)    // not A's last request: user 1 stays busy
	check(3, 30, 1, true)
	check(4, 20+sec, 2, true) // B on user 2
	sq.Answered(3, 40)        // A done: free queue 3, 1
	check(5, 20+sec, 2, true)
	check(6, 20+2*sec, 3, true) // C on user 3 (free before user 1)
	check(7, 20+3*sec, 1, true) // D on user 1
	check(8, 20+4*sec, 0, false)
	check(9, 20+4*sec+100*time.Millisecond, 0, false) // E's second request: dropped too
	if d := sq.DroppedIterations(); d != 1 {
		t.Errorf("%d dropped iterations, want 1 (E)", d)
	}
	if ev := sq.Event(0, 0); ev != nil {
		t.Errorf("body of arrival 0: %v, want nil ({})", ev)
	}
	arr[0].EventFor = func(vu int) Event { return Event{"user": vu} }
	if ev := sq.Event(0, 7); ev.Int("user", -1) != 7 {
		t.Errorf("EventFor body: %v", ev)
	}
}

func TestCheckArrivals(t *testing.T) {
	pool := &VUPool{MaxVUs: 1}
	for _, c := range []struct {
		arr  []Arrival
		want string
	}{
		{[]Arrival{{Follows: 1}}, "arrivals[0]: Follows 1 names no earlier arrival"},
		{[]Arrival{{}, {Follows: -1}}, "arrivals[1]: Follows -1"},
		{[]Arrival{{}, {Follows: 1, At: -1}}, "arrivals[1]: At -1ns"},
		{[]Arrival{{}, {Follows: 1, AfterPrevious: true}}, "AfterPrevious cannot be combined"},
		{[]Arrival{{VUs: &VUPool{}}}, "MaxVUs 0 must be 1.."},
		{[]Arrival{{VUs: &VUPool{PreAllocatedVUs: 2, MaxVUs: 1}}}, "PreAllocatedVUs 2 must be 0..MaxVUs (1)"},
		{[]Arrival{{VUs: pool}, {Follows: 1}, {Follows: 1}}, "arrivals[2]: a second request continues the iteration of arrivals[0]"},
	} {
		err := CheckArrivals(c.arr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.arr, err, c.want)
		}
		if _, err := NewSequencer(c.arr); err == nil {
			t.Errorf("NewSequencer accepted %+v", c.arr)
		}
	}
	// Two followers of a request outside iterations are fine (the setup
	// phase's last request starts every iteration).
	if err := CheckArrivals([]Arrival{{}, {Follows: 1}, {Follows: 1, VUs: pool}, {Follows: 1, VUs: pool}}); err != nil {
		t.Error(err)
	}
	sq, err := NewSequencer(make([]Arrival, 3))
	if err != nil || sq.Scenario() || sq.Followers(0) != nil {
		t.Fatalf("a plain load: %v, scenario %v", err, sq.Scenario())
	}
	if vu, ok := sq.Begin(2, 0); vu != 0 || !ok {
		t.Errorf("plain arrival: user %d, sent %v", vu, ok)
	}
}
