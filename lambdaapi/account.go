package lambdaapi

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/workloads"
)

// The server's account of the client requests: each request handed to the
// emulator is attributed, on the driver's goroutine, to the setup deployed
// at that moment; the emulator runs every invocation of the request under
// that setup (emulator.Submit), so responses/, the traces and the stats
// agree per setup whatever is redeployed meanwhile. responses/ records the
// HTTP status the client was sent, not the emulator's guess of it: the
// Invoke API answers a function error with 200, a gateway route with 502.

// answer is one client request's line of responses/<setup>.csv.
type answer struct {
	// resp is the emulator's response (times, request id, error); set on
	// the driver's goroutine.
	resp fusionsim.Response
	// status is the HTTP status written to the client; 0 while none is
	// (and for good when the client went away first).
	status atomic.Int32
}

// errNotDeployed is wrapped by the outcome of a request to a function the
// deployed setup does not have (404, as Lambda answers for a function that
// does not exist).
var errNotDeployed = errors.New("function not deployed")

// setupFunctions are the functions a setup deploys: its entry functions
// (workloads.EntryRoutes; the application's entry at the default size when
// the setup names none) and every function a remote rule reaches.
func setupFunctions(app *fusionsim.App, setup *fusionsim.Setup) map[fusionsim.FunctionID]bool {
	entry := fusionsim.FunctionID{Task: app.Entry, MemoryMB: fusionsim.DefaultMemoryMB}
	ids := map[fusionsim.FunctionID]bool{}
	if rts, err := workloads.EntryRoutes(app, setup); err == nil {
		for _, rt := range rts {
			ids[rt.Function()] = true
		}
	} else {
		ids[entry] = true
	}
	for _, m := range setup.Rules {
		for _, p := range m {
			for _, r := range []fusionsim.Rule{p.Sync, p.Async} {
				if r.Strategy != fusionsim.Remote {
					continue
				}
				if rt, err := r.Route(); err == nil {
					ids[rt.Function()] = true
				}
			}
		}
	}
	return ids
}

// serves reports whether the deployed setup has function id; else the
// error says which functions it has. It runs on the driver.
func (s *Server) serves(em *emulator.Emulator, id fusionsim.FunctionID) error {
	name := em.Setup().Name()
	fns := s.functions[name]
	if fns[id] {
		return nil
	}
	have := make([]string, 0, len(fns))
	for f := range fns {
		have = append(have, f.Short())
	}
	sort.Strings(have)
	return fmt.Errorf("%w: Function not found: %s (the deployed setup %s has no function %s; its functions: %s)",
		errNotDeployed, functionARN(id.Name()), name, id.Short(), strings.Join(have, ", "))
}

// noteAnswer records the status the client was sent for a, from the
// status writer of Handler (0 when nothing was written).
func noteAnswer(w http.ResponseWriter, a *answer) {
	if sw, ok := w.(*statusWriter); ok && sw.wrote {
		a.status.Store(int32(sw.status))
	}
}

// errNoAnswer is the error of a request whose client went away before its
// answer was written.
var errNoAnswer = errors.New("no answer sent: the client closed the connection first")

// clientResponses are the lines of responses/<setup>.csv: the emulator's
// times and request id, the status the client was sent.
func (s *Server) clientResponses(setup string) []fusionsim.Response {
	as := s.responses[setup]
	out := make([]fusionsim.Response, len(as))
	for i, a := range as {
		r := a.resp
		r.Result = nil // the results directory keeps times, status and error only
		r.StatusCode = int(a.status.Load())
		if r.StatusCode == 0 && r.Err == nil {
			r.Err = errNoAnswer
		}
		out[i] = r
	}
	return out
}

// requestCounts are the client requests per setup.
func (s *Server) requestCounts() map[string]int {
	n := make(map[string]int, len(s.responses))
	for k, v := range s.responses {
		n[k] = len(v)
	}
	return n
}

// writeSubmitError answers a request the emulator did not take: 404 for a
// function the deployed setup does not have, else 503/500 (writeStopped).
func (s *Server) writeSubmitError(w http.ResponseWriter, err error) {
	if errors.Is(err, errNotDeployed) {
		writeServiceError(w, http.StatusNotFound, ErrResourceNotFound, strings.TrimPrefix(err.Error(), errNotDeployed.Error()+": "))
		return
	}
	s.writeStopped(w, err)
}
