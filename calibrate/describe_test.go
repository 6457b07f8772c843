package calibrate

import (
	"bytes"
	"compress/gzip"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/appfile"
	"github.com/fusionsim/fusionsim/trace"
)

// The webshop fixture in testdata/webshop is derived from the webshop run
// of ../shared/calibration: three setups (all remote at 128 MB, everything
// inlined that the run inlined at 128 MB, the same at 1536 MB), of each
// every webshopFixtureEvery-th request of each kind, whole requests.
// Regenerate with
//
//	go test ./calibrate -run TestMakeWebshopFixture -make-webshop-fixture
var makeWebshopFixture = flag.Bool("make-webshop-fixture", false, "rewrite testdata/webshop from ../shared/calibration")

const (
	webshopRun          = "webshop-generateConfigurations-fixedcheckout-m-4-x-111-x-3"
	webshopFixtureEvery = 20
)

var webshopFixtureSetups = []string{"1676375682", "1676388535", "1676389085"}

func TestMakeWebshopFixture(t *testing.T) {
	if !*makeWebshopFixture {
		t.Skip("run with -make-webshop-fixture to rewrite testdata/webshop")
	}
	d, err := trace.ReadDir(filepath.Join(calibrationDir, webshopRun))
	if err != nil {
		t.Fatal(err)
	}
	out := &trace.Dir{Traces: trace.Traces{}, Configs: fusionsim.Configs{}}
	for _, s := range webshopFixtureSetups {
		out.Traces[s] = everyNthOfKind(d.Traces[s], webshopFixtureEvery)
		out.Configs[s] = d.Configs[s]
	}
	dir := filepath.Join("testdata", "webshop")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := trace.WriteDir(dir, out, trace.WriteOptions{Gzip: true}); err != nil {
		t.Fatal(err)
	}
	// The metadata gzipped too (100 KB of rules plain).
	meta := filepath.Join(dir, "configuration", "configurationMetadata.json")
	data, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	z, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	z.Write(data)
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(meta+".gz", b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(meta); err != nil {
		t.Fatal(err)
	}
}

// everyNthOfKind keeps the records of every n-th request of each kind
// (RequestKind), requests in the order of their root records, records in
// their order.
func everyNthOfKind(recs []trace.Record, n int) []trace.Record {
	seen := map[string]int{}
	keep := map[string]bool{}
	for i := range recs {
		r := &recs[i]
		if r.IsRootInvocation {
			k := RequestKind(r)
			keep[r.TraceID] = seen[k]%n == 0
			seen[k]++
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

// webshopDirs are the webshop fixture and, when it is there, the run.
func webshopDirs(t *testing.T) []string {
	dirs := []string{filepath.Join("testdata", "webshop")}
	if real := filepath.Join(calibrationDir, webshopRun); fileExists(real) {
		dirs = append(dirs, real)
	}
	return dirs
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestDescribeWebshop checks what webshop-notes.md reads off the traces,
// on the fixture and, when it is there, on the whole run: three request
// kinds; in the all-remote setup the calls are App.Edges of the Go
// webshop; frontend's get calls currency once per product (11) and the
// prototype's grouping merged them into one record; checkout calls
// currency once per cart item plus once for shipping, once or twice: the
// cart holds at most one item; every function ran at the size the rule
// urls give it.
func TestDescribeWebshop(t *testing.T) {
	w, err := appfile.Get("webshop")
	if err != nil {
		t.Fatal(err)
	}
	app := w.App
	var edges []string
	for _, e := range app.Edges {
		edges = append(edges, e.String())
	}
	slices.Sort(edges)
	for _, dir := range webshopDirs(t) {
		d, err := trace.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		desc := Describe(d)
		if len(desc.Setups) < 3 {
			t.Fatalf("%s: %d setups", dir, len(desc.Setups))
		}
		for _, sd := range desc.Setups {
			var kinds []string
			for _, k := range sd.Kinds {
				kinds = append(kinds, k.Kind)
			}
			if got := strings.Join(kinds, " "); got != "addcartitem>cartkvstorage frontend>checkout frontend>supportedcurrencies" {
				t.Errorf("%s %s: kinds %s", dir, sd.Name, got)
			}
			for fn, mb := range sd.MemoryMB {
				if u := sd.URLMemoryMB[fn]; !slices.Equal(u, mb) {
					t.Errorf("%s %s: %s ran at %v MB, its urls say %v", dir, sd.Name, fn, mb, u)
				}
			}
			var remote []string
			for _, c := range sd.Calls {
				switch {
				case c.Called == "currency" && c.Kind == "frontend>supportedcurrencies":
					if len(c.PerRequest) != 1 || c.PerRequest[11] == 0 {
						t.Errorf("%s %s: frontend calls currency %v times per get", dir, sd.Name, c.PerRequest)
					}
				case c.Called == "currency" && c.Kind == "frontend>checkout":
					for n := range c.PerRequest {
						if n < 1 || n > 2 {
							t.Errorf("%s %s: checkout calls currency %v times", dir, sd.Name, c.PerRequest)
						}
					}
				}
				if !c.Local {
					remote = append(remote, fusionsim.Edge{Caller: c.Caller, Called: c.Called, Sync: c.Sync}.String())
				}
			}
			if sd.Name == "1676375682" {
				remote = slices.Compact(slices.Sorted(slices.Values(remote)))
				if strings.Join(remote, " ") != strings.Join(edges, " ") {
					t.Errorf("%s %s: calls\n%v\nwant the Go app's edges\n%v", dir, sd.Name, remote, edges)
				}
				for _, f := range sd.Functions {
					if f.Function == "currency" && f.Invocations[11] == 0 {
						t.Errorf("%s %s: no currency record merges 11 invocations: %v", dir, sd.Name, f.Invocations)
					}
				}
			}
		}
		if dir == filepath.Join(calibrationDir, webshopRun) {
			// The docs' figures (webshop.md): root medians 40, 41, 686 ms.
			want := map[string]float64{"addcartitem>cartkvstorage": 40, "frontend>checkout": 41, "frontend>supportedcurrencies": 686}
			for _, k := range desc.Setups[0].Kinds {
				if k.MedianMs != want[k.Kind] {
					t.Errorf("1676375682 %s: median %v ms, want %v", k.Kind, k.MedianMs, want[k.Kind])
				}
			}
		}
	}
}
