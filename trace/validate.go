package trace

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/fusionsim/fusionsim"
)

// ValidateRecord checks what summaries rely on in an invocation record read
// from a file: a trace id, a setup name (fusionsim.ValidateSetupName) as
// fusionGroup, the function's task name, its memory size, no negative
// duration or size, an end not before the start and calls with a caller, a
// called task and a non-negative time. A null or {} record fails on its
// trace id. internalDuration may be -1 (the platform killed the
// invocation before its handler measured it).
func ValidateRecord(r *Record) error {
	if r.TraceID == "" {
		return errors.New("no traceId (a null or {} record?)")
	}
	if err := fusionsim.ValidateSetupName(r.FusionGroup.Name); err != nil {
		return fmt.Errorf("fusionGroup: %w", err)
	}
	if r.FusionGroup.Numeric && !fusionsim.IsNumericName(r.FusionGroup.Name) {
		return fmt.Errorf("fusionGroup %s: a JSON number must be a non-negative integer", r.FusionGroup.Name)
	}
	if err := fusionsim.ValidateTaskName(r.CurrentFunction); err != nil {
		return fmt.Errorf("currentFunction: %w", err)
	}
	if mb, err := strconv.Atoi(r.MemoryAvail); err != nil || mb < fusionsim.MinMemoryMB || mb > fusionsim.MaxMemoryMB {
		return fmt.Errorf("memoryAvail %q is not a memory size of %d to %d MB", r.MemoryAvail, fusionsim.MinMemoryMB, fusionsim.MaxMemoryMB)
	}
	switch {
	case r.BilledDuration < 0:
		return fmt.Errorf("billedDuration %d ms is negative", r.BilledDuration)
	case r.MaxMemoryUsed < 0:
		return fmt.Errorf("maxMemoryUsed %d MB is negative", r.MaxMemoryUsed)
	case r.StartTimestamp <= 0:
		return fmt.Errorf("startTimestamp %d is not a time (ms since 1970)", r.StartTimestamp)
	case r.EndTimestamp < r.StartTimestamp:
		return fmt.Errorf("endTimestamp %d is before startTimestamp %d (a negative duration)", r.EndTimestamp, r.StartTimestamp)
	case r.InternalDuration < -1:
		return fmt.Errorf("internalDuration %d ms is negative (-1 alone marks an invocation killed before its time-base)", r.InternalDuration)
	}
	for i, c := range r.Calls {
		switch {
		case c.Caller == "" || c.Called == "":
			return fmt.Errorf("calls[%d]: no caller or called task", i)
		case c.Time < 0:
			return fmt.Errorf("calls[%d]: time %d ms is negative", i, c.Time)
		}
	}
	return nil
}
