#!/usr/bin/env bash
# The test job from a fresh clone: install dependencies; build and test the reports-only build
# (no CUDA: its tests check that it never looked for CUDA and needs no GPU library); build every
# kernel for sm_80, sm_90a and sm_100a, run the static kernel checks (their self-test first: the
# checks must fail on planted defects) and the whole test suite;
# fuzz the result-file and suite readers for a bounded time (scripts/fuzz.sh; seconds per target
# from AICBENCH_FUZZ_SECONDS, default 60). GPU tests (label `gpu`) run where there is a device and
# are reported as skipped where there is none.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset reports
cmake --build --preset reports
ctest --preset reports
cmake --preset ci
cmake --build --preset ci
scripts/check-kernels.sh --self-test build/ci
scripts/check-kernels.sh build/ci
ctest --preset ci
scripts/fuzz.sh
