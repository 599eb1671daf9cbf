#!/usr/bin/env bash
# Fuzzes the result-file reader and the suite reader with libFuzzer (clang, ASan, UBSan):
# builds the `fuzz` preset, replays the committed inputs (tests/fuzz/corpus and
# tests/fuzz/regressions) under the sanitizers, then fuzzes each target for a bounded time.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      default: $AICBENCH_FUZZ_SECONDS, else 60
#
# A crash, sanitizer report, hang (over 10 s on one input), memory blow-up (over 2 GB) or a bad
# input rejected other than with exit code 2 and the input's name fails the run (exit 1); the
# input that did it is kept under build/fuzz/findings/<target>/. Once fixed, commit it under
# tests/fuzz/regressions/<target>/: every build's tests replay it from then on.
# New interesting inputs accumulate in build/fuzz/corpus/<target>/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-${AICBENCH_FUZZ_SECONDS:-60}}
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS_PER_TARGET must be a whole number, got '$seconds'" >&2; exit 2; }

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
ctest --preset fuzz

# Longest input per target: a few real result files fit (the seeds are trimmed runs); suites are small.
declare -A max_len=([fuzz_result_file]=32768 [fuzz_suite]=16384)
failed=()
for target in fuzz_result_file fuzz_suite; do
  work=build/fuzz/corpus/$target findings=build/fuzz/findings/$target
  mkdir -p "$work" "$findings"
  echo "fuzz.sh: $target for ${seconds} s"
  # The first corpus directory receives new inputs; the committed ones are only read.
  if ! build/fuzz/tests/fuzz/$target -max_total_time="$seconds" -max_len="${max_len[$target]}" \
      -rss_limit_mb=2048 -timeout=10 -dict=tests/fuzz/json.dict -print_final_stats=1 \
      -artifact_prefix="$findings/" "$work" "tests/fuzz/corpus/$target" "tests/fuzz/regressions/$target" \
      2>"build/fuzz/$target.log"; then
    tail -n 40 "build/fuzz/$target.log" >&2
    failed+=("$target")
  else
    grep -E "^stat::number_of_executed_units|^stat::new_units_added" "build/fuzz/$target.log" | sed "s/^/fuzz.sh: $target /"
  fi
done

if ((${#failed[@]})); then
  echo "fuzz.sh: FAILED: ${failed[*]}; the inputs are in build/fuzz/findings/ (log: build/fuzz/<target>.log)." >&2
  echo "fuzz.sh: reproduce with build/fuzz/tests/fuzz/<target> <input>; once fixed, commit it under tests/fuzz/regressions/<target>/." >&2
  exit 1
fi
echo "fuzz.sh: no finding"
