package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/optimizer"
	"github.com/fusionsim/fusionsim/results"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

func init() {
	register(command{
		name:    "optimize",
		summary: "print the setup an optimizer would deploy next, given a directory of traces",
		run:     runOptimize,
	})
}

func optimizeUsage(fs *flag.FlagSet) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintln(w, "Usage: simulate optimize --traces DIR [flags]")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Reads the setups tested so far and their traces from DIR, in the prototype's layout")
		fmt.Fprintln(w, "(<setup>.json[.gz] and configuration/configurationMetadata.json[.gz], e.g.")
		fmt.Fprintln(w, "../shared/calibration/IoT-...) or a results directory of \"simulate run\", and asks")
		fmt.Fprintln(w, "the optimizer for the next setup. The history is every setup of the configuration")
		fmt.Fprintln(w, "metadata in creation order (numeric names by value), up to --until.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Output: the configuration metadata with one new key, the next setup, on stdout")
		fmt.Fprintln(w, "(compact JSON, sorted keys, as the prototype wrote it; --only-new prints only the")
		fmt.Fprintln(w, "new setup), and the optimizer's reason on stderr. When the optimizer is done, stdout")
		fmt.Fprintln(w, "is \"done: \" and the reason (Fusionize++ names the setup it would redeploy).")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Examples:")
		fmt.Fprintln(w, "  simulate optimize --traces ../shared/calibration/split-generateConfigurations-dualcore-A-13-x-100-x-10 --until 1675350785")
		fmt.Fprintln(w, "  simulate optimize --traces results/iot-run --only-new")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Flags:")
		fs.PrintDefaults()
	}
}

func runOptimize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("optimize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("traces", "", "`DIR` of traces in the prototype's layout, or a results directory (required)")
	name := fs.String("optimizer", "fusionize", "the optimizer: "+strings.Join(optimizer.Names, ", "))
	until := fs.String("until", "", "use the setups up to and including `NAME` only (default: all); when NAME has no traces, decide from the last setup before it that has them")
	var wl appFlags
	wl.define(fs, " (needed by partitions, exhaustive and random; fusionize takes the tasks from the configuration metadata; or --app FILE)")
	sizes := fs.String("memory-sizes", "", "comma-separated memory sizes in MB, in the order the memory phase tries them (default: the sizes the setups of DIR's configuration metadata deploy, in the order the run first used them: the list the run's own optimizer had)")
	budget := fs.Int("budget", 0, "partitions, exhaustive, random: iterations before they stop (random: default 12)")
	seed := fs.Uint64("seed", 1, "random: seed of the draws")
	now := fs.Int64("now", 0, "Unix time in `SECONDS` that names the new setup (default: the wall clock; raised above every numeric name in DIR)")
	onlyNew := fs.Bool("only-new", false, "print only the new setup, not the whole configuration metadata")
	fs.Usage = optimizeUsage(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	if *dir == "" {
		return usageError("--traces DIR is required")
	}
	if *budget < 0 {
		return usageError("--budget %d: must be >= 0", *budget)
	}
	cfgs, recs, err := readOptimizerDir(*dir)
	if err != nil {
		return usageError("--traces %q: %v", *dir, err)
	}
	history, err := optimizer.TrialsFromConfigs(cfgs, recs, *until)
	if err != nil {
		return usageError("--until %q: %v", *until, err)
	}
	if *until != "" && recs[*until] == nil {
		// Decide from the last setup up to --until that has traces: the
		// decision that came after it.
		k := len(history) - 1
		for k >= 0 && history[k].Records == nil {
			k--
		}
		if k < 0 {
			return usageError("--until %q: neither it nor any setup before it has traces in %s", *until, *dir)
		}
		fmt.Fprintf(stderr, "setup %s has no traces: deciding from %s, the last setup up to it that has them\n", *until, history[k].Name)
		history = history[:k+1]
	}
	var app *fusionsim.App
	if wl.given() {
		w, _, err := wl.resolve()
		if err != nil {
			return err
		}
		app = w.App
	}
	// The memory sizes the run tried, in the order it tried them (every
	// setup of the metadata, --until or not: the list the run's optimizer
	// had), unless --memory-sizes gives another.
	list := optimizer.TriedMemorySizes(cfgs)
	if *sizes != "" {
		if list, err = optimizer.ParseSizes(*sizes); err != nil {
			return usageError("--memory-sizes %q: %v", *sizes, err)
		}
	} else {
		fmt.Fprintf(stderr, "memory sizes tried by the run, in order: %s MB (--memory-sizes gives others)\n", joinInts(list))
	}
	clock := optimizer.Clock(time.Now) // the one wall-clock reading: the new setup's name
	if *now > 0 {
		sec := *now
		clock = func() time.Time { return time.Unix(sec, 0) }
	}
	if *name == "random" && *budget == 0 {
		*budget = 12
	}
	var tasks []string
	if app == nil && len(history) > 0 {
		for t := range history[0].Setup.Rules {
			tasks = append(tasks, t)
		}
		sort.Strings(tasks)
	}
	opt, err := optimizer.New(*name, optimizer.Config{App: app, Tasks: tasks, MemorySizesMB: list, Budget: *budget, Seed: *seed, Clock: clock})
	if err != nil {
		if errors.Is(err, optimizer.ErrConfig) && app == nil {
			return usageError("--optimizer %s: %v: give --workload or --app", *name, err)
		}
		return usageError("--optimizer %s: %v", *name, err)
	}
	d, err := opt.Next(ctx, history)
	if err != nil {
		if errors.Is(err, optimizer.ErrNoTraces) && *until == "" {
			return fmt.Errorf("the last setup of %s, %s, has no traces; --until NAME replays the run up to a setup with traces", *dir, cfgs.Latest())
		}
		return err
	}
	if d.Done {
		if d.Next != nil {
			d.Reason += " (as setup " + d.Next.Name() + ")"
		}
		_, err := fmt.Fprintf(stdout, "done: %s\n", d.Reason)
		return err
	}
	fmt.Fprintf(stderr, "%s: %s\n", d.Next.Name(), d.Reason)
	out := fusionsim.Configs{d.Next.Name(): d.Next}
	if !*onlyNew {
		for _, t := range history {
			out[t.Name] = t.Setup
		}
	}
	data, err := out.Marshal()
	if err != nil {
		return err
	}
	_, err = stdout.Write(append(data, '\n'))
	return err
}

// tracesDirOf returns DIR/traces if it is a directory (a results
// directory), else DIR (the prototype's layout).
func tracesDirOf(dir string) string {
	if st, err := os.Stat(filepath.Join(dir, results.TracesDir)); err == nil && st.IsDir() {
		return filepath.Join(dir, results.TracesDir)
	}
	return dir
}

// readOptimizerDir reads configuration metadata and traces from a directory
// in the prototype's layout or a results directory (traces/ beside
// configuration/).
func readOptimizerDir(dir string) (fusionsim.Configs, map[string][]trace.Record, error) {
	cfgs, err := trace.ReadConfigs(dir)
	if err != nil {
		return nil, nil, err
	}
	recs, err := trace.ReadTraces(tracesDirOf(dir))
	if err != nil {
		return nil, nil, err
	}
	for n := range recs {
		if _, ok := cfgs[n]; !ok {
			return nil, nil, fmt.Errorf("traces of setup %q, which the configuration metadata does not hold (setups: %s)", n, strings.Join(cfgs.Names(), " "))
		}
	}
	return cfgs, recs, nil
}

// settableClock is the clock of an optimizer planned before the platform
// exists: execute points it at the platform's clock.
type settableClock struct{ now func() time.Time }

func (c *settableClock) Now() time.Time {
	if c.now == nil {
		panic("simulate: optimizer clock used before the platform was made")
	}
	return c.now()
}

// runnerMaxIterations is where "simulate run" stops an optimizer without
// --max-iterations (the experiment runner refuses more than 1000).
const runnerMaxIterations = 1000

// optimizerPlanner is the planner of "simulate run" without --setup: the
// named optimizer ("" is fusionize) with the memory size list sizes (nil:
// the workload's published list), stopped after maxIter iterations (0: when
// it is done, at most runnerMaxIterations).
func optimizerPlanner(name string, w workloads.Workload, sizes []int, seed uint64, maxIter int) (*optimizer.Planner, *settableClock, error) {
	if name == "" {
		name = "fusionize"
	}
	if sizes == nil {
		sizes = defaultMemorySizes(w)
	}
	clock := &settableClock{}
	budget := 0
	if name == "random" {
		budget = 12
		if maxIter > 0 {
			budget = maxIter
		}
	}
	opt, err := optimizer.New(name, optimizer.Config{App: w.App, MemorySizesMB: sizes, Budget: budget, Seed: seed, Clock: clock.Now})
	if err != nil {
		return nil, nil, err
	}
	if maxIter == 0 || maxIter > runnerMaxIterations {
		maxIter = runnerMaxIterations
	}
	return &optimizer.Planner{Optimizer: opt, MaxIterations: maxIter}, clock, nil
}
