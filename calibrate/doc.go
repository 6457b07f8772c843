// Package calibrate fits the emulator's platform profile (model.Profile) on
// real AWS Lambda traces of the Fusionize prototype and checks the fit by
// re-running the traced setups in the emulator.
//
// # Fitting (FitDirs, FitProfile; simulate calibrate)
//
// Every figure is fitted from the medians of the call records that isolate
// it, in the traces of the prototype's IoT, split and splittest workloads,
// and inverted through the emulator's CPU model in closed form (CPUTime:
// a job runs at full core speed while its quota lasts, then at
// min(threads, share)):
//
//   - cpu.burstPeriodMs, storage.put, remote.asyncAck: IoT's entry I with
//     CW and SE local does the same put and three concurrent async calls at
//     every size. The put and the last ack at the smallest size and at one
//     vCPU or more fix each one's latency and CPU demand for a given quota
//     period; the period is the one (grid, least squares) that best
//     predicts the entry's time between the two, where the traces show
//     short work as fast as at one vCPU. remote.latencyCorrelation (a
//     Gaussian copula of the sending latencies of one invocation's calls)
//     is the one whose median last-of-three ack matches the observed one.
//   - coldStart.firstEvent: split's plain tasks (B, D, E: sleeps and a sync
//     call): cold minus warm median time outside the call.
//   - work["burn2x7"], work["burn2x8.8"] (the two-worker burn tasks): cpuMs
//     is the two-thread demand that makes a lone job take the median warm
//     internalDuration of the burn-only tasks (split's F, G; splittest's G)
//     at the sizes whose share exceeds two vCPUs, overheadCPUMs what the
//     sizes below need more (the process's other threads compete there),
//     coldCPUMs the cold-minus-warm excess less the first event, tailCPUMs
//     billed minus internal beyond the other tasks' (least squares over
//     sizes), cpu.workJitter the spread of durations around their median.
//   - remote.firstConnection: the lone async call of split's A (B, D, E
//     local): cold minus warm ack at the smallest size and at one vCPU or
//     more. remote.asyncDispatch: callee start - caller start - ack.
//     remote.syncRequest/syncResponse: lone warm sync calls at 128 MB,
//     split at the callee's start.
//   - coldStart.runtimeInitMs: lone sync calls of cold callers, to cold
//     minus to warm callees (flat across sizes: no memory dependence).
//   - storage.query (IoT's CSL), storage.firstConnection (SE's cold start),
//     handler.afterHandler (billed - internal), handler.timerLatencyMs (E's
//     500 ms sleep), memory footprints (Max Memory Used), the client's
//     jitter (gaps between root starts).
//   - cpu.ioVariationCPUMs: the spread of split A's lone ack and IoT's put
//     at 128 MB beyond their spread at one vCPU, as a normal variation of
//     each I/O operation's demand (Monte Carlo of the quartiles).
//   - handler.localCallCPUMs, by emulation (FitLocalCalls): the demand per
//     local call that makes the median log ratio, emulated over real, of
//     the warm root medians of the kinds of request with 3 local calls or
//     more zero, where it shows; the directories given with --emulate (the
//     webshop run) take part in this fit and the next only.
//   - cpu.memoryPressureHeadroomMB and cpu.memoryPressureCPUPerMB, by
//     emulation (FitMemoryPressure): the extra CPU time that makes each
//     CPU-bound function's emulated median the real one, by its emulated
//     free memory (size less Max Memory Used); a hinge (none above the
//     headroom, growing by the slope per MB below it) fitted to the
//     medians of each level of free memory. Told apart only by levels
//     short of memory at two amounts of free memory (split's b_local and
//     the webshop's sieve at 128 MB); else kept from the base.
//
// Figures the traces say nothing about (prices, limits, keep-alive, the
// client's mean latency) are kept from the base profile. Fit.Params lists
// every figure with its method, the number of observations and the
// per-size values.
//
// # Validation (Validate; simulate validate)
//
// For a directory in the prototype's layout, the workload is inferred from
// the task names (InferWorkload), the load from the root invocations
// (InferLoad: the cold-start protocol, a ramp, a Poisson process, a
// constant rate, or, for requests of several kinds, a replay of the real
// requests with each kind's body; the application's scenario, closed loop,
// for traces of its kinds of request, LoadScenario; LoadFor with what flags
// give instead), the memory sizes from the REPORT lines where the
// configuration says otherwise (WithTracedMemory), and each setup
// of the configuration metadata with traces is run in its own emulator
// (seeded from the seed and the setup name) through the experiment runner:
// logs, extracted traces, summary. Where the real traces show the
// prototype's grouping quirk (Grouped), the emulated ones are extracted the
// same way. PrintTable compares real and emulated median and p95 root
// latency, GB-ms per request, cold starts and records per request, with
// the Kolmogorov-Smirnov distance; DrawECDF draws both ECDFs per setup.
// Setups whose real traces are incomplete are marked (results.CheckTraces).
//
// # Transfer (FitApp; simulate calibrate --fit-on, validate --fit-on)
//
// FitApp keeps the platform profile and fits an application's work figures
// on the traces of one setup, by emulation: each work descriptor's demand
// on the medians of the code paths (pathKey) that depend on it, its threads
// where the sizes tell thread counts apart (else the code's), the runtime
// overhead's share where the sizes straddle the threads, its jitter, cold
// extra, tail and memory; AppFit says what was fitted on what and what the
// traces could not tell, and its Overlay is a profile overlay
// (model.Overlay) that every --profile takes. ValidateOptions.FitOn fits
// on one setup of a directory and predicts the others; Transfers and
// PrintTransfers sum the prediction up.
package calibrate
