package workloads

import (
	"fmt"
	"math"
	"strconv"
	"sync"

	"github.com/fusionsim/fusionsim"
)

// Burn is the prototype's CPU burner: a loop of k^7 iterations summing
// atan(i)*tan(i) (k = 7 gives 823,543 iterations; the JavaScript loop ran
// while i < k**7, so a fractional bound rounds up).
func Burn(k float64) float64 {
	limit := math.Pow(k, 7)
	var sum float64
	for i := 0.0; i < limit; i++ {
		sum += math.Atan(i) * math.Tan(i)
	}
	return sum
}

// BurnIterations is the number of iterations of Burn(k).
func BurnIterations(k float64) int64 { return int64(math.Ceil(math.Pow(k, 7))) }

// Figures of the "two burn workers" tasks (IoT CT, DJ, AS; split C, F, G).
//
// burnWorkersCPUMs is fitted on the warm median internalDuration of task G
// in calibration/splittest-generateConfigurations-twocores-G-12-x-100-x-10
// (2424 ms at 128 MB, 399 at 768, 291 at 1024, 194 at 1536, 142 at 2048, 78
// at 4096) with the CPU model rate = min(threads, cores, MB/1769): the
// products duration x rate are 175, 173, 168, 168, 164 and 156 vCPU-ms; the
// other two-worker tasks agree (split 1675344670: F 2395 ms and G 2397 ms at
// 128 MB; IoT 1676022528: AS 395 ms at 768 MB).
//
// burnWorkersMemoryMB is the resident memory of the two worker threads, from
// the Max Memory Used medians of calibration/split-coldStarts-dualcore-4
// (fresh environments): F and G 90 MB against 76 MB for E, which only
// sleeps (+14 MB); b_local, where C, F and G burn at once in A's function,
// 113 MB against 78 MB for A alone in a_remote (+35 MB, 11.7 per task).
// 12 MB keeps b_local within 128 MB, as it was. (Warm environments grow by
// a few MB more: F and G 97 MB in split 1675344670.)
const (
	burnWorkersCPUMs    = 170
	burnWorkersThreads  = 2
	burnWorkersMemoryMB = 12
)

// BurnWorkers is the work of a task that starts threads worker threads, each
// running Burn(k), and waits for all of them. name keys the profile's
// override. Its Run executes the loops for real, one goroutine per worker,
// and stores the sum of the results in *result (when result is not nil).
func BurnWorkers(name string, k float64, threads int, result *float64) fusionsim.Work {
	return fusionsim.Work{
		Name:     name,
		CPUMs:    burnWorkersCPUMs,
		Threads:  threads,
		MemoryMB: burnWorkersMemoryMB,
		Run: func() {
			sums := make([]float64, threads)
			var wg sync.WaitGroup
			for w := range threads {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sums[w] = Burn(k)
				}()
			}
			wg.Wait()
			if result != nil {
				var s float64
				for _, v := range sums {
					s += v
				}
				*result = s
			}
		},
	}
}

// Names of the burn work descriptors (keys of model.Profile.Work).
const (
	// WorkBurn2x7 is two workers of burn(7): IoT CT, DJ, AS and split C, F.
	WorkBurn2x7 = "burn2x7"
	// WorkBurn2x8p8 is two workers of burn(8.8), split G. By the definition
	// of burn, 8.8^7 is 4.09 M iterations per worker, 5 times burn(7) (the
	// reference's "about 40.9 M" is ten times that), yet the traces show G
	// exactly as fast as F (split 1675344670: 2397 vs 2395 ms at 128 MB), so
	// its default figures are those of burn2x7; a profile can set them
	// apart.
	WorkBurn2x8p8 = "burn2x8.8"
)

// Sieve algorithms.
const (
	// SievePlain marks composites in one byte per number and collects the
	// primes in a list.
	SievePlain = "plain"
	// SieveBitPacked keeps one bit per odd number.
	SieveBitPacked = "bitpacked"
)

// SieveAlgorithms lists the algorithms.
var SieveAlgorithms = []string{SievePlain, SieveBitPacked}

// Sieve figures, fitted on the prototype's published sieve numbers
// (docs/fusionize-reference.md, section 7), both at 128 MB, where the CPU
// share is 128/1769 = 0.0724 vCPU:
//
//   - plain, the first million primes (n = 15,485,863): about 1.8 s, so
//     1.8 s x 0.0724 = 130.2 vCPU-ms, 8.41 vCPU-ns per number;
//   - bit-packed, the first 4.5 million primes (n = 76,918,253): about 1.2 s,
//     so 86.8 vCPU-ms, 1.129 vCPU-ns per number.
//
// Memory: the sieve's array (one byte per number, or one bit per odd number)
// plus the list of primes found, 8 bytes per prime as a JavaScript number
// array holds them. This gives 22 MB (plain, n = 15.5 M) and 41 MB
// (bit-packed, n = 76.9 M) above the runtime's 77 MB, close to the published
// "about 110 MB" Max Memory Used of both.
const (
	sievePlainNsPerNumber     = 8.41
	sieveBitPackedNsPerNumber = 1.129
	sieveBytesPerPrime        = 8
)

// SieveWork is the work of sieving up to n with algorithm alg: a single
// thread whose demand and memory grow with n. Run computes the sieve for real
// and stores the number of primes up to n in *count (when count is not nil).
// The descriptor's name is "sieve-<alg>-<n>", so that a profile can set the
// figures of one size.
func SieveWork(alg string, n int, count *int) (fusionsim.Work, error) {
	if n < 0 {
		return fusionsim.Work{}, fmt.Errorf("sieve: size %d must be >= 0", n)
	}
	var nsPer, arrayBytes float64
	var run func(int) int
	switch alg {
	case SievePlain:
		nsPer, arrayBytes, run = sievePlainNsPerNumber, float64(n), func(n int) int { return len(SieveOfEratosthenes(n)) }
	case SieveBitPacked:
		nsPer, arrayBytes, run = sieveBitPackedNsPerNumber, float64(n)/16, func(n int) int { return len(SieveBitPackedOdd(n)) }
	default:
		return fusionsim.Work{}, fmt.Errorf("sieve: algorithm %q is none of %v", alg, SieveAlgorithms)
	}
	mem := (arrayBytes + sieveBytesPerPrime*approxPrimeCount(n)) / (1 << 20)
	return fusionsim.Work{
		Name:     "sieve-" + alg + "-" + strconv.Itoa(n),
		CPUMs:    nsPer * float64(n) / 1e6,
		Threads:  1,
		MemoryMB: mem,
		Run: func() {
			c := run(n)
			if count != nil {
				*count = c
			}
		},
	}, nil
}

// approxPrimeCount estimates the number of primes up to n, n/(ln n - 1)
// (within 0.5 % from n = 10^6 on).
func approxPrimeCount(n int) float64 {
	if n < 2 {
		return 0
	}
	x := float64(n)
	if n < 10 {
		return float64([]int{0, 0, 1, 2, 2, 3, 3, 4, 4, 4}[n])
	}
	return x / (math.Log(x) - 1)
}

// SieveOfEratosthenes returns the primes up to n with the plain sieve: one
// byte per number.
func SieveOfEratosthenes(n int) []int64 {
	if n < 2 {
		return nil
	}
	composite := make([]bool, n+1)
	primes := make([]int64, 0, int(approxPrimeCount(n))+16)
	for i := 2; i <= n; i++ {
		if composite[i] {
			continue
		}
		primes = append(primes, int64(i))
		for j := i * i; j <= n; j += i {
			composite[j] = true
		}
	}
	return primes
}

// SieveBitPackedOdd returns the primes up to n with the bit-packed sieve:
// one bit per odd number (bit i stands for 2i+1), 2 handled apart.
func SieveBitPackedOdd(n int) []int64 {
	if n < 2 {
		return nil
	}
	primes := make([]int64, 0, int(approxPrimeCount(n))+16)
	primes = append(primes, 2)
	odd := (n-1)/2 + 1 // odd numbers 1, 3, ..., up to n
	bits := make([]uint64, (odd+63)/64)
	bits[0] |= 1 // 1 is not prime
	for i := 1; i < odd; i++ {
		if bits[i>>6]&(1<<(i&63)) != 0 {
			continue
		}
		p := 2*i + 1
		primes = append(primes, int64(p))
		// Mark p*p, p*p+2p, ...: index (p*p-1)/2, step p.
		for j := (p*p - 1) / 2; j < odd; j += p {
			bits[j>>6] |= 1 << (j & 63)
		}
	}
	return primes
}
