package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/optimizer"
)

// Spaces of setups.
const (
	SpacePartitions = "partitions"
	SpaceRules      = "rules"
	SpaceMemory     = "memory"
	SpaceFile       = "file"
)

// SpecVersion versions the meaning of a Spec (its enumeration); it is part
// of the hash.
const SpecVersion = 1

// MaxCells bounds a sweep.
const MaxCells = 20_000_000

// ErrSpec marks an invalid sweep specification.
var ErrSpec = errors.New("invalid sweep")

// Spec is a sweep: everything that defines its cells and their figures.
// It is written into every results directory of the sweep, and its hash
// names the sweep.
type Spec struct {
	// Workload names the application.
	Workload string `json:"workload"`
	// App is a fingerprint of the application's call graph (AppFingerprint),
	// checked when the sweep is rebuilt from a manifest.
	App string `json:"app"`
	// AppFile is the application file of a sweep of one (--app), as it was
	// given, and AppDigest the SHA-256 of its bytes (hex): the file is read
	// again to rebuild the sweep, and must not have changed. Both are empty
	// for an application named by Workload alone.
	AppFile   string `json:"appFile,omitempty"`
	AppDigest string `json:"appDigest,omitempty"`
	// Space is one of SpacePartitions, SpaceRules, SpaceMemory, SpaceFile.
	Space string `json:"space"`
	// Connected restricts partitions to groups connected with a single root.
	Connected bool `json:"connected,omitempty"`
	// Source names where the setups of a file space came from (the file's
	// name); Setups are the setups of the memory and file spaces, in order.
	Source string             `json:"source,omitempty"`
	Setups []*fusionsim.Setup `json:"setups,omitempty"`
	// MemorySizesMB are the memory sizes each setup is run at (one size for
	// all its functions, or every combination with PerFunctionMemory); nil:
	// the setups as they are (partitions and rules at the default size).
	MemorySizesMB     []int `json:"memorySizesMB,omitempty"`
	PerFunctionMemory bool  `json:"perFunctionMemory,omitempty"`
	// Seeds are the base seeds (SeedFor derives each cell's).
	Seeds []uint64 `json:"seeds"`
	// Loads and Profiles are the loads and platform profiles.
	Loads    []Load    `json:"loads"`
	Profiles []Profile `json:"profiles"`
}

// Load is one load of a sweep.
type Load struct {
	// Name labels the load in summaries.
	Name string    `json:"name"`
	Spec load.Spec `json:"spec"`
	// ReplayDigest is the SHA-256 of a replay load's file.
	ReplayDigest string `json:"replayDigest,omitempty"`
}

// Profile is one platform profile of a sweep.
type Profile struct {
	// Name labels the profile in summaries ("default" for the embedded one).
	Name    string        `json:"name"`
	Profile model.Profile `json:"profile"`
}

// Hash names the sweep: the SHA-256 of its canonical JSON with SpecVersion.
func (s *Spec) Hash() string {
	b, err := json.Marshal(struct {
		Version int   `json:"version"`
		Spec    *Spec `json:"spec"`
	}{SpecVersion, s})
	if err != nil {
		panic(err) // a Spec always marshals
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// AppFingerprint describes an application's call graph: entry, tasks and
// edges.
func AppFingerprint(app *fusionsim.App) string {
	var b strings.Builder
	b.WriteString(app.Name + " entry " + app.Entry)
	if len(app.EntryTasks()) > 1 {
		b.WriteString(" entries " + strings.Join(app.EntryTasks(), " "))
	}
	b.WriteString(" tasks " + strings.Join(app.TaskNames(), " ") + " edges")
	for _, e := range app.Edges {
		b.WriteString(" " + e.String())
	}
	h := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(h[:8])
}

// Validate checks the spec against app. Errors name the field.
func (s *Spec) Validate(app *fusionsim.App) error {
	if app == nil {
		return fmt.Errorf("%w: no application", ErrSpec)
	}
	if s.App != AppFingerprint(app) {
		return fmt.Errorf("%w: the sweep was made for another version of %s (call graph %s, this one %s)", ErrSpec, s.Workload, s.App, AppFingerprint(app))
	}
	switch s.Space {
	case SpacePartitions, SpaceRules:
		if len(s.Setups) > 0 {
			return fmt.Errorf("%w: space %s enumerates its setups; none can be given", ErrSpec, s.Space)
		}
	case SpaceMemory, SpaceFile:
		if len(s.Setups) == 0 {
			return fmt.Errorf("%w: space %s: no setup", ErrSpec, s.Space)
		}
		seen := map[string]bool{}
		for i, su := range s.Setups {
			if su == nil {
				return fmt.Errorf("%w: setups[%d]: null", ErrSpec, i)
			}
			if err := app.CheckSetup(su); err != nil {
				return fmt.Errorf("%w: setups[%d] %q: %v", ErrSpec, i, su.Name(), err)
			}
			if seen[su.Name()] {
				return fmt.Errorf("%w: setups[%d]: setup %q appears twice", ErrSpec, i, su.Name())
			}
			seen[su.Name()] = true
		}
	default:
		return fmt.Errorf("%w: space %q: not one of %s, %s, %s, %s", ErrSpec, s.Space, SpacePartitions, SpaceRules, SpaceMemory, SpaceFile)
	}
	if s.Connected && s.Space != SpacePartitions {
		return fmt.Errorf("%w: connected applies to space partitions only", ErrSpec)
	}
	if s.MemorySizesMB != nil {
		if _, err := optimizer.ParseSizes(joinInts(s.MemorySizesMB)); err != nil {
			return fmt.Errorf("%w: memory sizes: %v", ErrSpec, err)
		}
	} else if s.PerFunctionMemory {
		return fmt.Errorf("%w: per-function memory needs memory sizes", ErrSpec)
	}
	if len(s.Seeds) == 0 {
		return fmt.Errorf("%w: no seed", ErrSpec)
	}
	if dup := firstDup(s.Seeds); dup >= 0 {
		return fmt.Errorf("%w: seed %d listed twice", ErrSpec, s.Seeds[dup])
	}
	if len(s.Loads) == 0 || len(s.Profiles) == 0 {
		return fmt.Errorf("%w: %d loads and %d profiles: at least one of each", ErrSpec, len(s.Loads), len(s.Profiles))
	}
	names := map[string]bool{}
	for i, l := range s.Loads {
		if l.Name == "" || names[l.Name] {
			return fmt.Errorf("%w: loads[%d]: name %q empty or used twice", ErrSpec, i, l.Name)
		}
		names[l.Name] = true
	}
	names = map[string]bool{}
	for i, p := range s.Profiles {
		if p.Name == "" || names[p.Name] {
			return fmt.Errorf("%w: profiles[%d]: name %q empty or used twice", ErrSpec, i, p.Name)
		}
		names[p.Name] = true
		if err := p.Profile.Validate(); err != nil {
			return fmt.Errorf("%w: profiles[%d] %s: %v", ErrSpec, i, p.Name, err)
		}
	}
	return nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func firstDup(xs []uint64) int {
	seen := map[uint64]bool{}
	for i, x := range xs {
		if seen[x] {
			return i
		}
		seen[x] = true
	}
	return -1
}

// ParseSeeds reads a list of seeds: numbers and inclusive ranges joined by
// commas, "1..5", "1,2,7", "1..3,10".
func ParseSeeds(s string) ([]uint64, error) {
	var out []uint64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "..")
		a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("seed %q: not a whole number >= 0", lo)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 64); err != nil {
				return nil, fmt.Errorf("seed %q: not a whole number >= 0", hi)
			}
			if b < a {
				return nil, fmt.Errorf("seed range %q: %d is below %d", part, b, a)
			}
			if b-a >= 100_000 {
				return nil, fmt.Errorf("seed range %q: more than 100,000 seeds", part)
			}
		}
		for v := a; ; v++ {
			out = append(out, v)
			if v == b {
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no seed in %q", s)
	}
	if i := firstDup(out); i >= 0 {
		return nil, fmt.Errorf("seed %d listed twice in %q", out[i], s)
	}
	return out, nil
}

// Cell is one cell of a sweep.
type Cell struct {
	// Index is the cell's position in the sweep.
	Index int
	// Setup labels the setup dimension: a partition in the IC2E notation
	// (groups joined by ",", tasks by "."), a rule setup's functions at the
	// default size, or a given setup's name.
	Setup string
	// Functions describes what the cell deploys (optimizer.Describe, with
	// the memory sizes).
	Functions string
	// Point numbers the (setup, memory) pairs: cells of one point differ
	// only in seed, load and profile.
	Point int
	// Seed, Load and Profile index Spec.Seeds, Spec.Loads, Spec.Profiles.
	Seed, Load, Profile int
	// key identifies the deployment: cells with equal keys and equal seed,
	// load and profile have the same figures.
	key   string
	setup func() *fusionsim.Setup
}

// Deployment builds the setup the cell deploys, named "cell<Index>".
func (c *Cell) Deployment() *fusionsim.Setup {
	s := c.setup()
	s.TraceName = fusionsim.NewTraceName("cell" + strconv.Itoa(c.Index))
	return s
}

// Key identifies what the cell deploys: cells with the same key deploy the
// same functions.
func (c *Cell) Key() string { return c.key }

// Plan is a sweep resolved against its application: its cells can be
// enumerated.
type Plan struct {
	Spec *Spec
	App  *fusionsim.App
	// Hash is Spec.Hash().
	Hash string
	// Setups counts the setup dimension (partitions, rule setups, setups);
	// Points the (setup, memory) pairs; Cells the cells.
	Setups, Points, Cells int
	// Assignments counts the local/remote assignments of the rules space.
	Assignments int
	rules       []*fusionsim.Setup // the rules space, enumerated once
}

// NewPlan validates spec against app and counts its cells.
func NewPlan(spec *Spec, app *fusionsim.App) (*Plan, error) {
	if err := spec.Validate(app); err != nil {
		return nil, err
	}
	p := &Plan{Spec: spec, App: app, Hash: spec.Hash()}
	if spec.Space == SpaceRules {
		rules, n, err := optimizer.RuleSetups(app)
		if err != nil {
			return nil, err
		}
		p.rules, p.Assignments = rules, n
	}
	if spec.Space == SpacePartitions && spec.PerFunctionMemory {
		// Bound the enumeration before counting it.
		n := len(optimizer.PartitionTasks(app))
		bound := new(big.Int).Mul(optimizer.Bell(n), new(big.Int).Exp(big.NewInt(int64(len(spec.MemorySizesMB))), big.NewInt(int64(n)), nil))
		if bound.Cmp(big.NewInt(MaxCells)) > 0 && n > 6 {
			return nil, fmt.Errorf("%w: every partition of %d tasks with each function at each of %d sizes is up to %s setups; at most %d cells", ErrSpec, n, len(spec.MemorySizesMB), bound, MaxCells)
		}
	}
	per := len(spec.Seeds) * len(spec.Loads) * len(spec.Profiles)
	var err error
	p.each(func(c *Cell) bool {
		if c.Point >= p.Points {
			p.Points = c.Point + 1
		}
		p.Cells = p.Points * per
		if p.Cells > MaxCells {
			err = fmt.Errorf("%w: more than %d cells", ErrSpec, MaxCells)
			return false
		}
		return true
	}, true)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// All enumerates the sweep's cells in order. The cell is reused between
// calls of yield: copy it to keep it.
func (p *Plan) All(yield func(*Cell) bool) { p.each(yield, false) }

// each enumerates the cells; with pointsOnly, one cell per point (seed, load
// and profile 0).
func (p *Plan) each(yield func(*Cell) bool, pointsOnly bool) {
	spec := p.Spec
	setupIdx, point := 0, 0
	cell := &Cell{}
	emit := func(label, fnDesc, key string, build func() *fusionsim.Setup) bool {
		for si := range spec.Seeds {
			for li := range spec.Loads {
				for pi := range spec.Profiles {
					*cell = Cell{Setup: label, Functions: fnDesc, Point: point, Seed: si, Load: li, Profile: pi, key: key, setup: build}
					cell.Index = ((point*len(spec.Seeds)+si)*len(spec.Loads)+li)*len(spec.Profiles) + pi
					if !yield(cell) {
						return false
					}
					if pointsOnly {
						return true
					}
				}
			}
		}
		return true
	}
	variants := func(label string, s *fusionsim.Setup) bool {
		vs := []*fusionsim.Setup{s}
		if spec.MemorySizesMB != nil {
			vs = optimizer.MemoryVariants(p.App, s, spec.MemorySizesMB, spec.PerFunctionMemory)
		}
		for _, v := range vs {
			v := v
			if !emit(label, optimizer.Describe(p.App, v), optimizer.DeploymentKey(v), func() *fusionsim.Setup { return v.Clone(v.TraceName) }) {
				return false
			}
			point++
		}
		return true
	}
	switch spec.Space {
	case SpacePartitions:
		seq, err := optimizer.AllPartitions(p.App)
		if err != nil {
			return
		}
		for part := range seq {
			if spec.Connected && !optimizer.Connected(p.App, part) {
				continue
			}
			label := part.String()
			fns := optimizer.PartitionFunctions(p.App, part)
			for _, v := range memoryOfFunctions(fns, spec.MemorySizesMB, spec.PerFunctionMemory) {
				d := optimizer.DescribeFunctions(v)
				if !emit(label, d, d, func() *fusionsim.Setup { return optimizer.FunctionsSetup(p.App, v, fusionsim.NewTraceName("x")) }) {
					return
				}
				point++
			}
			setupIdx++
		}
	case SpaceRules:
		for _, s := range p.rules {
			if !variants(optimizer.Describe(p.App, s), s) {
				return
			}
			setupIdx++
		}
	default:
		for _, s := range spec.Setups {
			if !variants(s.Name(), s) {
				return
			}
			setupIdx++
		}
	}
	p.Setups = setupIdx
}

// memoryOfFunctions returns fns at every memory assignment: unchanged
// without sizes, all at each size, or every combination per function.
func memoryOfFunctions(fns []optimizer.Group, sizes []int, perFunction bool) [][]optimizer.Group {
	with := func(mb func(i int) int) []optimizer.Group {
		out := make([]optimizer.Group, len(fns))
		for i, f := range fns {
			f.MemoryMB = mb(i)
			out[i] = f
		}
		return out
	}
	if sizes == nil {
		return [][]optimizer.Group{fns}
	}
	var out [][]optimizer.Group
	if !perFunction {
		for _, mb := range sizes {
			out = append(out, with(func(int) int { return mb }))
		}
		return out
	}
	idx := make([]int, len(fns))
	for {
		out = append(out, with(func(i int) int { return sizes[idx[i]] }))
		i := len(idx) - 1
		for ; i >= 0; i-- {
			if idx[i]++; idx[i] < len(sizes) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return out
		}
	}
}

// Describe says in one line what the sweep's cells are.
func (p *Plan) Describe() string {
	spec := p.Spec
	var what string
	switch spec.Space {
	case SpacePartitions:
		n := len(optimizer.PartitionTasks(p.App))
		if spec.Connected {
			what = fmt.Sprintf("%s partitions of the %d tasks whose groups are connected with a single root", group(p.Setups), n)
		} else {
			what = fmt.Sprintf("every set partition of the %d tasks (Bell(%d) = %s)", n, n, group(p.Setups))
		}
	case SpaceRules:
		what = fmt.Sprintf("%s rule setups (the distinct local/remote assignments of %d call edges, %s assignments)", group(p.Setups), len(p.App.Edges), group(p.Assignments))
	case SpaceMemory:
		what = fmt.Sprintf("%d setups", p.Setups)
	case SpaceFile:
		what = fmt.Sprintf("%d setups of %s", p.Setups, spec.Source)
	}
	mem := "the default memory size (128 MB)"
	if spec.Space == SpaceFile || spec.Space == SpaceMemory {
		mem = "their own memory sizes"
	}
	if spec.MemorySizesMB != nil {
		mem = fmt.Sprintf("%d memory sizes (%s MB)", len(spec.MemorySizesMB), joinInts(spec.MemorySizesMB))
		if spec.PerFunctionMemory {
			mem += " per function, every combination"
		} else {
			mem += ", one for all functions"
		}
	}
	return fmt.Sprintf("%s: %s cells: %s at %s (%s setup-memory points) x %s x %s x %s",
		spec.Workload, group(p.Cells), what, mem, group(p.Points), plural(len(spec.Seeds), "seed"), plural(len(spec.Loads), "load"), plural(len(spec.Profiles), "profile"))
}

// group writes n with thousands separators, 115,975.
func group(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + group(-n)
	}
	var parts []string
	for len(s) > 3 {
		parts = append([]string{s[len(s)-3:]}, parts...)
		s = s[:len(s)-3]
	}
	return strings.Join(append([]string{s}, parts...), ",")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// sortedInts is a sorted copy.
func sortedInts(xs []int) []int {
	c := append([]int(nil), xs...)
	sort.Ints(c)
	return c
}
