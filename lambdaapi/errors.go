package lambdaapi

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Service error types of the Lambda API (X-Amzn-ErrorType), with the status
// each is sent with.
const (
	ErrResourceNotFound      = "ResourceNotFoundException"      // 404
	ErrTooManyRequests       = "TooManyRequestsException"       // 429
	ErrInvalidRequestContent = "InvalidRequestContentException" // 400
	ErrInvalidParameterValue = "InvalidParameterValueException" // 400
	ErrRequestTooLarge       = "RequestTooLargeException"       // 413
	ErrService               = "ServiceException"               // 500
	ErrServiceUnavailable    = "ServiceUnavailableException"    // 503 (shutting down)
	ErrUnknownOperation      = "UnknownOperationException"      // 404 (no such route)
	ErrMethodNotAllowed      = "MethodNotAllowedException"      // 405
	ErrResourceConflict      = "ResourceConflictException"      // 409
	ErrRequestTimeout        = "RequestTimeoutException"        // 408 (body too slow)
)

// ThrottleReason is the Reason of every TooManyRequestsException the emulator
// sends: it throttles on concurrency only.
const ThrottleReason = "ConcurrentInvocationLimitExceeded"

// serviceError is the JSON body of a service error. Lambda writes "Type"
// ("User" or "Service") and the message; the SDK for Go v2 reads "Message"
// on some exceptions (ResourceNotFoundException, ServiceException) and
// "message" on others (TooManyRequestsException, RequestTooLargeException,
// InvalidRequestContentException), so both are written.
type serviceError struct {
	Type        string `json:"Type"`
	Message     string `json:"Message"`
	MessageLow  string `json:"message"`
	Reason      string `json:"Reason,omitempty"`
	ErrorType   string `json:"errorType,omitempty"`
	ErrorDetail string `json:"errorMessage,omitempty"`
}

// writeServiceError sends a service error: status, X-Amzn-ErrorType and the
// JSON body.
func writeServiceError(w http.ResponseWriter, status int, errType, msg string) {
	typ := "User"
	if status >= 500 {
		typ = "Service"
	}
	writeErrorBody(w, status, errType, serviceError{Type: typ, Message: msg, MessageLow: msg})
}

// writeThrottled sends a 429 TooManyRequestsException with Retry-After (in
// wall seconds) and the Reason.
func writeThrottled(w http.ResponseWriter, msg string, retryAfterS int) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterS))
	writeErrorBody(w, http.StatusTooManyRequests, ErrTooManyRequests, serviceError{Type: "User", Message: msg, MessageLow: msg, Reason: ThrottleReason})
}

func writeErrorBody(w http.ResponseWriter, status int, errType string, body serviceError) {
	h := w.Header()
	h.Set("X-Amzn-ErrorType", errType)
	writeJSON(w, status, body)
}

// writeJSON sends v as JSON with a trailing newline.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		w.Header().Set("X-Amzn-ErrorType", ErrService)
		b, _ = json.Marshal(serviceError{Type: "Service", Message: "encoding the response: " + err.Error(), MessageLow: "encoding the response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
