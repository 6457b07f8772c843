package results

import (
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/fusionsim/fusionsim/trace"
)

// TestSetupWriterSameDirectory: a run whose traces and responses went to
// the stage while it ran (Stage.Setup: records and responses in any
// order, records spilled to disk) writes the same directory, byte for
// byte, as the same run given whole to Commit; an aborted setup leaves
// nothing.
func TestSetupWriterSameDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("draws figures")
	}
	defer func(n int) { trace.RecordsInMemory = n }(trace.RecordsInMemory)
	_, _, runs := runShop(t)
	whole := &Run{Manifest: Manifest{Seed: 42}, GzipTraces: true}
	for _, r := range runs {
		whole.Setups = append(whole.Setups, SetupRun{Name: r.name, Setup: r.setup, Records: r.extRecs, Responses: r.resps})
	}
	dirA := filepath.Join(t.TempDir(), "a")
	if err := Write(dirA, whole); err != nil {
		t.Fatal(err)
	}

	trace.RecordsInMemory = 5
	rng := rand.New(rand.NewPCG(1, 1))
	dirB := filepath.Join(t.TempDir(), "b")
	st, err := NewStage(dirB)
	if err != nil {
		t.Fatal(err)
	}
	// A setup that fails midway: aborted, nothing kept.
	sw, err := st.Setup("failed", true)
	if err != nil {
		t.Fatal(err)
	}
	sw.Record(&trace.KeyedRecord{Record: runs[0].extRecs[0], RequestID: "x"})
	sw.Response(0, &runs[0].resps[0])
	sw.Abort()
	streamed := &Run{Manifest: Manifest{Seed: 42}, GzipTraces: true}
	for _, r := range runs {
		sw, err := st.Setup(r.name, true)
		if err != nil {
			t.Fatal(err)
		}
		stats := NewSetupStats()
		for _, i := range rng.Perm(len(r.extRecs)) {
			k := trace.KeyedRecord{Record: r.extRecs[i], RequestID: strconv.Itoa(100000 + i)}
			stats.AddRecord(&k.Record)
			if err := sw.Record(&k); err != nil {
				t.Fatal(err)
			}
		}
		for _, i := range rng.Perm(len(r.resps)) {
			stats.AddResponse(&r.resps[i])
			if err := sw.Response(i, &r.resps[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := sw.Close(); err != nil {
			t.Fatal(err)
		}
		streamed.Setups = append(streamed.Setups, SetupRun{Name: r.name, Setup: r.setup, Stats: stats})
	}
	if err := st.Commit(streamed); err != nil {
		t.Fatal(err)
	}
	a, b := tree(t, dirA), tree(t, dirB)
	for name, data := range a {
		if string(b[name]) != string(data) {
			t.Errorf("%s differs between the whole and the streamed run", name)
		}
	}
	if len(a) != len(b) {
		t.Errorf("%d vs %d files", len(a), len(b))
	}
}
