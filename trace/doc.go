// Package trace turns Lambda logs into the Fusionize prototype's traces: it
// parses log lines as the emulator writes them and as CloudWatch exports them,
// extracts one invocation record per Lambda invocation, and reads and writes
// the prototype's directory layout (<dir>/<setup>.json[.gz] and
// <dir>/configuration/configurationMetadata.json).
package trace
