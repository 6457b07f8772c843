package sweep

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is the part of a sweep one job runs: the cells k with k mod Count =
// Index. The zero Shard is the whole sweep.
type Shard struct {
	Index, Count int
	// From says where the shard came from ("--shard", "SLURM_ARRAY_TASK_ID",
	// "JOB_COMPLETION_INDEX"), for messages.
	From string `json:"-"`
}

// Whole reports whether the shard is the whole sweep.
func (s Shard) Whole() bool { return s.Count <= 1 }

// Has reports whether cell k belongs to the shard.
func (s Shard) Has(k int) bool { return s.Whole() || k%s.Count == s.Index }

func (s Shard) String() string {
	if s.Whole() {
		return "0/1"
	}
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

// DirName is the shard's results directory inside the sweep's directory,
// "shard-0003-of-0016" (zero-padded, so that names sort by index).
func (s Shard) DirName() string {
	w := max(4, len(strconv.Itoa(s.Count)))
	return fmt.Sprintf("shard-%0*d-of-%0*d", w, s.Index, w, s.Count)
}

// ParseShard reads "I/N" (0 <= I < N).
func ParseShard(v string) (Shard, error) {
	a, b, ok := strings.Cut(v, "/")
	if !ok {
		return Shard{}, fmt.Errorf("%q: want I/N, the shard index (from 0) and the number of shards", v)
	}
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("%q: want I/N with 0 <= I < N", v)
	}
	return Shard{Index: i, Count: n, From: "--shard"}, nil
}

// ShardFromEnv resolves the shard of a job from the engine's environment
// (getenv) and the --shards flag (0: not given):
//
//   - Slurm job arrays: SLURM_ARRAY_TASK_ID, with SLURM_ARRAY_TASK_MIN,
//     SLURM_ARRAY_TASK_COUNT and SLURM_ARRAY_TASK_STEP. Without --shards the
//     array is the sweep: shard (ID - MIN) / STEP of COUNT, whatever the
//     array's first index. With --shards N the array index is the shard
//     index (0..N-1): resubmitting some tasks of a sweep, sbatch --array=2,5,
//     keeps their shards.
//   - Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX with --shards N (the
//     Job's completions).
//
// Slurm wins when both are set. ok is false when neither is (the whole
// sweep, or --shards alone, which is an error).
func ShardFromEnv(getenv func(string) string, shards int) (Shard, bool, error) {
	num := func(name string) (int, bool, error) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, true, fmt.Errorf("%s=%q: not a whole number >= 0", name, v)
		}
		return n, true, nil
	}
	if shards < 0 {
		return Shard{}, false, fmt.Errorf("--shards %d: must be >= 1", shards)
	}
	id, ok, err := num("SLURM_ARRAY_TASK_ID")
	if err != nil {
		return Shard{}, false, err
	}
	if ok {
		if shards > 0 {
			if id >= shards {
				return Shard{}, false, fmt.Errorf("SLURM_ARRAY_TASK_ID=%d with --shards %d: with --shards the array index is the shard index, 0..%d", id, shards, shards-1)
			}
			return Shard{Index: id, Count: shards, From: "SLURM_ARRAY_TASK_ID"}, true, nil
		}
		count, okc, err := num("SLURM_ARRAY_TASK_COUNT")
		if err != nil {
			return Shard{}, false, err
		}
		lo, okm, err := num("SLURM_ARRAY_TASK_MIN")
		if err != nil {
			return Shard{}, false, err
		}
		step, oks, err := num("SLURM_ARRAY_TASK_STEP")
		if err != nil {
			return Shard{}, false, err
		}
		if !okc || !okm || count < 1 {
			return Shard{}, false, fmt.Errorf("SLURM_ARRAY_TASK_ID=%d without SLURM_ARRAY_TASK_COUNT and SLURM_ARRAY_TASK_MIN: give --shards N", id)
		}
		if !oks || step < 1 {
			step = 1
		}
		if id < lo || (id-lo)%step != 0 || (id-lo)/step >= count {
			return Shard{}, false, fmt.Errorf("SLURM_ARRAY_TASK_ID=%d is not in the array (min %d, step %d, %d tasks); an array with gaps (--array=0,3,7) needs --shards N", id, lo, step, count)
		}
		return Shard{Index: (id - lo) / step, Count: count, From: "SLURM_ARRAY_TASK_ID"}, true, nil
	}
	idx, ok, err := num("JOB_COMPLETION_INDEX")
	if err != nil {
		return Shard{}, false, err
	}
	if ok {
		if shards == 0 {
			return Shard{}, false, fmt.Errorf("JOB_COMPLETION_INDEX=%d is set (a Kubernetes Indexed Job): give --shards N, the Job's completions", idx)
		}
		if idx >= shards {
			return Shard{}, false, fmt.Errorf("JOB_COMPLETION_INDEX=%d with --shards %d: the index must be below the number of shards", idx, shards)
		}
		return Shard{Index: idx, Count: shards, From: "JOB_COMPLETION_INDEX"}, true, nil
	}
	if shards > 0 {
		return Shard{}, false, fmt.Errorf("--shards %d without a shard index: give --shard I/%d, or run in a Slurm job array (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX)", shards, shards)
	}
	return Shard{}, false, nil
}
