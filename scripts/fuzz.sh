#!/usr/bin/env bash
# Runs every fuzz target of the module (run by `make fuzz`), one after the
# other, FUZZTIME each (default 60s): the targets are found with
# `go test -list '^Fuzz'`, so a new one is fuzzed without editing this
# script. FUZZMINIMIZETIME bounds the minimization of each new input
# (default 2s; Go's default of 60s would take most of a short run on the
# larger seeds). Prints one line per target; exits non-zero on the first
# failure (its input is under the package's testdata/fuzz/).
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-60s}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-2s}

targets=()
for pkg in $($GO list ./...); do
	for name in $($GO test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		targets+=("$pkg $name")
	done
done
echo "fuzz: ${#targets[@]} targets, $FUZZTIME each"
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	start=$(date +%s)
	if ! out=$($GO test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" 2>&1); then
		printf '%s\n' "$out" >&2
		echo "fuzz: FAIL: $pkg $name" >&2
		exit 1
	fi
	execs=$(printf '%s\n' "$out" | grep -o 'execs: [0-9]*' | tail -1 || true)
	echo "fuzz: ok   $pkg $name ($(( $(date +%s) - start )) s, $execs)"
done
