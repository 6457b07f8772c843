// Package aws runs fusion setups on real AWS Lambda: Platform implements
// fusionsim.Platform with the AWS SDK for Go v2, so that every experiment of
// the emulator (package experiment) runs unchanged on Lambda.
//
// # Deployment
//
// One function package (the provided.al2023 bootstrap of cmd/lambda, built
// by BuildPackage or given as a zip) is deployed once per (entry task,
// memory size) as [<prefix>]fusion-function-<TASK>-<MB>. Deploy creates the
// functions a setup needs (its entry route's function and every function
// its remote rules reach) or updates them: the code when its SHA-256
// differs, then always the configuration, whose environment carries the
// setup (see package aws/handler: FUSION_SETUP and the entry task's rule row
// FUSION_RULES). A configuration update makes Lambda discard the function's
// execution environments, so every deployment starts cold, as the
// prototype's redeployments did; Deploy waits until every update is done
// (LastUpdateStatus Successful). ForceCold, and Arrival.ColdBefore, update
// only FUSION_DEPLOYMENT. The DynamoDB tables the tasks use
// ([<prefix>]SensorDataTable and [<prefix>]UseCaseTable, key SensorID) are
// created on demand (PAY_PER_REQUEST) if missing.
//
// # Load
//
// Run sends each arrival in real time through the Lambda Invoke API:
// RequestResponse for a sync route, Event for an async one, in one attempt
// (no SDK retry, so throttling shows as 429 as through API Gateway). Open
// loop arrivals start on their schedule, each on its own goroutine; an
// AfterPrevious arrival waits for the previous response and its pause (not
// for the async invocations the previous request caused, which Lambda does
// not report: the prototype's k6 scripts did not wait for them either), and
// so does an arrival that Follows another: the next request of a scenario
// iteration goes out on a goroutine of its own, sent by the iteration's
// virtual user (fusionsim.Sequencer, in wall time; a dropped iteration
// sends nothing). Run
// returns once the logs show that every invocation since its start has
// ended: every START has its REPORT and the counts have not changed for
// Settle.Quiet (CloudWatch Logs delivers lines seconds late).
//
// # Logs
//
// Logs reads the log group /aws/lambda/<function> of every fusion function
// of the deployment with CloudWatch Logs FilterLogEvents over [from, to),
// every page, function by function in name order, each function's lines in
// time order (log streams merged), as fusionsim.LogLine values for the
// extractor of package trace. Messages lose their trailing newline.
//
// # Configuration and credentials
//
// Region, credentials and endpoints come from the standard AWS
// configuration (config.LoadDefaultConfig: AWS_REGION, AWS_PROFILE, the
// shared files, AWS_ENDPOINT_URL, ...), which Config can override (Region,
// Profile, EndpointURL: BaseEndpoint of every client). Nothing here writes
// credentials anywhere. The functions' role (Config.RoleARN) needs the
// AWSLambdaBasicExecutionRole permissions, dynamodb:PutItem, GetItem, Query,
// DeleteItem on the tables and lambda:InvokeFunction on the functions.
//
// # Dry runs
//
// Rehearsal wraps another platform (the emulator) and records what this
// backend would do: the functions of every deployment, the invocations and
// their billed duration as the emulator's model gives them. Plan prices them
// with model.Pricing. It calls no AWS API.
//
// Teardown deletes the deployment's functions, tables and log groups by
// name prefix.
package aws
