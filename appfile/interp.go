package appfile

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/workloads"
)

// Workload builds the application of the file: every task a
// fusionsim.Task that runs its steps through the task API, so the emulator,
// the AWS handler and everything else run it as they run Go code. The
// workload is stateless (one serves any number of runs).
func (s *Spec) Workload() workloads.Workload {
	app := &fusionsim.App{
		Name:        s.Name,
		Description: s.Description,
		Entry:       s.Entries[0],
		Tasks:       make(map[string]fusionsim.Task, len(s.Tasks)),
		Edges:       append([]fusionsim.Edge(nil), s.edges...),
	}
	if len(s.Entries) > 1 {
		app.Entries = append([]string(nil), s.Entries...)
	}
	docs := make([]workloads.TaskDoc, len(s.Tasks))
	for i, t := range s.Tasks {
		app.Tasks[t.Name] = s.task(t)
		behaviour := t.Doc
		if behaviour == "" {
			behaviour = t.summary()
		}
		docs[i] = workloads.TaskDoc{Name: t.Name, Title: t.Title, Behaviour: behaviour}
	}
	return workloads.Workload{
		App:         app,
		Tasks:       docs,
		MemorySizes: append([]int(nil), s.MemorySizesMB...),
		Event:       maps.Clone(s.Event),
		Tables:      append([]string(nil), s.Tables...),
		File:        s.File,
		Scenario:    s.Scenario,
	}
}

// task is the code of t: an interpreter over its steps.
func (s *Spec) task(t *Task) fusionsim.Task {
	return func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
		if in == nil {
			in = fusionsim.Event{}
		}
		st := &strand{spec: s, task: t, ctx: ctx, vars: map[string]any{"event": in}, index: undefined}
		if err := st.run(t.steps); err != nil {
			return nil, err
		}
		if st.returned {
			return st.result(st.ret, Pos{}, "return")
		}
		if err := st.waitAll(); err != nil {
			return nil, err
		}
		if t.response == nil {
			return fusionsim.Event{}, nil
		}
		v, err := eval(t.response, st.scope())
		if err != nil {
			return nil, st.fail(t.respPos, "tasks."+t.Name+".response", err)
		}
		return st.result(v, t.respPos, "tasks."+t.Name+".response")
	}
}

// strand is one thread of a task's steps: the task itself, or a copy of a
// fan-out or a branch started with Context.Go. Variables set in a strand
// stay in it; a started step's result (as:) reaches the strand that waits
// for it.
type strand struct {
	spec  *Spec
	task  *Task
	ctx   fusionsim.Context
	vars  map[string]any
	index any // the copy's number in a fan-out, else undefined

	pending  []*startedStep
	returned bool
	ret      any
}

// startedStep is a step whose copies run concurrently: calls started with
// Context.Start, other steps with Context.Go.
type startedStep struct {
	st      *step
	futures []fusionsim.Future
	slots   []*any // results of Go copies (nil for calls)
	list    bool   // a fan-out: as: gets a list
}

func (s *strand) scope() *scope {
	return &scope{vars: s.vars, index: s.index, rand: s.ctx.Rand}
}

// fail is an error of a step at run time, a function error naming the
// file, line and field.
func (s *strand) fail(pos Pos, field string, err error) error {
	return fmt.Errorf("%s:%d: %s: %w", s.spec.File, pos.Line, field, err)
}

// stepFail is an error of field of step st at run time.
func (s *strand) stepFail(st *step, field string, err error) error {
	return s.fail(at(st, field), join(st.field, field), err)
}

func (s *strand) eval(n node, st *step, field string) (any, error) {
	v, err := eval(n, s.scope())
	if err != nil {
		return nil, s.stepFail(st, field, err)
	}
	return v, nil
}

// result turns a response value into the task's event.
func (s *strand) result(v any, pos Pos, field string) (fusionsim.Event, error) {
	if v == undefined || v == nil {
		return fusionsim.Event{}, nil
	}
	if m, ok := asObject(v); ok {
		if m == nil {
			return fusionsim.Event{}, nil
		}
		return fusionsim.Event(m), nil
	}
	return nil, s.fail(pos, field, fmt.Errorf("the response must be an object, not %s", describe(v)))
}

// run runs steps in order until one fails or returns.
func (s *strand) run(steps []*step) error {
	for _, st := range steps {
		if err := s.runStep(st); err != nil {
			return err
		}
		if s.returned {
			return nil
		}
	}
	return nil
}

func (s *strand) runStep(st *step) error {
	switch st.kind {
	case kParallel:
		return s.parallel(st)
	case kWait:
		return s.waitAll()
	}
	if st.count == nil && !st.start {
		v, err := s.exec(st)
		if err != nil {
			return err
		}
		if st.as != "" {
			s.vars[st.as] = v
		}
		return nil
	}
	sp, err := s.startCopies(st)
	if err != nil {
		return err
	}
	if st.start {
		s.pending = append(s.pending, sp)
		return nil
	}
	return s.await(sp)
}

// startCopies starts the copies of a fan-out (or the one copy of a
// started step).
func (s *strand) startCopies(st *step) (*startedStep, error) {
	n := 1
	sp := &startedStep{st: st}
	if st.count != nil {
		v, err := s.eval(st.count, st, "count")
		if err != nil {
			return nil, err
		}
		c, ok := toInt(v)
		if !ok {
			return nil, s.stepFail(st, "count", fmt.Errorf("the fan-out's size %s is not a number", describe(v)))
		}
		if c > maxFanOutSize {
			return nil, s.stepFail(st, "count", fmt.Errorf("a fan-out of %d copies: at most %d", c, maxFanOutSize))
		}
		n, sp.list = max(c, 0), true
	}
	for i := range n {
		idx := s.index
		if sp.list {
			idx = i
		}
		if st.kind == kCall {
			ev, err := s.withIndex(idx).callEvent(st)
			if err != nil {
				return nil, err
			}
			sp.futures = append(sp.futures, s.ctx.Start(st.task, ev, st.sync))
			continue
		}
		f, slot := s.goChild(idx, func(child *strand) (func() any, error) {
			v, err := child.exec(st)
			return func() any { return v }, err
		})
		sp.futures = append(sp.futures, f)
		sp.slots = append(sp.slots, slot)
	}
	return sp, nil
}

// goChild runs body in a strand of its own started with Context.Go (a copy
// of the variables, index idx), which then waits for the steps it started.
// body gives the step's result as a function, read after that wait (an as:
// of a started step is set only then); the result reaches the slot.
func (s *strand) goChild(idx any, body func(*strand) (func() any, error)) (fusionsim.Future, *any) {
	slot := new(any)
	vars := maps.Clone(s.vars)
	f := s.ctx.Go(func(c fusionsim.Context) (fusionsim.Event, error) {
		child := &strand{spec: s.spec, task: s.task, ctx: c, vars: vars, index: idx}
		result, err := body(child)
		if err == nil {
			err = child.waitAll()
		}
		*slot = result()
		return nil, err
	})
	return f, slot
}

// withIndex is s seen from a fan-out copy: the same variables, another index.
func (s *strand) withIndex(idx any) *strand {
	if idx == s.index {
		return s
	}
	c := *s
	c.index = idx
	return &c
}

// await waits for every copy of sp, in order, then sets its as: variable;
// the first error is returned after all have finished (Promise.all waits
// for every promise here, as fusionsim.WaitAll does).
func (s *strand) await(sp *startedStep) error {
	var first error
	results := make([]any, len(sp.futures))
	for i, f := range sp.futures {
		ev, err := f.Wait()
		if err != nil && first == nil {
			first = err
		}
		if sp.slots != nil {
			results[i] = *sp.slots[i]
		} else {
			results[i] = ev
		}
	}
	if first != nil {
		return first
	}
	if sp.st.as != "" {
		if sp.list {
			s.vars[sp.st.as] = results
		} else if len(results) == 1 {
			s.vars[sp.st.as] = results[0]
		}
	}
	return nil
}

// waitAll waits for every started step, in the order they started.
func (s *strand) waitAll() error {
	err := s.awaitAll(s.pending)
	s.pending = nil
	return err
}

// awaitAll awaits each of sps in order; the first error is returned after
// all have finished.
func (s *strand) awaitAll(sps []*startedStep) error {
	var first error
	for _, sp := range sps {
		if err := s.await(sp); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// parallel starts every branch (a call with Context.Start, any other step
// with Context.Go), then waits for all of them in order.
func (s *strand) parallel(st *step) error {
	var sps []*startedStep
	for _, b := range st.branches {
		if b.kind == kCall || b.count != nil {
			sp, err := s.startCopies(b)
			if err != nil {
				return err
			}
			sps = append(sps, sp)
			continue
		}
		f, slot := s.goChild(s.index, func(child *strand) (func() any, error) {
			err := child.runStep(b)
			return func() any { return child.vars[b.as] }, err
		})
		sps = append(sps, &startedStep{st: b, futures: []fusionsim.Future{f}, slots: []*any{slot}})
	}
	return s.awaitAll(sps)
}

func (s *strand) callEvent(st *step) (fusionsim.Event, error) {
	if st.event == nil {
		return s.vars["event"].(fusionsim.Event), nil
	}
	v, err := s.eval(st.event, st, "event")
	if err != nil {
		return nil, err
	}
	if v == undefined || v == nil {
		return fusionsim.Event{}, nil
	}
	m, ok := asObject(v)
	if !ok {
		return nil, s.stepFail(st, "event", fmt.Errorf("the event must be an object, not %s", describe(v)))
	}
	return fusionsim.Event(m), nil
}

// exec runs one copy of a step in this strand and returns its result.
func (s *strand) exec(st *step) (any, error) {
	ctx := s.ctx
	switch st.kind {
	case kCall:
		ev, err := s.callEvent(st)
		if err != nil {
			return nil, err
		}
		res, err := ctx.Call(st.task, ev, st.sync)
		if err != nil {
			return nil, err
		}
		return res, nil
	case kWork:
		w := st.work.Work()
		var sum float64
		if st.work.BurnK != 0 {
			w.Run = workloads.BurnWorkers(w.Name, st.work.BurnK, max(w.Threads, 1), &sum).Run
		}
		if n := st.work.SieveN; n > 0 {
			var count int
			sw, err := workloads.SieveWork(workloads.SievePlain, n, &count)
			if err != nil {
				return nil, err
			}
			w.Run = sw.Run
			ctx.Spend(w)
			return count, nil
		}
		ctx.Spend(w)
		return sum, nil
	case kSieve:
		v, err := s.eval(st.n, st, kSieve)
		if err != nil {
			return nil, err
		}
		n, ok := toInt(v)
		if !ok {
			return nil, s.stepFail(st, kSieve, fmt.Errorf("the sieve's size %s is not a number", describe(v)))
		}
		alg := workloads.SievePlain
		if st.algorithm != nil {
			a, err := s.eval(st.algorithm, st, "algorithm")
			if err != nil {
				return nil, err
			}
			as, isString := a.(string)
			if !isString {
				return nil, fmt.Errorf("sieve: algorithm %v is not a string", a)
			}
			alg = as
		}
		var count int
		w, err := workloads.SieveWork(alg, n, &count)
		if err != nil {
			return nil, err
		}
		ctx.Spend(w)
		return count, nil
	case kSleep:
		ms, err := s.figure(st, kSleep, "milliseconds")
		if err != nil {
			return nil, err
		}
		ctx.Sleep(time.Duration(math.Round(ms * float64(time.Millisecond))))
		return nil, nil
	case kMemory:
		mb, err := s.figure(st, kMemory, "MB")
		if err != nil {
			return nil, err
		}
		ctx.UseMemory(mb)
		return nil, nil
	case kPut, kGet, kQuery, kDelete:
		return s.storage(st)
	case kSet:
		for _, a := range st.sets {
			v, err := s.eval(a.val, st, "set."+a.name)
			if err != nil {
				return nil, err
			}
			s.vars[a.name] = v
		}
		return nil, nil
	case kIf:
		c, err := s.eval(st.value, st, kIf)
		if err != nil {
			return nil, err
		}
		if truthy(c) {
			return nil, s.run(st.then)
		}
		return nil, s.run(st.els)
	case kSwitch:
		v, err := s.eval(st.value, st, kSwitch)
		if err != nil {
			return nil, err
		}
		if v != undefined && v != nil {
			key := text(v)
			for _, c := range st.cases {
				if c.value == key {
					return nil, s.run(c.steps)
				}
			}
		}
		if st.hasDef {
			return nil, s.run(st.def)
		}
		vals := make([]string, len(st.cases))
		for i, c := range st.cases {
			vals[i] = c.value
		}
		return nil, s.stepFail(st, kSwitch, fmt.Errorf("%s is %s, none of the cases %s (give default: for other values)", exprString(st.value), describe(v), strings.Join(vals, ", ")))
	case kDo:
		return nil, s.run(st.then)
	case kLog:
		v, err := s.eval(st.value, st, kLog)
		if err != nil {
			return nil, err
		}
		ctx.Log(text(v))
		return nil, nil
	case kFail:
		v, err := s.eval(st.value, st, kFail)
		if err != nil {
			return nil, err
		}
		return nil, errors.New(text(v))
	case kReturn:
		if err := s.waitAll(); err != nil {
			return nil, err
		}
		v, err := s.eval(st.value, st, kReturn)
		if err != nil {
			return nil, err
		}
		s.returned, s.ret = true, v
		return nil, nil
	}
	return nil, s.fail(st.pos, st.field, fmt.Errorf("unknown step %s", st.kind))
}

// figure evaluates a step's figure: a number >= 0.
func (s *strand) figure(st *step, field, unit string) (float64, error) {
	v, err := s.eval(st.value, st, field)
	if err != nil {
		return 0, err
	}
	f, _, ok := number(v)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0, s.stepFail(st, field, fmt.Errorf("%s is not a number >= 0 (%s)", describe(v), unit))
	}
	return f, nil
}

func (s *strand) storage(st *step) (any, error) {
	kv, err := s.eval(st.key, st, "key")
	if err != nil {
		return nil, err
	}
	k, ok := toInt(kv)
	if !ok {
		return nil, s.stepFail(st, "key", fmt.Errorf("the key %s is not a number", describe(kv)))
	}
	key := int64(k)
	switch st.kind {
	case kPut:
		msg := ""
		if st.message != nil {
			m, err := s.eval(st.message, st, "message")
			if err != nil {
				return nil, err
			}
			if m != undefined {
				msg = text(m)
			}
		}
		return nil, s.ctx.Put(st.table, fusionsim.Item{Key: key, Message: msg})
	case kGet:
		it, found, err := s.ctx.Get(st.table, key)
		if err != nil || !found {
			return undefined, err
		}
		return itemValue(it), nil
	case kQuery:
		items, err := s.ctx.Query(st.table, key)
		if err != nil {
			return nil, err
		}
		list := make([]any, len(items))
		for i, it := range items {
			list[i] = itemValue(it)
		}
		return list, nil
	}
	return nil, s.ctx.Delete(st.table, key)
}

// itemValue is a stored item as the steps see it: {key, message}.
func itemValue(it fusionsim.Item) fusionsim.Event {
	return fusionsim.Event{"key": int(it.Key), "message": it.Message}
}
