// Package handler is the Fusionize fusion handler as it runs inside an AWS
// Lambda function (cmd/lambda, the provided.al2023 bootstrap): it runs the
// real code of an application's tasks under one fusion setup and writes the
// prototype's FSMSG log lines to stdout, where Lambda sends them to
// CloudWatch Logs beside its own START, END and REPORT lines.
//
// # What a function knows
//
// A function is deployed once per (entry task, memory size) as
// [<prefix>]fusion-function-<TASK>-<MB>. Its environment (ConfigFromEnv)
// names the application (FUSION_APP), the entry task (FUNCTION_TO_HANDLE, as
// in the prototype), the setup (FUSION_SETUP, its trace name) and the setup's
// rule row of that entry task (FUSION_RULES). A function only ever consults
// the row of its own entry task (rules are keyed by the function's entry
// task, whatever task makes the call), so the row is all it needs: about 1 KB
// of JSON for IoT's ten tasks, where the whole rule table is about 10 KB. A
// row longer than InlineRulesMax bytes is stored gzip-compressed and
// base64-encoded ("gz:..."); Lambda's 4 KB limit on all environment
// variables together is checked by EnvSize before deploying. A function
// deployed by hand may instead carry configuration metadata in its package
// (fusion-setups.json beside the bootstrap, or FUSION_SETUP_FILE): the
// handler then takes FUSION_SETUP's setup (or the latest) from it.
//
// Every change of the environment makes Lambda discard the function's
// execution environments, so a redeployment (and FUSION_DEPLOYMENT, which
// the AWS backend changes to force cold starts) starts every function cold,
// as the prototype's configuration updates did.
//
// # Calls
//
// A task calls another through fusionsim.Context. The row's rule decides:
//
//   - local sync: the task runs in-process and the caller waits (Call runs
//     it inline, Start on a goroutine);
//   - local async: the task runs on a goroutine; the invocation waits for it
//     before it ends, as the prototype awaited every promise;
//   - remote: the Lambda Invoke API on the rule url's function, with
//     InvocationType RequestResponse (sync) or Event (async) and an Envelope
//     as payload carrying the request's trace id and the call depth. The SDK
//     does not retry these calls: a throttled call fails with
//     fusionsim.ErrThrottled, as the prototype's API Gateway calls did.
//
// A client request is a plain JSON event (no envelope): its invocation is the
// root of a new trace id <setup>-<entry>-<MB>-<32 hex digits>.
//
// # Work, storage and memory
//
// Spend runs the work descriptor's real computation (Work.Run: the burn
// loops and sieves of package workloads) on the function's CPU share; a
// descriptor without Run spins for its CPU demand, measured as thread CPU
// time on Linux. Sleep sleeps. Put, Get, Query and Delete use DynamoDB
// tables [<prefix>]<table> with the numeric partition key SensorID and the
// string attribute Message, as the prototype's SensorDataTable and
// UseCaseTable. UseMemory only records the declaration: the memory a real
// function uses is what Lambda reports as Max Memory Used.
//
// # Log lines
//
// Each invocation writes, with the root package's formats
// (fusionsim.AppendLinePrefix, AppendMessageHead, ...), the FSMSG messages
// init, overhead-coldstartToEvent (first event of an environment),
// overhead-eventStartToInvokeLocal, one call message per call (the entry
// task's own call included), time-base and overhead-event. Durations are
// differences of millisecond clock readings, as the prototype's Date.now().
// Each line is written whole with one write, so that lines of parallel calls
// never interleave.
package handler
