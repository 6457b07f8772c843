package fusionsim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"
)

// Event is the JSON object a task receives and returns.
type Event map[string]any

// Int returns the integer under key, or def when it is missing or not a number.
func (e Event) Int(key string, def int) int {
	switch v := e[key].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	return def
}

// String returns the string under key, or "".
func (e Event) String(key string) string {
	s, _ := e[key].(string)
	return s
}

// Float returns the number under key, or def.
func (e Event) Float(key string, def float64) float64 {
	switch v := e[key].(type) {
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case float64:
		return v
	}
	return def
}

// Task is the code of one task. It receives the event and a Context through
// which it calls other tasks and uses the platform. A returned error is a
// function error.
type Task func(ctx Context, in Event) (Event, error)

// Edge is one call of the application's static call graph.
type Edge struct {
	Caller string
	Called string
	Sync   bool
}

func (e Edge) String() string {
	t := "async"
	if e.Sync {
		t = "sync"
	}
	return fmt.Sprintf("%s->%s(%s)", e.Caller, e.Called, t)
}

// App is an application: a set of tasks and its entry tasks. Edges list the
// calls the code makes; generators of setups and optimizers read them.
//
// Most applications have one entry task (Entry). An application that clients
// reach through several routes (the prototype's webshop: frontend and
// addcartitem) lists them all in Entries, the default one first; everything
// that walks the call graph from the entry walks it from every entry task
// (EntryTasks), and a request that names no entry goes to Entry.
type App struct {
	Name        string
	Description string
	// Entry is the default entry task: the one a request reaches when it
	// names no other.
	Entry string
	// Entries are all entry tasks, Entry first; nil means Entry alone.
	Entries []string
	Tasks   map[string]Task
	Edges   []Edge
}

// EntryTasks returns the entry tasks, the default one (Entry) first.
func (a *App) EntryTasks() []string {
	if len(a.Entries) == 0 {
		return []string{a.Entry}
	}
	return a.Entries
}

// IsEntry reports whether task is an entry task of a.
func (a *App) IsEntry(task string) bool {
	return slices.Contains(a.EntryTasks(), task)
}

// TaskNames returns the task names, sorted.
func (a *App) TaskNames() []string {
	n := make([]string, 0, len(a.Tasks))
	for t := range a.Tasks {
		n = append(n, t)
	}
	sort.Strings(n)
	return n
}

// Validate checks names, the entry task and that every edge joins known tasks.
func (a *App) Validate() error {
	if a.Name == "" {
		return fmt.Errorf("app: empty name")
	}
	if _, ok := a.Tasks[a.Entry]; !ok {
		return fmt.Errorf("app %s: entry task %q is not a task", a.Name, a.Entry)
	}
	if len(a.Entries) > 0 && a.Entries[0] != a.Entry {
		return fmt.Errorf("app %s: entries %v: the first must be the default entry %q", a.Name, a.Entries, a.Entry)
	}
	seen := map[string]bool{}
	for _, e := range a.Entries {
		if _, ok := a.Tasks[e]; !ok {
			return fmt.Errorf("app %s: entry task %q is not a task", a.Name, e)
		}
		if seen[e] {
			return fmt.Errorf("app %s: entry task %q is listed twice", a.Name, e)
		}
		seen[e] = true
	}
	for _, t := range a.TaskNames() {
		if err := ValidateTaskName(t); err != nil {
			return fmt.Errorf("app %s: %w", a.Name, err)
		}
		if a.Tasks[t] == nil {
			return fmt.Errorf("app %s: task %q has no code", a.Name, t)
		}
	}
	for _, e := range a.Edges {
		if _, ok := a.Tasks[e.Caller]; !ok {
			return fmt.Errorf("app %s: edge %s: unknown caller", a.Name, e)
		}
		if _, ok := a.Tasks[e.Called]; !ok {
			return fmt.Errorf("app %s: edge %s: unknown called task", a.Name, e)
		}
	}
	return nil
}

// CheckSetup validates setup and checks that every task it names (as an
// entry task, a called task or the target of a remote url) is a task of a.
// The error names the first bad rule, in sorted order, and every unknown
// task.
func (a *App) CheckSetup(setup *Setup) error {
	if setup == nil {
		return fmt.Errorf("setup is nil")
	}
	var first string
	var unknown map[string]bool
	// note notes task if the app has no such task; where (made only then)
	// says where the setup names it.
	note := func(task string, where func() string) {
		if _, ok := a.Tasks[task]; ok || task == "" {
			return
		}
		if first == "" {
			first = fmt.Sprintf("%s: %q is not a task of %s", where(), task, a.Name)
		}
		if unknown == nil {
			unknown = map[string]bool{}
		}
		unknown[task] = true
	}
	for _, entry := range sortedKeys(setup.Rules) {
		note(entry, func() string { return fmt.Sprintf("rules[%q]", entry) })
		for _, called := range sortedKeys(setup.Rules[entry]) {
			where := func() string { return fmt.Sprintf("rules[%q][%q]", entry, called) }
			note(called, where)
			p := setup.Rules[entry][called]
			for _, r := range []Rule{p.Sync, p.Async} {
				if r.Strategy == Remote {
					if rt, err := r.Route(); err == nil {
						note(rt.Task, func() string { return where() + " url " + r.URL })
					}
				}
			}
		}
	}
	if first != "" {
		return fmt.Errorf("setup %q: %s; the setup names task(s) that %s does not have: %s (its tasks: %s)",
			setup.Name(), first, a.Name, strings.Join(sortedKeys(unknown), ", "), strings.Join(a.TaskNames(), ", "))
	}
	if err := setup.Validate(); err != nil {
		return fmt.Errorf("setup %q: %w", setup.Name(), err)
	}
	return nil
}

// Work describes a piece of CPU work: how much CPU it needs and how many
// threads it runs in parallel. The platform turns the demand into time from the
// CPU share of the function's memory size (see model.CPU).
//
// A Work runs in two phases: a serial phase (SerialCPUMs on one thread, e.g.
// starting worker threads) and a parallel phase (CPUMs spread over Threads
// threads). TailCPUMs is work that goes on after the task has returned (e.g.
// worker threads shutting down): it is billed but not part of the task's time.
//
// A platform profile that names the descriptor (model.Profile.Work[Name])
// replaces every figure of it, ColdCPUMs, OverheadCPUMs and JitterScale
// included: descriptors of Go code give their figures in code and the
// default profile overrides the calibrated ones; descriptors of application
// files give theirs in the file.
type Work struct {
	// Name identifies the descriptor so that a profile can override its figures
	// (model.Profile.Work), e.g. "burn2x7".
	Name string
	// CPUMs is the parallel phase's demand in vCPU-milliseconds: the time it
	// takes on one full vCPU with one thread.
	CPUMs float64
	// Threads is the number of threads of the parallel phase (at least 1).
	Threads int
	// SerialCPUMs is the demand, in vCPU-ms, of the single-threaded phase run
	// before the parallel one.
	SerialCPUMs float64
	// TailCPUMs is the demand, in vCPU-ms, that runs on after the task returned,
	// before the invocation ends.
	TailCPUMs float64
	// MemoryMB is the resident memory the work holds while it runs, in MB.
	MemoryMB float64
	// ColdCPUMs is extra demand, in vCPU-ms, of the parallel phase when the
	// work runs in the first invocation of an execution environment (code
	// loaded and compiled on a cold start); see model.WorkParams.ColdCPUMs.
	ColdCPUMs float64
	// OverheadCPUMs is the demand, in vCPU-ms, of the process's other
	// threads while the parallel phase runs, added to it unless the
	// function's CPU share exceeds Threads; see model.WorkParams.
	OverheadCPUMs float64
	// JitterScale scales the work's share of the invocation's CPU jitter
	// (see model.WorkParams.JitterScale); nil is 1, 0 runs without jitter.
	JitterScale *float64
	// Run is the real computation. The emulator calls it only when told to
	// execute work (off by default, so simulations stay fast); the Lambda
	// handler always calls it. It may be nil.
	Run func()
}

// Future is a call started with Context.Start.
type Future interface {
	// Wait blocks the calling task until the call returns (a sync call: the
	// callee's result; an async remote call: the platform's acknowledgement; a
	// local async call: the local task's end).
	Wait() (Event, error)
}

// WaitAll waits for every future and returns the first error.
func WaitAll(fs ...Future) error {
	var first error
	for _, f := range fs {
		if _, err := f.Wait(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Item is one stored item: the prototype's DynamoDB tables had a numeric key
// SensorID and a string attribute Message.
type Item struct {
	Key     int64
	Message string
}

// Context is what a task sees of the platform. It must be used only from the
// task's own goroutine (the one that called the task); parallelism is expressed
// with Start.
type Context interface {
	// Task is the name of the running task.
	Task() string
	// Call calls task with in and waits (Start followed by Wait).
	Call(task string, in Event, sync bool) (Event, error)
	// Start starts a call and returns at once (a JavaScript promise).
	Start(task string, in Event, sync bool) Future
	// Go runs fn concurrently with the rest of the task, in the same
	// function (an async closure whose promise the prototype's handlers
	// gathered with Promise.all, e.g. storage writes while worker threads
	// burn). fn must use the Context it is given. The invocation ends only
	// after fn has returned.
	Go(fn func(ctx Context) (Event, error)) Future
	// Spend runs a piece of CPU work.
	Spend(w Work)
	// Sleep waits for d without using CPU.
	Sleep(d time.Duration)
	// Put stores an item (DynamoDB PutItem).
	Put(table string, item Item) error
	// Get reads the item with key (GetItem); found is false when it is missing.
	Get(table string, key int64) (item Item, found bool, err error)
	// Query returns the items with key (Query on the partition key).
	Query(table string, key int64) ([]Item, error)
	// Delete removes the item with key.
	Delete(table string, key int64) error
	// UseMemory declares mb more megabytes resident until the task returns.
	// Exceeding the function's memory ends the invocation (Runtime.OutOfMemory).
	UseMemory(mb float64)
	// Rand is the task's random source (seeded by the platform).
	Rand() *rand.Rand
	// Log writes a line to the function's log, as console.log does.
	Log(msg string)
	// Now is the current time (virtual in the emulator).
	Now() time.Time
}
