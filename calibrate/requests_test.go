package calibrate

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// TestValidateWebshopReplaysRequests: traces of several request kinds
// whose bodies the workload knows are validated under a replay of their
// requests (each to its own entry route with its kind's body): the
// webshop fixture's setups get one emulated request per real one, the
// same invocations per request, and GB-ms per request within 5 % (the
// work figures were fitted on this run).
func TestValidateWebshopReplaysRequests(t *testing.T) {
	v, err := Validate(context.Background(), filepath.Join("testdata", "webshop"), ValidateOptions{Seed: 1, Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	if v.Workload != "webshop" || len(v.Setups) != 3 {
		t.Fatalf("workload %q, %d setups", v.Workload, len(v.Setups))
	}
	for _, r := range v.Setups {
		if r.Load.Kind != load.KindReplay || len(r.Load.Replayed) != r.Real.Requests || r.Emulated.Requests != r.Real.Requests {
			t.Errorf("%s: load %+v (%s), %d real requests, %d emulated", r.Setup, r.Load, r.LoadWhy, r.Real.Requests, r.Emulated.Requests)
		}
		if r.Emulated.Invocations != r.Real.Invocations {
			t.Errorf("%s: %d emulated records, %d real", r.Setup, r.Emulated.Invocations, r.Real.Invocations)
		}
		if e := RelErr(r.Real.GBMsPerRequest, r.Emulated.GBMsPerRequest); math.Abs(e) > 0.05 {
			t.Errorf("%s: GB-ms per request %.1f emulated, %.1f real", r.Setup, r.Emulated.GBMsPerRequest, r.Real.GBMsPerRequest)
		}
	}
}

// TestWebshopReplay: the webshop's traces are replayed request by
// request: one arrival per root, in order of their starts, to its entry
// at the size it ran at, with the body the workload gives what its root
// called (a checkout calls checkout, a get does not).
func TestWebshopReplay(t *testing.T) {
	d, err := trace.ReadDir(filepath.Join("testdata", "webshop"))
	if err != nil {
		t.Fatal(err)
	}
	w := workloads.Webshop()
	s, why, err := loadFor(d.Traces["1676389085"], LoadOverride{}, &w)
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != load.KindReplay || !strings.Contains(why, "RequestEvent") {
		t.Fatalf("load %s: %s", s, why)
	}
	ops := map[string]int{}
	for i, a := range s.Replayed {
		if i > 0 && a.At < s.Replayed[i-1].At {
			t.Fatalf("arrival %d at %v before %v", i, a.At, s.Replayed[i-1].At)
		}
		if a.Route.MemoryMB != 1536 || !a.Route.Sync || a.Event["userId"] == nil {
			t.Errorf("arrival %d: %+v", i, a)
		}
		op, _ := a.Event["operation"].(string)
		ops[a.Route.Task+" "+op]++
	}
	if s.Replayed[0].At != 0 || len(ops) != 3 || ops["frontend checkout"] != 17 {
		t.Errorf("first at %v, requests %v", s.Replayed[0].At, ops)
	}
}
