package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/appfile"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/experiment"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/optimizer"
	"github.com/fusionsim/fusionsim/progress"
	"github.com/fusionsim/fusionsim/results"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

func init() {
	register(command{
		name:    "run",
		summary: "run a workload's setups under a load on the emulated platform (or real Lambda, --backend aws) and write a results directory",
		run:     runRun,
	})
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// runFlags are the flags of "simulate run".
type runFlags struct {
	app         appFlags // --workload, --app
	setups      stringList
	setupNames  string
	load        string
	rps         float64
	duration    time.Duration
	requests    int
	stages      string
	startRPS    float64
	replay      string
	loadFile    string
	maxVUs      int
	pause       time.Duration
	entry       string
	memorySizes string
	event       string
	seed        uint64
	profile     string
	out         string
	force       bool
	executeWork bool
	grouping    bool
	quiet       bool
	progress    bool
	optimizer   string
	maxIter     int
	logs        string
	traces      string
	backend     backendFlags // --backend, --dry-run and the aws- flags (backend.go)
}

func (f *runFlags) define(fs *flag.FlagSet) {
	f.app.define(fs, " (this or --app FILE is required)")
	fs.Var(&f.setups, "setup", "a `SETUP` to run instead of the default, repeatable: a configuration metadata file (configurationMetadata.json, gzip accepted: all its setups), \"remote\", \"local\", or groups \"[NAME=]I+CW+SE:128,CT:1024,...\" (first task of a group is its entry, :MB its memory; IC2E partitions \"A.B.D.E,C,F,G\" too)")
	fs.StringVar(&f.setupNames, "setup-name", "", "comma-separated `NAMES`: the setups of the --setup files to run (default all, in creation order), or the name of the one generated setup")
	fs.StringVar(&f.load, "load", load.KindConstant, "the `KIND` of load: "+strings.Join(append(slices.Clone(load.Kinds), load.KindScenario), ", ")+" (scenario: --load-file)")
	fs.Float64Var(&f.rps, "rps", 10, "arrival rate of constant and poisson loads, requests/s; with --load-file or an application's own scenario, the iterations started per second of a constant-arrival-rate scenario (its rate_per_s)")
	fs.DurationVar(&f.duration, "duration", 100*time.Second, "length of constant and poisson loads (virtual time on the emulator, wall time with --backend aws); with --load-file or an application's own scenario, of a constant-arrival-rate scenario (its duration_s)")
	fs.StringVar(&f.loadFile, "load-file", "", "a scenario load `FILE` (YAML or JSON; see \"Scenario loads\" in the README): iterations of requests, each to its own entry task with its own templated body, sent one after the other by a virtual user, started at a constant or ramping arrival rate with at most max_vus users (an iteration that finds none free is dropped and counted), after a setup phase; implies --load scenario. --rps and --duration (constant-arrival-rate), --stages and --start-rps (ramping-arrival-rate, iterations/s) and --max-vus override the file's figures; per-kind figures go to summary-kinds.csv")
	fs.IntVar(&f.maxVUs, "max-vus", 0, "with --load-file or an application's own scenario: at most `N` virtual users (overrides the scenario's max_vus; pre_allocated_vus, when the file gives one, is lowered to N when above; otherwise it is N too)")
	fs.IntVar(&f.requests, "requests", 0, "coldstart: number of sequential requests (default 200); constant: send this many requests at --rps instead of --duration")
	fs.StringVar(&f.stages, "stages", "", "bursty: `STAGES` \"target:duration,...\" in requests/s, each a linear ramp from the previous target (k6 ramping-arrival-rate), or a preset: bursty (default: 5 to 40 requests/s in steps of 5, 2 s each, 0.1 s ramps); with --load-file or an application's own scenario, the stages of a ramping-arrival-rate scenario in iterations/s")
	fs.Float64Var(&f.startRPS, "start-rps", 0, "bursty: the rate before the first stage, requests/s; with --load-file or an application's own scenario, a ramping-arrival-rate scenario's start_rate_per_s")
	fs.StringVar(&f.replay, "replay", "", "replay: CSV `FILE` of arrival times, one per line (first field): seconds or a duration from the start (0.25, 250ms), or absolute RFC 3339 / epoch-millisecond times; implies --load replay")
	fs.DurationVar(&f.pause, "pause", 0, "coldstart: pause between a request's end and the next request (virtual time on the emulator, wall time with --backend aws)")
	fs.StringVar(&f.entry, "entry", "", "the `FUNCTION` clients call, e.g. I-128 (always its sync route, SYNC-I-128); default: the setup's entry task at the memory size its rules give")
	fs.StringVar(&f.memorySizes, "memory-sizes", "", "comma-separated memory `SIZES` in MB: without --setup, run the remote setup at each size (a memory sweep, setups remote_<MB>); one-function workloads sweep their default sizes when this is not given")
	fs.StringVar(&f.event, "event", "", "the request body as a `JSON` object, e.g. '{\"n\":1000000,\"algorithm\":\"bitpacked\"}' for sieve or '{\"sieve\":100000}' for iot")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of every random figure of the run (same seed and flags: byte-identical results)")
	fs.StringVar(&f.profile, "profile", "", "platform profile `FILE` (JSON, see model.Profile; default: the embedded default profile, model.Default)")
	fs.StringVar(&f.out, "out", "", "results `DIR` (default results/<workload>-<UTC time>); an existing one is replaced only if fusionsim wrote it (its manifest.json names fusionsim-results and nothing else is in it)")
	fs.BoolVar(&f.force, "force", false, "replace --out whatever it holds")
	fs.BoolVar(&f.executeWork, "execute-work", false, "also run the tasks' real computations (burn loops, sieves); slow, and timings stay modeled")
	fs.BoolVar(&f.grouping, "prototype-grouping", false, "extract traces as the prototype did: one record per (trace, function), so IoT's two AS invocations of a request count as one (to compare with the published traces)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress and no table: only errors")
	fs.BoolVar(&f.progress, "progress", false, "show progress on stderr even when it is not a terminal")
	fs.StringVar(&f.optimizer, "optimizer", "", "without --setup, the `OPTIMIZER` that chooses each setup from the traces of the previous ones: "+strings.Join(optimizer.Names, ", ")+", or none (default: fusionize, Fusionize++ with --memory-sizes as its list, default the workload's published one; none when --memory-sizes is given without --optimizer or the workload has one task)")
	fs.IntVar(&f.maxIter, "max-iterations", 0, "stop the optimizer after this many iterations (default: when it is done)")
	fs.StringVar(&f.logs, "logs", "gzip", "the `FORM` of logs/<function>.log: gzip (.log.gz, the fastest level; every reader of fusionsim reads it), plain, or none")
	fs.StringVar(&f.traces, "traces", "gzip", "the `FORM` of traces/<setup>.json: gzip (.json.gz) or plain")
	f.backend.define(fs)
}

func runUsage(fs *flag.FlagSet) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintln(w, "Usage: simulate [run] (--workload NAME | --app FILE) [flags]")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Deploys each setup on the emulated Lambda platform, sends the load, extracts the")
		fmt.Fprintln(w, "traces from the platform's logs and writes a results directory: summary.csv (one")
		fmt.Fprintln(w, "row per setup), manifest.json, traces/, configuration/, responses/, logs/,")
		fmt.Fprintln(w, "figures/. Prints the summary table.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Setups: --setup runs the given ones; without it an optimizer chooses them (--optimizer,")
		fmt.Fprintln(w, "default fusionize: the Fusionize++ loop from the all-remote setup until it is done,")
		fmt.Fprintln(w, "setups named by the Unix time on the platform's clock); a one-function workload (sieve)")
		fmt.Fprintln(w, "or --memory-sizes alone runs a memory sweep of the remote setup; --optimizer none the")
		fmt.Fprintln(w, "workload's remote setup (every task its own function, 128 MB).")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Latency columns: median_ms/p95_ms/p99_ms are the root invocation's internalDuration")
		fmt.Fprintln(w, "(the prototype's latency); e2e_* the client-side latency with gateway and cold start.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Scenario loads (--load-file, k6 style): iterations of requests to their own entry")
		fmt.Fprintln(w, "tasks, sent one after the other by virtual users; the output and summary-kinds.csv")
		fmt.Fprintln(w, "add the figures of each kind of request, and dropped iterations (no free user).")
		fmt.Fprintln(w, "An application whose file carries a load: section (the webshop) sends that scenario")
		fmt.Fprintln(w, "when no --load, --load-file or --replay is given; --rps, --duration, --stages,")
		fmt.Fprintln(w, "--start-rps and --max-vus override its figures.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Examples:")
		fmt.Fprintln(w, "  simulate --workload iot")
		fmt.Fprintln(w, "  simulate --workload webshop                # Fusionize++ under the webshop's own scenario")
		fmt.Fprintln(w, "  simulate --app myapp.yaml                  # an application file (README: Application files)")
		fmt.Fprintln(w, "  simulate --workload split --setup configurationMetadata.json.gz --load coldstart --requests 200")
		fmt.Fprintln(w, "  simulate --workload sieve --memory-sizes 128,256,512,1024,1769,3538")
		fmt.Fprintln(w, "  simulate --workload iot --setup remote --setup opt=I+CW+SE:128,CS+CSL+CSA:128,CA+DJ:128,CT:128,AS:1650 --load bursty")
		fmt.Fprintln(w, "  simulate --workload iot --setup remote --load-file load/testdata/iot-mix.yaml --rps 5 --duration 30s")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Flags:")
		fs.PrintDefaults()
	}
}

// loadFlags lists the flags each kind of load uses; the others are errors.
var loadFlags = map[string][]string{
	load.KindConstant:  {"rps", "duration", "requests"},
	load.KindPoisson:   {"rps", "duration"},
	load.KindBursty:    {"stages", "start-rps"},
	load.KindColdstart: {"requests", "pause"},
	load.KindReplay:    {"replay"},
	load.KindScenario:  {"load-file", "rps", "duration", "stages", "start-rps", "max-vus"},
}

// plan is a resolved "simulate run".
type plan struct {
	workload workloads.Workload
	appFile  string        // --app, when the application is a file
	appSpec  *appfile.Spec // the file of --app, or the built-in file of --workload (nil for a Go workload)
	planner  experiment.Planner
	clock    *settableClock // the optimizer's clock, set to the platform's
	load     load.Spec
	scenario *load.Scenario // the load of --load-file (load.Kind is load.KindScenario)
	entry    fusionsim.Route
	profile  model.Profile
	seed     uint64
	out      string
	flags    map[string]string // every flag, resolved
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f runFlags
	f.define(fs)
	fs.Usage = runUsage(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	p, err := resolve(&f, set)
	if err != nil {
		return err
	}
	fs.VisitAll(func(fl *flag.Flag) { p.flags[fl.Name] = fl.Value.String() })
	// What the flags resolved to.
	p.flags["out"] = p.out
	p.flags["load"] = p.load.Kind
	if p.load.Kind == load.KindColdstart || p.load.Requests > 0 {
		p.flags["requests"] = strconv.Itoa(p.load.Requests)
	}
	if sc := p.scenario; sc != nil { // the scenario's figures, flags applied
		if sc.Executor == load.ExecutorConstant {
			p.flags["rps"] = strconv.FormatFloat(sc.RatePerS, 'g', -1, 64)
			p.flags["duration"] = sc.Duration.String()
		} else {
			p.flags["stages"] = load.FormatStages(sc.Stages)
			p.flags["start-rps"] = strconv.FormatFloat(sc.StartRatePerS, 'g', -1, 64)
		}
		p.flags["max-vus"] = strconv.Itoa(sc.MaxVUs)
	}
	return execute(ctx, p, &f, stdout, stderr)
}

// resolve checks the flags and turns them into a plan. Errors name the flag
// and the value.
func resolve(f *runFlags, set map[string]bool) (*plan, error) {
	p := &plan{flags: map[string]string{}}
	w, app, err := f.app.resolve()
	if err != nil {
		return nil, err
	}
	p.workload, p.appFile, p.appSpec = w, f.app.file, app

	// The load. An application with a scenario (an application file's
	// load: section) sends it unless a flag names another load.
	kind := f.load
	appScenario := w.Scenario != nil && !set["load"] && !set["load-file"] && !set["replay"]
	switch {
	case appScenario:
		kind = load.KindScenario
	case set["load"]:
	case set["replay"]:
		kind = load.KindReplay
	case set["load-file"]:
		kind = load.KindScenario
	case set["stages"]:
		kind = load.KindBursty
	}
	allowed, ok := loadFlags[kind]
	if !ok {
		return nil, usageError("--load %q: not one of %s", f.load, strings.Join(append(slices.Clone(load.Kinds), load.KindScenario), ", "))
	}
	for name := range loadFlags {
		for _, fl := range loadFlags[name] {
			if set[fl] && !slices.Contains(allowed, fl) {
				if appScenario {
					return nil, usageError("--%s does not apply to %s's scenario, its default load (it takes %s); give --load with another kind", fl, w.Name(), dashed(allowed[1:]))
				}
				return nil, usageError("--%s does not apply to --load %s (it uses %s)", fl, kind, dashed(allowed))
			}
		}
	}
	spec := load.Spec{Kind: kind, RatePerS: f.rps, Duration: f.duration, StartPerS: f.startRPS, Pause: f.pause, ReplayFile: f.replay, Seed: f.seed}
	if !(f.rps > 0) || math.IsInf(f.rps, 0) {
		return nil, usageError("--rps %v: must be a number > 0 (requests/s)", f.rps)
	}
	if f.duration <= 0 {
		return nil, usageError("--duration %v: must be > 0", f.duration)
	}
	if set["requests"] && f.requests < 1 {
		return nil, usageError("--requests %d: must be >= 1", f.requests)
	}
	if err := load.CheckRequests(f.requests); set["requests"] && err != nil {
		return nil, usageError("--requests %d: %v", f.requests, err)
	}
	if f.pause < 0 {
		return nil, usageError("--pause %v: must be >= 0", f.pause)
	}
	if !(f.startRPS >= 0) || math.IsInf(f.startRPS, 0) {
		return nil, usageError("--start-rps %v: must be a number >= 0", f.startRPS)
	}
	switch kind {
	case load.KindColdstart:
		spec.Requests = 200
		if set["requests"] {
			spec.Requests = f.requests
		}
	case load.KindConstant:
		if set["requests"] {
			if set["duration"] {
				return nil, usageError("--requests %d and --duration %v: give one of them for --load constant", f.requests, f.duration)
			}
			spec.Requests = f.requests
		}
	case load.KindBursty:
		if f.stages != "" {
			if preset, ok := load.Presets[f.stages]; ok {
				spec.Stages = preset()
			} else {
				st, err := load.ParseStages(f.stages)
				if err != nil {
					return nil, usageError("--stages %q: %v", f.stages, err)
				}
				spec.Stages = st
			}
		}
	case load.KindReplay:
		if f.replay == "" {
			return nil, usageError("--load replay needs --replay FILE")
		}
	case load.KindScenario:
		sc, err := scenarioOf(f, set, w)
		if err != nil {
			return nil, err
		}
		p.scenario = sc
	}
	if p.scenario != nil && (f.event != "" || f.entry != "") {
		what := "--load-file"
		if f.loadFile == "" {
			what = "the scenario (" + w.Name() + "'s default load; give --load with another kind)"
		}
		return nil, usageError("--event and --entry do not apply to %s: each request of a scenario has its own entry task and body", what)
	}
	if f.event != "" {
		var ev fusionsim.Event
		if err := json.Unmarshal([]byte(f.event), &ev); err != nil || ev == nil {
			return nil, usageError("--event %q: not a JSON object: %v", f.event, err)
		}
		spec.Event = ev
	} else {
		spec.Event = w.Event
	}
	p.load = spec

	// The setups.
	if len(f.setups) > 0 && set["optimizer"] {
		return nil, usageError("--optimizer %q: an optimizer chooses the setups itself; it cannot be combined with --setup", f.optimizer)
	}
	if f.maxIter < 0 {
		return nil, usageError("--max-iterations %d: must be >= 0", f.maxIter)
	}
	var names []string
	if f.setupNames != "" {
		if len(f.setups) == 0 {
			return nil, usageError("--setup-name %q needs --setup", f.setupNames)
		}
		for _, n := range strings.Split(f.setupNames, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	var sizes []int
	if set["memory-sizes"] && strings.TrimSpace(f.memorySizes) == "" {
		return nil, usageError("--memory-sizes %q: no memory size given (comma-separated sizes in MB, e.g. 128,1024)", f.memorySizes)
	}
	if f.memorySizes != "" {
		if len(f.setups) > 0 {
			return nil, usageError("--memory-sizes %q: a sweep runs the remote setup at each size; it cannot be combined with --setup", f.memorySizes)
		}
		for _, part := range strings.Split(f.memorySizes, ",") {
			mb, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil || mb < fusionsim.MinMemoryMB || mb > fusionsim.MaxMemoryMB {
				return nil, usageError("--memory-sizes %q: %q is not a memory size of %d to %d MB", f.memorySizes, part, fusionsim.MinMemoryMB, fusionsim.MaxMemoryMB)
			}
			sizes = append(sizes, mb)
		}
	}
	switch {
	case len(f.setups) > 0:
		setups, err := experiment.Setups(w.App, f.setups, names)
		if err != nil {
			return nil, usageError("--setup %s: %v", strings.Join(f.setups, " --setup "), err)
		}
		for _, s := range setups {
			if err := w.App.CheckSetup(s); err != nil {
				return nil, usageError("--setup %s: setup %q: %v", strings.Join(f.setups, " --setup "), s.Name(), err)
			}
			if _, err := workloads.EntryRoute(w.App, s); err != nil && f.entry == "" {
				return nil, usageError("--setup %s: %v (give --entry)", strings.Join(f.setups, " --setup "), err)
			}
		}
		p.planner = experiment.Fixed(setups)
	case f.optimizer != "none" && (f.optimizer != "" || (sizes == nil && !w.OneFunction())):
		p.planner, p.clock, err = optimizerPlanner(f.optimizer, w, sizes, f.seed, f.maxIter)
		if err != nil {
			return nil, usageError("--optimizer %q: %v", f.optimizer, err)
		}
	default:
		p.planner, err = defaultPlanner(w, sizes)
		if err != nil {
			return nil, usageError("--memory-sizes %q: %v", f.memorySizes, err)
		}
	}

	if f.entry != "" {
		id, err := fusionsim.ParseFunctionName(strings.TrimPrefix(f.entry, "SYNC-"))
		if err != nil {
			return nil, usageError("--entry %q: %v", f.entry, err)
		}
		if _, ok := w.App.Tasks[id.Task]; !ok {
			return nil, usageError("--entry %q: %s is not a task of %s (tasks: %s)", f.entry, id.Task, w.App.Name, strings.Join(w.App.TaskNames(), " "))
		}
		p.entry = fusionsim.RouteTo(id, true)
	}

	p.profile = model.Default()
	if f.profile != "" {
		p.profile, err = model.Load(f.profile)
		if err != nil {
			return nil, usageError("--profile %q: %v", f.profile, err)
		}
	}

	if f.logs != "gzip" && f.logs != "plain" && f.logs != "none" {
		return nil, usageError("--logs %q: not one of gzip, plain, none", f.logs)
	}
	if f.traces != "gzip" && f.traces != "plain" {
		return nil, usageError("--traces %q: not one of gzip, plain", f.traces)
	}
	p.seed = f.seed
	p.out = f.out
	if p.out == "" {
		// The only reading of the wall clock: to name the results.
		p.out = filepath.Join("results", w.Name()+"-"+time.Now().UTC().Format("20060102T150405Z"))
	}
	return p, nil
}

// scenarioOf reads --load-file (or takes the workload's own scenario, a
// copy), checks its entry tasks against the workload and applies the flags
// that override its figures.
func scenarioOf(f *runFlags, set map[string]bool, w workloads.Workload) (*load.Scenario, error) {
	var sc *load.Scenario
	switch {
	case f.loadFile != "":
		var err error
		if sc, err = load.ReadScenarioFile(f.loadFile); err != nil {
			return nil, usageError("--load-file %q: %v", f.loadFile, err)
		}
	case w.Scenario != nil:
		c := *w.Scenario
		sc = &c
	default:
		return nil, usageError("--load scenario needs --load-file FILE (%s has no scenario of its own)", w.Name())
	}
	source := sc.File
	if err := sc.CheckApp(w.App); err != nil {
		return nil, usageError("--load-file %q: %v", f.loadFile, err)
	}
	takes, other := []string{"rps", "duration"}, []string{"stages", "start-rps"}
	if sc.Executor == load.ExecutorRamping {
		takes, other = other, takes
	}
	for _, fl := range other {
		if set[fl] {
			return nil, usageError("--%s does not apply to the %s scenario of %s (it takes %s)", fl, sc.Executor, source, dashed(takes))
		}
	}
	if set["rps"] {
		sc.RatePerS = f.rps
	}
	if set["duration"] {
		sc.Duration = f.duration
	}
	if set["start-rps"] {
		sc.StartRatePerS = f.startRPS
	}
	if set["stages"] {
		st, err := load.ParseStages(f.stages)
		if preset, ok := load.Presets[f.stages]; ok {
			st, err = preset(), nil
		}
		if err != nil {
			return nil, usageError("--stages %q: %v", f.stages, err)
		}
		sc.Stages = st
	}
	if set["max-vus"] {
		sc.MaxVUs = f.maxVUs
		sc.PreAllocatedVUs = min(sc.PreAllocatedVUs, f.maxVUs) // < 0 (the default) follows max_vus
	}
	if err := sc.Validate(); err != nil {
		return nil, usageError("the scenario of %s with the flags that override it: %v", source, err)
	}
	return sc, nil
}

// loadFunc makes each iteration's arrivals: the scenario's at the setup's
// routes (the same bodies for every setup: they are drawn from the seed),
// or the load's, made once.
func (p *plan) loadFunc() (experiment.LoadFunc, error) {
	if sc := p.scenario; sc != nil {
		return func(setup *fusionsim.Setup) ([]fusionsim.Arrival, error) {
			return sc.Arrivals(p.seed, func(task string, sync bool) (fusionsim.Route, error) {
				return workloads.TaskRoute(setup, task, sync)
			})
		}, nil
	}
	arrivals, err := p.load.Arrivals()
	if err != nil {
		return nil, usageError("--load %s: %v", p.load.Kind, err)
	}
	return func(*fusionsim.Setup) ([]fusionsim.Arrival, error) { return arrivals, nil }, nil
}

// loadString describes the load in words.
func (p *plan) loadString() string {
	if p.scenario != nil {
		return p.scenario.String()
	}
	return p.load.String()
}

// defaultPlanner plans the run without --setup: a memory sweep of the remote
// setup for one-function workloads or when sizes are given, else the remote
// setup. (The place to make an optimizer the default.)
func defaultPlanner(w workloads.Workload, sizes []int) (experiment.Planner, error) {
	if sizes == nil && w.OneFunction() {
		sizes = w.MemorySizes
	}
	if sizes != nil {
		s, err := experiment.Sweep(w.App, sizes)
		return experiment.Fixed(s), err
	}
	s, err := workloads.Remote(w.App, workloads.RemoteName, 0)
	return experiment.Fixed{s}, err
}

func dashed(flags []string) string {
	d := make([]string, len(flags))
	for i, f := range flags {
		d[i] = "--" + f
	}
	return strings.Join(d, ", ")
}

// execute runs the plan on the emulator and writes the results.
func execute(ctx context.Context, p *plan, f *runFlags, stdout, stderr io.Writer) error {
	bar := progress.New(stderr, progress.Auto(stderr, f.progress && !f.quiet, time.Now))
	if f.quiet {
		bar = progress.New(stderr, progress.Options{})
	}
	// The emulator's logs reach the extractor and logs/ as records (see
	// experiment.RecordPlatform); text is kept in memory only for the dry
	// run, which reads it back.
	sink := emulator.NewMemorySink()
	cfg := emulator.Config{App: p.workload.App, Profile: p.profile, Seed: p.seed, ExecuteWork: f.executeWork, Progress: bar.Update}
	if f.backend.dryRun {
		cfg.Log = sink
	}
	em, err := emulator.New(cfg)
	if err != nil {
		return err
	}
	defer em.Close()
	platform, clock, err := f.backend.open(ctx, p, em, bar, stderr)
	if err != nil {
		return err
	}
	if p.clock != nil {
		p.clock.now = clock
	}
	loadFn, err := p.loadFunc()
	if err != nil {
		return err
	}
	if f.backend.dryRun {
		return f.backend.rehearse(ctx, p, platform, loadFn, sink.Reset, bar, stdout)
	}
	st, err := results.NewStageWith(p.out, results.StageOptions{Force: f.force})
	if err != nil {
		return usageError("--out %q: %v", p.out, err)
	}
	xcfg := experiment.Config{
		Platform: platform, Clock: clock, App: p.workload.App, Planner: p.planner,
		Load:     loadFn,
		Entry:    p.entry,
		Pricing:  p.profile.Pricing,
		Trace:    trace.Options{GroupByFunction: f.grouping},
		LogsRead: sink.Reset,
		Progress: bar,
		// Records and responses go to the results as they are produced;
		// a fixed list of setups keeps none of them (an optimizer reads
		// them).
		Stream: func(name string) (experiment.IterationStream, error) { return st.Setup(name, f.traces == "gzip") },
	}
	if _, fixed := p.planner.(experiment.Fixed); fixed {
		xcfg.Lean = true
	}
	if f.logs != "none" {
		logFiles, err := st.LogFilesGzip(f.logs == "gzip")
		if err != nil {
			st.Abort()
			return err
		}
		xcfg.Logs = func(_ string, l fusionsim.LogLine) error { return logFiles.Write(l) }
		xcfg.Records = func(_ string, r *fusionsim.LogRecord) { logFiles.WriteRecord(r) }
	}
	res, runErr := experiment.Run(ctx, xcfg)
	if res == nil || len(res.Iterations) == 0 {
		st.Abort()
		return runErr
	}
	run, err := resultsRun(p, res, f.grouping)
	if err != nil {
		st.Abort()
		return err
	}
	run.GzipTraces = f.traces == "gzip"
	if runErr != nil {
		run.Manifest.Reason = "stopped by an error: " + runErr.Error()
		run.Incomplete = incompleteReason(ctx, runErr, len(res.Iterations))
	}
	if err := st.Commit(run); err != nil {
		return fmt.Errorf("writing %s: %w", p.out, err)
	}
	if run.Incomplete != "" {
		fmt.Fprintf(stderr, "simulate: %s is marked incomplete (manifest.complete false, %s): %s\n", p.out, results.IncompleteFile, run.Incomplete)
	}
	if !f.quiet {
		if err := results.PrintTable(stdout, res.Rows()); err != nil {
			return err
		}
		if err := printKinds(stdout, res); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\n%s: %s, %s\nresults in %s\n", p.workload.Name(), p.loadString(), setupList(res), p.out)
		if p.clock != nil {
			fmt.Fprintf(stdout, "optimizer: %s\n", res.Reason)
		}
	}
	return runErr
}

// printKinds prints the per-kind table of a run whose requests have kinds
// (a scenario load) and its dropped iterations.
func printKinds(w io.Writer, res *experiment.Result) error {
	var rows []results.KindRow
	var dropped []string
	for _, it := range res.Iterations {
		rows = append(rows, it.Kinds...)
		if it.DroppedIterations > 0 {
			dropped = append(dropped, fmt.Sprintf("%s %d", it.Name, it.DroppedIterations))
		}
	}
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nby kind of request (summary-kinds.csv):")
	if err := results.PrintKindsTable(w, rows); err != nil {
		return err
	}
	if len(dropped) > 0 {
		fmt.Fprintf(w, "dropped iterations (no free virtual user): %s\n", strings.Join(dropped, ", "))
	}
	return nil
}

// incompleteReason says why a run stopped before its planner was done.
func incompleteReason(ctx context.Context, err error, finished int) string {
	if ctx.Err() != nil {
		return fmt.Sprintf("interrupted (%v) after %d finished setup(s)", context.Cause(ctx), finished)
	}
	return fmt.Sprintf("stopped by an error after %d finished setup(s): %v", finished, err)
}

func setupList(res *experiment.Result) string {
	n := len(res.Iterations)
	if n == 1 {
		return "1 setup"
	}
	return fmt.Sprintf("%d setups", n)
}
