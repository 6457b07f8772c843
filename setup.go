package fusionsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// Strategies of a rule.
const (
	Local  = "local"
	Remote = "remote"
)

// Rule says how one call type (sync or async) to one task runs inside one
// function: in-process (Local) or through the route URL of another function
// (Remote). The prototype also kept a URL on local rules; it is preserved.
type Rule struct {
	Strategy string `json:"strategy"`
	URL      string `json:"url,omitempty"`
}

// IsLocal reports whether the call runs in-process.
func (r Rule) IsLocal() bool { return r.Strategy == Local }

// Route parses the rule's URL.
func (r Rule) Route() (Route, error) { return ParseRoute(r.URL) }

// RulePair holds the rules of both call types for one (entry task, called task).
type RulePair struct {
	Async Rule `json:"async"`
	Sync  Rule `json:"sync"`
}

// For returns the rule of the given call type.
func (p RulePair) For(sync bool) Rule {
	if sync {
		return p.Sync
	}
	return p.Async
}

// Rules is a rule table keyed by the entry task of the calling function, then by
// the called task: Rules["CS"]["CSL"].Sync is how a sync call to CSL runs inside
// the function whose entry task is CS.
type Rules map[string]map[string]RulePair

// Setup is one fusion setup: a rule table and the name stamped into every trace
// id of a request served under it.
type Setup struct {
	Rules     Rules     `json:"rules"`
	TraceName TraceName `json:"traceName"`
}

// Name returns the trace name as a string.
func (s *Setup) Name() string { return s.TraceName.Name }

// Rule returns the rule for a call of called, of the given type, made inside
// the function whose entry task is entry.
func (s *Setup) Rule(entry, called string, sync bool) (Rule, bool) {
	m, ok := s.Rules[entry]
	if !ok {
		return Rule{}, false
	}
	p, ok := m[called]
	if !ok {
		return Rule{}, false
	}
	return p.For(sync), true
}

// Clone returns a deep copy with a new trace name.
func (s *Setup) Clone(name TraceName) *Setup {
	c := &Setup{Rules: make(Rules, len(s.Rules)), TraceName: name}
	for e, m := range s.Rules {
		cm := make(map[string]RulePair, len(m))
		for t, p := range m {
			cm[t] = p
		}
		c.Rules[e] = cm
	}
	return c
}

// Validate checks every rule: strategy local or remote, remote rules with a
// parseable URL of the right call type naming the called task.
func (s *Setup) Validate() error {
	if err := ValidateSetupName(s.TraceName.Name); err != nil {
		return fmt.Errorf("traceName: %w", err)
	}
	if s.TraceName.Numeric && !IsNumericName(s.TraceName.Name) {
		return fmt.Errorf("traceName: %s is a JSON number but not a non-negative integer without leading zeros", s.TraceName.Name)
	}
	for _, e := range sortedKeys(s.Rules) {
		if err := ValidateTaskName(e); err != nil {
			return fmt.Errorf("rules[%q]: %w", e, err)
		}
		for _, t := range sortedKeys(s.Rules[e]) {
			p := s.Rules[e][t]
			for _, sync := range []bool{true, false} {
				if err := validateRule(p.For(sync), t, sync); err != nil {
					return fmt.Errorf("rules[%q][%q].%s: %w", e, t, callType(sync), err)
				}
			}
		}
	}
	return nil
}

func validateRule(r Rule, called string, sync bool) error {
	switch r.Strategy {
	case Local:
		return nil
	case Remote:
	default:
		return fmt.Errorf("strategy %q is neither %q nor %q", r.Strategy, Local, Remote)
	}
	if r.URL == "" {
		return fmt.Errorf("remote rule without url")
	}
	rt, err := r.Route()
	if err != nil {
		return err
	}
	if rt.Sync != sync {
		return fmt.Errorf("url %q is a %s route on a %s rule", r.URL, callType(rt.Sync), callType(sync))
	}
	if rt.Task != called {
		return fmt.Errorf("url %q reaches task %q, not %q", r.URL, rt.Task, called)
	}
	return nil
}

func callType(sync bool) string {
	if sync {
		return "sync"
	}
	return "async"
}

// TraceName is a setup's name. The prototype's optimizer wrote it as a JSON
// number (the Unix time of the setup's creation); hand-written setups use
// strings. Both round-trip unchanged: a string stays a string ("007",
// "1675344670" in quotes), a number a number.
type TraceName struct {
	Name    string
	Numeric bool // written as a JSON number
}

// NewTraceName makes a trace name for a name that comes without a JSON type
// (a map key, the group syntax, a clock): canonical integers
// (IsNumericName) are numeric, as the prototype's optimizer wrote them;
// anything else, "007" included, is a string.
func NewTraceName(name string) TraceName {
	return TraceName{Name: name, Numeric: IsNumericName(name)}
}

func (n TraceName) String() string { return n.Name }

// MarshalJSON writes a number or a string. A numeric name that is not a
// non-negative integer (IsNumericName) is an error: written verbatim it
// could be invalid JSON.
func (n TraceName) MarshalJSON() ([]byte, error) {
	if n.Numeric {
		if !IsNumericName(n.Name) {
			return nil, fmt.Errorf("traceName %q: a numeric name must be a non-negative integer without leading zeros", n.Name)
		}
		return []byte(n.Name), nil
	}
	return json.Marshal(n.Name)
}

// UnmarshalJSON accepts a JSON number (kept verbatim) or a string.
func (n *TraceName) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		n.Numeric = false
		return json.Unmarshal(b, &n.Name)
	}
	var num json.Number
	if err := json.Unmarshal(b, &num); err != nil {
		return fmt.Errorf("traceName: %s is neither a string nor a number", b)
	}
	n.Name, n.Numeric = num.String(), true
	return nil
}

// Configs is the configuration metadata of the prototype
// (configuration/configurationMetadata.json): every setup by name.
type Configs map[string]*Setup

// ErrNoSetups is returned when configuration metadata holds no setup.
var ErrNoSetups = errors.New("configuration metadata holds no setup")

// ParseConfigs decodes and validates configuration metadata. Errors name the
// setup and the field. Every key must be a setup name (ValidateSetupName)
// and equal its setup's traceName; a setup without traceName takes its key
// (NewTraceName).
func ParseConfigs(data []byte) (Configs, error) {
	var c Configs
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("configuration metadata: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("configuration metadata: trailing data after the JSON object")
	}
	if len(c) == 0 {
		return nil, ErrNoSetups
	}
	for _, name := range c.Names() {
		s := c[name]
		if err := ValidateSetupName(name); err != nil {
			return nil, fmt.Errorf("setup %q: %w", name, err)
		}
		if s == nil {
			return nil, fmt.Errorf("setup %q: null", name)
		}
		if s.TraceName.Name == "" {
			// The prototype always wrote traceName; accept files that omit it.
			s.TraceName = NewTraceName(name)
		}
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("setup %q: %w", name, err)
		}
		if s.TraceName.Name != name {
			return nil, fmt.Errorf("setup %q: traceName %q differs from the setup's key", name, s.TraceName.Name)
		}
	}
	return c, nil
}

// Marshal writes compact JSON with sorted keys, the form of most of the
// prototype's files.
func (c Configs) Marshal() ([]byte, error) { return json.Marshal(map[string]*Setup(c)) }

// MarshalIndent writes JSON indented by four spaces, the other form the
// prototype wrote (its split optimizer run).
func (c Configs) MarshalIndent() ([]byte, error) {
	return json.MarshalIndent(map[string]*Setup(c), "", "    ")
}

// Names returns the setup names in the order the prototype created them:
// numeric names (Unix times) by value, then the others lexicographically.
func (c Configs) Names() []string {
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	SortSetupNames(names)
	return names
}

// Latest is the name of the most recently created setup (the last of Names).
func (c Configs) Latest() string {
	n := c.Names()
	if len(n) == 0 {
		return ""
	}
	return n[len(n)-1]
}

// SortSetupNames sorts numeric names (IsNumericName) by value before the
// others, which sort lexicographically.
func SortSetupNames(names []string) {
	sort.SliceStable(names, func(i, j int) bool {
		a, b := IsNumericName(names[i]), IsNumericName(names[j])
		switch {
		case a && b:
			return compareNumericNames(names[i], names[j]) < 0
		case a:
			return true
		case b:
			return false
		}
		return names[i] < names[j]
	})
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
