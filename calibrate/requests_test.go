package calibrate

import (
	"context"
	"math"
	"path/filepath"
	"testing"

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
		if r.Load.Kind != LoadRequests || r.Load.Requests != r.Real.Requests || r.Emulated.Requests != r.Real.Requests {
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

// TestRequestArrivals: one arrival per root, at its offset, to its entry
// at its size, with its kind's body.
func TestRequestArrivals(t *testing.T) {
	d, err := trace.ReadDir(filepath.Join("testdata", "webshop"))
	if err != nil {
		t.Fatal(err)
	}
	w := workloads.Webshop()
	arr, err := RequestArrivals(d.Traces["1676389085"], w)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for i, a := range arr {
		kinds[a.Kind]++
		if i > 0 && a.At < arr[i-1].At {
			t.Fatalf("arrival %d at %v before %v", i, a.At, arr[i-1].At)
		}
		if a.Route.MemoryMB != 1536 || !a.Route.Sync || a.Event["userId"] == nil {
			t.Errorf("arrival %d: %+v", i, a)
		}
	}
	if arr[0].At != 0 || len(kinds) != 3 || kinds["frontend>checkout"] != 17 {
		t.Errorf("first at %v, kinds %v", arr[0].At, kinds)
	}
}
