package appfile

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/experiment"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/optimizer"
	"github.com/fusionsim/fusionsim/workloads"
)

// run is one closed loop on the emulator, written down completely: every
// log line (timestamps, durations, billed ms, memory), every trace record,
// every summary row and every response the client saw, with its body.
func run(t *testing.T, w workloads.Workload, seed uint64, sc scenario) string {
	t.Helper()
	var b strings.Builder
	var f fusionsim.LineFormatter
	prof := model.Default()
	if sc.ownFigures {
		prof.Work = nil
	}
	em, err := emulator.New(emulator.Config{App: w.App, Seed: seed, ExecuteWork: sc.execute, Profile: prof})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	res, err := experiment.Run(context.Background(), experiment.Config{
		Platform: em, App: w.App, Planner: sc.planner(w.App),
		Load: func(*fusionsim.Setup) ([]fusionsim.Arrival, error) {
			a, err := load.Constant(10, time.Duration(sc.requests)*100*time.Millisecond)
			load.WithEvent(a, sc.event)
			return a, err
		},
		Records: func(setup string, r *fusionsim.LogRecord) {
			b.WriteString(setup + " ")
			b.Write(f.Append(nil, r))
			b.WriteByte('\n')
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range res.Iterations {
		fmt.Fprintf(&b, "iteration %s %s: %+v\n", it.Name, it.Reason, it.Row)
		recs, err := json.Marshal(it.Records)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(recs)
		b.WriteByte('\n')
		for _, r := range it.Responses {
			body, _ := json.Marshal(r.Result)
			fmt.Fprintf(&b, "%s %s %d %s %s %v\n", r.Sent.Format(time.RFC3339Nano), r.Received.Format(time.RFC3339Nano), r.StatusCode, r.RequestID, body, r.Err)
		}
	}
	fmt.Fprintf(&b, "reason: %s\n", res.Reason)
	return b.String()
}

// fixed is a planner of setups given as run --setup takes them.
func fixed(t *testing.T, specs ...string) func(*fusionsim.App) experiment.Planner {
	return func(app *fusionsim.App) experiment.Planner {
		var out []*fusionsim.Setup
		for _, sp := range specs {
			if mb, ok := strings.CutPrefix(sp, "remote@"); ok {
				var n int
				fmt.Sscan(mb, &n)
				s, err := workloads.Remote(app, workloads.SweepName(n), n)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, s)
				continue
			}
			s, err := experiment.Setups(app, []string{sp}, nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s...)
		}
		return experiment.Fixed(out)
	}
}

// fusionize is the default closed loop of "simulate run": Fusionize++.
func fusionize(t *testing.T, sizes []int) func(*fusionsim.App) experiment.Planner {
	return func(app *fusionsim.App) experiment.Planner {
		var now time.Time
		opt, err := optimizer.New("fusionize", optimizer.Config{App: app, MemorySizesMB: sizes, Seed: 1, Clock: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return &clockPlanner{Planner: &optimizer.Planner{Optimizer: opt, MaxIterations: 100}, set: func(t time.Time) { now = t }}
	}
}

// clockPlanner sets the optimizer's clock (setup names are Unix seconds on
// the platform's clock) to the end of the last iteration.
type clockPlanner struct {
	*optimizer.Planner
	set func(time.Time)
}

func (p *clockPlanner) Next(ctx context.Context, h []experiment.Iteration) (*fusionsim.Setup, bool, string, error) {
	if len(h) > 0 {
		p.set(h[len(h)-1].End)
	} else {
		p.set(emulator.DefaultEpoch)
	}
	return p.Planner.Next(ctx, h)
}

// firstDifference shows where two transcripts part.
func firstDifference(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n  Go:   %.300s\n  file: %.300s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("Go %d lines, file %d lines", len(la), len(lb))
}

// TestBuiltinFilesEqualGo runs each Go workload and its built-in file on
// the same seed and compares everything the runs write, byte for byte: log
// lines (with every duration, billed ms and memory figure), traces, summary
// rows (requests, invocations, latencies, GB-ms, cost, cold starts,
// errors) and responses with their bodies. Setups: remote, local, a mixed
// one, the remote setup at two other memory sizes, and the Fusionize++
// closed loop of "simulate run"; request bodies that take the tasks'
// optional paths (IoT's sieve, the sieve's algorithms and a bad one); the
// descriptors' own figures (no profile entries); and the real computation
// (--execute-work) of the sieve for a few requests (the burn kernel's is
// TestBurnKernel's: IoT's burns take seconds under the race detector).
// scenario is a run of TestBuiltinFilesEqualGo.
type scenario struct {
	name     string
	planner  func(*fusionsim.App) experiment.Planner
	requests int
	event    fusionsim.Event
	execute  bool
	// ownFigures runs without the default profile's work figures, so the
	// descriptors' own figures count.
	ownFigures bool
}

func TestBuiltinFilesEqualGo(t *testing.T) {
	own := func(sc scenario) scenario { sc.ownFigures = true; return sc }
	exec := func(sc scenario) scenario { sc.execute = true; return sc }
	cases := map[string][]scenario{
		"iot": {
			{name: "setups", planner: fixed(t, "remote", "local", "mixed=I+CW+SE,CS+CSL+CSA,CA+DJ:1024,CT,AS:1650", "remote@768", "remote@2048"), requests: 40},
			{name: "fusionize", planner: fusionize(t, []int{128, 1024}), requests: 20},
			{name: "sieve-body", planner: fixed(t, "remote", "local"), requests: 20, event: fusionsim.Event{"sieve": 200000}},
			own(scenario{name: "own-figures", planner: fixed(t, "remote", "local"), requests: 20}),
		},
		"split": {
			{name: "setups", planner: fixed(t, "remote", "local", "mixed=A+B+D+E,C:1024,F,G:2048", "remote@256", "remote@3008"), requests: 30},
			{name: "fusionize", planner: fusionize(t, []int{128, 2048}), requests: 10},
			own(scenario{name: "own-figures", planner: fixed(t, "remote", "local"), requests: 10}),
		},
		"splittest": {
			{name: "setups", planner: fixed(t, "remote", "remote@768", "remote@4096"), requests: 30},
			{name: "fusionize", planner: fusionize(t, []int{128, 1024, 2048}), requests: 10},
			own(scenario{name: "own-figures", planner: fixed(t, "remote@128", "remote@3008"), requests: 10}),
		},
		"sieve": {
			{name: "default-n", planner: fixed(t, "remote", "remote@256", "remote@1769"), requests: 10},
			{name: "bitpacked", planner: fixed(t, "remote@512"), requests: 10, event: fusionsim.Event{"n": 30000000, "algorithm": "bitpacked"}},
			{name: "bad-algorithm", planner: fixed(t, "remote"), requests: 3, event: fusionsim.Event{"algorithm": 5}},
			{name: "unknown-algorithm", planner: fixed(t, "remote"), requests: 3, event: fusionsim.Event{"algorithm": "wheel"}},
			exec(scenario{name: "execute-work", planner: fixed(t, "remote@1024"), requests: 2, event: fusionsim.Event{"n": 100000}}),
		},
	}
	for _, name := range []string{"iot", "split", "splittest", "sieve"} {
		t.Run(name, func(t *testing.T) {
			goW, err := workloads.Get(name)
			if err != nil {
				t.Fatal(err)
			}
			spec, err := Builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			fileW := spec.Workload()
			// The same application, seen from outside.
			ga, fa := goW.App, fileW.App
			if ga.Name != fa.Name || ga.Description != fa.Description || ga.Entry != fa.Entry || !reflect.DeepEqual(ga.EntryTasks(), fa.EntryTasks()) {
				t.Errorf("app: Go %q %q entry %v, file %q %q entry %v", ga.Name, ga.Description, ga.EntryTasks(), fa.Name, fa.Description, fa.EntryTasks())
			}
			if !reflect.DeepEqual(ga.TaskNames(), fa.TaskNames()) || !reflect.DeepEqual(ga.Edges, fa.Edges) {
				t.Errorf("graph: Go %v %v, file %v %v", ga.TaskNames(), ga.Edges, fa.TaskNames(), fa.Edges)
			}
			byName := func(d []workloads.TaskDoc) []workloads.TaskDoc {
				d = append([]workloads.TaskDoc(nil), d...)
				sort.Slice(d, func(i, j int) bool { return d[i].Name < d[j].Name })
				return d
			}
			if !reflect.DeepEqual(byName(goW.Tasks), byName(fileW.Tasks)) {
				t.Errorf("task docs:\n Go   %v\n file %v", goW.Tasks, fileW.Tasks)
			}
			if !reflect.DeepEqual(goW.MemorySizes, fileW.MemorySizes) || len(goW.Event) != len(fileW.Event) {
				t.Errorf("memory sizes %v / %v, event %v / %v", goW.MemorySizes, fileW.MemorySizes, goW.Event, fileW.Event)
			}
			for _, sc := range cases[name] {
				t.Run(sc.name, func(t *testing.T) {
					want := run(t, goW, 11, sc)
					got := run(t, fileW, 11, sc)
					if got != want {
						t.Fatalf("the file's run differs from the Go code's at %s", firstDifference(want, got))
					}
					if !strings.Contains(want, "REPORT RequestId") || !strings.Contains(want, "iteration ") {
						t.Fatalf("the run wrote no logs or iterations:\n%.500s", want)
					}
					iterations := strings.Count(want, "\niteration ")
					if sc.name == "fusionize" && iterations < 4 {
						t.Fatalf("the closed loop ran %d iterations", iterations)
					}
					if sc.execute && name == "sieve" && !strings.Contains(want, `"primes":9592`) {
						t.Fatalf("the sieve did not run for real (no 9592 primes below 100000 in the responses)")
					}
					t.Logf("%d iterations, %d bytes of logs, traces, rows and responses identical", iterations, len(want))
				})
			}
		})
	}
}
