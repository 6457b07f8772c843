package optimizer

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/trace"
)

// update regenerates the reduced fixtures in testdata/ from the calibration
// traces in ../../shared/calibration: go test ./optimizer -run TestFixtures -update
var update = flag.Bool("update", false, "regenerate testdata/ from ../../shared/calibration")

// calibrationDir is the published traces, when present.
const calibrationDir = "../../shared/calibration"

// The optimizer runs of the prototype kept as reduced fixtures.
var publishedRuns = []string{
	"IoT-generateConfigurations-dualcore-I-100x10x11",
	"split-generateConfigurations-dualcore-A-13-x-100-x-10",
	"splittest-generateConfigurations-twocores-G-12-x-100-x-10",
}

// readRun reads a directory in the prototype's layout: configuration
// metadata and <setup>.json[.gz] traces.
func readRun(t testing.TB, dir string) (fusionsim.Configs, map[string][]trace.Record) {
	t.Helper()
	data, err := readMaybeGz(filepath.Join(dir, "configuration", "configurationMetadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfgs, err := fusionsim.ParseConfigs(data)
	if err != nil {
		t.Fatal(err)
	}
	recs := map[string][]trace.Record{}
	for _, name := range cfgs.Names() {
		data, err := readMaybeGz(filepath.Join(dir, name+".json"))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var rs []trace.Record
		if err := json.Unmarshal(data, &rs); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		recs[name] = rs
	}
	return cfgs, recs
}

// readMaybeGz reads path, or path.gz decompressed.
func readMaybeGz(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil || !os.IsNotExist(err) {
		return b, err
	}
	f, err := os.Open(path + ".gz")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s.gz: %w", path, err)
	}
	return io.ReadAll(z)
}

func writeGz(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	z, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	if _, err := z.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// reducedPerGroup is how many records the fixture keeps per (setup,
// function, root or not): even, so that the two middle billed durations can
// carry the original median exactly.
const reducedPerGroup = 10

// reduce shrinks one setup's records to reducedPerGroup per (function, root
// or not) while keeping what the optimizer decides on: the order in which
// functions first appear, every call pattern's pairs (calls of the most
// frequent pattern), the mean internalDuration (to 0.5/reducedPerGroup ms:
// chunk means of the sorted values, the last one absorbing the rounding) and
// the median billedDuration exactly (the two middle values are the original
// middle ones; the others chunk medians).
func reduce(recs []trace.Record) []trace.Record {
	type key struct {
		fn   string
		root bool
	}
	var order []key
	groups := map[key][]trace.Record{}
	for _, r := range recs {
		k := key{r.CurrentFunction, r.IsRootInvocation}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	var out []trace.Record
	for _, k := range order {
		g := groups[k]
		rep := representative(g)
		n, m := len(g), reducedPerGroup
		if n < m {
			m = n
		}
		internal := make([]int64, n)
		billed := make([]int64, n)
		var sum int64
		for i, r := range g {
			internal[i], billed[i] = r.InternalDuration, r.BilledDuration
			sum += r.InternalDuration
		}
		sort.Slice(internal, func(i, j int) bool { return internal[i] < internal[j] })
		sort.Slice(billed, func(i, j int) bool { return billed[i] < billed[j] })
		target := int64(math.Round(float64(sum) * float64(m) / float64(n)))
		var got int64
		for j := 0; j < m; j++ {
			lo, hi := j*n/m, (j+1)*n/m
			var s int64
			for _, v := range internal[lo:hi] {
				s += v
			}
			iv := int64(math.Round(float64(s) / float64(hi-lo)))
			if j == m-1 {
				iv = target - got
			}
			got += iv
			bv := billed[(lo+hi)/2]
			if m%2 == 0 && j == m/2-1 {
				bv = billed[(n-1)/2]
			}
			if m%2 == 0 && j == m/2 {
				bv = billed[n/2]
			}
			if m%2 == 1 && j == m/2 {
				bv = billed[n/2]
			}
			r := rep
			r.InternalDuration, r.BilledDuration = iv, bv
			out = append(out, r)
		}
	}
	return out
}

// representative is the first record with the most frequent call pattern.
func representative(g []trace.Record) trace.Record {
	count := map[string]int{}
	first := map[string]int{}
	for i, r := range g {
		var b strings.Builder
		for _, c := range r.Calls {
			fmt.Fprintf(&b, "%s/%v/%v;", c.Called, c.Sync, c.Local)
		}
		p := b.String()
		if _, ok := first[p]; !ok {
			first[p] = i
		}
		count[p]++
	}
	bi, bc := len(g), 0
	for p, c := range count {
		if c > bc || (c == bc && first[p] < bi) {
			bi, bc = first[p], c
		}
	}
	r := g[bi]
	r.Calls = append([]fusionsim.Call(nil), r.Calls...)
	return r
}

func TestFixtures(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata/ from " + calibrationDir)
	}
	if _, err := os.Stat(calibrationDir); err != nil {
		t.Fatalf("-update needs the calibration traces: %v", err)
	}
	for _, run := range publishedRuns {
		_, recs := readRun(t, filepath.Join(calibrationDir, run))
		dir := filepath.Join("testdata", run)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		meta, err := readMaybeGz(filepath.Join(calibrationDir, run, "configuration", "configurationMetadata.json"))
		if err != nil {
			t.Fatal(err)
		}
		writeGz(t, filepath.Join(dir, "configuration", "configurationMetadata.json.gz"), meta)
		for _, name := range sortedNames(recs) {
			data, err := json.Marshal(reduce(recs[name]))
			if err != nil {
				t.Fatal(err)
			}
			writeGz(t, filepath.Join(dir, name+".json.gz"), data)
		}
	}
}
