package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/appfile"
	"github.com/fusionsim/fusionsim/awsstandin"
	"github.com/fusionsim/fusionsim/lambdaapi"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// errUsage marks errors in the command line (exit status 2).
var errUsage = errors.New("usage")

func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// options are the command's flags.
type options struct {
	listen    string
	workload  string
	app       string
	setup     string
	setupName string
	profile   string
	seed      uint64
	timeScale float64
	out       string
	force     bool
	reserved  string
	maxConns  int
	bodyWait  time.Duration
	grace     time.Duration
	noFigures bool
	awsAPIs   bool
	// flags are every flag's resolved value, by name, for the manifest.
	flags map[string]string
}

const defaultOut = "results/emulator-<workload>-<UTC time>"

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "`address` to listen on (host:port; port 0 picks a free port, printed on stderr)")
	fs.StringVar(&o.workload, "workload", "iot", "the application (`NAME`) to serve: "+strings.Join(appfile.Names(), ", "))
	fs.StringVar(&o.app, "app", "", "serve the application `FILE` (YAML or JSON, see the README's \"Application files\") instead of --workload")
	fs.StringVar(&o.setup, "setup", "", "configuration metadata `FILE` (JSON, gzip accepted) holding the setup to deploy at start (default: the workload's remote setup, every task its own 128 MB function)")
	fs.StringVar(&o.setupName, "setup-name", "", "`NAME` of the setup of --setup to deploy at start (default: the latest, the largest numeric name)")
	fs.StringVar(&o.profile, "profile", "", "platform profile `FILE` (JSON; default: the embedded profile fitted on the calibration traces)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the emulator's random source")
	fs.Float64Var(&o.timeScale, "time-scale", 1, fmt.Sprintf("virtual seconds per wall second, %g to %g: 100 runs modeled delays 100 times faster than real ones, 0.5 twice slower", lambdaapi.MinTimeScale, lambdaapi.MaxTimeScale))
	fs.StringVar(&o.out, "out", defaultOut, "results `DIR` written on shutdown: manifest.json, summary.csv, traces/<setup>.json, responses/, configuration/, logs/, figures/ (must not exist, be empty or be a results directory fusionsim wrote, which is replaced; \"\" writes nothing)")
	fs.BoolVar(&o.force, "force", false, "replace --out whatever it holds")
	fs.IntVar(&o.maxConns, "max-connections", lambdaapi.DefaultMaxConnections, "most client connections open at once; more clients wait until one closes")
	fs.DurationVar(&o.bodyWait, "body-timeout", lambdaapi.DefaultBodyTimeout, "how long a client may take to send a request body (then 408 and the connection is closed)")
	fs.StringVar(&o.reserved, "reserved-concurrency", "", "`LIST` of reserved concurrency per function, e.g. \"I-128=10,CT-128=2\" (requests beyond it are throttled: 429)")
	fs.BoolVar(&o.noFigures, "no-figures", false, "do not draw the figures of --out (they take a few seconds for long runs)")
	fs.BoolVar(&o.awsAPIs, "aws-apis", false, "also serve the subset of the AWS APIs that \"simulate --backend aws\" calls, so that it can run against this emulator: the Lambda control plane (create, get, update, delete, list functions), CloudWatch Logs (FilterLogEvents, DescribeLogGroups, DeleteLogGroup) and DynamoDB (tables; put, get, query, delete items); needs --time-scale 1, as log times must be wall-clock times")
	fs.DurationVar(&o.grace, "shutdown-timeout", 30*time.Second, "on SIGINT/SIGTERM, how long requests in flight may take to finish before their connections are closed")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: emulator [flags]

Serves a workload's functions over HTTP in real time on the emulated Lambda
platform. Routes (see package lambdaapi):
  POST /SYNC-<task>-<MB>, /SYNC-<task>   sync request, answers the task's JSON result
  POST /<task>-<MB>, /<task>             async request, answers 202 at once
  POST /2015-03-31/functions/<name>/invocations
                                         Lambda Invoke API (aws lambda invoke --endpoint-url)
  GET  /2015-03-31/functions/            ListFunctions
  GET|PUT /emulator/setup                the deployed setup; PUT configuration metadata to redeploy
  GET  /emulator/logs, /emulator/traces, /emulator/stats, /emulator/setups
SIGINT or SIGTERM shuts down gracefully and writes --out.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, usageError("%v", err)
	}
	o.flags = map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { o.flags[f.Name] = f.Value.String() })
	if o.app != "" {
		workloadSet := false
		fs.Visit(func(f *flag.Flag) { workloadSet = workloadSet || f.Name == "workload" })
		if workloadSet {
			return o, usageError("--workload %q and --app %q: give one of them", o.workload, o.app)
		}
		o.workload = ""
		o.flags["workload"] = ""
	}
	if fs.NArg() > 0 {
		return o, usageError("unexpected argument %q (flags only; see --help)", fs.Arg(0))
	}
	if !(o.timeScale >= lambdaapi.MinTimeScale && o.timeScale <= lambdaapi.MaxTimeScale) {
		return o, usageError("--time-scale: %v is outside %g..%g (virtual seconds per wall second; the virtual clock must not run out of range within days of wall time)", o.timeScale, lambdaapi.MinTimeScale, lambdaapi.MaxTimeScale)
	}
	if o.maxConns < 1 {
		return o, usageError("--max-connections: %d must be >= 1", o.maxConns)
	}
	if o.bodyWait <= 0 {
		return o, usageError("--body-timeout: %v must be > 0", o.bodyWait)
	}
	if o.grace < 0 {
		return o, usageError("--shutdown-timeout: %v must not be negative", o.grace)
	}
	if o.setupName != "" && o.setup == "" {
		return o, usageError("--setup-name %q needs --setup FILE", o.setupName)
	}
	return o, nil
}

// parseReserved parses "I-128=10,CT-128=2"; every function must be one of
// app's tasks.
func parseReserved(s string, app *fusionsim.App) (map[string]int, error) {
	if s == "" {
		return nil, nil
	}
	m := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, usageError("--reserved-concurrency: %q is not FUNCTION=N", part)
		}
		id, err := fusionsim.ParseFunctionName(name)
		if err != nil {
			return nil, usageError("--reserved-concurrency: %v", err)
		}
		if _, ok := app.Tasks[id.Task]; !ok {
			return nil, usageError("--reserved-concurrency: %s: %s is not a task of %s (tasks: %s)", name, id.Task, app.Name, strings.Join(app.TaskNames(), ", "))
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 {
			return nil, usageError("--reserved-concurrency: %s=%s: the concurrency must be an integer >= 1", name, val)
		}
		m[name] = n
	}
	return m, nil
}

// loopback reports whether addr is a loopback address only.
func loopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// Run parses the flags, serves until ctx ends and shuts down.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	w, _, err := appfile.Resolve(o.workload, o.app)
	if err != nil {
		if o.app != "" {
			return usageError("--app %s: %v", o.app, err)
		}
		return usageError("--workload: %v", err)
	}
	cfg := lambdaapi.Config{
		App:       w.App,
		Seed:      o.seed,
		TimeScale: o.timeScale,
		Epoch:     time.Now().UTC().Truncate(time.Millisecond),
		Log:       stderr,
		Command:   "emulator",
		Flags:     o.flags,
		NoFigures: o.noFigures,
		Force:     o.force,

		MaxConnections: o.maxConns,
		BodyTimeout:    o.bodyWait,
	}
	if o.setup != "" {
		if cfg.Setups, err = trace.ReadConfigFile(o.setup); err != nil {
			return usageError("--setup: %v", err)
		}
		if o.setupName != "" {
			if _, ok := cfg.Setups[o.setupName]; !ok {
				return usageError("--setup-name: %q is not a setup of %s (setups: %s)", o.setupName, o.setup, strings.Join(cfg.Setups.Names(), ", "))
			}
			cfg.Setup = o.setupName
		}
	} else {
		s, err := workloads.Remote(w.App, workloads.RemoteName, 0)
		if err != nil {
			return err
		}
		cfg.Setups = fusionsim.Configs{s.Name(): s}
	}
	if o.profile != "" {
		if cfg.Profile, err = model.Load(o.profile); err != nil {
			return usageError("--profile: %v", err)
		}
	}
	if cfg.ReservedConcurrency, err = parseReserved(o.reserved, w.App); err != nil {
		return err
	}
	if o.awsAPIs {
		if o.timeScale != 1 {
			return usageError("--aws-apis needs --time-scale 1 (got %g): the AWS backend reads log times as wall-clock times", o.timeScale)
		}
		cfg.Wrap = func(h http.Handler) http.Handler {
			return awsstandin.New(awsstandin.Config{Backend: awsstandin.EmulatorBackend{Handler: h}, Upstream: h, Log: stderr})
		}
	}
	cfg.Out = o.out
	if o.out == defaultOut {
		cfg.Out = filepath.Join("results", "emulator-"+w.Name()+"-"+time.Now().UTC().Format("20060102T150405Z"))
		o.flags["out"] = cfg.Out
	}

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return usageError("--listen: %v", err)
	}
	srv, err := lambdaapi.New(cfg)
	if err != nil {
		ln.Close()
		if errors.Is(err, lambdaapi.ErrOut) {
			return usageError("--out: %s", strings.TrimPrefix(err.Error(), lambdaapi.ErrOut.Error()+": "))
		}
		return err
	}
	setup, _ := srv.Setup(ctx)
	entries := "entry " + w.App.Entry
	if es := w.App.EntryTasks(); len(es) > 1 {
		entries = "entries " + strings.Join(es, ", ")
	}
	fmt.Fprintf(stderr, "emulator: serving %s (%s, setup %s) at time scale %g\n", w.App.Name, entries, setup, o.timeScale)
	if cfg.Out != "" {
		fmt.Fprintf(stderr, "emulator: the run's logs and traces go to %s on shutdown\n", cfg.Out)
	}
	fmt.Fprintf(stderr, "emulator: listening on http://%s\n", ln.Addr())
	if !loopback(ln.Addr()) {
		fmt.Fprintf(stderr, "emulator: warning: %s is reachable from other machines, and the emulator has no authentication: anyone who reaches it can invoke functions, deploy setups and read the logs; --listen 127.0.0.1:PORT keeps it local\n", ln.Addr())
	}
	return srv.Serve(ctx, ln, o.grace)
}
