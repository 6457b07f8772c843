package load

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
)

// Kinds of load.
const (
	KindConstant  = "constant"
	KindPoisson   = "poisson"
	KindBursty    = "bursty"
	KindColdstart = "coldstart"
	KindReplay    = "replay"
)

// Kinds lists the kinds of load.
var Kinds = []string{KindConstant, KindPoisson, KindBursty, KindColdstart, KindReplay}

// Spec describes a load by kind and parameters; Arrivals makes it. Fields a
// kind does not use are ignored.
type Spec struct {
	// Kind is one of Kinds.
	Kind string
	// RatePerS is the rate of constant and poisson loads, requests/s.
	RatePerS float64
	// Duration is the length of constant and poisson loads.
	Duration time.Duration
	// Requests is the number of requests of a coldstart load, or, when set,
	// of a constant load (which then lasts Requests/RatePerS).
	Requests int
	// Stages are a bursty load's stages (nil: the prototype's profile,
	// Bursty), from StartPerS requests/s.
	Stages    []Stage
	StartPerS float64
	// Pause is the pause between the requests of a coldstart load.
	Pause time.Duration
	// ReplayFile is the CSV file of a replay load.
	ReplayFile string
	// Replayed, when set, are a replay load's arrivals instead of a
	// file's (each keeps its own route, kind and event; Event fills the
	// events left nil): the requests of real traces, sent again as they
	// came.
	Replayed []fusionsim.Arrival
	// Seed seeds a poisson load.
	Seed uint64
	// Event is the body of every request (nil: {}).
	Event fusionsim.Event
}

// Arrivals makes the load's arrivals.
func (s Spec) Arrivals() ([]fusionsim.Arrival, error) {
	var out []fusionsim.Arrival
	var err error
	switch s.Kind {
	case KindConstant:
		if s.Requests > 0 {
			if err := checkRate(s.RatePerS); err != nil {
				return nil, err
			}
			if err := CheckRequests(s.Requests); err != nil {
				return nil, err
			}
			if last := float64(s.Requests-1) / s.RatePerS; last > maxOffset.Seconds() {
				return nil, fmt.Errorf("%w: %d requests at %v requests/s: the last would come %.3g s after the start, beyond %v", ErrBadLoad, s.Requests, s.RatePerS, last, maxOffset)
			}
			// Just past the last request's time, so exactly Requests fit.
			d := offset(s.Requests-1, s.RatePerS) + 1
			out, err = Constant(s.RatePerS, d)
			if err == nil && len(out) != s.Requests {
				err = fmt.Errorf("%w: %d requests at %v requests/s gave %d", ErrBadLoad, s.Requests, s.RatePerS, len(out))
			}
		} else {
			out, err = Constant(s.RatePerS, s.Duration)
		}
	case KindPoisson:
		out, err = Poisson(s.RatePerS, s.Duration, s.Seed)
	case KindBursty:
		st := s.Stages
		if st == nil {
			st = Bursty()
		}
		out, err = Ramping(s.StartPerS, st)
	case KindColdstart:
		out, err = Coldstart(s.Requests, s.Pause)
	case KindReplay:
		switch {
		case s.Replayed != nil:
			out = slices.Clone(s.Replayed)
		case s.ReplayFile == "":
			return nil, fmt.Errorf("%w: a replay load needs a file of arrival times", ErrBadLoad)
		default:
			out, err = ReplayFile(s.ReplayFile)
		}
	default:
		return nil, fmt.Errorf("%w: kind %q is none of %s", ErrBadLoad, s.Kind, strings.Join(Kinds, ", "))
	}
	if err != nil {
		return nil, err
	}
	WithEvent(out, s.Event)
	return out, nil
}

// String describes the load in words, for logs and reports.
func (s Spec) String() string {
	rate := func(r float64) string {
		if r == math.Trunc(r) {
			return fmt.Sprintf("%.0f", r)
		}
		return fmt.Sprint(r)
	}
	switch s.Kind {
	case KindConstant:
		if s.Requests > 0 {
			return fmt.Sprintf("constant %s requests/s, %d requests", rate(s.RatePerS), s.Requests)
		}
		return fmt.Sprintf("constant %s requests/s for %v", rate(s.RatePerS), s.Duration)
	case KindPoisson:
		return fmt.Sprintf("poisson %s requests/s for %v (seed %d)", rate(s.RatePerS), s.Duration, s.Seed)
	case KindBursty:
		if s.Stages == nil {
			return "bursty (the prototype's profile: 5 to 40 requests/s in steps of 5, 2 s each, 0.1 s ramps)"
		}
		return fmt.Sprintf("bursty from %s requests/s: %s", rate(s.StartPerS), FormatStages(s.Stages))
	case KindColdstart:
		return fmt.Sprintf("coldstart: %d sequential requests, all functions cold before each, %v apart", s.Requests, s.Pause)
	case KindReplay:
		if s.Replayed != nil {
			return fmt.Sprintf("replay of %d requests", len(s.Replayed))
		}
		return "replay of " + s.ReplayFile
	}
	return s.Kind
}
