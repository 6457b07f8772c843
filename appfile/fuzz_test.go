package appfile

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/workloads"
)

// errBudget stops a fuzzed application that does too much.
var errBudget = errors.New("budget spent")

// fakeCtx runs tasks synchronously and in-process, with a budget of
// operations, for fuzzing the interpreter without a platform.
type fakeCtx struct {
	app    *fusionsim.App
	task   string
	depth  int
	budget *int
	rng    *rand.Rand
	store  map[int64]string
}

type doneFuture struct {
	ev  fusionsim.Event
	err error
}

func (f doneFuture) Wait() (fusionsim.Event, error) { return f.ev, f.err }

func (c *fakeCtx) spend() {
	*c.budget--
	if *c.budget < 0 {
		panic(errBudget)
	}
}

func (c *fakeCtx) Task() string { return c.task }
func (c *fakeCtx) Call(task string, in fusionsim.Event, sync bool) (fusionsim.Event, error) {
	return c.Start(task, in, sync).Wait()
}
func (c *fakeCtx) Start(task string, in fusionsim.Event, sync bool) fusionsim.Future {
	c.spend()
	code, ok := c.app.Tasks[task]
	if !ok {
		return doneFuture{err: errors.New("unknown task " + task)}
	}
	if c.depth > 8 {
		return doneFuture{err: errors.New("too deep")}
	}
	child := *c
	child.task, child.depth = task, c.depth+1
	ev, err := code(&child, in)
	return doneFuture{ev, err}
}
func (c *fakeCtx) Go(fn func(fusionsim.Context) (fusionsim.Event, error)) fusionsim.Future {
	c.spend()
	ev, err := fn(c)
	return doneFuture{ev, err}
}
func (c *fakeCtx) Spend(fusionsim.Work)             { c.spend() } // never the real computation
func (c *fakeCtx) Sleep(time.Duration)              { c.spend() }
func (c *fakeCtx) UseMemory(float64)                { c.spend() }
func (c *fakeCtx) Rand() *rand.Rand                 { return c.rng }
func (c *fakeCtx) Log(string)                       { c.spend() }
func (c *fakeCtx) Now() time.Time                   { return time.Time{} }
func (c *fakeCtx) Delete(_ string, key int64) error { c.spend(); delete(c.store, key); return nil }
func (c *fakeCtx) Put(_ string, it fusionsim.Item) error {
	c.spend()
	c.store[it.Key] = it.Message
	return nil
}
func (c *fakeCtx) Get(_ string, key int64) (fusionsim.Item, bool, error) {
	c.spend()
	m, ok := c.store[key]
	return fusionsim.Item{Key: key, Message: m}, ok, nil
}
func (c *fakeCtx) Query(t string, key int64) ([]fusionsim.Item, error) {
	it, ok, err := c.Get(t, key)
	if !ok {
		return nil, err
	}
	return []fusionsim.Item{it}, err
}

// FuzzReadApp: no file makes the reader, the checker, the listing or the
// interpreter panic or hang. A file that reads is a valid application
// (App.Validate), every error is an *Error naming the file, and its entry
// tasks run (synchronously, on a budget) without panicking.
func FuzzReadApp(f *testing.F) {
	for _, n := range workloads.FileNames() {
		b, _ := workloads.File(n)
		f.Add(b)
	}
	if b, err := os.ReadFile(filepath.Join("testdata", "minishop.yaml")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(app("  A:\n    - {call: A, sync: true}\n")))
	f.Add([]byte(`{"name": "j", "entry": "A", "tables": ["T"], "tasks": {"A": [{"put": "T", "key": "${random_int(1, 9)}", "count": 3, "start": true}, "wait"]}}`))
	f.Add([]byte("name: t\nentry: A\ntasks:\n  A:\n    - set: {x: \"${normal(1, 2) > 0 ? [1, 2][0] : event.a.b ?? 'q'}\"}\n    - if: $x\n      then: [{fail: \"no ${x}\"}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.File != "fuzz.yaml" {
				t.Fatalf("error %v is no *Error naming the file", err)
			}
			return
		}
		w := s.Workload()
		if err := w.App.Validate(); err != nil {
			t.Fatalf("a file that reads is no valid application: %v", err)
		}
		s.WriteOutline(io.Discard)
		budget := 2000
		for _, e := range w.App.EntryTasks() {
			c := &fakeCtx{app: w.App, task: e, budget: &budget, rng: rand.New(rand.NewPCG(1, 2)), store: map[int64]string{}}
			func() {
				defer func() {
					if r := recover(); r != nil && r != errBudget {
						panic(r)
					}
				}()
				_, _ = w.App.Tasks[e](c, fusionsim.Event{"n": 3, "s": "x"})
			}()
		}
	})
}
