package appfile

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/workloads"
)

// TestBuiltins: every built-in file reads, Get finds Go workloads first
// and files for the other names, Resolve takes a name or a file.
func TestBuiltins(t *testing.T) {
	if got := workloads.FileNames(); !reflect.DeepEqual(got, []string{"iot", "sieve", "split", "splittest", "webshop"}) {
		t.Errorf("built-in files %v", got)
	}
	for _, n := range workloads.FileNames() {
		if _, err := Builtin(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if got := Names(); !reflect.DeepEqual(got, []string{"iot", "sieve", "split", "splittest", "webshop"}) {
		t.Errorf("names %v", got)
	}
	if len(All()) != 5 {
		t.Errorf("All: %d workloads", len(All()))
	}
	w, err := Get("iot")
	if err != nil || w.File != "" {
		t.Errorf("Get(iot) runs the Go code: file %q, %v", w.File, err)
	}
	if _, err := Get("nope"); !errors.Is(err, workloads.ErrUnknownWorkload) || !strings.Contains(err.Error(), "--app FILE") {
		t.Errorf("Get(nope): %v", err)
	}
	if _, err := Builtin("../iot"); err == nil {
		t.Error("Builtin reads a path")
	}
	w, spec, err := Resolve("", "testdata/minishop.yaml")
	if err != nil || spec == nil || w.Name() != "minishop" || w.File != "testdata/minishop.yaml" {
		t.Errorf("Resolve(file): %v %v %v", w.Name(), spec, err)
	}
	if w, spec, err := Resolve("split", ""); err != nil || spec != nil || w.File != "" || w.Name() != "split" {
		t.Errorf("Resolve(split): the Go workload, no spec: %q %v %v", w.File, spec, err)
	}
	if _, _, err := Resolve("iot", "x.yaml"); err == nil {
		t.Error("Resolve with both a name and a file")
	}
	if _, _, err := Resolve("", ""); err == nil || !strings.Contains(err.Error(), "--workload NAME (iot, sieve, split, splittest, webshop)") {
		t.Errorf("Resolve with neither: %v", err)
	}
	if _, _, err := Resolve("", "testdata/none.yaml"); err == nil || !strings.Contains(err.Error(), "none.yaml") {
		t.Errorf("a missing file: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxFileBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(big); err == nil || !strings.Contains(err.Error(), "more than 1048576 bytes") {
		t.Errorf("a file too big: %v", err)
	}
}

// emulate runs one request to the default entry of w under its remote
// setup and returns the response.
func emulate(t *testing.T, w workloads.Workload, ev fusionsim.Event) fusionsim.Response {
	t.Helper()
	em, err := emulator.New(emulator.Config{App: w.App, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	s, err := workloads.Remote(w.App, "r", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := em.Deploy(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	rt, _ := workloads.EntryRoute(w.App, s)
	resps, err := em.Run(context.Background(), rt, []fusionsim.Arrival{{Event: ev}})
	if err != nil {
		t.Fatal(err)
	}
	return resps[0]
}

// TestWithGoTasks: a Go task takes the place of a file's task, with the
// calls it makes in the call graph.
func TestWithGoTasks(t *testing.T) {
	spec, err := ReadFile("testdata/minishop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := spec.Workload()
	conv := func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
		if _, err := ctx.Call("email", fusionsim.Event{}, false); err != nil {
			return nil, err
		}
		return fusionsim.Event{"converted": strings.ToUpper(in.String("product"))}, nil
	}
	g, err := WithGoTasks(w, map[string]fusionsim.Task{"currency": conv}, []fusionsim.Edge{{Caller: "currency", Called: "email", Sync: false}})
	if err != nil {
		t.Fatal(err)
	}
	var edges []string
	for _, e := range g.App.Edges {
		edges = append(edges, e.String())
	}
	if want := "frontend->listproducts(sync) frontend->currency(sync) frontend->getcart(sync) frontend->checkout(async) addcartitem->cartkvstorage(async) getcart->cartkvstorage(sync) checkout->getcart(sync) checkout->currency(sync) checkout->email(async) checkout->emptycart(async) emptycart->cartkvstorage(async) currency->email(async)"; strings.Join(edges, " ") != want {
		t.Errorf("edges %s", strings.Join(edges, " "))
	}
	if w.App.Tasks["currency"] == nil || reflect.ValueOf(w.App.Tasks["currency"]).Pointer() == reflect.ValueOf(conv).Pointer() {
		t.Error("WithGoTasks changed the workload it was given")
	}
	r := emulate(t, g, fusionsim.Event{"operation": "get", "userId": 1})
	if r.Err != nil || r.Result["products"] != 11 {
		t.Fatalf("get with Go currency: %+v", r)
	}
	if _, err := WithGoTasks(w, map[string]fusionsim.Task{"currency": conv}, []fusionsim.Edge{{Caller: "frontend", Called: "email"}}); err == nil {
		t.Error("a call of a task that is not Go code")
	}
	if _, err := WithGoTasks(w, map[string]fusionsim.Task{"currency": conv}, []fusionsim.Edge{{Caller: "currency", Called: "nowhere"}}); err == nil {
		t.Error("a call to an unknown task")
	}
}

// TestStepsAtRunTime: results of fan-outs and started steps, parallel
// branches, return, and the errors of values that are wrong only when the
// step runs (a function error naming the file, line and field).
func TestStepsAtRunTime(t *testing.T) {
	spec, err := Parse("run.yaml", []byte(`name: run
entry: A
tables: [T]
tasks:
  A:
    steps:
      - {call: B, sync: true, count: 3, event: {i: $index}, as: bs}
      - {put: T, key: 5, message: five, start: true}
      - wait
      - {get: T, key: 5, as: item}
      - {get: T, key: 6, as: none}
      - parallel:
          - {call: B, sync: true, event: {i: 10}, as: ten}
          - do:
              - sleep_ms: 1
              - set: {inner: 1}
          - {query: T, key: 5, as: q}
      - if: "${event.bad == 'key'}"
        then: [{put: T, key: $event.k}]
      - if: "${event.bad == 'sleep'}"
        then: [{sleep_ms: $event.k}]
      - if: "${event.bad == 'count'}"
        then: [{call: B, sync: false, count: $event.k}]
      - if: "${event.bad == 'fail'}"
        then: [{fail: "failing on purpose: ${event.k}"}]
      - if: "${event.bad == 'return'}"
        then: [{return: {early: true}}]
    response: {bs: $bs, item: $item, none: "${defined(none)}", ten: $ten.i, inner: "${defined(inner)}", q: "${len(q)}"}
  B:
    response: {i: $event.i}
`))
	if err != nil {
		t.Fatal(err)
	}
	w := spec.Workload()
	r := emulate(t, w, nil)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	got, _ := jsonString(r.Result)
	if want := `{"bs":[{"i":0},{"i":1},{"i":2}],"inner":false,"item":{"key":5,"message":"five"},"none":false,"q":1,"ten":10}`; got != want {
		t.Errorf("result\n  %s\nwant\n  %s", got, want)
	}
	for _, c := range []struct {
		ev   fusionsim.Event
		want string
	}{
		{fusionsim.Event{"bad": "key", "k": "x"}, `run.yaml:19: tasks.A.steps[6].then[0].key: the key "x" is not a number`},
		{fusionsim.Event{"bad": "sleep", "k": -4}, `run.yaml:21: tasks.A.steps[7].then[0].sleep_ms: -4 is not a number >= 0 (milliseconds)`},
		{fusionsim.Event{"bad": "count", "k": 1e9}, `run.yaml:23: tasks.A.steps[8].then[0].count: a fan-out of 1000000000 copies: at most 100000`},
		{fusionsim.Event{"bad": "fail", "k": 3}, `failing on purpose: 3`},
	} {
		r := emulate(t, w, c.ev)
		if r.Err == nil || !strings.Contains(r.Err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.ev, r.Err, c.want)
		}
	}
	r = emulate(t, w, fusionsim.Event{"bad": "return"})
	if got, _ := jsonString(r.Result); r.Err != nil || got != `{"early":true}` {
		t.Errorf("return: %s %v", got, r.Err)
	}
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// TestBurnKernel: with --execute-work a work step with a burn kernel runs
// the prototype's burn loop on each thread (workloads.Burn), its as:
// variable the sum; without, it is 0 and the time is modeled the same.
func TestBurnKernel(t *testing.T) {
	spec, err := Parse("burn.yaml", []byte("name: b\nentry: A\nwork:\n  small: {vcpu_ms: 5, threads: 2, kernel: {burn: 3.5}}\ntasks:\n  A:\n    steps: [{work: small, as: sum}]\n    response: {sum: $sum}\n"))
	if err != nil {
		t.Fatal(err)
	}
	w := spec.Workload()
	for _, execute := range []bool{false, true} {
		em, err := emulator.New(emulator.Config{App: w.App, Seed: 1, ExecuteWork: execute})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := workloads.Remote(w.App, "r", 0)
		if err := em.Deploy(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		resps, err := em.Run(context.Background(), fusionsim.Route{Task: "A", Sync: true}, []fusionsim.Arrival{{}})
		em.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := 0.0
		if execute {
			want = 2 * workloads.Burn(3.5)
		}
		if got := resps[0].Result["sum"]; got != want || want == 0 && execute {
			t.Errorf("execute %v: sum %v, want %v", execute, got, want)
		}
	}
}

// TestSieveKernel: a work descriptor may stand for the prototype's plain
// sieve (kernel: {sieve: N}) with figures of its own; with --execute-work
// the sieve runs and as: gets the number of primes, without it 0, and the
// modeled time is the descriptor's either way.
func TestSieveKernel(t *testing.T) {
	spec, err := Parse("sieve.yaml", []byte("name: s\nentry: A\nwork:\n  s: {vcpu_ms: 18, memory_mb: 30, kernel: {sieve: 500000}}\ntasks:\n  A:\n    steps: [{work: s, as: primes}]\n    response: {primes: $primes}\n"))
	if err != nil {
		t.Fatal(err)
	}
	w := spec.Workload()
	var took []time.Duration
	for _, execute := range []bool{false, true} {
		em, err := emulator.New(emulator.Config{App: w.App, Seed: 1, ExecuteWork: execute, Profile: model.Default()})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := workloads.Remote(w.App, "r", 1769)
		if err := em.Deploy(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		resps, err := em.Run(context.Background(), fusionsim.Route{Task: "A", MemoryMB: 1769, Sync: true}, []fusionsim.Arrival{{}})
		em.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if execute {
			want = 41538 // primes up to 500,000
		}
		if got := resps[0].Result["primes"]; got != want {
			t.Errorf("execute %v: primes %v, want %v", execute, got, want)
		}
		took = append(took, resps[0].Received.Sub(resps[0].Sent))
	}
	if took[0] != took[1] {
		t.Errorf("the modeled time depends on executing the sieve: %v and %v", took[0], took[1])
	}
}
