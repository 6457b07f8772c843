package appfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/load"
)

// MaxFileBytes bounds an application file.
const MaxFileBytes = 1 << 20

// Limits of a file's structure (a file is code; these stop a bad one, not a
// real application).
const (
	maxNodes      = 200_000 // YAML nodes visited, aliases followed
	maxStepDepth  = 32      // nesting of steps in if, switch, parallel, do
	maxErrors     = 20      // errors reported at once
	maxFanOutSize = 100_000 // copies of one fan-out at run time
	// maxSieveKernel bounds a work descriptor's sieve kernel (its array
	// holds one byte per number).
	maxSieveKernel = 1_000_000_000
)

// ReadFile reads and checks the application file at path.
func ReadFile(path string) (*Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse reads and checks an application file (YAML, or JSON, which is
// YAML); file names it in errors. Every error is an *Error (file, line,
// field) wrapping ErrInvalid; several are joined (errors.Join), at most
// maxErrors.
func Parse(file string, data []byte) (*Spec, error) {
	if len(data) > MaxFileBytes {
		return nil, &Error{File: file, Msg: fmt.Sprintf("the file has more than %d bytes", MaxFileBytes)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "the file is empty"}
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Line: extra.Line, Column: extra.Column, Msg: "a second YAML document: an application file holds one"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	p := &reader{file: file}
	s := p.spec(&doc)
	sum := sha256.Sum256(data)
	s.Digest = hex.EncodeToString(sum[:])
	p.check(s)
	p.scenario(s)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			a, b := p.errs[i], p.errs[j]
			return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
		})
		errs := make([]error, len(p.errs))
		for i, e := range p.errs {
			errs[i] = e
		}
		if len(errs) == 1 {
			return nil, errs[0]
		}
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// scenario decodes the load: section (package load), its errors as the
// file's, and checks that its requests go to entry tasks of the file.
func (p *reader) scenario(s *Spec) {
	if s.Load == nil {
		return
	}
	sc, err := load.DecodeScenarioIn(s.Load, p.file, "load")
	if err != nil {
		var de *load.DecodeError
		if errors.As(err, &de) {
			p.errorAt(Pos{de.Line, de.Column}, de.Field, "%s", de.Msg)
		} else {
			p.errorf(s.Load, "load", "%v", err)
		}
		return
	}
	for _, part := range []struct {
		name string
		rs   []load.Request
	}{{"setup", sc.Setup}, {"iteration", sc.Iteration}} {
		for i, r := range part.rs {
			if len(s.Entries) == 0 || slices.Contains(s.Entries, r.Entry) {
				continue
			}
			what := "not an entry task"
			if s.Task(r.Entry) == nil {
				what = "not a task"
			}
			p.errorAt(Pos{Line: r.Line}, fmt.Sprintf("load.%s[%d].entry", part.name, i), "%s is %s of the application (entry: %s): a request goes to an entry task's route; add it to entry:", r.Entry, what, strings.Join(s.Entries, ", "))
		}
	}
	s.Scenario = sc
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns the YAML library's syntax error into an *Error.
func yamlError(file string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Column: 1, Msg: "YAML: " + m[2]}
	}
	return &Error{File: file, Msg: "YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// reader walks the YAML tree of a file into a Spec, collecting errors.
type reader struct {
	file  string
	errs  []*Error
	nodes int
	// entryNode is the entry: value, for errors about it.
	entryNode  *yaml.Node
	saidTooBig bool
}

func (p *reader) errorf(n *yaml.Node, field, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		return
	}
	e := &Error{File: p.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

func (p *reader) errorAt(pos Pos, field, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		return
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: pos.Line, Column: pos.Column, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func posOf(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

// resolve follows aliases and counts the nodes visited.
func (p *reader) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	p.nodes++
	return n
}

// tooBig reports that the reader has visited more than maxNodes nodes;
// the first time, it says so at n.
func (p *reader) tooBig(n *yaml.Node, field string) bool {
	if p.nodes <= maxNodes {
		return false
	}
	if !p.saidTooBig {
		p.saidTooBig = true
		p.errorf(n, field, "the file has more than %d YAML nodes (aliases counted as often as they are used)", maxNodes)
	}
	return true
}

// kv is one key and value of a mapping.
type kv struct {
	key string
	k   *yaml.Node
	v   *yaml.Node
}

// mapping returns a mapping's pairs in order; duplicate keys, merge keys and
// keys not in allowed are errors (nil allowed: any key).
func (p *reader) mapping(n *yaml.Node, field string, allowed []string) ([]kv, bool) {
	n = p.resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.errorf(n, field, "must be a mapping (key: value lines), not %s", kindOf(n))
		return nil, false
	}
	var out []kv
	first := map[string]*yaml.Node{}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := p.resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, field, "a key must be a plain name, not %s", kindOf(k))
			ok = false
			continue
		}
		if k.Tag == "!!merge" || k.Value == "<<" {
			p.errorf(k, field, "merge keys (<<) are not supported: write the keys out")
			ok = false
			continue
		}
		if f, dup := first[k.Value]; dup {
			p.errorf(k, join(field, k.Value), "given twice (first at line %d)", f.Line)
			ok = false
			continue
		}
		first[k.Value] = k
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			p.errorf(k, join(field, k.Value), "%s", unknownKey(k.Value, allowed))
			ok = false
			continue
		}
		out = append(out, kv{k.Value, k, v})
	}
	return out, ok
}

// units are the unit suffixes of figures, and what a figure without one
// should be written as.
var unitless = map[string]string{
	"cpu": "vcpu_ms", "vcpu": "vcpu_ms", "cpu_time": "vcpu_ms", "cpu_s": "vcpu_ms", "vcpu_s": "vcpu_ms",
	"memory": "memory_mb", "mem": "memory_mb", "memory_gb": "memory_mb", "memory_kb": "memory_mb", "ram": "memory_mb",
	"sleep": "sleep_ms", "sleep_s": "sleep_ms", "delay": "sleep_ms", "duration": "sleep_ms", "wait_ms": "sleep_ms",
	"serial": "serial_vcpu_ms", "serial_ms": "serial_vcpu_ms", "tail": "tail_vcpu_ms", "tail_ms": "tail_vcpu_ms",
	"cold": "cold_vcpu_ms", "cold_ms": "cold_vcpu_ms", "cold_extra": "cold_vcpu_ms", "overhead": "overhead_vcpu_ms",
	"jitter": "jitter_scale", "memory_sizes": "memory_sizes_mb", "memory_sizes_gb": "memory_sizes_mb",
}

// unknownKey explains an unknown key: a figure without its unit, a near
// miss, or the keys allowed there.
func unknownKey(key string, allowed []string) string {
	if want, ok := unitless[strings.ToLower(key)]; ok && slices.Contains(allowed, want) {
		return fmt.Sprintf("a figure needs its unit in its name: write %s", want)
	}
	for _, a := range allowed {
		if strings.HasPrefix(a, key+"_") && (strings.HasSuffix(a, "_ms") || strings.HasSuffix(a, "_mb")) {
			return fmt.Sprintf("a figure needs its unit in its name: write %s", a)
		}
	}
	for _, a := range allowed {
		if strings.EqualFold(a, key) || strings.ReplaceAll(a, "_", "") == strings.ToLower(strings.ReplaceAll(key, "_", "")) {
			return fmt.Sprintf("unknown key (did you mean %s?)", a)
		}
	}
	return fmt.Sprintf("unknown key (allowed here: %s)", strings.Join(allowed, ", "))
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func kindOf(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.DocumentNode:
		return "a document"
	}
	return "an alias"
}

// name reads a name: a non-empty scalar.
func (p *reader) name(n *yaml.Node, field string) (string, bool) {
	n = p.resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" || n.Value == "" {
		p.errorf(n, field, "must be a name, not %s", kindOf(n))
		return "", false
	}
	return n.Value, true
}

// text reads a string (any scalar).
func (p *reader) text(n *yaml.Node, field string) string {
	n = p.resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		p.errorf(n, field, "must be text, not %s", kindOf(n))
		return ""
	}
	return n.Value
}

func (p *reader) boolean(n *yaml.Node, field string) (bool, bool) {
	n = p.resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		p.errorf(n, field, "must be true or false, not %s", kindOf(n))
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		p.errorf(n, field, "must be true or false: %v", err)
		return false, false
	}
	return b, true
}

// literalNumber reads a number scalar; ok is false (and no error) when n
// is no number.
func (p *reader) literalNumber(n *yaml.Node) (v float64, isInt, ok bool) {
	if n == nil || n.Kind != yaml.ScalarNode {
		return 0, false, false
	}
	switch n.ShortTag() {
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return math.NaN(), true, true
		}
		return float64(i), true, true
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return math.NaN(), false, true
		}
		return f, false, true
	}
	return 0, false, false
}

// figure reads a literal figure: a finite number >= 0. unit says what it
// is measured in, for the message.
func (p *reader) figure(n *yaml.Node, field, unit string) (float64, bool) {
	n = p.resolve(n)
	v, _, ok := p.literalNumber(n)
	if !ok {
		p.errorf(n, field, "must be a number (%s), not %s", unit, kindOf(n))
		return 0, false
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		p.errorf(n, field, "%s is not a finite number", n.Value)
		return 0, false
	}
	if v < 0 {
		p.errorf(n, field, "%s: a figure cannot be negative (%s)", n.Value, unit)
		return 0, false
	}
	return v, true
}

// wholeNumber reads a literal integer >= lo.
func (p *reader) wholeNumber(n *yaml.Node, field string, lo int) (int, bool) {
	n = p.resolve(n)
	v, isInt, ok := p.literalNumber(n)
	if !ok || !isInt || math.IsNaN(v) {
		p.errorf(n, field, "must be a whole number, not %s", kindOf(n))
		return 0, false
	}
	if v < float64(lo) {
		p.errorf(n, field, "%s: must be at least %d", n.Value, lo)
		return 0, false
	}
	if v > math.MaxInt32 {
		p.errorf(n, field, "%s is too large", n.Value)
		return 0, false
	}
	return int(v), true
}

// expr reads an expression: a literal, a reference or a ${...} string.
func (p *reader) expr(n *yaml.Node, field string) node {
	n = p.resolve(n)
	if p.tooBig(n, field) {
		return litNode{nil}
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return litNode{nil}
		case "!!bool":
			b, _ := p.boolean(n, field)
			return litNode{b}
		case "!!int", "!!float":
			v, isInt, _ := p.literalNumber(n)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				p.errorf(n, field, "%s is not a finite number", n.Value)
				return litNode{nil}
			}
			if isInt {
				if v >= math.MaxInt64 || v < math.MinInt64 {
					p.errorf(n, field, "%s is too large", n.Value)
					return litNode{nil}
				}
				var i int64
				_ = n.Decode(&i)
				return litNode{int(i)}
			}
			return litNode{v}
		case "!!str":
			x, err := parseString(n.Value)
			if err != nil {
				col := n.Column
				if ee, ok := err.(*exprError); ok && !strings.Contains(n.Value, "\n") {
					col += ee.off
					if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
						col++
					}
				}
				p.errorAt(Pos{n.Line, col}, field, "%v in %q", err, n.Value)
				return litNode{nil}
			}
			return x
		}
		p.errorf(n, field, "%s: a value of type %s is not supported (numbers, text, true/false, null, lists, mappings)", n.Value, n.ShortTag())
		return litNode{nil}
	case yaml.SequenceNode:
		l := listNode{}
		for i, e := range n.Content {
			l.elems = append(l.elems, p.expr(e, fmt.Sprintf("%s[%d]", field, i)))
		}
		return l
	case yaml.MappingNode:
		pairs, _ := p.mapping(n, field, nil)
		o := objNode{}
		for _, kv := range pairs {
			o.keys = append(o.keys, kv.key)
			o.vals = append(o.vals, p.expr(kv.v, join(field, kv.key)))
		}
		return o
	}
	p.errorf(n, field, "must be a value, not %s", kindOf(n))
	return litNode{nil}
}

// figureExpr reads a figure that may be computed: a literal number >= 0, or
// an expression (checked when the step runs).
func (p *reader) figureExpr(n *yaml.Node, field, unit string, whole bool) node {
	r := p.resolve(n)
	if r != nil && r.Kind == yaml.ScalarNode && (r.ShortTag() == "!!int" || r.ShortTag() == "!!float") {
		if whole {
			v, ok := p.wholeNumber(r, field, 0)
			if !ok {
				return litNode{0}
			}
			return litNode{v}
		}
		v, ok := p.figure(r, field, unit)
		if !ok {
			return litNode{0.0}
		}
		return litNode{v}
	}
	if r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() == "!!str" && !strings.Contains(r.Value, "$") {
		p.errorf(r, field, "must be a number (%s) or a ${...} expression, not %q", unit, r.Value)
		return litNode{0}
	}
	if r == nil || r.Kind != yaml.ScalarNode || r.ShortTag() != "!!str" {
		p.errorf(r, field, "must be a number (%s) or a ${...} expression, not %s", unit, kindOf(r))
		return litNode{0}
	}
	return p.expr(r, field)
}

var appName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$`)

// topKeys are the keys of a file.
var topKeys = []string{"name", "description", "entry", "tables", "work", "memory_sizes_mb", "event", "tasks", "load"}

func (p *reader) spec(doc *yaml.Node) *Spec {
	s := &Spec{File: p.file}
	root := doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			p.errorf(doc, "", "the file is empty")
			return s
		}
		root = doc.Content[0]
	}
	pairs, _ := p.mapping(root, "", topKeys)
	var tasksNode *yaml.Node
	seen := map[string]bool{}
	for _, kv := range pairs {
		seen[kv.key] = true
		switch kv.key {
		case "name":
			s.Name, _ = p.name(kv.v, "name")
			if s.Name != "" && !appName.MatchString(s.Name) {
				p.errorf(kv.v, "name", "%q: 1-64 letters, digits, _ and - (it names results directories)", s.Name)
			}
		case "description":
			s.Description = p.text(kv.v, "description")
		case "entry":
			s.Entries = p.entries(kv.v)
			p.entryNode = kv.v
		case "tables":
			s.Tables = p.tables(kv.v)
		case "work":
			p.workSection(s, kv.v)
		case "memory_sizes_mb":
			s.MemorySizesMB = p.memorySizes(kv.v)
		case "event":
			s.Event = p.event(kv.v)
		case "tasks":
			tasksNode = kv.v
		case "load":
			s.Load = kv.v
		}
	}
	for _, k := range []string{"name", "entry", "tasks"} {
		if !seen[k] && root.Kind == yaml.MappingNode {
			p.errorf(root, k, "missing: an application file needs name, entry and tasks")
		}
	}
	if tasksNode != nil {
		p.tasks(s, tasksNode)
	}
	return s
}

func (p *reader) entries(n *yaml.Node) []string {
	n = p.resolve(n)
	if n != nil && n.Kind == yaml.SequenceNode {
		if len(n.Content) == 0 {
			p.errorf(n, "entry", "no entry task: give one name or a list of names")
		}
		var out []string
		for i, e := range n.Content {
			if name, ok := p.name(e, fmt.Sprintf("entry[%d]", i)); ok {
				if slices.Contains(out, name) {
					p.errorf(e, fmt.Sprintf("entry[%d]", i), "%s is listed twice", name)
				}
				out = append(out, name)
			}
		}
		return out
	}
	if name, ok := p.name(n, "entry"); ok {
		return []string{name}
	}
	return nil
}

func (p *reader) tables(n *yaml.Node) []string {
	n = p.resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		p.errorf(n, "tables", "must be a list of table names, not %s", kindOf(n))
		return nil
	}
	var out []string
	for i, e := range n.Content {
		f := fmt.Sprintf("tables[%d]", i)
		if name, ok := p.name(e, f); ok {
			if slices.Contains(out, name) {
				p.errorf(e, f, "table %s is listed twice", name)
			}
			out = append(out, name)
		}
	}
	return out
}

func (p *reader) memorySizes(n *yaml.Node) []int {
	n = p.resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errorf(n, "memory_sizes_mb", "must be a list of memory sizes in MB, not %s", kindOf(n))
		return nil
	}
	var out []int
	for i, e := range n.Content {
		f := fmt.Sprintf("memory_sizes_mb[%d]", i)
		mb, ok := p.wholeNumber(e, f, 0)
		if !ok {
			continue
		}
		if mb < fusionsim.MinMemoryMB || mb > fusionsim.MaxMemoryMB {
			p.errorf(e, f, "%d MB is outside Lambda's %d..%d MB", mb, fusionsim.MinMemoryMB, fusionsim.MaxMemoryMB)
			continue
		}
		out = append(out, mb)
	}
	return out
}

func (p *reader) event(n *yaml.Node) fusionsim.Event {
	x := p.expr(n, "event")
	o, ok := x.(objNode)
	if !ok {
		p.errorf(p.resolve(n), "event", "the default request body must be a mapping (a JSON object)")
		return nil
	}
	refs := map[string]bool{}
	names(o, refs)
	if len(refs) > 0 || usesRandom(o) {
		p.errorf(p.resolve(n), "event", "the default request body is data: no $references or ${...} in it")
		return nil
	}
	v, err := eval(o, &scope{})
	if err != nil {
		p.errorf(p.resolve(n), "event", "%v", err)
		return nil
	}
	return v.(fusionsim.Event)
}

// workKeys are the keys of a work descriptor.
var workKeys = []string{"name", "vcpu_ms", "cpu_ms", "threads", "serial_vcpu_ms", "tail_vcpu_ms", "memory_mb", "cold_vcpu_ms", "overhead_vcpu_ms", "jitter_scale", "kernel"}

func (p *reader) workSection(s *Spec, n *yaml.Node) {
	pairs, _ := p.mapping(n, "work", nil)
	for _, kv := range pairs {
		f := "work." + kv.key
		if d := p.workDef(kv.v, f, kv.key, false); d != nil {
			s.Work = append(s.Work, d)
		}
	}
}

// workDef reads a work descriptor; name is its name when it comes from the
// work: section ("" inline: the name key, if any).
func (p *reader) workDef(n *yaml.Node, field, name string, inline bool) *WorkDef {
	allowed := workKeys
	if !inline {
		allowed = workKeys[1:]
	}
	pairs, ok := p.mapping(n, field, allowed)
	if !ok {
		return nil
	}
	d := &WorkDef{Name: name, Threads: 1, pos: posOf(p.resolve(n))}
	haveCPU := false
	for _, kv := range pairs {
		f := join(field, kv.key)
		switch kv.key {
		case "name":
			d.Name, _ = p.name(kv.v, f)
		case "vcpu_ms", "cpu_ms":
			if haveCPU {
				p.errorf(kv.k, f, "give vcpu_ms or cpu_ms (the same figure), not both")
			}
			haveCPU = true
			d.VCPUMs, _ = p.figure(kv.v, f, "vCPU-ms at one vCPU")
		case "threads":
			d.Threads, _ = p.wholeNumber(kv.v, f, 1)
		case "serial_vcpu_ms":
			d.SerialVCPUMs, _ = p.figure(kv.v, f, "vCPU-ms on one thread before the parallel phase")
		case "tail_vcpu_ms":
			d.TailVCPUMs, _ = p.figure(kv.v, f, "vCPU-ms after the task returned")
		case "memory_mb":
			d.MemoryMB, _ = p.figure(kv.v, f, "MB resident while the work runs")
		case "cold_vcpu_ms":
			d.ColdVCPUMs, _ = p.figure(kv.v, f, "vCPU-ms more in an environment's first invocation")
		case "overhead_vcpu_ms":
			d.OverheadVCPUMs, _ = p.figure(kv.v, f, "vCPU-ms of the process's other threads")
		case "jitter_scale":
			v, ok := p.figure(kv.v, f, "a factor of the platform's jitter")
			if ok {
				d.JitterScale = &v
			}
		case "kernel":
			kp, ok := p.mapping(kv.v, f, []string{"burn", "sieve"})
			if ok && len(kp) == 1 {
				switch kp[0].key {
				case "burn":
					k, ok := p.figure(kp[0].v, f+".burn", "burn(k) runs k^7 iterations per thread")
					if ok && k == 0 {
						p.errorf(kp[0].v, f+".burn", "burn(0) runs no iteration: leave the kernel out")
					}
					d.BurnK = k
				case "sieve":
					n, ok := p.wholeNumber(kp[0].v, f+".sieve", 1)
					if ok && n > maxSieveKernel {
						p.errorf(kp[0].v, f+".sieve", "%d numbers: at most %d", n, maxSieveKernel)
					}
					d.SieveN = n
				}
			} else if ok {
				p.errorf(kv.v, f, "name one kernel: {burn: K} or {sieve: N}")
			}
		}
	}
	if !haveCPU {
		p.errorf(p.resolve(n), field, "missing vcpu_ms: the parallel phase's demand in vCPU-ms at one vCPU (0 for none)")
	}
	return d
}

func (p *reader) tasks(s *Spec, n *yaml.Node) {
	pairs, _ := p.mapping(n, "tasks", nil)
	if len(pairs) == 0 && p.resolve(n).Kind == yaml.MappingNode {
		p.errorf(p.resolve(n), "tasks", "no task")
	}
	for _, kv := range pairs {
		f := "tasks." + kv.key
		if err := fusionsim.ValidateTaskName(kv.key); err != nil {
			p.errorf(kv.k, f, "%v", err)
			continue
		}
		t := &Task{Name: kv.key, Title: kv.key, Line: kv.k.Line}
		v := p.resolve(kv.v)
		switch {
		case v.Kind == yaml.SequenceNode:
			t.steps = p.steps(v, f+".steps", 0)
		case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null":
			// A task that does nothing and returns {}.
		default:
			tp, _ := p.mapping(v, f, []string{"title", "doc", "steps", "response"})
			for _, x := range tp {
				switch x.key {
				case "title":
					t.Title = p.text(x.v, f+".title")
				case "doc":
					t.Doc = p.text(x.v, f+".doc")
				case "steps":
					t.steps = p.steps(x.v, f+".steps", 0)
				case "response":
					t.response = p.expr(x.v, f+".response")
					t.respPos = posOf(p.resolve(x.v))
				}
			}
		}
		s.Tasks = append(s.Tasks, t)
	}
}

// steps reads a list of steps.
func (p *reader) steps(n *yaml.Node, field string, depth int) []*step {
	n = p.resolve(n)
	if depth > maxStepDepth {
		p.errorf(n, field, "steps nested more than %d deep", maxStepDepth)
		return nil
	}
	if n == nil || n.Kind != yaml.SequenceNode {
		p.errorf(n, field, "must be a list of steps (lines starting with -), not %s", kindOf(n))
		return nil
	}
	var out []*step
	for i, e := range n.Content {
		if p.tooBig(e, field) {
			return out
		}
		if st := p.step(e, fmt.Sprintf("%s[%d]", field, i), depth); st != nil {
			out = append(out, st)
		}
	}
	return out
}

func (p *reader) step(n *yaml.Node, field string, depth int) *step {
	n = p.resolve(n)
	if n.Kind == yaml.ScalarNode && n.Value == kWait {
		return &step{kind: kWait, pos: posOf(n), field: field}
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, field, "a step is a mapping naming one of %s (or the word wait), not %s", strings.Join(stepKinds, ", "), kindOf(n))
		return nil
	}
	raw, _ := p.mapping(n, field, nil)
	var kind string
	var kindKV kv
	for _, x := range raw {
		if _, ok := stepKeys[x.key]; ok {
			if kind != "" {
				p.errorf(x.k, field, "one step says %s and %s: give each its own step", kind, x.key)
				return nil
			}
			kind, kindKV = x.key, x
		}
	}
	if kind == "" {
		keys := make([]string, len(raw))
		for i, x := range raw {
			keys[i] = x.key
		}
		hint := ""
		for _, k := range keys {
			if want, ok := unitless[strings.ToLower(k)]; ok && (want == kSleep || want == kMemory) {
				hint = fmt.Sprintf(" (a figure needs its unit in its name: write %s)", want)
			}
		}
		p.errorf(n, field, "a step names one of %s; this one has %s%s", strings.Join(stepKinds, ", "), strings.Join(keys, ", "), hint)
		return nil
	}
	st := &step{kind: kind, pos: posOf(n), field: field, at: map[string]Pos{}}
	allowed := stepKeys[kind]
	sub := map[string]kv{}
	for _, x := range raw {
		st.at[x.key] = posOf(p.resolve(x.v))
		if x.key == kind {
			continue
		}
		if !slices.Contains(allowed, x.key) {
			p.errorf(x.k, join(field, x.key), "%s", unknownKey(x.key, append([]string{kind}, allowed...)))
			continue
		}
		sub[x.key] = x
	}
	kf := join(field, kind)
	v := kindKV.v
	switch kind {
	case kCall:
		st.task, _ = p.name(v, kf)
		if s, ok := sub["sync"]; ok {
			st.sync, _ = p.boolean(s.v, join(field, "sync"))
		} else {
			p.errorf(n, join(field, "sync"), "missing: say sync: true (RequestResponse, the caller gets the result) or sync: false (Event, the caller gets the acknowledgement)")
		}
		if e, ok := sub["event"]; ok {
			st.event = p.expr(e.v, join(field, "event"))
		}
	case kWork:
		r := p.resolve(v)
		if r.Kind == yaml.MappingNode {
			st.work = p.workDef(r, kf, "", true)
		} else if name, ok := p.name(r, kf); ok {
			st.work = &WorkDef{Name: name, pos: posOf(r), ref: true} // resolved in check
		}
	case kSieve:
		st.n = p.figureExpr(v, kf, "numbers to sieve", true)
		if a, ok := sub["algorithm"]; ok {
			st.algorithm = p.expr(a.v, join(field, "algorithm"))
		}
	case kSleep:
		st.value = p.figureExpr(v, kf, "milliseconds", false)
	case kMemory:
		st.value = p.figureExpr(v, kf, "MB", false)
	case kPut, kGet, kQuery, kDelete:
		st.table, _ = p.name(v, kf)
		if k, ok := sub["key"]; ok {
			st.key = p.expr(k.v, join(field, "key"))
		} else {
			p.errorf(n, join(field, "key"), "missing: the item's key (a number: a constant, $event.field, ${random_int(a, b)}, ...)")
		}
		if m, ok := sub["message"]; ok {
			st.message = p.expr(m.v, join(field, "message"))
		}
	case kSet:
		pairs, _ := p.mapping(v, kf, nil)
		for _, x := range pairs {
			if p.varName(x.k, join(kf, x.key)) {
				st.sets = append(st.sets, assign{x.key, p.expr(x.v, join(kf, x.key)), posOf(p.resolve(x.v))})
			}
		}
		if len(pairs) == 0 {
			p.errorf(p.resolve(v), kf, "sets nothing")
		}
	case kIf:
		st.value = p.expr(v, kf)
		if t, ok := sub["then"]; ok {
			st.then = p.steps(t.v, join(field, "then"), depth+1)
		} else {
			p.errorf(n, join(field, "then"), "missing: the steps run when the condition holds")
		}
		if e, ok := sub["else"]; ok {
			st.els = p.steps(e.v, join(field, "else"), depth+1)
		}
	case kSwitch:
		st.value = p.expr(v, kf)
		c, ok := sub["cases"]
		if !ok {
			p.errorf(n, join(field, "cases"), "missing: the steps for each value (cases: {get: [...], checkout: [...]})")
			break
		}
		cases, _ := p.mapping(c.v, join(field, "cases"), nil)
		if len(cases) == 0 {
			p.errorf(p.resolve(c.v), join(field, "cases"), "no case")
		}
		for _, x := range cases {
			st.cases = append(st.cases, branchCase{x.key, p.steps(x.v, join(field, "cases")+"."+x.key, depth+1)})
		}
		if d, ok := sub["default"]; ok {
			st.hasDef = true
			st.def = p.steps(d.v, join(field, "default"), depth+1)
		}
	case kParallel:
		st.branches = p.steps(v, kf, depth+1)
		if len(st.branches) == 0 && p.resolve(v).Kind == yaml.SequenceNode {
			p.errorf(p.resolve(v), kf, "no branch")
		}
	case kDo:
		st.then = p.steps(v, kf, depth+1)
	case kWait:
		p.errorf(n, kf, "write wait as a step of its own: - wait")
	case kLog, kFail, kReturn:
		st.value = p.expr(v, kf)
	}
	if c, ok := sub["count"]; ok {
		r := p.resolve(c.v)
		if r.Kind == yaml.ScalarNode && r.ShortTag() == "!!null" {
			p.errorf(r, join(field, "count"), "a fan-out needs its size: a number, $event.field, ${len(items)}, ...")
		} else {
			st.count = p.figureExpr(c.v, join(field, "count"), "concurrent copies", true)
		}
	}
	if s, ok := sub["start"]; ok {
		st.start, _ = p.boolean(s.v, join(field, "start"))
	}
	if a, ok := sub["as"]; ok {
		if name, ok := p.name(a.v, join(field, "as")); ok && p.varName(a.v, join(field, "as")) {
			st.as = name
		}
	}
	return st
}

// reserved names cannot be variables.
var reserved = []string{"event", "index", "true", "false", "null", "undefined"}

var varPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (p *reader) varName(n *yaml.Node, field string) bool {
	n = p.resolve(n)
	switch {
	case !varPattern.MatchString(n.Value):
		p.errorf(n, field, "%q is not a variable name (letters, digits, _; not starting with a digit)", n.Value)
	case slices.Contains(reserved, n.Value):
		p.errorf(n, field, "%q is reserved (%s)", n.Value, strings.Join(reserved, ", "))
	default:
		return true
	}
	return false
}

// num formats a figure for listings.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
