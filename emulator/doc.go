// Package emulator is the in-process AWS Lambda platform: functions, execution
// environments with their lifecycle, cold starts, CPU shares, billing,
// concurrency limits, timeouts, memory limits, and the fusion handler of the
// Fusionize prototype, all driven by a discrete-event kernel on a virtual
// clock.
//
// # Determinism
//
// Events are ordered by (time, sequence number); time is an integer
// (time.Duration since the Epoch). One math/rand/v2 source, seeded from
// Config.Seed, draws every random figure. Nothing here reads the wall clock or
// the global random source, so the same seed and inputs give byte-identical
// logs.
//
// # Task code on a virtual clock
//
// Tasks are ordinary Go functions (fusionsim.Task). Each runs on a coroutine
// (iter.Pull) that the kernel resumes; when the task spends CPU, sleeps,
// waits for a call or uses storage, the coroutine blocks and the kernel runs
// the next event. Exactly one coroutine or the kernel runs at a time.
//
// A local call started with Start behaves like a JavaScript async function:
// the caller waits until the callee's first await (an I/O wait, a sleep, or
// the parallel phase of a Work), then goes on; the invocation ends only after
// every call it started has finished, as the prototype awaited every promise.
//
// # Speed
//
// Nothing is allocated per event once the pools are warm: requests, client
// requests, invocations, local and remote calls and task contexts are
// pooled (the kernel events of a pooled invocation carry its generation, so
// that an event of an earlier use is ignored), request and trace ids are cut
// from a string arena, and actors with an argument stand for closures.
// Events due now skip the heap.
//
// # Drivers
//
// Run drives the kernel as fast as it can (the simulator); RunEach hands each
// response over as the client receives it instead of returning them all, so
// that a long run need not hold them. Submit, NextEvent
// and AdvanceTo let a real-time driver (cmd/emulator) follow the wall clock
// with the same platform code.
package emulator
