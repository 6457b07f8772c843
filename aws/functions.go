package aws

import (
	"fmt"
	"sort"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/workloads"
)

// Functions lists, sorted by name, the functions a deployment of setup
// needs: the function of its entry route (workloads.EntryRoute) and of every
// root in extra (other entry routes), and every function a request reaches
// from them through the remote rules of the tasks that run in each function
// (its entry task and the tasks its local rules reach). Rule rows of tasks
// that never run as a function's entry are not followed.
func Functions(app *fusionsim.App, setup *fusionsim.Setup, extra ...fusionsim.FunctionID) ([]fusionsim.FunctionID, error) {
	route, err := workloads.EntryRoute(app, setup)
	if err != nil {
		return nil, err
	}
	seen := map[fusionsim.FunctionID]bool{}
	var order []fusionsim.FunctionID
	add := func(id fusionsim.FunctionID) {
		if !seen[id] {
			seen[id] = true
			order = append(order, id)
		}
	}
	add(route.Function())
	for _, id := range extra {
		add(id)
	}
	for i := 0; i < len(order); i++ {
		fn := order[i]
		running := []string{fn.Task}
		in := map[string]bool{fn.Task: true}
		for j := 0; j < len(running); j++ {
			for _, e := range workloads.Callees(app, running[j]) {
				r, ok := setup.Rule(fn.Task, e.Called, e.Sync)
				if !ok {
					// The function fails this call (fusionsim.ErrNoRule)
					// on every platform; nothing to deploy for it.
					continue
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
					return nil, fmt.Errorf("setup %s: rules[%q][%q]: %w", setup.Name(), fn.Task, e.Called, err)
				}
				add(rt.Function())
			}
		}
	}
	sort.Slice(order, func(i, j int) bool { return order[i].Name() < order[j].Name() })
	return order, nil
}

// checkSetup validates setup against app.
func checkSetup(app *fusionsim.App, setup *fusionsim.Setup) error {
	if setup == nil {
		return fmt.Errorf("setup is nil")
	}
	if err := setup.Validate(); err != nil {
		return fmt.Errorf("setup %q: %w", setup.Name(), err)
	}
	for _, entry := range sortedKeys(setup.Rules) {
		if _, ok := app.Tasks[entry]; !ok {
			return fmt.Errorf("setup %q: rules[%q]: not a task of %s", setup.Name(), entry, app.Name)
		}
		for _, called := range sortedKeys(setup.Rules[entry]) {
			if _, ok := app.Tasks[called]; !ok {
				return fmt.Errorf("setup %q: rules[%q][%q]: not a task of %s", setup.Name(), entry, called, app.Name)
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
