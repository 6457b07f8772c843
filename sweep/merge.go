package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/optimizer"
	"github.com/fusionsim/fusionsim/results"
)

// NewEvaluators makes the emulator's evaluator of every (load, profile) of
// the plan (optimizer.EmulatorEvaluator: a fresh emulator per cell, figures
// from its traces as in a single run, no logs written). Replay files must still have the
// digest the spec names.
func NewEvaluators(p *Plan) (func(load, profile int) optimizer.Evaluator, error) {
	spec := p.Spec
	evals := make([]optimizer.Evaluator, len(spec.Loads)*len(spec.Profiles))
	for li, l := range spec.Loads {
		if l.ReplayDigest != "" {
			d, err := FileDigest(l.Spec.ReplayFile)
			if err != nil {
				return nil, fmt.Errorf("load %s: %w", l.Name, err)
			}
			if d != l.ReplayDigest {
				return nil, fmt.Errorf("load %s: %s changed since the sweep was made (SHA-256 %.12s, now %.12s)", l.Name, l.Spec.ReplayFile, l.ReplayDigest, d)
			}
		}
		arrivals, err := l.Spec.Arrivals()
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", l.Name, err)
		}
		for pi, prof := range spec.Profiles {
			evals[li*len(spec.Profiles)+pi] = &optimizer.EmulatorEvaluator{App: p.App, Profile: prof.Profile, Arrivals: arrivals}
		}
	}
	return func(load, profile int) optimizer.Evaluator { return evals[load*len(spec.Profiles)+profile] }, nil
}

// FileDigest is the SHA-256 of a file, hex.
func FileDigest(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:]), nil
}

// MissingError lists the cells no directory had.
type MissingError struct {
	// Cells are the missing cells' indices, sorted; Total the sweep's cells.
	Cells []int
	Total int
	// Shards, when every directory was a shard of one count, are the shards
	// the missing cells belong to, and Count that count.
	Shards []int
	Count  int
}

func (e *MissingError) Error() string {
	list := ranges(e.Cells)
	if parts := strings.Split(list, ","); len(parts) > 40 {
		list = strings.Join(parts[:40], ",") + fmt.Sprintf(",... (%d more)", len(parts)-40)
	}
	msg := fmt.Sprintf("%d of %d cells are missing: cells %s", len(e.Cells), e.Total, list)
	if e.Count > 0 {
		msg += fmt.Sprintf("; they belong to shards %s of %d: rerun those, they resume from what they kept (Slurm: sbatch --array=%s --export=ALL,SWEEP_SHARDS=%d deploy/slurm/sweep.sbatch)",
			ranges(e.Shards), e.Count, ranges(e.Shards), e.Count)
	}
	return msg
}

// ShardDirs expands the arguments of merge: a sweep's results directory is
// taken as it is; another directory stands for the shard directories in it
// (shard-*-of-*).
func ShardDirs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if _, err := os.Stat(filepath.Join(a, results.ManifestFile)); err == nil {
			out = append(out, a)
			continue
		}
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("%s: not a directory", a)
		}
		m, err := filepath.Glob(filepath.Join(a, "shard-*-of-*"))
		if err != nil {
			return nil, err
		}
		var dirs []string
		for _, d := range m {
			if _, err := os.Stat(filepath.Join(d, results.ManifestFile)); err == nil {
				dirs = append(dirs, d)
			}
		}
		if len(dirs) == 0 {
			return nil, fmt.Errorf("%s: %w, and it holds no finished shard directory (shard-*-of-*/%s)", a, ErrNotSweep, results.ManifestFile)
		}
		sort.Strings(dirs)
		out = append(out, dirs...)
	}
	return out, nil
}

// Merge reads sweep directories (ShardDirs) and combines their cells into
// the result of the whole sweep, rebuilt with the application resolve gives
// for the sweep's spec (its Workload, or its AppFile). It refuses directories of different sweeps or
// builds and returns a *MissingError when cells are missing.
func Merge(dirs []string, resolve func(spec *Spec) (*fusionsim.App, error)) (*Result, error) {
	if len(dirs) == 0 {
		return nil, errors.New("no directory to merge")
	}
	var first *Dir
	cells := map[int]optimizer.Metrics{}
	counts := map[int]bool{}
	for _, dir := range dirs {
		d, err := ReadDir(dir)
		if err != nil {
			return nil, err
		}
		if first == nil {
			first = d
		} else {
			if d.Info.Hash != first.Info.Hash {
				return nil, fmt.Errorf("%s and %s are of different sweeps (sweep %.12s: %s; sweep %.12s: %s): merge shards of one sweep only",
					first.Path, d.Path, first.Info.Hash, first.Manifest.Reason, d.Info.Hash, d.Manifest.Reason)
			}
			if d.Manifest.Version != first.Manifest.Version {
				return nil, fmt.Errorf("%s and %s were written by different fusionsim builds (%q, %q): their figures may differ; rerun the shards with one build",
					first.Path, d.Path, first.Manifest.Version, d.Manifest.Version)
			}
		}
		if d.Info.Shard != nil {
			counts[d.Info.Shard.Count] = true
		} else {
			counts[0] = true
		}
		for k, m := range d.Cells {
			if prev, ok := cells[k]; ok && !sameMetrics(prev, m) {
				return nil, fmt.Errorf("cell %d has other figures in %s than in an earlier directory", k, d.Path)
			}
			cells[k] = m
		}
	}
	app, err := resolve(first.Info.Spec)
	if err != nil {
		return nil, err
	}
	plan, err := NewPlan(first.Info.Spec, app)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", first.Path, err)
	}
	if plan.Cells != first.Info.Cells {
		return nil, fmt.Errorf("%s: the sweep has %d cells here, the manifest says %d", first.Path, plan.Cells, first.Info.Cells)
	}
	if len(cells) < plan.Cells {
		me := &MissingError{Total: plan.Cells}
		for k := 0; k < plan.Cells; k++ {
			if _, ok := cells[k]; !ok {
				me.Cells = append(me.Cells, k)
			}
		}
		if len(counts) == 1 && !counts[0] {
			for n := range counts {
				me.Count = n
			}
			seen := map[int]bool{}
			for _, k := range me.Cells {
				if s := k % me.Count; !seen[s] {
					seen[s] = true
					me.Shards = append(me.Shards, s)
				}
			}
			sort.Ints(me.Shards)
		}
		return nil, me
	}
	return &Result{Plan: plan, Cells: cells}, nil
}

// Summary is the report of a whole sweep, for the terminal.
func (r *Result) Summary(a *Analysis) string {
	p := r.Plan
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", p.Describe())
	fmt.Fprintf(&b, "feasible (every request served): %s of %s cells; %s distinct deployments\n", group(a.Feasible), group(p.Cells), group(a.Deployments))
	return b.String()
}
