package trace

import "github.com/fusionsim/fusionsim"

// Record is one invocation record of the prototype's traces: one Lambda
// invocation (or, with the prototype's grouping quirk, one (trace, function)
// group). Field names, order and JSON types match the published traces byte
// for byte.
type Record struct {
	TraceID string `json:"traceId"`
	// FusionGroup is the setup name; a JSON number in the optimizer runs.
	FusionGroup fusionsim.TraceName `json:"fusionGroup"`
	// Source is the entry task of the request (second part of the trace id).
	Source string `json:"source"`
	// CurrentFunction is the entry task of the function that ran it.
	CurrentFunction string `json:"currentFunction"`
	// CurrentTask is the caller of the first recorded call.
	CurrentTask string `json:"currentTask"`
	// BilledDuration is from the REPORT line, ms.
	BilledDuration int64 `json:"billedDuration"`
	// MemoryAvail is the function's memory size in MB, as a string.
	MemoryAvail string `json:"memoryAvail"`
	// MaxMemoryUsed is from the REPORT line, MB.
	MaxMemoryUsed int `json:"maxMemoryUsed"`
	// IsRootInvocation is true for the invocation that created the trace id.
	IsRootInvocation bool `json:"isRootInvocation"`
	// IsColdStart is true on the first invocation of an environment.
	IsColdStart bool `json:"isColdStart"`
	// StartTimestamp and EndTimestamp are ms since the Unix epoch.
	StartTimestamp int64 `json:"startTimestamp"`
	EndTimestamp   int64 `json:"endTimestamp"`
	// InternalDuration is the time-base of the invocation, ms.
	InternalDuration int64 `json:"internalDuration"`
	// Calls are the calls it made, in the order they returned.
	Calls []fusionsim.Call `json:"calls"`
}
