#!/usr/bin/env bash
# End-to-end test of cmd/emulator with real clients (run by `make e2e`):
#   1. installs Debian's awscli, hey and jq when missing (CI starts from a
#      clean machine);
#   2. builds the emulator and starts it on a free port serving the IoT
#      workload (remote setup) with modeled time 100x faster than real time;
#   3. `aws lambda invoke` on the IoT entry (fusion-function-I-128) and
#      `aws lambda list-functions`, checking the answers;
#   4. hey: 10,000 sync requests, 50 concurrent, to /SYNC-I-128; every one
#      must get a 200;
#   5. SIGTERM: the emulator must shut down cleanly, and the trace it wrote
#      must hold exactly one root invocation per request (10,000 + 1);
#   6. the AWS backend against the emulator: `simulate --backend aws
#      --endpoint-url` deploys IoT on a second emulator started with
#      --aws-apis (Lambda control plane, CloudWatch Logs, DynamoDB), runs 100
#      requests in real time, reads the logs back through FilterLogEvents,
#      then a scenario load (load/testdata/iot-mix.yaml, virtual users in
#      real time, summary-kinds.csv), and `simulate teardown` removes
#      everything.
# Prints what it checked; exits non-zero on the first failure.
set -euo pipefail

cd "$(dirname "$0")/.."
REQUESTS=${E2E_REQUESTS:-10000}
CONCURRENCY=${E2E_CONCURRENCY:-50}
TIME_SCALE=${E2E_TIME_SCALE:-100}

log() { printf 'e2e: %s\n' "$*"; }
now_ms() { date +%s%3N; }
since() { local ms=$(($(now_ms) - $1)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
fail() { printf 'e2e: FAIL: %s\n' "$*" >&2; exit 1; }

# --- 1. tools -----------------------------------------------------------
need=()
command -v aws >/dev/null || need+=(awscli)
command -v hey >/dev/null || need+=(hey)
command -v jq >/dev/null || need+=(jq)
command -v curl >/dev/null || need+=(curl)
if ((${#need[@]})); then
	log "installing ${need[*]} (Debian packages)"
	if [[ $(id -u) == 0 ]]; then SUDO=(); elif sudo -n true 2>/dev/null; then SUDO=(sudo -n); else
		fail "missing ${need[*]}: install them (apt-get install ${need[*]}) or run as root"
	fi
	export DEBIAN_FRONTEND=noninteractive
	"${SUDO[@]}" apt-get install -y -q "${need[@]}" >/dev/null 2>&1 ||
		{ "${SUDO[@]}" apt-get update -q >/dev/null && "${SUDO[@]}" apt-get install -y -q "${need[@]}" >/dev/null; }
fi
log "$(aws --version 2>&1 | head -n1); hey $(dpkg-query -W -f='${Version}' hey 2>/dev/null || echo '(not from Debian)')"

work=$(mktemp -d "${TMPDIR:-/tmp}/fusionsim-e2e.XXXXXX")
pid=
cleanup() {
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
	if [[ ${E2E_KEEP:-} == 1 ]]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# --- 2. build and start -------------------------------------------------
"${GO:-go}" build -o "$work/emulator" ./cmd/emulator
# The default profile caps the account at 1,000 concurrent environments, as
# Lambda does. 50 clients in a closed loop send IoT requests faster than
# that cap sustains for IoT's 128 MB functions (about 12 s of environment
# time per request), and the emulator answers the excess with 429, as Lambda
# would. This test checks the HTTP front and the traces, so it raises the
# limits (a quota increase) and expects no throttling at all.
jq '.limits.accountConcurrency = 1000000 | .limits.scalingBurst = 1000000' model/default_profile.json >"$work/profile.json"
"$work/emulator" --listen 127.0.0.1:0 --workload iot --time-scale "$TIME_SCALE" --seed 1 \
	--profile "$work/profile.json" --out "$work/out" 2>"$work/emulator.log" &
pid=$!
url=
for _ in $(seq 1 300); do
	url=$(grep -o 'listening on http://[0-9.:]*' "$work/emulator.log" | sed 's/listening on //' || true)
	[[ -n $url ]] && break
	kill -0 "$pid" 2>/dev/null || { cat "$work/emulator.log" >&2; fail "the emulator exited at start"; }
	sleep 0.1
done
[[ -n $url ]] || fail "the emulator did not start listening within 30 s"
log "emulator $pid listening on $url (time scale $TIME_SCALE)"

# --- 3. the AWS CLI -----------------------------------------------------
export AWS_ACCESS_KEY_ID=e2edummy AWS_SECRET_ACCESS_KEY=e2edummy AWS_DEFAULT_REGION=us-east-1
export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE="$work/aws-config" AWS_SHARED_CREDENTIALS_FILE="$work/aws-credentials"
: >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"
echo '{}' >"$work/event.json"
# fileb:// passes the payload as raw bytes with awscli 1 and 2 alike (no
# --cli-binary-format needed).
aws lambda invoke --endpoint-url "$url" --function-name fusion-function-I-128 \
	--payload "fileb://$work/event.json" --log-type Tail "$work/invoke-result.json" >"$work/invoke.json"
status=$(jq -r .StatusCode "$work/invoke.json")
[[ $status == 200 ]] || fail "aws lambda invoke: StatusCode $status"
[[ $(jq -r '.FunctionError // ""' "$work/invoke.json") == "" ]] || fail "aws lambda invoke: FunctionError $(jq -r .FunctionError "$work/invoke.json")"
jq -e 'has("sensorId") and has("temperature") and has("sound") and has("air") and has("emergencyVehicle")' "$work/invoke-result.json" >/dev/null ||
	fail "aws lambda invoke: unexpected result $(cat "$work/invoke-result.json")"
jq -r .LogResult "$work/invoke.json" | base64 -d >"$work/invoke-tail.log"
grep -q '^REPORT RequestId: .*Billed Duration: [0-9]* ms.*Memory Size: 128 MB' "$work/invoke-tail.log" ||
	fail "aws lambda invoke: no REPORT line in the log tail: $(cat "$work/invoke-tail.log")"
log "aws lambda invoke fusion-function-I-128: StatusCode 200, result $(jq -c . "$work/invoke-result.json")"
log "  log tail: $(wc -l <"$work/invoke-tail.log") lines, $(grep '^REPORT' "$work/invoke-tail.log" | cut -f2-4 | tr '\t' ' ')"
nfn=$(aws lambda list-functions --endpoint-url "$url" | jq '.Functions | length')
[[ $nfn == 10 ]] || fail "aws lambda list-functions: $nfn functions, want IoT's 10"
log "aws lambda list-functions: $nfn functions"

# --- 4. hey -------------------------------------------------------------
start=$(now_ms)
hey -n "$REQUESTS" -c "$CONCURRENCY" -m POST -T application/json -d '{}' "$url/SYNC-I-128" >"$work/hey.txt"
codes=$(sed -n '/Status code distribution:/,/^$/p' "$work/hey.txt" | grep -E '^\s+\[[0-9]+\]' || true)
log "hey -n $REQUESTS -c $CONCURRENCY -m POST $url/SYNC-I-128 ($(since "$start") s):"
grep -E 'Requests/sec|Average|99% in' "$work/hey.txt" | sed 's/^ */e2e:   /'
log "  status codes: $(echo "$codes" | tr -s ' \t' ' ')"
[[ $(echo "$codes" | wc -l) == 1 && $codes =~ \[200\][[:space:]]+$REQUESTS[[:space:]]responses ]] ||
	{ cat "$work/hey.txt" >&2; fail "not every request got a 200"; }
! grep -q 'Error distribution' "$work/hey.txt" || { cat "$work/hey.txt" >&2; fail "hey saw errors"; }

# --- 5. shutdown and the trace ------------------------------------------
stats=$(curl -fsS "$url/emulator/stats")
log "in flight at shutdown: $(jq .openRequests <<<"$stats") request(s) with invocations still running"
kill -TERM "$pid"
start=$(now_ms)
rc=0
wait "$pid" || rc=$?
pid=
sed 's/^/e2e:   | /' "$work/emulator.log"
[[ $rc == 0 ]] || fail "the emulator exited with status $rc"
log "shutdown took $(since "$start") s"
out="$work/out"
traces="$out/traces/remote.json"
[[ -f $traces ]] || fail "no trace file $traces"
want=$((REQUESTS + 1))
roots=$(jq '[.[] | select(.isRootInvocation)] | length' "$traces")
records=$(jq 'length' "$traces")
log "trace $traces: $records records, $roots root invocations (want $want: $REQUESTS from hey + 1 from aws)"
[[ $roots == "$want" ]] || fail "$roots root invocations in the trace, want $want"
# Every request of the remote setup runs 11 invocations (AS is called twice).
[[ $records == $((want * 11)) ]] || fail "$records records, want 11 per request ($((want * 11)))"
info=$(jq '.extra.emulator' "$out/manifest.json")
[[ $(jq '.rootInvocations.remote' <<<"$info") == "$want" ]] || fail "manifest: rootInvocations $(jq -c .rootInvocations <<<"$info") differ from the trace"
errors=$(jq '.http.functionErrors + .http.throttled + .http.serverErrors + .platform.Errors + .platform.Throttles' <<<"$info")
[[ $errors == 0 ]] || fail "manifest counts $errors errors or throttles: $(jq -c '{http, platform}' <<<"$info")"
[[ $(jq -r '.traceProblems // ""' <<<"$info") == "" ]] || fail "trace problems: $(jq .traceProblems <<<"$info")"
# summary.csv: one row, the remote setup, with every request and no error.
row=$(sed -n 2p "$out/summary.csv")
IFS=, read -r setup requests invocations median _ <<<"$row"
[[ $setup == remote && $requests == "$want" && $invocations == $((want * 11)) ]] ||
	fail "summary.csv: unexpected row $row"
[[ $(cut -d, -f12 <<<"$row") == 0 ]] || fail "summary.csv: errors in $row"
log "summary.csv: $requests requests, $invocations invocations, median root latency $median ms (modeled)"

# --- 6. simulate --backend aws against cmd/emulator --aws-apis ---------------
"$work/emulator" --listen 127.0.0.1:0 --workload iot --aws-apis --seed 2 --out "" 2>"$work/emulator-aws.log" &
pid=$!
url=
for _ in $(seq 1 300); do
	url=$(grep -o 'listening on http://[0-9.:]*' "$work/emulator-aws.log" | sed 's/listening on //' || true)
	[[ -n $url ]] && break
	kill -0 "$pid" 2>/dev/null || { cat "$work/emulator-aws.log" >&2; fail "the emulator (--aws-apis) exited at start"; }
	sleep 0.1
done
[[ -n $url ]] || fail "the emulator (--aws-apis) did not start listening within 30 s"
"${GO:-go}" build -o "$work/simulate" ./cmd/simulate
aws_flags=(--endpoint-url "$url" --aws-region us-east-1 --aws-prefix e2e-)
start=$(now_ms)
"$work/simulate" --workload iot --setup remote --load constant --rps 20 --requests 100 --seed 1 \
	--backend aws "${aws_flags[@]}" --aws-role-arn arn:aws:iam::123456789012:role/fusion-e2e \
	--aws-settle 2s --quiet --out "$work/aws-out" >"$work/simulate-aws.txt" 2>&1 ||
	{ cat "$work/simulate-aws.txt" "$work/emulator-aws.log" >&2; fail "simulate --backend aws"; }
row=$(sed -n 2p "$work/aws-out/summary.csv")
IFS=, read -r setup requests invocations median _ <<<"$row"
log "simulate --backend aws --endpoint-url $url ($(since "$start") s): $requests requests, $invocations invocations, median root latency $median ms"
[[ $(head -n1 "$work/aws-out/summary.csv") == "$(head -n1 "$out/summary.csv")" ]] || fail "the AWS run's summary.csv columns differ from the emulator's"
[[ $setup == remote && $requests == 100 && $invocations == 1100 && $(cut -d, -f12 <<<"$row") == 0 ]] ||
	fail "simulate --backend aws: unexpected summary row $row"
# A scenario load in real time on the same backend: 10 iterations (5/s for
# 2 s) of three requests on virtual users; each kind's requests sent and
# dropped add up to the iterations, and the mixture is summary.csv's row.
start=$(now_ms)
"$work/simulate" --workload iot --setup remote --load-file load/testdata/iot-mix.yaml --rps 5 --duration 2s --seed 1 \
	--backend aws "${aws_flags[@]}" --aws-role-arn arn:aws:iam::123456789012:role/fusion-e2e \
	--aws-settle 2s --quiet --out "$work/aws-scenario" >"$work/simulate-scenario.txt" 2>&1 ||
	{ cat "$work/simulate-scenario.txt" "$work/emulator-aws.log" >&2; fail "simulate --backend aws --load-file"; }
kinds="$work/aws-scenario/summary-kinds.csv"
[[ $(cut -d, -f2 "$kinds" | tail -n +2 | paste -sd' ') == "plain sieve temperature all" ]] || fail "summary-kinds.csv: $(cat "$kinds")"
while IFS=, read -r _ kind sent dropped _; do
	[[ $kind == all ]] && continue
	((sent + dropped == 10)) || fail "summary-kinds.csv: kind $kind: $sent sent + $dropped dropped, want 10 iterations"
done < <(tail -n +2 "$kinds")
all_sent=$(grep '^remote,all,' "$kinds" | cut -d, -f3)
[[ $all_sent == "$(sed -n 2p "$work/aws-scenario/summary.csv" | cut -d, -f2)" ]] || fail "the mixture's $all_sent requests are not summary.csv's"
log "simulate --backend aws --load-file ($(since "$start") s): $all_sent requests of 3 kinds by virtual users, $(grep '^remote,all,' "$kinds" | cut -d, -f4) dropped"
"$work/simulate" teardown "${aws_flags[@]}" >"$work/teardown.txt" 2>&1 || { cat "$work/teardown.txt" >&2; fail "simulate teardown"; }
left=$("$work/simulate" teardown "${aws_flags[@]}" --dry-run 2>&1)
grep -q 'would delete' <<<"$left" && fail "teardown left: $left"
log "simulate teardown: $(grep -c '^deleted' "$work/teardown.txt") resources deleted, none left"
kill -TERM "$pid"
wait "$pid" || fail "the emulator (--aws-apis) exited with an error: $(tail -n 5 "$work/emulator-aws.log")"
pid=
log "PASS"
