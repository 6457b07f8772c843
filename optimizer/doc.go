// Package optimizer holds the fusion-setup optimizers: given the history of
// tested setups and the traces observed under them, an Optimizer proposes the
// next setup to deploy or says it is done, with the reason.
//
// # Optimizers
//
//   - Fusionize (Fusionize++, reference section 5): task inlining one change
//     per iteration, then the memory phase (every function to its next
//     untried size, then per function the cheapest size), then done:
//     redeploy the setup with the lowest median root billed duration. Its
//     decisions on the prototype's published traces equal the prototype's;
//     fusionize.go documents every choice the description left open and the
//     data that settled it.
//   - Partitions (the IC2E strategy): one partition of the task set per
//     iteration, then the one with the lowest median root billed duration.
//   - Exhaustive: every rule setup (every local/remote assignment of the call
//     edges) at every memory size, one per iteration; Sweep evaluates the same
//     set in parallel and reports the Pareto front of (median latency, cost
//     per request).
//   - Random: random search over the same set with a budget of iterations.
//
// # Names
//
// New setups are named like the prototype's: the Unix time in seconds of
// their creation, strictly increasing. The time comes from a Clock the caller
// passes (the platform's virtual clock in the simulator); nothing here reads
// the wall clock or the global random source.
//
// # Traces
//
// Optimizers read trace.Record values, the prototype's invocation records,
// as the trace package extracts them from logs. Only the fields the
// prototype's optimizer used matter: currentFunction, memoryAvail,
// isRootInvocation, billedDuration, internalDuration and calls, and the order
// of the records (see Fusionize).
package optimizer
