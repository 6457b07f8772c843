package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/fusionsim/fusionsim/calibrate"
	"github.com/fusionsim/fusionsim/trace"
)

func init() {
	register(command{
		name:    "describe",
		summary: "describe an application from its traces: request kinds, functions, calls and fan-outs per setup",
		run:     runDescribe,
	})
}

func runDescribe(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("describe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setups := fs.String("setup", "", "comma-separated setup `NAMES` to describe (default: every setup with traces)")
	fs.Usage = func() {
		o := fs.Output()
		fmt.Fprintln(o, "Usage: simulate describe [flags] DIR")
		fmt.Fprintln(o)
		fmt.Fprintln(o, "Reads the traces of DIR (the prototype's layout, e.g. ../shared/calibration/*, or a")
		fmt.Fprintln(o, "results directory's traces/) and prints, per setup: the request kinds (a request's")
		fmt.Fprintln(o, "entry task and the first call its root record logged, e.g. frontend>checkout) with")
		fmt.Fprintln(o, "their root latency; per function and memory size its records per request of each")
		fmt.Fprintln(o, "kind, the invocations merged into one record by the prototype's grouping, the")
		fmt.Fprintln(o, "internal durations of warm and cold records, billed - internal, Max Memory Used and")
		fmt.Fprintln(o, "the self-call times of merged records; per call (caller function, called task, type)")
		fmt.Fprintln(o, "the number of calls per request, its median time and, for lone remote sync calls,")
		fmt.Fprintln(o, "the time beyond the callee's own to a warm and to a cold callee. It is what the")
		fmt.Fprintln(o, "traces say about an application before it is written down (workloads/webshop-notes.md).")
		fmt.Fprintln(o)
		fmt.Fprintln(o, "Flags:")
		fs.PrintDefaults()
	}
	dir, err := parseDirArgs(fs, args)
	if err != nil {
		return err
	}
	traces, err := trace.ReadTraces(tracesDirOf(dir))
	if err != nil {
		return err
	}
	d := &trace.Dir{Traces: traces}
	if cfgs, err := trace.ReadConfigs(dir); err == nil {
		d.Configs = cfgs
	}
	if *setups != "" {
		keep := trace.Traces{}
		for _, name := range strings.Split(*setups, ",") {
			recs, ok := traces[name]
			if !ok {
				return usageError("--setup %q: no traces of setup %q in %s (setups: %s)", *setups, name, dir, strings.Join(traces.Names(), " "))
			}
			keep[name] = recs
		}
		d.Traces = keep
	}
	if len(d.Traces) == 0 {
		return fmt.Errorf("%s: no traces", dir)
	}
	return calibrate.PrintDescription(stdout, calibrate.Describe(d))
}
