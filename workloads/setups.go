package workloads

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/fusionsim/fusionsim"
)

// Names of the generated setups.
const (
	// RemoteName: every task its own function (the prototype's a_remote and
	// the optimizer's base setup).
	RemoteName = "remote"
	// LocalName: everything in the entry task's function (b_local).
	LocalName = "local"
)

// SweepName is the name of the remote setup at memoryMB: "remote_256".
// Trace names may not contain '-', which separates the parts of a trace id.
func SweepName(memoryMB int) string { return RemoteName + "_" + strconv.Itoa(memoryMB) }

// url is the prototype's route url of task's function: "SYNC-X"/"X", with
// "-<MB>" when memoryMB is not 0.
func url(task string, memoryMB int, sync bool) string {
	return fusionsim.Route{Task: task, MemoryMB: memoryMB, Sync: sync}.String()
}

// table makes a rule table of the app's tasks.
func table(app *fusionsim.App, rule func(called string, sync bool) fusionsim.Rule) map[string]fusionsim.RulePair {
	m := make(map[string]fusionsim.RulePair, len(app.Tasks))
	for _, t := range app.TaskNames() {
		m[t] = fusionsim.RulePair{Sync: rule(t, true), Async: rule(t, false)}
	}
	return m
}

// Remote is the setup in which every task is its own function, prototype
// style: every task has a rule table with a remote rule for every task, url
// "SYNC-X"/"X" (memoryMB 0: the default size) or "SYNC-X-<MB>"/"X-<MB>".
func Remote(app *fusionsim.App, name string, memoryMB int) (*fusionsim.Setup, error) {
	if memoryMB != 0 {
		if err := checkMemory(memoryMB); err != nil {
			return nil, err
		}
	}
	s := &fusionsim.Setup{Rules: fusionsim.Rules{}, TraceName: fusionsim.NewTraceName(name)}
	for _, e := range app.TaskNames() {
		s.Rules[e] = table(app, func(called string, sync bool) fusionsim.Rule {
			return fusionsim.Rule{Strategy: fusionsim.Remote, URL: url(called, memoryMB, sync)}
		})
	}
	return s, s.Validate()
}

// Local is the setup that runs everything in the entry task's function, as
// the prototype's b_local: every rule local, keeping its url.
func Local(app *fusionsim.App, name string) (*fusionsim.Setup, error) {
	s := &fusionsim.Setup{Rules: fusionsim.Rules{}, TraceName: fusionsim.NewTraceName(name)}
	for _, e := range app.TaskNames() {
		s.Rules[e] = table(app, func(called string, sync bool) fusionsim.Rule {
			return fusionsim.Rule{Strategy: fusionsim.Local, URL: url(called, 0, sync)}
		})
	}
	return s, s.Validate()
}

func checkMemory(mb int) error {
	if mb < fusionsim.MinMemoryMB || mb > fusionsim.MaxMemoryMB {
		return fmt.Errorf("memory size %d MB is outside %d..%d MB", mb, fusionsim.MinMemoryMB, fusionsim.MaxMemoryMB)
	}
	return nil
}

// Group is one function of a setup: its entry task, the tasks that run in it
// and its memory size.
type Group struct {
	// Tasks are the group's tasks, the entry task first.
	Tasks []string
	// MemoryMB is the function's memory size; 0 is the default size (128 MB)
	// with urls that name no size, as the prototype wrote them before its
	// memory phase.
	MemoryMB int
}

// Entry is the group's entry task.
func (g Group) Entry() string { return g.Tasks[0] }

// Contains reports whether task runs in the group.
func (g Group) Contains(task string) bool {
	for _, t := range g.Tasks {
		if t == task {
			return true
		}
	}
	return false
}

func (g Group) String() string {
	s := strings.Join(g.Tasks, "+")
	if g.MemoryMB != 0 {
		s += ":" + strconv.Itoa(g.MemoryMB)
	}
	return s
}

// Groups is a setup described as function groups.
type Groups []Group

// String is the compact description, e.g. "I+CW+SE:128,CT:128".
func (gs Groups) String() string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = g.String()
	}
	return strings.Join(parts, ",")
}

// ErrBadGroups marks errors in a group description.
var ErrBadGroups = errors.New("bad setup description")

// ParseGroups reads a setup description of app:
//
//	I+CW+SE:128,CS+CSL+CSA:128,CA+DJ:128,CT:128,AS:1650
//
// Groups are joined by ',', the tasks of a group by '+', the first task of a
// group is its entry task, and ":MB" its memory size (optional; without it
// the default size, written without a size in urls). The IC2E partition
// notation, tasks joined by '.' and sorted (A.B.D.E,C,F,G), is accepted too:
// there the entry task of a group is the one no other task of the group
// calls. Errors name the group and the bad part.
func ParseGroups(app *fusionsim.App, desc string) (Groups, error) {
	desc = strings.TrimSpace(desc)
	if desc == "" {
		return nil, fmt.Errorf("%w: empty description", ErrBadGroups)
	}
	var gs Groups
	for i, part := range strings.Split(desc, ",") {
		g, err := parseGroup(app, strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("%w: group %d %q: %v", ErrBadGroups, i+1, part, err)
		}
		gs = append(gs, g)
	}
	if err := gs.Check(app); err != nil {
		return nil, err
	}
	return gs, nil
}

func parseGroup(app *fusionsim.App, part string) (Group, error) {
	var g Group
	tasks := part
	if i := strings.LastIndexByte(part, ':'); i >= 0 {
		tasks = part[:i]
		mb, err := strconv.Atoi(strings.TrimSpace(part[i+1:]))
		if err != nil {
			return g, fmt.Errorf("memory size %q is not a whole number of MB", part[i+1:])
		}
		if err := checkMemory(mb); err != nil {
			return g, err
		}
		g.MemoryMB = mb
	}
	plus, dot := strings.Contains(tasks, "+"), strings.Contains(tasks, ".")
	if plus && dot {
		return g, fmt.Errorf("mixes '+' and '.' between tasks")
	}
	sep := "+"
	if dot {
		sep = "."
	}
	for _, t := range strings.Split(tasks, sep) {
		t = strings.TrimSpace(t)
		if t == "" {
			return g, fmt.Errorf("empty task name")
		}
		if _, ok := app.Tasks[t]; !ok {
			return g, fmt.Errorf("%q is not a task of %s (tasks: %s)", t, app.Name, strings.Join(app.TaskNames(), " "))
		}
		if g.Contains(t) {
			return g, fmt.Errorf("task %s appears twice", t)
		}
		g.Tasks = append(g.Tasks, t)
	}
	if dot {
		entry, err := partitionEntry(app, g.Tasks)
		if err != nil {
			return g, err
		}
		g.Tasks = append([]string{entry}, without(g.Tasks, entry)...)
	}
	return g, nil
}

// partitionEntry is the task of an IC2E partition group that no other task
// of the group calls.
func partitionEntry(app *fusionsim.App, tasks []string) (string, error) {
	in := map[string]bool{}
	for _, t := range tasks {
		in[t] = true
	}
	var roots []string
	for _, t := range tasks {
		called := false
		for _, e := range app.Edges {
			if e.Called == t && e.Caller != t && in[e.Caller] {
				called = true
			}
		}
		if !called {
			roots = append(roots, t)
		}
	}
	if len(roots) != 1 {
		return "", fmt.Errorf("cannot tell the entry task: %d tasks (%s) are called by no other task of the group; write the group with '+' and the entry first", len(roots), strings.Join(roots, " "))
	}
	return roots[0], nil
}

func without(ts []string, x string) []string {
	var out []string
	for _, t := range ts {
		if t != x {
			out = append(out, t)
		}
	}
	return out
}

// Check validates groups against app: entry tasks are unique, the app's entry
// task is the entry of a group, every task of a group is reached from its
// entry by calls between tasks of the group, and every task called remotely
// is the entry of a group. Errors name the group.
func (gs Groups) Check(app *fusionsim.App) error {
	entries := map[string]int{}
	for i, g := range gs {
		if len(g.Tasks) == 0 {
			return fmt.Errorf("%w: group %d is empty", ErrBadGroups, i+1)
		}
		if j, dup := entries[g.Entry()]; dup {
			return fmt.Errorf("%w: groups %d %q and %d %q both have entry task %s", ErrBadGroups, j+1, gs[j], i+1, g, g.Entry())
		}
		entries[g.Entry()] = i
		for _, t := range g.Tasks {
			if _, ok := app.Tasks[t]; !ok {
				return fmt.Errorf("%w: group %d %q: %q is not a task of %s", ErrBadGroups, i+1, g, t, app.Name)
			}
		}
		if g.MemoryMB != 0 {
			if err := checkMemory(g.MemoryMB); err != nil {
				return fmt.Errorf("%w: group %d %q: %v", ErrBadGroups, i+1, g, err)
			}
		}
	}
	for _, e := range app.EntryTasks() {
		if _, ok := entries[e]; !ok {
			return fmt.Errorf("%w: the entry task %s of %s is the first task of no group", ErrBadGroups, e, app.Name)
		}
	}
	for i, g := range gs {
		reached := map[string]bool{g.Entry(): true}
		queue := []string{g.Entry()}
		for len(queue) > 0 {
			t := queue[0]
			queue = queue[1:]
			for _, e := range Callees(app, t) {
				if g.Contains(e.Called) {
					if !reached[e.Called] {
						reached[e.Called] = true
						queue = append(queue, e.Called)
					}
					continue
				}
				if _, ok := entries[e.Called]; !ok {
					return fmt.Errorf("%w: group %d %q: %s calls %s remotely, but %s is the entry task of no group", ErrBadGroups, i+1, g, t, e.Called, e.Called)
				}
			}
		}
		for _, t := range g.Tasks {
			if !reached[t] {
				return fmt.Errorf("%w: group %d %q: %s is not reached from %s by calls between tasks of the group", ErrBadGroups, i+1, g, t, g.Entry())
			}
		}
	}
	return nil
}

// Build makes the setup of groups, in the prototype's style: every task of
// app has a rule table; every rule is remote, with the url of the called
// task's function ("SYNC-X-<MB>"/"X-<MB>" for the entry task of a group with
// a memory size, "SYNC-X"/"X" otherwise), except, in the table of a group's
// entry task, the call types the group's tasks make to each other, which are
// local (no url), as the prototype's optimizer wrote them.
func Build(app *fusionsim.App, name string, gs Groups) (*fusionsim.Setup, error) {
	if err := gs.Check(app); err != nil {
		return nil, err
	}
	mem := map[string]int{}
	for _, g := range gs {
		mem[g.Entry()] = g.MemoryMB
	}
	remote := func(called string, sync bool) fusionsim.Rule {
		return fusionsim.Rule{Strategy: fusionsim.Remote, URL: url(called, mem[called], sync)}
	}
	s := &fusionsim.Setup{Rules: fusionsim.Rules{}, TraceName: fusionsim.NewTraceName(name)}
	for _, e := range app.TaskNames() {
		s.Rules[e] = table(app, remote)
	}
	for _, g := range gs {
		t := s.Rules[g.Entry()]
		for _, e := range app.Edges {
			if g.Contains(e.Caller) && g.Contains(e.Called) {
				p := t[e.Called]
				if e.Sync {
					p.Sync = fusionsim.Rule{Strategy: fusionsim.Local}
				} else {
					p.Async = fusionsim.Rule{Strategy: fusionsim.Local}
				}
				t[e.Called] = p
			}
		}
	}
	return s, s.Validate()
}

// FromDescription parses desc and builds the setup called name.
func FromDescription(app *fusionsim.App, name, desc string) (*fusionsim.Setup, error) {
	gs, err := ParseGroups(app, desc)
	if err != nil {
		return nil, err
	}
	return Build(app, name, gs)
}

// EntryRoute is the route a client calls for a request under setup: the
// sync route of the entry task's function ("SYNC-I-128"), its memory size
// taken from the url of the entry table's rule for the entry task itself
// (the default size when that rule names none). The entry task is the app's,
// or the only table's when the setup has a single table that is not the
// app's entry (the calibration's splittest setups of task G).
func EntryRoute(app *fusionsim.App, setup *fusionsim.Setup) (fusionsim.Route, error) {
	entry := app.Entry
	if _, ok := setup.Rules[entry]; !ok {
		if len(setup.Rules) != 1 {
			return fusionsim.Route{}, fmt.Errorf("setup %q has no rule table for the entry task %s", setup.Name(), entry)
		}
		for e := range setup.Rules {
			entry = e
		}
	}
	return TaskRoute(setup, entry, true)
}

// TaskRoute is the route of the function of task under setup, sync or
// async, as clients call it: its memory size taken from the url of the rule
// table's rule for task itself (the default size when there is none), as
// EntryRoute does for the entry task. Scenario loads send each request to
// its entry task's route.
func TaskRoute(setup *fusionsim.Setup, task string, sync bool) (fusionsim.Route, error) {
	mb := fusionsim.DefaultMemoryMB
	if p, ok := setup.Rules[task][task]; ok {
		for _, r := range []fusionsim.Rule{p.Sync, p.Async} {
			if r.URL == "" {
				continue
			}
			rt, err := r.Route()
			if err != nil {
				return fusionsim.Route{}, fmt.Errorf("setup %q: rules[%q][%q]: %w", setup.Name(), task, task, err)
			}
			mb = rt.Function().MemoryMB
			break
		}
	}
	return fusionsim.Route{Task: task, MemoryMB: mb, Sync: sync}, nil
}

// EntryRoutes are the routes clients call under setup, one per entry task
// of app (App.EntryTasks): EntryRoute first, then the sync route of every
// other entry task that has a rule table in setup, its memory size taken
// from that table as EntryRoute takes it. An application with one entry
// task has one route.
func EntryRoutes(app *fusionsim.App, setup *fusionsim.Setup) ([]fusionsim.Route, error) {
	first, err := EntryRoute(app, setup)
	if err != nil {
		return nil, err
	}
	routes := []fusionsim.Route{first}
	for _, e := range app.EntryTasks()[1:] {
		if _, ok := setup.Rules[e]; !ok || e == first.Task {
			continue
		}
		rt, err := TaskRoute(setup, e, true)
		if err != nil {
			return nil, err
		}
		routes = append(routes, rt)
	}
	return routes, nil
}

// Functions lists the functions a request under setup can reach from the
// entry routes (EntryRoutes: the default entry's, then the other entry
// tasks') and from the extra roots (other entry functions): the function of
// every remote rule reachable through the call graph of app, in order of
// first reach. The tasks running in a function are its entry task and those
// its local rules reach; rule rows of tasks that never run as a function's
// entry are not followed. It is what "memory MB per function" summaries
// print and what a deployment needs.
func Functions(app *fusionsim.App, setup *fusionsim.Setup, extra ...fusionsim.FunctionID) ([]fusionsim.FunctionID, error) {
	routes, err := EntryRoutes(app, setup)
	if err != nil {
		return nil, err
	}
	seen := map[fusionsim.FunctionID]bool{}
	var order []fusionsim.FunctionID
	roots := make([]fusionsim.FunctionID, 0, len(routes)+len(extra))
	for _, rt := range routes {
		roots = append(roots, rt.Function())
	}
	for _, id := range append(roots, extra...) {
		if !seen[id] {
			seen[id] = true
			order = append(order, id)
		}
	}
	for i := 0; i < len(order); i++ {
		fn := order[i]
		// Tasks running in fn: its entry task and those reached by local
		// rules of its table.
		running := []string{fn.Task}
		in := map[string]bool{fn.Task: true}
		for j := 0; j < len(running); j++ {
			for _, e := range Callees(app, running[j]) {
				r, ok := setup.Rule(fn.Task, e.Called, e.Sync)
				if !ok {
					return nil, fmt.Errorf("setup %q: no %s rule for %s in the table of %s", setup.Name(), callType(e.Sync), e.Called, fn.Task)
				}
				if r.IsLocal() {
					if !in[e.Called] {
						in[e.Called] = true
						running = append(running, e.Called)
					}
					continue
				}
				rt, err := r.Route()
				if err != nil {
					return nil, fmt.Errorf("setup %q: rules[%q][%q]: %w", setup.Name(), fn.Task, e.Called, err)
				}
				if f := rt.Function(); !seen[f] {
					seen[f] = true
					order = append(order, f)
				}
			}
		}
	}
	return order, nil
}

// MemorySummary is "A:128 C:1024 F:1536 G:1536": the memory size of every
// function a request reaches, by task name, as the calibration README lists
// them.
func MemorySummary(app *fusionsim.App, setup *fusionsim.Setup) (string, error) {
	fns, err := Functions(app, setup)
	if err != nil {
		return "", err
	}
	sort.Slice(fns, func(i, j int) bool {
		if fns[i].Task != fns[j].Task {
			return fns[i].Task < fns[j].Task
		}
		return fns[i].MemoryMB < fns[j].MemoryMB
	})
	parts := make([]string, len(fns))
	for i, f := range fns {
		parts[i] = f.Task + ":" + strconv.Itoa(f.MemoryMB)
	}
	return strings.Join(parts, " "), nil
}

func callType(sync bool) string {
	if sync {
		return "sync"
	}
	return "async"
}
