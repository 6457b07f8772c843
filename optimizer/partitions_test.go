package optimizer

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/workloads"
)

func TestBell(t *testing.T) {
	want := []int64{1, 1, 2, 5, 15, 52, 203, 877, 4140, 21147, 115975}
	for n, w := range want {
		if got := Bell(n); got.Int64() != w {
			t.Errorf("Bell(%d) = %s, want %d", n, got, w)
		}
	}
}

// TestAllPartitions: IoT's 10 tasks have Bell(10) = 115,975 partitions, each
// once, each a partition of all the tasks; the connected ones are exactly
// Partitions' 704; the first puts everything in one group, the last is the
// all-remote setup.
func TestAllPartitions(t *testing.T) {
	for _, w := range []workloads.Workload{workloads.IoT(), workloads.Split()} {
		app := w.App
		tasks := PartitionTasks(app)
		seq, err := AllPartitions(app)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		var connected []string
		var first, last string
		n := 0
		for p := range seq {
			var all []string
			for _, g := range p {
				if len(g) == 0 {
					t.Fatalf("%s: empty group in %v", app.Name, p)
				}
				all = append(all, g...)
			}
			sort.Strings(all)
			want := slices.Clone(tasks)
			sort.Strings(want)
			if !slices.Equal(all, want) {
				t.Fatalf("%s: %v is not a partition of %v", app.Name, p, tasks)
			}
			k := p.String()
			if seen[k] {
				t.Fatalf("%s: %s twice", app.Name, k)
			}
			seen[k] = true
			if Connected(app, p) {
				connected = append(connected, k)
			}
			if n == 0 {
				first = k
			}
			last = k
			n++
		}
		if want := Bell(len(tasks)).Int64(); int64(n) != want {
			t.Errorf("%s: %d partitions, want Bell(%d) = %d", app.Name, n, len(tasks), want)
		}
		parts, err := Partitions(app)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, p := range parts {
			want = append(want, p.String())
		}
		sort.Strings(want)
		sort.Strings(connected)
		if !slices.Equal(connected, want) {
			t.Errorf("%s: %d connected partitions, Partitions has %d", app.Name, len(connected), len(want))
		}
		if len(first) == 0 || len(seen) == 0 || len(last) == 0 {
			t.Fatal("no partitions")
		}
		if got := len(first); got != len(Partition{tasks}.String()) {
			t.Errorf("%s: first partition %s, want all tasks in one group", app.Name, first)
		}
		var singles Partition
		for _, x := range tasks {
			singles = append(singles, []string{x})
		}
		if last != singles.String() {
			t.Errorf("%s: last partition %s, want %s", app.Name, last, singles)
		}
	}
	if n := len(PartitionTasks(workloads.IoT().App)); n != 10 {
		t.Errorf("IoT has %d tasks, want 10", n)
	}
}

// TestPartitionSemantics: the documented cases of groups that are not one
// function.
func TestPartitionSemantics(t *testing.T) {
	app := workloads.IoT().App
	name := fusionsim.NewTraceName("x")
	desc := func(p Partition) string { return Describe(app, CanonicalPartitionSetup(app, p, name)) }
	singles := func(except ...string) Partition {
		var p Partition
		for _, x := range PartitionTasks(app) {
			if !slices.Contains(except, x) {
				p = append(p, []string{x})
			}
		}
		return p
	}
	remote := desc(singles())
	// Tasks that do not call each other: the same functions as apart.
	if got := desc(append(singles("CW", "DJ"), []string{"CW", "DJ"})); got != remote {
		t.Errorf("{CW, DJ}: %s, want the all-remote %s", got, remote)
	}
	// Two roots calling one task: a function per root, the task in both.
	got := desc(append(singles("CA", "CT", "AS"), []string{"CA", "CT", "AS"}))
	if want := "I:128,CW:128,SE:128,CT+AS:128,CS:128,CA+AS:128,CSL:128,CSA:128,DJ:128"; got != want {
		t.Errorf("{CA, CT, AS}: %s, want %s", got, want)
	}
	// A task of the group also called from another group: its own function too.
	got = desc(append(singles("CA", "AS"), []string{"CA", "AS"}))
	if want := "I:128,CW:128,SE:128,CT:128,CS:128,CA+AS:128,AS:128,CSL:128,CSA:128,DJ:128"; got != want {
		t.Errorf("{CA, AS}: %s, want %s", got, want)
	}
	// The canonical setup equals PartitionSetup's deployment where both exist
	// and equal partitions give equal keys.
	p := Partition{{"I", "CW", "SE"}, {"CS", "CSL", "CSA"}, {"CA", "DJ"}, {"CT"}, {"AS"}}
	if a, b := Describe(app, PartitionSetup(app, p, name)), desc(p); a != b {
		t.Errorf("canonical %s, PartitionSetup %s", b, a)
	}
}

// TestPartitionFunctions: PartitionFunctions equals the Layout of
// PartitionSetup and of the canonical setup, whose keys are equal exactly
// when the functions are (checked on every 37th IoT partition); all 115,975
// deploy 768 distinct sets of functions.
func TestPartitionFunctions(t *testing.T) {
	app := workloads.IoT().App
	seq, _ := AllPartitions(app)
	name := fusionsim.NewTraceName("x")
	fns := map[string]bool{}
	keys := map[string]string{}
	i := 0
	for p := range seq {
		d := DescribeFunctions(PartitionFunctions(app, p))
		fns[d] = true
		if i%37 == 0 {
			if l := Describe(app, PartitionSetup(app, p, name)); l != d {
				t.Fatalf("%s: PartitionFunctions %s, Layout of PartitionSetup %s", p, d, l)
			}
			s := CanonicalPartitionSetup(app, p, name)
			if l := Describe(app, s); l != d {
				t.Fatalf("%s: PartitionFunctions %s, Layout of the canonical setup %s", p, d, l)
			}
			k := DeploymentKey(s)
			if prev, ok := keys[k]; ok && prev != d {
				t.Fatalf("%s and %s deploy different functions with one key", prev, d)
			}
			keys[k] = d
		}
		i++
	}
	if len(fns) != 768 {
		t.Errorf("%d distinct deployments, want 768", len(fns))
	}
	if len(keys) > len(fns) {
		t.Errorf("%d keys for %d deployments", len(keys), len(fns))
	}
}

// TestFrontIndices: the sorted front equals the quadratic definition on
// random figures with many ties and invalid points.
func TestFrontIndices(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 300; trial++ {
		n := rng.IntN(40)
		ms := make([]Metrics, n)
		for i := range ms {
			ms[i] = Metrics{Requests: 1, MedianLatencyMs: float64(rng.IntN(8)), CostPerRequestUSD: float64(rng.IntN(8))}
			switch rng.IntN(10) {
			case 0:
				ms[i].Errors = 1
			case 1:
				ms[i].MedianLatencyMs = math.NaN()
			}
		}
		var want []Point
		var points []Point
		for i, m := range ms {
			points = append(points, Point{Label: strconv.Itoa(i), Metrics: m})
		}
		for i, p := range points {
			if !p.valid() {
				continue
			}
			dominated := false
			for j, q := range points {
				if i != j && q.valid() && q.dominates(p) {
					dominated = true
				}
			}
			if !dominated {
				want = append(want, p)
			}
		}
		sort.SliceStable(want, func(i, j int) bool {
			a, b := want[i], want[j]
			if a.MedianLatencyMs != b.MedianLatencyMs {
				return a.MedianLatencyMs < b.MedianLatencyMs
			}
			return a.CostPerRequestUSD < b.CostPerRequestUSD
		})
		got := FrontIndices(ms)
		if len(got) != len(want) {
			t.Fatalf("trial %d: %d front points, want %d", trial, len(got), len(want))
		}
		for i, k := range got {
			if strconv.Itoa(k) != want[i].Label {
				t.Fatalf("trial %d: front[%d] = %d, want %s", trial, i, k, want[i].Label)
			}
		}
	}
}
