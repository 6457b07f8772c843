package appfile

import (
	"fmt"
	"io"
	"strings"
)

// WriteOutline writes every task's steps, one a line, indented by nesting:
// the task graph of `simulate workloads` for an application file (calls
// with their type and fan-out, work with its figures, storage with table
// and key).
func (s *Spec) WriteOutline(w io.Writer) {
	for _, t := range s.Tasks {
		title := ""
		if t.Title != t.Name {
			title = " (" + t.Title + ")"
		}
		fmt.Fprintf(w, "    %s%s, line %d:\n", t.Name, title, t.Line)
		if len(t.steps) == 0 {
			fmt.Fprintln(w, "      (no steps)")
		}
		writeSteps(w, t.steps, "      ")
		if t.response != nil {
			fmt.Fprintf(w, "      response %s\n", clip(exprString(t.response), 100))
		}
	}
}

func writeSteps(w io.Writer, steps []*step, indent string) {
	for _, st := range steps {
		fmt.Fprintf(w, "%s%s\n", indent, stepLine(st, true))
		in := indent + "  "
		switch st.kind {
		case kIf:
			writeSteps(w, st.then, in)
			if len(st.els) > 0 {
				fmt.Fprintf(w, "%selse:\n", indent)
				writeSteps(w, st.els, in)
			}
		case kSwitch:
			for _, c := range st.cases {
				fmt.Fprintf(w, "%scase %s:\n", in, c.value)
				writeSteps(w, c.steps, in+"  ")
			}
			if st.hasDef {
				fmt.Fprintf(w, "%sdefault:\n", in)
				writeSteps(w, st.def, in+"  ")
			}
		case kParallel:
			writeSteps(w, st.branches, in)
		case kDo:
			writeSteps(w, st.then, in)
		}
	}
}

// stepLine describes one step; long adds figures and expressions.
func stepLine(st *step, long bool) string {
	var b strings.Builder
	switch st.kind {
	case kCall:
		kind := "async"
		if st.sync {
			kind = "sync"
		}
		fmt.Fprintf(&b, "call %s (%s)", st.task, kind)
		if long && st.event != nil {
			fmt.Fprintf(&b, " event %s", clip(exprString(st.event), 70))
		}
	case kWork:
		fmt.Fprintf(&b, "work %s", st.work.Name)
		if long {
			fmt.Fprintf(&b, " (%s)", st.work.summary())
		}
	case kSieve:
		fmt.Fprintf(&b, "sieve up to %s", exprString(st.n))
		if st.algorithm != nil && long {
			fmt.Fprintf(&b, ", algorithm %s", exprString(st.algorithm))
		}
	case kSleep:
		fmt.Fprintf(&b, "sleep %s ms", exprString(st.value))
	case kMemory:
		fmt.Fprintf(&b, "memory +%s MB", exprString(st.value))
	case kPut, kGet, kQuery, kDelete:
		fmt.Fprintf(&b, "%s %s", st.kind, st.table)
		if long {
			fmt.Fprintf(&b, " key %s", exprString(st.key))
		}
	case kSet:
		parts := make([]string, len(st.sets))
		for i, a := range st.sets {
			parts[i] = a.name
			if long {
				parts[i] += " = " + clip(exprString(a.val), 50)
			}
		}
		b.WriteString("set " + strings.Join(parts, ", "))
	case kIf:
		fmt.Fprintf(&b, "if %s:", exprString(st.value))
	case kSwitch:
		fmt.Fprintf(&b, "switch on %s:", exprString(st.value))
	case kParallel:
		b.WriteString("parallel (all start, then all are awaited):")
	case kDo:
		b.WriteString("do:")
	case kWait:
		b.WriteString("wait for the started steps")
	case kLog:
		fmt.Fprintf(&b, "log %s", clip(exprString(st.value), 60))
	case kFail:
		fmt.Fprintf(&b, "fail %s", clip(exprString(st.value), 60))
	case kReturn:
		fmt.Fprintf(&b, "return %s", clip(exprString(st.value), 60))
	}
	if st.count != nil {
		fmt.Fprintf(&b, " [fan-out: %s copies]", exprString(st.count))
	}
	if st.start {
		b.WriteString(" [started: awaited at the next wait or the end]")
	}
	if st.as != "" && long {
		fmt.Fprintf(&b, " -> %s", st.as)
	}
	return b.String()
}

// summary is a task's steps on one line (its behaviour when the file gives
// no doc).
func (t *Task) summary() string {
	if len(t.steps) == 0 {
		if t.response != nil {
			return clip("returns "+exprString(t.response), 160)
		}
		return "no steps, returns {}"
	}
	return clip(shortSteps(t.steps), 160)
}

func shortSteps(steps []*step) string {
	parts := make([]string, len(steps))
	for i, st := range steps {
		switch st.kind {
		case kParallel:
			parts[i] = "parallel (" + shortSteps(st.branches) + ")"
		case kDo:
			parts[i] = "do (" + shortSteps(st.then) + ")"
		case kIf:
			parts[i] = "if " + exprString(st.value) + " (" + shortSteps(st.then) + ")"
		case kSwitch:
			var cs []string
			for _, c := range st.cases {
				cs = append(cs, c.value+": "+shortSteps(c.steps))
			}
			parts[i] = "switch " + exprString(st.value) + " (" + strings.Join(cs, "; ") + ")"
		default:
			parts[i] = stepLine(st, false)
		}
	}
	return strings.Join(parts, ", ")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
