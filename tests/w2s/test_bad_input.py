"""Bad input gives a clear error, a non-zero exit and leaves the caches as they were."""

import pytest
from typer.testing import CliRunner

from aar.cli import app
from tests.utils.tasks import fresh_task
from w2s.config import get_settings
from w2s.errors import MethodError
from w2s.scoring import score_method

BAD_METHODS = {
    "raises": ("def run(ctx):\n    raise RuntimeError('boom')\n", r"raised RuntimeError: boom"),
    "short": ("def run(ctx):\n    return [0.5] * (len(ctx.targets) - 1)\n", r"returned shape \(\d+,\); expected"),
    "nan": ("def run(ctx):\n    return [float('nan')] * len(ctx.targets)\n", r"NaN or infinite"),
    "range": ("def run(ctx):\n    return [1.5] * len(ctx.targets)\n", r"outside \[0, 1\]"),
    "type": ("def run(ctx):\n    return {'a': object()}\n", r"not a sequence of floats|returned shape"),
    "no_entry": ("def main(ctx):\n    return []\n", r"no callable `run\(ctx\)` entry point"),
    "syntax": ("def run(ctx)\n    return []\n", r"failed to import: SyntaxError"),
}


@pytest.fixture
def runner():
    return CliRunner()


@pytest.mark.parametrize("kind", sorted(BAD_METHODS))
def test_bad_method_is_named_and_no_run_is_recorded(kind, tmp_path, runner):
    """A failing method is named in the error and leaves no run record. The task's baselines do not depend on
    the method, so they are cached before it runs (a failing first submission does not pay for them twice)."""
    source, message = BAD_METHODS[kind]
    path = tmp_path / f"{kind}.py"
    path.write_text(source)
    task = fresh_task()
    runs_before = sorted(get_settings().runs_dir.rglob("*")) if get_settings().runs_dir.exists() else []
    with pytest.raises(MethodError, match=message):
        score_method(task.name, str(path), 2)
    result = runner.invoke(app, ["w2s", "score", "--task", task.name, "--method", str(path), "--seeds", "2"])
    assert result.exit_code == 2
    assert "error:" in result.output
    runs_after = sorted(get_settings().runs_dir.rglob("*")) if get_settings().runs_dir.exists() else []
    assert runs_after == runs_before


@pytest.mark.parametrize(
    "args,message",
    [
        (["--task", "no-such-task", "--method", "vanilla"], "unknown task 'no-such-task'"),
        (["--task", "rt-polarity", "--method", "no-such-method"], "unknown method 'no-such-method'"),
        (["--task", "rt-polarity", "--method", "vanilla", "--split", "train_label"], "--split must be one of"),
        (["--task", "rt-polarity", "--method", "vanilla", "--seeds", "0"], "Invalid value"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_message(args, message, runner):
    result = runner.invoke(app, ["w2s", "score", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_an_executors_own_failure_is_not_blamed_on_the_method():
    """The scorer runs methods through ``execute``; when its database or jail fails, that is not the
    method's error (on d4820ad a database restart mid-job failed the submission as ``method raised
    OperationalError``, with the SQL in the agent's error text)."""

    class Outage(Exception):
        pass

    def execute(_job):
        raise Outage("the database went away")

    with pytest.raises(Outage):
        score_method("rt-polarity", "submission s1", 2, execute=execute)
