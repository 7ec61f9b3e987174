"""Integrity checks of a submission, one module each, run through one registry (``registry.py``).

| module | flag | reads | agent sees it |
|---|---|---|---|
| ``teacher_dependence`` | ``teacher_independent`` | predictions, references (no label) | yes |
| ``beyond_ceiling`` | ``beyond_ceiling`` | test_public | yes |
| ``private_ceiling`` | ``private_beyond_ceiling`` | test_private | no (admins) |
| ``probing`` | ``probing`` | test_public, history | yes |
| ``jail_violation`` | ``jail_violation`` | kernel | yes |
| ``embedded_data`` | ``embedded_data`` | source | yes |
"""

from services.scorer.checks import (  # noqa: F401 (each module registers its check)
    beyond_ceiling,
    embedded_data,
    jail_violation,
    private_ceiling,
    probing,
    teacher_dependence,
)
from services.scorer.checks.registry import CHECKS, Observed, Outcome, run_checks

__all__ = ["CHECKS", "Observed", "Outcome", "run_checks"]
