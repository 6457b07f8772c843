package lambdaapi

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
)

func newTestEmulator(t *testing.T) *emulator.Emulator {
	t.Helper()
	app := testApp()
	em, err := emulator.New(emulator.Config{App: app, Seed: 1})
	must(t, err)
	must(t, em.Deploy(context.Background(), remoteSetup(app, "remote")))
	t.Cleanup(em.Close)
	return em
}

// fakeClock is a wall clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestDriverMapsWallTimeToVirtualTime(t *testing.T) {
	em := newTestEmulator(t)
	clock := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	d, err := NewDriver(em, 100, clock.Now)
	must(t, err)
	v0 := em.Now()
	d.Start()
	defer d.Stop()
	clock.add(1500 * time.Millisecond)
	equal(t, v0.Add(150*time.Second), d.VirtualNow())
	// Do advances the emulator to the virtual time of now first.
	var seen time.Time
	must(t, d.Do(context.Background(), func(em *emulator.Emulator) { seen = em.Now() }))
	equal(t, v0.Add(150*time.Second), seen)
}

// TestDriverFollowsTheWallClock sends a request whose modeled latency is
// above 1 s at scale 10: the answer must take about a tenth of that in wall
// time, not run ahead of the clock.
func TestDriverFollowsTheWallClock(t *testing.T) {
	em := newTestEmulator(t)
	d, err := NewDriver(em, 10, nil)
	must(t, err)
	d.Start()
	defer d.Stop()
	ch := make(chan fusionsim.Response, 1)
	start := time.Now()
	must(t, d.Do(context.Background(), func(em *emulator.Emulator) {
		em.Submit(fusionsim.MustParseRoute("SYNC-SLOW-128"), fusionsim.Event{"ms": 1000}, func(r fusionsim.Response) { ch <- r }, func() {})
	}))
	r := <-ch
	wall := time.Since(start)
	must(t, r.Err)
	modeled := r.Latency()
	check(t, modeled > time.Second, modeled)
	check(t, wall >= modeled/10-time.Millisecond, "wall %v for modeled %v at scale 10", wall, modeled)
	check(t, wall < modeled/10+500*time.Millisecond, "wall %v for modeled %v at scale 10", wall, modeled)
}

func TestDriverDoAfterStopAndPanics(t *testing.T) {
	em := newTestEmulator(t)
	d, err := NewDriver(em, 1, nil)
	must(t, err)
	d.Start()
	err = d.Do(context.Background(), func(*emulator.Emulator) { panic("on purpose") })
	check(t, err != nil, "a panic must come back as an error")
	contains(t, err.Error(), "on purpose")
	// The driver goes on.
	must(t, d.Do(context.Background(), func(*emulator.Emulator) {}))
	must(t, d.Stop())
	err = d.Do(context.Background(), func(*emulator.Emulator) { t.Error("ran after Stop") })
	check(t, errors.Is(err, ErrStopped), err)

	_, err = NewDriver(em, 0, nil)
	check(t, err != nil, "scale 0 must be refused")
}
