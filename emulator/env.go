package emulator

import (
	"fmt"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/internal/pool"
	"github.com/fusionsim/fusionsim/internal/strtab"
)

// EnvState is the lifecycle state of an execution environment.
type EnvState int

// Lifecycle of an execution environment:
//
//	Initializing -> Busy          (init done, first request)
//	Idle         -> Busy          (warm start)
//	Busy         -> Idle          (request done)
//	any          -> Reclaimed     (keep-alive over, forced cold, timeout, OOM)
//
// Every other transition is an error.
const (
	Initializing EnvState = iota
	Idle
	Busy
	Reclaimed
)

func (s EnvState) String() string {
	switch s {
	case Initializing:
		return "initializing"
	case Idle:
		return "idle"
	case Busy:
		return "busy"
	case Reclaimed:
		return "reclaimed"
	}
	return fmt.Sprintf("EnvState(%d)", int(s))
}

// TransitionError is an illegal lifecycle transition.
type TransitionError struct {
	Env      int
	From, To EnvState
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("environment %d: illegal transition %s -> %s", e.Env, e.From, e.To)
}

// environment is one execution environment of a function: one request at a
// time, with its own CPU and memory.
type environment struct {
	id        int
	fn        *function
	state     EnvState
	initStart time.Duration // when INIT began
	initDur   time.Duration // Init Duration of its cold start
	cpu       processor
	// residentMB is the memory in use now; peakMB the most ever used (Max
	// Memory Used).
	residentMB, peakMB float64
	// coldEpoch is the emulator's cold epoch at creation: when it is older
	// than the emulator's, the environment is reclaimed after its request.
	coldEpoch uint64
	// idleUntil is when an idle environment's keep-alive runs out.
	idleUntil time.Duration
	served    int // invocations served
	// connected and storageConnected: the first remote call and the first
	// storage operation (which pay the FirstConnection costs) have happened.
	connected, storageConnected bool
	// connecting: a remote call is setting up the first connection; waiting
	// are the calls started meanwhile, sent once it is up.
	connecting bool
	waiting    []*remoteCall
	// first is the request a new environment serves once its INIT is done.
	first *request
}

// fire ends the environment's INIT: it serves its first request.
func (env *environment) fire(em *Emulator, _ uint64) {
	req := env.first
	env.first = nil
	em.must(env.to(Busy))
	em.startInvocation(env, req)
}

// to moves the environment to state s if the lifecycle allows it.
func (env *environment) to(s EnvState) error {
	ok := false
	switch env.state {
	case Initializing:
		ok = s == Busy || s == Reclaimed
	case Idle:
		ok = s == Busy || s == Reclaimed
	case Busy:
		ok = s == Idle || s == Reclaimed
	}
	if !ok {
		return &TransitionError{Env: env.id, From: env.state, To: s}
	}
	env.state = s
	return nil
}

// function is one deployed function: an entry task at a memory size.
type function struct {
	id         fusionsim.FunctionID
	name       string // fusion-function-<TASK>-<MB>
	task       fusionsim.Task
	memoryMB   int
	memoryText string // memoryMB in decimal, the init message's memoryAvail
	share      float64
	cores      int
	burstMs    float64 // CPU quota bucket, vCPU-ms (model.CPU.Burst)
	timeout    time.Duration
	reserved   int // reserved concurrency; 0: none

	idle   []*environment // idle environments, most recently used last
	active int            // initializing or busy environments

	// Scaling: a token bucket of environments the function may add.
	tokens   float64
	tokensAt time.Duration

	// routes are the calls its task code made and how they run
	// (Emulator.routes holds them all), direct-mapped by the address of
	// the called task's name (task code passes the same string each
	// time): a call is found here without hashing its strings.
	routes [16]cachedRoute
}

type cachedRoute struct {
	setup  *fusionsim.Setup
	called string
	sync   bool
	ri     *routeInfo
}

// routeSlot is the cache entry of a call of called.
func (f *function) routeSlot(called string, sync bool) *cachedRoute {
	i := strtab.Slot(called, len(f.routes))
	if sync {
		i = (i + 1) % len(f.routes)
	}
	return &f.routes[i]
}

// cachedRoute returns how a call of called runs under setup, if it is in
// the function's cache (nil if not).
func (f *function) cachedRoute(setup *fusionsim.Setup, called string, sync bool) *routeInfo {
	if c := f.routeSlot(called, sync); c.ri != nil && c.setup == setup && c.sync == sync && c.called == called {
		return c.ri
	}
	return nil
}

func (f *function) cacheRoute(setup *fusionsim.Setup, called string, sync bool, ri *routeInfo) {
	*f.routeSlot(called, sync) = cachedRoute{setup, called, sync, ri}
}

// takeIdle pops the most recently used idle environment.
func (f *function) takeIdle() *environment {
	env, _ := pool.Pop(&f.idle)
	return env
}
