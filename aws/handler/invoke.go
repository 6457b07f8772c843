package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/fusionsim/fusionsim"
)

// Envelope is the payload of a call from one fusion function to another: the
// called task's event with the request's trace id and the call depth. A
// payload without the "fusion" key is a client request (a root invocation).
type Envelope struct {
	Fusion CallInfo        `json:"fusion"`
	Event  fusionsim.Event `json:"event"`
}

// CallInfo is what a called function learns about its request.
type CallInfo struct {
	TraceID string `json:"traceId"`
	// Depth is the number of calls between the client and the called task.
	Depth int `json:"depth"`
}

// ParsePayload splits an invocation payload into the event and, for a call
// from another fusion function, its call information (nil for a client
// request). An empty payload or "null" is the empty event.
func ParsePayload(payload []byte) (fusionsim.Event, *CallInfo, error) {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 || string(payload) == "null" {
		return fusionsim.Event{}, nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, nil, fmt.Errorf("payload is not a JSON object: %w", err)
	}
	if _, ok := raw["fusion"]; ok {
		var env Envelope
		if err := json.Unmarshal(payload, &env); err != nil {
			return nil, nil, fmt.Errorf("call envelope: %w", err)
		}
		if env.Fusion.TraceID == "" {
			return nil, nil, errors.New("call envelope: empty traceId")
		}
		if env.Event == nil {
			env.Event = fusionsim.Event{}
		}
		return env.Event, &env.Fusion, nil
	}
	var ev fusionsim.Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, nil, err
	}
	return ev, nil, nil
}

// Invoker is the part of the Lambda API client that invokes functions
// (*lambda.Client implements it).
type Invoker interface {
	Invoke(ctx context.Context, params *lambdasvc.InvokeInput, optFns ...func(*lambdasvc.Options)) (*lambdasvc.InvokeOutput, error)
}

// NoRetry makes one Invoke a single attempt: a throttled call fails at once,
// as a call through API Gateway did in the prototype, instead of being
// retried by the SDK.
func NoRetry(o *lambdasvc.Options) { o.RetryMaxAttempts = 1 }

// InvokeResult is one function invocation's outcome, as a client sees it.
type InvokeResult struct {
	// StatusCode is what API Gateway would have answered: 200 (sync), 202
	// (async), 502 (function error), 429 (throttled), 404 (no such
	// function), 413 (payload too large), 500 (anything else).
	StatusCode int
	// RequestID is the Lambda request id of the invocation (x-amzn-RequestId).
	RequestID string
	// Result is the function's result (sync).
	Result fusionsim.Event
	// Err is nil, a *fusionsim.FunctionError, or an error wrapping one of
	// fusionsim's sentinels (ErrThrottled, ErrUnknownFunction,
	// ErrPayloadTooLarge) or the SDK's error.
	Err error
}

// Invoke invokes function with ev as payload (sync: RequestResponse, else
// Event), in one attempt, and decodes the outcome. payload, when not nil,
// replaces the encoding of ev (an Envelope).
func Invoke(ctx context.Context, inv Invoker, function string, sync bool, ev fusionsim.Event, payload []byte) InvokeResult {
	if payload == nil {
		if ev == nil {
			ev = fusionsim.Event{}
		}
		var err error
		if payload, err = json.Marshal(ev); err != nil {
			return InvokeResult{StatusCode: http.StatusBadRequest, Err: fmt.Errorf("event of %s: %w", function, err)}
		}
	}
	typ := types.InvocationTypeEvent
	if sync {
		typ = types.InvocationTypeRequestResponse
	}
	out, err := inv.Invoke(ctx, &lambdasvc.InvokeInput{FunctionName: &function, InvocationType: typ, Payload: payload}, NoRetry)
	if err != nil {
		return InvokeResult{StatusCode: statusOf(err), RequestID: requestIDOf(err), Err: MapInvokeError(function, err)}
	}
	r := InvokeResult{StatusCode: int(out.StatusCode)}
	r.RequestID, _ = awsmw.GetRequestIDMetadata(out.ResultMetadata)
	if out.FunctionError != nil {
		r.StatusCode = http.StatusBadGateway
		r.Err = decodeFunctionError(function, *out.FunctionError, out.Payload)
		return r
	}
	if sync {
		res, err := decodeResult(out.Payload)
		if err != nil {
			r.StatusCode = http.StatusBadGateway
			r.Err = fmt.Errorf("result of %s: %w", function, err)
			return r
		}
		r.Result = res
	}
	return r
}

// decodeResult reads a task's result: a JSON object, or null.
func decodeResult(b []byte) (fusionsim.Event, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	var ev fusionsim.Event
	if err := json.Unmarshal(b, &ev); err != nil {
		return nil, fmt.Errorf("not a JSON object: %.80q", b)
	}
	return ev, nil
}

// errorBody is the payload of a function error.
type errorBody struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// errorTypes maps the error types of function errors back to fusionsim's
// sentinels, so that errors.Is works across functions.
var errorTypes = map[string]error{
	"Sandbox.Timedout":          fusionsim.ErrTimeout,
	"Runtime.OutOfMemory":       fusionsim.ErrOutOfMemory,
	"CallDepthExceeded":         fusionsim.ErrCallDepth,
	"NoRule":                    fusionsim.ErrNoRule,
	"TooManyRequestsException":  fusionsim.ErrThrottled,
	"ResourceNotFoundException": fusionsim.ErrUnknownFunction,
}

// ErrorType is the errorType a fusion function reports for err (the
// emulator's names): a remote call's function error keeps its type.
func ErrorType(err error) string {
	var fe *fusionsim.FunctionError
	if errors.As(err, &fe) {
		return fe.Type
	}
	switch {
	case errors.Is(err, fusionsim.ErrCallDepth):
		return "CallDepthExceeded"
	case errors.Is(err, fusionsim.ErrNoRule):
		return "NoRule"
	case errors.Is(err, fusionsim.ErrThrottled):
		return "TooManyRequestsException"
	case errors.Is(err, fusionsim.ErrUnknownFunction):
		return "ResourceNotFoundException"
	}
	return "Error"
}

func decodeFunctionError(function, kind string, payload []byte) *fusionsim.FunctionError {
	var body errorBody
	if err := json.Unmarshal(payload, &body); err != nil || body.ErrorType == "" {
		body.ErrorType, body.ErrorMessage = "Error", string(payload)
	}
	fe := fusionsim.NewFunctionError(function, body.ErrorType, body.ErrorMessage, errorTypes[body.ErrorType])
	fe.Handled = kind == "Handled"
	return fe
}

// MapInvokeError wraps an Invoke API error with fusionsim's sentinel for it.
func MapInvokeError(function string, err error) error {
	var tooMany *types.TooManyRequestsException
	var notFound *types.ResourceNotFoundException
	var tooLarge *types.RequestTooLargeException
	switch {
	case errors.As(err, &tooMany):
		return fmt.Errorf("%w: %s: %v", fusionsim.ErrThrottled, function, err)
	case errors.As(err, &notFound):
		return fmt.Errorf("%w: %s: %v", fusionsim.ErrUnknownFunction, function, err)
	case errors.As(err, &tooLarge):
		return fmt.Errorf("%w: %s: %v", fusionsim.ErrPayloadTooLarge, function, err)
	}
	return fmt.Errorf("invoking %s: %w", function, err)
}

func statusOf(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		return re.HTTPStatusCode()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

func requestIDOf(err error) string {
	var re interface{ ServiceRequestID() string }
	if errors.As(err, &re) {
		return re.ServiceRequestID()
	}
	return ""
}
