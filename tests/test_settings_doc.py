"""Settings and their documentation agree: every documented ``AAR_*`` variable is read by something, every
settings field is documented, and no module outside the settings modules reads the environment itself."""

import ast
import re
from pathlib import Path

import typer.main

from aar.cli import app
from aar.settings import SETTINGS, cli_env_names, env_name, settings_env_names

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
NAME = re.compile(r"\bAAR_[A-Z0-9_]*[A-Z0-9]\b")
SHORTHAND = re.compile(r"`(_[A-Z0-9_]+)`")  # `AAR_SCORER_HEARTBEAT_S` / `_STALE_AFTER_S` in a table row
PACKAGES = ("aar", "aar_core", "w2s", "sandbox", "services", "workers")


def documented() -> dict[str, str]:
    """Every ``AAR_*`` name the docs mention (shorthands expanded) → the first file that mentions it."""
    found: dict[str, str] = {}
    for doc in DOCS:
        for line in doc.read_text().splitlines():
            names = NAME.findall(line)
            if names:
                prefix = "_".join(names[-1].split("_")[:2])
                names += [prefix + short for short in SHORTHAND.findall(line)]
            for name in names:
                found.setdefault(name, str(doc.relative_to(ROOT)))
    return found


def read_elsewhere() -> set[str]:
    """Variables read by something other than a settings class or a CLI option: the compose file's own
    interpolation and the GPU check script (bench/ is not part of the installed packages)."""
    compose = set(re.findall(r"\$\{(AAR_[A-Z0-9_]+)", (ROOT / "docker-compose.yml").read_text()))
    bench = set(re.findall(r'env\("(AAR_[A-Z0-9_]+)"', (ROOT / "bench" / "gpu_check.py").read_text()))
    return compose | bench


def test_every_documented_variable_is_read():
    known = settings_env_names() | cli_env_names(typer.main.get_command(app)) | read_elsewhere()
    unread = {name: doc for name, doc in documented().items() if name not in known}
    assert unread == {}, f"documented but read by no settings field, CLI option or compose file: {unread}"


def test_every_settings_field_is_documented():
    docs = set(documented())
    missing = {
        f"{settings.__name__}.{field}": env_name(settings, field)
        for settings in SETTINGS
        for field in settings.model_fields
        if env_name(settings, field).startswith("AAR_") and env_name(settings, field) not in docs
    }
    assert missing == {}, f"settings fields whose variable no doc names: {missing}"


def test_the_checks_see_a_stale_name():
    assert "AAR_AGENT_TOOL_TIMEOUT_S" in settings_env_names()
    assert "AAR_AGENT_TOOL_TIMEOUT_SECONDS" not in settings_env_names()
    assert {"AAR_SANDBOX_CPUS", "AAR_SCORER_STALE_AFTER_S"} <= set(documented())


def environment_reads(tree: ast.AST) -> list[int]:
    """Lines of ``tree`` that read the environment: ``os.getenv``, ``os.environ.get``, ``os.environ[...]``
    and ``... in os.environ`` (writes with ``setdefault`` and passing ``**os.environ`` on are fine)."""

    def is_environ(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "environ"

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            func = node.func
            if func.attr == "getenv" or (func.attr == "get" and is_environ(func.value)):
                lines.append(node.lineno)
        elif isinstance(node, ast.Subscript) and is_environ(node.value) and isinstance(node.ctx, ast.Load):
            lines.append(node.lineno)
        elif isinstance(node, ast.Compare) and any(is_environ(c) for c in node.comparators):
            lines.append(node.lineno)
    return lines


def test_only_settings_modules_read_the_environment():
    reads = {
        f"{path.relative_to(ROOT)}:{line}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in environment_reads(ast.parse(path.read_text()))
    }
    assert reads == set(), f"read the environment outside a settings class: {sorted(reads)}"


def test_the_environment_scan_finds_reads():
    source = 'import os\na = os.environ.get("X")\nb = os.getenv("Y")\nc = os.environ["Z"]\nd = "W" in os.environ\n'
    assert environment_reads(ast.parse(source)) == [2, 3, 4, 5]
    assert environment_reads(ast.parse('import os\nos.environ.setdefault("A", "1")\ne = {**os.environ}\n')) == []
