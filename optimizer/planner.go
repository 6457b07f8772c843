package optimizer

import (
	"context"
	"fmt"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/experiment"
)

// Planner runs an Optimizer in the experiment runner's closed loop: deploy
// the setup, apply the load, extract the traces from the logs, ask the
// optimizer for the next setup. The traces the optimizer sees are the
// iterations' records as the trace package extracted them from the logs.
type Planner struct {
	Optimizer Optimizer
	// MaxIterations ends the experiment after that many iterations even if
	// the optimizer is not done (0: no bound but the runner's).
	MaxIterations int
}

var _ experiment.Planner = (*Planner)(nil)

// Next implements experiment.Planner.
func (p *Planner) Next(ctx context.Context, history []experiment.Iteration) (*fusionsim.Setup, bool, string, error) {
	if p.MaxIterations > 0 && len(history) >= p.MaxIterations {
		return nil, true, fmt.Sprintf("%s stopped after %d iterations (the maximum) without finishing", p.Optimizer.Name(), len(history)), nil
	}
	d, err := p.Optimizer.Next(ctx, Trials(history))
	if err != nil {
		return nil, false, "", fmt.Errorf("%s: %w", p.Optimizer.Name(), err)
	}
	return d.Next, d.Done, d.Reason, nil
}

// Trials turns the runner's iterations into an optimizer's history.
func Trials(its []experiment.Iteration) []Trial {
	out := make([]Trial, len(its))
	for i, it := range its {
		out[i] = Trial{Name: it.Name, Setup: it.Setup, Records: it.Records}
	}
	return out
}
