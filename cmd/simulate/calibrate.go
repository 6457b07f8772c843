package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/fusionsim/fusionsim/calibrate"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
)

func init() {
	register(command{
		name:    "calibrate",
		summary: "fit a platform profile on real AWS traces in the prototype's layout",
		run:     runCalibrate,
	})
}

func runCalibrate(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("calibrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var dirs stringList
	fs.Var(&dirs, "traces", "a `DIR` of real traces in the prototype's layout (<setup>.json[.gz] and configuration/); repeatable, and further DIRs may follow the flags")
	out := fs.String("out", "", "write the fitted profile to `FILE` (JSON, see model.Profile; required)")
	base := fs.String("base", "", "start from the profile `FILE` (default: the embedded default profile): figures the traces say nothing about (prices, limits, keep-alive, ...) are kept from it")
	quiet := fs.Bool("quiet", false, "do not print the fitted figures")
	fs.Usage = func() {
		o := fs.Output()
		fmt.Fprintln(o, "Usage: simulate calibrate --traces DIR [--traces DIR | DIR ...] --out profile.json")
		fmt.Fprintln(o)
		fmt.Fprintln(o, "Fits the platform profile on real traces of the Fusionize prototype's IoT, split")
		fmt.Fprintln(o, "and splittest workloads (e.g. ../shared/calibration/*): the CPU model (quota")
		fmt.Fprintln(o, "period, the burn work's demand on two threads, its overhead below two vCPUs, its")
		fmt.Fprintln(o, "cold-start and tail demand, the spread of work durations), cold starts (first")
		fmt.Fprintln(o, "event, Init Duration), remote calls (sync request and response, async ack and")
		fmt.Fprintln(o, "dispatch, first connection, correlation of an invocation's call latencies),")
		fmt.Fprintln(o, "storage (put, query, first connection), the handler's billed time after the")
		fmt.Fprintln(o, "task, timers, memory footprints and the client's jitter. Each figure comes from")
		fmt.Fprintln(o, "medians of the call records that isolate it, inverted through the emulator's CPU")
		fmt.Fprintln(o, "model; the table printed says which records, how many, and the per-size values.")
		fmt.Fprintln(o, "Check the profile with \"simulate validate --profile FILE --traces DIR\".")
		fmt.Fprintln(o)
		fmt.Fprintln(o, "Flags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	dirs = append(dirs, fs.Args()...)
	if len(dirs) == 0 {
		return usageError("--traces: at least one directory of traces is needed")
	}
	if *out == "" {
		return usageError("--out: the file to write the profile to is required")
	}
	prof := model.Default()
	if *base != "" {
		p, err := model.Load(*base)
		if err != nil {
			return usageError("--base: %v", err)
		}
		prof = p
	}
	ft, err := calibrate.FitDirs(dirs, prof)
	if err != nil {
		return err
	}
	data, err := ft.Profile.Marshal()
	if err != nil {
		return err
	}
	if err := trace.WriteFileAtomic(*out, data); err != nil {
		return err
	}
	if !*quiet {
		if err := ft.PrintParams(stdout); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "wrote %s (%d figures fitted, %d kept from the base profile)\n", *out, len(ft.Params), len(ft.Skipped))
	return nil
}
