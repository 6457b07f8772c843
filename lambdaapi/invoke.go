package lambdaapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/gorilla/mux"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
)

// Account and region of the ARNs the emulator reports.
const (
	accountID = "123456789012"
	region    = "us-east-1"
)

// Invocation types (X-Amz-Invocation-Type).
const (
	invokeSync   = "RequestResponse"
	invokeEvent  = "Event"
	invokeDryRun = "DryRun"
)

func functionARN(name string) string {
	return "arn:aws:lambda:" + region + ":" + accountID + ":function:" + name
}

// outcome is what a client request came to: the emulator's response and,
// when asked for, the tail of its entry invocation's log.
type outcome struct {
	resp fusionsim.Response
	tail []byte
	err  error // the request was not submitted
}

// submit hands one client request to the emulator. The channel receives its
// outcome when the emulator answers (after the modeled latency), or an
// outcome with err set when the request could not be submitted (err wraps
// errNotDeployed when the deployed setup has no such function). A sync
// request is posted without waiting (its handler waits for the outcome
// anyway); an async one is answered 202 at once, so submit first waits
// until the emulator has taken it. The answer is the request's line of
// responses/, attributed to the setup deployed when the emulator took it;
// the handler records in it the status it sends (noteAnswer).
func (s *Server) submit(ctx context.Context, route fusionsim.Route, ev fusionsim.Event, wantTail bool) (<-chan outcome, *answer, error) {
	ch := make(chan outcome, 1)
	a := &answer{}
	hand := s.drv.Do
	if route.Sync {
		hand = s.drv.Post
	}
	// refused is read after Do only (async); a sync request's refusal is
	// its outcome.
	var refused error
	refuse := func(err error) {
		refused = err
		ch <- outcome{err: err}
	}
	err := hand(ctx, func(em *emulator.Emulator) {
		if s.closed.Load() {
			refuse(ErrStopped)
			return
		}
		if err := s.serves(em, route.Function()); err != nil {
			refuse(err)
			return
		}
		submitted := false
		defer func() {
			if r := recover(); r != nil && !submitted {
				refuse(fmt.Errorf("lambdaapi: panic submitting a request: %v\n%s", r, debug.Stack()))
			}
		}()
		s.open++
		if wantTail {
			s.logs.tails.want()
		}
		setup := em.Setup().Name()
		if s.routeCounts[setup] == nil {
			s.routeCounts[setup] = map[string]int{}
		}
		s.routeCounts[setup][route.String()]++
		a.resp.Sent = em.Now()
		s.responses[setup] = append(s.responses[setup], a)
		s.counters.invokes.Add(1)
		em.Submit(route, ev, func(r fusionsim.Response) {
			a.resp = r
			o := outcome{resp: r}
			if wantTail {
				o.tail, _ = s.logs.tails.take(r.RequestID)
				s.logs.tails.release()
			}
			ch <- o
		}, func() { s.open-- })
		submitted = true
	})
	if err != nil {
		return nil, nil, err
	}
	if !route.Sync && refused != nil {
		return nil, nil, refused
	}
	return ch, a, nil
}

// await waits for a submitted request's outcome. It returns false when
// there is none to write: the client went away, or the driver stopped (the
// error is then written).
func (s *Server) await(w http.ResponseWriter, r *http.Request, ch <-chan outcome) (outcome, bool) {
	var o outcome
	select {
	case o = <-ch:
	case <-r.Context().Done():
		return outcome{}, false
	case <-s.drv.Done():
		select {
		case o = <-ch:
		default:
			s.writeStopped(w, s.drv.stoppedErr())
			return outcome{}, false
		}
	}
	if o.err != nil {
		s.writeSubmitError(w, o.err)
		return outcome{}, false
	}
	return o, true
}

// handleInvoke is the Lambda Invoke API:
// POST /2015-03-31/functions/{name}/invocations[?Qualifier=...].
func (s *Server) handleInvoke(w http.ResponseWriter, r *http.Request) {
	ref := mux.Vars(r)["name"]
	id, qualifier, err := parseFunctionRef(ref)
	if q := r.URL.Query().Get("Qualifier"); q != "" {
		qualifier = q
	}
	if err != nil || !s.hasFunction(id) {
		writeServiceError(w, http.StatusNotFound, ErrResourceNotFound, s.notFoundMessage(ref, id, err))
		return
	}
	if qualifier != "" && qualifier != "$LATEST" {
		writeServiceError(w, http.StatusNotFound, ErrResourceNotFound,
			fmt.Sprintf("Function not found: %s:%s (the emulator has only $LATEST)", functionARN(id.Name()), qualifier))
		return
	}
	invType := r.Header.Get("X-Amz-Invocation-Type")
	if invType == "" {
		invType = invokeSync
	}
	if invType != invokeSync && invType != invokeEvent && invType != invokeDryRun {
		writeServiceError(w, http.StatusBadRequest, ErrInvalidParameterValue,
			fmt.Sprintf("X-Amz-Invocation-Type: %q is not one of RequestResponse, Event, DryRun", invType))
		return
	}
	logType := r.Header.Get("X-Amz-Log-Type")
	if logType != "" && logType != "None" && logType != "Tail" {
		writeServiceError(w, http.StatusBadRequest, ErrInvalidParameterValue,
			fmt.Sprintf("X-Amz-Log-Type: %q is not one of None, Tail", logType))
		return
	}
	sync := invType != invokeEvent
	ev, ok := s.readEvent(w, r, sync)
	if !ok {
		return
	}
	h := w.Header()
	if invType == invokeDryRun {
		var err error
		if derr := s.drv.Do(r.Context(), func(em *emulator.Emulator) { err = s.serves(em, id) }); derr != nil {
			s.writeStopped(w, derr)
			return
		}
		if err != nil {
			s.writeSubmitError(w, err)
			return
		}
		h.Set("X-Amz-Executed-Version", "$LATEST")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	route := fusionsim.RouteTo(id, sync)
	wantTail := sync && logType == "Tail"
	ch, a, err := s.submit(r.Context(), route, ev, wantTail)
	if err != nil {
		if r.Context().Err() == nil {
			s.writeSubmitError(w, err)
		}
		return
	}
	defer noteAnswer(w, a)
	h.Set("X-Amz-Executed-Version", "$LATEST")
	if !sync {
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusAccepted)
		s.counters.ok.Add(1)
		return
	}
	o, ok := s.await(w, r, ch)
	if !ok {
		return
	}
	if o.resp.RequestID != "" {
		h.Set("X-Amzn-RequestId", o.resp.RequestID)
	}
	if wantTail {
		h.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(o.tail))
	}
	var fe *fusionsim.FunctionError
	switch err := o.resp.Err; {
	case err == nil:
		s.counters.ok.Add(1)
		writeResult(w, http.StatusOK, o.resp.Result)
	case errors.As(err, &fe):
		s.counters.funcErrs.Add(1)
		h.Set("X-Amz-Function-Error", functionErrorHeader(fe))
		writeJSON(w, http.StatusOK, newFunctionErrorBody(fe))
	default:
		s.writePlatformError(w, err)
	}
}

// readEvent reads and decodes the request's JSON event within the payload
// limit of the invocation type; on failure it writes the error.
func (s *Server) readEvent(w http.ResponseWriter, r *http.Request, sync bool) (fusionsim.Event, bool) {
	limit := s.payloadLimit(sync)
	body, tooLarge, err := s.readBody(w, r, limit)
	switch {
	case tooLarge:
		kind := "async (Event)"
		if sync {
			kind = "sync (RequestResponse)"
		}
		writeServiceError(w, http.StatusRequestEntityTooLarge, ErrRequestTooLarge,
			fmt.Sprintf("Request must be smaller than %d bytes for the %s invocation type", limit, kind))
		return nil, false
	case err != nil:
		s.writeBodyError(w, err)
		return nil, false
	}
	ev, err := parseEvent(body)
	if err != nil {
		writeServiceError(w, http.StatusBadRequest, ErrInvalidRequestContent, err.Error())
		return nil, false
	}
	return ev, true
}

// parseEvent decodes a payload: empty and null give an empty event; anything
// but a JSON object is an error (tasks take an event object).
func parseEvent(body []byte) (fusionsim.Event, error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return fusionsim.Event{}, nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("Could not parse request body into json: %v", err)
	}
	switch v := v.(type) {
	case nil:
		return fusionsim.Event{}, nil
	case map[string]any:
		return fusionsim.Event(v), nil
	default:
		return nil, fmt.Errorf("Could not use the request body as an event: the tasks take a JSON object, not %s", jsonKind(v))
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}

// writeResult sends a task's result as JSON.
func writeResult(w http.ResponseWriter, status int, res fusionsim.Event) {
	if res == nil {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "4")
		w.WriteHeader(status)
		w.Write([]byte("null"))
		return
	}
	writeJSON(w, status, res)
}

// functionErrorBody is the payload of a function error, as the Node.js
// runtime writes it.
type functionErrorBody struct {
	ErrorMessage string   `json:"errorMessage"`
	ErrorType    string   `json:"errorType"`
	StackTrace   []string `json:"stackTrace"`
}

func newFunctionErrorBody(fe *fusionsim.FunctionError) functionErrorBody {
	return functionErrorBody{ErrorMessage: fe.Message, ErrorType: fe.Type, StackTrace: []string{}}
}

func functionErrorHeader(fe *fusionsim.FunctionError) string {
	if fe.Handled {
		return "Handled"
	}
	return "Unhandled"
}

// writePlatformError sends the service error of a request the platform
// refused or could not run.
func (s *Server) writePlatformError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, fusionsim.ErrThrottled):
		writeThrottled(w, "Rate Exceeded. "+err.Error(), s.retryAfterS())
	case errors.Is(err, fusionsim.ErrUnknownFunction):
		writeServiceError(w, http.StatusNotFound, ErrResourceNotFound, err.Error())
	case errors.Is(err, fusionsim.ErrPayloadTooLarge):
		writeServiceError(w, http.StatusRequestEntityTooLarge, ErrRequestTooLarge, err.Error())
	default:
		writeServiceError(w, http.StatusInternalServerError, ErrService, err.Error())
	}
}

func (s *Server) notFoundMessage(ref string, id fusionsim.FunctionID, err error) string {
	if err != nil {
		return fmt.Sprintf("Function not found: %s (%v)", ref, err)
	}
	return fmt.Sprintf("Function not found: %s (%q is not a task of %s; tasks: %s)",
		functionARN(id.Name()), id.Task, s.cfg.App.Name, strings.Join(s.cfg.App.TaskNames(), ", "))
}

// parseFunctionRef accepts what the Lambda API accepts as a function name:
// a name ("fusion-function-I-128", "I-128", "I"), a name with a qualifier
// ("I-128:$LATEST"), a full ARN
// (arn:aws:lambda:us-east-1:123456789012:function:NAME[:QUALIFIER]) or a
// partial ARN (123456789012:function:NAME[:QUALIFIER]).
func parseFunctionRef(ref string) (id fusionsim.FunctionID, qualifier string, err error) {
	name := ref
	parts := strings.Split(ref, ":")
	switch {
	case len(parts) >= 7 && parts[0] == "arn" && parts[5] == "function":
		name = parts[6]
		if len(parts) > 7 {
			qualifier = strings.Join(parts[7:], ":")
		}
	case len(parts) >= 3 && parts[1] == "function":
		name = parts[2]
		if len(parts) > 3 {
			qualifier = strings.Join(parts[3:], ":")
		}
	case len(parts) == 2:
		name, qualifier = parts[0], parts[1]
	case len(parts) > 2:
		return fusionsim.FunctionID{}, "", fmt.Errorf("%q is neither a function name nor an ARN", ref)
	}
	id, err = fusionsim.ParseFunctionName(name)
	return id, qualifier, err
}

// functionConfiguration is the FunctionConfiguration shape of the Lambda
// API (the fields the emulator can fill).
type functionConfiguration struct {
	FunctionName  string            `json:"FunctionName"`
	FunctionArn   string            `json:"FunctionArn"`
	Runtime       string            `json:"Runtime"`
	Role          string            `json:"Role"`
	Handler       string            `json:"Handler"`
	CodeSize      int64             `json:"CodeSize"`
	Description   string            `json:"Description"`
	Timeout       int               `json:"Timeout"`
	MemorySize    int               `json:"MemorySize"`
	LastModified  string            `json:"LastModified"`
	Version       string            `json:"Version"`
	PackageType   string            `json:"PackageType"`
	Architectures []string          `json:"Architectures"`
	State         string            `json:"State"`
	Environment   environmentConfig `json:"Environment"`
}

type environmentConfig struct {
	Variables map[string]string `json:"Variables"`
}

// lastModifiedLayout is the Lambda API's LastModified format.
const lastModifiedLayout = "2006-01-02T15:04:05.000-0700"

// deployedFunctions lists the functions of the deployed setup
// (setupFunctions: its entry function and every function a remote rule
// reaches), by name; no other function can be invoked. It runs on the
// driver.
func (s *Server) deployedFunctions(em *emulator.Emulator) ([]functionConfiguration, string) {
	setup := em.Setup()
	ids := s.functions[setup.Name()]
	out := make([]functionConfiguration, 0, len(ids))
	modified := s.deployAt[setup.Name()].UTC().Format(lastModifiedLayout)
	for id := range ids {
		out = append(out, s.functionConfig(id, setup.Name(), modified))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FunctionName < out[j].FunctionName })
	return out, setup.Name()
}

func (s *Server) functionConfig(id fusionsim.FunctionID, setup, modified string) functionConfiguration {
	p := s.profile
	arch := p.Pricing.Architecture
	if arch == "" {
		arch = "x86_64"
	}
	return functionConfiguration{
		FunctionName:  id.Name(),
		FunctionArn:   functionARN(id.Name()),
		Runtime:       p.ColdStart.Runtime,
		Role:          "arn:aws:iam::" + accountID + ":role/fusionsim-emulator",
		Handler:       "index.handler",
		CodeSize:      int64(p.ColdStart.PackageMB * (1 << 20)),
		Description:   fmt.Sprintf("fusionsim emulator: entry task %s of %s under setup %s", id.Task, s.cfg.App.Name, setup),
		Timeout:       int(p.Limits.TimeoutS),
		MemorySize:    id.MemoryMB,
		LastModified:  modified,
		Version:       "$LATEST",
		PackageType:   "Zip",
		Architectures: []string{arch},
		State:         "Active",
		Environment:   environmentConfig{Variables: map[string]string{"FUNCTION_TO_HANDLE": id.Task}},
	}
}

// handleListFunctions is GET /2015-03-31/functions/ (ListFunctions): the
// functions of the deployed setup, in one page.
func (s *Server) handleListFunctions(w http.ResponseWriter, r *http.Request) {
	var fns []functionConfiguration
	if err := s.drv.Do(r.Context(), func(em *emulator.Emulator) { fns, _ = s.deployedFunctions(em) }); err != nil {
		s.writeStopped(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Functions  []functionConfiguration `json:"Functions"`
		NextMarker *string                 `json:"NextMarker"`
	}{fns, nil})
}

// handleGetFunction is GET /2015-03-31/functions/{name} (GetFunction).
func (s *Server) handleGetFunction(w http.ResponseWriter, r *http.Request) {
	s.getFunction(w, r, false)
}

// handleGetFunctionConfiguration is GET
// /2015-03-31/functions/{name}/configuration.
func (s *Server) handleGetFunctionConfiguration(w http.ResponseWriter, r *http.Request) {
	s.getFunction(w, r, true)
}

func (s *Server) getFunction(w http.ResponseWriter, r *http.Request, configOnly bool) {
	ref := mux.Vars(r)["name"]
	id, _, err := parseFunctionRef(ref)
	if err != nil || !s.hasFunction(id) {
		writeServiceError(w, http.StatusNotFound, ErrResourceNotFound, s.notFoundMessage(ref, id, err))
		return
	}
	var fc functionConfiguration
	var notDeployed error
	if err := s.drv.Do(r.Context(), func(em *emulator.Emulator) {
		name := em.Setup().Name()
		notDeployed = s.serves(em, id)
		fc = s.functionConfig(id, name, s.deployAt[name].UTC().Format(lastModifiedLayout))
	}); err != nil {
		s.writeStopped(w, err)
		return
	}
	if notDeployed != nil {
		s.writeSubmitError(w, notDeployed)
		return
	}
	if configOnly {
		writeJSON(w, http.StatusOK, fc)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Configuration functionConfiguration `json:"Configuration"`
	}{fc})
}
