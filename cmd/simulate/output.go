package main

import (
	"encoding/json"

	"github.com/fusionsim/fusionsim/experiment"
	"github.com/fusionsim/fusionsim/results"
)

// resultsRun is what the results directory of a "simulate run" holds.
func resultsRun(p *plan, res *experiment.Result, grouping bool) (*results.Run, error) {
	load, err := json.Marshal(p.load.String())
	if err != nil {
		return nil, err
	}
	prof := p.profile
	run := &results.Run{
		Manifest: results.Manifest{
			Command: "simulate run", Workload: p.workload.Name(), Seed: p.seed, Flags: p.flags,
			Profile: &prof, GroupByFunction: grouping, Reason: res.Reason,
			Extra: map[string]json.RawMessage{"load": load},
		},
		Pricing: p.profile.Pricing,
	}
	for _, it := range res.Iterations {
		row := it.Row
		run.Setups = append(run.Setups, results.SetupRun{
			Name: it.Name, Setup: it.Setup, Route: it.Route.String(), Reason: it.Reason,
			Records: it.Records, Responses: it.Responses, Row: &row, LogProblems: it.LogProblems,
		})
	}
	return run, nil
}
