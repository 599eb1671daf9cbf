#!/usr/bin/env bash
# The collective model against real measurements (issue 10 item 6, docs/collective-model.md,
# "Validation"): runs the collectives suite on the cpu backend under mpirun at 2, 3, 4 and 8
# ranks (one node, --oversubscribe), fits `aicbench model collective` on 2, 4 and 8 ranks and
# predicts the 3-rank run (and every 3rd size at every rank count), and writes the errors as a
# Markdown table for docs/collective-model.md, with the JSON beside it.
#
#   scripts/collective-model-check.sh [--aicbench BIN] [--out DIR] [--ranks "2 3 4 8"]
#                                     [--fit-ranks 2,4,8] [--holdout-every 3]
#                                     [--run-args "ARGS for aicbench run"] [--run-timeout SEC] [--dry-run]
#   scripts/collective-model-check.sh --results FILE... [--aicbench BIN] [--out DIR] ...
#                                     (no runs: the model on result files measured before)
#
# --aicbench: the full binary for the runs (default build/dev/harness/aicbench, or $AICBENCH);
# with --results the reports-only build/reports/reports/aicbench does as well.
# Output: DIR/collective-model-errors.md and DIR/collective-model-errors.json (DIR default
# results/collective-model, kept out of git), and DIR/ranksN/ with each run's result file.
# Exit 0 done; 2 bad usage; 3 mpirun or the collectives suite missing; else the failing step's code.
set -euo pipefail
cd "$(dirname "$0")/.."

aicbench=${AICBENCH:-}
out=results/collective-model
ranks="2 3 4 8"
fit_ranks=2,4,8
holdout_every=3
run_args=""
run_timeout=1800
dry_run=0
results=()
usage() { sed -n '/^#   scripts/,/^#  *(no runs/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --aicbench) aicbench=${2:?--aicbench needs a path}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --ranks) ranks=${2:?--ranks needs a list}; shift 2 ;;
    --fit-ranks) fit_ranks=${2:?--fit-ranks needs a list}; shift 2 ;;
    --holdout-every) holdout_every=${2:?--holdout-every needs a number}; shift 2 ;;
    --run-args) run_args=${2?--run-args needs arguments}; shift 2 ;;
    --run-timeout) run_timeout=${2:?--run-timeout needs seconds}; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    --results) shift; while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do results+=("$1"); shift; done
               [ ${#results[@]} -gt 0 ] || { echo "collective-model-check: --results needs result files" >&2; exit 2; } ;;
    -h|--help) usage ;;
    *) echo "collective-model-check: unknown argument '$1'" >&2; usage ;;
  esac
done
for n in $ranks; do
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 2 ] || { echo "collective-model-check: --ranks: '$n' is not a rank count >= 2" >&2; exit 2; }
done
[[ "$run_timeout" =~ ^[0-9]+$ ]] || { echo "collective-model-check: --run-timeout: '$run_timeout' is not seconds" >&2; exit 2; }
if [ -z "$aicbench" ]; then
  aicbench=build/dev/harness/aicbench
  [ ${#results[@]} -gt 0 ] && [ ! -x "$aicbench" ] && aicbench=build/reports/reports/aicbench
fi

run() {  # prints the command; runs it unless --dry-run
  echo "+ $*"
  [ "$dry_run" = 1 ] || "$@"
}

if [ ${#results[@]} -eq 0 ]; then
  if [ "$dry_run" = 0 ]; then
    command -v mpirun >/dev/null || { echo "collective-model-check: mpirun not found (scripts/install-deps.sh installs OpenMPI)" >&2; exit 3; }
    [ -x "$aicbench" ] || { echo "collective-model-check: $aicbench is not an executable aicbench (build it: cmake --preset dev && cmake --build --preset dev, or --aicbench BIN)" >&2; exit 3; }
    if ! "$aicbench" list --suite collectives >/dev/null 2>&1; then
      echo "collective-model-check: '$aicbench list --suite collectives' fails: this build has no collectives suite (issue 10 item 8)" >&2
      exit 3
    fi
  fi
  # OpenMPI refuses to run as root unless told twice (containers, CI).
  if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
  for n in $ranks; do
    dir="$out/ranks$n"
    [ "$dry_run" = 1 ] || { rm -rf "$dir"; mkdir -p "$dir"; }
    # shellcheck disable=SC2086  # run_args are words for aicbench run
    run timeout "$run_timeout" mpirun --oversubscribe --bind-to none -np "$n" \
      "$aicbench" run --suite collectives --backend cpu --out "$dir" $run_args
    if [ "$dry_run" = 0 ]; then
      while IFS= read -r f; do results+=("$f"); done < <(find "$dir" -maxdepth 1 -name '*.json' | sort)
    else
      results+=("$dir/*.json")
    fi
  done
fi

[ "$dry_run" = 1 ] || mkdir -p "$out"
md="$out/collective-model-errors.md"
model=("$aicbench" model collective --validate "${results[@]}" --fit-ranks "$fit_ranks" --holdout-every "$holdout_every")
run "${model[@]}" --md "$md"
if [ "$dry_run" = 0 ]; then
  "${model[@]}" --json > "$out/collective-model-errors.json"
  echo "collective-model-check: wrote $md and $out/collective-model-errors.json"
fi
