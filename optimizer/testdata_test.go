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
	"slices"
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
	"webshop-generateConfigurations-fixedcheckout-m-4-x-111-x-3",
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

// reducedPerGroup is how many records the fixture keeps at least per
// (setup, function, memory size, root or not).
const reducedPerGroup = 10

// reduce shrinks one setup's records while keeping what Fusionize decides
// on:
//
//   - the order of the pairs (countCalls): records are grouped by
//     (function, memory size, root or not) in the order of their first
//     record, and of each group the fixture keeps, in order, the first
//     record of every distinct signature (its (called task, sync) pairs in
//     the order they first appear in it), so that every pair keeps its
//     place and its sync/async calls; groups of fewer than reducedPerGroup
//     such records are filled up with copies of the most frequent
//     signature's record;
//   - the mean internalDuration of every (function, memory size), to
//     0.5/reducedPerGroup ms (chunk means of its sorted values, spread over
//     its reduced records in order, the last one absorbing the rounding);
//   - the median billedDuration of the root records exactly (chunk
//     medians of all root records' sorted values, the two middle ones the
//     original middle values; one more root record when their number
//     would be odd). Other records' billed durations are their group's
//     chunk medians.
//
// A function whose root and non-root records interleave would lose the
// exact order of its pairs; the published runs have none.
func reduce(recs []trace.Record) []trace.Record {
	type key struct {
		fn, mb string
		root   bool
	}
	type group struct {
		kept  []trace.Record
		count map[string]int
		first map[string]int // signature -> index in kept
	}
	var order []key
	groups := map[key]*group{}
	for _, r := range recs {
		k := key{r.CurrentFunction, r.MemoryAvail, r.IsRootInvocation}
		g := groups[k]
		if g == nil {
			g = &group{count: map[string]int{}, first: map[string]int{}}
			groups[k] = g
			order = append(order, k)
		}
		sig := signature(r)
		if _, ok := g.first[sig]; !ok {
			g.first[sig] = len(g.kept)
			r.Calls = append([]fusionsim.Call(nil), r.Calls...)
			g.kept = append(g.kept, r)
		}
		g.count[sig]++
	}
	roots := 0
	for _, k := range order {
		g := groups[k]
		// The most frequent signature fills the group (the first one on
		// ties).
		best, bestN := 0, -1
		for sig, n := range g.count {
			if i := g.first[sig]; n > bestN || (n == bestN && i < best) {
				best, bestN = i, n
			}
		}
		for len(g.kept) < reducedPerGroup {
			g.kept = append(g.kept, g.kept[best])
		}
		if k.root {
			roots += len(g.kept)
		}
	}
	if roots%2 == 1 {
		for _, k := range order {
			if g := groups[k]; k.root {
				g.kept = append(g.kept, g.kept[0])
				break
			}
		}
	}
	var out []trace.Record
	for _, k := range order {
		out = append(out, groups[k].kept...)
	}
	// internalDuration: per (function, memory size).
	type fnKey struct{ fn, mb string }
	values := map[fnKey][]int64{}
	for _, r := range recs {
		k := fnKey{r.CurrentFunction, r.MemoryAvail}
		values[k] = append(values[k], r.InternalDuration)
	}
	slots := map[fnKey][]int{}
	for i, r := range out {
		k := fnKey{r.CurrentFunction, r.MemoryAvail}
		slots[k] = append(slots[k], i)
	}
	for k, idx := range slots {
		for j, v := range chunkMeans(values[k], len(idx)) {
			out[idx[j]].InternalDuration = v
		}
	}
	// billedDuration: pooled over the root records; per group for the
	// others.
	var rootBilled []int64
	var rootIdx []int
	for _, r := range recs {
		if r.IsRootInvocation {
			rootBilled = append(rootBilled, r.BilledDuration)
		}
	}
	for i, r := range out {
		if r.IsRootInvocation {
			rootIdx = append(rootIdx, i)
		}
	}
	for j, v := range chunkMedians(rootBilled, len(rootIdx)) {
		out[rootIdx[j]].BilledDuration = v
	}
	at := 0
	for _, k := range order {
		n := len(groups[k].kept)
		if !k.root {
			var billed []int64
			for _, r := range recs {
				if r.CurrentFunction == k.fn && r.MemoryAvail == k.mb && !r.IsRootInvocation {
					billed = append(billed, r.BilledDuration)
				}
			}
			for j, v := range chunkMedians(billed, n) {
				out[at+j].BilledDuration = v
			}
		}
		at += n
	}
	return out
}

// signature is the (called task, sync) pairs of r's calls in the order they
// first appear, the entry task's call to itself left out.
func signature(r trace.Record) string {
	var b strings.Builder
	seen := map[fusionsim.Call]bool{}
	for _, c := range r.Calls {
		if c.Called == r.CurrentFunction {
			continue
		}
		k := fusionsim.Call{Called: c.Called, Sync: c.Sync}
		if !seen[k] {
			seen[k] = true
			fmt.Fprintf(&b, "%s/%v;", c.Called, c.Sync)
		}
	}
	return b.String()
}

// chunkMeans splits the sorted values into m chunks and returns their
// means, rounded, the last one absorbing the rounding so that the values
// sum to m/len(values) of the original sum (to 0.5 ms).
func chunkMeans(values []int64, m int) []int64 {
	v := slices.Clone(values)
	slices.Sort(v)
	n := len(v)
	var sum int64
	for _, x := range v {
		sum += x
	}
	target := int64(math.Round(float64(sum) * float64(m) / float64(n)))
	out := make([]int64, m)
	var got int64
	for j := range m {
		lo, hi := j*n/m, (j+1)*n/m
		if hi == lo {
			hi = lo + 1
		}
		var s int64
		for _, x := range v[lo:hi] {
			s += x
		}
		out[j] = int64(math.Round(float64(s) / float64(hi-lo)))
		if j == m-1 {
			out[j] = target - got
		}
		got += out[j]
	}
	return out
}

// chunkMedians splits the sorted values into m chunks and returns their
// medians, in ascending order, the middle one(s) chosen so that the median
// of the result equals the values' median (exactly when m is even, or
// when m and len(values) are odd).
func chunkMedians(values []int64, m int) []int64 {
	v := slices.Clone(values)
	slices.Sort(v)
	n := len(v)
	out := make([]int64, m)
	for j := range m {
		lo, hi := j*n/m, (j+1)*n/m
		out[j] = v[min((lo+hi)/2, n-1)]
		switch {
		case m%2 == 0 && j == m/2-1:
			out[j] = v[(n-1)/2]
		case m%2 == 0 && j == m/2:
			out[j] = v[n/2]
		case m%2 == 1 && j == m/2:
			out[j] = v[n/2]
		}
	}
	return out
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
