package appfile

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/load"
)

// Spec is a parsed and checked application file.
type Spec struct {
	// File names the file in errors: its path, or "workloads/<name>.yaml"
	// for a built-in one.
	File string
	// Digest is the SHA-256 of the file's bytes (hex): what identifies the
	// application in resumable work and sweeps.
	Digest string
	// Name and Description of the application.
	Name        string
	Description string
	// Entries are the entry tasks, the default one first.
	Entries []string
	// Tables are the storage tables the tasks use (DynamoDB tables on AWS).
	Tables []string
	// MemorySizesMB is the default memory sweep (nil: none).
	MemorySizesMB []int
	// Event is the default request body (nil: {}).
	Event fusionsim.Event
	// Tasks in the order of the file.
	Tasks []*Task
	// Work lists the named work descriptors of the work: section, in the
	// order of the file.
	Work []*WorkDef
	// Load is the file's load: section as it was written (nil when there is
	// none), with its line numbers; Scenario is what it says (package load:
	// load.DecodeScenarioIn), the application's default load.
	Load     *yaml.Node
	Scenario *load.Scenario

	edges []fusionsim.Edge
}

// Task is one task of an application file.
type Task struct {
	Name string
	// Title is the task's name in the original application (default Name).
	Title string
	// Doc says in one line what the task does.
	Doc string
	// Line is where the task is defined.
	Line int

	steps    []*step
	response node // nil: {}
	respPos  Pos
	setVars  map[string]bool
}

// WorkDef is a CPU work descriptor of an application file (a
// fusionsim.Work): figures in vCPU-ms at one vCPU and MB, and optionally the
// real computation it stands for (a kernel).
type WorkDef struct {
	Name           string
	VCPUMs         float64
	Threads        int
	SerialVCPUMs   float64
	TailVCPUMs     float64
	MemoryMB       float64
	ColdVCPUMs     float64
	OverheadVCPUMs float64
	// JitterScale is nil when the file gives none (the platform's jitter).
	JitterScale *float64
	// BurnK is the kernel: each thread runs the prototype's burn(k) loop
	// (0: no kernel; the AWS handler then spins the CPU for the figures).
	BurnK float64
	// SieveN is the kernel when it is the prototype's plain sieve of SieveN
	// numbers (0: none): the figures stay the descriptor's, the sieve runs
	// with --execute-work and in the Lambda handler, and as: gets the
	// number of primes (0 unless it really ran).
	SieveN int

	pos Pos
	ref bool // a step's reference to a descriptor of the work: section
}

// Work is the descriptor as the task API takes it, without its Run.
func (d *WorkDef) Work() fusionsim.Work {
	return fusionsim.Work{
		Name: d.Name, CPUMs: d.VCPUMs, Threads: d.Threads, SerialCPUMs: d.SerialVCPUMs,
		TailCPUMs: d.TailVCPUMs, MemoryMB: d.MemoryMB, ColdCPUMs: d.ColdVCPUMs,
		OverheadCPUMs: d.OverheadVCPUMs, JitterScale: d.JitterScale,
	}
}

func (d *WorkDef) same(o *WorkDef) bool {
	a, b := *d, *o
	a.pos, b.pos = Pos{}, Pos{}
	if (a.JitterScale == nil) != (b.JitterScale == nil) || a.JitterScale != nil && *a.JitterScale != *b.JitterScale {
		return false
	}
	a.JitterScale, b.JitterScale = nil, nil
	return a == b
}

// summary is "170 vCPU-ms, 2 threads, 12 MB, burn(7)".
func (d *WorkDef) summary() string {
	parts := []string{fmt.Sprintf("%s vCPU-ms", num(d.VCPUMs))}
	if d.Threads != 1 {
		parts = append(parts, fmt.Sprintf("%d threads", d.Threads))
	}
	for _, f := range []struct {
		v    float64
		unit string
	}{{d.SerialVCPUMs, "vCPU-ms serial"}, {d.TailVCPUMs, "vCPU-ms tail"}, {d.MemoryMB, "MB"}, {d.ColdVCPUMs, "vCPU-ms cold"}, {d.OverheadVCPUMs, "vCPU-ms overhead"}} {
		if f.v != 0 {
			parts = append(parts, num(f.v)+" "+f.unit)
		}
	}
	if d.JitterScale != nil {
		parts = append(parts, "jitter x"+num(*d.JitterScale))
	}
	if d.BurnK != 0 {
		parts = append(parts, "burn("+num(d.BurnK)+")")
	}
	if d.SieveN != 0 {
		parts = append(parts, fmt.Sprintf("sieve(%d)", d.SieveN))
	}
	return strings.Join(parts, ", ")
}

// Pos is a position in the file.
type Pos struct{ Line, Column int }

// step is one step of a task. Kind says which fields mean something.
type step struct {
	kind  string
	pos   Pos
	field string // its path, for errors at run time
	// at are the positions of the step's fields (the kind's value under
	// its kind), for errors about their expressions.
	at map[string]Pos

	start bool
	count node // fan-out size, nil: one
	as    string

	task  string // call
	sync  bool
	event node // call: the callee's event, nil: the task's input

	work *WorkDef // work

	n, algorithm node // sieve

	value node // sleep_ms, memory_mb, log, fail, return, if, switch

	table        string // storage
	key, message node

	sets []assign // set

	then, els []*step // if; do (then)
	cases     []branchCase
	def       []*step
	hasDef    bool
	branches  []*step // parallel
}

type assign struct {
	name string
	val  node
	pos  Pos
}

type branchCase struct {
	value string
	steps []*step
}

// Step kinds (the key that names a step).
const (
	kCall     = "call"
	kWork     = "work"
	kSieve    = "sieve"
	kSleep    = "sleep_ms"
	kPut      = "put"
	kGet      = "get"
	kQuery    = "query"
	kDelete   = "delete"
	kMemory   = "memory_mb"
	kSet      = "set"
	kIf       = "if"
	kSwitch   = "switch"
	kParallel = "parallel"
	kDo       = "do"
	kWait     = "wait"
	kLog      = "log"
	kFail     = "fail"
	kReturn   = "return"
)

// stepKeys lists each kind's other keys.
var stepKeys = map[string][]string{
	kCall:     {"sync", "event", "count", "as", "start"},
	kWork:     {"count", "as", "start"},
	kSieve:    {"algorithm", "count", "as", "start"},
	kSleep:    {"count", "start"},
	kPut:      {"key", "message", "count", "start"},
	kGet:      {"key", "count", "as", "start"},
	kQuery:    {"key", "count", "as", "start"},
	kDelete:   {"key", "count", "start"},
	kMemory:   {},
	kSet:      {},
	kIf:       {"then", "else"},
	kSwitch:   {"cases", "default"},
	kParallel: {},
	kDo:       {"count", "start"},
	kWait:     {},
	kLog:      {},
	kFail:     {},
	kReturn:   {},
}

// stepKinds in the order the documentation lists them.
var stepKinds = []string{kCall, kWork, kSieve, kSleep, kPut, kGet, kQuery, kDelete, kMemory, kSet, kIf, kSwitch, kParallel, kDo, kWait, kLog, kFail, kReturn}

// ErrInvalid marks every error of a bad application file.
var ErrInvalid = errors.New("invalid application file")

// Error is one error of an application file: where, which field, what.
type Error struct {
	File   string
	Line   int // 0 when the error is about the whole file
	Column int // 0 when unknown
	// Field is the path of the bad field, e.g. tasks.CA.steps[1].call.
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

// Edges are the calls the tasks make, in the order of the file: tasks in
// order, each task's calls in the order of its steps (nested steps where
// they stand), each (caller, called, type) once.
func (s *Spec) Edges() []fusionsim.Edge { return s.edges }

// Task returns the task called name, or nil.
func (s *Spec) Task(name string) *Task {
	for _, t := range s.Tasks {
		if t.Name == name {
			return t
		}
	}
	return nil
}
