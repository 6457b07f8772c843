package appfile

import (
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fusionsim/fusionsim"
)

// check finds what the grammar cannot: unknown tasks, tables, work and
// variables, a cycle of sync calls, entries; then lists the edges.
func (p *reader) check(s *Spec) {
	byName := map[string]*Task{}
	for _, t := range s.Tasks {
		byName[t.Name] = t
	}
	taskList := strings.Join(taskNames(s), ", ")
	for i, e := range s.Entries {
		if _, ok := byName[e]; !ok {
			n := p.resolve(p.entryNode)
			if n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
				n = n.Content[i]
			}
			p.errorf(n, "entry", "entry task %q is not a task (tasks: %s)", e, taskList)
		}
	}
	work := map[string]*WorkDef{}
	for _, d := range s.Work {
		work[d.Name] = d
	}
	for _, t := range s.Tasks {
		c := &taskChecker{p: p, s: s, t: t, tasks: byName, taskList: taskList, work: work, vars: map[string]bool{}}
		c.collect(t.steps)
		t.setVars = c.vars
		c.walk(t.steps, false, false)
		if t.response != nil {
			c.refs(t.response, t.respPos, "tasks."+t.Name+".response", false)
		}
	}
	p.syncCycles(s)
	s.edges = edgesOf(s)
}

func taskNames(s *Spec) []string {
	n := make([]string, len(s.Tasks))
	for i, t := range s.Tasks {
		n[i] = t.Name
	}
	return n
}

type taskChecker struct {
	p        *reader
	s        *Spec
	t        *Task
	tasks    map[string]*Task
	taskList string
	work     map[string]*WorkDef
	vars     map[string]bool
	unnamed  int
}

// collect finds the variables the task sets anywhere (set, as).
func (c *taskChecker) collect(steps []*step) {
	eachStep(steps, func(st *step) {
		if st.as != "" {
			c.vars[st.as] = true
		}
		for _, a := range st.sets {
			c.vars[a.name] = true
		}
	})
}

// eachStep calls f for each of steps, each before the steps inside it
// (then, else, cases, default, branches).
func eachStep(steps []*step, f func(*step)) {
	for _, st := range steps {
		f(st)
		eachStep(st.then, f)
		eachStep(st.els, f)
		for _, cs := range st.cases {
			eachStep(cs.steps, f)
		}
		eachStep(st.def, f)
		eachStep(st.branches, f)
	}
}

// walk checks steps; fan is true inside a fan-out (index is defined),
// started inside a branch that runs concurrently with the task.
func (c *taskChecker) walk(steps []*step, fan, started bool) {
	for _, st := range steps {
		f := st.field
		if st.count != nil {
			c.refs(st.count, at(st, "count"), join(f, "count"), fan)
		}
		inFan := fan || st.count != nil
		conc := started || st.start || st.count != nil
		switch st.kind {
		case kCall:
			if _, ok := c.tasks[st.task]; !ok && st.task != "" {
				c.p.errorAt(at(st, kCall), join(f, kCall), "unknown task %q (tasks: %s)", st.task, c.taskList)
			}
			if st.event != nil {
				c.refs(st.event, at(st, "event"), join(f, "event"), inFan)
			}
		case kWork:
			c.resolveWork(st)
		case kSieve:
			c.refs(st.n, at(st, kSieve), join(f, kSieve), inFan)
			if st.algorithm != nil {
				c.refs(st.algorithm, at(st, "algorithm"), join(f, "algorithm"), inFan)
			}
		case kPut, kGet, kQuery, kDelete:
			if !slices.Contains(c.s.Tables, st.table) && st.table != "" {
				known := strings.Join(c.s.Tables, ", ")
				if known == "" {
					known = "none: list the tables under tables:"
				}
				c.p.errorAt(at(st, st.kind), join(f, st.kind), "unknown table %q (tables: %s)", st.table, known)
			}
			if st.key != nil {
				c.refs(st.key, at(st, "key"), join(f, "key"), inFan)
			}
			if st.message != nil {
				c.refs(st.message, at(st, "message"), join(f, "message"), inFan)
			}
		case kSet:
			for _, a := range st.sets {
				c.refs(a.val, a.pos, join(f, "set."+a.name), inFan)
			}
		case kIf, kSwitch:
			c.refs(st.value, at(st, st.kind), join(f, st.kind), inFan)
			if st.kind == kSwitch {
				seen := map[string]bool{}
				for _, cs := range st.cases {
					if seen[cs.value] {
						c.p.errorAt(st.pos, join(f, "cases"), "case %q given twice", cs.value)
					}
					seen[cs.value] = true
				}
			}
		case kSleep, kMemory, kLog, kFail:
			c.refs(st.value, at(st, st.kind), join(f, st.kind), inFan)
		case kReturn:
			c.refs(st.value, at(st, st.kind), join(f, st.kind), inFan)
			if conc {
				c.p.errorAt(st.pos, join(f, st.kind), "return in a started, fanned-out or parallel branch: only the task's own steps can return")
			}
		}
		c.walk(st.then, inFan, conc)
		c.walk(st.els, inFan, conc)
		c.walk(st.def, inFan, conc)
		for _, cs := range st.cases {
			c.walk(cs.steps, inFan, conc)
		}
		c.walk(st.branches, inFan, true)
	}
}

// resolveWork finds a named descriptor, or names an inline one.
func (c *taskChecker) resolveWork(st *step) {
	d := st.work
	if d == nil {
		return
	}
	if d.ref {
		w, ok := c.work[d.Name]
		if !ok {
			var known []string
			for _, x := range c.s.Work {
				known = append(known, x.Name)
			}
			list := strings.Join(known, ", ")
			if list == "" {
				list = "none; define it under work: or inline, {vcpu_ms: ..., threads: ...}"
			}
			c.p.errorAt(d.pos, join(st.field, kWork), "unknown work %q (work: %s)", d.Name, list)
			return
		}
		st.work = w
		return
	}
	if d.Name == "" {
		c.unnamed++
		if c.unnamed > 1 {
			c.p.errorAt(d.pos, join(st.field, kWork+".name"), "task %s has several unnamed work steps: name them (a profile's work figures are keyed by name)", c.t.Name)
		}
		d.Name = c.t.Name
	}
	if w, ok := c.work[d.Name]; ok && !w.same(d) {
		c.p.errorAt(d.pos, join(st.field, kWork+".name"), "work %q is defined at line %d with other figures: give this one another name", d.Name, w.pos.Line)
		return
	}
	c.work[d.Name] = d
}

// at is where field of st is written (the step itself when unknown).
func at(st *step, field string) Pos {
	if p, ok := st.at[field]; ok {
		return p
	}
	return st.pos
}

// refs checks the names an expression uses.
func (c *taskChecker) refs(n node, pos Pos, field string, fan bool) {
	used := map[string]bool{}
	names(n, used)
	for _, name := range sortedKeys(used) {
		switch {
		case name == "event":
		case name == "index":
			if !fan {
				c.p.errorAt(pos, field, "index is the copy's number in a fan-out (a step with count); this is not in one")
			}
		case !c.vars[name]:
			vs := sortedKeys(c.vars)
			list := "none"
			if len(vs) > 0 {
				list = strings.Join(vs, ", ")
			}
			c.p.errorAt(pos, field, "unknown name %s: not event, index or a variable of task %s (its variables, set by set: or as:, are %s)", name, c.t.Name, list)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// syncCall is a sync call of a task, where it is written.
type syncCall struct {
	called string
	st     *step
}

// syncCycles finds a cycle of sync calls: a request that waits for itself
// (a deadlock in Lambda terms, unbounded recursion in-process).
func (p *reader) syncCycles(s *Spec) {
	calls := map[string][]syncCall{}
	for _, t := range s.Tasks {
		var visit func([]*step)
		visit = func(steps []*step) {
			for _, st := range steps {
				if st.kind == kCall && st.sync {
					calls[t.Name] = append(calls[t.Name], syncCall{st.task, st})
				}
				visit(st.then)
				visit(st.els)
				visit(st.def)
				visit(st.branches)
				for _, cs := range st.cases {
					visit(cs.steps)
				}
			}
		}
		visit(t.steps)
	}
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var path []string
	var found bool
	var dfs func(task string)
	dfs = func(task string) {
		color[task] = grey
		path = append(path, task)
		for _, c := range calls[task] {
			if found {
				return
			}
			switch color[c.called] {
			case grey:
				i := slices.Index(path, c.called)
				cycle := append(append([]string{}, path[i:]...), c.called)
				p.errorAt(at(c.st, kCall), join(c.st.field, kCall), "a cycle of sync calls, %s: each waits for the next, so a request waits for itself (a deadlock on Lambda); make one of the calls async", strings.Join(cycle, " -> "))
				found = true
				return
			case white:
				dfs(c.called)
			}
		}
		path = path[:len(path)-1]
		color[task] = black
	}
	for _, t := range s.Tasks {
		if color[t.Name] == white && !found {
			dfs(t.Name)
		}
	}
}

// edgesOf lists the calls of the tasks in the order of the file.
func edgesOf(s *Spec) []fusionsim.Edge {
	var out []fusionsim.Edge
	seen := map[fusionsim.Edge]bool{}
	for _, t := range s.Tasks {
		eachStep(t.steps, func(st *step) {
			if st.kind == kCall {
				e := fusionsim.Edge{Caller: t.Name, Called: st.task, Sync: st.sync}
				if !seen[e] {
					seen[e] = true
					out = append(out, e)
				}
			}
		})
	}
	return out
}
