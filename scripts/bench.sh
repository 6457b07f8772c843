#!/bin/sh
# make bench: the speed figures. Every figure is measured in CPU time as
# well as wall time: the machine may be shared, and CPU time is what a
# busy neighbour disturbs least.
#  1. the emulator beside a bare heap event loop doing the same events, in
#     the same process (BenchmarkVsBareLoop): invocations per CPU second
#     of both and their ratio, and the allocations per event;
#  2. every Go benchmark of the module (-benchmem);
#  3. the main job (simulate --workload iot): wall and CPU time, peak RSS,
#     results directory;
#  4. the exhaustive sweep of compare (5,376 IoT setups, 1,000 requests
#     each): wall and CPU time, setups per second. SWEEP=0 skips it.
set -eu
GO=${GO:-go}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

echo "== emulator vs bare heap event loop (same events, same process; invocations per CPU second)"
$GO test -run '^$' -bench VsBareLoop -benchmem -benchtime 200000x -cpu 1 ./emulator | tee "$dir/vs" | grep -v '^Benchmark'
awk '/^BenchmarkVsBareLoop/ {
	name = $1; sub(/^BenchmarkVsBareLoop\//, "", name); sub(/-[0-9]+$/, "", name)
	for (i = 2; i < NF; i++) {
		if ($(i+1) == "emulator-invocations/cpu-s") em = $i
		if ($(i+1) == "bare-loop-invocations/cpu-s") bare = $i
		if ($(i+1) == "emulator/bare-loop") ratio = $i
		if ($(i+1) == "allocs/event") allocs = $i
	}
	printf "%-24s emulator %9.0f invocations/s   bare loop %9.0f invocations/s   ratio %.2f   %.4f allocs/event\n", name, em, bare, ratio, allocs
}' "$dir/vs"

echo
echo "== Go benchmarks"
$GO test -run '^$' -bench . -benchmem ./...

echo
echo "== the main job: simulate --workload iot"
$GO build -o "$dir/simulate" ./cmd/simulate
/usr/bin/time -f "main job: %e s wall, %U s user + %S s sys, peak RSS %M KB" "$dir/simulate" --workload iot --quiet --out "$dir/r"
echo "results directory: $(du -sh "$dir/r" | cut -f1)"

if [ "${SWEEP:-1}" != 0 ]; then
	echo
	echo "== the exhaustive sweep: simulate compare --workload iot --optimizers exhaustive (5,376 setups x 1,000 requests)"
	/usr/bin/time -f "%e %U %S" -o "$dir/t" "$dir/simulate" compare --workload iot --optimizers exhaustive --quiet > /dev/null
	read -r wall user sys < "$dir/t"
	awk -v w="$wall" -v u="$user" -v s="$sys" 'BEGIN { printf "sweep: 5376 setups in %.1f s wall (%.1f setups/s), %.1f s CPU (%.1f setups per CPU second)\n", w, 5376 / w, u + s, 5376 / (u + s) }'
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
