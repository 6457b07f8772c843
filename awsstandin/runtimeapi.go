package awsstandin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RuntimeAPI is a stand-in for the Lambda Runtime API (version 2018-06-01)
// that a custom runtime's bootstrap polls: GET .../invocation/next hands out
// the events given to Invoke, POST .../invocation/<id>/response and
// .../error return their outcome, POST .../init/error reports a failed
// start. Point a bootstrap at it with AWS_LAMBDA_RUNTIME_API=<host:port>.
type RuntimeAPI struct {
	// FunctionArn is sent as Lambda-Runtime-Invoked-Function-Arn.
	FunctionArn string

	events  chan *runtimeInvocation
	mu      sync.Mutex
	open    map[string]*runtimeInvocation
	initMu  sync.Mutex
	initErr string
}

// RuntimeResult is the outcome of one invocation through the Runtime API.
type RuntimeResult struct {
	RequestID string
	// Payload is the response, or the error document on an error.
	Payload []byte
	// ErrorType is the errorType of an error document (or the
	// Lambda-Runtime-Function-Error-Type header, or "Unhandled"); "" on
	// success.
	ErrorType string
	// Start is when the runtime took the event (its GET next returned);
	// End when it posted the outcome.
	Start, End time.Time
}

type runtimeInvocation struct {
	id       string
	payload  []byte
	deadline time.Time
	result   chan RuntimeResult
	start    time.Time
}

// NewRuntimeAPI makes a Runtime API stand-in; serve it on a listener.
func NewRuntimeAPI(functionArn string) *RuntimeAPI {
	return &RuntimeAPI{
		FunctionArn: functionArn,
		events:      make(chan *runtimeInvocation),
		open:        map[string]*runtimeInvocation{},
	}
}

// ErrInit is returned by Invoke when the runtime reported an init error.
var ErrInit = errors.New("the runtime reported an init error")

// Invoke hands payload to the runtime's next poll and waits for its
// outcome, or for ctx to end. timeout sets the deadline the runtime sees.
func (a *RuntimeAPI) Invoke(ctx context.Context, payload []byte, timeout time.Duration) (RuntimeResult, error) {
	inv := &runtimeInvocation{id: newUUID(), payload: payload, deadline: time.Now().Add(timeout), result: make(chan RuntimeResult, 1)}
	a.mu.Lock()
	a.open[inv.id] = inv
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.open, inv.id)
		a.mu.Unlock()
	}()
	select {
	case a.events <- inv:
	case <-ctx.Done():
		return RuntimeResult{}, fmt.Errorf("no runtime polled for the event: %w (init error: %q)", ctx.Err(), a.InitError())
	}
	select {
	case r := <-inv.result:
		return r, nil
	case <-ctx.Done():
		return RuntimeResult{}, fmt.Errorf("no outcome for request %s: %w", inv.id, ctx.Err())
	}
}

// InitError is the body of the runtime's init error ("" if none).
func (a *RuntimeAPI) InitError() string {
	a.initMu.Lock()
	defer a.initMu.Unlock()
	return a.initErr
}

const runtimePrefix = "/2018-06-01/runtime/"

// ServeHTTP serves the Runtime API.
func (a *RuntimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, runtimePrefix)
	switch {
	case path == "invocation/next" && r.Method == http.MethodGet:
		a.next(w, r)
	case path == "init/error" && r.Method == http.MethodPost:
		b, _ := io.ReadAll(r.Body)
		a.initMu.Lock()
		a.initErr = string(b)
		a.initMu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	case strings.HasPrefix(path, "invocation/") && r.Method == http.MethodPost:
		parts := strings.Split(strings.TrimPrefix(path, "invocation/"), "/")
		if len(parts) != 2 || (parts[1] != "response" && parts[1] != "error") {
			http.Error(w, "unknown Runtime API path "+r.URL.Path, http.StatusNotFound)
			return
		}
		a.outcome(w, r, parts[0], parts[1] == "error")
	default:
		http.Error(w, "unknown Runtime API path "+r.Method+" "+r.URL.Path, http.StatusNotFound)
	}
}

func (a *RuntimeAPI) next(w http.ResponseWriter, r *http.Request) {
	var inv *runtimeInvocation
	select {
	case inv = <-a.events:
	case <-r.Context().Done():
		return
	}
	a.mu.Lock()
	inv.start = time.Now()
	a.mu.Unlock()
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", a.FunctionArn)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0")
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(inv.payload)
}

func (a *RuntimeAPI) outcome(w http.ResponseWriter, r *http.Request, id string, failed bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	inv, ok := a.open[id]
	var start time.Time
	if ok {
		start = inv.start
	}
	a.mu.Unlock()
	if !ok {
		http.Error(w, "unknown request id "+id, http.StatusBadRequest)
		return
	}
	res := RuntimeResult{RequestID: id, Payload: body, Start: start, End: time.Now()}
	if failed {
		var doc struct {
			ErrorType string `json:"errorType"`
		}
		res.ErrorType = r.Header.Get("Lambda-Runtime-Function-Error-Type")
		if json.Unmarshal(body, &doc) == nil && doc.ErrorType != "" {
			res.ErrorType = doc.ErrorType
		}
		if res.ErrorType == "" {
			res.ErrorType = "Unhandled"
		}
	}
	select {
	case inv.result <- res:
	default: // a second outcome for the same request is ignored
	}
	w.WriteHeader(http.StatusAccepted)
}
