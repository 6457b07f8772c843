package optimizer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/trace"
)

// Trial is one tested setup: its name, its rules and the invocation records
// observed while it was deployed.
type Trial struct {
	// Name is the setup name (the key in configuration metadata).
	Name string
	// Setup holds the rules.
	Setup *fusionsim.Setup
	// Records are its traces, in the order the extractor wrote them; nil
	// when they are unknown (the published IoT run lacks the first two).
	Records []trace.Record
}

// Decision is an optimizer's answer to a history of trials.
type Decision struct {
	// Next is the setup to deploy next. When Done it is the final setup the
	// optimizer settles on, under a new name (Fusionize++ redeploys its best
	// setup); it is nil when there is none.
	Next *fusionsim.Setup
	// Done reports that the optimizer has finished.
	Done bool
	// Reason says in one line why Next was chosen or why it is done.
	Reason string
}

// Optimizer proposes setups from the history of tested ones.
type Optimizer interface {
	// Name identifies the optimizer ("fusionize", "partitions", ...).
	Name() string
	// Next returns the next setup to deploy given every trial so far, oldest
	// first. An empty history asks for the first setup. Errors wrap
	// ErrNoTraces when a trial the decision needs has no records.
	Next(ctx context.Context, history []Trial) (Decision, error)
}

// Errors of optimizers.
var (
	// ErrNoTraces: a trial the decision depends on has no records.
	ErrNoTraces = errors.New("no traces")
	// ErrConfig: an optimizer's configuration is invalid.
	ErrConfig = errors.New("invalid optimizer configuration")
)

// Clock tells the time that names new setups. The closed loop passes the
// platform's clock (virtual in the emulator); offline tools pass what they
// choose. The package never reads the wall clock.
type Clock func() time.Time

// NewName names a new setup as the prototype did, the Unix time in seconds,
// raised when needed to one more than the largest numeric name in history so
// that names strictly increase.
func NewName(now Clock, history []Trial) (fusionsim.TraceName, error) {
	if now == nil {
		return fusionsim.TraceName{}, fmt.Errorf("%w: no clock to name setups", ErrConfig)
	}
	n := now().Unix()
	for _, t := range history {
		if v, err := strconv.ParseInt(t.Name, 10, 64); err == nil && v >= n {
			n = v + 1
		}
	}
	return fusionsim.NewTraceName(strconv.FormatInt(n, 10)), nil
}

// TrialsFromConfigs makes the history of a prototype run from its
// configuration metadata and its traces by setup name: every setup in the
// order of creation (Configs.Names), up to and including until when it is
// not empty. Setups without traces get nil records.
func TrialsFromConfigs(cfgs fusionsim.Configs, records map[string][]trace.Record, until string) ([]Trial, error) {
	var out []Trial
	for _, name := range cfgs.Names() {
		out = append(out, Trial{Name: name, Setup: cfgs[name], Records: records[name]})
		if name == until {
			return out, nil
		}
	}
	if until != "" {
		return nil, fmt.Errorf("setup %q is not in the configuration metadata (setups: %v)", until, cfgs.Names())
	}
	return out, nil
}
