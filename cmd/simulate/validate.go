package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim/calibrate"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
)

func init() {
	register(command{
		name:    "validate",
		summary: "re-run real AWS traces' setups in the emulator and compare latency, cost and cold starts",
		run:     runValidate,
	})
}

func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var dirs stringList
	fs.Var(&dirs, "traces", "a `DIR` of real traces in the prototype's layout (<setup>.json[.gz] and configuration/); repeatable, and further DIRs may follow the flags")
	profile := fs.String("profile", "", "platform profile `FILE` (default: the embedded default profile)")
	seed := fs.Uint64("seed", 1, "seed of the emulation (each setup's emulator is seeded from it and the setup's name)")
	var wl appFlags
	wl.define(fs, " (default: inferred from the task names of the traces; or --app FILE)")
	loadKind := fs.String("load", "", "the `KIND` of load instead of the inferred one: "+strings.Join(validateLoads, ", ")+"; the parameters not given are inferred from the traces for that kind")
	rps := fs.Float64("rps", 0, "arrival rate of constant and poisson loads, requests/s (default: inferred from the root starts)")
	requests := fs.Int("requests", 0, "number of requests per setup (default: as many as the setup's root invocations, for every kind)")
	pause := fs.Duration("pause", 0, "coldstart: pause between a request's last invocation and the next request (virtual time; default: inferred)")
	stages := fs.String("stages", "", "bursty: `STAGES` \"target:duration,...\" in requests/s (k6 ramping-arrival-rate) or the preset bursty; implies --load bursty (default: inferred from the rate of the root starts)")
	timeout := fs.Duration("timeout", 0, "the functions' timeout in the real runs, to flag roots cut off by it (default: the profile's limits.timeoutS)")
	grouping := fs.String("grouping", "auto", "the prototype's grouping of the emulated traces (one record per trace and function): auto (where the real traces show it), on or off")
	setups := fs.String("setup", "", "comma-separated setup `NAMES` to compare (default: every setup with traces)")
	figures := fs.String("figures", "", "draw an ECDF of the root latency, real against emulated, per setup into `DIR`/<experiment>/<setup>-ecdf.<format>")
	figFormats := fs.String("figure-formats", "png", "comma-separated figure formats: "+strings.Join(calibrate.FigureFormats, ", "))
	format := fs.String("format", calibrate.FormatText, "table format: "+strings.Join(calibrate.Formats, ", "))
	parallel := fs.Int("parallel", 0, "setups emulated at once (default: the number of CPUs)")
	check := fs.Bool("check", false, fmt.Sprintf("exit with status 1 when a setup's median root latency or GB-ms per request is more than %.0f %% off", 100*calibrate.Tolerance))
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	skipUnknown := fs.Bool("skip-unknown", false, "skip, with a line on stderr, a DIR whose workload simulate does not know (instead of failing): for every directory of ../shared/calibration")
	fitFrom := fitFromFlag(fs)
	fitOn := fs.String("fit-on", "", "fit the application's work figures on this one `SETUP` of each DIR first (\"first\": its first setup with traces), keeping the platform profile, then predict every other setup with them; prints the transfer summary (predicted setups within 10 %, median and worst errors)")
	fs.Usage = func() {
		o := fs.Output()
		fmt.Fprintln(o, "Usage: simulate validate --traces DIR [--traces DIR | DIR ...] [flags]")
		fmt.Fprintln(o)
		fmt.Fprintln(o, "For every setup of DIR's configuration metadata that has traces, re-creates the")
		fmt.Fprintln(o, "setup, runs it in the emulator under the same load and prints, real against")
		fmt.Fprintln(o, "emulated with the relative error: the median and p95 root latency (the root")
		fmt.Fprintln(o, "invocation's internalDuration), the billed GB-ms per request, the cold starts and")
		fmt.Fprintln(o, "the invocation records per request, plus the Kolmogorov-Smirnov distance of the")
		fmt.Fprintln(o, "two latency samples; \"ok\" says whether median and GB-ms are within 10 %.")
		fmt.Fprintln(o)
		fmt.Fprintln(o, "The workload is inferred from the task names (--workload or --app names it); the load from the root invocations,")
		fmt.Fprintln(o, "and the output says which and why: sequential requests with (nearly) every")
		fmt.Fprintln(o, "invocation cold are the prototype's cold-start protocol (coldstart: every function")
		fmt.Fprintln(o, "forced cold before each request); an open loop whose rate changes beyond the")
		fmt.Fprintln(o, "counting noise is a ramp (bursty, with the stages read off the rate); random gaps")
		fmt.Fprintln(o, "at a steady rate a Poisson process (poisson); evenly spaced starts a constant rate")
		fmt.Fprintln(o, "(constant); each with as many requests as root invocations. Traces whose kinds of")
		fmt.Fprintln(o, "request (entry task and first call, e.g. the webshop's addcartitem, frontend get and")
		fmt.Fprintln(o, "checkout) are all those of the application's scenario (an application file's load:)")
		fmt.Fprintln(o, "and that hold about as many requests as it sends run that scenario closed loop")
		fmt.Fprintln(o, "(scenario: each virtual user sends an iteration's requests one after the other, as")
		fmt.Fprintln(o, "k6 did, with as many iterations as the real run started); other traces whose roots")
		fmt.Fprintln(o, "ran in several functions are replayed open loop (replay: each real request when and")
		fmt.Fprintln(o, "where its root ran, with its kind's body from the scenario). --load, --stages,")
		fmt.Fprintln(o, "--rps, --requests and --pause override what they name (--load replay replays any")
		fmt.Fprintln(o, "traces' requests).")
		fmt.Fprintln(o)
		fmt.Fprintln(o, "Memory sizes come from the traces' REPORT lines where the configuration names")
		fmt.Fprintln(o, "none or another (a url without a size means 128 MB); the output says so. Setups")
		fmt.Fprintln(o, "whose real traces are incomplete (requests without their root invocation, roots")
		fmt.Fprintln(o, "cut off by the timeout, a stretch without requests) are marked \"incomplete\":")
		fmt.Fprintln(o, "their GB-ms per request is not meaningful, and --check leaves them out.")
		fmt.Fprintln(o)
		fmt.Fprintln(o, "Where the real traces merged a request's invocations of one")
		fmt.Fprintln(o, "function into one record (the prototype's extractor: IoT's AS), the emulated")
		fmt.Fprintln(o, "traces are grouped the same way.")
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
	opt := calibrate.ValidateOptions{Seed: *seed, Parallel: *parallel, Timeout: *timeout, FitOn: *fitOn}
	fromCode, err := fitFrom()
	if err != nil {
		return err
	}
	opt.FitFromCode = fromCode
	if isSet(fs, "fit-from") && *fitOn == "" {
		return usageError("--fit-from needs --fit-on")
	}
	if wl.given() {
		w, _, err := wl.resolve()
		if err != nil {
			return err
		}
		opt.App = &w
	}
	if *requests < 0 {
		return usageError("--requests: %d must be >= 0", *requests)
	}
	if *parallel < 0 {
		return usageError("--parallel: %d must be >= 0", *parallel)
	}
	if *timeout < 0 {
		return usageError("--timeout: %v must be >= 0", *timeout)
	}
	over := calibrate.LoadOverride{Kind: *loadKind, Requests: *requests}
	if *loadKind != "" && !slices.Contains(validateLoads, *loadKind) {
		return usageError("--load: %q is none of %s", *loadKind, strings.Join(validateLoads, ", "))
	}
	if *stages != "" {
		if *loadKind != "" && *loadKind != load.KindBursty {
			return usageError("--stages %q needs --load bursty, not %s", *stages, *loadKind)
		}
		if preset, ok := load.Presets[*stages]; ok {
			over.Stages = preset()
		} else {
			st, err := load.ParseStages(*stages)
			if err != nil {
				return usageError("--stages %q: %v", *stages, err)
			}
			over.Stages = st
		}
	}
	if isSet(fs, "rps") {
		if !(*rps > 0) || math.IsInf(*rps, 0) {
			return usageError("--rps: %v must be a number > 0", *rps)
		}
		if k := *loadKind; k != load.KindConstant && k != load.KindPoisson {
			return usageError("--rps needs --load constant or --load poisson")
		}
		over.RatePerS = *rps
	}
	if isSet(fs, "pause") {
		if *pause < 0 {
			return usageError("--pause: %v must be >= 0", *pause)
		}
		if *loadKind != load.KindColdstart {
			return usageError("--pause needs --load coldstart")
		}
		over.Pause, over.HasPause = *pause, true
	}
	opt.Load = over
	switch *grouping {
	case "auto":
		opt.Grouping = calibrate.GroupingAuto
	case "on":
		opt.Grouping = calibrate.GroupingOn
	case "off":
		opt.Grouping = calibrate.GroupingOff
	default:
		return usageError("--grouping: %q is not auto, on or off", *grouping)
	}
	if *setups != "" {
		for _, s := range strings.Split(*setups, ",") {
			if s = strings.TrimSpace(s); s != "" {
				opt.Setups = append(opt.Setups, s)
			}
		}
	}
	switch *format {
	case calibrate.FormatText, calibrate.FormatMarkdown, calibrate.FormatCSV:
	default:
		return usageError("--format: %q is none of %s", *format, strings.Join(calibrate.Formats, ", "))
	}
	var figs []string
	for _, f := range strings.Split(*figFormats, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		ok := false
		for _, g := range calibrate.FigureFormats {
			ok = ok || f == g
		}
		if !ok {
			return usageError("--figure-formats: %q is none of %s", f, strings.Join(calibrate.FigureFormats, ", "))
		}
		figs = append(figs, f)
	}
	if *figures != "" && len(figs) == 0 {
		return usageError("--figure-formats: no format given")
	}
	prof := model.Default()
	if *profile != "" {
		p, err := model.Load(*profile)
		if err != nil {
			return usageError("--profile: %v", err)
		}
		prof = p
	}
	opt.Profile = prof
	var vs []*calibrate.Validation
	for _, dir := range dirs {
		start := time.Now()
		if !*quiet {
			opt.Progress = func(done, total int, setup string) {
				fmt.Fprintf(stderr, "%s: %d/%d setups (%s)\n", dir, done, total, setup)
			}
		}
		v, err := calibrate.Validate(ctx, dir, opt)
		if err != nil {
			if *skipUnknown && !wl.given() && errors.Is(err, calibrate.ErrInferWorkload) {
				fmt.Fprintf(stderr, "%s: skipped: %v\n", shortPath(dir), err)
				continue
			}
			return err
		}
		if v.Fit != nil && !*quiet {
			fmt.Fprintf(stderr, "%s: fitted on %s (%d emulations):", shortPath(dir), v.Fit.Setup, v.Fit.Emulations)
			for _, p := range v.Fit.Params {
				fmt.Fprintf(stderr, " %s=%.4g", p.Field, p.Value)
			}
			fmt.Fprintln(stderr)
			for _, u := range v.Fit.Unidentified {
				fmt.Fprintf(stderr, "%s: not identified: %s\n", shortPath(dir), u)
			}
		}
		if !*quiet {
			for _, r := range v.Setups {
				fmt.Fprintf(stderr, "%s: %s: load %s\n", shortPath(dir), r.Setup, r.LoadWhy)
				for _, n := range r.Notes {
					fmt.Fprintf(stderr, "%s: %s: %s\n", shortPath(dir), r.Setup, n)
				}
			}
		}
		for _, r := range v.Setups {
			for _, why := range r.Incomplete {
				fmt.Fprintf(stderr, "%s: %s: real traces incomplete: %s (GB-ms per request not meaningful)\n", shortPath(dir), r.Setup, why)
			}
		}
		if !*quiet {
			fmt.Fprintf(stderr, "%s: workload %s, %d setups in %.1f s", dir, v.Workload, len(v.Setups), time.Since(start).Seconds())
			if len(v.NoTraces) > 0 {
				fmt.Fprintf(stderr, "; without traces, not compared: %s", strings.Join(v.NoTraces, " "))
			}
			fmt.Fprintln(stderr)
		}
		if *figures != "" {
			files, err := calibrate.DrawECDF(v, *figures, figs)
			if err != nil {
				return err
			}
			if !*quiet {
				fmt.Fprintf(stderr, "%s: %d figures in %s\n", dir, len(files), *figures)
			}
		}
		vs = append(vs, v)
	}
	if len(vs) == 0 {
		return fmt.Errorf("no directory validated: every one was skipped")
	}
	if err := calibrate.PrintTable(stdout, *format, vs...); err != nil {
		return err
	}
	if *fitOn != "" {
		fmt.Fprintln(stdout)
		if err := calibrate.PrintTransfers(stdout, *format, vs...); err != nil {
			return err
		}
	}
	if *check {
		var off []string
		for _, v := range vs {
			for i := range v.Setups {
				if !v.Setups[i].Fit && len(v.Setups[i].Incomplete) == 0 && !v.Setups[i].Within(calibrate.Tolerance) {
					off = append(off, v.Setups[i].Setup)
				}
			}
		}
		if len(off) > 0 {
			return fmt.Errorf("%d setups outside %.0f %%: %s", len(off), 100*calibrate.Tolerance, strings.Join(off, " "))
		}
	}
	return nil
}

// validateLoads are the kinds of load validate infers and takes.
var validateLoads = []string{load.KindConstant, load.KindPoisson, load.KindBursty, load.KindColdstart, load.KindReplay, calibrate.LoadScenario}

func shortPath(dir string) string { return filepath.Base(filepath.Clean(dir)) }
