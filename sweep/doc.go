// Package sweep runs a study of fusion as a list of cells, on one machine or
// sharded over a cluster's job array, and merges the shards into one result.
//
// # Cells
//
// A sweep (Spec) is the product setup x memory x seed x load x profile,
// enumerated deterministically (Plan.Cells) in that order of nesting: cell 0
// is the first setup at its first memory configuration, the first seed, load
// and profile; the profile varies fastest. The setups come from a space:
//
//   - partitions: every set partition of the application's tasks (Bell(n);
//     115,975 for IoT's 10 tasks), or with Connected only those whose groups
//     are connected through calls with a single root (704 for IoT). What a
//     partition deploys, and in particular a group whose tasks do not call
//     each other, is documented in the optimizer package (PartitionFunctions):
//     a function per entry point the call graph gives the group.
//   - rules: every distinct local/remote assignment of the call edges
//     (optimizer.RuleSetups; 896 for IoT).
//   - memory and file: given setups (the all-remote one by default for
//     memory; a configuration metadata file or a list of descriptions for
//     file).
//
// Each cell is evaluated by an optimizer.Evaluator (the emulator, figures
// from its traces as in a single run, no logs written,
// with the seed derived from the cell's seed and its deployment,
// optimizer.SeedFor), so its figures depend on nothing but the cell: not on
// the shard, the order or the number of workers. Cells that deploy the same
// functions under the same seed, load and profile have the same figures; a
// run evaluates each such deployment once (Runner.Dedup).
//
// # Shards, resume and merge
//
// A Shard I/N runs the cells k with k mod N = I (from --shard, or the job
// array's environment: Slurm's SLURM_ARRAY_TASK_ID, Kubernetes'
// JOB_COMPLETION_INDEX). A run keeps its finished cells in a journal beside
// its results directory (.<dir>.partial/, chunk files written atomically
// every few seconds and on interrupt), so a rerun of a preempted or killed
// shard evaluates only what is missing. At the end the shard's results
// directory is written atomically (a temporary directory renamed) and the
// journal removed.
//
// Merge combines the shards' directories into the directory the unsharded
// sweep writes, byte for byte: it refuses directories of different sweeps
// (the manifest names the sweep's hash, Spec.Hash) and lists the missing
// cells by index and shard.
package sweep
