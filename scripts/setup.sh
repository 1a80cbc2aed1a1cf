#!/usr/bin/env bash
# Sets up everything eaq needs on a Debian 12 machine: system packages, the light Python
# references used live by tests, the embedded default model, and the build. Idempotent.
#   scripts/setup.sh               # deps + model + build
#   scripts/setup.sh --references  # also the heavy references used to make fixtures
#   scripts/setup.sh --no-build    # deps + model only
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WANT_REFERENCES=0
WANT_BUILD=1
for arg in "$@"; do
  case "$arg" in
    --references) WANT_REFERENCES=1 ;;
    --no-build) WANT_BUILD=0 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git python3 python3-pip
  clang libclang-rt-14-dev
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libfmt-dev libspdlog-dev
  libsqlite3-dev libpcre2-dev libutf8proc-dev libhwy-dev
  libgtest-dev libgmock-dev libbenchmark-dev libseccomp-dev
  curl
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

PY=python3
PIP=("$PY" -m pip install -q --disable-pip-version-check)
LIGHT_PY=(tokenizers gguf numpy safetensors)
if ! "$PY" -c "import tokenizers, gguf, numpy, safetensors" >/dev/null 2>&1; then
  echo "setup: installing Python references ${LIGHT_PY[*]}"
  "${PIP[@]}" "${LIGHT_PY[@]}" || "${PIP[@]}" --break-system-packages "${LIGHT_PY[@]}"
fi
if [ "$WANT_REFERENCES" -eq 1 ]; then
  HEAVY_PY=(torch transformers accelerate llama-cpp-python lm-eval bitsandbytes safetensors sentencepiece)  # lm-eval's HF backend imports accelerate
  echo "setup: installing heavy references ${HEAVY_PY[*]} (several GB)"
  "${PIP[@]}" "${HEAVY_PY[@]}" || "${PIP[@]}" --break-system-packages "${HEAVY_PY[@]}"
fi

"$ROOT/scripts/fetch_models.sh"
# CUTLASS's headers, for the CUDA backend's prefill GEMM on packed int4/int8 weights: only where a
# CUDA compiler is (CMake builds the CUDA backend there).
if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then
  "$ROOT/scripts/fetch_cutlass.sh"
fi

if [ "$WANT_BUILD" -eq 1 ]; then
  cmake -S "$ROOT" -B "$ROOT/build" -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake --build "$ROOT/build"
fi
echo "setup: done"
