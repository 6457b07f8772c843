// Package appfile reads application files: an application (its tasks, what
// each does in order, its tables and work) described in YAML or JSON
// instead of Go, and interprets them into a fusionsim.App whose tasks are
// ordinary fusionsim.Task closures, so the emulator, the AWS handler, the
// optimizers and everything else run a file as they run Go code.
//
// The format is a concern of its own (a parser with positions, a checker
// and an interpreter), so it is a package of its own rather than part of
// workloads, which holds the applications themselves: the Go code of the
// prototype's applications, their kernels (burn, sieve) and the built-in
// files, embedded there as workloads/<name>.yaml. appfile uses the kernels
// and the Workload type of workloads; Get finds a workload by name among
// both the Go code and the built-in files.
//
// # A file
//
//	name: thumbnails                        # names results directories
//	description: resize uploaded images     # optional
//	entry: upload                           # or a list: [frontend, addcartitem]
//	tables: [Images]                        # tables the storage steps use
//	memory_sizes_mb: [128, 512, 1024]       # optional default memory sweep
//	event: {size: 3}                        # optional default request body
//	work:                                   # named CPU work, optional
//	  resize: {vcpu_ms: 40, threads: 2, memory_mb: 30}
//	tasks:
//	  upload:
//	    title: Upload                       # optional, the original name
//	    doc: stores the image, then resizes # optional, one line
//	    steps:
//	      - put: Images
//	        key: ${random_int(1, 1000)}
//	      - call: resize
//	        sync: true
//	        count: $event.size              # a fan-out: size concurrent calls
//	        event: {variant: $index}
//	    response: {ok: true}
//	  resize:
//	    - work: resize
//
// A task is a mapping of title, doc, steps and response, or just its list
// of steps (response {}). Tasks are listed in order; App.Edges lists the
// calls in the order of the file (tasks in order, each task's calls in the
// order of its steps), which is the order setup enumerations follow.
// load: may hold a scenario load (package load's format: load.DecodeScenarioIn
// reads it, its errors name the file's line and field, load.duration_s), the
// application's default load (Spec.Scenario, workloads.Workload.Scenario):
// commands send it when no flag names another load. Its requests must go to
// entry tasks.
//
// # Steps
//
// Each step is a mapping whose kind is one of its keys; the other keys are
// the kind's fields. Steps run in order.
//
//   - call: TASK, sync: true|false (required: RequestResponse, the caller
//     gets the result; or Event, the caller gets the acknowledgement),
//     event: the callee's event (default: the task's own input), as: a
//     variable for the result.
//   - work: NAME of the work: section, or an inline descriptor {name,
//     vcpu_ms, ...}; as: the kernel's result (0 unless the work really ran).
//   - sieve: N numbers, algorithm: plain (default) or bitpacked: the
//     prototype's sieve kernel with its calibrated figures (CPU and memory
//     grow with N); as: the number of primes (0 unless it really ran).
//   - sleep_ms: MS, memory_mb: MB (resident until the task returns).
//   - put, get, query, delete: TABLE, key: a number (a constant, a request
//     field, ${random_int(a, b)}, ...), message: the stored text (put);
//     as: the item {key, message} (get; undefined when missing) or the list
//     of items (query; len() counts them).
//   - set: {name: value, ...}: variables, in order (values drawn from the
//     task's random source with random_int, uniform, normal, choice).
//   - if: CONDITION, then: [steps], else: [steps].
//   - switch: VALUE, cases: {get: [steps], checkout: [steps]}, default:
//     [steps]; a value that matches no case is a function error unless
//     there is a default.
//   - parallel: [steps]: every branch starts at once (a call with
//     Context.Start, any other step with Context.Go), then the task waits
//     for all of them in order (Promise.all); a branch of several steps is a
//     do: block.
//   - do: [steps]: a block (to fan out or start several steps as one).
//   - wait: waits for every started step, in the order they started.
//   - log: TEXT, fail: TEXT (a function error), return: VALUE (ends the
//     task with that response, after waiting for what it started).
//
// Modifiers of call, work, sieve, sleep_ms, the storage steps and do:
//
//   - count: N makes the step a fan-out of N concurrent copies (calls
//     started with Context.Start, other steps with Context.Go), awaited
//     together; index is the copy's number (0..N-1); as: gets the list of
//     results. N is a number, a request field ($event.items) or stored
//     data (${len(cart)}); fewer than 1 copies run nothing, more than
//     100,000 is an error.
//   - start: true starts the step (or its copies) and goes on; it is
//     awaited at the next wait step or when the task ends (then its as:
//     variable is set). This is how a put overlaps a burn (ctx.Go in Go).
//
// A task returns after waiting for everything it started. Variables set
// inside a started step or a parallel branch stay there; its as: carries
// its result out.
//
// # Values
//
// Fields that take values (event, key, message, count, conditions, set,
// response) take literals, references and expressions: "$event.sensorId"
// (a field of the task's input), "$id" (a variable), "$jam.jam" (a field of
// a variable), or ${...} with JavaScript's syntax: ${int(event.id, 0) + 1},
// ${len(items) > 0}, ${defined(event.chain) ? 1 : 0}, templates as
// "signage ${event.location}". A missing field is undefined, and an object
// leaves out keys whose value is undefined, as JSON.stringify does. The
// functions are defined, len, int, float, string, format, min, max,
// random_int, uniform, normal and choice (see funcs).
//
// # Figures and their units
//
// Every figure carries its unit in its name: vcpu_ms (or cpu_ms, the same
// figure) for CPU demand in vCPU-milliseconds at one vCPU, memory_mb,
// sleep_ms, memory_sizes_mb. A work descriptor has vcpu_ms (required: the
// parallel phase), threads (default 1), serial_vcpu_ms (one thread, before),
// tail_vcpu_ms (after the task returned, billed), memory_mb (resident while
// it runs), cold_vcpu_ms (more in an environment's first invocation),
// overhead_vcpu_ms (the process's other threads, below a share of threads
// vCPUs), jitter_scale (a factor on the platform's jitter) and kernel:
// {burn: K} (each thread runs the prototype's burn(K) loop with
// --execute-work and in the Lambda handler) or {sieve: N} (the prototype's
// plain sieve of N numbers, once; as: gets the number of primes), with the
// descriptor's own figures (an application's sieve may be slower than the
// sieve step's calibrated one); without a kernel the handler spins the CPU
// for the figures. A profile that names the descriptor
// (model.Profile.Work) replaces its figures. A figure without its unit
// (cpu: 10, sleep: 500) is an error that says which name to use, and so is
// a negative one.
//
// # Errors
//
// Parse checks the file completely before anything runs, and every error
// names the file, line, column and field: unknown keys (strict decoding,
// with the keys allowed there), figures without units or negative, an
// unknown task in a call, a cycle of sync calls (each waits for the next:
// a deadlock on Lambda), a fan-out with no size, an unknown table, work or
// variable, a duplicate task or key. Errors while a step runs (a key that
// is no number) are function errors naming the file, line and field.
//
// # Go tasks, the escape hatch
//
// Logic no file can express stays Go: write the task as a fusionsim.Task
// and put it into the App that Spec.Workload returns
// (w.App.Tasks["name"] = myTask, keeping w.App.Edges true to what it
// calls), or write the whole application in Go as package workloads does.
// Built-in workloads that have both run their Go code; their files are
// equivalent (TestBuiltinFilesEqualGo).
package appfile
