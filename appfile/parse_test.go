package appfile

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// app is a small file around the given tasks section.
func app(tasks string) string {
	return "name: t\nentry: A\ntables: [T]\ntasks:\n" + tasks
}

// TestParseErrors: every kind of bad file gets an error that names the
// file, the line and column, and the field.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, file, want string
	}{
		{"unknown task in a call",
			app("  A:\n    - {call: B, sync: true}\n"),
			`f.yaml:6:14: tasks.A.steps[0].call: unknown task "B" (tasks: A)`},
		{"cycle of sync calls",
			app("  A:\n    - {call: B, sync: true}\n  B:\n    - {call: C, sync: false}\n    - {call: C, sync: true}\n  C:\n    - {call: A, sync: true}\n"),
			`f.yaml:11:14: tasks.C.steps[0].call: a cycle of sync calls, A -> B -> C -> A: each waits for the next, so a request waits for itself (a deadlock on Lambda); make one of the calls async`},
		{"a task calling itself",
			app("  A:\n    - {call: A, sync: true}\n"),
			`f.yaml:6:14: tasks.A.steps[0].call: a cycle of sync calls, A -> A`},
		{"negative figure",
			app("  A:\n    - work: {vcpu_ms: -5}\n"),
			`f.yaml:6:23: tasks.A.steps[0].work.vcpu_ms: -5: a figure cannot be negative (vCPU-ms at one vCPU)`},
		{"negative sleep",
			app("  A:\n    - sleep_ms: -1\n"),
			`f.yaml:6:17: tasks.A.steps[0].sleep_ms: -1: a figure cannot be negative (milliseconds)`},
		{"unitless work figure",
			app("  A:\n    - work: {cpu: 10, threads: 2}\n"),
			`f.yaml:6:14: tasks.A.steps[0].work.cpu: a figure needs its unit in its name: write vcpu_ms`},
		{"unitless memory in the work section",
			"name: t\nentry: A\nwork:\n  w: {vcpu_ms: 10, memory: 30}\ntasks:\n  A: [{work: w}]\n",
			`f.yaml:4:20: work.w.memory: a figure needs its unit in its name: write memory_mb`},
		{"two kernels",
			"name: t\nentry: A\nwork:\n  w: {vcpu_ms: 10, kernel: {burn: 7, sieve: 1000}}\ntasks:\n  A: [{work: w}]\n",
			`f.yaml:4:28: work.w.kernel: name one kernel: {burn: K} or {sieve: N}`},
		{"a sieve kernel of a fraction",
			"name: t\nentry: A\nwork:\n  w: {vcpu_ms: 10, kernel: {sieve: 1.5}}\ntasks:\n  A: [{work: w}]\n",
			`f.yaml:4:36: work.w.kernel.sieve: must be a whole number, not "1.5"`},
		{"a load figure without its unit",
			"name: t\nentry: A\ntasks:\n  A: []\nload:\n  executor: constant-arrival-rate\n  rate_per_s: 3\n  duration_s: 111s\n  max_vus: 2\n  iteration: [{entry: A}]\n",
			`f.yaml:8:15: load.duration_s: "111s" is not a number (the unit is in the field's name: write the bare number)`},
		{"a load request to a task that is no entry",
			"name: t\nentry: A\ntasks:\n  A: [{call: B, sync: false}]\n  B: []\nload:\n  executor: constant-arrival-rate\n  rate_per_s: 3\n  duration_s: 5\n  max_vus: 2\n  iteration:\n    - {entry: A}\n    - {entry: B}\n",
			`f.yaml:13: load.iteration[1].entry: B is not an entry task of the application (entry: A): a request goes to an entry task's route; add it to entry:`},
		{"unitless sleep step",
			app("  A:\n    - sleep: 500\n"),
			`f.yaml:6:7: tasks.A.steps[0]: a step names one of call, work, sieve, sleep_ms, put, get, query, delete, memory_mb, set, if, switch, parallel, do, wait, log, fail, return; this one has sleep (a figure needs its unit in its name: write sleep_ms)`},
		{"sleep in seconds",
			app("  A:\n    - sleep_s: 1\n"),
			`f.yaml:6:7: tasks.A.steps[0]: a step names one of call, work, sieve, sleep_ms, put, get, query, delete, memory_mb, set, if, switch, parallel, do, wait, log, fail, return; this one has sleep_s (a figure needs its unit in its name: write sleep_ms)`},
		{"a figure that is text",
			app("  A:\n    - sleep_ms: half a second\n"),
			`f.yaml:6:17: tasks.A.steps[0].sleep_ms: must be a number (milliseconds) or a ${...} expression, not "half a second"`},
		{"fan-out with no size",
			app("  A:\n    - {call: B, sync: true, count: }\n  B: []\n"),
			`tasks.A.steps[0].count: a fan-out needs its size`},
		{"fan-out of a fraction",
			app("  A:\n    - {call: B, sync: true, count: 2.5}\n  B: []\n"),
			`f.yaml:6:36: tasks.A.steps[0].count: must be a whole number, not "2.5"`},
		{"unknown table",
			app("  A:\n    - {put: Carts, key: 1}\n"),
			`f.yaml:6:13: tasks.A.steps[0].put: unknown table "Carts" (tables: T)`},
		{"no tables at all",
			"name: t\nentry: A\ntasks:\n  A:\n    - {get: Carts, key: 1}\n",
			`unknown table "Carts" (tables: none: list the tables under tables:)`},
		{"duplicate task",
			app("  A: []\n  B: []\n  A:\n    - sleep_ms: 1\n"),
			`f.yaml:7:3: tasks.A: given twice (first at line 5)`},
		{"unknown top-level key",
			"name: t\nentry: A\ntaks:\n  A: []\n",
			`f.yaml:3:1: taks: unknown key (allowed here: name, description, entry, tables, work, memory_sizes_mb, event, tasks, load)`},
		{"unknown key of a step",
			app("  A:\n    - {call: A, sync: false, evnt: {}}\n"),
			`f.yaml:6:30: tasks.A.steps[0].evnt: unknown key (allowed here: call, sync, event, count, as, start)`},
		{"near miss of a key",
			app("  A:\n    title: x\n    Steps: []\n"),
			`f.yaml:7:5: tasks.A.Steps: unknown key (did you mean steps?)`},
		{"call without its type",
			app("  A:\n    - call: A\n"),
			`f.yaml:6:7: tasks.A.steps[0].sync: missing: say sync: true (RequestResponse, the caller gets the result) or sync: false`},
		{"two kinds in one step",
			app("  A:\n    - {put: T, key: 1, sleep_ms: 4}\n"),
			`f.yaml:6:24: tasks.A.steps[0]: one step says put and sleep_ms: give each its own step`},
		{"unknown work",
			app("  A:\n    - work: burn\n"),
			`f.yaml:6:13: tasks.A.steps[0].work: unknown work "burn" (work: none; define it under work: or inline`},
		{"work without its demand",
			app("  A:\n    - work: {threads: 2}\n"),
			`f.yaml:6:13: tasks.A.steps[0].work: missing vcpu_ms`},
		{"one work name, two meanings",
			"name: t\nentry: A\nwork:\n  w: {vcpu_ms: 10}\ntasks:\n  A:\n    - work: {name: w, vcpu_ms: 20}\n",
			`f.yaml:7:13: tasks.A.steps[0].work.name: work "w" is defined at line 4 with other figures`},
		{"unknown variable",
			app("  A:\n    - {put: T, key: $id}\n"),
			`f.yaml:6:21: tasks.A.steps[0].key: unknown name id: not event, index or a variable of task A`},
		{"index outside a fan-out",
			app("  A:\n    - {put: T, key: \"${index}\"}\n"),
			`tasks.A.steps[0].key: index is the copy's number in a fan-out`},
		{"bad expression",
			app("  A:\n    - {put: T, key: \"${event.id +}\"}\n"),
			`f.yaml:6:34: tasks.A.steps[0].key: unexpected end of expression in "${event.id +}"`},
		{"unknown function",
			app("  A:\n    - {put: T, key: \"${rand(1, 2)}\"}\n"),
			`f.yaml:6:24: tasks.A.steps[0].key: unknown function rand (functions: choice, defined, float, format, int, len, max, min, normal, random_int, string, uniform)`},
		{"wrong argument count",
			app("  A:\n    - {put: T, key: \"${random_int(5)}\"}\n"),
			`random_int takes 2 arguments, not 1`},
		{"entry is not a task",
			"name: t\nentry: [A, Z]\ntasks:\n  A: []\n",
			`f.yaml:2:12: entry: entry task "Z" is not a task (tasks: A)`},
		{"no entry",
			"name: t\ntasks:\n  A: []\n",
			`f.yaml:1:1: entry: missing: an application file needs name, entry and tasks`},
		{"bad task name",
			app("  A-1: []\n"),
			`f.yaml:5:3: tasks.A-1: task name "A-1": character '-' not allowed`},
		{"empty app name",
			"name: \"\"\nentry: A\ntasks:\n  A: []\n",
			`f.yaml:1:7: name: must be a name, not ""`},
		{"bad app name",
			"name: my app\nentry: A\ntasks:\n  A: []\n",
			`f.yaml:1:7: name: "my app": 1-64 letters, digits, _ and -`},
		{"reserved variable",
			app("  A:\n    - set: {event: 1}\n"),
			`f.yaml:6:13: tasks.A.steps[0].set.event: "event" is reserved`},
		{"return in a started branch",
			app("  A:\n    - parallel:\n        - return: {}\n"),
			`tasks.A.steps[0].parallel[0].return: return in a started, fanned-out or parallel branch`},
		{"memory size outside Lambda's",
			"name: t\nentry: A\nmemory_sizes_mb: [64]\ntasks:\n  A: []\n",
			`f.yaml:3:19: memory_sizes_mb[0]: 64 MB is outside Lambda's 128..10240 MB`},
		{"YAML syntax",
			"name: t\nentry: A\ntasks:\n  A: [\n",
			`f.yaml:4:1: YAML: did not find expected node content`},
		{"empty file",
			"",
			`f.yaml: the file is empty`},
		{"two documents",
			"name: t\n---\nname: u\n",
			`f.yaml:2:1: a second YAML document: an application file holds one`},
		{"merge keys",
			"name: t\nentry: A\nwork:\n  base: &x {vcpu_ms: 1}\n  w:\n    <<: *x\ntasks:\n  A: [{work: w}]\n",
			`f.yaml:6:5: work.w: merge keys (<<) are not supported`},
		{"a step that is text",
			app("  A:\n    - sleep for a while\n"),
			`f.yaml:6:7: tasks.A.steps[0]: a step is a mapping naming one of call, work`},
		{"default event with a reference",
			"name: t\nentry: A\nevent: {a: $b}\ntasks:\n  A: []\n",
			`f.yaml:3:8: event: the default request body is data`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(c.file))
			if err == nil {
				t.Fatalf("no error for\n%s", c.file)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, c.want)
			}
		})
	}
}

// TestSeveralErrorsAtOnce: a file's errors are reported together, each
// with its line, in the order of the file.
func TestSeveralErrorsAtOnce(t *testing.T) {
	_, err := Parse("f.yaml", []byte(app("  A:\n    - {call: X, sync: true}\n    - {put: U, key: 1}\n    - sleep_ms: -3\n")))
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "f.yaml:6:14: tasks.A.steps[0].call:") || !strings.HasPrefix(lines[1], "f.yaml:7:13: tasks.A.steps[1].put:") || !strings.HasPrefix(lines[2], "f.yaml:8:17: tasks.A.steps[2].sleep_ms:") {
		t.Errorf("errors:\n%v", err)
	}
}

// TestJSONIsAccepted: JSON is YAML.
func TestJSONIsAccepted(t *testing.T) {
	s, err := Parse("f.json", []byte(`{"name": "j", "entry": "A", "tables": ["T"],
	 "tasks": {"A": {"steps": [{"put": "T", "key": "${random_int(1, 9)}"}, {"call": "B", "sync": true, "count": 3, "as": "r"}, "wait"],
	                 "response": {"n": "${len(r)}"}},
	           "B": []}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tasks) != 2 || len(s.Edges()) != 1 || s.Edges()[0].String() != "A->B(sync)" {
		t.Errorf("tasks %d, edges %v", len(s.Tasks), s.Edges())
	}
	_, err = Parse("f.json", []byte(`{"name": "j", "entry": "A", "tasks": {"A": {"steps": [{"sleep": 5}]}}}`))
	if err == nil || !strings.Contains(err.Error(), "f.json:1:55: tasks.A.steps[0]") || !strings.Contains(err.Error(), "write sleep_ms") {
		t.Errorf("a unitless figure in JSON: %v", err)
	}
}

// TestAliasBomb: aliases are followed, but a file cannot make the reader
// visit more than maxNodes nodes.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: t\nentry: A\ntasks:\n  A:\n    response:\n      x0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "      x%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("      big: *a8\n")
	_, err := Parse("f.yaml", []byte(b.String()))
	if err == nil || strings.Count(err.Error(), "\n") != 0 || !strings.Contains(err.Error(), "the file has more than 200000 YAML nodes") {
		t.Fatalf("a billion-node expansion: %v", err)
	}
}
