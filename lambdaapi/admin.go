package lambdaapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/trace"
)

// maxSetupBytes bounds an uploaded configuration metadata document
// (compressed or not).
const maxSetupBytes = trace.MaxConfigBytes

// handleGetSetup is GET /emulator/setup[?name=NAME]: the deployed setup, or
// the setup NAME deployed during the run (404 if there is none), as
// configuration metadata holding that one setup, ready to be edited and
// PUT back.
func (s *Server) handleGetSetup(w http.ResponseWriter, r *http.Request) {
	s.getSetups(w, r, false)
}

// handleGetSetups is GET /emulator/setups[?name=NAME]: every setup deployed
// during the run (or only NAME), as configuration metadata.
func (s *Server) handleGetSetups(w http.ResponseWriter, r *http.Request) {
	s.getSetups(w, r, true)
}

func (s *Server) getSetups(w http.ResponseWriter, r *http.Request, all bool) {
	name, named := r.URL.Query()["name"]
	var c fusionsim.Configs
	var deployed []string
	if err := s.drv.Do(r.Context(), func(em *emulator.Emulator) {
		deployed = slices.Clone(s.order)
		switch {
		case named:
			if setup, ok := s.deployed[name[0]]; ok {
				c = fusionsim.Configs{name[0]: setup}
			}
		case all:
			c = cloneConfigs(s.deployed)
		default:
			c = fusionsim.Configs{em.Setup().Name(): em.Setup()}
		}
	}); err != nil {
		s.writeStopped(w, err)
		return
	}
	if c == nil {
		writeServiceError(w, http.StatusNotFound, ErrResourceNotFound,
			fmt.Sprintf("name: no setup %q was deployed (setups deployed: %s)", name[0], strings.Join(deployed, ", ")))
		return
	}
	s.writeConfigs(w, c)
}

func (s *Server) writeConfigs(w http.ResponseWriter, c fusionsim.Configs) {
	b, err := c.Marshal()
	if err != nil {
		writeServiceError(w, http.StatusInternalServerError, ErrService, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(append(b, '\n'))
}

func cloneConfigs(c fusionsim.Configs) fusionsim.Configs {
	out := make(fusionsim.Configs, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// deployResult is the answer to a setup upload.
type deployResult struct {
	Deployed  string   `json:"deployed"`
	Functions []string `json:"functions"`
}

// handlePutSetup is PUT or POST /emulator/setup[?name=NAME]: the body is
// configuration metadata (JSON, gzip accepted); the setup NAME, or the
// latest one, is deployed at once. Like a configuration update on Lambda,
// every execution environment is discarded. Requests in flight finish under
// the setup they started with.
func (s *Server) handlePutSetup(w http.ResponseWriter, r *http.Request) {
	body, tooLarge, err := s.readBody(w, r, maxSetupBytes)
	switch {
	case tooLarge:
		writeServiceError(w, http.StatusRequestEntityTooLarge, ErrRequestTooLarge, fmt.Sprintf("configuration metadata must be smaller than %d bytes", maxSetupBytes))
		return
	case err != nil:
		s.writeBodyError(w, err)
		return
	}
	configs, err := trace.ParseConfigData(body)
	if err != nil {
		writeServiceError(w, http.StatusBadRequest, ErrInvalidRequestContent, err.Error())
		return
	}
	name := r.URL.Query().Get("name")
	if _, named := r.URL.Query()["name"]; !named {
		name = configs.Latest()
	}
	setup, ok := configs[name]
	if !ok {
		writeServiceError(w, http.StatusNotFound, ErrResourceNotFound,
			fmt.Sprintf("name: setup %q is not in the configuration metadata (setups: %s)", name, strings.Join(configs.Names(), ", ")))
		return
	}
	if err := s.cfg.App.CheckSetup(setup); err != nil {
		writeServiceError(w, http.StatusBadRequest, ErrInvalidRequestContent, err.Error())
		return
	}
	var res deployResult
	var conflict, deployErr error
	err = s.drv.Do(r.Context(), func(em *emulator.Emulator) {
		if prev, ok := s.deployed[name]; ok && !sameSetup(prev, setup) {
			conflict = fmt.Errorf("setup %q was deployed before with other rules; its traces would mix: give the new setup another name", name)
			return
		}
		if deployErr = em.Deploy(context.Background(), setup); deployErr != nil {
			return
		}
		s.noteDeployed(name, setup)
		fns, _ := s.deployedFunctions(em)
		res = deployResult{Deployed: name, Functions: make([]string, len(fns))}
		for i, f := range fns {
			res.Functions[i] = f.FunctionName
		}
	})
	switch {
	case err != nil:
		s.writeStopped(w, err)
	case conflict != nil:
		writeServiceError(w, http.StatusConflict, ErrResourceConflict, conflict.Error())
	case deployErr != nil:
		writeServiceError(w, http.StatusBadRequest, ErrInvalidRequestContent, deployErr.Error())
	default:
		s.log.Printf("deployed setup %s", name)
		writeJSON(w, http.StatusOK, res)
	}
}

func sameSetup(a, b *fusionsim.Setup) bool {
	x, err1 := fusionsim.Configs{"s": a}.Marshal()
	y, err2 := fusionsim.Configs{"s": b}.Marshal()
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// logSnapshot flushes the logs on the driver and returns their files.
func (s *Server) logSnapshot(ctx context.Context) ([]logFile, error) {
	var files []logFile
	var serr error
	if err := s.drv.Do(ctx, func(*emulator.Emulator) { files, serr = s.logs.snapshot() }); err != nil {
		return nil, err
	}
	return files, serr
}

// handleListLogs is GET /emulator/logs: the functions that wrote logs, with
// their sizes.
func (s *Server) handleListLogs(w http.ResponseWriter, r *http.Request) {
	files, err := s.logSnapshot(r.Context())
	if err != nil {
		s.writeStopped(w, err)
		return
	}
	type entry struct {
		logFile
		URL string `json:"url"`
	}
	out := make([]entry, len(files))
	for i, f := range files {
		out[i] = entry{f, adminPrefix + "/logs/" + f.Function}
	}
	writeJSON(w, http.StatusOK, struct {
		Functions []entry `json:"functions"`
	}{out})
}

// handleGetLog is GET /emulator/logs/{function}: one function's log as
// plain text, one line per log line, as written so far. It honours Range
// headers, so a client can follow a log by asking for the bytes after those
// it has.
func (s *Server) handleGetLog(w http.ResponseWriter, r *http.Request) {
	ref := mux.Vars(r)["function"]
	id, _, err := parseFunctionRef(ref)
	if err != nil {
		writeServiceError(w, http.StatusNotFound, ErrResourceNotFound, s.notFoundMessage(ref, id, err))
		return
	}
	files, err := s.logSnapshot(r.Context())
	if err != nil {
		s.writeStopped(w, err)
		return
	}
	for _, f := range files {
		if f.Function != id.Name() {
			continue
		}
		fh, err := os.Open(f.Path)
		if err != nil {
			writeServiceError(w, http.StatusInternalServerError, ErrService, err.Error())
			return
		}
		defer fh.Close()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		// Range requests ("Range: bytes=<offset>-") read only what was
		// added since an earlier read.
		http.ServeContent(w, r, "", time.Time{}, io.NewSectionReader(fh, 0, f.Bytes))
		return
	}
	writeServiceError(w, http.StatusNotFound, ErrResourceNotFound, fmt.Sprintf("function %s has written no log yet", id.Name()))
}

// liveUpdate brings the live traces up to the logs written so far and
// returns them locked: call lt.mu.Unlock when done.
func (s *Server) liveUpdate(ctx context.Context) (*liveTraces, error) {
	files, err := s.logSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	lt := s.live
	lt.mu.Lock()
	if err := lt.update(files); err != nil {
		lt.mu.Unlock()
		return nil, fmt.Errorf("extracting traces: %w", err)
	}
	return lt, nil
}

// extractFiles extracts the traces of the log files (up to their snapshot
// sizes) at once.
func extractFiles(files []logFile) (*trace.Extraction, error) {
	x := trace.NewExtractor(trace.Options{})
	for _, f := range files {
		fh, err := os.Open(f.Path)
		if err != nil {
			return nil, err
		}
		err = x.AddReader(io.LimitReader(fh, f.Bytes), f.Path)
		fh.Close()
		if err != nil {
			return nil, err
		}
	}
	return x.Finish(), nil
}

// traceSummary describes the traces of one setup.
type traceSummary struct {
	Setup           string `json:"setup"`
	Records         int    `json:"records"`
	RootInvocations int    `json:"rootInvocations"`
	URL             string `json:"url"`
}

// handleListTraces is GET /emulator/traces: the traces extracted from the
// logs so far, per setup, and what could not be extracted (invocations that
// are still running count as incomplete). Each call reads only the lines
// written since the previous one.
func (s *Server) handleListTraces(w http.ResponseWriter, r *http.Request) {
	lt, err := s.liveUpdate(r.Context())
	if err != nil {
		s.writeTracesError(w, err)
		return
	}
	defer lt.mu.Unlock()
	names := lt.names()
	sums := make([]traceSummary, 0, len(names))
	for _, name := range names {
		sums = append(sums, traceSummary{Setup: name, Records: len(lt.recs[name]), RootInvocations: lt.roots[name], URL: adminPrefix + "/traces/" + name})
	}
	c := lt.x.Counts()
	writeJSON(w, http.StatusOK, struct {
		Setups       []traceSummary `json:"setups"`
		Lines        int            `json:"lines"`
		Invocations  int            `json:"invocations"`
		Incomplete   int            `json:"incomplete"`
		Malformed    int            `json:"malformed"`
		Inconsistent int            `json:"inconsistent"`
	}{sums, c.Lines, c.Invocations, lt.x.Open(), c.Malformed, c.Inconsistent})
}

// writeTracesError answers a failed extraction: the driver's error, or 500.
func (s *Server) writeTracesError(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrStopped) || errors.Is(err, context.Canceled) {
		s.writeStopped(w, err)
		return
	}
	writeServiceError(w, http.StatusInternalServerError, ErrService, err.Error())
}

// handleGetTraces is GET /emulator/traces/{setup}: the setup's invocation
// records so far, as the prototype's <setup>.json holds them.
func (s *Server) handleGetTraces(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["setup"]
	lt, err := s.liveUpdate(r.Context())
	if err != nil {
		s.writeTracesError(w, err)
		return
	}
	recs, ok := lt.records(name)
	names := lt.names()
	lt.mu.Unlock()
	if !ok {
		writeServiceError(w, http.StatusNotFound, ErrResourceNotFound,
			fmt.Sprintf("no traces of setup %q yet (setups with traces: %s)", name, strings.Join(names, ", ")))
		return
	}
	b, err := trace.MarshalRecords(recs)
	if err != nil {
		writeServiceError(w, http.StatusInternalServerError, ErrService, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// Stats is what GET /emulator/stats reports.
type Stats struct {
	App          string  `json:"app"`
	Setup        string  `json:"setup"`
	TimeScale    float64 `json:"timeScale"`
	VirtualTime  string  `json:"virtualTime"`
	WallElapsedS float64 `json:"wallElapsedS"`
	// OpenRequests are client requests with invocations still running.
	OpenRequests int `json:"openRequests"`
	// Requests are the client requests handed to the emulator per setup
	// (the setup that serves each); RootInvocations per setup, from the
	// platform's own account (once every request has ended, one per
	// request but for entry throttles and async retries).
	Requests        map[string]int `json:"requests"`
	RootInvocations map[string]int `json:"rootInvocations"`
	HTTP            HTTPStats      `json:"http"`
	Platform        emulator.Stats `json:"platform"`
}

// HTTPStats count the HTTP requests answered.
type HTTPStats struct {
	Requests       int64 `json:"requests"`
	Invocations    int64 `json:"invocations"` // client requests handed to the emulator
	OK             int64 `json:"ok"`          // answered 200 or 202 with a result
	FunctionErrors int64 `json:"functionErrors"`
	Throttled      int64 `json:"throttled"`
	ClientErrors   int64 `json:"clientErrors"` // other 4xx
	ServerErrors   int64 `json:"serverErrors"` // 5xx
	Panics         int64 `json:"panics"`       // recovered
}

// Stats returns the server's counters.
func (s *Server) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.drv.Do(ctx, func(em *emulator.Emulator) { st = s.statsOnDriver(em) })
	return st, err
}

func (s *Server) statsOnDriver(em *emulator.Emulator) Stats {
	roots := make(map[string]int, len(s.roots))
	for k, v := range s.roots {
		roots[k] = v
	}
	c := &s.counters
	return Stats{
		App:             s.cfg.App.Name,
		Setup:           em.Setup().Name(),
		TimeScale:       s.cfg.TimeScale,
		VirtualTime:     em.Now().UTC().Format(time.RFC3339Nano),
		WallElapsedS:    s.cfg.Now().Sub(s.started).Seconds(),
		OpenRequests:    s.open,
		Requests:        s.requestCounts(),
		RootInvocations: roots,
		HTTP: HTTPStats{
			Requests: c.requests.Load(), Invocations: c.invokes.Load(), OK: c.ok.Load(),
			FunctionErrors: c.funcErrs.Load(), Throttled: c.throttled.Load(),
			ClientErrors: c.clientErr.Load(), ServerErrors: c.serverErr.Load(), Panics: c.panics.Load(),
		},
		Platform: em.Stats(),
	}
}

// handleStats is GET /emulator/stats.
func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.Stats(r.Context())
	if err != nil {
		s.writeStopped(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// handleIndex is GET /: what this server is and its routes.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	var setup string
	if err := s.drv.Do(r.Context(), func(em *emulator.Emulator) { setup = em.Setup().Name() }); err != nil {
		s.writeStopped(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Service   string   `json:"service"`
		App       string   `json:"app"`
		Entry     string   `json:"entry"`
		Tasks     []string `json:"tasks"`
		Setup     string   `json:"setup"`
		TimeScale float64  `json:"timeScale"`
		Routes    []string `json:"routes"`
	}{
		Service: "fusionsim emulator", App: s.cfg.App.Name, Entry: s.cfg.App.Entry, Tasks: s.cfg.App.TaskNames(),
		Setup: setup, TimeScale: s.cfg.TimeScale, Routes: routeHelp,
	})
}

var routeHelp = []string{
	"POST /SYNC-<task>-<MB>, POST /SYNC-<task>: sync request, answers the task's JSON result (API Gateway route)",
	"POST /<task>-<MB>, POST /<task>: async request, answers 202 at once (API Gateway route)",
	"POST /2015-03-31/functions/<name>/invocations: Lambda Invoke (X-Amz-Invocation-Type RequestResponse|Event|DryRun, X-Amz-Log-Type Tail); <name> is fusion-function-<task>-<MB>, <task>-<MB> or an ARN",
	"GET /2015-03-31/functions/: ListFunctions; GET /2015-03-31/functions/<name>: GetFunction",
	"GET /emulator/setup: the deployed setup; PUT or POST /emulator/setup[?name=NAME]: deploy configuration metadata (JSON or gzip)",
	"GET /emulator/setups: every setup deployed during the run",
	"GET /emulator/logs, GET /emulator/logs/<function>: the Lambda logs",
	"GET /emulator/traces, GET /emulator/traces/<setup>: invocation records extracted from the logs",
	"GET /emulator/stats: counters of the HTTP front and the platform",
}
