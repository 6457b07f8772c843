package workloads

import (
	"time"

	"github.com/fusionsim/fusionsim"
)

// splitSleep is how long B, D and E sleep. E's warm internalDuration is
// 501 ms in calibration/split-generateConfigurations-dualcore-A-13-x-100-x-10
// (1675344670, median).
const splitSleep = 500 * time.Millisecond

// Split is the split/tree workload (reference section 7): entry A, 7 tasks.
// A chain of sync calls with sleeps (A -> B -> D -> E) beside a fan-out of
// CPU burners (A -> C -> F, G, all async).
func Split() Workload {
	app := &fusionsim.App{
		Name:        "split",
		Description: "tree of sleeps and CPU burners of the Fusionize prototype (entry A, 7 tasks)",
		Entry:       "A",
		Tasks: map[string]fusionsim.Task{
			"A": splitA, "B": splitB, "C": splitC, "D": splitD,
			"E": splitE, "F": splitF, "G": splitG,
		},
		Edges: []fusionsim.Edge{
			{Caller: "A", Called: "C", Sync: false},
			{Caller: "A", Called: "B", Sync: true},
			{Caller: "B", Called: "D", Sync: true},
			{Caller: "D", Called: "E", Sync: true},
			{Caller: "C", Called: "F", Sync: false},
			{Caller: "C", Called: "G", Sync: false},
		},
	}
	return Workload{App: app, Tasks: splitDocs()}
}

func splitDocs() []TaskDoc {
	return []TaskDoc{
		{"A", "A", "async C, sync B, waits for both"},
		{"B", "B", "sync D, then sleeps 500 ms"},
		{"C", "C", "async F and async G, two burn(7) workers, waits for all"},
		{"D", "D", "sync E, then sleeps 500 ms"},
		{"E", "E", "sleeps 500 ms"},
		{"F", "F", "two burn(7) workers"},
		{"G", "G", "two burn(8.8) workers"},
	}
}

// SplitTest is the split workload's task G alone, the subject of the memory
// sweep in calibration/splittest-generateConfigurations-twocores-G-….
func SplitTest() Workload {
	app := &fusionsim.App{
		Name:        "splittest",
		Description: "task G of the split workload alone: two burn(8.8) workers (entry G, 1 task)",
		Entry:       "G",
		Tasks:       map[string]fusionsim.Task{"G": splitG},
	}
	return Workload{
		App:         app,
		Tasks:       splitDocs()[6:],
		MemorySizes: []int{128, 768, 1024, 1536, 1650, 2048, 3100, 3300, 4096, 6144, 8192, 10240},
	}
}

func splitA(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	c := ctx.Start("C", in, false)
	b := ctx.Start("B", in, true)
	if err := fusionsim.WaitAll(c, b); err != nil {
		return nil, err
	}
	return fusionsim.Event{"done": "A"}, nil
}

func splitB(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	if _, err := ctx.Call("D", in, true); err != nil {
		return nil, err
	}
	ctx.Sleep(splitSleep)
	return fusionsim.Event{"done": "B"}, nil
}

func splitD(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	if _, err := ctx.Call("E", in, true); err != nil {
		return nil, err
	}
	ctx.Sleep(splitSleep)
	return fusionsim.Event{"done": "D"}, nil
}

func splitE(ctx fusionsim.Context, _ fusionsim.Event) (fusionsim.Event, error) {
	ctx.Sleep(splitSleep)
	return fusionsim.Event{"done": "E"}, nil
}

func splitC(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	f := ctx.Start("F", in, false)
	g := ctx.Start("G", in, false)
	var sum float64
	ctx.Spend(BurnWorkers(WorkBurn2x7, 7, burnWorkersThreads, &sum))
	if err := fusionsim.WaitAll(f, g); err != nil {
		return nil, err
	}
	return fusionsim.Event{"burn": sum}, nil
}

func splitF(ctx fusionsim.Context, _ fusionsim.Event) (fusionsim.Event, error) {
	var sum float64
	ctx.Spend(BurnWorkers(WorkBurn2x7, 7, burnWorkersThreads, &sum))
	return fusionsim.Event{"burn": sum}, nil
}

func splitG(ctx fusionsim.Context, _ fusionsim.Event) (fusionsim.Event, error) {
	var sum float64
	ctx.Spend(BurnWorkers(WorkBurn2x8p8, 8.8, burnWorkersThreads, &sum))
	return fusionsim.Event{"burn": sum}, nil
}
