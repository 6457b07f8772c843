package optimizer

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/appfile"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// workload returns the workload called name: Go code or a built-in
// application file (the webshop).
func workload(t testing.TB, name string) workloads.Workload {
	t.Helper()
	w, err := appfile.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestPartitions: the bound on IoT and split, the order (all remote first,
// fewest groups last) and that each partition's setup deploys exactly its
// groups.
func TestPartitions(t *testing.T) {
	for _, tc := range []struct {
		workload string
		want     int
		first    string
		last     string
	}{
		{"iot", 704, "AS,CA,CS,CSA,CSL,CT,CW,DJ,I,SE", "AS.CA.CS.CSA.CSL.CT.CW.DJ.I.SE"},
		{"split", 64, "A,B,C,D,E,F,G", "A.B.C.D.E.F.G"},
	} {
		app := workload(t, tc.workload).App
		parts, err := Partitions(app)
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) != tc.want || parts[0].String() != tc.first || parts[len(parts)-1].String() != tc.last {
			t.Errorf("%s: %d partitions, first %s, last %s; want %d, %s, %s", tc.workload, len(parts), parts[0], parts[len(parts)-1], tc.want, tc.first, tc.last)
		}
		seen := map[string]bool{}
		for _, p := range parts {
			if seen[p.String()] {
				t.Errorf("%s: %s twice", tc.workload, p)
			}
			seen[p.String()] = true
			// Each group runs as the function of its root; a task called
			// from another group also gets a function of its own holding
			// the part of its group it reaches (AS in CT's group, called by
			// CA, is duplicated).
			group := map[string]string{}
			for _, g := range p {
				for _, task := range g {
					group[task] = (Partition{g}).String()
				}
			}
			var got Partition
			for _, g := range Layout(app, PartitionSetup(app, p, fusionsim.NewTraceName("p"))) {
				for _, task := range g.Tasks {
					if group[task] != group[g.Entry] {
						t.Errorf("%s: partition %s: function %s runs %s of another group", tc.workload, p, g.Entry, task)
					}
				}
				if (Partition{g.Tasks}).String() == group[g.Entry] {
					got = append(got, g.Tasks)
				}
			}
			if got.String() != p.String() {
				t.Errorf("%s: partition %s deploys %s", tc.workload, p, got)
			}
		}
	}
}

// TestRuleSetupsIoT: 1024 assignments of IoT's 10 edges give 896 distinct
// rule setups: with CT and CA both inlined into I, the two async calls to AS
// share one rule of I's table.
func TestRuleSetupsIoT(t *testing.T) {
	app := workload(t, "iot").App
	rules, n, err := RuleSetups(app)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1024 || len(rules) != 896 {
		t.Errorf("%d assignments, %d rule setups; want 1024, 896", n, len(rules))
	}
	found := false
	for _, s := range rules {
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		if Describe(app, s) == "I+CW+SE:128,CT:128,CS+CSL+CSA:128,CA+DJ:128,AS:128" {
			found = true
		}
	}
	if !found {
		t.Error("the prototype's grouping I+CW+SE, CS+CSL+CSA, CA+DJ, CT, AS is not among the rule setups")
	}
}

// TestSweepEmulatorDeterministic: on the emulator, the sweep's figures do not
// depend on the number of workers.
func TestSweepEmulatorDeterministic(t *testing.T) {
	w := workload(t, "split")
	arr, err := load.Constant(10, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ev := &EmulatorEvaluator{App: w.App, Arrivals: arr}
	var runs [][]Point
	for _, workers := range []int{1, 3} {
		sw := &Sweep{App: w.App, MemorySizesMB: []int{128, 1536}, Seed: 42, Evaluator: ev, Workers: workers}
		res, err := sw.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Points) != 128 || len(res.Front) == 0 {
			t.Fatalf("%d points, front of %d", len(res.Points), len(res.Front))
		}
		runs = append(runs, res.Points)
	}
	for i := range runs[0] {
		for _, r := range runs[1:] {
			if r[i].Metrics != runs[0][i].Metrics {
				t.Fatalf("point %d (%s): %+v vs %+v", i, r[i].Label, r[i].Metrics, runs[0][i].Metrics)
			}
		}
	}
	p := runs[0][0]
	if p.Requests != 20 || p.Errors != 0 || p.Invocations != 20*7 || !(p.MedianLatencyMs > 1000) || !(p.CostPerRequestUSD > 0) {
		t.Errorf("all-remote split at 128 MB: %+v", p.Metrics)
	}
}

func TestParetoAndDistance(t *testing.T) {
	pt := func(label string, lat, cost float64) Point {
		return Point{Label: label, Metrics: Metrics{Requests: 1, MedianLatencyMs: lat, CostPerRequestUSD: cost}}
	}
	ps := []Point{pt("a", 10, 5), pt("b", 5, 10), pt("c", 10, 10), pt("d", 7, 7), pt("e", 5, 10), {Label: "f", Metrics: Metrics{Requests: 1, Errors: 1, MedianLatencyMs: 1, CostPerRequestUSD: 1}}}
	var labels []string
	for _, p := range ParetoFront(ps) {
		labels = append(labels, p.Label)
	}
	if got := strings.Join(labels, " "); got != "b e d a" {
		t.Errorf("front %q, want \"b e d a\"", got)
	}
	d, ok := DistanceTo(pt("x", 8, 7.7), ParetoFront(ps))
	if !ok || d.Nearest.Label != "d" || d.SlowerPct < 14.28 || d.SlowerPct > 14.29 || d.CostlierPct < 9.99 || d.CostlierPct > 10.01 {
		t.Errorf("distance %+v", d)
	}
	if d, _ := DistanceTo(pt("on", 7, 7), ParetoFront(ps)); d.SlowerPct != 0 || d.CostlierPct != 0 {
		t.Errorf("a front point's distance %+v", d)
	}
}

// records gives every trial root records with a median billed duration.
func fakeTrial(name string, s *fusionsim.Setup, billed int64) Trial {
	return Trial{Name: name, Setup: s, Records: []trace.Record{{CurrentFunction: "A", IsRootInvocation: true, BilledDuration: billed, MemoryAvail: "128"}}}
}

// TestListSearches: partitions, exhaustive and random propose untried
// setups with increasing names, respect their budgets, and end on the best
// trial.
func TestListSearches(t *testing.T) {
	app := workload(t, "split").App
	sec := int64(1000)
	clock := func() time.Time { sec += 7; return time.Unix(sec, 0) }
	for _, opt := range []Optimizer{
		&PartitionSearch{App: app, Clock: clock, MaxIterations: 10},
		&ExhaustiveSearch{App: app, MemorySizesMB: []int{128, 1024}, Clock: clock, MaxIterations: 10},
		&RandomSearch{App: app, MemorySizesMB: []int{128, 1024}, Budget: 10, Seed: 3, Clock: clock},
	} {
		var hist []Trial
		keys := map[string]bool{}
		for i := 0; ; i++ {
			d, err := opt.Next(context.Background(), hist)
			if err != nil {
				t.Fatal(err)
			}
			if d.Done {
				if i != 10 {
					t.Errorf("%s: done after %d iterations (%s)", opt.Name(), i, d.Reason)
				}
				// trial 3 had the lowest billed median (see below)
				if d.Next == nil || deploymentKey(d.Next) != deploymentKey(hist[3].Setup) || !strings.Contains(d.Reason, hist[3].Name) {
					t.Errorf("%s: final %v, reason %s", opt.Name(), d.Next, d.Reason)
				}
				break
			}
			k := deploymentKey(d.Next)
			if keys[k] {
				t.Fatalf("%s: proposes %s twice", opt.Name(), Describe(app, d.Next))
			}
			keys[k] = true
			if len(hist) > 0 && !(d.Next.Name() > hist[len(hist)-1].Name) {
				t.Errorf("%s: name %s after %s", opt.Name(), d.Next.Name(), hist[len(hist)-1].Name)
			}
			billed := int64(100 + i)
			if i == 3 || i == 7 {
				billed = 50 // a tie: the earlier one wins
			}
			hist = append(hist, fakeTrial(d.Next.Name(), d.Next, billed))
		}
	}
	names := []string{}
	for _, p := range []Optimizer{&PartitionSearch{}, &ExhaustiveSearch{}, &RandomSearch{}, &Fusionize{}} {
		names = append(names, p.Name())
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "exhaustive,fusionize,partitions,random" {
		t.Error(names)
	}
}

// TestMemoryVariants: one size for all functions, or every combination over
// the functions the setup deploys, each reaching its function by every rule.
func TestMemoryVariants(t *testing.T) {
	app := workload(t, "split").App
	s := PartitionSetup(app, Partition{{"A", "B", "D", "E"}, {"C"}, {"F"}, {"G"}}, fusionsim.NewTraceName("p"))
	uniform := MemoryVariants(app, s, []int{128, 1024}, false)
	if len(uniform) != 2 || Describe(app, uniform[1]) != "A+B+D+E:1024,C:1024,F:1024,G:1024" {
		t.Errorf("uniform: %d, %s", len(uniform), Describe(app, uniform[1]))
	}
	per := MemoryVariants(app, s, []int{128, 1024, 1536}, true)
	seen := map[string]bool{}
	for _, v := range per {
		d := Describe(app, v)
		seen[d] = true
		if got := v.Rules["G"]["C"].Sync.URL; !strings.HasPrefix(got, "SYNC-C-") {
			t.Errorf("%s: rules[G][C].sync.url %q has no size", d, got)
		}
	}
	if len(per) != 81 || len(seen) != 81 || !seen["A+B+D+E:1536,C:128,F:1024,G:1536"] {
		t.Errorf("per function: %d variants, %d distinct", len(per), len(seen))
	}
	sw := &Sweep{App: workload(t, "iot").App, MemorySizesMB: IoTMemorySizesMB, PerFunctionMemory: true}
	if _, _, _, err := sw.Setups(); err == nil || !strings.Contains(err.Error(), "more than 200000 setups") {
		t.Errorf("IoT per function at 6 sizes: %v", err)
	}
}
