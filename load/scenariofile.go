package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The load file format (YAML; JSON is YAML too): one mapping, the same as
// the load: section of an application file.
//
//	name: webshop                  # optional description
//	executor: constant-arrival-rate
//	rate_per_s: 3                  # iterations started per second
//	duration_s: 111
//	max_vus: 200
//	pre_allocated_vus: 200         # optional, default max_vus
//	setup:                         # optional, sent once, in order
//	  - entry: addcartitem
//	    repeat: 5
//	    body: {userId: 1, itemId: {$pick: ["1", "2"]}}
//	iteration:                     # sent in order by one virtual user
//	  - kind: addcartitem          # default: the entry task
//	    entry: addcartitem
//	    sync: true                 # default true
//	    body: {userId: {$user: int}, quantity: {$int: [1, 20]}}
//	  - kind: get
//	    entry: frontend
//	    pause_s: 0                 # after the previous response
//	    body: {operation: get, userId: {$user: int}}
//
// A ramping-arrival-rate scenario has start_rate_per_s (default 0) and
// stages: [{target_per_s: 5, duration_s: 10}, ...] instead of rate_per_s and
// duration_s. Every figure carries its unit in its name; unknown fields,
// duplicate keys and figures of the wrong type are errors that name the
// file, the line and the field.

// maxTemplateNodes bounds the nodes of a scenario, aliases expanded, so that
// a small file of nested aliases cannot make a huge template.
const maxTemplateNodes = 100_000

// ReadScenarioFile reads a load file (YAML or JSON).
func ReadScenarioFile(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadScenario(f, path)
}

// maxScenarioBytes bounds a load file.
const maxScenarioBytes = 16 << 20

// ReadScenario reads a load file from r; file names it in errors.
func ReadScenario(r io.Reader, file string) (*Scenario, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxScenarioBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(data) > maxScenarioBytes {
		return nil, fmt.Errorf("%w: %s: larger than %d MiB", ErrBadLoad, file, maxScenarioBytes>>20)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %s: empty: a load file is a mapping with executor, max_vus, iteration, ...", ErrBadLoad, file)
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrBadLoad, file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%w: %s:%d: a second YAML document: a load file holds one", ErrBadLoad, file, extra.Line)
	} else if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadLoad, file, err)
	}
	return DecodeScenario(&doc, file)
}

// DecodeScenario decodes a scenario from node, a YAML mapping (or a document
// holding one): a load file, or the load: section of an application file
// (whose reader hands over the node with its line numbers). file names the
// file in errors, which have the form "<file>:<line>: <field>: <problem>"
// and wrap ErrBadLoad (a *DecodeError where a line is known). The scenario
// is validated (Validate); its entry tasks are checked against an
// application by CheckApp.
func DecodeScenario(node *yaml.Node, file string) (*Scenario, error) {
	return DecodeScenarioIn(node, file, "")
}

// DecodeScenarioIn is DecodeScenario for a scenario that is a field of a
// larger document (an application file's load:): errors name its fields
// under field ("load.duration_s").
func DecodeScenarioIn(node *yaml.Node, file, field string) (*Scenario, error) {
	d := &decoder{file: file, prefix: field}
	s, err := d.scenario(node)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// DecodeError is an error of a scenario's YAML: the file, the line and
// column of the bad value (0 when unknown), the field and what is wrong.
type DecodeError struct {
	File         string
	Line, Column int
	Field, Msg   string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%v: %s:%d: %s: %s", ErrBadLoad, e.File, e.Line, e.Field, e.Msg)
}

// Unwrap makes errors.Is(err, ErrBadLoad) true.
func (e *DecodeError) Unwrap() error { return ErrBadLoad }

type decoder struct {
	file   string
	prefix string // the scenario's field in a larger document, "" for a load file
	nodes  int    // nodes visited, aliases expanded
}

func (d *decoder) errf(n *yaml.Node, field, format string, args ...any) error {
	e := &DecodeError{File: d.file, Field: join(d.prefix, field), Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// resolve follows aliases and counts the node.
func (d *decoder) resolve(n *yaml.Node, field string) (*yaml.Node, error) {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if depth > 100 || n.Alias == nil {
			return nil, d.errf(n, field, "alias too deep")
		}
		n = n.Alias
	}
	if n == nil {
		return nil, d.errf(nil, field, "missing")
	}
	if d.nodes++; d.nodes > maxTemplateNodes {
		return nil, d.errf(n, field, "more than %d values (aliases expanded)", maxTemplateNodes)
	}
	return n, nil
}

// field is one key of a mapping with its value.
type field struct {
	key   string
	value *yaml.Node
	line  int
}

// mapping returns the key/value pairs of a mapping node, in order; keys
// must be strings, unique and (when allowed is not nil) among allowed.
func (d *decoder) mapping(n *yaml.Node, name string, allowed []string) ([]field, error) {
	n, err := d.resolve(n, name)
	if err != nil {
		return nil, err
	}
	if n.Kind != yaml.MappingNode {
		return nil, d.errf(n, name, "want a mapping, got %s", describeNode(n))
	}
	var out []field
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, err := d.resolve(n.Content[i], name)
		if err != nil {
			return nil, err
		}
		if k.Kind != yaml.ScalarNode || (k.ShortTag() != "!!str" && k.ShortTag() != "!!int" && k.ShortTag() != "!!bool" && k.ShortTag() != "!!float") {
			return nil, d.errf(k, name, "a key must be a string, got %s", describeNode(k))
		}
		key := k.Value
		if prev, dup := seen[key]; dup {
			return nil, d.errf(k, join(name, key), "duplicate key (first on line %d)", prev)
		}
		seen[key] = k.Line
		if allowed != nil && !slices.Contains(allowed, key) {
			return nil, d.errf(k, join(name, key), "unknown field (known: %s)", strings.Join(allowed, ", "))
		}
		out = append(out, field{key, n.Content[i+1], k.Line})
	}
	return out, nil
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.DocumentNode:
		return "a document"
	}
	if n.ShortTag() == "!!null" {
		return "nothing (null)"
	}
	return strconv.Quote(n.Value)
}

// number reads a finite number (an int or a float, not a string).
func (d *decoder) number(n *yaml.Node, name string) (float64, error) {
	n, err := d.resolve(n, name)
	if err != nil {
		return 0, err
	}
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") {
		hint := ""
		if n.Kind == yaml.ScalarNode && tag == "!!str" {
			hint = " (the unit is in the field's name: write the bare number)"
		}
		return 0, d.errf(n, name, "%s is not a number%s", describeNode(n), hint)
	}
	var v float64
	if err := n.Decode(&v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, d.errf(n, name, "%q is not a finite number", n.Value)
	}
	return v, nil
}

// integer reads an integer.
func (d *decoder) integer(n *yaml.Node, name string) (int, error) {
	n, err := d.resolve(n, name)
	if err != nil {
		return 0, err
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		return 0, d.errf(n, name, "%s is not an integer", describeNode(n))
	}
	var v int64
	if err := n.Decode(&v); err != nil || v > math.MaxInt32 || v < math.MinInt32 {
		return 0, d.errf(n, name, "%s is not an integer of at most 10 digits", n.Value)
	}
	return int(v), nil
}

func (d *decoder) str(n *yaml.Node, name string) (string, error) {
	n, err := d.resolve(n, name)
	if err != nil {
		return "", err
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return "", d.errf(n, name, "%s is not a string", describeNode(n))
	}
	return n.Value, nil
}

func (d *decoder) boolean(n *yaml.Node, name string) (bool, error) {
	n, err := d.resolve(n, name)
	if err != nil {
		return false, err
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return false, d.errf(n, name, "%s is not true or false", describeNode(n))
	}
	var v bool
	if err := n.Decode(&v); err != nil {
		return false, d.errf(n, name, "%s is not true or false", n.Value)
	}
	return v, nil
}

// seconds reads a figure in seconds (a field named *_s) as a duration.
func (d *decoder) seconds(n *yaml.Node, name string) (time.Duration, error) {
	v, err := d.number(n, name)
	if err != nil {
		return 0, err
	}
	if v < 0 || v > maxOffset.Seconds() {
		return 0, d.errf(n, name, "%v s must be 0..%.0f", v, maxOffset.Seconds())
	}
	return time.Duration(math.Round(v * 1e9)), nil
}

func (d *decoder) list(n *yaml.Node, name string) ([]*yaml.Node, error) {
	n, err := d.resolve(n, name)
	if err != nil {
		return nil, err
	}
	if n.Kind != yaml.SequenceNode {
		return nil, d.errf(n, name, "want a list, got %s", describeNode(n))
	}
	return n.Content, nil
}

var scenarioFields = []string{"name", "executor", "rate_per_s", "duration_s", "start_rate_per_s", "stages", "max_vus", "pre_allocated_vus", "setup", "iteration"}

func (d *decoder) scenario(n *yaml.Node) (*Scenario, error) {
	if n == nil {
		return nil, d.errf(nil, "load", "no scenario")
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) != 1 {
			return nil, d.errf(n, "load", "empty document")
		}
		n = n.Content[0]
	}
	fields, err := d.mapping(n, "", scenarioFields)
	if err != nil {
		return nil, err
	}
	s := &Scenario{File: d.file, PreAllocatedVUs: -1}
	byName := map[string]field{}
	for _, f := range fields {
		byName[f.key] = f
	}
	for _, req := range []string{"executor", "max_vus", "iteration"} {
		if _, ok := byName[req]; !ok {
			return nil, d.errf(n, req, "missing (a scenario needs executor, max_vus and iteration)")
		}
	}
	for _, f := range fields {
		var err error
		switch f.key {
		case "name":
			s.Name, err = d.str(f.value, f.key)
		case "executor":
			s.Executor, err = d.str(f.value, f.key)
			if err == nil && s.Executor != ExecutorConstant && s.Executor != ExecutorRamping {
				err = d.errf(f.value, f.key, "%q is neither %s nor %s", s.Executor, ExecutorConstant, ExecutorRamping)
			}
		case "rate_per_s":
			s.RatePerS, err = d.number(f.value, f.key)
		case "duration_s":
			s.Duration, err = d.seconds(f.value, f.key)
		case "start_rate_per_s":
			s.StartRatePerS, err = d.number(f.value, f.key)
		case "stages":
			s.Stages, err = d.stages(f.value)
		case "max_vus":
			s.MaxVUs, err = d.integer(f.value, f.key)
		case "pre_allocated_vus":
			s.PreAllocatedVUs, err = d.integer(f.value, f.key)
			if err == nil && s.PreAllocatedVUs < 0 {
				err = d.errf(f.value, f.key, "%d must be >= 0", s.PreAllocatedVUs)
			}
		case "setup":
			s.Setup, err = d.requests(f.value, f.key, true)
		case "iteration":
			s.Iteration, err = d.requests(f.value, f.key, false)
		}
		if err != nil {
			return nil, err
		}
	}
	// The executor's own fields.
	want, other := []string{"rate_per_s", "duration_s"}, []string{"start_rate_per_s", "stages"}
	if s.Executor == ExecutorRamping {
		want, other = []string{"stages"}, []string{"rate_per_s", "duration_s"}
	}
	for _, k := range other {
		if f, ok := byName[k]; ok {
			return nil, d.errf(f.value, k, "does not apply to executor %s (it takes %s)", s.Executor, strings.Join(want, " and "))
		}
	}
	for _, k := range want {
		if _, ok := byName[k]; !ok {
			return nil, d.errf(byName["executor"].value, k, "missing: executor %s needs %s", s.Executor, strings.Join(want, " and "))
		}
	}
	if err := s.Validate(); err != nil {
		// Name the line of the field Validate names.
		var fe *fieldError
		if errors.As(err, &fe) && fe.line > 0 {
			return nil, &DecodeError{File: d.file, Line: fe.line, Field: join(d.prefix, fe.field), Msg: fe.msg}
		}
		if errors.As(err, &fe) {
			top, _, _ := strings.Cut(fe.field, ".")
			top, _, _ = strings.Cut(top, "[")
			if f, ok := byName[top]; ok {
				return nil, d.errf(f.value, fe.field, "%s", fe.msg)
			}
		}
		return nil, err
	}
	return s, nil
}

func (d *decoder) stages(n *yaml.Node) ([]Stage, error) {
	items, err := d.list(n, "stages")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, d.errf(n, "stages", "empty: at least one {target_per_s, duration_s}")
	}
	out := make([]Stage, len(items))
	for i, it := range items {
		name := fmt.Sprintf("stages[%d]", i)
		fields, err := d.mapping(it, name, []string{"target_per_s", "duration_s"})
		if err != nil {
			return nil, err
		}
		if len(fields) != 2 {
			return nil, d.errf(it, name, "want target_per_s and duration_s")
		}
		for _, f := range fields {
			if f.key == "target_per_s" {
				out[i].TargetPerS, err = d.number(f.value, join(name, f.key))
			} else {
				out[i].Duration, err = d.seconds(f.value, join(name, f.key))
				if err == nil && out[i].Duration <= 0 {
					err = d.errf(f.value, join(name, f.key), "must be > 0")
				}
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

var requestFields = []string{"kind", "entry", "sync", "pause_s", "repeat", "body"}

func (d *decoder) requests(n *yaml.Node, part string, setup bool) ([]Request, error) {
	items, err := d.list(n, part)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 && !setup {
		return nil, d.errf(n, part, "empty: an iteration needs at least one request")
	}
	out := make([]Request, len(items))
	for i, it := range items {
		name := fmt.Sprintf("%s[%d]", part, i)
		fields, err := d.mapping(it, name, requestFields)
		if err != nil {
			return nil, err
		}
		r := Request{Sync: true, Repeat: 1, Line: it.Line}
		haveEntry := false
		for _, f := range fields {
			fname := join(name, f.key)
			switch f.key {
			case "kind":
				r.Kind, err = d.str(f.value, fname)
				if err == nil {
					if e := ValidateKind(r.Kind); e != nil {
						err = d.errf(f.value, fname, "%v", e)
					}
				}
			case "entry":
				haveEntry = true
				r.Entry, err = d.str(f.value, fname)
			case "sync":
				r.Sync, err = d.boolean(f.value, fname)
			case "pause_s":
				r.Pause, err = d.seconds(f.value, fname)
				if err == nil && !setup && i == 0 && r.Pause != 0 {
					err = d.errf(f.value, fname, "the first request of an iteration is sent when the iteration starts; pause_s applies to the requests after it")
				}
			case "repeat":
				r.Repeat, err = d.integer(f.value, fname)
				if err == nil && (r.Repeat < 1 || r.Repeat > maxRepeat) {
					err = d.errf(f.value, fname, "%d must be 1..%d", r.Repeat, maxRepeat)
				}
			case "body":
				r.Body, err = d.template(f.value, fname, setup)
				if err == nil && r.Body.op != opObject {
					err = d.errf(f.value, fname, "a request body is a mapping (a JSON object)")
				}
			}
			if err != nil {
				return nil, err
			}
		}
		if !haveEntry {
			return nil, d.errf(it, join(name, "entry"), "missing: the entry task the request goes to")
		}
		if r.Kind == "" {
			r.Kind = r.Entry
			if e := ValidateKind(r.Kind); e != nil {
				return nil, d.errf(it, join(name, "kind"), "the default kind (the entry task): %v", e)
			}
		}
		out[i] = r
	}
	return out, nil
}

// template reads a body template: constants, and the directives of
// Template.
func (d *decoder) template(n *yaml.Node, name string, setup bool) (*Template, error) {
	n, err := d.resolve(n, name)
	if err != nil {
		return nil, err
	}
	switch n.Kind {
	case yaml.MappingNode:
		fields, err := d.mapping(n, name, nil)
		if err != nil {
			return nil, err
		}
		if len(fields) == 1 && strings.HasPrefix(fields[0].key, "$") {
			return d.directive(fields[0], name, setup)
		}
		t := &Template{op: opObject}
		for _, f := range fields {
			if strings.HasPrefix(f.key, "$") {
				return nil, d.errf(f.value, join(name, f.key), "a directive ($pick, $int, $user, $iteration) is the only key of its mapping")
			}
			e, err := d.template(f.value, join(name, f.key), setup)
			if err != nil {
				return nil, err
			}
			t.keys = append(t.keys, f.key)
			t.elems = append(t.elems, e)
		}
		return t, nil
	case yaml.SequenceNode:
		t := &Template{op: opList}
		for i, it := range n.Content {
			e, err := d.template(it, fmt.Sprintf("%s[%d]", name, i), setup)
			if err != nil {
				return nil, err
			}
			t.elems = append(t.elems, e)
		}
		return t, nil
	case yaml.ScalarNode:
		var v any
		switch n.ShortTag() {
		case "!!null":
		case "!!bool", "!!str":
			if err := n.Decode(&v); err != nil {
				return nil, d.errf(n, name, "%v", err)
			}
		case "!!int":
			var i int64
			if err := n.Decode(&i); err != nil {
				return nil, d.errf(n, name, "%s is not an integer of 64 bits", n.Value)
			}
			v = int(i)
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, d.errf(n, name, "%s is not a finite number (JSON has no other)", n.Value)
			}
			v = f
		default:
			return nil, d.errf(n, name, "a value of type %s has no JSON form", n.ShortTag())
		}
		return &Template{op: opLiteral, lit: v}, nil
	}
	return nil, d.errf(n, name, "unexpected %s", describeNode(n))
}

func (d *decoder) directive(f field, parent string, setup bool) (*Template, error) {
	name := join(parent, f.key)
	switch f.key {
	case dirPick:
		items, err := d.list(f.value, name)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return nil, d.errf(f.value, name, "nothing to pick from: an empty list")
		}
		t := &Template{op: opPick}
		for i, it := range items {
			e, err := d.template(it, fmt.Sprintf("%s[%d]", name, i), setup)
			if err != nil {
				return nil, err
			}
			t.elems = append(t.elems, e)
		}
		return t, nil
	case dirInt:
		items, err := d.list(f.value, name)
		if err != nil {
			return nil, err
		}
		if len(items) != 2 {
			return nil, d.errf(f.value, name, "want [min, max], two integers")
		}
		var b [2]int64
		for i, it := range items {
			it, err := d.resolve(it, name)
			if err != nil {
				return nil, err
			}
			if it.Kind != yaml.ScalarNode || it.ShortTag() != "!!int" || it.Decode(&b[i]) != nil || b[i] > maxSafeInt || b[i] < -maxSafeInt {
				return nil, d.errf(it, fmt.Sprintf("%s[%d]", name, i), "%s is not an integer within +-2^53", describeNode(it))
			}
		}
		if b[0] > b[1] {
			return nil, d.errf(f.value, name, "min %d > max %d", b[0], b[1])
		}
		return &Template{op: opInt, min: b[0], max: b[1]}, nil
	case dirUser, dirIteration:
		typ, err := d.str(f.value, name)
		if err != nil || (typ != "int" && typ != "string") {
			return nil, d.errf(f.value, name, "want int or string (the form of the number)")
		}
		if f.key == dirIteration && setup {
			return nil, d.errf(f.value, name, "the setup phase has no iteration number")
		}
		op := opUser
		if f.key == dirIteration {
			op = opIteration
		}
		return &Template{op: op, asString: typ == "string"}, nil
	}
	return nil, d.errf(f.value, name, "unknown directive (known: %s, %s, %s, %s)", dirPick, dirInt, dirUser, dirIteration)
}

// MarshalJSON writes the scenario in the load file's form (JSON is YAML, so
// ReadScenario reads it back): the results' manifest keeps it.
func (s *Scenario) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	put := func(key string, v any) error {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(strconv.Quote(key) + ":")
		vb, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(vb)
		return nil
	}
	secs := func(d time.Duration) float64 { return d.Seconds() }
	if s.Name != "" {
		put("name", s.Name)
	}
	put("executor", s.Executor)
	if s.Executor == ExecutorConstant {
		put("rate_per_s", s.RatePerS)
		put("duration_s", secs(s.Duration))
	} else {
		put("start_rate_per_s", s.StartRatePerS)
		st := make([]map[string]float64, len(s.Stages))
		for i, x := range s.Stages {
			st[i] = map[string]float64{"target_per_s": x.TargetPerS, "duration_s": secs(x.Duration)}
		}
		put("stages", st)
	}
	put("max_vus", s.MaxVUs)
	if s.PreAllocatedVUs >= 0 {
		put("pre_allocated_vus", s.PreAllocatedVUs)
	}
	for _, part := range []struct {
		name string
		rs   []Request
	}{{"setup", s.Setup}, {"iteration", s.Iteration}} {
		if len(part.rs) == 0 && part.name == "setup" {
			continue
		}
		var rs []json.RawMessage
		for _, r := range part.rs {
			var rb bytes.Buffer
			fmt.Fprintf(&rb, `{"kind":%s,"entry":%s,"sync":%v`, strconv.Quote(r.Kind), strconv.Quote(r.Entry), r.Sync)
			if r.Pause != 0 {
				fmt.Fprintf(&rb, `,"pause_s":%s`, strconv.FormatFloat(secs(r.Pause), 'g', -1, 64))
			}
			if r.Repeat != 1 {
				fmt.Fprintf(&rb, `,"repeat":%d`, r.Repeat)
			}
			if r.Body != nil {
				body, err := r.Body.MarshalJSON()
				if err != nil {
					return nil, err
				}
				rb.WriteString(`,"body":`)
				rb.Write(body)
			}
			rb.WriteByte('}')
			rs = append(rs, rb.Bytes())
		}
		if err := put(part.name, rs); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
