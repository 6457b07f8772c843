package calibrate

import (
	"math"

	"github.com/fusionsim/fusionsim/model"
)

// CPUTime is the time, ms, that cpuMs vCPU-ms of work on threads threads
// takes when it runs alone in an execution environment of memoryMB, starting
// with quotaMs vCPU-ms of CPU quota (model.CPU.BurstPeriodMs): at full
// speed, min(threads, cores) vCPUs, until it has used the quota, then at
// min(threads, share). It is the emulator's processor model in closed form
// for one job, which the fit inverts.
func CPUTime(cpu model.CPU, cpuMs float64, memoryMB, threads int, quotaMs float64) float64 {
	if cpuMs <= 0 {
		return 0
	}
	share := cpu.Share(memoryMB)
	c := math.Min(float64(max(threads, 1)), float64(cpu.Cores(memoryMB)))
	slow := math.Min(c, share)
	if quotaMs <= 0 || cpu.BurstPeriodMs <= 0 || c <= share {
		return cpuMs / slow
	}
	if quotaMs >= cpuMs {
		return cpuMs / c
	}
	return quotaMs/c + (cpuMs-quotaMs)/slow
}

// FullQuota is the quota of a fresh (or long idle) environment, vCPU-ms.
func FullQuota(cpu model.CPU, memoryMB int) float64 { return cpu.Burst(memoryMB) }

// solve finds x in [lo, hi] with f(x) = target for f increasing (or
// decreasing) in x, by bisection; it returns lo or hi when target is out of
// the range of f.
func solve(f func(float64) float64, target, lo, hi float64) float64 {
	increasing := f(hi) >= f(lo)
	for i := 0; i < 200; i++ {
		mid := (lo + hi) / 2
		if (f(mid) < target) == increasing {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
