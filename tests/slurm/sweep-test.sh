#!/usr/bin/env bash
# The cluster stage of CI. On a running one-node Slurm (tests/slurm/cluster.sh up), with the
# release binary built:
#   1. the study is the sweep of deploy/k8s/sweep-job.yaml (checked by k8s_manifest.py);
#   2. it runs on one machine (`simulacra sweep`): the reference tables;
#   3. the manifest's own command runs once per index with JOB_COMPLETION_INDEX set, then its
#      merge Job's command: the tables must equal the reference;
#   4. deploy/slurm/sweep.sbatch runs it as a 4-task job array, merged by
#      deploy/slurm/merge.sbatch as a dependent job: the tables must equal the reference;
#   5. again with longer runs, but task 1 is cancelled (scancel) in the middle of a run and
#      submitted again (--array=1), and task 2 is requeued (scontrol requeue) in the middle of
#      a run: each skips its finished run and resumes the stopped one, and the merged tables
#      equal that sweep's on one machine.
# Tables are compared byte for byte (runs.csv without its wall-time column).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BIN=${SIMULACRA_BIN:-$ROOT/target/release/simulacra} # the binary under test
WORK=$ROOT/target/ci-slurm
[ -x "$BIN" ] || { echo "slurm test: build the release binary first" >&2; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK"
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

# 1. The study, from the Kubernetes manifest (PyYAML: pip's, or Debian's python3-yaml).
PY=python3
"$PY" -c 'import yaml' 2>/dev/null || PY=/usr/bin/python3
"$PY" tests/slurm/k8s_manifest.py deploy/k8s/sweep-job.yaml deploy/k8s/merge-job.yaml >"$WORK/k8s.txt"
json_list() { # json_list KEY: the JSON list on line KEY of k8s.txt, NUL-separated
  sed -n "s/^$1 //p" "$WORK/k8s.txt" | python3 -c 'import json,sys; sys.stdout.write("".join(a + "\0" for a in json.load(sys.stdin)))'
}
mapfile -d '' K8S_SWEEP < <(json_list sweep)
mapfile -d '' K8S_MERGE < <(json_list merge)
K8S_OUT=$(sed -n 's/^out //p' "$WORK/k8s.txt" | python3 -c 'import json,sys; print(json.load(sys.stdin))')
STUDY=() # the sweep's own arguments: without simulacra sweep, --out, --shard, --jobs, --quiet
i=2
while [ "$i" -lt "${#K8S_SWEEP[@]}" ]; do
  case ${K8S_SWEEP[$i]} in
    --out | --shard | --jobs) i=$((i + 2)) ;;
    --quiet) i=$((i + 1)) ;;
    *) STUDY+=("${K8S_SWEEP[$i]}"); i=$((i + 1)) ;;
  esac
done
echo "study: simulacra sweep ${STUDY[*]}"

same_tables() { # same_tables DIR [REF]: DIR's tables equal those of REF (default: the reference)
  local f col ref=${2:-$WORK/single}
  for f in aggregate.csv welfare.svg welfare.png seeds.svg seeds.png; do
    cmp "$ref/$f" "$1/$f" || { echo "slurm test: $1/$f differs from the single-machine sweep's" >&2; return 1; }
  done
  col=$(head -n1 "$ref/runs.csv" | tr , '\n' | grep -nx seconds | cut -d: -f1)
  cmp <(cut -d, -f"$col" --complement "$ref/runs.csv") <(cut -d, -f"$col" --complement "$1/runs.csv") ||
    { echo "slurm test: $1/runs.csv differs from the single-machine sweep's" >&2; return 1; }
  echo "identical tables: $1"
}

# 2. The reference: one machine.
t=$(now)
"$BIN" sweep "${STUDY[@]}" --out "$WORK/single" --quiet | tail -n 1
echo "single machine: $(since "$t") s"

# 3. The manifest's commands, as its pods would run them.
N=${K8S_SWEEP[*]}
N=${N##*--shard k8s/}
N=${N%% *}
t=$(now)
for ((i = 0; i < N; i++)); do
  cmd=("${K8S_SWEEP[@]}")
  for j in "${!cmd[@]}"; do [ "${cmd[$j]}" = "$K8S_OUT" ] && cmd[$j]=$WORK/k8s; done
  cmd[0]=$BIN
  JOB_COMPLETION_INDEX=$i "${cmd[@]}"
done
cmd=("${K8S_MERGE[@]}")
cmd[0]=$BIN
cmd[3]=$WORK/k8s
"${cmd[@]}" | tail -n 1
echo "kubernetes commands, $N indices one after another, and merge: $(since "$t") s"
same_tables "$WORK/k8s"

wait_gone() { # wait_gone JOBID: until no task of JOBID is queued or running
  local deadline=$((SECONDS + 600))
  while [ -n "$(squeue -h -j "$1" 2>/dev/null)" ]; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "slurm test: job $1 timed out" >&2; squeue >&2; return 1; }
    sleep 0.2
  done
}
submit_array() { # submit_array ARRAY OUT [SWEEP ARGS]: the array job's id (default: the study)
  local array=$1 out=$2
  shift 2
  [ $# -gt 0 ] || set -- "${STUDY[@]}"
  SIMULACRA=$BIN sbatch --parsable --array="$array" -o "$WORK/sweep-%A_%a.out" \
    deploy/slurm/sweep.sbatch "$out" "$@"
}
merge_after() { # merge_after JOBIDS OUT: submits the merge after JOBIDS, waits, checks it
  local m
  m=$(SIMULACRA=$BIN sbatch --parsable --dependency="afterany:$1" -o "$WORK/merge-%j.out" \
    deploy/slurm/merge.sbatch "$2")
  wait_gone "$m"
  tail -n 2 "$WORK/merge-$m.out"
  grep -q "^merged " "$WORK/merge-$m.out" || { cat "$WORK/merge-$m.out" >&2; return 1; }
}

# 4. A 4-task job array and a dependent merge.
t=$(now)
jid=$(submit_array 0-3 "$WORK/slurm")
merge_after "$jid" "$WORK/slurm"
echo "slurm: 4-task array and merge, submission to tables: $(since "$t") s"
cat "$WORK"/sweep-"$jid"_*.out | grep '^shard'
same_tables "$WORK/slurm"

# 5. Task 1 cancelled (scancel) in the middle of its second run, then submitted again; task 2
#    requeued (scontrol requeue, as on preemption or node failure) in the middle of its
#    second run, and started again by Slurm. Each then skips its first run, resumes its
#    second and runs its third. The runs are 10 times longer (10000 steps) than the manifest's,
#    so that the interruptions land inside the game rather than in the baselines after it;
#    the reference is that sweep on one machine.
LONG=("${STUDY[@]}" --set simulation.timesteps=10000)
"$BIN" sweep "${LONG[@]}" --out "$WORK/single-long" --quiet >/dev/null
runs_of() { # runs_of SHARD [STATE]: the folders of shard SHARD/4 (in that state)
  "$BIN" sweep "${LONG[@]}" --out "$WORK/killed" --shard "$1/4" --dry-run --json |
    python3 -c 'import json,sys; [print(r["dir"]) for r in json.load(sys.stdin)["runs"] if r["mine"] and sys.argv[1] in ("", r["state"])]' "${2:-}"
}
started() { # started DIR: waits until the run in DIR has begun its log
  local deadline=$((SECONDS + 300))
  until [ -s "$WORK/killed/$1/run.log" ]; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "slurm test: $1 never started" >&2; return 1; }
    sleep 0.02
  done
}
t=$(now)
jid=$(submit_array 0-3 "$WORK/killed" "${LONG[@]}")
started "$(runs_of 1 | sed -n 2p)"
scancel "${jid}_1"
started "$(runs_of 2 | sed -n 2p)"
scontrol requeue "${jid}_2"
# A requeued job is held until a begin time about two minutes ahead; let it start now.
deadline=$((SECONDS + 60))
until [ "$(squeue -h -j "${jid}_2" -o %T 2>/dev/null)" = PENDING ]; do
  [ "$SECONDS" -lt "$deadline" ] || { echo "slurm test: task 2 was not requeued" >&2; exit 1; }
  sleep 0.1
done
scontrol update JobId="${jid}_2" StartTime=now
wait_gone "$jid"
tail -n 3 "$WORK/sweep-${jid}_2.out" | grep -E '^(shard|resumed) '
grep -q '(1 ran, 1 resumed, 1 skipped' "$WORK/sweep-${jid}_2.out" ||
  { echo "slurm test: requeued task 2 did not skip, resume and run one run each" >&2; exit 1; }
partial=0
for d in $(runs_of 1 resume); do
  partial=$((partial + 1))
  echo "stopped part-way by scancel: $d ($(stat -c %s "$WORK/killed/$d/run.log") bytes of log)"
done
[ "$partial" = 1 ] || { echo "slurm test: expected one run stopped part-way, found $partial" >&2; exit 1; }
jid2=$(SIMULACRA_SHARD=slurm/4 submit_array 1 "$WORK/killed" "${LONG[@]}")
merge_after "$jid2" "$WORK/killed"
grep -E '^(shard|resumed) ' "$WORK/sweep-${jid2}_1.out"
grep -q '(1 ran, 1 resumed, 1 skipped' "$WORK/sweep-${jid2}_1.out" ||
  { echo "slurm test: task 1 did not skip its finished run, resume the stopped one and run the last" >&2; exit 1; }
# Timing decides where an interruption lands; after the game it only cost the baselines.
for f in "$WORK/sweep-${jid}_2.out" "$WORK/sweep-${jid2}_1.out"; do
  kept=$(sed -n 's/^resumed .*: \([0-9]*\) whole steps.*/\1/p' "$f" | tail -n 1)
  [ "${kept:-0}" -lt 10000 ] || echo "note: an interruption landed after the game's last step ($f)"
done
echo "slurm: array with task 1 cancelled and resubmitted, task 2 requeued, to tables: $(since "$t") s"
same_tables "$WORK/killed" "$WORK/single-long"
echo "slurm test: passed"
