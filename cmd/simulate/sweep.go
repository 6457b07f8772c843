package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/appfile"
	"github.com/fusionsim/fusionsim/experiment"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/optimizer"
	"github.com/fusionsim/fusionsim/progress"
	"github.com/fusionsim/fusionsim/results"
	"github.com/fusionsim/fusionsim/sweep"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

func init() {
	register(command{
		name:    "sweep",
		summary: "evaluate every cell of a sweep (setups x memory x seeds x loads x profiles), whole or as one shard of a job array; resumes",
		run:     runSweep,
	})
}

func sweepUsage(fs *flag.FlagSet) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintln(w, "Usage: simulate sweep --workload NAME [--space partitions|rules|memory|FILE] [flags]")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "A sweep is the list of cells setup x memory x seed x load x profile, in that order")
		fmt.Fprintln(w, "(cell 0 first). Each cell is measured on a fresh emulator, its figures from its traces")
		fmt.Fprintln(w, "as in a single run, no logs written (a light load by default, 100 requests at 10/s,")
		fmt.Fprintln(w, "for speed), its seed derived from --seeds and what it deploys, so its figures depend on")
		fmt.Fprintln(w, "nothing but the cell. The results directory holds manifest.json (the sweep and its")
		fmt.Fprintln(w, "hash), cells.csv (exact figures), summary.csv (one row per cell), and for a whole")
		fmt.Fprintln(w, "sweep front.csv (the Pareto front of median latency and cost per request of each")
		fmt.Fprintln(w, "load and profile, over the seeds' mean), configuration/ (the front's setups) and")
		fmt.Fprintln(w, "figures/.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Spaces: partitions (every set partition of the tasks, Bell(n): 115,975 for IoT; each")
		fmt.Fprintln(w, "group deploys a function per entry point the call graph gives it, see README;")
		fmt.Fprintln(w, "--connected keeps groups connected with a single root: 704), rules (every distinct")
		fmt.Fprintln(w, "local/remote assignment of the call edges: 896 for IoT), memory (--setup, default")
		fmt.Fprintln(w, "remote, at every --memory-sizes), or a FILE of setups (configuration metadata, or")
		fmt.Fprintln(w, "one setup description per line).")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Shards: --shard I/N runs the cells k with k mod N = I into DIR/shard-I-of-N. In a")
		fmt.Fprintln(w, "Slurm job array the shard comes from SLURM_ARRAY_TASK_ID (of SLURM_ARRAY_TASK_COUNT,")
		fmt.Fprintln(w, "from SLURM_ARRAY_TASK_MIN; with --shards N the array index is the shard), in a")
		fmt.Fprintln(w, "Kubernetes Indexed Job from JOB_COMPLETION_INDEX with --shards N. \"simulate merge DIR\"")
		fmt.Fprintln(w, "combines the shards into what the whole sweep writes, byte for byte.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Resume: finished cells are kept in .DIR.partial/ beside the results directory (every")
		fmt.Fprintln(w, "--checkpoint and on Ctrl-C or SIGTERM); the same command again goes on from there.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Examples:")
		fmt.Fprintln(w, "  simulate sweep --workload iot --space partitions")
		fmt.Fprintln(w, "  simulate sweep --workload iot --space rules --memory-sizes 128,1024 --seeds 1..5 --out results/iot-rules")
		fmt.Fprintln(w, "  simulate sweep --workload iot --space rules --memory-sizes 128,1024 --out results/iot-rules --shard 2/4")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Flags:")
		fs.PrintDefaults()
	}
}

// sweepFlags are the flags of "simulate sweep".
type sweepFlags struct {
	app                                               appFlags // --workload, --app
	space, sizes, seeds, loads, stages, replay, event string
	setups, setupNames                                string
	setupList, profiles                               stringList
	connected, perFunction, noDedup, quiet, progress  bool
	rps, startRPS                                     float64
	requests, workers, shards                         int
	duration, pause, checkpoint                       time.Duration
	shard, out, formats                               string
}

func (f *sweepFlags) define(fs *flag.FlagSet) {
	f.app.define(fs, " (this or --app FILE is required)")
	fs.StringVar(&f.space, "space", sweep.SpaceRules, "the setups: partitions, rules, memory, or a `FILE` of setups (configuration metadata, or one setup description per line, # comments)")
	fs.BoolVar(&f.connected, "connected", false, "partitions: only those whose groups are connected through calls with a single root")
	fs.Var(&f.setupList, "setup", "memory: a `SETUP` to run at each size, repeatable (as \"simulate run --setup\"; default remote)")
	fs.StringVar(&f.setupNames, "setup-name", "", "memory: comma-separated `NAMES` of the --setup files' setups to take")
	fs.StringVar(&f.sizes, "memory-sizes", "", "comma-separated memory `SIZES` in MB each setup runs at (default: memory the workload's published list; the others the setups as they are, 128 MB)")
	fs.BoolVar(&f.perFunction, "per-function-memory", false, "every combination of --memory-sizes over each setup's functions instead of one size for all")
	fs.StringVar(&f.seeds, "seeds", "1", "the base `SEEDS`: numbers and ranges, \"1..5\", \"1,2,7\"")
	fs.StringVar(&f.loads, "load", load.KindConstant, "comma-separated `KINDS` of load, each a dimension value: "+strings.Join(load.Kinds, ", ")+" (every cell gets the same arrivals of a kind)")
	fs.Float64Var(&f.rps, "rps", 10, "constant and poisson: arrival rate, requests/s")
	fs.IntVar(&f.requests, "requests", 100, "constant: requests per cell (unless --duration); coldstart: sequential requests")
	fs.DurationVar(&f.duration, "duration", 0, "constant (instead of --requests) and poisson (default --requests/--rps): length of the load, virtual time")
	fs.StringVar(&f.stages, "stages", "", "bursty: `STAGES` \"target:duration,...\" (default: the prototype's profile)")
	fs.Float64Var(&f.startRPS, "start-rps", 0, "bursty: the rate before the first stage, requests/s")
	fs.DurationVar(&f.pause, "pause", 0, "coldstart: pause between a request's end and the next")
	fs.StringVar(&f.replay, "replay", "", "replay: CSV `FILE` of arrival times")
	fs.StringVar(&f.event, "event", "", "the request body as a `JSON` object (default: the workload's)")
	fs.Var(&f.profiles, "profile", "platform profile `FILE`, repeatable: each a dimension value (\"default\": the embedded profile, the default)")
	fs.StringVar(&f.shard, "shard", "", "run only shard `I/N`: the cells k with k mod N = I, into DIR/shard-I-of-N (default: from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX, else the whole sweep; 0/1 forces the whole sweep)")
	fs.IntVar(&f.shards, "shards", 0, "the number of shards `N`, with JOB_COMPLETION_INDEX (Kubernetes) or to take SLURM_ARRAY_TASK_ID as the shard index")
	fs.StringVar(&f.out, "out", "", "the sweep's results `DIR`; shards write DIR/shard-I-of-N (default results/sweep-<workload>-<space>-<hash>)")
	fs.IntVar(&f.workers, "workers", 0, "cells evaluated in parallel (default: the number of CPUs)")
	fs.BoolVar(&f.noDedup, "no-dedup", false, "evaluate every cell, also those that deploy the same functions as an earlier one (same figures, slower)")
	fs.DurationVar(&f.checkpoint, "checkpoint", 2*time.Second, "keep the finished cells on disk this often (wall time)")
	fs.StringVar(&f.formats, "formats", "pdf,svg,png", "figure `FORMATS`")
	fs.BoolVar(&f.quiet, "quiet", false, "nothing on stderr but errors")
	fs.BoolVar(&f.progress, "progress", false, "draw progress on stderr even when it is not a terminal")
}

// sweepApp resolves the application of a merge from the sweep's manifest:
// its workload by name, or its application file, read again and refused
// when it changed since the sweep.
func sweepApp(spec *sweep.Spec) (*fusionsim.App, error) {
	if spec.AppFile == "" {
		w, err := appfile.Get(spec.Workload)
		if err != nil {
			return nil, fmt.Errorf("the sweep's workload %q: %w", spec.Workload, err)
		}
		return w.App, nil
	}
	s, err := appfile.ReadFile(spec.AppFile)
	if err != nil {
		return nil, fmt.Errorf("the sweep's application file: %w", err)
	}
	if s.Digest != spec.AppDigest {
		return nil, fmt.Errorf("the sweep's application file %s changed since the sweep (SHA-256 %.12s, the sweep's %.12s): merge with the file the shards ran", spec.AppFile, s.Digest, spec.AppDigest)
	}
	return s.Workload().App, nil
}

func runSweep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f sweepFlags
	f.define(fs)
	fs.Usage = sweepUsage(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	w, file, err := f.app.resolve()
	if err != nil {
		return err
	}
	spec, err := sweepSpec(&f, set, w)
	if err != nil {
		return err
	}
	if f.app.file != "" {
		spec.AppFile, spec.AppDigest = f.app.file, file.Digest
	}
	plan, err := sweep.NewPlan(spec, w.App)
	if err != nil {
		return usageError("%v", err)
	}
	if f.workers < 0 || f.checkpoint <= 0 {
		return usageError("--workers %d, --checkpoint %v: workers must be >= 0, checkpoint > 0", f.workers, f.checkpoint)
	}
	formats, err := figureFormats(f.formats)
	if err != nil {
		return err
	}
	shard := sweep.Shard{}
	if f.shard != "" {
		if shard, err = sweep.ParseShard(f.shard); err != nil {
			return usageError("--shard %v", err)
		}
		if f.shards > 0 && f.shards != shard.Count {
			return usageError("--shard %s and --shards %d disagree", f.shard, f.shards)
		}
	} else {
		s, ok, err := sweep.ShardFromEnv(os.Getenv, f.shards)
		if err != nil {
			return usageError("%v", err)
		}
		if ok {
			shard = s
		}
	}
	base := f.out
	if base == "" {
		base = filepath.Join("results", fmt.Sprintf("sweep-%s-%s-%.8s", w.Name(), spaceName(spec), plan.Hash))
	}
	dir := base
	if !shard.Whole() {
		dir = filepath.Join(base, shard.DirName())
	}
	quiet := f.quiet
	note := func(format string, args ...any) {
		if !quiet {
			fmt.Fprintf(stderr, format, args...)
		}
	}
	label := "sweep"
	if !shard.Whole() {
		label = fmt.Sprintf("shard %s (%s)", shard, shard.From)
	}
	// Done already, or something else there?
	if pathExists(filepath.Join(dir, results.ManifestFile)) {
		d, err := sweep.ReadDir(dir)
		if err != nil {
			return usageError("--out %s: %v; choose another --out", base, err)
		}
		if d.Info.Hash != plan.Hash {
			return usageError("--out %s: %s holds another sweep (%.12s: %s); choose another --out or remove it", base, dir, d.Info.Hash, d.Manifest.Reason)
		}
		note("%s: every cell is already in %s; nothing to do\n", label, dir)
		if shard.Whole() {
			return printSweep(stdout, &sweep.Result{Plan: plan, Cells: d.Cells}, dir)
		}
		return nil
	} else if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return usageError("--out %s: %s exists, is not empty and is not a results directory; choose another --out", base, dir)
	}
	journal, err := sweep.OpenJournal(sweep.PartialDir(dir), plan.Hash, shard.String(), plan.Cells)
	if err != nil {
		return fmt.Errorf("--out %s: %w", base, err)
	}
	evals, err := sweep.NewEvaluators(plan)
	if err != nil {
		return usageError("%v", err)
	}
	note("%s\n", plan.Describe())
	note("load: %s per cell; figures from the traces as in a single run, no logs written%s\n", loadNote(spec), lightNote(spec))
	if kept := len(journal.Done()); kept > 0 {
		note("%s: resuming: %d cells kept in %s\n", label, kept, journal.Dir())
	}
	bar := progress.New(stderr, progress.Auto(stderr, f.progress && !quiet, time.Now))
	if quiet {
		bar = progress.New(stderr, progress.Options{})
	}
	runner := &sweep.Runner{Plan: plan, Shard: shard, Evaluator: evals, Workers: f.workers, Dedup: !f.noDedup,
		Journal: journal, CheckpointEvery: f.checkpoint, Progress: bar.Update}
	defer collectLess()()
	start := time.Now()
	bar.Begin(label, 0)
	out, err := runner.Run(ctx)
	bar.End("")
	if err != nil {
		if out != nil && errors.Is(err, sweep.ErrInterrupted) {
			return fmt.Errorf("%s interrupted: %d of %d cells done, kept in %s; run the same command again to resume", label, len(out.Cells), out.ShardCells, journal.Dir())
		}
		if out != nil {
			return fmt.Errorf("%s: %w (%d of %d cells done, kept in %s)", label, err, len(out.Cells), out.ShardCells, journal.Dir())
		}
		return err
	}
	took := time.Since(start)
	res := &sweep.Result{Plan: plan, Shard: shard, Cells: out.Cells}
	if _, err := res.Write(dir, results.PlotOptions{Formats: formats}); err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	if err := journal.Remove(); err != nil {
		return err
	}
	note("%s: %d cells (%d kept from before, %d evaluations%s) in %.1f s wall\n", label, out.ShardCells, out.Kept, out.Evaluations,
		dedupNote(!f.noDedup, out), took.Seconds())
	if !shard.Whole() {
		if !quiet {
			fmt.Fprintf(stdout, "shard %s: %d of %d cells written to %s\n", shard, out.ShardCells, plan.Cells, dir)
		}
		return nil
	}
	return printSweep(stdout, res, dir)
}

func pathExists(p string) bool { _, err := os.Stat(p); return err == nil }

func dedupNote(on bool, out *sweep.Outcome) string {
	if !on || out.Evaluations+out.Kept >= out.ShardCells {
		return ""
	}
	return "; the other cells deploy the same functions as an evaluated one and share its figures"
}

func spaceName(spec *sweep.Spec) string {
	if spec.Space == sweep.SpaceFile {
		return strings.TrimSuffix(strings.TrimSuffix(filepath.Base(spec.Source), ".gz"), ".json")
	}
	return spec.Space
}

func loadNote(spec *sweep.Spec) string {
	var parts []string
	for _, l := range spec.Loads {
		parts = append(parts, l.Spec.String())
	}
	return strings.Join(parts, "; ")
}

func lightNote(spec *sweep.Spec) string {
	for _, l := range spec.Loads {
		if l.Spec.Kind == load.KindConstant && l.Spec.Requests > 0 && l.Spec.Requests <= 100 {
			return " (a light load, for speed; --requests for more)"
		}
	}
	return ""
}

// printSweep prints a whole sweep's report and front.
func printSweep(w io.Writer, res *sweep.Result, dir string) error {
	a, err := res.Analyze()
	if err != nil {
		return err
	}
	p := res.Plan
	fmt.Fprint(w, res.Summary(a))
	fmt.Fprintf(w, "load: %s per cell%s; figures from the traces as in a single run, no logs written\n", loadNote(p.Spec), lightNote(p.Spec))
	for _, c := range a.Conditions {
		what := ""
		if n := p.ConditionName(c.Load, c.Profile); n != "" {
			what = " under " + n
		}
		mean := ""
		if len(p.Spec.Seeds) > 1 {
			mean = fmt.Sprintf(", means over %d seeds", len(p.Spec.Seeds))
		}
		fmt.Fprintf(w, "\nPareto front of (median latency, cost per request)%s over all %s cells: %d of %s distinct deployments%s\n",
			what, groupInt(p.Cells/(len(p.Spec.Loads)*len(p.Spec.Profiles))), len(c.Front), groupInt(len(c.Deployments)), mean)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "rank\tfunctions\tmedian_ms\tp95_ms\tusd_per_million\tpoints\tfirst setup")
		for _, f := range c.Front {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", f.Rank, f.Functions, num(f.MedianLatencyMs, 1), num(f.P95LatencyMs, 1),
				num(f.CostPerRequestUSD*1e6, 2), f.Points, f.Setup)
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\nresults in %s (summary.csv, front.csv, configuration/ with the front's setups, figures/)\n", dir)
	return nil
}

func groupInt(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func figureFormats(v string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		switch f {
		case "":
		case "pdf", "svg", "png":
			out = append(out, f)
		default:
			return nil, usageError("--formats %q: %q is not pdf, svg or png", v, f)
		}
	}
	if len(out) == 0 {
		return nil, usageError("--formats %q: no format", v)
	}
	return out, nil
}

// sweepSpec turns the flags into the sweep's spec. Errors name the flag.
func sweepSpec(f *sweepFlags, set map[string]bool, w workloads.Workload) (*sweep.Spec, error) {
	spec := &sweep.Spec{Workload: w.Name(), App: sweep.AppFingerprint(w.App), Connected: f.connected, PerFunctionMemory: f.perFunction}
	switch f.space {
	case sweep.SpacePartitions, sweep.SpaceRules, sweep.SpaceMemory:
		spec.Space = f.space
	default:
		spec.Space = sweep.SpaceFile
		setups, err := setupsOfFile(w.App, f.space)
		if err != nil {
			return nil, usageError("--space %q: %v", f.space, err)
		}
		spec.Setups, spec.Source = setups, filepath.Base(f.space)
	}
	if f.connected && spec.Space != sweep.SpacePartitions {
		return nil, usageError("--connected applies to --space partitions only")
	}
	if (len(f.setupList) > 0 || f.setupNames != "") && spec.Space != sweep.SpaceMemory {
		return nil, usageError("--setup and --setup-name apply to --space memory only (--space FILE takes a file of setups)")
	}
	if spec.Space == sweep.SpaceMemory {
		specs := []string(f.setupList)
		if len(specs) == 0 {
			specs = []string{workloads.RemoteName}
		}
		var names []string
		for _, n := range strings.Split(f.setupNames, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		setups, err := experiment.Setups(w.App, specs, names)
		if err != nil {
			return nil, usageError("--setup %s: %v", strings.Join(specs, " --setup "), err)
		}
		spec.Setups = setups
		spec.MemorySizesMB = defaultMemorySizes(w)
	}
	if f.sizes != "" {
		sizes, err := optimizer.ParseSizes(f.sizes)
		if err != nil {
			return nil, usageError("--memory-sizes %q: %v", f.sizes, err)
		}
		spec.MemorySizesMB = sizes
	} else if set["memory-sizes"] {
		return nil, usageError("--memory-sizes \"\": no memory size")
	}
	if f.perFunction && spec.MemorySizesMB == nil {
		return nil, usageError("--per-function-memory needs --memory-sizes")
	}
	seeds, err := sweep.ParseSeeds(f.seeds)
	if err != nil {
		return nil, usageError("--seeds %q: %v", f.seeds, err)
	}
	spec.Seeds = seeds
	if spec.Loads, err = sweepLoads(f, set, w); err != nil {
		return nil, err
	}
	if spec.Profiles, err = sweepProfiles(f.profiles); err != nil {
		return nil, err
	}
	for _, s := range spec.Setups {
		if err := w.App.CheckSetup(s); err != nil {
			return nil, usageError("setup %q: %v", s.Name(), err)
		}
	}
	return spec, nil
}

// setupsOfFile reads a file of setups: configuration metadata (JSON, gzip
// accepted) or one setup per line as --setup takes it ([NAME=]groups,
// remote, local), with # comments.
func setupsOfFile(app *fusionsim.App, path string) ([]*fusionsim.Setup, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no such file (and not partitions, rules or memory)")
		}
		return nil, err
	}
	if trace.IsGzip(data) || bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		return experiment.Setups(app, []string{path}, nil)
	}
	var specs []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line != "" {
			specs = append(specs, line)
		}
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("no setup in the file")
	}
	return experiment.Setups(app, specs, nil)
}

// sweepLoads makes the loads of --load.
func sweepLoads(f *sweepFlags, set map[string]bool, w workloads.Workload) ([]sweep.Load, error) {
	if !(f.rps > 0) || math.IsInf(f.rps, 0) {
		return nil, usageError("--rps %v: must be a number > 0 (requests/s)", f.rps)
	}
	if f.requests < 1 || f.requests > 1_000_000 {
		return nil, usageError("--requests %d: must be 1..1000000", f.requests)
	}
	if f.duration < 0 || f.pause < 0 || !(f.startRPS >= 0) {
		return nil, usageError("--duration %v, --pause %v, --start-rps %v: must be >= 0", f.duration, f.pause, f.startRPS)
	}
	var ev fusionsim.Event = w.Event
	if f.event != "" {
		if err := json.Unmarshal([]byte(f.event), &ev); err != nil || ev == nil {
			return nil, usageError("--event %q: not a JSON object: %v", f.event, err)
		}
	}
	var out []sweep.Load
	seen := map[string]bool{}
	for _, kind := range strings.Split(f.loads, ",") {
		kind = strings.TrimSpace(kind)
		if kind == "" {
			continue
		}
		if seen[kind] {
			return nil, usageError("--load %q: %s twice", f.loads, kind)
		}
		seen[kind] = true
		s := load.Spec{Kind: kind, RatePerS: f.rps, Event: ev, Seed: 1}
		l := sweep.Load{Name: kind}
		switch kind {
		case load.KindConstant:
			if set["duration"] {
				s.Duration = f.duration
			} else {
				s.Requests = f.requests
			}
		case load.KindPoisson:
			s.Duration = f.duration
			if !set["duration"] {
				s.Duration = time.Duration(float64(f.requests) / f.rps * float64(time.Second))
			}
		case load.KindBursty:
			s.StartPerS = f.startRPS
			if f.stages != "" {
				if preset, ok := load.Presets[f.stages]; ok {
					s.Stages = preset()
				} else {
					st, err := load.ParseStages(f.stages)
					if err != nil {
						return nil, usageError("--stages %q: %v", f.stages, err)
					}
					s.Stages = st
				}
			}
		case load.KindColdstart:
			s.Requests, s.Pause = f.requests, f.pause
		case load.KindReplay:
			if f.replay == "" {
				return nil, usageError("--load replay needs --replay FILE")
			}
			d, err := sweep.FileDigest(f.replay)
			if err != nil {
				return nil, usageError("--replay %q: %v", f.replay, err)
			}
			s.ReplayFile, l.ReplayDigest = f.replay, d
		default:
			return nil, usageError("--load %q: %q is not one of %s", f.loads, kind, strings.Join(load.Kinds, ", "))
		}
		if _, err := s.Arrivals(); err != nil {
			return nil, usageError("--load %s: %v", kind, err)
		}
		l.Spec = s
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, usageError("--load %q: no load", f.loads)
	}
	return out, nil
}

// sweepProfiles reads --profile (default: the embedded profile).
func sweepProfiles(files []string) ([]sweep.Profile, error) {
	if len(files) == 0 {
		files = []string{"default"}
	}
	var out []sweep.Profile
	for _, file := range files {
		if file == "default" {
			out = append(out, sweep.Profile{Name: "default", Profile: model.Default()})
			continue
		}
		p, err := model.Load(file)
		if err != nil {
			return nil, usageError("--profile %q: %v", file, err)
		}
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		for _, o := range out {
			if o.Name == name {
				return nil, usageError("--profile %q: a profile is already called %s", file, name)
			}
		}
		out = append(out, sweep.Profile{Name: name, Profile: p})
	}
	return out, nil
}
