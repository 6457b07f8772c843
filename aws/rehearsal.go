package aws

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/aws/handler"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
)

// Rehearsal is a fusionsim.Platform that runs an experiment on another
// platform (the emulator) and records what the AWS backend would do with it:
// the functions of every deployment, the configuration updates, the
// requests, and, from the logs, the invocations with their durations. It
// checks what Deploy checks (memory sizes, environment size) and calls no
// AWS API. Plan prints the result.
type Rehearsal struct {
	inner fusionsim.Platform
	cfg   Config

	mu     sync.Mutex
	setup  *fusionsim.Setup
	setups []*RehearsedSetup
	deploy map[string]bool // every function deployed so far
}

// RehearsedSetup is what one deployment would do and cost.
type RehearsedSetup struct {
	Setup string
	// Functions are the deployment's functions; Created those that did not
	// exist before (CreateFunction), the others are updated.
	Functions []fusionsim.FunctionID
	Created   int
	// Requests are the client requests; ColdBefore how many of them force
	// cold starts first (a configuration update of every function).
	Requests, ColdBefore int
	// LoadTime is the time of the load's schedule.
	LoadTime time.Duration
	// Invocations, ColdStarts: from the emulated logs' REPORT lines.
	Invocations, ColdStarts int
	// BilledMBMs sums billed duration x memory over the invocations, with
	// the INIT phase billed as on provided.al2023.
	BilledMBMs float64
	// LogBytes is the size of the log events CloudWatch would ingest.
	LogBytes int64
}

var _ fusionsim.Platform = (*Rehearsal)(nil)

// NewRehearsal wraps inner. cfg gives the application, the name prefix,
// the architecture, the allowed memory sizes and the tables; nothing in it
// is contacted.
func NewRehearsal(inner fusionsim.Platform, cfg Config) (*Rehearsal, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Rehearsal{inner: inner, cfg: cfg, deploy: map[string]bool{}}, nil
}

// Now is the inner platform's clock (the experiment's iterations are
// bounded by it).
func (r *Rehearsal) Now() time.Time {
	if c, ok := r.inner.(interface{ Now() time.Time }); ok {
		return c.Now()
	}
	return time.Now()
}

// Setups returns the rehearsed deployments, in order.
func (r *Rehearsal) Setups() []RehearsedSetup {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]RehearsedSetup, len(r.setups))
	for i, s := range r.setups {
		out[i] = *s
	}
	return out
}

func (r *Rehearsal) current() *RehearsedSetup {
	if len(r.setups) == 0 {
		return nil
	}
	return r.setups[len(r.setups)-1]
}

// Deploy records the deployment and deploys on the inner platform.
func (r *Rehearsal) Deploy(ctx context.Context, setup *fusionsim.Setup) error {
	if err := r.cfg.App.CheckSetup(setup); err != nil {
		return err
	}
	ids, err := Functions(r.cfg.App, setup)
	if err != nil {
		return err
	}
	rs := &RehearsedSetup{Setup: setup.Name()}
	if err := r.add(rs, setup, ids); err != nil {
		return err
	}
	r.mu.Lock()
	r.setup = setup
	r.setups = append(r.setups, rs)
	r.mu.Unlock()
	return r.inner.Deploy(ctx, setup)
}

// add checks the functions ids of setup as Deploy would and adds those rs
// does not have yet.
func (r *Rehearsal) add(rs *RehearsedSetup, setup *fusionsim.Setup, ids []fusionsim.FunctionID) error {
	for _, id := range ids {
		if err := r.cfg.checkMemory(id); err != nil {
			return fmt.Errorf("setup %s: %w", setup.Name(), err)
		}
		if _, err := handler.Environment(r.cfg.Workload, id, setup, r.cfg.Prefix, r.cfg.MaxCallDepth, "x"); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if slices.Contains(rs.Functions, id) {
			continue
		}
		rs.Functions = append(rs.Functions, id)
		name := handler.FunctionName(r.cfg.Prefix, id)
		if !r.deploy[name] {
			r.deploy[name] = true
			rs.Created++
		}
	}
	sort.Slice(rs.Functions, func(i, j int) bool { return rs.Functions[i].Name() < rs.Functions[j].Name() })
	return nil
}

// Run records the functions a route outside the setup's own reaches, runs
// the requests on the inner platform and records those that were sent.
func (r *Rehearsal) Run(ctx context.Context, route fusionsim.Route, arrivals []fusionsim.Arrival) ([]fusionsim.Response, error) {
	r.mu.Lock()
	setup, rs := r.setup, r.current()
	r.mu.Unlock()
	if setup != nil && rs != nil {
		seen := map[fusionsim.Route]bool{}
		for i := -1; i < len(arrivals); i++ {
			rt := route
			if i >= 0 {
				rt = arrivals[i].RouteOr(route)
			}
			if seen[rt] {
				continue
			}
			seen[rt] = true
			ids, err := Functions(r.cfg.App, setup, rt.Function())
			if err != nil {
				return nil, err
			}
			if err := r.add(rs, setup, ids); err != nil {
				return nil, err
			}
		}
	}
	resps, err := r.inner.Run(ctx, route, arrivals)
	r.mu.Lock()
	if rs != nil && len(resps) == len(arrivals) {
		// The load's schedule without latencies: an open arrival at its
		// At, an AfterPrevious one At after the previous, one that Follows
		// another At after that one; dropped requests were never sent.
		at := make([]time.Duration, len(arrivals))
		var t time.Duration
		for i, a := range arrivals {
			switch {
			case a.Follows > 0:
				at[i] = at[a.Follows-1] + a.At
			case i > 0 && a.AfterPrevious:
				at[i] = at[i-1] + a.At
			default:
				at[i] = a.At
			}
			t = max(t, at[i])
			if resps[i].Dropped() {
				continue
			}
			rs.Requests++
			if a.ColdBefore {
				rs.ColdBefore++
			}
		}
		rs.LoadTime += t
	}
	r.mu.Unlock()
	return resps, err
}

// ForceCold runs on the inner platform.
func (r *Rehearsal) ForceCold(ctx context.Context) error { return r.inner.ForceCold(ctx) }

// Logs passes the inner platform's lines on and accounts for their REPORT
// lines and sizes.
func (r *Rehearsal) Logs(ctx context.Context, from, to time.Time, fn func(fusionsim.LogLine) error) error {
	pricing := r.pricing(model.Pricing{GranularityMs: 1})
	return r.inner.Logs(ctx, from, to, func(l fusionsim.LogLine) error {
		r.mu.Lock()
		if rs := r.current(); rs != nil {
			// A CloudWatch event: the message and 26 bytes of overhead.
			rs.LogBytes += int64(len(l.Text)) + 26
			if pl, err := trace.ParseLine(l.Text); err == nil && pl.Kind == trace.Report {
				rep := pl.Report
				rs.Invocations++
				if rep.InitDuration > 0 {
					rs.ColdStarts++
				}
				rs.BilledMBMs += float64(pricing.BilledMs(rep.Duration, rep.InitDuration) * int64(rep.MemoryMB))
			}
		}
		r.mu.Unlock()
		return fn(l)
	})
}

// pricing is base with the backend's architecture and the INIT phase
// billed (custom runtimes such as provided.al2023 are billed for it).
func (r *Rehearsal) pricing(base model.Pricing) model.Pricing {
	base.Architecture = r.cfg.Architecture
	base.BillInit = true
	if base.GranularityMs < 1 {
		base.GranularityMs = 1
	}
	return base
}

// CloudWatchLogsUSDPerGB is the ingestion price of CloudWatch Logs
// (us-east-1, standard class), not part of model.Pricing.
const CloudWatchLogsUSDPerGB = 0.50

// PlanOptions say what Plan prints besides the rehearsal.
type PlanOptions struct {
	// Pricing is the profile's price model; its architecture is replaced by
	// the backend's and the INIT phase is billed.
	Pricing model.Pricing
	// Profile names the emulator's profile whose model stood in for Lambda.
	Profile string
	// Region is the region the run would use ("" when it comes from the
	// AWS configuration at run time).
	Region string
	// Err is the error that stopped the rehearsal, if any.
	Err error
}

// Plan prints what the AWS run would do: every deployment with its
// functions and figures, the functions and tables, and the estimated cost.
func (r *Rehearsal) Plan(w io.Writer, opt PlanOptions) error {
	setups := r.Setups()
	pricing := r.pricing(opt.Pricing)
	c := r.cfg
	bw := &errWriter{w: w}
	bw.printf("Dry run of --backend aws: no AWS API was called. The experiment ran on the emulator\n")
	bw.printf("(profile %s) to find its setups and to estimate durations; real Lambda timings differ.\n\n", orDash(opt.Profile))
	region := opt.Region
	if region == "" {
		region = "from the AWS configuration (AWS_REGION, AWS_PROFILE)"
	}
	role := c.RoleARN
	if role == "" {
		role = "none given: --aws-role-arn is needed to create functions"
	}
	pkg := c.Package
	if pkg == "" {
		pkg = "built from " + HandlerPackage
	}
	bw.printf("region:        %s\n", region)
	bw.printf("runtime:       %s, %s, timeout %d s, package %s\n", Runtime, c.Architecture, c.TimeoutS, pkg)
	bw.printf("role:          %s\n", role)
	if len(c.Tables) > 0 {
		names := make([]string, len(c.Tables))
		for i, t := range c.Tables {
			names[i] = handler.TableName(c.Prefix, t)
		}
		bw.printf("tables:        %s (created if missing, on demand, key %s)\n", strings.Join(names, ", "), handler.KeyAttribute)
	}
	bw.printf("\n")

	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "setup\tfunctions (MB)\tnew\trequests\tinvocations\tcold\tGB-s\test. USD\t")
	var tot RehearsedSetup
	var updates int
	for _, s := range setups {
		fns := make([]string, len(s.Functions))
		for i, id := range s.Functions {
			fns[i] = id.Task + ":" + strconv.Itoa(id.MemoryMB)
		}
		gbs := s.BilledMBMs / pricing.MBPerGB / 1000
		usd := usdOf(pricing, s)
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.1f\t%.4f\t\n", s.Setup, strings.Join(fns, " "), s.Created, s.Requests, s.Invocations, s.ColdStarts, gbs, usd)
		tot.Requests += s.Requests
		tot.Invocations += s.Invocations
		tot.ColdStarts += s.ColdStarts
		tot.BilledMBMs += s.BilledMBMs
		tot.LogBytes += s.LogBytes
		tot.LoadTime += s.LoadTime
		tot.Created += s.Created
		updates += len(s.Functions) - s.Created + s.ColdBefore*len(s.Functions)
	}
	tw.Flush()
	bw.printf("\n")

	var names []string
	r.mu.Lock()
	for n := range r.deploy {
		names = append(names, n)
	}
	r.mu.Unlock()
	sort.Strings(names)
	bw.printf("functions (%d):\n", len(names))
	for _, n := range names {
		bw.printf("  %s\n", n)
	}
	bw.printf("\n")

	compute := tot.BilledMBMs / pricing.MBPerGB / 1000 * firstTier(pricing)
	requests := float64(tot.Invocations) * pricing.RequestUSDPerMillion / 1e6
	logsGB := float64(tot.LogBytes) / (1 << 30)
	bw.printf("totals:        %d setup(s), %d request(s), %d invocation(s) (%d cold), %.1f GB-s billed\n",
		len(setups), tot.Requests, tot.Invocations, tot.ColdStarts, tot.BilledMBMs/pricing.MBPerGB/1000)
	bw.printf("control plane: %d CreateFunction, %d UpdateFunctionConfiguration (and UpdateFunctionCode when the package changed)\n", tot.Created, updates)
	bw.printf("estimated cost: $%.4f = compute $%.4f (%s, %.10g $/GB-s, INIT billed) + requests $%.4f (%.2f $/million)\n",
		compute+requests, compute, pricing.Architecture, firstTier(pricing), requests, pricing.RequestUSDPerMillion)
	bw.printf("               + CloudWatch Logs ingestion of about %.1f MB: $%.4f at %.2f $/GB (not in the price model);\n",
		float64(tot.LogBytes)/(1<<20), logsGB*CloudWatchLogsUSDPerGB, CloudWatchLogsUSDPerGB)
	bw.printf("               DynamoDB requests and the free tier are not counted.\n")
	bw.printf("wall time:     about %s of load, plus deployments and at least %s per setup for the logs to settle\n",
		tot.LoadTime.Round(time.Second), c.Settle.Quiet)
	if opt.Err != nil {
		bw.printf("\nthe rehearsal stopped: %v\n", opt.Err)
	}
	return bw.err
}

func usdOf(p model.Pricing, s RehearsedSetup) float64 {
	return s.BilledMBMs/p.MBPerGB/1000*firstTier(p) + float64(s.Invocations)*p.RequestUSDPerMillion/1e6
}

// firstTier is the GB-s price of the first tier of the architecture.
func firstTier(p model.Pricing) float64 {
	// ComputeUSD of 1000 ms at MBPerGB MB is one GB-s.
	return p.ComputeUSD(1000, int(p.MBPerGB))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
