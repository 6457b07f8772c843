package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/fusionsim/fusionsim/appfile"
	"github.com/fusionsim/fusionsim/workloads"
)

func init() {
	register(command{
		name:    "workloads",
		summary: "list the workloads with their task graphs (or an application file's, --app FILE)",
		run:     runWorkloads,
	})
}

// appFlags are --workload and --app: a command's application, by name (Go
// code or a built-in application file) or from an application file.
type appFlags struct{ name, file string }

// define adds both flags; what ends the --workload line (e.g. "
// (required)").
func (a *appFlags) define(fs *flag.FlagSet, what string) {
	fs.StringVar(&a.name, "workload", "", "the `NAME` of the application: "+strings.Join(appfile.Names(), ", ")+what+" (\"simulate workloads\" lists them)")
	fs.StringVar(&a.file, "app", "", "the application `FILE` (YAML or JSON, see the README's \"Application files\") instead of --workload")
}

// given reports whether either flag is set.
func (a *appFlags) given() bool { return a.name != "" || a.file != "" }

// label names the application in messages: the name or the file.
func (a *appFlags) label() string {
	if a.file != "" {
		return "--app " + a.file
	}
	return "--workload " + a.name
}

// resolve returns the application; spec is nil for Go code. Errors are
// usage errors that name the flag (an application file's errors name the
// file, line and field).
func (a *appFlags) resolve() (workloads.Workload, *appfile.Spec, error) {
	switch {
	case a.name != "" && a.file != "":
		return workloads.Workload{}, nil, usageError("--workload %q and --app %q: give one of them", a.name, a.file)
	case !a.given():
		return workloads.Workload{}, nil, usageError("--workload is required (%s), or --app FILE (an application file)", strings.Join(appfile.Names(), ", "))
	}
	w, s, err := appfile.Resolve(a.name, a.file)
	if err != nil {
		if a.file != "" {
			return workloads.Workload{}, nil, usageError("--app %s: %v", a.file, err)
		}
		return workloads.Workload{}, nil, usageError("--workload %q: %v", a.name, err)
	}
	return w, s, nil
}

func runWorkloads(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("workloads", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("app", "", "show the application `FILE` (YAML or JSON) instead: its task graph and every task's steps")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: simulate workloads [NAME...] | --app FILE")
		fmt.Fprintln(fs.Output())
		fmt.Fprintln(fs.Output(), "Lists the workloads (or the named ones): each task with its calls, as")
		fmt.Fprintln(fs.Output(), "\"-> X (sync)\" in the order the code makes them, and its behaviour. For an")
		fmt.Fprintln(fs.Output(), "application file (--app, or a workload that exists only as a built-in file) also")
		fmt.Fprintln(fs.Output(), "each task's steps: calls with their type and fan-out, work with its figures,")
		fmt.Fprintln(fs.Output(), "storage with its table and key.")
		fmt.Fprintln(fs.Output())
		fmt.Fprintln(fs.Output(), "Flags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file != "" {
		if fs.NArg() > 0 {
			return usageError("give --app FILE or workload names, not both")
		}
		w, s, err := appfile.Load(*file)
		if err != nil {
			return usageError("--app %s: %v", *file, err)
		}
		printWorkload(stdout, w, s)
		return nil
	}
	var list []workloads.Workload
	if fs.NArg() == 0 {
		list = appfile.All()
	}
	for _, name := range fs.Args() {
		w, err := appfile.Get(name)
		if err != nil {
			return usageError("%v", err)
		}
		list = append(list, w)
	}
	for i, w := range list {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		var spec *appfile.Spec
		if w.File != "" {
			s, err := appfile.Builtin(w.Name())
			if err != nil {
				return err
			}
			spec = s
		}
		printWorkload(stdout, w, spec)
	}
	return nil
}

// printWorkload lists w's task graph; spec, when w comes from an
// application file, adds every task's steps.
func printWorkload(out io.Writer, w workloads.Workload, spec *appfile.Spec) {
	app := w.App
	fmt.Fprintf(out, "%s: %s\n", app.Name, app.Description)
	entry := "entry " + app.Entry
	if es := app.EntryTasks(); len(es) > 1 {
		entry = "entries " + strings.Join(es, ", ") + " (default " + app.Entry + ")"
	}
	fmt.Fprintf(out, "  %s, %s, %s; reached from the %s: %s\n",
		entry, plural(len(app.Tasks), "task"), plural(len(app.Edges), "call"), strings.SplitN(entry, " ", 2)[0], strings.Join(workloads.Reachable(app), " "))
	switch {
	case w.File != "":
		fmt.Fprintf(out, "  application file %s", w.File)
		if len(w.Tables) > 0 {
			fmt.Fprintf(out, "; tables %s", strings.Join(w.Tables, ", "))
		}
		fmt.Fprintln(out)
	default:
		if _, ok := workloads.File(app.Name); ok {
			fmt.Fprintf(out, "  Go code (workloads/); the same as a file: workloads/%s.yaml (--app workloads/%s.yaml gives identical results)\n", app.Name, app.Name)
		}
	}
	if sc := w.Scenario; sc != nil {
		where := ""
		if spec != nil && spec.Load != nil {
			where = fmt.Sprintf(" (load:, line %d)", spec.Load.Line)
		}
		c := *sc
		c.File = "" // the application's file, named above
		fmt.Fprintf(out, "  default load%s, sent when no load flag is given: %s\n", where, strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(c.String(), "scenario"), ": ")))
	}
	switch {
	case w.MemorySizes != nil && w.OneFunction():
		fmt.Fprintf(out, "  default memory sweep (MB): %s\n", joinInts(w.MemorySizes))
	case w.MemorySizes != nil:
		fmt.Fprintf(out, "  memory sizes (MB) of the Fusionize++ loop: %s\n", joinInts(w.MemorySizes))
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, d := range w.Tasks {
		var calls []string
		for _, e := range workloads.Callees(app, d.Name) {
			kind := "async"
			if e.Sync {
				kind = "sync"
			}
			calls = append(calls, e.Called+" ("+kind+")")
		}
		c := "-"
		if len(calls) > 0 {
			c = "-> " + strings.Join(calls, ", ")
		}
		title := d.Title
		if title == d.Name {
			title = ""
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", d.Name, title, c)
	}
	tw.Flush()
	fmt.Fprintln(out, "  behaviour:")
	for _, d := range w.Tasks {
		fmt.Fprintf(out, "    %s: %s\n", d.Name, d.Behaviour)
	}
	if spec != nil {
		fmt.Fprintln(out, "  steps:")
		spec.WriteOutline(out)
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}
