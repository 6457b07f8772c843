// Package trace turns Lambda logs into the Fusionize prototype's traces: it
// parses log lines as the emulator writes them and as CloudWatch exports them,
// extracts one invocation record per Lambda invocation, and reads and writes
// the prototype's directory layout (<dir>/<setup>.json[.gz] and
// <dir>/configuration/configurationMetadata.json).
//
// # Parsing
//
// ParseLine classifies one line: START, END, REPORT, an FSMSG line of the
// fusion handler, or a Foreign line (application output, runtime messages,
// anything else; never an error). A line that starts like a control line or
// carries the FSMSG marker but does not parse is an error wrapping
// ErrMalformed. CloudWatch export prefixes (a leading timestamp, optionally a
// log stream name) are accepted; see ParseLine.
//
// # Extraction
//
// An Extractor (or Extract, Collect) groups lines by (log stream, request id)
// and builds one Record per Lambda invocation that has both an FSMSG init
// message and a REPORT line:
//
//   - traceId, fusionGroup (as a JSON number when it is all digits),
//     memoryAvail, isRootInvocation and isColdStart come from the init
//     message; source is the second part of the trace id;
//   - currentFunction is the messages' sourceFunction (the function's entry
//     task); currentTask is the caller of the first call message (the entry
//     task, as in every published trace), or currentFunction without calls;
//   - billedDuration and maxMemoryUsed come from REPORT;
//   - startTimestamp is the init message's time, endTimestamp the time of the
//     last FSMSG line; internalDuration is the time-base message's ms;
//   - calls are the call messages in the order they were written.
//
// An invocation the platform killed (timeout, out of memory) before its
// handler wrote time-base has internalDuration -1 and, when the END line's
// time is known (lines from a platform, or an export prefix), that time as
// endTimestamp; from log files without times on END lines, its last FSMSG
// line's. Summaries leave such records out of latency figures but count
// their billed time.
//
// Reading logs by time window: an invocation whose first lines fall before
// the window (neither START nor init seen) is counted as Partial, not as a
// problem. Consecutive windows should be adjacent: the next one starts where
// the previous one ended, so that no line is read twice.
//
// FSMSG lines in the emulator's canonical form take a fast path; anything
// else valid JSON goes through encoding/json with the same result.
//
// Invocations without REPORT or without init, malformed lines and lines that
// contradict their invocation are not turned into records: they are counted
// and listed as Problems with their source (file or function) and line
// number. Options.GroupByFunction reproduces the prototype's grouping by
// (traceId, function) for comparisons with the published traces.
//
// Records of each setup are sorted by (startTimestamp, traceId,
// currentFunction, request id), so the same logs give the same bytes.
//
// # Directory layout
//
// ReadDir, ReadTraces and ReadConfigs read the prototype's layout; gzip is
// detected from the content. WriteDir writes it, each file atomically, with
// records encoded exactly as the published files are (MarshalRecords: a
// compact JSON array; re-encoding any calibration file gives its bytes).
package trace
