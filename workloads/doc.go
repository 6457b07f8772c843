// Package workloads holds the applications of the Fusionize prototype as Go
// tasks on the fusionsim task API, and builds their fusion setups.
//
// # Applications
//
// Each workload is a *fusionsim.App whose tasks behave as section 7 of the
// reference (docs/fusionize-reference.md) describes: the same call graph
// (App.Edges lists every call with its type), the same sync and async calls,
// parallel calls started with Context.Start, the same storage operations, and
// the CPU kernels as work descriptors:
//
//   - iot: a traffic-monitoring pipeline, entry I, 10 tasks.
//   - split: a tree of sleeps and CPU burners, entry A, 7 tasks.
//   - splittest: the split workload's task G alone (the memory sweep of the
//     calibration data).
//   - sieve: one task computing primes with a plain or a bit-packed sieve of
//     Eratosthenes, for memory sweeps.
//
// Get finds a workload by name; All lists them. The built-in application
// files (File, FileNames: workloads/<name>.yaml, embedded) are these
// applications written as files (package appfile runs each against its Go
// code), and applications that exist only as a file: webshop, an online
// shop with entries frontend (operations get and checkout) and addcartitem,
// 17 tasks, a cart table and the prototype's scenario load, its figures
// read off the real traces (webshop-notes.md).
//
// # CPU work
//
// Every piece of CPU work is a fusionsim.Work descriptor with a Name, so that
// a profile can override its figures (model.Profile.Work). The default
// figures are fitted on the traces in ../shared/calibration; each constant
// says which file and which figure it comes from. The real computation
// (burn, sieve) is the descriptor's Run function: the emulator runs it only
// when told to execute work, the Lambda handler always does.
//
// # Setups
//
// Remote, Local and Build make setups in the prototype's configuration
// metadata format: a rule table for every task, remote urls "SYNC-X"/"X"
// ("SYNC-X-768"/"X-768" when a memory size is given). ParseGroups reads a
// compact description of function groups such as
// "I+CW+SE:128,CS+CSL+CSA:128,CA+DJ:128,CT:128,AS:1650" or the IC2E
// partition notation "A.B.D.E,C,F,G". EntryRoute finds the route a client
// calls for a setup.
package workloads
