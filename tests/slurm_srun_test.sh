#!/usr/bin/env bash
# The srun path for real: a one-host Slurm cluster (munged, slurmctld, slurmd on this machine,
# private ports, state and keys under a temporary directory) runs
#   1. srun --mpi=pmix -n 2 aicbench run ...   one node file, launcher "srun", both ranks' rows;
#   2. a task that kills itself (kill -9) under srun --kill-on-bad-exit: the step ends within
#      seconds naming the task, and the node file keeps what was measured before (complete: false).
#
#   tests/slurm_srun_test.sh AICBENCH_BINARY MPI_RUN_MAIN_BINARY
#
# Exit 77 (skipped) where Slurm or munge is not installed (Debian: slurm-wlm munge) or not root
# (slurmd must start tasks as their user). The daemons are the script's own, ended by their pid
# files on exit. About 10 s.
set -euo pipefail

aicbench=$1
planted=$2
python=${AICBENCH_PYTHON:-/usr/bin/python3}

for tool in munged slurmctld slurmd srun sinfo; do
  if ! command -v "$tool" >/dev/null; then
    echo "slurm_srun_test: skipped: $tool not found (apt-get install slurm-wlm munge)"
    exit 77
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "slurm_srun_test: skipped: slurmd needs root to start tasks"
  exit 77
fi

work=$(mktemp -d /tmp/aicbench-slurm.XXXXXX)
# Each daemon this script started, by its pid file: SIGTERM, up to 10 s to save its state, then
# SIGKILL.
stop_daemons() {
  for pid_file in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munge/pid"; do
    [ -s "$pid_file" ] || continue
    pid=$(cat "$pid_file")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap stop_daemons EXIT

free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
host=$(hostname)
mkdir -p "$work/munge" "$work/ctld" "$work/spool" "$work/out" "$work/specs/suites"
chmod 700 "$work/munge"
head -c 1024 /dev/urandom >"$work/munge/key"
chmod 600 "$work/munge/key"
munged --force --key-file="$work/munge/key" --socket="$work/munge/socket" --pid-file="$work/munge/pid" \
  --log-file="$work/munge/log" --seed-file="$work/munge/seed"

# CPUs=16 whatever the machine has (config_overrides): tasks may outnumber the cores, as with
# mpirun --oversubscribe.
cat >"$work/slurm.conf" <<EOF
ClusterName=aicbenchtest
SlurmctldHost=$host
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmUser=root
SlurmdUser=root
SlurmdParameters=config_overrides
StateSaveLocation=$work/ctld
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=16 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$work/slurm.conf
slurmctld
slurmd

started=$(date +%s)
until [ "$(sinfo -h -o %t 2>/dev/null)" = "idle" ]; do
  if (($(date +%s) - started > 60)); then
    echo "slurm_srun_test: the one-host cluster did not come up within 60 s" >&2
    tail -n 20 "$work"/*.log >&2 || true
    exit 1
  fi
  sleep 0.5
done
echo "slurm_srun_test: one-host cluster up in $(($(date +%s) - started)) s"

cat >"$work/specs/suites/tiny.json" <<'EOF'
{"name": "tiny", "version": 1,
 "measurement": {"modes": ["hot"], "cpu": {"min_samples": 3, "min_time_s": 0.001, "max_noise": 1, "timeout_s": 1}},
 "groups": [{"family": "gemm", "dtypes": ["fp32"], "impls": ["cpu_blocked", "test_fault"],
             "shapes": {"cpu": [{"M": 16, "N": 16, "K": 16}, {"M": 24, "N": 16, "K": 8}]}}]}
EOF
export AICBENCH_SPECS=$work/specs

fail() {
  echo "slurm_srun_test: FAILED: $*" >&2
  exit 1
}

# ---- 1. two tasks, one node: one file with both ranks' rows, launched by srun.
if ! output=$(timeout -s KILL 120 srun -n 2 --mpi=pmix --kill-on-bad-exit=1 \
                "$planted" --suite tiny --out "$work/out/ok" --job-timeout 30 2>&1); then
  echo "$output" >&2
  fail "srun -n 2 --mpi=pmix exited with an error"
fi
echo "$output"
"$python" - "$work/out/ok" <<'EOF' || fail "the node file of the srun run is not as expected"
import glob, json, sys
files = glob.glob(sys.argv[1] + "/*.json")
assert len(files) == 1, files
d = json.load(open(files[0]))
a = d["context"]["aicbench"]
assert a["format_version"] == 3 and a["complete"] is True, a
assert a["job"]["launcher"] == "srun" and a["job"]["ranks"] == 2 and a["job"]["nodes"] == 1, a["job"]
ranks = sorted(b["aicbench"]["origin"]["rank"] for b in d["benchmarks"])
assert ranks == [0, 0, 0, 0, 1, 1, 1, 1], ranks
print("slurm_srun_test: srun run ok:", files[0].rsplit("/", 1)[1])
EOF
# The real binary under srun, too (its own CLI and Job::start()).
suite_real=$work/specs/suites/real.json
sed 's/"tiny"/"real"/; s/, "test_fault"//' "$work/specs/suites/tiny.json" >"$suite_real"
timeout -s KILL 120 srun -n 2 --mpi=pmix --kill-on-bad-exit=1 \
  "$aicbench" run --suite real --backend cpu --out "$work/out/real" >/dev/null 2>&1 ||
  fail "srun -n 2 --mpi=pmix aicbench run failed"
[ "$(find "$work/out/real" -name '*.json' | wc -l)" = 1 ] || fail "aicbench under srun did not write one node file"

# ---- 2. task 1 kills itself in its second benchmark: the step ends, naming the task.
started=$(date +%s)
set +e
output=$(AICBENCH_TEST_FAULT=test_fault:KILL:1 timeout -s KILL 120 srun -n 2 --mpi=pmix --kill-on-bad-exit=1 \
           "$planted" --suite tiny --out "$work/out/killed" --job-timeout 5 2>&1)
code=$?
set -e
elapsed=$(($(date +%s) - started))
echo "$output"
[ "$code" -ne 0 ] || fail "srun exited 0 although task 1 was killed"
((elapsed < 60)) || fail "the killed task's step took $elapsed s to end"
grep -c "task 1" <<<"$output" >/dev/null || fail "srun's message does not name task 1"
"$python" - "$work/out/killed" <<'EOF' || fail "the node file of the killed run is not valid and incomplete"
import glob, json, sys
files = glob.glob(sys.argv[1] + "/*.json")
assert len(files) == 1, files
d = json.load(open(files[0]))
assert d["context"]["aicbench"]["complete"] is False
first = [b["aicbench"]["origin"]["rank"] for b in d["benchmarks"]
         if b["name"] == "gemm/cpu_blocked/fp32/M:16/N:16/K:16/mode:hot"]
assert sorted(first) == [0, 1], first
EOF
echo "slurm_srun_test: killed task ended the step in $elapsed s (exit $code); node file kept"
