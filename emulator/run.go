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
	"github.com/fusionsim/fusionsim/internal/pool"
	"github.com/fusionsim/fusionsim/model"
)

// Run sends the arrivals to route (or each to its own Route) on the virtual clock and runs the
// simulation until every request and every invocation it caused has ended;
// see fusionsim.Platform. Scenario iterations run on virtual users as a
// fusionsim.Sequencer decides, on the virtual clock, so that the same seed
// gives the same users, drops and traces. Idle environments stay for the
// next Run until their keep-alive runs out.
func (em *Emulator) Run(ctx context.Context, route fusionsim.Route, arrivals []fusionsim.Arrival) ([]fusionsim.Response, error) {
	resps := make([]fusionsim.Response, len(arrivals))
	err := em.RunEach(ctx, route, arrivals, func(i int, r *fusionsim.Response) { resps[i] = *r })
	if err != nil && !errors.Is(err, errNoEventLeft) {
		return nil, err
	}
	return resps, err
}

// errNoEventLeft wraps the error of a run whose requests can never finish.
var errNoEventLeft = errors.New("no event left")

// RunEach is Run handing each response to fn as the client receives it
// (r is valid only during the call; i is the arrival's index) instead of
// returning them all, so that a long run need not hold its responses.
func (em *Emulator) RunEach(ctx context.Context, route fusionsim.Route, arrivals []fusionsim.Arrival, fn func(i int, r *fusionsim.Response)) error {
	if em.setup == nil {
		return fusionsim.ErrNotDeployed
	}
	if _, err := em.function(route.Function()); err != nil {
		return err
	}
	for i, a := range arrivals {
		if _, err := em.function(a.RouteOr(route).Function()); err != nil {
			return fmt.Errorf("arrivals[%d]: %w", i, err)
		}
	}
	seq, err := fusionsim.NewSequencer(arrivals)
	if err != nil {
		return err
	}
	rs := &runState{em: em, route: route, arrivals: arrivals, seq: seq, respond: fn, left: len(arrivals), start: em.k.now}
	// Open-loop arrivals are scheduled one at a time, in time order, so that
	// the kernel's queue stays short however long the load is.
	for i := range arrivals {
		if seq.Open(i) {
			rs.open = append(rs.open, i)
		}
	}
	slices.SortStableFunc(rs.open, func(a, b int) int { return cmp.Compare(arrivals[a].At, arrivals[b].At) })
	if len(rs.open) > 0 {
		em.k.push(event{at: rs.start + arrivals[rs.open[0]].At, act: rs, arg: 0<<1 | runOpen})
	}
	for n := 0; rs.left > 0; n++ {
		if em.fatal != nil {
			return em.fatal
		}
		if !em.step() {
			return fmt.Errorf("emulator: %w with %d of %d requests unfinished", errNoEventLeft, rs.left, len(arrivals))
		}
		if n&4095 == 4095 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return em.fatal
}

// runState is a Run in progress: it schedules the arrivals (as a kernel
// actor) and receives the client's side of each request (as its sink).
type runState struct {
	em       *Emulator
	route    fusionsim.Route
	arrivals []fusionsim.Arrival
	seq      *fusionsim.Sequencer
	respond  func(i int, r *fusionsim.Response)
	open     []int // indices of the open-loop arrivals, in time order
	left     int
	start    time.Duration
}

// Events of a runState: the arg is an index shifted left by one, the low
// bit says which.
const (
	runOpen   = 0 // the open-loop arrival open[arg>>1] is due
	runClosed = 1 // the closed-loop arrival arg>>1 is due
)

func (rs *runState) fire(em *Emulator, arg uint64) {
	k := int(arg >> 1)
	if arg&1 == runClosed {
		rs.send(k)
		return
	}
	rs.send(rs.open[k])
	if k+1 < len(rs.open) {
		em.k.push(event{at: rs.start + rs.arrivals[rs.open[k+1]].At, act: rs, arg: uint64(k+1)<<1 | runOpen})
	}
}

func (rs *runState) send(i int) {
	em := rs.em
	vu, ok := rs.seq.Begin(i, em.k.now)
	if !ok {
		// A dropped iteration's request: never sent, answered at once.
		now := em.Now()
		rs.response(i, &fusionsim.Response{Sent: now, Received: now, Err: fusionsim.ErrDropped})
		rs.done(i)
		return
	}
	a := &rs.arrivals[i]
	if a.ColdBefore {
		em.forceCold()
	}
	em.submit(a.RouteOr(rs.route), rs.seq.Event(i, vu), rs, i)
}

// response hands the client's response to request i over and sends the
// arrivals that follow it, each At after the response, scheduled one at a
// time in time order (the iterations that follow a scenario's setup phase
// may be many).
func (rs *runState) response(i int, r *fusionsim.Response) {
	rs.respond(i, r)
	em := rs.em
	rs.seq.Answered(i, em.k.now)
	fs := rs.seq.Followers(i)
	if len(fs) == 0 {
		return
	}
	slices.SortStableFunc(fs, func(a, b int) int { return cmp.Compare(rs.arrivals[a].At, rs.arrivals[b].At) })
	base := em.k.now
	var next func(j int)
	next = func(j int) {
		rs.send(fs[j])
		if j+1 < len(fs) {
			em.k.at(base+rs.arrivals[fs[j+1]].At, func() { next(j + 1) })
		}
	}
	em.k.at(base+rs.arrivals[fs[0]].At, func() { next(0) })
}

func (rs *runState) ended(int) {}

// done runs when request i has been answered and every invocation it
// caused has ended.
func (rs *runState) done(i int) {
	em := rs.em
	rs.left--
	if em.cfg.Progress != nil {
		em.cfg.Progress(len(rs.arrivals)-rs.left, len(rs.arrivals))
	}
	if j := i + 1; j < len(rs.arrivals) && rs.arrivals[j].AfterPrevious {
		em.k.push(event{at: em.k.now + rs.arrivals[j].At, act: rs, arg: uint64(j)<<1 | runClosed})
	}
}

// clientSink receives the client's side of request i of submit: the
// response (r is valid only during the call), the end of every invocation
// the request caused, and then done, once both have happened.
type clientSink interface {
	response(i int, r *fusionsim.Response)
	ended(i int)
	done(i int)
}

// funcSink is the clientSink of Submit's callbacks.
type funcSink struct {
	onResponse func(fusionsim.Response)
	onFinished func()
}

func (f *funcSink) response(_ int, r *fusionsim.Response) { f.onResponse(*r) }
func (f *funcSink) ended(int)                             { f.onFinished() }
func (f *funcSink) done(int)                              {}

// Submit sends one client request to route now, under the setup deployed
// now: every invocation it causes runs under that setup (its rules, its
// name in trace ids and logs), even if another is deployed before they
// start. onResponse receives what the client sees; onFinished runs when
// every invocation the request caused has ended. Both run on the emulator's goroutine, later, as the clock advances
// (Run, AdvanceTo). It is the building block of Run and of real-time drivers.
func (em *Emulator) Submit(route fusionsim.Route, ev fusionsim.Event, onResponse func(fusionsim.Response), onFinished func()) {
	em.submit(route, ev, &funcSink{onResponse: onResponse, onFinished: onFinished}, 0)
}

// submit sends request i of sink to route now.
func (em *Emulator) submit(route fusionsim.Route, ev fusionsim.Event, sink clientSink, i int) {
	sent := em.Now()
	fail := func(err error, status int) {
		em.k.after(0, func() {
			sink.response(i, &fusionsim.Response{Sent: sent, Received: sent, StatusCode: status, Err: err})
			sink.ended(i)
			sink.done(i)
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
	c := em.newClientReq(sink, i, sent)
	remote := &em.profile.Remote
	in := model.Ms(remote.ClientRequest.LatencyMs.Sample(em.rng))
	if route.Sync {
		req := em.newRequest(fn, ev, "", 0, true, c)
		req.caller = c
		em.k.push(event{at: em.k.now + in, act: req})
		return
	}
	ack := model.Ms(remote.AsyncAck.LatencyMs.Sample(em.rng))
	dispatch := model.Ms(remote.AsyncDispatch.LatencyMs.Sample(em.rng))
	req := em.newRequest(fn, ev, "", 0, false, c)
	req.rid, req.hasRid = [2]uint64{em.rng.Uint64(), em.rng.Uint64()}, true
	c.rid = req.rid
	em.k.push(event{at: em.k.now + in + ack, act: c, arg: crAck})
	em.k.push(event{at: em.k.now + in + dispatch, act: req})
}

// clientReq is one client request: the tree of the requests it caused
// (open counts those that have not ended; setup is the setup deployed when
// it came: every invocation of the tree runs under it, even after a
// redeploy), and the client waiting for the response. It is pooled: it is
// reused once it has been answered and its tree has ended.
type clientReq struct {
	open  int
	setup *fusionsim.Setup
	sink  clientSink
	index int
	sent  time.Time
	resp  fusionsim.Response // a sync request's response, until delivered
	rid   [2]uint64          // an async request's id, for the 202
	// parts counts what is still to come: the response and the tree's end.
	parts int
}

// Events of a clientReq.
const (
	crResponse = iota // a sync response reaches the client
	crAck             // an async request's 202 reaches the client
)

func (em *Emulator) newClientReq(sink clientSink, i int, sent time.Time) *clientReq {
	c := pool.Take(&em.clientPool)
	*c = clientReq{setup: em.setup, sink: sink, index: i, sent: sent, parts: 2}
	return c
}

// done counts one part of the client request done; after both it tells
// the sink and pools the request.
func (c *clientReq) done(em *Emulator) {
	if c.parts--; c.parts == 0 {
		sink, i := c.sink, c.index
		*c = clientReq{}
		em.clientPool = append(em.clientPool, c)
		sink.done(i)
	}
}

// treeDone runs when the last request of the tree has ended.
func (c *clientReq) treeDone(em *Emulator) {
	c.sink.ended(c.index)
	c.done(em)
}

// respond receives the entry invocation's result (request.caller) and
// sends it to the client after the response latency.
func (c *clientReq) respond(em *Emulator, res fusionsim.Event, err error, inv *invocation) {
	c.resp = fusionsim.Response{Sent: c.sent, StatusCode: StatusOf(err), Result: res, Err: err}
	if inv != nil {
		c.resp.RequestID = inv.requestID()
	}
	em.k.push(event{at: em.k.now + model.Ms(em.profile.Remote.ClientResponse.LatencyMs.Sample(em.rng)), act: c, arg: crResponse})
}

func (c *clientReq) fire(em *Emulator, arg uint64) {
	switch arg {
	case crResponse:
		c.resp.Received = em.Now()
		c.sink.response(c.index, &c.resp)
	case crAck:
		r := fusionsim.Response{Sent: c.sent, Received: em.Now(), StatusCode: http.StatusAccepted, RequestID: em.formatUUID(c.rid[0], c.rid[1])}
		c.sink.response(c.index, &r)
	}
	c.done(em)
}

// StatusOf is the HTTP status API Gateway gives a sync request that ended
// with err: 200, 429 (the entry function throttled), 502 (a function error,
// a call throttled downstream included: the client sees the entry
// function fail), 404, 500.
func StatusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var fe *fusionsim.FunctionError
	switch {
	case errors.As(err, &fe):
		return http.StatusBadGateway
	case errors.Is(err, fusionsim.ErrThrottled):
		return http.StatusTooManyRequests
	case errors.Is(err, fusionsim.ErrUnknownFunction):
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}
