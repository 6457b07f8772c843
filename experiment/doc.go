// Package experiment runs fusion experiments on a platform: for every setup a
// planner chooses, deploy it, apply the load, read the platform's logs,
// extract the traces (package trace) and summarize them (package results).
// A fixed list of setups is one planner (Fixed), an optimizer another (the
// Fusionize++ feedback loop chooses each setup from the traces of the
// previous ones).
//
// The traces of every iteration come from the platform's logs, as they did
// in the prototype (CloudWatch exports), never from the platform's internal
// accounting, so the same runner drives the emulator and real AWS Lambda.
//
// Setup names are the planner's. Generated setups have readable names
// (remote, local, remote_256 for a memory sweep: trace names may not contain
// '-'); setups read from configuration metadata keep theirs; an optimizer
// names its setups as the prototype did, by the Unix time of their creation
// on the platform's clock.
package experiment
