package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/fusionsim/fusionsim/workloads"
)

func init() {
	register(command{
		name:    "workloads",
		summary: "list the workloads with their task graphs",
		run:     runWorkloads,
	})
}

func runWorkloads(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("workloads", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: simulate workloads [NAME...]")
		fmt.Fprintln(fs.Output())
		fmt.Fprintln(fs.Output(), "Lists the workloads (or the named ones): each task with its calls, as")
		fmt.Fprintln(fs.Output(), "\"-> X (sync)\" in the order the code makes them, and its behaviour.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var list []workloads.Workload
	if fs.NArg() == 0 {
		list = workloads.All()
	}
	for _, name := range fs.Args() {
		w, err := workloads.Get(name)
		if err != nil {
			return usageError("%v", err)
		}
		list = append(list, w)
	}
	for i, w := range list {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		printWorkload(stdout, w)
	}
	return nil
}

func printWorkload(out io.Writer, w workloads.Workload) {
	app := w.App
	fmt.Fprintf(out, "%s: %s\n", app.Name, app.Description)
	fmt.Fprintf(out, "  entry %s, %s, %s; reached from the entry: %s\n",
		app.Entry, plural(len(app.Tasks), "task"), plural(len(app.Edges), "call"), strings.Join(workloads.Reachable(app), " "))
	if w.MemorySizes != nil {
		fmt.Fprintf(out, "  default memory sweep (MB): %s\n", joinInts(w.MemorySizes))
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
