#!/bin/sh
# make bench: the speed figures. Every figure is measured in CPU time as
# well as wall time: the machine may be shared, and CPU time is what a
# busy neighbour disturbs least.
#  1. the emulator beside a bare heap event loop doing the same events, in
#     the same process (BenchmarkVsBareLoop): invocations per CPU second
#     of both and their ratio, and the allocations per event;
#  2. every Go benchmark of the module (-benchmem);
#  3. the main job (simulate --workload iot): RUNS runs (default 5), CPU
#     time (user+sys) and wall time min and median, peak RSS, results
#     directory, summary.csv's md5; with BASE=/path/to/simulate (e.g. the
#     binary of commit e1f6bf1) the same for that binary, the runs
#     alternating, and the ratio of the medians;
#  4. the exhaustive sweep of compare (5,376 IoT setups, 1,000 requests
#     each): wall and CPU time, setups per second. SWEEP=0 skips it.
# The load average is printed at the start and the end.
set -eu
GO=${GO:-go}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
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
echo "== the main job: simulate --workload iot (${RUNS:-5} runs each, alternating)"
$GO build -o "$dir/simulate" ./cmd/simulate
bins="$dir/simulate"
if [ -n "${BASE:-}" ]; then
	bins="$BASE $bins"
fi
for i in $(seq "${RUNS:-5}"); do
	for b in $bins; do
		rm -rf "$dir/r"
		/usr/bin/time -f "%U %S %e %M" -o "$dir/t" "$b" --workload iot --quiet --out "$dir/r"
		k=$(echo "$b" | md5sum | cut -c1-8)
		cat "$dir/t" >> "$dir/times-$k"
		md5sum < "$dir/r/summary.csv" | cut -c1-32 > "$dir/md5-$k"
		du -sh "$dir/r" | cut -f1 > "$dir/size-$k"
	done
done
for b in $bins; do
	k=$(echo "$b" | md5sum | cut -c1-8)
	awk -v name="$b" -v md5="$(cat "$dir/md5-$k")" -v size="$(cat "$dir/size-$k")" '
		{ cpu[NR] = $1 + $2; wall[NR] = $3; rss[NR] = $4 }
		function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t } }
		END {
			n = NR; sort(cpu, n); sort(wall, n); sort(rss, n); m = int((n + 1) / 2)
			printf "%s: CPU (user+sys) min %.2f s median %.2f s; wall min %.2f s median %.2f s; peak RSS median %d MB; results %s; summary.csv md5 %s\n", name, cpu[1], cpu[m], wall[1], wall[m], rss[m] / 1024, size, md5
			print cpu[m] > "/dev/stderr"
		}' "$dir/times-$k" 2>> "$dir/medians"
done
if [ -n "${BASE:-}" ]; then
	awk 'NR == 1 { base = $1 } NR == 2 { printf "CPU time median: %.2f of the base binary'"'"'s\n", $1 / base }' "$dir/medians"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${SWEEP:-1}" != 0 ]; then
	echo
	echo "== the exhaustive sweep: simulate compare --workload iot --optimizers exhaustive (5,376 setups x 1,000 requests)"
	# From the temporary directory: compare resumes an interrupted
	# comparison from its state in ./results/.compare-*.partial, and a
	# stale one there would cut the measured work short.
	(cd "$dir" && /usr/bin/time -f "%e %U %S" -o "$dir/t" "$dir/simulate" compare --workload iot --optimizers exhaustive --quiet > /dev/null)
	read -r wall user sys < "$dir/t"
	awk -v w="$wall" -v u="$user" -v s="$sys" 'BEGIN { printf "sweep: 5376 setups in %.1f s wall (%.1f setups/s), %.1f s CPU (%.1f setups per CPU second)\n", w, 5376 / w, u + s, 5376 / (u + s) }'
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
