package calibrate

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// TracedMemory returns the memory sizes each function (a record's
// currentFunction) ran at, as the REPORT lines of its records show them
// (memoryAvail), ascending; and, for each function root invocations ran
// in, the function with its size (the route the client called), the most
// common one when its roots ran at several.
func TracedMemory(recs []trace.Record) (sizes map[string][]int, roots map[string]fusionsim.FunctionID, err error) {
	sizes = map[string][]int{}
	rootCount := map[fusionsim.FunctionID]int{}
	for i := range recs {
		r := &recs[i]
		mb, err := strconv.Atoi(r.MemoryAvail)
		if err != nil || mb < fusionsim.MinMemoryMB || mb > fusionsim.MaxMemoryMB {
			return nil, nil, fmt.Errorf("record %d (%s): memoryAvail %q is not a memory size of %d to %d MB", i, r.TraceID, r.MemoryAvail, fusionsim.MinMemoryMB, fusionsim.MaxMemoryMB)
		}
		if !slices.Contains(sizes[r.CurrentFunction], mb) {
			sizes[r.CurrentFunction] = append(sizes[r.CurrentFunction], mb)
		}
		if r.IsRootInvocation {
			rootCount[fusionsim.FunctionID{Task: r.CurrentFunction, MemoryMB: mb}]++
		}
	}
	for _, s := range sizes {
		sort.Ints(s)
	}
	roots = map[string]fusionsim.FunctionID{}
	for id, n := range rootCount {
		b, ok := roots[id.Task]
		if !ok || n > rootCount[b] || (n == rootCount[b] && id.MemoryMB < b.MemoryMB) {
			roots[id.Task] = id
		}
	}
	return sizes, roots, nil
}

// WithTracedMemory returns the setup to emulate for real traces of setup:
// where the configuration and the traces' REPORT lines disagree on a
// function's memory size (a rule url without a size means the default
// size, 128 MB; an all-local setup names no size at all), the traces win:
// every remote url to the function gets the size its records show, and
// the requests go to the entry function at the size the root invocations
// ran at. notes says each disagreement. A function that ran at several
// sizes keeps the configuration's urls (the records do not say which
// caller reached which size); a note says so when the sizes differ from
// the configuration's.
func WithTracedMemory(app *fusionsim.App, setup *fusionsim.Setup, recs []trace.Record) (*fusionsim.Setup, fusionsim.Route, []string, error) {
	entry, err := workloads.EntryRoute(app, setup)
	if err != nil {
		return nil, fusionsim.Route{}, nil, err
	}
	traced, byTask, err := TracedMemory(recs)
	if err != nil {
		return nil, fusionsim.Route{}, nil, err
	}
	var notes []string
	var root fusionsim.FunctionID
	for _, r := range byTask {
		root = r // the only one when the roots ran in one function
	}
	if len(byTask) > 1 {
		// Requests to several entry functions (a scenario): each replayed
		// request goes to its own root's function and size; the setup's
		// entry takes the size of its own roots.
		root = byTask[entry.Task]
		var fns []string
		for _, t := range sortedKeys(byTask) {
			fns = append(fns, byTask[t].Short())
		}
		notes = append(notes, "root invocations in several functions ("+strings.Join(fns, " ")+"): each request goes to its root's function at the size it ran at")
	}
	if root.Task != "" {
		if root.Task != entry.Task {
			return nil, fusionsim.Route{}, nil, fmt.Errorf("the root invocations ran in function %s, the setup's entry is %s", root.Task, entry.Task)
		}
		if root.MemoryMB != entry.Function().MemoryMB {
			notes = append(notes, fmt.Sprintf("entry %s: the configuration means %d MB (route %s), the root invocations' REPORT lines show %d MB: requests go to %s",
				entry.Task, entry.Function().MemoryMB, entry, root.MemoryMB, fusionsim.RouteTo(root, true)))
			entry = fusionsim.RouteTo(root, true)
		}
	}
	// The sizes the configuration's urls give each function (the entry's
	// is settled above).
	configured := urlMemory(setup)
	out := setup.Clone(setup.TraceName)
	for _, fn := range sortedKeys(traced) {
		have, want := traced[fn], configured[fn]
		if fn == entry.Task || slices.Equal(have, want) || len(want) == 0 {
			continue
		}
		if len(have) > 1 {
			notes = append(notes, fmt.Sprintf("function %s: the configuration means %s MB, its REPORT lines show %s MB: kept as configured (the records do not say which call reached which size)",
				fn, intsString(want), intsString(have)))
			continue
		}
		mb := have[0]
		for _, e := range sortedKeys(out.Rules) {
			for _, called := range sortedKeys(out.Rules[e]) {
				p := out.Rules[e][called]
				p.Sync = resized(p.Sync, fn, mb)
				p.Async = resized(p.Async, fn, mb)
				out.Rules[e][called] = p
			}
		}
		notes = append(notes, fmt.Sprintf("function %s: the configuration means %s MB, its REPORT lines show %d MB: emulated at %d MB",
			fn, intsString(want), mb, mb))
	}
	return out, entry, notes, nil
}

// resized returns r with its url reaching task fn at mb, when it is a
// remote rule to fn.
func resized(r fusionsim.Rule, fn string, mb int) fusionsim.Rule {
	if r.IsLocal() {
		return r
	}
	rt, err := r.Route()
	if err != nil || rt.Task != fn {
		return r
	}
	rt.MemoryMB = mb
	r.URL = rt.String()
	return r
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
