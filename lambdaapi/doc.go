// Package lambdaapi serves the emulated Lambda platform over HTTP in real
// time, for real clients: the AWS SDKs and CLI, load generators such as hey
// or k6, and the prototype's own load tests.
//
// # Real time on the virtual platform
//
// The platform is the simulator's (package emulator): the same functions,
// environments, cold starts and fusion handler. A Driver owns the emulator
// on one goroutine and makes its virtual clock follow the wall clock,
// TimeScale times as fast (100: a modeled second takes 10 ms). It advances
// the emulator to "now", sleeps until the wall time of the next event, and
// runs closures that HTTP handlers hand it with Do; handlers never touch the
// emulator themselves. A sync request waits for the emulator's response,
// which comes after the modeled latency (client request, cold start,
// handler, client response), scaled to the wall clock.
//
// # Routes
//
//	POST /SYNC-<task>-<MB>, /SYNC-<task>   sync (API Gateway route): 200 and the task's JSON result,
//	                                       502 on a function error, 429 when throttled
//	POST /<task>-<MB>, /<task>             async: 202 at once
//	POST /2015-03-31/functions/{name}/invocations[?Qualifier=$LATEST]
//	                                       Lambda Invoke: X-Amz-Invocation-Type RequestResponse
//	                                       (200), Event (202), DryRun (204); X-Amz-Log-Type: Tail
//	                                       adds X-Amz-Log-Result; function errors answer 200 with
//	                                       X-Amz-Function-Error and {errorMessage, errorType, stackTrace}
//	GET  /2015-03-31/functions/            ListFunctions (the deployed setup's functions)
//	GET  /2015-03-31/functions/{name}      GetFunction
//	GET  /emulator/setup                   the deployed setup (configuration metadata)
//	PUT  /emulator/setup[?name=NAME]       deploy a setup (also POST; JSON or gzip)
//	GET  /emulator/setups                  every setup deployed during the run
//	GET  /emulator/logs[/{function}]       the Lambda logs so far (Range requests follow a log)
//	GET  /emulator/traces[/{setup}]        invocation records extracted from the logs so far
//	GET  /emulator/stats                   counters
//
// Function names are fusion-function-<TASK>-<MB>, <TASK>-<MB>, <TASK> (128
// MB) or an ARN of one of them. Service errors carry X-Amzn-ErrorType and a
// JSON body {"Type", "Message", "message"}: 404 ResourceNotFoundException,
// 413 RequestTooLargeException (payload over the profile's limits, 6 MB sync
// and 1 MB async by default), 429 TooManyRequestsException with Retry-After
// and Reason, 400 InvalidRequestContentException (bad JSON, bad setup), 500
// ServiceException. A panic in a handler is answered with a 500, never a
// dropped connection.
//
// # The run's files
//
// Log lines go to <function>.log files as they are written (not to memory).
// Server.Close lets every request already received finish (fast-forwarding
// the virtual clock: no client can add work any more), then, with
// Config.Out, writes a results directory (package results): manifest.json
// (with the server's counters under extra.emulator), summary.csv, one
// traces/<setup>.json per setup deployed (the prototype's trace files),
// responses/<setup>.csv (what the clients saw), configuration/ (every setup
// deployed), logs/ and figures/. `simulate summary` and `simulate plot` read
// it. The directory appears whole or not at all: it is built beside Out and
// renamed.
package lambdaapi
