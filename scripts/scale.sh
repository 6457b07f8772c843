#!/bin/sh
# make scale: a long run streams its records, traces, responses and logs,
# so that its memory stays flat: IoT's remote setup at 1000 requests/s with
# the account's limits raised (default profile otherwise), for 1 M, 3 M and
# 10 M invocations (11 per request), each with its peak RSS. SIZES sets the
# load lengths (virtual time).
set -eu
GO=${GO:-go}
SIZES=${SIZES:-"91s 273s 910s"}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
$GO build -o "$dir/simulate" ./cmd/simulate
jq '.name = "scale" | .description = "the default profile, account concurrency and scaling burst raised to 50000" | .limits.accountConcurrency = 50000 | .limits.scalingBurst = 50000' \
	model/default_profile.json > "$dir/profile.json"
for d in $SIZES; do
	/usr/bin/time -f "%M KB peak RSS, %e s wall, %U s user + %S s sys" -o "$dir/time" \
		"$dir/simulate" --workload iot --optimizer none --rps 1000 --duration "$d" --profile "$dir/profile.json" --quiet --out "$dir/r"
	inv=$(awk -F, 'NR == 2 { print $3 }' "$dir/r/summary.csv")
	echo "--duration $d: $inv invocations: $(cat "$dir/time"); results directory $(du -sh "$dir/r" | cut -f1)"
	rm -rf "$dir/r"
done
