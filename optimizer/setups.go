package optimizer

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/fusionsim/fusionsim"
)

// AllRemote is the base setup of the prototype: a rule for every entry task
// and every task, sync and async, all remote to the called task's function at
// the default memory size ("SYNC-X" and "X"); calls to itself included.
func AllRemote(tasks []string, name fusionsim.TraceName) *fusionsim.Setup {
	s := &fusionsim.Setup{Rules: make(fusionsim.Rules, len(tasks)), TraceName: name}
	for _, e := range tasks {
		row := make(map[string]fusionsim.RulePair, len(tasks))
		for _, t := range tasks {
			row[t] = remotePair(t, 0)
		}
		s.Rules[e] = row
	}
	return s
}

// remotePair is a remote rule pair to task's function at memoryMB (0: the
// default size, written without a suffix as the prototype's base setup did).
func remotePair(task string, memoryMB int) fusionsim.RulePair {
	return fusionsim.RulePair{Sync: remoteRule(task, memoryMB, true), Async: remoteRule(task, memoryMB, false)}
}

func remoteRule(task string, memoryMB int, sync bool) fusionsim.Rule {
	r := fusionsim.Route{Task: task, MemoryMB: memoryMB, Sync: sync}
	return fusionsim.Rule{Strategy: fusionsim.Remote, URL: r.String()}
}

// ruleMemoryMB is the memory size a remote rule reaches (the default size
// when its url names none); 0 for a local rule or an unparseable url.
func ruleMemoryMB(r fusionsim.Rule) int {
	if r.IsLocal() {
		return 0
	}
	rt, err := r.Route()
	if err != nil {
		return 0
	}
	return rt.Function().MemoryMB
}

// sameStrategies reports whether a and b have the same local/remote strategy
// for every (entry, called task, call type); urls (memory sizes) may differ.
func sameStrategies(a, b *fusionsim.Setup) bool {
	return equalRules(a, b, func(x, y fusionsim.Rule) bool { return x.Strategy == y.Strategy })
}

// sameDeployment reports whether a and b behave the same: equal strategies
// and every remote rule reaching the same function (a url without a size
// reaches the default size, so "SYNC-A" equals "SYNC-A-128").
func sameDeployment(a, b *fusionsim.Setup) bool {
	return equalRules(a, b, func(x, y fusionsim.Rule) bool {
		if x.Strategy != y.Strategy {
			return false
		}
		if x.IsLocal() {
			return true
		}
		rx, errX := x.Route()
		ry, errY := y.Route()
		if errX != nil || errY != nil {
			return x.URL == y.URL
		}
		return rx.Function() == ry.Function() && rx.Sync == ry.Sync
	})
}

func equalRules(a, b *fusionsim.Setup, eq func(x, y fusionsim.Rule) bool) bool {
	if len(a.Rules) != len(b.Rules) {
		return false
	}
	for e, ra := range a.Rules {
		rb, ok := b.Rules[e]
		if !ok || len(ra) != len(rb) {
			return false
		}
		for t, pa := range ra {
			pb, ok := rb[t]
			if !ok || !eq(pa.Sync, pb.Sync) || !eq(pa.Async, pb.Async) {
				return false
			}
		}
	}
	return true
}

// withMemory returns a copy of s named name in which every remote rule to a
// task of sizes reaches that task's function at sizes[task] MB, written with
// an explicit size ("SYNC-AS-768", "CA-128") as the prototype's memory phase
// did. Rules to other tasks keep their urls.
func withMemory(s *fusionsim.Setup, sizes map[string]int, name fusionsim.TraceName) *fusionsim.Setup {
	c := s.Clone(name)
	for _, row := range c.Rules {
		for t, p := range row {
			mb, ok := sizes[t]
			if !ok {
				continue
			}
			if !p.Sync.IsLocal() {
				p.Sync.URL = fusionsim.Route{Task: t, MemoryMB: mb, Sync: true}.String()
			}
			if !p.Async.IsLocal() {
				p.Async.URL = fusionsim.Route{Task: t, MemoryMB: mb}.String()
			}
			row[t] = p
		}
	}
	return c
}

// EntryRoute is the route a client calls to reach entry under s: the sync
// route of entry's own rule in its row when it is remote (it names the entry
// function's memory size, as the prototype's load tests called
// SYNC-I-<MB>), else SYNC-<entry> at the default size.
func EntryRoute(s *fusionsim.Setup, entry string) fusionsim.Route {
	if r, ok := s.Rule(entry, entry, true); ok && !r.IsLocal() {
		if rt, err := r.Route(); err == nil && rt.Task == entry {
			rt.Sync = true
			return rt
		}
	}
	return fusionsim.Route{Task: entry, Sync: true}
}

// Group is one deployed function of a setup: its entry task, memory size
// and the tasks it runs in-process.
type Group struct {
	Entry    string
	MemoryMB int
	// Tasks are the tasks the function runs, its entry first, then in the
	// order the application's call edges reach them.
	Tasks []string
}

// Layout follows app's call edges from its entry tasks through s and
// returns the functions requests reach, in the order they are first reached
// (the entry functions first, the default entry's first of all): each with
// the tasks its local rules keep in-process and the memory size its routes
// name (the entry route for an entry function, else the first remote rule
// that reaches it).
func Layout(app *fusionsim.App, s *fusionsim.Setup) []Group {
	out := edgesFrom(app)
	var groups []Group
	index := map[string]int{}
	var queue []string
	for _, e := range app.EntryTasks() {
		if _, dup := index[e]; dup {
			continue
		}
		index[e] = len(groups)
		queue = append(queue, e)
		groups = append(groups, Group{Entry: e, MemoryMB: EntryRoute(s, e).Function().MemoryMB})
	}
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		contained := []string{e}
		in := map[string]bool{e: true}
		for i := 0; i < len(contained); i++ {
			for _, ed := range out[contained[i]] {
				r, ok := s.Rule(e, ed.Called, ed.Sync)
				if ok && r.IsLocal() {
					if !in[ed.Called] {
						in[ed.Called] = true
						contained = append(contained, ed.Called)
					}
					continue
				}
				if _, seen := index[ed.Called]; seen {
					continue
				}
				mb := fusionsim.DefaultMemoryMB
				if ok {
					if m := ruleMemoryMB(r); m > 0 {
						mb = m
					}
				}
				index[ed.Called] = len(groups)
				groups = append(groups, Group{Entry: ed.Called, MemoryMB: mb})
				queue = append(queue, ed.Called)
			}
		}
		groups[index[e]].Tasks = contained
	}
	return groups
}

// edgesFrom indexes app's edges by caller, in the app's order.
func edgesFrom(app *fusionsim.App) map[string][]fusionsim.Edge {
	out := make(map[string][]fusionsim.Edge)
	for _, e := range app.Edges {
		out[e.Caller] = append(out[e.Caller], e)
	}
	return out
}

// Describe writes a setup's layout compactly: functions joined by ",", each
// its tasks joined by "+" and its memory size, "I+CW+SE:128,CS+CSL+CSA:128".
func Describe(app *fusionsim.App, s *fusionsim.Setup) string {
	return DescribeFunctions(Layout(app, s))
}

// validateSizes checks a memory size list: at least one size, each within
// Lambda's limits, no duplicates.
func validateSizes(field string, sizes []int) error {
	if len(sizes) == 0 {
		return fmt.Errorf("%w: %s: no memory size", ErrConfig, field)
	}
	seen := map[int]bool{}
	for i, mb := range sizes {
		if mb < fusionsim.MinMemoryMB || mb > fusionsim.MaxMemoryMB {
			return fmt.Errorf("%w: %s[%d]: %d MB is outside %d..%d MB", ErrConfig, field, i, mb, fusionsim.MinMemoryMB, fusionsim.MaxMemoryMB)
		}
		if seen[mb] {
			return fmt.Errorf("%w: %s[%d]: %d MB is listed twice", ErrConfig, field, i, mb)
		}
		seen[mb] = true
	}
	return nil
}

// ParseSizes parses a comma-separated list of memory sizes in MB,
// "128,768,1024".
func ParseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		mb, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("memory size %q: not a whole number of MB", f)
		}
		out = append(out, mb)
	}
	if err := validateSizes("memory sizes", out); err != nil {
		return nil, err
	}
	return out, nil
}

func sortedNames[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// TriedMemorySizes returns the memory sizes the setups of cfgs deploy, in the
// order a run first used them: setups in creation order (Configs.Names), the
// sizes a setup is the first to use in ascending order. A rule url without a
// size reaches fusionsim.DefaultMemoryMB. It is the list a replay of the run
// gives the memory phase, so that it tries the sizes the run's optimizer
// tried.
func TriedMemorySizes(cfgs fusionsim.Configs) []int {
	var out []int
	have := map[int]bool{}
	for _, name := range cfgs.Names() {
		var found []int
		for _, row := range cfgs[name].Rules {
			for _, p := range row {
				for _, r := range []fusionsim.Rule{p.Sync, p.Async} {
					if r.IsLocal() {
						continue
					}
					if rt, err := r.Route(); err == nil && !have[rt.Function().MemoryMB] {
						have[rt.Function().MemoryMB] = true
						found = append(found, rt.Function().MemoryMB)
					}
				}
			}
		}
		sort.Ints(found)
		out = append(out, found...)
	}
	return out
}
