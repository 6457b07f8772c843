package appfile

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/workloads"
)

// Builtin reads the built-in application file of the workload called name
// (workloads/<name>.yaml, embedded in the binary).
func Builtin(name string) (*Spec, error) {
	b, ok := workloads.File(name)
	if !ok {
		return nil, fmt.Errorf("%w %q: no built-in application file (files: %s)", workloads.ErrUnknownWorkload, name, strings.Join(workloads.FileNames(), ", "))
	}
	return Parse("workloads/"+name+".yaml", b)
}

// Names lists every workload a name finds: the Go workloads and the
// built-in application files, sorted.
func Names() []string {
	set := map[string]bool{}
	for _, n := range workloads.Names() {
		set[n] = true
	}
	for _, n := range workloads.FileNames() {
		set[n] = true
	}
	return sortedKeys(set)
}

// Get returns the workload called name: its Go code when it has some
// (workloads.Get: iot, split, splittest, sieve), else its built-in
// application file. A workload with both runs the Go code; its file is
// equivalent (same traces for the same seed, TestBuiltinFilesEqualGo).
func Get(name string) (workloads.Workload, error) {
	w, _, err := get(name)
	return w, err
}

// get is Get, with the spec of a built-in file (nil for Go code): it reads
// and parses the file once.
func get(name string) (workloads.Workload, *Spec, error) {
	w, err := workloads.Get(name)
	if err == nil {
		return w, nil, nil
	}
	if !errors.Is(err, workloads.ErrUnknownWorkload) {
		return workloads.Workload{}, nil, err
	}
	b, ok := workloads.File(name)
	if !ok {
		return workloads.Workload{}, nil, fmt.Errorf("%w %q (workloads: %s; or give an application file with --app FILE)", workloads.ErrUnknownWorkload, name, strings.Join(Names(), ", "))
	}
	s, err := Parse("workloads/"+name+".yaml", b)
	if err != nil {
		return workloads.Workload{}, nil, err
	}
	return s.Workload(), s, nil
}

// All returns every workload Get finds, by name.
func All() []workloads.Workload {
	var out []workloads.Workload
	for _, n := range Names() {
		w, err := Get(n)
		if err != nil {
			panic("appfile: built-in workload " + n + ": " + err.Error()) // a test reads every built-in file
		}
		out = append(out, w)
	}
	return out
}

// Load returns the workload of the application file at path.
func Load(path string) (workloads.Workload, *Spec, error) {
	s, err := ReadFile(path)
	if err != nil {
		return workloads.Workload{}, nil, err
	}
	return s.Workload(), s, nil
}

// Resolve finds the workload of a command line: --workload name or --app
// file, exactly one of them. The spec is nil for a Go workload.
func Resolve(name, file string) (workloads.Workload, *Spec, error) {
	switch {
	case name != "" && file != "":
		return workloads.Workload{}, nil, fmt.Errorf("give --workload NAME or --app FILE, not both")
	case file != "":
		return Load(file)
	case name == "":
		return workloads.Workload{}, nil, fmt.Errorf("give --workload NAME (%s) or --app FILE", strings.Join(Names(), ", "))
	}
	return get(name)
}

// WithGoTasks is the escape hatch for logic no file can express: w with
// the tasks of code in place of the file's tasks of the same names (or as
// new tasks), as Go (fusionsim.Task). calls lists the calls the Go tasks
// make, in the order their code makes them; they replace the file's calls
// of those tasks in the call graph (App.Edges, which setups and optimizers
// read), at the place of the first of them. The result is validated.
func WithGoTasks(w workloads.Workload, code map[string]fusionsim.Task, calls []fusionsim.Edge) (workloads.Workload, error) {
	app := *w.App
	app.Tasks = maps.Clone(w.App.Tasks)
	for name, t := range code {
		if t == nil {
			return workloads.Workload{}, fmt.Errorf("WithGoTasks: task %s has no code", name)
		}
		app.Tasks[name] = t
	}
	for _, e := range calls {
		if _, ok := code[e.Caller]; !ok {
			return workloads.Workload{}, fmt.Errorf("WithGoTasks: call %s: %s is not one of the Go tasks", e, e.Caller)
		}
	}
	app.Edges = nil
	placed := map[string]bool{}
	place := func(task string) {
		if placed[task] {
			return
		}
		placed[task] = true
		for _, e := range calls {
			if e.Caller == task {
				app.Edges = append(app.Edges, e)
			}
		}
	}
	for _, e := range w.App.Edges {
		if _, goTask := code[e.Caller]; goTask {
			place(e.Caller)
			continue
		}
		app.Edges = append(app.Edges, e)
	}
	for _, e := range calls {
		place(e.Caller)
	}
	if err := app.Validate(); err != nil {
		return workloads.Workload{}, fmt.Errorf("WithGoTasks: %w", err)
	}
	out := w
	out.App = &app
	out.Tasks = nil
	seen := map[string]bool{}
	for _, d := range w.Tasks {
		if _, goTask := code[d.Name]; goTask {
			d.Behaviour = "Go code"
		}
		seen[d.Name] = true
		out.Tasks = append(out.Tasks, d)
	}
	for _, name := range sortedKeys(code) {
		if !seen[name] {
			out.Tasks = append(out.Tasks, workloads.TaskDoc{Name: name, Title: name, Behaviour: "Go code"})
		}
	}
	return out, nil
}
