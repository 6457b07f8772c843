package calibrate

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// pressureDir is a trace directory of split's setups under the cold-start
// protocol (requests requests each), made with prof: one burn task per
// function, C and F in one function (two burns), and all of split in one
// function (three burns), at 128 MB.
func pressureDir(t testing.TB, prof model.Profile, requests int) *trace.Dir {
	t.Helper()
	spec := load.Spec{Kind: load.KindColdstart, Requests: requests, Pause: 5 * time.Second}
	return emulatedDir(t, workloads.Split(), prof, spec,
		"A:128,B:128,C:128,D:128,E:128,F:128,G:128",
		"A+B+D+E:128,C+F:128,G:128",
		"A+B+C+D+E+F+G:128")
}

// TestFitMemoryPressureRecoversTruth: traces made with a known pressure
// (34 MB of headroom, 0.02 per MB) have burns with 38 MB free (one per
// function, unpressed), 30 (two: 4 MB short) and 22 (three: 12 MB short);
// the fit, starting from other figures, finds the headroom within 1.5 MB
// and the slope within 15 %. Traces with burns short of memory at one
// level only (without the setup of three burns) cannot tell the two apart:
// ErrNoData.
func TestFitMemoryPressureRecoversTruth(t *testing.T) {
	t.Parallel()
	truth := model.Default()
	truth.CPU.MemoryPressureHeadroomMB, truth.CPU.MemoryPressureCPUPerMB = 36, 0.025
	d := pressureDir(t, truth, 24)
	start := truth
	start.CPU.MemoryPressureHeadroomMB, start.CPU.MemoryPressureCPUPerMB = 10, 0.05
	h, s, err := FitMemoryPressure(context.Background(), map[string]*trace.Dir{"synthetic": d}, start)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(h.Value-36) > 1.5 || math.Abs(s.Value/0.025-1) > 0.15 {
		t.Errorf("fitted headroom %v MB, %v per MB; want 36 and 0.025\n%s", h.Value, s.Value, h.Method)
	}
	t.Logf("fitted headroom %v MB, %v per MB", h.Value, s.Value)
	delete(d.Traces, "1002")
	delete(d.Configs, "1002")
	if _, _, err := FitMemoryPressure(context.Background(), map[string]*trace.Dir{"synthetic": d}, start); !errors.Is(err, ErrNoData) {
		t.Errorf("one level short of memory: %v, want ErrNoData", err)
	}
}
