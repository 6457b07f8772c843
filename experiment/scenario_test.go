package experiment

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/results"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// scenarioLoad is the IoT mix of load/testdata for d with maxVUs users, at
// each setup's routes.
func scenarioLoad(t *testing.T, d time.Duration, maxVUs int) LoadFunc {
	t.Helper()
	s, err := load.ReadScenarioFile("../load/testdata/iot-mix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s.Duration, s.MaxVUs, s.PreAllocatedVUs = d, maxVUs, maxVUs
	return func(setup *fusionsim.Setup) ([]fusionsim.Arrival, error) {
		return s.Arrivals(1, func(task string, sync bool) (fusionsim.Route, error) { return workloads.TaskRoute(setup, task, sync) })
	}
}

// An IoT scenario (I plain, I with a sieve for CW, then an async event to
// CT, in sequence on each virtual user) on two setups: every response
// names its kind and the trace of its root invocation, whose entry task and
// memory are those of the request's route; the per-kind figures add up to
// the mixture's; the sieve makes its kind slower (10 s: enough for warm
// environments to dominate); records and text give the
// same; the same seed gives the same.
func TestScenarioIoT(t *testing.T) {
	w := workload(t, "iot")
	fused := "I+CW+SE:1024,CS+CSL+CSA,CA+DJ,CT:768,AS"
	run := func(text bool) *Result {
		r := newRig(t, w, 3)
		cfg := Config{Platform: r.em, App: w.App, Planner: Fixed(setups(t, w, "remote", fused)),
			Load: scenarioLoad(t, 10*time.Second, 100), LogsRead: r.sink.Reset}
		if text {
			cfg.Platform, cfg.Clock = struct{ fusionsim.Platform }{r.em}, r.em.Now
		}
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	pricing := model.Default().Pricing
	res := run(false)
	for n, it := range res.Iterations {
		if len(it.Responses) != 300 || it.Row.Requests != 300 || it.DroppedIterations != 0 || it.Row.Errors != 0 {
			t.Fatalf("%s: %d responses, row %+v, %d dropped", it.Name, len(it.Responses), it.Row, it.DroppedIterations)
		}
		roots := map[string]trace.Record{}
		perTrace := map[string]int{}
		for _, rec := range it.Records {
			perTrace[rec.TraceID]++
			if rec.IsRootInvocation {
				roots[rec.TraceID] = rec
			}
		}
		wantMB := map[string]string{"I": "128", "CT": "128"}
		if n == 1 {
			wantMB = map[string]string{"I": "1024", "CT": "768"}
		}
		for i, r := range it.Responses {
			kind := []string{"plain", "sieve", "temperature"}[i%3]
			entry := map[string]string{"plain": "I", "sieve": "I", "temperature": "CT"}[kind]
			root, ok := roots[r.TraceID]
			if r.Kind != kind || !ok || root.Source != entry || root.MemoryAvail != wantMB[entry] {
				t.Fatalf("%s: response %d: kind %q, trace %q (root %v: %+v); want %s at %s MB", it.Name, i, r.Kind, r.TraceID, ok, root, entry, wantMB[entry])
			}
			// Remote: I reaches all 11 invocations, CT itself and AS.
			if want := map[string]int{"I": 11, "CT": 2}[entry]; n == 0 && perTrace[r.TraceID] != want {
				t.Fatalf("%s: response %d (%s): %d invocations in its trace, want %d", it.Name, i, kind, perTrace[r.TraceID], want)
			}
		}
		rows := results.SummarizeKinds(it.Name, it.Records, it.Responses, pricing)
		if len(rows) != 4 || rows[0].Kind != "plain" || rows[1].Kind != "sieve" || rows[2].Kind != "temperature" || rows[3].Kind != results.AllKinds {
			t.Fatalf("%s: kinds %+v", it.Name, rows)
		}
		sum := 0.0
		for _, k := range rows[:3] {
			if k.Requests != 100 || k.Errors != 0 || k.Dropped != 0 {
				t.Errorf("%s: %+v", it.Name, k)
			}
			sum += k.GBMsPerRequest * float64(k.Requests)
		}
		if all := rows[3]; all.Requests != 300 || math.Abs(sum-all.GBMsPerRequest*300) > 1e-6 || all.MedianMs != it.Row.MedianMs {
			t.Errorf("%s: kinds add up to %.3f GB-ms, the mixture is %+v (row %+v)", it.Name, sum, all, it.Row)
		}
		if plain, sieve := rows[0], rows[1]; !(sieve.MedianMs > plain.MedianMs+25) {
			t.Errorf("%s: the sieve of 3 million numbers does not show: plain %v ms, sieve %v ms", it.Name, plain.MedianMs, sieve.MedianMs)
		}
	}
	again, text := run(false), run(true)
	for i, it := range res.Iterations {
		for _, other := range []Iteration{again.Iterations[i], text.Iterations[i]} {
			if !reflect.DeepEqual(it.Records, other.Records) || !reflect.DeepEqual(it.Responses, other.Responses) || fmt.Sprint(it.Row) != fmt.Sprint(other.Row) {
				t.Errorf("%s: another run (or the text path) gives other traces, responses or rows", it.Name)
			}
		}
	}
}

// One virtual user at 10 iterations/s: iterations that find it busy are
// dropped, counted, and not requests; a dropped iteration's requests are
// all dropped, in order.
func TestScenarioDropped(t *testing.T) {
	w := workload(t, "iot")
	r := newRig(t, w, 1)
	res, err := Run(context.Background(), Config{Platform: r.em, App: w.App, Planner: Fixed(setups(t, w, "remote")),
		Load: scenarioLoad(t, 2*time.Second, 1), LogsRead: r.sink.Reset})
	if err != nil {
		t.Fatal(err)
	}
	it := res.Iterations[0]
	dropped, sent := 0, 0
	for k := 0; k < len(it.Responses); k += 3 {
		d := it.Responses[k].Dropped()
		if d != it.Responses[k+1].Dropped() || d != it.Responses[k+2].Dropped() {
			t.Fatalf("iteration %d: partly dropped", k/3)
		}
		if d {
			dropped++
		} else {
			sent += 3
		}
	}
	if dropped == 0 || dropped == 20 || it.DroppedIterations != dropped || it.Row.Requests != sent || it.Row.Errors != 0 {
		t.Errorf("%d of 20 iterations dropped (counted %d); row %+v, want %d requests", dropped, it.DroppedIterations, it.Row, sent)
	}
	if it.Responses[0].Dropped() || !it.Responses[3].Dropped() {
		t.Errorf("the first iteration must run, the second (0.1 s later, with the one user busy) be dropped")
	}
}
