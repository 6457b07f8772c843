package workloads

import (
	"fmt"

	"github.com/fusionsim/fusionsim"
)

// SieveTask is the sieve workload's only task.
const SieveTask = "sieve"

// DefaultSieveN is the sieve workload's default size: the primes below 50
// million (3,001,134 of them). The plain sieve's footprint at this size is
// 50 MB of array plus 23 MB of prime list; with the runtime's 77 MB it needs
// about 150 MB, so the smallest memory size runs out of memory while 256 MB
// is enough. Its demand, 420 vCPU-ms, takes 5.8 s at 128 MB and 0.42 s at
// one vCPU.
const DefaultSieveN = 50_000_000

// Sieve is the sieve workload (reference section 7): one function computing
// the primes up to n with the plain or the bit-packed sieve, single-threaded,
// for memory sweeps. The request body sets "n" (default DefaultSieveN) and
// "algorithm" ("plain", default, or "bitpacked").
func Sieve() Workload {
	app := &fusionsim.App{
		Name:        "sieve",
		Description: "sieve of Eratosthenes in one function, for memory sweeps (entry sieve, 1 task)",
		Entry:       SieveTask,
		Tasks:       map[string]fusionsim.Task{SieveTask: sieveTask},
	}
	return Workload{
		App: app,
		Tasks: []TaskDoc{{SieveTask, "Sieve", fmt.Sprintf(
			"primes up to event.n (default %d) with event.algorithm plain (default) or bitpacked; one thread", DefaultSieveN)}},
		MemorySizes: []int{128, 256, 512, 1024, 1769, 3538},
	}
}

func sieveTask(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	n := in.Int("n", DefaultSieveN)
	alg := SievePlain
	if v, ok := in["algorithm"]; ok {
		s, isString := v.(string)
		if !isString {
			return nil, fmt.Errorf("sieve: algorithm %v is not a string", v)
		}
		alg = s
	}
	var count int
	w, err := SieveWork(alg, n, &count)
	if err != nil {
		return nil, err
	}
	ctx.Spend(w)
	out := fusionsim.Event{"n": n, "algorithm": alg}
	if count > 0 {
		out["primes"] = count
	}
	return out, nil
}
