"""The import contracts of pyproject.toml (``[tool.importlinter]``) hold: dependencies point one way."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"  # installed by the dev extra


def lint_imports(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_import_contracts_are_kept():
    result = lint_imports()
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_a_broken_contract_fails(tmp_path):
    """The sandbox imports the core settings, so a contract forbidding that must break."""
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["sandbox", "aar_core"]\n\n'
        '[[tool.importlinter.contracts]]\nname = "sandbox without core"\ntype = "forbidden"\n'
        'source_modules = ["sandbox"]\nforbidden_modules = ["aar_core"]\n'
    )
    result = lint_imports("--config", str(config))
    assert result.returncode != 0 and "sandbox without core BROKEN" in result.stdout, result.stdout[-3000:]
