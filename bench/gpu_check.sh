#!/usr/bin/env bash
# One-command check for a machine with a GPU: scores the vanilla method with the packaged MiniLM student
# fully fine-tuned on CUDA (task rt-polarity:finetune) and prints time and PGR.
#
#   bench/gpu_check.sh                         # AAR_DEVICE=cuda, 5 seeds
#   AAR_GPU_CHECK_SEEDS=1 bench/gpu_check.sh
#   AAR_DEVICE=cpu AAR_GPU_CHECK_SIZES=200,400,100,100 AAR_GPU_CHECK_EPOCHS=1 bench/gpu_check.sh
#
# Other settings: AAR_GPU_CHECK_TASK, AAR_GPU_CHECK_METHOD, AAR_HOME (caches), PYTHON (interpreter;
# default the repository's .venv, else python3). See bench/gpu_check.py.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
export AAR_DEVICE="${AAR_DEVICE:-cuda}"
exec "$PYTHON" -m bench.gpu_check
