package awsstandin

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/aws/handler"
)

// Backend runs the stand-in's invocations and holds their logs.
type Backend interface {
	// Deploy makes setup the configuration of every function; like a
	// configuration update on Lambda, it discards execution environments.
	Deploy(ctx context.Context, setup *fusionsim.Setup) error
	// Invoke serves a Lambda Invoke request (headers and payload as the
	// client sent them) for function id, writing the Invoke API's answer.
	Invoke(w http.ResponseWriter, r *http.Request, id fusionsim.FunctionID)
	// Logs returns the log lines of function id written so far, in order,
	// each with its time.
	Logs(ctx context.Context, id fusionsim.FunctionID) ([]LogEvent, error)
}

// LogEvent is one log line with its time.
type LogEvent struct {
	Time    time.Time
	Message string
}

// functionID is the function a configuration runs: its entry task
// (FUNCTION_TO_HANDLE) at its memory size.
func functionID(c FunctionConfiguration) (fusionsim.FunctionID, error) {
	var task string
	if c.Environment != nil {
		task = c.Environment.Variables[handler.EnvEntry]
	}
	if task == "" {
		return fusionsim.FunctionID{}, fmt.Errorf("function %s has no %s in its environment: not a fusion function", c.FunctionName, handler.EnvEntry)
	}
	return fusionsim.FunctionID{Task: task, MemoryMB: c.MemorySize}, nil
}

func (s *Server) invoke(w http.ResponseWriter, r *http.Request, name string) {
	s.mu.Lock()
	f, ok := s.functions[name]
	var c FunctionConfiguration
	if ok {
		c = f.cfg
	}
	s.mu.Unlock()
	if !ok {
		notFound(w, s, name)
		return
	}
	if c.State != "Active" {
		writeRESTError(w, http.StatusConflict, "ResourceConflictException",
			"The operation cannot be performed at this time. The function is currently in the following state: "+c.State)
		return
	}
	if s.cfg.Backend == nil {
		writeRESTError(w, http.StatusNotImplemented, "ServiceException", "the AWS stand-in has no backend to run functions")
		return
	}
	id, err := functionID(c)
	if err != nil {
		writeRESTError(w, http.StatusBadRequest, "InvalidRuntimeException", err.Error())
		return
	}
	if err := s.syncSetup(r.Context(), c); err != nil {
		s.log.Printf("deploying the functions' setup: %v", err)
		writeRESTError(w, http.StatusInternalServerError, "ServiceException", "deploying the functions' setup on the backend: "+err.Error())
		return
	}
	s.cfg.Backend.Invoke(w, r, id)
}

// syncSetup deploys on the backend the setup of the function c, as the
// functions' configurations give it, when any function changed since the
// last deployment.
func (s *Server) syncSetup(ctx context.Context, c FunctionConfiguration) error {
	name := c.Environment.Variables[handler.EnvSetup]
	s.deployMu.Lock()
	defer s.deployMu.Unlock()
	s.mu.Lock()
	if s.gen == s.deployed && name == s.deployedSetup {
		s.mu.Unlock()
		return nil
	}
	gen := s.gen
	setup, err := s.assemble(name)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if err := s.cfg.Backend.Deploy(ctx, setup); err != nil {
		return err
	}
	s.log.Printf("deployed setup %s (%d rule rows) on the backend", name, len(setup.Rules))
	s.mu.Lock()
	s.deployed, s.deployedSetup = gen, name
	s.mu.Unlock()
	return nil
}

// assemble builds the setup called name from the rule rows of the functions
// that carry it (under s.mu).
func (s *Server) assemble(name string) (*fusionsim.Setup, error) {
	if name == "" {
		return nil, fmt.Errorf("the function has no %s: not deployed by the fusion backend", handler.EnvSetup)
	}
	setup := &fusionsim.Setup{Rules: fusionsim.Rules{}, TraceName: fusionsim.NewTraceName(name)}
	names := make([]string, 0, len(s.functions))
	for n := range s.functions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := s.functions[n].cfg
		if c.Environment == nil || c.Environment.Variables[handler.EnvSetup] != name {
			continue
		}
		entry := c.Environment.Variables[handler.EnvEntry]
		row, err := handler.DecodeRules(c.Environment.Variables[handler.EnvRules])
		if err != nil {
			return nil, fmt.Errorf("function %s: %s: %w", n, handler.EnvRules, err)
		}
		setup.Rules[entry] = row
	}
	return setup, setup.Validate()
}

// EmulatorBackend runs invocations on the HTTP emulator (package lambdaapi)
// through its routes: PUT /emulator/setup to deploy, the Lambda Invoke API
// under the emulator's function names (fusion-function-<TASK>-<MB>), GET
// /emulator/logs/<function> for the logs.
type EmulatorBackend struct {
	// Handler serves the emulator's routes: lambdaapi.Server.Handler() in
	// the same process, or a reverse proxy to a running cmd/emulator.
	Handler http.Handler
}

var _ Backend = EmulatorBackend{}

// RemoteEmulator is the backend of a running cmd/emulator at base (e.g.
// http://127.0.0.1:8080), reached through a reverse proxy. Run it with
// --time-scale 1 so that its log times are wall-clock times.
func RemoteEmulator(base string) (EmulatorBackend, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return EmulatorBackend{}, fmt.Errorf("emulator URL %q: an http:// or https:// URL with a host", base)
	}
	return EmulatorBackend{Handler: httputil.NewSingleHostReverseProxy(u)}, nil
}

// Deploy uploads setup as configuration metadata and deploys it.
func (b EmulatorBackend) Deploy(ctx context.Context, setup *fusionsim.Setup) error {
	body, err := fusionsim.Configs{setup.Name(): setup}.Marshal()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "/emulator/setup?name="+url.QueryEscape(setup.Name()), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	rec := serve(b.Handler, req)
	if rec.status != http.StatusOK {
		return fmt.Errorf("emulator: PUT /emulator/setup: %d %s", rec.status, strings.TrimSpace(rec.body.String()))
	}
	return nil
}

// Invoke forwards the request to the emulator's Invoke API.
func (b EmulatorBackend) Invoke(w http.ResponseWriter, r *http.Request, id fusionsim.FunctionID) {
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/2015-03-31/functions/" + id.Name() + "/invocations"
	r2.URL.RawPath = ""
	r2.RequestURI = ""
	b.Handler.ServeHTTP(w, r2)
}

// Logs reads the emulator's log of id and gives every line a time.
func (b EmulatorBackend) Logs(ctx context.Context, id fusionsim.FunctionID) ([]LogEvent, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/emulator/logs/"+id.Name(), nil)
	if err != nil {
		return nil, err
	}
	rec := serve(b.Handler, req)
	switch rec.status {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, nil // no log yet
	default:
		return nil, fmt.Errorf("emulator: GET /emulator/logs/%s: %d %s", id.Name(), rec.status, strings.TrimSpace(rec.body.String()))
	}
	return TimeLines(rec.body.Bytes())
}

// TimeLines splits a log into lines and gives each its time: its own
// leading timestamp, or for control lines (START, END, REPORT) that of the
// nearest timestamped line (the next for START, the previous for the
// others). Lines before the first timestamp take the first one.
func TimeLines(log []byte) ([]LogEvent, error) {
	var evs []LogEvent
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var unknown []int // lines waiting for a time
	var last time.Time
	for sc.Scan() {
		line := sc.Text()
		ev := LogEvent{Message: line}
		t, ok := lineTime(line)
		switch {
		case ok:
			ev.Time = t
			for _, i := range unknown {
				evs[i].Time = t
			}
			unknown = unknown[:0]
			last = t
		case strings.HasPrefix(line, "START ") || last.IsZero():
			unknown = append(unknown, len(evs))
		default:
			ev.Time = last
		}
		evs = append(evs, ev)
	}
	for _, i := range unknown {
		evs[i].Time = last
	}
	return evs, sc.Err()
}

// lineTime parses the "2006-01-02T15:04:05.000Z" prefix of a runtime line.
func lineTime(line string) (time.Time, bool) {
	if len(line) < 24 || line[4] != '-' || line[10] != 'T' || line[23] != 'Z' {
		return time.Time{}, false
	}
	t, err := time.Parse(fusionsim.TimestampLayout, line[:24])
	return t, err == nil
}

// recorder is a minimal in-memory http.ResponseWriter.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func serve(h http.Handler, req *http.Request) *recorder {
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec
}
