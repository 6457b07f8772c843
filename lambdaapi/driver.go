package lambdaapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"time"

	"github.com/fusionsim/fusionsim/emulator"
)

// ErrStopped is returned by Driver.Do once the driver has stopped.
var ErrStopped = errors.New("lambdaapi: the emulator driver has stopped")

// Driver runs an Emulator against the wall clock. It owns the emulator: one
// goroutine advances the virtual clock to the virtual time of "now", sleeps
// until the wall time of the next event, and runs the closures handed to Do,
// so that the emulator is only ever touched from that goroutine.
//
// Virtual time runs TimeScale times as fast as the wall clock: with scale
// 100, a modeled second passes in 10 wall milliseconds. The mapping is fixed
// when the driver starts: virtual(w) = em.Now()₀ + (w - w₀) × scale.
type Driver struct {
	em    *emulator.Emulator
	scale float64
	now   func() time.Time

	wall0 time.Time // wall time at Start
	virt0 time.Time // emulator time at Start

	calls   chan call
	stop    chan struct{}
	stopped chan struct{}
	err     error // why the driver stopped; read after stopped is closed
}

type call struct {
	f    func(em *emulator.Emulator)
	done chan error // nil for Post
}

// NewDriver makes a driver for em. scale is the number of virtual seconds per
// wall second (MinTimeScale to MaxTimeScale); now is the wall clock
// (time.Now if nil).
func NewDriver(em *emulator.Emulator, scale float64, now func() time.Time) (*Driver, error) {
	if !(scale >= MinTimeScale && scale <= MaxTimeScale) {
		return nil, fmt.Errorf("lambdaapi: time scale %v is outside %g..%g", scale, MinTimeScale, MaxTimeScale)
	}
	if now == nil {
		now = time.Now
	}
	return &Driver{
		em:      em,
		scale:   scale,
		now:     now,
		calls:   make(chan call, 1024),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}, nil
}

// Start starts the driver's goroutine; the virtual clock starts at the
// emulator's current time.
func (d *Driver) Start() {
	d.wall0, d.virt0 = d.now(), d.em.Now()
	go d.loop()
}

// ErrClockRange is the driver's error once the virtual clock would leave
// the range of the emulator's clock (more than MaxVirtual after the start;
// at MaxTimeScale, after more than a day of wall time).
var ErrClockRange = errors.New("lambdaapi: the virtual clock ran out of range")

// MaxVirtual bounds the virtual time a driver runs: 250 years, below the 292
// of a time.Duration.
const MaxVirtual = 250 * 365 * 24 * time.Hour

// maxWait bounds one sleep of the driver (a long one would overflow).
const maxWait = time.Hour

// VirtualNow is the virtual time that corresponds to the wall clock now.
func (d *Driver) VirtualNow() time.Time {
	v, _ := d.virtualAt(d.now())
	return v
}

// virtualAt maps a wall time to virtual time; ok is false (and the time
// clamped) when it is more than MaxVirtual after the start.
func (d *Driver) virtualAt(wall time.Time) (time.Time, bool) {
	v := float64(wall.Sub(d.wall0)) * d.scale
	if !(v <= float64(MaxVirtual)) {
		return d.virt0.Add(MaxVirtual), false
	}
	return d.virt0.Add(time.Duration(v)), true
}

// wallUntil is the wall time from now until virtual time v, rounded up, at
// most maxWait.
func (d *Driver) wallUntil(v, virtNow time.Time) time.Duration {
	w := math.Ceil(float64(v.Sub(virtNow)) / d.scale)
	if !(w < float64(maxWait)) {
		return maxWait
	}
	return time.Duration(w)
}

// Do runs f on the driver's goroutine, after the emulator has been advanced
// to the current time, and waits until it has run. It returns ctx's error
// if ctx ends before f was handed over, ErrStopped (or the driver's fatal
// error) if the driver is not running, and an error if f panicked.
func (d *Driver) Do(ctx context.Context, f func(em *emulator.Emulator)) error {
	c := call{f: f, done: make(chan error, 1)}
	select {
	case d.calls <- c:
	case <-d.stopped:
		return d.stoppedErr()
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.done:
		return err
	case <-d.stopped:
		// The driver may have run f just before it stopped.
		select {
		case err := <-c.done:
			return err
		default:
			return d.stoppedErr()
		}
	}
}

// Post hands f to the driver's goroutine without waiting for it to run: f
// runs after the emulator has been advanced to the current time, unless the
// driver stops first. It returns ctx's error if ctx ends before f was
// handed over, and ErrStopped if the driver is not running. A panic of f is
// logged to nothing: f must report its own failures (submit recovers).
func (d *Driver) Post(ctx context.Context, f func(em *emulator.Emulator)) error {
	select {
	case d.calls <- call{f: f}:
		return nil
	case <-d.stopped:
		return d.stoppedErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done is closed when the driver has stopped.
func (d *Driver) Done() <-chan struct{} { return d.stopped }

// Err is the error that stopped the driver (nil after a normal Stop).
func (d *Driver) Err() error {
	select {
	case <-d.stopped:
		return d.err
	default:
		return nil
	}
}

func (d *Driver) stoppedErr() error {
	if d.err != nil {
		return fmt.Errorf("%w: %w", ErrStopped, d.err)
	}
	return ErrStopped
}

// Stop stops the driver's goroutine and waits for it. Closures not yet run
// get ErrStopped. It returns the error that stopped the driver earlier, if
// any.
func (d *Driver) Stop() error {
	select {
	case <-d.stop:
	default:
		close(d.stop)
	}
	<-d.stopped
	return d.err
}

func (d *Driver) loop() {
	defer close(d.stopped)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if err := d.advance(); err != nil {
			d.err = err
			return
		}
		// Run what is queued without sleeping; new events may be due now.
		if n := len(d.calls); n > 0 {
			for range n {
				d.run(<-d.calls)
			}
			continue
		}
		var wake <-chan time.Time
		if next, ok := d.em.NextEvent(); ok {
			wait := d.wallUntil(next, d.em.Now())
			if wait <= 0 {
				select {
				case <-d.stop:
					return
				default:
				}
				continue
			}
			timer.Reset(wait)
			wake = timer.C
		}
		select {
		case c := <-d.calls:
			if err := d.advance(); err != nil {
				d.err = err
				if c.done != nil {
					c.done <- d.stoppedErr()
				}
				return
			}
			d.run(c)
		case <-wake:
		case <-d.stop:
			return
		}
	}
}

// advance runs every event up to the virtual time of now.
func (d *Driver) advance() error {
	v, ok := d.virtualAt(d.now())
	if !ok {
		return fmt.Errorf("%w: %v of virtual time since the start at time scale %g", ErrClockRange, MaxVirtual, d.scale)
	}
	if err := d.em.AdvanceTo(v); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	return nil
}

// run calls c.f and reports its end; a panic of f is returned as an error
// (the emulator itself recovers the panics of task code).
func (d *Driver) run(c call) {
	defer func() {
		if r := recover(); r != nil && c.done != nil {
			c.done <- fmt.Errorf("lambdaapi: panic on the driver goroutine: %v\n%s", r, debug.Stack())
		}
	}()
	c.f(d.em)
	if c.done != nil {
		c.done <- nil
	}
}
