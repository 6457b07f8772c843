package model

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Profile holds every parameter of the emulated platform.
type Profile struct {
	// Name and Description say where the figures come from.
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`

	CPU       CPU       `json:"cpu"`
	Pricing   Pricing   `json:"pricing"`
	ColdStart ColdStart `json:"coldStart"`
	Remote    Remote    `json:"remote"`
	Storage   Storage   `json:"storage"`
	Handler   Handler   `json:"handler"`
	Limits    Limits    `json:"limits"`

	// Work overrides the figures of work descriptors by name (see
	// fusionsim.Work.Name); calibration writes them.
	Work map[string]WorkParams `json:"work,omitempty"`
}

// ColdStart models the INIT phase of a new execution environment and how long
// idle environments are kept.
type ColdStart struct {
	// Runtime selects the base init duration in RuntimeInitMs.
	Runtime string `json:"runtime"`
	// RuntimeInitMs is the Init Duration of a hello-world function per runtime,
	// in ms.
	RuntimeInitMs map[string]Dist `json:"runtimeInitMs"`
	// PackageMB is the size of the deployment package, MB.
	PackageMB float64 `json:"packageMB"`
	// InitMsPerPackageMB is the extra init time per MB of package, ms.
	InitMsPerPackageMB float64 `json:"initMsPerPackageMB"`
	// InitCPUMs is the CPU demand of loading the code during init, in vCPU-ms,
	// run at max(share, InitMinVCPU).
	InitCPUMs float64 `json:"initCPUMs"`
	// InitMinVCPU is the CPU share init gets at least, in vCPUs.
	InitMinVCPU float64 `json:"initMinVCPU"`
	// FirstEvent is extra work on the first invocation of an environment
	// (lazy loading, JIT warm-up, first connections); it is part of the
	// handler's time.
	FirstEvent Cost `json:"firstEvent"`
	// KeepAliveS is how long an idle environment is kept before it is
	// reclaimed, in seconds; drawn each time an environment becomes idle.
	KeepAliveS Dist `json:"keepAliveS"`
}

// InitDuration draws the Init Duration of a new environment of memoryMB.
func (c ColdStart) InitDuration(r *rand.Rand, cpu CPU, memoryMB int) time.Duration {
	ms := c.RuntimeInitMs[c.Runtime].Sample(r) + c.PackageMB*c.InitMsPerPackageMB
	if c.InitCPUMs > 0 {
		ms += c.InitCPUMs / max(cpu.Rate(memoryMB, 1), c.InitMinVCPU)
	}
	return Ms(ms)
}

// KeepAlive draws how long an environment that just became idle is kept.
func (c ColdStart) KeepAlive(r *rand.Rand) time.Duration {
	return time.Duration(math.Round(c.KeepAliveS.Sample(r) * 1e9))
}

// Remote models the calls between functions and from the load generator.
// CPU parts run in the caller's environment.
type Remote struct {
	// SyncRequest: from a sync call to the start of the callee's invocation
	// (API Gateway and invoke), cold start not included.
	SyncRequest Cost `json:"syncRequest"`
	// SyncResponse: from the callee's end to the caller having the result.
	SyncResponse Cost `json:"syncResponse"`
	// AsyncAck: from an async call to the caller having the acknowledgement.
	AsyncAck Cost `json:"asyncAck"`
	// AsyncDispatch: from the acknowledgement to the start of the callee's
	// invocation.
	AsyncDispatch Cost `json:"asyncDispatch"`
	// ClientRequest and ClientResponse: between the load generator and the
	// entry function (end-to-end latency only). Their CPU parts are ignored.
	ClientRequest  Cost `json:"clientRequest"`
	ClientResponse Cost `json:"clientResponse"`
	// FirstConnection is added to the first remote call an environment makes
	// (TLS handshake, HTTP client set-up): its CPU before sending, its latency
	// on the way.
	FirstConnection Cost `json:"firstConnection"`
	// LatencyCorrelation (0 to 1) correlates the sending latencies
	// (SyncRequest, AsyncAck) of the remote calls one invocation makes: each
	// draw is the distribution's quantile at z = sqrt(c) z_inv + sqrt(1-c)
	// z_call, with standard normal z_inv drawn once per invocation (a
	// Gaussian copula; c is the correlation of the z). The calibration
	// traces show it: the three concurrent acks of IoT's entry correlate.
	// 0 draws them independently.
	LatencyCorrelation float64 `json:"latencyCorrelation,omitempty"`
}

// Storage models the table store (DynamoDB in the prototype); CPU parts run
// in the caller's environment (the SDK).
type Storage struct {
	Put    Cost `json:"put"`
	Get    Cost `json:"get"`
	Query  Cost `json:"query"`
	Delete Cost `json:"delete"`
	// FirstConnection is spent before the first storage operation of an
	// environment (SDK client and connection set-up).
	FirstConnection Cost `json:"firstConnection"`
}

// Handler models the fusion handler's own work around the entry task.
type Handler struct {
	// EventStartToInvokeLocal: from the start of the event to the entry task's
	// start (the overhead-eventStartToInvokeLocal record).
	EventStartToInvokeLocal Cost `json:"eventStartToInvokeLocal"`
	// AfterHandler: from the entry task's return to the end of the invocation;
	// billed, not part of the task's time (time-base).
	AfterHandler Cost `json:"afterHandler"`
	// LocalCallCPUMs is the CPU demand, in vCPU-ms, of the fusion handler's
	// wrapper around each local call (sync or async): the callee's event
	// copied, its promise and call record. It runs on the caller's
	// coroutine when the call starts, before the callee, and is part of the
	// call's recorded time.
	LocalCallCPUMs float64 `json:"localCallCPUMs,omitempty"`
	// RuntimeMemoryMB is the resident memory of a fresh environment, MB.
	RuntimeMemoryMB float64 `json:"runtimeMemoryMB"`
	// InvocationMemoryMB is the resident memory one invocation adds while it
	// runs, MB.
	InvocationMemoryMB float64 `json:"invocationMemoryMB"`
	// TimerLatencyMs is added to every sleep: a JavaScript timer fires no
	// earlier than its delay, and the event loop takes a little longer (the
	// calibration traces: a 500 ms sleep takes 501 ms).
	TimerLatencyMs Dist `json:"timerLatencyMs,omitempty"`
}

// Limits are the platform's quotas and retry policies.
type Limits struct {
	// AccountConcurrency is the account's concurrent executions (1000).
	AccountConcurrency int `json:"accountConcurrency"`
	// ScalingBurst environments a function may add per ScalingWindowS (1000
	// per 10 s).
	ScalingBurst   int     `json:"scalingBurst"`
	ScalingWindowS float64 `json:"scalingWindowS"`
	// TimeoutS is the default function timeout, s.
	TimeoutS float64 `json:"timeoutS"`
	// MaxCallDepth bounds chains of calls (local and remote).
	MaxCallDepth int `json:"maxCallDepth"`
	// SyncPayloadMB and AsyncPayloadMB are the invocation payload limits.
	SyncPayloadMB  float64 `json:"syncPayloadMB"`
	AsyncPayloadMB float64 `json:"asyncPayloadMB"`
	// AsyncRetryDelaysS are the delays, in s, before the retries of an async
	// event whose invocation failed (Lambda: two retries, after about 1 and 2
	// minutes).
	AsyncRetryDelaysS []float64 `json:"asyncRetryDelaysS"`
	// ThrottleRetryMinS and ThrottleRetryMaxS bound the exponential backoff of
	// throttled async events; MaxEventAgeS drops events older than that.
	ThrottleRetryMinS float64 `json:"throttleRetryMinS"`
	ThrottleRetryMaxS float64 `json:"throttleRetryMaxS"`
	MaxEventAgeS      float64 `json:"maxEventAgeS"`
}

// WorkParams replaces the figures of a work descriptor (see fusionsim.Work).
type WorkParams struct {
	CPUMs       float64 `json:"cpuMs"`       // parallel phase, vCPU-ms
	Threads     int     `json:"threads"`     // threads of the parallel phase
	SerialCPUMs float64 `json:"serialCPUMs"` // single-threaded phase, vCPU-ms
	TailCPUMs   float64 `json:"tailCPUMs"`   // after the task returned, vCPU-ms
	MemoryMB    float64 `json:"memoryMB"`    // resident while running, MB
	// ColdCPUMs is extra demand of the parallel phase, vCPU-ms, when the
	// work runs in the first invocation of an execution environment (a
	// cold start): its threads load and compile the work's code, which
	// later invocations find compiled. The calibration traces show it as
	// cold invocations of the burn tasks being slower than cold
	// invocations of tasks that only sleep, by about the same demand on
	// two threads at every memory size.
	ColdCPUMs float64 `json:"coldCPUMs,omitempty"`
	// OverheadCPUMs is the demand, vCPU-ms, of the process's other threads
	// (the main thread, the runtime's compiler and garbage collector) while
	// the parallel phase runs. It competes with the work's threads, and is
	// added to the phase's demand, unless the function's CPU share exceeds
	// the thread count: then it runs on the spare share and takes no time
	// from them. The calibration traces show it as a two-thread task
	// needing about 172 vCPU-ms below 2 vCPUs and 157 above.
	OverheadCPUMs float64 `json:"overheadCPUMs,omitempty"`
	// JitterScale scales the work's share of the invocation's jitter
	// (cpu.workJitter): its demand is multiplied by 1 + JitterScale (j - 1)
	// for the invocation's draw j. nil is 1 (the platform's jitter as it
	// is); 0 runs the work without jitter. An application's code may vary
	// more or less than the calibration tasks' did.
	JitterScale *float64 `json:"jitterScale,omitempty"`
}

//go:embed default_profile.json
var defaultProfileJSON []byte

// Default returns the embedded default profile, fitted on the calibration
// traces of the Fusionize++ prototype (see the README).
func Default() Profile {
	p, err := Parse(defaultProfileJSON)
	if err != nil {
		panic("model: embedded default profile: " + err.Error())
	}
	return p
}

// DefaultJSON returns the embedded default profile's JSON.
func DefaultJSON() []byte { return bytes.Clone(defaultProfileJSON) }

// Parse decodes a profile (unknown fields are errors) and validates it.
func Parse(data []byte) (Profile, error) {
	var p Profile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Profile{}, fmt.Errorf("profile: %w", err)
	}
	if err := p.Validate(); err != nil {
		return Profile{}, fmt.Errorf("profile: %w", err)
	}
	return p, nil
}

// Load reads a profile file: a whole profile, or an Overlay of work
// figures, which applies to its base (the embedded default profile unless
// it names another file).
func Load(path string) (Profile, error) { return load(path, 0) }

// Marshal writes the profile as indented JSON.
func (p Profile) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Validate checks every field; the error names the field and its value.
func (p Profile) Validate() error {
	if err := p.CPU.Validate(); err != nil {
		return err
	}
	if err := p.Pricing.Validate(); err != nil {
		return err
	}
	c := p.ColdStart
	if _, ok := c.RuntimeInitMs[c.Runtime]; !ok {
		return fmt.Errorf("coldStart.runtime: %q has no entry in coldStart.runtimeInitMs", c.Runtime)
	}
	for _, rt := range sortedKeys(c.RuntimeInitMs) {
		if err := c.RuntimeInitMs[rt].Validate("coldStart.runtimeInitMs." + rt); err != nil {
			return err
		}
	}
	for name, v := range map[string]float64{
		"coldStart.packageMB": c.PackageMB, "coldStart.initMsPerPackageMB": c.InitMsPerPackageMB,
		"coldStart.initCPUMs": c.InitCPUMs, "coldStart.initMinVCPU": c.InitMinVCPU,
		"handler.runtimeMemoryMB": p.Handler.RuntimeMemoryMB, "handler.invocationMemoryMB": p.Handler.InvocationMemoryMB,
		"handler.localCallCPUMs": p.Handler.LocalCallCPUMs,
	} {
		if err := nonNegative(name, v); err != nil {
			return err
		}
	}
	if err := p.Handler.TimerLatencyMs.Validate("handler.timerLatencyMs"); err != nil {
		return err
	}
	if err := c.KeepAliveS.Validate("coldStart.keepAliveS"); err != nil {
		return err
	}
	costs := []struct {
		name string
		c    Cost
	}{
		{"coldStart.firstEvent", c.FirstEvent},
		{"remote.syncRequest", p.Remote.SyncRequest}, {"remote.syncResponse", p.Remote.SyncResponse},
		{"remote.asyncAck", p.Remote.AsyncAck}, {"remote.asyncDispatch", p.Remote.AsyncDispatch},
		{"remote.clientRequest", p.Remote.ClientRequest}, {"remote.clientResponse", p.Remote.ClientResponse},
		{"remote.firstConnection", p.Remote.FirstConnection},
		{"storage.put", p.Storage.Put}, {"storage.get", p.Storage.Get}, {"storage.firstConnection", p.Storage.FirstConnection},
		{"storage.query", p.Storage.Query}, {"storage.delete", p.Storage.Delete},
		{"handler.eventStartToInvokeLocal", p.Handler.EventStartToInvokeLocal},
		{"handler.afterHandler", p.Handler.AfterHandler},
	}
	for _, x := range costs {
		if err := x.c.Validate(x.name); err != nil {
			return err
		}
	}
	if c := p.Remote.LatencyCorrelation; !(c >= 0 && c <= 1) {
		return fmt.Errorf("remote.latencyCorrelation: %v must be between 0 and 1", c)
	}
	l := p.Limits
	for name, v := range map[string]int{"limits.accountConcurrency": l.AccountConcurrency, "limits.scalingBurst": l.ScalingBurst, "limits.maxCallDepth": l.MaxCallDepth} {
		if v < 1 {
			return fmt.Errorf("%s: %d must be >= 1", name, v)
		}
	}
	for name, v := range map[string]float64{"limits.scalingWindowS": l.ScalingWindowS, "limits.timeoutS": l.TimeoutS, "limits.syncPayloadMB": l.SyncPayloadMB, "limits.asyncPayloadMB": l.AsyncPayloadMB, "limits.throttleRetryMinS": l.ThrottleRetryMinS, "limits.maxEventAgeS": l.MaxEventAgeS} {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: %v must be a finite number > 0", name, v)
		}
	}
	if l.ThrottleRetryMaxS < l.ThrottleRetryMinS {
		return fmt.Errorf("limits.throttleRetryMaxS: %v is below limits.throttleRetryMinS %v", l.ThrottleRetryMaxS, l.ThrottleRetryMinS)
	}
	for i, d := range l.AsyncRetryDelaysS {
		if err := nonNegative(fmt.Sprintf("limits.asyncRetryDelaysS[%d]", i), d); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(p.Work) {
		w := p.Work[name]
		if w.Threads < 1 {
			return fmt.Errorf("work[%q].threads: %d must be >= 1", name, w.Threads)
		}
		if w.JitterScale != nil {
			if err := nonNegative(fmt.Sprintf("work[%q].jitterScale", name), *w.JitterScale); err != nil {
				return err
			}
		}
		for field, v := range map[string]float64{"cpuMs": w.CPUMs, "serialCPUMs": w.SerialCPUMs, "tailCPUMs": w.TailCPUMs, "memoryMB": w.MemoryMB, "coldCPUMs": w.ColdCPUMs, "overheadCPUMs": w.OverheadCPUMs} {
			if err := nonNegative(fmt.Sprintf("work[%q].%s", name, field), v); err != nil {
				return err
			}
		}
	}
	return nil
}

func nonNegative(field string, v float64) error {
	if !(v >= 0) || math.IsInf(v, 0) {
		return fmt.Errorf("%s: %v must be a finite number >= 0", field, v)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
