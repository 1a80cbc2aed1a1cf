#!/usr/bin/env bash
# Fetches CUTLASS's headers (for the CUDA backend's Hopper mixed-input prefill GEMM,
# src/kernels/cuda/mixed_input_gemm_sm90.cu) from the PyPI wheel nvidia-cutlass into
# .deps/cutlass-4.2.0/{include,util/include}, and checks the wheel's sha256. Nothing of CUTLASS is
# committed. Idempotent: a complete copy is left alone. CMake finds it there (EAQ_CUTLASS_DIR); a
# build without it compiles the CUDA backend without that GEMM (the prefill then dequantizes).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="4.2.0.0"
WHEEL="nvidia_cutlass-${VERSION}-py3-none-any.whl"
SHA256="f9599ada45c7bcb6bf53f7d3f0a7d154183e53451c01bfa59eecd37dd4a693f6"
DEST="$ROOT/.deps/cutlass-4.2.0"

if [ -f "$DEST/include/cutlass/cutlass.h" ] && [ -f "$DEST/util/include/cutlass/util/mixed_dtype_utils.hpp" ]; then
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetch_cutlass: downloading nvidia-cutlass ${VERSION} (6.4 MB; CUTLASS headers for the CUDA prefill GEMM)"
python3 -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" "nvidia-cutlass==${VERSION}"
got="$(sha256sum "$tmp/$WHEEL" | cut -d' ' -f1)"
if [ "$got" != "$SHA256" ]; then
  echo "fetch_cutlass: $WHEEL has sha256 $got, expected $SHA256: refusing it" >&2
  exit 1
fi
python3 -m zipfile -e "$tmp/$WHEEL" "$tmp/x"
src="$tmp/x/cutlass_library/source"
rm -rf "$DEST"
mkdir -p "$DEST/util"
cp -r "$src/include" "$DEST/include"
cp -r "$src/tools/util/include" "$DEST/util/include"
cp "$src/LICENSE.txt" "$DEST/" 2>/dev/null || true
echo "fetch_cutlass: CUTLASS headers in $DEST"
