#!/usr/bin/env bash
# scripts/collective-model-check.sh without MPI runs: its modelling half on the SYNTHETIC collective
# result files (--results) writes the error table and its JSON; --dry-run plans the four mpirun
# runs (2, 3, 4, 8 ranks, oversubscribed) and the fit on 2, 4, 8; bad arguments are exit 2.
#
#   tests/collective_model_check.sh REPO_ROOT AICBENCH_BINARY WORK_DIR
set -uo pipefail
root=${1:?usage: collective_model_check.sh REPO_ROOT AICBENCH_BINARY WORK_DIR}
binary=${2:?aicbench binary}
work=${3:?work directory}
script="$root/scripts/collective-model-check.sh"
fail=0
# Here-strings, not `echo | grep -q`: under pipefail, grep -q leaving early can fail the echo.
check() { if eval "$2"; then echo "ok: $1"; else echo "FAILED: $1"; fail=1; fi; }

rm -rf "$work"
files=("$root"/tests/data/result-synthetic-collective-cpu-ranks*.json)
"$script" --aicbench "$binary" --out "$work" --results "${files[@]}" >"$work.log" 2>&1
status=$?
check "--results exits 0 (got $status)" '[ "$status" -eq 0 ]'
check "the Markdown table is written" '[ -s "$work/collective-model-errors.md" ]'
check "it has the summary row" 'grep -q "^| \*\*all\*\* |" "$work/collective-model-errors.md"'
check "it predicts held-out ranks" 'grep -q "| 3 | 1 | " "$work/collective-model-errors.md"'
check "the JSON is written and parses" 'python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$work/collective-model-errors.json"'

plan=$("$script" --dry-run --aicbench "$binary" --out "$work/plan" 2>&1)
check "--dry-run exits 0" '[ $? -eq 0 ]'
for n in 2 3 4 8; do
  check "--dry-run runs $n ranks oversubscribed" 'grep -Eq "mpirun --oversubscribe .*-np $n .* run --suite collectives --backend cpu" <<<"$plan"'
done
check "--dry-run fits on 2,4,8" 'grep -Eq "model collective --validate .*--fit-ranks 2,4,8 --holdout-every 3" <<<"$plan"'
check "--dry-run measures nothing" '[ ! -e "$work/plan" ]'

"$script" --bogus >/dev/null 2>&1
check "an unknown argument is exit 2" '[ $? -eq 2 ]'
"$script" --ranks "1 2" --dry-run >/dev/null 2>&1
check "--ranks 1 is exit 2" '[ $? -eq 2 ]'
"$script" --results >/dev/null 2>&1
check "--results without files is exit 2" '[ $? -eq 2 ]'
[ "$fail" -eq 0 ] || cat "$work.log"
exit "$fail"
