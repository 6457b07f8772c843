package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/appfile"
	"github.com/fusionsim/fusionsim/aws"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/experiment"
	"github.com/fusionsim/fusionsim/progress"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// Backends of "simulate run".
const (
	backendEmulator = "emulator"
	backendAWS      = "aws"
)

// awsFlags are the flags of the AWS backend, shared by "simulate run" and
// "simulate teardown".
type awsFlags struct {
	endpoint, region, profile, prefix, tables string
	role, arch, memorySizes, pkg              string
	timeoutS                                  int
	settleQuiet, settlePoll, settleMax        time.Duration
}

// defineCommon defines the flags that find a deployment.
func (a *awsFlags) defineCommon(fs *flag.FlagSet) {
	fs.StringVar(&a.endpoint, "endpoint-url", "", "aws: send every AWS API call (Lambda, CloudWatch Logs, DynamoDB) to this `URL` instead of AWS, e.g. a local stand-in (AWS_ENDPOINT_URL does the same)")
	fs.StringVar(&a.region, "aws-region", "", "aws: the `REGION` (default: the AWS configuration, AWS_REGION or the profile's)")
	fs.StringVar(&a.profile, "aws-profile", "", "aws: the shared-configuration `PROFILE` for credentials and region (default: AWS_PROFILE or default)")
	fs.StringVar(&a.prefix, "aws-prefix", "", "aws: `PREFIX` of the function and table names: <PREFIX>fusion-function-<TASK>-<MB>, <PREFIX>SensorDataTable (default none, the prototype's names)")
	fs.StringVar(&a.tables, "aws-tables", strings.Join(aws.DefaultTables, ","), "aws: comma-separated DynamoDB `TABLES` the tasks use (key SensorID), created if missing; \"none\" for none (default: the prototype's two for the Go workloads, an application file's tables: list)")
}

// defineDeploy defines the flags of a deployment and its load.
func (a *awsFlags) defineDeploy(fs *flag.FlagSet) {
	fs.StringVar(&a.role, "aws-role-arn", "", "aws: the functions' execution role `ARN` (needed to create functions; see the README for its permissions)")
	fs.StringVar(&a.arch, "aws-arch", aws.X86, "aws: the functions' `ARCH`itecture, x86_64 (as the prototype) or arm64")
	fs.StringVar(&a.memorySizes, "aws-memory-sizes", "", "aws: comma-separated memory `SIZES` in MB that setups may use; others are refused before anything is deployed (default: any of 128..10240; new accounts allow up to 3008)")
	fs.IntVar(&a.timeoutS, "aws-timeout", 60, "aws: the functions' timeout in `SECONDS`")
	fs.StringVar(&a.pkg, "aws-package", "", "aws: the function package, a zip `FILE` with the bootstrap (\"make lambda-zip\"); default: build cmd/lambda with the go command from this checkout")
	fs.DurationVar(&a.settleQuiet, "aws-settle", 15*time.Second, "aws: after the last response, how long the logs must show no new invocation (and every START its REPORT) before the iteration's logs are read; CloudWatch Logs delivers lines seconds late")
	fs.DurationVar(&a.settlePoll, "aws-settle-poll", 5*time.Second, "aws: time between two reads of the logs while settling")
	fs.DurationVar(&a.settleMax, "aws-settle-max", 10*time.Minute, "aws: longest wait for the logs to settle; unfinished invocations then count as incomplete")
}

// config turns the flags into the backend's configuration; errors name the
// flag.
func (a *awsFlags) config(w workloads.Workload) (aws.Config, error) {
	c := aws.Config{
		App: w.App, Workload: w.Name(),
		Region: a.region, Profile: a.profile, EndpointURL: a.endpoint, Prefix: a.prefix,
		RoleARN: a.role, Architecture: a.arch, TimeoutS: a.timeoutS, Package: a.pkg,
		Settle: aws.Settle{Quiet: a.settleQuiet, Poll: a.settlePoll, Max: a.settleMax},
	}
	t := strings.TrimSpace(a.tables)
	if t == strings.Join(aws.DefaultTables, ",") && w.Tables != nil {
		t = strings.Join(w.Tables, ",") // the flag's default: the file's tables
	}
	switch t {
	case "none", "":
		c.NoTables = true
	default:
		for _, name := range strings.Split(t, ",") {
			if name = strings.TrimSpace(name); name != "" {
				c.Tables = append(c.Tables, name)
			}
		}
	}
	if a.memorySizes != "" {
		for _, part := range strings.Split(a.memorySizes, ",") {
			mb, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				return c, usageError("--aws-memory-sizes %q: %q is not a whole number of MB", a.memorySizes, part)
			}
			c.MemorySizes = append(c.MemorySizes, mb)
		}
	}
	for name, d := range map[string]time.Duration{"aws-settle": a.settleQuiet, "aws-settle-poll": a.settlePoll, "aws-settle-max": a.settleMax} {
		if d <= 0 {
			return c, usageError("--%s %v: must be > 0", name, d)
		}
	}
	if err := c.Validate(); err != nil {
		return c, usageError("%v", err)
	}
	return c, nil
}

// backendFlags choose the platform of "simulate run": the emulator
// (default) or AWS Lambda.
type backendFlags struct {
	backend string
	dryRun  bool
	aws     awsFlags
	fs      *flag.FlagSet
}

func (b *backendFlags) define(fs *flag.FlagSet) {
	b.fs = fs
	fs.StringVar(&b.backend, "backend", backendEmulator, "the platform (`BACKEND`): emulator (the model, in virtual time) or aws (real AWS Lambda, in real time: see the aws- flags and \"Running on AWS\" in the README)")
	fs.BoolVar(&b.dryRun, "dry-run", false, "aws: print the plan (functions, memory sizes, tables, invocations, estimated cost) without calling AWS; the experiment runs on the emulator to find its setups and durations")
	b.aws.defineCommon(fs)
	b.aws.defineDeploy(fs)
}

// setFlags lists the flags given on the command line.
func (b *backendFlags) setFlags() map[string]bool {
	set := map[string]bool{}
	b.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// open returns the platform of the run and its clock: the emulator itself,
// the AWS backend, or for a dry run a rehearsal on the emulator. With the
// AWS backend, the summary is priced at the backend's architecture.
func (b *backendFlags) open(ctx context.Context, p *plan, em *emulator.Emulator, bar *progress.Bar, stderr io.Writer) (fusionsim.Platform, func() time.Time, error) {
	set := b.setFlags()
	switch b.backend {
	case backendEmulator:
		for name := range set {
			if name == "dry-run" || name == "endpoint-url" || strings.HasPrefix(name, "aws-") {
				return nil, nil, usageError("--%s applies to --backend aws", name)
			}
		}
		return em, em.Now, nil
	case backendAWS:
	default:
		return nil, nil, usageError("--backend %q: emulator or aws", b.backend)
	}
	if set["execute-work"] {
		return nil, nil, usageError("--execute-work applies to the emulator: on AWS the tasks' work always runs")
	}
	cfg, err := b.aws.config(p.workload)
	if err != nil {
		return nil, nil, err
	}
	if b.dryRun {
		r, err := aws.NewRehearsal(em, cfg)
		if err != nil {
			return nil, nil, usageError("%v", err)
		}
		return r, r.Now, nil
	}
	cfg.Progress = bar.Update
	if q := b.fs.Lookup("quiet"); q == nil || q.Value.String() != "true" {
		cfg.Log = &barWriter{bar: bar, w: stderr}
	}
	if p.appFile != "" {
		// The function finds its application by name (FUSION_APP): only a
		// built-in one, byte for byte, runs there as it runs here.
		builtin, ok := workloads.File(p.workload.Name())
		if sum := sha256.Sum256(builtin); !ok || hex.EncodeToString(sum[:]) != p.appSpec.Digest {
			return nil, nil, usageError("--app %s --backend aws: the Lambda bootstrap (cmd/lambda) finds its application by name among the built-in ones (%s); an application file is not packaged into the function yet (--dry-run plans it)", p.appFile, strings.Join(appfile.Names(), ", "))
		}
	}
	plat, err := aws.New(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	p.profile.Pricing.Architecture = cfg.Architecture
	return plat, plat.Now, nil
}

// rehearse runs the experiment on the rehearsal and prints the plan instead
// of writing results.
func (b *backendFlags) rehearse(ctx context.Context, p *plan, platform fusionsim.Platform, loadFn experiment.LoadFunc, logsRead func(), bar *progress.Bar, stdout io.Writer) error {
	r, ok := platform.(*aws.Rehearsal)
	if !ok {
		return fmt.Errorf("dry run without a rehearsal platform")
	}
	res, runErr := experiment.Run(ctx, experiment.Config{
		Platform: r, App: p.workload.App, Planner: p.planner,
		Load:     loadFn,
		Entry:    p.entry,
		Clock:    r.Now,
		Pricing:  p.profile.Pricing,
		Trace:    trace.Options{},
		LogsRead: logsRead,
		Progress: bar,
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.Plan(stdout, aws.PlanOptions{Pricing: p.profile.Pricing, Profile: p.profile.Name, Region: b.aws.region, Err: runErr}); err != nil {
		return err
	}
	if res != nil && res.Reason != "" && p.clock != nil {
		fmt.Fprintf(stdout, "optimizer: %s\n", res.Reason)
	}
	return runErr
}

// barWriter writes the backend's notices above the progress bar.
type barWriter struct {
	bar *progress.Bar
	w   io.Writer
}

func (bw *barWriter) Write(b []byte) (int, error) {
	if bw.bar.Enabled() {
		bw.bar.Printf("%s", b)
		return len(b), nil
	}
	return bw.w.Write(b)
}
