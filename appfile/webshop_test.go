package appfile

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// The webshop (workloads/webshop.yaml): the prototype's third application,
// whose figures webshop-notes.md reads off the real traces.

func webshop(t *testing.T) (workloads.Workload, *Spec) {
	t.Helper()
	spec, err := Builtin("webshop")
	if err != nil {
		t.Fatal(err)
	}
	w := spec.Workload()
	if err := w.App.Validate(); err != nil {
		t.Fatal(err)
	}
	return w, spec
}

// shopRequest is one request of the webshop's iteration, as its load sends
// it: kind, entry task and body.
func shopRequest(kind string, user int, item string) fusionsim.Arrival {
	rt := func(task string) fusionsim.Route { return fusionsim.Route{Task: task, MemoryMB: 128, Sync: true} }
	switch kind {
	case "addcartitem":
		return fusionsim.Arrival{Kind: kind, Route: rt("addcartitem"), Event: fusionsim.Event{"userId": user, "itemId": item, "quantity": 3}}
	case "get", "checkout":
		return fusionsim.Arrival{Kind: kind, Route: rt("frontend"), Event: fusionsim.Event{"operation": kind, "userId": user, "currency": "USD"}}
	}
	panic(kind)
}

// runShop sends arrivals one after the other (each after the previous one's
// whole tree of invocations ended) to the webshop's all-remote setup and
// returns the records extracted from the logs, by the arrival's kind.
func runShop(t *testing.T, arrivals []fusionsim.Arrival) map[string][]trace.Record {
	t.Helper()
	w, _ := webshop(t)
	setup, err := workloads.Remote(w.App, "r", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range arrivals {
		arrivals[i].AfterPrevious = i > 0
	}
	sink := emulator.NewMemorySink()
	em, err := emulator.New(emulator.Config{App: w.App, Seed: 7, Log: sink})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	ctx := context.Background()
	if err := em.Deploy(ctx, setup); err != nil {
		t.Fatal(err)
	}
	entry, err := workloads.EntryRoute(w.App, setup)
	if err != nil {
		t.Fatal(err)
	}
	resps, err := em.Run(ctx, entry, arrivals)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range resps {
		if r.Err != nil || r.StatusCode != 200 {
			t.Fatalf("request %d (%s): status %d, %v", i, arrivals[i].Kind, r.StatusCode, r.Err)
		}
	}
	var lines []fusionsim.LogLine
	if err := em.Logs(ctx, em.Epoch(), em.Now().Add(time.Second), func(l fusionsim.LogLine) error {
		lines = append(lines, l)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	x := trace.Extract(lines, trace.Options{})
	if err := x.Err(); err != nil {
		t.Fatal(err)
	}
	recs := x.Traces[setup.Name()]
	// Requests are sent one after the other: the i-th root is the i-th
	// arrival.
	kindOf := map[string]string{}
	i := 0
	for _, r := range recs {
		if r.IsRootInvocation {
			kindOf[r.TraceID] = arrivals[i].Kind
			i++
		}
	}
	if i != len(arrivals) {
		t.Fatalf("%d root records for %d requests", i, len(arrivals))
	}
	byKind := map[string][]trace.Record{}
	for _, r := range recs {
		byKind[kindOf[r.TraceID]] = append(byKind[kindOf[r.TraceID]], r)
	}
	return byKind
}

// callsOf lists the calls of records (caller->called sync|async, the
// entry task's calls to itself left out), sorted.
func callsOf(recs []trace.Record) []string {
	var out []string
	for _, r := range recs {
		for _, c := range r.Calls {
			if c.Called == r.CurrentFunction {
				continue
			}
			typ := "async"
			if c.Sync {
				typ = "sync"
			}
			out = append(out, c.Caller+"->"+c.Called+" "+typ)
		}
	}
	slices.Sort(out)
	return out
}

// TestWebshopCallGraph runs two iterations of the prototype's load in the
// all-remote setup and checks every request kind's calls against the real
// traces (webshop-notes.md): get calls currency once per product (11, the
// prototype's grouping merged them into one record), checkout once per
// cart item plus once for shipping; the entries are frontend and
// addcartitem, and App.Edges are the remote calls of the all-remote setup
// 1676375682 in the order the traces show them.
func TestWebshopCallGraph(t *testing.T) {
	w, _ := webshop(t)
	if got := strings.Join(w.App.EntryTasks(), ","); got != "frontend,addcartitem" || len(w.App.Tasks) != 17 {
		t.Errorf("entries %s, %d tasks", got, len(w.App.Tasks))
	}
	var edges []string
	for _, e := range w.App.Edges {
		edges = append(edges, e.String())
	}
	if got := strings.Join(edges, " "); got != "frontend->supportedcurrencies(sync) frontend->listproducts(sync) frontend->currency(sync) frontend->getads(sync) "+
		"frontend->getcart(sync) frontend->listrecommendations(sync) frontend->checkout(async) addcartitem->cartkvstorage(async) getcart->cartkvstorage(sync) "+
		"emptycart->cartkvstorage(async) listrecommendations->listproducts(sync) checkout->getcart(sync) checkout->listproducts(sync) checkout->currency(sync) "+
		"checkout->shipmentquote(sync) checkout->shiporder(async) checkout->email(async) checkout->emptycart(async)" {
		t.Errorf("edges %s", got)
	}
	var arr []fusionsim.Arrival
	for range 2 {
		arr = append(arr, shopRequest("addcartitem", 1, "4"), shopRequest("get", 1, ""), shopRequest("checkout", 1, ""))
	}
	byKind := runShop(t, arr)
	currency := slices.Repeat([]string{"frontend->currency sync"}, 11)
	want := map[string][]string{
		"addcartitem": {"addcartitem->cartkvstorage async"},
		"get": append([]string{"frontend->getads sync", "frontend->getcart sync", "frontend->listproducts sync",
			"frontend->listrecommendations sync", "frontend->supportedcurrencies sync",
			"getcart->cartkvstorage sync", "listrecommendations->listproducts sync"}, currency...),
		"checkout": {"checkout->currency sync", "checkout->currency sync", "checkout->email async", "checkout->emptycart async",
			"checkout->getcart sync", "checkout->listproducts sync", "checkout->shipmentquote sync", "checkout->shiporder async",
			"emptycart->cartkvstorage async", "frontend->checkout async", "getcart->cartkvstorage sync"},
	}
	for kind, w := range want {
		w = slices.Repeat(w, 2) // two iterations
		slices.Sort(w)
		if got := callsOf(byKind[kind]); strings.Join(got, ", ") != strings.Join(w, ", ") {
			t.Errorf("%s:\n got %v\nwant %v", kind, got, w)
		}
	}
	// Records per request (one per invocation): 2 (add); 8 with currency
	// 11 times and listproducts twice (get: 19); 10 with currency twice
	// and cartkvstorage twice (checkout with one item: 12).
	for kind, n := range map[string]int{"addcartitem": 2 * 2, "get": 2 * 19, "checkout": 2 * 12} {
		if got := len(byKind[kind]); got != n {
			t.Errorf("%s: %d records, want %d", kind, got, n)
		}
	}
}

// TestWebshopEmptyCartAndQuirk: a checkout empties the cart, so a checkout
// right after another one finds it empty and converts the shipping only;
// every add writes the same item (the productId the load does not send),
// whichever the item and the user: adds of two items keep one, and another
// user's add fills the cart a checkout finds.
func TestWebshopEmptyCartAndQuirk(t *testing.T) {
	arr := []fusionsim.Arrival{shopRequest("addcartitem", 2, "3"), shopRequest("addcartitem", 2, "7"), shopRequest("get", 2, ""),
		shopRequest("checkout", 2, ""), shopRequest("checkout", 2, ""), shopRequest("addcartitem", 9, "1"), shopRequest("checkout", 2, "")}
	arr[3].Kind, arr[4].Kind, arr[6].Kind = "checkout1", "checkout2", "checkout3"
	byKind := runShop(t, arr)
	count := func(kind, call string) int {
		n := 0
		for _, c := range callsOf(byKind[kind]) {
			if c == call {
				n++
			}
		}
		return n
	}
	for kind, want := range map[string]int{"checkout1": 2, "checkout2": 1, "checkout3": 2} {
		if n := count(kind, "checkout->currency sync"); n != want {
			t.Errorf("%s: %d currency calls, want %d (one per cart item, one for shipping)", kind, n, want)
		}
	}
}

// TestWebshopWork: the fitted work reproduces the real warm medians of the
// all-remote setup at 128 MB (webshop-notes.md): checkout 14867 ms, email
// 7148, shiporder 241, within 12 % (two or three warm records each).
func TestWebshopWork(t *testing.T) {
	var arr []fusionsim.Arrival
	for range 3 {
		arr = append(arr, shopRequest("addcartitem", 3, "5"), shopRequest("get", 3, ""), shopRequest("checkout", 3, ""))
	}
	byKind := runShop(t, arr)
	got := map[string][]float64{}
	for _, r := range byKind["checkout"] {
		if !r.IsColdStart {
			got[r.CurrentFunction] = append(got[r.CurrentFunction], float64(r.InternalDuration))
		}
	}
	for fn, real := range map[string]float64{"checkout": 14867, "email": 7148, "shiporder": 241} {
		if len(got[fn]) == 0 {
			t.Errorf("%s: no warm record", fn)
			continue
		}
		med := got[fn][len(got[fn])/2]
		if med < 0.88*real || med > 1.12*real {
			t.Errorf("%s: warm %v ms, real median %v ms", fn, got[fn], real)
		}
	}
}

// TestWebshopLoad: the file's load: section is the prototype's k6 scenario,
// the same as the load package's fixture (load/testdata/webshop.yaml),
// and its requests go to the file's two entry tasks.
func TestWebshopLoad(t *testing.T) {
	w, spec := webshop(t)
	if w.Scenario == nil || w.Scenario != spec.Scenario {
		t.Fatalf("the workload's scenario %v, the file's %v", w.Scenario, spec.Scenario)
	}
	fixture, err := load.ReadScenarioFile("../load/testdata/webshop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(w.Scenario)
	b, _ := json.Marshal(fixture)
	if string(a) != string(b) {
		t.Errorf("the file's load:\n%s\nthe load fixture:\n%s", a, b)
	}
	if err := w.Scenario.CheckApp(w.App); err != nil {
		t.Error(err)
	}
	if got := strings.Join(w.Scenario.Kinds(), ","); got != "addcartitem,get,checkout" {
		t.Errorf("kinds %s", got)
	}
	if got := w.MemorySizes; !slices.Equal(got, []int{128, 1536, 1650}) {
		t.Errorf("memory sizes %v", got)
	}
}
