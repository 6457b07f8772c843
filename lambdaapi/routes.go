package lambdaapi

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/gorilla/mux"

	"github.com/fusionsim/fusionsim"
)

// Paths of the server's own endpoints. They have two segments, so they never
// collide with a gateway route (/<route>, one segment).
const (
	lambdaPrefix = "/2015-03-31/functions"
	adminPrefix  = "/emulator"
)

func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	r.StrictSlash(false)
	// The Lambda API.
	r.HandleFunc(lambdaPrefix+"/{name}/invocations", s.handleInvoke).Methods(http.MethodPost)
	r.HandleFunc(lambdaPrefix, s.handleListFunctions).Methods(http.MethodGet)
	r.HandleFunc(lambdaPrefix+"/", s.handleListFunctions).Methods(http.MethodGet)
	r.HandleFunc(lambdaPrefix+"/{name}", s.handleGetFunction).Methods(http.MethodGet)
	r.HandleFunc(lambdaPrefix+"/{name}/configuration", s.handleGetFunctionConfiguration).Methods(http.MethodGet)
	// The emulator's own endpoints.
	r.HandleFunc(adminPrefix+"/setup", s.handleGetSetup).Methods(http.MethodGet)
	r.HandleFunc(adminPrefix+"/setup", s.handlePutSetup).Methods(http.MethodPut, http.MethodPost)
	r.HandleFunc(adminPrefix+"/setups", s.handleGetSetups).Methods(http.MethodGet)
	r.HandleFunc(adminPrefix+"/logs", s.handleListLogs).Methods(http.MethodGet)
	r.HandleFunc(adminPrefix+"/logs/{function}", s.handleGetLog).Methods(http.MethodGet)
	r.HandleFunc(adminPrefix+"/traces", s.handleListTraces).Methods(http.MethodGet)
	r.HandleFunc(adminPrefix+"/traces/{setup}", s.handleGetTraces).Methods(http.MethodGet)
	r.HandleFunc(adminPrefix+"/stats", s.handleStats).Methods(http.MethodGet)
	r.HandleFunc("/", s.handleIndex).Methods(http.MethodGet)
	// The API Gateway routes of the prototype: SYNC-<task>-<MB>, <task>-<MB>, ...
	r.HandleFunc("/{route}", s.handleGateway).Methods(http.MethodPost)

	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeServiceError(w, http.StatusNotFound, ErrUnknownOperation,
			fmt.Sprintf("no route %s %s; GET / lists the routes", r.Method, r.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeServiceError(w, http.StatusMethodNotAllowed, ErrMethodNotAllowed,
			fmt.Sprintf("%s is not allowed on %s; GET / lists the routes", r.Method, r.URL.Path))
	})
	return r
}

// Handler is the server's HTTP handler: the routes, behind a layer that
// counts requests, gives every response a request id and turns panics into
// 500 ServiceException answers.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.counters.requests.Add(1)
		sw := &statusWriter{ResponseWriter: w}
		sw.Header().Set("X-Amzn-RequestId", newRequestID())
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.counters.panics.Add(1)
				s.log.Printf("recovered a panic serving %s %s: %v\n%s", r.Method, r.URL.Path, v, debug.Stack())
				if !sw.wrote {
					writeServiceError(sw, http.StatusInternalServerError, ErrService, fmt.Sprintf("internal error serving %s %s (the emulator's log has the details)", r.Method, r.URL.Path))
				}
			}
			s.countStatus(sw.status)
		}()
		s.router.ServeHTTP(sw, r)
	})
}

func (s *Server) countStatus(status int) {
	switch {
	case status == http.StatusTooManyRequests:
		s.counters.throttled.Add(1)
	case status >= 500:
		s.counters.serverErr.Add(1)
	case status >= 400:
		s.counters.clientErr.Add(1)
	}
}

// statusWriter records the status a handler sent.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// newRequestID makes a version-4 UUID for the responses the emulator answers
// itself (the emulator's own invocations carry their Lambda request id).
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	return fusionsim.FormatRequestID(b)
}

// writeStopped answers a request the driver could not take: 503 while the
// server shuts down, 500 when the emulator failed.
func (s *Server) writeStopped(w http.ResponseWriter, err error) {
	if s.closed.Load() || (errors.Is(err, ErrStopped) && s.drv.Err() == nil) {
		writeServiceError(w, http.StatusServiceUnavailable, ErrServiceUnavailable, "the emulator is shutting down")
		return
	}
	writeServiceError(w, http.StatusInternalServerError, ErrService, err.Error())
}
