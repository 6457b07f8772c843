package sweep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/optimizer"
	"github.com/fusionsim/fusionsim/results"
	"github.com/fusionsim/fusionsim/workloads"
)

func TestParseSeeds(t *testing.T) {
	for in, want := range map[string]string{"1": "[1]", "1..5": "[1 2 3 4 5]", "1,2,7": "[1 2 7]", " 3..4 , 9": "[3 4 9]"} {
		got, err := ParseSeeds(in)
		if err != nil || fmt.Sprint(got) != want {
			t.Errorf("ParseSeeds(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "5..1", "1,1", "1..3,2", "-1", "0..200000"} {
		if _, err := ParseSeeds(bad); err == nil {
			t.Errorf("ParseSeeds(%q): no error", bad)
		}
	}
}

func TestShardFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env    map[string]string
		shards int
		want   string // "" none, "I/N" or an error substring starting with "!"
	}{
		{nil, 0, ""},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0"}, 0, "2/4"},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"}, 0, "2/4"},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "6", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_STEP": "2"}, 0, "3/4"},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_STEP": "2"}, 0, "!not in the array"},
		// Resubmitting task 2 of a 4-task sweep: the array has one task.
		{map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "1", "SLURM_ARRAY_TASK_MIN": "2"}, 4, "2/4"},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "1", "SLURM_ARRAY_TASK_MIN": "4"}, 4, "!0..3"},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "x"}, 0, "!SLURM_ARRAY_TASK_ID=\"x\""},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "1"}, 0, "!give --shards"},
		{map[string]string{"JOB_COMPLETION_INDEX": "1"}, 3, "1/3"},
		{map[string]string{"JOB_COMPLETION_INDEX": "3"}, 3, "!below the number of shards"},
		{map[string]string{"JOB_COMPLETION_INDEX": "1"}, 0, "!give --shards N"},
		{nil, 3, "!without a shard index"},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "0", "JOB_COMPLETION_INDEX": "0"}, 0, "1/2"},
	} {
		s, ok, err := ShardFromEnv(func(k string) string { return tc.env[k] }, tc.shards)
		switch {
		case strings.HasPrefix(tc.want, "!"):
			if err == nil || !strings.Contains(err.Error(), tc.want[1:]) {
				t.Errorf("%v --shards %d: %v, want an error with %q", tc.env, tc.shards, err, tc.want[1:])
			}
		case tc.want == "":
			if err != nil || ok {
				t.Errorf("%v: %v %v %v, want no shard", tc.env, s, ok, err)
			}
		default:
			if err != nil || !ok || s.String() != tc.want {
				t.Errorf("%v --shards %d: %v %v %v, want %s", tc.env, tc.shards, s, ok, err, tc.want)
			}
		}
	}
	if _, err := ParseShard("4/4"); err == nil {
		t.Error("ParseShard(4/4): no error")
	}
	if s, err := ParseShard("3/16"); err != nil || s.DirName() != "shard-0003-of-0016" {
		t.Errorf("ParseShard(3/16) = %v, %v", s.DirName(), err)
	}
}

// testSpec is a sweep of split: every partition (877) or rule setup at two
// sizes, two seeds, one load, one profile.
func testSpec(space string) *Spec {
	w := workloads.Split()
	return &Spec{
		Workload: w.Name(), App: AppFingerprint(w.App), Space: space, MemorySizesMB: []int{128, 1024}, Seeds: []uint64{1, 2},
		Loads:    []Load{{Name: "constant", Spec: load.Spec{Kind: load.KindConstant, RatePerS: 10, Requests: 10}}},
		Profiles: []Profile{{Name: "default", Profile: model.Default()}},
	}
}

// fakeEval gives figures that are a function of the deployment and the seed
// (as the emulator's are), counts calls, and can fail or cancel.
type fakeEval struct {
	calls  atomic.Int64
	onCall func(n int64)
}

func (f *fakeEval) Evaluate(ctx context.Context, s *fusionsim.Setup, seed uint64) (optimizer.Metrics, error) {
	n := f.calls.Add(1)
	if f.onCall != nil {
		f.onCall(n)
	}
	if err := ctx.Err(); err != nil {
		return optimizer.Metrics{}, err
	}
	h := fnv.New64a()
	h.Write([]byte(optimizer.DeploymentKey(s)))
	v := h.Sum64() ^ seed
	m := optimizer.Metrics{Requests: 10, Invocations: int(v % 7), MedianLatencyMs: float64(v%1000) / 2, P95LatencyMs: float64(v % 2000),
		MedianE2EMs: float64(v%997) / 3, CostPerRequestUSD: float64(v%5000) * 1e-9, MedianRootBilledMs: float64(v % 300)}
	if v%50 == 0 {
		m.Errors, m.MedianLatencyMs = 1, math.NaN()
	}
	return m, nil
}

func mustPlan(t *testing.T, spec *Spec) *Plan {
	t.Helper()
	p, err := NewPlan(spec, workloads.Split().App)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runShard(t *testing.T, p *Plan, sh Shard, dir string, ev optimizer.Evaluator, dedup bool) (*Outcome, error) {
	t.Helper()
	j, err := OpenJournal(PartialDir(dir), p.Hash, sh.String(), p.Cells)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Plan: p, Shard: sh, Evaluator: func(int, int) optimizer.Evaluator { return ev }, Workers: 3, Dedup: dedup, Journal: j, CheckpointCells: 7}
	out, err := r.Run(context.Background())
	if err != nil {
		return out, err
	}
	if _, err := (&Result{Plan: p, Shard: sh, Cells: out.Cells}).Write(dir, results.PlotOptions{Formats: []string{"svg"}}); err != nil {
		t.Fatal(err)
	}
	return out, j.Remove()
}

// sameDirs fails unless a and b hold the same files with the same bytes.
func sameDirs(t *testing.T, a, b string) {
	t.Helper()
	files := func(root string) map[string][]byte {
		m := map[string][]byte{}
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				data, _ := os.ReadFile(p)
				rel, _ := filepath.Rel(root, p)
				m[rel] = data
			}
			return nil
		})
		return m
	}
	fa, fb := files(a), files(b)
	if len(fa) == 0 || len(fa) != len(fb) {
		t.Fatalf("%s has %d files, %s %d", a, len(fa), b, len(fb))
	}
	for name, da := range fa {
		if !bytes.Equal(da, fb[name]) {
			t.Errorf("%s differs between %s and %s", name, a, b)
		}
	}
}

// TestPlanCounts: split has 7 tasks: Bell(7) = 877 partitions (64
// connected), 64 rule setups.
func TestPlanCounts(t *testing.T) {
	for _, tc := range []struct {
		space     string
		connected bool
		setups    int
	}{{SpacePartitions, false, 877}, {SpacePartitions, true, 64}, {SpaceRules, false, 64}} {
		spec := testSpec(tc.space)
		spec.Connected = tc.connected
		p := mustPlan(t, spec)
		if p.Setups != tc.setups || p.Points != 2*tc.setups || p.Cells != 4*tc.setups {
			t.Errorf("%s connected=%v: %d setups, %d points, %d cells; want %d setups x 2 sizes x 2 seeds", tc.space, tc.connected, p.Setups, p.Points, p.Cells, tc.setups)
		}
		n := 0
		p.All(func(c *Cell) bool {
			if c.Index != n {
				t.Fatalf("cell %d has index %d", n, c.Index)
			}
			n++
			return true
		})
		if n != p.Cells {
			t.Errorf("All gave %d cells, want %d", n, p.Cells)
		}
	}
	if _, err := NewPlan(testSpec(SpaceRules), workloads.IoT().App); err == nil || !strings.Contains(err.Error(), "another version") {
		t.Errorf("a spec of split against IoT: %v", err)
	}
	s := testSpec(SpaceRules)
	s.Seeds = nil
	if _, err := NewPlan(s, workloads.Split().App); err == nil {
		t.Error("no seeds: no error")
	}
}

// TestIoTPartitions: IoT's sweep of every partition at the default size is
// 115,975 cells.
func TestIoTPartitions(t *testing.T) {
	w := workloads.IoT()
	spec := &Spec{Workload: "iot", App: AppFingerprint(w.App), Space: SpacePartitions, Seeds: []uint64{1},
		Loads:    []Load{{Name: "constant", Spec: load.Spec{Kind: load.KindConstant, RatePerS: 10, Requests: 100}}},
		Profiles: []Profile{{Name: "default", Profile: model.Default()}}}
	p, err := NewPlan(spec, w.App)
	if err != nil {
		t.Fatal(err)
	}
	if p.Cells != 115975 {
		t.Errorf("%d cells, want 115,975", p.Cells)
	}
	if !strings.Contains(p.Describe(), "Bell(10) = 115,975") {
		t.Errorf("Describe: %s", p.Describe())
	}
}

// TestShardsMergeDedup: four shards merged equal the whole sweep, byte for
// byte, and the whole sweep is the same with and without Dedup (which
// evaluates fewer cells).
func TestShardsMergeDedup(t *testing.T) {
	base := t.TempDir()
	p := mustPlan(t, testSpec(SpacePartitions))
	var ev, evAll fakeEval
	whole := filepath.Join(base, "whole")
	out, err := runShard(t, p, Shard{}, whole, &ev, true)
	if err != nil {
		t.Fatal(err)
	}
	if out.Evaluations >= p.Cells || out.Evaluations != int(ev.calls.Load()) {
		t.Errorf("dedup: %d evaluations of %d cells (%d calls)", out.Evaluations, p.Cells, ev.calls.Load())
	}
	all := filepath.Join(base, "all")
	if _, err := runShard(t, p, Shard{}, all, &evAll, false); err != nil {
		t.Fatal(err)
	}
	if int(evAll.calls.Load()) != p.Cells {
		t.Errorf("no dedup: %d evaluations of %d cells", evAll.calls.Load(), p.Cells)
	}
	sameDirs(t, whole, all)
	shards := filepath.Join(base, "shards")
	for i := 0; i < 4; i++ {
		sh := Shard{Index: i, Count: 4}
		if _, err := runShard(t, p, sh, filepath.Join(shards, sh.DirName()), &fakeEval{}, true); err != nil {
			t.Fatal(err)
		}
	}
	dirs, err := ShardDirs([]string{shards})
	if err != nil || len(dirs) != 4 {
		t.Fatalf("ShardDirs: %v %v", dirs, err)
	}
	res, err := Merge(dirs, func(*Spec) (*fusionsim.App, error) { return workloads.Split().App, nil })
	if err != nil {
		t.Fatal(err)
	}
	merged := filepath.Join(base, "merged")
	if _, err := res.Write(merged, results.PlotOptions{Formats: []string{"svg"}}); err != nil {
		t.Fatal(err)
	}
	sameDirs(t, whole, merged)
	for _, f := range []string{"front.csv", "configuration/configurationMetadata.json", "figures/pareto.svg", "summary.csv"} {
		if _, err := os.Stat(filepath.Join(merged, f)); err != nil {
			t.Errorf("merged: %v", err)
		}
	}

	// A missing shard: its cells by index, and the shard.
	_, err = Merge([]string{dirs[0], dirs[1], dirs[3]}, func(*Spec) (*fusionsim.App, error) { return workloads.Split().App, nil })
	var me *MissingError
	if !errors.As(err, &me) || me.Count != 4 || len(me.Shards) != 1 || me.Shards[0] != 2 || len(me.Cells) != p.Cells/4 || me.Cells[0] != 2 {
		t.Errorf("missing shard 2: %v", err)
	}
	// Shards of another sweep.
	other := testSpec(SpacePartitions)
	other.Seeds = []uint64{1, 3}
	po := mustPlan(t, other)
	od := filepath.Join(base, "other", Shard{Index: 2, Count: 4}.DirName())
	if _, err := runShard(t, po, Shard{Index: 2, Count: 4}, od, &fakeEval{}, true); err != nil {
		t.Fatal(err)
	}
	_, err = Merge([]string{dirs[0], dirs[1], od, dirs[3]}, func(*Spec) (*fusionsim.App, error) { return workloads.Split().App, nil })
	if err == nil || !strings.Contains(err.Error(), "different sweeps") {
		t.Errorf("shards of two sweeps: %v", err)
	}
}

// TestResume: a run interrupted after some evaluations keeps them in its
// journal; the rerun evaluates only the others and writes what an
// uninterrupted run writes. A run killed between checkpoints loses at most
// what was not flushed: whole chunks only.
func TestResume(t *testing.T) {
	base := t.TempDir()
	p := mustPlan(t, testSpec(SpaceRules))
	whole := filepath.Join(base, "whole")
	if _, err := runShard(t, p, Shard{}, whole, &fakeEval{}, true); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "resumed")
	j, err := OpenJournal(PartialDir(dir), p.Hash, "0/1", p.Cells)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	ev := &fakeEval{onCall: func(n int64) {
		if n == 100 {
			once.Do(cancel)
		}
	}}
	r := &Runner{Plan: p, Evaluator: func(int, int) optimizer.Evaluator { return ev }, Workers: 2, Dedup: true, Journal: j,
		CheckpointEvery: time.Hour, CheckpointCells: 1 << 30}
	out, err := r.Run(ctx)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupted run: %v", err)
	}
	kept := len(out.Cells)
	if kept < 90 || kept >= p.Cells {
		t.Fatalf("interrupted after 100 evaluations with %d cells done of %d", kept, p.Cells)
	}
	// The journal holds exactly the finished cells.
	j2, err := OpenJournal(PartialDir(dir), p.Hash, "0/1", p.Cells)
	if err != nil {
		t.Fatal(err)
	}
	if len(j2.Done()) != kept {
		t.Fatalf("journal has %d cells, the run finished %d", len(j2.Done()), kept)
	}
	// Another sweep or shard refuses the journal.
	if _, err := OpenJournal(PartialDir(dir), p.Hash, "1/2", p.Cells); err == nil {
		t.Error("journal of shard 0/1 opened for 1/2")
	}
	// A chunk cut short by a kill was never renamed: it is ignored.
	os.WriteFile(filepath.Join(PartialDir(dir), ".chunk-000009.csv.tmp123"), []byte("cell,req"), 0o644)
	ev2 := &fakeEval{}
	out2, err := runShard(t, p, Shard{}, dir, ev2, true)
	if err != nil {
		t.Fatal(err)
	}
	if out2.Kept != kept || int(ev2.calls.Load()) != p.Cells-kept {
		t.Errorf("resumed run: %d kept (want %d), %d evaluations (want %d)", out2.Kept, kept, ev2.calls.Load(), p.Cells-kept)
	}
	sameDirs(t, whole, dir)
	if _, err := os.Stat(PartialDir(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal left after the results were written: %v", err)
	}
}

// TestEvaluatorName: the emulator's figures do not depend on a setup's name
// (what Dedup relies on), and two partitions that deploy the same functions
// get equal figures.
func TestEvaluatorName(t *testing.T) {
	w := workloads.Split()
	spec := testSpec(SpacePartitions)
	spec.MemorySizesMB = nil
	spec.Seeds = []uint64{1}
	p := mustPlan(t, spec)
	evals, err := NewEvaluators(p)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string][]*fusionsim.Setup{}
	p.All(func(c *Cell) bool {
		if len(byKey[c.Key()]) < 2 {
			byKey[c.Key()] = append(byKey[c.Key()], c.Deployment())
		}
		return true
	})
	checked := 0
	for _, ss := range byKey {
		if len(ss) < 2 || checked == 3 {
			continue
		}
		checked++
		var got []optimizer.Metrics
		for _, s := range ss {
			m, err := evals(0, 0).Evaluate(context.Background(), s, optimizer.SeedFor(1, s))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m)
		}
		if !sameMetrics(got[0], got[1]) || ss[0].Name() == ss[1].Name() {
			t.Errorf("%s and %s (%s): %v and %v", ss[0].Name(), ss[1].Name(), optimizer.Describe(w.App, ss[0]), got[0], got[1])
		}
	}
	if checked == 0 {
		t.Fatal("no two partitions deploy the same functions")
	}
}
