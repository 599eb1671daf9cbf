#!/usr/bin/env bash
# Prepares .kit/: the headers, libraries and CMake package files of the dependencies that a GPU
# machine without apt or network lacks (Google Benchmark, GoogleTest, cxxopts, nlohmann-json, RE2,
# SQLite), copied from this machine's Debian packages with their directory layout, so that their
# CMake package files still resolve relative to the kit. About 10 MiB; ignored by git; carried to the
# GPU machine beside the working tree, where scripts/gpu-check.sh passes it as CMAKE_PREFIX_PATH.
# The libraries are built against Debian 12's glibc and libstdc++, which newer distributions
# (the GPU image is Ubuntu 24.04-based) are compatible with.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >/dev/null

kit=.kit
rm -rf "$kit"
mkdir -p "$kit"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)

copy_package_files() {  # copy a package's headers, libraries and CMake files, keeping /usr layout
  local pkg=$1
  dpkg -L "$pkg" | while read -r f; do
    case "$f" in
      /usr/include/*|/usr/lib/*|/usr/share/cmake/*) ;;
      *) continue ;;
    esac
    [ -f "$f" ] || [ -L "$f" ] || continue
    case "$f" in */pkgconfig/*|*/doc/*) continue ;; esac
    mkdir -p "$kit/$(dirname "${f#/usr/}")"
    cp -a "$f" "$kit/${f#/usr/}"
  done
}

for pkg in libbenchmark-dev libbenchmark1 libgtest-dev libgmock-dev libcxxopts-dev nlohmann-json3-dev \
    libre2-dev libre2-9 libsqlite3-dev libsqlite3-0; do
  if dpkg-query -W "$pkg" >/dev/null 2>&1; then
    copy_package_files "$pkg"
  fi
done
# libbenchmark1's soname package may be versioned differently; copy whatever the .so points at.
for so in "/usr/lib/$multiarch"/libbenchmark*.so*; do
  [ -e "$so" ] && cp -a "$so" "$kit/lib/$multiarch/"
done

# The kit must hold every dependency that cmake/AicbenchDependencies.cmake looks for and the GPU
# image lacks: benchmark, cxxopts, nlohmann_json, RE2, GTest and SQLite3 (the CUDA toolkit, NCCL,
# cuDNN, Threads, Git, python3 and gnuplot come from the image or are optional; OpenBLAS, 36 MiB, is left
# out, and gpu-check.sh builds without it where the image lacks it). Proven by a configure
# that may not look in /usr (CMAKE_IGNORE_PREFIX_PATH, CMake 3.23 and newer) and must find each of
# them in the kit, as on the GPU machine.
cmake_version=$(cmake --version | sed -n 's/^cmake version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
read -r major minor <<<"$cmake_version"
if ((major > 3 || (major == 3 && minor >= 23))); then
  check=$(mktemp -d)
  trap 'rm -rf "$check"' EXIT
  args=(-DAICBENCH_WITH_NCCL=OFF -DAICBENCH_WITH_OPENBLAS=OFF -DAICBENCH_WITH_CUDNN=OFF -DAICBENCH_BUILD_TESTS=ON)
  vars=(GTest_DIR cxxopts_DIR nlohmann_json_DIR RE2_LIBRARY RE2_INCLUDE_DIR SQLite3_INCLUDE_DIR SQLite3_LIBRARY)
  export PATH=$PATH:/usr/local/cuda/bin
  if command -v nvcc >/dev/null; then
    args+=(-DCMAKE_CUDA_ARCHITECTURES=90a)
    vars+=(benchmark_DIR)
  else
    args+=(-DAICBENCH_REPORTS_ONLY=ON)  # no CUDA here: Google Benchmark is not looked for
    echo "make-gpu-kit: no nvcc here: the check leaves Google Benchmark out"
  fi
  if ! cmake -S . -B "$check/build" -G Ninja -DCMAKE_PREFIX_PATH="$PWD/$kit" -DCMAKE_IGNORE_PREFIX_PATH=/usr \
      "${args[@]}" >"$check/log" 2>&1; then
    tail -20 "$check/log"
    echo "make-gpu-kit: a configure that may look only in the kit failed" >&2
    exit 1
  fi
  bad=0
  for var in "${vars[@]}"; do
    value=$(sed -n "s/^$var:[A-Z]*=//p" "$check/build/CMakeCache.txt")
    if [[ "$value" != "$PWD/$kit/"* ]]; then
      echo "make-gpu-kit: $var is '$value', not in the kit" >&2
      bad=1
    fi
  done
  ((bad == 0)) || exit 1
  echo "make-gpu-kit: checked: a configure with /usr hidden finds ${vars[*]} in the kit"
else
  echo "make-gpu-kit: CMake $major.$minor cannot hide /usr (3.23 needed): kit not checked"
fi

echo "make-gpu-kit: $(du -sh "$kit" | cut -f1) in $kit"
