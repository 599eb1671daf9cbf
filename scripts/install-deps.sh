#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages that aicbench's build, tests and reports need. Idempotent:
# packages already present are left alone, and nothing is fetched when all are there.
# The CUDA toolkit (13.x, with cuBLAS and NCCL) is not a Debian package we can rely on; it is
# checked here and installed from NVIDIA (or comes with the nvidia/cuda container image).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build git pkg-config
  libbenchmark-dev libgtest-dev libgmock-dev libcxxopts-dev nlohmann-json3-dev libre2-dev
  openmpi-bin libopenmpi-dev   # multi-rank runs (mpirun) and the CPU collectives
  slurm-wlm munge   # the srun test: a one-host Slurm cluster (tests/slurm_srun_test.sh)
  libopenblas-dev   # OpenBLAS: the CPU backend's vendor baseline (gemm/openblas/fp32)
  libsqlite3-dev sqlite3   # `history`: the library, and the shell docs/history.md's queries use
  gnuplot-nox
  python3-jsonschema
  python3-junitparser libxml2-utils   # the tests read `report --junit` with junitparser and xmllint
  python3-venv   # the venv that holds the SASS tools (below)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

nvcc_path=$(command -v nvcc || true)
[ -n "$nvcc_path" ] || [ ! -x /usr/local/cuda/bin/nvcc ] || nvcc_path=/usr/local/cuda/bin/nvcc
if [ -z "$nvcc_path" ]; then
  echo "install-deps: the CUDA toolkit (nvcc, cuBLAS, NCCL) was not found on PATH or in /usr/local/cuda." >&2
  echo "install-deps: install CUDA 13 from NVIDIA (https://developer.nvidia.com/cuda-downloads), or use docker/." >&2
  exit 3
fi
echo "install-deps: CUDA compiler: $nvcc_path ($("$nvcc_path" --version | tail -1))"

# SASS tools for scripts/check-kernels.sh: cuobjdump and nvdisasm are not in every CUDA install
# (the toolkit this project is built with has neither); NVIDIA publishes them on PyPI. They go into a venv under
# build/ because Debian's Python is externally managed (PEP 668); check-kernels.sh finds them
# there, on PATH, or in any site-packages.
sass_venv=build/sass-tools
if command -v cuobjdump >/dev/null; then
  echo "install-deps: SASS tools: $(command -v cuobjdump)"
elif compgen -G "$sass_venv/lib/python3*/site-packages/nvidia/*/bin/cuobjdump" >/dev/null; then
  echo "install-deps: SASS tools present in $sass_venv"
else
  # Only scripts/check-kernels.sh needs them, and it stops with its own message when they are
  # missing, so a machine without PyPI access (a GPU node) warns here and goes on.
  echo "install-deps: installing cuobjdump and nvdisasm (PyPI) into $sass_venv"
  if ! { python3 -m venv "$sass_venv" &&
         "$sass_venv/bin/pip" install -q --disable-pip-version-check \
           'nvidia-cuda-cuobjdump==13.*' 'nvidia-cuda-nvdisasm==13.*' &&
         compgen -G "$sass_venv/lib/python3*/site-packages/nvidia/*/bin/cuobjdump" >/dev/null; }; then
    echo "install-deps: warning: no SASS tools; scripts/check-kernels.sh will not run" >&2
  fi
fi
