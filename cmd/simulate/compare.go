package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/experiment"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/optimizer"
	"github.com/fusionsim/fusionsim/progress"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

func init() {
	register(command{
		name:    "compare",
		summary: "run several optimizers on the same workload and seeds and compare them with the exhaustive Pareto front",
		run:     runCompare,
	})
}

func compareUsage(fs *flag.FlagSet) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintln(w, "Usage: simulate compare (--workload NAME | --app FILE) [flags]")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Runs each optimizer on the emulated platform with the same seed and prints a table:")
		fmt.Fprintln(w, "the final setup, its median and p95 latency (root internalDuration, the published")
		fmt.Fprintln(w, "figure) and price per million requests, the iterations and requests spent, and how")
		fmt.Fprintln(w, "much slower and more expensive it is than the nearest setup of the Pareto front of")
		fmt.Fprintln(w, "(median latency, cost) that the exhaustive sweep finds.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "fusionize, partitions and random run the closed loop of \"simulate run\": deploy,")
		fmt.Fprintln(w, "--rps for --duration, traces extracted from the logs, next setup. partitions and")
		fmt.Fprintln(w, "random get --budget iterations (default: as many as fusionize used).")
		fmt.Fprintln(w, "exhaustive evaluates every rule setup at every memory size in parallel:")
		fmt.Fprintln(w, "--sweep-requests requests per setup at --rps, figures from the traces as in a single")
		fmt.Fprintln(w, "run (the emulator's log records through the trace extractor into the summary row;")
		fmt.Fprintln(w, "no files written). The final setups of the other optimizers are evaluated the same")
		fmt.Fprintln(w, "way (same load, same per-setup seed), so the table's figures and distances compare")
		fmt.Fprintln(w, "like with like.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Example:")
		fmt.Fprintln(w, "  simulate compare --workload iot --optimizers fusionize,partitions,exhaustive,random --out results/compare-iot")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Flags:")
		fs.PrintDefaults()
	}
}

// compareRow is one optimizer's line of the comparison.
type compareRow struct {
	Optimizer  string
	Final      string // Describe of the final setup
	Metrics    optimizer.Metrics
	Iterations int
	Requests   int
	Reason     string
	Distance   *optimizer.Distance
	Seconds    float64 // wall time spent (not part of the CSV: it varies)
}

func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) (retErr error) {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var wl appFlags
	wl.define(fs, " (this or --app FILE is required)")
	opts := fs.String("optimizers", "fusionize,partitions,exhaustive,random", "comma-separated optimizers to compare: "+strings.Join(optimizer.Names, ", "))
	seed := fs.Uint64("seed", 1, "seed of every emulator and of random search")
	rps := fs.Float64("rps", 10, "arrival rate of every load, requests/s")
	duration := fs.Duration("duration", 100*time.Second, "load of each closed-loop iteration (virtual time)")
	sizesFlag := fs.String("memory-sizes", "", "comma-separated memory sizes in MB (default: the workload's published list; iot 128,768,1024,1536,1650,2048)")
	budget := fs.Int("budget", 0, "iterations of partitions and random (default: as many as fusionize used, else 12)")
	maxIter := fs.Int("max-iterations", 100, "stop a closed loop after this many iterations")
	sweepRequests := fs.Int("sweep-requests", 1000, "requests per setup in the exhaustive sweep and in evaluating the final setups, sent at --rps")
	perFunction := fs.Bool("per-function-memory", false, "exhaustive: every combination of sizes over the functions (grows fast: refused above 200,000 setups)")
	workers := fs.Int("workers", 0, "exhaustive: setups evaluated in parallel (default: the number of CPUs)")
	out := fs.String("out", "", "also write compare.csv, front.csv and sweep.csv into `DIR`")
	profileFile := fs.String("profile", "", "platform profile `FILE` (default: the embedded profile)")
	quiet := fs.Bool("quiet", false, "nothing on stderr but errors")
	showProgress := fs.Bool("progress", false, "draw progress bars on stderr even when it is not a terminal (on a terminal they are drawn anyway)")
	fs.Usage = compareUsage(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	w, spec, err := wl.resolve()
	if err != nil {
		return err
	}
	var names []string
	seen := map[string]bool{}
	for _, n := range strings.Split(*opts, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !contains(optimizer.Names, n) {
			return usageError("--optimizers %q: unknown optimizer %q (optimizers: %s)", *opts, n, strings.Join(optimizer.Names, ", "))
		}
		if seen[n] {
			return usageError("--optimizers %q: %s twice", *opts, n)
		}
		seen[n] = true
		names = append(names, n)
	}
	if len(names) == 0 {
		return usageError("--optimizers %q: no optimizer", *opts)
	}
	if !(*rps > 0) || math.IsInf(*rps, 0) {
		return usageError("--rps %v: must be a number > 0 (requests/s)", *rps)
	}
	if *duration <= 0 {
		return usageError("--duration %v: must be > 0", *duration)
	}
	if *budget < 0 || *maxIter < 1 || *sweepRequests < 1 || *workers < 0 {
		return usageError("--budget %d, --max-iterations %d, --sweep-requests %d, --workers %d: budget and workers must be >= 0, the others >= 1", *budget, *maxIter, *sweepRequests, *workers)
	}
	sizes := defaultMemorySizes(w)
	if isSet(fs, "memory-sizes") && strings.TrimSpace(*sizesFlag) == "" {
		return usageError("--memory-sizes %q: no memory size given (comma-separated sizes in MB, e.g. 128,1024)", *sizesFlag)
	}
	if *sizesFlag != "" {
		if sizes, err = optimizer.ParseSizes(*sizesFlag); err != nil {
			return usageError("--memory-sizes %q: %v", *sizesFlag, err)
		}
	}
	prof := model.Default()
	if *profileFile != "" {
		if prof, err = model.Load(*profileFile); err != nil {
			return usageError("--profile %q: %v", *profileFile, err)
		}
	}
	if *out != "" {
		// Checked before the computation, not after it.
		if err := checkOutDir(*out); err != nil {
			return usageError("--out %q: %v", *out, err)
		}
	}
	bar := progress.New(stderr, progress.Auto(stderr, *showProgress && !*quiet, time.Now))
	if *quiet {
		bar = progress.New(stderr, progress.Options{})
	}
	// note prints a line on stderr: above the bar, or plainly without one.
	// The sweep runs beside the closed loops: mu guards the bar and stderr.
	var mu sync.Mutex
	note := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case bar.Enabled():
			bar.Printf(format, args...)
		case !*quiet:
			fmt.Fprintf(stderr, format, args...)
		}
	}

	var loads compareLoads
	if w.Scenario != nil {
		loads, err = scenarioLoads(w, *seed, *rps, *duration, isSet(fs, "rps"), isSet(fs, "duration"), *sweepRequests)
	} else {
		loads, err = constantLoads(w, *rps, *duration, *sweepRequests)
	}
	if err != nil {
		return err
	}
	sweepArrivals := loads.sweep
	eval := &optimizer.EmulatorEvaluator{App: w.App, Profile: prof, Arrivals: sweepArrivals, Load: loads.sweepFor}
	// Finished work is kept, and taken up again by the same command.
	state, err := openCompareState(*out, w.Name(), compareIdentity(appIdentity([]any{w.Name(), names, *seed, *rps, *duration, sizes, *budget, *maxIter, loads.sweepRequests, *perFunction, prof}, spec)))
	if err != nil {
		return err
	}
	defer func() { retErr = state.finish(retErr) }()

	// The closed loops: fusionize first, its iteration count is the others'
	// default budget.
	var rows []*compareRow
	finals := map[string]*fusionsim.Setup{}
	order := names
	defer collectLess()()
	loopBudget := *budget
	runLoop := func(n string, b int, bar *progress.Bar) (*compareRow, *fusionsim.Setup, error) {
		if b == 0 {
			b = 12
		}
		if row, final, ok := state.loop(n); ok {
			note("%s: kept from an earlier run\n", n)
			return row, final, nil
		}
		start := time.Now()
		row, final, err := closedLoop(ctx, w, prof, n, sizes, b, *seed, *maxIter, loads.loopFor, bar)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", n, err)
		}
		row.Seconds = time.Since(start).Seconds()
		return row, final, state.saveLoop(n, row, final)
	}
	note("%s: closed loops under %s per iteration; exhaustive sweep at %d requests per setup\n", w.Name(), loads.loopWhat, loads.sweepRequests)
	// The exhaustive sweep starts first and runs in the background, on every
	// CPU, while the closed loops (one goroutine each) go on.
	var (
		sweep      *optimizer.SweepResult
		sweepErr   error
		sweepStart = time.Now()
		sweepTime  time.Duration
		sweepDone  = make(chan struct{})
	)
	sweepCtx, cancelSweep := context.WithCancel(ctx)
	defer cancelSweep()
	if seen["exhaustive"] {
		sw := &optimizer.Sweep{App: w.App, MemorySizesMB: sizes, PerFunctionMemory: *perFunction, Workers: *workers, Seed: *seed, Evaluator: eval}
		setups, assignments, rules, err := sw.Setups()
		if err != nil {
			return usageError("exhaustive: %v", err)
		}
		kept, err := state.exhaustive(sw, len(setups))
		if err != nil {
			return err
		}
		if kept > 0 {
			note("exhaustive: resuming: %d of %d setups kept from an earlier run\n", kept, len(setups))
		}
		note("exhaustive: %d setups (%d rule setups from %d local/remote assignments of %d call edges, x %d memory sizes%s), %s each, figures from the traces\n",
			len(setups), rules, assignments, len(w.App.Edges), len(sizes), perFunctionNote(*perFunction), loads.sweepWhat)
		mu.Lock()
		bar.Begin("exhaustive", len(setups))
		mu.Unlock()
		sw.Progress = func(done, total int) {
			mu.Lock()
			bar.Update(done, total)
			mu.Unlock()
		}
		go func() {
			defer close(sweepDone)
			sweep, sweepErr = sw.Run(sweepCtx)
			sweepTime = time.Since(sweepStart)
		}()
	} else {
		close(sweepDone)
	}
	// A closed loop's error stops the sweep too.
	fail := func(err error) error {
		cancelSweep()
		<-sweepDone
		return err
	}

	if seen["fusionize"] {
		row, final, err := runLoop("fusionize", 0, nil)
		if err != nil {
			return fail(err)
		}
		if *budget == 0 {
			loopBudget = row.Iterations
		}
		note("fusionize: %d iterations, %d requests in %.1f s: %s\n", row.Iterations, row.Requests, row.Seconds, row.Reason)
		rows = append(rows, row)
		finals["fusionize"] = final
	}
	// The other closed loops are independent (each its own emulator and
	// seed): run them side by side, progress as one line each at the end.
	var others []string
	for _, n := range order {
		if n != "fusionize" && n != "exhaustive" {
			others = append(others, n)
		}
	}
	type loopOut struct {
		row   *compareRow
		final *fusionsim.Setup
		err   error
	}
	outs := make([]loopOut, len(others))
	var wg sync.WaitGroup
	for i, n := range others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i].row, outs[i].final, outs[i].err = runLoop(n, loopBudget, nil)
		}()
	}
	wg.Wait()
	for i, n := range others {
		if outs[i].err != nil {
			return fail(outs[i].err)
		}
		r := outs[i].row
		note("%s: %d iterations, %d requests in %.1f s: %s\n", n, r.Iterations, r.Requests, r.Seconds, r.Reason)
		rows = append(rows, r)
		finals[n] = outs[i].final
	}

	<-sweepDone
	mu.Lock()
	bar.End("")
	mu.Unlock()
	if sweepErr != nil {
		return sweepErr
	}
	if seen["exhaustive"] {
		note("exhaustive: %d setups evaluated in %.1f s (beside the closed loops), %d on the Pareto front\n", len(sweep.Points), sweepTime.Seconds(), len(sweep.Front))
		bestIdx := -1
		for i, p := range sweep.Front {
			if bestIdx < 0 || p.MedianRootBilledMs < sweep.Front[bestIdx].MedianRootBilledMs ||
				p.MedianRootBilledMs == sweep.Front[bestIdx].MedianRootBilledMs && p.CostPerRequestUSD < sweep.Front[bestIdx].CostPerRequestUSD {
				bestIdx = i
			}
		}
		row := &compareRow{Optimizer: "exhaustive", Iterations: len(sweep.Points), Requests: len(sweep.Points) * loads.sweepRequests,
			Reason: fmt.Sprintf("Pareto front of %d setups; the front's lowest median root billed duration", len(sweep.Front)), Seconds: sweepTime.Seconds()}
		if bestIdx >= 0 {
			row.Final, row.Metrics = sweep.Front[bestIdx].Label, sweep.Front[bestIdx].Metrics
		}
		rows = append(rows, row)
	}

	// The final setups under the sweep's load and seeds, and their distance
	// to the front.
	for _, row := range rows {
		if row.Optimizer == "exhaustive" {
			d := optimizer.Distance{}
			row.Distance = &d
			continue
		}
		final := finals[row.Optimizer]
		if final == nil {
			continue
		}
		m, err := eval.Evaluate(ctx, final, optimizer.SeedFor(*seed, final))
		if err != nil {
			return fmt.Errorf("%s: evaluating its final setup: %w", row.Optimizer, err)
		}
		row.Metrics = m
		if sweep != nil {
			if d, ok := optimizer.DistanceTo(optimizer.Point{Metrics: m}, sweep.Front); ok {
				row.Distance = &d
			}
		}
	}
	// Rows in the order asked for.
	sorted := make([]*compareRow, 0, len(rows))
	for _, n := range names {
		for _, r := range rows {
			if r.Optimizer == n {
				sorted = append(sorted, r)
			}
		}
	}
	printComparison(stdout, w, sorted, sweep, loads)
	if *out != "" {
		if err := writeComparison(*out, sorted, sweep); err != nil {
			return fmt.Errorf("--out %q: %w", *out, err)
		}
		fmt.Fprintf(stdout, "\nwritten to %s\n", *out)
	}
	return nil
}

// collectLess has the collector run at eight times the live heap for the
// emulations of compare and sweep, unless GOGC is set, and returns what
// restores the setting. The emulators allocate much short-lived garbage
// around a small live heap: collecting less often is faster, and main's soft
// memory limit bounds the heap all the same.
func collectLess() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(800)
	return func() { debug.SetGCPercent(old) }
}

// isSet reports whether the flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// checkOutDir makes sure dir can be created (if missing) and written
// into, without creating it: it writes and removes a probe file in dir or in
// its nearest existing ancestor.
func checkOutDir(dir string) error {
	probe := filepath.Clean(dir)
	for {
		st, err := os.Stat(probe)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("%s is not a directory", probe)
			}
			break
		}
		if !errors.Is(err, os.ErrNotExist) || filepath.Dir(probe) == probe {
			return err
		}
		probe = filepath.Dir(probe)
	}
	f, err := os.CreateTemp(probe, ".fusionsim-probe-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

func perFunctionNote(on bool) string {
	if on {
		return " per function"
	}
	return ", one size for all functions"
}

// defaultMemorySizes is the memory size list of a workload's published runs.
func defaultMemorySizes(w workloads.Workload) []int {
	switch {
	case w.MemorySizes != nil:
		return w.MemorySizes
	case w.Name() == "split":
		return optimizer.SplitMemorySizesMB
	}
	return optimizer.IoTMemorySizesMB
}

// recordingPlanner remembers the optimizer's last decision.
type recordingPlanner struct {
	optimizer.Planner
	done  bool
	final *fusionsim.Setup
}

func (p *recordingPlanner) Next(ctx context.Context, h []experiment.Iteration) (*fusionsim.Setup, bool, string, error) {
	s, done, reason, err := p.Planner.Next(ctx, h)
	p.done, p.final = done, s
	return s, done, reason, err
}

// closedLoop runs one optimizer in the closed loop on a fresh emulator.
func closedLoop(ctx context.Context, w workloads.Workload, prof model.Profile, name string, sizes []int, budget int, seed uint64, maxIter int, loadFn experiment.LoadFunc, bar *progress.Bar) (*compareRow, *fusionsim.Setup, error) {
	// No text log: experiment.Run reads the emulator's records directly.
	em, err := emulator.New(emulator.Config{App: w.App, Profile: prof, Seed: seed, Progress: bar.Update})
	if err != nil {
		return nil, nil, err
	}
	defer em.Close()
	opt, err := optimizer.New(name, optimizer.Config{App: w.App, MemorySizesMB: sizes, Budget: budget, Seed: seed, Clock: em.Now})
	if err != nil {
		return nil, nil, err
	}
	pl := &recordingPlanner{Planner: optimizer.Planner{Optimizer: opt, MaxIterations: maxIter}}
	res, err := experiment.Run(ctx, experiment.Config{
		Platform: em, App: w.App, Planner: pl,
		Load:          loadFn,
		Pricing:       prof.Pricing,
		Trace:         trace.Options{},
		Progress:      bar,
		MaxIterations: maxIter + 1,
	})
	if err != nil {
		return nil, nil, err
	}
	row := &compareRow{Optimizer: name, Iterations: len(res.Iterations), Reason: res.Reason}
	for _, it := range res.Iterations {
		row.Requests += len(it.Responses)
	}
	final := pl.final
	if final == nil && len(res.Iterations) > 0 {
		// Stopped without a final word: the best iteration so far.
		hist := optimizer.Trials(res.Iterations)
		best, _ := optimizer.Best(hist)
		if best >= 0 {
			final = hist[best].Setup
		}
	}
	if final != nil {
		row.Final = optimizer.Describe(w.App, final)
	}
	return row, final, nil
}

func printComparison(out io.Writer, w workloads.Workload, rows []*compareRow, sweep *optimizer.SweepResult, loads compareLoads) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "optimizer\tfinal setup\tmedian_ms\tp95_ms\tusd_per_million\titerations\trequests\tslower_pct\tcostlier_pct\tnearest optimal setup")
	for _, r := range rows {
		slower, costlier, nearest := "-", "-", "-"
		if r.Distance != nil {
			slower, costlier = fmt.Sprintf("%.1f", r.Distance.SlowerPct), fmt.Sprintf("%.1f", r.Distance.CostlierPct)
			nearest = r.Distance.Nearest.Label
			if r.Optimizer == "exhaustive" {
				nearest = "(on the front)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", r.Optimizer, r.Final, num(r.Metrics.MedianLatencyMs, 1), num(r.Metrics.P95LatencyMs, 1),
			num(r.Metrics.CostPerRequestUSD*1e6, 2), r.Iterations, r.Requests, slower, costlier, nearest)
	}
	tw.Flush()
	fmt.Fprintf(out, "\n%s. Latency: root internalDuration (the published figure). Figures of every row: %s\n", w.Name(), loads.sweepWhat)
	fmt.Fprintf(out, "per setup on a fresh emulator, from its traces as in a single run, seeds derived from --seed\n")
	fmt.Fprintf(out, "and the setup. Closed loops: %s per iteration, traces from the logs.\n", loads.loopWhat)
	for _, r := range rows {
		fmt.Fprintf(out, "  %s: %s\n", r.Optimizer, r.Reason)
	}
	if sweep == nil {
		return
	}
	fmt.Fprintf(out, "\nPareto front of (median latency, cost per request): %d of %d setups\n", len(sweep.Front), len(sweep.Points))
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "setup\tmedian_ms\tp95_ms\tusd_per_million")
	for _, p := range sweep.Front {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Label, num(p.MedianLatencyMs, 1), num(p.P95LatencyMs, 1), num(p.CostPerRequestUSD*1e6, 2))
	}
	tw.Flush()
}

func num(v float64, decimals int) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

func writeComparison(dir string, rows []*compareRow, sweep *optimizer.SweepResult) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var recs [][]string
	recs = append(recs, []string{"optimizer", "final_setup", "median_ms", "p95_ms", "usd_per_million", "iterations", "requests", "slower_pct", "costlier_pct", "nearest_optimal_setup", "reason"})
	for _, r := range rows {
		slower, costlier, nearest := "", "", ""
		if r.Distance != nil {
			slower, costlier, nearest = num(r.Distance.SlowerPct, 3), num(r.Distance.CostlierPct, 3), r.Distance.Nearest.Label
		}
		recs = append(recs, []string{r.Optimizer, r.Final, num(r.Metrics.MedianLatencyMs, 3), num(r.Metrics.P95LatencyMs, 3), num(r.Metrics.CostPerRequestUSD*1e6, 4),
			strconv.Itoa(r.Iterations), strconv.Itoa(r.Requests), slower, costlier, nearest, r.Reason})
	}
	if err := writeCSVFile(filepath.Join(dir, "compare.csv"), recs); err != nil {
		return err
	}
	if sweep == nil {
		return nil
	}
	points := func(ps []optimizer.Point) [][]string {
		out := [][]string{{"setup", "median_ms", "p95_ms", "usd_per_million", "median_root_billed_ms", "requests", "errors"}}
		for _, p := range ps {
			out = append(out, []string{p.Label, num(p.MedianLatencyMs, 3), num(p.P95LatencyMs, 3), num(p.CostPerRequestUSD*1e6, 4), num(p.MedianRootBilledMs, 1), strconv.Itoa(p.Requests), strconv.Itoa(p.Errors)})
		}
		return out
	}
	if err := writeCSVFile(filepath.Join(dir, "front.csv"), points(sweep.Front)); err != nil {
		return err
	}
	return writeCSVFile(filepath.Join(dir, "sweep.csv"), points(sweep.Points))
}

// writeCSVFile writes records atomically.
func writeCSVFile(path string, recs [][]string) error {
	var b strings.Builder
	cw := csv.NewWriter(&b)
	if err := cw.WriteAll(recs); err != nil {
		return err
	}
	return trace.WriteFileAtomic(path, []byte(b.String()))
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// compareLoads are the loads of a comparison: of the closed loops' every
// iteration, and of every setup the exhaustive sweep and the final
// evaluations measure.
type compareLoads struct {
	sweep               []fusionsim.Arrival // the same for every setup (nil with a scenario)
	loopFor             experiment.LoadFunc
	sweepFor            func(*fusionsim.Setup) ([]fusionsim.Arrival, error) // nil: sweep
	sweepRequests       int
	loopWhat, sweepWhat string
}

// constantLoads: --rps for --duration per iteration, --sweep-requests at
// --rps per setup, to the entry route with the workload's request body.
func constantLoads(w workloads.Workload, rps float64, duration time.Duration, sweepRequests int) (compareLoads, error) {
	loop, err := load.Constant(rps, duration)
	if err != nil {
		return compareLoads{}, usageError("--rps %v --duration %v: %v", rps, duration, err)
	}
	load.WithEvent(loop, w.Event)
	sweep, err := load.Constant(rps, time.Duration(float64(sweepRequests)/rps*float64(time.Second)))
	if err != nil {
		return compareLoads{}, usageError("--sweep-requests %d: %v", sweepRequests, err)
	}
	sweep = sweep[:min(len(sweep), sweepRequests)]
	load.WithEvent(sweep, w.Event)
	return compareLoads{
		sweep: sweep, sweepRequests: len(sweep),
		loopFor:   func(*fusionsim.Setup) ([]fusionsim.Arrival, error) { return loop, nil },
		loopWhat:  fmt.Sprintf("%d requests at %v/s", len(loop), rps),
		sweepWhat: fmt.Sprintf("%d requests at %v/s", len(sweep), rps),
	}, nil
}

// scenarioLoads: the workload's scenario (its default load) in every
// closed-loop iteration, --rps and --duration overriding its rate and
// duration when given (a constant-arrival-rate scenario); in the sweep, the
// same scenario cut to the iterations that send about --sweep-requests
// requests (a ramping one as it is). Each setup's requests go to their
// entry tasks' routes at its memory sizes.
func scenarioLoads(w workloads.Workload, seed uint64, rps float64, duration time.Duration, setRPS, setDuration bool, sweepRequests int) (compareLoads, error) {
	loop := *w.Scenario
	if (setRPS || setDuration) && loop.Executor != load.ExecutorConstant {
		return compareLoads{}, usageError("--rps and --duration do not apply to %s's %s scenario", w.Name(), loop.Executor)
	}
	if setRPS {
		loop.RatePerS = rps
	}
	if setDuration {
		loop.Duration = duration
	}
	if err := loop.Validate(); err != nil {
		return compareLoads{}, usageError("%s's scenario with --rps and --duration: %v", w.Name(), err)
	}
	sweep := loop
	if sweep.Executor == load.ExecutorConstant {
		perIter := load.CountRequests(sweep.Iteration)
		iters := max(1, (sweepRequests+perIter-1)/perIter)
		sweep.Duration = time.Duration(math.Ceil((float64(iters) - 0.5) / sweep.RatePerS * float64(time.Second)))
	}
	var count [2]int
	for i, sc := range []*load.Scenario{&loop, &sweep} {
		n, err := sc.Requests()
		if err != nil {
			return compareLoads{}, usageError("%s's scenario: %v", w.Name(), err)
		}
		count[i] = n
	}
	of := func(sc *load.Scenario) func(*fusionsim.Setup) ([]fusionsim.Arrival, error) {
		return func(setup *fusionsim.Setup) ([]fusionsim.Arrival, error) {
			return sc.Arrivals(seed, func(task string, sync bool) (fusionsim.Route, error) { return workloads.TaskRoute(setup, task, sync) })
		}
	}
	describe := func(sc *load.Scenario, n int) string {
		return fmt.Sprintf("%d requests of %s", n, strings.TrimPrefix(sc.String(), "scenario "))
	}
	return compareLoads{
		loopFor: of(&loop), sweepFor: of(&sweep), sweepRequests: count[1],
		loopWhat: describe(&loop, count[0]), sweepWhat: describe(&sweep, count[1]),
	}, nil
}
