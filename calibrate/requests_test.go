package calibrate

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim/appfile"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
)

// TestValidateWebshopLoads: the webshop fixture holds every 20th request
// of each kind of the real run, so by default its setups are validated
// under a replay of those requests (open loop, each to its own entry route
// with its kind's body); --load scenario runs the application's scenario
// (the webshop file's load:, closed loop) instead, which the whole run's
// traces get by default (TestValidateWebshopRun). Either way: the same
// invocation records per request as the real ones, and GB-ms per request
// within 5 % (the work figures were fitted on this run).
func TestValidateWebshopLoads(t *testing.T) {
	for _, kind := range []string{"", LoadScenario} {
		v, err := Validate(context.Background(), filepath.Join("testdata", "webshop"), ValidateOptions{Seed: 1, Parallel: 1, Load: LoadOverride{Kind: kind}})
		if err != nil {
			t.Fatal(err)
		}
		if v.Workload != "webshop" || len(v.Setups) != 3 {
			t.Fatalf("workload %q, %d setups", v.Workload, len(v.Setups))
		}
		want, requests := load.KindReplay, 51
		if kind != "" {
			want, requests = kind, 5+333*3 // the scenario as written: 333 iterations
		}
		for _, r := range v.Setups {
			sent := r.Load.Requests
			if r.Load.Kind == load.KindReplay {
				sent = len(r.Load.Replayed)
			}
			if r.Load.Kind != want || r.Real.Requests != 51 || sent != requests || r.Emulated.Requests != requests {
				t.Errorf("%s: load %+v (%s), %d real requests, %d emulated", r.Setup, r.Load, r.LoadWhy, r.Real.Requests, r.Emulated.Requests)
			}
			if e := RelErr(r.Real.InvocationsPerRequest, r.Emulated.InvocationsPerRequest); math.Abs(e) > 0.02 {
				t.Errorf("%s: %.2f emulated records per request, %.2f real", r.Setup, r.Emulated.InvocationsPerRequest, r.Real.InvocationsPerRequest)
			}
			if e := RelErr(r.Real.GBMsPerRequest, r.Emulated.GBMsPerRequest); math.Abs(e) > 0.05 {
				t.Errorf("%s: GB-ms per request %.1f emulated, %.1f real", r.Setup, r.Emulated.GBMsPerRequest, r.Real.GBMsPerRequest)
			}
		}
	}
}

// TestRequestEvents: the kinds of request the webshop's scenario sends, as
// its traces show them, each with its body.
func TestRequestEvents(t *testing.T) {
	w, err := appfile.Get("webshop")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := RequestEvents(context.Background(), w, model.Default(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 3 || ev["frontend>checkout"]["operation"] != "checkout" || ev["frontend>supportedcurrencies"]["operation"] != "get" ||
		ev["addcartitem>cartkvstorage"]["itemId"] == nil || ev["addcartitem>cartkvstorage"]["userId"] != 1 {
		t.Errorf("request events %v", ev)
	}
}

// TestWebshopReplay: the webshop's traces replayed request by request:
// one arrival per root, in order of their starts, to its entry at the
// size it ran at, with the body of its kind of request (a checkout calls
// checkout, a get supportedcurrencies first), learned from the scenario.
func TestWebshopReplay(t *testing.T) {
	d, err := trace.ReadDir(filepath.Join("testdata", "webshop"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := appfile.Get("webshop")
	if err != nil {
		t.Fatal(err)
	}
	events, err := RequestEvents(context.Background(), w, model.Default(), 1)
	if err != nil {
		t.Fatal(err)
	}
	s, why, err := loadFor(d.Traces["1676389085"], LoadOverride{Kind: load.KindReplay}, events)
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != load.KindReplay || !strings.Contains(why, "each request with the body of its kind") {
		t.Fatalf("load %s: %s", s, why)
	}
	kinds := map[string]int{}
	for i, a := range s.Replayed {
		kinds[a.Kind]++
		if i > 0 && a.At < s.Replayed[i-1].At {
			t.Fatalf("arrival %d at %v before %v", i, a.At, s.Replayed[i-1].At)
		}
		if a.Route.MemoryMB != 1536 || !a.Route.Sync || a.Event["userId"] == nil {
			t.Errorf("arrival %d: %+v", i, a)
		}
		if a.Kind == "frontend>checkout" && a.Event["operation"] != "checkout" {
			t.Errorf("arrival %d: a checkout with body %v", i, a.Event)
		}
	}
	if s.Replayed[0].At != 0 || len(kinds) != 3 || kinds["frontend>checkout"] != 17 {
		t.Errorf("first at %v, kinds %v", s.Replayed[0].At, kinds)
	}
}

// TestValidateWebshopRun: the whole webshop run (when ../shared is there)
// is validated under the application's scenario, closed loop, with as many
// requests as the real run, and its median root latency and GB-ms per
// request are within 10 % for at least 14 of its 17 setups (the README's
// table; make calibration prints it).
func TestValidateWebshopRun(t *testing.T) {
	dir := filepath.Join(calibrationDir, webshopRun)
	if !fileExists(dir) {
		t.Skipf("no calibration data: %s", dir)
	}
	v, err := Validate(context.Background(), dir, ValidateOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	within := 0
	for _, r := range v.Setups {
		if r.Load.Kind != LoadScenario || r.Emulated.Requests != r.Real.Requests {
			t.Errorf("%s: load %s (%s): %d requests emulated, %d real", r.Setup, r.Load.Kind, r.LoadWhy, r.Emulated.Requests, r.Real.Requests)
		}
		if r.Within(Tolerance) {
			within++
		}
	}
	if len(v.Setups) != 17 || within < 14 {
		t.Errorf("%d of %d setups within %.0f %%, want at least 14 of 17", within, len(v.Setups), 100*Tolerance)
	}
}
