package handler

import (
	"runtime"
	"sync"
	"time"
)

// spinCPU burns cpuMs vCPU-milliseconds spread over threads threads, the
// demand of a work descriptor without a Run function. Each thread spins
// until it has used its share of CPU time (threadCPUTime), so the time it
// takes depends on the CPU share of the function, as real work does.
func spinCPU(cpuMs float64, threads int) {
	if cpuMs <= 0 {
		return
	}
	per := time.Duration(cpuMs / float64(threads) * float64(time.Millisecond))
	var wg sync.WaitGroup
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			start := threadCPUTime()
			x := 1.0
			for i := 0; ; i++ {
				x = x*1.0000001 + 1e-9
				if i&0xffff == 0 && threadCPUTime()-start >= per {
					break
				}
			}
			sink(x)
		}()
	}
	wg.Wait()
}

var sinkMu sync.Mutex
var sinkV float64

// sink keeps the spin loop from being optimized away.
func sink(x float64) { sinkMu.Lock(); sinkV += x; sinkMu.Unlock() }
