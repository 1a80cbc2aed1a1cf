#!/usr/bin/env bash
# The main job on the embedded default model (SmolLM2-135M-Instruct Q4_1): what the model is, then
# `eaq bench` with no arguments — every precision the CPU runs, speed × energy × quality in one
# table (quick profile, about two minutes on a 2-core machine; docs/bench.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EAQ="${EAQ_BIN:-$ROOT/build/eaq}"  # EAQ_BIN: another build of eaq
MODEL="$ROOT/models/SmolLM2-135M-Instruct.Q4_1.gguf"
[ -x "$EAQ" ] || { echo "main_job: $EAQ is missing: run scripts/setup.sh first" >&2; exit 1; }
[ -f "$MODEL" ] || { echo "main_job: $MODEL is missing: run scripts/fetch_models.sh" >&2; exit 1; }
"$EAQ" info "$MODEL"
echo
"$EAQ" bench
