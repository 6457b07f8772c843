// Package model holds the performance and price models of AWS Lambda that the
// emulator runs on: CPU share by memory size, billing, cold starts and
// keep-alive, remote call and storage latencies, and the per-invocation
// overheads of the fusion handler. Everything is a pure function of a Profile
// and, for the random parts, a *rand.Rand the caller supplies: nothing here
// reads the clock or the global random source.
//
// Every parameter is a field of Profile, JSON round-trippable, named with its
// unit (Ms, S, MB, USD). A modeled delay is a Cost: a wall-clock part drawn
// from a Dist plus a CPU part (vCPU-milliseconds) that takes longer on smaller
// memory sizes.
package model
