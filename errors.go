package fusionsim

import (
	"errors"
	"fmt"
)

// Errors at the platform boundary. They are returned wrapped; test with
// errors.Is or errors.As.
var (
	// ErrThrottled: no concurrency left for the function (HTTP 429,
	// TooManyRequestsException).
	ErrThrottled = errors.New("TooManyRequestsException: Rate Exceeded")
	// ErrTimeout: the invocation ran past the function's timeout.
	ErrTimeout = errors.New("task timed out")
	// ErrOutOfMemory: the invocation needed more than the function's memory
	// (Runtime.OutOfMemory); the execution environment is discarded.
	ErrOutOfMemory = errors.New("Runtime.OutOfMemory")
	// ErrCallDepth: a chain of calls went deeper than the platform allows.
	ErrCallDepth = errors.New("call depth limit exceeded")
	// ErrUnknownFunction: the route or function name reaches no deployed
	// function (HTTP 404, ResourceNotFoundException).
	ErrUnknownFunction = errors.New("ResourceNotFoundException: Function not found")
	// ErrNoRule: the setup has no rule for a call a task made.
	ErrNoRule = errors.New("no rule for call")
	// ErrNotDeployed: an invocation before any setup was deployed.
	ErrNotDeployed = errors.New("no setup deployed")
	// ErrPayloadTooLarge: the event exceeds the invocation type's payload limit
	// (HTTP 413, RequestTooLargeException).
	ErrPayloadTooLarge = errors.New("RequestTooLargeException: request payload too large")
	// ErrDropped: a request of a scenario iteration that was never sent,
	// because when the iteration was due no virtual user of its pool was
	// free (k6's dropped_iterations).
	ErrDropped = errors.New("dropped iteration: no free virtual user")
)

// FunctionError is an error raised by a function's code (or by its runtime: a
// timeout or running out of memory), as Lambda reports it with
// X-Amz-Function-Error.
type FunctionError struct {
	Function string // function name
	Type     string // errorType, e.g. "Error", "Runtime.OutOfMemory"
	Message  string // errorMessage
	Handled  bool   // X-Amz-Function-Error: Handled (else Unhandled)
	cause    error
}

// NewFunctionError wraps cause as a function error of the given function.
func NewFunctionError(function, errType, msg string, cause error) *FunctionError {
	return &FunctionError{Function: function, Type: errType, Message: msg, cause: cause}
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function %s: %s: %s", e.Function, e.Type, e.Message)
}

// Unwrap returns the cause (ErrTimeout, ErrOutOfMemory, ErrCallDepth, ...).
func (e *FunctionError) Unwrap() error { return e.cause }
