package lambdaapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/results"
)

// Config configures a Server.
type Config struct {
	// App is the application the functions run.
	App *fusionsim.App
	// Setups are the setups offered at start (configuration metadata).
	Setups fusionsim.Configs
	// Setup names the setup deployed at start ("": Setups.Latest()).
	Setup string
	// Profile holds the platform's parameters (model.Default() if zero).
	Profile model.Profile
	// Seed seeds the emulator's random source.
	Seed uint64
	// TimeScale is how many virtual seconds pass per wall second (0: 1),
	// from MinTimeScale to MaxTimeScale. With 100, modeled delays run 100
	// times faster than real ones.
	TimeScale float64
	// ReservedConcurrency caps functions by name (see emulator.Config).
	ReservedConcurrency map[string]int
	// Epoch is the wall time of virtual time zero, stamped on the logs
	// (zero: emulator.DefaultEpoch).
	Epoch time.Time
	// Out is the results directory (package results) Close writes:
	// manifest.json, summary.csv, traces/, responses/, configuration/,
	// logs/ and figures/. It is written atomically: the logs are spooled in
	// a sibling directory that is renamed at the end. It must not exist, be
	// empty or be a results directory fusionsim wrote (replaced; see
	// results.StageOptions). "" keeps the logs in a temporary directory
	// removed by Close.
	Out string
	// Force replaces Out whatever it holds.
	Force bool
	// BodyTimeout bounds the time a client may take to send a request's
	// body (0: DefaultBodyTimeout); a slower client gets 408 and its
	// connection is closed. The headers have ReadHeaderTimeout (10 s).
	BodyTimeout time.Duration
	// MaxConnections caps the open client connections Serve accepts (0:
	// DefaultMaxConnections); further clients wait until one closes.
	MaxConnections int
	// NoFigures skips drawing the results directory's figures.
	NoFigures bool
	// Command and Flags describe the command line in the manifest.
	Command string
	Flags   map[string]string
	// Now is the wall clock (time.Now if nil).
	Now func() time.Time
	// Log receives the server's notices: startup, shutdown, recovered
	// panics (nil: discarded).
	Log io.Writer
	// Wrap, if set, wraps the server's handler in Serve: a front that
	// answers some requests itself and passes the others on (cmd/emulator's
	// --aws-apis mounts the AWS API stand-in this way).
	Wrap func(http.Handler) http.Handler
}

// ErrOut is wrapped by New's error when Config.Out cannot be used.
var ErrOut = errors.New("lambdaapi: Config.Out")

// Bounds of Config.TimeScale. At MaxTimeScale a day of wall time is about
// 27 years of virtual time, far within the driver's range (MaxVirtual, 250
// years; the virtual clock is a time.Duration: 292 years), so the clock
// cannot overflow in a day, nor in a week; below MinTimeScale the waits for
// modeled events (keep-alive, retries) would last years.
const (
	MinTimeScale = 1e-3
	MaxTimeScale = 1e4
)

// Defaults of Config.BodyTimeout and Config.MaxConnections.
const (
	DefaultBodyTimeout    = 10 * time.Second
	DefaultMaxConnections = 256
)

// Server serves an application's functions over HTTP in real time; see the
// package documentation for its routes. Create it with New, then either
// serve Handler() yourself and end with Close, or call Serve, which does both.
type Server struct {
	cfg     Config
	profile model.Profile
	em      *emulator.Emulator
	drv     *Driver
	logs    *spool
	stage   *results.Stage // the results directory being written (nil without Out)
	spoolTo string         // the directory holding logs/ while the server runs
	log     *log.Logger
	router  *mux.Router
	started time.Time // wall
	listen  string    // the address Serve listens on

	// Owned by the driver's goroutine.
	open     int                  // client requests with invocations still running
	deployed fusionsim.Configs    // every setup deployed, by name
	deployAt map[string]time.Time // wall time of each setup's last deployment
	order    []string             // setups in the order of their first deployment
	roots    map[string]int       // root invocations per setup (the platform's own account)
	// responses are what the clients saw, by the setup that served the
	// request (the one deployed when it was handed to the emulator; about
	// 200 bytes a request); routes count the routes.
	responses   map[string][]*answer
	routeCounts map[string]map[string]int
	// functions are the functions each deployed setup has (its entry and
	// every function a remote rule reaches): other routes answer 404.
	functions map[string]map[fusionsim.FunctionID]bool

	// live extracts the traces of GET /emulator/traces incrementally.
	live *liveTraces

	// Read by any goroutine.
	counters counters
	closed   atomic.Bool
}

// counters count the HTTP requests the server answered, by kind.
type counters struct {
	requests  atomic.Int64 // every HTTP request
	invokes   atomic.Int64 // client requests handed to the emulator
	ok        atomic.Int64 // 2xx answers to invocations
	funcErrs  atomic.Int64 // invocations that ended with a function error
	throttled atomic.Int64 // 429 answers
	clientErr atomic.Int64 // other 4xx answers
	serverErr atomic.Int64 // 5xx answers
	panics    atomic.Int64 // panics recovered in handlers
}

// New creates the emulator, deploys the start setup and starts the driver.
func New(cfg Config) (*Server, error) {
	if cfg.App == nil {
		return nil, errors.New("lambdaapi: Config.App is nil")
	}
	if cfg.TimeScale == 0 {
		cfg.TimeScale = 1
	}
	if !(cfg.TimeScale >= MinTimeScale && cfg.TimeScale <= MaxTimeScale) {
		return nil, fmt.Errorf("lambdaapi: Config.TimeScale: %v is outside %g..%g (virtual seconds per wall second)", cfg.TimeScale, MinTimeScale, MaxTimeScale)
	}
	if cfg.BodyTimeout == 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.BodyTimeout < 0 || cfg.MaxConnections < 0 {
		return nil, fmt.Errorf("lambdaapi: Config.BodyTimeout %v and Config.MaxConnections %d must not be negative", cfg.BodyTimeout, cfg.MaxConnections)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if len(cfg.Setups) == 0 {
		return nil, fmt.Errorf("lambdaapi: Config.Setups: %w", fusionsim.ErrNoSetups)
	}
	name := cfg.Setup
	if name == "" {
		name = cfg.Setups.Latest()
	}
	setup, ok := cfg.Setups[name]
	if !ok {
		return nil, fmt.Errorf("lambdaapi: Config.Setup: %q is not a setup of the configuration metadata (setups: %s)", name, strings.Join(cfg.Setups.Names(), ", "))
	}
	if err := cfg.App.CheckSetup(setup); err != nil {
		return nil, fmt.Errorf("lambdaapi: %w", err)
	}
	s := &Server{
		cfg:         cfg,
		log:         log.New(cfg.Log, "emulator: ", 0),
		started:     cfg.Now(),
		deployed:    fusionsim.Configs{},
		deployAt:    map[string]time.Time{},
		roots:       map[string]int{},
		responses:   map[string][]*answer{},
		routeCounts: map[string]map[string]int{},
		functions:   map[string]map[fusionsim.FunctionID]bool{},
		live:        newLiveTraces(),
	}
	var err error
	if cfg.Out != "" {
		if s.stage, err = results.NewStageWith(cfg.Out, results.StageOptions{Force: cfg.Force}); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrOut, err)
		}
		s.spoolTo = s.stage.Dir()
	} else if s.spoolTo, err = os.MkdirTemp("", "fusionsim-emulator-"); err != nil {
		return nil, fmt.Errorf("lambdaapi: %w", err)
	}
	if s.logs, err = newSpool(filepath.Join(s.spoolTo, results.LogsDir)); err != nil {
		s.discard()
		return nil, fmt.Errorf("lambdaapi: %w", err)
	}
	s.em, err = emulator.New(emulator.Config{
		App: cfg.App, Profile: cfg.Profile, Seed: cfg.Seed, Epoch: cfg.Epoch, Log: s.logs,
		ReservedConcurrency: cfg.ReservedConcurrency,
		Record: func(r *emulator.Record) {
			if r.Root {
				s.roots[r.Setup]++
			}
		},
	})
	if err != nil {
		s.logs.close()
		s.discard()
		return nil, fmt.Errorf("lambdaapi: %w", err)
	}
	s.profile = s.em.Profile()
	if err := s.em.Deploy(context.Background(), setup); err != nil {
		s.em.Close()
		s.logs.close()
		s.discard()
		return nil, fmt.Errorf("lambdaapi: %w", err)
	}
	s.noteDeployed(name, setup)
	if s.drv, err = NewDriver(s.em, cfg.TimeScale, cfg.Now); err != nil {
		s.em.Close()
		s.logs.close()
		s.discard()
		return nil, err
	}
	s.drv.Start()
	s.router = s.routes()
	return s, nil
}

// Setup returns the name of the deployed setup.
func (s *Server) Setup(ctx context.Context) (string, error) {
	var name string
	err := s.drv.Do(ctx, func(em *emulator.Emulator) { name = em.Setup().Name() })
	return name, err
}

// discard removes the run's files.
func (s *Server) discard() {
	if s.stage != nil {
		s.stage.Abort()
		return
	}
	os.RemoveAll(s.spoolTo)
}

// noteDeployed records a deployment (on the driver's goroutine).
func (s *Server) noteDeployed(name string, setup *fusionsim.Setup) {
	if _, ok := s.deployed[name]; !ok {
		s.order = append(s.order, name)
	}
	s.deployed[name] = setup
	s.deployAt[name] = s.cfg.Now()
	s.functions[name] = setupFunctions(s.cfg.App, setup)
}

// hasFunction reports whether id names a task of the application at a valid
// memory size (the function exists or is created on first use). It reads
// only the immutable application, so any goroutine may call it.
func (s *Server) hasFunction(id fusionsim.FunctionID) bool {
	_, ok := s.cfg.App.Tasks[id.Task]
	return ok && id.MemoryMB >= fusionsim.MinMemoryMB && id.MemoryMB <= fusionsim.MaxMemoryMB
}

// Close ends the run: it lets every request already handed to the emulator
// finish (the virtual clock is fast-forwarded, since no client can send
// more), stops the driver, flushes the logs and, with Config.Out, writes
// the results directory. Stop serving HTTP (http.Server.Shutdown) first.
func (s *Server) Close(ctx context.Context) error {
	if s.closed.Swap(true) {
		return errors.New("lambdaapi: Close called twice")
	}
	var errs []error
	var drainErr error
	err := s.drv.Do(ctx, func(em *emulator.Emulator) { drainErr = s.drain(ctx, em) })
	errs = append(errs, err, drainErr)
	errs = append(errs, s.drv.Stop())
	errs = append(errs, s.logs.close())
	if s.stage != nil {
		incomplete := ""
		if err := errors.Join(err, drainErr, s.drv.Err()); err != nil {
			incomplete = "the emulator stopped before every request had finished: " + err.Error()
		}
		errs = append(errs, s.writeOut(incomplete))
	} else {
		os.RemoveAll(s.spoolTo)
	}
	s.em.Close()
	return errors.Join(errs...)
}

// drain runs the emulator as fast as it can until every client request has
// finished, on the driver's goroutine.
func (s *Server) drain(ctx context.Context, em *emulator.Emulator) error {
	if s.open > 0 {
		s.log.Printf("%d request(s) still running: fast-forwarding the virtual clock until they end", s.open)
	}
	for n := 0; s.open > 0; n++ {
		next, ok := em.NextEvent()
		if !ok {
			return fmt.Errorf("lambdaapi: %d request(s) unfinished with no event left", s.open)
		}
		if err := em.AdvanceTo(next); err != nil {
			return fmt.Errorf("lambdaapi: emulator: %w", err)
		}
		if n&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("lambdaapi: %d request(s) unfinished: %w", s.open, err)
			}
		}
	}
	return nil
}

// retryAfterS is the Retry-After of a throttled request, in wall seconds: the
// platform's first retry delay, scaled to the wall clock, at least 1.
func (s *Server) retryAfterS() int {
	return max(1, int(math.Ceil(s.profile.Limits.ThrottleRetryMinS/s.cfg.TimeScale)))
}

// payloadLimit is the invocation payload limit in bytes.
func (s *Server) payloadLimit(sync bool) int64 {
	mb := s.profile.Limits.AsyncPayloadMB
	if sync {
		mb = s.profile.Limits.SyncPayloadMB
	}
	return int64(mb * (1 << 20))
}

// readBody reads a request body of at most limit bytes, within
// Config.BodyTimeout. tooLarge is true when it is longer.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, tooLarge bool, err error) {
	if r.ContentLength > limit {
		return nil, true, nil
	}
	// A deadline for the body (ErrNotSupported without a connection, as
	// under httptest.ResponseRecorder: then there is none), cleared after:
	// a sync request may wait long for its answer.
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout)) == nil {
		defer rc.SetReadDeadline(time.Time{})
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, true, nil
	}
	return b, false, err
}

// writeBodyError answers a request whose body could not be read: 408 when
// the client took longer than Config.BodyTimeout (the connection is then
// closed), else 400.
func (s *Server) writeBodyError(w http.ResponseWriter, err error) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		w.Header().Set("Connection", "close")
		writeServiceError(w, http.StatusRequestTimeout, ErrRequestTimeout,
			fmt.Sprintf("the request body was not received within %v", s.cfg.BodyTimeout))
		return
	}
	writeServiceError(w, http.StatusBadRequest, ErrInvalidRequestContent, "reading the request body: "+err.Error())
}

// Serve serves HTTP on ln until ctx ends, then shuts down gracefully: it
// stops accepting connections, lets the requests in flight finish (for up
// to grace; then their connections are closed), and calls Close, which
// finishes the requests' remaining invocations and writes the run's files.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	s.listen = ln.Addr().String()
	ln = limitListener(ln, s.cfg.MaxConnections)
	h := s.Handler()
	if s.cfg.Wrap != nil {
		h = s.cfg.Wrap(h)
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(s.cfg.Log, "emulator: http: ", 0),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var errs []error
	select {
	case <-ctx.Done():
		s.log.Printf("shutting down: finishing the requests in flight (at most %v)", grace)
	case err := <-errc:
		errs = append(errs, fmt.Errorf("serving %s: %w", ln.Addr(), err))
	case <-s.drv.Done():
		// The emulator failed (an internal error): stop rather than answer
		// every request with a 500.
		errs = append(errs, fmt.Errorf("the emulator stopped: %w", s.drv.Err()))
		s.log.Printf("the emulator stopped: %v; shutting down", s.drv.Err())
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		s.log.Printf("requests still in flight after %v: closing their connections", grace)
		hs.Close()
	}
	if err := s.Close(context.Background()); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
