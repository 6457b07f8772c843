package experiment

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// ErrSetupSpec marks a setup specification that cannot be resolved.
var ErrSetupSpec = errors.New("bad setup")

// Setups resolves setup specifications for app into setups, in order. A
// specification is
//
//   - a configuration metadata file (the prototype's
//     configurationMetadata.json, gzip-compressed or not): all its setups, or
//     those named in names, in creation order (fusionsim.Configs.Names);
//   - "remote" or "local": the generated setups of those names;
//   - a group description (workloads.ParseGroups), optionally named:
//     "c_optimal=A+B+D+E:128,C:1024,F:1536,G:1536".
//
// A specification is a file when it names an existing file or ends in
// ".json" or ".json.gz". names selects setups of files; with no file among
// specs and a single generated setup, a single name renames it. Unnamed
// descriptions are called "setup1", "setup2", ... by their position among
// the specifications. Names must be unique.
func Setups(app *fusionsim.App, specs, names []string) ([]*fusionsim.Setup, error) {
	var out []*fusionsim.Setup
	haveFile := false
	used := map[string]bool{}
	for i, spec := range specs {
		spec = strings.TrimSpace(spec)
		switch {
		case isFile(spec):
			haveFile = true
			cfgs, err := trace.ReadConfigFile(spec)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrSetupSpec, err)
			}
			sel := cfgs.Names()
			if len(names) > 0 {
				sel = nil
				for _, n := range cfgs.Names() {
					if slices.Contains(names, n) {
						sel = append(sel, n)
						used[n] = true
					}
				}
				if len(sel) == 0 {
					return nil, fmt.Errorf("%w: %s holds none of the setups %s (it holds %s)", ErrSetupSpec, spec, strings.Join(names, ", "), strings.Join(cfgs.Names(), ", "))
				}
			}
			for _, n := range sel {
				s := cfgs[n]
				if s.Name() != n {
					// The key names the setup, as the prototype's tools read it.
					s = s.Clone(fusionsim.NewTraceName(n))
				}
				out = append(out, s)
			}
		case spec == workloads.RemoteName:
			s, err := workloads.Remote(app, workloads.RemoteName, 0)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		case spec == workloads.LocalName:
			s, err := workloads.Local(app, workloads.LocalName)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		default:
			name, desc, ok := strings.Cut(spec, "=")
			if !ok {
				name, desc = fmt.Sprintf("setup%d", i+1), spec
			}
			if err := checkName(name); err != nil {
				return nil, fmt.Errorf("%w: %q: %v", ErrSetupSpec, spec, err)
			}
			s, err := workloads.FromDescription(app, name, desc)
			if err != nil {
				if !strings.ContainsAny(spec, "+,:.=") {
					return nil, fmt.Errorf("%w: %q is no file, not remote or local, and no group description of %s (%v)", ErrSetupSpec, spec, app.Name, err)
				}
				return nil, fmt.Errorf("%w: %q: %v", ErrSetupSpec, spec, err)
			}
			out = append(out, s)
		}
	}
	if len(names) > 0 {
		switch {
		case haveFile:
			var missing []string
			for _, n := range names {
				if !used[n] {
					missing = append(missing, n)
				}
			}
			if len(missing) > 0 {
				return nil, fmt.Errorf("%w: no setup file holds %s", ErrSetupSpec, strings.Join(missing, ", "))
			}
		case len(out) == 1 && len(names) == 1:
			if err := checkName(names[0]); err != nil {
				return nil, fmt.Errorf("%w: name %q: %v", ErrSetupSpec, names[0], err)
			}
			out[0] = out[0].Clone(fusionsim.NewTraceName(names[0]))
		default:
			return nil, fmt.Errorf("%w: names select setups of a file, or name the one generated setup; here are %d setups and %d names", ErrSetupSpec, len(out), len(names))
		}
	}
	seen := map[string]bool{}
	for _, s := range out {
		if seen[s.Name()] {
			return nil, fmt.Errorf("%w: setup name %q is used twice", ErrSetupSpec, s.Name())
		}
		seen[s.Name()] = true
	}
	return out, nil
}

func isFile(spec string) bool {
	if strings.HasSuffix(spec, ".json") || strings.HasSuffix(spec, ".json.gz") {
		return true
	}
	st, err := os.Stat(spec)
	return err == nil && !st.IsDir()
}

// checkName applies the one rule of setup names (fusionsim.ValidateSetupName).
func checkName(name string) error { return fusionsim.ValidateSetupName(name) }

// Sweep is the remote setup of app at each memory size, named
// "remote_<MB>": a memory sweep.
func Sweep(app *fusionsim.App, sizesMB []int) ([]*fusionsim.Setup, error) {
	var out []*fusionsim.Setup
	seen := map[int]bool{}
	for _, mb := range sizesMB {
		if seen[mb] {
			return nil, fmt.Errorf("%w: memory size %d MB twice", ErrSetupSpec, mb)
		}
		seen[mb] = true
		s, err := workloads.Remote(app, workloads.SweepName(mb), mb)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSetupSpec, err)
		}
		out = append(out, s)
	}
	return out, nil
}
