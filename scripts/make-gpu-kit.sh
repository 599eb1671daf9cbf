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

echo "make-gpu-kit: $(du -sh "$kit" | cut -f1) in $kit"
