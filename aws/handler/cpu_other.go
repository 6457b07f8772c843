//go:build !linux

package handler

import "time"

var cpuEpoch = time.Now()

// threadCPUTime falls back to the wall clock where the thread's CPU time is
// not available (Lambda runs Linux; this is for building elsewhere).
func threadCPUTime() time.Duration { return time.Since(cpuEpoch) }
