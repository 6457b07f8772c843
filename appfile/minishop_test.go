package appfile

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/experiment"
	"github.com/fusionsim/fusionsim/optimizer"
	"github.com/fusionsim/fusionsim/workloads"
)

// TestMinishop runs the webshop-like test file on the emulator: requests to
// both entries in sequence, a branch on the operation, the fan-out per
// product, the cart table that keeps its item from one request to the
// next, the checkout's fan-out sized by what a query of the cart returned,
// and its emptying (a fan-out of deletes sized by a query).
func TestMinishop(t *testing.T) {
	spec, err := ReadFile("testdata/minishop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(spec.Entries, ","); got != "frontend,addcartitem" {
		t.Fatalf("entries %s", got)
	}
	if spec.Load == nil || spec.Load.Line != 13 {
		t.Fatalf("the load: section is not kept with its position: %+v", spec.Load)
	}
	if sc := spec.Scenario; sc == nil || strings.Join(sc.Kinds(), ",") != "add,get,checkout" || sc.Iteration[2].Line != 20 || sc.File != "testdata/minishop.yaml" {
		t.Fatalf("the load: section's scenario: %+v", sc)
	}
	w := spec.Workload()
	if err := w.App.Validate(); err != nil {
		t.Fatal(err)
	}
	var byTask = map[string]int{}
	em, err := emulator.New(emulator.Config{App: w.App, Seed: 3, Record: func(r *emulator.Record) { byTask[r.Function.Task]++ }})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	setup, err := workloads.Remote(w.App, "remote", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := em.Deploy(context.Background(), setup); err != nil {
		t.Fatal(err)
	}
	routes, err := workloads.EntryRoutes(w.App, setup)
	if err != nil || len(routes) != 2 {
		t.Fatalf("routes %v, %v", routes, err)
	}
	front, add := routes[0], routes[1]
	send := func(route fusionsim.Route, ev fusionsim.Event) fusionsim.Response {
		t.Helper()
		for k := range byTask {
			delete(byTask, k)
		}
		resps, err := em.Run(context.Background(), route, []fusionsim.Arrival{{Event: ev}})
		if err != nil {
			t.Fatal(err)
		}
		return resps[0]
	}
	count := func(want map[string]int) {
		t.Helper()
		for task, n := range want {
			if byTask[task] != n {
				t.Errorf("%d invocations of %s, want %d (all: %v)", byTask[task], task, n, byTask)
			}
		}
	}

	// An empty cart: get reaches 11 currency conversions and finds nothing.
	r := send(front, fusionsim.Event{"operation": "get", "userId": 7, "currency": "EUR"})
	if r.Err != nil || r.Result["products"] != 11 || r.Result["cart"] != 0 {
		t.Fatalf("get: %+v", r)
	}
	count(map[string]int{"frontend": 1, "listproducts": 1, "currency": 11, "getcart": 1, "cartkvstorage": 1})

	// addcartitem, the second entry, stores an item (async: the cart
	// function runs after the answer).
	r = send(add, fusionsim.Event{"userId": 7, "itemId": 3})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	count(map[string]int{"addcartitem": 1, "cartkvstorage": 1})
	if n := em.Tables().Len("Cart"); n != 1 {
		t.Fatalf("the cart holds %d items after the add", n)
	}
	if it, ok := em.Tables().Get("Cart", 7); !ok || it.Message != "item 3" {
		t.Errorf("stored %+v, %v", it, ok)
	}

	// The item is still there for the next request.
	r = send(front, fusionsim.Event{"operation": "get", "userId": 7})
	if r.Err != nil || r.Result["cart"] != 1 {
		t.Fatalf("get after the add: %+v", r)
	}

	// checkout: async from the frontend; one conversion per cart item plus
	// shipping, then the cart is emptied.
	r = send(front, fusionsim.Event{"operation": "checkout", "userId": 7})
	if r.Err != nil || r.Result["operation"] != "checkout" {
		t.Fatalf("checkout: %+v", r)
	}
	count(map[string]int{"frontend": 1, "checkout": 1, "getcart": 1, "currency": 2, "email": 1, "emptycart": 1, "cartkvstorage": 2})
	if n := em.Tables().Len("Cart"); n != 0 {
		t.Errorf("the cart holds %d items after the checkout", n)
	}
	r = send(front, fusionsim.Event{"operation": "checkout", "userId": 7})
	count(map[string]int{"currency": 1, "cartkvstorage": 2})

	// An operation no case names is a function error naming the file, line
	// and field.
	r = send(front, fusionsim.Event{"operation": "refund"})
	if r.Err == nil || !strings.Contains(r.Err.Error(), "testdata/minishop.yaml:24: tasks.frontend.steps[0].switch: event.operation is \"refund\", none of the cases get, checkout") {
		t.Errorf("unknown operation: %v", r.Err)
	}
}

// TestReadmeExample: the application file the README shows reads, and its
// requests are served without errors (the README stays true).
func TestReadmeExample(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "## Application files")
	if !ok {
		t.Fatal("the README has no section Application files")
	}
	_, block, ok := strings.Cut(after, "```yaml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml block in the README's section Application files")
	}
	if n := strings.Count(block, "\n"); n > 40 {
		t.Errorf("the README's example has %d lines; the section promises about 30", n)
	}
	spec, err := Parse("README.md", []byte(block))
	if err != nil {
		t.Fatal(err)
	}
	w := spec.Workload()
	for _, s := range []string{"remote", "inlined"} {
		em, err := emulator.New(emulator.Config{App: w.App, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		setup, err := workloads.Remote(w.App, s, 1024)
		if s == "inlined" {
			setup, err = workloads.FromDescription(w.App, s, "upload+thumbnail,tag,notify")
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := em.Deploy(context.Background(), setup); err != nil {
			t.Fatal(err)
		}
		rt, _ := workloads.EntryRoute(w.App, setup)
		arr := make([]fusionsim.Arrival, 10)
		for i := range arr {
			arr[i] = fusionsim.Arrival{At: time.Duration(i) * 100 * time.Millisecond, Event: w.Event}
		}
		resps, err := em.Run(context.Background(), rt, arr)
		em.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resps {
			if r.Err != nil && s == "remote" {
				t.Fatalf("%s: %v", s, r.Err)
			}
		}
		if s == "inlined" && (resps[0].Err == nil || !strings.Contains(resps[0].Err.Error(), "OutOfMemory")) {
			t.Errorf("the thumbnails inlined into upload at 128 MB: %v; the README says they run out of memory", resps[0].Err)
		}
	}
}

// TestMinishopClosedLoop: the Fusionize++ loop on an application with two
// entry tasks, under a load whose requests go to both (as the webshop's
// scenario does): every iteration serves every request, and the optimizer
// fuses functions of both entries' call graphs.
func TestMinishopClosedLoop(t *testing.T) {
	spec, err := ReadFile("testdata/minishop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := spec.Workload()
	em, err := emulator.New(emulator.Config{App: w.App, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	add := fusionsim.Route{Task: "addcartitem", MemoryMB: 128, Sync: true}
	load := func(s *fusionsim.Setup) ([]fusionsim.Arrival, error) {
		rts, err := workloads.EntryRoutes(w.App, s)
		if err != nil {
			return nil, err
		}
		if len(rts) == 2 {
			add = rts[1]
		}
		var arr []fusionsim.Arrival
		for i := range 15 {
			at := time.Duration(i) * 300 * time.Millisecond
			arr = append(arr,
				fusionsim.Arrival{At: at, Route: add, Event: fusionsim.Event{"userId": i, "itemId": 1}, Kind: "addcartitem"},
				fusionsim.Arrival{At: at + 100*time.Millisecond, Event: fusionsim.Event{"operation": "get", "userId": i}, Kind: "get"},
				fusionsim.Arrival{At: at + 200*time.Millisecond, Event: fusionsim.Event{"operation": "checkout", "userId": i}, Kind: "checkout"})
		}
		return arr, nil
	}
	res, err := experiment.Run(context.Background(), experiment.Config{
		Platform: em, App: w.App, Planner: fusionize(t, []int{128, 1024})(w.App), Load: load,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Iterations) < 4 {
		t.Fatalf("%d iterations", len(res.Iterations))
	}
	var last string
	for _, it := range res.Iterations {
		if it.Row.Requests != 45 || it.Row.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors", it.Name, it.Row.Requests, it.Row.Errors)
		}
		last = optimizer.Describe(w.App, it.Setup)
	}
	if !strings.HasPrefix(last, "frontend+") || !strings.Contains(last, ",addcartitem") {
		t.Errorf("the last setup deploys %s", last)
	}
	t.Logf("%d iterations; last: %s (%s)", len(res.Iterations), last, res.Reason)
}
