package awsstandin

import (
	"context"
	"io"
	"maps"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/lambdaapi"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/workloads"
)

// EmulatedConfig configures NewEmulated.
type EmulatedConfig struct {
	// App is the application the functions run.
	App *fusionsim.App
	// Profile is the emulator's platform profile (model.Default() if zero).
	Profile model.Profile
	// Seed seeds the emulator.
	Seed uint64
	// LogPageSize and PendingPolls are passed on (see Config).
	LogPageSize, PendingPolls int
	// Log receives the emulator's and the stand-in's notices.
	Log io.Writer
}

// Emulated is a stand-in whose functions run on an HTTP emulator
// (lambdaapi.Server) in the same process, in real time (time scale 1, epoch
// now), so that log times are wall-clock times. Requests the stand-in does
// not serve (the emulator's own routes) go to the emulator.
type Emulated struct {
	*Server
	Emulator *lambdaapi.Server
}

// BootSetup names the setup the emulator starts with (it needs one); the
// first Invoke deploys the functions' own setup.
const BootSetup = "standin_boot"

// NewEmulated starts the emulator and the stand-in in front of it. Serve
// the result (it is an http.Handler) and Close it at the end.
func NewEmulated(cfg EmulatedConfig) (*Emulated, error) {
	boot, err := workloads.Remote(cfg.App, BootSetup, 0)
	if err != nil {
		return nil, err
	}
	emu, err := lambdaapi.New(lambdaapi.Config{
		App: cfg.App, Setups: fusionsim.Configs{BootSetup: boot}, Profile: cfg.Profile, Seed: cfg.Seed,
		TimeScale: 1, Epoch: time.Now(), Log: cfg.Log,
	})
	if err != nil {
		return nil, err
	}
	sv := New(Config{
		Backend: EmulatorBackend{Handler: emu.Handler()}, Upstream: emu.Handler(),
		LogPageSize: cfg.LogPageSize, PendingPolls: cfg.PendingPolls, Log: cfg.Log,
	})
	return &Emulated{Server: sv, Emulator: emu}, nil
}

// Close lets the emulator's requests finish and stops it. Stop serving
// HTTP first.
func (e *Emulated) Close(ctx context.Context) error { return e.Emulator.Close(ctx) }

// QuickProfile is the default profile with the CPU work of the workloads'
// burn tasks and the cold starts' package loading made short, for tests that
// run the emulator in real time: an IoT request then takes tens of
// milliseconds instead of seconds. Its figures are not Lambda's.
func QuickProfile() model.Profile {
	p := model.Default()
	p.Name = "quick"
	p.Description = "test profile: a vCPU per 128 MB, burn work of 2 vCPU-ms, cold starts of 5 ms"
	p.Work = maps.Clone(p.Work)
	if p.Work == nil {
		p.Work = map[string]model.WorkParams{}
	}
	for _, name := range []string{workloads.WorkBurn2x7, workloads.WorkBurn2x8p8} {
		p.Work[name] = model.WorkParams{CPUMs: 2, Threads: 2, MemoryMB: 12}
	}
	p.CPU.MBPerVCPU = 128 // a full vCPU at every size: short CPU costs
	p.ColdStart.PackageMB = 0
	p.ColdStart.RuntimeInitMs = maps.Clone(p.ColdStart.RuntimeInitMs)
	p.ColdStart.RuntimeInitMs[p.ColdStart.Runtime] = model.Dist{Kind: model.KindConst, Value: 5}
	return p
}
