#!/bin/bash
# A real single-node Slurm cluster (munged, slurmctld, slurmd on localhost, generated slurm.conf,
# private folders and ports) runs a 4-cell sweep through tools/slurm/submit.sh: the array job
# and the collect job. The sweep.csv must be byte-identical to the in-process sweep of the same
# plan. If a daemon cannot start the test fails with its log; it is never skipped.
#
# Needs root (slurmd runs jobs as their user) and Debian's slurm-wlm + munge
# (tools/install-deps.sh test).
set -uo pipefail
: "${CONTRASTLAB_BIN:?}"
src=$(cd "$(dirname "$0")/../.." && pwd)
t0=$(date +%s.%N)
tmp=$(mktemp -d /tmp/contrastlab-slurm-XXXXXX)
chmod 755 "$tmp"
pids=()

fail() {
  echo "not ok - $*"
  for log in "$tmp"/*.log "$tmp"/sweep/slurm/*.out; do
    [ -f "$log" ] || continue
    echo "# ---- $log"
    sed 's/^/# /' "$log" | tail -40
  done
  exit 1
}

stop_daemons() {
  # Only the daemons this test started, by their pid files.
  for f in slurmd.pid slurmctld.pid munged.pid; do
    [ -f "$tmp/$f" ] || continue
    pid=$(cat "$tmp/$f")
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap stop_daemons EXIT

echo "1..1"
for tool in munged slurmctld slurmd sbatch squeue scontrol; do
  command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin
  command -v "$tool" >/dev/null || fail "$tool is not installed (tools/install-deps.sh test)"
done
[ "$(id -u)" -eq 0 ] || fail "slurmd needs root to run jobs; run the tests as root"

# munge: a fresh key, its own socket, pid and log.
mkdir -p "$tmp/munge" && chmod 700 "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
munged --force --key-file="$tmp/munge/munge.key" --socket="$tmp/munge/munge.sock" \
  --pid-file="$tmp/munged.pid" --log-file="$tmp/munged.log" --seed-file="$tmp/munge/seed" \
  || fail "munged did not start"

# Ports away from the defaults (6817/6818) and from other test runs.
base=$((20000 + RANDOM % 20000))
host=$(hostname -s)
cpus=2
mkdir -p "$tmp/state" "$tmp/spool"
cat > "$tmp/slurm.conf" <<CONF
ClusterName=contrastlab-test
SlurmctldHost=$host
SlurmctldPort=$base
SlurmdPort=$((base + 1))
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
SlurmdTimeout=60
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$tmp/slurm.conf"
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" -N "$host" || fail "slurmd did not start"

# The node comes up idle within a few seconds.
up=0
for _ in $(seq 100); do
  state=$(scontrol show node "$host" 2>/dev/null | sed -n 's/.*State=\([A-Z+_]*\).*/\1/p' | head -1)
  case "$state" in IDLE*|MIXED*|ALLOCATED*) up=1; break ;; esac
  sleep 0.3
done
[ "$up" -eq 1 ] || fail "the node did not come up (state '${state:-none}')"

# The reference: the same sweep in one process.
sweep=(--set train.batch=16 --set probe.every=0 --set probe.images=100 --set train.threads=1 --steps 60
       --sweep data.bits=0,3 --sweep train.seed=1,2)
"$CONTRASTLAB_BIN" --headless "${sweep[@]}" --out "$tmp/in-process" 2>"$tmp/in-process.log" \
  || fail "the in-process sweep failed"

t_submit=$(date +%s.%N)
ids=$(CONTRASTLAB_CPUS_PER_CELL=1 "$src/tools/slurm/submit.sh" "$tmp/sweep" "${sweep[@]}" 2>"$tmp/submit.log") \
  || fail "submit.sh failed"
read -r array collect <<<"$ids"
echo "# array job $array, collect job $collect"
done_=0
for _ in $(seq 600); do
  if [ -z "$(squeue -h -j "$array,$collect" 2>/dev/null)" ]; then done_=1; break; fi
  sleep 0.5
done
[ "$done_" -eq 1 ] || fail "the jobs did not end within 300 s: $(squeue 2>&1)"
t_end=$(date +%s.%N)
scontrol show job "$collect" > "$tmp/collect-job.log" 2>&1
grep -q "JobState=COMPLETED" "$tmp/collect-job.log" || fail "the collect job did not complete"
for i in 0 1 2 3; do
  grep -q "cell $i/4\|finished" "$tmp/sweep/slurm/cell-$i.out" || fail "cell $i left no output"
done
cmp "$tmp/in-process/sweep.csv" "$tmp/sweep/sweep.csv" || fail "sweep.csv differs from the in-process sweep"
[ -f "$tmp/sweep/figures/sweep.png" ] || fail "no figures/sweep.png"
echo "# slurm: array + collect $(echo "$t_end - $t_submit" | bc) s after submit; test $(echo "$t_end - $t0" | bc) s in all"
echo "ok 1 /slurm/array-and-collect-identical"
