package emulator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
)

// Run sends the arrivals to route (or each to its own Route) on the virtual clock and runs the
// simulation until every request and every invocation it caused has ended;
// see fusionsim.Platform. Scenario iterations run on virtual users as a
// fusionsim.Sequencer decides, on the virtual clock, so that the same seed
// gives the same users, drops and traces. Idle environments stay for the
// next Run until their keep-alive runs out.
func (em *Emulator) Run(ctx context.Context, route fusionsim.Route, arrivals []fusionsim.Arrival) ([]fusionsim.Response, error) {
	if em.setup == nil {
		return nil, fusionsim.ErrNotDeployed
	}
	if _, err := em.function(route.Function()); err != nil {
		return nil, err
	}
	for i, a := range arrivals {
		if _, err := em.function(a.RouteOr(route).Function()); err != nil {
			return nil, fmt.Errorf("arrivals[%d]: %w", i, err)
		}
	}
	seq, err := fusionsim.NewSequencer(arrivals)
	if err != nil {
		return nil, err
	}
	start := em.k.now
	resps := make([]fusionsim.Response, len(arrivals))
	left := len(arrivals)
	var send func(i int)
	// done counts request i as finished (its response and the end of every
	// invocation it caused) and sends an AfterPrevious arrival after it.
	done := func(i int) {
		left--
		if em.cfg.Progress != nil {
			em.cfg.Progress(len(arrivals)-left, len(arrivals))
		}
		if j := i + 1; j < len(arrivals) && arrivals[j].AfterPrevious {
			em.k.after(arrivals[j].At, func() { send(j) })
		}
	}
	// answered sends the arrivals that follow i, At after its response,
	// scheduled one at a time in time order (the iterations that follow a
	// scenario's setup phase may be many).
	answered := func(i int) {
		seq.Answered(i, em.k.now)
		fs := seq.Followers(i)
		if len(fs) == 0 {
			return
		}
		slices.SortStableFunc(fs, func(a, b int) int { return cmp.Compare(arrivals[a].At, arrivals[b].At) })
		base := em.k.now
		var next func(j int)
		next = func(j int) {
			send(fs[j])
			if j+1 < len(fs) {
				em.k.at(base+arrivals[fs[j+1]].At, func() { next(j + 1) })
			}
		}
		em.k.at(base+arrivals[fs[0]].At, func() { next(0) })
	}
	send = func(i int) {
		a := arrivals[i]
		vu, ok := seq.Begin(i, em.k.now)
		if !ok {
			now := em.Now()
			resps[i] = fusionsim.Response{Sent: now, Received: now, Err: fusionsim.ErrDropped}
			answered(i)
			done(i)
			return
		}
		if a.ColdBefore {
			em.forceCold()
		}
		parts := 2 // the response and the end of every invocation it caused
		fin := func() {
			if parts--; parts == 0 {
				done(i)
			}
		}
		em.Submit(a.RouteOr(route), seq.Event(i, vu), func(r fusionsim.Response) { resps[i] = r; answered(i); fin() }, fin)
	}
	// Open-loop arrivals are scheduled one at a time, in time order, so that
	// the kernel's queue stays short however long the load is.
	var open []int
	for i := range arrivals {
		if seq.Open(i) {
			open = append(open, i)
		}
	}
	slices.SortStableFunc(open, func(a, b int) int { return cmp.Compare(arrivals[a].At, arrivals[b].At) })
	var next func(k int)
	next = func(k int) {
		send(open[k])
		if k+1 < len(open) {
			em.k.at(start+arrivals[open[k+1]].At, func() { next(k + 1) })
		}
	}
	if len(open) > 0 {
		em.k.at(start+arrivals[open[0]].At, func() { next(0) })
	}
	for n := 0; left > 0; n++ {
		if em.fatal != nil {
			return nil, em.fatal
		}
		if !em.step() {
			return resps, fmt.Errorf("emulator: no event left with %d of %d requests unfinished", left, len(arrivals))
		}
		if n&4095 == 4095 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
	}
	return resps, em.fatal
}

// Submit sends one client request to route now, under the setup deployed
// now: every invocation it causes runs under that setup (its rules, its
// name in trace ids and logs), even if another is deployed before they
// start. onResponse receives what the client sees; onFinished runs when
// every invocation the request caused has ended. Both run on the emulator's goroutine, later, as the clock advances
// (Run, AdvanceTo). It is the building block of Run and of real-time drivers.
func (em *Emulator) Submit(route fusionsim.Route, ev fusionsim.Event, onResponse func(fusionsim.Response), onFinished func()) {
	sent := em.Now()
	fail := func(err error, status int) {
		em.k.after(0, func() {
			onResponse(fusionsim.Response{Sent: sent, Received: sent, StatusCode: status, Err: err})
			onFinished()
		})
	}
	if em.setup == nil {
		fail(fusionsim.ErrNotDeployed, http.StatusServiceUnavailable)
		return
	}
	fn, err := em.function(route.Function())
	if err != nil {
		fail(err, http.StatusNotFound)
		return
	}
	if ev == nil {
		ev = fusionsim.Event{}
	}
	t := &tree{onDone: onFinished, setup: em.setup}
	remote := &em.profile.Remote
	in := model.Ms(remote.ClientRequest.LatencyMs.Sample(em.rng))
	if route.Sync {
		req := em.newRequest(fn, ev, "", 0, true, t)
		req.caller = &clientCall{sent: sent, onResponse: onResponse}
		em.k.after(in, func() { em.arrive(req) })
		return
	}
	ack := model.Ms(remote.AsyncAck.LatencyMs.Sample(em.rng))
	dispatch := model.Ms(remote.AsyncDispatch.LatencyMs.Sample(em.rng))
	req := em.newRequest(fn, ev, "", 0, false, t)
	req.rid = &[2]uint64{em.rng.Uint64(), em.rng.Uint64()}
	em.k.after(in+ack, func() {
		onResponse(fusionsim.Response{Sent: sent, Received: em.Now(), StatusCode: http.StatusAccepted, RequestID: formatUUID(req.rid[0], req.rid[1])})
	})
	em.k.after(in+dispatch, func() { em.arrive(req) })
}

// clientCall is a sync client request waiting for its response.
type clientCall struct {
	sent       time.Time
	onResponse func(fusionsim.Response)
	resp       fusionsim.Response
}

func (c *clientCall) respond(em *Emulator, res fusionsim.Event, err error, inv *invocation) {
	c.resp = fusionsim.Response{Sent: c.sent, StatusCode: StatusOf(err), Result: res, Err: err}
	if inv != nil {
		c.resp.RequestID = inv.requestID()
	}
	em.k.push(event{at: em.k.now + model.Ms(em.profile.Remote.ClientResponse.LatencyMs.Sample(em.rng)), act: c})
}

// fire delivers the response once the client response latency has passed.
func (c *clientCall) fire(em *Emulator, _ uint64) {
	c.resp.Received = em.Now()
	c.onResponse(c.resp)
}

// StatusOf is the HTTP status API Gateway gives a sync request that ended
// with err: 200, 429 (the entry function throttled), 502 (a function error,
// a call throttled downstream included: the client sees the entry
// function fail), 404, 500.
func StatusOf(err error) int {
	var fe *fusionsim.FunctionError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &fe):
		return http.StatusBadGateway
	case errors.Is(err, fusionsim.ErrThrottled):
		return http.StatusTooManyRequests
	case errors.Is(err, fusionsim.ErrUnknownFunction):
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}
