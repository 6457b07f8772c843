package optimizer

import (
	"fmt"
	"strings"

	"github.com/fusionsim/fusionsim"
)

// Names of the optimizers New makes.
var Names = []string{"fusionize", "partitions", "exhaustive", "random"}

// Config configures New.
type Config struct {
	// App is the application (its tasks, entry and call edges).
	App *fusionsim.App
	// Tasks overrides the tasks of Fusionize's base setup (default: the
	// app's); used offline without an app.
	Tasks []string
	// MemorySizesMB is the memory size list (Fusionize's deployment list;
	// the sizes exhaustive and random search try). Partitions use its first.
	MemorySizesMB []int
	// PerFunctionMemory makes exhaustive and random search size each
	// function on its own.
	PerFunctionMemory bool
	// Budget bounds partitions, exhaustive and random search, in iterations
	// (random needs one; 0 for the others: every candidate).
	Budget int
	// Seed orders random search.
	Seed uint64
	// Clock names new setups.
	Clock Clock
}

// New makes the optimizer called name.
func New(name string, cfg Config) (Optimizer, error) {
	needApp := func() error {
		if cfg.App == nil {
			return fmt.Errorf("%w: optimizer %s needs the application (its call edges)", ErrConfig, name)
		}
		return nil
	}
	switch name {
	case "fusionize":
		tasks := cfg.Tasks
		if tasks == nil && cfg.App != nil {
			tasks = cfg.App.TaskNames()
		}
		f := &Fusionize{Tasks: tasks, MemorySizesMB: cfg.MemorySizesMB, Clock: cfg.Clock}
		return f, f.Validate()
	case "partitions":
		if err := needApp(); err != nil {
			return nil, err
		}
		mb := 0
		if len(cfg.MemorySizesMB) > 0 && cfg.MemorySizesMB[0] != fusionsim.DefaultMemoryMB {
			mb = cfg.MemorySizesMB[0]
		}
		return &PartitionSearch{App: cfg.App, MemoryMB: mb, MaxIterations: cfg.Budget, Clock: cfg.Clock}, nil
	case "exhaustive":
		if err := needApp(); err != nil {
			return nil, err
		}
		return &ExhaustiveSearch{App: cfg.App, MemorySizesMB: cfg.MemorySizesMB, PerFunctionMemory: cfg.PerFunctionMemory, MaxIterations: cfg.Budget, Clock: cfg.Clock}, nil
	case "random":
		if err := needApp(); err != nil {
			return nil, err
		}
		if cfg.Budget <= 0 {
			return nil, fmt.Errorf("%w: random search needs a budget of iterations (> 0)", ErrConfig)
		}
		return &RandomSearch{App: cfg.App, MemorySizesMB: cfg.MemorySizesMB, PerFunctionMemory: cfg.PerFunctionMemory, Budget: cfg.Budget, Seed: cfg.Seed, Clock: cfg.Clock}, nil
	}
	return nil, fmt.Errorf("%w: unknown optimizer %q (optimizers: %s)", ErrConfig, name, strings.Join(Names, ", "))
}
