package handler

import (
	"syscall"
	"time"
)

// rusageThread is Linux's RUSAGE_THREAD: the calling thread's usage.
const rusageThread = 1

var wallEpoch = time.Now()

// threadCPUTime is the CPU time (user and system) the calling OS thread has
// used; callers lock their goroutine to the thread.
func threadCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return time.Since(wallEpoch) // never fails on Linux; no endless spin if it does
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
