package model

import (
	"fmt"
	"math"
	"time"
)

// Duration is time.Duration; the alias keeps signatures short.
type Duration = time.Duration

// CPU is Lambda's CPU model: a share of vCPUs proportional to memory, at most
// MaxVCPU, of which one thread uses at most one vCPU and the process sees a
// limited number of cores.
type CPU struct {
	// MBPerVCPU is the memory size that gives one full vCPU (1769 MB).
	MBPerVCPU float64 `json:"mbPerVCPU"`
	// MaxVCPU caps the share (6 vCPUs).
	MaxVCPU float64 `json:"maxVCPU"`
	// CoreLimitsMB[i] is the largest memory size that sees MinCores+i cores:
	// 2 cores up to 3008 MB, 3 up to 5307, 4 up to 7076, 5 up to 8845, then 6.
	CoreLimitsMB []int `json:"coreLimitsMB"`
	// MinCores is the number of cores visible at the smallest sizes (2).
	MinCores int `json:"minCores"`
	// BurstPeriodMs is the period of the CPU quota, ms (0: no bursts).
	// Lambda enforces the share with Linux CFS bandwidth control: in each
	// period an environment may use share x period of CPU time, on as many
	// cores as it has threads, and is throttled once it is spent. The
	// emulator approximates this with a quota of share x BurstPeriodMs
	// vCPU-ms that refills at the share's rate while the environment runs
	// no CPU work and that its threads spend at full core speed. Short CPU
	// work after an idle phase (a request's parsing, an SDK call) thus
	// takes about its demand in time at every memory size whose quota
	// covers it, while long work (a burn loop) runs at the share after its
	// first quota. Fitted on the calibration traces; see Burst.
	BurstPeriodMs float64 `json:"burstPeriodMs,omitempty"`
	// WorkJitter multiplies the demand of every work descriptor an
	// invocation spends (fusionsim.Context.Spend); it is drawn once per
	// invocation (none: 1). The same task's duration varies from one
	// invocation to the next on Lambda (noisy neighbours, different host
	// CPUs); the calibration traces show about +-2.5 % between the
	// quartiles and +9 % at the 95th percentile.
	WorkJitter Dist `json:"workJitter,omitempty"`
	// IOVariationCPUMs is the standard deviation, in vCPU-ms, of a normal
	// variation of the CPU demand of each I/O operation: the caller's part
	// of a remote call (sending it, reading a sync call's response) and of
	// a storage operation, first connections included (0: none). An
	// operation of demand w takes max(0, w + IOVariationCPUMs z), z drawn
	// per operation. Below one vCPU the variation is magnified by 1/share:
	// the calibration traces show the lone ack and the put spreading three
	// to five times as much at 128 MB as at one vCPU or more, by about the
	// same CPU time whatever the operation's demand.
	IOVariationCPUMs float64 `json:"ioVariationCPUMs,omitempty"`
	// MemoryPressureHeadroomMB and MemoryPressureCPUPerMB model the cost
	// of running short of memory (either 0: none). While the free memory
	// of an environment (its memory size less the memory it holds: the
	// runtime's, each invocation's, the work's in progress) is below
	// MemoryPressureHeadroomMB, every vCPU-ms of CPU work in it takes 1 +
	// MemoryPressureCPUPerMB x the shortfall in MB vCPU-ms of CPU time:
	// the runtime's garbage collector runs more often and works harder as
	// the heap nears its limit. The calibration traces show it at 128 MB:
	// split's b_local (three burn tasks in one function, 113 MB of 128)
	// needed about 15 % more CPU than the same tasks in functions of their
	// own (90 MB), and the webshop's sieve (109-118 MB at 128 MB, where
	// it grows to 180-260 MB at 1536) about 30 % more at 128 MB than at
	// 1536 and 1650; work with 33 MB or more free runs at the demand it
	// has at large sizes. The headroom is in MB, not a share of the
	// memory size: what the collector needs free (its young generation,
	// room to copy into) does not grow with the function.
	MemoryPressureHeadroomMB float64 `json:"memoryPressureHeadroomMB,omitempty"`
	MemoryPressureCPUPerMB   float64 `json:"memoryPressureCPUPerMB,omitempty"`
}

// MemoryPressure is the CPU time one vCPU-ms of work takes in an
// environment of memoryMB that holds residentMB: 1 + MemoryPressureCPUPerMB
// x the MB by which its free memory falls short of MemoryPressureHeadroomMB
// (1 when it does not, or when the mechanism is off).
func (c CPU) MemoryPressure(memoryMB int, residentMB float64) float64 {
	if c.MemoryPressureCPUPerMB <= 0 || c.MemoryPressureHeadroomMB <= 0 {
		return 1
	}
	short := c.MemoryPressureHeadroomMB - (float64(memoryMB) - residentMB)
	if short <= 0 {
		return 1
	}
	return 1 + c.MemoryPressureCPUPerMB*min(short, c.MemoryPressureHeadroomMB)
}

// Burst is the CPU quota of a memory size in vCPU-ms (share x
// BurstPeriodMs); 0 when bursts are off or the share reaches the cores
// (nothing to burst into).
func (c CPU) Burst(memoryMB int) float64 {
	share := c.Share(memoryMB)
	if c.BurstPeriodMs <= 0 || share >= float64(c.Cores(memoryMB)) {
		return 0
	}
	return share * c.BurstPeriodMs
}

// Share is the vCPU share of a memory size.
func (c CPU) Share(memoryMB int) float64 {
	return min(float64(memoryMB)/c.MBPerVCPU, c.MaxVCPU)
}

// Cores is the number of cores the process sees at a memory size.
func (c CPU) Cores(memoryMB int) int {
	n := c.MinCores
	for _, limit := range c.CoreLimitsMB {
		if memoryMB <= limit {
			return n
		}
		n++
	}
	return n
}

// Rate is the vCPUs a piece of work with the given thread count gets when it
// runs alone: min(threads, cores, share).
func (c CPU) Rate(memoryMB, threads int) float64 {
	if threads < 1 {
		threads = 1
	}
	return min(min(float64(threads), float64(c.Cores(memoryMB))), c.Share(memoryMB))
}

// Duration is the time a demand of cpuMs vCPU-ms takes alone on a memory size
// with the given thread count, rounded up to the nanosecond.
func (c CPU) Duration(cpuMs float64, memoryMB, threads int) time.Duration {
	if cpuMs <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(cpuMs * 1e6 / c.Rate(memoryMB, threads)))
}

// Validate checks the parameters.
func (c CPU) Validate() error {
	if !(c.MBPerVCPU > 0) {
		return fmt.Errorf("cpu.mbPerVCPU: %v must be > 0", c.MBPerVCPU)
	}
	if !(c.MaxVCPU > 0) {
		return fmt.Errorf("cpu.maxVCPU: %v must be > 0", c.MaxVCPU)
	}
	if err := nonNegative("cpu.burstPeriodMs", c.BurstPeriodMs); err != nil {
		return err
	}
	if err := c.WorkJitter.Validate("cpu.workJitter"); err != nil {
		return err
	}
	if err := nonNegative("cpu.ioVariationCPUMs", c.IOVariationCPUMs); err != nil {
		return err
	}
	if err := nonNegative("cpu.memoryPressureHeadroomMB", c.MemoryPressureHeadroomMB); err != nil {
		return err
	}
	if err := nonNegative("cpu.memoryPressureCPUPerMB", c.MemoryPressureCPUPerMB); err != nil {
		return err
	}
	if c.MinCores < 1 {
		return fmt.Errorf("cpu.minCores: %d must be >= 1", c.MinCores)
	}
	for i := 1; i < len(c.CoreLimitsMB); i++ {
		if c.CoreLimitsMB[i] <= c.CoreLimitsMB[i-1] {
			return fmt.Errorf("cpu.coreLimitsMB[%d]: %d must be above the previous limit %d", i, c.CoreLimitsMB[i], c.CoreLimitsMB[i-1])
		}
	}
	return nil
}
