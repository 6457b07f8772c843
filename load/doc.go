// Package load makes the request arrivals of an experiment: open-loop
// generators on the virtual clock, and the closed loop of the cold-start
// protocol. Every generator returns []fusionsim.Arrival, the input of
// fusionsim.Platform.Run; times are offsets from the start of the run,
// integers in nanoseconds, so the same parameters give the same arrivals on
// every machine.
//
//   - Constant: a fixed arrival rate for a duration, as k6's
//     constant-arrival-rate executor: request i at i/rate.
//   - Poisson: a Poisson process of a given mean rate, seeded.
//   - Ramping: stages of (target rate, duration) with linear ramps, as k6's
//     ramping-arrival-rate executor; Bursty is the prototype's bursty profile.
//   - Coldstart: N sequential requests, every function forced cold before
//     each one (the prototype's cold-start protocol).
//   - Replay: arrival times read from a CSV file.
//   - Scenario: k6-style scenarios, read from a load file (ReadScenarioFile)
//     or an application file's load: section (DecodeScenario): iterations
//     of requests, each to its own entry task with its own templated body,
//     sent one after the other by a virtual user, started at a constant or
//     ramping arrival rate with a cap on the users (dropped iterations), after
//     a setup phase. Scenario.Arrivals makes them for a setup, with
//     fusionsim.Arrival's Follows, VUs and EventFor.
//
// Spec describes a load by kind and parameters, the form the command line and
// the results' manifest use.
package load
