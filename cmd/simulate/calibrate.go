package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/fusionsim/fusionsim"

	"github.com/fusionsim/fusionsim/calibrate"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

func init() {
	register(command{
		name:    "calibrate",
		summary: "fit a platform profile on real AWS traces in the prototype's layout",
		run:     runCalibrate,
	})
}

func runCalibrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("calibrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var dirs stringList
	fs.Var(&dirs, "traces", "a `DIR` of real traces in the prototype's layout (<setup>.json[.gz] and configuration/); repeatable, and further DIRs may follow the flags")
	out := fs.String("out", "", "write the fitted profile to `FILE` (JSON, see model.Profile; required)")
	base := fs.String("base", "", "start from the profile `FILE` (default: the embedded default profile): figures the traces say nothing about (prices, limits, keep-alive, ...) are kept from it")
	quiet := fs.Bool("quiet", false, "do not print the fitted figures")
	fitOn := fs.String("fit-on", "", "fit only the application's work figures, on the traces of this one `SETUP` of DIR (\"first\": its first setup with traces), keeping the platform profile (--base); --out then writes a profile overlay that --profile takes everywhere")
	var wl appFlags
	wl.define(fs, " (--fit-on only; default: inferred from the task names of the traces; or --app FILE)")
	seed := fs.Uint64("seed", 1, "--fit-on: seed of the fit's emulations")
	fitFrom := fitFromFlag(fs)
	var emulated stringList
	fs.Var(&emulated, "emulate", "a `DIR` of an application's real traces whose setups are emulated to fit the figures the closed-form fits cannot show (the handler's demand per local call), and which takes no part in the closed-form fits; repeatable")
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
		fmt.Fprintln(o, "With --fit-on SETUP (one DIR), the platform profile stays as it is and only the")
		fmt.Fprintln(o, "application's work figures are fitted, on the traces of that one setup (say, the")
		fmt.Fprintln(o, "all-remote baseline after the task code changed): every work descriptor the tasks")
		fmt.Fprintln(o, "spend gets the demand, jitter, cold extra, tail and memory whose emulation of that")
		fmt.Fprintln(o, "setup under its load matches the medians of each function's code paths, and its")
		fmt.Fprintln(o, "threads where the memory sizes tell them (else the count the code declares). It")
		fmt.Fprintln(o, "prints what it fitted from which records and what the traces cannot identify;")
		fmt.Fprintln(o, "the overlay --out writes predicts the other setups with \"simulate validate")
		fmt.Fprintln(o, "--profile FILE\" (or run, compare, sweep) or \"simulate validate --fit-on SETUP\".")
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
	fromCode, err := fitFrom()
	if err != nil {
		return err
	}
	if *fitOn != "" {
		return calibrateApp(ctx, dirs, *fitOn, wl, *base, *out, *seed, fromCode, prof, *quiet, stdout, stderr)
	}
	if fromCode {
		return usageError("--fit-from applies to --fit-on only")
	}
	if wl.given() {
		return usageError("%s applies to --fit-on only (the platform fit reads every workload's traces)", wl.label())
	}
	ft, err := calibrate.FitDirs(dirs, prof, emulated...)
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

// fitFromFlag defines --fit-from of calibrate and validate; the function it
// returns, called after parsing, reports whether the fit starts from the
// code's figures, or the usage error of a value other than profile or code.
func fitFromFlag(fs *flag.FlagSet) func() (bool, error) {
	v := fs.String("fit-from", "profile", "--fit-on: where the fit starts: profile (the profile's work figures, else the code's) or code (the figures the code declares, with the profile's runtime overhead share: code that changed beyond the old figures)")
	return func() (bool, error) {
		switch *v {
		case "profile":
			return false, nil
		case "code":
			return true, nil
		}
		return false, usageError("--fit-from: %q is not profile or code", *v)
	}
}

// calibrateApp is "simulate calibrate --fit-on": the application's work
// figures fitted on one setup of one directory, written as an overlay.
func calibrateApp(ctx context.Context, dirs []string, fitOn string, wl appFlags, base, out string, seed uint64, fromCode bool, prof model.Profile, quiet bool, stdout, stderr io.Writer) error {
	if len(dirs) != 1 {
		return usageError("--fit-on %s: give one DIR of traces, not %d", fitOn, len(dirs))
	}
	d, err := trace.ReadDir(dirs[0])
	if err != nil {
		return err
	}
	name, err := calibrate.FitSetup(d, fitOn)
	if err != nil {
		return usageError("--fit-on %q: %s: %v", fitOn, dirs[0], err)
	}
	var w workloads.Workload
	if wl.given() {
		if w, _, err = wl.resolve(); err != nil {
			return err
		}
	} else if w, err = calibrate.PickWorkload(d); err != nil {
		return usageError("the workload: %v (give --workload or --app)", err)
	}
	setup := d.Configs[name]
	if setup.Name() != name {
		setup = setup.Clone(fusionsim.NewTraceName(name))
	}
	opt := calibrate.AppFitOptions{Profile: prof, Seed: seed, FromCode: fromCode}
	if !quiet {
		opt.Progress = func(step string) { fmt.Fprintf(stderr, "fitting %s on %s: %s\n", w.Name(), name, step) }
	}
	ft, err := calibrate.FitApp(ctx, w, setup, d.Traces[name], opt)
	if err != nil {
		return fmt.Errorf("%s: setup %s: %w", dirs[0], name, err)
	}
	if !quiet {
		if err := calibrate.PrintAppFit(stdout, ft); err != nil {
			return err
		}
	}
	ov := ft.Overlay(dirs[0])
	if base != "" {
		abs, err := filepath.Abs(base)
		if err != nil {
			return err
		}
		ov.Base = abs
		if rel, err := filepath.Rel(filepath.Dir(out), base); err == nil && !filepath.IsAbs(out) && !filepath.IsAbs(base) {
			ov.Base = rel
		}
	}
	data, err := ov.Marshal()
	if err != nil {
		return err
	}
	if err := trace.WriteFileAtomic(out, data); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (an overlay of %d work descriptors over %s; --profile %s takes it)\n", out, len(ov.Work), prof.Name, out)
	return nil
}
