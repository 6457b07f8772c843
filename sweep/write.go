package sweep

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/optimizer"
	"github.com/fusionsim/fusionsim/results"
	"github.com/fusionsim/fusionsim/trace"
)

// Files of a sweep's results directory besides CellsFile.
const (
	SummaryFile = "summary.csv" // one row per cell, readable
	FrontFile   = "front.csv"   // the Pareto front of each (load, profile)
)

// Command is the manifest's command of a sweep's results directory.
const Command = "simulate sweep"

// Info is the sweep's part of the manifest (extra.sweep).
type Info struct {
	// Hash names the sweep (Spec.Hash).
	Hash string `json:"hash"`
	Spec *Spec  `json:"spec"`
	// Cells counts the sweep's cells, Points its (setup, memory) pairs.
	Cells  int `json:"cells"`
	Points int `json:"points"`
	// Shard is set in a shard's directory (absent: every cell is here).
	Shard *ShardInfo `json:"shard,omitempty"`
	// Deployments counts the distinct deployments (what the points deploy),
	// Feasible the cells whose every request was served; Fronts the front's
	// size per (load, profile), in Spec order (directories of every cell).
	Deployments int   `json:"deployments,omitempty"`
	Feasible    int   `json:"feasible,omitempty"`
	Fronts      []int `json:"fronts,omitempty"`
}

// ShardInfo is a shard's place in its sweep.
type ShardInfo struct {
	Index int `json:"index"`
	Count int `json:"count"`
	Cells int `json:"cells"`
}

// Version is the fusionsim build that writes a directory (the module version
// and, when the binary has it, the VCS revision); shards of different builds
// are not merged.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v += " " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				v += "+modified"
			}
		}
	}
	return v
}

// Result is the figures of the cells of a plan that a directory holds:
// every cell, or one shard's.
type Result struct {
	Plan  *Plan
	Shard Shard
	Cells map[int]optimizer.Metrics
}

// FrontPoint is one deployment on the Pareto front of a (load, profile).
type FrontPoint struct {
	// Rank is the position on the front, fastest first, from 1.
	Rank int
	// Cell is the first cell of the first point that deploys it (seed 0),
	// Setup and Functions that cell's labels, Points the number of points
	// deploying the same functions.
	Cell             int
	Setup, Functions string
	Points           int
	// Metrics are the mean over the seeds (counts summed).
	optimizer.Metrics
	setup func() *fusionsim.Setup
}

// Condition is one (load, profile) pair of a sweep with its front.
type Condition struct {
	Load, Profile int
	// Deployments are the distinct deployments' points evaluated under it
	// (valid or not); Front is their Pareto front.
	Deployments []FrontPoint
	Front       []FrontPoint
}

// Analysis is what a directory of every cell reports.
type Analysis struct {
	Conditions []Condition
	// Feasible counts the cells whose every request was served;
	// Deployments the distinct deployments.
	Feasible, Deployments int
}

// Valid reports whether figures can be on a front: every request served,
// latencies measured.
func Valid(m optimizer.Metrics) bool {
	return m.Requests > 0 && m.Errors == 0 && !math.IsNaN(m.MedianLatencyMs)
}

// Analyze computes the fronts of a result of every cell.
func (r *Result) Analyze() (*Analysis, error) {
	p := r.Plan
	spec := p.Spec
	S, L, P := len(spec.Seeds), len(spec.Loads), len(spec.Profiles)
	a := &Analysis{}
	for _, m := range r.Cells {
		if Valid(m) {
			a.Feasible++
		}
	}
	type pt struct {
		cell             int
		setup, functions string
		key              string
		build            func() *fusionsim.Setup
	}
	var points []pt
	p.each(func(c *Cell) bool {
		points = append(points, pt{c.Index, c.Setup, c.Functions, c.key, c.setup})
		return true
	}, true)
	for li := 0; li < L; li++ {
		for pi := 0; pi < P; pi++ {
			cond := Condition{Load: li, Profile: pi}
			index := map[string]int{}
			for point, q := range points {
				if i, ok := index[q.key]; ok {
					cond.Deployments[i].Points++
					continue
				}
				fp := FrontPoint{Cell: q.cell, Setup: q.setup, Functions: q.functions, Points: 1, setup: q.build}
				var sum optimizer.Metrics
				for si := 0; si < S; si++ {
					k := ((point*S+si)*L+li)*P + pi
					m, ok := r.Cells[k]
					if !ok {
						return nil, fmt.Errorf("cell %d is missing", k)
					}
					sum.Requests += m.Requests
					sum.Invocations += m.Invocations
					sum.Errors += m.Errors
					sum.MedianLatencyMs += m.MedianLatencyMs
					sum.P95LatencyMs += m.P95LatencyMs
					sum.MedianE2EMs += m.MedianE2EMs
					sum.CostPerRequestUSD += m.CostPerRequestUSD
					sum.MedianRootBilledMs += m.MedianRootBilledMs
				}
				n := float64(S)
				sum.MedianLatencyMs /= n
				sum.P95LatencyMs /= n
				sum.MedianE2EMs /= n
				sum.CostPerRequestUSD /= n
				sum.MedianRootBilledMs /= n
				fp.Metrics = sum
				index[q.key] = len(cond.Deployments)
				cond.Deployments = append(cond.Deployments, fp)
			}
			ms := make([]optimizer.Metrics, len(cond.Deployments))
			for i, d := range cond.Deployments {
				ms[i] = d.Metrics
			}
			for rank, i := range optimizer.FrontIndices(ms) {
				f := cond.Deployments[i]
				f.Rank = rank + 1
				cond.Front = append(cond.Front, f)
			}
			a.Deployments = len(cond.Deployments)
			a.Conditions = append(a.Conditions, cond)
		}
	}
	return a, nil
}

// ConditionName names a (load, profile) pair in file names: "" when the
// sweep has one of each, else "<load>-<profile>".
func (p *Plan) ConditionName(load, profile int) string {
	if len(p.Spec.Loads) == 1 && len(p.Spec.Profiles) == 1 {
		return ""
	}
	return p.Spec.Loads[load].Name + "-" + p.Spec.Profiles[profile].Name
}

// Write writes the result into the results directory dir, atomically
// (a temporary directory beside it, renamed): manifest.json, cells.csv and
// summary.csv; with every cell also front.csv, the front's setups in
// configuration/configurationMetadata.json and figures/ (opt). An existing
// results directory at dir is replaced.
func (r *Result) Write(dir string, opt results.PlotOptions) (*Analysis, error) {
	p := r.Plan
	info := Info{Hash: p.Hash, Spec: p.Spec, Cells: p.Cells, Points: p.Points}
	var a *Analysis
	if r.Shard.Whole() {
		if len(r.Cells) != p.Cells {
			return nil, fmt.Errorf("%d of %d cells: cannot write the whole sweep", len(r.Cells), p.Cells)
		}
		var err error
		if a, err = r.Analyze(); err != nil {
			return nil, err
		}
		info.Deployments, info.Feasible = a.Deployments, a.Feasible
		for _, c := range a.Conditions {
			info.Fronts = append(info.Fronts, len(c.Front))
		}
	} else {
		info.Shard = &ShardInfo{Index: r.Shard.Index, Count: r.Shard.Count, Cells: len(r.Cells)}
	}
	st, err := results.NewStage(dir)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			st.Abort()
		}
	}()
	tmp := st.Dir()
	if err := trace.WriteFileAtomic(filepath.Join(tmp, CellsFile), encodeCells(r.Cells)); err != nil {
		return nil, err
	}
	if err := trace.WriteFileAtomic(filepath.Join(tmp, SummaryFile), r.summary()); err != nil {
		return nil, err
	}
	if a != nil {
		if err := trace.WriteFileAtomic(filepath.Join(tmp, FrontFile), p.frontCSV(a)); err != nil {
			return nil, err
		}
		if err := trace.WriteConfigs(tmp, p.frontConfigs(a)); err != nil {
			return nil, err
		}
		if err := p.drawFronts(a, filepath.Join(tmp, results.FiguresDir), opt); err != nil {
			return nil, err
		}
	}
	extra, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	m := results.Manifest{
		Format: results.CurrentFormat, Complete: true, Version: Version(), Command: Command, Workload: p.Spec.Workload,
		Seed: p.Spec.Seeds[0], Reason: p.Describe(), Extra: map[string]json.RawMessage{"sweep": extra},
	}
	if len(p.Spec.Profiles) == 1 {
		prof := p.Spec.Profiles[0].Profile
		m.Profile = &prof
	}
	mb, err := json.MarshalIndent(&m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := trace.WriteFileAtomic(filepath.Join(tmp, results.ManifestFile), append(mb, '\n')); err != nil {
		return nil, err
	}
	if err := st.CommitFiles(); err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

// num formats a figure with decimals; NaN is empty.
func num(v float64, decimals int) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

// SummaryHeader is the first line of a sweep's summary.csv.
var SummaryHeader = []string{"cell", "setup", "functions", "seed", "load", "profile", "requests", "invocations", "errors",
	"median_ms", "p95_ms", "e2e_median_ms", "usd_per_million", "median_root_billed_ms", "feasible"}

func (r *Result) summary() []byte {
	spec := r.Plan.Spec
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(SummaryHeader)
	r.Plan.All(func(c *Cell) bool {
		m, ok := r.Cells[c.Index]
		if !ok {
			return true
		}
		w.Write([]string{strconv.Itoa(c.Index), c.Setup, c.Functions, strconv.FormatUint(spec.Seeds[c.Seed], 10),
			spec.Loads[c.Load].Name, spec.Profiles[c.Profile].Name, strconv.Itoa(m.Requests), strconv.Itoa(m.Invocations),
			strconv.Itoa(m.Errors), num(m.MedianLatencyMs, 1), num(m.P95LatencyMs, 1), num(m.MedianE2EMs, 1),
			num(m.CostPerRequestUSD*1e6, 4), num(m.MedianRootBilledMs, 1), strconv.FormatBool(Valid(m))})
		return true
	})
	w.Flush()
	return b.Bytes()
}

// FrontHeader is the first line of front.csv.
var FrontHeader = []string{"load", "profile", "rank", "functions", "setup", "points", "cell", "seeds",
	"median_ms", "p95_ms", "e2e_median_ms", "usd_per_million", "median_root_billed_ms"}

func (p *Plan) frontCSV(a *Analysis) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(FrontHeader)
	for _, c := range a.Conditions {
		for _, f := range c.Front {
			w.Write([]string{p.Spec.Loads[c.Load].Name, p.Spec.Profiles[c.Profile].Name, strconv.Itoa(f.Rank), f.Functions, f.Setup,
				strconv.Itoa(f.Points), strconv.Itoa(f.Cell), strconv.Itoa(len(p.Spec.Seeds)), num(f.MedianLatencyMs, 3), num(f.P95LatencyMs, 3),
				num(f.MedianE2EMs, 3), num(f.CostPerRequestUSD*1e6, 4), num(f.MedianRootBilledMs, 3)})
		}
	}
	w.Flush()
	return b.Bytes()
}

// FrontSetupName names a front's setup in the configuration metadata.
func (p *Plan) FrontSetupName(load, profile, rank int) string {
	name := "front" + strconv.Itoa(rank)
	if c := p.ConditionName(load, profile); c != "" {
		name = "front_" + strings.NewReplacer("-", "_", `"`, "_", `\`, "_").Replace(c) + "_" + strconv.Itoa(rank)
	}
	return name
}

// frontConfigs are the setups of every front, so that they can be rerun
// (simulate run --setup DIR/configuration/configurationMetadata.json).
func (p *Plan) frontConfigs(a *Analysis) fusionsim.Configs {
	cfg := fusionsim.Configs{}
	for _, c := range a.Conditions {
		for _, f := range c.Front {
			name := p.FrontSetupName(c.Load, c.Profile, f.Rank)
			s := f.setup()
			s.TraceName = fusionsim.NewTraceName(name)
			cfg[name] = s
		}
	}
	return cfg
}

func (p *Plan) drawFronts(a *Analysis, dir string, opt results.PlotOptions) error {
	for _, c := range a.Conditions {
		var cloud []results.CostLatency
		for _, d := range c.Deployments {
			if Valid(d.Metrics) {
				cloud = append(cloud, results.CostLatency{USDPerMillion: d.CostPerRequestUSD * 1e6, MedianMs: d.MedianLatencyMs})
			}
		}
		if len(cloud) == 0 {
			continue
		}
		front := make([]results.CostLatency, len(c.Front))
		for i, f := range c.Front {
			front[i] = results.CostLatency{USDPerMillion: f.CostPerRequestUSD * 1e6, MedianMs: f.MedianLatencyMs, Label: strconv.Itoa(f.Rank)}
		}
		name := "pareto"
		if n := p.ConditionName(c.Load, c.Profile); n != "" {
			name += "-" + n
		}
		if _, err := results.DrawFrontCloud(dir, name, cloud, front, opt); err != nil {
			return fmt.Errorf("figure %s: %w", name, err)
		}
	}
	return nil
}

// Dir is a sweep's results directory as read back.
type Dir struct {
	Path     string
	Manifest results.Manifest
	Info     Info
	Cells    map[int]optimizer.Metrics
}

// ErrNotSweep marks a directory that is not a sweep's results directory.
var ErrNotSweep = errors.New("not a sweep's results directory")

// ReadDir reads a sweep's results directory: its manifest and cells.
func ReadDir(dir string) (*Dir, error) {
	data, err := os.ReadFile(filepath.Join(dir, results.ManifestFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w (no %s)", dir, ErrNotSweep, results.ManifestFile)
		}
		return nil, err
	}
	d := &Dir{Path: dir, Cells: map[int]optimizer.Metrics{}}
	if err := json.Unmarshal(data, &d.Manifest); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, results.ManifestFile), err)
	}
	raw, ok := d.Manifest.Extra["sweep"]
	if d.Manifest.Command != Command || !ok {
		return nil, fmt.Errorf("%s: %w (written by %q)", dir, ErrNotSweep, d.Manifest.Command)
	}
	if err := json.Unmarshal(raw, &d.Info); err != nil || d.Info.Spec == nil {
		return nil, fmt.Errorf("%s: manifest extra.sweep: %v", dir, err)
	}
	if d.Info.Spec.Hash() != d.Info.Hash {
		return nil, fmt.Errorf("%s: the manifest's sweep hash %.12s does not match its spec (%.12s)", dir, d.Info.Hash, d.Info.Spec.Hash())
	}
	f, err := os.Open(filepath.Join(dir, CellsFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := decodeCells(f, filepath.Join(dir, CellsFile), d.Info.Cells, d.Cells); err != nil {
		return nil, err
	}
	want := d.Info.Cells
	if d.Info.Shard != nil {
		want = d.Info.Shard.Cells
		sh := Shard{Index: d.Info.Shard.Index, Count: d.Info.Shard.Count}
		for k := range d.Cells {
			if !sh.Has(k) {
				return nil, fmt.Errorf("%s: cell %d is not in shard %s", dir, k, sh)
			}
		}
	}
	if len(d.Cells) != want {
		return nil, fmt.Errorf("%s: %d cells in %s, the manifest says %d", dir, len(d.Cells), CellsFile, want)
	}
	return d, nil
}

// ranges writes sorted indices compactly, "3-5,9,12-14".
func ranges(idx []int) string {
	idx = sortedInts(idx)
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, strconv.Itoa(idx[i])+"-"+strconv.Itoa(idx[j]))
		} else {
			parts = append(parts, strconv.Itoa(idx[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
