import json

from typer.testing import CliRunner

from aar.cli import app
from w2s.methods import BUILTIN_METHODS
from w2s.scoring import score_method

runner = CliRunner()


def test_score_json_has_every_documented_field_and_matches_the_engine():
    result = runner.invoke(
        app, ["w2s", "score", "--task", "rt-polarity", "--method", "vanilla", "--seeds", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"task", "method", "seeds", "weak_acc", "ceiling_acc", "student_acc", "pgr"} <= set(data)
    for key in ("weak_acc", "ceiling_acc", "student_acc", "pgr"):
        assert set(data[key]) >= {"per_seed", "mean"} and len(data[key]["per_seed"]) == 2
    assert "ci95" in data["pgr"]
    assert data["pgr"] == score_method("rt-polarity", "vanilla", 2).view()["pgr"]


def test_score_accepts_a_method_file(tmp_path):
    method = tmp_path / "mine.py"
    method.write_text("def run(ctx):\n    return ctx.train_student(loss='hard').predict_proba(ctx.targets)\n")
    result = runner.invoke(
        app, ["w2s", "score", "--task", "rt-polarity", "--method", str(method), "--seeds", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["method"] == str(method)


def test_private_split_is_reported_separately():
    public = json.loads(
        runner.invoke(
            app, ["w2s", "score", "--task", "rt-polarity", "--method", "hard", "--seeds", "1", "--json"]
        ).stdout
    )
    private = json.loads(
        runner.invoke(
            app,
            [
                "w2s",
                "score",
                "--task",
                "rt-polarity",
                "--method",
                "hard",
                "--seeds",
                "1",
                "--json",
                "--split",
                "test_private",
            ],
        ).stdout
    )
    assert private["split"] == "test_private" and public["split"] == "test_public"
    assert private["student_acc"] != public["student_acc"]


def test_tasks_and_baselines_commands():
    tasks = json.loads(runner.invoke(app, ["w2s", "tasks", "--json"]).stdout)
    assert {"rt-polarity", "tweet-sentiment"} <= {t["name"] for t in tasks}
    result = runner.invoke(app, ["w2s", "baselines", "--task", "rt-polarity", "--seeds", "2", "--json"])
    assert result.exit_code == 0, result.output
    seeds = json.loads(result.stdout)["seeds"]
    assert [s["seed"] for s in seeds] == [0, 1]
    assert seeds[0]["test_public"]["ceiling_acc"] > seeds[0]["test_public"]["weak_acc"]


def test_compare_scores_every_builtin_method():
    result = runner.invoke(app, ["w2s", "compare", "--seeds", "1"])
    assert result.exit_code == 0, result.output
    for method in BUILTIN_METHODS:
        assert method in result.stdout
