"""``bench/gpu_check.sh`` end to end on CPU: a shrunk copy of ``rt-polarity:finetune`` (the MiniLM
student fully fine-tuned), one seed; and a loud failure when CUDA is asked for but absent."""

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "gpu_check.sh"


def run_check(**env: str | None) -> subprocess.CompletedProcess:
    """The script with this environment on top of the test session's (``None`` unsets a variable)."""
    full = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(SCRIPT.parents[1]), **env}
    return subprocess.run(
        [str(SCRIPT)], env={k: v for k, v in full.items() if v is not None}, capture_output=True, text=True, timeout=300
    )


def test_gpu_check_scores_the_finetuned_student_on_cpu():
    done = run_check(
        AAR_DEVICE="cpu", AAR_GPU_CHECK_SEEDS="1", AAR_GPU_CHECK_SIZES="20,40,20,20", AAR_GPU_CHECK_EPOCHS="1"
    )
    assert done.returncode == 0, done.stderr
    assert "task rt-polarity:finetune:gpu-check · method vanilla · 1 seeds · device cpu" in done.stdout
    assert re.search(r"^time \d+\.\d s$", done.stdout, re.M)
    assert re.search(r"^PGR (-?\d+\.\d{3}|undefined: .+)$", done.stdout, re.M), done.stdout


def test_gpu_check_refuses_to_fall_back_to_cpu_when_cuda_is_absent():
    done = run_check(AAR_DEVICE=None, CUDA_VISIBLE_DEVICES="")  # the script defaults to cuda
    assert done.returncode == 2
    assert "AAR_DEVICE=cuda but torch sees no GPU" in done.stdout
