#!/usr/bin/env bash
# Runs a tiny trial plan on a real single-node Slurm on this machine and checks the result (docs/scale-out.md):
#   1. installs Debian's slurm-wlm and munge if missing (needs root), creates a munge key, starts munged;
#   2. writes a minimal slurm.conf for localhost (no cgroups, no systemd, no accounting daemon) and starts slurmctld and slurmd;
#   3. plans TRIALS trials with the tool (nasflatness plan --slurm), submits the generated array script with sbatch;
#   4. with REQUEUE=1 (default) requeues array task 0 once while it runs, as a preemption would, to show it resumes;
#   5. waits for the array, runs 'nasflatness collect', and asserts every trial completed exactly once (one published
#      manifest, one completing launch), then stops the daemons it started.
# Not part of CI (.ci/run): it installs system packages and starts root daemons. Output: docs/scale-out.md quotes a run.
# Environment: TRIALS (default 4), EPOCHS (default 4), WORK (default a new /tmp folder), REQUEUE (1 or 0), KEEP (1 keeps WORK).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
trials=${TRIALS:-4}
epochs=${EPOCHS:-4}
requeue=${REQUEUE:-1}
work=${WORK:-$(mktemp -d /tmp/nasflatness-slurm.XXXXXX)}
mkdir -p "$work"
say() { echo "[$(date -u +%H:%M:%S)] $*"; }
started=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then echo "slurm-local-test: run as root (it installs packages and starts slurmctld/slurmd)." >&2; exit 2; fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge"
  DEBIAN_FRONTEND=noninteractive apt-get install -y slurm-wlm munge >"$work/apt.log" 2>&1
fi
say "$(slurmctld -V), $(munged --version 2>&1 | head -1)"

# --- munge ---------------------------------------------------------------------------------------------------------
mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
[ -s /etc/munge/munge.key ] || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
chmod 0400 /etc/munge/munge.key; chmod 0755 /run/munge
pids=()
if ! munge -n >/dev/null 2>&1 </dev/null; then
  runuser -u munge -- /usr/sbin/munged
  sleep 1
  pids+=("$(cat /run/munge/munged.pid)")
fi
munge -n | unmunge >/dev/null && say "munge works"

# --- slurm.conf -----------------------------------------------------------------------------------------------------
host=$(hostname -s)
conf="$work/slurm.conf"
mkdir -p "$work/state" "$work/spool"
cat >"$conf" <<CONF
ClusterName=nasflatness-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$work/jobcomp.txt
MpiDefault=none
ReturnToService=2
SchedulerParameters=defer_batch
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=4000 State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$conf"

cleanup() {
  set +e
  [ -f "$work/slurmd.pid" ] && kill "$(cat "$work/slurmd.pid")" 2>/dev/null
  [ -f "$work/slurmctld.pid" ] && kill "$(cat "$work/slurmctld.pid")" 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  sleep 1
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work/state" "$work/spool"; fi
}
trap cleanup EXIT

slurmctld -c -f "$conf"
slurmd -f "$conf"
for _ in $(seq 1 60); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
  [ "$state" = idle ] && break
  sleep 1
done
say "slurm up: node $host is ${state:-unknown}"
[ "$state" = idle ] || { tail -20 "$work/slurmctld.log" "$work/slurmd.log"; exit 1; }

# --- plan and submit -----------------------------------------------------------------------------------------------
dll="$repo/tools/NasFlatness.Cli/bin/Release/net10.0/nasflatness.dll"
[ -f "$dll" ] || dotnet build "$repo/tools/NasFlatness.Cli" -c Release >"$work/build.log" 2>&1
tool="dotnet $dll"
data=""
for d in "$repo/shared/data/cifar10/cifar-10-batches-bin" "$repo/../shared/data/cifar10/cifar-10-batches-bin" "$repo/../../shared/data/cifar10/cifar-10-batches-bin"; do
  if [ -d "$d" ]; then data=$(cd "$d" && pwd); break; fi
done
[ -n "$data" ] || { echo "slurm-local-test: no cifar-10-batches-bin folder found" >&2; exit 2; }
export NASFLATNESS_ONEDNN=off  # sbatch exports the environment to the tasks
cd "$work"
seeds=$(seq -s, 0 $((trials / 2 - 1)))
methods=(--method darts --method beta-darts)
if [ $((trials % 2)) -eq 1 ]; then seeds=$(seq -s, 0 $((trials - 1))); methods=(--method darts); fi
say "plan: ${methods[*]} seeds $seeds"
$tool plan "${methods[@]}" --seeds "$seeds" --channels 4 --cells 1 --train-examples 128 --valid-examples 128 --epochs "$epochs" \
  --threads 1 --data "$data" --out "$work/plan.jsonl" --results "$work/results" --slurm --array-limit 2 --cpus 1 --time 00:10:00 --tool "$tool" 2>/dev/null
echo "--- generated $work/plan.sbatch"; cat "$work/plan.sbatch"; echo "---"
submitted=$(date +%s)
job=$(sbatch --parsable "$work/plan.sbatch")
say "sbatch: submitted array job $job ($trials tasks, at most 2 at once)"

if [ "$requeue" = 1 ]; then
  # Preempt task 0 once: wait until it has written its first checkpoint, then requeue it as a preemption would.
  t0=$(head -1 "$work/plan.jsonl" | sed 's/.*"id":"\([^"]*\)".*/\1/')
  for _ in $(seq 1 600); do
    if [ -f "$work/results/$t0/checkpoint/checkpoint.json" ]; then break; fi
    sleep 0.1
  done
  if [ ! -f "$work/results/$t0/manifest.json" ] && [ -f "$work/results/$t0/checkpoint/checkpoint.json" ]; then
    say "requeue: task ${job}_0 ($t0) has checkpointed epoch $(sed -n 's/.*"CompletedEpochs": \([0-9]*\).*/\1/p' "$work/results/$t0/checkpoint/checkpoint.json"); scontrol requeue ${job}_0 (as a preemption would)"
    scontrol requeue "${job}_0"
    sleep 1
    scontrol release "${job}_0" 2>/dev/null || true
    scontrol update JobId="${job}_0" StartTime=now 2>/dev/null || true
  else
    say "requeue: task 0 finished before it could be requeued (nothing to show)"
  fi
fi

for _ in $(seq 1 900); do
  left=$(squeue -h -j "$job" 2>/dev/null | wc -l)
  [ "$left" -eq 0 ] && break
  sleep 1
done
finished=$(date +%s)
say "array job $job done after $((finished - submitted)) s"
echo "--- jobcomp records (Slurm's own accounting of every task run)"
sed -E 's/ (UserId|GroupId|Partition|NodeCnt|ProcCnt|WorkDir|ReservationName|Tres|Account|QOS|WcKey|Cluster|SubmitTime|EligibleTime|DerivedExitCode|ExitCode|NodeList|BlockId|Connection|Reboot|Rotate|Geometry|Start|MaxProcs|Name|ArrayJobId)=[^ ]*//g' "$work/jobcomp.txt" || true
echo "--- per-trial logs"
for f in "$work"/results/logs/trial-*.out; do echo "## $(basename "$f")"; grep -E '^\[|completed|claimed|resum|epoch' "$f" | grep -v NNPACK; done

echo "--- collect"
set +e
$tool collect "$work/results" --plan "$work/plan.jsonl" --rerun-indices "$work/rerun.txt" 2>/dev/null
rc=$?
set -e
say "collect exit $rc; to re-run: '$(cat "$work/rerun.txt")'"

# --- assertions -----------------------------------------------------------------------------------------------------
fail=0
[ "$rc" -eq 0 ] || { echo "FAIL: collect exit $rc"; fail=1; }
n=0
while read -r id; do
  n=$((n + 1))
  d="$work/results/$id"
  [ -f "$d/manifest.json" ] || { echo "FAIL: $id has no manifest"; fail=1; continue; }
  completions=$(grep -c 'completed (attempt' "$work"/results/logs/trial-$((n - 1)).out || true)
  state=$(sed -n 's/.*"state": "\([a-z]*\)".*/\1/p' "$d/status.json")
  attempts=$(sed -n 's/.*"attempts": \([0-9]*\).*/\1/p' "$d/status.json")
  echo "trial $((n - 1)) $id: state $state, launches $attempts, completing launches $completions"
  [ "$state" = completed ] && [ "$completions" -eq 1 ] || { echo "FAIL: $id completed $completions times"; fail=1; }
done < <(sed 's/.*"id":"\([^"]*\)".*/\1/' "$work/plan.jsonl")
[ "$n" -eq "$trials" ] || { echo "FAIL: $n trials in the plan, expected $trials"; fail=1; }
say "total $(( $(date +%s) - started )) s; work folder $work"
if [ "$fail" -eq 0 ]; then say "PASS: every trial completed exactly once; results merged into $work/results/results.md"; else say "FAILED"; exit 1; fi
