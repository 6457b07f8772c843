package load

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/fusionsim/fusionsim"
)

// routeAt gives every entry task its sync or async route at mb MB.
func routeAt(mb int) RouteFunc {
	return func(task string, sync bool) (fusionsim.Route, error) {
		return fusionsim.Route{Task: task, MemoryMB: mb, Sync: sync}, nil
	}
}

func readTestScenario(t *testing.T, name string) *Scenario {
	t.Helper()
	s, err := ReadScenarioFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The webshop's load file: what it says, and its arrivals: 5 setup requests
// in a chain, then 333 iterations (3/s for 111 s) of three requests, each
// iteration's first request 1/3 s after the previous one's, counted from
// the setup's last response and drawing on one pool of 200 users.
func TestWebshopScenario(t *testing.T) {
	s := readTestScenario(t, "webshop.yaml")
	if s.Executor != ExecutorConstant || s.RatePerS != 3 || s.Duration != 111*time.Second || s.MaxVUs != 200 || s.PreAllocatedVUs != 200 {
		t.Fatalf("scenario %+v", s)
	}
	if k := s.Kinds(); !reflect.DeepEqual(k, []string{"addcartitem", "get", "checkout"}) {
		t.Errorf("kinds %v", k)
	}
	if len(s.Setup) != 1 || s.Setup[0].Repeat != 5 || s.Setup[0].Line != 13 || s.Iteration[2].Line != 29 {
		t.Errorf("requests: setup %+v, lines %d, %d", s.Setup, s.Setup[0].Line, s.Iteration[2].Line)
	}
	arr, err := s.Arrivals(1, routeAt(128))
	if err != nil {
		t.Fatal(err)
	}
	if len(arr) != 5+333*3 {
		t.Fatalf("%d arrivals, want 5 + 333*3", len(arr))
	}
	if err := fusionsim.CheckArrivals(arr); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		a := arr[i]
		if a.Follows != i || a.VUs != nil || a.Kind != "addcartitem" || a.Route.String() != "SYNC-addcartitem-128" || a.Event.Int("userId", -1) != 0 {
			t.Errorf("setup request %d: %+v", i, a)
		}
	}
	pool := arr[5].VUs
	if pool == nil || *pool != (fusionsim.VUPool{PreAllocatedVUs: 200, MaxVUs: 200}) {
		t.Fatalf("pool %+v", pool)
	}
	for k := range 333 {
		i := 5 + 3*k
		first, get, checkout := arr[i], arr[i+1], arr[i+2]
		// k/3 s, rounded to the ns as Constant rounds.
		if want := time.Duration(float64(k) * 1e9 / 3); first.At-want > 1 || want-first.At > 1 || first.Follows != 5 || first.VUs != pool {
			t.Fatalf("iteration %d: first request %+v", k, first)
		}
		if get.Follows != i+1 || checkout.Follows != i+2 || get.VUs != nil || get.At != 0 || get.Route.String() != "SYNC-frontend-128" {
			t.Fatalf("iteration %d: %+v / %+v", k, get, checkout)
		}
		if first.EventFor == nil || get.EventFor == nil || first.Event != nil {
			t.Fatalf("iteration %d: bodies with the user's number need EventFor", k)
		}
		ev := first.EventFor(17)
		item, q := ev.String("itemId"), ev.Int("quantity", 0)
		if ev.Int("userId", -1) != 17 || q < 1 || q > 20 || !strings.Contains(" 1 2 3 4 5 6 7 8 9 10 11 ", " "+item+" ") {
			t.Fatalf("iteration %d: addcartitem body %v", k, ev)
		}
		if g := get.EventFor(3); g.String("operation") != "get" || g.Int("userId", -1) != 3 || g.String("currency") != "USD" {
			t.Fatalf("get body %v", g)
		}
		if c := checkout.EventFor(3); c.String("operation") != "checkout" {
			t.Fatalf("checkout body %v", c)
		}
	}
	// A new map on each call, the same draws.
	a, b := arr[5].EventFor(1), arr[5].EventFor(1)
	a["x"] = 1
	if _, ok := b["x"]; ok || a["itemId"] != b["itemId"] {
		t.Errorf("EventFor shares or redraws: %v, %v", a, b)
	}
}

// Bodies are drawn from the seed: the same seed gives the same bodies,
// another seed others; $int covers its range, $pick its list, uniformly
// enough to see every value; $iteration counts the iterations.
func TestScenarioDraws(t *testing.T) {
	s := mustDecode(t, `
executor: constant-arrival-rate
rate_per_s: 100
duration_s: 10
max_vus: 5
iteration:
  - entry: A
    body:
      n: {$int: [-2, 2]}
      c: {$pick: [x, {y: {$iteration: string}}, [1, 2]]}
      it: {$iteration: int}
      s: {$user: string}
`)
	draw := func(seed uint64) []fusionsim.Event {
		arr, err := s.Arrivals(seed, routeAt(0))
		if err != nil {
			t.Fatal(err)
		}
		out := make([]fusionsim.Event, len(arr))
		for i, a := range arr {
			out[i] = a.EventFor(i % 5)
		}
		return out
	}
	// Without pre_allocated_vus, all max_vus users are pre-allocated.
	if arr, _ := s.Arrivals(1, routeAt(0)); *arr[0].VUs != (fusionsim.VUPool{PreAllocatedVUs: 5, MaxVUs: 5}) || s.PreAllocatedVUs >= 0 {
		t.Errorf("default pool %+v (PreAllocatedVUs %d)", *arr[0].VUs, s.PreAllocatedVUs)
	}
	one, again, other := draw(1), draw(1), draw(2)
	if len(one) != 1000 || !reflect.DeepEqual(one, again) {
		t.Fatal("the same seed drew different bodies")
	}
	if reflect.DeepEqual(one, other) {
		t.Error("seeds 1 and 2 drew the same bodies")
	}
	ns, cs := map[int]int{}, map[string]int{}
	for i, ev := range one {
		ns[ev.Int("n", 99)]++
		cs[fmt.Sprint(ev["c"])]++
		if ev.Int("it", -1) != i || ev.String("s") != fmt.Sprint(i%5) {
			t.Fatalf("body %d: %v", i, ev)
		}
		if m, ok := ev["c"].(map[string]any); ok && m["y"] != fmt.Sprint(i) {
			t.Fatalf("body %d: nested $iteration %v", i, m)
		}
	}
	for n := -2; n <= 2; n++ {
		if ns[n] < 150 {
			t.Errorf("$int [-2, 2] drew %d %d times in 1000 (%v)", n, ns[n], ns)
		}
	}
	if len(ns) != 5 || cs["x"] < 280 || cs["[1 2]"] < 280 {
		t.Errorf("draws: %v, %v", ns, cs)
	}
}

// A ramping scenario starts its iterations on load.Ramping's schedule; a
// scenario without a setup phase starts them from the start of the run.
func TestScenarioRamping(t *testing.T) {
	s := mustDecode(t, `
executor: ramping-arrival-rate
start_rate_per_s: 0
stages: [{target_per_s: 10, duration_s: 2}, {target_per_s: 10, duration_s: 1}]
max_vus: 3
pre_allocated_vus: 1
iteration: [{entry: A, sync: false}]
`)
	arr, err := s.Arrivals(1, routeAt(256))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Ramping(0, []Stage{{10, 2 * time.Second}, {10, time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if len(arr) != len(want) || len(arr) != 20 {
		t.Fatalf("%d arrivals, want %d (= 10 + 10)", len(arr), len(want))
	}
	for i := range arr {
		if arr[i].At != want[i].At || arr[i].Follows != 0 || arr[i].Route.String() != "A-256" || *arr[i].VUs != (fusionsim.VUPool{PreAllocatedVUs: 1, MaxVUs: 3}) {
			t.Fatalf("arrival %d: %+v, want at %v", i, arr[i], want[i].At)
		}
	}
}

func mustDecode(t *testing.T, text string) *Scenario {
	t.Helper()
	s, err := ReadScenario(strings.NewReader(text), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Bad input: the error names the file, the line and the field.
func TestScenarioErrors(t *testing.T) {
	head := "executor: constant-arrival-rate\nrate_per_s: 3\nduration_s: 10\nmax_vus: 2\n"
	for _, c := range []struct{ text, want string }{
		{"", "test.yaml: empty"},
		{"[1, 2]", "test.yaml:1: : want a mapping, got a list"},
		{head + "iteration: [{entry: A}]\nbogus: 1\n", "test.yaml:6: bogus: unknown field"},
		{head + "iteration: [{entry: A}]\nmax_vus: 3\n", "test.yaml:6: max_vus: duplicate key (first on line 4)"},
		{"executor: constant-arrival-rate\nrate_per_s: 3\nduration_s: 111s\nmax_vus: 2\niteration: [{entry: A}]\n", `test.yaml:3: duration_s: "111s" is not a number (the unit is in the field's name`},
		{"executor: constant-arrival-rate\nrate_per_s: 0\nduration_s: 1\nmax_vus: 2\niteration: [{entry: A}]\n", "test.yaml:2: rate_per_s: 0 must be a finite number > 0"},
		{"executor: constant-arrival-rate\nrate_per_s: .nan\nduration_s: 1\nmax_vus: 2\niteration: [{entry: A}]\n", `test.yaml:2: rate_per_s: ".nan" is not a finite number`},
		{"executor: constant-arrival-rate\nrate_per_s: 1\nduration_s: -1\nmax_vus: 2\niteration: [{entry: A}]\n", "test.yaml:3: duration_s: -1 s must be 0.."},
		{"executor: constant-arrival-rate\nrate_per_s: 1\nmax_vus: 2\niteration: [{entry: A}]\n", "test.yaml:1: duration_s: missing: executor constant-arrival-rate needs rate_per_s and duration_s"},
		{"executor: closed\nmax_vus: 1\niteration: [{entry: A}]\n", `test.yaml:1: executor: "closed" is neither`},
		{"executor: ramping-arrival-rate\nrate_per_s: 1\nmax_vus: 1\niteration: [{entry: A}]\n", "test.yaml:2: rate_per_s: does not apply to executor ramping-arrival-rate (it takes stages)"},
		{"executor: ramping-arrival-rate\nstages: [{target_per_s: -1, duration_s: 1}]\nmax_vus: 1\niteration: [{entry: A}]\n", "test.yaml:2: stages[0].target_per_s: -1 must be a finite number >= 0"},
		{"executor: ramping-arrival-rate\nstages: [{target_per_s: 1}]\nmax_vus: 1\niteration: [{entry: A}]\n", "test.yaml:2: stages[0]: want target_per_s and duration_s"},
		{head + "iteration: []\n", "test.yaml:5: iteration: empty"},
		{"executor: constant-arrival-rate\nrate_per_s: 3\nduration_s: 10\niteration: [{entry: A}]\n", "test.yaml:1: max_vus: missing"},
		{"executor: constant-arrival-rate\nrate_per_s: 3\nduration_s: 10\nmax_vus: 0\niteration: [{entry: A}]\n", "test.yaml:4: max_vus: 0 must be 1.."},
		{head + "pre_allocated_vus: 3\niteration: [{entry: A}]\n", "test.yaml:5: pre_allocated_vus: 3 must be 0..max_vus (2)"},
		{head + "iteration:\n  - kind: a\n", "test.yaml:6: iteration[0].entry: missing"},
		{head + "iteration:\n  - entry: A-1\n", `test.yaml:6: iteration[0].entry: task name "A-1": character '-' not allowed`},
		{head + "iteration:\n  - entry: A\n    kind: all\n", `test.yaml:7: iteration[0].kind: kind "all" is reserved`},
		{head + "iteration:\n  - entry: A\n    pause_s: 1\n", "test.yaml:7: iteration[0].pause_s: the first request of an iteration is sent when the iteration starts"},
		{head + "iteration:\n  - entry: A\n  - entry: B\n    sync: yes please\n", `test.yaml:8: iteration[1].sync: "yes please" is not true or false`},
		{head + "iteration:\n  - entry: A\n    repeat: 0\n", "test.yaml:7: iteration[0].repeat: 0 must be 1.."},
		{head + "iteration:\n  - entry: A\n    body: [1]\n", "test.yaml:7: iteration[0].body: a request body is a mapping"},
		{head + "iteration:\n  - entry: A\n    body: {n: {$rand: 1}}\n", "test.yaml:7: iteration[0].body.n.$rand: unknown directive"},
		{head + "iteration:\n  - entry: A\n    body: {n: {$int: [5, 1]}}\n", "test.yaml:7: iteration[0].body.n.$int: min 5 > max 1"},
		{head + "iteration:\n  - entry: A\n    body: {n: {$int: [1, x]}}\n", `test.yaml:7: iteration[0].body.n.$int[1]: "x" is not an integer`},
		{head + "iteration:\n  - entry: A\n    body: {n: {$pick: []}}\n", "test.yaml:7: iteration[0].body.n.$pick: nothing to pick from"},
		{head + "iteration:\n  - entry: A\n    body: {n: {$user: float}}\n", "test.yaml:7: iteration[0].body.n.$user: want int or string"},
		{head + "iteration:\n  - entry: A\n    body: {n: {$user: int, x: 1}}\n", "iteration[0].body.n.$user: a directive ($pick, $int, $user, $iteration) is the only key"},
		{head + "iteration:\n  - entry: A\n    body: {n: .inf}\n", "test.yaml:7: iteration[0].body.n: .inf is not a finite number"},
		{head + "setup:\n  - entry: A\n    body: {n: {$iteration: int}}\niteration: [{entry: A}]\n", "test.yaml:7: setup[0].body.n.$iteration: the setup phase has no iteration number"},
		{head + "iteration: [{entry: A}]\n---\nmax_vus: 1\n", "test.yaml:6: a second YAML document"},
		{head + "iteration: [{entry: A}]\nname: [x]\n", "test.yaml:6: name: a list is not a string"},
	} {
		_, err := ReadScenario(strings.NewReader(c.text), "test.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrBadLoad) {
			t.Errorf("%q:\n got %v\nwant %q", c.text, err, c.want)
		}
	}
	// Nested aliases cannot blow a small file up.
	bomb := "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	text := head + "iteration:\n  - entry: A\n    body:\n      " + strings.ReplaceAll(bomb, "\n", "\n      ") + "f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	if _, err := ReadScenario(strings.NewReader(text), "test.yaml"); err == nil || !strings.Contains(err.Error(), "more than 100000 values") {
		t.Errorf("alias bomb: %v", err)
	}
}

// An application checks the entry tasks; the error names the request's line.
func TestScenarioCheckApp(t *testing.T) {
	s := readTestScenario(t, "webshop.yaml")
	app := &fusionsim.App{Name: "shop", Entry: "frontend", Tasks: map[string]fusionsim.Task{"frontend": nil}}
	err := s.CheckApp(app)
	if err == nil || !strings.Contains(err.Error(), `testdata/webshop.yaml:13: setup[0].entry: "addcartitem" is not a task of shop (tasks: frontend)`) {
		t.Errorf("CheckApp: %v", err)
	}
	app.Tasks["addcartitem"] = nil
	if err := s.CheckApp(app); err != nil {
		t.Error(err)
	}
}

// DecodeScenario takes the load: node of an application file, with the
// file's line numbers; the scenario written as JSON reads back the same.
func TestDecodeScenarioNode(t *testing.T) {
	app := `name: myapp
tasks: {}
load:
  executor: constant-arrival-rate
  rate_per_s: 2
  duration_s: 5
  max_vus: 1
  iteration:
    - entry: A
      pause_s: 0
    - entry: B
      pause_s: 0.25
      body: {k: {$pick: [1, "2", null, true, 1.5]}}
`
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(app), &doc); err != nil {
		t.Fatal(err)
	}
	var node *yaml.Node
	root := doc.Content[0]
	for i := 0; i < len(root.Content); i += 2 {
		if root.Content[i].Value == "load" {
			node = root.Content[i+1]
		}
	}
	s, err := DecodeScenario(node, "myapp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Iteration[1].Line != 11 || s.Iteration[1].Pause != 250*time.Millisecond || s.File != "myapp.yaml" {
		t.Errorf("decoded %+v", s.Iteration[1])
	}
	node.Content[3].Value = "0" // rate_per_s: 0
	if _, err := DecodeScenario(node, "myapp.yaml"); err == nil || !strings.Contains(err.Error(), "myapp.yaml:5: rate_per_s: 0 must be") {
		t.Errorf("bad rate in the app file: %v", err)
	}
	// As a field of the application file: the errors name it, with the
	// line and column of the bad value.
	_, err = DecodeScenarioIn(node, "myapp.yaml", "load")
	var de *DecodeError
	if !errors.As(err, &de) || de.Line != 5 || de.Column != 15 || de.Field != "load.rate_per_s" || !errors.Is(err, ErrBadLoad) ||
		!strings.Contains(err.Error(), "myapp.yaml:5: load.rate_per_s: 0 must be") {
		t.Errorf("bad rate in the app file's load: %#v %v", de, err)
	}
	node.Content[3].Value = "2"
	node.Content[9].Content[1].Content[3].Value = "-1" // iteration[1].pause_s
	if _, err := DecodeScenarioIn(node, "myapp.yaml", "load"); !errors.As(err, &de) || de.Line != 12 || de.Field != "load.iteration[1].pause_s" {
		t.Errorf("bad pause in the app file's load: %v", err)
	}
	node.Content[9].Content[1].Content[3].Value = "0.25"
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadScenario(strings.NewReader(string(js)), "myapp.yaml")
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	if !sameScenario(s, back) {
		t.Errorf("JSON round trip:\n%s\n%+v\n%+v", js, s, back)
	}
}

// sameScenario compares two scenarios but for the requests' lines.
func sameScenario(a, b *Scenario) bool {
	strip := func(s *Scenario) Scenario {
		c := *s
		c.Setup, c.Iteration = nil, nil
		for _, r := range s.Setup {
			r.Line = 0
			c.Setup = append(c.Setup, r)
		}
		for _, r := range s.Iteration {
			r.Line = 0
			c.Iteration = append(c.Iteration, r)
		}
		return c
	}
	return reflect.DeepEqual(strip(a), strip(b))
}
