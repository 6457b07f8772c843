package workloads

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/load"
)

// Workload is an application with what a runner and a listing need to know
// about it.
type Workload struct {
	// App is the application. Apps are stateless (their tasks are plain
	// functions), so one App serves any number of runs.
	App *fusionsim.App
	// Tasks documents each task: its name in the prototype and behaviour.
	Tasks []TaskDoc
	// MemorySizes are the application's memory sizes, in MB: the default
	// memory sweep of a one-function workload, the deployment list of the
	// Fusionize++ loop of the others (nil: the one of its published run,
	// IoT's or split's).
	MemorySizes []int
	// Event is the default request body (nil sends {}).
	Event fusionsim.Event
	// Tables are the storage tables the tasks use (DynamoDB tables on
	// AWS); nil for the Go workloads, which use the prototype's two
	// (SensorDataTable, UseCaseTable).
	Tables []string
	// File is the application file the workload was read from (package
	// appfile); "" for Go code.
	File string
	// Scenario is the application's default load (an application file's
	// load: section), nil for none: runs without a load flag send it.
	// Shared by every copy of the workload: copy it before changing it.
	Scenario *load.Scenario
}

// TaskDoc documents one task.
type TaskDoc struct {
	Name      string // task name, e.g. "I"
	Title     string // the prototype's name, e.g. "AnalyzeSensor"
	Behaviour string // one line
}

// Name is the workload's name.
func (w Workload) Name() string { return w.App.Name }

// OneFunction reports whether the workload has a single task.
func (w Workload) OneFunction() bool { return len(w.App.Tasks) == 1 }

// ErrUnknownWorkload is returned by Get for a name no workload has.
var ErrUnknownWorkload = errors.New("unknown workload")

var registry = map[string]func() Workload{
	"iot":       IoT,
	"split":     Split,
	"splittest": SplitTest,
	"sieve":     Sieve,
}

// Names lists the workload names, sorted.
func Names() []string {
	n := make([]string, 0, len(registry))
	for k := range registry {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Get returns the workload called name.
func Get(name string) (Workload, error) {
	f, ok := registry[name]
	if !ok {
		return Workload{}, fmt.Errorf("%w %q (workloads: %s)", ErrUnknownWorkload, name, strings.Join(Names(), ", "))
	}
	return f(), nil
}

// All returns every workload, by name.
func All() []Workload {
	var all []Workload
	for _, n := range Names() {
		all = append(all, registry[n]())
	}
	return all
}

// Callees returns the edges leaving task, in the order the code makes them.
func Callees(app *fusionsim.App, task string) []fusionsim.Edge {
	var out []fusionsim.Edge
	for _, e := range app.Edges {
		if e.Caller == task {
			out = append(out, e)
		}
	}
	return out
}

// Reachable returns the tasks requests to the entry tasks reach through the
// call graph, in breadth-first order from the entry tasks (the default entry
// first, then the others, as App.EntryTasks lists them).
func Reachable(app *fusionsim.App) []string {
	seen := map[string]bool{}
	var order []string
	for _, e := range app.EntryTasks() {
		if !seen[e] {
			seen[e] = true
			order = append(order, e)
		}
	}
	for i := 0; i < len(order); i++ {
		for _, e := range Callees(app, order[i]) {
			if !seen[e.Called] {
				seen[e.Called] = true
				order = append(order, e.Called)
			}
		}
	}
	return order
}
