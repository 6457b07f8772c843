package aws_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/aws"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// A scenario load in real time on the stand-in: a setup request, then
// iterations of two requests (sync I, then async CT after I's response) on
// one virtual user. The iteration due 2 ms after the first finds the user
// busy and is dropped; every request that went out was sent by the user of
// its iteration, after the response it follows; iterations never overlap;
// the traces hold a root invocation for every request sent.
func TestScenarioOnStandin(t *testing.T) {
	w, err := workloads.Get("iot")
	if err != nil {
		t.Fatal(err)
	}
	s := startStandin(t, w.App)
	var log bytes.Buffer
	ctx := context.Background()
	p, err := aws.New(ctx, testConfig(t, s, w, &log))
	if err != nil {
		t.Fatal(err)
	}
	remote, err := workloads.Remote(w.App, "remote", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Deploy(ctx, remote); err != nil {
		t.Fatalf("Deploy: %v\n%s", err, log.String())
	}
	var mu sync.Mutex
	users := map[int]int{} // arrival -> the user EventFor was called with
	body := func(i int) func(int) fusionsim.Event {
		return func(vu int) fusionsim.Event {
			mu.Lock()
			users[i] = vu
			mu.Unlock()
			return fusionsim.Event{"user": vu}
		}
	}
	pool := &fusionsim.VUPool{PreAllocatedVUs: 1, MaxVUs: 1}
	ct := fusionsim.MustParseRoute("CT-128")
	arr := []fusionsim.Arrival{{Kind: "setup", EventFor: body(0)}}
	for _, at := range []time.Duration{0, 2 * time.Millisecond, 400 * time.Millisecond} {
		n := len(arr)
		arr = append(arr,
			fusionsim.Arrival{Follows: 1, At: at, VUs: pool, EventFor: body(n), Kind: "i"},
			fusionsim.Arrival{Follows: n + 1, At: 5 * time.Millisecond, Route: ct, EventFor: body(n + 1), Kind: "ct"})
	}
	from := p.Now()
	resps, err := p.Run(ctx, fusionsim.MustParseRoute("SYNC-I-128"), arr)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	if r := resps[0]; r.StatusCode != 200 || users[0] != 0 {
		t.Fatalf("setup request: %+v, user %d", r, users[0])
	}
	sent := 0
	for k := 1; k < len(arr); k += 2 {
		first, second := resps[k], resps[k+1]
		if first.Dropped() != second.Dropped() {
			t.Fatalf("iteration %d: one request dropped, the other not: %+v / %+v", k/2, first, second)
		}
		if first.Dropped() {
			if _, called := users[k]; called {
				t.Errorf("iteration %d dropped, yet its body was made", k/2)
			}
			continue
		}
		sent += 2
		if first.StatusCode != 200 || second.StatusCode != 202 {
			t.Errorf("iteration %d: statuses %d, %d; want 200, 202", k/2, first.StatusCode, second.StatusCode)
		}
		if users[k] != 1 || users[k+1] != 1 {
			t.Errorf("iteration %d sent by users %d and %d, want 1", k/2, users[k], users[k+1])
		}
		if first.Sent.Before(resps[0].Received) || second.Sent.Sub(first.Received) < 5*time.Millisecond {
			t.Errorf("iteration %d: sent at %v (setup answered %v), second at %v after the first's response; want after the setup and >= 5 ms",
				k/2, first.Sent, resps[0].Received, second.Sent.Sub(first.Received))
		}
		// One user: this iteration began after the previous one sent ended.
		for j := 1; j < k; j += 2 {
			if !resps[j].Dropped() && first.Sent.Before(resps[j+1].Received) {
				t.Errorf("iteration %d began at %v, before iteration %d ended at %v", k/2, first.Sent, j/2, resps[j+1].Received)
			}
		}
	}
	if !resps[3].Dropped() {
		t.Errorf("the iteration 2 ms after the first was not dropped with one user: %+v", resps[3])
	}
	ext, err := trace.Collect(ctx, p, from, p.Now().Add(time.Nanosecond), trace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	roots := 0
	for _, r := range ext.Traces["remote"] {
		if r.IsRootInvocation {
			roots++
		}
	}
	if roots != 1+sent || ext.Err() != nil {
		t.Errorf("%d root invocations for %d requests sent (%v)", roots, 1+sent, ext.Err())
	}
}
