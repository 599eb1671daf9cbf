#!/usr/bin/env bash
# scripts/gpu-check.sh's plan, checked without a GPU: its step budgets add up to no more than the
# 8 minutes (480 s) the device call allows, every step is in the default plan with a time limit,
# the report keeps its time on a shortened rerun, bad arguments are refused, and without a GPU the
# script stops at once (exit 3).
#
#   tests/gpu_check_plan.sh REPO_ROOT
set -uo pipefail
unset AICBENCH_GPU_CHECK_SECONDS AICBENCH_GPU_CHECK_DRY_RUN
root=${1:?usage: gpu_check_plan.sh REPO_ROOT}
script="$root/scripts/gpu-check.sh"
fail=0
# Here-strings, not `echo | grep -q`: under pipefail, grep -q leaving early can fail the echo
# (SIGPIPE) and with it the check, now and then.
check() { if eval "$2"; then echo "ok: $1"; else echo "FAILED: $1"; fail=1; fi; }

plan=$("$script" --dry-run --profile) || { echo "FAILED: --dry-run exited $?"; exit 1; }
echo "$plan"
read -r total deadline < <(echo "$plan" | sed -n 's/^budgets: \([0-9]*\) s; deadline: \([0-9]*\) s$/\1 \2/p')
check "the dry run states its budgets and deadline" '[ -n "${total:-}" ] && [ -n "${deadline:-}" ]'
check "the default deadline is 480 s (8 minutes)" '[ "${deadline:-0}" -eq 480 ]'
check "the budgets sum to at most 480 s (got ${total:-?})" '[ "${total:-999}" -le 480 ]'
# The limits the plan gives, summed, are what the script may take at most before --profile.
limits=$(echo "$plan" | awk '$1 != "profile" && $5 ~ /^[0-9]+$/ { s += $4 } END { print s + 0 }')
check "the steps' time limits sum to at most 480 s (got $limits)" '[ "$limits" -le 480 ]'
for step in device configure build gpu-tests collectives sanitizer quick report; do
  check "step $step runs in the default plan" 'grep -Eq "^  $step +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$" <<<"$plan"'
done
check "no step of the default plan is skipped" '! grep -v "^  profile" <<<"$plan" | grep -q skipped'

rerun=$("$script" --dry-run --budget 240 --skip gpu-tests,collectives,sanitizer)
check "a 240 s rerun keeps the report's time" 'grep -Eq "^  report +10 +5 +10 +240$" <<<"$rerun"'
check "a 240 s rerun still runs the quick suite" 'grep -Eq "^  quick +[0-9]+ +60 +[0-9]+ +230$" <<<"$rerun"'
check "AICBENCH_GPU_CHECK_DRY_RUN=1 is a dry run" '[ "$(AICBENCH_GPU_CHECK_DRY_RUN=1 "$script")" = "$("$script" --dry-run)" ]'

"$script" --dry-run --skip nonsense >/dev/null 2>&1; rc=$?
check "an unknown step to skip is refused (exit 2, got $rc)" '[ $rc -eq 2 ]'
"$script" --dry-run --budget 8min >/dev/null 2>&1; rc=$?
check "a budget that is not whole seconds is refused (exit 2, got $rc)" '[ $rc -eq 2 ]'
"$script" >/dev/null 2>&1; rc=$?
check "no OUT_DIR is refused (exit 2, got $rc)" '[ $rc -eq 2 ]'

if ! command -v nvidia-smi >/dev/null; then
  out=$(mktemp -d)
  "$script" "$out/check" >/dev/null 2>&1; rc=$?
  check "without a GPU the script stops at once (exit 3, got $rc)" '[ $rc -eq 3 ]'
  # The same on a slow machine, where the clock ticks between the script's start and its first
  # step: a `date` that advances one second a call. The device step must still run (CI once saw
  # it skipped for want of a second, and the script went on without a GPU and exited 1).
  mkdir -p "$out/bin"
  cat >"$out/bin/date" <<EOF
#!/usr/bin/env bash
if [ "\$1" = +%s ]; then
  n=\$(cat "$out/ticks" 2>/dev/null || echo 1000); echo \$((n + 1)) >"$out/ticks"; echo \$n
else PATH=/usr/bin:/bin exec date "\$@"; fi
EOF
  chmod +x "$out/bin/date"
  PATH="$out/bin:$PATH" "$script" "$out/slow" >/dev/null 2>&1; rc=$?
  check "without a GPU the script stops at once even when the clock ticks (exit 3, got $rc)" '[ $rc -eq 3 ]'
  rm -rf "$out"
fi
exit $fail
