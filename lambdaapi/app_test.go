package lambdaapi

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
)

// testApp is a small application that exercises the server: ROOT calls
// CHILD sync and CHILD2 async (remote in the "remote" setup), ECHO returns
// its event, FAIL fails, SLOW sleeps, CHATTY logs a lot, BADJSON returns a
// result that cannot be encoded without panicking.
func testApp() *fusionsim.App {
	return &fusionsim.App{
		Name:  "testapp",
		Entry: "ROOT",
		Tasks: map[string]fusionsim.Task{
			"ROOT": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				f := ctx.Start("CHILD2", fusionsim.Event{"n": in.Int("n", 0)}, false)
				res, err := ctx.Call("CHILD", fusionsim.Event{"n": in.Int("n", 0)}, true)
				if err != nil {
					return nil, err
				}
				if _, err := f.Wait(); err != nil {
					return nil, err
				}
				return fusionsim.Event{"child": res["n"]}, nil
			},
			"CHILD": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				ctx.Spend(fusionsim.Work{Name: "child", CPUMs: 5, Threads: 1})
				return fusionsim.Event{"n": in.Int("n", 0) + 1}, nil
			},
			"CHILD2": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				ctx.Sleep(20 * time.Millisecond)
				return fusionsim.Event{}, nil
			},
			"ECHO": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				ctx.Log("echo says hello")
				return fusionsim.Event{"echo": map[string]any(in)}, nil
			},
			"FAIL": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				return nil, errors.New("boom: the task failed on purpose")
			},
			"SLOW": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				ctx.Sleep(time.Duration(in.Int("ms", 1000)) * time.Millisecond)
				return fusionsim.Event{"slept": true}, nil
			},
			"CHATTY": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				for i := range in.Int("lines", 200) {
					ctx.Log(fmt.Sprintf("line %04d %s", i, strings.Repeat("x", 40)))
				}
				return fusionsim.Event{}, nil
			},
			"BADJSON": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				return fusionsim.Event{"bad": panicJSON{}}, nil
			},
		},
		Edges: []fusionsim.Edge{
			{Caller: "ROOT", Called: "CHILD", Sync: true},
			{Caller: "ROOT", Called: "CHILD2", Sync: false},
		},
	}
}

// panicJSON panics when encoded.
type panicJSON struct{}

func (panicJSON) MarshalJSON() ([]byte, error) { panic("panicJSON: encoded") }

// remoteSetup makes every call of app remote, at 128 MB.
func remoteSetup(app *fusionsim.App, name string) *fusionsim.Setup {
	return generatedSetup(app, name, fusionsim.Remote)
}

// localSetup makes every call of app local.
func localSetup(app *fusionsim.App, name string) *fusionsim.Setup {
	return generatedSetup(app, name, fusionsim.Local)
}

func generatedSetup(app *fusionsim.App, name, strategy string) *fusionsim.Setup {
	s := &fusionsim.Setup{Rules: fusionsim.Rules{}, TraceName: fusionsim.NewTraceName(name)}
	for _, entry := range app.TaskNames() {
		m := map[string]fusionsim.RulePair{}
		for _, called := range app.TaskNames() {
			p := fusionsim.RulePair{Sync: fusionsim.Rule{Strategy: fusionsim.Local}, Async: fusionsim.Rule{Strategy: fusionsim.Local}}
			if strategy == fusionsim.Remote {
				p.Sync = fusionsim.Rule{Strategy: fusionsim.Remote, URL: "SYNC-" + called + "-128"}
				p.Async = fusionsim.Rule{Strategy: fusionsim.Remote, URL: called + "-128"}
			}
			m[called] = p
		}
		s.Rules[entry] = m
	}
	return s
}

// zeroProfile is the default profile with every modeled latency, CPU cost
// and cold start set to zero: what the HTTP front adds is all that is left.
func zeroProfile() model.Profile {
	p := model.Default()
	p.Name = "zero"
	zero := model.Cost{}
	p.ColdStart.RuntimeInitMs = map[string]model.Dist{p.ColdStart.Runtime: {}}
	p.ColdStart.PackageMB, p.ColdStart.InitMsPerPackageMB, p.ColdStart.InitCPUMs = 0, 0, 0
	p.ColdStart.FirstEvent = zero
	p.Remote = model.Remote{}
	p.Storage = model.Storage{}
	p.Handler.EventStartToInvokeLocal, p.Handler.AfterHandler = zero, zero
	return p
}
