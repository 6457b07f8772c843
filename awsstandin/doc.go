// Package awsstandin is a local stand-in for the parts of the AWS APIs that
// the AWS backend (package aws) and the fusion handler (package aws/handler)
// call, so that both can be tested end to end without AWS:
//
//   - Lambda (REST JSON, /2015-03-31/functions): CreateFunction,
//     GetFunction, GetFunctionConfiguration, UpdateFunctionConfiguration,
//     UpdateFunctionCode, DeleteFunction, ListFunctions and Invoke;
//   - CloudWatch Logs (JSON 1.1, POST / with X-Amz-Target:
//     Logs_20140328.<Operation>): FilterLogEvents (paginated, with the
//     filter-pattern terms the backend uses), DescribeLogGroups,
//     DeleteLogGroup;
//   - DynamoDB (JSON 1.0, X-Amz-Target: DynamoDB_20120810.<Operation>):
//     CreateTable, DescribeTable, DeleteTable, ListTables, PutItem, GetItem,
//     DeleteItem and Query on the partition key, in memory.
//
// The stand-in checks neither signatures nor credentials: clients sign with
// static dummy credentials. It speaks the wire formats the AWS SDK for Go v2
// expects (status codes, X-Amzn-ErrorType, __type error bodies,
// X-Amz-Crc32 on DynamoDB answers), which is all that its tests show; it is
// not a model of the services' limits, consistency or latency.
//
// # Functions run on a Backend
//
// The stand-in keeps the control plane itself: which functions exist, with
// their configuration and code hash. Invocations and logs come from a
// Backend. EmulatorBackend runs them on the HTTP emulator (package
// lambdaapi, in-process or over the network): before an Invoke after any
// function was created or updated, the stand-in assembles the setup the
// functions carry (each function's FUSION_RULES is the rule row of its entry
// task, under the setup named by FUSION_SETUP) and deploys it on the
// emulator, which, like a configuration update on Lambda, discards every
// execution environment. Invoke is then forwarded under the emulator's
// function name, and a function's log group /aws/lambda/<name> shows the
// emulator's log of that function.
//
// Times of log events: the emulator's lines carry their time; START, END and
// REPORT lines (which carry none) take the time of the nearest timestamped
// line of the same function (START the next one, END and REPORT the
// previous one). Run the emulator with an epoch of "now" and a time scale of
// 1 so that log times are wall-clock times.
//
// A Server with a nil Backend answers Invoke with 501 and has empty logs:
// enough for control-plane and DynamoDB tests.
package awsstandin
