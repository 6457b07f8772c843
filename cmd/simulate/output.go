package main

import (
	"encoding/json"

	"github.com/fusionsim/fusionsim/experiment"
	"github.com/fusionsim/fusionsim/results"
)

// resultsRun is what the results directory of a "simulate run" holds.
func resultsRun(p *plan, res *experiment.Result, grouping bool) (*results.Run, error) {
	load, err := json.Marshal(p.loadString())
	if err != nil {
		return nil, err
	}
	extra := map[string]json.RawMessage{"load": load}
	if p.scenario != nil {
		// The scenario as run (flags applied), in the load file's form.
		if extra["scenario"], err = json.Marshal(p.scenario); err != nil {
			return nil, err
		}
	}
	prof := p.profile
	return res.Results(results.Manifest{
		Command: "simulate run", Workload: p.workload.Name(), Seed: p.seed, Flags: p.flags,
		Profile: &prof, GroupByFunction: grouping,
		Extra: extra,
	}, p.profile.Pricing), nil
}
