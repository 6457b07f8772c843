package load

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
)

// ErrBadLoad marks invalid load parameters.
var ErrBadLoad = errors.New("bad load")

// MaxRequests bounds the arrivals of one load, so that a typo in a rate or a
// duration fails at once instead of exhausting memory.
const MaxRequests = 50_000_000

// maxOffset bounds the time of an arrival: about 146 years, half the range
// of a time.Duration, so that sums of offsets and latencies cannot overflow.
const maxOffset = time.Duration(math.MaxInt64 / 2)

// offset is i/rate seconds as a duration, rounded to the nanosecond.
func offset(i int, ratePerS float64) time.Duration {
	return time.Duration(math.Round(float64(i) * 1e9 / ratePerS))
}

func checkRate(ratePerS float64) error {
	if !(ratePerS > 0) || math.IsInf(ratePerS, 0) {
		return fmt.Errorf("%w: rate %v requests/s must be a finite number > 0", ErrBadLoad, ratePerS)
	}
	return nil
}

func checkDuration(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%w: duration %v must be > 0", ErrBadLoad, d)
	}
	return nil
}

// checkCount checks the number of requests a load makes, n (rounded up: a
// fraction of a request is one more request).
func checkCount(n float64) error {
	if math.Ceil(n) > MaxRequests {
		return fmt.Errorf("%w: %.0f requests is more than the limit of %d", ErrBadLoad, math.Ceil(n), MaxRequests)
	}
	return nil
}

// CheckRequests checks a number of requests given by the user (--requests).
func CheckRequests(n int) error {
	switch {
	case n < 1:
		return fmt.Errorf("%w: %d requests: at least 1 is needed", ErrBadLoad, n)
	case n > MaxRequests:
		return fmt.Errorf("%w: %d requests is more than the limit of %d", ErrBadLoad, n, MaxRequests)
	}
	return nil
}

// Constant sends requests at a fixed rate for a duration, as k6's
// constant-arrival-rate executor: request i (from 0) at i/rate seconds, for
// every i with i/rate < d. 10 requests/s for 100 s are 1000 requests at 0,
// 0.1 s, ..., 99.9 s.
func Constant(ratePerS float64, d time.Duration) ([]fusionsim.Arrival, error) {
	if err := checkRate(ratePerS); err != nil {
		return nil, err
	}
	if err := checkDuration(d); err != nil {
		return nil, err
	}
	if err := checkCount(ratePerS * d.Seconds()); err != nil {
		return nil, err
	}
	var out []fusionsim.Arrival
	for i := 0; ; i++ {
		at := offset(i, ratePerS)
		if at >= d {
			break
		}
		out = append(out, fusionsim.Arrival{At: at})
	}
	return out, nil
}

// Poisson sends requests as a Poisson process of mean rate ratePerS for a
// duration: exponential gaps drawn from a source seeded with seed, the first
// request after the first gap.
func Poisson(ratePerS float64, d time.Duration, seed uint64) ([]fusionsim.Arrival, error) {
	if err := checkRate(ratePerS); err != nil {
		return nil, err
	}
	if err := checkDuration(d); err != nil {
		return nil, err
	}
	if err := checkCount(2 * ratePerS * d.Seconds()); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x6c6f6164)) // "load"
	var out []fusionsim.Arrival
	t := 0.0 // seconds
	for {
		t += rng.ExpFloat64() / ratePerS
		at := time.Duration(math.Round(t * 1e9))
		if at >= d {
			return out, nil
		}
		out = append(out, fusionsim.Arrival{At: at})
	}
}

// Stage is one stage of a ramping load: the rate goes linearly from the
// previous stage's target (or the start rate) to Target over Duration.
// Holding a rate is a stage whose target equals the previous one.
type Stage struct {
	TargetPerS float64       // requests/s at the end of the stage
	Duration   time.Duration // length of the stage
}

func (s Stage) String() string {
	return strconv.FormatFloat(s.TargetPerS, 'g', -1, 64) + ":" + s.Duration.String()
}

// Ramping sends requests at a rate that changes linearly within each stage,
// as k6's ramping-arrival-rate executor: with N(t) the number of requests
// the rate has accumulated by time t (its integral from 0), request i (from
// 0) is sent at the time N reaches i, for every i below N at the end of the
// last stage. At a constant rate this is Constant's i/rate.
func Ramping(startPerS float64, stages []Stage) ([]fusionsim.Arrival, error) {
	if !(startPerS >= 0) || math.IsInf(startPerS, 0) {
		return nil, fmt.Errorf("%w: start rate %v requests/s must be a finite number >= 0", ErrBadLoad, startPerS)
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("%w: no stages", ErrBadLoad)
	}
	total := 0.0
	prev := startPerS
	var length time.Duration
	for i, s := range stages {
		if !(s.TargetPerS >= 0) || math.IsInf(s.TargetPerS, 0) {
			return nil, fmt.Errorf("%w: stage %d %s: target %v requests/s must be a finite number >= 0", ErrBadLoad, i+1, s, s.TargetPerS)
		}
		if s.Duration <= 0 {
			return nil, fmt.Errorf("%w: stage %d %s: duration %v must be > 0", ErrBadLoad, i+1, s, s.Duration)
		}
		if length += s.Duration; length > maxOffset || length < 0 {
			return nil, fmt.Errorf("%w: stage %d %s: the stages last longer than %v", ErrBadLoad, i+1, s, maxOffset)
		}
		total += area(prev, s.TargetPerS, s.Duration)
		prev = s.TargetPerS
	}
	if err := checkCount(total); err != nil {
		return nil, err
	}
	var out []fusionsim.Arrival
	var start time.Duration // start of the stage
	done := 0.0             // N at the start of the stage
	r0 := startPerS
	next := 0 // the next request
	for _, s := range stages {
		r1 := s.TargetPerS
		D := s.Duration.Seconds()
		n := area(r0, r1, s.Duration)
		for float64(next) < done+n {
			tau := solveRamp(r0, r1, D, float64(next)-done)
			at := start + time.Duration(math.Round(tau*1e9))
			if at >= start+s.Duration { // rounding at the edge
				at = start + s.Duration - 1
			}
			out = append(out, fusionsim.Arrival{At: at})
			next++
		}
		done += n
		start += s.Duration
		r0 = r1
	}
	return out, nil
}

// area is the number of requests of a linear ramp from r0 to r1 requests/s
// over d, computed on whole nanoseconds so that round figures stay exact
// (0 to 5 requests/s over 0.1 s is 0.25 exactly).
func area(r0, r1 float64, d time.Duration) float64 {
	return (r0 + r1) * float64(d) / 2e9
}

// solveRamp returns the tau in [0, D] at which a rate going linearly from r0
// to r1 over D seconds has accumulated x requests:
// r0*tau + (r1-r0)*tau^2/(2D) = x.
func solveRamp(r0, r1, D, x float64) float64 {
	if x <= 0 {
		return 0
	}
	a := (r1 - r0) / (2 * D)
	if math.Abs(a) < 1e-12 {
		return x / r0
	}
	// a*tau^2 + r0*tau - x = 0; the root in [0, D], written to avoid
	// cancellation: tau = 2x / (r0 + sqrt(r0^2 + 4ax)).
	disc := r0*r0 + 4*a*x
	if disc < 0 {
		disc = 0
	}
	return 2 * x / (r0 + math.Sqrt(disc))
}

// ParseStages reads stages written "target:duration" joined by commas, e.g.
// "5:0.1s,5:2s,10:0.1s,10:2s": targets in requests/s, durations as Go
// durations ("2s", "100ms"). Errors name the stage.
func ParseStages(s string) ([]Stage, error) {
	var out []Stage
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		target, dur, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("%w: stage %d %q: want target:duration, e.g. 10:2s", ErrBadLoad, i+1, part)
		}
		r, err := strconv.ParseFloat(strings.TrimSpace(target), 64)
		if err != nil || r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			return nil, fmt.Errorf("%w: stage %d %q: target %q is not a rate >= 0 in requests/s", ErrBadLoad, i+1, part, target)
		}
		d, err := time.ParseDuration(strings.TrimSpace(dur))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%w: stage %d %q: duration %q is not a positive duration such as 2s or 100ms", ErrBadLoad, i+1, part, dur)
		}
		out = append(out, Stage{TargetPerS: r, Duration: d})
	}
	return out, nil
}

// FormatStages writes stages as ParseStages reads them.
func FormatStages(stages []Stage) string {
	parts := make([]string, len(stages))
	for i, s := range stages {
		parts[i] = s.String()
	}
	return strings.Join(parts, ",")
}

// Bursty is the prototype's bursty profile: from 0, the rate steps up
// 5, 10, ..., 40 requests/s, each step reached by a 0.1 s ramp and held for
// 2 s; 16.8 s and 376 requests in all.
func Bursty() []Stage {
	var st []Stage
	for r := 5.0; r <= 40; r += 5 {
		st = append(st, Stage{r, 100 * time.Millisecond}, Stage{r, 2 * time.Second})
	}
	return st
}

// Presets are named stage lists for --stages.
var Presets = map[string]func() []Stage{
	"bursty": Bursty,
}

// Coldstart is the prototype's cold-start protocol: n requests, each sent
// pause after the previous one has been answered and every invocation it
// caused has ended, with every execution environment discarded before it.
func Coldstart(n int, pause time.Duration) ([]fusionsim.Arrival, error) {
	if err := CheckRequests(n); err != nil {
		return nil, err
	}
	if pause < 0 {
		return nil, fmt.Errorf("%w: pause %v must be >= 0", ErrBadLoad, pause)
	}
	out := make([]fusionsim.Arrival, n)
	for i := range out {
		out[i] = fusionsim.Arrival{AfterPrevious: i > 0, ColdBefore: true}
		if i > 0 {
			out[i].At = pause
		}
	}
	return out, nil
}

// WithEvent sets the request body of every arrival that has none to a
// copy of ev (a shallow copy each, so that no two requests share a map).
func WithEvent(arrivals []fusionsim.Arrival, ev fusionsim.Event) {
	if ev == nil {
		return
	}
	for i := range arrivals {
		if arrivals[i].Event != nil {
			continue
		}
		c := make(fusionsim.Event, len(ev))
		for k, v := range ev {
			c[k] = v
		}
		arrivals[i].Event = c
	}
}
