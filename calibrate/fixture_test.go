package calibrate

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/trace"
)

// The fixture in testdata/calibration is derived from ../shared/calibration:
// a few setups of each experiment, and of each setup every request with a
// cold start plus every eighth other request (of the cold-start experiment,
// where every request is cold, every fourth); whole requests, so that calls
// find their callees. Regenerate with
//
//	go test ./calibrate -run TestMakeFixture -make-fixture
var makeFixture = flag.Bool("make-fixture", false, "rewrite testdata/calibration from ../shared/calibration")

// calibrationDir is the shared calibration data, relative to this package.
const calibrationDir = "../../shared/calibration"

// fixtureSetups are the setups the fixture keeps, by experiment.
var fixtureSetups = map[string][]string{
	"IoT-generateConfigurations-dualcore-I-100x10x11": {"1676020374", "1676021998", "1676022528", "1676024794", "1676026378"},
	"split-coldStarts-dualcore-4":                     {"a_remote", "d_optimal_small"},
	"split-generateConfigurations-dualcore-A-13-x-100-x-10": {
		"1675344670", "1675346654", "1675347190", "1675348211", "1675349244", "1675350261"},
	"splittest-generateConfigurations-twocores-G-12-x-100-x-10": {"1675261172", "1675261743", "1675263062", "1675263498"},
}

// fixtureDirs returns the fixture's experiment directories.
func fixtureDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for exp := range fixtureSetups {
		dirs = append(dirs, filepath.Join("testdata", "calibration", exp))
	}
	slices.Sort(dirs)
	return dirs
}

func TestMakeFixture(t *testing.T) {
	if !*makeFixture {
		t.Skip("run with -make-fixture to rewrite testdata/calibration")
	}
	for exp, setups := range fixtureSetups {
		d, err := trace.ReadDir(filepath.Join(calibrationDir, exp))
		if err != nil {
			t.Fatal(err)
		}
		out := &trace.Dir{Traces: trace.Traces{}, Configs: fusionsim.Configs{}}
		for _, s := range setups {
			out.Traces[s] = sampleRequests(d.Traces[s], 8, 4)
			out.Configs[s] = d.Configs[s]
		}
		dir := filepath.Join("testdata", "calibration", exp)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := trace.WriteDir(dir, out, trace.WriteOptions{Gzip: true}); err != nil {
			t.Fatal(err)
		}
	}
}

// sampleRequests keeps every request with a cold start and every n-th
// other one, in the records' order; when most requests have a cold start,
// every nCold-th request.
func sampleRequests(recs []trace.Record, n, nCold int) []trace.Record {
	cold := map[string]bool{}
	var order []string
	seen := map[string]bool{}
	for _, r := range recs {
		if r.IsColdStart {
			cold[r.TraceID] = true
		}
		if !seen[r.TraceID] {
			seen[r.TraceID] = true
			order = append(order, r.TraceID)
		}
	}
	keep := map[string]bool{}
	i := 0
	for j, id := range order {
		switch {
		case 2*len(cold) > len(order):
			keep[id] = j%nCold == 0
		case cold[id]:
			keep[id] = true
		default:
			keep[id] = i%n == 0
			i++
		}
	}
	var out []trace.Record
	for _, r := range recs {
		if keep[r.TraceID] {
			out = append(out, r)
		}
	}
	return out
}
