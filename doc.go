// Package fusionsim holds the domain of the fusionsim toolkit: applications made
// of tasks, fusion setups (the rule tables that say which task calls run
// in-process and which go to another function), routes and function names, and
// the Platform interface that the in-process emulator (package emulator) and the
// real AWS Lambda backend (package aws) both implement.
//
// The formats defined here are byte-compatible with the Fusionize prototype
// (Schirmer et al., IC2E 2022 and IEEE TCC 2024): configuration metadata
// (configurationMetadata.json), routes (SYNC-<TASK>-<MB>), function names
// (fusion-function-<TASK>-<MB>) and the FSMSG log records.
//
// A task is an ordinary Go function that receives a Context. Through it the task
// calls other tasks (Call, Start), spends CPU (Spend with a Work descriptor),
// sleeps, uses storage and declares memory. Task code reads like the prototype's
// Node.js handlers: sequential, with parallel calls started with Start and
// awaited with Future.Wait.
package fusionsim
