#!/usr/bin/env bash
# End-to-end test of sharded sweeps on a real Slurm (run by `make slurm-e2e`):
#   1. installs Debian's slurm-wlm and munge when missing;
#   2. starts a private single-node cluster on this machine: munged on its
#      own socket and key, slurmctld and slurmd on free localhost ports, from
#      a generated slurm.conf (nothing in /etc is used or changed);
#   3. runs the sweep unsharded (IoT's 896 rule setups x 2 memory sizes =
#      1,792 cells);
#   4. submits deploy/slurm/sweep.sbatch as it is, as a 4-task job array,
#      and kills one task with SIGKILL (scancel --signal=KILL) once it has
#      kept some cells; the merge job the array submitted runs after the
#      array and must fail listing that shard's cells as missing;
#   5. resubmits the killed task (sbatch --array=1, SWEEP_SHARDS=4): it must
#      resume from the cells it kept, and its merge job must write a
#      directory equal to the unsharded run's, byte for byte (diff -r);
#   6. stops the daemons it started (also on failure or interrupt).
# Every wait is bounded; prints what it checked; exits non-zero on the first
# failure.
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
SHARDS=4
SWEEP_ARGS=(--workload iot --space rules --memory-sizes 128,1024 --seeds 1)

log() { printf 'slurm-e2e: %s\n' "$*"; }
fail() {
	printf 'slurm-e2e: FAIL: %s\n' "$*" >&2
	exit 1
}
now_s() { date +%s; }

# --- 1. packages ---------------------------------------------------------
need=()
command -v slurmctld >/dev/null || need+=(slurmctld)
command -v slurmd >/dev/null || need+=(slurmd)
command -v sbatch >/dev/null || need+=(slurm-client)
command -v munged >/dev/null || need+=(munge)
if ((${#need[@]})); then
	log "installing slurm-wlm munge (Debian packages; missing: ${need[*]})"
	if [[ $(id -u) == 0 ]]; then SUDO=(); elif sudo -n true 2>/dev/null; then SUDO=(sudo -n); else
		fail "missing ${need[*]}: install them (apt-get install slurm-wlm munge) or run as root"
	fi
	export DEBIAN_FRONTEND=noninteractive
	timeout 600 "${SUDO[@]}" apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null 2>&1 ||
		{ timeout 300 "${SUDO[@]}" apt-get update -q >/dev/null &&
			timeout 600 "${SUDO[@]}" apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null; } ||
		fail "apt-get install slurm-wlm munge failed"
fi
[[ $(id -u) == 0 ]] || fail "slurmd runs jobs as their user and must run as root; run this test as root"
log "$(slurmctld -V), munge $(dpkg-query -W -f='${Version}' munge 2>/dev/null || echo '?')"

work=$(mktemp -d "${TMPDIR:-/tmp}/fusionsim-slurm.XXXXXX")
pids=()
cleanup() {
	local rc=$?
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	if ((rc != 0)); then
		for f in "$work"/log/slurmctld.log "$work"/log/slurmd.log; do
			[[ -f $f ]] && { echo "--- last lines of $f" >&2; tail -n 15 "$f" >&2; }
		done
	fi
	if [[ ${SLURM_E2E_KEEP:-} == 1 ]]; then log "kept $work"; else rm -rf "$work"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port: a localhost TCP port nothing listens on.
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	fail "no free port"
}

# wait_for DESCRIPTION SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
	local what=$1 secs=$2
	shift 2
	local end=$(($(now_s) + secs))
	until "$@"; do
		(($(now_s) < end)) || fail "timed out after ${secs}s waiting for $what"
		sleep 0.2
	done
}

# --- 2. the cluster ------------------------------------------------------
mkdir -p "$work"/{munge,key,state,spool,log,bin,jobs}
# munged wants its socket's directories open to every user (to connect) and
# its key readable by itself only.
chmod 755 "$work" "$work/munge"
chmod 700 "$work/key"
"$GO" build -o "$work/bin/simulate" ./cmd/simulate
SIM=$work/bin/simulate

dd if=/dev/urandom of="$work/key/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/key/munge.key"
munged --foreground --key-file="$work/key/munge.key" --socket="$work/munge/munge.socket" \
	--pid-file="$work/munge/munged.pid" --log-file="$work/log/munged.log" --seed-file="$work/key/seed" \
	--num-threads=2 >"$work/log/munged.out" 2>&1 &
pids+=($!)
wait_for "munged" 20 test -S "$work/munge/munge.socket"
munge --socket="$work/munge/munge.socket" -n | unmunge --socket="$work/munge/munge.socket" >/dev/null ||
	fail "munge cannot encode and decode a credential"

host=$(hostname -s)
ctld_port=$(free_port)
slurmd_port=$(free_port)
[[ $ctld_port != "$slurmd_port" ]] || slurmd_port=$((ctld_port + 1))
# The node as slurmd sees it (CPUs, sockets, memory), under our name.
node=$(slurmd -C | head -n1 | sed -E "s/^NodeName=[^ ]+/NodeName=$host NodeAddr=127.0.0.1 NodeHostname=$host/; s/ UpTime=.*//")
export SLURM_CONF=$work/slurm.conf
cat >"$SLURM_CONF" <<CONF
# Generated by scripts/slurm-e2e.sh: a single-node cluster on localhost.
ClusterName=fusionsim-e2e
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool/slurmd-%n
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
MinJobAge=3600
KillWait=5
$node State=UNKNOWN
PartitionName=e2e Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N "$host" >"$work/log/slurmd.out" 2>&1 &
pids+=($!)
node_idle() { [[ $(sinfo -h -N -o '%T' 2>/dev/null | head -n1) == idle* ]]; }
wait_for "the node to be idle (sinfo)" 60 node_idle
log "cluster up: slurmctld :$ctld_port, slurmd :$slurmd_port, node $host ($(sinfo -h -N -o '%c CPUs, %m MB'))"

# job_field JOBID FIELD: a field of "scontrol show job" (the first task's for an array).
job_field() { scontrol -o show job "$1" 2>/dev/null | head -n1 | grep -o "\b$2=[^ ]*" | cut -d= -f2-; }
job_done() {
	local s
	s=$(scontrol -o show job "$1" 2>/dev/null | grep -o '\bJobState=[A-Z_]*' | cut -d= -f2 | sort -u)
	[[ -n $s ]] && ! grep -qE 'PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUED|SUSPENDED' <<<"$s"
}

# --- 3. the unsharded run -------------------------------------------------
start=$(now_s)
"$SIM" sweep "${SWEEP_ARGS[@]}" --out "$work/unsharded" --quiet >"$work/unsharded.txt"
cells=$(($(wc -l <"$work/unsharded/cells.csv") - 1))
log "unsharded: ${SWEEP_ARGS[*]}: $cells cells in $(($(now_s) - start)) s"

# --- 4. the job array, one task killed -----------------------------------
out=$work/sharded
export SWEEP_OUT=$out SIMULATE=$SIM
submit() { sbatch --parsable --output="$work/jobs/%A_%a.out" "$@" deploy/slurm/sweep.sbatch "${SWEEP_ARGS[@]}" --checkpoint 200ms; }
array=$(submit --array=0-$((SHARDS - 1)))
log "submitted deploy/slurm/sweep.sbatch as array job $array ($SHARDS tasks)"
victim=1
partial=$out/.$(printf 'shard-%04d-of-%04d' $victim $SHARDS).partial
kept_some() { compgen -G "$partial/chunk-*.csv" >/dev/null; }
wait_for "task $victim to keep cells" 180 kept_some
[[ ! -e $out/$(printf 'shard-%04d-of-%04d' $victim $SHARDS) ]] || fail "task $victim finished before it could be killed"
# SIGKILL to the task's simulate process, as the OOM killer or a lost node
# would: no chance to keep anything more than the last checkpoint.
jobid=$(squeue -h -j "${array}_$victim" -o %A)
victim_pid=
for p in $(scontrol listpids "$jobid" 2>/dev/null | awk 'NR > 1 { print $1 }'); do
	[[ $(cat "/proc/$p/comm" 2>/dev/null) == simulate ]] && victim_pid=$p
done
[[ -n $victim_pid ]] || fail "no simulate process in job $jobid (task ${array}_$victim): $(scontrol listpids "$jobid" 2>&1)"
kill -KILL "$victim_pid"
wait_for "task ${array}_$victim to end" 60 job_done "$jobid"
log "task ${array}_$victim (job $jobid, pid $victim_pid) killed with SIGKILL; it had kept $(cat "$partial"/chunk-*.csv | grep -vc '^cell') cells"
merge_file=$out/.merge-submitted-$array/jobid
wait_for "the merge job's submission" 60 test -s "$merge_file"
merge=$(cat "$merge_file")
wait_for "array job $array and merge job $merge" 300 job_done "$merge"
job_done "$array" || fail "the merge job ran before the array ended"
state=$(job_field "${array}_$victim" JobState)
[[ $state == FAILED ]] || fail "killed task ${array}_$victim: state $state, want FAILED"
mstate=$(job_field "$merge" JobState)
[[ $mstate == FAILED ]] || fail "merge job $merge with a shard missing: state $mstate, want FAILED"
grep -q "they belong to shards $victim of $SHARDS" "$out/merge-$array.out" ||
	fail "merge job $merge did not list shard $victim as missing: $(cat "$out/merge-$array.out")"
log "merge job $merge after the kill: $mstate, $(grep -o '[0-9]* of [0-9]* cells are missing' "$out/merge-$array.out"), shard $victim named"
[[ ! -e $out/merged ]] || fail "the failed merge wrote $out/merged"

# --- 5. the killed task again ---------------------------------------------
again=$(SWEEP_SHARDS=$SHARDS submit --array=$victim)
log "resubmitted task $victim as array job $again (SWEEP_SHARDS=$SHARDS)"
wait_for "the second merge job's submission" 60 test -s "$out/.merge-submitted-$again/jobid"
merge2=$(cat "$out/.merge-submitted-$again/jobid")
wait_for "job $again and merge job $merge2" 300 job_done "$merge2"
[[ $(job_field "${again}_$victim" JobState) == COMPLETED ]] || fail "resubmitted task: $(job_field "${again}_$victim" JobState); log: $(cat "$work"/jobs/"${again}"_*.out)"
resumed=$(grep -o 'resuming: [0-9]* cells kept' "$work/jobs/${again}_$victim.out" || true)
[[ -n $resumed ]] || fail "the resubmitted task did not resume: $(cat "$work/jobs/${again}_$victim.out")"
log "task $victim again: $resumed; $(grep -o '[0-9]* cells ([0-9]* kept from before, [0-9]* evaluations' "$work/jobs/${again}_$victim.out" | head -n1))"
[[ $(job_field "$merge2" JobState) == COMPLETED ]] || fail "merge job $merge2: $(job_field "$merge2" JobState): $(cat "$out/merge-$again.out")"
for i in $(seq 0 $((SHARDS - 1))); do
	[[ $(job_field "${array}_$i" JobState) == COMPLETED || $i == "$victim" ]] || fail "task ${array}_$i: $(job_field "${array}_$i" JobState)"
done
diff -r "$work/unsharded" "$out/merged" >"$work/diff.txt" || fail "merged and unsharded results differ: $(head -n 20 "$work/diff.txt")"
log "merge job $merge2: COMPLETED; $out/merged equals the unsharded run byte for byte ($(find "$out/merged" -type f | wc -l) files: $(cd "$out/merged" && find . -type f | sort | tr '\n' ' '))"
log "the merged front ($(($(wc -l <"$out/merged/front.csv") - 1)) setups):"
sed -n '/^rank/,/^$/p' "$work/unsharded.txt" | sed 's/^/slurm-e2e:   /'
log "PASS"
