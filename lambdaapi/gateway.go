package lambdaapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/fusionsim/fusionsim"
)

// handleGateway serves the API Gateway routes the prototype's load tests and
// remote calls used: POST /SYNC-<task>-<MB> and /SYNC-<task> answer with the
// task's JSON result; POST /<task>-<MB> and /<task> queue the event and
// answer 202 at once.
func (s *Server) handleGateway(w http.ResponseWriter, r *http.Request) {
	path := mux.Vars(r)["route"]
	route, err := fusionsim.ParseRoute(path)
	if err != nil {
		writeServiceError(w, http.StatusNotFound, ErrResourceNotFound,
			fmt.Sprintf("no function behind route /%s: %v; routes are /SYNC-<task>-<MB>, /SYNC-<task>, /<task>-<MB>, /<task>", path, err))
		return
	}
	if id := route.Function(); !s.hasFunction(id) {
		writeServiceError(w, http.StatusNotFound, ErrResourceNotFound,
			fmt.Sprintf("no function behind route /%s: %q is not a task of %s (tasks: %s)", path, id.Task, s.cfg.App.Name, strings.Join(s.cfg.App.TaskNames(), ", ")))
		return
	}
	ev, ok := s.readEvent(w, r, route.Sync)
	if !ok {
		return
	}
	ch, a, err := s.submit(r.Context(), route, ev, false)
	if err != nil {
		if r.Context().Err() == nil {
			s.writeSubmitError(w, err)
		}
		return
	}
	defer noteAnswer(w, a)
	if !route.Sync {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusAccepted)
		s.counters.ok.Add(1)
		return
	}
	o, ok := s.await(w, r, ch)
	if !ok {
		return
	}
	if o.resp.RequestID != "" {
		w.Header().Set("X-Amzn-RequestId", o.resp.RequestID)
	}
	var fe *fusionsim.FunctionError
	switch err := o.resp.Err; {
	case err == nil:
		s.counters.ok.Add(1)
		writeResult(w, http.StatusOK, o.resp.Result)
	case errors.As(err, &fe):
		// API Gateway answers a failed Lambda integration with 502; the
		// error's type and message are added for the client's benefit.
		s.counters.funcErrs.Add(1)
		w.Header().Set("X-Amz-Function-Error", functionErrorHeader(fe))
		writeJSON(w, http.StatusBadGateway, struct {
			Message string `json:"message"`
			functionErrorBody
		}{"Internal server error", newFunctionErrorBody(fe)})
	default:
		s.writePlatformError(w, err)
	}
}
