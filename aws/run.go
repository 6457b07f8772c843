package aws

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/aws/handler"
)

// Run sends one request per arrival to route's function (or the arrival's
// own route's) in real time and
// waits, through the logs, until every invocation since the start has ended
// (see the package documentation). Scenario iterations run on virtual users
// as a fusionsim.Sequencer decides, in wall time. Errors of single requests
// are in the responses.
func (p *Platform) Run(ctx context.Context, route fusionsim.Route, arrivals []fusionsim.Arrival) ([]fusionsim.Response, error) {
	p.mu.Lock()
	setup, deployment := p.setup, p.deployment
	p.mu.Unlock()
	if setup == nil {
		return nil, fusionsim.ErrNotDeployed
	}
	seq, err := fusionsim.NewSequencer(arrivals)
	if err != nil {
		return nil, err
	}
	// The routes of the run: route, and the arrivals' own (scenario loads).
	routes := []fusionsim.Route{route}
	for _, a := range arrivals {
		if r := a.RouteOr(route); !slices.Contains(routes, r) {
			routes = append(routes, r)
		}
	}
	// A route other than the setup's entry route may reach functions the
	// deployment does not have yet.
	var missing []fusionsim.FunctionID
	for _, rt := range routes {
		id := rt.Function()
		if _, ok := p.cfg.App.Tasks[id.Task]; !ok {
			return nil, fmt.Errorf("%w: route %s: %q is not a task of %s", fusionsim.ErrUnknownFunction, rt, id.Task, p.cfg.App.Name)
		}
		ids, err := Functions(p.cfg.App, setup, id)
		if err != nil {
			return nil, err
		}
		p.mu.Lock()
		for _, f := range ids {
			if !p.current[f] && !slices.Contains(missing, f) {
				missing = append(missing, f)
			}
		}
		p.mu.Unlock()
	}
	for _, f := range missing {
		if err := p.cfg.checkMemory(f); err != nil {
			return nil, err
		}
	}
	if err := p.forEach(ctx, missing, func(f fusionsim.FunctionID) error {
		return p.deployFunction(ctx, f, setup, deployment)
	}); err != nil {
		return nil, err
	}
	start := time.Now()
	resps := make([]fusionsim.Response, len(arrivals))
	var (
		mu      sync.Mutex // guards done, coldErr and seq
		done    int
		coldErr error
	)
	finished := func() {
		mu.Lock()
		done++
		n := done
		mu.Unlock()
		if p.cfg.Progress != nil {
			// One call at a time, and never beside a notice: both may
			// draw on the same terminal.
			p.logMu.Lock()
			p.cfg.Progress(n, len(arrivals))
			p.logMu.Unlock()
		}
	}
	send := func(i int) {
		a := arrivals[i]
		mu.Lock()
		vu, ok := seq.Begin(i, time.Since(start))
		mu.Unlock()
		if !ok {
			now := time.Now()
			resps[i] = fusionsim.Response{Sent: now, Received: now, Err: fusionsim.ErrDropped}
		} else {
			if a.ColdBefore {
				if err := p.ForceCold(ctx); err != nil {
					mu.Lock()
					coldErr = errors.Join(coldErr, err)
					mu.Unlock()
				}
			}
			rt := a.RouteOr(route)
			sent := time.Now()
			r := handler.Invoke(ctx, p.cl.lambda, handler.FunctionName(p.cfg.Prefix, rt.Function()), rt.Sync, seq.Event(i, vu), nil)
			resps[i] = fusionsim.Response{
				Sent: sent, Received: time.Now(), StatusCode: r.StatusCode, RequestID: r.RequestID, Result: r.Result, Err: r.Err,
			}
		}
		mu.Lock()
		seq.Answered(i, time.Since(start))
		mu.Unlock()
		finished()
	}
	// Each request is sent on a goroutine of its own when it is due. A
	// walker goroutine goes through the open-loop arrivals in time order,
	// At after the start; after a response, another walks what waits for
	// it, At after the response: the AfterPrevious arrival after it (the
	// prototype's closed loop) and the arrivals that Follow it (the next
	// request of a virtual user, or the iterations after a scenario's
	// setup phase). Only requests that are due wait on goroutines.
	var wg sync.WaitGroup
	var walk func(from time.Time, due []int)
	run := func(i int) {
		send(i)
		at := time.Now()
		var next []int
		if j := i + 1; j < len(arrivals) && arrivals[j].AfterPrevious {
			next = append(next, j)
		}
		walk(at, append(next, seq.Followers(i)...))
	}
	walk = func(from time.Time, due []int) {
		if len(due) == 0 {
			return
		}
		slices.SortStableFunc(due, func(a, b int) int { return cmp.Compare(arrivals[a].At, arrivals[b].At) })
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, i := range due {
				if !sleepUntil(ctx, from.Add(arrivals[i].At)) {
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					run(i)
				}()
			}
		}()
	}
	var open []int
	for i := range arrivals {
		if seq.Open(i) {
			open = append(open, i)
		}
	}
	walk(start, open)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if coldErr != nil {
		return resps, fmt.Errorf("forcing cold starts: %w", coldErr)
	}
	invoked := 0
	for _, r := range resps {
		var fe *fusionsim.FunctionError
		if r.Err == nil || errors.As(r.Err, &fe) {
			invoked++
		}
	}
	if err := p.settle(ctx, start, invoked); err != nil {
		return resps, err
	}
	return resps, nil
}

func sleepUntil(ctx context.Context, t time.Time) bool { return sleepFor(ctx, time.Until(t)) }

func sleepFor(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// settle waits until the logs since from show at least min invocations and
// every invocation that started has ended, with no change for Settle.Quiet.
func (p *Platform) settle(ctx context.Context, from time.Time, min int) error {
	s := p.cfg.Settle
	deadline := time.Now().Add(s.Max)
	lastStarted, lastOpen := -1, -1
	stableSince := time.Now()
	for {
		started, open, err := p.openInvocations(ctx, from)
		if err != nil {
			return fmt.Errorf("waiting for the invocations to end: %w", err)
		}
		if started != lastStarted || open != lastOpen {
			lastStarted, lastOpen, stableSince = started, open, time.Now()
		}
		if started >= min && open == 0 && time.Since(stableSince) >= s.Quiet {
			return nil
		}
		if time.Now().After(deadline) {
			p.notice("still %d of %d invocation(s) without REPORT (or fewer than the %d requests) after %v: going on; they will count as incomplete",
				open, started, min, s.Max)
			return nil
		}
		if !sleepFor(ctx, s.Poll) {
			return ctx.Err()
		}
	}
}
